package clerkauth

import (
	"crypto/rsa"
	"net/http"

	"github.com/clerkauth/clerkauth/internal/instance"
	"github.com/clerkauth/clerkauth/internal/reason"
)

// Names kept so that code written against earlier versions compiles and
// behaves as before. New code uses the names each comment points to.

// Default values of [Options] fields. An empty field gets its default.
//
// Deprecated: each Options field states its default.
const (
	DefaultAPIURL               = defaultAPIURL
	DefaultAPIVersion           = defaultAPIVersion
	DefaultClockSkew            = defaultClockSkew
	DefaultHTTPTimeout          = defaultHTTPTimeout
	DefaultJWKSRefreshInterval  = defaultJWKSRefreshInterval
	DefaultJWKSCooldown         = defaultJWKSCooldown
	DefaultKeyWaitTimeout       = defaultKeyWaitTimeout
	DefaultTokenCacheSize       = defaultTokenCacheSize
	DefaultMachineTokenCacheTTL = defaultMachineTokenCacheTTL
	DefaultTemplateCacheSize    = defaultTemplateCacheSize
)

// Reason strings, as Clerk's own SDKs report them (x-clerk-auth-reason).
//
// Deprecated: [Auth.Reason] returns the one of a signed-out request, for
// logs and headers; branch with errors.Is on the Err* kinds.
const (
	ReasonTokenAndUATMissing         = reason.TokenAndUATMissing
	ReasonTokenButNoClientUAT        = reason.TokenButNoClientUAT
	ReasonClientUATButNoToken        = reason.ClientUATButNoToken
	ReasonTokenIATBeforeClientUAT    = reason.TokenIATBeforeClientUAT
	ReasonTokenInvalid               = reason.TokenInvalid
	ReasonTokenTypeMismatch          = reason.TokenTypeMismatch
	ReasonTokenInvalidAlgorithm      = reason.TokenInvalidAlgorithm
	ReasonTokenInvalidSignature      = reason.TokenInvalidSignature
	ReasonTokenVerificationFailed    = reason.TokenVerificationFailed
	ReasonTokenExpired               = reason.TokenExpired
	ReasonTokenNotActiveYet          = reason.TokenNotActiveYet
	ReasonTokenIATInTheFuture        = reason.TokenIATInTheFuture
	ReasonSessionTokenNBF            = reason.SessionTokenNBF
	ReasonSessionTokenIATInTheFuture = reason.SessionTokenIATInTheFuture
	ReasonTokenInvalidAzp            = reason.TokenInvalidAzp
	ReasonTokenInvalidIssuer         = reason.TokenInvalidIssuer
	ReasonSessionPending             = reason.SessionPending
	ReasonJWKKidMismatch             = reason.JWKKidMismatch
	ReasonJWKRemoteFailedToLoad      = reason.JWKRemoteFailedToLoad
	ReasonSecretKeyInvalid           = reason.SecretKeyInvalid
	ReasonBackendAPIUnavailable      = reason.BackendAPIUnavailable
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
	n := *m
	n.accept = mask
	return &n
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

// Version is this library's version, sent in the User-Agent of every
// Backend API request.
//
// Deprecated: read the module version with runtime/debug.ReadBuildInfo.
const Version = instance.Version

// MaxTokenSize is the largest token looked at; a Clerk session token is
// about 1 KiB.
//
// Deprecated: a limit of the library, not a setting (16 KiB).
const MaxTokenSize = 16 << 10

// ParseJWTKey parses the instance's PEM public key as the Clerk dashboard
// shows it, with or without the BEGIN/END lines. It accepts PKIX and
// PKCS #1 RSA public keys of at least 2048 bits.
//
// Deprecated: set Options.JWTKey; [New] parses and checks it.
func ParseJWTKey(text string) (*rsa.PublicKey, error) { return instance.ParsePEMKey(text) }

// ParsePublishableKey decodes a publishable key (pk_test_... or
// pk_live_...) and returns the instance's Frontend API host, for example
// "clerk.example.com".
//
// Deprecated: set Options.PublishableKey; [New] derives the issuer from it.
func ParsePublishableKey(pk string) (host string, err error) { return instance.FrontendAPIHost(pk) }

// CookieSuffix returns the suffix Clerk appends to the names of its
// cookies for an instance (__session_<sfx>, __client_uat_<sfx>).
//
// Deprecated: the middleware reads the suffixed cookies itself;
// clerktest.Server.SessionCookies writes them for tests.
func CookieSuffix(publishableKey string) string { return instance.CookieSuffix(publishableKey) }

// ReverifyStrictMFA is Clerk's "strict_mfa" preset.
//
// Deprecated: use Reverify("strict_mfa").
func ReverifyStrictMFA() Reverification { return Reverify("strict_mfa") }

// ReverifyStrict is Clerk's "strict" preset.
//
// Deprecated: use Reverify("strict").
func ReverifyStrict() Reverification { return Reverify("strict") }

// ReverifyModerate is Clerk's "moderate" preset.
//
// Deprecated: use Reverify("moderate").
func ReverifyModerate() Reverification { return Reverify("moderate") }

// ReverifyLax is Clerk's "lax" preset.
//
// Deprecated: use Reverify("lax").
func ReverifyLax() Reverification { return Reverify("lax") }

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
