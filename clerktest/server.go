// Package clerktest runs a local stand-in for a Clerk instance, for testing
// code that uses clerkauth without a network or a Clerk account.
//
// A [Server] is a real HTTP server (from net/http/httptest) with its own
// RSA-2048 key. It signs real RS256 session tokens with the header and v2
// claims Clerk puts in its own, serves the JWKS the way Clerk's Backend API
// does (GET /v1/jwks, which requires the secret key, and the public
// GET /.well-known/jwks.json), and answers the Backend API calls clerkauth
// makes (GET /v1/users/{id}, POST /v1/sessions/{sid}/tokens/{template})
// with Clerk's JSON shapes, errors included. Nothing in clerkauth is
// mocked: the middleware under test downloads the keys and verifies the
// signature exactly as it does in production.
//
//	srv := clerktest.New(t)
//	mw, err := clerkauth.New(srv.Options())
//	...
//	req.Header.Set("Authorization", "Bearer "+srv.SessionToken("user_123",
//		clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read")))
//
// # Keys and issuer
//
// The server has a secret key (sk_test_..., random per server) and a
// publishable key (pk_test_ + base64 of "<host:port>$", as Clerk builds
// them). [Server.Options] sets both, and the Backend API URL, so that
// clerkauth derives the issuer "https://<host:port>" from the publishable
// key and checks it; every token the server mints carries exactly that iss
// (see [Server.Issuer]). The JWKS is served over plain http on loopback,
// which clerkauth allows.
//
// # The Frontend API and page loads
//
// The server also plays the Frontend API on its own origin, so that page
// loads can go through Clerk's handshake offline, in a test or a real
// browser: GET /v1/client/handshake (format nonce or token), a hosted
// sign-in page ([Server.SignInURL]) listing the users added with
// [Server.AddUser], POST /sign-out, and the Backend API's
// GET /v1/clients/handshake_payload and POST /v1/sessions/{sid}/refresh.
// [Server.Options] sets ProxyURL to the server's URL so that handshakes
// reach it over http. [WithSessionTokenLifetime] shortens the session
// tokens, [WithRefreshCookies] makes handshakes set the refresh cookie.
package clerktest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
)

// Header "cat" values of Clerk's tokens.
const (
	// CategorySession is the header cat of a Clerk session token.
	CategorySession = "cl_B7d4PD111AAA"
	// CategoryTemplate is the header cat of a JWT-template token, which is
	// not a session token.
	CategoryTemplate = "cl_B7d4PD222AAA"
)

// Server is a local stand-in for a Clerk instance. Create it with
// [NewServer] or [New]; it is safe for concurrent use. Its zero value is
// not usable.
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:<port>". It is
	// both the Backend API URL and the Frontend API origin.
	URL string

	ts             *httptest.Server
	host           string
	secretKey      string
	publishableKey string
	webhookSecret  string // whsec_..., see webhook.go
	devBrowser     string // the __clerk_db_jwt value of SessionCookies

	mu         sync.Mutex // guards the fields below
	keys       []*signingKey
	users      map[string]User
	sessions   map[string]session // session id -> its last minted token, for token endpoints
	templates  map[string]map[string]any
	jwksStatus int
	requests   map[string]int // path -> count
	machines   map[string]machineEntry

	// The Frontend API (fapi.go).
	clients        map[string]*fapiClient
	devBrowsers    map[string]string   // dev-browser token -> client id
	nonces         map[string][]string // handshake nonce -> directives
	lifetime       time.Duration       // session tokens' default lifetime
	refreshCookies bool                // handshakes set __refresh_<sfx>
	production     bool                // pk_live_: no dev-browser tokens
}

// signingKey is one RSA key of the instance.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// ServerOption configures a [Server].
type ServerOption func(*serverConfig)

type serverConfig struct {
	key            *rsa.PrivateKey
	lifetime       time.Duration
	refreshCookies bool
	production     bool
}

// WithProductionInstance makes the server a production instance: its keys
// are pk_live_... and sk_live_..., and page loads go through the handshake
// without a dev-browser token (the Frontend API's own cookie identifies the
// browser). Default: a development instance (pk_test_, sk_test_).
func WithProductionInstance() ServerOption {
	return func(c *serverConfig) { c.production = true }
}

// WithSessionTokenLifetime sets the lifetime of the session tokens the
// server mints by default: [Server.SessionToken] without [WithLifetime],
// and the tokens of the handshake and of session refreshes. Set it to a
// few seconds to see a page load go through the handshake again.
// Default: [DefaultTokenLifetime] (60 s, as Clerk's).
func WithSessionTokenLifetime(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.lifetime = d }
}

// WithRefreshCookies makes the handshake also set the __refresh_<sfx>
// cookie, with which the middleware refreshes an expired session through
// the Backend API (POST /v1/sessions/{sid}/refresh) instead of another
// handshake. Default: off (an expired session goes through the handshake).
func WithRefreshCookies() ServerOption {
	return func(c *serverConfig) { c.refreshCookies = true }
}

// WithSigningKey makes the server sign with key instead of generating a
// fresh RSA-2048 key. Share one key between many servers to save the
// generation time (about 50 ms) in large test suites.
func WithSigningKey(key *rsa.PrivateKey) ServerOption {
	return func(c *serverConfig) { c.key = key }
}

// NewServer starts a Server. Call [Server.Close] when done; [New] does it
// for you in a test.
func NewServer(opts ...ServerOption) *Server {
	var cfg serverConfig
	for _, o := range opts {
		o(&cfg)
	}
	key := cfg.key
	if key == nil {
		key = generateKey()
	}
	s := &Server{
		secretKey: "sk_test_" + rand.Text() + rand.Text(),
		keys:      []*signingKey{{kid: newKid(), priv: key}},
		users:     make(map[string]User),
		sessions:  make(map[string]session),
		templates: make(map[string]map[string]any),
		requests:  make(map[string]int),

		clients:        make(map[string]*fapiClient),
		devBrowsers:    make(map[string]string),
		nonces:         make(map[string][]string),
		lifetime:       DefaultTokenLifetime,
		refreshCookies: cfg.refreshCookies,
	}
	if cfg.lifetime != 0 {
		s.lifetime = cfg.lifetime
	}
	if cfg.production {
		s.production = true
		s.secretKey = "sk_live_" + strings.TrimPrefix(s.secretKey, "sk_test_")
	}
	s.webhookSecret = newWebhookSecret()
	s.ts = httptest.NewServer(s.routes())
	s.URL = s.ts.URL
	s.host = strings.TrimPrefix(s.URL, "http://")
	s.publishableKey = "pk_test_" + base64.StdEncoding.EncodeToString([]byte(s.host+"$"))
	if s.production {
		s.publishableKey = "pk_live_" + strings.TrimPrefix(s.publishableKey, "pk_test_")
	}
	s.devBrowser = "dvb_" + rand.Text()
	return s
}

// New starts a Server that is closed when the test ends.
func New(tb testing.TB, opts ...ServerOption) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down and waits for requests in flight.
func (s *Server) Close() { s.ts.Close() }

// SecretKey returns the instance's secret key, sk_test_... . The Backend
// API endpoints require it as a bearer token.
func (s *Server) SecretKey() string { return s.secretKey }

// PublishableKey returns the instance's publishable key: pk_test_ followed
// by base64 of "<host:port>$".
func (s *Server) PublishableKey() string { return s.publishableKey }

// Issuer returns the iss claim of every token the server mints,
// "https://<host:port>": what clerkauth derives from [Server.PublishableKey].
func (s *Server) Issuer() string { return "https://" + s.host }

// Options returns clerkauth options wired to this server: SecretKey,
// PublishableKey (so the issuer is checked), APIURL, ProxyURL (the
// server's own URL, so that page loads' handshakes reach its Frontend API
// over plain http on loopback) and SignInURL (its sign-in page). Keys
// come from {URL}/v1/jwks. No environment variable is read at all (Getenv returns
// ""), so a developer's exported CLERK_SECRET_KEY, CLERK_JWT_KEY or any
// other CLERK_* variable never changes what a test verifies against. Set
// JWKSCooldown to a small value if a test rotates keys more than once.
func (s *Server) Options() clerkauth.Options {
	return clerkauth.Options{
		SecretKey:      s.secretKey,
		PublishableKey: s.publishableKey,
		APIURL:         s.URL,
		ProxyURL:       s.URL,
		SignInURL:      s.SignInURL(),
		Getenv:         noEnv,
	}
}

// noEnv is an environment with no variables set.
func noEnv(string) string { return "" }

// KeyID returns the kid of the current signing key.
func (s *Server) KeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[0].kid
}

// PublicKeyPEM returns the current public key as a PEM "PUBLIC KEY" block,
// the form the Clerk dashboard shows, for networkless verification:
// clerkauth.Options{JWTKey: srv.PublicKeyPEM()}.
func (s *Server) PublicKeyPEM() string {
	s.mu.Lock()
	pub := &s.keys[0].priv.PublicKey
	s.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("clerktest: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// RotateKey makes a new RSA-2048 key the signing key, under a new kid, and
// returns the kid. The old key leaves the JWKS unless keepOld is true, in
// which case both are served (Clerk's rotation window). Tokens minted
// before stay signed with the old key.
func (s *Server) RotateKey(keepOld bool) string {
	k := &signingKey{kid: newKid(), priv: generateKey()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if keepOld {
		s.keys = append([]*signingKey{k}, s.keys...)
	} else {
		s.keys = []*signingKey{k}
	}
	return k.kid
}

// SetJWKSStatus makes both JWKS endpoints answer with HTTP status code and
// a Clerk error body, for testing how code copes with a Clerk outage
// (clerkauth answers 503) or a refused secret key (401). 0 or 200 restores
// normal answers.
func (s *Server) SetJWKSStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwksStatus = code
}

// Requests returns how many requests the server received for path, for
// example "/v1/jwks" or "/v1/users/user_123", whatever their outcome.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// AddUser registers a user, served by GET /v1/users/{id}. Adding a user
// with the ID of an existing one replaces it.
func (s *Server) AddUser(u User) {
	if u.ID == "" {
		panic("clerktest: AddUser: empty User.ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// AddTemplate sets the claims of the JWT template name, minted by
// POST /v1/sessions/{sid}/tokens/{name}, as Clerk mints them: the default
// claims (azp, exp, iat, iss, jti, nbf, sub; nbf = iat - 5s, Clerk's default
// allowed clock skew; exp = iat + 60s or expires_in_seconds), then the
// template's claims, in a token whose header cat is [CategoryTemplate].
//
// String values may hold Clerk's shortcodes, at any depth, resolved from
// the user registered with [Server.AddUser] and the session's active
// organization: "{{user.id}}", "{{user.first_name}}", "{{user.last_name}}",
// "{{user.full_name}}", "{{user.username}}", "{{user.image_url}}",
// "{{user.has_image}}", "{{user.primary_email_address}}",
// "{{user.primary_phone_address}}", "{{user.email_verified}}",
// "{{user.phone_number_verified}}", "{{user.two_factor_enabled}}",
// "{{user.external_id}}", "{{user.created_at}}", "{{user.updated_at}}"
// (Unix seconds), "{{user.public_metadata}}" and
// "{{user.unsafe_metadata}}" (with dotted paths inside, such as
// "{{user.public_metadata.plan}}"), "{{org.id}}", "{{org.slug}}" and
// "{{org.role}}". A value that is exactly one shortcode keeps the type of
// what it names (an object, a bool, null); shortcodes inside a longer
// string are interpolated as text ("null" for a missing value). Unknown
// shortcodes, and fields the user does not have, are null, as in Clerk.
// "{{a || b || 'text'}}" yields the first operand that is neither null nor
// false, else the last; literals are 'single-quoted' strings, numbers,
// true and false.
//
// Clerk refuses templates that set a default claim: AddTemplate panics
// when claims has any of azp, exp, iat, iss, jti, nbf or sub. A template
// that was never added mints tokens with the default claims only.
func (s *Server) AddTemplate(name string, claims map[string]any) {
	for _, k := range reservedTemplateClaims {
		if _, ok := claims[k]; ok {
			panic(fmt.Sprintf("clerktest: AddTemplate %q: claim %q is reserved: Clerk refuses templates that set azp, exp, iat, iss, jti, nbf or sub", name, k))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[name] = maps.Clone(claims)
}

// session is what the server remembers of a session: its user and the
// last session token minted for it.
type session struct {
	userID string
	token  string
}

// rememberSession records tok as the latest session token of sid, which
// POST /v1/sessions/{sid}/tokens answers afresh.
func (s *Server) rememberSession(sid, userID, tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sid] = session{userID: userID, token: tok}
}

func generateKey() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("clerktest: generating an RSA key: " + err.Error())
	}
	return key
}

// newKid returns a kid shaped like Clerk's (the instance id).
func newKid() string { return "ins_" + rand.Text() }

// newID returns a Clerk-shaped id with prefix, for example "sess_...".
func newID(prefix string) string { return prefix + "_" + rand.Text() }

func b64uint(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }

// jwks returns the instance's JWKS document, as Clerk serves it.
func (s *Server) jwks() []byte {
	type jwk struct {
		Use string `json:"use"`
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	s.mu.Lock()
	keys := make([]jwk, 0, len(s.keys))
	for _, k := range s.keys {
		pub := &k.priv.PublicKey
		keys = append(keys, jwk{Use: "sig", Kty: "RSA", Kid: k.kid, Alg: "RS256",
			N: b64uint(pub.N), E: b64uint(big.NewInt(int64(pub.E)))})
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// The Server's handlers, in Clerk's shapes.

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", s.serveJWKS)
	mux.HandleFunc("GET /v1/jwks", s.backend(s.serveJWKS))
	mux.HandleFunc("GET /v1/users/{id}", s.backend(s.serveUser))
	mux.HandleFunc("POST /v1/sessions/{sid}/tokens", s.backend(s.serveToken))
	mux.HandleFunc("POST /v1/sessions/{sid}/tokens/{template}", s.backend(s.serveToken))
	s.machineRoutes(mux)
	s.fapiRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "resource_not_found", "not found", "The requested resource was not found.")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

// backend requires the secret key, as every Backend API endpoint does.
func (s *Server) backend(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.secretKey {
			writeError(w, http.StatusUnauthorized, "clerk_key_invalid", "Secret Key is invalid",
				"The provided Secret Key is invalid. Make sure that your Secret Key is correct.")
			return
		}
		h(w, r)
	}
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	code := s.jwksStatus
	s.mu.Unlock()
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		writeError(w, code, "clerk_key_invalid", "Secret Key is invalid",
			"The provided Secret Key is invalid. Make sure that your Secret Key is correct.")
		return
	case code != 0 && code != http.StatusOK:
		writeError(w, code, "internal_clerk_error", "Oops, an unexpected error occurred",
			"There was an internal error on our servers. We've been notified and are working on fixing it.")
		return
	}
	writeJSON(w, http.StatusOK, s.jwks())
}

func (s *Server) serveUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "resource_not_found", "not found", "Resource not found")
		return
	}
	b, err := json.Marshal(u.clerkJSON())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_clerk_error", "Oops, an unexpected error occurred", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	sid, template := r.PathValue("sid"), r.PathValue("template")
	var body struct {
		ExpiresInSeconds *int64 `json:"expires_in_seconds"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusUnprocessableEntity, "form_param_format_invalid", "is invalid",
			"The request body is not valid JSON.")
		return
	}
	// Clerk's Backend API accepts 30 to 315360000 seconds (its OpenAPI spec).
	if e := body.ExpiresInSeconds; e != nil && (*e < minExpiresIn || *e > maxExpiresIn) {
		writeErrorMeta(w, http.StatusUnprocessableEntity, "form_param_value_invalid", "is invalid",
			"expires_in_seconds is invalid", map[string]any{"param_name": "expires_in_seconds"})
		return
	}
	s.mu.Lock()
	sess, ok := s.sessions[sid]
	custom := s.templates[template]
	user, known := s.users[sess.userID]
	s.mu.Unlock()
	if !ok {
		// Clerk's answer for a session id it does not know.
		writeError(w, http.StatusNotFound, "resource_not_found", "not found", "Resource not found")
		return
	}
	var tok string
	if template == "" {
		tok = s.refreshSessionToken(sess.token, body.ExpiresInSeconds)
	} else {
		var u *User
		if known {
			u = &user
		}
		tok = s.templateToken(sess, u, custom, body.ExpiresInSeconds)
	}
	b, _ := json.Marshal(map[string]string{"object": "token", "jwt": tok})
	writeJSON(w, http.StatusOK, b)
}

// Bounds of expires_in_seconds in Clerk's Backend API.
const (
	minExpiresIn = 30
	maxExpiresIn = 315360000
)

// refreshSessionToken answers POST /v1/sessions/{sid}/tokens as Clerk
// does: the session's own token, with every claim the last minted token
// of the session had (org, plans, features, actor, status, fva, custom
// claims), re-issued now: fresh iat and jti, nbf as far before iat as it
// was, and exp = iat + expiresIn, or the old token's lifetime when that
// was positive, else [DefaultTokenLifetime].
func (s *Server) refreshSessionToken(old string, expiresIn *int64) string {
	claims := tokenClaims(old)
	iat := time.Now().Unix()
	oldIat, hasIat := claims["iat"].(json.Number)
	lifetime := int64(DefaultTokenLifetime / time.Second)
	if exp, ok := claims["exp"].(json.Number); ok && hasIat {
		if d := numberDiff(exp, oldIat); d > 0 {
			lifetime = d
		}
	}
	if expiresIn != nil {
		lifetime = *expiresIn
	}
	if nbf, ok := claims["nbf"].(json.Number); ok && hasIat {
		claims["nbf"] = iat - numberDiff(oldIat, nbf)
	}
	claims["iat"] = iat
	claims["exp"] = iat + lifetime
	claims["jti"] = strings.ToLower(rand.Text()[:20])
	return s.Sign(s.header(CategorySession), claims)
}

// tokenClaims decodes the claims of a token the server minted, numbers
// kept exact.
func tokenClaims(tok string) map[string]any {
	claims := map[string]any{}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&claims)
	return claims
}

// numberDiff returns a - b for two JSON integers (0 when either is not
// one).
func numberDiff(a, b json.Number) int64 {
	x, err1 := a.Int64()
	y, err2 := b.Int64()
	if err1 != nil || err2 != nil {
		return 0
	}
	return x - y
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(body)
}

// writeError writes Clerk's Backend API error shape, with the trace id in
// the body and the Clerk-Trace-Id header.
func writeError(w http.ResponseWriter, code int, errCode, msg, long string) {
	writeErrorMeta(w, code, errCode, msg, long, map[string]any{})
}

// writeErrorMeta is writeError with the error's meta object.
func writeErrorMeta(w http.ResponseWriter, code int, errCode, msg, long string, meta map[string]any) {
	trace := strings.ToLower(rand.Text())
	b, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{
			"code":         errCode,
			"message":      msg,
			"long_message": long,
			"meta":         meta,
		}},
		"clerk_trace_id": trace,
	})
	w.Header().Set("Clerk-Trace-Id", trace)
	writeJSON(w, code, b)
}

// String describes the server without its secret key.
func (s *Server) String() string { return fmt.Sprintf("clerktest.Server(%s)", s.URL) }

// Format prints String for every verb (%#v, %d, %x... included; %q quotes
// it), so that no verb reaches the secret key or the signing keys.
func (s *Server) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	io.WriteString(f, s.String())
}
