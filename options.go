package clerkauth

import (
	"cmp"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/instance"
)

// Defaults of the [Options] fields (each field's comment states its own).
const (
	defaultAPIURL               = instance.DefaultAPIURL
	defaultAPIVersion           = "2025-04-10"
	defaultClockSkew            = 5 * time.Second
	defaultHTTPTimeout          = 10 * time.Second
	defaultJWKSRefreshInterval  = 5 * time.Minute
	defaultJWKSCooldown         = 30 * time.Second
	defaultKeyWaitTimeout       = 5 * time.Second
	defaultTokenCacheSize       = 10000
	defaultMachineTokenCacheTTL = 10 * time.Second
	defaultTemplateCacheSize    = 1000
	defaultMaxVerifyCalls       = 32
	defaultStoreTimeout         = 50 * time.Millisecond
)

// Options configures a [Middleware] (see [New]) and a [Client] (see
// [NewClient]). The zero value is useful: every empty field falls back to
// the standard CLERK_* environment variable, then to a safe default.
type Options struct {
	// SecretKey is the instance's secret key (sk_test_... or sk_live_...).
	// It authenticates Backend API calls and the JWKS download.
	// Default: $CLERK_SECRET_KEY.
	SecretKey string

	// JWTKey is the instance's PEM public key (Dashboard > API keys > JWT
	// public key), with or without the BEGIN/END lines. When set, tokens
	// are verified with it and no network call is ever made to get keys.
	// Default: $CLERK_JWT_KEY.
	JWTKey string

	// PublishableKey is the instance's publishable key (pk_test_... or
	// pk_live_...). When set, the token issuer is derived from it and
	// checked (see Issuer), the suffixed cookies __session_<sfx> and
	// __client_uat_<sfx> are read, and, with SecretKey, page loads get
	// Clerk's refresh and handshake (see DisableHandshake).
	// Default: $CLERK_PUBLISHABLE_KEY.
	PublishableKey string

	// APIURL is the Backend API base URL. It must be https, except for a
	// loopback address (tests). A trailing /v1 (as in
	// https://api.clerk.com/v1, the form some Clerk SDKs take) is trimmed:
	// requests go to {APIURL}/v1/... either way. Default: $CLERK_API_URL,
	// else https://api.clerk.com.
	APIURL string

	// APIVersion is sent as the Clerk-API-Version header of Backend API
	// calls. Default: $CLERK_API_VERSION, else 2025-04-10.
	APIVersion string

	// JWKSURL overrides where keys are fetched from, for example the
	// public https://<frontend api>/.well-known/jwks.json, which needs no
	// secret key. The secret key is sent only to the Backend API's own
	// /v1/jwks. Default: {APIURL}/v1/jwks.
	JWKSURL string

	// AuthorizedParties lists the origins allowed in the token's azp claim,
	// for example "https://app.example.com". When set, a token without azp
	// or with an unlisted one is rejected. Set it whenever cookies are
	// accepted: it is what stops another site's page from using a user's
	// session (CSRF). Default: none (azp not checked).
	AuthorizedParties []string

	// Issuer is the expected iss claim, checked exactly when set.
	// Default: every issuer of the configured deployment is accepted and
	// no other: "https://" + the Frontend API host of PublishableKey, a
	// satellite's "https://clerk." + Domain, and ProxyURL; without a
	// publishable key iss is not checked, as in Clerk's SDKs.
	Issuer string

	// ClockSkew is the leeway for exp, nbf and iat. A negative value means
	// no leeway. Default: 5s.
	ClockSkew time.Duration

	// AcceptPendingSessions treats sessions with status "pending" (awaiting
	// a required step such as choosing an organization) as signed in.
	// Default: false (signed out, as Clerk's getAuth does).
	AcceptPendingSessions bool

	// HTTPClient makes the JWKS and Backend API requests. Default: a client
	// with a 10s timeout.
	HTTPClient *http.Client

	// ErrorHandler writes the response when RequireAuth or Protect refuses
	// a request: err is an [*AuthError] (the request's own copy) when it
	// is not signed in, a [*ForbiddenError] when it fails a Check. Wrap
	// [DefaultErrorHandler] to log and keep the default responses. A
	// sign-in redirect (SignInURL) comes before it, and a route's own
	// Responses ([Middleware.WithResponses]) replace it.
	// Default: DefaultErrorHandler (401, 403, or 503 when the keys or the
	// Backend API are unavailable).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives key-refresh failures (Warn) and rejected requests
	// (Debug). It never receives a token or a secret key.
	// Default: slog.Default().
	Logger *slog.Logger

	// Now returns the current time. Default: time.Now.
	Now func() time.Time

	// JWKSRefreshInterval is how long keys are used before they are
	// downloaded again, as measured by Now: the refresh is started in the
	// background by the first request after it is due (or by a timer), so
	// a key removed from the JWKS stops verifying new tokens within about
	// this long. Default: 5m, as Clerk's SDKs.
	JWKSRefreshInterval time.Duration

	// JWKSCooldown is the least time between two refreshes caused by an
	// unknown kid, so a flood of tokens with random kids costs at most one
	// JWKS download per cooldown. A token whose kid is unknown is rejected
	// with 401 jwk-kid-mismatch only when a download made after it arrived
	// did not hold its kid; inside the cooldown it fails at once with 503
	// (ErrKeysUnavailable, jwk-remote-failed-to-load, Retry-After), since
	// the keys may have rotated. Default: 30s.
	JWKSCooldown time.Duration

	// KeyWaitTimeout bounds how long a request waits for a key download
	// (it is also bounded by the request's own context). Default: 5s.
	KeyWaitTimeout time.Duration

	// AcceptsToken lists the token types the middleware accepts:
	// TokenTypeSession (users' session tokens), TokenTypeAPIKey,
	// TokenTypeM2M, TokenTypeOAuth, or TokenTypeAny. Machine tokens are
	// read from the Authorization header only, never from cookies. Narrow
	// it per route with [Middleware.AcceptsToken]. Default: session tokens only.
	AcceptsToken []string

	// MachineSecretKey authenticates M2M token verification when set (a
	// machine's own secret, ak_...). Default: $CLERK_MACHINE_SECRET_KEY,
	// else SecretKey.
	MachineSecretKey string

	// MachineTokenCacheTTL is how long the Backend API's answer about an
	// opaque machine token (API key, M2M or OAuth token) is reused, so
	// that a busy machine client does not cost one Clerk call per request.
	// A revoked token is therefore accepted for up to this long after its
	// revocation. Unknown or revoked answers are cached for the shorter of
	// this and 5s, so a flood of bad tokens does not flood Clerk. A
	// negative value turns the cache off. Default: 10s.
	MachineTokenCacheTTL time.Duration

	// TokenCacheSize bounds the verified-token cache, which maps a token
	// already verified to its result so that the same token (a browser
	// sends the same one for its 60 s life) is not verified again. Every
	// hit re-checks exp/nbf/iat and that the signing key is still in the
	// key set. The cache is also bounded in bytes, at 3 KiB per entry of
	// this size (about 29 MiB at the default) whatever the size of the
	// tokens: a 1 KiB session token takes about 2.2 KiB, a 16 KiB one about
	// 29 KiB, so fewer large tokens fit. A negative value turns it off.
	// Default: 10000.
	TokenCacheSize int

	// Getenv reads the CLERK_* environment variables that fill the empty
	// fields above. Set it to a function that returns "" to read none, so
	// that the configuration is exactly the fields set ([clerktest] does
	// this, so that a developer's exported keys never reach a test).
	// Default: os.Getenv.
	//
	// [clerktest]: https://pkg.go.dev/github.com/clerkauth/clerkauth/clerktest
	Getenv func(string) string

	// TemplateTokenCacheSize bounds the cache of JWT-template tokens that
	// [Auth.GetToken] obtains from the Backend API, keyed by session,
	// template and expiry. A cached token is reused until 10s (or a quarter
	// of its lifetime, if shorter) before its own exp, so a handler that
	// calls GetToken on every request calls Clerk about once a minute per
	// session, not once a request. A negative value turns it off.
	// Default: 1000.
	TemplateTokenCacheSize int

	// MaxMachineVerifyCalls bounds the Backend API calls verifying opaque
	// machine tokens (API keys, M2M and OAuth tokens) in flight at once.
	// A request that would start one more is answered at once with
	// [ErrBackendUnavailable] (503 backend-api-unavailable, Retry-After):
	// it is never queued, so a flood of random tokens costs at most this
	// many open calls. Default: 32.
	MaxMachineVerifyCalls int

	// SignInURL is the application's sign-in page, absolute
	// (https://accounts.example.com/sign-in) or a path (/sign-in).
	// RequireAuth and Protect send a signed-out page load there with
	// redirect_url, its own URL (an htmx request with HX-Redirect), as
	// Clerk's redirectToSignIn; without it they answer 401. A satellite
	// application sends signed-out users there; on a development instance
	// a satellite needs it (as in Clerk).
	// Default: $CLERK_SIGN_IN_URL, else none.
	SignInURL string

	// SignUpURL is the application's sign-up page, absolute or a path.
	// Default: $CLERK_SIGN_UP_URL, else none.
	SignUpURL string

	// ProxyURL is the URL through which the application proxies Clerk's
	// Frontend API (https://example.com/__clerk, or a path such as
	// /__clerk, taken relative to each request's origin). Handshakes go
	// there, and tokens issued through it (iss = the proxy URL) are
	// accepted. Default: $CLERK_PROXY_URL, else none.
	ProxyURL string

	// Domain is the satellite application's domain (satellite.example.com)
	// when IsSatellite is set: a production satellite's Frontend API is
	// https://clerk.<Domain>, which is also the iss of its tokens.
	// Default: $CLERK_DOMAIN, else none.
	Domain string

	// IsSatellite marks the application as a satellite of another
	// (primary) domain of the same instance: it needs Domain or ProxyURL,
	// and, on a development instance, SignInURL. Default:
	// $CLERK_IS_SATELLITE ("true", in any case, or a positive number), else
	// false.
	IsSatellite bool

	// DisableHandshake turns off what Clerk does for page loads only: the
	// session refresh with the __refresh cookie, the 307 handshake redirect
	// to the Frontend API, and satellite and development-instance syncing.
	// Requests are then judged as API requests are (an expired token is
	// signed out). Default: false: on whenever both a publishable key and a
	// secret key are configured, as in Clerk.
	DisableHandshake bool

	// OrganizationSyncOptions activates organizations from the URL of a
	// page load, as Clerk's organizationSyncOptions: a signed-in page load
	// whose path names another organization than the session's active one
	// goes through the handshake, which activates it. Default: nil (none).
	OrganizationSyncOptions *OrganizationSyncOptions
	// Observer receives every authentication, key download and Backend
	// API request, for metrics and traces (see [Observer]; the nested
	// module otelclerk builds one for OpenTelemetry). It never receives a
	// token, a secret key or a user id. It is copied by New and
	// NewClient. Default: nil (nothing is observed, at no cost).
	Observer *Observer
	// MachineTokenStore shares the Backend API's answers about opaque
	// machine tokens between replicas (see [MachineTokenStore]; Redis
	// with the redisstore module), each kept as long as this instance's
	// cache would keep it. It is asked when this instance's cache has no
	// answer, at the cost of a round trip (at most
	// MachineTokenStoreTimeout; then the Backend API is asked). A revoked token is still accepted for up to
	// MachineTokenCacheTTL, by every replica. Unused without a secret key
	// or with the cache off. Default: nil (each instance asks the Backend
	// API itself).
	MachineTokenStore MachineTokenStore

	// MachineTokenStoreTimeout bounds each call to MachineTokenStore: a
	// call that takes longer counts as a failure, and the Backend API is
	// asked. With a store that takes claims ([MachineTokenClaimer]), a
	// replica waits at most five times as long for the verdict of another
	// that claimed the token (and no longer than twice KeyWaitTimeout).
	// Raise it for a store far away (another region, a managed Redis over
	// the internet). Default: 50ms.
	MachineTokenStoreTimeout time.Duration
}

// describe prints the options with the secret keys redacted (their
// prefix kept, so sk_test_ and sk_live_ can be told apart) and without
// the function fields.
func (o Options) describe() string {
	type shown Options // no methods: no recursion
	c := shown(o)
	c.SecretKey, c.MachineSecretKey = keyState(o.SecretKey), keyState(o.MachineSecretKey)
	c.ErrorHandler, c.Now, c.Logger, c.HTTPClient, c.Observer = nil, nil, nil, nil, nil
	c.ErrorHandler, c.Now, c.Logger, c.HTTPClient, c.MachineTokenStore = nil, nil, nil, nil, nil
	return fmt.Sprintf("clerkauth.Options%+v", c)
}

// Format prints the options with the secret keys redacted (sk_test_ and
// sk_live_ kept, so the two can be told apart) and without the function
// fields, for every verb: %v, %+v and %#v never show a secret key.
// Options holds the secret key in an exported field, so it needs this
// where the library's other types do not.
func (o Options) Format(f fmt.State, verb rune) { formatAs(f, verb, o.describe()) }

// LogValue is Format's text, for every slog handler (the JSON one would
// otherwise marshal SecretKey).
func (o Options) LogValue() slog.Value { return slog.StringValue(o.describe()) }

// config is Options after defaults, validation and precomputation. It is
// immutable after New returns.
type config struct {
	secretKey         string
	apiURL            string
	apiVersion        string
	jwksURL           string
	jwksSendSecret    bool
	pemKey            *rsa.PublicKey
	publishableKey    string
	cookieSuffix      string
	authorizedParties []string
	issuer            string
	skew              time.Duration
	acceptPending     bool
	httpClient        *http.Client
	errorHandler      func(http.ResponseWriter, *http.Request, error)
	logger            *slog.Logger
	now               func() time.Time
	refreshInterval   time.Duration
	cooldown          time.Duration
	keyWait           time.Duration
	cacheSize         int
	accept            tokenMask
	machineSecretKey  string
	machineTTL        time.Duration
	templateCacheSize int
	maxVerifyCalls    int

	// Page-load flows (pageload.go).
	signInURL, signUpURL string
	proxyURL             string // absolute, or a path resolved per request
	domain               string // satellite domain, without a scheme
	isSatellite          bool
	development          bool     // pk_test_ instance
	fapiHost             string   // decoded from the publishable key
	frontendAPI          string   // see Middleware.FrontendAPI
	originalFAPI         string   // the host tokens of this deployment name (Clerk's originalFrontendApi)
	issuers              []string // accepted iss values; none: not checked
	handshake            bool     // page-load flows on
	orgPatterns          *orgMatcher
	personalPatterns     *orgMatcher
	refreshCookie        string   // __refresh_<sfx>
	devBrowserCookie     string   // __clerk_db_jwt_<sfx>
	observer             Observer // Options.Observer's copy; zero: nothing observed
	machineStore         MachineTokenStore
	storeTimeout         time.Duration
}

// envOr returns v, else the environment variable name read through
// o.Getenv.
func (o Options) envOr(v, name string) string {
	if v != "" {
		return v
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return strings.TrimSpace(getenv(name))
}

// resolve applies defaults and environment variables and validates
// everything. The error never contains a secret key.
func (o Options) resolve() (*config, error) {
	envOr := o.envOr // every environment read goes through o.Getenv
	c := &config{
		secretKey:         envOr(o.SecretKey, "CLERK_SECRET_KEY"),
		publishableKey:    envOr(o.PublishableKey, "CLERK_PUBLISHABLE_KEY"),
		apiURL:            cmp.Or(trimAPIURL(envOr(o.APIURL, "CLERK_API_URL")), defaultAPIURL),
		apiVersion:        cmp.Or(envOr(o.APIVersion, "CLERK_API_VERSION"), defaultAPIVersion),
		authorizedParties: append([]string(nil), o.AuthorizedParties...),
		issuer:            o.Issuer,
		acceptPending:     o.AcceptPendingSessions,
		httpClient:        cmp.Or(o.HTTPClient, &http.Client{Timeout: defaultHTTPTimeout}),
		errorHandler:      o.ErrorHandler,
		logger:            cmp.Or(o.Logger, slog.Default()),
		now:               o.Now,
		skew:              max(cmp.Or(o.ClockSkew, defaultClockSkew), 0),
		refreshInterval:   cmp.Or(o.JWKSRefreshInterval, defaultJWKSRefreshInterval),
		cooldown:          cmp.Or(o.JWKSCooldown, defaultJWKSCooldown),
		keyWait:           cmp.Or(o.KeyWaitTimeout, defaultKeyWaitTimeout),
		cacheSize:         cmp.Or(o.TokenCacheSize, defaultTokenCacheSize),
		templateCacheSize: cmp.Or(o.TemplateTokenCacheSize, defaultTemplateCacheSize),
		maxVerifyCalls:    o.MaxMachineVerifyCalls,
		machineStore:      o.MachineTokenStore,
		storeTimeout:      cmp.Or(max(o.MachineTokenStoreTimeout, 0), defaultStoreTimeout),
		machineSecretKey:  envOr(o.MachineSecretKey, "CLERK_MACHINE_SECRET_KEY"),
		machineTTL:        max(cmp.Or(o.MachineTokenCacheTTL, defaultMachineTokenCacheTTL), 0),
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.signInURL = envOr(o.SignInURL, "CLERK_SIGN_IN_URL")
	c.signUpURL = envOr(o.SignUpURL, "CLERK_SIGN_UP_URL")
	c.proxyURL = strings.TrimRight(envOr(o.ProxyURL, "CLERK_PROXY_URL"), "/")
	c.domain = envOr(o.Domain, "CLERK_DOMAIN")
	c.isSatellite = o.IsSatellite || truthy(envOr("", "CLERK_IS_SATELLITE"))
	if o.Observer != nil {
		c.observer = *o.Observer
	}
	if c.maxVerifyCalls <= 0 {
		c.maxVerifyCalls = defaultMaxVerifyCalls
	}
	c.accept = maskSession
	if len(o.AcceptsToken) > 0 {
		mask, ok := parseMask(o.AcceptsToken)
		if !ok {
			return nil, fmt.Errorf("clerkauth: Options.AcceptsToken %q: token types are %q, %q, %q, %q or %q",
				o.AcceptsToken, TokenTypeSession, TokenTypeAPIKey, TokenTypeM2M, TokenTypeOAuth, TokenTypeAny)
		}
		c.accept = mask
	}
	if c.refreshInterval < 0 || c.cooldown < 0 || c.keyWait < 0 {
		return nil, errors.New("clerkauth: JWKSRefreshInterval, JWKSCooldown and KeyWaitTimeout must not be negative")
	}

	if c.secretKey != "" && !strings.HasPrefix(c.secretKey, "sk_test_") && !strings.HasPrefix(c.secretKey, "sk_live_") {
		return nil, errors.New("clerkauth: the secret key (Options.SecretKey or $CLERK_SECRET_KEY) must start with sk_test_ or sk_live_")
	}
	if err := instance.CheckURL("APIURL ($CLERK_API_URL)", c.apiURL); err != nil {
		return nil, err
	}

	if pemText := envOr(o.JWTKey, "CLERK_JWT_KEY"); pemText != "" {
		key, err := instance.ParsePEMKey(pemText)
		if err != nil {
			return nil, fmt.Errorf("clerkauth: Options.JWTKey or $CLERK_JWT_KEY: %w", err)
		}
		c.pemKey = key
	}

	if c.publishableKey != "" {
		host, err := instance.FrontendAPIHost(c.publishableKey)
		if err != nil {
			return nil, fmt.Errorf("clerkauth: Options.PublishableKey or $CLERK_PUBLISHABLE_KEY: %w", err)
		}
		c.cookieSuffix = instance.CookieSuffix(c.publishableKey)
		c.fapiHost = host
		c.development = strings.HasPrefix(c.publishableKey, "pk_test_")
	}
	if err := c.resolvePageLoad(o.DisableHandshake); err != nil {
		return nil, err
	}
	var err error
	if c.orgPatterns, c.personalPatterns, err = compileOrgSync(o.OrganizationSyncOptions); err != nil {
		return nil, err
	}

	c.jwksURL = o.JWKSURL
	if c.jwksURL == "" && c.secretKey != "" {
		c.jwksURL = c.apiURL + "/v1/jwks"
		c.jwksSendSecret = true
	} else if c.jwksURL != "" {
		c.jwksURL = strings.TrimRight(c.jwksURL, "/")
		if err := instance.CheckURL("JWKSURL", c.jwksURL); err != nil {
			return nil, err
		}
		// The secret key goes only to the Backend API's own endpoint.
		c.jwksSendSecret = c.secretKey != "" && c.jwksURL == c.apiURL+"/v1/jwks"
	}

	if c.accept&(maskAPIKey|maskOAuth) != 0 && c.secretKey == "" ||
		c.accept&maskM2M != 0 && c.secretKey == "" && c.machineSecretKey == "" {
		return nil, errors.New("clerkauth: accepting API keys, M2M or OAuth tokens needs $CLERK_SECRET_KEY " +
			"(or $CLERK_MACHINE_SECRET_KEY for M2M only) to verify them with the Backend API")
	}
	return c, nil
}

// checkVerifier fails when c has no source of keys (New needs one;
// NewClient does not).
func (c *config) checkVerifier() error {
	if c.pemKey == nil && c.jwksURL == "" {
		return errors.New("clerkauth: no way to verify tokens: set $CLERK_SECRET_KEY (keys from the Backend API), " +
			"$CLERK_JWT_KEY (PEM public key, no network), or Options.JWKSURL")
	}
	return nil
}

// resolvePageLoad validates the options of the page-load flows and
// precomputes the Frontend API URL. Clerk's own checks for a satellite
// (request.ts) are made here, once.
func (c *config) resolvePageLoad(disable bool) error {
	for _, u := range []struct{ field, v string }{
		{"SignInURL ($CLERK_SIGN_IN_URL)", c.signInURL}, {"SignUpURL ($CLERK_SIGN_UP_URL)", c.signUpURL},
	} {
		if u.v == "" {
			continue
		}
		if strings.HasPrefix(u.v, "/") && !strings.HasPrefix(u.v, "//") {
			if _, err := url.Parse(u.v); err != nil {
				return fmt.Errorf("clerkauth: %s: a path that is not a valid URL path", u.field)
			}
			continue
		}
		if p, err := url.Parse(u.v); err != nil || p.Host == "" || p.Scheme != "https" && p.Scheme != "http" {
			return fmt.Errorf("clerkauth: %s must be an absolute http(s) URL or a path starting with /", u.field)
		}
	}
	if c.proxyURL != "" && !strings.HasPrefix(c.proxyURL, "/") {
		if err := instance.CheckURL("ProxyURL ($CLERK_PROXY_URL)", c.proxyURL); err != nil {
			return err
		}
	}
	if c.proxyURL != "" && strings.HasPrefix(c.proxyURL, "//") {
		return errors.New("clerkauth: ProxyURL ($CLERK_PROXY_URL) must be an absolute https URL or a path starting with a single /")
	}
	if d, ok := strings.CutPrefix(c.domain, "https://"); ok {
		c.domain = d
	} else if d, ok := strings.CutPrefix(c.domain, "http://"); ok {
		c.domain = d
	}
	c.domain = strings.TrimRight(c.domain, "/")
	if strings.ContainsAny(c.domain, "/?#@ ") {
		return errors.New("clerkauth: Domain ($CLERK_DOMAIN) must be a host name such as satellite.example.com")
	}
	if c.isSatellite {
		if c.domain == "" && c.proxyURL == "" {
			return errors.New("clerkauth: a satellite application (IsSatellite, $CLERK_IS_SATELLITE) needs Domain ($CLERK_DOMAIN) or ProxyURL ($CLERK_PROXY_URL)")
		}
		if c.signInURL == "" && strings.HasPrefix(c.secretKey, "sk_test_") {
			return errors.New("clerkauth: a satellite application on a development instance needs SignInURL ($CLERK_SIGN_IN_URL), the primary's sign-in page")
		}
		if c.signInURL != "" && strings.HasPrefix(c.signInURL, "/") {
			return errors.New("clerkauth: a satellite's SignInURL ($CLERK_SIGN_IN_URL) must be an absolute URL on the primary domain")
		}
	}
	switch {
	case c.fapiHost == "":
	case c.proxyURL != "":
		c.frontendAPI = c.proxyURL
	case !c.development && c.isSatellite && c.domain != "":
		c.frontendAPI = "https://clerk." + c.domain
	default:
		c.frontendAPI = "https://" + c.fapiHost
	}
	c.originalFAPI = c.fapiHost
	if !c.development && c.isSatellite && c.domain != "" {
		c.originalFAPI = "clerk." + c.domain
	}
	// Issuers: an explicit Issuer alone; else every issuer a token of this
	// deployment carries: the primary Frontend API, a production
	// satellite's, and the proxy's.
	switch {
	case c.issuer != "":
		c.issuers = []string{c.issuer}
	case c.fapiHost != "":
		c.issuers = []string{"https://" + c.fapiHost}
		if c.domain != "" {
			c.issuers = append(c.issuers, "https://clerk."+c.domain)
		}
		if c.proxyURL != "" {
			c.issuers = append(c.issuers, c.proxyURL)
		}
	}
	c.handshake = !disable && c.publishableKey != "" && c.secretKey != ""
	c.refreshCookie = "__refresh_" + c.cookieSuffix
	c.devBrowserCookie = "__clerk_db_jwt_" + c.cookieSuffix
	return nil
}

// issuerOK reports whether iss is one of the accepted issuers (any when
// none is configured). A relative ProxyURL accepts its path on any
// origin, as the proxy is reached through the request's own.
func (c *config) issuerOK(iss string) bool {
	if len(c.issuers) == 0 {
		return true
	}
	for _, want := range c.issuers {
		if iss == want {
			return true
		}
		if strings.HasPrefix(want, "/") && strings.HasSuffix(iss, want) {
			if o, _, ok := urlOrigin(iss); ok && o != "null" && iss == o+want {
				return true
			}
		}
	}
	return false
}

// truthy reads a boolean environment variable as Clerk's isTruthy does:
// "true" in any case, or a positive integer.
func truthy(v string) bool {
	if strings.EqualFold(v, "true") {
		return true
	}
	n := 0
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9' && n < 1e6; i++ {
		n = n*10 + int(v[i]-'0')
	}
	return n > 0
}

// trimAPIURL drops trailing slashes and one trailing /v1: paths are
// appended with their /v1.
func trimAPIURL(u string) string {
	u = strings.TrimRight(u, "/")
	if trimmed, ok := strings.CutSuffix(u, "/v1"); ok {
		u = strings.TrimRight(trimmed, "/")
	}
	return u
}

// userAgent names this library in the requests it makes.
const userAgent = "clerkauth-go/" + instance.Version
