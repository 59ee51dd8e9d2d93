package clerkauth_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// okHandler answers 200 "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

// serve sends req to h and returns the recorder.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// bearer is a GET of path with tok as a bearer token ("" for none).
func bearer(path, tok string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req
}

func protectMW(t *testing.T, opts clerkauth.Options) *clerkauth.Middleware {
	t.Helper()
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	return mw
}

// Clerk's reverificationErrorResponse(...) of @clerk/shared 4.41.0 (the
// version @clerk/backend 3.25.0 depends on), as printed by node:
// status 403, content-type text/plain;charset=UTF-8, and these bodies.
const (
	clerkRevStrict    = `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}`
	clerkRevStrictMFA = `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict_mfa"}}}`
	clerkRevModerate  = `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"moderate"}}}`
	clerkRevLax       = `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"lax"}}}`
	clerkRevCustom    = `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":{"level":"first_factor","afterMinutes":5}}}}`
)

func TestProtect(t *testing.T) {
	srv := clerktest.New(t)
	mw := protectMW(t, srv.Options())
	admin := srv.SessionToken("user_admin", clerktest.WithOrg("org_1", "acme", "admin", "org:settings:manage"))
	member := srv.SessionToken("user_member", clerktest.WithOrg("org_1", "acme", "member", "org:settings:read"))
	stale := srv.SessionToken("user_stale", clerktest.WithOrg("org_1", "acme", "admin", "org:settings:manage"),
		clerktest.WithFactorAge(30, 30))
	pro := srv.SessionToken("user_pro", clerktest.WithPlans("pro"), clerktest.WithFeatures("export"))
	m2m := srv.M2MJWT(clerktest.MachineToken{Scopes: []string{"mch_reports"}})
	apiKey := srv.AddAPIKey(clerktest.MachineToken{Subject: "user_ci", Scopes: []string{"deploy"}})

	manage := clerkauth.Check{Permission: "org:settings:manage"}
	cases := []struct {
		name     string
		checks   []clerkauth.Check
		tok      string
		accept   []string
		wantCode int
		wantBody string
		wantCT   string
	}{
		{"signed out", []clerkauth.Check{manage}, "", nil, 401, `{"error":"Not authenticated"}`, "application/json"},
		{"no check: signed in", nil, member, nil, 200, "ok", ""},
		{"no check: signed out", nil, "", nil, 401, `{"error":"Not authenticated"}`, "application/json"},
		{"permission held", []clerkauth.Check{manage}, admin, nil, 200, "ok", ""},
		{"permission missing", []clerkauth.Check{manage}, member, nil, 403, `{"error":"Forbidden"}`, "application/json"},
		{"role", []clerkauth.Check{{Role: "admin"}}, admin, nil, 200, "ok", ""},
		{"role and permission, one missing", []clerkauth.Check{{Role: "member", Permission: "org:settings:manage"}}, member, nil, 403, `{"error":"Forbidden"}`, "application/json"},
		{"two checks, both held", []clerkauth.Check{{Role: "admin"}, manage}, admin, nil, 200, "ok", ""},
		{"two checks, second missing", []clerkauth.Check{{Role: "member"}, manage}, member, nil, 403, `{"error":"Forbidden"}`, "application/json"},
		{"empty check never holds", []clerkauth.Check{{}}, admin, nil, 403, `{"error":"Forbidden"}`, "application/json"},
		{"plan", []clerkauth.Check{{Plan: "pro"}}, pro, nil, 200, "ok", ""},
		{"feature missing", []clerkauth.Check{{Feature: "reports"}}, pro, nil, 403, `{"error":"Forbidden"}`, "application/json"},
		{"fresh reverification", []clerkauth.Check{{Reverification: clerkauth.Reverify("strict")}}, admin, nil, 200, "ok", ""},
		{"stale: strict", []clerkauth.Check{{Reverification: clerkauth.Reverify("strict")}}, stale, nil, 403, clerkRevStrict, "text/plain;charset=UTF-8"},
		{"stale: strict_mfa", []clerkauth.Check{{Reverification: clerkauth.Reverify("strict_mfa")}}, stale, nil, 403, clerkRevStrictMFA, "text/plain;charset=UTF-8"},
		{"stale: moderate", []clerkauth.Check{{Reverification: clerkauth.Reverify("moderate")}}, stale, nil, 200, "ok", ""},
		{"stale: custom", []clerkauth.Check{{Reverification: clerkauth.Reverification{Level: "first_factor", AfterMinutes: 5}}}, stale, nil, 403, clerkRevCustom, "text/plain;charset=UTF-8"},
		{"stale with permission held", []clerkauth.Check{{Permission: "org:settings:manage", Reverification: clerkauth.Reverify("strict")}}, stale, nil, 403, clerkRevStrict, "text/plain;charset=UTF-8"},
		{"permission missing comes before reverification", []clerkauth.Check{{Reverification: clerkauth.Reverify("strict")}, {Permission: "org:billing:manage"}}, stale, nil, 403, `{"error":"Forbidden"}`, "application/json"},
		{"machine scope held", []clerkauth.Check{{Scope: "mch_reports"}}, m2m, []string{clerkauth.TokenTypeM2M}, 200, "ok", ""},
		{"machine scope missing", []clerkauth.Check{{Scope: "mch_billing"}}, m2m, []string{clerkauth.TokenTypeM2M}, 403, `{"error":"Forbidden"}`, "application/json"},
		{"opaque API key scope", []clerkauth.Check{{Scope: "deploy"}}, apiKey, []string{clerkauth.TokenTypeAPIKey}, 200, "ok", ""},
		{"opaque API key scope missing", []clerkauth.Check{{Scope: "admin"}}, apiKey, []string{clerkauth.TokenTypeAPIKey}, 403, `{"error":"Forbidden"}`, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mw
			if tc.accept != nil {
				m = mw.AcceptsToken(tc.accept...)
			}
			for _, outer := range []bool{false, true} {
				h := m.Protect(tc.checks...)(okHandler)
				if outer { // the result of an outer Handler is reused
					h = m.Handler(h)
				}
				rec := serve(h, bearer("/x", tc.tok))
				if rec.Code != tc.wantCode || rec.Body.String() != tc.wantBody {
					t.Fatalf("outer Handler %v: got %d %s, want %d %s", outer, rec.Code, rec.Body, tc.wantCode, tc.wantBody)
				}
			}
			rec := serve(m.Protect(tc.checks...)(okHandler), bearer("/x", tc.tok))
			if ct := rec.Header().Get("Content-Type"); tc.wantCT != "" && ct != tc.wantCT {
				t.Fatalf("Content-Type %q, want %q", ct, tc.wantCT)
			}
		})
	}
}

// The reverification answers of every preset, as node printed them from
// Clerk's own reverificationErrorResponse (see the constants above).
func TestReverificationResponseIsClerks(t *testing.T) {
	srv := clerktest.New(t)
	mw := protectMW(t, srv.Options())
	never := srv.SessionToken("user_1", clerktest.WithFactorAge(-1, -1))
	for preset, want := range map[string]string{"strict": clerkRevStrict, "strict_mfa": clerkRevStrictMFA, "moderate": clerkRevModerate, "lax": clerkRevLax} {
		rec := serve(mw.Protect(clerkauth.Check{Reverification: clerkauth.Reverify(preset)})(okHandler), bearer("/", never))
		if rec.Code != 403 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "text/plain;charset=UTF-8" || len(rec.Header()) != 1 {
			t.Errorf("%s: got %d %v %s, want 403 with only Content-Type text/plain;charset=UTF-8 and %s", preset, rec.Code, rec.Header(), rec.Body, want)
		}
	}
}

// Protect admits exactly the requests for which every Check holds by
// Auth.Has: random combinations over tokens of many shapes.
func TestProtectMatchesHas(t *testing.T) {
	srv := clerktest.New(t)
	mw := protectMW(t, srv.Options())
	toks := []string{
		srv.SessionToken("user_a", clerktest.WithOrg("org_1", "acme", "admin", "org:settings:manage", "org:billing:read")),
		srv.SessionToken("user_b", clerktest.WithOrg("org_1", "acme", "member", "org:settings:read"), clerktest.WithFactorAge(15, -1)),
		srv.SessionToken("user_c", clerktest.WithPlans("pro"), clerktest.WithFeatures("export", "o:reports"), clerktest.WithFactorAge(3, 2)),
		srv.SessionToken("user_d", clerktest.WithFactorAge(-1, -1)),
	}
	fields := []clerkauth.Check{
		{Role: "admin"}, {Role: "org:member"}, {Permission: "org:settings:manage"}, {Permission: "settings:read"},
		{Feature: "export"}, {Feature: "org:reports"}, {Plan: "pro"}, {Plan: "free_user"},
		{Reverification: clerkauth.Reverify("strict")}, {Reverification: clerkauth.Reverify("moderate")},
		{Reverification: clerkauth.Reverification{Level: "multi_factor", AfterMinutes: 20}},
		{Reverification: clerkauth.Reverification{Level: "first_factor", AfterMinutes: 4}},
	}
	merge := func(a, b clerkauth.Check) clerkauth.Check {
		if b.Role != "" {
			a.Role = b.Role
		}
		if b.Permission != "" {
			a.Permission = b.Permission
		}
		if b.Feature != "" {
			a.Feature = b.Feature
		}
		if b.Plan != "" {
			a.Plan = b.Plan
		}
		if b.Reverification != (clerkauth.Reverification{}) {
			a.Reverification = b.Reverification
		}
		return a
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	seen := map[int]int{}
	for i := range 400 {
		checks := make([]clerkauth.Check, rnd.IntN(3)+1)
		for j := range checks {
			for range rnd.IntN(3) + 1 {
				checks[j] = merge(checks[j], fields[rnd.IntN(len(fields))])
			}
		}
		tok := toks[i%len(toks)]
		a, err := mw.AuthenticateToken(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		want := true
		for _, c := range checks {
			want = want && a.Has(c)
		}
		rec := serve(mw.Protect(checks...)(okHandler), bearer("/", tok))
		seen[rec.Code]++
		if (rec.Code == 200) != want {
			t.Fatalf("checks %+v on %s: status %d, but Has says %v", checks, a.UserID, rec.Code, want)
		}
		if rec.Code == 403 && strings.Contains(rec.Body.String(), "reverification-error") {
			// Only when every non-reverification field holds.
			for _, c := range checks {
				c.Reverification = clerkauth.Reverification{}
				if c != (clerkauth.Check{}) && !a.Has(c) {
					t.Fatalf("checks %+v on %s: a reverification error although %+v fails", checks, a.UserID, c)
				}
			}
		}
	}
	if seen[200] == 0 || seen[403] == 0 {
		t.Fatalf("the random checks did not exercise both outcomes: %v", seen)
	}
}

func TestWithResponses(t *testing.T) {
	srv := clerktest.New(t)
	var logged []error
	opts := srv.Options()
	opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		logged = append(logged, err)
		clerkauth.DefaultErrorHandler(w, r, err)
	}
	mw := protectMW(t, opts)
	member := srv.SessionToken("user_member", clerktest.WithOrg("org_1", "acme", "member"))
	stale := srv.SessionToken("user_stale", clerktest.WithFactorAge(90, -1))
	var got error
	pages := mw.WithResponses(clerkauth.Responses{
		Forbidden: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "<h1>Not allowed</h1>")
		},
	})
	manage := clerkauth.Check{Permission: "org:settings:manage"}

	rec := serve(pages.Protect(manage)(okHandler), bearer("/", member))
	if rec.Code != 403 || rec.Body.String() != "<h1>Not allowed</h1>" {
		t.Fatalf("page route: %d %s", rec.Code, rec.Body)
	}
	var fe *clerkauth.ForbiddenError
	if !errors.Is(got, clerkauth.ErrForbidden) || errors.Is(got, clerkauth.ErrReverificationRequired) || !errors.As(got, &fe) || fe.Check != manage {
		t.Fatalf("forbidden error %#v", got)
	}
	serve(pages.Protect(clerkauth.Check{Reverification: clerkauth.Reverify("strict")})(okHandler), bearer("/", stale))
	if !errors.Is(got, clerkauth.ErrForbidden) || !errors.Is(got, clerkauth.ErrReverificationRequired) {
		t.Fatalf("reverification error %v", got)
	}
	if len(logged) != 0 {
		t.Fatalf("the route's own handler must replace Options.ErrorHandler: %v", logged)
	}
	// AcceptsToken keeps the route's responses.
	rec = serve(pages.AcceptsToken(clerkauth.TokenTypeSession, clerkauth.TokenTypeM2M).Protect(manage)(okHandler), bearer("/", member))
	if rec.Code != 403 || rec.Body.String() != "<h1>Not allowed</h1>" {
		t.Fatalf("page route narrowed with AcceptsToken: %d %s", rec.Code, rec.Body)
	}

	// Unset fields keep the Middleware's: signed out goes to
	// Options.ErrorHandler; the base Middleware is unchanged.
	if rec := serve(pages.Protect(manage)(okHandler), bearer("/", "")); rec.Code != 401 || len(logged) != 1 || !errors.As(logged[0], new(*clerkauth.AuthError)) {
		t.Fatalf("signed out on the page route: %d, logged %v", rec.Code, logged)
	}
	if rec := serve(mw.Protect(manage)(okHandler), bearer("/", member)); rec.Code != 403 || rec.Body.String() != `{"error":"Forbidden"}` || len(logged) != 2 || !errors.Is(logged[1], clerkauth.ErrForbidden) {
		t.Fatalf("base middleware: %d %s, logged %v", rec.Code, rec.Body, logged)
	}

	// A custom Unauthenticated, kept through AcceptsToken; and a later
	// WithResponses keeps the narrowed token types.
	api := mw.AcceptsToken(clerkauth.TokenTypeM2M).WithResponses(clerkauth.Responses{
		Unauthenticated: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "machines only: "+clerkauth.GetAuth(r).Reason(), http.StatusUnauthorized)
		},
	})
	if rec := serve(api.RequireAuth(okHandler), bearer("/", member)); rec.Code != 401 || !strings.Contains(rec.Body.String(), "machines only: token-type-mismatch") {
		t.Fatalf("machine route with a session token: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(api.WithResponses(clerkauth.Responses{}).RequireAuth(okHandler), bearer("/", srv.M2MJWT(clerktest.MachineToken{}))); rec.Code != 200 {
		t.Fatalf("machine route with an M2M JWT: %d %s", rec.Code, rec.Body)
	}
}

// signInOptions are srv's options with a sign-in page, and the handshake
// off: these tests look at the redirect of a request that is signed out.
func signInOptions(srv *clerktest.Server, signIn string) clerkauth.Options {
	o := srv.Options()
	o.SignInURL = signIn
	o.DisableHandshake = true
	return o
}

func pageLoad(target string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Sec-Fetch-Dest", "document")
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	return req
}

func TestSignInRedirect(t *testing.T) {
	srv := clerktest.New(t)
	mw := protectMW(t, signInOptions(srv, "/sign-in"))
	h := mw.Protect(clerkauth.Check{Permission: "org:settings:manage"})(okHandler)

	type want struct {
		code     int
		location string // "" for none
		hx       string // HX-Redirect
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want want
	}{
		{"page load", func() *http.Request { return pageLoad("http://app.test/org/settings?tab=a%20b") },
			want{307, "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Forg%2Fsettings%3Ftab%3Da%2520b", ""}},
		{"iframe", func() *http.Request {
			r := pageLoad("http://app.test/x")
			r.Header.Set("Sec-Fetch-Dest", "iframe")
			return r
		}, want{307, "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Fx", ""}},
		{"no Sec-Fetch-Dest, Accept text/html", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "http://app.test/x", nil)
			r.Header.Set("Accept", "text/html")
			return r
		}, want{307, "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Fx", ""}},
		{"behind a proxy", func() *http.Request {
			r := pageLoad("http://10.0.0.1:8080/x")
			r.Header.Set("X-Forwarded-Proto", "https, http")
			r.Header.Set("X-Forwarded-Host", "app.example.com, 10.0.0.1")
			return r
		}, want{307, "https://app.example.com/sign-in?redirect_url=https%3A%2F%2Fapp.example.com%2Fx", ""}},
		{"forwarded host that is no host", func() *http.Request {
			r := pageLoad("http://app.test/x")
			r.Header.Set("X-Forwarded-Host", "evil.test/@x")
			return r
		}, want{307, "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Fx", ""}},
		{"fetch from a script", func() *http.Request {
			r := pageLoad("http://app.test/x")
			r.Header.Set("Sec-Fetch-Dest", "empty")
			return r
		}, want{401, "", ""}},
		{"Accept text/html with Sec-Fetch-Dest empty", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "http://app.test/x", nil)
			r.Header.Set("Sec-Fetch-Dest", "empty")
			r.Header.Set("Accept", "text/html")
			return r
		}, want{401, "", ""}},
		{"form post", func() *http.Request {
			r := pageLoad("http://app.test/x")
			r.Method = http.MethodPost
			return r
		}, want{401, "", ""}},
		{"API client", func() *http.Request { return httptest.NewRequest(http.MethodGet, "http://app.test/x", nil) }, want{401, "", ""}},
		{"htmx", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "http://app.test/fragments/clock", nil)
			r.Header.Set("HX-Request", "true")
			r.Header.Set("HX-Current-URL", "http://app.test/dashboard?x=1")
			r.Header.Set("Sec-Fetch-Dest", "empty")
			return r
		}, want{401, "", "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Fdashboard%3Fx%3D1"}},
		{"htmx post", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "http://app.test/fragments/save", nil)
			r.Header.Set("HX-Request", "true")
			r.Header.Set("HX-Current-URL", "http://app.test/dashboard")
			return r
		}, want{401, "", "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Fdashboard"}},
		{"htmx from another origin", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "http://app.test/fragments/clock", nil)
			r.Header.Set("HX-Request", "true")
			r.Header.Set("HX-Current-URL", "https://evil.test/")
			return r
		}, want{401, "", "http://app.test/sign-in?redirect_url=http%3A%2F%2Fapp.test%2Ffragments%2Fclock"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, tc.req())
			if rec.Code != tc.want.code || rec.Header().Get("Location") != tc.want.location || rec.Header().Get("HX-Redirect") != tc.want.hx {
				t.Fatalf("got %d Location %q HX-Redirect %q, want %+v", rec.Code, rec.Header().Get("Location"), rec.Header().Get("HX-Redirect"), tc.want)
			}
			if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Clerk-Auth-Status") != "signed-out" ||
				rec.Header().Get("X-Clerk-Auth-Reason") != "session-token-and-uat-missing" {
				t.Fatalf("headers %v", rec.Header())
			}
			if rec.Code == 401 && rec.Body.String() != `{"error":"Not authenticated"}` {
				t.Fatalf("body %s", rec.Body)
			}
		})
	}
}

func TestSignInRedirectCases(t *testing.T) {
	srv := clerktest.New(t)
	const signIn = "https://accounts.example.com/sign-in?lang=en"

	t.Run("another origin, development browser", func(t *testing.T) {
		mw := protectMW(t, signInOptions(srv, signIn))
		req := pageLoad("http://app.test/dashboard")
		for _, c := range srv.SessionCookies("x") {
			if strings.HasPrefix(c.Name, "__clerk_db_jwt") {
				req.AddCookie(c)
			}
		}
		rec := serve(mw.RequireAuth(okHandler), req)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != 307 || err != nil {
			t.Fatalf("%d %v", rec.Code, err)
		}
		q := loc.Query()
		if loc.Host != "accounts.example.com" || loc.Path != "/sign-in" || q.Get("lang") != "en" ||
			q.Get("redirect_url") != "http://app.test/dashboard" || !strings.HasPrefix(q.Get("__clerk_db_jwt"), "dvb_") {
			t.Fatalf("Location %s", loc)
		}
		if !strings.HasPrefix(loc.RawQuery, "lang=en&redirect_url=") {
			t.Fatalf("the sign-in URL's own parameters come first, as URLSearchParams.set: %s", loc.RawQuery)
		}
	})
	t.Run("same origin: no dev browser token", func(t *testing.T) {
		mw := protectMW(t, signInOptions(srv, "/sign-in"))
		req := pageLoad("http://app.test/dashboard?__clerk_db_jwt=dvb_q")
		rec := serve(mw.RequireAuth(okHandler), req)
		if loc := rec.Header().Get("Location"); strings.Contains(loc, "__clerk_db_jwt=dvb_q&") || strings.Count(loc, "__clerk_db_jwt") != 1 {
			t.Fatalf("Location %s", loc)
		}
	})
	t.Run("satellite", func(t *testing.T) {
		o := signInOptions(srv, signIn)
		o.IsSatellite, o.Domain = true, "sat.example.net"
		mw := protectMW(t, o)
		rec := serve(mw.RequireAuth(okHandler), pageLoad("https://sat.example.net/a?b=c"))
		loc, _ := url.Parse(rec.Header().Get("Location"))
		if got := loc.Query().Get("redirect_url"); got != "https://sat.example.net/a?b=c&__clerk_synced=false" {
			t.Fatalf("redirect_url %q", got)
		}
	})
	t.Run("pending session goes to tasks", func(t *testing.T) {
		mw := protectMW(t, signInOptions(srv, "/sign-in"))
		req := pageLoad("http://app.test/x")
		req.Header.Set("Authorization", "Bearer "+srv.SessionToken("user_1", clerktest.WithPending()))
		rec := serve(mw.RequireAuth(okHandler), req)
		if rec.Header().Get("Location") != "http://app.test/sign-in/tasks?redirect_url=http%3A%2F%2Fapp.test%2Fx" {
			t.Fatalf("%d %s", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("keys unavailable: 503, not sign-in", func(t *testing.T) {
		srv := clerktest.New(t)
		srv.SetJWKSStatus(500)
		o := signInOptions(srv, "/sign-in")
		o.KeyWaitTimeout = 1
		mw := protectMW(t, o)
		req := pageLoad("http://app.test/x")
		req.Header.Set("Authorization", "Bearer "+srv.SessionToken("user_1"))
		if rec := serve(mw.RequireAuth(okHandler), req); rec.Code != 503 || rec.Header().Get("Location") != "" {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
	})
	t.Run("machine-only route", func(t *testing.T) {
		mw := protectMW(t, signInOptions(srv, "/sign-in"))
		if rec := serve(mw.AcceptsToken(clerkauth.TokenTypeAPIKey).RequireAuth(okHandler), pageLoad("http://app.test/x")); rec.Code != 401 {
			t.Fatalf("%d", rec.Code)
		}
	})
	t.Run("route that answers JSON", func(t *testing.T) {
		mw := protectMW(t, signInOptions(srv, "/sign-in"))
		api := mw.WithResponses(clerkauth.Responses{Unauthenticated: clerkauth.DefaultErrorHandler})
		if rec := serve(api.RequireAuth(okHandler), pageLoad("http://app.test/api/me")); rec.Code != 401 {
			t.Fatalf("%d", rec.Code)
		}
	})
	t.Run("Options.ErrorHandler comes after the redirect", func(t *testing.T) {
		o := signInOptions(srv, "/sign-in")
		called := 0
		o.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			called++
			clerkauth.DefaultErrorHandler(w, r, err)
		}
		mw := protectMW(t, o)
		if rec := serve(mw.RequireAuth(okHandler), pageLoad("http://app.test/x")); rec.Code != 307 || called != 0 {
			t.Fatalf("%d, ErrorHandler called %d times", rec.Code, called)
		}
		if rec := serve(mw.RequireAuth(okHandler), bearer("http://app.test/x", "")); rec.Code != 401 || called != 1 {
			t.Fatalf("%d, ErrorHandler called %d times", rec.Code, called)
		}
	})
	t.Run("without SignInURL: 401", func(t *testing.T) {
		o := srv.Options()
		o.DisableHandshake, o.SignInURL = true, ""
		mw := protectMW(t, o)
		if rec := serve(mw.RequireAuth(okHandler), pageLoad("http://app.test/x")); rec.Code != 401 {
			t.Fatalf("%d", rec.Code)
		}
	})
}

// FuzzSignInRedirect: whatever the request's headers say, the redirect
// goes to the configured sign-in page's origin (or the request's own, for
// a path), never elsewhere, and its redirect_url is an absolute http(s)
// URL.
func FuzzSignInRedirect(f *testing.F) {
	f.Add("app.test", "/x?y=z", "https", "app.example.com", "http://app.test/d", uint8(0))
	f.Add("app.test", "/%2F%2Fevil", "", "", "", uint8(1))
	f.Add("a:80", "/", "javascript", "evil.test/x", "//evil.test", uint8(2))
	f.Add("app.test", "/x", "http", "evil.test:443", "http://app.test:80/a", uint8(3))
	// The sign-in page is configuration, not input: a few shapes of it.
	srv := clerktest.New(f)
	var mws []*clerkauth.Middleware
	for _, signIn := range []string{"/sign-in", "https://accounts.example.com/sign-in",
		"/sign-in?a=b&redirect_url=x", "https://accounts.example.com:8443/s?lang=en#frag"} {
		mw, err := clerkauth.New(signInOptions(srv, signIn))
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { mw.Close() })
		mws = append(mws, mw)
	}
	f.Fuzz(func(t *testing.T, host, path, fwdProto, fwdHost, current string, which uint8) {
		mw := mws[int(which)%len(mws)]
		signIn := []string{"/", "https://accounts.example.com", "/", "https://accounts.example.com"}[int(which)%len(mws)]
		req, err := http.NewRequest(http.MethodGet, "http://placeholder"+path, nil)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		req.Host = host
		req.Header.Set("Sec-Fetch-Dest", "document")
		req.Header.Set("X-Forwarded-Proto", fwdProto)
		req.Header.Set("X-Forwarded-Host", fwdHost)
		if current != "" {
			req.Header.Set("HX-Request", "true")
			req.Header.Set("HX-Current-URL", current)
		}
		rec := serve(mw.RequireAuth(okHandler), req)
		loc := rec.Header().Get("Location") + rec.Header().Get("HX-Redirect")
		if loc == "" {
			if rec.Code != 401 {
				t.Fatalf("no redirect and %d", rec.Code)
			}
			return // a Host no browser sends: answered as an API request
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("Location %q: %v", loc, err)
		}
		if strings.HasPrefix(signIn, "https://accounts.example.com") && u.Hostname() != "accounts.example.com" {
			t.Fatalf("sent to %q", loc)
		}
		back, err := url.Parse(u.Query().Get("redirect_url"))
		if err != nil || back.Scheme != "http" && back.Scheme != "https" {
			t.Fatalf("redirect_url %q", u.Query().Get("redirect_url"))
		}
	})
}
