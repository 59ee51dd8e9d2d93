package retry

import (
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
