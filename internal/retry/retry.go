// Package retry holds the retry rules of the Backend API client: which
// answers may be retried and how long a Retry-After header asks to wait.
// It knows no clerkauth types.
package retry

import (
	"net/http"
	"strconv"
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
