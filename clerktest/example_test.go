package clerktest_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// A user tests their own handler: a local Clerk instance signs the session
// tokens, and the real middleware verifies them against its JWKS. In a
// test, clerktest.New(t) closes the server when the test ends.
func Example() {
	srv := clerktest.NewServer()
	defer srv.Close()

	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	// The handler under test.
	invoices := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		if !auth.Has(clerkauth.Check{Permission: "org:invoices:read"}) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "invoices of %s for %s", auth.OrgSlug, auth.UserID)
	}))

	for _, tok := range []string{
		srv.SessionToken("user_123", clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read")),
		srv.SessionToken("user_456", clerktest.WithOrg("org_1", "acme", "member")),
		srv.SessionToken("user_123", clerktest.WithExpired()),
		"",
	} {
		req := httptest.NewRequest(http.MethodGet, "/invoices", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		invoices.ServeHTTP(rec, req)
		line := fmt.Sprint(rec.Code, " ", strings.TrimSpace(rec.Body.String()), " ", rec.Header().Get("X-Clerk-Auth-Reason"))
		fmt.Println(strings.TrimSpace(line))
	}
	// Output:
	// 200 invoices of acme for user_123
	// 403 forbidden
	// 401 {"error":"Not authenticated"} session-token-expired-refresh-non-eligible-no-refresh-cookie
	// 401 {"error":"Not authenticated"} dev-browser-missing
}

// A Clerk outage: the JWKS endpoint fails, and the middleware answers 503
// (a server fault), not 401 (which would sign the user out in a frontend).
func ExampleServer_SetJWKSStatus() {
	srv := clerktest.NewServer()
	defer srv.Close()
	srv.SetJWKSStatus(http.StatusServiceUnavailable)

	opts := srv.Options()
	opts.Logger = slog.New(slog.DiscardHandler) // the outage is expected here
	mw, err := clerkauth.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+srv.SessionToken("user_123"))
	rec := httptest.NewRecorder()
	mw.RequireAuth(http.NotFoundHandler()).ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"), srv.Requests("/v1/jwks") > 0)
	// Output:
	// 503 jwk-remote-failed-to-load true
}

// New in a test: the server is closed when the test ends. (Example
// functions get no *testing.T, so this one is compiled but not run; the
// package example above runs the same steps with NewServer.)
func ExampleNew() {
	testInvoices := func(t *testing.T) { // func TestInvoices(t *testing.T)
		srv := clerktest.New(t)
		mw, err := clerkauth.New(srv.Options()) // reads no CLERK_* variable
		if err != nil {
			t.Fatal(err)
		}
		defer mw.Close()

		req := httptest.NewRequest(http.MethodGet, "/invoices", nil)
		req.Header.Set("Authorization", "Bearer "+srv.SessionToken("user_123",
			clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read")))
		auth, err := mw.Authenticate(req)
		if err != nil || !auth.Has(clerkauth.Check{Permission: "org:invoices:read"}) {
			t.Fatalf("auth %v, err %v", auth, err)
		}
	}
	_ = testInvoices
}

// Hostile tokens: Sign signs exactly the header and claims it is given.
func ExampleServer_Sign() {
	srv := clerktest.NewServer()
	defer srv.Close()

	mw, err := clerkauth.New(clerkauth.Options{
		JWTKey: srv.PublicKeyPEM(),                // no network
		Getenv: func(string) string { return "" }, // and no CLERK_* variable
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	exp := time.Now().Add(time.Minute).Unix()
	for _, tok := range []string{
		srv.Sign(map[string]any{"alg": "none"}, map[string]any{"sub": "user_1", "exp": exp}),
		srv.Sign(map[string]any{"alg": "RS256", "cat": clerktest.CategoryTemplate}, map[string]any{"sub": "user_1", "exp": exp}),
		srv.Sign(map[string]any{"alg": "RS256"}, map[string]any{"sub": "user_1"}),
		srv.Sign(map[string]any{"alg": "RS256"}, map[string]any{"sub": "user_1", "exp": exp}),
	} {
		auth, _ := mw.AuthenticateToken(context.Background(), tok)
		fmt.Printf("%q %q\n", auth.UserID, auth.Reason())
	}
	// Output:
	// "" "token-invalid-algorithm"
	// "" "token-type-mismatch"
	// "" "token-verification-failed"
	// "user_1" ""
}
