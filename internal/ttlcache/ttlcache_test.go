package ttlcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func value(v string, until time.Time, err error) LoadFunc[string] {
	return func(context.Context) (string, time.Time, error) { return v, until, err }
}

func TestExpiryAndErrors(t *testing.T) {
	clk := newClock()
	c := New[string, string](Options{Size: 10, Now: clk.Now})
	defer c.Close()
	ctx := context.Background()
	if v, err := c.Get(ctx, "a", value("1", clk.Now().Add(time.Minute), nil)); v != "1" || err != nil {
		t.Fatal(v, err)
	}
	// Served from the cache until it expires: the loader is not called.
	if v, _ := c.Get(ctx, "a", value("2", clk.Now().Add(time.Minute), nil)); v != "1" {
		t.Fatal(v)
	}
	clk.Add(time.Minute)
	if v, _ := c.Get(ctx, "a", value("3", time.Time{}, nil)); v != "3" {
		t.Fatalf("expired entry served: %v", v)
	}
	// A zero until stores nothing.
	if v, _ := c.Get(ctx, "a", value("4", time.Time{}, nil)); v != "4" {
		t.Fatal(v)
	}
	// Errors are cached when until says so.
	bad := errors.New("bad")
	c.Get(ctx, "b", value("", clk.Now().Add(time.Second), bad))
	if _, err, ok := c.Lookup("b"); !ok || err != bad {
		t.Fatal(ok, err)
	}
}

func TestEvictionOldestFirst(t *testing.T) {
	clk := newClock()
	c := New[int, int](Options{Size: 3, Now: clk.Now})
	defer c.Close()
	until := clk.Now().Add(time.Hour)
	for i := range 5 {
		c.Get(context.Background(), i, func(context.Context) (int, time.Time, error) { return i, until, nil })
	}
	if c.Len() != 3 {
		t.Fatalf("len %d, want 3", c.Len())
	}
	for i := range 5 {
		_, _, ok := c.Lookup(i)
		if ok != (i >= 2) {
			t.Fatalf("key %d cached=%v", i, ok)
		}
	}
	// Size 0 keeps nothing.
	z := New[int, int](Options{Now: clk.Now})
	z.Get(context.Background(), 1, func(context.Context) (int, time.Time, error) { return 1, until, nil })
	if z.Len() != 0 {
		t.Fatal("size 0 stored an entry")
	}
}

// TestSingleFlight: N concurrent callers of one key share one load.
func TestSingleFlight(t *testing.T) {
	c := New[string, int](Options{Size: 10})
	defer c.Close()
	var loads atomic.Int64
	release := make(chan struct{})
	const n = 50
	var started, wg sync.WaitGroup
	started.Add(n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			v, err := c.Get(context.Background(), "k", func(context.Context) (int, time.Time, error) {
				loads.Add(1)
				<-release
				return 7, time.Now().Add(time.Hour), nil
			})
			if v != 7 || err != nil {
				t.Error(v, err)
			}
		}()
	}
	started.Wait()
	for c.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if loads.Load() != 1 {
		t.Fatalf("%d loads, want 1", loads.Load())
	}
}

// waitFor polls cond, failing only after a generous hang-detector bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCancelWhenAllWaitersGone: a waiter that gives up does not cancel the
// load for others; when the last one gives up the load is cancelled, and
// the next caller starts a fresh load.
func TestCancelWhenAllWaitersGone(t *testing.T) {
	c := New[string, string](Options{Size: 10})
	defer c.Close()
	var cancelled atomic.Int64
	release := make(chan struct{})
	load := func(ctx context.Context) (string, time.Time, error) {
		select {
		case <-ctx.Done():
			cancelled.Add(1)
			return "", time.Time{}, ctx.Err()
		case <-release:
			return "ok", time.Now().Add(time.Hour), nil
		}
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := c.Get(ctx1, "k", load); errs <- err }()
	go func() { _, err := c.Get(ctx2, "k", load); errs <- err }()
	waitFor(t, "two waiters", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		cl := c.inflight["k"]
		return cl != nil && cl.waiters == 2
	})
	cancel1()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("first waiter: %v", err)
	}
	if cancelled.Load() != 0 || c.InFlight() != 1 {
		t.Fatal("one waiter leaving cancelled the load")
	}
	cancel2()
	<-errs
	waitFor(t, "the load to end", func() bool { return c.InFlight() == 0 })
	if cancelled.Load() != 1 {
		t.Fatalf("load cancelled %d times, want 1", cancelled.Load())
	}
	if _, _, ok := c.Lookup("k"); ok {
		t.Fatal("cancelled load stored")
	}
	// A new caller starts a new load, which completes.
	close(release)
	if v, err := c.Get(context.Background(), "k", load); v != "ok" || err != nil {
		t.Fatal(v, err)
	}
}

// TestBoundOnLoads: with MaxInFlight loads running, a caller with a new
// key gets ErrBusy at once; a caller of a key in flight still joins it.
func TestBoundOnLoads(t *testing.T) {
	c := New[int, int](Options{Size: 100, MaxInFlight: 4})
	release := make(chan struct{})
	var loads atomic.Int64
	load := func(ctx context.Context) (int, time.Time, error) {
		loads.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return 1, time.Now().Add(time.Hour), nil
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Get(context.Background(), i, load) }()
	}
	waitFor(t, "4 loads", func() bool { return c.InFlight() == 4 })
	busy := 0
	for i := 4; i < 104; i++ {
		if _, err := c.Get(context.Background(), i, load); errors.Is(err, ErrBusy) {
			busy++
		}
	}
	if busy != 100 || loads.Load() != 4 {
		t.Fatalf("busy %d of 100, loads %d", busy, loads.Load())
	}
	joined := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), 0, load); joined <- err }()
	close(release)
	if err := <-joined; err != nil {
		t.Fatalf("joining a load in flight: %v", err)
	}
	wg.Wait()
	c.Close()
	if _, err := c.Get(context.Background(), 999, load); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestCloseCancelsLoads: Close cancels every load and waits for it.
func TestCloseCancelsLoads(t *testing.T) {
	c := New[int, int](Options{Size: 10})
	var ended atomic.Int64
	for i := range 10 {
		go c.Get(context.Background(), i, func(ctx context.Context) (int, time.Time, error) {
			<-ctx.Done()
			ended.Add(1)
			return 0, time.Time{}, ctx.Err()
		})
	}
	waitFor(t, "10 loads", func() bool { return c.InFlight() == 10 })
	c.Close()
	if ended.Load() != 10 {
		t.Fatalf("%d loads ended at Close, want 10", ended.Load())
	}
}

// TestConcurrentCounts hammers the cache from many goroutines with keys in
// and out of the cache, waiters that give up, and a bound, then checks the
// invariants by count: every load that was not abandoned ran once per key
// and generation, the size bound held, nothing is left in flight.
func TestConcurrentCounts(t *testing.T) {
	clk := newClock()
	c := New[string, string](Options{Size: 64, MaxInFlight: 8, Now: clk.Now})
	var wg sync.WaitGroup
	var busy, gaveUp, ok atomic.Int64
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				key := fmt.Sprint((g*7 + i) % 200)
				ctx, cancel := context.WithCancel(context.Background())
				if i%5 == 0 {
					cancel() // gives up at once
				}
				v, err := c.Get(ctx, key, func(ctx context.Context) (string, time.Time, error) {
					return key, clk.Now().Add(time.Second), nil
				})
				cancel()
				switch {
				case errors.Is(err, ErrBusy):
					busy.Add(1)
				case errors.Is(err, context.Canceled):
					gaveUp.Add(1)
				case err == nil && v == key:
					ok.Add(1)
				default:
					t.Errorf("key %s: %q %v", key, v, err)
				}
				if c.Len() > 64 {
					t.Errorf("len %d over the bound", c.Len())
				}
			}
		}()
	}
	wg.Wait()
	c.Close()
	if ok.Load()+busy.Load()+gaveUp.Load() != 16*500 || ok.Load() == 0 {
		t.Fatalf("ok %d busy %d gave up %d", ok.Load(), busy.Load(), gaveUp.Load())
	}
	if c.InFlight() != 0 || len(c.inflight) != 0 {
		t.Fatal("loads left in flight")
	}
}
