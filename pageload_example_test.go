package clerkauth_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// An integration that calls the middleware itself (a gin or echo
// middleware) applies Clerk's page-load outcomes in one call: when handled
// is true the handshake redirect has been written and the chain stops;
// otherwise the request is served with auth (after a session refresh, its
// new cookies are already on the response).
func ExampleMiddleware_AuthenticateResponse() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	serve := func(w http.ResponseWriter, r *http.Request) {
		auth, handled := mw.AuthenticateResponse(w, r)
		if handled {
			return // Clerk's 307 to the Frontend API handshake
		}
		if !auth.IsSignedIn() {
			fmt.Fprintf(w, "guest (%s)", auth.Reason())
			return
		}
		fmt.Fprintf(w, "hello %s", auth.UserID)
	}

	// A browser page load whose cookies say "signed in" (__client_uat) but
	// hold no session token: only the Frontend API can settle it.
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/dashboard", nil)
	r.Header.Set("Sec-Fetch-Dest", "document")
	r.AddCookie(&http.Cookie{Name: "__client_uat", Value: "1700000000"})
	r.AddCookie(&http.Cookie{Name: "__clerk_db_jwt", Value: "dvb_1"})
	w := httptest.NewRecorder()
	serve(w, r)
	loc := w.Header().Get("Location")
	fmt.Println(w.Code, strings.HasPrefix(loc, clerk.URL+"/v1/client/handshake?redirect_url="), w.Header().Get("Cache-Control"))

	// The same cookies on an API request (fetch): signed out, never redirected.
	r.Header.Set("Sec-Fetch-Dest", "empty")
	w = httptest.NewRecorder()
	serve(w, r)
	fmt.Println(w.Code, w.Body)

	// Authenticate, which cannot write a response, reports the page load's
	// need for a handshake as an error kind.
	r.Header.Set("Sec-Fetch-Dest", "document")
	_, err = mw.Authenticate(r)
	fmt.Println(errors.Is(err, clerkauth.ErrHandshake))
	// Output:
	// 307 true no-store
	// 200 guest (client-uat-but-no-session-token)
	// true
}
