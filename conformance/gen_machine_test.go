package conformance

import (
	"fmt"
	"strings"
)

// Machine-token fields (issue 17, item 2): every member of Clerk's machine
// auth object (id, subject, name, scopes, claims, userId, orgId,
// machineId, clientId) compared for M2M and OAuth JWTs with varied claims,
// and for opaque tokens whose Backend API answers (the mock's) vary the
// same way. Each token is decided on the route for its own type and on a
// route accepting any token.

// machineFields adds the cases.
func (g *gen) machineFields() {
	g.machineJWTFields()
	g.opaqueFields()
}

func (g *gen) machineJWTFields() {
	base := func(sub string) map[string]any {
		return map[string]any{"sub": sub, "iat": nowUnix - 1, "nbf": nowUnix - 6, "exp": nowUnix + 59, "iss": issuer, "jti": "mt_jwt_1"}
	}
	m2m := map[string]func(c map[string]any){
		"plain":        func(c map[string]any) {},
		"scopes":       func(c map[string]any) { c["scopes"] = "mch_a mch_b" },
		"scopes-2sp":   func(c map[string]any) { c["scopes"] = "mch_a  mch_b" },
		"scopes-trail": func(c map[string]any) { c["scopes"] = "mch_a " },
		"scopes-empty": func(c map[string]any) { c["scopes"] = "" },
		"scopes-null":  func(c map[string]any) { c["scopes"], c["aud"] = nil, []string{"mch_aud"} },
		"scopes-arr":   func(c map[string]any) { c["scopes"] = []string{"mch_a"} },
		"scopes-num":   func(c map[string]any) { c["scopes"] = 5 },
		"aud":          func(c map[string]any) { c["aud"] = []string{"mch_reports", "mch_x"} },
		"aud-str":      func(c map[string]any) { c["aud"] = "mch_reports" },
		"aud-empty":    func(c map[string]any) { c["aud"] = []string{} },
		"aud+scope":    func(c map[string]any) { c["aud"], c["scope"] = []string{"mch_reports"}, "mch_admin" },
		"aud+scp":      func(c map[string]any) { c["aud"], c["scp"] = []string{"mch_reports"}, []string{"mch_admin"} },
		"aud+Scopes":   func(c map[string]any) { c["aud"], c["Scopes"] = []string{"mch_reports"}, "mch_admin" },
		"scopes+aud":   func(c map[string]any) { c["aud"], c["scopes"] = []string{"mch_reports"}, "mch_admin" },
		"no-jti":       func(c map[string]any) { delete(c, "jti") },
		"jti-null":     func(c map[string]any) { c["jti"] = nil },
		"jti-num":      func(c map[string]any) { c["jti"] = 7 },
		"custom": func(c map[string]any) {
			c["tier"], c["n"], c["nested"] = "gold", 1.5, map[string]any{"a": []any{1, "b", nil}}
		},
		"custom-null":    func(c map[string]any) { c["x"] = nil },
		"custom-unicode": func(c map[string]any) { c["zoë"] = "ü \u2028" },
		"client_id":      func(c map[string]any) { c["client_id"] = "client_1" },
		"azp-sid":        func(c map[string]any) { c["azp"], c["sid"] = appAzp, "sess_1" },
		"JTI":            func(c map[string]any) { c["JTI"] = "mt_other" },
	}
	oauth := map[string]func(c map[string]any){
		"plain":        func(c map[string]any) {},
		"scp":          func(c map[string]any) { c["scp"] = []string{"read", "write"} },
		"scp-str":      func(c map[string]any) { c["scp"] = "read" },
		"scp-empty":    func(c map[string]any) { c["scp"] = []string{} },
		"scp-null":     func(c map[string]any) { c["scp"], c["scope"] = nil, "read" },
		"scope":        func(c map[string]any) { c["scope"] = "read write" },
		"scope-2sp":    func(c map[string]any) { c["scope"] = "read  write" },
		"scope-empty":  func(c map[string]any) { c["scope"] = "" },
		"scope-num":    func(c map[string]any) { c["scope"] = 3 },
		"scp+scopes":   func(c map[string]any) { c["scp"], c["scopes"] = []string{"read"}, "read admin" },
		"scopes-only":  func(c map[string]any) { c["scopes"] = "read admin" },
		"Scope":        func(c map[string]any) { c["Scope"] = "admin" },
		"scp+scope":    func(c map[string]any) { c["scp"], c["scope"] = []string{"read"}, "admin" },
		"client_id":    func(c map[string]any) { c["client_id"] = "client_1" },
		"client_id-nl": func(c map[string]any) { c["client_id"] = nil },
		"client_id-n":  func(c map[string]any) { c["client_id"] = 5 },
		"Client_id":    func(c map[string]any) { c["Client_id"] = "client_2" },
		"aud":          func(c map[string]any) { c["aud"] = "https://api.example.com" },
		"custom":       func(c map[string]any) { c["tier"] = "gold" },
		"no-jti":       func(c map[string]any) { delete(c, "jti") },
		"act":          func(c map[string]any) { c["act"] = map[string]any{"sub": "user_admin"} },
	}
	for _, sub := range []string{"mch_2abc", "mch_"} {
		for _, name := range sortedKeys(m2m) {
			c := base(sub)
			m2m[name](c)
			tok := sign(g.key, `{"alg":"RS256","kid":"ins_test","typ":"JWT"}`, js(c))
			id := fmt.Sprintf("mfields/m2m-jwt/%s/%s", sub, name)
			g.add(tcase{ID: id + ",m2m", Authorization: ptr("Bearer " + tok), Accepts: "m2m_token", Has: hasQs[:3]})
			g.add(tcase{ID: id + ",any", Authorization: ptr("Bearer " + tok), Accepts: "any"})
		}
	}
	for _, sub := range []string{"user_2abc", "org_1", "user_", "x"} {
		for _, typ := range []string{"at+jwt", "application/at+jwt"} {
			for _, name := range sortedKeys(oauth) {
				if typ != "at+jwt" && name != "plain" && name != "scp" {
					continue
				}
				c := base(sub)
				oauth[name](c)
				tok := sign(g.key, `{"alg":"RS256","kid":"ins_test","typ":"`+typ+`"}`, js(c))
				id := fmt.Sprintf("mfields/oauth-jwt/%s/%s/%s", typ, sub, name)
				g.add(tcase{ID: id + ",oauth", Authorization: ptr("Bearer " + tok), Accepts: "oauth_token", Has: hasQs[:3]})
				g.add(tcase{ID: id + ",any", Authorization: ptr("Bearer " + tok), Accepts: "any"})
			}
		}
	}
}

// opaqueFields: opaque API keys, M2M and OAuth tokens, each with its own
// answer from the mock Backend API.
func (g *gen) opaqueFields() {
	obj := map[string]string{"ak": "api_key", "mt": "machine_to_machine_token", "oat": "clerk_idp_oauth_access_token"}
	route := map[string]string{"ak": "api_key", "mt": "m2m_token", "oat": "oauth_token"}
	answer := func(prefix string) map[string]any {
		a := map[string]any{"object": obj[prefix], "id": prefix + "_id_1", "subject": "user_2abc", "scopes": []string{"read"},
			"revoked": false, "revocation_reason": nil, "expired": false, "expiration": (nowUnix + 3600) * 1000,
			"created_at": nowUnix * 1000, "updated_at": nowUnix * 1000}
		switch prefix {
		case "ak":
			a["type"], a["name"], a["claims"], a["created_by"], a["description"], a["last_used_at"] = "api_key", "reports", map[string]any{"tier": "gold"}, "user_2abc", nil, nil
		case "mt":
			a["subject"], a["claims"] = "mch_1", nil
		case "oat":
			a["type"], a["client_id"] = "oauth_token", "client_1"
		}
		return a
	}
	mods := map[string]func(a map[string]any){
		"plain":        func(a map[string]any) {},
		"sub-user":     func(a map[string]any) { a["subject"] = "user_9" },
		"sub-org":      func(a map[string]any) { a["subject"] = "org_9" },
		"sub-mch":      func(a map[string]any) { a["subject"] = "mch_9" },
		"sub-other":    func(a map[string]any) { a["subject"] = "usr_9" },
		"scopes-empty": func(a map[string]any) { a["scopes"] = []string{} },
		"scopes-null":  func(a map[string]any) { a["scopes"] = nil },
		"scopes-many":  func(a map[string]any) { a["scopes"] = []string{"read", "write", "org:admin"} },
		"claims-null":  func(a map[string]any) { a["claims"] = nil },
		"claims-empty": func(a map[string]any) { a["claims"] = map[string]any{} },
		"claims-nested": func(a map[string]any) {
			a["claims"] = map[string]any{"a": map[string]any{"b": []any{1, true, nil}}, "n": 2.5}
		},
		"claims-absent":   func(a map[string]any) { delete(a, "claims") },
		"name-empty":      func(a map[string]any) { a["name"] = "" },
		"name-unicode":    func(a map[string]any) { a["name"] = "Zoë's key" },
		"client-absent":   func(a map[string]any) { delete(a, "client_id") },
		"client-other":    func(a map[string]any) { a["client_id"] = "client_9" },
		"id-absent":       func(a map[string]any) { delete(a, "id") },
		"expiration-null": func(a map[string]any) { a["expiration"] = nil },
		"extra-members":   func(a map[string]any) { a["aud"], a["act"] = []string{"x"}, map[string]any{"sub": "user_a"} },
	}
	for _, prefix := range []string{"ak", "mt", "oat"} {
		for _, name := range sortedKeys(mods) {
			a := answer(prefix)
			mods[name](a)
			tok := fmt.Sprintf("%s_fields_%s", prefix, strings.ReplaceAll(name, "-", "_"))
			g.api.answer(tok, 200, js(a))
			id := fmt.Sprintf("mfields/opaque/%s/%s", prefix, name)
			g.add(tcase{ID: id + "," + route[prefix], Authorization: ptr("Bearer " + tok), Accepts: route[prefix], Has: hasQs[:3]})
			g.add(tcase{ID: id + ",any", Authorization: ptr("Bearer " + tok), Accepts: "any"})
		}
		// Answers Clerk's Backend API gives for tokens it does not accept,
		// and answers it never gives (200 with revoked or expired set, an
		// expiration in the past). Each on its own middleware (authorized
		// parties, which machine tokens ignore, tell them apart), so that
		// the circuit breaker a 429 or 5xx opens stops nothing else.
		for name, ans := range map[string]mockAnswer{
			"404":             {404, notFoundBody},
			"401":             {401, `{"errors":[{"message":"invalid secret key","code":"authentication_invalid"}]}`},
			"403":             {403, `{"errors":[{"message":"forbidden","code":"authorization_invalid"}]}`},
			"422":             {422, `{"errors":[{"message":"bad","code":"form_param_invalid"}]}`},
			"429":             {429, `{"errors":[{"message":"slow down","code":"too_many_requests"}]}`},
			"500":             {500, `{"errors":[{"message":"boom","code":"unexpected_error"}]}`},
			"revoked":         {200, js(merge(answer(prefix), map[string]any{"revoked": true, "revocation_reason": "x"}))},
			"expired":         {200, js(merge(answer(prefix), map[string]any{"expired": true}))},
			"expiration-past": {200, js(merge(answer(prefix), map[string]any{"expiration": (nowUnix - 10) * 1000}))},
			"not-json":        {200, "<html>"},
		} {
			tok := fmt.Sprintf("%s_status_%s", prefix, strings.ReplaceAll(name, "-", "_"))
			g.api.answer(tok, ans.Status, ans.Body)
			g.add(tcase{ID: fmt.Sprintf("mfields/answer/%s/%s", prefix, name), Authorization: ptr("Bearer " + tok),
				Accepts: route[prefix], AuthorizedParties: []string{"https://" + tok + ".example"}})
		}
	}
}

func merge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}
