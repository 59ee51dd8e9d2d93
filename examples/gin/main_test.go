package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/examples/internal/demo/demotest"
	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no debug output
	os.Exit(m.Run())
}

// The shared suite: every route signed in and out, PEM-only mode, a Clerk
// outage, and the program itself run on a loopback port.
var example = demotest.Example{
	NewHandler: func(mw *clerkauth.Middleware, logger *slog.Logger) http.Handler { return newRouter(mw, logger) },
	Main:       run,
}

func TestRoutes(t *testing.T)          { example.Routes(t) }
func TestJWTKeyOnly(t *testing.T)      { example.JWTKeyOnly(t) }
func TestKeysUnavailable(t *testing.T) { example.KeysUnavailable(t) }
func TestRun(t *testing.T)             { example.Run(t) }
func TestRunBadFlag(t *testing.T)      { example.RunBadFlag(t) }
func TestRunHelp(t *testing.T)         { example.RunHelp(t) }

// TestPageLoad: the gin middleware applies Clerk's page-load outcomes in
// one call: a page load that needs the handshake is redirected (and no
// handler runs), an API request with the same cookies is not.
func TestPageLoad(t *testing.T) {
	srv := clerktest.New(t)
	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	router := newRouter(mw, slog.New(slog.DiscardHandler))
	send := func(dest string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/public", nil)
		r.Header.Set("Sec-Fetch-Dest", dest)
		r.AddCookie(&http.Cookie{Name: "__client_uat", Value: "1"}) // signed in elsewhere, no session token here
		r.AddCookie(&http.Cookie{Name: "__clerk_db_jwt", Value: "dvb_1"})
		w := httptest.NewRecorder()
		router.ServeHTTP(w, r)
		return w
	}
	if w := send("document"); w.Code != http.StatusTemporaryRedirect || !strings.HasPrefix(w.Header().Get("Location"), srv.URL+"/v1/client/handshake?") ||
		w.Body.Len() != 0 {
		t.Fatalf("page load: %d %q %q", w.Code, w.Header().Get("Location"), w.Body)
	}
	if w := send("empty"); w.Code != http.StatusOK || w.Body.String() != `{"signedIn":false,"userId":""}` {
		t.Fatalf("fetch: %d %q", w.Code, w.Body)
	}
}
