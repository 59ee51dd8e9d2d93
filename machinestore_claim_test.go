package clerkauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// claimStore is a memStore with claims (a MachineTokenClaimer), which
// expire on the real clock. With fail set, every Claim fails.
type claimStore struct {
	*memStore
	fail bool

	cmu    sync.Mutex
	claims map[string]time.Time // key -> expiry

	won, lost atomic.Int64
}

func newClaimStore() *claimStore {
	return &claimStore{memStore: newMemStore(), claims: map[string]time.Time{}}
}

func (s *claimStore) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if s.fail {
		return false, errors.New("claim refused")
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if exp, ok := s.claims[key]; ok && time.Now().Before(exp) {
		s.lost.Add(1)
		return false, nil
	}
	s.claims[key] = time.Now().Add(max(ttl, time.Millisecond))
	s.won.Add(1)
	return true, nil
}

var _ MachineTokenClaimer = (*claimStore)(nil)

// replicaRun sends perReplica requests with tok to each of ms at once
// (released together by a barrier), and checks each answer: signed in as
// subject, or 401 token-invalid when subject is "".
func replicaRun(t *testing.T, ms []*Middleware, perReplica int, tok, subject string) {
	t.Helper()
	barrier := make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range ms {
		for range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-barrier
				a, err := m.Authenticate(bearer(tok))
				switch {
				case subject == "" && (a.IsSignedIn() || reasonOf(err) != ReasonTokenInvalid):
					t.Errorf("%s: signed in %v as %q (%v), want token-invalid", tok, a.IsSignedIn(), a.UserID, err)
				case subject != "" && (err != nil || a.UserID != subject):
					t.Errorf("%s: %q %v, want %q", tok, a.UserID, err, subject)
				}
			}()
		}
	}
	close(barrier)
	wg.Wait()
}

func claimFleet(t *testing.T, api *machineAPI, s MachineTokenStore, n int, wait time.Duration) []*Middleware {
	t.Helper()
	ms := make([]*Middleware, n)
	for i := range ms {
		ms[i] = storeMiddleware(t, api, s, func(o *Options) { o.Logger = discardLogger() })
		if _, ok := s.(MachineTokenClaimer); ok && ms[i].c.mach.store.claimer == nil {
			t.Fatal("the store's Claim is not used")
		}
		if wait > 0 {
			ms[i].c.mach.store.wait = wait
		}
	}
	return ms
}

// TestMachineStoreClaim: replicas that see a new token at the same
// moment make one Backend API call between them when the store takes
// claims; without claims, one each.
func TestMachineStoreClaim(t *testing.T) {
	const replicas, perReplica = 8, 5
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	api.add("ak_revoked", map[string]any{"id": "ak_2", "subject": "user_2", "revoked": true})

	if m := storeMiddleware(t, api, newMemStore(), nil); m.c.mach.store.claimer != nil ||
		m.c.mach.store.wait != 250*time.Millisecond {
		t.Fatalf("a store without Claim: claimer %v, wait %v (want 250ms by default)", m.c.mach.store.claimer, m.c.mach.store.wait)
	}

	// The Backend API holds its answers until every replica is in: the
	// claimer asking, the others waiting for its verdict (or, without
	// claims, all asking). The wait is long enough for any machine load:
	// the count does not depend on timing.
	for _, tc := range []struct {
		name   string
		claims bool
		tok    string
		sub    string
	}{
		{"claims", true, "ak_good", "user_1"},
		{"claims, revoked", true, "ak_revoked", ""},
		{"claims, unknown", true, "ak_unknown", ""},
		{"no claims", false, "ak_good", "user_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s MachineTokenStore = newMemStore()
			cs := newClaimStore()
			if tc.claims {
				s = cs
			}
			ms := claimFleet(t, api, s, replicas, time.Minute)
			if !tc.claims {
				for _, m := range ms {
					m.c.mach.store.claimer = nil
				}
			}
			release := make(chan struct{})
			api.hold(release)
			before := api.calls.Load()
			done := make(chan struct{})
			go func() {
				defer close(done)
				replicaRun(t, ms, perReplica, tc.tok, tc.sub)
			}()
			if tc.claims {
				waitUntil(t, "one claimer asking, the others waiting", func() bool {
					return api.calls.Load()-before == 1 && cs.lost.Load() == replicas-1
				})
			} else {
				waitUntil(t, "every replica asking", func() bool { return api.calls.Load()-before == replicas })
			}
			api.hold(nil)
			close(release)
			<-done
			want := int64(1)
			if !tc.claims {
				want = replicas
			}
			if n := api.calls.Load() - before; n != want {
				t.Fatalf("%d replicas x %d requests at once: %d Backend API calls, want %d", replicas, perReplica, n, want)
			}
			t.Logf("%d replicas x %d requests at once: %d Backend API call(s)", replicas, perReplica, want)
		})
	}
}

// TestMachineStoreClaimStale: a claim whose verdict never comes (its
// replica died, or someone able to write to the store planted it) costs
// the waiting replicas the wait, then each asks the Backend API itself:
// right verdicts, one call per replica, never a signed-in answer from the
// wait, even with a forged verdict in the store.
func TestMachineStoreClaimStale(t *testing.T) {
	const replicas, perReplica = 8, 5
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	api.add("ak_revoked", map[string]any{"id": "ak_2", "subject": "user_2", "revoked": true})
	// A verdict sealed by another instance (another secret key): what a
	// writer without this instance's secret key can plant at best.
	forger := storeMiddleware(t, api, newMemStore(), func(o *Options) { o.SecretKey = "sk_test_forger" })

	for _, tc := range []struct {
		name, tok, sub string
		forge          bool
	}{
		{"dead claimer", "ak_good", "user_1", false},
		{"dead claimer, unknown", "ak_unknown", "", false},
		{"forged claim and verdict, revoked", "ak_revoked", "", true},
		{"forged claim and verdict, unknown", "ak_unknown", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newClaimStore()
			ms := claimFleet(t, api, s, replicas, 20*time.Millisecond)
			key := storeKey(ms[0], tc.tok)
			if won, _ := s.Claim(context.Background(), claimKey(key), time.Hour); !won {
				t.Fatal("no claim")
			}
			if tc.forge {
				fe := &storeEntry{Kind: "api_key", Verdict: verdictOK, At: testNow.UnixMilli(),
					Until: testNow.Add(time.Hour).UnixMilli(), Subject: "user_evil", Scopes: []string{}}
				s.put(key, forger.c.mach.store.seal(key, fe))
			}
			// The Backend API holds its answers until every replica asks:
			// none can write a verdict that would end the others' wait.
			release := make(chan struct{})
			api.hold(release)
			before := api.calls.Load()
			done := make(chan struct{})
			go func() {
				defer close(done)
				replicaRun(t, ms, perReplica, tc.tok, tc.sub)
			}()
			waitUntil(t, "every replica asking", func() bool { return api.calls.Load()-before == replicas })
			api.hold(nil)
			close(release)
			<-done
			if n := api.calls.Load() - before; n != replicas {
				t.Fatalf("%d Backend API calls, want %d (one per replica, after the wait)", n, replicas)
			}
			if s.lost.Load() != replicas {
				t.Fatalf("%d claims lost, want %d", s.lost.Load(), replicas)
			}
			// The Backend API's verdict replaced the forged one.
			if e, ok := ms[0].c.mach.store.open(key, s.value(key)); !ok || e.Subject == "user_evil" {
				t.Fatalf("store after the wait: %+v %v", e, ok)
			}
		})
	}
}

// TestMachineStoreClaimFails: a store whose Claim fails works as one
// without claims: the Backend API is asked, the verdict written.
func TestMachineStoreClaimFails(t *testing.T) {
	api := newMachineAPI(t)
	api.add("ak_good", map[string]any{"id": "ak_1", "subject": "user_1"})
	s := newClaimStore()
	s.fail = true
	ms := claimFleet(t, api, s, 2, 0)
	if a, err := ms[0].Authenticate(bearer("ak_good")); err != nil || a.UserID != "user_1" {
		t.Fatalf("claim failing: %v", err)
	}
	if a, err := ms[1].Authenticate(bearer("ak_good")); err != nil || a.UserID != "user_1" {
		t.Fatalf("second replica: %v", err)
	}
	if n := api.calls.Load(); n != 1 || s.sets.Load() != 1 {
		t.Fatalf("%d calls, %d writes; want 1, 1", n, s.sets.Load())
	}
}

// TestMachineStoreClaimBreaker: a replica that lost the claim and whose
// breaker is open when nothing came answers 503 without a call.
func TestMachineStoreClaimBreaker(t *testing.T) {
	api := newMachineAPI(t)
	s := newClaimStore()
	ms := claimFleet(t, api, s, 1, 5*time.Millisecond)
	s.Claim(context.Background(), claimKey(storeKey(ms[0], "ak_x")), time.Hour)
	api.set(http.StatusServiceUnavailable, 0)
	h := ms[0].RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("signed in") }))
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, bearer("ak_x"))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%d, want 503", rec.Code)
		}
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1 (then the breaker)", n)
	}
}
