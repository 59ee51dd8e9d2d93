package clerkauth

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/ttlcache"
)

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(128, 0)
	now := time.Unix(1000, 0)
	for i := range 5000 {
		c.put(fmt.Sprintf("tok-%d", i), &verified{exp: 2000}, now)
	}
	if n := c.len(); n != 128 {
		t.Fatalf("cache holds %d entries, want 128", n)
	}
	// The oldest went first: the newest 128 are the ones kept.
	if c.get("tok-4871") != nil || c.get("tok-4872") == nil || c.get("tok-4999") == nil {
		t.Fatal("a full cache did not drop its oldest entries")
	}
	if newTokenCache(-1, 0) != nil || newTokenCache(0, 0) != nil {
		t.Fatal("a size <= 0 must turn the cache off")
	}
}

// An insert drops the oldest entries that expired (skew aside), even when
// the cache is not full, and keeps those still within the skew.
func TestTokenCacheDropsExpiredFirst(t *testing.T) {
	c := newTokenCache(10, 5*time.Second)
	c.put("a", &verified{exp: 1100}, time.Unix(1000, 0))
	c.put("b", &verified{exp: 1104}, time.Unix(1000, 0))
	c.put("c", &verified{exp: 2000}, time.Unix(1000, 0))
	c.put("d", &verified{exp: 2000}, time.Unix(1108, 0)) // a: 1100+5 <= 1108; b: 1104+5 > 1108
	if c.get("a") != nil || c.get("b") == nil || c.get("c") == nil || c.get("d") == nil || c.len() != 3 {
		t.Fatalf("after expiry of a: a=%v b=%v c=%v d=%v len=%d", c.get("a"), c.get("b"), c.get("c"), c.get("d"), c.len())
	}
	// A full cache whose oldest entry has not expired drops it anyway.
	full := newTokenCache(2, 0)
	full.put("x", &verified{exp: 2000}, time.Unix(1000, 0))
	full.put("y", &verified{exp: 1500}, time.Unix(1000, 0))
	full.put("z", &verified{exp: 2000}, time.Unix(1000, 0))
	if full.get("x") != nil || full.get("y") == nil || full.get("z") == nil {
		t.Fatal("a full cache did not drop its oldest entry")
	}
}

// remove unlinks an entry from the middle of the order and the cache goes
// on keeping its bound; putting a token again replaces its record in place.
func TestTokenCacheRemoveAndReplace(t *testing.T) {
	c := newTokenCache(3, 0)
	now := time.Unix(1000, 0)
	for _, tok := range []string{"a", "b", "c"} {
		c.put(tok, &verified{exp: 2000}, now)
	}
	c.remove("b")
	c.remove("b") // absent: nothing happens
	c.put("d", &verified{exp: 2000}, now)
	if c.len() != 3 || c.get("a") == nil || c.get("b") != nil {
		t.Fatalf("after remove: len %d, a %v, b %v", c.len(), c.get("a"), c.get("b"))
	}
	again := &verified{exp: 3000}
	c.put("a", again, now)
	if c.get("a") != again || c.len() != 3 {
		t.Fatal("putting a token again did not replace its record")
	}
	c.put("e", &verified{exp: 2000}, now) // full: a is still the oldest
	if c.get("a") != nil || c.get("c") == nil || c.get("d") == nil || c.get("e") == nil {
		t.Fatal("eviction order broken by remove or replace")
	}
	for _, tok := range []string{"c", "d", "e"} {
		c.remove(tok)
	}
	if c.len() != 0 || c.oldest != nil || c.newest != nil {
		t.Fatal("emptied cache still links entries")
	}
	c.put("f", &verified{exp: 2000}, now)
	if c.get("f") == nil || c.oldest != c.newest {
		t.Fatal("insert into an emptied cache")
	}
}

// Readers and writers at once, for the race detector.
func TestTokenCacheConcurrent(t *testing.T) {
	c := newTokenCache(64, 0)
	now := time.Unix(1000, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				tok := fmt.Sprint("t", (g*7+i)%200)
				switch i % 5 {
				case 0:
					c.put(tok, &verified{exp: 2000}, now)
				case 1:
					c.remove(tok)
				default:
					if v := c.get(tok); v != nil && v.exp != 2000 {
						t.Error("wrong record")
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := c.len(); n > 64 {
		t.Fatalf("%d entries, bound 64", n)
	}
}

// A cache hit still re-checks the time: a token cached while valid is
// rejected once it expires, and its entry is dropped then.
func TestCacheHitRechecksTime(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.Unix())
	m := pemMiddleware(t, func(o *Options) { o.Now = func() time.Time { return time.Unix(now.Load(), 0) } })
	tok := makeToken(t, testNow, tokenSpec{})
	if _, err := m.Authenticate(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	if m.c.cache.get(tok) == nil {
		t.Fatal("verified token not cached")
	}
	now.Add(120)
	if _, err := m.Authenticate(bearer(tok)); ReasonOf(err) != ReasonTokenExpired {
		t.Fatalf("cached token after expiry: %v", err)
	}
	if m.c.cache.get(tok) != nil {
		t.Fatal("expired token still cached")
	}
	if _, err := m.Authenticate(bearer(tok)); ReasonOf(err) != ReasonTokenExpired {
		t.Fatalf("expired token verified again: %v", err)
	}
	// Turned off: nothing is cached.
	m2 := pemMiddleware(t, func(o *Options) { o.TokenCacheSize = -1 })
	if _, err := m2.Authenticate(bearer(tok)); err != nil || m2.c.cache != nil {
		t.Fatalf("cache off: %v", err)
	}
}

// The Auth handed to a request is a copy: changing it does not change what
// the next request with the same token sees.
func TestCachedAuthIsCopied(t *testing.T) {
	m := pemMiddleware(t, nil)
	tok := makeToken(t, testNow, tokenSpec{})
	a, _ := m.Authenticate(bearer(tok))
	a.UserID = "user_evil"
	b, _ := m.Authenticate(bearer(tok))
	if b.UserID != "user_2abc" {
		t.Fatalf("cached Auth was modified through a request's copy: %q", b.UserID)
	}
}

// BenchmarkTokenCacheMemory reports the heap held per cached entry after a
// whole verification of distinct realistic v2 organization tokens (the
// token, the map slot and list entry, the verified record, the Auth).
func BenchmarkTokenCacheMemory(b *testing.B) {
	f := newBenchFixture(b)
	const n = 500
	toks := make([]string, n)
	for i := range toks {
		toks[i] = f.sign(b, fmt.Sprintf("sess_mem%05d", i))
	}
	ctx := context.Background()
	var perEntry float64
	for b.Loop() {
		mw := f.middleware(b, 0)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, tok := range toks {
			if _, err := mw.AuthenticateToken(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if mw.c.cache.len() != n {
			b.Fatalf("%d entries cached, want %d", mw.c.cache.len(), n)
		}
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(mw)
	}
	b.ReportMetric(perEntry, "B/entry")
	b.ReportMetric(float64(len(f.token)), "B/token")
}

// BenchmarkCacheGet compares the verified-token cache's lookup (a map
// behind a sync.RWMutex) with the designs it was chosen over: the sharded
// copy-on-write cache with lock-free reads it replaced (shardedCache
// below), sync.Map, and internal/ttlcache's Lookup. The same keys, as long
// as real tokens, the same hit ratio (10 of 11 lookups hit), each keyed by
// the whole token; lookups use copies of the keys, as a request's token is
// never the cached string itself, so every design hashes and compares in
// full. Run with -cpu 1,2,4,8.
func BenchmarkCacheGet(b *testing.B) {
	const cached, missing = 1000, 100
	toks := make([]string, cached+missing)
	for i := range toks {
		toks[i] = fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.%0900d.%d", i, i)
	}
	now := time.Unix(1000, 0)
	v := &verified{exp: 2000}

	ours := newTokenCache(DefaultTokenCacheSize, 0)
	sharded := newShardedCache(DefaultTokenCacheSize)
	var sm sync.Map
	ttl := ttlcache.New[string, *verified](ttlcache.Options{Size: DefaultTokenCacheSize, Now: func() time.Time { return now }})
	defer ttl.Close()
	for _, tok := range toks[:cached] {
		ours.put(tok, v, now)
		sharded.put(tok, v, now)
		sm.Store(tok, v)
		ttl.Get(context.Background(), tok, func(context.Context) (*verified, time.Time, error) { return v, now.Add(time.Hour), nil })
	}
	for i, tok := range toks {
		toks[i] = string([]byte(tok))
	}
	gets := map[string]func(string) *verified{
		"rwmutex": ours.get,
		"sharded": sharded.get,
		"ttlcache": func(tok string) *verified {
			v, _, _ := ttl.Lookup(tok) // with a fixed clock: time.Now costs more
			return v
		},
		"syncmap": func(tok string) *verified {
			if x, ok := sm.Load(tok); ok {
				return x.(*verified)
			}
			return nil
		},
	}
	for _, name := range []string{"rwmutex", "sharded", "syncmap", "ttlcache"} {
		get := gets[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919))
				hits := 0
				for pb.Next() {
					if get(toks[i%len(toks)]) != nil {
						hits++
					}
					i++
				}
				_ = hits
			})
		})
	}
}

// shardedCache is the verified-token cache this package had before the
// RWMutex map, kept only as BenchmarkCacheGet's reference: shards of
// copy-on-write maps behind atomic pointers, read without a lock, keyed by
// the token's seeded 64-bit hash with the token compared in full.
type shardedCache struct {
	seed     maphash.Seed
	mask     uint64
	perShard int
	shards   []cacheShard
}

type cacheShard struct {
	m  atomic.Pointer[map[uint64]shardedEntry]
	mu sync.Mutex
	_  [48]byte
}

type shardedEntry struct {
	tok string
	v   *verified
}

func newShardedCache(size int) *shardedCache {
	n := 1
	if size >= 64 {
		n = min(256, 1<<(bits.Len(uint(size/32))-1))
	}
	return &shardedCache{seed: maphash.MakeSeed(), mask: uint64(n - 1), perShard: (size + n - 1) / n, shards: make([]cacheShard, n)}
}

func (c *shardedCache) get(tok string) *verified {
	h := maphash.String(c.seed, tok)
	if m := c.shards[h&c.mask].m.Load(); m != nil {
		if e, ok := (*m)[h]; ok && e.tok == tok {
			return e.v
		}
	}
	return nil
}

func (c *shardedCache) put(tok string, v *verified, now time.Time) {
	h := maphash.String(c.seed, tok)
	s := &c.shards[h&c.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[uint64]shardedEntry)
	if old := s.m.Load(); old != nil {
		for k, e := range *old {
			if len(*old) < c.perShard || e.v.exp >= now.Unix() {
				next[k] = e
			}
		}
		for k := range next {
			if len(next) < c.perShard {
				break
			}
			delete(next, k)
		}
	}
	next[h] = shardedEntry{tok: tok, v: v}
	s.m.Store(&next)
}
