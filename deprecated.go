package clerkauth

import (
	"net/http"

	"github.com/clerkauth/clerkauth/internal/reason"
)

// Names kept so that code written against earlier versions compiles and
// behaves as before. New code uses the names each comment points to.

// Default values of [Options] fields. An empty field gets its default.
const (
	// Deprecated: Options.APIURL states its default.
	DefaultAPIURL = defaultAPIURL
	// Deprecated: Options.APIVersion states its default.
	DefaultAPIVersion = defaultAPIVersion
	// Deprecated: Options.ClockSkew states its default.
	DefaultClockSkew = defaultClockSkew
	// Deprecated: Options.HTTPClient states its default.
	DefaultHTTPTimeout = defaultHTTPTimeout
	// Deprecated: Options.JWKSRefreshInterval states its default.
	DefaultJWKSRefreshInterval = defaultJWKSRefreshInterval
	// Deprecated: Options.JWKSCooldown states its default.
	DefaultJWKSCooldown = defaultJWKSCooldown
	// Deprecated: Options.KeyWaitTimeout states its default.
	DefaultKeyWaitTimeout = defaultKeyWaitTimeout
	// Deprecated: Options.TokenCacheSize states its default.
	DefaultTokenCacheSize = defaultTokenCacheSize
	// Deprecated: Options.MachineTokenCacheTTL states its default.
	DefaultMachineTokenCacheTTL = defaultMachineTokenCacheTTL
	// Deprecated: Options.TemplateTokenCacheSize states its default.
	DefaultTemplateCacheSize = defaultTemplateCacheSize
)

// Reason strings, as Clerk's own SDKs report them (x-clerk-auth-reason).
// [Auth.Reason] returns the one of a signed-out request, for logs and
// headers; branch with errors.Is on the Err* kinds.
const (
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenAndUATMissing = reason.TokenAndUATMissing
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenButNoClientUAT = reason.TokenButNoClientUAT
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonClientUATButNoToken = reason.ClientUATButNoToken
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenIATBeforeClientUAT = reason.TokenIATBeforeClientUAT
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenInvalid = reason.TokenInvalid
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenTypeMismatch = reason.TokenTypeMismatch
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenInvalidAlgorithm = reason.TokenInvalidAlgorithm
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenInvalidSignature = reason.TokenInvalidSignature
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenVerificationFailed = reason.TokenVerificationFailed
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenExpired = reason.TokenExpired
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenNotActiveYet = reason.TokenNotActiveYet
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenIATInTheFuture = reason.TokenIATInTheFuture
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonSessionTokenNBF = reason.SessionTokenNBF
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonSessionTokenIATInTheFuture = reason.SessionTokenIATInTheFuture
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenInvalidAzp = reason.TokenInvalidAzp
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonTokenInvalidIssuer = reason.TokenInvalidIssuer
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonSessionPending = reason.SessionPending
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonJWKKidMismatch = reason.JWKKidMismatch
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonJWKRemoteFailedToLoad = reason.JWKRemoteFailedToLoad
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonSecretKeyInvalid = reason.SecretKeyInvalid
	// Deprecated: branch with errors.Is on the Err* kinds; Auth.Reason gives the string.
	ReasonBackendAPIUnavailable = reason.BackendAPIUnavailable
)

// ReasonOf returns Clerk's reason string carried by err, or "" when err is
// nil or carries none.
//
// Deprecated: use [Auth.Reason], or errors.As with an [*AuthError].
func ReasonOf(err error) string { return reasonOf(err) }

// Accept is [Middleware.AcceptsToken], except that unknown type names
// match nothing (a misspelt route fails closed, at request time).
//
// Deprecated: use [Middleware.AcceptsToken], which panics at set-up on an
// unknown type name.
func (m *Middleware) Accept(types ...string) *Middleware {
	var mask tokenMask
	for _, t := range types {
		mask |= maskOf(t)
	}
	return &Middleware{c: m.c, accept: mask}
}

// TokenOption is an option of [Auth.GetToken].
//
// Deprecated: use [GetTokenOption] (clerktest.TokenOption is another
// thing).
type TokenOption = GetTokenOption

// WithExpiresInSeconds sets the lifetime of the token Clerk mints, in
// seconds.
//
// Deprecated: use [WithExpiresIn].
func WithExpiresInSeconds(n int) GetTokenOption {
	return func(o *tokenOptions) { o.expiresIn = n }
}

// WriteUnauthorized writes the default rejection for err.
//
// Deprecated: use [DefaultErrorHandler], which has ErrorHandler's
// signature.
func WriteUnauthorized(w http.ResponseWriter, err error) { DefaultErrorHandler(w, nil, err) }

// ErrNotSignedIn is wrapped by the error [Auth.GetToken] returns for a
// signed-out Auth, together with the Auth's own error.
//
// Deprecated: [Auth.GetToken] returns the Auth's error ([Auth.Err]):
// branch on its kind (ErrNoToken, ErrTokenExpired, ...).
var ErrNotSignedIn = errNotSignedIn
