package clerkauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// pageEvents is an Observer that keeps the authentication and page-load
// events, summarized, and checks each as it comes.
type pageEvents struct {
	t     *testing.T
	mu    sync.Mutex
	auth  []string // "type verdict reason hit"
	pages []string // "flow outcome reason"
	raw   []string // every event, printed, for what must never be in one
}

func (l *pageEvents) observer() *clerkauth.Observer {
	return &clerkauth.Observer{
		Authentication: func(e clerkauth.AuthenticationEvent) {
			typ := e.TokenType
			if typ == "" {
				typ = "none"
			}
			switch {
			case (e.Context == nil) != (e.CacheHit || e.TokenType == ""):
				l.t.Errorf("%+v: a context with a cache hit or without a token, or none otherwise", e)
			case e.Duration <= 0 || e.Duration >= time.Second:
				l.t.Errorf("%+v: duration not measured with Options.Now from the start of the request", e)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			l.auth = append(l.auth, fmt.Sprintf("%s %s %s %v", typ, e.Verdict, e.Reason, e.CacheHit))
			l.raw = append(l.raw, fmt.Sprintf("%+v", e))
		},
		PageLoad: func(e clerkauth.PageLoadEvent) {
			if e.Duration <= 0 || e.Duration >= time.Second {
				l.t.Errorf("%+v: duration not measured with Options.Now from the start of the request", e)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			l.pages = append(l.pages, fmt.Sprintf("%s %s %s", e.Flow, e.Outcome, e.Reason))
			l.raw = append(l.raw, fmt.Sprintf("%+v", e))
		},
	}
}

// take returns the events so far and forgets them.
func (l *pageEvents) take() (auth, pages []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	auth, pages = l.auth, l.pages
	l.auth, l.pages = nil, nil
	return auth, pages
}

// stepNow is an injected clock that moves 1ms each time it is read, so
// that every duration measured with it is positive and small.
func stepNow() func() time.Time {
	var ns atomic.Int64
	ns.Store(time.Now().UnixNano())
	return func() time.Time { return time.Unix(0, ns.Add(int64(time.Millisecond))) }
}

// TestObserverPageLoadFlows: with the page-load flows on, every request
// is reported to Observer.Authentication exactly once, whichever way it
// is decided (no token, the cookie rules, a handshake redirect, a
// resolved handshake, a refresh, a header token out of time), and each
// handshake and refresh outcome to Observer.PageLoad; no event holds a
// token, an id or the secret key.
func TestObserverPageLoadFlows(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, production := range []bool{false, true} {
		name := "development"
		var opts []clerktest.ServerOption
		if production {
			name = "production"
			opts = append(opts, clerktest.WithProductionInstance())
		}
		t.Run(name, func(t *testing.T) {
			srv := clerktest.New(t, opts...)
			srv.AddUser(clerktest.User{ID: "user_1"})
			log := &pageEvents{t: t}
			o := srv.Options()
			o.Observer, o.Now, o.Logger = log.observer(), stepNow(), slog.New(slog.DiscardHandler)
			mw := newMW(t, o)
			handler := mw.Handler(ok)
			nested := mw.Handler(mw.RequireAuth(ok)) // RequireAuth reuses what Handler decided
			now := time.Now()
			uat := jsInt(now.Add(-time.Hour).Unix())
			devBrowser := map[string]string{}
			if !production {
				devBrowser["__clerk_db_jwt"] = "dvb_1"
			}
			session := func(tok string, kv ...string) map[string]string {
				return merge(devBrowser, append([]string{"__session", tok, "__client_uat", uat}, kv...)...)
			}
			expiredToken := func(user string) string {
				return srv.SessionToken(user, clerktest.WithIssuedAt(now.Add(-2*time.Minute)))
			}
			expired := expiredToken("user_1")
			handshakeTok := srv.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "typ": "JWT"},
				map[string]any{"handshake": []string{"__session=" + srv.SessionToken("user_1") + "; Path=/", "__client_uat=" + uat + "; Path=/"}})
			forgedHandshake := clerktest.New(t).Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "typ": "JWT"},
				map[string]any{"handshake": []string{"__session=" + srv.SessionToken("user_1") + "; Path=/"}})
			toRefresh := expiredToken("user_1")
			refresh := srv.RefreshCookie(toRefresh)
			const noRefresh = "session-token-expired-refresh-non-eligible-no-refresh-cookie"
			const wrongRefresh = "session-token-expired-refresh-authentication_invalid"

			type request struct {
				method, target string
				header         map[string]string
				cookies        map[string]string
				h              http.Handler
			}
			for _, tc := range []struct {
				name       string
				reqs       []request
				auth       []string // for production, where it differs, prodAuth
				pages      []string
				prodAuth   []string
				prodPages  []string
				sameInProd bool
			}{
				{name: "no token, fetch", reqs: []request{{header: fetchAPI}},
					auth:     []string{"none signed-out dev-browser-missing false"},
					prodAuth: []string{"none signed-out session-token-and-uat-missing false"}},
				{name: "no token, page load", reqs: []request{{header: document}},
					auth:     []string{"none handshake dev-browser-missing false"},
					pages:    []string{"handshake redirect dev-browser-missing"},
					prodAuth: []string{"none signed-out session-token-and-uat-missing false"}},
				{name: "no token, nested RequireAuth", reqs: []request{{header: fetchAPI, cookies: devBrowser, h: nested}},
					auth: []string{"none signed-out session-token-and-uat-missing false"}, sameInProd: true},
				{name: "signed-in cookie, twice", reqs: []request{{header: document, cookies: session(srv.SessionToken("user_1"))}, {}},
					auth: []string{"session_token signed-in  false", "session_token signed-in  true"}, sameInProd: true},
				{name: "uat without session, page load", reqs: []request{{header: document, cookies: merge(devBrowser, "__client_uat", uat)}},
					auth:  []string{"none handshake client-uat-but-no-session-token false"},
					pages: []string{"handshake redirect client-uat-but-no-session-token"}, sameInProd: true},
				{name: "expired cookie, page load", reqs: []request{{header: document, cookies: session(expired)}},
					auth:  []string{"session_token handshake " + noRefresh + " false"},
					pages: []string{"handshake redirect " + noRefresh}, sameInProd: true},
				{name: "expired cookie, fetch", reqs: []request{{header: fetchAPI, cookies: session(expired)}},
					auth: []string{"session_token signed-out " + noRefresh + " false"}, sameInProd: true},
				{name: "expired cookie, loop stopped", reqs: []request{{header: document, cookies: session(expired, "__clerk_redirect_count", "3")}},
					auth:  []string{"session_token signed-out " + noRefresh + " false"},
					pages: []string{"handshake loop " + noRefresh}, sameInProd: true},
				{name: "expired header token, page load", reqs: []request{{header: merge(document, "Authorization", "Bearer "+expired)}},
					auth:  []string{"session_token handshake " + noRefresh + " false"},
					pages: []string{"handshake redirect " + noRefresh}, sameInProd: true},
				{name: "expired header token, fetch", reqs: []request{{header: merge(fetchAPI, "Authorization", "Bearer "+expired)}},
					auth: []string{"session_token signed-out " + noRefresh + " false"}, sameInProd: true},
				{name: "refreshed", reqs: []request{{header: document, cookies: session(toRefresh, refresh.Name, refresh.Value)}},
					auth:  []string{"session_token signed-in  false"},
					pages: []string{"refresh refreshed "}, sameInProd: true},
				{name: "refresh refused", reqs: []request{{header: document, cookies: session(expiredToken("user_1"), refresh.Name, "rt_wrong")}},
					auth:  []string{"session_token handshake " + wrongRefresh + " false"},
					pages: []string{"refresh failed " + wrongRefresh, "handshake redirect " + wrongRefresh}, sameInProd: true},
				{name: "handshake resolved", reqs: []request{{target: "/p?__clerk_handshake=" + handshakeTok, header: document}},
					auth:  []string{"session_token signed-in  false"},
					pages: []string{"handshake resolved "}, sameInProd: true},
				{name: "handshake token forged", reqs: []request{{target: "/p?__clerk_handshake=" + forgedHandshake, header: fetchAPI}},
					auth:     []string{"none signed-out dev-browser-missing false"},
					pages:    []string{"handshake failed "},
					prodAuth: []string{"none signed-out session-token-and-uat-missing false"}, prodPages: []string{"handshake failed "}},
				{name: "handshake nonce unknown", reqs: []request{{target: "/p?__clerk_handshake_nonce=nonce_unknown", header: fetchAPI}},
					auth:  []string{"none signed-out session-token-missing false"},
					pages: []string{"handshake failed "}, sameInProd: true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					log.t = t
					var last request
					for i, rq := range tc.reqs {
						if i > 0 && rq.header == nil && rq.cookies == nil {
							rq = last // the same request again
						}
						last = rq
						method, target, h := rq.method, rq.target, rq.h
						if method == "" {
							method = http.MethodGet
						}
						if target == "" {
							target = "/"
						}
						if h == nil {
							h = handler
						}
						r := httptest.NewRequest(method, "http://app.example.com"+target, nil)
						for k, v := range rq.header {
							r.Header.Set(k, v)
						}
						for k, v := range rq.cookies {
							r.AddCookie(&http.Cookie{Name: k, Value: v})
						}
						h.ServeHTTP(httptest.NewRecorder(), r)
					}
					wantAuth, wantPages := tc.auth, tc.pages
					if production && !tc.sameInProd {
						wantAuth, wantPages = tc.prodAuth, tc.prodPages
					}
					auth, pages := log.take()
					if fmt.Sprintf("%q", auth) != fmt.Sprintf("%q", wantAuth) {
						t.Errorf("authentications:\n got %q\nwant %q", auth, wantAuth)
					}
					if fmt.Sprintf("%q", pages) != fmt.Sprintf("%q", wantPages) {
						t.Errorf("page loads:\n got %q\nwant %q", pages, wantPages)
					}
				})
			}
			log.mu.Lock()
			all := strings.Join(log.raw, "\n")
			log.mu.Unlock()
			for _, secret := range []string{"user_1", "sess_", srv.SecretKey(), expired[:40], handshakeTok[:40], "nonce_unknown", "dvb_1", refresh.Value} {
				if strings.Contains(all, secret) {
					t.Errorf("an event holds %q:\n%s", secret, all)
				}
			}
		})
	}
}

// TestObserverAuthenticateOnce: Authenticate, AuthenticateResponse and
// RequireAuth report a page load once each, as Handler does.
func TestObserverAuthenticateOnce(t *testing.T) {
	srv := clerktest.New(t, clerktest.WithProductionInstance())
	log := &pageEvents{t: t}
	o := srv.Options()
	o.Observer, o.Now = log.observer(), stepNow()
	mw := newMW(t, o)
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	r.Header.Set("Sec-Fetch-Dest", "document")
	mw.Authenticate(r)
	mw.AuthenticateResponse(httptest.NewRecorder(), r)
	mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(httptest.NewRecorder(), r)
	mw.AuthenticateToken(context.Background(), srv.SessionToken("user_1"))
	auth, pages := log.take()
	want := []string{"none signed-out session-token-and-uat-missing false", "none signed-out session-token-and-uat-missing false",
		"none signed-out session-token-and-uat-missing false", "session_token signed-in  false"}
	if fmt.Sprintf("%q", auth) != fmt.Sprintf("%q", want) || len(pages) != 0 {
		t.Fatalf("authentications %q, page loads %q", auth, pages)
	}
}
