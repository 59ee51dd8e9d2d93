package clerkauth

import (
	"errors"
)

// Reason strings, as Clerk's own SDKs report them (x-clerk-auth-reason).
// Every error returned by [Middleware.Authenticate] carries one of them;
// read it with [ReasonOf] or from [Auth.Reason].
const (
	ReasonTokenAndUATMissing      = "session-token-and-uat-missing"
	ReasonTokenButNoClientUAT     = "session-token-but-no-client-uat"
	ReasonClientUATButNoToken     = "client-uat-but-no-session-token"
	ReasonTokenIATBeforeClientUAT = "session-token-iat-before-client-uat"
	ReasonTokenInvalid            = "token-invalid"
	ReasonTokenTypeMismatch       = "token-type-mismatch"
	ReasonTokenInvalidAlgorithm   = "token-invalid-algorithm"
	ReasonTokenInvalidSignature   = "token-invalid-signature"
	ReasonTokenVerificationFailed = "token-verification-failed"
	ReasonTokenExpired            = "token-expired"
	ReasonTokenNotActiveYet       = "token-not-active-yet"
	ReasonTokenIATInTheFuture     = "token-iat-in-the-future"
	// ReasonSessionTokenNBF and ReasonSessionTokenIATInTheFuture are what
	// Clerk's authenticateRequest reports for a session token whose nbf or
	// iat is in the future (verifyToken says token-not-active-yet and
	// token-iat-in-the-future, which machine JWTs keep).
	ReasonSessionTokenNBF            = "session-token-nbf"
	ReasonSessionTokenIATInTheFuture = "session-token-iat-in-the-future"
	ReasonTokenInvalidAzp            = "token-invalid-authorized-parties"
	ReasonTokenInvalidIssuer         = "token-invalid-issuer"
	ReasonSessionPending             = "session-pending"
	ReasonJWKKidMismatch             = "jwk-kid-mismatch"
	ReasonJWKRemoteFailedToLoad      = "jwk-remote-failed-to-load"
	ReasonSecretKeyInvalid           = "secret-key-invalid"
	ReasonBackendAPIUnavailable      = "backend-api-unavailable"
)

// Sentinel errors for the kinds of failure a caller branches on. Every
// [*AuthError] wraps exactly one of them, so errors.Is works on anything
// [Middleware.Authenticate] returns.
var (
	// ErrNoToken: the request carries no session token (no Authorization
	// bearer token and no __session cookie).
	ErrNoToken = errors.New("clerkauth: no session token")
	// ErrSignedOut: the browser's cookies say the client signed out
	// (__client_uat is 0, missing, or newer than the token).
	ErrSignedOut = errors.New("clerkauth: client is signed out")
	// ErrTokenExpired: the token was valid but its exp has passed.
	ErrTokenExpired = errors.New("clerkauth: token expired")
	// ErrTokenInvalid: the token is malformed, forged, of the wrong type,
	// or fails a claim check (nbf, iat, azp, iss, sub).
	ErrTokenInvalid = errors.New("clerkauth: token invalid")
	// ErrSessionPending: the session awaits a required step (sts "pending")
	// and Options.AcceptPendingSessions is false.
	ErrSessionPending = errors.New("clerkauth: session pending")
	// ErrKeysUnavailable: no verification key could be obtained (the JWKS
	// endpoint is down or refused the secret key). This is a fault of the
	// server, not of the client: RequireAuth answers 503, not 401.
	ErrKeysUnavailable = errors.New("clerkauth: verification keys unavailable")
	// ErrBackendUnavailable: the Backend API could not verify a machine
	// token now (it failed, asked us to slow down, or too many
	// verifications are in flight). A fault of the server, not of the
	// client: RequireAuth answers 503 with Retry-After, not 401.
	ErrBackendUnavailable = errors.New("clerkauth: Backend API unavailable")
)

// AuthError is the error returned when a request is not signed in. It
// carries Clerk's reason string and unwraps to one of the sentinel errors
// (ErrNoToken, ErrTokenInvalid, ...). Its message never contains the token
// or a secret key.
type AuthError struct {
	// Reason is Clerk's reason string, for example "token-expired".
	Reason string
	// Kind is the sentinel error this failure belongs to.
	Kind error
	// Detail is a short human-readable explanation.
	Detail string
	// Err is an underlying cause, if any (for example a network error).
	Err error
}

// Error implements error: the kind, Clerk's reason and the detail. It
// never contains the token.
func (e *AuthError) Error() string {
	msg := e.Kind.Error() + " (" + e.Reason + ")"
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the sentinel kind and the underlying cause.
func (e *AuthError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// ReasonOf returns Clerk's reason string carried by err, or "" when err is
// nil or carries none.
func ReasonOf(err error) string {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return ""
}

func authErr(kind error, reason, detail string) *AuthError {
	return &AuthError{Reason: reason, Kind: kind, Detail: detail}
}

// Preallocated errors for the failures that need no detail, so that a flood
// of bad requests does not allocate an error each.
var (
	errNoToken          = authErr(ErrNoToken, ReasonTokenAndUATMissing, "no Authorization bearer token and no __session cookie")
	errTokenButNoUAT    = authErr(ErrSignedOut, ReasonTokenButNoClientUAT, "__session cookie present but __client_uat is missing or 0")
	errUATButNoToken    = authErr(ErrSignedOut, ReasonClientUATButNoToken, "__client_uat cookie present but no __session cookie")
	errIATBeforeUAT     = authErr(ErrSignedOut, ReasonTokenIATBeforeClientUAT, "token issued before the client's last sign-in or sign-out")
	errMalformed        = authErr(ErrTokenInvalid, ReasonTokenInvalid, "malformed token")
	errTooLarge         = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token larger than 16 KiB")
	errBadHeader        = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token header is not a JSON object")
	errBadPayload       = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token payload is not a JSON object")
	errCrit             = authErr(ErrTokenInvalid, ReasonTokenInvalid, `token header has "crit"`)
	errTyp              = authErr(ErrTokenInvalid, ReasonTokenInvalid, `token header "typ" is not "JWT"`)
	errCat              = authErr(ErrTokenInvalid, ReasonTokenTypeMismatch, "token is not a session token (header cat)")
	errTypeNotAccepted  = authErr(ErrTokenInvalid, ReasonTokenTypeMismatch, "this route does not accept this type of token")
	errAlg              = authErr(ErrTokenInvalid, ReasonTokenInvalidAlgorithm, "token algorithm is not RS256")
	errSignature        = authErr(ErrTokenInvalid, ReasonTokenInvalidSignature, "signature does not verify")
	errKidMismatch      = authErr(ErrTokenInvalid, ReasonJWKKidMismatch, "no key with the token's kid")
	errSub              = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "sub" missing or not a string`)
	errExpMissing       = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "exp" missing`)
	errClaimType        = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, "a claim has the wrong type")
	errExpType          = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "exp" is not a number`)
	errNbfType          = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "nbf" is not a number`)
	errIatType          = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "iat" is not a number`)
	errSessionNbf       = authErr(ErrTokenInvalid, ReasonSessionTokenNBF, "nbf is in the future")
	errSessionIATFuture = authErr(ErrTokenInvalid, ReasonSessionTokenIATInTheFuture, "iat is in the future")
	errExpired          = authErr(ErrTokenExpired, ReasonTokenExpired, "")
	errNotActive        = authErr(ErrTokenInvalid, ReasonTokenNotActiveYet, "nbf is in the future")
	errIATFuture        = authErr(ErrTokenInvalid, ReasonTokenIATInTheFuture, "iat is in the future")
	errAzp              = authErr(ErrTokenInvalid, ReasonTokenInvalidAzp, "azp missing or not an authorized party")
	errIss              = authErr(ErrTokenInvalid, ReasonTokenInvalidIssuer, "iss is not the instance's issuer")
	errPending          = authErr(ErrSessionPending, ReasonSessionPending, `session status is "pending"`)
	errBearerEmpty      = authErr(ErrTokenInvalid, ReasonTokenInvalid, "Authorization: Bearer with no token")
	errTwoAuthorization = authErr(ErrTokenInvalid, ReasonTokenInvalid, "more than one Authorization header")
)
