package clerkauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/keyring"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// waitFetches waits until the JWKS server has seen n fetches.
func waitFetches(t *testing.T, js *jwksServer, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for js.fetches.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("fetches = %d, want %d", js.fetches.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJWKSConcurrentColdRequestsFetchOnce(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	js.delay = 50 * time.Millisecond // keep the first download in flight
	o := js.options()
	m := newMiddleware(t, o)
	tok := makeToken(t, time.Now(), tokenSpec{kid: "kid1"})

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Authenticate(bearer(tok)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("cold request failed: %v", err)
	}
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("200 concurrent cold requests made %d JWKS fetches, want 1", n)
	}
}

func TestJWKSUnknownKidFloodIsRateLimited(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	o := js.options()
	o.JWKSCooldown = time.Hour
	m := newMiddleware(t, o)
	good := makeToken(t, time.Now(), tokenSpec{kid: "kid1"})
	if _, err := m.Authenticate(bearer(good)); err != nil {
		t.Fatal(err)
	}
	waitFetches(t, js, 1)

	var wg sync.WaitGroup
	var mismatch, refused atomic.Int64
	for i := range 100 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			bad := makeToken(t, time.Now(), tokenSpec{kid: fmt.Sprintf("random-%d", i)})
			_, err := m.Authenticate(bearer(bad))
			switch {
			case reasonOf(err) == ReasonJWKKidMismatch && !errors.Is(err, ErrKeysUnavailable):
				mismatch.Add(1) // a download made after it arrived lacked its kid
			case errors.Is(err, ErrKeysUnavailable) && reasonOf(err) == ReasonJWKRemoteFailedToLoad:
				refused.Add(1) // the cooldown refused the download
			default:
				t.Errorf("random kid: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := m.Authenticate(bearer(good)); err != nil {
				t.Errorf("valid token during flood: %v", err)
			}
		}()
	}
	wg.Wait()
	// One refresh for the first unknown kid, none after within the cooldown.
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("unknown-kid flood made %d fetches, want 2 (start + one refresh)", n)
	}
	if mismatch.Load() == 0 || mismatch.Load()+refused.Load() != 100 {
		t.Fatalf("%d mismatch + %d refused, want 100 with at least one mismatch", mismatch.Load(), refused.Load())
	}
}

func TestJWKSDownAtStartThenUp(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	js.setStatus(http.StatusInternalServerError)
	logs := &hLockedBuffer{}
	o := js.options()
	clock := newTestClock()
	o.Now = clock.Now
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	m := newMiddleware(t, o)
	tok := makeToken(t, clock.Now(), tokenSpec{kid: "kid1"})

	_, err := m.Authenticate(bearer(tok))
	if !errors.Is(err, ErrKeysUnavailable) || reasonOf(err) != ReasonJWKRemoteFailedToLoad {
		t.Fatalf("JWKS down: %v", err)
	}
	rec := httptest.NewRecorder()
	m.RequireAuth(http.NotFoundHandler()).ServeHTTP(rec, bearer(tok))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		rec.Body.String() != `{"error":"Authentication unavailable"}` {
		t.Fatalf("JWKS down: RequireAuth answered %d %q", rec.Code, rec.Body)
	}
	// The log says what happened: no keys were ever loaded. (On a busy
	// machine the request's key wait may end before the download does, so
	// wait for the download's log line.)
	waitUntil(t, "the failed download to be logged", func() bool { return strings.Contains(logs.String(), "no keys were ever loaded") })
	if l := logs.String(); !strings.Contains(l, "503") || strings.Contains(l, "keeping the last good keys") {
		t.Errorf("start-up failure logged as %q", l)
	}

	js.setStatus(0)
	clock.Advance(keyring.FailureBackoff)
	if _, err = m.Authenticate(bearer(tok)); err != nil {
		t.Fatalf("JWKS back up, backoff passed, still failing: %v", err)
	}
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d downloads, want 2", n)
	}
}

func TestJWKSSecretRefused(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	o := js.options()
	o.SecretKey = "sk_test_wrong"
	m := newMiddleware(t, o)
	_, err := m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{kid: "kid1"})))
	if reasonOf(err) != ReasonSecretKeyInvalid || !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "sk_test_wrong") {
		t.Fatal("error contains the secret key")
	}
}

func TestJWKSFailureKeepsLastGoodKeys(t *testing.T) {
	k0, k1 := testKey(t, 0), testKey(t, 1)
	js := newJWKSServer(t, jwkJSON(&k0.PublicKey, "kid1"))
	logs := &hLockedBuffer{}
	o := js.options()
	clock := newTestClock()
	o.Now = clock.Now
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	m := newMiddleware(t, o)
	good := makeToken(t, clock.Now(), tokenSpec{kid: "kid1"})
	if _, err := m.Authenticate(bearer(good)); err != nil {
		t.Fatal(err)
	}
	js.setStatus(http.StatusBadGateway)
	// An unknown kid forces a refresh, which fails.
	_, err := m.Authenticate(bearer(makeToken(t, clock.Now(), tokenSpec{key: k1, kid: "kid2"})))
	if !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("unknown kid while JWKS fails: %v", err)
	}
	if _, err := m.Authenticate(bearer(makeToken(t, clock.Now(), tokenSpec{kid: "kid1", claims: map[string]any{"sid": "sess_new"}}))); err != nil {
		t.Fatalf("last good keys lost: %v", err)
	}
	if !strings.Contains(logs.String(), "keeping the last good keys") {
		t.Errorf("refresh failure logged as %q", logs.String())
	}
	// A JWKS with no usable key is a failure too, not an empty key set.
	js.setStatus(0)
	js.setKeys()
	clock.Advance(defaultJWKSCooldown)
	if _, err := m.Authenticate(bearer(makeToken(t, clock.Now(), tokenSpec{key: k1, kid: "kid3"}))); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("unknown kid, empty JWKS: %v", err)
	}
	if n := js.fetches.Load(); n != 3 {
		t.Fatalf("%d downloads, want 3", n)
	}
	if _, err := m.Authenticate(bearer(makeToken(t, clock.Now(), tokenSpec{kid: "kid1", claims: map[string]any{"sid": "sess_new2"}}))); err != nil {
		t.Fatalf("empty JWKS replaced the keys: %v", err)
	}
}

func TestJWKSRotation(t *testing.T) {
	k0, k1 := testKey(t, 0), testKey(t, 1)
	js := newJWKSServer(t, jwkJSON(&k0.PublicKey, "kid1"))
	o := js.options()
	clock := newTestClock()
	o.Now = clock.Now
	m := newMiddleware(t, o)
	old := makeToken(t, clock.Now(), tokenSpec{kid: "kid1"})
	if _, err := m.Authenticate(bearer(old)); err != nil {
		t.Fatal(err)
	}
	// Clerk rotates: the new key is published, the old one removed.
	js.setKeys(jwkJSON(&k1.PublicKey, "kid2"))
	fresh := makeToken(t, clock.Now(), tokenSpec{key: k1, kid: "kid2"})
	if _, err := m.Authenticate(bearer(fresh)); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	// The old token was cached, but its key left the key set.
	_, err := m.Authenticate(bearer(old))
	if reasonOf(err) != ReasonJWKKidMismatch || errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("old kid after rotation: %v", err)
	}
}

func TestJWKSKeyFiltering(t *testing.T) {
	good := testKey(t, 0)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	enc := jwkJSON(&testKey(t, 1).PublicKey, "enc")
	enc["use"] = "enc"
	js := newJWKSServer(t,
		map[string]any{"kty": "EC", "kid": "ec", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
		map[string]any{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
		jwkJSON(&small.PublicKey, "small"),
		enc,
		jwkJSON(&good.PublicKey, "good"),
	)
	m := newMiddleware(t, js.options())
	if _, err := m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{kid: "good"}))); err != nil {
		t.Fatalf("good key sunk by bad ones: %v", err)
	}
	_, err = m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{key: small, kid: "small"})))
	if reasonOf(err) != ReasonJWKKidMismatch {
		t.Fatalf("1024-bit key used: %v", err)
	}
	_, err = m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{key: testKey(t, 1), kid: "enc"})))
	if reasonOf(err) != ReasonJWKKidMismatch {
		t.Fatalf("use=enc key used: %v", err)
	}
}

func TestPEMModeNeedsNoNetwork(t *testing.T) {
	// A transport that fails the test if anything is sent.
	o := Options{
		JWTKey:     pemOf(t, &testKey(t, 0).PublicKey),
		SecretKey:  "sk_test_unused",
		APIURL:     "https://127.0.0.1:1",
		HTTPClient: &http.Client{Transport: failTransport{t}},
	}
	m := newMiddleware(t, o)
	if _, err := m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{kid: "anything"}))); err != nil {
		t.Fatal(err)
	}
}

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected network request to %s", r.URL)
	return nil, errors.New("no network in PEM mode")
}

func TestCloseStopsGoroutines(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	runtime.GC()
	before := runtime.NumGoroutine()
	for range 5 {
		o := js.options()
		o.JWKSRefreshInterval = time.Millisecond
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{kid: "kid1"})))
		time.Sleep(5 * time.Millisecond)
		m.Close()
		m.Close() // idempotent
	}
	js.CloseClientConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d before, %d after Close\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyWaitBoundedByContext(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	js.delay = 3 * time.Second
	m := newMiddleware(t, js.options())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := bearer(makeToken(t, time.Now(), tokenSpec{kid: "kid1"})).WithContext(ctx)
	start := time.Now()
	_, err := m.Authenticate(r)
	if !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("request waited %v past its context", d)
	}
}

func TestKeyfuncForGolangJWT(t *testing.T) {
	key := testKey(t, 0)
	js := newJWKSServer(t, jwkJSON(&key.PublicKey, "kid1"))
	m := newMiddleware(t, js.options())
	tok := makeToken(t, time.Now(), tokenSpec{kid: "kid1"})
	if _, err := m.Authenticate(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	if _, err := jwtParse(tok, m); err != nil {
		t.Fatalf("golang-jwt with Keyfunc: %v", err)
	}
	pm := pemMiddleware(t, nil)
	if _, err := jwtParse(tok, pm); err != nil {
		t.Fatalf("golang-jwt with PEM Keyfunc: %v", err)
	}
	if _, err := jwtParse(makeToken(t, time.Now(), tokenSpec{key: testKey(t, 1), kid: "kid1"}), m); err == nil {
		t.Fatal("Keyfunc accepted a token from another key")
	}
}

// waitIdle waits for the download in flight, if any (a refresh started in
// the background by a request).
func (k *keys) waitIdle() {
	k.remote.WaitIdle()
}

// snapshot returns the current JWKS key set (nil in PEM mode), for tests.
func (k *keys) snapshot() *keySet {
	if k.static != nil {
		return nil
	}
	return k.remote.Snapshot()
}

// TestKidRefreshCannotBeTakenByAttacker: a forged token with a random kid
// sent just before a key rotation uses up the unknown-kid refresh. The
// valid tokens of the new key that follow inside the cooldown must get 503
// with Retry-After (the keys may have rotated; we did not check), never a
// 401 that signs their users out, and cost no download; after the cooldown
// the first of them downloads the keys once and is signed in.
func TestKidRefreshCannotBeTakenByAttacker(t *testing.T) {
	k0, k1, attacker := testKey(t, 0), testKey(t, 1), testKey(t, 3)
	js := newJWKSServer(t, jwkJSON(&k0.PublicKey, "ins_old"))
	clock := newTestClock()
	o := js.options()
	o.Now = clock.Now
	const cooldown = 30 * time.Second
	o.JWKSCooldown = cooldown
	m := newMiddleware(t, o)
	h := m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serve := func(tok string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, bearer(tok))
		return rec
	}
	if rec := serve(makeToken(t, clock.Now(), tokenSpec{key: k0, kid: "ins_old"})); rec.Code != 200 {
		t.Fatalf("old key: %d", rec.Code)
	}

	forged := makeToken(t, clock.Now(), tokenSpec{key: attacker, kid: "ins_random_attacker"})
	if rec := serve(forged); rec.Code != 401 || rec.Header().Get("X-Clerk-Auth-Reason") != ReasonJWKKidMismatch {
		t.Fatalf("forged random kid: %d %q", rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"))
	}
	// Clerk rotates right after the attacker's refresh.
	js.setKeys(jwkJSON(&k0.PublicKey, "ins_old"), jwkJSON(&k1.PublicKey, "ins_new"))
	before := js.fetches.Load()
	for i := range 10 {
		tok := makeToken(t, clock.Now(), tokenSpec{key: k1, kid: "ins_new", claims: map[string]any{"sid": fmt.Sprint("sess_", i)}})
		rec := serve(tok)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
			rec.Header().Get("X-Clerk-Auth-Reason") != ReasonJWKRemoteFailedToLoad {
			t.Fatalf("valid new-key token %d inside the cooldown: %d %q Retry-After %q, want 503 with Retry-After",
				i, rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"), rec.Header().Get("Retry-After"))
		}
		clock.Advance(cooldown / 10)
		if i == 8 {
			clock.Advance(-time.Nanosecond) // the last one is 1 ns before the cooldown ends
		}
	}
	if n := js.fetches.Load() - before; n != 0 {
		t.Fatalf("%d downloads inside the cooldown, want 0", n)
	}
	clock.Advance(time.Nanosecond)
	if rec := serve(makeToken(t, clock.Now(), tokenSpec{key: k1, kid: "ins_new"})); rec.Code != 200 {
		t.Fatalf("valid new-key token after the cooldown: %d %q", rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"))
	}
	if n := js.fetches.Load() - before; n != 1 {
		t.Fatalf("%d downloads after the cooldown, want 1", n)
	}
}

// TestJWKSRemovedKeyRejectedAfterRefresh: a key removed from the JWKS
// stops verifying tokens (cached or new) once the periodic refresh, due
// JWKSRefreshInterval after the last download by the injected clock, has
// run; before it is due nothing is downloaded.
func TestJWKSRemovedKeyRejectedAfterRefresh(t *testing.T) {
	k0, k1 := testKey(t, 0), testKey(t, 1)
	js := newJWKSServer(t, jwkJSON(&k0.PublicKey, "ins_a"), jwkJSON(&k1.PublicKey, "ins_b"))
	clock := newTestClock()
	o := js.options()
	o.Now = clock.Now
	m := newMiddleware(t, o)
	if m.c.cfg.refreshInterval != 5*time.Minute {
		t.Fatalf("default refresh interval %v, want 5m", m.c.cfg.refreshInterval)
	}
	tokA := makeToken(t, clock.Now(), tokenSpec{key: k0, kid: "ins_a"})
	if _, err := m.Authenticate(bearer(tokA)); err != nil {
		t.Fatal(err)
	}
	js.setKeys(jwkJSON(&k1.PublicKey, "ins_b")) // Clerk removes ins_a

	clock.Advance(5*time.Minute - time.Second)
	tokA = makeToken(t, clock.Now(), tokenSpec{key: k0, kid: "ins_a"})
	if _, err := m.Authenticate(bearer(tokA)); err != nil {
		t.Fatalf("before the refresh is due: %v", err)
	}
	m.c.keys.waitIdle()
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d downloads before the refresh is due, want 1", n)
	}

	clock.Advance(time.Second)
	m.Authenticate(bearer(tokA)) // due: starts the refresh in the background
	m.c.keys.waitIdle()
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d downloads once due, want 2", n)
	}
	for name, tok := range map[string]string{
		"cached": tokA,
		"fresh":  makeToken(t, clock.Now(), tokenSpec{key: k0, kid: "ins_a", claims: map[string]any{"sid": "sess_other"}}),
	} {
		_, err := m.Authenticate(bearer(tok))
		if reasonOf(err) != ReasonJWKKidMismatch || errors.Is(err, ErrKeysUnavailable) {
			t.Errorf("%s token of the removed key after the refresh: %v", name, err)
		}
	}
	if _, err := m.Authenticate(bearer(makeToken(t, clock.Now(), tokenSpec{key: k1, kid: "ins_b"}))); err != nil {
		t.Fatalf("remaining key: %v", err)
	}
	if n := js.fetches.Load(); n != 2 {
		t.Fatalf("%d downloads, want 2 (a removed kid needs no refresh)", n)
	}
}

// TestKeyfuncLikeTheMiddleware: Keyfunc called right after New waits for
// the first download (the server holds it until released), refreshes for
// an unknown kid through the same cooldown, and gives a key for exactly
// the algorithms the middleware accepts.
func TestKeyfuncLikeTheMiddleware(t *testing.T) {
	k0, k1 := testKey(t, 0), testKey(t, 1)
	release := make(chan struct{})
	var fetches atomic.Int64
	var mu sync.Mutex
	keys := []map[string]any{jwkJSON(&k0.PublicKey, "ins_a")}
	rs384 := jwkJSON(&k1.PublicKey, "ins_384")
	rs384["alg"] = "RS384"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fetches.Add(1) == 1 {
			<-release
		}
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	defer srv.Close()
	clock := newTestClock()
	m := newMiddleware(t, Options{SecretKey: "sk_test_kf", APIURL: srv.URL, Now: clock.Now, KeyWaitTimeout: 30 * time.Second})
	tok := makeToken(t, clock.Now(), tokenSpec{key: k0, kid: "ins_a"})

	done := make(chan error)
	go func() {
		_, err := jwt.Parse(tok, m.Keyfunc(), jwt.WithTimeFunc(clock.Now))
		done <- err
	}()
	// Keyfunc is waiting on the download, which has not answered yet.
	for fetches.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Keyfunc right after New: %v", err)
	}

	// Rotation: an unknown kid downloads once; inside the cooldown a
	// second unknown kid is refused as the middleware refuses it.
	mu.Lock()
	keys = append(keys, rs384)
	mu.Unlock()
	parse := func(alg, kid string, key *rsa.PrivateKey) error {
		method := jwt.GetSigningMethod(alg)
		tk := jwt.NewWithClaims(method, jwt.MapClaims{"sub": "user_1", "exp": clock.Now().Add(time.Minute).Unix()})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = jwt.Parse(s, m.Keyfunc(), jwt.WithTimeFunc(clock.Now))
		return err
	}
	if err := parse("RS384", "ins_384", k1); err != nil {
		t.Fatalf("RS384 with a key that declares RS384: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d downloads, want 2", n)
	}
	if err := parse("RS256", "ins_unknown", k1); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("unknown kid inside the cooldown: %v, want ErrKeysUnavailable", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d downloads, want 2 (cooldown)", n)
	}
	// Exactly the middleware's algorithms.
	for _, tc := range []struct {
		alg, kid string
		ok       bool
	}{
		{"RS256", "ins_a", true},
		{"RS384", "ins_a", false}, // the key declares RS256
		{"RS512", "ins_a", false},
		{"RS256", "ins_384", false}, // the key declares RS384
		{"PS256", "ins_a", false},
	} {
		key := k0
		if tc.kid == "ins_384" {
			key = k1
		}
		err := parse(tc.alg, tc.kid, key)
		if (err == nil) != tc.ok {
			t.Errorf("%s with %s: %v, want ok=%v", tc.alg, tc.kid, err, tc.ok)
		}
		// The middleware decides the same.
		_, aerr := m.AuthenticateToken(t.Context(), signWith(t, tc.alg, tc.kid, key, clock.Now()))
		if (aerr == nil) != tc.ok {
			t.Errorf("middleware, %s with %s: %v, want ok=%v", tc.alg, tc.kid, aerr, tc.ok)
		}
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "user_1"})
	hs.Header["kid"] = "ins_a"
	hsTok, _ := hs.SignedString([]byte("secret"))
	if _, err := jwt.Parse(hsTok, m.Keyfunc()); err == nil {
		t.Error("HS256 accepted")
	}
	// PEM mode: RS256 only, whatever the kid.
	pm := newMiddleware(t, Options{JWTKey: pemOf(t, &k0.PublicKey)})
	if _, err := jwt.Parse(tok, pm.Keyfunc(), jwt.WithTimeFunc(clock.Now)); err != nil {
		t.Errorf("PEM Keyfunc: %v", err)
	}
}

// signWith signs a Clerk-shaped session token with alg.
func signWith(t *testing.T, alg, kid string, key *rsa.PrivateKey, now time.Time) string {
	t.Helper()
	tk := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims(defaultClaims(now)))
	tk.Header["kid"] = kid
	s, err := tk.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJWKSRequestShape: the JWKS download goes through the Backend API
// request path: the secret key, Clerk-API-Version and the User-Agent on
// {APIURL}/v1/jwks (a trailing /v1 of APIURL trimmed); a custom JWKSURL
// gets no secret.
func TestJWKSRequestShape(t *testing.T) {
	k0 := testKey(t, 0)
	type seen struct{ path, auth, version, ua string }
	got := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Clerk-API-Version"), r.Header.Get("User-Agent")}
		if r.URL.Path != "/v1/jwks" && r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwkJSON(&k0.PublicKey, "ins_a")}})
	}))
	defer srv.Close()
	tok := makeToken(t, time.Now(), tokenSpec{key: k0, kid: "ins_a"})
	for _, tc := range []struct {
		name, apiURL, jwksURL string
		want                  seen
	}{
		{"API URL", srv.URL, "", seen{"/v1/jwks", "Bearer sk_test_shape", "2099-01-01", userAgent}},
		{"API URL with /v1", srv.URL + "/v1", "", seen{"/v1/jwks", "Bearer sk_test_shape", "2099-01-01", userAgent}},
		{"API URL with /v1/", srv.URL + "/v1/", "", seen{"/v1/jwks", "Bearer sk_test_shape", "2099-01-01", userAgent}},
		{"public JWKS URL", srv.URL, srv.URL + "/.well-known/jwks.json", seen{"/.well-known/jwks.json", "", "2099-01-01", userAgent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMiddleware(t, Options{SecretKey: "sk_test_shape", APIURL: tc.apiURL, JWKSURL: tc.jwksURL, APIVersion: "2099-01-01"})
			if _, err := m.Authenticate(bearer(tok)); err != nil {
				t.Fatal(err)
			}
			if s := <-got; s != tc.want {
				t.Errorf("JWKS request %+v, want %+v", s, tc.want)
			}
			if tc.jwksURL == "" && m.c.client.apiURL != srv.URL {
				t.Errorf("API URL %q, want %q", m.c.client.apiURL, srv.URL)
			}
		})
	}
}

// levelRecorder is a slog.Handler that keeps the level and message of
// every record, at every level.
type levelRecorder struct {
	mu      sync.Mutex
	records []string
	above   int // records above debug
}

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler            { return h }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Level.String()+" "+r.Message)
	if r.Level > slog.LevelDebug {
		h.above++
	}
	return nil
}

// TestCloseDuringFirstDownloadLogsNothing: closing a Middleware while its
// first key download is in flight is a shutdown, not a failure: nothing is
// logged above debug (issue 17: a WARN "no keys were ever loaded"). The
// JWKS server holds the download until the test releases it, after Close.
func TestCloseDuringFirstDownloadLogsNothing(t *testing.T) {
	key := testKey(t, 0)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(started) })
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(mustJSON(t, map[string]any{"keys": []any{jwkJSON(&key.PublicKey, "kid1")}}))
	}))
	defer srv.Close()
	defer close(release)
	logs := &levelRecorder{}
	m, err := New(Options{JWKSURL: srv.URL, Logger: slog.New(logs), Now: fixedClock(testNow), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	<-started // the first download is in flight
	m.Close()
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if logs.above > 0 {
		t.Fatalf("Close during the first download logged above debug: %q", logs.records)
	}
}
