package clerkauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkProtect compares, side by side on the warm path (a cached
// token), RequireAuth (the baseline) with Protect and one or three checks
// that pass, and the refusals: a 403, and a signed-out page load's
// sign-in redirect against the 401 of an API request.
func BenchmarkProtect(b *testing.B) {
	f := newBenchFixture(b)
	mw := f.middleware(b, 0)
	signIn, err := New(Options{JWTKey: pemOf(b, &f.key.PublicKey), PublishableKey: "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
		SignInURL: "https://accounts.example.com/sign-in", DisableHandshake: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { signIn.Close() })
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	page := httptest.NewRequest(http.MethodGet, "https://app.example.com/dashboard?tab=1", nil)
	page.Header.Set("Sec-Fetch-Dest", "document")
	cases := []struct {
		name string
		h    http.Handler
		r    *http.Request
	}{
		{"RequireAuth", mw.RequireAuth(signedInHandler), f.request()},
		{"Protect/permission", mw.Protect(Check{Permission: "org:reports:read"})(signedInHandler), f.request()},
		{"Protect/three", mw.Protect(Check{Role: "admin"}, Check{Permission: "org:reports:manage"},
			Check{Plan: "pro", Reverification: Reverify("moderate")})(signedInHandler), f.request()},
		{"Protect/forbidden", mw.Protect(Check{Permission: "org:billing:manage"})(ok), f.request()},
		{"RequireAuth/401", signIn.RequireAuth(ok), httptest.NewRequest(http.MethodGet, "/api", nil)},
		{"RequireAuth/sign-in-redirect", signIn.RequireAuth(ok), page},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.h.ServeHTTP(&noopWriter{h: http.Header{}}, c.r) // warm the cache
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(&noopWriter{h: http.Header{}}, c.r)
			}
		})
	}
}
