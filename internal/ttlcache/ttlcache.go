// Package ttlcache is a bounded cache of values that expire, with
// single-flight loading: however many callers ask for a key that is not
// cached, one load runs, and every caller waits for its answer.
//
// A load runs in its own goroutine, on a context of its own that is
// cancelled when every caller waiting for it has given up (or the cache is
// closed): a caller that leaves does not cancel the others, and a load
// nobody waits for any more does not run on. Loads in flight can be
// bounded: a caller that would start one more gets [ErrBusy] at once,
// without queueing.
//
// Eviction is O(1): entries sit in a list (container/list) in insertion
// order and a full cache drops the oldest one.
package ttlcache

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

var (
	// ErrBusy is returned by Get when starting a load would exceed the
	// bound on loads in flight.
	ErrBusy = errors.New("ttlcache: too many loads in flight")
	// ErrClosed is returned by Get after Close.
	ErrClosed = errors.New("ttlcache: closed")
)

// LoadFunc computes the value of a key. It returns the value, the error
// to hand to the callers, and until when both may be served from the
// cache; a zero or past until stores nothing. ctx is cancelled when every
// caller waiting for the load has given up.
type LoadFunc[V any] func(ctx context.Context) (v V, until time.Time, err error)

// Cache maps keys to values that expire. The zero value is not usable:
// build it with New.
type Cache[K comparable, V any] struct {
	size        int              // most entries kept; <= 0 keeps none
	maxInFlight int              // most loads running; <= 0: no bound
	now         func() time.Time // for expiry

	ctx    context.Context // parent of every load; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // loads running

	mu       sync.Mutex // guards everything below
	closed   bool
	entries  map[K]*list.Element // Value: *entry[K, V]
	order    list.List           // entries, oldest first
	inflight map[K]*call[V]
	running  int // loads whose goroutine has not returned
}

type entry[K comparable, V any] struct {
	key   K
	v     V
	err   error
	until time.Time
}

// call is one load; done is closed once v and err are set.
type call[V any] struct {
	done    chan struct{}
	v       V
	err     error
	waiters int // callers waiting; the load is cancelled when it drops to 0
	cancel  context.CancelFunc
}

// Options configures a Cache.
type Options struct {
	// Size bounds the number of entries; <= 0 caches nothing (loads are
	// still shared).
	Size int
	// MaxInFlight bounds the loads running at once; <= 0: no bound.
	MaxInFlight int
	// Now returns the current time; nil: time.Now.
	Now func() time.Time
}

// New returns an empty cache.
func New[K comparable, V any](o Options) *Cache[K, V] {
	c := &Cache[K, V]{
		size:        o.Size,
		maxInFlight: o.MaxInFlight,
		now:         o.Now,
		entries:     make(map[K]*list.Element),
		inflight:    make(map[K]*call[V]),
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Close cancels the loads in flight and waits for them to return. Get
// after Close serves cached entries and fails with ErrClosed otherwise.
func (c *Cache[K, V]) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// Lookup returns the cached value of key; ok is false when there is none
// (or it expired).
func (c *Cache[K, V]) Lookup(key K) (v V, err error, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookupLocked(key)
}

func (c *Cache[K, V]) lookupLocked(key K) (v V, err error, ok bool) {
	el := c.entries[key]
	if el == nil {
		return v, nil, false
	}
	e := el.Value.(*entry[K, V])
	if !c.now().Before(e.until) {
		c.removeLocked(el)
		return v, nil, false
	}
	return e.v, e.err, true
}

// Get returns the cached value of key, or waits for a load of it: the one
// in flight, or a new one running load. It returns ctx's error (wrapped)
// when ctx ends first, ErrBusy when a new load would exceed the bound, and
// ErrClosed after Close.
func (c *Cache[K, V]) Get(ctx context.Context, key K, load LoadFunc[V]) (V, error) {
	c.mu.Lock()
	if v, err, ok := c.lookupLocked(key); ok {
		c.mu.Unlock()
		return v, err
	}
	cl := c.inflight[key]
	if cl == nil {
		var zero V
		switch {
		case c.closed:
			c.mu.Unlock()
			return zero, ErrClosed
		case c.maxInFlight > 0 && c.running >= c.maxInFlight:
			c.mu.Unlock()
			return zero, ErrBusy
		}
		cl = &call[V]{done: make(chan struct{})}
		var lctx context.Context
		lctx, cl.cancel = context.WithCancel(c.ctx)
		c.inflight[key] = cl
		c.running++
		c.wg.Add(1)
		go c.run(lctx, key, cl, load)
	}
	cl.waiters++
	c.mu.Unlock()

	select {
	case <-cl.done:
		return cl.v, cl.err
	case <-ctx.Done():
	}
	c.mu.Lock()
	select {
	case <-cl.done: // finished meanwhile: take the answer
		c.mu.Unlock()
		return cl.v, cl.err
	default:
	}
	cl.waiters--
	if cl.waiters == 0 {
		// Nobody waits any more: stop the load, and let the next caller
		// start a fresh one rather than join a cancelled one.
		cl.cancel()
		if c.inflight[key] == cl {
			delete(c.inflight, key)
		}
	}
	c.mu.Unlock()
	var zero V
	return zero, &WaitError{Err: ctx.Err()}
}

// WaitError is returned by Get when the caller's context ended before the
// load; it unwraps to the context's error.
type WaitError struct{ Err error }

func (e *WaitError) Error() string { return "ttlcache: gave up waiting: " + e.Err.Error() }

// Unwrap returns the context's error.
func (e *WaitError) Unwrap() error { return e.Err }

func (c *Cache[K, V]) run(ctx context.Context, key K, cl *call[V], load LoadFunc[V]) {
	defer c.wg.Done()
	v, until, err := load(ctx)
	c.publish(key, cl, v, until, err)
}

// publish stores the answer of a load (unless it was cancelled) and
// releases its waiters.
func (c *Cache[K, V]) publish(key K, cl *call[V], v V, until time.Time, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running--
	if c.inflight[key] != cl {
		// Abandoned by every waiter: nobody to answer, nothing to store
		// (the answer may be the cancellation itself).
		cl.cancel()
		cl.v, cl.err = v, err
		close(cl.done)
		return
	}
	delete(c.inflight, key)
	cl.cancel()
	cl.v, cl.err = v, err
	close(cl.done)
	if c.size > 0 && c.now().Before(until) {
		c.putLocked(key, v, err, until)
	}
}

func (c *Cache[K, V]) putLocked(key K, v V, err error, until time.Time) {
	if old := c.entries[key]; old != nil {
		c.removeLocked(old)
	}
	for len(c.entries) >= c.size && c.order.Len() > 0 {
		c.removeLocked(c.order.Front())
	}
	c.entries[key] = c.order.PushBack(&entry[K, V]{key: key, v: v, err: err, until: until})
}

func (c *Cache[K, V]) removeLocked(el *list.Element) {
	delete(c.entries, c.order.Remove(el).(*entry[K, V]).key)
}

// Len returns the number of entries, expired ones included until they are
// looked up or evicted.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// InFlight returns the number of loads whose goroutine is running.
func (c *Cache[K, V]) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// Waiters returns how many callers wait for the load of key in flight.
func (c *Cache[K, V]) Waiters(key K) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.inflight[key]; cl != nil {
		return cl.waiters
	}
	return 0
}
