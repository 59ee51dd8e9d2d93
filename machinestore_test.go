package clerkauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/machinetoken"
)

// memStore is a MachineTokenStore in memory. It keeps every value until
// it is replaced (it ignores the ttl, which it records), so the tests see
// what the verifier itself does with an entry past its time.
type memStore struct {
	mu   sync.Mutex
	vals map[string][]byte
	ttls map[string]time.Duration

	gets, sets atomic.Int64
}

func newMemStore() *memStore {
	return &memStore{vals: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (s *memStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.vals[key]), nil
}

func (s *memStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	s.sets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[key], s.ttls[key] = bytes.Clone(v), ttl
	return nil
}

func (s *memStore) put(key string, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[key] = v
}

func (s *memStore) value(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vals[key]
}

func (s *memStore) ttl(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ttls[key]
}

// storeKey is the key m's store link gives tok.
func storeKey(m *Middleware, tok string) string { return m.c.mach.store.key(tok) }

func storeMiddleware(t *testing.T, api *machineAPI, s MachineTokenStore, mod func(*Options)) *Middleware {
	t.Helper()
	return machineMiddleware(t, api, func(o *Options) {
		o.MachineTokenStore = s
		if mod != nil {
			mod(o)
		}
	})
}

// TestMachineStoreShared: a verdict one instance got from the Backend API
// is another's with no call, for each kind of token and for negative
// verdicts; concurrent requests still share one load (one store read, one
// call, one write); neither keys nor values hold a token.
func TestMachineStoreShared(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"object": "api_key", "id": "ak_1", "name": "CI", "subject": "user_1",
		"scopes": []string{"read"}, "claims": map[string]any{"tier": "gold"}, "expiration": nil})
	api.add("mt_good", map[string]any{"object": "machine_to_machine_token", "id": "mt_1", "subject": "mch_1",
		"scopes": []string{}, "expiration": msNow(time.Hour)})
	api.add("oat_good", map[string]any{"object": "clerk_idp_oauth_access_token", "id": "oat_1", "subject": "user_2",
		"client_id": "client_1", "scopes": []string{"email"}, "expiration": msNow(time.Hour)})
	api.add("ak_revoked", map[string]any{"id": "ak_2", "subject": "user_1", "revoked": true})
	store := newMemStore()
	m1 := storeMiddleware(t, api, store, nil)
	m2 := storeMiddleware(t, api, store, nil)

	for _, tc := range []struct{ tok, reason string }{
		{"ak_good", ""}, {"mt_good", ""}, {"oat_good", ""},
		{"ak_revoked", ReasonTokenInvalid}, {"ak_unknown", ReasonTokenInvalid},
	} {
		t.Run(tc.tok, func(t *testing.T) {
			before := api.calls.Load()
			a1, err1 := m1.Authenticate(bearer(tc.tok))
			a2, err2 := m2.Authenticate(bearer(tc.tok))
			if n := api.calls.Load() - before; n != 1 {
				t.Fatalf("two instances sharing a store made %d Backend API calls, want 1", n)
			}
			if reasonOf(err1) != tc.reason || reasonOf(err2) != tc.reason || a2.IsSignedIn() != (tc.reason == "") {
				t.Fatalf("errors %v / %v, want %q", err1, err2, tc.reason)
			}
			if !reflect.DeepEqual(a1.Machine, a2.Machine) || a1.TokenType != a2.TokenType || a1.UserID != a2.UserID ||
				a2.Err() != nil && a1.Err().Error() != a2.Err().Error() {
				t.Fatalf("from the Backend API %+v %+v, from the store %+v %+v", a1, a1.Machine, a2, a2.Machine)
			}
			if tc.reason == "" && a2.tokenString() != tc.tok {
				t.Fatal("the Auth from the store does not carry its token")
			}
			k := storeKey(m1, tc.tok)
			if strings.Contains(k, tc.tok) || bytes.Contains(store.value(k), []byte(tc.tok)) {
				t.Fatal("the store holds the token")
			}
		})
	}

	// Concurrent requests on a third instance share one load.
	api.add("ak_fresh", map[string]any{"id": "ak_3", "subject": "user_3"})
	release := make(chan struct{})
	api.hold(release)
	m3 := storeMiddleware(t, api, store, nil)
	gets, sets, calls := store.gets.Load(), store.sets.Load(), api.calls.Load()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := m3.Authenticate(bearer("ak_fresh")); err != nil || !a.IsSignedIn() {
				t.Errorf("ak_fresh: %v", err)
			}
		}()
	}
	waitUntil(t, "20 waiters", func() bool { return machineWaiters(m3, "ak_fresh") == 20 })
	close(release)
	wg.Wait()
	if g, s, c := store.gets.Load()-gets, store.sets.Load()-sets, api.calls.Load()-calls; g != 1 || s != 1 || c != 1 {
		t.Fatalf("20 concurrent requests: %d store reads, %d writes, %d calls; want 1 each", g, s, c)
	}

	// Another instance (another secret key) neither reads nor writes the
	// same entries.
	other := storeMiddleware(t, api, store, func(o *Options) { o.SecretKey = "sk_test_another_instance" })
	if storeKey(other, "ak_good") == storeKey(m1, "ak_good") {
		t.Fatal("two secret keys give a token the same store key")
	}
	store.put(storeKey(other, "ak_good"), store.value(storeKey(m1, "ak_good")))
	if a, err := other.Authenticate(bearer("ak_good")); a.IsSignedIn() || reasonOf(err) != ReasonSecretKeyInvalid {
		t.Fatalf("an entry of another instance was used: %v", err)
	}
}

// TestMachineStoreForgery: a value not sealed by a holder of the secret
// keys for this very key is ignored, and the Backend API decides.
func TestMachineStoreForgery(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1", "scopes": []string{"admin"}})
	api.add("oat_good", map[string]any{"id": "oat_1", "subject": "user_1", "client_id": "c"})
	store := newMemStore()
	m := storeMiddleware(t, api, store, nil)
	if _, err := m.Authenticate(bearer("ak_good")); err != nil {
		t.Fatal(err)
	}
	good := store.value(storeKey(m, "ak_good"))
	ms := m.c.mach.store
	signedIn := storeEntry{Kind: machinetoken.APIKey, Verdict: verdictOK, At: testNow.UnixMilli(),
		Until: testNow.Add(time.Hour).UnixMilli(), ID: "ak_x", Subject: "user_attacker", Scopes: []string{"admin"}}
	attacker := storeMiddleware(t, api, newMemStore(), func(o *Options) { o.SecretKey = "sk_test_guessed" })

	cases := []struct {
		name  string
		tok   string
		value func(key string) []byte
	}{
		{"copied from another token's key", "ak_unknown", func(string) []byte { return good }},
		{"forged tag", "ak_unknown", func(string) []byte {
			v := ms.seal(storeKey(m, "ak_good"), &signedIn)
			copy(v[len(storeMagic):], rand.Text())
			return v
		}},
		{"sealed with another secret key", "ak_unknown", func(key string) []byte {
			return attacker.c.mach.store.seal(key, &signedIn)
		}},
		{"tampered body", "ak_unknown", func(key string) []byte {
			return bytes.Replace(ms.seal(key, &signedIn), []byte("user_attacker"), []byte("user_attackes"), 1)
		}},
		{"no tag", "ak_unknown", func(key string) []byte { return []byte(`{"kind":"api_key","verdict":"ok","sub":"user_x"}`) }},
		{"garbage", "ak_unknown", func(string) []byte { return []byte(rand.Text()) }},
		{"empty", "ak_unknown", func(string) []byte { return []byte{} }},
		{"sealed but too large", "ak_unknown", func(key string) []byte {
			big := signedIn
			big.Claims = []byte(`{"pad":"` + strings.Repeat("x", maxStoreValue) + `"}`)
			return ms.seal(key, &big)
		}},
		{"another kind's verdict", "oat_unknown", func(key string) []byte { return ms.seal(key, &signedIn) }},
		{"negative over a good token", "ak_good", func(key string) []byte {
			// Sealed for the revoked key's slot, copied to the good one's.
			neg := storeEntry{Kind: machinetoken.APIKey, Verdict: verdictRevoked, At: testNow.UnixMilli(), Until: testNow.Add(time.Hour).UnixMilli()}
			return ms.seal(storeKey(m, "ak_other"), &neg)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fresh := storeMiddleware(t, api, store, nil) // an empty in-process cache
			key := storeKey(fresh, tc.tok)
			store.put(key, tc.value(key))
			before := api.calls.Load()
			a, err := fresh.Authenticate(bearer(tc.tok))
			if n := api.calls.Load() - before; n != 1 {
				t.Fatalf("%d Backend API calls, want 1 (the planted value ignored)", n)
			}
			if tc.tok == "ak_good" {
				if err != nil || a.UserID != "user_1" {
					t.Fatalf("good token: %v %+v", err, a)
				}
			} else if a.IsSignedIn() || reasonOf(err) != ReasonTokenInvalid {
				t.Fatalf("signed in by a planted value: %+v %v", a, err)
			}
			if e, ok := ms.open(key, store.value(key)); !ok || e.Kind != machinetoken.OpaqueKind(tc.tok) {
				t.Fatal("the Backend API's verdict did not replace the planted value")
			}
		})
	}
}

// TestMachineStoreLifetime: an entry is written for as long as this
// instance caches the verdict, and no longer than the token; read back,
// it is used only within the TTL of the reader counted from when the
// Backend API answered, and never past the token's expiry, whatever the
// store kept.
func TestMachineStoreLifetime(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_forever", map[string]any{"id": "ak_1", "subject": "user_1", "expiration": nil})
	api.add("mt_short", map[string]any{"id": "mt_1", "subject": "mch_1", "expiration": msNow(3 * time.Second)})
	clk := newTestClock()
	clk.nanos.Store(testNow.UnixNano())
	store := newMemStore() // keeps every value: the reader must refuse old ones
	mod := func(ttl time.Duration) func(*Options) {
		return func(o *Options) { o.Now = clk.Now; o.MachineTokenCacheTTL = ttl }
	}
	writer := storeMiddleware(t, api, store, mod(10*time.Second))
	for _, tok := range []string{"ak_forever", "mt_short", "ak_unknown"} {
		writer.Authenticate(bearer(tok))
	}
	for tok, want := range map[string]time.Duration{"ak_forever": 10 * time.Second, "mt_short": 3 * time.Second, "ak_unknown": 5 * time.Second} {
		if got := store.ttl(storeKey(writer, tok)); got != want {
			t.Errorf("%s written for %v, want %v", tok, got, want)
		}
	}

	written := map[string][]byte{}
	for _, tok := range []string{"ak_forever", "mt_short", "ak_unknown"} {
		written[tok] = store.value(storeKey(writer, tok))
	}
	// An entry that claims a longer life than its token's (as no writer
	// seals one) still ends with the token.
	long := storeEntry{Kind: machinetoken.M2M, Verdict: verdictOK, Subject: "mch_1", ID: "mt_2",
		At: testNow.UnixMilli(), Until: testNow.Add(10 * time.Second).UnixMilli(), Exp: testNow.Add(time.Second).UnixMilli()}
	written["mt_long"] = writer.c.mach.store.seal(storeKey(writer, "mt_long"), &long)

	// read reports whether a fresh instance with ttl, at now+at, takes
	// tok's verdict from the store (no Backend API call).
	read := func(tok string, ttl, at time.Duration) bool {
		t.Helper()
		clk.nanos.Store(testNow.Add(at).UnixNano())
		before := api.calls.Load()
		storeMiddleware(t, api, store, mod(ttl)).Authenticate(bearer(tok))
		return api.calls.Load() == before
	}
	cases := []struct {
		name    string
		tok     string
		ttl, at time.Duration
		hit     bool
	}{
		{"within the TTL", "ak_forever", 10 * time.Second, 9 * time.Second, true},
		{"at the TTL", "ak_forever", 10 * time.Second, 10 * time.Second, false},
		{"a reader with a shorter TTL", "ak_forever", 2 * time.Second, 2 * time.Second, false},
		{"a reader with a longer TTL", "ak_forever", time.Hour, 10 * time.Second, false},
		{"before the token's expiry", "mt_short", 10 * time.Second, 2 * time.Second, true},
		{"at the token's expiry", "mt_short", 10 * time.Second, 3 * time.Second, false},
		{"before an entry's token expiry", "mt_long", 10 * time.Second, 999 * time.Millisecond, true},
		{"at an entry's token expiry", "mt_long", 10 * time.Second, time.Second, false},
		{"a negative within its 5s", "ak_unknown", 10 * time.Second, 4 * time.Second, true},
		{"a negative after 5s", "ak_unknown", 10 * time.Second, 5 * time.Second, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store.put(storeKey(writer, tc.tok), written[tc.tok]) // a miss rewrote it
			if got := read(tc.tok, tc.ttl, tc.at); got != tc.hit {
				t.Fatalf("store hit %v, want %v", got, tc.hit)
			}
		})
	}

	// A reader whose cache took a verdict from the store keeps it until
	// the writer's answer is TTL old, not TTL from its read.
	clk.nanos.Store(testNow.UnixNano())
	store2 := newMemStore()
	w2 := storeMiddleware(t, api, store2, mod(10*time.Second))
	w2.Authenticate(bearer("ak_forever"))
	clk.Advance(6 * time.Second)
	r2 := storeMiddleware(t, api, store2, mod(10*time.Second))
	before := api.calls.Load()
	r2.Authenticate(bearer("ak_forever"))
	clk.Advance(4*time.Second - time.Millisecond)
	r2.Authenticate(bearer("ak_forever"))
	if n := api.calls.Load() - before; n != 0 {
		t.Fatalf("%d calls within the TTL of the first answer", n)
	}
	clk.Advance(time.Millisecond)
	r2.Authenticate(bearer("ak_forever"))
	if n := api.calls.Load() - before; n != 1 {
		t.Fatalf("%d calls once the first answer is TTL old, want 1", n)
	}

	// An entry written by a replica whose clock is ahead by more than
	// ClockSkew is not used.
	ahead := storeEntry{Kind: machinetoken.APIKey, Verdict: verdictOK, Subject: "user_1", ID: "ak_1",
		At: clk.Now().Add(time.Minute).UnixMilli(), Until: clk.Now().Add(time.Minute + 10*time.Second).UnixMilli()}
	r3 := storeMiddleware(t, api, store2, mod(10*time.Second))
	store2.put(storeKey(r3, "ak_forever"), r3.c.mach.store.seal(storeKey(r3, "ak_forever"), &ahead))
	before = api.calls.Load()
	r3.Authenticate(bearer("ak_forever"))
	if n := api.calls.Load() - before; n != 1 {
		t.Fatal("an entry from a clock a minute ahead was used")
	}
}

// failingStore is a MachineTokenStore that fails in one way.
type failingStore struct {
	mode    string        // "error", "hang" (ignores ctx), "slow" (until ctx ends), "garbage"
	release chan struct{} // ends the hangs
	running atomic.Int64  // calls running
	peak    atomic.Int64
	calls   atomic.Int64
}

func (s *failingStore) do(ctx context.Context) ([]byte, error) {
	s.calls.Add(1)
	raisePeak(&s.peak, s.running.Add(1))
	defer s.running.Add(-1)
	switch s.mode {
	case "hang":
		<-s.release
		return nil, errors.New("released")
	case "slow":
		<-ctx.Done()
		return nil, ctx.Err()
	case "garbage":
		return []byte(storeMagic + rand.Text() + rand.Text() + `{"kind":"api_key","verdict":"ok","sub":"user_x"}`), nil
	}
	return nil, errors.New("connection refused")
}

func (s *failingStore) Get(ctx context.Context, key string) ([]byte, error) { return s.do(ctx) }

func (s *failingStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	_, err := s.do(ctx)
	return err
}

// TestMachineStoreFailures: a store that fails, hangs, is slow or answers
// garbage costs a request at most the store timeout and falls back to the
// Backend API under its bound: verdicts from the Backend API, 503 when it
// fails, never a signed-in answer from the store. Store calls stuck in a
// store that ignores its context are bounded too.
func TestMachineStoreFailures(t *testing.T) {
	for _, mode := range []string{"error", "hang", "slow", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			api := newMachineAPI(t)
			api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
			s := &failingStore{mode: mode, release: make(chan struct{})}
			t.Cleanup(func() { close(s.release) })
			const bound = 4
			m := storeMiddleware(t, api, s, func(o *Options) { o.MaxMachineVerifyCalls = bound })

			if a, err := m.Authenticate(bearer("ak_good")); err != nil || a.UserID != "user_1" {
				t.Fatalf("good key: %v", err)
			}
			if a, err := m.Authenticate(bearer("ak_unknown")); a.IsSignedIn() || reasonOf(err) != ReasonTokenInvalid {
				t.Fatalf("unknown key: %v", err)
			}
			// 40 requests at once with distinct keys, the Backend API down.
			api.set(http.StatusInternalServerError, 0)
			h := m.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("signed in") }))
			var wg sync.WaitGroup
			var answered atomic.Int64
			for range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, bearer(randomAPIKey()))
					if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
						t.Errorf("Backend API down: %d", rec.Code)
					}
					answered.Add(1)
				}()
			}
			wg.Wait()
			if p := s.peak.Load(); p > bound {
				t.Fatalf("%d store calls at once, bound %d", p, bound)
			}
			if mode == "hang" && s.calls.Load() > bound {
				t.Fatalf("%d calls started on a hung store, bound %d", s.calls.Load(), bound)
			}
			t.Logf("%s: %d answered, %d store calls (peak %d), %d Backend API calls", mode, answered.Load(), s.calls.Load(), s.peak.Load(), api.calls.Load())
		})
	}
}

// TestMachineStoreBreaker: while the breaker is open, verdicts in the
// store are still served and a miss is answered 503 without a call.
func TestMachineStoreBreaker(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	store := newMemStore()
	m1 := storeMiddleware(t, api, store, nil)
	if _, err := m1.Authenticate(bearer("ak_good")); err != nil {
		t.Fatal(err)
	}
	m2 := storeMiddleware(t, api, store, nil)
	api.set(http.StatusTooManyRequests, 0)
	if _, err := m2.Authenticate(bearer(randomAPIKey())); !errors.Is(err, ErrBackendUnavailable) {
		t.Fatalf("429: %v", err)
	}
	before := api.calls.Load()
	if a, err := m2.Authenticate(bearer("ak_good")); err != nil || !a.IsSignedIn() {
		t.Fatalf("store hit while the breaker is open: %v", err)
	}
	if _, err := m2.Authenticate(bearer(randomAPIKey())); !errors.Is(err, ErrBackendUnavailable) {
		t.Fatalf("store miss while the breaker is open: %v", err)
	}
	if n := api.calls.Load() - before; n != 0 {
		t.Fatalf("%d calls while the breaker is open", n)
	}
}

// TestMachineStoreUnused: no secret key, or the cache off, means no store.
func TestMachineStoreUnused(t *testing.T) {
	api := newMachineAPI(t)
	store := newMemStore()
	m := storeMiddleware(t, api, store, func(o *Options) { o.MachineTokenCacheTTL = -1 })
	m.Authenticate(bearer("ak_x"))
	if m.c.mach.store != nil || store.gets.Load() != 0 {
		t.Fatal("store used with the cache off")
	}
	cfg := &config{machineStore: store, machineTTL: time.Second, maxVerifyCalls: 1}
	if newMachineStore(cfg) != nil {
		t.Fatal("store keys derived from no secret key")
	}
	if s := fmt.Sprintf("%+v", Options{MachineTokenStore: store}); strings.Contains(s, "memStore") {
		t.Fatalf("Options prints its store: %s", s)
	}
}

// FuzzMachineStoreValue: whatever a store answers, opening it never
// panics, and a value that opens (the body sealed, as a holder of the
// secret key would) never signs in a token of another kind or without a
// subject.
func FuzzMachineStoreValue(f *testing.F) {
	cfg := &config{secretKey: "sk_test_fuzz", machineStore: newMemStore(), machineTTL: 10 * time.Second,
		maxVerifyCalls: 1, now: fixedClock(testNow)}
	mv := &machineVerifier{ttl: 10 * time.Second, negTTL: 5 * time.Second, now: cfg.now, store: newMachineStore(cfg)}
	ms := mv.store
	key := ms.key("ak_fuzz")
	e := storeEntry{Kind: machinetoken.APIKey, Verdict: verdictOK, At: testNow.UnixMilli(), Until: testNow.Add(time.Second).UnixMilli(),
		Subject: "user_1", Scopes: []string{"a"}, Claims: []byte(`{"x":1}`), Exp: testNow.Add(time.Hour).UnixMilli()}
	good := ms.seal(key, &e)
	f.Add(good, false)
	f.Add(good[len(storeMagic)+32:], true)
	f.Add([]byte(`{"kind":"api_key","verdict":"revoked","at":1760000000000,"until":1760000001000}`), true)
	f.Add([]byte(`{"kind":"api_key","verdict":"ok","at":1760000000000,"until":1760000001000,"claims":5,"scopes":"x"}`), true)
	f.Add([]byte("cm1"), false)
	f.Fuzz(func(t *testing.T, v []byte, seal bool) {
		if seal {
			v = append(append([]byte(storeMagic), ms.mac(key, v)...), v...)
		}
		e, ok := ms.open(key, v)
		if !ok {
			return
		}
		for _, kind := range []string{machinetoken.APIKey, machinetoken.M2M, machinetoken.OAuth} {
			a, until, aerr, ok := mv.fromEntry(kind, &e)
			if !ok {
				continue
			}
			if !testNow.Before(until) || until.After(testNow.Add(10*time.Second)) {
				t.Fatalf("until %v", until)
			}
			if aerr == nil && (a.TokenType != kind || a.Machine.Subject == "" || e.Kind != kind) {
				t.Fatalf("signed in %+v from %+v", a, e)
			}
		}
	})
}

// BenchmarkMachineTokenStore: what the store link itself costs (key HMAC,
// the bounded call, opening and checking the value), with a store in
// memory, beside an instance-cache hit and a Backend API call on
// loopback. redisstore's BenchmarkMachineToken measures it with Redis.
func BenchmarkMachineTokenStore(b *testing.B) {
	api := &machineAPI{valid: map[string]map[string]any{}}
	api.Server = httptest.NewServer(http.HandlerFunc(api.serve))
	b.Cleanup(api.Close)
	const n = 1000 // cycling through them always misses the instance cache (100)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = fmt.Sprintf("ak_bench_%d", i)
		api.add(toks[i], map[string]any{"id": "ak_1", "subject": "user_1", "scopes": []string{"read"}})
	}
	store := newMemStore()
	mk := func(s MachineTokenStore) *Middleware {
		return newMiddleware(b, Options{SecretKey: testSecret, MachineSecretKey: testMachineSecret, APIURL: api.URL,
			AcceptsToken: []string{TokenTypeAPIKey}, TokenCacheSize: 1, MachineTokenCacheTTL: time.Hour,
			MachineTokenStore: s, JWTKey: pemOf(b, &testKey(b, 0).PublicKey)})
	}
	writer := mk(store)
	ctx := context.Background()
	for _, tok := range toks {
		if _, err := writer.AuthenticateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B, mw *Middleware, cycle bool) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tok := toks[0]
			if cycle {
				tok = toks[i%n]
			}
			if _, err := mw.AuthenticateToken(ctx, tok); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.Run("in-process-hit", func(b *testing.B) { run(b, mk(nil), false) })
	b.Run("store-hit-memory", func(b *testing.B) {
		before := api.calls.Load()
		run(b, mk(store), true)
		if api.calls.Load() != before {
			b.Fatal("Backend API called: not store hits")
		}
	})
	b.Run("backend-api-call", func(b *testing.B) { run(b, mk(nil), true) })
}
