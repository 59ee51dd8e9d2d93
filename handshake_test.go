package clerkauth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// browser is an http.Client with a cookie jar that sends what a browser
// sends on a navigation, and records the URLs it was redirected through.
type browser struct {
	t    *testing.T
	c    *http.Client
	jar  *cookiejar.Jar
	hops []string
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, jar: jar}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.hops = append(b.hops, req.URL.String())
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// do sends a navigation (Sec-Fetch-Dest: document) and returns the final
// status and body.
func (b *browser) do(method, target string, form url.Values) (int, string) {
	b.t.Helper()
	b.hops = nil
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Dest", "document")
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func (b *browser) cookie(u, name string) string {
	pu, _ := url.Parse(u)
	for _, c := range b.jar.Cookies(pu) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// pageApp serves "hello <user>" or "guest <reason>" behind mw.Handler.
func pageApp(t *testing.T, mw *clerkauth.Middleware) *httptest.Server {
	app := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := clerkauth.GetAuth(r)
		if a.IsSignedIn() {
			io.WriteString(w, "hello "+a.UserID)
			return
		}
		io.WriteString(w, "guest "+a.Reason())
	})))
	t.Cleanup(app.Close)
	return app
}

// TestHandshakeEndToEnd walks a development instance the way a browser
// does, with clerktest as the Frontend and Backend API: the first page
// load gets a dev browser through the handshake, signing in on the hosted
// page comes back signed in through the handshake, and a page load with
// an expired session token is signed in again through the handshake
// (no signed-out page in between), or through a refresh when the
// handshake set a refresh cookie.
func TestHandshakeEndToEnd(t *testing.T) {
	for _, tc := range []struct{ refresh, production bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		refresh, production := tc.refresh, tc.production
		name := "handshake"
		var opts []clerktest.ServerOption
		if refresh {
			name = "refresh"
			opts = append(opts, clerktest.WithRefreshCookies())
		}
		if production {
			name += "/production"
			opts = append(opts, clerktest.WithProductionInstance())
		}
		t.Run(name, func(t *testing.T) {
			srv := clerktest.New(t, opts...)
			srv.AddUser(clerktest.User{ID: "user_1", FirstName: "Ada"})
			mw, err := clerkauth.New(srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { mw.Close() })
			app := pageApp(t, mw)
			b := newBrowser(t)

			code, body := b.do("GET", app.URL+"/dashboard", nil)
			if code != 200 || body != "guest session-token-and-uat-missing" || (b.cookie(app.URL, "__clerk_db_jwt") == "") != production {
				t.Fatalf("first visit: %d %q via %q", code, body, b.hops)
			}
			if production && len(b.hops) != 0 {
				t.Fatalf("first visit to a production instance: hops %q", b.hops)
			}
			if !production && (len(b.hops) != 3 || !strings.HasPrefix(b.hops[0], srv.URL+"/v1/client/handshake?") ||
				!strings.Contains(b.hops[1], "__clerk_handshake_nonce=") || b.hops[2] != app.URL+"/dashboard") {
				t.Fatalf("first visit hops %q", b.hops)
			}

			code, body = b.do("GET", srv.SignInURL()+"?redirect_url="+url.QueryEscape(app.URL+"/dashboard"), nil)
			if code != 200 || !strings.Contains(body, "Ada") {
				t.Fatalf("sign-in page: %d %q", code, body)
			}
			code, body = b.do("POST", srv.SignInURL(), url.Values{"user_id": {"user_1"}, "redirect_url": {app.URL + "/dashboard"}})
			if code != 200 || body != "hello user_1" {
				t.Fatalf("after sign-in: %d %q via %q", code, body, b.hops)
			}
			if got := b.hops[len(b.hops)-1]; got != app.URL+"/dashboard" && !production {
				t.Fatalf("after sign-in the URL is %q, want it without handshake parameters", got)
			}

			// The session token expires (here: the browser holds an expired
			// one of the same session).
			tok := b.cookie(app.URL, "__session")
			expired := srv.SessionToken("user_1", clerktest.WithSessionID(claim(t, tok, "sid")),
				clerktest.WithIssuedAt(time.Now().Add(-2*time.Minute)))
			for _, name := range []string{"__session", "__session_" + suffixOf(srv)} {
				u, _ := url.Parse(app.URL)
				b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: expired, Path: "/"}})
			}
			// __client_uat must not be newer than the expired token.
			u, _ := url.Parse(app.URL)
			uat := jsInt(time.Now().Add(-time.Hour).Unix())
			b.jar.SetCookies(u, []*http.Cookie{{Name: "__client_uat", Value: uat, Path: "/"}, {Name: "__client_uat_" + suffixOf(srv), Value: uat, Path: "/"}})

			sid := claim(t, tok, "sid")
			code, body = b.do("GET", app.URL+"/dashboard", nil)
			if code != 200 || body != "hello user_1" {
				t.Fatalf("expired token: %d %q via %q", code, body, b.hops)
			}
			refreshed := srv.Requests("/v1/sessions/"+sid+"/refresh") == 1
			hops := 3 // handshake, back with the nonce, the clean URL (development)
			if production {
				hops = 2 // production serves the page with the nonce
			}
			if refreshed != refresh || refresh && len(b.hops) != 0 || !refresh && len(b.hops) != hops {
				t.Fatalf("refreshed %v, hops %q", refreshed, b.hops)
			}
			if b.cookie(app.URL, "__session") == expired {
				t.Fatal("the expired token is still the cookie")
			}

			// Signing out on the Frontend API clears the app's cookies
			// through the handshake.
			code, body = b.do("POST", srv.URL+"/sign-out?redirect_url="+url.QueryEscape(app.URL+"/dashboard"), url.Values{})
			want := "guest session-token-and-uat-missing"
			if production {
				want = "guest session-token-missing" // the page is served with the nonce
			}
			if code != 200 || body != want || b.cookie(app.URL, "__session") != "" {
				t.Fatalf("after sign-out: %d %q via %q", code, body, b.hops)
			}
		})
	}
}

func suffixOf(srv *clerktest.Server) string {
	c := srv.SessionCookies("x")
	return strings.TrimPrefix(c[1].Name, "__session_")
}

// TestHandshakeTokenFormat resolves a signed __clerk_handshake token
// (format=token) rather than a nonce.
func TestHandshakeTokenFormat(t *testing.T) {
	srv := clerktest.New(t)
	srv.AddUser(clerktest.User{ID: "user_1"})
	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	app := pageApp(t, mw)
	b := newBrowser(t)
	fapi, _ := url.Parse(srv.URL)
	b.jar.SetCookies(fapi, []*http.Cookie{srv.SignIn("user_1")})
	code, body := b.do("GET", srv.URL+"/v1/client/handshake?format=token&redirect_url="+url.QueryEscape(app.URL+"/p?x=1"), nil)
	if code != 200 || body != "hello user_1" {
		t.Fatalf("%d %q via %q", code, body, b.hops)
	}
	if len(b.hops) != 2 || !strings.Contains(b.hops[0], "__clerk_handshake=") || b.hops[1] != app.URL+"/p?x=1" {
		t.Fatalf("hops %q", b.hops)
	}

	// A handshake token not signed by the instance is ignored: the cookie
	// rules decide (no cookies: a dev browser is needed).
	other := clerktest.New(t)
	bad := other.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "typ": "JWT"},
		map[string]any{"handshake": []string{"__session=" + srv.SessionToken("user_evil") + "; Path=/"}})
	r := httptest.NewRequest("GET", app.URL+"/?__clerk_handshake="+bad, nil)
	r.Header.Set("Sec-Fetch-Dest", "document")
	a, handled := mw.AuthenticateResponse(httptest.NewRecorder(), r)
	if a.IsSignedIn() || !handled || a.Reason() != "dev-browser-missing" {
		t.Fatalf("forged handshake token: signed in %v, reason %q", a.IsSignedIn(), a.Reason())
	}
}

// TestHandshakeUnknownNonce: a nonce the Backend API does not know sets
// no cookies: signed out (session-token-missing), and on a development
// instance the 307 to the clean URL; the log never shows the nonce.
func TestHandshakeUnknownNonce(t *testing.T) {
	srv := clerktest.New(t)
	var logs strings.Builder
	o := srv.Options()
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mw := newMW(t, o)
	nonce := "nonce_secretvalue123"
	r := httptest.NewRequest("GET", "http://app.example.com/p?a=1&__clerk_handshake_nonce="+nonce, nil)
	r.Header.Set("Accept", "application/json") // resolved whatever the request
	w := httptest.NewRecorder()
	a, handled := mw.AuthenticateResponse(w, r)
	if a.IsSignedIn() || a.Reason() != "session-token-missing" || !handled ||
		w.Header().Get("Location") != "http://app.example.com/p?a=1" || w.Header().Get("Access-Control-Allow-Origin") != "null" {
		t.Fatalf("unknown nonce: %v %q handled=%v %q", a.IsSignedIn(), a.Reason(), handled, w.Header())
	}
	if strings.Contains(logs.String(), "secretvalue") || !strings.Contains(logs.String(), "HTTP 404") {
		t.Fatalf("log: %s", logs.String())
	}
}
