package clerkauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/reason"
)

// eventLog is an Observer that keeps every event.
type eventLog struct {
	mu      sync.Mutex
	auth    []AuthenticationEvent
	keys    []KeyDownloadEvent
	backend []BackendRequestEvent
	busy    []MachineBusyEvent
	breaker []BreakerEvent
	pages   []PageLoadEvent
}

func (l *eventLog) observer() *Observer {
	return &Observer{
		Authentication: func(e AuthenticationEvent) { l.mu.Lock(); l.auth = append(l.auth, e); l.mu.Unlock() },
		KeyDownload:    func(e KeyDownloadEvent) { l.mu.Lock(); l.keys = append(l.keys, e); l.mu.Unlock() },
		BackendRequest: func(e BackendRequestEvent) { l.mu.Lock(); l.backend = append(l.backend, e); l.mu.Unlock() },
		MachineBusy:    func(e MachineBusyEvent) { l.mu.Lock(); l.busy = append(l.busy, e); l.mu.Unlock() },
		Breaker:        func(e BreakerEvent) { l.mu.Lock(); l.breaker = append(l.breaker, e); l.mu.Unlock() },
		PageLoad:       func(e PageLoadEvent) { l.mu.Lock(); l.pages = append(l.pages, e); l.mu.Unlock() },
	}
}

// take returns the authentication events so far and forgets them.
func (l *eventLog) takeAuth() []AuthenticationEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.auth
	l.auth = nil
	return a
}

// all prints every event, for checking what never reaches an Observer.
func (l *eventLog) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%+v %+v %+v %+v %+v %+v", l.auth, l.keys, l.backend, l.busy, l.breaker, l.pages)
}

// stepClock is an injected clock that moves 1ms each time it is read,
// so that every duration measured with it is positive, and can jump.
type stepClock struct{ ns atomic.Int64 }

func newStepClock(t time.Time) *stepClock {
	c := &stepClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *stepClock) now() time.Time          { return time.Unix(0, c.ns.Add(int64(time.Millisecond))) }
func (c *stepClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// authEvent is the part of an AuthenticationEvent a test compares.
type authEvent struct {
	typ, verdict, reason string
	hit                  bool
}

func summarize(events []AuthenticationEvent) []authEvent {
	var out []authEvent
	for _, e := range events {
		out = append(out, authEvent{e.TokenType, e.Verdict, e.Reason, e.CacheHit})
	}
	return out
}

func TestObserverAuthentications(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "ins_kid_1"))
	log := new(eventLog)
	clock := newStepClock(testNow)
	o := js.options()
	o.Now, o.Observer = clock.now, log.observer()
	m := newMiddleware(t, o)
	good := makeToken(t, testNow, tokenSpec{})
	expired := makeToken(t, testNow, tokenSpec{claims: map[string]any{"exp": testNow.Unix() - 60}})
	forged := makeToken(t, testNow, tokenSpec{key: testKey(t, 1)})
	m2m := machineJWT(t, map[string]any{"kid": "ins_kid_1"}, map[string]any{"sub": "mch_billing"})

	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serve := func(r *http.Request) { h.ServeHTTP(httptest.NewRecorder(), r) }
	serve(bearer(good))
	serve(bearer(good))
	serve(bearer(expired))
	serve(bearer(forged))
	serve(httptest.NewRequest(http.MethodGet, "/", nil))
	serve(bearer(m2m)) // a machine JWT on a session-only route
	m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(httptest.NewRecorder(), bearer(good))
	m.AuthenticateToken(context.Background(), good)
	// An outer Handler decided: the inner RequireAuth does not report again.
	m.Handler(m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))).ServeHTTP(httptest.NewRecorder(), bearer(good))

	events := log.takeAuth()
	want := []authEvent{
		{TokenTypeSession, "signed-in", "", false},
		{TokenTypeSession, "signed-in", "", true},
		{TokenTypeSession, "signed-out", reason.TokenExpired, false},
		{TokenTypeSession, "signed-out", reason.TokenInvalidSignature, false},
		{"", "signed-out", reason.TokenAndUATMissing, false},
		{TokenTypeM2M, "signed-out", reason.TokenTypeMismatch, false},
		{TokenTypeSession, "signed-in", "", true},
		{TokenTypeSession, "signed-in", "", true},
		{TokenTypeSession, "signed-in", "", true},
	}
	if got := summarize(events); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	for i, e := range events {
		switch {
		case e.Reason == reason.TokenAndUATMissing:
			if e.Duration != 0 || e.Context != nil {
				t.Errorf("event %d (no token): duration %v, context %v", i, e.Duration, e.Context)
			}
		case e.Duration <= 0 || e.Duration%time.Millisecond != 0:
			t.Errorf("event %d: duration %v not measured with Options.Now", i, e.Duration)
		case e.CacheHit != (e.Context == nil):
			t.Errorf("event %d: hit %v with context %v", i, e.CacheHit, e.Context)
		}
	}

	// One key download, one Backend API request.
	log.mu.Lock()
	keys, backend := log.keys, log.backend
	log.mu.Unlock()
	if len(keys) != 1 || keys[0].Reason != "" || keys[0].StatusCode != 200 || keys[0].Keys != 1 || keys[0].Duration <= 0 {
		t.Fatalf("key downloads: %+v", keys)
	}
	if len(backend) != 1 || backend[0].Endpoint != "jwks" || backend[0].Method != "GET" || backend[0].StatusCode != 200 ||
		backend[0].Attempt != 1 || backend[0].Error != "" || backend[0].Duration <= 0 || backend[0].Context == nil {
		t.Fatalf("backend requests: %+v", backend)
	}
	if s := log.all(); strings.Contains(s, "user_") || strings.Contains(s, "sess_") || strings.Contains(s, js.secret) ||
		strings.Contains(s, good[:20]) || strings.Contains(s, js.URL) {
		t.Fatalf("an event holds an id, a token, the secret key or a URL: %s", s)
	}
}

func TestObserverKeyDownloadFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mod    func(*jwksServer, *Options)
		status int
		reason string
	}{
		{"500", func(js *jwksServer, o *Options) { js.setStatus(500) }, 500, reason.JWKRemoteFailedToLoad},
		{"refused", func(js *jwksServer, o *Options) { o.SecretKey = "sk_test_wrong" }, 401, reason.SecretKeyInvalid},
		{"down", func(js *jwksServer, o *Options) { js.Close() }, 0, reason.JWKRemoteFailedToLoad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := newJWKSServer(t, jwkJSON(&testKey(t, 0).PublicKey, "ins_kid_1"))
			log := new(eventLog)
			o := js.options()
			o.Observer, o.KeyWaitTimeout = log.observer(), time.Second
			tc.mod(js, &o)
			m := newMiddleware(t, o)
			_, err := m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{})))
			if reasonOf(err) != tc.reason {
				t.Fatalf("authenticate: %v", err)
			}
			m.Close() // no download after this one
			log.mu.Lock()
			defer log.mu.Unlock()
			if len(log.keys) == 0 || log.keys[0].Reason != tc.reason || log.keys[0].StatusCode != tc.status || log.keys[0].Keys != 0 {
				t.Fatalf("key downloads: %+v", log.keys)
			}
			want := ""
			if tc.status == 0 {
				want = "transport"
			}
			if b := log.backend[0]; b.Endpoint != "jwks" || b.StatusCode != tc.status || b.Error != want {
				t.Fatalf("backend request: %+v", b)
			}
			if len(log.auth) != 1 || log.auth[0].Reason != tc.reason || log.auth[0].Verdict != "signed-out" {
				t.Fatalf("authentications: %+v", log.auth)
			}
		})
	}
}

func TestObserverMachineTokens(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	log := new(eventLog)
	clock := newStepClock(testNow)
	m := machineMiddleware(t, api, func(o *Options) {
		o.Now, o.Observer, o.MaxMachineVerifyCalls = clock.now, log.observer(), 1
	})
	read := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { GetAuth(r) }))
	skip := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	read.ServeHTTP(httptest.NewRecorder(), bearer("ak_good"))
	read.ServeHTTP(httptest.NewRecorder(), bearer("ak_good"))
	skip.ServeHTTP(httptest.NewRecorder(), bearer("ak_other")) // never read: never verified
	read.ServeHTTP(httptest.NewRecorder(), bearer("ak_unknown"))
	want := []authEvent{
		{TokenTypeAPIKey, "signed-in", "", false},
		{TokenTypeAPIKey, "signed-in", "", true},
		{TokenTypeAPIKey, "signed-out", reason.TokenInvalid, false},
	}
	if got := summarize(log.takeAuth()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	log.mu.Lock()
	if len(log.backend) != 2 || log.backend[0].Endpoint != "machine.verify" || log.backend[0].Method != "POST" ||
		log.backend[0].StatusCode != 200 || log.backend[1].StatusCode != 404 {
		t.Fatalf("backend requests: %+v", log.backend)
	}
	log.mu.Unlock()

	t.Run("busy", func(t *testing.T) {
		release := make(chan struct{})
		api.hold(release)
		done := make(chan struct{})
		go func() { defer close(done); m.Authenticate(bearer("ak_slow_1")) }()
		waitUntil(t, "the first call in flight", func() bool { return machineWaiters(m, "ak_slow_1") == 1 })
		_, err := m.Authenticate(bearer("ak_slow_2"))
		close(release)
		<-done
		api.hold(nil)
		if reasonOf(err) != reason.BackendAPIUnavailable {
			t.Fatalf("second call: %v", err)
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		if len(log.busy) != 1 || log.busy[0] != (MachineBusyEvent{TokenType: TokenTypeAPIKey, Limit: 1}) {
			t.Fatalf("busy events: %+v", log.busy)
		}
	})

	t.Run("breaker", func(t *testing.T) {
		api.mu.Lock()
		api.retryAfter = "7"
		api.mu.Unlock()
		api.set(503, 0)
		for i := range 3 { // the first opens it; the others are refused without a call
			if _, err := m.Authenticate(bearer(fmt.Sprintf("ak_b%d", i))); reasonOf(err) != reason.BackendAPIUnavailable {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		api.set(0, 0)
		clock.advance(8 * time.Second)
		if _, err := m.Authenticate(bearer("ak_good_again")); reasonOf(err) != reason.TokenInvalid {
			t.Fatalf("after the pause: %v", err)
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		want := []BreakerEvent{{Open: true, Endpoint: "machine.verify", Pause: 7 * time.Second}, {Endpoint: "machine.verify"}}
		if fmt.Sprint(log.breaker) != fmt.Sprint(want) {
			t.Fatalf("breaker events: %+v, want %+v", log.breaker, want)
		}
	})
	if s := log.all(); strings.Contains(s, "ak_") || strings.Contains(s, "user_") || strings.Contains(s, testSecret) {
		t.Fatalf("an event holds a token, an id or the secret key: %s", s)
	}
}

func TestObserverClientRequests(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/users/") && calls.Add(1) == 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errors":[{"code":"too_many_requests","message":"slow down"}]}`)
		case strings.HasPrefix(r.URL.Path, "/v1/users/"):
			io.WriteString(w, `{"id":"user_1"}`)
		case strings.HasPrefix(r.URL.Path, "/v1/sessions/"):
			io.WriteString(w, `{"jwt":"x.y.z"}`)
		}
	}))
	t.Cleanup(srv.Close)
	log := new(eventLog)
	c, err := NewClient(Options{SecretKey: "sk_test_client", APIURL: srv.URL, Observer: log.observer(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetUser(ctx, "user_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSessionToken(ctx, "sess_1", "supabase", 0); err != nil {
		t.Fatal(err)
	}
	type req struct {
		endpoint, method string
		status, attempt  int
	}
	var got []req
	for _, e := range log.backend {
		got = append(got, req{e.Endpoint, e.Method, e.StatusCode, e.Attempt})
	}
	want := []req{{"users.get", "GET", 429, 1}, {"users.get", "GET", 200, 2}, {"sessions.tokens", "POST", 200, 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestObserverContextHidesAuth: the context an Observer gets keeps the
// request's deadline and values but not the Auth of any clerkauth
// middleware, here an outer one of another instance.
func TestObserverContextHidesAuth(t *testing.T) {
	key := testKey(t, 0)
	outer := newMiddleware(t, Options{JWTKey: pemOf(t, &key.PublicKey), Now: fixedClock(testNow)})
	log := new(eventLog)
	inner := newMiddleware(t, Options{JWTKey: pemOf(t, &key.PublicKey), Now: fixedClock(testNow), Observer: log.observer()})
	type k struct{}
	var sawAuth bool
	h := outer.Handler(inner.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawAuth = FromContext(r.Context())
	})))
	r := bearer(makeToken(t, testNow, tokenSpec{}))
	r = r.WithContext(context.WithValue(r.Context(), k{}, "kept"))
	h.ServeHTTP(httptest.NewRecorder(), r)
	events := log.takeAuth()
	if !sawAuth || len(events) != 1 || events[0].Context == nil {
		t.Fatalf("events %+v, handler saw an Auth: %v", events, sawAuth)
	}
	ctx := events[0].Context
	if _, ok := FromContext(ctx); ok || GetAuth(r.WithContext(ctx)).IsSignedIn() {
		t.Fatal("the observer's context gives the outer middleware's Auth")
	}
	if ctx.Value(k{}) != "kept" || fmt.Sprint(ctx) != "clerkauth.hiddenContext" {
		t.Fatalf("context: value %v, printed %v", ctx.Value(k{}), ctx)
	}
}

func TestObserverPageLoad(t *testing.T) {
	log := new(eventLog)
	clock := newStepClock(testNow)
	m := newMiddleware(t, Options{JWTKey: pemOf(t, &testKey(t, 0).PublicKey), Now: clock.now, Observer: log.observer()})
	for _, e := range []PageLoadEvent{
		{Flow: flowHandshake, Outcome: outcomeRedirect, Reason: "session-token-expired"},
		{Flow: flowHandshake, Outcome: outcomeResolved},
		{Flow: flowHandshake, Outcome: outcomeFailed},
		{Flow: flowHandshake, Outcome: outcomeLoop},
		{Flow: flowRefresh, Outcome: outcomeRefreshed},
		{Flow: flowRefresh, Outcome: outcomeFailed, Reason: "session-token-expired-refresh-no-session-id"},
	} {
		m.c.observePageLoad(e.Flow, e.Outcome, e.Reason, clock.now())
		got := log.pages[len(log.pages)-1]
		if got.Duration != time.Millisecond {
			t.Errorf("duration %v", got.Duration)
		}
		got.Duration = 0
		if got != e {
			t.Errorf("got %+v, want %+v", got, e)
		}
	}
	// The page-load flows decide tokens with decide, which reports
	// nothing, then report the request's state once: signed in, signed
	// out, or a handshake redirect (TestObserverPageLoadFlows runs them).
	tok := makeToken(t, testNow, tokenSpec{claims: map[string]any{"exp": testNow.Unix() - 60}})
	start := clock.now()
	if _, aerr, _ := m.c.decide(context.Background(), start, tok, 1, maskSession, false); aerr == nil || len(log.auth) != 0 {
		t.Fatalf("decide: %v, events %+v", aerr, log.auth)
	}
	redirect := &AuthError{Reason: "session-token-expired", Kind: ErrHandshake}
	m.c.observePageRequest(context.Background(), start, TokenTypeSession, redirect, false)
	m.c.observePageRequest(context.Background(), start, TokenTypeSession, errExpired, false)
	var noSpan context.Context // no token, or a cache hit: no context
	m.c.observePageRequest(noSpan, start, "", errNoToken, false)
	m.c.observePageRequest(noSpan, start, TokenTypeSession, nil, true)
	want := []authEvent{
		{TokenTypeSession, "handshake", "session-token-expired", false},
		{TokenTypeSession, "signed-out", reason.TokenExpired, false},
		{"", "signed-out", reason.TokenAndUATMissing, false},
		{TokenTypeSession, "signed-in", "", true},
	}
	if got := summarize(log.takeAuth()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("page-load verdicts:\n got %v\nwant %v", got, want)
	}

	// Unset: nothing is called.
	bare := newMiddleware(t, Options{JWTKey: pemOf(t, &testKey(t, 0).PublicKey)})
	bare.c.observePageLoad(flowRefresh, outcomeFailed, "", time.Now())
	bare.c.observePageRequest(context.Background(), time.Now(), TokenTypeSession, errExpired, false)
}

func TestEndpointClass(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1/jwks", "jwks"},
		{"GET", "https://clerk.example.com/.well-known/jwks.json", "jwks"},
		{"GET", "/v1/users/user_123", "users.get"},
		{"GET", "/v1/users/user_123/oauth_access_tokens/google", "other"},
		{"DELETE", "/v1/users/user_123", "other"},
		{"POST", "/v1/sessions/sess_1/tokens", "sessions.tokens"},
		{"POST", "/v1/sessions/sess_1/tokens/supabase", "sessions.tokens"},
		{"POST", "/v1/sessions/sess_1/refresh", "sessions.refresh"},
		{"GET", "/v1/clients/handshake_payload?nonce=abc", "clients.handshake_payload"},
		{"POST", "/api_keys/verify", "machine.verify"},
		{"POST", "/m2m_tokens/verify", "machine.verify"},
		{"POST", "/oauth_applications/access_tokens/verify", "machine.verify"},
		{"GET", "/v1/organizations/org_1", "other"},
	} {
		if got := endpointClass(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestErrorClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.Canceled, "canceled"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{io.ErrUnexpectedEOF, "transport"},
	} {
		if got := errorClass(tc.err); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}
