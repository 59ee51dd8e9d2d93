package clerkauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// Protect admits signed-in users who pass every check; a failed
// reverification gets Clerk's own answer, which clerk-js's
// useReverification acts on.
func ExampleMiddleware_Protect() {
	srv := clerktest.NewServer()
	defer srv.Close()
	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		panic(err)
	}
	defer mw.Close()

	settings := mw.Protect(clerkauth.Check{Permission: "org:settings:manage"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "settings of ", clerkauth.GetAuth(r).OrgSlug)
		}))
	transfer := mw.Protect(clerkauth.Check{Reverification: clerkauth.Reverify("strict")})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "transferred") }))

	admin := srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin", "org:settings:manage"))
	member := srv.SessionToken("user_2", clerktest.WithOrg("org_1", "acme", "member"))
	stale := srv.SessionToken("user_1", clerktest.WithFactorAge(30, 30)) // verified 30 minutes ago
	fmt.Println(get(settings, "/settings", admin))
	fmt.Println(get(settings, "/settings", member))
	fmt.Println(get(settings, "/settings", ""))
	fmt.Println(get(transfer, "/transfer", stale))
	// Output:
	// 200 settings of acme
	// 403 {"error":"Forbidden"}
	// 401 {"error":"Not authenticated"}
	// 403 {"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}
}

// Page routes and API routes of one Middleware answer differently: a page
// load that is not signed in goes to the sign-in page (Options.SignInURL,
// which clerktest sets to its own) and comes back; a signed-in user
// without the permission gets the application's 403 page; the API answers
// JSON.
func ExampleMiddleware_WithResponses() {
	srv := clerktest.NewServer(clerktest.WithProductionInstance())
	defer srv.Close()
	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		panic(err)
	}
	defer mw.Close()

	pages := mw.WithResponses(clerkauth.Responses{
		Forbidden: func(w http.ResponseWriter, r *http.Request, err error) {
			var fe *clerkauth.ForbiddenError
			errors.As(err, &fe)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "<p>You need %s.</p>", fe.Check.Permission)
		},
	})
	api := mw.WithResponses(clerkauth.Responses{Unauthenticated: clerkauth.DefaultErrorHandler})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	settings := pages.Protect(clerkauth.Check{Permission: "org:settings:manage"})(ok)
	me := api.Protect()(ok)

	// A browser loading the page, signed out.
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/org/settings", nil)
	req.Header.Set("Sec-Fetch-Dest", "document")
	rec := httptest.NewRecorder()
	settings.ServeHTTP(rec, req)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(rec.Code, loc.Path, loc.Query().Get("redirect_url"))

	member := srv.SessionToken("user_2", clerktest.WithOrg("org_1", "acme", "member"))
	fmt.Println(get(settings, "/org/settings", member))
	fmt.Println(get(me, "/api/me", ""))
	// Output:
	// 307 /sign-in https://app.example.com/org/settings
	// 403 <p>You need org:settings:manage.</p>
	// 401 {"error":"Not authenticated"}
}
