// Package fifocache is a bounded map from strings to values that expire at
// a fixed time, evicted in insertion order. A hit is a read lock and one
// map lookup, with no allocation and no clock read: callers check expiry
// themselves on every hit.
package fifocache

import (
	"sync"
	"time"
)

// Cache maps keys to values. It is a map behind a sync.RWMutex: a hit is
// a read lock and one map lookup (Go hashes and compares the full key).
// The root package's BenchmarkCacheGet measured this design against a
// sharded lock-free one, sync.Map and internal/ttlcache; it was the
// fastest at every -cpu measured.
//
// The capacity is bounded. Entries are kept in insertion order; an insert
// first drops the oldest entries that have expired (a value's expiry is
// fixed when stored, and values are stored soon after they are made, so
// the oldest expire first), then, if the cache is still full, the oldest
// one: O(1) amortized. An expired entry is not dropped on a hit (Get
// reads no clock): the caller checks and calls Remove; one nobody asks for
// again is dropped when it becomes the oldest.
type Cache[V any] struct {
	size int
	skew int64 // nanoseconds: an entry lives until exp+skew

	mu     sync.RWMutex // guards m and the list of entries
	m      map[string]*entry[V]
	oldest *entry[V] // newer links towards the newest
	newest *entry[V]
}

type entry[V any] struct {
	key          string
	v            V
	exp          int64 // Unix seconds
	older, newer *entry[V]
}

// New returns a cache of at most size entries, or nil (off) when size <=
// 0. An entry is dropped as expired once skew has passed after its expiry.
func New[V any](size int, skew time.Duration) *Cache[V] {
	if size <= 0 {
		return nil
	}
	return &Cache[V]{size: size, skew: int64(skew), m: make(map[string]*entry[V])}
}

// Get returns the value stored under key, or the zero value.
func (c *Cache[V]) Get(key string) V {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.m[key]; e != nil {
		return e.v
	}
	var zero V
	return zero
}

// Put stores v under key until exp (Unix seconds); now is used to drop
// expired entries. A key already present gets the new value in place. The
// cache keeps key: pass a string that does not hold a larger one (a
// substring of a whole header) alive.
func (c *Cache[V]) Put(key string, v V, exp int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[key]; e != nil {
		e.v, e.exp = v, exp
		return
	}
	// exp is clamped by callers to ±2^33 s, so nanoseconds cannot overflow.
	cutoff := now.UnixNano() - c.skew
	for c.oldest != nil && (len(c.m) >= c.size || c.oldest.exp*1e9 <= cutoff) {
		c.unlinkLocked(c.oldest)
	}
	e := &entry[V]{key: key, v: v, exp: exp, older: c.newest}
	if c.newest != nil {
		c.newest.newer = e
	} else {
		c.oldest = e
	}
	c.newest = e
	c.m[key] = e
}

// Remove drops key, if present.
func (c *Cache[V]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[key]; e != nil {
		c.unlinkLocked(e)
	}
}

func (c *Cache[V]) unlinkLocked(e *entry[V]) {
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		c.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		c.newest = e.older
	}
	e.older, e.newer = nil, nil
	delete(c.m, e.key)
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
