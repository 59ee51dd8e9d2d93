package clerkauth

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

const (
	maxCacheShards = 256
	// shardTarget is about how many entries a shard holds when the cache
	// is full: an insert copies one shard, so it must stay small.
	shardTarget = 32
)

// tokenCache maps a token already verified to what verification produced.
// It is sharded, and each shard is a copy-on-write map behind an atomic
// pointer: a hit is one hash of the token, one atomic load and one map
// lookup, with no lock, so concurrent readers never serialize. The maps
// are keyed by the token's 64-bit seeded hash, already computed to pick
// the shard, and each entry keeps its token to compare in full: a hash
// collision is a miss, never a wrong answer. Inserts (once per new token,
// after a ~50 µs RSA verification) copy the shard's small map of integer
// keys under the shard's mutex, about 1 µs. The capacity is bounded: a
// full shard first drops expired entries, then an arbitrary one.
//
// Memory per entry, for a typical 1 KiB session token: the token itself,
// the map slot (about 40 B), the verified record (64 B) and the Auth with
// its strings and slices (about 600 B): under 2 KiB.
type tokenCache struct {
	seed     maphash.Seed
	mask     uint64 // len(shards)-1; len(shards) is a power of two
	perShard int
	shards   []cacheShard
}

type cacheShard struct {
	m  atomic.Pointer[map[uint64]cacheEntry] // read without locking
	mu sync.Mutex                            // serializes writers of m
	_  [48]byte                              // keep shards on separate cache lines
}

type cacheEntry struct {
	tok string
	v   *verified
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	n := 1
	if size >= 2*shardTarget {
		n = min(maxCacheShards, 1<<(bits.Len(uint(size/shardTarget))-1))
	}
	return &tokenCache{
		seed:     maphash.MakeSeed(),
		mask:     uint64(n - 1),
		perShard: (size + n - 1) / n,
		shards:   make([]cacheShard, n),
	}
}

func (c *tokenCache) locate(tok string) (*cacheShard, uint64) {
	h := maphash.String(c.seed, tok)
	return &c.shards[h&c.mask], h
}

func (c *tokenCache) get(tok string) *verified {
	s, h := c.locate(tok)
	if m := s.m.Load(); m != nil {
		if e, ok := (*m)[h]; ok && e.tok == tok {
			return e.v
		}
	}
	return nil
}

// put stores v under tok. now is used to drop expired entries when the
// shard is full. The cache keeps tok: pass a string that does not hold a
// larger one (a substring of a whole header) alive.
func (c *tokenCache) put(tok string, v *verified, now time.Time) {
	s, h := c.locate(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	n := 0
	if old != nil {
		n = len(*old)
	}
	next := make(map[uint64]cacheEntry, min(n+1, c.perShard))
	if old != nil {
		full := n >= c.perShard
		cutoff := now.Unix()
		for k, e := range *old {
			if full && e.v.exp < cutoff {
				continue // expired (skew aside): never served again
			}
			next[k] = e
		}
		for k := range next {
			if len(next) < c.perShard {
				break
			}
			delete(next, k) // arbitrary victim: map order is random
		}
	}
	next[h] = cacheEntry{tok: tok, v: v}
	s.m.Store(&next)
}

// remove drops tok, for an entry whose key has left the key set.
func (c *tokenCache) remove(tok string) {
	s, h := c.locate(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old == nil {
		return
	}
	if e, ok := (*old)[h]; !ok || e.tok != tok {
		return
	}
	next := make(map[uint64]cacheEntry, len(*old))
	for k, e := range *old {
		if k != h {
			next[k] = e
		}
	}
	s.m.Store(&next)
}

// len returns the number of entries, for tests.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		if m := c.shards[i].m.Load(); m != nil {
			n += len(*m)
		}
	}
	return n
}
