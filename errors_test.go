package clerkauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRejected measures RequireAuth answering a request whose token
// is expired (a preallocated error on the inside): the path a flood of
// bad requests takes. The error handed to the ErrorHandler is the
// request's own copy.
func BenchmarkRejected(b *testing.B) {
	f := newBenchFixture(b)
	mw := f.middleware(b, 0)
	mw.c.cfg.now = func() time.Time { return f.now.Add(2 * time.Hour) }
	h := mw.RequireAuth(signedInHandler)
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{{"expired", f.request()}, {"notoken", httptest.NewRequest(http.MethodGet, "/", nil)}} {
		b.Run(tc.name, func(b *testing.B) {
			w := &noopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, tc.r)
			}
		})
	}
}

// TestErrorsAreCopies: an error handed to a caller is its own value:
// changing it does not change what the next caller gets.
func TestErrorsAreCopies(t *testing.T) {
	f := newBenchFixture(t)
	mw := f.middleware(t, 0)
	_, err := mw.AuthenticateToken(t.Context(), "not-a-token")
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v", err)
	}
	ae.Reason, ae.Detail = "changed", "changed"
	_, err2 := mw.AuthenticateToken(t.Context(), "not-a-token")
	var ae2 *AuthError
	if !errors.As(err2, &ae2) || ae2.Reason == "changed" || ae2.Detail == "changed" {
		t.Fatalf("a caller changed the error of the next one: %#v", err2)
	}
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	a, err3 := mw.Authenticate(r)
	if err3 == nil || a.Err() != err3 {
		t.Fatalf("Authenticate: err %v, Auth.Err %v", err3, a.Err())
	}
	err3.(*AuthError).Reason = "changed"
	if _, err4 := mw.Authenticate(r); err4.(*AuthError).Reason == "changed" {
		t.Fatal("a caller changed the error of the next one (no token)")
	}
	if e := GetAuth(r).Err(); e == nil || !errors.Is(e, ErrNoMiddleware) || e.(*AuthError).Reason != "" {
		t.Fatalf("GetAuth without middleware: %v", e)
	}
	GetAuth(r).Err().(*AuthError).Detail = "changed"
	if GetAuth(r).Err().(*AuthError).Detail == "changed" {
		t.Fatal("GetAuth's error is shared")
	}
}
