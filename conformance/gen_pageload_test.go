package conformance

import (
	"fmt"
	"strings"

	"github.com/clerkauth/clerkauth/internal/instance"
)

// Page-load flows (issue 19, Proof): Clerk's authenticateRequest beyond
// API calls. Each case is a request to an application page, decided by
// both sides with the mock Backend API answering the session refresh and
// the handshake payload; compared are the state (signed-in, signed-out,
// handshake), the reason, Location (every part, redirect_url parsed), the
// Set-Cookie list and Cache-Control. The cases cover production and
// development instances, requests eligible for a handshake and not, every
// "known unknown" cookie state, suffixed and unsuffixed cookies, the
// refresh (answers of every kind), handshake resolution by nonce and by
// token, the redirect-loop counter, satellite, proxy and syncing set-ups.

const (
	appURL   = "https://app.example.com/dashboard?tab=1"
	satHost  = "sat.example.net"
	proxyAbs = "https://app.example.com/__clerk"
)

// pageInst is one instance of the page-load cases.
type pageInst struct {
	name, pk, sfx string
	dev           bool
}

func pageInsts() []pageInst {
	return []pageInst{
		{"live", pkLive, instance.CookieSuffix(pkLive), false},
		{"test", pkTest, instance.CookieSuffix(pkTest), true},
	}
}

// eligibility: the request headers that make a request a page load (or
// not), and its method.
var eligibility = map[string]struct {
	method  string
	headers map[string]string
}{
	"doc":      {"GET", map[string]string{"Sec-Fetch-Dest": "document", "Accept": "text/html,application/xhtml+xml"}},
	"iframe":   {"GET", map[string]string{"Sec-Fetch-Dest": "iframe"}},
	"html":     {"GET", map[string]string{"Accept": "text/html,application/xhtml+xml;q=0.9"}},
	"fetch":    {"GET", map[string]string{"Sec-Fetch-Dest": "empty", "Accept": "*/*"}},
	"none":     {"GET", nil},
	"json":     {"GET", map[string]string{"Accept": "application/json"}},
	"post-doc": {"POST", map[string]string{"Sec-Fetch-Dest": "document", "Accept": "text/html"}},
	"doc-xref": {"GET", map[string]string{"Sec-Fetch-Dest": "document", "Referer": "https://other.example.org/page"}},
	"doc-fref": {"GET", map[string]string{"Sec-Fetch-Dest": "document", "Referer": "https://clerk.example.com/sign-in"}},
	"doc-sref": {"GET", map[string]string{"Sec-Fetch-Dest": "document", "Referer": "https://app.example.com/other"}},
}

// sess mints a session token of the instance: sub user_2abc, sid
// sess_2abc, issued iatOff seconds from now for 60 s, with mod applied.
func (g *gen) sess(iatOff int64, mod func(c map[string]any)) string {
	c := baseV2()
	c["iat"], c["nbf"], c["exp"] = nowUnix+iatOff, nowUnix+iatOff-5, nowUnix+iatOff+60
	if mod != nil {
		mod(c)
	}
	return g.tok(c)
}

func forge(tok string) string {
	return tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 342)
}

// setCookies are the Set-Cookie directives the mock Backend API answers
// with (refresh, handshake payload): the session token and __client_uat,
// suffixed as asked.
func setCookies(tok, sfx string, suffixed bool) []string {
	out := []string{
		"__session=" + tok + "; Path=/; Secure; SameSite=Lax",
		"__client_uat=" + fmt.Sprint(nowUnix-5) + "; Path=/; Domain=example.com; Max-Age=315360000; Secure; SameSite=Lax",
	}
	if suffixed {
		out = append(out,
			"__session_"+sfx+"="+tok+"; Path=/; Secure; SameSite=Lax",
			"__client_uat_"+sfx+"="+fmt.Sprint(nowUnix-5)+"; Path=/; Domain=example.com; Max-Age=315360000; Secure; SameSite=Lax")
	}
	return out
}

func (g *gen) pageLoads() {
	g.pageOrgSync()
	g.pageMatrix()
	g.pageHandshakeResolution()
	g.pageDeployments()
}

// pageMatrix: every cookie state on both instances, every eligibility,
// the loop counter on document requests.
func (g *gen) pageMatrix() {
	valid := g.sess(-1, nil)
	expired := g.sess(-100, nil)
	noSid := g.sess(-100, func(c map[string]any) { delete(c, "sid") })
	fresh := g.sess(0, nil)
	old := fmt.Sprint(nowUnix - 1000)
	for _, in := range pageInsts() {
		// Refresh answers, by refresh token.
		for _, suffixed := range []bool{false, true} {
			g.api.refresh("rt_ok", suffixed, 200, js(map[string]any{"object": "cookies", "cookies": setCookies(fresh, in.sfx, suffixed)}))
			g.api.refresh("rt_pending", suffixed, 200, js(map[string]any{"object": "cookies",
				"cookies": setCookies(g.sess(0, func(c map[string]any) { c["sts"] = "pending" }), in.sfx, suffixed)}))
			g.api.refresh("rt_forged", suffixed, 200, js(map[string]any{"object": "cookies", "cookies": setCookies(forge(fresh), in.sfx, suffixed)}))
			g.api.refresh("rt_expired", suffixed, 200, js(map[string]any{"object": "cookies", "cookies": setCookies(expired, in.sfx, suffixed)}))
			g.api.refresh("rt_empty", suffixed, 200, `{"object":"cookies","cookies":[]}`)
			g.api.refresh("rt_nocookie", suffixed, 200, `{"object":"cookies","cookies":["a=b; Path=/"]}`)
			g.api.refresh("rt_invalid", suffixed, 422, `{"errors":[{"message":"invalid","code":"refresh_token_invalid"}]}`)
			g.api.refresh("rt_unexpected", suffixed, 400, `{"errors":[{"message":"oops","code":"unexpected_error"}]}`)
			g.api.refresh("rt_noerrors", suffixed, 400, `{"errors":[]}`)
		}
		sfx := in.sfx
		states := map[string]string{
			"none":              "",
			"uat-only":          "__client_uat=" + old,
			"uat0-only":         "__client_uat=0",
			"session-only":      "__session=" + valid,
			"session+uat0":      "__session=" + valid + "; __client_uat=0",
			"valid":             "__session=" + valid + "; __client_uat=" + old,
			"expired":           "__session=" + expired + "; __client_uat=" + old,
			"nbf-future":        "__session=" + g.sess(0, func(c map[string]any) { c["nbf"] = nowUnix + 30 }) + "; __client_uat=" + old,
			"iat-future":        "__session=" + g.sess(30, nil) + "; __client_uat=" + old,
			"iat-before-uat":    "__session=" + valid + "; __client_uat=" + fmt.Sprint(nowUnix),
			"expired-before-ua": "__session=" + expired + "; __client_uat=" + fmt.Sprint(nowUnix-50),
			"forged":            "__session=" + forge(valid) + "; __client_uat=" + old,
			"forged-exp+rt":     "__session=" + forge(expired) + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_ok",
			"forged-exp":        "__session=" + forge(expired) + "; __client_uat=" + old,
			"forged-nbf":        "__session=" + forge(g.sess(0, func(c map[string]any) { c["nbf"] = nowUnix + 30 })) + "; __client_uat=" + old,
			"forged-iat-future": "__session=" + forge(g.sess(30, nil)) + "; __client_uat=" + old,
			"malformed":         "__session=abc.def; __client_uat=" + old,
			"pending":           "__session=" + g.sess(-1, func(c map[string]any) { c["sts"] = "pending" }) + "; __client_uat=" + old,
			"foreign":           "__session=" + g.sess(-1, func(c map[string]any) { c["iss"] = "https://clerk.other.com" }) + "; __client_uat=" + old,
			"expired+rt":        "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_ok",
			"expired+rt-unsfx":  "__session=" + expired + "; __client_uat=" + old + "; __refresh=rt_ok",
			"expired+rt-pend":   "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_pending",
			"expired+rt-forged": "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_forged",
			"expired+rt-exp":    "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_expired",
			"expired+rt-empty":  "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_empty",
			"expired+rt-nocook": "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_nocookie",
			"expired+rt-inval":  "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_invalid",
			"expired+rt-unexp":  "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_unexpected",
			"expired+rt-noerr":  "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_noerrors",
			"expired+rt-unknwn": "__session=" + expired + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_unknown",
			"nosid+rt":          "__session=" + noSid + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_ok",
			"valid+rt":          "__session=" + valid + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_ok",
			"sfx-valid":         "__session_" + sfx + "=" + valid + "; __client_uat_" + sfx + "=" + old,
			"sfx-expired+rt":    "__session_" + sfx + "=" + expired + "; __client_uat_" + sfx + "=" + old + "; __refresh_" + sfx + "=rt_ok",
			"sfx-uat-only":      "__client_uat_" + sfx + "=" + old,
			"both-expired+rt": "__session=" + expired + "; __client_uat=" + old + "; __session_" + sfx + "=" + expired +
				"; __client_uat_" + sfx + "=" + old + "; __refresh_" + sfx + "=rt_ok",
			"sfx-newer": "__session=" + expired + "; __client_uat=" + old + "; __session_" + sfx + "=" + valid +
				"; __client_uat_" + sfx + "=" + old,
		}
		for _, sn := range sortedKeys(states) {
			for _, en := range sortedKeys(eligibility) {
				loops := []string{""}
				if en == "doc" || en == "fetch" {
					loops = []string{"", "0", "1", "2", "3", "4", "x"}
				}
				for _, loop := range loops {
					ck := states[sn]
					if loop != "" {
						ck = join(ck, "__clerk_redirect_count="+loop)
					}
					dbs := []string{"db"}
					if in.dev && en == "doc" && loop == "" {
						dbs = []string{"db", "sfxdb", "nodb"}
					}
					for _, db := range dbs {
						ck := ck
						if in.dev {
							switch db {
							case "db":
								ck = join(ck, "__clerk_db_jwt=dvb_conformance")
							case "sfxdb":
								ck = join(ck, "__clerk_db_jwt_"+sfx+"=dvb_sfx")
							}
						}
						id := fmt.Sprintf("pageload/%s/%s/%s", in.name, sn, en)
						if loop != "" {
							id += ",loop=" + loop
						}
						if in.dev && db != "db" {
							id += "," + db
						}
						e := eligibility[en]
						g.add(tcase{ID: id, PK: in.pk, PageLoad: true, URL: appURL, Method: e.method, Headers: e.headers, Cookie: ck,
							AuthorizedParties: []string{appAzp}})
					}
				}
			}
		}
		// Routes taking more than session tokens run the same flows for
		// cookies; a route for machine tokens only runs none.
		for _, route := range []tcase{{Accepts: "any"}, {AcceptsList: []string{"session_token", "api_key"}}, {Accepts: "api_key"},
			{AcceptsList: []string{"m2m_token", "oauth_token"}}} {
			for _, sn := range []string{"expired", "expired+rt", "uat-only", "valid", "none"} {
				for _, en := range []string{"doc", "fetch"} {
					tc := route
					e := eligibility[en]
					tc.ID = fmt.Sprintf("pageload/%s/route=%s%s/%s/%s", in.name, tc.Accepts, strings.Join(tc.AcceptsList, "+"), sn, en)
					tc.PK, tc.PageLoad, tc.URL, tc.Method, tc.Headers, tc.Cookie = in.pk, true, appURL, e.method, e.headers, states[sn]
					if in.dev {
						tc.Cookie = join(tc.Cookie, "__clerk_db_jwt=dvb_conformance")
					}
					g.add(tc)
				}
			}
		}
		// The loop counter as JavaScript's Number() reads it.
		for _, loop := range []string{"1.5", "%202", "0x2", "2.0", "Infinity", "infinity", "-1", "2e0", "0b10", "0o2", "%EF%BB%BF2",
			"%C2%852", "%C2%A02", "1e400", "3.0000000000000001", "9007199254740993", "+2", "2.", ".5", "1_0", "%0B2", "NaN", "03"} {
			for _, sn := range []string{"expired", "uat-only"} {
				ck := join(states[sn], "__clerk_redirect_count="+loop)
				if in.dev {
					ck = join(ck, "__clerk_db_jwt=dvb_conformance")
				}
				e := eligibility["doc"]
				g.add(tcase{ID: fmt.Sprintf("pageload/%s/%s/doc,loop=%s", in.name, sn, loop), PK: in.pk, PageLoad: true, URL: appURL,
					Method: e.method, Headers: e.headers, Cookie: ck})
			}
		}
		// An expired header token and another session's token in the
		// cookie, with a refresh cookie: which token (and session) the
		// refresh is asked for.
		otherExpired := g.sess(-100, func(c map[string]any) { c["sid"], c["sub"] = "sess_other", "user_other" })
		otherFresh := g.sess(0, func(c map[string]any) { c["sid"], c["sub"] = "sess_other", "user_other" })
		for _, suffixed := range []bool{false, true} {
			g.api.refreshSession("rt_ok", "sess_other", suffixed, 200, js(map[string]any{"object": "cookies", "cookies": setCookies(otherFresh, in.sfx, suffixed)}))
		}
		for name, ck := range map[string]string{"other-expired": otherExpired, "other-valid": g.sess(-1, func(c map[string]any) { c["sid"] = "sess_other" })} {
			for _, en := range []string{"doc", "fetch"} {
				e := eligibility[en]
				cookie := "__session=" + ck + "; __client_uat=" + old + "; __refresh_" + sfx + "=rt_ok"
				if in.dev {
					cookie = join(cookie, "__clerk_db_jwt=dvb_conformance")
				}
				g.add(tcase{ID: fmt.Sprintf("pageload/%s/hdr-expired+cookie-%s+rt/%s", in.name, name, en), PK: in.pk, PageLoad: true,
					URL: appURL, Method: e.method, Headers: e.headers, Cookie: cookie, Authorization: ptr("Bearer " + expired)})
			}
		}
		// A header token on a page load: expired (refresh or handshake),
		// and valid.
		for name, auth := range map[string]string{"hdr-expired": expired, "hdr-valid": valid, "hdr-nbf": g.sess(0, func(c map[string]any) { c["nbf"] = nowUnix + 30 })} {
			for _, ck := range []string{"", "__refresh_" + sfx + "=rt_ok", "__session=" + expired + "; __client_uat=" + old} {
				for _, en := range []string{"doc", "fetch"} {
					e := eligibility[en]
					cookie := ck
					if in.dev {
						cookie = join(cookie, "__clerk_db_jwt=dvb_conformance")
					}
					g.add(tcase{ID: fmt.Sprintf("pageload/%s/%s,cookie=%d/%s", in.name, name, len(ck), en), PK: in.pk, PageLoad: true,
						URL: appURL, Method: e.method, Headers: e.headers, Cookie: cookie, Authorization: ptr("Bearer " + auth)})
				}
			}
		}
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// pageHandshakeResolution: a request coming back from the handshake, with
// a nonce (cookie or query parameter; the mock's payload varies) or a
// signed handshake token.
func (g *gen) pageHandshakeResolution() {
	fresh := g.sess(0, nil)
	expired := g.sess(-100, nil)
	for _, in := range pageInsts() {
		nonces := map[string]mockAnswer{
			"ok":        {200, js(map[string]any{"object": "handshake_payload", "directives": append(setCookies(fresh, in.sfx, true), "__clerk_handshake_nonce=; Max-Age=0")})},
			"unsfx":     {200, js(map[string]any{"directives": setCookies(fresh, in.sfx, false)})},
			"expired":   {200, js(map[string]any{"directives": setCookies(expired, in.sfx, false)})},
			"pending":   {200, js(map[string]any{"directives": setCookies(g.sess(0, func(c map[string]any) { c["sts"] = "pending" }), in.sfx, false)})},
			"forged":    {200, js(map[string]any{"directives": setCookies(forge(fresh), in.sfx, false)})},
			"signout":   {200, js(map[string]any{"directives": []string{"__session=; Max-Age=0; Path=/", "__client_uat=0; Path=/"}})},
			"empty":     {200, `{"directives":[]}`},
			"null":      {200, `{"directives":null}`},
			"noobj":     {200, `{}`},
			"500":       {500, `{"errors":[{"message":"boom","code":"unexpected_error"}]}`},
			"not-found": {404, notFoundBody},
		}
		for _, nn := range sortedKeys(nonces) {
			nonce := "n_" + in.name + "_" + strings.ReplaceAll(nn, "-", "_")
			g.api.payload(nonce, nonces[nn].Status, nonces[nn].Body)
			for _, carrier := range []string{"cookie", "query"} {
				for _, en := range []string{"doc", "fetch", "none"} {
					e := eligibility[en]
					u, ck := appURL, ""
					if carrier == "cookie" {
						ck = "__clerk_handshake_nonce=" + nonce
					} else {
						u += "&__clerk_handshake_nonce=" + nonce + "&__clerk_help=1&__clerk_db_jwt=dvb_q"
					}
					if in.dev {
						ck = join(ck, "__clerk_db_jwt=dvb_conformance")
					}
					tc := tcase{ID: fmt.Sprintf("pageload/%s/nonce-%s/%s/%s", in.name, nn, carrier, en), PK: in.pk, PageLoad: true,
						URL: u, Method: e.method, Headers: e.headers, Cookie: ck}
					if nn == "500" {
						tc.AuthorizedParties = []string{"https://breaker.example"} // its own middleware: the breaker opens
					}
					g.add(tc)
				}
			}
		}
		hsTok := func(payload map[string]any) string {
			return sign(g.key, `{"alg":"RS256","kid":"ins_test","typ":"JWT"}`, js(payload))
		}
		tokens := map[string]string{
			"ok":         hsTok(map[string]any{"handshake": setCookies(fresh, in.sfx, true)}),
			"expired":    hsTok(map[string]any{"handshake": setCookies(expired, in.sfx, false)}),
			"forged":     forge(hsTok(map[string]any{"handshake": setCookies(fresh, in.sfx, false)})),
			"not-array":  hsTok(map[string]any{"handshake": "x"}),
			"no-session": hsTok(map[string]any{"handshake": []string{"__client_uat=0; Path=/"}}),
			"malformed":  "abc",
			"cat-m2m":    sign(g.key, `{"alg":"RS256","kid":"ins_test","typ":"JWT","cat":"cl_B7d4PD333AAA"}`, js(map[string]any{"handshake": setCookies(fresh, in.sfx, false)})),
		}
		for _, tn := range sortedKeys(tokens) {
			for _, carrier := range []string{"cookie", "query"} {
				for _, en := range []string{"doc", "fetch"} {
					e := eligibility[en]
					u, ck := appURL, ""
					if carrier == "cookie" {
						ck = "__clerk_handshake=" + tokens[tn]
					} else {
						u += "&__clerk_handshake=" + tokens[tn]
					}
					if in.dev {
						ck = join(ck, "__clerk_db_jwt=dvb_conformance")
					}
					g.add(tcase{ID: fmt.Sprintf("pageload/%s/hstoken-%s/%s/%s", in.name, tn, carrier, en), PK: in.pk, PageLoad: true,
						URL: u, Method: e.method, Headers: e.headers, Cookie: ck})
				}
			}
		}
	}
}

// pageDeployments: satellites (production: Domain; development: Domain
// and SignInURL), proxies (absolute and relative ProxyURL), the primary
// answering a satellite's sync, dev-browser sync, and forwarded hosts.
func (g *gen) pageDeployments() {
	old := fmt.Sprint(nowUnix - 1000)
	for _, in := range pageInsts() {
		setups := map[string]tcase{
			"sat":          {IsSatellite: true, Domain: satHost, SignInURL: "https://app.example.com/sign-in", URL: "https://" + satHost + "/page?x=1"},
			"sat-proxy":    {IsSatellite: true, ProxyURL: "https://" + satHost + "/__clerk", SignInURL: "https://app.example.com/sign-in", URL: "https://" + satHost + "/page"},
			"proxy":        {ProxyURL: proxyAbs, URL: appURL},
			"proxy-rel":    {ProxyURL: "/__clerk", URL: appURL},
			"signin-urls":  {SignInURL: "https://app.example.com/sign-in", SignUpURL: "/sign-up", URL: appURL},
			"sync-param":   {URL: appURL + "&__clerk_redirect_url=" + "https%3A%2F%2F" + satHost + "%2Fback%3Fa%3D1"},
			"sync-bad":     {URL: appURL + "&__clerk_redirect_url=notaurl"},
			"db-param":     {URL: appURL + "&__clerk_db_jwt=dvb_query"},
			"fwd":          {URL: "http://10.0.0.1:8080/dashboard", Headers: map[string]string{"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https"}},
			"fwd-port":     {URL: "http://10.0.0.1:8080/dashboard", Headers: map[string]string{"X-Forwarded-Host": "app.example.com:8443", "X-Forwarded-Proto": "https"}},
			"http":         {URL: "http://localhost:3000/dashboard"},
			"path-encoded": {URL: "https://app.example.com/a%20b/%E2%82%AC?q=a+b&r=%2F"},
			"dev-params":   {URL: appURL + "&__dev_session=legacy&__clerk_db_jwt=dvb_q&__clerk_help=1&__clerk_handshake_reason=x"},
			"port":         {URL: "https://app.example.com:8443/p?a=%20&b=%zz&c=%E2%82%AC&d"},
			"fwd-multi":    {URL: "http://10.0.0.1:8080/dashboard", Headers: map[string]string{"X-Forwarded-Host": "app.example.com, proxy.internal", "X-Forwarded-Proto": "https,http"}},
			"fwd-bad":      {URL: "https://app.example.com/dashboard", Headers: map[string]string{"X-Forwarded-Host": "bad host/x", "X-Forwarded-Proto": "ftp"}},
		}
		issuers := map[string]string{"sat": "https://clerk." + satHost, "sat-proxy": "https://" + satHost + "/__clerk", "proxy": proxyAbs,
			"proxy-rel": "https://app.example.com/__clerk"}
		for _, sn := range sortedKeys(setups) {
			iss := issuers[sn]
			if iss == "" {
				iss = issuer
			}
			mk := func(iatOff int64) string {
				return g.sess(iatOff, func(c map[string]any) { c["iss"] = iss })
			}
			states := map[string]string{
				"none": "", "valid": "__session=" + mk(-1) + "; __client_uat=" + old, "expired": "__session=" + mk(-100) + "; __client_uat=" + old,
				"uat-only": "__client_uat=" + old, "primary-iss": "__session=" + g.sess(-1, nil) + "; __client_uat=" + old,
				"expired+rt": "__session=" + mk(-100) + "; __client_uat=" + old + "; __refresh_" + in.sfx + "=rt_ok",
			}
			for _, stn := range sortedKeys(states) {
				for _, synced := range []string{"", "false", "true"} {
					if synced != "" && !setups[sn].IsSatellite {
						continue
					}
					for _, en := range []string{"doc", "fetch", "doc-xref"} {
						tc := setups[sn]
						e := eligibility[en]
						tc.ID = fmt.Sprintf("pageload/%s/%s/%s/%s", in.name, sn, stn, en)
						if synced != "" {
							tc.ID += ",synced=" + synced
							tc.URL += map[bool]string{true: "&", false: "?"}[strings.Contains(tc.URL, "?")] + "__clerk_synced=" + synced
						}
						tc.PK, tc.PageLoad, tc.Method, tc.Cookie = in.pk, true, e.method, states[stn]
						h := map[string]string{}
						for k, v := range e.headers {
							h[k] = v
						}
						for k, v := range setups[sn].Headers {
							h[k] = v
						}
						tc.Headers = h
						if in.dev {
							tc.Cookie = join(tc.Cookie, "__clerk_db_jwt=dvb_conformance")
						}
						g.add(tc)
					}
				}
			}
		}
	}
}

// pageOrgSync: organizationSyncOptions, the URL patterns that activate an
// organization (or the personal account) through a handshake.
func (g *gen) pageOrgSync() {
	old := fmt.Sprint(nowUnix - 1000)
	patterns := map[string]*orgSync{
		"slug": {OrganizationPatterns: []string{"/orgs/:slug", "/orgs/:slug/(.*)"}, PersonalAccountPatterns: []string{"/me", "/me/(.*)"}},
		"id":   {OrganizationPatterns: []string{"/o/:id", "/o/:id/(.*)"}},
		"odd":  {OrganizationPatterns: []string{"/orgs/:slug?", "/t/:id(org_[a-z0-9]+)", "/x/:slug/:id"}, PersonalAccountPatterns: []string{"/(.*)/me"}},
	}
	paths := []string{"/orgs/acme", "/orgs/other", "/orgs/acme/settings", "/me", "/me/x", "/o/org_1", "/o/org_2", "/dashboard",
		"/orgs/ACME", "/orgs/%61cme", "/orgs/acme/", "/t/org_1", "/t/org_X", "/orgs/", "/a/b/me", "/x/acme/org_9", "/orgs/acme?x=1"}
	tokens := map[string]string{
		"org":    g.sess(-1, nil),
		"no-org": g.sess(-1, func(c map[string]any) { delete(c, "o") }),
		"v1-org": g.tok(merge(baseV1(), map[string]any{"iat": nowUnix - 1})),
	}
	for _, in := range pageInsts() {
		for _, pn := range sortedKeys(patterns) {
			for _, path := range paths {
				for _, tn := range sortedKeys(tokens) {
					for _, en := range []string{"doc", "fetch"} {
						for _, loop := range []string{"", "1", "3"} {
							if loop != "" && (en != "doc" || tn != "org") {
								continue
							}
							e := eligibility[en]
							ck := "__session=" + tokens[tn] + "; __client_uat=" + old
							if loop != "" {
								ck = join(ck, "__clerk_redirect_count="+loop)
							}
							if in.dev {
								ck = join(ck, "__clerk_db_jwt=dvb_conformance")
							}
							id := fmt.Sprintf("pageload/%s/orgsync-%s%s/%s/%s", in.name, pn, path, tn, en)
							if loop != "" {
								id += ",loop=" + loop
							}
							g.add(tcase{ID: id, PK: in.pk, PageLoad: true, URL: "https://app.example.com" + path, Method: e.method,
								Headers: e.headers, Cookie: ck, OrgSync: patterns[pn]})
						}
					}
				}
			}
		}
	}
}
