package conformance

import (
	"fmt"
	"strings"

	"github.com/clerkauth/clerkauth/internal/instance"
)

// Cases for what the first suite left out (issue 19, Proof): has() on
// organization states, custom reverification at its boundaries, pending
// sessions accepted, routes for machine tokens only, __client_uat with
// Unicode whitespace, and the issuer comparison of the cookie-pair choice.

// hasMatrix: the has() questions on organization and billing states the
// corpus does not hold (no organization, a member without the asked
// permission, v1 without permissions).
func (g *gen) hasMatrix() {
	for name, mod := range map[string]func(c map[string]any){
		"v2/no-org": func(c map[string]any) { delete(c, "o") },
		"v2/member": func(c map[string]any) {
			c["o"] = map[string]any{"id": "org_1", "slg": "acme", "rol": "member", "per": "read", "fpm": "1"}
		},
		"v2/no-fea":    func(c map[string]any) { delete(c, "fea"); delete(c, "pla") },
		"v2/org-plan":  func(c map[string]any) { c["pla"] = "o:free_org,u:free_user" },
		"v2/no-org-id": func(c map[string]any) { delete(c["o"].(map[string]any), "id") },
	} {
		c := baseV2()
		mod(c)
		g.add(tcase{ID: "has/" + name, Authorization: ptr("Bearer " + g.tok(c)), Has: hasQs})
	}
	c := baseV1()
	delete(c, "org_permissions")
	g.add(tcase{ID: "has/v1/no-permissions", Authorization: ptr("Bearer " + g.tok(c)), Has: hasQs})
}

// reverification: custom {level, afterMinutes} (fractional too) at the
// boundaries of the factor ages, and the presets, on tokens whose fva
// pairs sit on those boundaries.
func (g *gen) reverification() {
	var qs []hasQ
	for _, level := range []string{"first_factor", "second_factor", "multi_factor", "third_factor"} {
		for _, m := range []float64{-1, 0, 0.5, 1, 2.5, 3, 3.5, 5, 9, 9.5, 9.99, 10, 10.01, 11, 100, 100.5, 1439.5, 1440, 1441} {
			qs = append(qs, hasQ{Reverification: revQ{level, m}})
		}
	}
	for _, p := range []string{"strict_mfa", "strict", "moderate", "lax", "none"} {
		qs = append(qs, hasQ{Reverification: p}, hasQ{Role: "admin", Reverification: p})
	}
	for _, fva := range [][]int{{3, 10}, {10, 3}, {10, -1}, {-1, 10}, {0, 0}, {3, 11}, {100, 5}, {5, 100}, {0, -1},
		{-1, -1}, {9, 10}, {10, 9}, {1439, 1440}, {1440, 1439}, {59, 60}, {60, 59}, {-1, 0}, {-2, 3}} {
		c := baseV2()
		c["fva"] = fva
		id := fmt.Sprintf("reverify/fva=%d,%d", fva[0], fva[1])
		tok := g.tok(c)
		g.add(tcase{ID: "hdr/" + id, Authorization: ptr("Bearer " + tok), Has: qs})
		g.add(tcase{ID: "cookie/" + id, Cookie: "__session=" + tok + "; __client_uat=" + fmt.Sprint(nowUnix-1000), Has: qs})
	}
}

// pendingAccepted: pending sessions on a middleware that accepts them
// (Clerk: toAuth({treatPendingAsSignedOut: false})).
func (g *gen) pendingAccepted() {
	for _, ver := range []string{"v1", "v2"} {
		for _, sts := range []any{"pending", "active", "ended", nil} {
			c := baseV1()
			if ver == "v2" {
				c = baseV2()
			}
			c["sts"] = sts
			tok := g.tok(c)
			id := fmt.Sprintf("pending-ok/%s/%v", ver, sts)
			g.add(tcase{ID: "hdr/" + id, Authorization: ptr("Bearer " + tok), AcceptPending: true, Has: hasQs})
			g.add(tcase{ID: "cookie/" + id, Cookie: "__session=" + tok + "; __client_uat=" + fmt.Sprint(nowUnix-1000),
				AcceptPending: true, Has: hasQs})
		}
	}
}

// Opaque machine tokens the mock Backend API knows (valid) and one it does
// not.
const (
	akValid  = "ak_conformance_valid"
	mtValid  = "mt_conformance_valid"
	oatValid = "oat_conformance_valid"
)

func (g *gen) registerOpaque() {
	g.api.answer(akValid, 200, js(map[string]any{"object": "api_key", "id": "ak_id_1", "type": "api_key", "name": "reports",
		"subject": "user_2abc", "scopes": []string{"read"}, "claims": map[string]any{"tier": "gold"}, "revoked": false,
		"revocation_reason": nil, "expired": false, "expiration": nil, "created_by": "user_2abc", "description": nil,
		"last_used_at": nil, "created_at": nowUnix * 1000, "updated_at": nowUnix * 1000}))
	g.api.answer(mtValid, 200, js(map[string]any{"object": "machine_to_machine_token", "id": "mt_id_1", "subject": "mch_1",
		"scopes": []string{"mch_2"}, "claims": nil, "revoked": false, "revocation_reason": nil, "expired": false,
		"expiration": (nowUnix + 3600) * 1000, "created_at": nowUnix * 1000, "updated_at": nowUnix * 1000}))
	g.api.answer(oatValid, 200, js(map[string]any{"object": "clerk_idp_oauth_access_token", "id": "oat_id_1", "client_id": "client_1",
		"type": "oauth_token", "subject": "user_2abc", "scopes": []string{"read", "write"}, "revoked": false, "revocation_reason": nil,
		"expired": false, "expiration": (nowUnix + 3600) * 1000, "created_at": nowUnix * 1000, "updated_at": nowUnix * 1000}))
}

// machineRoutes: every token carrier on routes accepting one machine type
// (Clerk's acceptsToken as a string), several (Clerk's array form), or
// session tokens only: no token at all ("No token in header" on a machine
// route), a session cookie, another scheme, session and machine JWTs, and
// opaque tokens known and unknown.
func (g *gen) machineRoutes() {
	g.registerOpaque()
	sess := g.tok(baseV2())
	m2mJWT := sign(g.key, `{"alg":"RS256","kid":"ins_test","typ":"JWT"}`, js(map[string]any{"sub": "mch_2abc", "iat": nowUnix - 1,
		"nbf": nowUnix - 6, "exp": nowUnix + 59, "iss": issuer, "jti": "mt_jwt_1", "scopes": "mch_other"}))
	oauthJWT := sign(g.key, `{"alg":"RS256","kid":"ins_test","typ":"at+jwt"}`, js(map[string]any{"sub": "user_2abc", "iat": nowUnix - 1,
		"nbf": nowUnix - 6, "exp": nowUnix + 59, "iss": issuer, "jti": "oat_jwt_1", "client_id": "client_1", "scope": "read write"}))
	cookie := "__session=" + sess + "; __client_uat=" + fmt.Sprint(nowUnix-1000)
	type carrier struct {
		auth   *string
		cookie string
	}
	carriers := map[string]carrier{
		"none": {}, "cookie": {nil, cookie}, "basic+cookie": {ptr("Basic dXNlcjpwYXNz"), cookie},
		"bearer-empty": {ptr("Bearer"), ""}, "session-jwt": {ptr("Bearer " + sess), ""},
		"m2m-jwt": {ptr("Bearer " + m2mJWT), ""}, "oauth-jwt": {ptr("Bearer " + oauthJWT), ""},
		"ak": {ptr("Bearer " + akValid), ""}, "mt": {ptr("Bearer " + mtValid), ""}, "oat": {ptr("Bearer " + oatValid), ""},
		"ak-unknown": {ptr("Bearer ak_conformance_unknown"), ""}, "mt-unknown": {ptr("Bearer mt_conformance_unknown"), ""},
		"oat-unknown": {ptr("Bearer oat_conformance_unknown"), ""}, "ak+cookie": {ptr("Bearer " + akValid), cookie},
	}
	routes := map[string]tcase{
		"session": {}, "api_key": {Accepts: "api_key"}, "m2m_token": {Accepts: "m2m_token"}, "oauth_token": {Accepts: "oauth_token"},
		"any":               {Accepts: "any"},
		"[session,api_key]": {AcceptsList: []string{"session_token", "api_key"}},
		"[m2m,oauth]":       {AcceptsList: []string{"m2m_token", "oauth_token"}},
		// No array of one type: clerkauth's one type is Clerk's string form.
	}
	for _, rn := range sortedKeys(routes) {
		for _, cn := range sortedKeys(carriers) {
			c := routes[rn]
			c.ID = "route/" + rn + "/" + cn
			c.Authorization, c.Cookie = carriers[cn].auth, carriers[cn].cookie
			g.add(c)
		}
	}
}

// uatWhitespace: __client_uat values with leading whitespace, which
// JavaScript's parseInt skips: percent-encoded Unicode whitespace (decoded
// by the cookie parser), raw bytes (node reads header bytes as latin1),
// and characters that are not whitespace in JavaScript.
func (g *gen) uatWhitespace() {
	tok := g.tok(baseV2())
	uat := fmt.Sprint(nowUnix - 200)
	sfx := instance.CookieSuffix(pkLive)
	for name, prefix := range map[string]string{
		"nbsp-pct": "%C2%A0", "emsp-pct": "%E2%80%83", "bom-pct": "%EF%BB%BF", "ls-pct": "%E2%80%A8", "ps-pct": "%E2%80%A9",
		"ideo-pct": "%E3%80%80", "ogham-pct": "%E1%9A%80", "nnbsp-pct": "%E2%80%AF", "mmsp-pct": "%E2%81%9F", "hair-pct": "%E2%80%8A",
		"nel-pct": "%C2%85", "mvs-pct": "%E1%A0%8E", "zwsp-pct": "%E2%80%8B", "tab-pct": "%09", "vt-pct": "%0B", "ff-pct": "%0C",
		"lf-pct": "%0A", "cr-pct": "%0D", "sp-pct": "%20", "two-pct": "%C2%A0%E2%80%83", "nbsp-raw": "\xa0", "nbsp-utf8-raw": "\xc2\xa0",
		"emsp-utf8-raw": "\xe2\x80\x83", "vt-raw": "\v", "ff-raw": "\f", "nbsp-raw+pct": "\xa0%20", "bad-pct": "%C2", "lone-pct": "%",
		"sign-pct": "%C2%A0-", "nbsp-pct-plus": "%C2%A0+", "zero-pct": "%C2%A00x1",
	} {
		for _, where := range []string{"plain", "sfx"} {
			ck := "__session=" + tok + "; __client_uat=" + prefix + uat
			if where == "sfx" {
				ck = "__session_" + sfx + "=" + tok + "; __client_uat_" + sfx + "=" + prefix + uat
			}
			g.add(tcase{ID: "uat-ws/" + where + "/" + name, Cookie: ck})
		}
		// A whitespace-led 0 signs out; whitespace before a uat newer
		// than the token's iat puts it before the uat.
		g.add(tcase{ID: "uat-ws/zero/" + name, Cookie: "__session=" + tok + "; __client_uat=" + prefix + "0"})
		g.add(tcase{ID: "uat-ws/newer/" + name, Cookie: "__session=" + tok + "; __client_uat=" + prefix + fmt.Sprint(nowUnix)})
	}
}

// issuerCase: the cookie-pair choice compares the unsuffixed token's iss
// with the instance, "https://" removed in any case. An unsuffixed token
// whose iss is the instance's in upper case (and whose signature fails,
// so that both sides sign out on it) is still the instance's: Clerk keeps
// the unsuffixed pair; reading it as another instance's would pick the
// suffixed pair, a valid token.
func (g *gen) issuerCase() {
	sfx := instance.CookieSuffix(pkLive)
	good := baseV2()
	good["sub"], good["iat"] = "user_sfx", nowUnix-30
	sfxTok := g.tok(good)
	for _, iss := range []string{"HTTPS://clerk.example.com", "Https://clerk.example.com", "hTtPs://clerk.example.com",
		"HTTP://clerk.example.com", "https://https://clerk.example.com", "HTTPS://HTTPS://clerk.example.com", "https://CLERK.example.com",
		"clerk.example.com", "https://clerk.example.com"} {
		c := baseV2()
		c["iss"], c["sub"], c["iat"] = iss, "user_unsfx", nowUnix-1
		tok := g.tok(c)
		forged := tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 342)
		for name, un := range map[string]string{"forged": forged, "valid": tok} {
			ck := "__session=" + un + "; __client_uat=" + fmt.Sprint(nowUnix-100) +
				"; __session_" + sfx + "=" + sfxTok + "; __client_uat_" + sfx + "=" + fmt.Sprint(nowUnix-100)
			g.add(tcase{ID: "cookie/iss-choice/" + name + "/" + iss, Cookie: ck})
		}
	}
}

// clockMoves: one token decided at many times (the same token at every
// time, so that with the cache on, an entry cached at one time is served
// at another and its time claims are checked again), by header, by cookie
// and on page loads.
func (g *gen) clockMoves() {
	tok := g.tok(baseV2()) // iat now-1, nbf now-6, exp now+59
	for _, off := range []int64{-100, -12, -11, -10, -7, -6, -5, -1, 0, 1, 30, 58, 59, 60, 63, 64, 65, 66, 100, 3600} {
		now := (nowUnix + off) * 1000
		id := fmt.Sprintf("clock/%+d", off)
		g.add(tcase{ID: "hdr/" + id, NowMs: now, Authorization: ptr("Bearer " + tok), Has: hasQs[:2]})
		g.add(tcase{ID: "cookie/" + id, NowMs: now, Cookie: "__session=" + tok + "; __client_uat=" + fmt.Sprint(nowUnix-1000)})
		e := eligibility["doc"]
		g.add(tcase{ID: "pageload/live/" + id, NowMs: now, PageLoad: true, URL: appURL, Method: e.method, Headers: e.headers,
			Cookie: "__session=" + tok + "; __client_uat=" + fmt.Sprint(nowUnix-1000)})
	}
}
