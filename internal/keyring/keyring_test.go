package keyring

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestRingPolicy walks the refresh policy: the first lookup waits for the
// first download; an unknown kid refreshes once per cooldown; a kid that
// left the set is refused without a download; a failed refresh keeps the
// last good keys; Close ends the downloads.
func TestRingPolicy(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var mu sync.Mutex
	keys := map[string]string{"a": "key-a"}
	var fail error
	fetches := 0
	r := New(Options[string]{
		Fetch: func(context.Context) (map[string]string, map[string]bool, error) {
			mu.Lock()
			defer mu.Unlock()
			fetches++
			if fail != nil {
				return nil, nil, fail
			}
			return keys, nil, nil
		},
		Failed:    func(error, bool) {},
		Now:       clock.Now,
		Interval:  time.Hour,
		Cooldown:  30 * time.Second,
		Wait:      5 * time.Second,
		MaxKidLen: 16, MaxUnusable: 8,
	})
	defer r.Close()
	ctx := context.Background()
	lookup := func(kid, want string, wantErr error) {
		t.Helper()
		got, err := r.Lookup(ctx, kid)
		if got != want || !errors.Is(err, wantErr) {
			t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", kid, got, err, want, wantErr)
		}
	}
	downloads := func(want uint64) {
		t.Helper()
		r.WaitIdle()
		if n := r.Fetches(); n != want {
			t.Fatalf("%d downloads, want %d", n, want)
		}
	}

	lookup("a", "key-a", nil)
	downloads(1)
	lookup("b", "", ErrKidMismatch) // a download made for it lacks it
	downloads(2)
	lookup("c", "", ErrRefreshRefused) // inside the cooldown
	lookup("", "", ErrKidMismatch)     // never worth a download
	lookup("0123456789abcdefg", "", ErrKidMismatch)
	downloads(2)

	clock.Add(31 * time.Second)
	mu.Lock()
	keys = map[string]string{"c": "key-c"}
	mu.Unlock()
	lookup("c", "key-c", nil) // rotation: found by the refresh
	downloads(3)
	lookup("a", "", ErrKidMismatch) // retired: refused without a download
	downloads(3)
	if r.Current("a", "key-a", clock.Now()) || !r.Current("c", "key-c", clock.Now()) {
		t.Fatal("Current does not follow the set")
	}

	clock.Add(time.Hour) // due: Current starts the refresh, which fails
	boom := errors.New("boom")
	mu.Lock()
	fail = boom
	mu.Unlock()
	r.Current("c", "key-c", clock.Now())
	downloads(4)
	lookup("c", "key-c", nil) // the last good keys are kept

	r.Close()
	clock.Add(time.Minute)
	lookup("d", "", ErrClosed)
}

// TestRingFirstDownloadFails: with no keys ever loaded, a lookup gets the
// download's own error, and within the failure backoff no new download.
func TestRingFirstDownloadFails(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	boom := errors.New("boom")
	var mu sync.Mutex
	hadKeys := []bool{}
	r := New(Options[string]{
		Fetch: func(context.Context) (map[string]string, map[string]bool, error) { return nil, nil, boom },
		Failed: func(_ error, had bool) {
			mu.Lock()
			hadKeys = append(hadKeys, had)
			mu.Unlock()
		},
		Now: clock.Now, Interval: time.Hour, Cooldown: 30 * time.Second, Wait: 5 * time.Second,
		MaxKidLen: 16, MaxUnusable: 8,
	})
	defer r.Close()
	if _, err := r.Lookup(context.Background(), "a"); !errors.Is(err, boom) {
		t.Fatalf("Lookup: %v, want the download's error", err)
	}
	r.WaitIdle()
	n := r.Fetches()
	if _, err := r.Lookup(context.Background(), "a"); !errors.Is(err, boom) {
		t.Fatalf("Lookup within the backoff: %v", err)
	}
	if r.Fetches() != n {
		t.Fatal("a download within the failure backoff")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hadKeys) == 0 || hadKeys[0] {
		t.Fatalf("Failed told %v, want hadKeys false", hadKeys)
	}
}
