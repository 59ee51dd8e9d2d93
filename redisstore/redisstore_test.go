package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/redis/go-redis/v9"
)

// testPrefix is a key prefix of its own for one test, so tests sharing a
// redis-server never see each other's keys.
func testPrefix() string { return "clerkauth-test:" + rand.Text() + ":" }

func TestStore(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, redisAddr)
	prefix := testPrefix()
	s := New(c, WithPrefix(prefix))

	if v, err := s.Get(ctx, "v1:missing"); v != nil || err != nil {
		t.Fatalf("miss: %q %v, want nil nil", v, err)
	}
	val := []byte("cm1\x00\xff binary \r\n value")
	if err := s.Set(ctx, "v1:k", val, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "v1:k"); err != nil || !bytes.Equal(v, val) {
		t.Fatalf("read back %q %v", v, err)
	}
	// The key is under the prefix, and expires within the ttl.
	if v, err := c.Get(ctx, prefix+"v1:k").Bytes(); err != nil || !bytes.Equal(v, val) {
		t.Fatalf("raw GET %s: %q %v", prefix+"v1:k", v, err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"v1:k").Result(); err != nil || ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Fatalf("PTTL %v %v, want in (0, 1.5s]", ttl, err)
	}
	if err := s.Set(ctx, "v1:short", val, time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"v1:short").Result(); err != nil || ttl > time.Millisecond {
		t.Fatalf("sub-millisecond ttl stored as %v %v", ttl, err)
	}
	// A claim succeeds once until its ttl has passed, under the prefix.
	if won, err := s.Claim(ctx, "c1:k", 1500*time.Millisecond); !won || err != nil {
		t.Fatalf("first claim: %v %v, want true", won, err)
	}
	if won, err := s.Claim(ctx, "c1:k", 1500*time.Millisecond); won || err != nil {
		t.Fatalf("second claim: %v %v, want false", won, err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"c1:k").Result(); err != nil || ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Fatalf("claim PTTL %v %v, want in (0, 1.5s]", ttl, err)
	}
	if won, err := s.Claim(ctx, "c1:short", time.Microsecond); !won || err != nil {
		t.Fatalf("short claim: %v %v", won, err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"c1:short").Result(); err != nil || ttl > time.Millisecond {
		t.Fatalf("sub-millisecond claim stored as %v %v", ttl, err)
	}
	if New(c).prefix != "clerkauth:machine:" {
		t.Fatal("default prefix")
	}

	// An unreachable server is an error, never a miss.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	if v, err := New(down).Get(ctx, "v1:k"); err == nil || v != nil {
		t.Fatalf("unreachable: %q %v, want an error", v, err)
	}
	if won, err := New(down).Claim(ctx, "c1:k", time.Second); err == nil || won {
		t.Fatalf("unreachable: claim %v %v, want an error", won, err)
	}
}

// keySet is the API keys of a fleet test: valid ones (a user each),
// revoked ones and unknown ones.
type keySet struct {
	toks    []string
	subject []string // "" for the revoked and unknown keys
}

func newKeySet(api *clerktest.Server, n int) *keySet {
	ks := &keySet{toks: make([]string, n), subject: make([]string, n)}
	for i := range n {
		switch i % 20 {
		case 0:
			ks.toks[i] = api.AddAPIKey(clerktest.MachineToken{Subject: fmt.Sprintf("user_%d", i), Revoked: true})
		case 1:
			ks.toks[i] = "ak_unknown_" + rand.Text()
		default:
			ks.subject[i] = fmt.Sprintf("user_%d", i)
			ks.toks[i] = api.AddAPIKey(clerktest.MachineToken{Subject: ks.subject[i], Name: "key"})
		}
	}
	return ks
}

// newFleet returns n Middleware instances (replicas) of api's instance,
// each with its own Redis client when addr is set, sharing the store
// under prefix with the given timeout (0: the default); none when addr is
// "". Without claims, the store does not show its Claim method.
func newFleet(t testing.TB, api *clerktest.Server, n int, addr, prefix string, timeout time.Duration, claims bool) []http.Handler {
	t.Helper()
	hs := make([]http.Handler, n)
	for i := range hs {
		o := api.Options()
		o.AcceptsToken = []string{clerkauth.TokenTypeAPIKey}
		o.MachineTokenCacheTTL = time.Hour // the test outlives the default 10s
		o.Logger = slog.New(slog.DiscardHandler)
		if addr != "" {
			o.MachineTokenStore = New(newClient(t, addr), WithPrefix(prefix))
			if !claims {
				o.MachineTokenStore = getSetOnly{o.MachineTokenStore}
			}
			o.MachineTokenStoreTimeout = timeout
		}
		mw, err := clerkauth.New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mw.Close() })
		hs[i] = mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, clerkauth.GetAuth(r).UserID)
		}))
	}
	return hs
}

// getSetOnly hides a store's Claim method.
type getSetOnly struct{ clerkauth.MachineTokenStore }

// fleetResult counts the answers of a fleet run.
type fleetResult struct {
	ok, unauthorized, unavailable, wrong atomic.Int64
}

func (r *fleetResult) String() string {
	return fmt.Sprintf("200: %d, 401: %d, 503: %d, wrong: %d", r.ok.Load(), r.unauthorized.Load(), r.unavailable.Load(), r.wrong.Load())
}

// runFleet sends perKey requests with each key, spread over the replicas
// round robin, from 32 workers. With together, a key's requests are sent
// at once; otherwise one after the other. after is called after each
// request with the number answered so far.
func runFleet(t testing.TB, hs []http.Handler, ks *keySet, perKey int, together bool, after func(n int64)) *fleetResult {
	var res fleetResult
	var answered atomic.Int64
	send := func(i, j int) {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authorization", "Bearer "+ks.toks[i])
		hs[(i+j)%len(hs)].ServeHTTP(rec, r)
		switch {
		case rec.Code == http.StatusOK && ks.subject[i] != "" && rec.Body.String() == ks.subject[i]:
			res.ok.Add(1)
		case rec.Code == http.StatusUnauthorized && ks.subject[i] == "":
			res.unauthorized.Add(1)
		case rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") != "":
			res.unavailable.Add(1)
		default:
			res.wrong.Add(1)
			t.Errorf("key %d (subject %q) request %d: %d %q", i, ks.subject[i], j, rec.Code, rec.Body.String())
		}
		if after != nil {
			after(answered.Add(1))
		}
	}
	keys := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				if !together {
					for j := range perKey {
						send(i, j)
					}
					continue
				}
				var kwg sync.WaitGroup
				for j := range perKey {
					kwg.Add(1)
					go func() { defer kwg.Done(); send(i, j) }()
				}
				kwg.Wait()
			}
		}()
	}
	for i := range ks.toks {
		keys <- i
	}
	close(keys)
	wg.Wait()
	return &res
}

// fleetKeys is the number of API keys of the fleet tests: 1,000, or 100
// with -short (scripts/redis.sh runs them so under the race detector,
// and in full without it).
func fleetKeys() int {
	if testing.Short() {
		return 100
	}
	return 1000
}

// TestFleet: 8 replicas, 1,000 API keys (5% revoked, 5% unknown) x 20
// requests each, spread over the replicas. Sharing one redis-server they
// ask the Backend API once per key; on their own, once per key and
// replica.
func TestFleet(t *testing.T) {
	const replicas, perKey = 8, 20
	keys := fleetKeys()
	// A store call that times out is asked of the Backend API instead,
	// which is right but would make the count depend on the machine's
	// load (two cores shared with other jobs): the test gives the store
	// as long as it needs. TestFleetRedisKilled keeps the default.
	const storeTimeout = 5 * time.Second
	const path = "/api_keys/verify"
	t.Run("shared store", func(t *testing.T) {
		api := clerktest.New(t)
		ks := newKeySet(api, keys)
		res := runFleet(t, newFleet(t, api, replicas, redisAddr, testPrefix(), storeTimeout, true), ks, perKey, false, nil)
		calls := api.Requests(path)
		t.Logf("8 replicas sharing redis: %d Backend API verify calls for %d requests (%s)", calls, keys*perKey, res)
		if calls > keys {
			t.Errorf("%d Backend API verify calls, want at most %d", calls, keys)
		}
		if res.ok.Load() != int64(keys*9/10*perKey) || res.unauthorized.Load() != int64(keys/10*perKey) {
			t.Errorf("answers: %s", res)
		}
	})
	t.Run("no store", func(t *testing.T) {
		api := clerktest.New(t)
		ks := newKeySet(api, keys)
		res := runFleet(t, newFleet(t, api, replicas, "", "", 0, false), ks, perKey, false, nil)
		calls := api.Requests(path)
		t.Logf("8 replicas on their own: %d Backend API verify calls for %d requests (%s)", calls, keys*perKey, res)
		if calls > keys*replicas {
			t.Errorf("%d calls, want at most %d", calls, keys*replicas)
		}
		if res.ok.Load() != int64(keys*9/10*perKey) || res.unauthorized.Load() != int64(keys/10*perKey) {
			t.Errorf("answers: %s", res)
		}
	})
	// Each key's 20 requests sent at once, over the 8 replicas: they all
	// miss the store at the same moment. With claims (SET NX), one
	// replica asks and the others wait for its verdict; without, each
	// replica asks (once: single flight holds within a replica).
	for _, claims := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared store, a key's requests at once, claims %v", claims), func(t *testing.T) {
			api := clerktest.New(t)
			ks := newKeySet(api, keys)
			res := runFleet(t, newFleet(t, api, replicas, redisAddr, testPrefix(), storeTimeout, claims), ks, perKey, true, nil)
			calls := api.Requests(path)
			t.Logf("8 replicas sharing redis (claims %v), each key's 20 requests at once: %d Backend API verify calls for %d keys (%s)",
				claims, calls, keys, res)
			if calls > keys*replicas || res.wrong.Load() != 0 ||
				res.ok.Load() != int64(keys*9/10*perKey) || res.unauthorized.Load() != int64(keys/10*perKey) {
				t.Errorf("%d calls, %s", calls, res)
			}
			// With claims, one call per key but for the rare claim taken
			// just after another replica's verdict was written and its
			// claim expired (the wait is long here: the store timeout is).
			if claims && calls > keys+keys/10 {
				t.Errorf("%d Backend API verify calls with claims, want about %d", calls, keys)
			}
		})
	}
}

// TestFleetRedisKilled: the fleet's redis-server is killed a quarter of
// the way through. Every request is still answered, from the Backend API
// (or 503 under the bound), and no revoked or unknown key is signed in.
func TestFleetRedisKilled(t *testing.T) {
	const replicas, perKey = 8, 20
	keys := fleetKeys()
	srv := ownRedis(t)
	api := clerktest.New(t)
	ks := newKeySet(api, keys)
	hs := newFleet(t, api, replicas, srv.addr, testPrefix(), 0, true)
	var before int
	res := runFleet(t, hs, ks, perKey, false, func(n int64) {
		if n == int64(keys*perKey/4) {
			before = api.Requests("/api_keys/verify")
			srv.cmd.Process.Kill()
		}
	})
	total := res.ok.Load() + res.unauthorized.Load() + res.unavailable.Load()
	t.Logf("redis-server killed after %d requests (%d Backend API calls then, %d in all): %s",
		keys*perKey/4, before, api.Requests("/api_keys/verify"), res)
	if total != int64(keys*perKey) || res.wrong.Load() != 0 {
		t.Fatalf("%d of %d requests answered rightly: %s", total, keys*perKey, res)
	}
}
