// Package retry holds the retry rules of the Backend API client: which
// answers may be retried, how long a Retry-After header asks to wait, and
// the backoff between attempts. It knows no clerkauth types.
package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Retryable reports whether a request may be sent again after an answer
// with status: 429 always (the server did not process it), 502, 503 and
// 504 only for GET.
func Retryable(method string, status int) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return method == http.MethodGet
	}
	return false
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 1<<20)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Policy bounds the attempts of one call and spaces them out.
type Policy struct {
	MaxAttempts   int           // the first and the retries
	MaxRetryAfter time.Duration // a longer Retry-After ends the call at once
	// Backoff between retries: full jitter over Base*2^n, capped at Cap.
	Base, Cap time.Duration
}

// Wait decides, after attempt (counted from 1) was answered with status
// and retryAfter, whether to try again, and waits before saying yes. It
// says no when the attempts are used up, the answer may not be retried,
// Retry-After asks for too long or the wait would outlive ctx's deadline;
// err is ctx's error when ctx ended while waiting.
func (p Policy) Wait(ctx context.Context, attempt int, method string, status int, retryAfter time.Duration) (again bool, err error) {
	if attempt >= p.MaxAttempts || !Retryable(method, status) || retryAfter > p.MaxRetryAfter {
		return false, nil
	}
	wait := p.backoff(attempt, retryAfter)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return false, nil // waiting would outlive the caller
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// backoff returns the wait before attempt+1: full jitter over
// Base*2^(attempt-1) capped at Cap, and at least retryAfter.
func (p Policy) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceil := min(p.Base<<(attempt-1), p.Cap)
	wait := ceil/2 + rand.N(ceil/2+1)
	return max(wait, retryAfter)
}

// Breaker stops calls for a while after a server asked to slow down (a
// 429 or 5xx). The zero value lets calls through.
type Breaker struct {
	until atomic.Int64 // Unix nanoseconds (of the caller's clock) until which no call is made
}

// Open stops calls from now for retryAfter, capped at most; def when
// retryAfter is 0. An open breaker is never shortened. It returns the
// pause asked for.
func (b *Breaker) Open(now time.Time, retryAfter, def, most time.Duration) time.Duration {
	wait := def
	if retryAfter > 0 {
		wait = min(retryAfter, most)
	}
	until := now.Add(wait).UnixNano()
	for {
		old := b.until.Load()
		if old >= until || b.until.CompareAndSwap(old, until) {
			return wait
		}
	}
}

// Closed reports whether calls may be made at now.
func (b *Breaker) Closed(now time.Time) bool { return now.UnixNano() >= b.until.Load() }
