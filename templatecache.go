package clerkauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// templateMargin is how long before its exp a cached template token stops
// being served (a quarter of its lifetime when that is shorter), so that
// the service receiving it never gets one about to expire.
const templateMargin = 10 * time.Second

// templateCache keeps the tokens minted by POST /v1/sessions/{sid}/tokens
// until shortly before their exp, per session, active organization,
// template and expiry, and lets one request per key call Clerk
// while concurrent requests for the same key wait for its answer.
type templateCache struct {
	size int

	mu       sync.Mutex // guards the maps
	entries  map[templateKey]templateEntry
	inflight map[templateKey]*templateCall
}

type templateKey struct {
	sid       string
	orgID     string // the session's active organization: templates may carry it
	template  string
	expiresIn int
}

type templateEntry struct {
	jwt   string
	until time.Time // served while now is before until
}

// templateCall is one Backend API call; done is closed once jwt and err
// are set.
type templateCall struct {
	done chan struct{}
	jwt  string
	err  error
}

var errTemplateCallAborted = errors.New("clerkauth: the Backend API call for a session token was aborted")

func newTemplateCache(size int) *templateCache {
	if size <= 0 {
		return nil
	}
	return &templateCache{
		size:     size,
		entries:  make(map[templateKey]templateEntry),
		inflight: make(map[templateKey]*templateCall),
	}
}

// sessionToken returns a token of the session from the cache, or from the
// Backend API when none is cached.
func (c *Client) sessionToken(ctx context.Context, sid, orgID, template string, expiresIn int) (string, error) {
	if c.secret == "" {
		return "", ErrNoSecretKey
	}
	tc := c.templates
	if tc == nil {
		return c.CreateSessionToken(ctx, sid, template, expiresIn)
	}
	key := templateKey{sid, orgID, template, expiresIn}
	for {
		tc.mu.Lock()
		if e, ok := tc.entries[key]; ok {
			if c.now().Before(e.until) {
				tc.mu.Unlock()
				return e.jwt, nil
			}
			delete(tc.entries, key)
		}
		call := tc.inflight[key]
		if call == nil {
			break // with tc.mu held: this request calls Clerk
		}
		tc.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return "", fmt.Errorf("clerkauth: waiting for a session token from the Backend API: %w", ctx.Err())
		}
		if call.err == nil {
			return call.jwt, nil
		}
		if !errors.Is(call.err, context.Canceled) && !errors.Is(call.err, context.DeadlineExceeded) {
			return "", call.err
		}
		// The caller that went to Clerk gave up; try again with our ctx.
	}
	call := &templateCall{done: make(chan struct{})}
	tc.inflight[key] = call
	tc.mu.Unlock()

	defer func() {
		// Deferred so that waiters are released whatever happens.
		tc.mu.Lock()
		delete(tc.inflight, key)
		if call.err == nil {
			now := c.now()
			if until, ok := cacheUntil(call.jwt); ok && now.Before(until) {
				tc.putLocked(key, templateEntry{call.jwt, until}, now)
			}
		}
		tc.mu.Unlock()
		close(call.done)
	}()
	call.err = errTemplateCallAborted
	call.jwt, call.err = c.CreateSessionToken(ctx, sid, template, expiresIn)
	return call.jwt, call.err
}

// putLocked stores e, first making room when the cache is full: expired
// entries go, then arbitrary ones. tc.mu must be held.
func (tc *templateCache) putLocked(key templateKey, e templateEntry, now time.Time) {
	if _, ok := tc.entries[key]; !ok && len(tc.entries) >= tc.size {
		for k, old := range tc.entries {
			if !now.Before(old.until) {
				delete(tc.entries, k)
			}
		}
		for k := range tc.entries {
			if len(tc.entries) < tc.size {
				break
			}
			delete(tc.entries, k) // arbitrary victim: map order is random
		}
	}
	tc.entries[key] = e
}

// len returns the number of entries, for tests.
func (tc *templateCache) len() int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return len(tc.entries)
}

// cacheUntil reads exp (and iat) from a token the Backend API just minted
// and returns until when it may be served. The claims are only used for
// this: the token is not verified, it is passed on as Clerk sent it. ok is
// false when the token has no usable exp; it is then not cached.
func cacheUntil(jwt string) (until time.Time, ok bool) {
	first := strings.IndexByte(jwt, '.')
	last := strings.LastIndexByte(jwt, '.')
	if first < 0 || last <= first || last-first > MaxTokenSize {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(jwt[first+1 : last])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp numericDate `json:"exp"` // JSON numbers only
		Iat numericDate `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil || !claims.Exp.set {
		return time.Time{}, false
	}
	exp := claims.Exp.sec
	margin := templateMargin
	if iat := claims.Iat.sec; claims.Iat.set && exp > iat {
		margin = min(margin, time.Duration(exp-iat)*time.Second/4)
	}
	return time.Unix(exp, 0).Add(-margin), true
}
