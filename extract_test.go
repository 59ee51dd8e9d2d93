package clerkauth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth/internal/instance"
	"github.com/clerkauth/clerkauth/internal/reason"
)

// TestExtractAsClerk drives a real middleware (PEM key, publishable key
// for clerk.example.com, frozen clock) through the request shapes where
// Clerk's authenticateContext decides which token counts. Each case names
// the token that must sign in (by its sub) or the reason it is refused.
func TestExtractAsClerk(t *testing.T) {
	const pkLive = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k" // suffix naoXFJnI
	const pkTest = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
	sfxOf := map[string]string{pkLive: instance.CookieSuffix(pkLive), pkTest: instance.CookieSuffix(pkTest)}
	now := testNow.Unix()
	tok := func(sub string, iat int64, extra map[string]any) string {
		c := map[string]any{"sub": sub, "iat": iat, "nbf": iat - 5, "exp": iat + 60}
		for k, v := range extra {
			c[k] = v
		}
		return makeToken(t, testNow, tokenSpec{claims: c})
	}
	newTok := tok("user_new", now-1, nil)
	oldTok := tok("user_old", now-30, nil)
	expiredSfx := tok("user_exp", now-100, nil) // exp now-40
	foreign := tok("user_foreign", now-1, map[string]any{"iss": "https://clerk.other.com"})
	noIss := tok("user_noiss", now-1, map[string]any{"iss": nil})
	uatOld := fmt.Sprint(now - 200)
	issTok := func(iss string) string { return tok("user_iss", now-1, map[string]any{"iss": iss}) }
	bigIss := issTok(strings.Repeat("https://", maxTokenSize/8) + "clerk.example.com")

	type tc struct {
		name   string
		pk     string
		authz  string
		cookie string // "$" stands for the suffix
		want   string // "sub:user_x" or a reason
	}
	cases := []tc{
		// Authorization header.
		{"header/bearer", pkLive, "Bearer " + newTok, "", "sub:user_new"},
		{"header/bare token (SEC-340)", pkLive, newTok, "", "sub:user_new"},
		{"header/bare token beats cookie", pkLive, newTok, "__session=" + oldTok + "; __client_uat=" + uatOld, "sub:user_new"},
		{"header/Basic reads the cookies", pkLive, "Basic dXNlcjpwYXNz", "__session=" + oldTok + "; __client_uat=" + uatOld, "sub:user_old"},
		{"header/Basic without cookies", pkLive, "Basic dXNlcjpwYXNz", "", ReasonTokenAndUATMissing},
		{"header/scheme word alone", pkLive, "Basic", "__session=" + oldTok + "; __client_uat=" + uatOld, ReasonTokenInvalid},
		{"header/Bearer alone", pkLive, "Bearer", "", ReasonTokenInvalid},
		{"header/two spaces", pkLive, "Bearer  " + newTok, "", ReasonTokenInvalid},
		{"header/trailing words ignored", pkLive, "Bearer " + newTok + " extra", "", "sub:user_new"},
		{"header/bad bearer token hides a good cookie", pkLive, "Bearer x.y.z", "__session=" + oldTok + "; __client_uat=" + uatOld, ReasonTokenInvalid},

		// Repeated cookies: the first value counts, even empty.
		{"repeat/empty session first", pkLive, "", "__session=; __session=" + newTok + "; __client_uat=" + uatOld, ReasonClientUATButNoToken},
		{"repeat/empty uat first", pkLive, "", "__session=" + newTok + "; __client_uat=; __client_uat=" + uatOld, ReasonTokenButNoClientUAT},
		{"repeat/uat 0 first", pkLive, "", "__session=" + newTok + "; __client_uat=0; __client_uat=" + uatOld, ReasonTokenButNoClientUAT},
		{"repeat/session first wins", pkLive, "", "__session=" + oldTok + "; __session=" + newTok + "; __client_uat=" + uatOld, "sub:user_old"},
		{"repeat/empty suffixed session first", pkLive, "", "__session_$=; __session_$=" + newTok + "; __client_uat_$=" + uatOld, ReasonClientUATButNoToken},
		{"repeat/empty suffixed uat first", pkLive, "", "__session_$=" + newTok + "; __client_uat_$=; __client_uat_$=" + uatOld + "; __client_uat=" + uatOld, ReasonClientUATButNoToken},

		// Values: quotes kept (a quoted token is not a token), percent-decoded.
		{"value/quoted token", pkLive, "", `__session="` + newTok + `"; __client_uat=` + uatOld, ReasonTokenInvalid},
		{"value/quoted uat", pkLive, "", "__session=" + newTok + `; __client_uat="` + uatOld + `"`, ReasonTokenButNoClientUAT},
		{"value/percent-encoded letters", pkLive, "", "__session=%65%79" + newTok[2:] + "; __client_uat=" + uatOld, "sub:user_new"},
		{"value/percent-encoded dot", pkLive, "", "__session=" + strings.Replace(newTok, ".", "%2E", 1) + "; __client_uat=" + uatOld, "sub:user_new"},
		{"value/bad escape kept raw", pkLive, "", "__session=" + newTok + "%zz; __client_uat=" + uatOld, ReasonTokenInvalid},
		{"value/percent-encoded uat", pkLive, "", "__session=" + newTok + "; __client_uat=%31" + uatOld[1:], "sub:user_new"},
		{"value/uat with trailing junk (parseInt)", pkLive, "", "__session=" + newTok + "; __client_uat=" + uatOld + "abc", "sub:user_new"},
		{"value/uat newer than token", pkLive, "", fmt.Sprintf("__session=%s; __client_uat=%d", oldTok, now-10), ReasonTokenIATBeforeClientUAT},

		// Suffixed or unsuffixed pair (usesSuffixedCookies, in its order).
		{"sfx/same pair", pkLive, "", "__session=" + newTok + "; __client_uat=" + uatOld + "; __session_$=" + newTok + "; __client_uat_$=" + uatOld, "sub:user_new"},
		{"sfx/only suffixed", pkLive, "", "__session_$=" + newTok + "; __client_uat_$=" + uatOld, "sub:user_new"},
		{"sfx/older clerk-js wrote only unsuffixed", pkLive, "", "__session=" + newTok + "; __client_uat=" + uatOld + "; __session_$=" + oldTok + "; __client_uat_$=" + uatOld, "sub:user_new"},
		{"sfx/suffixed newer", pkLive, "", "__session=" + oldTok + "; __client_uat=" + uatOld + "; __session_$=" + newTok + "; __client_uat_$=" + uatOld, "sub:user_new"},
		{"sfx/suffixed signed out, unsuffixed in", pkLive, "", "__session=" + oldTok + "; __client_uat=" + uatOld + "; __session_$=" + newTok + "; __client_uat_$=0", "sub:user_old"},
		{"sfx/unsuffixed without iss", pkLive, "", "__session=" + noIss + "; __client_uat=" + uatOld + "; __session_$=" + newTok + "; __client_uat_$=" + uatOld, ReasonTokenInvalidIssuer},
		{"sfx/unsuffixed from another instance", pkLive, "", "__session=" + foreign + "; __client_uat=" + uatOld + "; __session_$=" + oldTok + "; __client_uat_$=" + uatOld, "sub:user_old"},
		{"sfx/suffixed session without suffixed uat", pkLive, "", "__session=" + oldTok + "; __client_uat=" + uatOld + "; __session_$=" + newTok, "sub:user_old"},
		{"sfx/production: suffixed in, unsuffixed out", pkLive, "", "__client_uat=0; __session_$=" + expiredSfx + "; __client_uat_$=" + uatOld, ReasonTokenExpired},
		{"sfx/development: expired suffixed, unsuffixed out", pkTest, "", "__client_uat=0; __session_$=" + expiredSfx + "; __client_uat_$=" + uatOld, ReasonTokenAndUATMissing},
		{"sfx/development: fresh suffixed, unsuffixed out", pkTest, "", "__client_uat=0; __session_$=" + newTok + "; __client_uat_$=" + uatOld, "sub:user_new"},
		{"sfx/other suffix ignored", pkLive, "", "__session_zzzzzzzz=" + newTok + "; __client_uat_zzzzzzzz=" + uatOld, ReasonTokenAndUATMissing},

		// The issuer test strips /https?:\/\//gi in one pass, as Clerk:
		// a removal that joins "ht" and "tps://" leaves a scheme behind.
		{"iss/joined scheme is another instance", pkLive, "", "__session=" + issTok("hthttps://tps://clerk.example.com") + "; __client_uat=" + uatOld + "; __session_$=" + oldTok + "; __client_uat_$=" + uatOld, "sub:user_old"},
		{"iss/upper-case scheme is this instance (the pair is chosen, its issuer then refused)", pkLive, "", "__session=" + issTok("HtTpS://clerk.example.com") + "; __client_uat=" + uatOld + "; __session_$=" + oldTok + "; __client_uat_$=" + uatOld, reason.TokenInvalidIssuer},
		{"iss/every scheme removed", pkLive, "", "__session=" + issTok("https://clerk.exahttp://mple.comHTTPS://") + "; __client_uat=" + uatOld + "; __session_$=" + oldTok + "; __client_uat_$=" + uatOld, reason.TokenInvalidIssuer},
		// A cookie token over the size cap is not decoded: malformed, so
		// its (unsuffixed) pair is chosen and refused as too large.
		{"size/oversized unsuffixed token", pkLive, "", "__session=" + bigIss + "; __client_uat=" + uatOld + "; __client_uat_$=" + uatOld, reason.TokenInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := pemMiddleware(t, func(o *Options) { o.PublishableKey = c.pk })
			r := httptest.NewRequest("GET", "/", nil)
			if c.authz != "" {
				r.Header.Set("Authorization", c.authz)
			}
			if c.cookie != "" {
				r.Header.Set("Cookie", strings.ReplaceAll(c.cookie, "$", sfxOf[c.pk]))
			}
			var got string
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if a := GetAuth(r); a.IsSignedIn() {
					got = "sub:" + a.UserID
				} else {
					got = a.Reason()
				}
			})).ServeHTTP(httptest.NewRecorder(), r)
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestAuthMessage: every signed-out response with a token verification
// reason carries X-Clerk-Auth-Message, from a fixed text that holds no
// part of the token; the cookie rules carry none, as in Clerk.
func TestAuthMessage(t *testing.T) {
	m := pemMiddleware(t, nil)
	h := m.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	expired := makeToken(t, testNow, tokenSpec{claims: map[string]any{"exp": testNow.Unix() - 100, "sub": "user_secretmarker"}})
	for _, c := range []struct {
		name, authz, cookie, reason string
		message                     bool
	}{
		{"expired", "Bearer " + expired, "", ReasonTokenExpired, true},
		{"garbage", "Bearer user_secretmarker.x.y", "", ReasonTokenInvalid, true},
		{"no token", "", "", ReasonTokenAndUATMissing, false},
		{"cookie without uat", "", "__session=" + expired, ReasonTokenButNoClientUAT, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.authz != "" {
			r.Header.Set("Authorization", c.authz)
		}
		if c.cookie != "" {
			r.Header.Set("Cookie", c.cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		msg := rec.Header().Get("X-Clerk-Auth-Message")
		if rec.Header().Get("X-Clerk-Auth-Reason") != c.reason || (msg != "") != c.message ||
			strings.Contains(msg, "secretmarker") || strings.Contains(msg, expired[:20]) {
			t.Errorf("%s: reason %q message %q", c.name, rec.Header().Get("X-Clerk-Auth-Reason"), msg)
		}
		if msg != "" && msg != reason.Message(c.reason) {
			t.Errorf("%s: message %q not the fixed one", c.name, msg)
		}
	}
}

// TestIssuerIsHost: the issuer test gives JavaScript's verdict for
// iss.replace(/https?:\/\//gi, ”) === host (verdicts taken from node).
func TestIssuerIsHost(t *testing.T) {
	const host = "clerk.example.com"
	for iss, want := range map[string]bool{
		"https://clerk.example.com":               true,
		"clerk.example.com":                       true,
		"https://https://clerk.example.com":       true,
		"HtTpS://clerk.example.com":               true,
		"httpS://clerk.example.com":               true,
		"clerk.example.comhttp://":                true,
		"https://clerk.exahttps://mple.com":       true,
		"hthttps://tps://clerk.example.com":       false, // the joined "https://" stays
		"hthttp://tp://clerk.example.com":         false,
		"httpshttps://://clerk.example.com":       false,
		"http:/clerk.example.com":                 false,
		"\u017fhttps://clerk.example.com":         false, // long s: no Unicode folding
		"https:\u017f//clerk.example.com":         false,
		"https://clerk.example.co":                false,
		"https://clerk.example.comm":              false,
		"":                                        false,
		"https://":                                false,
		"https://clerk.example.com/":              false,
		"https://CLERK.example.com":               false,
		"http://http://https://clerk.example.com": true,
	} {
		if got := issuerIsHost(iss, host); got != want {
			t.Errorf("issuerIsHost(%q) = %v, want %v", iss, got, want)
		}
	}
}

// FuzzIssuerIsHost checks the one-pass issuer test against Go's regexp
// with the same (ASCII-folded) pattern, which replaces leftmost-first and
// without re-scanning, as JavaScript's String.replace with /g.
func FuzzIssuerIsHost(f *testing.F) {
	for _, s := range []string{"hthttps://tps://a.b", "HTTP://a.b", "a.bhttps://", "https:/a.b", "http://https://"} {
		f.Add(s, "a.b")
	}
	re := regexp.MustCompile(`[hH][tT][tT][pP][sS]?://`)
	f.Fuzz(func(t *testing.T, iss, host string) {
		if got, want := issuerIsHost(iss, host), re.ReplaceAllString(iss, "") == host; got != want {
			t.Fatalf("issuerIsHost(%q, %q) = %v, want %v", iss, host, got, want)
		}
	})
}

// TestCookieHeaderCost: everything done with a Cookie header before a
// signature check is linear in its size with a small constant. A hostile
// header (an unverified token whose iss repeats "https://", percent
// escapes, many cookies, many lines) costs at most 8 bytes allocated per
// byte of header, up to net/http's 1 MiB header limit, under RequireAuth
// and under Handler on a public route, with and without Clerk's page-load
// flows (secret key set; a document request). Bytes are counted, not time.
func TestCookieHeaderCost(t *testing.T) {
	const pk = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"
	sfx := instance.CookieSuffix(pk)
	m := pemMiddleware(t, func(o *Options) { o.PublishableKey = pk })
	// With the secret key too (README's set-up), Clerk's page-load flows
	// run; its Backend API answers 500 to whatever they might ask.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer api.Close()
	pages := pemMiddleware(t, func(o *Options) { o.PublishableKey, o.SecretKey, o.APIURL = pk, "sk_live_0123456789abcdef", api.URL })
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	nothing := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	routes := []struct {
		name     string
		h        http.Handler
		pageLoad bool
	}{
		{"RequireAuth", m.RequireAuth(nothing), false},
		{"Handler, public route", m.Handler(notFound), false},
		{"RequireAuth with page-load flows, a page load", pages.RequireAuth(nothing), true},
		{"Handler with page-load flows, a page load", pages.Handler(notFound), true},
		{"Handler with page-load flows, an API call", pages.Handler(notFound), false},
	}
	valid := makeToken(t, testNow, tokenSpec{})
	uats := "; __client_uat=1; __client_uat_" + sfx + "=1"
	// unsignedIss is a JWT (bad signature) whose iss is the instance's
	// host followed by "https://" repeated, about n bytes long encoded.
	unsignedIss := func(n int) string {
		iss := "clerk.example.com" + strings.Repeat("https://", n*3/4/8)
		return b64([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
			b64([]byte(`{"iss":"`+iss+`","iat":1,"sub":"user_x"}`)) + ".c2ln"
	}
	shapes := map[string]func(n int) []string{
		"iss of https:// (issue 17)": func(n int) []string {
			return []string{"__session=" + unsignedIss(n) + uats}
		},
		"both pairs hostile": func(n int) []string {
			return []string{"__session=" + unsignedIss(n/2) + "; __session_" + sfx + "=" + unsignedIss(n/2) + uats}
		},
		"hostile suffixed, valid unsuffixed": func(n int) []string {
			return []string{"__session=" + valid + "; __session_" + sfx + "=" + unsignedIss(n) + uats}
		},
		"percent escapes": func(n int) []string {
			return []string{"__session=" + strings.ReplaceAll(unsignedIss(n), ".", "%2E") + uats}
		},
		"many cookies": func(n int) []string {
			return []string{strings.Repeat("__a=b; ", (n-2048)/7) + "__session=" + valid + uats}
		},
		"many lines": func(n int) []string {
			lines := make([]string, n/32)
			for i := range lines {
				lines[i] = "__session_" + sfx + "=x.y.z; __b=c"
			}
			return append(lines, "__session="+valid+uats)
		},
		"two tokens at the cap": func(n int) []string {
			return []string{"__session=" + unsignedIss(maxTokenSize-100) + "; __session_" + sfx + "=" + unsignedIss(maxTokenSize-100) + uats}
		},
	}
	for _, size := range []int{16 << 10, 87 << 10, 437 << 10, 1<<20 - 4096} {
		for name, shape := range shapes {
			lines := shape(size)
			n := 0
			for _, l := range lines {
				n += len(l)
			}
			if n > 1<<20 {
				t.Fatalf("%s: %d bytes of header, over 1 MiB", name, n)
			}
			for _, rt := range routes {
				perByte := float64(bytesAllocated(func() {
					r := httptest.NewRequest("GET", "/x", nil)
					r.Header["Cookie"] = lines
					if rt.pageLoad {
						r.Header.Set("Accept", "text/html")
						r.Header.Set("Sec-Fetch-Dest", "document")
					}
					rt.h.ServeHTTP(httptest.NewRecorder(), r)
				})) / float64(n)
				if perByte > 8 {
					t.Fatalf("%s, %d bytes, %s: %.1f bytes allocated per byte of Cookie header, want <= 8", name, n, rt.name, perByte)
				}
				t.Logf("%s, %d bytes, %s: %.2f bytes allocated per header byte", name, n, rt.name, perByte)
			}
		}
	}
}

// bytesAllocated is the fewest bytes f allocated in three runs (other
// goroutines may allocate meanwhile; the minimum is f's own).
func bytesAllocated(f func()) uint64 {
	best := ^uint64(0)
	var before, after runtime.MemStats
	for range 3 {
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		best = min(best, after.TotalAlloc-before.TotalAlloc)
	}
	return best
}
