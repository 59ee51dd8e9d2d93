package clerkauth

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(128)
	now := time.Unix(1000, 0)
	for i := range 5000 {
		c.put(fmt.Sprintf("tok-%d", i), &verified{exp: 2000}, now)
	}
	if n := c.len(); n > 128 || n < 64 {
		t.Fatalf("cache holds %d entries, want about 128", n)
	}
	if newTokenCache(-1) != nil {
		t.Fatal("negative size must turn the cache off")
	}
}

func TestTokenCacheDropsExpiredFirst(t *testing.T) {
	c := newTokenCache(1) // one entry per shard
	now := time.Unix(1000, 0)
	c.put("old", &verified{exp: 900}, now)
	// Find another token in the same shard as "old".
	other := ""
	for i := 0; other == ""; i++ {
		if s := fmt.Sprint("t", i); shardOf(c, s) == shardOf(c, "old") {
			other = s
		}
	}
	c.put(other, &verified{exp: 2000}, now)
	if c.get("old") != nil || c.get(other) == nil {
		t.Fatal("expired entry not evicted in favour of the new one")
	}
}

// A cache hit still re-checks the time: a token cached while valid is
// rejected once it expires.
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

func shardOf(c *tokenCache, tok string) *cacheShard {
	s, _ := c.locate(tok)
	return s
}
