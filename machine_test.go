package clerkauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/machinetoken"
	"github.com/clerkauth/clerkauth/internal/reason"
)

const (
	testSecret        = "sk_test_machine_suite"
	testMachineSecret = "ak_machine_secret_1"
)

// machineAPI is a Backend API answering the three machine-token verify
// endpoints with Clerk's shapes.
type machineAPI struct {
	*httptest.Server
	calls      atomic.Int64
	mu         sync.Mutex
	valid      map[string]map[string]any // token -> answer object
	status     int                       // when non-zero, answer every call with it
	delay      time.Duration
	held       chan struct{} // when set, each call waits for it to close
	retryAfter string        // Retry-After of the status answers
	t          *testing.T
}

func newMachineAPI(t *testing.T) *machineAPI {
	api := &machineAPI{t: t, valid: map[string]map[string]any{}}
	api.Server = httptest.NewServer(http.HandlerFunc(api.serve))
	t.Cleanup(api.Close)
	return api
}

func (api *machineAPI) serve(w http.ResponseWriter, r *http.Request) {
	api.calls.Add(1)
	api.mu.Lock()
	status, delay, held := api.status, api.delay, api.held
	api.mu.Unlock()
	// Read the body first: only then does the server notice a client that
	// hangs up (r.Context() is cancelled).
	raw, _ := io.ReadAll(r.Body)
	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	field := map[string]string{
		"/api_keys/verify":                         "secret",
		"/m2m_tokens/verify":                       "token",
		"/oauth_applications/access_tokens/verify": "access_token",
	}[r.URL.Path]
	if r.Method != http.MethodPost || field == "" {
		api.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Header.Get("Clerk-API-Version") == "" || r.Header.Get("Content-Type") != "application/json" {
		api.t.Errorf("missing headers: %v", r.Header)
	}
	wantSecret := testSecret
	if r.URL.Path == "/m2m_tokens/verify" {
		wantSecret = testMachineSecret
	}
	if r.Header.Get("Authorization") != "Bearer "+wantSecret {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"authentication_invalid","message":"Invalid authentication"}],"clerk_trace_id":"t1"}`)
		return
	}
	if status != 0 {
		api.mu.Lock()
		if api.retryAfter != "" {
			w.Header().Set("Retry-After", api.retryAfter)
		}
		api.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, `{"errors":[{"code":"internal_clerk_error","message":"Oops"}]}`)
		return
	}
	var body map[string]string
	if err := json.Unmarshal(raw, &body); err != nil || len(body) != 1 {
		api.t.Errorf("bad body: %v %v", body, err)
	}
	api.mu.Lock()
	ans, ok := api.valid[body[field]]
	api.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":[{"code":"resource_not_found","message":"not found"}],"clerk_trace_id":"t2"}`)
		return
	}
	json.NewEncoder(w).Encode(ans)
}

func (api *machineAPI) add(tok string, ans map[string]any) {
	api.mu.Lock()
	api.valid[tok] = ans
	api.mu.Unlock()
}

// hold makes every call wait until release is closed.
func (api *machineAPI) hold(release chan struct{}) {
	api.mu.Lock()
	api.held = release
	api.mu.Unlock()
}

func (api *machineAPI) set(status int, delay time.Duration) {
	api.mu.Lock()
	api.status, api.delay = status, delay
	api.mu.Unlock()
}

func machineMiddleware(t *testing.T, api *machineAPI, mod func(*Options)) *Middleware {
	o := Options{
		JWTKey:           pemOf(t, &testKey(t, 0).PublicKey),
		SecretKey:        testSecret,
		MachineSecretKey: testMachineSecret,
		APIURL:           api.URL,
		AcceptsToken:     []string{TokenTypeAny},
		Now:              fixedClock(testNow),
		KeyWaitTimeout:   200 * time.Millisecond,
	}
	if mod != nil {
		mod(&o)
	}
	return newMiddleware(t, o)
}

// waitUntil polls cond; the bound is only a hang detector.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// machineWaiters returns how many requests wait for the verify call of tok.
func machineWaiters(m *Middleware, tok string) int {
	return m.c.mach.cache.Waiters(sha256.Sum256([]byte(tok)))
}

func msNow(d time.Duration) int64 { return testNow.Add(d).UnixMilli() }

func TestOpaqueMachineTokens(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_live_good", map[string]any{"object": "api_key", "id": "ak_123", "type": "api_key", "name": "CI key",
		"subject": "user_42", "scopes": []string{"read", "write"}, "claims": map[string]any{"tier": "gold"},
		"revoked": false, "revocation_reason": nil, "expired": false, "expiration": nil, "created_at": msNow(-time.Hour), "updated_at": msNow(-time.Hour)})
	api.add("ak_org", map[string]any{"object": "api_key", "id": "ak_9", "name": "org key", "subject": "org_7",
		"scopes": []string{}, "claims": nil, "revoked": false, "expired": false, "expiration": msNow(time.Hour)})
	api.add("ak_revoked", map[string]any{"object": "api_key", "id": "ak_1", "subject": "user_1", "revoked": true,
		"revocation_reason": "leaked", "expired": false})
	api.add("mt_good", map[string]any{"object": "machine_to_machine_token", "id": "mt_id_1", "subject": "mch_billing",
		"scopes": []string{"mch_reports"}, "claims": nil, "revoked": false, "expired": false, "expiration": msNow(time.Hour)})
	api.add("mt_expired", map[string]any{"object": "machine_to_machine_token", "id": "mt_id_2", "subject": "mch_billing",
		"revoked": false, "expired": false, "expiration": msNow(-time.Minute)})
	api.add("oat_good", map[string]any{"object": "clerk_idp_oauth_access_token", "id": "oat_id_1", "client_id": "client_abc",
		"type": "oauth:access_token", "subject": "user_99", "scopes": []string{"profile", "email"},
		"revoked": false, "expired": false, "expiration": msNow(time.Hour)})
	m := machineMiddleware(t, api, nil)

	cases := []struct {
		tok    string
		kind   string
		reason string
		check  func(t *testing.T, a *Auth)
	}{
		{tok: "ak_live_good", kind: TokenTypeAPIKey, check: func(t *testing.T, a *Auth) {
			if a.UserID != "user_42" || a.Machine.Name != "CI key" || a.Machine.ID != "ak_123" ||
				string(a.Machine.Claims) != `{"tier":"gold"}` || !a.Has(Check{Scope: "write"}) || a.Has(Check{Scope: "admin"}) {
				t.Fatalf("api key auth: %+v %+v", a, a.Machine)
			}
		}},
		{tok: "ak_org", kind: TokenTypeAPIKey, check: func(t *testing.T, a *Auth) {
			if a.OrgID != "org_7" || a.UserID != "" || a.Machine.Claims != nil {
				t.Fatalf("org api key: %+v", a)
			}
		}},
		{tok: "ak_revoked", reason: ReasonTokenInvalid},
		{tok: "ak_unknown", reason: ReasonTokenInvalid},
		{tok: "mt_good", kind: TokenTypeM2M, check: func(t *testing.T, a *Auth) {
			if a.Machine.MachineID != "mch_billing" || a.UserID != "" || !a.Has(Check{Scope: "mch_reports"}) {
				t.Fatalf("m2m: %+v %+v", a, a.Machine)
			}
		}},
		{tok: "mt_expired", reason: ReasonTokenExpired},
		{tok: "oat_good", kind: TokenTypeOAuth, check: func(t *testing.T, a *Auth) {
			if a.UserID != "user_99" || a.Machine.ClientID != "client_abc" || !slices.Equal(a.Machine.Scopes, []string{"profile", "email"}) {
				t.Fatalf("oauth: %+v %+v", a, a.Machine)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.tok, func(t *testing.T) {
			a, err := m.Authenticate(bearer(tc.tok))
			if tc.reason != "" {
				if reasonOf(err) != tc.reason || a.IsSignedIn() || a.Has(Check{Scope: "read"}) {
					t.Fatalf("got %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil || !a.IsSignedIn() || a.TokenType != tc.kind {
				t.Fatalf("got %+v %v", a, err)
			}
			tc.check(t, a)
		})
	}
}

func TestMachineTokenCache(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1", "scopes": []string{"read"}})
	clk := newTestClock()
	clk.nanos.Store(testNow.UnixNano())
	m := machineMiddleware(t, api, func(o *Options) { o.MachineTokenCacheTTL = 100 * time.Millisecond; o.Now = clk.Now })

	for range 5 {
		if _, err := m.Authenticate(bearer("ak_good")); err != nil {
			t.Fatal(err)
		}
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("5 requests with one API key made %d Backend API calls, want 1", n)
	}
	// Negative answers are cached too: a flood of one bad key costs one call.
	for range 5 {
		m.Authenticate(bearer("ak_bad"))
	}
	if n := api.calls.Load(); n != 2 {
		t.Fatalf("5 requests with an unknown key made %d calls in all, want 2", n)
	}
	// Concurrent requests with a new token share one call: the API holds
	// the call until all 20 requests wait for it.
	release := make(chan struct{})
	api.hold(release)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Authenticate(bearer("ak_fresh"))
		}()
	}
	waitUntil(t, "20 waiters", func() bool { return machineWaiters(m, "ak_fresh") == 20 })
	close(release)
	wg.Wait()
	if n := api.calls.Load(); n != 3 {
		t.Fatalf("20 concurrent requests with one new token: %d calls in all, want 3", n)
	}
	// After the TTL the answer is asked for again: a revocation is seen.
	clk.Advance(100 * time.Millisecond)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1", "revoked": true})
	if _, err := m.Authenticate(bearer("ak_good")); reasonOf(err) != ReasonTokenInvalid {
		t.Fatalf("revoked key after TTL: %v", err)
	}

	// Turned off: every request asks.
	m2 := machineMiddleware(t, api, func(o *Options) { o.MachineTokenCacheTTL = -1 })
	before := api.calls.Load()
	m2.Authenticate(bearer("ak_x"))
	m2.Authenticate(bearer("ak_x"))
	if n := api.calls.Load() - before; n != 2 {
		t.Fatalf("cache off: %d calls, want 2", n)
	}
}

func TestMachineBackendFailures(t *testing.T) {
	cases := []struct {
		name   string
		status int
		delay  time.Duration
		opts   func(*Options)
		code   int
		reason string
		kind   error
	}{
		{name: "500", status: 500, code: 503, reason: ReasonBackendAPIUnavailable, kind: ErrBackendUnavailable},
		{name: "slow", delay: time.Hour, code: 503, reason: ReasonBackendAPIUnavailable, kind: ErrBackendUnavailable,
			opts: func(o *Options) { o.KeyWaitTimeout = 50 * time.Millisecond }},
		{name: "bad_secret", opts: func(o *Options) { o.SecretKey = "sk_test_wrong" }, code: 503, reason: ReasonSecretKeyInvalid, kind: ErrKeysUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newMachineAPI(t)
			api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
			api.set(tc.status, tc.delay)
			m := machineMiddleware(t, api, tc.opts)
			var got error
			h := m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler ran") }))
			m.c.cfg.errorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
				got = err
				DefaultErrorHandler(w, r, err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, bearer("ak_good_"+tc.name))
			if rec.Code != tc.code || rec.Header().Get("X-Clerk-Auth-Reason") != tc.reason || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("got %d %q, want %d %s", rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"), tc.code, tc.reason)
			}
			if !errors.Is(got, tc.kind) {
				t.Fatalf("error kind: %v", got)
			}
			if strings.Contains(rec.Body.String(), "ak_good") {
				t.Fatal("response echoes the token")
			}
		})
	}
}

// machineJWT signs a JWT-format machine token with the instance key.
func machineJWT(t *testing.T, header, claims map[string]any) string {
	h := map[string]any{"alg": "RS256", "kid": "ins_1", "typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	c := map[string]any{"iat": testNow.Unix() - 5, "exp": testNow.Unix() + 3600, "iss": testIssuer}
	for k, v := range claims {
		c[k] = v
	}
	return signRS256(t, testKey(t, 0), mustJSON(t, h), mustJSON(t, c))
}

func TestJWTMachineTokens(t *testing.T) {
	api := newMachineAPI(t)
	m := machineMiddleware(t, api, nil)
	m2m := machineJWT(t, map[string]any{"cat": catM2MToken}, map[string]any{"sub": "mch_worker", "jti": "mt_j1",
		"scopes": "mch_a mch_b", "region": "eu"})
	m2mNoCat := machineJWT(t, nil, map[string]any{"sub": "mch_worker2", "jti": "mt_j2", "aud": []string{"mch_c"}})
	oauth := machineJWT(t, map[string]any{"typ": "at+jwt"}, map[string]any{"sub": "user_5", "jti": "oat_j1",
		"client_id": "cli_1", "scope": "profile email"})
	expired := machineJWT(t, map[string]any{"typ": "application/at+jwt"}, map[string]any{"sub": "user_5", "exp": testNow.Unix() - 60})
	forged := signRS256(t, testKey(t, 1), []byte(`{"alg":"RS256","typ":"at+jwt"}`), []byte(`{"sub":"user_5","exp":9999999999}`))

	a, err := m.Authenticate(bearer(m2m))
	if err != nil || a.TokenType != TokenTypeM2M || a.Machine.MachineID != "mch_worker" || a.Machine.ID != "mt_j1" ||
		!a.Has(Check{Scope: "mch_b"}) || string(a.Machine.Claims) != `{"region":"eu","scopes":"mch_a mch_b"}` {
		t.Fatalf("m2m jwt: %+v %+v %v", a, a.Machine, err)
	}
	a, err = m.Authenticate(bearer(m2mNoCat))
	if err != nil || a.TokenType != TokenTypeM2M || !a.Has(Check{Scope: "mch_c"}) {
		t.Fatalf("m2m jwt without cat: %+v %v", a, err)
	}
	a, err = m.Authenticate(bearer(oauth))
	if err != nil || a.TokenType != TokenTypeOAuth || a.UserID != "user_5" || a.Machine.ClientID != "cli_1" ||
		!a.Has(Check{Scope: "email"}) {
		t.Fatalf("oauth jwt: %+v %v", a, err)
	}
	// Clerk's reason for a machine JWT's time failures is token-verification-failed.
	if _, err := m.Authenticate(bearer(expired)); reasonOf(err) != ReasonTokenVerificationFailed || !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired oauth jwt: %v", err)
	}
	if _, err := m.Authenticate(bearer(forged)); reasonOf(err) != ReasonTokenInvalidSignature {
		t.Fatalf("forged oauth jwt: %v", err)
	}
	if api.calls.Load() != 0 {
		t.Fatal("JWT-format machine tokens must be verified locally")
	}
}

func TestTokenTypeNarrowing(t *testing.T) {
	api := newMachineAPI(t)
	api.add("mt_ok", map[string]any{"id": "mt_1", "subject": "mch_1", "scopes": []string{}})
	api.add("ak_ok", map[string]any{"id": "ak_1", "subject": "user_1"})
	sessionOnly := machineMiddleware(t, api, func(o *Options) { o.AcceptsToken = nil }) // the default
	all := machineMiddleware(t, api, nil)
	m2mOnly := all.AcceptsToken(TokenTypeM2M)
	session := makeToken(t, testNow, tokenSpec{})
	m2mJWT := machineJWT(t, map[string]any{"cat": catM2MToken}, map[string]any{"sub": "mch_worker"})
	uat := &http.Cookie{Name: "__client_uat", Value: "1"}

	cases := []struct {
		name   string
		mw     *Middleware
		req    *http.Request
		reason string
	}{
		{"session on default", sessionOnly, bearer(session), ""},
		{"api key on default", sessionOnly, bearer("ak_ok"), reason.TokenInvalid}, // Clerk: not a JWT
		{"m2m jwt on default", sessionOnly, bearer(m2mJWT), ReasonTokenTypeMismatch},
		{"m2m on m2m route", m2mOnly, bearer("mt_ok"), ""},
		{"m2m jwt on m2m route", m2mOnly, bearer(m2mJWT), ""},
		{"session on m2m route", m2mOnly, bearer(session), ReasonTokenTypeMismatch},
		{"api key on m2m route", m2mOnly, bearer("ak_ok"), ReasonTokenTypeMismatch},
		{"cookie on m2m route", m2mOnly, cookieRequest(&http.Cookie{Name: "__session", Value: session}, uat), reason.NoTokenInHeader},
		{"nothing on m2m route", m2mOnly, httptest.NewRequest("GET", "/", nil), reason.NoTokenInHeader},
		{"bearer alone on m2m route", m2mOnly, bearer(""), reason.TokenTypeMismatch},
		{"cookie on a route for two machine types", all.AcceptsToken(TokenTypeM2M, TokenTypeAPIKey),
			cookieRequest(&http.Cookie{Name: "__session", Value: session}, uat), reason.TokenTypeMismatch},
		{"machine token in cookie", all, cookieRequest(&http.Cookie{Name: "__session", Value: "ak_ok"}, uat), ReasonTokenInvalid},
		{"m2m jwt in cookie", all, cookieRequest(&http.Cookie{Name: "__session", Value: m2mJWT}, uat), ReasonTokenTypeMismatch},
		{"any accepts session", all, bearer(session), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.mw.Authenticate(tc.req)
			if reasonOf(err) != tc.reason || (tc.reason == "") != a.IsSignedIn() {
				t.Fatalf("got %v (signed in %v), want %q", err, a.IsSignedIn(), tc.reason)
			}
		})
	}

	// An outer Handler accepting everything, an inner route for machines
	// only: the inner route decides for itself.
	var got *Auth
	inner := m2mOnly.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = GetAuth(r) }))
	rec := httptest.NewRecorder()
	all.Handler(inner).ServeHTTP(rec, bearer(session))
	if rec.Code != 401 || rec.Header().Get("X-Clerk-Auth-Reason") != ReasonTokenTypeMismatch {
		t.Fatalf("session token through an outer any-Handler to an m2m route: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	sessionOnly.Handler(inner).ServeHTTP(rec, bearer("mt_ok"))
	if rec.Code != 200 || got == nil || got.TokenType != TokenTypeM2M {
		t.Fatalf("m2m token through an outer session-only Handler to an m2m route: %d", rec.Code)
	}
}

func TestAcceptsTokenValidation(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "")
	t.Setenv("CLERK_MACHINE_SECRET_KEY", "")
	pemKey := pemOf(t, &testKey(t, 0).PublicKey)
	if _, err := New(Options{JWTKey: pemKey, AcceptsToken: []string{"m2m"}}); err == nil {
		t.Fatal("unknown token type accepted")
	}
	if _, err := New(Options{JWTKey: pemKey, AcceptsToken: []string{TokenTypeAPIKey}}); err == nil ||
		!strings.Contains(err.Error(), "CLERK_SECRET_KEY") {
		t.Fatalf("API keys without a secret key: %v", err)
	}
	m, err := New(Options{JWTKey: pemKey, MachineSecretKey: "ak_x", AcceptsToken: []string{TokenTypeM2M}, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("M2M with a machine secret only: %v", err)
	}
	m.Close()
}

func TestMachineErrorsKeepTokenOut(t *testing.T) {
	api := newMachineAPI(t)
	api.set(500, 0)
	m := machineMiddleware(t, api, nil)
	_, err := m.Authenticate(bearer("ak_supersecret_value"))
	if err == nil || strings.Contains(err.Error(), "ak_supersecret_value") || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error leaks: %v", err)
	}
	if !errors.Is(err, ErrBackendUnavailable) || errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Backend API down must be ErrBackendUnavailable (503), not keys-unavailable: %v", err)
	}
}

// randomAPIKey returns a fresh random ak_ token of Clerk's shape.
func randomAPIKey() string { return "ak_" + rand.Text() + rand.Text() }

// TestMachineTokenShape: a token that cannot be one of Clerk's opaque
// tokens is token-invalid without a Backend API call.
func TestMachineTokenShape(t *testing.T) {
	api := newMachineAPI(t)
	m := machineMiddleware(t, api, nil)
	for _, tok := range []string{
		"ak_" + strings.Repeat("a", 20<<10), // 20 KiB
		"ak_" + strings.Repeat("a", 1<<10),  // just over 1 KiB
		"ak_a.b", "ak_a\x00b", "ak_é", "mt_a%20b", "oat_a,b", "ak_\"x\"", "ak_a\\b",
	} {
		a, err := m.Authenticate(bearer(tok))
		if reasonOf(err) != ReasonTokenInvalid || !errors.Is(err, ErrTokenInvalid) || a.IsSignedIn() {
			t.Errorf("%.20q: %v", tok, err)
		}
	}
	if n := api.calls.Load(); n != 0 {
		t.Fatalf("%d Backend API calls for tokens of the wrong shape, want 0", n)
	}
	// Clerk's own fixtures: base64 with / + and =, up to 1 KiB, are asked about.
	for _, tok := range []string{"ak_abc/DEF+ghi=", "ak_" + strings.Repeat("a", 1<<10-3)} {
		m.Authenticate(bearer(tok))
	}
	if n := api.calls.Load(); n != 2 {
		t.Fatalf("%d calls for 2 well-shaped tokens, want 2", n)
	}
}

// countingTransport counts the Backend API round trips in flight and the
// connections open, and records the peaks.
type countingTransport struct {
	base              *http.Transport
	inFlight, conns   atomic.Int64
	peakCalls, peakCn atomic.Int64
}

func newCountingTransport() *countingTransport {
	ct := &countingTransport{}
	d := &net.Dialer{}
	ct.base = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		raisePeak(&ct.peakCn, ct.conns.Add(1))
		return &countedConn{Conn: c, n: &ct.conns}, nil
	}}
	return ct
}

func raisePeak(peak *atomic.Int64, v int64) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	raisePeak(&ct.peakCalls, ct.inFlight.Add(1))
	defer ct.inFlight.Add(-1)
	return ct.base.RoundTrip(r)
}

type countedConn struct {
	net.Conn
	n    *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.n.Add(-1) })
	return c.Conn.Close()
}

// TestMachineFlood is issue 11's first measurement: 2,000 distinct random
// API keys against a Backend API that answers in 5 s, from clients that
// hang up after 50 ms. Calls and connections to the Backend API stay
// within the bound, every request is answered (503) or abandoned by its
// client, and once the clients are gone the calls are cancelled: the
// goroutines come back to where they were.
func TestMachineFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 requests")
	}
	api := newMachineAPI(t)
	release := make(chan struct{})
	api.hold(release) // "5 s": until the client leaves, or the test ends
	t.Cleanup(func() { close(release) })
	ct := newCountingTransport()
	t.Cleanup(ct.base.CloseIdleConnections)
	const bound = 32
	m := machineMiddleware(t, api, func(o *Options) {
		o.HTTPClient = &http.Client{Transport: ct}
		o.KeyWaitTimeout = 5 * time.Second // the call limit is 10 s: the clients leave first
	})
	front := httptest.NewServer(m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a random key was signed in")
	})))
	t.Cleanup(front.Close)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	runtime.GC()
	before := runtime.NumGoroutine()
	var answered503, abandoned, other atomic.Int64
	tokens := make(chan string)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tok := range tokens {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				switch {
				case err != nil:
					abandoned.Add(1)
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					answered503.Add(1)
				default:
					other.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
				cancel()
			}
		}()
	}
	for range 2000 {
		tokens <- randomAPIKey()
	}
	close(tokens)
	wg.Wait()
	client.CloseIdleConnections()

	// How many are answered before their client leaves depends on the
	// machine's speed; that none is answered otherwise does not (the
	// immediate 503 itself is TestMachineBoundFull's).
	if other.Load() != 0 || answered503.Load()+abandoned.Load() != 2000 {
		t.Fatalf("503 %d, abandoned %d, other %d; calls %d, peak calls %d", answered503.Load(), abandoned.Load(), other.Load(), api.calls.Load(), ct.peakCalls.Load())
	}
	if p := ct.peakCalls.Load(); p > bound {
		t.Fatalf("%d Backend API calls in flight at the peak, bound %d", p, bound)
	}
	if p := ct.peakCn.Load(); p > bound+8 { // + connections closing, idle ones
		t.Fatalf("%d Backend API connections open at the peak, bound %d", p, bound)
	}
	// The clients are gone: every call is cancelled and its goroutine
	// ends, without waiting for the Backend API's answer.
	waitUntil(t, "the verify calls to end", func() bool { return m.c.mach.cache.InFlight() == 0 })
	ct.base.CloseIdleConnections()
	waitUntil(t, "goroutines back to the start", func() bool { return runtime.NumGoroutine() <= before+10 })
	if n := ct.conns.Load(); n > 4 {
		t.Fatalf("%d Backend API connections still open", n)
	}
	t.Logf("503 at once: %d, abandoned by the client: %d, Backend API calls: %d, peak calls %d, peak connections %d, goroutines %d -> %d",
		answered503.Load(), abandoned.Load(), api.calls.Load(), ct.peakCalls.Load(), ct.peakCn.Load(), before, runtime.NumGoroutine())
}

// TestMachineBoundFull: with the bound reached, a request with a new
// token gets 503 with Retry-After at once, and no call; a request with a
// token already in flight joins that call.
func TestMachineBoundFull(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_one", map[string]any{"id": "ak_1", "subject": "user_1"})
	release := make(chan struct{})
	api.hold(release)
	m := machineMiddleware(t, api, func(o *Options) { o.MaxMachineVerifyCalls = 2 })
	var wg sync.WaitGroup
	for _, tok := range []string{"ak_one", "ak_two"} {
		wg.Add(1)
		go func() { defer wg.Done(); m.Authenticate(bearer(tok)) }()
	}
	waitUntil(t, "2 calls", func() bool { return api.calls.Load() == 2 })
	rec := httptest.NewRecorder()
	m.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran") })).ServeHTTP(rec, bearer("ak_three"))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || rec.Header().Get("X-Clerk-Auth-Reason") != ReasonBackendAPIUnavailable {
		t.Fatalf("bound full: %d %v", rec.Code, rec.Header())
	}
	joined := make(chan *Auth)
	go func() { a, _ := m.Authenticate(bearer("ak_one")); joined <- a }()
	waitUntil(t, "the join", func() bool { return machineWaiters(m, "ak_one") == 2 })
	close(release)
	if a := <-joined; !a.IsSignedIn() {
		t.Fatal("joining request not signed in")
	}
	wg.Wait()
	if n := api.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
}

// TestMachineCallCancelled: a verify call whose only request is gone is
// cancelled (the Backend API sees its request end); one of two waiters
// leaving does not cancel it.
func TestMachineCallCancelled(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_k", map[string]any{"id": "ak_1", "subject": "user_1"})
	var ended atomic.Int64
	release := make(chan struct{})
	inner := api.Server.Config.Handler
	api.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		if r.Context().Err() != nil {
			ended.Add(1)
		}
	})
	api.hold(release)
	m := machineMiddleware(t, api, func(o *Options) { o.KeyWaitTimeout = time.Hour })
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	for _, ctx := range []context.Context{ctx1, ctx2} {
		go func() { _, err := m.AuthenticateToken(ctx, "ak_k"); errs <- err }()
	}
	waitUntil(t, "2 waiters", func() bool { return machineWaiters(m, "ak_k") == 2 })
	// The call must have reached the Backend API before the waiters leave,
	// or there is nothing for it to see cancelled.
	waitUntil(t, "the call to reach the Backend API", func() bool { return api.calls.Load() == 1 })
	cancel1()
	if err := <-errs; !errors.Is(err, ErrBackendUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("request that left: %v", err)
	}
	if m.c.mach.cache.InFlight() != 1 || ended.Load() != 0 {
		t.Fatal("one waiter leaving cancelled the call")
	}
	cancel2()
	<-errs
	waitUntil(t, "the Backend API to see the call cancelled", func() bool { return ended.Load() == 1 })
	waitUntil(t, "the call to end", func() bool { return m.c.mach.cache.InFlight() == 0 })
	close(release)
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

// TestMachineBreaker: while Clerk answers 429, 20 requests cost 1 call
// (no retry; the breaker answers the rest at once); cached verdicts are
// still served; the breaker honours Retry-After up to 30 s.
func TestMachineBreaker(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_cached", map[string]any{"id": "ak_1", "subject": "user_1"})
	clk := newTestClock()
	clk.nanos.Store(testNow.UnixNano())
	m := machineMiddleware(t, api, func(o *Options) { o.Now = clk.Now; o.MachineTokenCacheTTL = time.Hour })
	if _, err := m.Authenticate(bearer("ak_cached")); err != nil {
		t.Fatal(err)
	}
	api.calls.Store(0)
	for _, retryAfter := range []struct {
		header string
		open   time.Duration
	}{{"2", 2 * time.Second}, {"", breakerDefault}, {"3600", 30 * time.Second}} {
		api.set(http.StatusTooManyRequests, 0)
		api.retryAfter = retryAfter.header
		h := m.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		for i := range 20 {
			tok := randomAPIKey()
			if i%2 == 1 {
				tok = "ak_same"
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, bearer(tok))
			if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("request %d: %d", i, rec.Code)
			}
		}
		if n := api.calls.Load(); n != 1 {
			t.Fatalf("Retry-After %q: 20 requests while Clerk answers 429 made %d calls, want 1", retryAfter.header, n)
		}
		if a, err := m.Authenticate(bearer("ak_cached")); err != nil || !a.IsSignedIn() {
			t.Fatalf("cached verdict not served while the breaker is open: %v", err)
		}
		clk.Advance(retryAfter.open - time.Millisecond)
		m.Authenticate(bearer(randomAPIKey()))
		if n := api.calls.Load(); n != 1 {
			t.Fatal("breaker closed early")
		}
		api.set(0, 0)
		clk.Advance(time.Millisecond)
		m.Authenticate(bearer(randomAPIKey()))
		if n := api.calls.Load(); n != 2 {
			t.Fatalf("breaker still open after %v: %d calls", retryAfter.open, n)
		}
		api.calls.Store(0)
	}
}

// TestMachineLazyUnderHandler: under Handler, a request whose handler
// never reads its Auth costs no Backend API call; one that reads it costs
// one, also with RequireAuth inside and the cache off.
func TestMachineLazyUnderHandler(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	m := machineMiddleware(t, api, func(o *Options) { o.MachineTokenCacheTTL = -1 }) // cache off
	mux := http.NewServeMux()
	mux.HandleFunc("/api/public", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	var got *Auth
	mux.Handle("/api/private", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = GetAuth(r)
		if a, ok := FromContext(r.Context()); !ok || a != got {
			t.Error("FromContext differs from GetAuth")
		}
	})))
	mux.HandleFunc("/api/whoami", func(w http.ResponseWriter, r *http.Request) { got = GetAuth(r) })
	h := m.Handler(m.Handler(mux)) // twice: the inner one reuses the outer one's lazy Auth

	for range 1000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, bearerTo("/api/public", randomAPIKey()))
		if rec.Code != 200 {
			t.Fatal(rec.Code)
		}
	}
	for range 100 {
		h.ServeHTTP(httptest.NewRecorder(), bearerTo("/nowhere", randomAPIKey()))
	}
	if n := api.calls.Load(); n != 0 {
		t.Fatalf("1,000 random keys on a public route and 100 on a 404 cost %d calls, want 0", n)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, bearerTo("/api/private", "ak_good"))
	if rec.Code != 200 || got == nil || got.UserID != "user_1" || got.TokenType != TokenTypeAPIKey {
		t.Fatalf("private route: %d %v", rec.Code, got)
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("Handler + RequireAuth with the cache off: %d calls, want 1", n)
	}
	h.ServeHTTP(httptest.NewRecorder(), bearerTo("/api/whoami", "ak_good"))
	if n := api.calls.Load(); n != 2 || !got.IsSignedIn() {
		t.Fatalf("GetAuth under Handler: %d calls, want 2", n)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, bearerTo("/api/private", randomAPIKey()))
	if rec.Code != 401 || rec.Header().Get("X-Clerk-Auth-Reason") != ReasonTokenInvalid {
		t.Fatalf("unknown key on a private route: %d", rec.Code)
	}
	// The lazy context prints no token.
	r := bearerTo("/", "ak_printme")
	var ctx context.Context
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ctx = r.Context() })).ServeHTTP(httptest.NewRecorder(), r)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, ctx); strings.Contains(s, "ak_printme") {
			t.Fatalf("%s of the context prints the token: %s", f, s)
		}
	}
}

func bearerTo(path, tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// TestGetTokenOnMachineAuth: GetToken with a template on a machine Auth
// says it is not a session, and makes no call.
func TestGetTokenOnMachineAuth(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	m := machineMiddleware(t, api, nil)
	a, err := m.Authenticate(bearer("ak_good"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.GetToken(context.Background(), WithTemplate("supabase"))
	if err == nil || errors.Is(err, ErrNoSecretKey) || !strings.Contains(err.Error(), "not a session") {
		t.Fatalf("GetToken on a machine Auth: %v", err)
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d calls", n)
	}
}

// TestMachineErrorRedactsToken: a Backend API error that echoes the token
// (raw or JSON-escaped) does not carry it into the Auth's error.
func TestMachineErrorRedactsToken(t *testing.T) {
	const tok = "ak_echo/me+please=="
	for _, status := range []int{http.StatusInternalServerError, http.StatusUnauthorized} {
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Clerk-Trace-Id", "trace-"+tok)
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"errors":[{"code":"x","message":%q,"long_message":"api key %s is \u0061 %s","meta":{"t":"ak_echo\/me\u002bplease\u003d\u003d"}}],"clerk_trace_id":"%s"}`,
				tok, tok, strings.ReplaceAll(tok, "/", `\/`), tok)
		}))
		m := newMiddleware(t, Options{JWTKey: pemOf(t, &testKey(t, 0).PublicKey), SecretKey: testSecret,
			APIURL: front.URL, AcceptsToken: []string{TokenTypeAny}, Now: fixedClock(testNow)})
		_, err := m.Authenticate(bearer(tok))
		var apiErr *APIError
		if err == nil || !errors.As(err, &apiErr) {
			t.Fatalf("status %d: %v", status, err)
		}
		text := fmt.Sprintf("%v %+v %#v", err, apiErr, apiErr.Errors)
		if strings.Contains(text, "echo") || strings.Contains(text, testSecret) {
			t.Fatalf("status %d: error carries the token: %s", status, text)
		}
		front.Close()
	}
}

// TestM2MJWTCategory: a JWT with an mch_ subject is an M2M token only if
// its cat is the M2M one or absent; any other cat is token-invalid
// (Clerk: jwt/verifyMachineJwt.ts). On a session-only route it is not a
// session token either: token-type-mismatch.
func TestM2MJWTCategory(t *testing.T) {
	api := newMachineAPI(t)
	all := machineMiddleware(t, api, nil)
	sessionOnly := all.AcceptsToken(TokenTypeSession)
	cases := []struct {
		cat        any // nil: absent
		reason     string
		sessionWas string
	}{
		{nil, "", ReasonTokenTypeMismatch},
		{catM2MToken, "", ReasonTokenTypeMismatch},
		{catSessionToken, ReasonTokenInvalid, ReasonTokenTypeMismatch},
		{catIgnore, ReasonTokenInvalid, ReasonTokenTypeMismatch},
		{catJWTTemplate, ReasonTokenInvalid, ReasonTokenTypeMismatch},
		{"cl_unknown", ReasonTokenInvalid, ReasonTokenTypeMismatch},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.cat), func(t *testing.T) {
			h := map[string]any{}
			if tc.cat != nil {
				h["cat"] = tc.cat
			}
			tok := machineJWT(t, h, map[string]any{"sub": "mch_worker", "jti": "mt_x"})
			a, err := all.Authenticate(bearer(tok))
			if reasonOf(err) != tc.reason || (tc.reason == "") != a.IsSignedIn() {
				t.Fatalf("cat %v: %v", tc.cat, err)
			}
			if tc.reason == "" && a.TokenType != TokenTypeM2M {
				t.Fatalf("cat %v: type %q", tc.cat, a.TokenType)
			}
			if _, err := sessionOnly.Authenticate(bearer(tok)); reasonOf(err) != tc.sessionWas {
				t.Fatalf("cat %v on a session route: %v", tc.cat, err)
			}
		})
	}
	// A session token with a session cat and a user subject is unaffected.
	if _, err := all.Authenticate(bearer(makeToken(t, testNow, tokenSpec{}))); err != nil {
		t.Fatal(err)
	}
}

// TestMachineJWTRouting: a JWT is routed as Clerk's verifyMachineAuthToken
// routes it, by its subject first: an mch_ subject is an M2M token whatever
// its typ, refused unless its cat is the M2M one (or absent) and its typ JWT
// (or absent); a typ at+jwt with another subject is OAuth; the M2M cat with
// another subject is neither a machine nor a session token. Through
// RequireAuth (status and X-Clerk-Auth-Reason), on a route accepting any
// token and on a session-only route.
func TestMachineJWTRouting(t *testing.T) {
	api := newMachineAPI(t)
	all := machineMiddleware(t, api, nil)
	sessionOnly := all.AcceptsToken(TokenTypeSession)
	cases := []struct {
		name      string
		header    map[string]any
		claims    string // raw JSON members added to the claims
		wantType  string // signed in as this type on the any route, or ""
		reason    string // else this reason
		onSession string // reason on the session-only route
	}{
		{"mch at+jwt", map[string]any{"typ": "at+jwt"}, `"sub":"mch_w"`, "", ReasonTokenVerificationFailed, ReasonTokenTypeMismatch},
		{"mch application/at+jwt m2m cat", map[string]any{"typ": "application/at+jwt", "cat": catM2MToken}, `"sub":"mch_w"`, "", ReasonTokenVerificationFailed, ReasonTokenTypeMismatch},
		{"mch at+jwt session cat", map[string]any{"typ": "at+jwt", "cat": catSessionToken}, `"sub":"mch_w"`, "", ReasonTokenInvalid, ReasonTokenTypeMismatch},
		{"mch at+jwt template cat", map[string]any{"typ": "at+jwt", "cat": catJWTTemplate}, `"sub":"mch_w"`, "", ReasonTokenInvalid, ReasonTokenTypeMismatch},
		{"mch typ jwt lower case", map[string]any{"typ": "jwt"}, `"sub":"mch_w"`, "", ReasonTokenVerificationFailed, ReasonTokenTypeMismatch},
		{"mch typ JWT m2m cat", map[string]any{"cat": catM2MToken}, `"sub":"mch_w"`, TokenTypeM2M, "", ReasonTokenTypeMismatch},
		{"m2m cat user sub", map[string]any{"cat": catM2MToken}, `"sub":"user_1"`, "", ReasonTokenTypeMismatch, ReasonTokenTypeMismatch},
		{"m2m cat user sub no typ", map[string]any{"cat": catM2MToken, "typ": nil}, `"sub":"user_1"`, "", ReasonTokenTypeMismatch, ReasonTokenTypeMismatch},
		{"m2m cat user sub at+jwt", map[string]any{"cat": catM2MToken, "typ": "at+jwt"}, `"sub":"user_1"`, TokenTypeOAuth, "", ReasonTokenTypeMismatch},
		{"user at+jwt", map[string]any{"typ": "at+jwt"}, `"sub":"user_1"`, TokenTypeOAuth, "", ReasonTokenTypeMismatch},
		// Names are case-sensitive: SUB is not the subject.
		{"SUB mch at+jwt", map[string]any{"typ": "at+jwt"}, `"SUB":"mch_w","sub":"user_1"`, TokenTypeOAuth, "", ReasonTokenTypeMismatch},
		{"sub not a string at+jwt", map[string]any{"typ": "at+jwt"}, `"sub":5`, "", ReasonTokenVerificationFailed, ReasonTokenTypeMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]any{"alg": "RS256", "kid": "ins_1", "typ": "JWT"}
			for k, v := range tc.header {
				if v == nil {
					delete(h, k)
				} else {
					h[k] = v
				}
			}
			payload := fmt.Sprintf(`{%s,"jti":"mt_x","iat":%d,"exp":%d,"iss":%q}`, tc.claims, testNow.Unix()-5, testNow.Unix()+3600, testIssuer)
			tok := signRS256(t, testKey(t, 0), mustJSON(t, h), []byte(payload))
			serve := func(m *Middleware) (*Auth, *httptest.ResponseRecorder) {
				var got *Auth
				rec := httptest.NewRecorder()
				m.RequireAuth(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = GetAuth(r) })).
					ServeHTTP(rec, bearerTo("/api", tok))
				return got, rec
			}
			a, rec := serve(all)
			if tc.wantType != "" {
				if a == nil || a.TokenType != tc.wantType {
					t.Fatalf("any route: %d %q, want signed in as %s", rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"), tc.wantType)
				}
			} else if a != nil || rec.Code != http.StatusUnauthorized || rec.Header().Get("X-Clerk-Auth-Reason") != tc.reason {
				t.Fatalf("any route: %d %q (signed in: %v), want 401 %q", rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"), a != nil, tc.reason)
			}
			if a, rec := serve(sessionOnly); a != nil || rec.Header().Get("X-Clerk-Auth-Reason") != tc.onSession {
				t.Fatalf("session route: %d %q, want 401 %q", rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"), tc.onSession)
			}
		})
	}
	// Forged machine JWTs: a signature failure where the type is accepted,
	// a type mismatch where it is not (decided before verifying, as Clerk).
	for _, f := range []struct{ name, header, payload string }{
		{"oauth", `{"alg":"RS256","kid":"ins_1","typ":"at+jwt"}`, `{"sub":"user_1","exp":9999999999}`},
		{"m2m", `{"alg":"RS256","kid":"ins_1"}`, `{"sub":"mch_w","exp":9999999999}`},
	} {
		tok := signRS256(t, testKey(t, 1), []byte(f.header), []byte(f.payload))
		if _, err := all.Authenticate(bearer(tok)); reasonOf(err) != ReasonTokenInvalidSignature {
			t.Errorf("forged %s, any route: %v", f.name, err)
		}
		if _, err := sessionOnly.Authenticate(bearer(tok)); reasonOf(err) != ReasonTokenTypeMismatch {
			t.Errorf("forged %s, session route: %v", f.name, err)
		}
	}
	if api.calls.Load() != 0 {
		t.Fatal("JWT-format machine tokens must be verified locally")
	}
}

// TestMachineKindsAreTokenTypes: internal/machinetoken names the kinds as
// the exported TokenType constants do.
func TestMachineKindsAreTokenTypes(t *testing.T) {
	if machinetoken.APIKey != TokenTypeAPIKey || machinetoken.M2M != TokenTypeM2M || machinetoken.OAuth != TokenTypeOAuth {
		t.Fatal("internal/machinetoken's kinds differ from the TokenType constants")
	}
}

// TestMachineFieldsAsClerk: a machine token's subject goes where Clerk's
// authenticatedMachineObject puts it (an API key's to UserID or OrgID by
// prefix, an M2M token's always to MachineID, an OAuth token's always to
// UserID); a client id only for OAuth tokens; scopes read case-sensitively
// as Clerk reads them (issue 17's measured cases).
func TestMachineFieldsAsClerk(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_org", map[string]any{"object": "api_key", "id": "ak_1", "subject": "org_1", "client_id": "c"})
	api.add("ak_mch", map[string]any{"object": "api_key", "id": "ak_2", "subject": "mch_1"})
	api.add("mt_user", map[string]any{"object": "machine_to_machine_token", "id": "mt_1", "subject": "user_1", "client_id": "c"})
	api.add("oat_org", map[string]any{"object": "oauth_access_token", "id": "oat_1", "subject": "org_1", "client_id": "c"})
	m := machineMiddleware(t, api, nil)
	type want struct{ userID, orgID, machineID, clientID, scopes string }
	for _, tc := range []struct {
		name, tok string
		want      want
	}{
		{"API key of an org", "ak_org", want{orgID: "org_1"}},
		{"API key with a machine subject", "ak_mch", want{}},
		{"opaque M2M with a user subject", "mt_user", want{machineID: "user_1"}},
		{"opaque OAuth with an org subject", "oat_org", want{userID: "org_1", clientID: "c"}},
		{"M2M JWT: aud, not scope", machineJWT(t, nil, map[string]any{"sub": "mch_1", "aud": []string{"mch_reports"}, "scope": "mch_admin", "client_id": "c"}),
			want{machineID: "mch_1", scopes: "mch_reports"}},
		{"M2M JWT: aud, not Scopes", machineJWT(t, nil, map[string]any{"sub": "mch_1", "aud": []string{"mch_reports"}, "Scopes": "mch_admin"}),
			want{machineID: "mch_1", scopes: "mch_reports"}},
		{"M2M JWT: aud a string", machineJWT(t, nil, map[string]any{"sub": "mch_1", "aud": "mch_reports"}),
			want{machineID: "mch_1", scopes: "mch_reports"}},
		{"M2M JWT: scopes split at each space", machineJWT(t, nil, map[string]any{"sub": "mch_1", "scopes": "a "}),
			want{machineID: "mch_1", scopes: "a,"}},
		{"OAuth JWT: scp, not scopes", machineJWT(t, map[string]any{"typ": "at+jwt"}, map[string]any{"sub": "user_1", "scp": []string{"read"}, "scopes": "read admin"}),
			want{userID: "user_1", scopes: "read"}},
		{"OAuth JWT: scp, not Scope", machineJWT(t, map[string]any{"typ": "at+jwt"}, map[string]any{"sub": "user_1", "scp": []string{"read"}, "Scope": "read admin"}),
			want{userID: "user_1", scopes: "read"}},
		{"OAuth JWT: an org subject", machineJWT(t, map[string]any{"typ": "at+jwt"}, map[string]any{"sub": "org_1", "scope": "read", "client_id": "c"}),
			want{userID: "org_1", clientID: "c", scopes: "read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := m.Authenticate(bearer(tc.tok))
			if err != nil {
				t.Fatal(err)
			}
			got := want{a.UserID, a.OrgID, a.Machine.MachineID, a.Machine.ClientID, strings.Join(a.Machine.Scopes, ",")}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			if tc.want.scopes == "mch_reports" && a.Has(Check{Scope: "mch_admin"}) {
				t.Fatal("authorized on a scope Clerk does not read")
			}
		})
	}
}
