package clerkauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/claims"
	"time"

	"github.com/clerkauth/clerkauth/internal/ttlcache"
)

// templateMargin is how long before its exp a cached template token stops
// being served (a quarter of its lifetime when that is shorter), so that
// the service receiving it never gets one about to expire.
const templateMargin = 10 * time.Second

// templateCache keeps the tokens minted by POST /v1/sessions/{sid}/tokens
// until shortly before their exp, per session, active organization,
// template and expiry, and lets one call per key go to Clerk while
// concurrent requests for the same key wait for its answer (the call is
// cancelled when they all give up).
type templateCache = ttlcache.Cache[templateKey, string]

type templateKey struct {
	sid       string
	orgID     string // the session's active organization: templates may carry it
	template  string
	expiresIn int
}

func newTemplateCache(size int, now func() time.Time) *templateCache {
	if size <= 0 {
		return nil
	}
	return ttlcache.New[templateKey, string](ttlcache.Options{Size: size, Now: now})
}

// sessionToken returns a token of the session from the cache, or from the
// Backend API when none is cached.
func (c *Client) sessionToken(ctx context.Context, sid, orgID, template string, expiresIn int) (string, error) {
	if c.creds.secret == "" {
		return "", ErrNoSecretKey
	}
	if c.templates == nil {
		return c.CreateSessionToken(ctx, sid, template, expiresIn)
	}
	jwt, err := c.templates.Get(ctx, templateKey{sid, orgID, template, expiresIn},
		func(ctx context.Context) (string, time.Time, error) {
			jwt, err := c.CreateSessionToken(ctx, sid, template, expiresIn)
			if err != nil {
				return "", time.Time{}, err // errors are not cached
			}
			until, _ := cacheUntil(jwt) // zero (not cached) without a usable exp
			return jwt, until, nil
		})
	var we *ttlcache.WaitError
	if errors.As(err, &we) {
		return "", fmt.Errorf("clerkauth: waiting for a session token from the Backend API: %w", we.Err)
	}
	return jwt, err
}

// cacheUntil reads exp (and iat) from a token the Backend API just minted
// and returns until when it may be served. The claims are only used for
// this: the token is not verified, it is passed on as Clerk sent it. ok is
// false when the token has no usable exp; it is then not cached.
func cacheUntil(jwt string) (until time.Time, ok bool) {
	payload, ok := jwtPayload(jwt)
	if !ok {
		return time.Time{}, false
	}
	var claims struct {
		Exp claims.NumericDate `json:"exp"` // JSON numbers only
		Iat claims.NumericDate `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil || !claims.Exp.Set {
		return time.Time{}, false
	}
	exp := claims.Exp.Sec
	margin := templateMargin
	if iat := claims.Iat.Sec; claims.Iat.Set && exp > iat {
		margin = min(margin, time.Duration(exp-iat)*time.Second/4)
	}
	return time.Unix(exp, 0).Add(-margin), true
}
