package clerkauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
			case ReasonOf(err) == ReasonJWKKidMismatch && !errors.Is(err, ErrKeysUnavailable):
				mismatch.Add(1) // a download made after it arrived lacked its kid
			case errors.Is(err, ErrKeysUnavailable) && ReasonOf(err) == ReasonJWKRemoteFailedToLoad:
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
	if !errors.Is(err, ErrKeysUnavailable) || ReasonOf(err) != ReasonJWKRemoteFailedToLoad {
		t.Fatalf("JWKS down: %v", err)
	}
	rec := httptest.NewRecorder()
	m.RequireAuth(http.NotFoundHandler()).ServeHTTP(rec, bearer(tok))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		rec.Body.String() != `{"error":"Authentication unavailable"}` {
		t.Fatalf("JWKS down: RequireAuth answered %d %q", rec.Code, rec.Body)
	}
	// The log says what happened: no keys were ever loaded.
	if l := logs.String(); !strings.Contains(l, "no keys were ever loaded") || !strings.Contains(l, "503") ||
		strings.Contains(l, "keeping the last good keys") {
		t.Errorf("start-up failure logged as %q", l)
	}

	js.setStatus(0)
	clock.Advance(failureBackoff)
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
	if ReasonOf(err) != ReasonSecretKeyInvalid || !errors.Is(err, ErrKeysUnavailable) {
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
	clock.Advance(DefaultJWKSCooldown)
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
	if ReasonOf(err) != ReasonJWKKidMismatch || errors.Is(err, ErrKeysUnavailable) {
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
	if ReasonOf(err) != ReasonJWKKidMismatch {
		t.Fatalf("1024-bit key used: %v", err)
	}
	_, err = m.Authenticate(bearer(makeToken(t, time.Now(), tokenSpec{key: testKey(t, 1), kid: "enc"})))
	if ReasonOf(err) != ReasonJWKKidMismatch {
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
	if d := time.Since(start); d > 2*time.Second {
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
	r := k.remote
	r.mu.Lock()
	d := r.inflight
	r.mu.Unlock()
	if d != nil {
		<-d.done
	}
}

// snapshot returns the current JWKS key set (nil in PEM mode), for tests.
func (k *keys) snapshot() *keySet {
	if k.static != nil {
		return nil
	}
	return k.remote.snap.Load()
}
