package clerkauth_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// liveOptions are options for a production (pk_live) instance whose keys
// and Backend API are srv's.
func liveOptions(srv *clerktest.Server) clerkauth.Options {
	host := strings.TrimPrefix(srv.URL, "http://")
	return clerkauth.Options{
		SecretKey:      srv.SecretKey(),
		PublishableKey: "pk_live_" + base64.StdEncoding.EncodeToString([]byte(host+"$")),
		APIURL:         srv.URL,
		Getenv:         func(string) string { return "" },
	}
}

func newMW(t *testing.T, o clerkauth.Options) *clerkauth.Middleware {
	t.Helper()
	mw, err := clerkauth.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	return mw
}

func TestPageLoadProduction(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMW(t, liveOptions(srv))
	host := strings.TrimPrefix(srv.URL, "http://")
	now := time.Now()
	good := srv.SessionToken("user_1")
	signedIn := map[string]string{"__session": good, "__client_uat": jsInt(now.Add(-time.Minute).Unix())}
	cases := []pageCase{
		{name: "no cookies", header: document, status: "signed-out", reason: "session-token-and-uat-missing"},
		{name: "uat without session", header: document, cookies: map[string]string{"__client_uat": "1"}, status: "handshake",
			reason: "client-uat-but-no-session-token", location: map[string]string{"__clerk_db_jwt": "", "suffixed_cookies": "false"}},
		{name: "signed in", header: document, cookies: signedIn, status: "signed-in"},
		{name: "cross-origin referrer", header: merge(document, "Referer", "https://satellite.example.net/x"), cookies: signedIn,
			status: "handshake", reason: "primary-domain-cross-origin-sync"},
		{name: "cross-origin referrer, loop", header: merge(document, "Referer", "https://satellite.example.net/x"),
			cookies: merge(signedIn, "__clerk_redirect_count", "1"), status: "signed-in"},
		{name: "cross-origin referrer, fetch", header: merge(fetchAPI, "Referer", "https://satellite.example.net/x"), cookies: signedIn, status: "signed-in"},
		{name: "cross-origin referrer, POST", method: http.MethodPost, header: merge(document, "Referer", "https://satellite.example.net/x"), cookies: signedIn, status: "signed-in"},
		{name: "same-origin referrer", header: merge(document, "Referer", "http://app.example.com/a"), cookies: signedIn, status: "signed-in"},
		{name: "Frontend API referrer", header: merge(document, "Referer", "https://"+host+"/v1/client"), cookies: signedIn, status: "signed-in"},
		{name: "invalid referrer", header: merge(document, "Referer", "::not a url"), cookies: signedIn, status: "signed-in"},
		{name: "dev accounts portal referrer on production", header: merge(document, "Referer", "https://happy-cat-12.accounts.dev/sign-in"),
			cookies: signedIn, status: "handshake", reason: "primary-domain-cross-origin-sync"},
		{name: "dev browser query ignored", target: "/?__clerk_db_jwt=x", header: document, cookies: signedIn, status: "signed-in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.run(t, mw)
			if loc := w.Header().Get("Location"); tc.status == "handshake" && !strings.HasPrefix(loc, "https://"+host+"/v1/client/handshake?redirect_url=") {
				t.Fatalf("Location %q", loc)
			}
		})
	}
}

func TestSatelliteAndProxy(t *testing.T) {
	srv := clerktest.New(t)
	sat := liveOptions(srv)
	sat.IsSatellite, sat.Domain, sat.SignInURL = true, "sat.example.net", "https://primary.example.com/sign-in"
	mwSat := newMW(t, sat)
	if got := mwSat.FrontendAPI(); got != "https://clerk.sat.example.net" {
		t.Fatalf("FrontendAPI %q", got)
	}
	for _, tc := range []pageCase{
		{name: "no cookies", header: document, status: "signed-out", reason: "session-token-and-uat-missing"},
		{name: "needs sync", target: "/?__clerk_synced=false", header: document, status: "handshake", reason: "satellite-needs-syncing",
			location: map[string]string{"redirect_url": "http://app.example.com/?__clerk_synced=false"}},
		{name: "needs sync, not a document", target: "/?__clerk_synced=false", header: htmlNoSF, status: "signed-out", reason: "session-token-and-uat-missing"},
		{name: "synced", target: "/?__clerk_synced=true", header: document, status: "signed-out", reason: "session-token-and-uat-missing"},
	} {
		t.Run("satellite/"+tc.name, func(t *testing.T) {
			w := tc.run(t, mwSat)
			if loc := w.Header().Get("Location"); tc.status == "handshake" && !strings.HasPrefix(loc, "https://clerk.sat.example.net/v1/client/handshake?") {
				t.Fatalf("Location %q", loc)
			}
		})
	}

	// The cookie pair, as Clerk chooses it: on a production satellite a
	// token issued by the satellite's Frontend API is the instance's (the
	// unsuffixed pair is read); one issued by the primary's is not (the
	// suffixed pair is read, here absent).
	uat := jsInt(time.Now().Add(-time.Hour).Unix())
	satTok := srv.SessionToken("user_1", clerktest.WithClaims(map[string]any{"iss": "https://clerk.sat.example.net"}))
	pageCase{header: document, cookies: map[string]string{"__session": satTok, "__client_uat": uat}, status: "signed-in"}.run(t, mwSat)
	pageCase{header: document, cookies: map[string]string{"__session": srv.SessionToken("user_1"), "__client_uat": uat},
		status: "signed-out", reason: "session-token-and-uat-missing"}.run(t, mwSat)

	// Issuers: the primary's, the satellite's and the proxy's are this
	// deployment's; another instance's is not.
	for _, tc := range []struct{ iss, reason string }{
		{srv.Issuer(), ""},
		{"https://clerk.sat.example.net", ""},
		{"https://clerk.other.example.com", "token-invalid-issuer"},
	} {
		tok := srv.SessionToken("user_1", clerktest.WithClaims(map[string]any{"iss": tc.iss}))
		a, _ := mwSat.Authenticate(bearerRequest(tok))
		if a.Reason() != tc.reason {
			t.Errorf("iss %s: reason %q, want %q", tc.iss, a.Reason(), tc.reason)
		}
	}

	// A development satellite syncs through the primary's sign-in page.
	devSat := srv.Options()
	devSat.ProxyURL, devSat.IsSatellite, devSat.Domain, devSat.SignInURL = "", true, "sat.example.net", "https://primary.example.com/sign-in?a=1"
	w := pageCase{target: "/p?__clerk_synced=false", header: document, cookies: map[string]string{"__clerk_db_jwt": "dvb_1"},
		status: "handshake", reason: "satellite-needs-syncing"}.run(t, newMW(t, devSat))
	want := "https://primary.example.com/sign-in?a=1&__clerk_redirect_url=" + url.QueryEscape("http://app.example.com/p?__clerk_synced=false")
	if got := w.Header().Get("Location"); got != want {
		t.Fatalf("dev satellite Location %q, want %q", got, want)
	}

	// A proxy: handshakes go through it, its issuer is accepted.
	for _, proxy := range []string{"https://app.example.com/__clerk", "/__clerk"} {
		o := liveOptions(srv)
		o.ProxyURL = proxy
		mw := newMW(t, o)
		if mw.FrontendAPI() != proxy {
			t.Fatalf("FrontendAPI %q, want %q", mw.FrontendAPI(), proxy)
		}
		w := pageCase{header: document, cookies: map[string]string{"__client_uat": "1"}, status: "handshake",
			reason: "client-uat-but-no-session-token"}.run(t, mw)
		base := proxy
		if strings.HasPrefix(proxy, "/") {
			base = "http://app.example.com" + proxy
		}
		if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, base+"/v1/client/handshake?") {
			t.Fatalf("proxy %s: Location %q", proxy, loc)
		}
		tok := srv.SessionToken("user_1", clerktest.WithClaims(map[string]any{"iss": "https://app.example.com/__clerk"}))
		if a, err := mw.Authenticate(bearerRequest(tok)); !a.IsSignedIn() {
			t.Fatalf("proxy %s: proxy issuer refused: %v", proxy, err)
		}
	}
}

func bearerRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// TestHandlersActOnStates: Handler and RequireAuth answer a handshake
// themselves without calling the next handler, serve a refreshed session
// with its Set-Cookie headers, and never redirect API requests;
// DisableHandshake turns all of it off.
func TestHandlersActOnStates(t *testing.T) {
	srv := clerktest.New(t)
	expired := srv.SessionToken("user_1", clerktest.WithIssuedAt(time.Now().Add(-2*time.Minute)))
	cookies := map[string]string{"__session": expired, "__client_uat": "1", "__clerk_db_jwt": "dvb_1"}
	refresh := srv.RefreshCookie(expired)

	for _, wrap := range []string{"Handler", "RequireAuth"} {
		for _, disabled := range []bool{false, true} {
			o := srv.Options()
			o.DisableHandshake = disabled
			mw := newMW(t, o)
			h := mw.Handler
			if wrap == "RequireAuth" {
				h = mw.RequireAuth
			}
			called := 0
			app := h(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called++
				if a := clerkauth.GetAuth(r); a.IsSignedIn() {
					w.Write([]byte(a.UserID))
				}
			}))
			send := func(hdr map[string]string, c map[string]string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", "http://app.example.com/", nil)
				for k, v := range hdr {
					r.Header.Set(k, v)
				}
				for k, v := range c {
					r.AddCookie(&http.Cookie{Name: k, Value: v})
				}
				w := httptest.NewRecorder()
				app.ServeHTTP(w, r)
				return w
			}
			name := wrap + map[bool]string{false: "", true: "/disabled"}[disabled]
			t.Run(name, func(t *testing.T) {
				w := send(document, cookies)
				switch {
				case disabled && (w.Code == http.StatusTemporaryRedirect || w.Header().Get("Set-Cookie") != ""):
					t.Fatalf("disabled: %d %q", w.Code, w.Header())
				case !disabled && (w.Code != http.StatusTemporaryRedirect || called != 0 || w.Header().Get("Cache-Control") != "no-store" ||
					!strings.HasPrefix(w.Header().Get("Set-Cookie"), "__clerk_redirect_count=1")):
					t.Fatalf("handshake: %d, next called %d times, headers %q", w.Code, called, w.Header())
				}
				called = 0
				if w := send(fetchAPI, cookies); w.Code == http.StatusTemporaryRedirect {
					t.Fatalf("an API request was redirected")
				}
				w = send(document, merge(cookies, refresh.Name, refresh.Value))
				if disabled {
					return
				}
				if w.Code != 200 || w.Body.String() != "user_1" || !strings.HasPrefix(w.Header().Get("Set-Cookie"), "__session=") {
					t.Fatalf("refresh: %d %q %q", w.Code, w.Body, w.Header())
				}
			})
		}
	}
}

// TestOrganizationSync: a signed-in page load on a path naming another
// organization goes through the handshake with organization_id.
func TestOrganizationSync(t *testing.T) {
	srv := clerktest.New(t)
	o := srv.Options()
	o.OrganizationSyncOptions = &clerkauth.OrganizationSyncOptions{
		OrganizationPatterns:    []string{"/orgs/:slug", "/orgs/:slug/(.*)", "/by-id/:id"},
		PersonalAccountPatterns: []string{"/me", "/me/(.*)"},
	}
	mw := newMW(t, o)
	inAcme := map[string]string{"__session": srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin")),
		"__client_uat": "1", "__clerk_db_jwt": "dvb_1"}
	personal := merge(inAcme, "__session", srv.SessionToken("user_1"))
	mismatch := "active-organization-mismatch"
	for _, tc := range []pageCase{
		{name: "same org", target: "/orgs/acme/settings", header: document, cookies: inAcme, status: "signed-in"},
		{name: "other org", target: "/orgs/globex/settings", header: document, cookies: inAcme, status: "handshake", reason: mismatch,
			location: map[string]string{"organization_id": "globex", "__clerk_hs_reason": mismatch}},
		{name: "other org, fetch", target: "/orgs/globex", header: fetchAPI, cookies: inAcme, status: "signed-in"},
		{name: "by id", target: "/by-id/org_2", header: document, cookies: inAcme, status: "handshake", reason: mismatch,
			location: map[string]string{"organization_id": "org_2"}},
		{name: "same id", target: "/by-id/org_1", header: document, cookies: inAcme, status: "signed-in"},
		{name: "personal with an org", target: "/me", header: document, cookies: inAcme, status: "handshake", reason: mismatch},
		{name: "personal", target: "/me/x", header: document, cookies: personal, status: "signed-in"},
		{name: "loop", target: "/orgs/globex", header: document, cookies: merge(inAcme, "__clerk_redirect_count", "3"), status: "signed-in"},
		{name: "other handshakes carry it", target: "/orgs/globex", header: document, cookies: map[string]string{"__client_uat": "1", "__clerk_db_jwt": "d"},
			status: "handshake", reason: "client-uat-but-no-session-token", location: map[string]string{"organization_id": "globex"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.run(t, mw)
			if tc.name == "personal with an org" {
				if q, _ := url.Parse(w.Header().Get("Location")); !q.Query().Has("organization_id") || q.Query().Get("organization_id") != "" {
					t.Fatalf("Location %q, want organization_id=", w.Header().Get("Location"))
				}
			}
		})
	}
	o.OrganizationSyncOptions = &clerkauth.OrganizationSyncOptions{OrganizationPatterns: []string{"/:a-:b"}}
	if _, err := clerkauth.New(o); err == nil || !strings.Contains(err.Error(), "OrganizationPatterns") {
		t.Fatalf("a look-ahead pattern: %v", err)
	}
}
