package clerkauth

import (
	"errors"
	"net/http"

	"github.com/clerkauth/clerkauth/internal/reason"
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
	// ErrNoMiddleware: no clerkauth middleware ran for the request, so
	// nobody looked at its token: [GetAuth] was called on a request that
	// did not pass through Middleware.Handler or RequireAuth (a routing
	// mistake). The Auth's Reason is "".
	ErrNoMiddleware = errors.New("clerkauth: no clerkauth middleware ran for this request")
)

// AuthError is the error returned when a request is not signed in. It
// carries Clerk's reason string and unwraps to one of the sentinel errors
// (ErrNoToken, ErrTokenInvalid, ...). Its message never contains the token
// or a secret key.
type AuthError struct {
	// Reason is Clerk's reason string, one of the Reason* constants; "" for
	// ErrNoMiddleware.
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
	msg := e.Kind.Error()
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
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

var (
	bodyNotAuthenticated = []byte(`{"error":"Not authenticated"}`)
	bodyUnavailable      = []byte(`{"error":"Authentication unavailable"}`)
)

// DefaultErrorHandler is how [Middleware.RequireAuth] and
// [Middleware.Protect] answer a request they refuse when
// Options.ErrorHandler is nil, in JSON: 503 {"error":"Authentication
// unavailable"} with Retry-After when errors.Is(err, ErrKeysUnavailable)
// or ErrBackendUnavailable, else 401 {"error":"Not authenticated"}; both
// with X-Clerk-Auth-Status: signed-out and X-Clerk-Auth-Reason, and
// X-Clerk-Auth-Message where Clerk sends one (a fixed text per reason,
// never any part of the token). A [*ForbiddenError] gets 403
// {"error":"Forbidden"}, or, for a failed reverification, exactly Clerk's
// reverificationErrorResponse: 403, text/plain;charset=UTF-8,
// {"clerk_error":{"type":"forbidden","reason":"reverification-error",
// "metadata":{"reverification":...}}}. It has ErrorHandler's signature, so
// an ErrorHandler can wrap it:
//
//	opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
//		log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
//		clerkauth.DefaultErrorHandler(w, r, err)
//	}
//
// It does not read r, which may be nil.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var fe *ForbiddenError
	if errors.As(err, &fe) {
		writeForbidden(w, fe)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	signedOutHeaders(h, err)
	if errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrBackendUnavailable) {
		h.Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(bodyUnavailable)
		return
	}
	h.Set("WWW-Authenticate", "Bearer")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(bodyNotAuthenticated)
}

// signedOutHeaders sets the headers of every answer to a request that is
// not signed in: Cache-Control: no-store, X-Clerk-Auth-Status, and
// X-Clerk-Auth-Reason and X-Clerk-Auth-Message from err.
func signedOutHeaders(h http.Header, err error) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Clerk-Auth-Status", "signed-out")
	if rsn := reasonOf(err); rsn != "" {
		h.Set("X-Clerk-Auth-Reason", rsn)
		if msg := reason.Message(rsn); msg != "" {
			h.Set("X-Clerk-Auth-Message", msg)
		}
	}
}

// reasonOf returns Clerk's reason string carried by err, "" for none.
func reasonOf(err error) string {
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
	errNoToken          = authErr(ErrNoToken, reason.TokenAndUATMissing, "no Authorization bearer token and no __session cookie")
	errTokenButNoUAT    = authErr(ErrSignedOut, reason.TokenButNoClientUAT, "__session cookie present but __client_uat is missing or 0")
	errUATButNoToken    = authErr(ErrSignedOut, reason.ClientUATButNoToken, "__client_uat cookie present but no __session cookie")
	errIATBeforeUAT     = authErr(ErrSignedOut, reason.TokenIATBeforeClientUAT, "token issued before the client's last sign-in or sign-out")
	errMalformed        = authErr(ErrTokenInvalid, reason.TokenInvalid, "malformed token")
	errTooLarge         = authErr(ErrTokenInvalid, reason.TokenInvalid, "token larger than 16 KiB")
	errBadHeader        = authErr(ErrTokenInvalid, reason.TokenInvalid, "token header is not a JSON object")
	errBadPayload       = authErr(ErrTokenInvalid, reason.TokenInvalid, "token payload is not a JSON object")
	errCrit             = authErr(ErrTokenInvalid, reason.TokenInvalid, `token header has "crit"`)
	errTyp              = authErr(ErrTokenInvalid, reason.TokenInvalid, `token header "typ" is not "JWT"`)
	errCat              = authErr(ErrTokenInvalid, reason.TokenTypeMismatch, "token is not a session token (header cat)")
	errTypeNotAccepted  = authErr(ErrTokenInvalid, reason.TokenTypeMismatch, "this route does not accept this type of token")
	errAlg              = authErr(ErrTokenInvalid, reason.TokenInvalidAlgorithm, "token algorithm is not RS256")
	errSignature        = authErr(ErrTokenInvalid, reason.TokenInvalidSignature, "signature does not verify")
	errKidMismatch      = authErr(ErrTokenInvalid, reason.JWKKidMismatch, "no key with the token's kid")
	errSub              = authErr(ErrTokenInvalid, reason.TokenVerificationFailed, `claim "sub" missing or not a string`)
	errExpMissing       = authErr(ErrTokenInvalid, reason.TokenVerificationFailed, `claim "exp" missing`)
	errClaimType        = authErr(ErrTokenInvalid, reason.TokenVerificationFailed, "a claim has the wrong type")
	errExpType          = authErr(ErrTokenInvalid, reason.TokenVerificationFailed, `claim "exp" is not a number`)
	errNbfType          = authErr(ErrTokenInvalid, reason.TokenVerificationFailed, `claim "nbf" is not a number`)
	errIatType          = authErr(ErrTokenInvalid, reason.TokenVerificationFailed, `claim "iat" is not a number`)
	errSessionNbf       = authErr(ErrTokenInvalid, reason.SessionTokenNBF, "nbf is in the future")
	errSessionIATFuture = authErr(ErrTokenInvalid, reason.SessionTokenIATInTheFuture, "iat is in the future")
	errExpired          = authErr(ErrTokenExpired, reason.TokenExpired, "")
	errAzp              = authErr(ErrTokenInvalid, reason.TokenInvalidAzp, "azp missing or not an authorized party")
	errIss              = authErr(ErrTokenInvalid, reason.TokenInvalidIssuer, "iss is not the instance's issuer")
	errPending          = authErr(ErrSessionPending, reason.SessionPending, `session status is "pending"`)
	errBearerEmpty      = authErr(ErrTokenInvalid, reason.TokenInvalid, "Authorization: Bearer with no token")
	errTwoAuthorization = authErr(ErrTokenInvalid, reason.TokenInvalid, "more than one Authorization header")
	errNoHeaderToken    = authErr(ErrNoToken, reason.NoTokenInHeader, "this route takes a machine token in the Authorization header, and there is none")
	errOpaqueNotJWT     = authErr(ErrTokenInvalid, reason.TokenInvalid, "a machine token on a route for session tokens only: not a JWT")
)

// ErrHandshake is the kind of the [*AuthError] of a page load that Clerk
// answers with a handshake: a GET document request in one of the states
// only the Frontend API can settle (the session token expired and could
// not be refreshed, __client_uat without __session, a token older than
// __client_uat, a missing dev-browser cookie, a satellite to sync, ...).
// [Middleware.Handler], [Middleware.RequireAuth] and
// [Middleware.AuthenticateResponse] answer it with the 307 redirect to
// the Frontend API themselves; a page that calls [Middleware.Authenticate]
// can tell it apart from a plain signed-out request with errors.Is. The
// error also wraps the signed-out error the request gets when it cannot
// be redirected (errors.Is(err, ErrTokenExpired) holds for an expired
// token). Only page loads get it: never a request with Sec-Fetch-Dest
// other than document or iframe, nor a non-GET.
var ErrHandshake = errors.New("clerkauth: page load needs a handshake")
