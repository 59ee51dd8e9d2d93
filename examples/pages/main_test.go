package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// The example is tested as a browser uses it: a cookie jar, redirects
// followed, the Sec-Fetch-Dest and Accept headers of a navigation, the
// embedded instance's real sign-in page and handshake. Nothing is mocked.

// forEachInstance runs test against a development and a production
// embedded instance.
func forEachInstance(t *testing.T, test func(*testing.T, bool)) {
	t.Run("development", func(t *testing.T) { test(t, false) })
	t.Run("production", func(t *testing.T) { test(t, true) })
}

// testApp is the example served by httptest with its embedded instance.
type testApp struct {
	URL string
	idp *clerktest.Server
}

func newTestApp(t *testing.T, production bool) *testApp {
	t.Helper()
	idp := newInstance(clerktest.DefaultTokenLifetime, production)
	t.Cleanup(idp.Close)
	ts := httptest.NewUnstartedServer(nil)
	opts := idp.Options()
	opts.AuthorizedParties = appOrigins(ts.Listener.Addr().String())
	opts.Logger = slog.New(slog.DiscardHandler)
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	ts.Config.Handler = newHandler(mw, site{signIn: idp.SignInURL(), signOut: idp.URL + "/sign-out"}, opts.Logger)
	ts.Start()
	t.Cleanup(ts.Close)
	return &testApp{URL: ts.URL, idp: idp}
}

// hop is one response a browser received.
type hop struct {
	method, url string
	code        int
	location    string
}

// browser is an http.Client with a cookie jar that records every hop.
type browser struct {
	t    *testing.T
	c    *http.Client
	jar  *cookiejar.Jar
	mu   sync.Mutex
	hops []hop
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, jar: jar}
	b.c = &http.Client{Jar: jar, Transport: b, Timeout: 10 * time.Second}
	return b
}

func (b *browser) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		b.mu.Lock()
		b.hops = append(b.hops, hop{req.Method, req.URL.String(), resp.StatusCode, resp.Header.Get("Location")})
		b.mu.Unlock()
	}
	return resp, err
}

// page is what a request ended with.
type page struct {
	code   int
	url    *url.URL // after redirects
	header http.Header
	body   string
	hops   []hop
}

// do sends req (a navigation when nav), following redirects as a browser.
func (b *browser) do(req *http.Request, nav bool) page {
	b.t.Helper()
	if nav {
		req.Header.Set("Sec-Fetch-Dest", "document")
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	}
	b.mu.Lock()
	b.hops = nil
	b.mu.Unlock()
	resp, err := b.c.Do(req)
	if err != nil {
		for _, h := range b.hops {
			b.t.Logf("hop %+v", h)
		}
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	return page{resp.StatusCode, resp.Request.URL, resp.Header, string(body), append([]hop(nil), b.hops...)}
}

func (b *browser) open(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req, true)
}

// htmx sends the GET htmx makes for a fragment of the page current.
func (b *browser) htmx(u, current string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Current-URL", current)
	req.Header.Set("Sec-Fetch-Dest", "empty")
	req.Header.Set("Accept", "*/*")
	return b.do(req, false)
}

// signInAs chooses user on the sign-in page p, as clicking its button does.
func (b *browser) signInAs(p page, user string) page {
	b.t.Helper()
	if p.url.Path != "/sign-in" || !strings.Contains(p.body, `id="`+user+`"`) {
		b.t.Fatalf("not the sign-in page with %s: %s %d %s", user, p.url, p.code, p.body)
	}
	form := url.Values{"user_id": {user}, "redirect_url": {p.url.Query().Get("redirect_url")}}
	req, _ := http.NewRequest(http.MethodPost, p.url.Scheme+"://"+p.url.Host+"/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req, true)
}

// signedIn returns a browser signed in as user through the sign-in page.
func (app *testApp) signedIn(t *testing.T, user string) *browser {
	t.Helper()
	b := newBrowser(t)
	p := b.signInAs(b.open(app.URL+"/dashboard"), user)
	if p.code != 200 || !at(p, app.URL+"/dashboard") || !strings.Contains(p.body, `id="user-id">`+user+`<`) {
		t.Fatalf("sign-in as %s ended at %d %s: %s", user, p.code, p.url, p.body)
	}
	return b
}

// at reports whether p ended at want, a URL without a query (a
// production instance's handshake leaves its nonce in the URL).
func at(p page, want string) bool {
	return p.url.Scheme+"://"+p.url.Host+p.url.Path == want
}

// noSignedOutHop fails when a hop of p is a signed-out answer: a trip to
// the sign-in page, or a 401/403.
func noSignedOutHop(t *testing.T, p page) {
	t.Helper()
	for _, h := range p.hops {
		if h.code == 401 || h.code == 403 || strings.Contains(h.location, "/sign-in") || strings.Contains(h.url, "/sign-in") {
			t.Fatalf("a signed-out answer on the way: %+v in %+v", h, p.hops)
		}
	}
}

func TestSignedOut(t *testing.T) { forEachInstance(t, testSignedOut) }

func testSignedOut(t *testing.T, production bool) {
	app := newTestApp(t, production)
	for _, path := range []string{"/dashboard", "/org/settings"} {
		t.Run(path, func(t *testing.T) {
			b := newBrowser(t)
			p := b.open(app.URL + path + "?tab=1")
			if p.code != 200 || p.url.Path != "/sign-in" || p.url.Query().Get("redirect_url") != app.URL+path+"?tab=1" {
				t.Fatalf("ended at %d %s (%+v)", p.code, p.url, p.hops)
			}
			// On a development instance the first hop is Clerk's handshake
			// (a browser without its dev-browser cookie); the app then sends
			// the page load to sign in, at once on a production instance.
			first := app.idp.URL + "/v1/client/handshake"
			if production {
				first = app.idp.SignInURL()
			}
			if p.hops[0].code != 307 || !strings.HasPrefix(p.hops[0].location, first) {
				t.Fatalf("first hop %+v", p.hops[0])
			}
		})
	}
	t.Run("/", func(t *testing.T) {
		p := newBrowser(t).open(app.URL + "/")
		want := `href="` + app.idp.SignInURL() + "?redirect_url=" + url.QueryEscape(app.URL+"/") + `"`
		if p.code != 200 || !strings.Contains(p.body, "You are signed out") || !strings.Contains(p.body, strings.ReplaceAll(want, "&", "&amp;")) {
			t.Fatalf("%d %s", p.code, p.body)
		}
	})
	t.Run("/api/me", func(t *testing.T) {
		b := newBrowser(t)
		resp, err := http.Get(app.URL + "/api/me")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || string(body) != `{"error":"Not authenticated"}` {
			t.Fatalf("fetch: %d %s", resp.StatusCode, body)
		}
		// A navigation to the API route is never sent to sign in.
		b.open(app.URL + "/") // the browser gets its dev-browser cookie
		if p := b.open(app.URL + "/api/me"); p.code != 401 || p.url.Path != "/api/me" || p.body != `{"error":"Not authenticated"}` {
			t.Fatalf("navigation: %d %s %s", p.code, p.url, p.body)
		}
	})
	t.Run("htmx", func(t *testing.T) {
		b := newBrowser(t)
		p := b.htmx(app.URL+"/fragments/me", app.URL+"/")
		loc, err := url.Parse(p.header.Get("HX-Redirect"))
		if p.code != 401 || err != nil || loc.String() == "" || !strings.HasPrefix(loc.String(), app.idp.SignInURL()) ||
			loc.Query().Get("redirect_url") != app.URL+"/" || len(p.hops) != 1 {
			t.Fatalf("%d HX-Redirect %q hops %+v", p.code, p.header.Get("HX-Redirect"), p.hops)
		}
		// htmx then navigates there: the sign-in page brings the user back.
		p = b.signInAs(b.open(loc.String()), "user_member")
		if p.code != 200 || !at(p, app.URL+"/") || !strings.Contains(p.body, "Signed in as") {
			t.Fatalf("back at %d %s", p.code, p.url)
		}
	})
}

func TestSignedIn(t *testing.T) { forEachInstance(t, testSignedIn) }

func testSignedIn(t *testing.T, production bool) {
	app := newTestApp(t, production)
	admin := app.signedIn(t, "user_admin")
	member := app.signedIn(t, "user_member")
	cases := []struct {
		name     string
		b        *browser
		path     string
		wantCode int
		want     string
	}{
		{"home", admin, "/", 200, `Signed in as <code id="user-id">user_admin</code>`},
		{"dashboard", member, "/dashboard", 200, `id="user-id">user_member<`},
		{"settings with the permission", admin, "/org/settings", 200, "you hold\n<code>org:settings:manage</code>"},
		{"settings without it: the 403 page", member, "/org/settings", 403, "this page needs the permission <code>org:settings:manage</code>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.open(app.URL + tc.path)
			if p.code != tc.wantCode || !strings.Contains(p.body, tc.want) || len(p.hops) != 1 {
				t.Fatalf("%d (%d hops) %s", p.code, len(p.hops), p.body)
			}
		})
	}
	t.Run("htmx", func(t *testing.T) {
		p := admin.htmx(app.URL+"/fragments/me", app.URL+"/dashboard")
		if p.code != 200 || !strings.HasPrefix(p.body, `<p id="me-fragment">User <code>user_admin</code>, organization <code>org_acme</code>`) {
			t.Fatalf("%d %s", p.code, p.body)
		}
	})
	t.Run("/api/me", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/me", nil)
		p := member.do(req, false)
		var got map[string]any
		if p.code != 200 || json.Unmarshal([]byte(p.body), &got) != nil || got["userId"] != "user_member" || got["orgRole"] != "org:member" {
			t.Fatalf("%d %s", p.code, p.body)
		}
	})
	t.Run("sign out", func(t *testing.T) {
		b := app.signedIn(t, "user_member")
		p := b.open(app.URL + "/")
		m := regexp.MustCompile(`<form method="post" action="([^"]+)">`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no sign-out form: %s", p.body)
		}
		req, _ := http.NewRequest(http.MethodPost, strings.ReplaceAll(m[1], "&amp;", "&"), nil)
		p = b.do(req, true)
		if p.code != 200 || !at(p, app.URL+"/") || !strings.Contains(p.body, "You are signed out") {
			t.Fatalf("after signing out: %d %s %s", p.code, p.url, p.body)
		}
	})
}

// An expired session token is renewed through Clerk's handshake on the
// next page load, with no signed-out page on the way.
func TestExpiredToken(t *testing.T) { forEachInstance(t, testExpiredToken) }

func testExpiredToken(t *testing.T, production bool) {
	app := newTestApp(t, production)
	b := app.signedIn(t, "user_admin")
	appURL, _ := url.Parse(app.URL)
	var fresh string
	for _, c := range b.jar.Cookies(appURL) {
		if c.Name == "__session" {
			fresh = c.Value
		}
	}
	// The browser comes back after the token's life: the same session,
	// expired (iat 2 min ago, exp 1 min ago), with __client_uat at its iat.
	var claims struct {
		Sid string `json:"sid"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(fresh, ".")[1])
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Sid == "" {
		t.Fatalf("no sid in the session token: %v", err)
	}
	opts := append(demoUsers[0].user.SessionOptions, clerktest.WithSessionID(claims.Sid), clerktest.WithExpired(),
		clerktest.WithAzp(app.URL))
	expired := app.idp.SessionToken("user_admin", opts...)
	var stale []*http.Cookie
	for _, c := range app.idp.SessionCookies(expired) {
		if !strings.HasPrefix(c.Name, "__clerk_db_jwt") {
			c.Path = "/"
			stale = append(stale, c)
		}
	}
	b.jar.SetCookies(appURL, stale)

	// Every page, and the API navigated to, goes through the handshake
	// and is served signed in.
	for _, tc := range []struct{ path, want string }{
		{"/", `Signed in as <code id="user-id">user_admin</code>`},
		{"/dashboard", `id="user-id">user_admin<`},
		{"/org/settings", "you hold\n<code>org:settings:manage</code>"},
		{"/api/me", `"userId":"user_admin"`},
	} {
		// Seconds apart, as a user's visits are: the handshake's loop
		// counter (Max-Age=2) is gone.
		b.jar.SetCookies(appURL, append(stale, &http.Cookie{Name: "__clerk_redirect_count", Path: "/", MaxAge: -1}))
		p := b.open(app.URL + tc.path)
		noSignedOutHop(t, p)
		if p.code != 200 || !at(p, app.URL+tc.path) || !strings.Contains(p.body, tc.want) {
			t.Fatalf("%s: %d %s %s", tc.path, p.code, p.url, p.body)
		}
		if len(p.hops) < 3 || p.hops[0].code != 307 || !strings.HasPrefix(p.hops[0].location, app.idp.URL+"/v1/client/handshake") {
			t.Fatalf("%s: not through the handshake: %+v", tc.path, p.hops)
		}
		// The handshake set a fresh token: the next page needs none.
		if p := b.open(app.URL + "/"); p.code != 200 || len(p.hops) != 1 || !strings.Contains(p.body, "Signed in as") {
			t.Fatalf("after the handshake: %d %+v", p.code, p.hops)
		}
	}
	// A script's fetch with the expired token is no page load: 401, as
	// Clerk answers it (the next page load renews the token).
	b.jar.SetCookies(appURL, stale)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/me", nil)
	req.Header.Set("Sec-Fetch-Dest", "empty")
	if p := b.do(req, false); p.code != 401 || p.header.Get("X-Clerk-Auth-Reason") == "" || len(p.hops) != 1 {
		t.Fatalf("fetch with an expired token: %d %v", p.code, p.header)
	}
	// An htmx request with the expired token is not a page load: it is
	// sent to sign in, as Clerk would answer it (signed out).
	b.jar.SetCookies(appURL, stale)
	if p := b.htmx(app.URL+"/fragments/me", app.URL+"/dashboard"); p.code != 401 || p.header.Get("HX-Redirect") == "" {
		t.Fatalf("htmx with an expired token: %d %v", p.code, p.header)
	}
}

// run prints the URL and the users, serves, and stops when its context
// ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	env := map[string]string{"ADDR": "127.0.0.1:0"}
	go func() {
		done <- run(ctx, []string{"-token-lifetime", "5s"}, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var out []string
	var appURL string
	for sc.Scan() {
		out = append(out, sc.Text())
		if m := regexp.MustCompile(`^Open (http://127\.0\.0\.1:\d+)/ in a browser\.$`).FindStringSubmatch(sc.Text()); m != nil {
			appURL = m[1]
		}
		if strings.HasPrefix(sc.Text(), "Session tokens live") {
			break
		}
	}
	text := strings.Join(out, "\n")
	if appURL == "" || !strings.Contains(text, "user_admin") || !strings.Contains(text, "user_member") || !strings.Contains(text, "live 5s") {
		t.Fatalf("output:\n%s", text)
	}
	resp, err := http.Get(appURL + "/static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(js), `version:"2.0.11"`) {
		t.Fatalf("htmx: %d, %d bytes", resp.StatusCode, len(js))
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunHalfConfigured: a real instance's publishable key without its
// secret key (a misspelt name) stops the program, naming the variable,
// instead of serving the embedded instance.
func TestRunHalfConfigured(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "CLERK_PUBLISHABLE_KEY": "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "CLERK_SECRET": "sk_live_x"}
	var out strings.Builder
	err := run(t.Context(), nil, func(k string) string { return env[k] }, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CLERK_PUBLISHABLE_KEY is set but CLERK_SECRET_KEY") || out.Len() != 0 {
		t.Fatalf("run: %v, printed %q", err, out.String())
	}
}

func TestAppOrigins(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080":     "http://127.0.0.1:8080 http://localhost:8080",
		"[::1]:8080":         "http://127.0.0.1:8080 http://localhost:8080",
		"[::]:9000":          "http://127.0.0.1:9000 http://localhost:9000",
		"192.168.1.5:80":     "http://192.168.1.5:80",
		"example.test:8080":  "http://example.test:8080",
		"no-port-at-all.com": "http://no-port-at-all.com",
	} {
		if got := strings.Join(appOrigins(addr), " "); got != want {
			t.Errorf("appOrigins(%q) = %q, want %q", addr, got, want)
		}
	}
}
