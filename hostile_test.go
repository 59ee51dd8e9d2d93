package clerkauth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostileCase is one request sent through RequireAuth, with the answer it
// must get. A 401/503 case also asserts that the protected handler never
// ran; the few 200 cases pin the boundary the neighbouring attacks sit on
// (within skew, header-wins, ignored jku).
type hostileCase struct {
	name   string
	req    func() *http.Request
	status int
	reason string
}

// TestHostileCorpus sends the attacks of RFC 8725 and of the issue through
// the real middleware (JWKS from a real server with Clerk's request shape)
// and checks the status, the X-Clerk-Auth-Reason and that the handler never
// ran.
func TestHostileCorpus(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	u := now.Unix()
	good := hkeyN(0, "ins_good")
	other := hkeyN(1, "ins_good") // same kid, another key: an attacker's
	evil := hNewJWKSServer(t, hJwksOf(other))
	jwks := hNewJWKSServer(t, hJwksOf(good))
	mw := hNewTestMW(t, Options{
		SecretKey:         "sk_test_corpus",
		APIURL:            jwks.URL,
		Issuer:            "https://clerk.example.com",
		AuthorizedParties: []string{"https://app.example.com"},
		// Each hostile kid gets its own download (and so its 401): the
		// clock moves 1 µs per read and the cooldown is 1 ns.
		Now:            hTickingClock(now),
		JWKSCooldown:   time.Nanosecond,
		KeyWaitTimeout: 10 * time.Second,
	})

	hdr := func(extra string) []byte {
		return []byte(`{"alg":"RS256","kid":"ins_good","typ":"JWT","cat":"cl_B7d4PD111AAA"` + extra + `}`)
	}
	// signed signs raw header and payload with the good key.
	signed := func(header, payload []byte) string { return hSignRaw(t, good, "RS256", header, payload, nil) }
	// claims builds a payload from raw members.
	claims := func(members string) []byte { return []byte("{" + members + "}") }
	base := fmt.Sprintf(`"sub":"user_123","sid":"sess_1","iss":"https://clerk.example.com","azp":"https://app.example.com","iat":%d,"nbf":%d`, u-1, u-10)
	withExp := func(exp string) []byte { return claims(base + `,"exp":` + exp) }
	validPayload := withExp(fmt.Sprint(u + 60))
	goodTok := signed(hdr(""), validPayload)
	expiredTok := signed(hdr(""), withExp(fmt.Sprint(u-60)))
	gh, gp, gs := hSegments(goodTok)

	// payloadWithout builds a valid payload but for one member replaced.
	payload := func(sub, iss, azp, rest string) []byte {
		m := []string{fmt.Sprintf(`"exp":%d`, u+60), fmt.Sprintf(`"iat":%d`, u-1)}
		for _, kv := range []string{sub, iss, azp, rest} {
			if kv != "" {
				m = append(m, kv)
			}
		}
		return claims(strings.Join(m, ","))
	}
	const sub, iss, azp = `"sub":"user_123"`, `"iss":"https://clerk.example.com"`, `"azp":"https://app.example.com"`

	req := func(tok string) func() *http.Request { return func() *http.Request { return hBearer(tok) } }
	raw := func(authz ...string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/private", nil)
			for _, a := range authz {
				r.Header.Add("Authorization", a)
			}
			return r
		}
	}
	cookie := func(authz, cookies string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/private", nil)
			if authz != "" {
				r.Header.Set("Authorization", authz)
			}
			r.Header.Set("Cookie", cookies)
			return r
		}
	}
	uat := fmt.Sprintf("__client_uat=%d", u-100)

	pemBytes := []byte(hPemOf(good))
	hugeKid := strings.Repeat("k", 4000)
	flipLast := func(seg string) string { // non-canonical trailing bits
		last := seg[len(seg)-1]
		repl := byte('B')
		if last == 'B' {
			repl = 'C'
		}
		return seg[:len(seg)-1] + string(repl)
	}
	const (
		inv   = ReasonTokenInvalid
		alg   = ReasonTokenInvalidAlgorithm
		sig   = ReasonTokenInvalidSignature
		kid   = ReasonJWKKidMismatch
		vfail = ReasonTokenVerificationFailed
	)

	cases := []hostileCase{
		// Sanity: the good token passes, so the rejections below are real.
		{"control/good token", req(goodTok), 200, ""},
		{"control/lowercase bearer scheme", raw("bearer " + goodTok), 200, ""},

		// alg none, any case; with no signature and with a real one.
		{"alg/none no signature", req(hSignRaw(t, good, "none", []byte(`{"alg":"none","kid":"ins_good","typ":"JWT"}`), validPayload, nil)), 401, inv},
		{"alg/none with signature", req(signed([]byte(`{"alg":"none","kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/None", req(signed([]byte(`{"alg":"None","kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/NONE", req(signed([]byte(`{"alg":"NONE","kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/nOnE", req(signed([]byte(`{"alg":"nOnE","kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/missing", req(signed([]byte(`{"kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/empty header object", req(signed([]byte(`{}`), validPayload)), 401, alg},
		{"alg/lowercase rs256", req(signed([]byte(`{"alg":"rs256","kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/RS256 with trailing space", req(signed([]byte(`{"alg":"RS256 ","kid":"ins_good"}`), validPayload)), 401, alg},
		{"alg/not a string", req(signed([]byte(`{"alg":256,"kid":"ins_good"}`), validPayload)), 401, inv},
		// Key confusion: HMAC keyed with the public key's PEM or DER bytes.
		{"alg/HS256 keyed with public PEM", req(hSignRaw(t, good, "HS256", []byte(`{"alg":"HS256","kid":"ins_good","typ":"JWT"}`), validPayload, pemBytes)), 401, alg},
		{"alg/HS256 keyed with modulus", req(hSignRaw(t, good, "HS256", []byte(`{"alg":"HS256","kid":"ins_good"}`), validPayload, good.priv.N.Bytes())), 401, alg},
		{"alg/HS512 header", req(hSignRaw(t, good, "HS256", []byte(`{"alg":"HS512","kid":"ins_good"}`), validPayload, pemBytes)), 401, alg},
		// Other algorithms against an RS256 key, really signed with it.
		{"alg/RS384 against RS256 key", req(hSignRaw(t, good, "RS384", []byte(`{"alg":"RS384","kid":"ins_good"}`), validPayload, nil)), 401, alg},
		{"alg/RS512 against RS256 key", req(hSignRaw(t, good, "RS512", []byte(`{"alg":"RS512","kid":"ins_good"}`), validPayload, nil)), 401, alg},
		{"alg/PS256 against RS256 key", req(hSignRaw(t, good, "PS256", []byte(`{"alg":"PS256","kid":"ins_good"}`), validPayload, nil)), 401, alg},
		{"alg/ES256", req(hSignRaw(t, good, "ES256", []byte(`{"alg":"ES256","kid":"ins_good"}`), validPayload, nil)), 401, alg},
		{"alg/RS256 header over RS512 signature", req(hSignRaw(t, good, "RS512", []byte(`{"alg":"RS256","kid":"ins_good"}`), validPayload, nil)), 401, sig},

		// kid.
		{"kid/missing", req(signed([]byte(`{"alg":"RS256","typ":"JWT"}`), validPayload)), 401, kid},
		{"kid/empty", req(signed([]byte(`{"alg":"RS256","kid":""}`), validPayload)), 401, kid},
		{"kid/huge", req(signed([]byte(`{"alg":"RS256","kid":"`+hugeKid+`"}`), validPayload)), 401, kid},
		{"kid/path traversal", req(signed([]byte(`{"alg":"RS256","kid":"../../../../etc/passwd"}`), validPayload)), 401, kid},
		{"kid/URL", req(signed([]byte(`{"alg":"RS256","kid":"`+evil.URL+`/jwks.json"}`), validPayload)), 401, kid},
		{"kid/NUL byte", req(signed([]byte(`{"alg":"RS256","kid":"ins_good\u0000"}`), validPayload)), 401, kid},
		{"kid/SQL injection", req(signed([]byte(`{"alg":"RS256","kid":"' OR '1'='1"}`), validPayload)), 401, kid},
		{"kid/not a string", req(signed([]byte(`{"alg":"RS256","kid":1}`), validPayload)), 401, inv},
		{"kid/other instance's key", req(hSignRaw(t, hkeyN(2, "ins_other"), "RS256", []byte(`{"alg":"RS256","kid":"ins_other"}`), validPayload, nil)), 401, kid},

		// Key location headers are ignored: the attacker's key never used.
		{"jku/attacker key via jku", req(hSignRaw(t, other, "RS256", hdr(`,"jku":"`+evil.URL+`/jwks.json"`), validPayload, nil)), 401, sig},
		{"x5u/attacker key via x5u", req(hSignRaw(t, other, "RS256", hdr(`,"x5u":"`+evil.URL+`/cert.pem"`), validPayload, nil)), 401, sig},
		{"jwk/attacker key embedded", req(hSignRaw(t, other, "RS256", hdr(`,"jwk":`+hJwkJSON(other, "RS256", "sig")), validPayload, nil)), 401, sig},
		{"x5c/attacker chain embedded", req(hSignRaw(t, other, "RS256", hdr(`,"x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]`), validPayload, nil)), 401, sig},
		{"jku/good key, jku ignored", req(signed(hdr(`,"jku":"`+evil.URL+`/jwks.json"`), validPayload)), 200, ""},

		// Header content.
		{"crit/present", req(signed(hdr(`,"crit":["exp"]`), validPayload)), 401, inv},
		{"crit/empty list", req(signed(hdr(`,"crit":[]`), validPayload)), 401, inv},
		{"typ/JWS", req(signed([]byte(`{"alg":"RS256","kid":"ins_good","typ":"JWS"}`), validPayload)), 401, inv},
		{"typ/lowercase jwt", req(signed([]byte(`{"alg":"RS256","kid":"ins_good","typ":"jwt"}`), validPayload)), 401, inv},
		{"typ/at+jwt machine token", req(signed([]byte(`{"alg":"RS256","kid":"ins_good","typ":"at+jwt"}`), validPayload)), 401, ReasonTokenTypeMismatch},
		{"cat/JWT template", req(signed([]byte(`{"alg":"RS256","kid":"ins_good","cat":"cl_B7d4PD222AAA"}`), validPayload)), 401, ReasonTokenTypeMismatch},
		{"header/duplicate alg", req(signed([]byte(`{"alg":"none","alg":"RS256","kid":"ins_good"}`), validPayload)), 401, inv},
		{"header/duplicate alg escaped", req(signed([]byte(`{"alg":"RS256","\u0061lg":"none","kid":"ins_good"}`), validPayload)), 401, inv},
		// Names are case-sensitive, as for JSON.parse: "ALG" is another member.
		{"header/alg and ALG", req(signed([]byte(`{"alg":"RS256","ALG":"none","kid":"ins_good"}`), validPayload)), 200, ""},
		{"header/nested duplicate", req(signed([]byte(`{"alg":"RS256","kid":"ins_good","x":{"a":1,"a":2}}`), validPayload)), 401, inv},
		{"header/not JSON", req(hB64.EncodeToString([]byte("hello")) + "." + gp + "." + gs), 401, inv},
		{"header/JSON array", req(signed([]byte(`[{"alg":"RS256","kid":"ins_good"}]`), validPayload)), 401, inv},
		{"header/trailing garbage", req(signed([]byte(`{"alg":"RS256","kid":"ins_good"}x`), validPayload)), 401, inv},
		{"header/UTF-8 BOM", req(signed(append([]byte("\xef\xbb\xbf"), hdr("")...), validPayload)), 401, inv},
		{"header/deep nesting", req(signed([]byte(`{"alg":"RS256","kid":"ins_good","x":`+strings.Repeat("[", 3000)+`}`), validPayload)), 401, inv},

		// Tampering after signing.
		{"sig/signed by another key", req(hSignRaw(t, other, "RS256", hdr(""), validPayload, nil)), 401, sig},
		{"tamper/payload changed", req(gh + "." + hB64.EncodeToString(payload(`"sub":"user_admin"`, iss, azp, "")) + "." + gs), 401, sig},
		{"tamper/header changed", req(hB64.EncodeToString(hdr(`,"x":1`)) + "." + gp + "." + gs), 401, sig},
		{"sig/truncated", req(gh + "." + gp + "." + gs[:len(gs)-10]), 401, sig},
		{"sig/truncated one char", req(gh + "." + gp + "." + gs[:len(gs)-1]), 401, sig},
		{"sig/empty", req(gh + "." + gp + "."), 401, inv},
		{"sig/one bit flipped", req(gh + "." + gp + "." + hFlipBit(gs, 1000)), 401, sig},
		{"sig/non-canonical trailing bits", req(gh + "." + gp + "." + flipLast(gs)), 401, sig},
		{"sig/all zeros", req(gh + "." + gp + "." + hB64.EncodeToString(make([]byte, 256))), 401, sig},
		{"sig/twice as long", req(gh + "." + gp + "." + gs + gs[:len(gs)-2]), 401, sig},
		{"sig/modulus", req(gh + "." + gp + "." + hB64.EncodeToString(good.priv.N.Bytes())), 401, sig},
		{"header/non-canonical trailing bits", req(flipLast(gh) + "." + gp + "." + gs), 401, inv},

		// Shape and encoding.
		{"shape/padding on signature", req(goodTok + "=="), 401, inv},
		{"shape/padding on header", req(gh + "=." + gp + "." + gs), 401, inv},
		{"shape/space in header", req(gh[:5] + " " + gh[5:] + "." + gp + "." + gs), 401, inv},
		{"shape/newline in payload", req(gh + "." + gp[:5] + "\n" + gp[5:] + "." + gs), 401, inv},
		{"shape/tab in signature", req(gh + "." + gp + "." + gs[:5] + "\t" + gs[5:]), 401, inv},
		{"shape/std base64 alphabet", req(strings.NewReplacer("-", "+", "_", "/").Replace(goodTok) + "+/"), 401, inv},
		{"shape/four segments", req(goodTok + "." + gs), 401, inv},
		{"shape/two segments", req(gh + "." + gp), 401, inv},
		{"shape/one segment", req(gh), 401, inv},
		{"shape/empty header segment", req("." + gp + "." + gs), 401, inv},
		{"shape/empty payload segment", req(gh + ".." + gs), 401, inv},
		{"shape/only dots", req(".."), 401, inv},
		{"shape/1 MiB token", req(gh + "." + strings.Repeat("A", 1<<20) + "." + gs), 401, inv},
		{"shape/64 KiB of dots", req(strings.Repeat(".", 64<<10)), 401, inv},
		{"shape/non-ASCII", req(gh + "." + gp + "é." + gs), 401, inv},

		// Payload JSON, signed with the good key: the signature holds.
		{"payload/JSON array", req(signed(hdr(""), []byte(`[`+string(validPayload)+`]`))), 401, inv},
		{"payload/not JSON", req(signed(hdr(""), []byte(`not json`))), 401, inv},
		{"payload/trailing garbage", req(signed(hdr(""), append(append([]byte(nil), validPayload...), "}"...))), 401, inv},
		{"payload/duplicate exp", req(signed(hdr(""), claims(base+fmt.Sprintf(`,"exp":%d,"exp":%d`, u-100, u+100)))), 401, inv},
		{"payload/exp and EXP", req(signed(hdr(""), claims(base+fmt.Sprintf(`,"exp":%d,"EXP":%d`, u-100, u+100)))), 401, ReasonTokenExpired},
		{"payload/nested duplicate", req(signed(hdr(""), claims(base+fmt.Sprintf(`,"exp":%d,"x":{"y":[{"a":1,"a":2}]}`, u+100)))), 401, inv},
		{"payload/duplicate sub", req(signed(hdr(""), claims(base+fmt.Sprintf(`,"exp":%d,"sub":"user_admin"`, u+60)))), 401, inv},

		// exp.
		{"exp/string", req(signed(hdr(""), withExp(fmt.Sprintf(`"%d"`, u+60)))), 401, vfail},
		{"exp/float in future", req(signed(hdr(""), withExp(fmt.Sprintf(`%d.5`, u+60)))), 200, ""},
		{"exp/float in past", req(signed(hdr(""), withExp(fmt.Sprintf(`%d.5`, u-60)))), 401, ReasonTokenExpired},
		{"exp/exponent form in past", req(signed(hdr(""), withExp(`1.7e9`))), 401, ReasonTokenExpired},
		{"exp/beyond float64", req(signed(hdr(""), withExp(`1e400`))), 401, vfail},
		{"exp/negative", req(signed(hdr(""), withExp(`-1`))), 401, ReasonTokenExpired},
		{"exp/huge negative", req(signed(hdr(""), withExp(`-1e300`))), 401, ReasonTokenExpired},
		{"exp/missing", req(signed(hdr(""), claims(base))), 401, vfail},
		{"exp/null", req(signed(hdr(""), withExp(`null`))), 401, vfail},
		{"exp/bool", req(signed(hdr(""), withExp(`true`))), 401, vfail},
		{"exp/object", req(signed(hdr(""), withExp(`{"n":1}`))), 401, vfail},
		{"exp/at the skew edge", req(signed(hdr(""), withExp(fmt.Sprint(u-5)))), 401, ReasonTokenExpired},
		{"exp/within skew", req(signed(hdr(""), withExp(fmt.Sprint(u-4)))), 200, ""},

		// nbf and iat.
		{"nbf/beyond skew", req(signed(hdr(""), payload(sub, iss, azp, fmt.Sprintf(`"nbf":%d`, u+6)))), 401, ReasonSessionTokenNBF},
		{"nbf/within skew", req(signed(hdr(""), payload(sub, iss, azp, fmt.Sprintf(`"nbf":%d`, u+5)))), 200, ""},
		{"nbf/string", req(signed(hdr(""), payload(sub, iss, azp, `"nbf":"0"`))), 401, vfail},
		{"iat/beyond skew", req(signed(hdr(""), claims(fmt.Sprintf(`%s,%s,%s,"exp":%d,"iat":%d`, sub, iss, azp, u+60, u+6)))), 401, ReasonSessionTokenIATInTheFuture},
		{"iat/within skew", req(signed(hdr(""), claims(fmt.Sprintf(`%s,%s,%s,"exp":%d,"iat":%d`, sub, iss, azp, u+60, u+5)))), 200, ""},

		// sub.
		{"sub/missing", req(signed(hdr(""), payload("", iss, azp, ""))), 401, vfail},
		{"sub/number", req(signed(hdr(""), payload(`"sub":123`, iss, azp, ""))), 401, vfail},
		{"sub/empty", req(signed(hdr(""), payload(`"sub":""`, iss, azp, ""))), 401, vfail},
		{"sub/null", req(signed(hdr(""), payload(`"sub":null`, iss, azp, ""))), 401, vfail},
		{"sub/array", req(signed(hdr(""), payload(`"sub":["user_123"]`, iss, azp, ""))), 401, vfail},
		{"sub/machine", req(signed(hdr(""), payload(`"sub":"mch_123"`, iss, azp, ""))), 401, ReasonTokenTypeMismatch},

		// azp and iss.
		{"azp/missing", req(signed(hdr(""), payload(sub, iss, "", ""))), 401, ReasonTokenInvalidAzp},
		{"azp/unlisted", req(signed(hdr(""), payload(sub, iss, `"azp":"https://evil.example.com"`, ""))), 401, ReasonTokenInvalidAzp},
		{"azp/suffix trick", req(signed(hdr(""), payload(sub, iss, `"azp":"https://app.example.com.evil.com"`, ""))), 401, ReasonTokenInvalidAzp},
		{"azp/other case", req(signed(hdr(""), payload(sub, iss, `"azp":"https://APP.example.com"`, ""))), 401, ReasonTokenInvalidAzp},
		{"azp/not a string", req(signed(hdr(""), payload(sub, iss, `"azp":["https://app.example.com"]`, ""))), 401, ReasonTokenInvalidAzp}, // as Clerk, with authorized parties set
		{"iss/wrong", req(signed(hdr(""), payload(sub, `"iss":"https://clerk.evil.com"`, azp, ""))), 401, ReasonTokenInvalidIssuer},
		{"iss/missing", req(signed(hdr(""), payload(sub, "", azp, ""))), 401, ReasonTokenInvalidIssuer},
		{"iss/trailing slash", req(signed(hdr(""), payload(sub, `"iss":"https://clerk.example.com/"`, azp, ""))), 401, ReasonTokenInvalidIssuer},
		{"sts/pending", req(signed(hdr(""), payload(sub, iss, azp, `"sts":"pending"`))), 401, ReasonSessionPending},

		// Where the token comes from.
		{"source/expired cookie, fresh header", cookie("Bearer "+goodTok, "__session="+expiredTok+"; "+uat), 200, ""},
		{"source/fresh cookie, expired header", cookie("Bearer "+expiredTok, "__session="+goodTok+"; "+uat), 401, ReasonTokenExpired},
		{"source/Basic with good cookie", cookie("Basic dXNlcjpwYXNz", "__session="+goodTok+"; "+uat), 200, ""},
		{"source/Basic without cookie", raw("Basic dXNlcjpwYXNz"), 401, ReasonTokenAndUATMissing},
		{"source/Bearer with no token", raw("Bearer"), 401, inv},
		{"source/Bearer and spaces", raw("Bearer    "), 401, inv},
		{"source/Bearer with no token, good cookie", cookie("Bearer ", "__session="+goodTok+"; "+uat), 401, inv},
		{"source/two Authorization headers", raw("Bearer "+goodTok, "Bearer "+goodTok), 401, inv},
		{"source/no token at all", raw(), 401, ReasonTokenAndUATMissing},
		{"cookie/uat 0", cookie("", "__session="+goodTok+"; __client_uat=0"), 401, ReasonTokenButNoClientUAT},
		{"cookie/uat missing", cookie("", "__session="+goodTok), 401, ReasonTokenButNoClientUAT},
		{"cookie/uat not a number", cookie("", "__session="+goodTok+"; __client_uat=abc"), 401, ReasonTokenButNoClientUAT},
		{"cookie/uat but no session", cookie("", uat), 401, ReasonClientUATButNoToken},
		{"cookie/iat older than uat", cookie("", fmt.Sprintf("__session=%s; __client_uat=%d", goodTok, u)), 401, ReasonTokenIATBeforeClientUAT},
		{"cookie/forged token", cookie("", "__session="+hSignRaw(t, other, "RS256", hdr(""), validPayload, nil)+"; "+uat), 401, sig},
	}

	rejected := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := hServe(mw, tc.req())
			if res.status != tc.status || res.reason != tc.reason {
				t.Fatalf("got %d %q, want %d %q", res.status, res.reason, tc.status, tc.reason)
			}
			if tc.status == http.StatusOK {
				if !res.ran || res.user != "user_123" {
					t.Fatalf("handler ran=%v user=%q, want it to run for user_123", res.ran, res.user)
				}
				return
			}
			if res.ran {
				t.Fatal("the protected handler ran for a rejected request")
			}
			if res.body != `{"error":"Not authenticated"}` {
				t.Fatalf("body %q", res.body)
			}
		})
		if tc.status != http.StatusOK {
			rejected++
		}
	}
	if rejected < 50 {
		t.Errorf("corpus has %d rejected cases, want at least 50", rejected)
	}
	if n := evil.fetches.Load(); n != 0 {
		t.Errorf("the attacker's key server was contacted %d times", n)
	}
}

// TestHostilePEMKey runs the key-confusion and algorithm attacks against a
// PEM-configured middleware, where kid is ignored and no network is used.
func TestHostilePEMKey(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := hkeyN(0, "whatever")
	mw := hNewTestMW(t, Options{JWTKey: hPemOf(good), Now: hFixedClock(now)})
	pemBytes := []byte(hPemOf(good))
	payload := hClaimsAt(now, "")
	cases := []hostileCase{
		{"control/good, any kid", func() *http.Request { return hBearer(hGoodToken(t, hkey{kid: "any", priv: good.priv}, now)) }, 200, ""},
		{"HS256 keyed with the PEM", func() *http.Request {
			return hBearer(hSignRaw(t, good, "HS256", []byte(`{"alg":"HS256","typ":"JWT"}`), payload, pemBytes))
		}, 401, ReasonTokenInvalidAlgorithm},
		{"RS512 with the right key", func() *http.Request {
			return hBearer(hSignRaw(t, good, "RS512", []byte(`{"alg":"RS512"}`), payload, nil))
		}, 401, ReasonTokenInvalidAlgorithm},
		{"none", func() *http.Request {
			return hBearer(hSignRaw(t, good, "RS256", []byte(`{"alg":"none"}`), payload, nil))
		}, 401, ReasonTokenInvalidAlgorithm},
		{"another key", func() *http.Request { return hBearer(hGoodToken(t, hkeyN(1, "whatever"), now)) }, 401, ReasonTokenInvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := hServe(mw, tc.req())
			if res.status != tc.status || res.reason != tc.reason || res.ran != (tc.status == 200) {
				t.Fatalf("got %d %q ran=%v, want %d %q", res.status, res.reason, res.ran, tc.status, tc.reason)
			}
		})
	}
}
