package clerkauth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/instance"
)

// The page-load states of Clerk's authenticateRequest, mirroring
// @clerk/backend's tokens/__tests__/request.test.ts, against a clerktest
// instance: real keys, real tokens, its real Backend and Frontend API.

// pageCase is one request and the state it must get.
type pageCase struct {
	name    string
	method  string
	target  string            // path and query; default "/"
	header  map[string]string // request headers
	cookies map[string]string // request cookies
	status  string            // signed-in, signed-out or handshake
	reason  string            // Clerk's reason ("" when signed in)
	// checks on the handshake Location (query parameters), when status is
	// handshake; "" values must be absent.
	location map[string]string
	cookie   []string // Set-Cookie entries that must be present (prefix match)
}

// page headers of a browser navigation.
var (
	document = map[string]string{"Sec-Fetch-Dest": "document", "Accept": "text/html,application/xhtml+xml"}
	fetchAPI = map[string]string{"Sec-Fetch-Dest": "empty", "Accept": "application/json"}
	htmlNoSF = map[string]string{"Accept": "text/html"}
)

func merge(a map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// run sends tc through AuthenticateResponse and checks the state.
func (tc pageCase) run(t *testing.T, mw *clerkauth.Middleware) *httptest.ResponseRecorder {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	target := tc.target
	if target == "" {
		target = "/"
	}
	r := httptest.NewRequest(method, "http://app.example.com"+target, nil)
	for k, v := range tc.header {
		r.Header.Set(k, v)
	}
	for k, v := range tc.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	a, handled := mw.AuthenticateResponse(w, r)
	status := "signed-out"
	switch {
	case a.IsSignedIn():
		status = "signed-in"
	case errors.Is(a.Err(), clerkauth.ErrHandshake):
		status = "handshake"
	}
	if status != tc.status || a.Reason() != tc.reason {
		t.Fatalf("state %s %q (err %v), want %s %q", status, a.Reason(), a.Err(), tc.status, tc.reason)
	}
	if handled != (status == "handshake") && w.Header().Get("Location") == "" {
		t.Fatalf("handled = %v for %s", handled, status)
	}
	if status == "handshake" {
		if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("handshake answer %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
		}
		loc, err := url.Parse(w.Header().Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range tc.location {
			got, ok := loc.Query()[k]
			switch {
			case want == "" && ok:
				t.Errorf("Location has %s=%q", k, got)
			case want != "" && (!ok || got[0] != want):
				t.Errorf("Location %s = %q, want %q (%s)", k, got, want, loc)
			}
		}
	} else if w.Header().Get("Location") == "" && handled {
		t.Fatalf("handled without a redirect")
	}
	for _, want := range tc.cookie {
		if !slices.ContainsFunc(w.Result().Header.Values("Set-Cookie"), func(c string) bool { return strings.HasPrefix(c, want) }) {
			t.Errorf("Set-Cookie %q missing from %q", want, w.Result().Header.Values("Set-Cookie"))
		}
	}
	return w
}

func TestPageLoadDevelopment(t *testing.T) {
	srv := clerktest.New(t)
	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	sfx := instance.CookieSuffix(srv.PublishableKey())
	now := time.Now()
	good := srv.SessionToken("user_1")
	expired := srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(-2*time.Minute)))
	future := srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(time.Minute)))
	uat := func(t time.Time) string { return jsInt(t.Unix()) }
	signedIn := map[string]string{"__session": good, "__client_uat": uat(now.Add(-time.Minute)), "__clerk_db_jwt": "dvb_1"}
	with := func(m map[string]string, kv ...string) map[string]string { return merge(m, kv...) }
	hsBase := map[string]string{"redirect_url": "http://app.example.com/", "__clerk_api_version": "2026-05-12",
		"format": "nonce", "suffixed_cookies": "false"}

	cases := []pageCase{
		{name: "header token", header: with(document, "Authorization", "Bearer "+good), status: "signed-in"},
		{name: "header expired, page load", header: with(document, "Authorization", "Bearer "+expired), status: "handshake",
			reason:   "session-token-expired-refresh-non-eligible-no-refresh-cookie",
			location: with(hsBase, "__session", expired, "__clerk_hs_reason", "session-token-expired-refresh-non-eligible-no-refresh-cookie")},
		{name: "header expired, fetch", header: with(fetchAPI, "Authorization", "Bearer "+expired), status: "signed-out",
			reason: "session-token-expired-refresh-non-eligible-no-refresh-cookie"},
		{name: "no cookies, page load", header: document, status: "handshake", reason: "dev-browser-missing",
			location: with(hsBase, "__session", "", "__clerk_db_jwt", "")},
		{name: "no cookies, Accept text/html", header: htmlNoSF, status: "handshake", reason: "dev-browser-missing"},
		{name: "no cookies, fetch", header: fetchAPI, status: "signed-out", reason: "dev-browser-missing"},
		{name: "no cookies, POST document", method: http.MethodPost, header: document, status: "signed-out", reason: "dev-browser-missing"},
		{name: "iframe", header: map[string]string{"Sec-Fetch-Dest": "iframe"}, status: "handshake", reason: "dev-browser-missing"},
		{name: "image", header: map[string]string{"Sec-Fetch-Dest": "image", "Accept": "text/html"}, status: "signed-out", reason: "dev-browser-missing"},
		{name: "dev browser in query", target: "/p?__clerk_db_jwt=dvb_q&x=1", header: document, cookies: signedIn, status: "handshake",
			reason: "dev-browser-sync", location: with(hsBase, "redirect_url", "http://app.example.com/p?x=1", "__clerk_db_jwt", "dvb_q", "__session", good)},
		{name: "dev browser only", header: document, cookies: map[string]string{"__clerk_db_jwt": "dvb_1"}, status: "signed-out",
			reason: "session-token-and-uat-missing"},
		{name: "uat without session", header: document, cookies: map[string]string{"__clerk_db_jwt": "dvb_1", "__client_uat": "12345"},
			status: "handshake", reason: "client-uat-but-no-session-token", location: with(hsBase, "__clerk_db_jwt", "dvb_1")},
		{name: "uat 0 without session", header: document, cookies: map[string]string{"__clerk_db_jwt": "dvb_1", "__client_uat": "0"},
			status: "signed-out", reason: "session-token-and-uat-missing"},
		{name: "session without uat", header: document, cookies: map[string]string{"__clerk_db_jwt": "dvb_1", "__session": good},
			status: "handshake", reason: "session-token-but-no-client-uat"},
		{name: "session without uat, fetch", header: fetchAPI, cookies: map[string]string{"__clerk_db_jwt": "dvb_1", "__session": good},
			status: "signed-out", reason: "session-token-but-no-client-uat"},
		{name: "iat before uat", header: document, cookies: with(signedIn, "__client_uat", uat(now.Add(time.Hour))),
			status: "handshake", reason: "session-token-iat-before-client-uat"},
		{name: "expired and iat before uat", header: document, cookies: with(signedIn, "__session", expired, "__client_uat", uat(now.Add(-time.Minute))),
			status: "handshake", reason: "session-token-iat-before-client-uat"},
		{name: "signed in", header: document, cookies: signedIn, status: "signed-in"},
		{name: "signed in, fetch", header: fetchAPI, cookies: signedIn, status: "signed-in"},
		{name: "expired", header: document, cookies: with(signedIn, "__session", expired, "__client_uat", uat(now.Add(-time.Hour))),
			status: "handshake", reason: "session-token-expired-refresh-non-eligible-no-refresh-cookie"},
		{name: "expired, POST", method: http.MethodPost, header: document, cookies: with(signedIn, "__session", expired, "__client_uat", uat(now.Add(-time.Hour)), "__refresh_"+sfx, "x"),
			status: "signed-out", reason: "session-token-expired-refresh-non-eligible-non-get"},
		{name: "unsuffixed refresh is not read", header: fetchAPI, cookies: with(signedIn, "__session", expired, "__client_uat", uat(now.Add(-time.Hour)), "__refresh", "x"),
			status: "signed-out", reason: "session-token-expired-refresh-non-eligible-no-refresh-cookie"},
		{name: "not active yet", header: document, cookies: with(signedIn, "__session", future, "__client_uat", uat(now.Add(-time.Hour))),
			status: "handshake", reason: "session-token-nbf"},
		{name: "machine token in cookie", header: document, cookies: with(signedIn, "__session", srv.SessionToken("mch_1")),
			status: "signed-out", reason: "token-type-mismatch"},
		{name: "malformed", header: document, cookies: with(signedIn, "__session", "a.b"), status: "signed-out", reason: "token-invalid"},
		{name: "loop counter", header: document, cookies: with(signedIn, "__session", expired, "__client_uat", uat(now.Add(-time.Hour)), "__clerk_redirect_count", "2"),
			status: "handshake", reason: "session-token-expired-refresh-non-eligible-no-refresh-cookie",
			cookie: []string{"__clerk_redirect_count=3; SameSite=Lax; HttpOnly; Max-Age=2"}},
		{name: "loop stopped", header: document, cookies: with(signedIn, "__session", expired, "__client_uat", uat(now.Add(-time.Hour)), "__clerk_redirect_count", "3"),
			status: "signed-out", reason: "session-token-expired-refresh-non-eligible-no-refresh-cookie"},
		{name: "primary responds to syncing", target: "/?__clerk_redirect_url=" + url.QueryEscape("https://sat.example.net/a?__clerk_synced=false&b=1"),
			header: fetchAPI, cookies: signedIn, status: "signed-out", reason: "primary-responds-to-syncing"},
		{name: "forwarded host and proto", header: with(document, "X-Forwarded-Host", "www.example.org, proxy", "X-Forwarded-Proto", "https"),
			target: "/a%20b?q=1+2", status: "handshake", reason: "dev-browser-missing",
			location: with(hsBase, "redirect_url", "https://www.example.org/a%20b?q=1+2")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, mw) })
	}

	t.Run("primary responds to syncing, page load", func(t *testing.T) {
		w := pageCase{target: "/?__clerk_redirect_url=" + url.QueryEscape("https://sat.example.net/a?__clerk_synced=false&b=1"),
			header: document, cookies: signedIn, status: "handshake", reason: "primary-responds-to-syncing"}.run(t, mw)
		if got, want := w.Header().Get("Location"), "https://sat.example.net/a?__clerk_synced=true&b=1&__clerk_db_jwt=dvb_1"; got != want {
			t.Fatalf("Location %q, want %q", got, want)
		}
	})
}

func jsInt(n int64) string { return strconv.FormatInt(n, 10) }

// TestRefresh: an expired cookie token with the instance's __refresh_<sfx>
// cookie on a GET is refreshed through the Backend API; a forged one is
// not, and costs no call.
func TestRefresh(t *testing.T) {
	srv := clerktest.New(t)
	mw, err := clerkauth.New(srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	sfx := instance.CookieSuffix(srv.PublishableKey())
	now := time.Now()
	expired := srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(-2*time.Minute)))
	refresh := srv.RefreshCookie(expired)
	cookies := map[string]string{"__session": expired, "__client_uat": jsInt(now.Add(-time.Hour).Unix()), "__clerk_db_jwt": "dvb_1",
		refresh.Name: refresh.Value}

	calls := func() int { return srv.Requests("/v1/sessions/" + claim(t, expired, "sid") + "/refresh") }
	for _, h := range []map[string]string{document, fetchAPI} {
		before := calls()
		w := pageCase{header: h, cookies: cookies, status: "signed-in", cookie: []string{"__session=", "__session_" + sfx + "=", "__client_uat="}}.run(t, mw)
		if calls() != before+1 {
			t.Fatalf("refresh calls %d, want %d", calls(), before+1)
		}
		if w.Code != http.StatusOK || w.Header().Get("Location") != "" {
			t.Fatalf("a refresh answered %d, Location %q", w.Code, w.Header().Get("Location"))
		}
	}

	// A wrong refresh token: Clerk's error code names the reason.
	pageCase{header: document, cookies: merge(cookies, refresh.Name, "rt_wrong"), status: "handshake",
		reason: "session-token-expired-refresh-authentication_invalid"}.run(t, mw)

	// A forged expired token (another key) is refused on its signature,
	// without a Backend API call (Clerk would call and then hand shake).
	forged := expired[:strings.LastIndexByte(expired, '.')+1] + strings.Repeat("A", 342)
	before := calls()
	pageCase{header: document, cookies: merge(cookies, "__session", forged), status: "signed-out", reason: "token-invalid-signature"}.run(t, mw)
	if calls() != before {
		t.Fatal("a forged token was refreshed")
	}
}

func claim(t *testing.T, tok, name string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(raw), `"`+name+`":"`)
	if i < 0 {
		t.Fatalf("no %s claim", name)
	}
	rest := string(raw)[i+len(name)+4:]
	return rest[:strings.IndexByte(rest, '"')]
}
