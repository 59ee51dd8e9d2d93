// Package reason holds Clerk's reason strings (the x-clerk-auth-reason
// header of its SDKs) and the fixed x-clerk-auth-message text of each.
// The library reports them through Auth.Reason; clerktest and the CLI
// compare against them.
package reason

// Clerk's reason strings, as its SDKs report them.
const (
	TokenAndUATMissing      = "session-token-and-uat-missing"
	TokenButNoClientUAT     = "session-token-but-no-client-uat"
	ClientUATButNoToken     = "client-uat-but-no-session-token"
	TokenIATBeforeClientUAT = "session-token-iat-before-client-uat"
	TokenInvalid            = "token-invalid"
	TokenTypeMismatch       = "token-type-mismatch"
	TokenInvalidAlgorithm   = "token-invalid-algorithm"
	TokenInvalidSignature   = "token-invalid-signature"
	TokenVerificationFailed = "token-verification-failed"
	TokenExpired            = "token-expired"
	TokenNotActiveYet       = "token-not-active-yet"
	TokenIATInTheFuture     = "token-iat-in-the-future"
	// SessionTokenNBF and SessionTokenIATInTheFuture are what Clerk's
	// authenticateRequest reports for a session token whose nbf or iat is
	// in the future (verifyToken says token-not-active-yet and
	// token-iat-in-the-future, which machine JWTs keep).
	SessionTokenNBF            = "session-token-nbf"
	SessionTokenIATInTheFuture = "session-token-iat-in-the-future"
	TokenInvalidAzp            = "token-invalid-authorized-parties"
	TokenInvalidIssuer         = "token-invalid-issuer"
	SessionPending             = "session-pending"
	JWKKidMismatch             = "jwk-kid-mismatch"
	JWKRemoteFailedToLoad      = "jwk-remote-failed-to-load"
	SecretKeyInvalid           = "secret-key-invalid"
	BackendAPIUnavailable      = "backend-api-unavailable"
	// NoTokenInHeader is Clerk's reason (its own spelling) for a route that
	// takes one machine token type and a request with no token in its
	// Authorization header.
	NoTokenInHeader = "No token in header"
)

// Message is the X-Clerk-Auth-Message of a signed-out response. Clerk
// sends one for token verification failures (its text quotes claim
// values; this one is fixed per reason, so nothing from the token is
// echoed) and none for the cookie rules (no token, __client_uat).
func Message(reason string) string {
	switch reason {
	case TokenInvalid:
		return "Invalid JWT form, header or claims."
	case TokenTypeMismatch:
		return "This route does not accept this type of token."
	case TokenInvalidAlgorithm:
		return "Invalid JWT algorithm. Supported: RS256."
	case TokenInvalidSignature:
		return "JWT signature is invalid."
	case TokenVerificationFailed:
		return "Invalid JWT claims: sub, exp, nbf or iat missing or of the wrong type."
	case TokenExpired:
		return "JWT is expired."
	case TokenNotActiveYet:
		return "JWT cannot be used prior to not before date claim (nbf)."
	case TokenIATInTheFuture:
		return "JWT issued at date claim (iat) is in the future."
	case TokenInvalidAzp:
		return "Invalid JWT Authorized party claim (azp)."
	case TokenInvalidIssuer:
		return "Invalid JWT issuer claim (iss)."
	case JWKKidMismatch:
		return "Unable to find a signing key in JWKS that matches the kid of the provided session token."
	case JWKRemoteFailedToLoad:
		return "Failed to load JWKS from Clerk Backend or Frontend API."
	case SecretKeyInvalid:
		return "The secret key is invalid."
	case BackendAPIUnavailable:
		return "Clerk Backend API unavailable."
	}
	return ""
}
