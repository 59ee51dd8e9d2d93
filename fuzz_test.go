package clerkauth

// Fuzz targets for everything that parses untrusted input. Each is seeded
// with real tokens signed by a fixed test key (testdata/fuzz_rsa_key.pem,
// so that seeds kept under testdata/fuzz stay valid) and with the hostile
// corpus's shapes. Run one with, for example:
//
//	go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 5s .
//
// The Backend API error decoding target is added with the client.

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/instance"
	"github.com/clerkauth/clerkauth/internal/jwks"
	"github.com/clerkauth/clerkauth/internal/jws"
	"math"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/claims"
)

// fuzzNow is the fixed clock of the fuzz targets: seed tokens are valid at
// it forever.
var fuzzNow = time.Unix(1_800_000_000, 0)

// fuzzKey loads the fixed test key (a test-only key, never used elsewhere).
func fuzzKey(tb testing.TB) hkey {
	tb.Helper()
	b, err := os.ReadFile("testdata/fuzz_rsa_key.pem")
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		tb.Fatal("testdata/fuzz_rsa_key.pem: no PEM block")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return hkey{kid: "ins_fuzz", priv: k}
}

// seedTokens returns real tokens signed by k (valid and invalid at
// fuzzNow) and the corpus's malformed shapes.
func seedTokens(tb testing.TB, k hkey) []string {
	tb.Helper()
	u := fuzzNow.Unix()
	headers := []string{
		string(hStdHeader(k.kid)),
		`{"alg":"RS256","kid":"` + k.kid + `"}`,
		`{"alg":"none","kid":"` + k.kid + `"}`,
		`{"alg":"HS256","kid":"` + k.kid + `","typ":"JWT"}`,
		`{"alg":"RS256","kid":"` + k.kid + `","crit":["exp"]}`,
		`{"alg":"RS256","kid":"` + k.kid + `","typ":"at+jwt"}`,
		`{"alg":"RS256","kid":"` + k.kid + `","cat":"cl_B7d4PD222AAA"}`,
		`{"alg":"RS256","alg":"RS256","kid":"` + k.kid + `"}`,
		`{"alg":"RS256","kid":"` + k.kid + `","jku":"https://evil.example/jwks"}`,
		`[1,2]`,
	}
	payloads := []string{
		string(hClaimsAt(fuzzNow, "")),
		string(hClaimsAt(fuzzNow, `,"o":{"id":"org_1","slg":"acme","rol":"admin","per":"read,create,update,delete,revoke","fpm":"7,21"},"fea":"o:repositories,uo:projects,u:pro","pla":"u:free"`)),
		string(hClaimsAt(fuzzNow, `,"org_id":"org_1","org_role":"org:admin","org_permissions":["org:a:b"],"act":{"sub":"user_admin"}`)),
		fmt.Sprintf(`{"sub":"user_1","exp":%d}`, u+60),
		fmt.Sprintf(`{"sub":"user_1","exp":"%d"}`, u+60),
		fmt.Sprintf(`{"sub":"user_1","exp":%d.5,"nbf":%d,"iat":%d}`, u+60, u+6, u+6),
		fmt.Sprintf(`{"sub":"user_1","exp":%d,"exp":%d}`, u-60, u+60),
		fmt.Sprintf(`{"sub":"user_1","exp":%d,"EXP":%d}`, u-60, u+60),
		fmt.Sprintf(`{"sub":"mch_1","exp":%d}`, u+60),
		fmt.Sprintf(`{"sub":1,"exp":%d}`, u+60),
		fmt.Sprintf(`{"sub":"user_1","exp":%d,"sts":"pending"}`, u+60),
		`{"sub":"user_1","exp":1e400}`,
		`[{"sub":"user_1"}]`,
	}
	var out []string
	for _, h := range headers {
		for _, p := range payloads {
			out = append(out, hSignRaw(tb, k, "RS256", []byte(h), []byte(p), nil))
		}
	}
	good := out[0]
	gh, gp, gs := hSegments(good)
	out = append(out,
		gh+"."+gp+".",
		gh+"."+gp,
		good+"."+gs,
		good+"==",
		gh+" ."+gp+"."+gs,
		gh+"."+gp+"."+hFlipBit(gs, 7),
		gh+"."+hB64.EncodeToString([]byte(`{"sub":"user_admin","exp":9999999999}`))+"."+gs,
		"..",
		"",
		strings.Repeat(".", 100),
		strings.Repeat("A", maxTokenSize+1),
	)
	return out
}

// allocated returns the bytes f allocated.
func hAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hAllocBound is the allocation allowed for an input of n bytes: a fixed
// allowance (an RSA verification, a JSON decoder) plus a small multiple of
// the input.
func hAllocBound(n int) uint64 { return 256<<10 + 16*uint64(n) }

// FuzzTokenPrechecks fuzzes the shape check and header decoding that run
// before any key is looked up.
func FuzzTokenPrechecks(f *testing.F) {
	for _, tok := range seedTokens(f, fuzzKey(f)) {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var dot1, dot2 int
		var serr, herr *AuthError
		var h jws.Header
		n := hAllocated(func() {
			dot1, dot2, serr = splitToken(tok)
			if serr == nil {
				h, _, herr = parseHeader(tok[:dot1])
			}
		})
		if n > hAllocBound(len(tok)) {
			t.Fatalf("%d bytes allocated for a %d-byte token", n, len(tok))
		}
		if serr != nil {
			if serr.Reason != ReasonTokenInvalid {
				t.Fatalf("shape error with reason %q", serr.Reason)
			}
			return
		}
		if len(tok) > maxTokenSize || dot1 <= 0 || dot2 <= dot1+1 || dot2 >= len(tok)-1 ||
			strings.Count(tok, ".") != 2 || tok[dot1] != '.' || tok[dot2] != '.' {
			t.Fatalf("splitToken accepted %q with dots at %d, %d", tok, dot1, dot2)
		}
		if herr != nil {
			return
		}
		// An accepted header is a strict base64url JSON object without crit
		// and with an allowed typ and cat.
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok[:dot1])
		if err != nil || !json.Valid(raw) || bytes.TrimSpace(raw)[0] != '{' {
			t.Fatalf("parseHeader accepted a header that is not a base64url JSON object: %q", raw)
		}
		oauth := h.HasTyp && (h.Typ == "at+jwt" || h.Typ == "application/at+jwt")
		if h.HasCrit || (h.HasTyp && h.Typ != "JWT" && !oauth) ||
			(!oauth && h.HasCat && h.Cat != catSessionToken && h.Cat != catIgnore && h.Cat != catM2MToken) {
			t.Fatalf("parseHeader accepted %q", raw)
		}
	})
}

// FuzzVerify fuzzes the whole verification path (shape, header, key,
// signature, claims, cache) and checks that nothing is accepted unless its
// signature really verifies under the test key.
func FuzzVerify(f *testing.F) {
	k := fuzzKey(f)
	for _, tok := range seedTokens(f, k) {
		f.Add(tok)
	}
	m, err := New(Options{JWTKey: hPemOf(k), Now: hFixedClock(fuzzNow), Logger: hQuietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	f.Fuzz(func(t *testing.T, tok string) {
		var a *Auth
		var err error
		n := hAllocated(func() { a, err = m.AuthenticateToken(t.Context(), tok) })
		if n > hAllocBound(len(tok)) {
			t.Fatalf("%d bytes allocated for a %d-byte token", n, len(tok))
		}
		if err != nil {
			if a.IsSignedIn() || reasonOf(err) == "" {
				t.Fatalf("error %v with signed-in=%v", err, a.IsSignedIn())
			}
			if strings.Contains(err.Error(), tok) && len(tok) > 8 {
				t.Fatalf("error message contains the token: %v", err)
			}
			return
		}
		if !a.IsSignedIn() || a.UserID == "" {
			t.Fatalf("no error but not signed in: %+v", a)
		}
		// Accepted: the signature must verify under the test key with
		// RS256 over exactly the signing input.
		last := strings.LastIndexByte(tok, '.')
		sig, derr := base64.RawURLEncoding.Strict().DecodeString(tok[last+1:])
		sum := sha256.Sum256([]byte(tok[:last]))
		if derr != nil || rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, sum[:], sig) != nil {
			t.Fatalf("accepted a token not signed by the test key: %q", tok)
		}
		// And what it says must agree with a plain, case-sensitive decode
		// of the payload (no parser differential on exp or sub).
		first := strings.IndexByte(tok, '.')
		raw, _ := base64.RawURLEncoding.DecodeString(tok[first+1 : last])
		var plain map[string]any
		if err := json.Unmarshal(raw, &plain); err != nil {
			t.Fatalf("accepted a payload that is not a JSON object: %q", raw)
		}
		exp, ok := plain["exp"].(float64)
		if !ok || plain["sub"] != a.UserID || (exp < 1<<33 && int64(math.Floor(exp)) != a.Expiry.Unix()) {
			t.Fatalf("accepted %q as sub=%q exp=%v", raw, a.UserID, a.Expiry.Unix())
		}
	})
}

// FuzzExtract fuzzes finding the token in the Authorization header and the
// cookies, with a publishable key so that suffixed cookies are read too.
func FuzzExtract(f *testing.F) {
	k := fuzzKey(f)
	good := hGoodToken(f, k, fuzzNow)
	const pk = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k" // suffix naoXFJnI
	f.Add("Bearer "+good, "", uint8(1), "")
	f.Add("bearer "+good, "", uint8(1), "__session=x")
	f.Add("Bearer", "", uint8(1), "")
	f.Add("Bearer    ", "", uint8(1), "__session="+good+"; __client_uat=1")
	f.Add("Basic dXNlcjpwYXNz", "", uint8(1), "__session="+good+"; __client_uat=1700000000")
	f.Add("Bearer a", "Bearer b", uint8(2), "")
	f.Add("", "", uint8(0), "__session="+good+"; __client_uat=0")
	f.Add("", "", uint8(0), "__client_uat=1")
	f.Add("", "", uint8(0), `__session="`+good+`"; __client_uat=-5; __session=other`)
	f.Add("", "", uint8(0), "__session_naoXFJnI="+good+"; __client_uat_naoXFJnI=1700000000; __session=old; __client_uat=0")
	f.Add("", "", uint8(0), "__session_naoXFJnI=; __client_uat_naoXFJnI=; __session=x; __client_uat=9")
	f.Add("", "", uint8(0), ";;;=;__=;__session;__client_uat=99999999999999999999")
	m, err := New(Options{JWTKey: hPemOf(k), PublishableKey: pk, Logger: hQuietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	f.Fuzz(func(t *testing.T, authz1, authz2 string, nAuthz uint8, cookie string) {
		r := &http.Request{Header: http.Header{}}
		switch nAuthz % 3 {
		case 1:
			r.Header["Authorization"] = []string{authz1}
		case 2:
			r.Header["Authorization"] = []string{authz1, authz2}
		}
		if cookie != "" {
			r.Header["Cookie"] = []string{cookie}
		}
		var tok string
		var uat int64
		var aerr *AuthError
		n := hAllocated(func() { tok, uat, aerr = m.c.extract(r) })
		if n > hAllocBound(len(authz1)+len(authz2)+len(cookie)) {
			t.Fatalf("%d bytes allocated", n)
		}
		if aerr != nil {
			if tok != "" || uat != 0 || aerr.Reason == "" {
				t.Fatalf("error %v with token %q uat %d", aerr, tok, uat)
			}
			return
		}
		if tok == "" {
			t.Fatal("no error and no token")
		}
		switch nAuthz % 3 {
		case 2:
			t.Fatal("two Authorization headers accepted")
		case 1:
			if uat == 0 {
				if !strings.Contains(authz1, tok) {
					t.Fatalf("header token %q not from the header %q", tok, authz1)
				}
				return
			}
		}
		// Cookie path: the token comes from the cookie line read as node
		// reads it (latin1: a byte from 0x80 up is that character), and
		// percent-decoded when it holds a '%', with a uat.
		if uat <= 0 || !strings.Contains(latin1Of(cookie), tok) && !strings.Contains(cookie, "%") || strings.ContainsAny(tok, ";") {
			t.Fatalf("cookie token %q uat %d from %q", tok, uat, cookie)
		}
	})
}

// FuzzClaimsV2 fuzzes the v2 organization claims (fea, per, fpm) both on
// their own and inside a whole payload through the claim checks.
func FuzzClaimsV2(f *testing.F) {
	f.Add("o:repositories,uo:projects", "read,create,update,delete,revoke", "7,21", "admin", 2)
	f.Add("u:pro,o:a,ou:b,uo:c", "x", "1,0,18446744073709551615", "org:admin", 2)
	f.Add("o:a", "p,q", "-1", "", 2)
	f.Add(",,,:,o:,:o", ",,", "1,,2,", "r", 1)
	f.Add("o:a,o:a", strings.Repeat("p,", 70), "18446744073709551615,18446744073709551616", "r", 2)
	f.Add("o:a", "p", "1e3", "r", 0)
	m, err := New(Options{JWTKey: hPemOf(fuzzKey(f)), Logger: hQuietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	f.Fuzz(func(t *testing.T, fea, per, fpm, rol string, v int) {
		var perms []string
		n := hAllocated(func() { perms = claims.OrgPermissions(fea, per, fpm) })
		// Output is at most one entry per (organization feature, permission)
		// pair, and each entry is built from input substrings.
		nFeat := strings.Count(fea, ",") + 1
		nPer := strings.Count(per, ",") + 1
		if len(perms) > nFeat*nPer {
			t.Fatalf("%d permissions from %d features and %d permissions", len(perms), nFeat, nPer)
		}
		if n > 4*hAllocBound(len(fea)+len(per)+len(fpm))+uint64(len(perms))*uint64(len(fea)+len(per)+16) {
			t.Fatalf("%d bytes allocated", n)
		}
		orgFeatures := map[string]bool{}
		for e := range strings.SplitSeq(fea, ",") {
			if scope, name, ok := strings.Cut(claims.TrimJS(e), ":"); ok && strings.Contains(scope, "o") {
				orgFeatures[name] = true
			}
		}
		permNames := map[string]bool{}
		for p := range strings.SplitSeq(per, ",") {
			permNames[claims.TrimJS(p)] = true
		}
		for _, p := range perms {
			// Names may themselves hold ':' (a regression seed has per ":"),
			// so try every (feature, permission) pair rather than a split.
			made := false
			for name := range orgFeatures {
				for perm := range permNames {
					if p == "org:"+name+":"+perm {
						made = true
					}
				}
			}
			if !made {
				t.Fatalf("permission %q not made of fea %q and per %q", p, fea, per)
			}
		}

		// The same claims inside a payload, through the claim checks.
		payload, _ := json.Marshal(map[string]any{
			"sub": "user_1", "exp": fuzzNow.Unix() + 60, "v": v, "fea": fea,
			"o": map[string]string{"id": "org_1", "rol": rol, "per": per, "fpm": fpm},
		})
		var c claims.Session
		if err := readSessionClaims(string(payload), &c); err != nil {
			t.Fatal(err)
		}
		got, aerr := m.c.checkClaims(&c, m.c.keys.static)
		scoped := claims.AllScoped(claims.SplitList(fea))
		switch {
		case v == 2 && !scoped:
			// Clerk's splitByScope throws on such a fea.
			if aerr != errFeaUnscoped {
				t.Fatalf("fea %q accepted: %v", fea, aerr)
			}
			return
		case aerr != nil:
			t.Fatalf("valid claims rejected: %v", aerr)
		case v != 2:
			// Clerk reads any other v as a v1 token: "o" is ignored.
			if got.auth.OrgID != "" || got.auth.OrgPermissions != nil {
				t.Fatalf("v %d: org %q from a v2 claim", v, got.auth.OrgID)
			}
			return
		}
		if got.auth.OrgID != "org_1" || len(got.auth.OrgPermissions) != len(perms) {
			t.Fatalf("org %q with %d permissions, want org_1 with %d", got.auth.OrgID, len(got.auth.OrgPermissions), len(perms))
		}
		// The role as it arrives through JSON (invalid UTF-8 becomes U+FFFD).
		var wantRol string
		b, _ := json.Marshal(rol)
		json.Unmarshal(b, &wantRol)
		if rol != "" && got.auth.OrgRole != "org:"+wantRol {
			t.Fatalf("role %q, want %q", got.auth.OrgRole, "org:"+wantRol)
		}
	})
}

// FuzzParsePublishableKey fuzzes publishable key decoding.
func FuzzParsePublishableKey(f *testing.F) {
	for _, s := range []string{
		"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20",
		"pk_test_JA", "pk_test_", "pk_live_" + base64.StdEncoding.EncodeToString([]byte("evil.com/x$")),
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte("a\x00b$")), "sk_test_abc", "pk_live_====",
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 300)+"$")),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pk string) {
		host, err := instance.FrontendAPIHost(pk)
		if sfx := instance.CookieSuffix(pk); len(sfx) != 8 {
			t.Fatalf("suffix %q", sfx)
		}
		if err != nil {
			if host != "" || !strings.Contains(err.Error(), "publishable key") {
				t.Fatalf("host %q, error %v", host, err)
			}
			return
		}
		if !strings.HasPrefix(pk, "pk_test_") && !strings.HasPrefix(pk, "pk_live_") {
			t.Fatalf("accepted %q", pk)
		}
		if host == "" || len(host) > 253 || strings.ContainsAny(host, "/?#@$ \x00") {
			t.Fatalf("accepted host %q from %q", host, pk)
		}
		if instance.CheckURL("issuer", "https://"+host) != nil && !strings.Contains(host, ":") {
			t.Fatalf("host %q does not make an https URL", host)
		}
	})
}

// FuzzParseJWTKey fuzzes PEM public key parsing.
func FuzzParseJWTKey(f *testing.F) {
	k := fuzzKey(f)
	p := hPemOf(k)
	der, _ := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	pk1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.priv.PublicKey)})
	body := strings.Join(strings.Split(strings.TrimSpace(p), "\n")[1:len(strings.Split(strings.TrimSpace(p), "\n"))-1], "\n")
	for _, s := range []string{
		p, string(pk1), base64.StdEncoding.EncodeToString(der), body, strings.ReplaceAll(p, "\n", `\n`),
		p + "trailing", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----", "", "-----BEGIN", "AAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var key *rsa.PublicKey
		var err error
		n := hAllocated(func() { key, err = instance.ParsePEMKey(text) })
		if n > hAllocBound(len(text)) {
			t.Fatalf("%d bytes allocated for %d bytes of input", n, len(text))
		}
		if err != nil {
			if key != nil {
				t.Fatal("key and error")
			}
			return
		}
		if key.N.BitLen() < 2048 || key.E < 3 {
			t.Fatalf("accepted a weak key: %d bits, e=%d", key.N.BitLen(), key.E)
		}
	})
}

// FuzzParseJWKS fuzzes the JWKS parser (the body of the key server's
// answer).
func FuzzParseJWKS(f *testing.F) {
	k := fuzzKey(f)
	good := hJwkJSON(k, "RS256", "sig")
	// A 1024-bit modulus (parsing needs no private key).
	small := fmt.Sprintf(`{"kty":"RSA","kid":"small","use":"sig","alg":"RS256","n":"%s","e":"AQAB"}`, hB64.EncodeToString(k.priv.N.Bytes()[:128]))
	f.Add(string(hJwksOf(k)))
	f.Add(`{"keys":[` + good + `,` + small + `]}`)
	f.Add(`{"keys":[` + hJwkJSON(k, "RS256", "enc") + `]}`)
	f.Add(`{"keys":[` + hJwkJSON(k, "PS256", "") + `,` + good + `,` + good + `]}`)
	f.Add(`{"keys":[{"kty":"EC","crv":"P-256","kid":"ec","x":"AA","y":"AA"},{"kty":"oct","k":"c2VjcmV0","kid":"hs"}]}`)
	f.Add(`{"keys":[]}`)
	f.Add(`{"keys":null}`)
	f.Add(`[]`)
	f.Add(`{"keys":[{"kty":"RSA","kid":"x","n":"","e":""}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var set *keySet
		var err error
		n := hAllocated(func() { set, _, err = parseJWKS([]byte(body)) })
		if n > hAllocBound(len(body))*4 {
			t.Fatalf("%d bytes allocated for %d bytes of JWKS", n, len(body))
		}
		if err != nil {
			if set != nil {
				t.Fatal("set and error")
			}
			return
		}
		if len(set.ByKid) == 0 || len(set.ByKid) > jwks.MaxKeys {
			t.Fatalf("%d keys", len(set.ByKid))
		}
		for kid, vk := range set.ByKid {
			if kid == "" || kid != vk.Kid || len(kid) > jwks.MaxKidLen || vk.Pub.N.BitLen() < 2048 {
				t.Fatalf("unusable key %q (%d bits) kept", kid, vk.Pub.N.BitLen())
			}
			if vk.Alg != "" && vk.Alg != "RS256" && vk.Alg != "RS384" && vk.Alg != "RS512" {
				t.Fatalf("key %q with alg %q kept", kid, vk.Alg)
			}
		}
	})
}

// latin1Of is s as node reads a header: every byte from 0x80 up is the
// character of that code point.
func latin1Of(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
