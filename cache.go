package clerkauth

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const cacheShards = 64

// tokenCache maps a token already verified to what verification produced.
// It is sharded, and each shard is a copy-on-write map behind an atomic
// pointer: a hit is one atomic load and one map lookup, with no lock, so
// concurrent readers never serialize. Inserts (once per new token, after a
// ~50 µs RSA verification) copy the shard's small map under the shard's
// mutex. The capacity is bounded: a full shard first drops expired
// entries, then an arbitrary one.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	m  atomic.Pointer[map[string]*verified] // read without locking
	mu sync.Mutex                           // serializes writers of m
	_  [40]byte                             // keep shards on separate cache lines
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	return &tokenCache{
		seed:     maphash.MakeSeed(),
		perShard: max(1, (size+cacheShards-1)/cacheShards),
	}
}

func (c *tokenCache) shard(tok string) *cacheShard {
	return &c.shards[maphash.String(c.seed, tok)%cacheShards]
}

func (c *tokenCache) get(tok string) *verified {
	if m := c.shard(tok).m.Load(); m != nil {
		return (*m)[tok]
	}
	return nil
}

// put stores v under tok. now is used to drop expired entries when the
// shard is full.
func (c *tokenCache) put(tok string, v *verified, now time.Time) {
	s := c.shard(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	n := 0
	if old != nil {
		n = len(*old)
	}
	next := make(map[string]*verified, min(n+1, c.perShard))
	if old != nil {
		full := n >= c.perShard
		cutoff := now.Unix()
		for k, e := range *old {
			if full && e.exp < cutoff {
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
	next[tok] = v
	s.m.Store(&next)
}

// remove drops tok, for an entry whose key has left the key set.
func (c *tokenCache) remove(tok string) {
	s := c.shard(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old == nil {
		return
	}
	if _, ok := (*old)[tok]; !ok {
		return
	}
	next := make(map[string]*verified, len(*old))
	for k, e := range *old {
		if k != tok {
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
