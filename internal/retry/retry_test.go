package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"7", 7 * time.Second},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		method string
		status int
		want   bool
	}{
		{http.MethodGet, 429, true}, {http.MethodPost, 429, true},
		{http.MethodGet, 503, true}, {http.MethodPost, 503, false},
		{http.MethodGet, 500, false}, {http.MethodGet, 404, false},
	} {
		if got := Retryable(tt.method, tt.status); got != tt.want {
			t.Errorf("Retryable(%s, %d) = %v", tt.method, tt.status, got)
		}
	}
}

func TestBreaker(t *testing.T) {
	var b Breaker
	t0 := time.Unix(1_700_000_000, 0)
	if !b.Closed(t0) {
		t.Fatal("zero Breaker is open")
	}
	b.Open(t0, 0, 5*time.Second, 30*time.Second) // no Retry-After: the default
	if b.Closed(t0.Add(4*time.Second)) || !b.Closed(t0.Add(5*time.Second)) {
		t.Fatal("default wait is not 5s")
	}
	b.Open(t0, time.Hour, 5*time.Second, 30*time.Second) // capped
	if b.Closed(t0.Add(29*time.Second)) || !b.Closed(t0.Add(30*time.Second)) {
		t.Fatal("Retry-After is not capped at 30s")
	}
	b.Open(t0, time.Second, 5*time.Second, 30*time.Second) // never shortened
	if b.Closed(t0.Add(29 * time.Second)) {
		t.Fatal("a shorter Open shortened the breaker")
	}
}

func TestPolicyWait(t *testing.T) {
	p := Policy{MaxAttempts: 3, MaxRetryAfter: 10 * time.Second, Base: time.Millisecond, Cap: 4 * time.Millisecond}
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		attempt    int
		method     string
		status     int
		retryAfter time.Duration
		want       bool
	}{
		{"GET 503 retried", 1, http.MethodGet, 503, 0, true},
		{"POST 429 retried", 2, http.MethodPost, 429, 0, true},
		{"POST 503 not retried", 1, http.MethodPost, 503, 0, false},
		{"404 not retried", 1, http.MethodGet, 404, 0, false},
		{"attempts used up", 3, http.MethodGet, 503, 0, false},
		{"Retry-After too long", 1, http.MethodGet, 429, 11 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			again, err := p.Wait(ctx, tt.attempt, tt.method, tt.status, tt.retryAfter)
			if again != tt.want || err != nil {
				t.Fatalf("Wait = %v, %v; want %v, nil", again, err, tt.want)
			}
		})
	}
	t.Run("deadline shorter than the wait", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		if again, err := p.Wait(ctx, 1, http.MethodGet, 429, 5*time.Second); again || err != nil {
			t.Fatalf("Wait = %v, %v; want false, nil", again, err)
		}
	})
	t.Run("context ends while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if again, err := p.Wait(ctx, 1, http.MethodGet, 429, 5*time.Second); again || !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, %v; want false, context.Canceled", again, err)
		}
	})
	for attempt := 1; attempt <= 4; attempt++ {
		ceil := min(p.Base<<(attempt-1), p.Cap)
		if w := p.backoff(attempt, 0); w < ceil/2 || w > ceil {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, w, ceil/2, ceil)
		}
	}
	if w := p.backoff(1, time.Second); w != time.Second {
		t.Errorf("backoff with Retry-After 1s = %v", w)
	}
}
