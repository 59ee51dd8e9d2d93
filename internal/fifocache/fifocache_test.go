package fifocache

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// exp returns a value for the tests: a pointer to its own expiry.
func exp(sec int64) *int64 { return &sec }

// put stores v until the expiry it holds.
func put(c *Cache[*int64], key string, v *int64, now time.Time) {
	c.Put(key, v, 1, *v, now)
}

func TestCacheBounded(t *testing.T) {
	c := New[*int64](128, 1<<20, 0)
	now := time.Unix(1000, 0)
	for i := range 5000 {
		put(c, fmt.Sprintf("tok-%d", i), exp(2000), now)
	}
	if n := c.Len(); n != 128 {
		t.Fatalf("cache holds %d entries, want 128", n)
	}
	// The oldest went first: the newest 128 are the ones kept.
	if c.Get("tok-4871") != nil || c.Get("tok-4872") == nil || c.Get("tok-4999") == nil {
		t.Fatal("a full cache did not drop its oldest entries")
	}
	if New[*int64](-1, 1<<20, 0) != nil || New[*int64](0, 1<<20, 0) != nil {
		t.Fatal("a size <= 0 must turn the cache off")
	}
}

// An insert drops the oldest entries that expired (skew aside), even when
// the cache is not full, and keeps those still within the skew.
func TestCacheDropsExpiredFirst(t *testing.T) {
	c := New[*int64](10, 1<<20, 5*time.Second)
	put(c, "a", exp(1100), time.Unix(1000, 0))
	put(c, "b", exp(1104), time.Unix(1000, 0))
	put(c, "c", exp(2000), time.Unix(1000, 0))
	put(c, "d", exp(2000), time.Unix(1108, 0)) // a: 1100+5 <= 1108; b: 1104+5 > 1108
	if c.Get("a") != nil || c.Get("b") == nil || c.Get("c") == nil || c.Get("d") == nil || c.Len() != 3 {
		t.Fatalf("after expiry of a: a=%v b=%v c=%v d=%v len=%d", c.Get("a"), c.Get("b"), c.Get("c"), c.Get("d"), c.Len())
	}
	// A full cache whose oldest entry has not expired drops it anyway.
	full := New[*int64](2, 1<<20, 0)
	put(full, "x", exp(2000), time.Unix(1000, 0))
	put(full, "y", exp(1500), time.Unix(1000, 0))
	put(full, "z", exp(2000), time.Unix(1000, 0))
	if full.Get("x") != nil || full.Get("y") == nil || full.Get("z") == nil {
		t.Fatal("a full cache did not drop its oldest entry")
	}
}

// remove unlinks an entry from the middle of the order and the cache goes
// on keeping its bound; putting a token again replaces its record in place.
func TestCacheRemoveAndReplace(t *testing.T) {
	c := New[*int64](3, 1<<20, 0)
	now := time.Unix(1000, 0)
	for _, tok := range []string{"a", "b", "c"} {
		put(c, tok, exp(2000), now)
	}
	c.Remove("b")
	c.Remove("b") // absent: nothing happens
	put(c, "d", exp(2000), now)
	if c.Len() != 3 || c.Get("a") == nil || c.Get("b") != nil {
		t.Fatalf("after remove: len %d, a %v, b %v", c.Len(), c.Get("a"), c.Get("b"))
	}
	again := exp(3000)
	put(c, "a", again, now)
	if c.Get("a") != again || c.Len() != 3 {
		t.Fatal("putting a token again did not replace its record")
	}
	put(c, "e", exp(2000), now) // full: a is still the oldest
	if c.Get("a") != nil || c.Get("c") == nil || c.Get("d") == nil || c.Get("e") == nil {
		t.Fatal("eviction order broken by remove or replace")
	}
	for _, tok := range []string{"c", "d", "e"} {
		c.Remove(tok)
	}
	if c.Len() != 0 || c.oldest != nil || c.newest != nil {
		t.Fatal("emptied cache still links entries")
	}
	put(c, "f", exp(2000), now)
	if c.Get("f") == nil || c.oldest != c.newest {
		t.Fatal("insert into an emptied cache")
	}
}

// The cache is bounded in bytes too: entries are dropped, oldest first,
// until the new one's cost fits; one costing more than the budget is not
// stored; a replaced or removed entry gives its cost back.
func TestCacheBoundedInBytes(t *testing.T) {
	c := New[*int64](100, 1000, 0)
	now := time.Unix(1000, 0)
	for i := range 10 {
		c.Put(fmt.Sprint(i), exp(2000), 150, 2000, now)
	}
	if c.Len() != 6 || c.Bytes() != 900 || c.Get("3") != nil || c.Get("4") == nil {
		t.Fatalf("10 entries of 150 in 1000 bytes: %d entries, %d bytes", c.Len(), c.Bytes())
	}
	c.Put("big", exp(2000), 1001, 2000, now)
	if c.Get("big") != nil || c.Len() != 6 {
		t.Fatal("an entry over the whole budget was stored")
	}
	c.Put("9", exp(2000), 400, 2000, now) // in place: 1150 bytes, so 4 goes
	if c.Get("9") == nil || c.Get("4") != nil || c.Get("5") == nil || c.Len() != 5 || c.Bytes() != 1000 {
		t.Fatalf("after growing 9: %d entries, %d bytes", c.Len(), c.Bytes())
	}
	for _, k := range []string{"5", "6", "7", "8", "9"} {
		c.Remove(k)
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("emptied: %d entries, %d bytes", c.Len(), c.Bytes())
	}
	if New[*int64](10, 0, 0) != nil {
		t.Fatal("a byte budget <= 0 must turn the cache off")
	}
}

// Readers and writers at once, for the race detector.
func TestCacheConcurrent(t *testing.T) {
	c := New[*int64](64, 1<<20, 0)
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
					put(c, tok, exp(2000), now)
				case 1:
					c.Remove(tok)
				default:
					if v := c.Get(tok); v != nil && *v != 2000 {
						t.Error("wrong record")
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 64 {
		t.Fatalf("%d entries, bound 64", n)
	}
}
