// Package fifocache is a map from strings to values that expire at a
// fixed time, bounded in entries and in bytes, evicted in insertion order. A hit is a read lock and one
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
// The capacity is bounded in entries and in bytes (each entry's cost, as
// its caller states it). Entries are kept in insertion order; an insert
// first drops the oldest entries that have expired (a value's expiry is
// fixed when stored, and values are stored soon after they are made, so
// the oldest expire first), then, while the cache is still full in entries
// or the new entry's cost does not fit, the oldest ones: O(1) amortized.
// An entry costing more than the whole budget is not stored. An expired entry is not dropped on a hit (Get
// reads no clock): the caller checks and calls Remove; one nobody asks for
// again is dropped when it becomes the oldest.
type Cache[V any] struct {
	size     int
	maxBytes int64
	skew     int64 // nanoseconds: an entry lives until exp+skew

	mu     sync.RWMutex // guards m, bytes and the list of entries
	m      map[string]*entry[V]
	bytes  int64     // the sum of the entries' costs
	oldest *entry[V] // newer links towards the newest
	newest *entry[V]
}

type entry[V any] struct {
	key          string
	v            V
	exp          int64 // Unix seconds
	cost         int64
	older, newer *entry[V]
}

// New returns a cache of at most size entries costing at most maxBytes
// together, or nil (off) when either is <= 0. An entry is dropped as
// expired once skew has passed after its expiry.
func New[V any](size int, maxBytes int64, skew time.Duration) *Cache[V] {
	if size <= 0 || maxBytes <= 0 {
		return nil
	}
	return &Cache[V]{size: size, maxBytes: maxBytes, skew: int64(skew), m: make(map[string]*entry[V])}
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

// Put stores v under key until exp (Unix seconds); cost is what the entry
// holds in bytes (the key included), now is used to drop expired entries.
// A key already present gets the new value in place. The cache keeps
// key: pass a string that does not hold a larger one (a substring of a
// whole header) alive.
func (c *Cache[V]) Put(key string, v V, cost, exp int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cost > c.maxBytes {
		if e := c.m[key]; e != nil {
			c.unlinkLocked(e)
		}
		return
	}
	if e := c.m[key]; e != nil {
		c.bytes += cost - e.cost
		e.v, e.exp, e.cost = v, exp, cost
		for c.bytes > c.maxBytes && c.oldest != e {
			c.unlinkLocked(c.oldest)
		}
		return
	}
	// exp is clamped by callers to ±2^33 s, so nanoseconds cannot overflow.
	cutoff := now.UnixNano() - c.skew
	for c.oldest != nil && (len(c.m) >= c.size || c.bytes+cost > c.maxBytes || c.oldest.exp*1e9 <= cutoff) {
		c.unlinkLocked(c.oldest)
	}
	c.bytes += cost
	e := &entry[V]{key: key, v: v, exp: exp, cost: cost, older: c.newest}
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
	c.bytes -= e.cost
	delete(c.m, e.key)
}

// Bytes returns the sum of the entries' costs.
func (c *Cache[V]) Bytes() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
