package clerkauth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth/internal/reason"

	"github.com/clerkauth/clerkauth/internal/instance"
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
