package conformance

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/instance"
)

// gen builds the cases.
type gen struct {
	key   *rsa.PrivateKey
	api   *mockAPI
	cases []tcase
}

const sessHeader = `{"alg":"RS256","kid":"ins_test","typ":"JWT","cat":"cl_B7d4PD111AAA"}`

// hasQs are asked of every signed-in session case.
var hasQs = []hasQ{
	{Role: "admin"}, {Role: "org:admin"}, {Role: "org:member"},
	{Permission: "org:reports:read"}, {Permission: "reports:read"}, {Permission: "org:reports:write"}, {Permission: "org:billing:read"},
	{Feature: "reports"}, {Feature: "org:reports"}, {Feature: "user:export"}, {Feature: "export"},
	{Plan: "free_user"}, {Plan: "user:free_user"}, {Plan: "org:free_org"},
	{Reverification: "strict"}, {Reverification: "lax"}, {Reverification: "strict_mfa"},
	// Combined checks: every dimension asked must hold.
	{Role: "admin", Permission: "org:reports:read"}, {Role: "admin", Permission: "org:billing:read"},
	{Role: "member", Permission: "org:reports:read"}, {Role: "admin", Feature: "reports"},
	{Role: "admin", Feature: "user:reports"}, {Permission: "org:reports:read", Plan: "free_user"},
	{Feature: "reports", Plan: "org:free_org"}, {Role: "admin", Reverification: "strict"},
	{Feature: "export", Reverification: "lax"}, {Role: "admin", Permission: "org:reports:read", Feature: "reports", Plan: "free_user", Reverification: "lax"},
	{}, // the empty check: false
}

func baseV2() map[string]any {
	return map[string]any{
		"azp": appAzp, "exp": nowUnix + 59, "iat": nowUnix - 1, "nbf": nowUnix - 6, "iss": issuer,
		"sid": "sess_2abc", "sts": "active", "sub": "user_2abc", "v": 2,
		"fea": "o:reports,u:export", "pla": "u:free_user", "fva": []int{3, -1},
		"o": map[string]any{"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,write", "fpm": "3"},
	}
}

func baseV1() map[string]any {
	return map[string]any{
		"azp": appAzp, "exp": nowUnix + 59, "iat": nowUnix - 1, "nbf": nowUnix - 6, "iss": issuer,
		"sid": "sess_2abc", "sub": "user_2abc", "fva": []int{3, -1},
		"org_id": "org_1", "org_slug": "acme", "org_role": "org:admin", "org_permissions": []string{"org:reports:read"},
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (g *gen) add(c tcase) {
	if c.PK == "" {
		c.PK = pkLive
	}
	if c.NowMs == 0 {
		c.NowMs = nowUnix * 1000
	}
	g.cases = append(g.cases, c)
}

// byHeaderAndCookie adds tok as a bearer token and as a cookie (with a
// __client_uat older than every token here), with and without authorized
// parties.
func (g *gen) byHeaderAndCookie(id, tok string) {
	for _, azp := range [][]string{nil, {appAzp}} {
		sfx := ""
		if azp != nil {
			sfx = "+azp"
		}
		g.add(tcase{ID: "hdr/" + id + sfx, Authorization: ptr("Bearer " + tok), AuthorizedParties: azp, Has: hasQs})
		g.add(tcase{ID: "cookie/" + id + sfx, Cookie: "__session=" + tok + "; __client_uat=" + fmt.Sprint(nowUnix-1000),
			AuthorizedParties: azp, Has: hasQs})
	}
}

func (g *gen) all(t *testing.T) {
	g.headerForms()
	g.cookieMatrix()
	g.corpus()
	g.machine()
	g.machineTimes()
	g.clerktest(t)
	g.hasMatrix()
	g.reverification()
	g.pendingAccepted()
	g.machineRoutes()
	g.uatWhitespace()
	g.issuerCase()
	g.clockMoves()
	g.machineFields()
	g.pageLoads()
}

func (g *gen) tok(claims map[string]any) string { return sign(g.key, sessHeader, js(claims)) }

// headerForms: how the Authorization header is read.
func (g *gen) headerForms() {
	good := g.tok(baseV2())
	cookie := "__session=" + good + "; __client_uat=" + fmt.Sprint(nowUnix-100)
	for name, h := range map[string]string{
		"bearer": "Bearer " + good, "bare": good, "basic": "Basic dXNlcjpwYXNz", "basic-alone": "Basic",
		"bearer-alone": "Bearer", "two-spaces": "Bearer  " + good, "trailing-word": "Bearer " + good + " x",
		"garbage": "Bearer x.y.z", "token-scheme": "Token " + good,
	} {
		g.add(tcase{ID: "header/" + name, Authorization: ptr(h), Has: hasQs})
		g.add(tcase{ID: "header/" + name + "+cookie", Authorization: ptr(h), Cookie: cookie, Has: hasQs})
	}
	g.add(tcase{ID: "header/lower-bearer", Authorization: ptr("bearer " + good)})
	g.add(tcase{ID: "header/lower-bearer+cookie", Authorization: ptr("bearer " + good), Cookie: cookie})
}

// cookieMatrix: every combination of the unsuffixed and suffixed pairs on
// both instance types, with and without the dev browser cookie and
// authorized parties.
func (g *gen) cookieMatrix() {
	claims := func(sub string, iat int64) map[string]any {
		c := baseV2()
		c["sub"], c["iat"], c["nbf"], c["exp"] = sub, iat, iat-5, iat+60
		return c
	}
	newTok := g.tok(claims("user_new", nowUnix-1))
	oldTok := g.tok(claims("user_old", nowUnix-30))
	expTok := g.tok(claims("user_exp", nowUnix-100))
	f := claims("user_foreign", nowUnix-1)
	f["iss"] = "https://clerk.other.com"
	foreign := g.tok(f)
	sessions := map[string]string{"none": "", "new": newTok, "old": oldTok, "exp": expTok, "foreign": foreign, "empty": "="}
	uats := map[string]string{"none": "", "0": "0", "old": fmt.Sprint(nowUnix - 200), "mid": fmt.Sprint(nowUnix - 10), "junk": "abc"}
	for _, pk := range []string{pkLive, pkTest} {
		sfx := instance.CookieSuffix(pk)
		inst := "live"
		if pk == pkTest {
			inst = "test"
		}
		for _, sn := range sortedKeys(sessions) {
			for _, un := range sortedKeys(uats) {
				for _, ssn := range []string{"none", "new", "old", "exp"} {
					for _, sun := range []string{"none", "0", "old"} {
						var parts []string
						if v := sessions[sn]; v == "=" {
							parts = append(parts, "__session=")
						} else if v != "" {
							parts = append(parts, "__session="+v)
						}
						if v := uats[un]; v != "" {
							parts = append(parts, "__client_uat="+v)
						}
						if v := sessions[ssn]; v != "" {
							parts = append(parts, "__session_"+sfx+"="+v)
						}
						if v := uats[sun]; v != "" {
							parts = append(parts, "__client_uat_"+sfx+"="+v)
						}
						id := fmt.Sprintf("cookie/%s/s=%s,u=%s,ss=%s,su=%s", inst, sn, un, ssn, sun)
						if pk == pkTest {
							withDB := append(parts, "__clerk_db_jwt=dvb_conformance", "__clerk_db_jwt_"+sfx+"=dvb_conformance")
							g.add(tcase{ID: id, PK: pk, Cookie: strings.Join(withDB, "; ")})
							if ssn == "none" && sun == "none" {
								g.add(tcase{ID: id + ",nodb", PK: pk, Cookie: strings.Join(parts, "; ")})
							}
							continue
						}
						g.add(tcase{ID: id, PK: pk, Cookie: strings.Join(parts, "; ")})
						g.add(tcase{ID: id + "+azp", PK: pk, Cookie: strings.Join(parts, "; "), AuthorizedParties: []string{appAzp}})
					}
				}
			}
		}
	}
	// Repeated, quoted and percent-encoded values.
	uat := fmt.Sprint(nowUnix - 200)
	for name, ck := range map[string]string{
		"repeat-empty-session": "__session=; __session=" + newTok + "; __client_uat=" + uat,
		"repeat-empty-uat":     "__session=" + newTok + "; __client_uat=; __client_uat=" + uat,
		"repeat-session":       "__session=" + oldTok + "; __session=" + newTok + "; __client_uat=" + uat,
		"quoted-session":       `__session="` + newTok + `"; __client_uat=` + uat,
		"quoted-uat":           "__session=" + newTok + `; __client_uat="` + uat + `"`,
		"percent-dot":          "__session=" + strings.Replace(newTok, ".", "%2E", 2) + "; __client_uat=" + uat,
		"percent-bad":          "__session=" + newTok + "%zz; __client_uat=" + uat,
		"percent-uat":          "__session=" + newTok + "; __client_uat=%31" + uat[1:],
		"uat-junk-suffix":      "__session=" + newTok + "; __client_uat=" + uat + "xyz",
		"uat-negative":         "__session=" + newTok + "; __client_uat=-5",
		"uat-hex":              "__session=" + newTok + "; __client_uat=0x10",
		"spaces":               "  __session =  " + newTok + " ;\t__client_uat= " + uat,
		"no-equals-pieces":     "junk; __session=" + newTok + "; other; __client_uat=" + uat,
		"repeat-empty-sfx":     "__session_" + instance.CookieSuffix(pkLive) + "=; __session_" + instance.CookieSuffix(pkLive) + "=" + newTok + "; __client_uat_" + instance.CookieSuffix(pkLive) + "=" + uat,
	} {
		g.add(tcase{ID: "cookie/value/" + name, Cookie: ck})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// corpus: mutations of Clerk-shaped v1 and v2 tokens.
func (g *gen) corpus() {
	values := map[string]any{"null": nil, "str": "x", "empty": "", "num": 123, "neg": -1, "zero": 0, "float": 1.5,
		"true": true, "obj": map[string]any{"a": 1}, "arr": []any{1, "a"}, "bigstr": "1750000000"}
	for _, ver := range []string{"v1", "v2"} {
		base := baseV1
		if ver == "v2" {
			base = baseV2
		}
		g.byHeaderAndCookie(ver+"/base", g.tok(base()))
		for _, claim := range sortedKeys(base()) {
			c := base()
			delete(c, claim)
			g.byHeaderAndCookie(fmt.Sprintf("%s/%s/absent", ver, claim), g.tok(c))
			for _, vn := range sortedKeys(values) {
				c := base()
				c[claim] = values[vn]
				g.byHeaderAndCookie(fmt.Sprintf("%s/%s/%s", ver, claim, vn), g.tok(c))
			}
		}
		for _, claim := range []string{"exp", "nbf", "iat"} {
			for _, off := range []int64{-100, -61, -60, -10, -6, -5, -4, -1, 0, 1, 4, 5, 6, 10, 100} {
				c := base()
				c[claim] = nowUnix + off
				g.byHeaderAndCookie(fmt.Sprintf("%s/time/%s%+d", ver, claim, off), g.tok(c))
			}
		}
		// sts values
		for _, sts := range []any{"active", "pending", "ended", "", nil} {
			c := base()
			c["sts"] = sts
			g.byHeaderAndCookie(fmt.Sprintf("%s/sts/%v", ver, sts), g.tok(c))
		}
		// act
		for i, act := range []any{map[string]any{"sub": "user_admin"}, map[string]any{"sub": "user_admin", "iss": "https://dashboard.clerk.com", "sid": "sess_x"},
			map[string]any{}, "user_admin", map[string]any{"sub": 5}} {
			c := base()
			c["act"] = act
			g.byHeaderAndCookie(fmt.Sprintf("%s/act/%d", ver, i), g.tok(c))
		}
		// fva shapes
		for i, fva := range []any{[]int{0, 0}, []int{-1, -1}, []int{3, 11}, []int{-5, 3}, []int{100, 5}, []int{3}, []any{"a", 1}, []int{1, 2, 3}} {
			c := base()
			c["fva"] = fva
			g.byHeaderAndCookie(fmt.Sprintf("%s/fva/%d", ver, i), g.tok(c))
		}
	}
	// v2 organization object members.
	for _, m := range []string{"id", "slg", "rol", "per", "fpm"} {
		for _, vn := range []string{"absent", "null", "num", "empty", "obj"} {
			c := baseV2()
			o := c["o"].(map[string]any)
			switch vn {
			case "absent":
				delete(o, m)
			case "null":
				o[m] = nil
			case "num":
				o[m] = 7
			case "empty":
				o[m] = ""
			case "obj":
				o[m] = map[string]any{}
			}
			g.byHeaderAndCookie(fmt.Sprintf("v2/o.%s/%s", m, vn), g.tok(c))
		}
	}
	// fea/per/fpm shapes.
	for i, f := range [][3]string{
		{"o:reports,u:export", "read,write", "3"}, {"o:reports,o:billing", "read,write", "1,2"}, {"xo:reports,o:billing", "read", "1,1"},
		{"u:export,o:reports", "read,write", "3"}, {"ou:reports,uo:billing", "read,write", "2,1"}, {"reports", "read", "1"},
		{"o:reports", "read,write", "7"}, {"o:reports", "read,write", "-1"}, {"o:reports", "read,write", "x"}, {"", "", ""},
		{"o:reports,zz:billing,o:admin", "read", "1,1,1"},
	} {
		c := baseV2()
		c["fea"] = f[0]
		o := c["o"].(map[string]any)
		o["per"], o["fpm"] = f[1], f[2]
		g.byHeaderAndCookie(fmt.Sprintf("v2/fpm/%d", i), g.tok(c))
	}
	// v and org formats mixed.
	for i, mod := range []func(map[string]any){
		func(c map[string]any) { delete(c, "v") },
		func(c map[string]any) { c["v"] = "2" },
		func(c map[string]any) { c["v"] = 1 },
		func(c map[string]any) { c["v"] = 3 },
		func(c map[string]any) { c["org_id"] = "org_v1" },
		func(c map[string]any) { c["o"] = map[string]any{"id": "org_1", "ID": "org_2", "rol": "admin"} },
		func(c map[string]any) { c["pla"] = "o:free_org,u:free_user" },
		func(c map[string]any) { c["pla"] = "free_user" },
	} {
		c := baseV2()
		mod(c)
		g.byHeaderAndCookie(fmt.Sprintf("v2/shape/%d", i), g.tok(c))
	}
	// Odd but valid JSON: escapes, nesting, many members.
	raw := func(id, payload string) { g.byHeaderAndCookie("json/"+id, sign(g.key, sessHeader, payload)) }
	b := js(baseV2())
	body := b[1 : len(b)-1]
	raw("escaped-sub", `{"sub":"user_\u0032abc",`+strings.Replace(body, `"sub":"user_2abc",`, "", 1)+`}`)
	raw("unicode-custom", `{`+body+`,"name":"Zoë \ud83d\ude00 \"q\""}`)
	raw("whitespace", "{\n  "+strings.ReplaceAll(body, ",", " ,\n\t")+"\n}")
	for _, n := range []int{10, 40, 60, 100, 300} {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, `,"c%d":%d`, i, i)
		}
		raw(fmt.Sprintf("members-%d", n), `{`+body+sb.String()+`}`)
	}
	for _, d := range []int{1, 16, 17, 32, 64, 65, 100, 127, 128} { // the payload object adds a level: 128 is 129 deep
		raw(fmt.Sprintf("nesting-%d", d), `{`+body+`,"deep":`+strings.Repeat(`{"a":`, d)+`1`+strings.Repeat("}", d)+`}`)
		raw(fmt.Sprintf("nesting-arr-%d", d), `{`+body+`,"deep":`+strings.Repeat(`[`, d)+`1`+strings.Repeat("]", d)+`}`)
	}
	raw("dup-top", `{`+body+`,"sub":"user_other"}`)
	raw("case-variant", `{`+body+`,"Sub":"user_other"}`)
	raw("dup-nested", `{`+strings.Replace(body, `"id":"org_1"`, `"id":"org_1","id":"org_2"`, 1)+`}`)
	raw("big-number", `{`+strings.Replace(body, `"exp":1750000059`, `"exp":1.750000059e9`, 1)+`}`)
	raw("exp-huge", `{`+strings.Replace(body, `"exp":1750000059`, `"exp":1e300`, 1)+`}`)
	for _, claim := range []string{"exp", "nbf", "iat"} { // Infinity in JavaScript
		old := fmt.Sprintf(`"%s":%d`, claim, baseV2()[claim])
		raw(claim+"-beyond-float64", `{`+strings.Replace(body, old, `"`+claim+`":1e400`, 1)+`}`)
	}
	raw("custom-1k", `{`+body+`,"meta":"`+strings.Repeat("x", 1200)+`"}`)
	// Header variants.
	p := js(baseV2())
	for name, h := range map[string]string{
		"no-typ": `{"alg":"RS256","kid":"k","cat":"cl_B7d4PD111AAA"}`, "no-cat": `{"alg":"RS256","kid":"k","typ":"JWT"}`,
		"cat-ignore": `{"alg":"RS256","typ":"JWT","cat":"cl_I7d4PD111III"}`, "cat-template": `{"alg":"RS256","typ":"JWT","cat":"cl_B7d4PD222AAA"}`,
		"cat-other": `{"alg":"RS256","typ":"JWT","cat":"cl_other"}`, "typ-lower": `{"alg":"RS256","typ":"jwt"}`,
		"typ-null": `{"alg":"RS256","typ":null}`, "crit": `{"alg":"RS256","typ":"JWT","crit":["exp"]}`,
		"alg-none": `{"alg":"none","typ":"JWT"}`, "alg-hs": `{"alg":"HS256","typ":"JWT"}`, "no-kid": `{"alg":"RS256"}`,
	} {
		g.byHeaderAndCookie("jwthdr/"+name, sign(g.key, h, p))
	}
}

// machine: JWT machine tokens with every cat/typ combination, on a route
// accepting any token.
func (g *gen) machine() {
	for _, cat := range []string{"", "cl_B7d4PD333AAA", "cl_B7d4PD111AAA", "cl_I7d4PD111III", "cl_B7d4PD222AAA"} {
		for _, typ := range []string{"", "JWT", "at+jwt", "application/at+jwt"} {
			h := map[string]any{"alg": "RS256", "kid": "ins_test"}
			if cat != "" {
				h["cat"] = cat
			}
			if typ != "" {
				h["typ"] = typ
			}
			for _, sub := range []string{"mch_2abc", "user_2abc"} {
				c := map[string]any{"sub": sub, "iat": nowUnix - 1, "nbf": nowUnix - 6, "exp": nowUnix + 59, "iss": issuer,
					"jti": "mt_2abc", "scopes": "mch_other", "client_id": "oa_1", "scope": "read"}
				tok := sign(g.key, js(h), js(c))
				id := fmt.Sprintf("machine/cat=%s,typ=%s,sub=%s", cat, typ, sub)
				g.add(tcase{ID: id + ",any", Authorization: ptr("Bearer " + tok), Accepts: "any"})
				g.add(tcase{ID: id + ",session", Authorization: ptr("Bearer " + tok)})
			}
		}
	}
}

// machineTimes: M2M and OAuth JWTs with times around now and of the wrong
// type, on a route accepting any token and on a session route.
func (g *gen) machineTimes() {
	for kind, h := range map[string]map[string]any{
		"m2m":   {"alg": "RS256", "kid": "ins_test", "cat": "cl_B7d4PD333AAA"},
		"oauth": {"alg": "RS256", "kid": "ins_test", "typ": "at+jwt"},
	} {
		sub := map[string]string{"m2m": "mch_2abc", "oauth": "user_2abc"}[kind]
		for name, mod := range map[string]func(c map[string]any){
			"exp-10": func(c map[string]any) { c["exp"] = nowUnix - 10 }, "exp-4": func(c map[string]any) { c["exp"] = nowUnix - 4 },
			"nbf+10": func(c map[string]any) { c["nbf"] = nowUnix + 10 }, "nbf+4": func(c map[string]any) { c["nbf"] = nowUnix + 4 },
			"iat+10": func(c map[string]any) { c["iat"] = nowUnix + 10 }, "iat+4": func(c map[string]any) { c["iat"] = nowUnix + 4 },
			"exp-null": func(c map[string]any) { c["exp"] = nil }, "nbf-null": func(c map[string]any) { c["nbf"] = nil },
			"iat-null": func(c map[string]any) { c["iat"] = nil }, "exp-absent": func(c map[string]any) { delete(c, "exp") },
			"exp-str": func(c map[string]any) { c["exp"] = "1750000059" },
		} {
			c := map[string]any{"sub": sub, "iat": nowUnix - 1, "nbf": nowUnix - 6, "exp": nowUnix + 59, "iss": issuer,
				"jti": "mt_2abc", "scopes": "mch_other", "client_id": "oa_1", "scope": "read"}
			mod(c)
			tok := sign(g.key, js(h), js(c))
			id := "machine/" + kind + "/" + name
			g.add(tcase{ID: id + ",any", Authorization: ptr("Bearer " + tok), Accepts: "any"})
			g.add(tcase{ID: id + ",session", Authorization: ptr("Bearer " + tok)})
		}
	}
}

// clerktest: tokens minted by clerktest, by header and by its cookies.
func (g *gen) clerktest(t *testing.T) {
	srv := clerktest.New(t, clerktest.WithSigningKey(g.key))
	pk := srv.PublishableKey()
	now := time.Unix(nowUnix, 0)
	toks := map[string]string{
		"plain":   srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second))),
		"org":     srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithOrg("org_1", "acme", "admin", "org:reports:read")),
		"actor":   srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithActor("user_admin")),
		"pending": srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithPending()),
		"fva":     srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithFactorAge(3, 5)),
		"plans":   srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithPlans("free_user"), clerktest.WithFeatures("export")),
		"expired": srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-2*time.Minute))),
		// Clerk's defaults and encodings: pla with two entries, sorted fea
		// and per, long scopes mapped, uo merged, fva never.
		"org-plans": srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithOrg("org_1", "acme", "member")),
		"features": srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithPlans("org:team", "pro"),
			clerktest.WithFeatures("user:export", "organization:reports", "u:zeta", "ou:billing"),
			clerktest.WithOrg("org_1", "acme", "admin", "org:reports:write", "org:reports:read", "org:zeta:read", "org:billing:read")),
		"fva-never": srv.SessionToken("user_ct", clerktest.WithIssuedAt(now.Add(-time.Second)), clerktest.WithFactorAge(-1, -1)),
	}
	for _, name := range sortedKeys(toks) {
		tok := toks[name]
		g.add(tcase{ID: "clerktest/hdr/" + name, PK: pk, Authorization: ptr("Bearer " + tok), Has: hasQs})
		var parts []string
		for _, c := range clerktest.SessionCookies(tok) {
			parts = append(parts, c.Name+"="+c.Value)
		}
		g.add(tcase{ID: "clerktest/cookie-nodb/" + name, PK: pk, Cookie: strings.Join(parts, "; "), Has: hasQs})
		g.add(tcase{ID: "clerktest/cookie/" + name, PK: pk, Cookie: strings.Join(append(parts, "__clerk_db_jwt=dvb_x"), "; "), Has: hasQs})
	}
}
