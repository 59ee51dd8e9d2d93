package clerkauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/keyring"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault-test bounds: small so that no test waits long.
const (
	faultKeyWait  = 300 * time.Millisecond
	faultCooldown = 50 * time.Millisecond
	faultHTTP     = 200 * time.Millisecond
	// hangSlack is how much longer than its bound a request may take
	// before the test calls it a hang (a scheduling allowance for a loaded
	// 2-core machine, not a performance assertion).
	hangSlack = 10 * time.Second
)

const faultSecret = "sk_test_faultsecret"

// hFaultMW builds a middleware that gets its keys from url's /v1/jwks with
// the secret key, as against Clerk's Backend API.
func hFaultMW(t *testing.T, url string, client *http.Client, o Options) *Middleware {
	t.Helper()
	o.SecretKey = faultSecret
	o.APIURL = url
	o.HTTPClient = client
	if o.KeyWaitTimeout == 0 {
		o.KeyWaitTimeout = faultKeyWait
	}
	if o.JWKSCooldown == 0 {
		o.JWKSCooldown = faultCooldown
	}
	return hNewTestMW(t, o)
}

// hTimedServe is serve that also fails when the request took longer than
// bound plus hangSlack.
func hTimedServe(t *testing.T, m *Middleware, r *http.Request, bound time.Duration) hHandlerResult {
	t.Helper()
	start := time.Now()
	res := hServe(m, r)
	if d := time.Since(start); d > bound+hangSlack {
		t.Errorf("request took %v; its bound is %v", d, bound)
	}
	return res
}

// want checks a result's status and reason, and that the handler ran only
// for a 200.
func (res hHandlerResult) want(t *testing.T, what string, status int, reason string) {
	t.Helper()
	if res.status != status || res.reason != reason || res.ran != (status == http.StatusOK) {
		t.Errorf("%s: got %d %q ran=%v, want %d %q", what, res.status, res.reason, res.ran, status, reason)
	}
}

// hLeakCheck records the goroutine count and returns a func that, after
// the middleware is closed, fails when goroutines remain (polling briefly,
// since closed connections take a moment to wind down).
func hLeakCheck(t *testing.T, client *http.Client) func(m *Middleware) {
	t.Helper()
	base := runtime.NumGoroutine()
	return func(m *Middleware) {
		t.Helper()
		m.Close()
		client.CloseIdleConnections()
		hWaitGoroutines(t, base)
	}
}

// hClerkShape wraps h with a check that the request is Clerk's JWKS call.
func hClerkShape(t *testing.T, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/jwks" || r.Header.Get("Authorization") != "Bearer "+faultSecret {
			t.Errorf("JWKS request %s %s with Authorization set=%v", r.Method, r.URL.Path, r.Header.Get("Authorization") != "")
		}
		h(w, r)
	}
}

func hClerkError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Clerk-Trace-Id", "trace_123")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors":         []map[string]any{{"code": code, "message": msg, "long_message": msg + ".", "meta": map[string]any{}}},
		"clerk_trace_id": "trace_123",
	})
}

// TestJWKSFaults runs each key-server fault with a valid and a forged
// token and a burst of concurrent requests, and checks the answers, that
// no request hangs, that fetches stay bounded and that nothing leaks.
func TestJWKSFaults(t *testing.T) {
	good := hkeyN(0, "ins_good")
	forger := hkeyN(1, "ins_good")
	unavailable := ReasonJWKRemoteFailedToLoad

	type scenario struct {
		name    string
		handler func(release <-chan struct{}) http.HandlerFunc
		timeout time.Duration // HTTPClient.Timeout; 0: none (the middleware must bound it)
		status  int           // for both the valid and the forged token
		reason  string
		hangs   bool // the server does not answer in time: KeyWaitTimeout is what ends the wait
	}
	scenarios := []scenario{
		{"500", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				hClerkError(w, 500, "internal_clerk_error", "Oops, something went wrong")
			}
		}, faultHTTP, 503, unavailable, false},
		{"401 clerk_key_invalid", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				hClerkError(w, 401, "clerk_key_invalid", "The provided Clerk Secret Key is invalid")
			}
		}, faultHTTP, 503, ReasonSecretKeyInvalid, false},
		{"slower than the HTTP timeout", func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(3 * faultHTTP):
				case <-r.Context().Done():
				case <-release:
				}
				w.Write(hJwksOf(good))
			}
		}, faultHTTP, 503, unavailable, true},
		{"hangs forever, no HTTP timeout", func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}
		}, 0, 503, unavailable, true},
		{"50 MiB body", func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"keys":[`))
				chunk := []byte(strings.Repeat(" ", 64<<10))
				for i := 0; i < 50<<20/len(chunk); i++ {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
				w.Write(hJwksOf(good)[len(`{"keys":[`):])
			}
		}, 0, 503, unavailable, true},
		{"invalid JSON", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[{"kty":"RSA",`)) }
		}, faultHTTP, 503, unavailable, false},
		{"HTML error page with 200", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`<html>Bad gateway</html>`)) }
		}, faultHTTP, 503, unavailable, false},
		{"zero keys", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[]}`)) }
		}, faultHTTP, 503, unavailable, false},
		{"only unusable keys", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"keys":[` + hJwkJSON(good, "RS256", "enc") + `]}`))
			}
		}, faultHTTP, 503, unavailable, false},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			release := make(chan struct{})
			var releaseOnce sync.Once
			srv := hNewJWKSServer(t, nil)
			srv.setHandler(hClerkShape(t, sc.handler(release)))
			t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
			client := &http.Client{Timeout: sc.timeout}
			check := hLeakCheck(t, client)
			// The clock is frozen: after the first download fails, the
			// failure backoff never passes, so the count of downloads is
			// exact whatever the machine's speed. A server that answers
			// gets a KeyWaitTimeout that is only a hang detector, so the
			// reason is the server's, never a timeout's.
			now := time.Now()
			bound := faultKeyWait
			if !sc.hangs {
				bound = 10 * time.Second
			}
			m := hFaultMW(t, srv.URL, client, Options{Now: hFixedClock(now), KeyWaitTimeout: bound})

			hTimedServe(t, m, hBearer(hGoodToken(t, good, now)), bound).want(t, "valid", sc.status, sc.reason)
			hTimedServe(t, m, hBearer(hGoodToken(t, forger, now)), bound).want(t, "forged", sc.status, sc.reason)

			// A burst of concurrent requests shares downloads.
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k := good
					if i%2 == 1 {
						k = forger
					}
					hTimedServe(t, m, hBearer(hGoodToken(t, k, now)), bound).want(t, "burst", sc.status, sc.reason)
				}()
			}
			wg.Wait()
			// One download at New; every later request inside the failure
			// backoff gets its error without a download.
			if n := srv.fetches.Load(); n != 1 {
				t.Errorf("%d JWKS downloads, want 1", n)
			}
			// Close alone must end a hanging download: the server's handler
			// is released only afterwards.
			check(m)
			releaseOnce.Do(func() { close(release) })
		})
	}
}

// TestFaultJWKSDownAtStartThenUp starts with nothing listening on the
// JWKS address, then starts the server: requests get 503 while down, still
// 503 inside the failure backoff (by the injected clock), and are signed in
// by the first request after it, with one download, without a restart.
func TestFaultJWKSDownAtStartThenUp(t *testing.T) {
	good := hkeyN(0, "ins_good")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := &http.Client{Timeout: faultHTTP}
	check := hLeakCheck(t, client)
	clock := newTestClock()
	m := hFaultMW(t, "http://"+addr, client, Options{Now: clock.Now, KeyWaitTimeout: 10 * time.Second})

	for i := range 20 {
		hTimedServe(t, m, hBearer(hGoodToken(t, good, clock.Now())), 10*time.Second).
			want(t, fmt.Sprintf("down #%d", i), 503, ReasonJWKRemoteFailedToLoad)
	}

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	var fetches atomic.Int64
	srv := httptest.NewUnstartedServer(hClerkShape(t, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write(hJwksOf(good))
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()

	// Inside the backoff the last error is served without a download.
	hTimedServe(t, m, hBearer(hGoodToken(t, good, clock.Now())), 10*time.Second).want(t, "up, inside the backoff", 503, ReasonJWKRemoteFailedToLoad)
	if n := fetches.Load(); n != 0 {
		t.Errorf("%d downloads inside the backoff, want 0", n)
	}
	clock.Advance(min(keyring.FailureBackoff, faultCooldown))
	hTimedServe(t, m, hBearer(hGoodToken(t, good, clock.Now())), 10*time.Second).want(t, "up", 200, "")
	hTimedServe(t, m, hBearer(hGoodToken(t, hkeyN(1, "ins_good"), clock.Now())), 10*time.Second).want(t, "forged when up", 401, ReasonTokenInvalidSignature)
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d downloads once up, want 1", n)
	}
	m.Close()
	client.CloseIdleConnections()
	srv.Close() // started after the goroutine baseline
	check(m)
}

// TestJWKSMixedKeys serves a good key among keys that must be skipped:
// use "enc", EC, symmetric, a 1024-bit RSA key, a duplicate kid.
func TestJWKSMixedKeys(t *testing.T) {
	good := hkeyN(0, "ins_good")
	enc := hkeyN(1, "ins_enc")
	weakPriv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak := hkey{kid: "ins_weak", priv: weakPriv}
	dup := hkeyN(2, "ins_good")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecJWK := fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":"ins_ec","use":"sig","alg":"ES256","x":"%s","y":"%s"}`,
		hB64.EncodeToString(ec.X.FillBytes(make([]byte, 32))), hB64.EncodeToString(ec.Y.FillBytes(make([]byte, 32))))
	body := `{"keys":[` + strings.Join([]string{
		hJwkJSON(enc, "RS256", "enc"),
		ecJWK,
		`{"kty":"oct","kid":"ins_hmac","k":"c2VjcmV0","alg":"HS256"}`,
		hJwkJSON(weak, "RS256", "sig"),
		hJwkJSON(good, "RS256", "sig"),
		hJwkJSON(dup, "RS256", "sig"),
	}, ",") + `]}`
	srv := hNewJWKSServer(t, []byte(body))
	srv.setHandler(hClerkShape(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	client := &http.Client{Timeout: faultHTTP}
	check := hLeakCheck(t, client)
	m := hFaultMW(t, srv.URL, client, Options{})
	now := time.Now()

	hTimedServe(t, m, hBearer(hGoodToken(t, good, now)), faultKeyWait).want(t, "good key", 200, "")
	hTimedServe(t, m, hBearer(hGoodToken(t, enc, now)), faultKeyWait).want(t, "use enc", 401, ReasonJWKKidMismatch)
	hTimedServe(t, m, hBearer(hGoodToken(t, weak, now)), faultKeyWait).want(t, "1024-bit", 401, ReasonJWKKidMismatch)
	hTimedServe(t, m, hBearer(hGoodToken(t, dup, now)), faultKeyWait).want(t, "second key under the same kid", 401, ReasonTokenInvalidSignature)
	hTimedServe(t, m, hBearer(hSignRaw(t, good, "HS256", []byte(`{"alg":"HS256","kid":"ins_hmac"}`), hClaimsAt(now, ""), []byte("secret"))), faultKeyWait).
		want(t, "HMAC key", 401, ReasonTokenInvalidAlgorithm)
	hTimedServe(t, m, hBearer(hSignRaw(t, good, "ES256", []byte(`{"alg":"ES256","kid":"ins_ec"}`), hClaimsAt(now, ""), nil)), faultKeyWait).
		want(t, "EC key", 401, ReasonTokenInvalidAlgorithm)
	if s := m.c.keys.snapshot(); s == nil || len(s.ByKid) != 1 || s.ByKid["ins_good"] == nil {
		t.Errorf("key set %v, want only ins_good", s)
	}
	check(m)
}

// TestFaultJWKSRotation rotates keys, driven by the injected clock: a new
// kid is accepted after one download; once the old key is removed, its
// tokens are rejected, including a token already in the verified-token
// cache; unknown kids inside the cooldown cost no download and get 503.
func TestFaultJWKSRotation(t *testing.T) {
	oldKey := hkeyN(0, "ins_old")
	newKey := hkeyN(1, "ins_new")
	srv := hNewJWKSServer(t, hJwksOf(oldKey))
	client := &http.Client{Timeout: 10 * time.Second}
	check := hLeakCheck(t, client)
	clock := newTestClock()
	const cooldown = 30 * time.Second
	m := hFaultMW(t, srv.URL, client, Options{Now: clock.Now, JWKSCooldown: cooldown, KeyWaitTimeout: 10 * time.Second})
	serve := func(tok string) hHandlerResult { return hTimedServe(t, m, hBearer(tok), 10*time.Second) }
	now := clock.Now()
	oldTok := hGoodToken(t, oldKey, now)
	newTok := hGoodToken(t, newKey, now)
	downloads := func() int64 { return srv.fetches.Load() }

	serve(oldTok).want(t, "old key", 200, "")
	if m.c.cache.Get(oldTok) == nil {
		t.Fatal("the old token is not in the verified-token cache")
	}
	before := downloads()
	serve(newTok).want(t, "new kid before rotation", 401, ReasonJWKKidMismatch)
	if n := downloads() - before; n != 1 {
		t.Errorf("%d downloads for an unknown kid, want 1", n)
	}

	srv.setBody(hJwksOf(oldKey, newKey))
	before = downloads()
	serve(newTok).want(t, "new kid inside the cooldown", 503, ReasonJWKRemoteFailedToLoad)
	if n := downloads() - before; n != 0 {
		t.Errorf("%d downloads inside the cooldown, want 0", n)
	}
	clock.Advance(cooldown)
	serve(newTok).want(t, "new kid after the cooldown", 200, "")
	if n := downloads() - before; n != 1 {
		t.Errorf("%d downloads for the new kid, want 1", n)
	}
	serve(oldTok).want(t, "old key during overlap", 200, "")

	// Remove the old key; an unknown kid after the cooldown refreshes.
	srv.setBody(hJwksOf(newKey))
	clock.Advance(cooldown)
	serve(hGoodToken(t, hkeyN(2, "ins_random"), now)).want(t, "random kid", 401, ReasonJWKKidMismatch)
	if s := m.c.keys.snapshot(); s.ByKid["ins_old"] != nil {
		t.Fatal("the old key is still in the key set after a refresh")
	}
	// Clerk removed the key: its tokens are 401 at once, cached or not.
	before = downloads()
	serve(oldTok).want(t, "cached token of the removed key", 401, ReasonJWKKidMismatch)
	serve(hGoodToken(t, oldKey, now)).want(t, "fresh token of the removed key", 401, ReasonJWKKidMismatch)
	serve(newTok).want(t, "new key", 200, "")

	// Unknown kids inside the cooldown never download, and are 503.
	for i := range 50 {
		serve(hGoodToken(t, hkeyN(2, fmt.Sprintf("ins_r%d", i)), now)).want(t, "random kid flood", 503, ReasonJWKRemoteFailedToLoad)
	}
	if n := downloads() - before; n != 0 {
		t.Errorf("%d downloads for 50 random kids inside the cooldown, want 0", n)
	}
	clock.Advance(cooldown)
	serve(hGoodToken(t, hkeyN(2, "ins_r_after"), now)).want(t, "random kid after the cooldown", 401, ReasonJWKKidMismatch)
	if n := downloads() - before; n != 1 {
		t.Errorf("%d downloads, want 1 after the cooldown", n)
	}
	check(m)
}

// TestJWKSFlapping alternates the key server between up and down while the
// background refresh runs: once loaded, keys are kept through failures, so
// valid tokens stay signed in and forged ones stay out.
func TestJWKSFlapping(t *testing.T) {
	good := hkeyN(0, "ins_good")
	srv := hNewJWKSServer(t, nil)
	// Up and down in turns of 60 ms, from the first download on.
	const turn = 60 * time.Millisecond
	var once sync.Once
	var first time.Time
	var downs atomic.Int64
	srv.setHandler(hClerkShape(t, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { first = time.Now() })
		if (time.Since(first)/turn)%2 == 0 {
			w.Write(hJwksOf(good))
			return
		}
		downs.Add(1)
		// Down: a reset connection, or a 502 when hijacking fails.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(502)
	}))
	client := &http.Client{Timeout: faultHTTP}
	check := hLeakCheck(t, client)
	const interval = 20 * time.Millisecond
	m := hFaultMW(t, srv.URL, client, Options{JWKSRefreshInterval: interval})

	// Requests run until the server was down at least twice and the keys
	// were downloaded at least 6 times (however long a busy machine
	// takes; 30 s is only a hang detector).
	fetches := func() int64 { return int64(m.c.keys.remote.Fetches()) }
	start := time.Now()
	for downs.Load() < 2 || fetches() < 6 {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("after 30s: %d downloads, %d down", fetches(), downs.Load())
		}
		now := time.Now()
		hTimedServe(t, m, hBearer(hGoodToken(t, good, now)), faultKeyWait).want(t, "valid", 200, "")
		hTimedServe(t, m, hBearer(hGoodToken(t, hkeyN(1, "ins_good"), now)), faultKeyWait).want(t, "forged", 401, ReasonTokenInvalidSignature)
		time.Sleep(5 * time.Millisecond)
	}
	// A refresh is due interval after the previous one ended: never more
	// than one per interval, however the requests and the timer race.
	elapsed := time.Since(start)
	if got, max := fetches(), int64(2+elapsed/interval); got > max {
		t.Errorf("%d downloads in %v with a %v refresh interval, want at most %d", got, elapsed, interval, max)
	}
	check(m)
}

// TestJWKSCloseWhileWaiting closes the middleware while requests wait for
// a hanging download: they end promptly with 503 and nothing leaks.
func TestJWKSCloseWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	srv := hNewJWKSServer(t, nil)
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	client := &http.Client{}
	check := hLeakCheck(t, client)
	m := hFaultMW(t, srv.URL, client, Options{KeyWaitTimeout: 10 * time.Second})
	tok := hGoodToken(t, hkeyN(0, "ins_good"), time.Now())
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := hBearer(tok)
			ctx, cancel := context.WithTimeout(r.Context(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			res := hServe(m, r.WithContext(ctx))
			if d := time.Since(start); d > 200*time.Millisecond+hangSlack {
				t.Errorf("request took %v; its context ended after 200ms", d)
			}
			res.want(t, "request context ends first", 503, ReasonJWKRemoteFailedToLoad)
		}()
	}
	wg.Wait()
	m.Close()
	res := hTimedServe(t, m, hBearer(tok), 0)
	if res.status != 503 || res.ran {
		t.Errorf("after Close: %d ran=%v, want 503", res.status, res.ran)
	}
	check(m)
	if a, err := m.AuthenticateToken(t.Context(), tok); a.IsSignedIn() || !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("after Close: %v", err)
	}
}
