package clerkauth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth/internal/claims"
)

// Fuzz targets of the page-load flows' parsers of untrusted input: query
// strings and the request URL, handshake directives and tokens, the
// unverified claims, and the whole cookie flow.

// FuzzQuery: URLSearchParams parsing and serialization round-trip, and
// the request URL Clerk derives is always a valid absolute URL.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "__clerk_db_jwt=x&x=%20+y", "a=%zz&&=&b", "q=caf%C3%A9&%FF=1", "a=<\"'>`"} {
		f.Add(s, "app.example.com", "www.example.org, x", "https")
	}
	f.Add("x=1", "[::1]:8080", "", "")
	f.Fuzz(func(t *testing.T, rawQuery, host, fwdHost, fwdProto string) {
		pairs := parseQuery(rawQuery)
		again := parseQuery(encodeQuery(pairs))
		if !slices.Equal(pairs, again) {
			t.Fatalf("round trip %q: %q != %q", rawQuery, pairs, again)
		}
		r := httptest.NewRequest(http.MethodGet, "http://placeholder/", nil)
		r.Host = host
		r.URL.RawQuery = rawQuery
		if fwdHost != "" {
			r.Header.Set("X-Forwarded-Host", fwdHost)
		}
		if fwdProto != "" {
			r.Header.Set("X-Forwarded-Proto", fwdProto)
		}
		u := requestURL(r)
		for _, href := range []string{u.href(), u.hrefWithout(cookieDevBrowser)} {
			if strings.ContainsAny(href, " \r\n\t\"<>") {
				t.Fatalf("href %q holds a character a URL escapes", href)
			}
		}
		if u.host != "" && !strings.ContainsAny(u.host, "[]") {
			if _, err := url.Parse(u.hrefWithout()); err != nil {
				t.Fatalf("href %q: %v", u.hrefWithout(), err)
			}
		}
		_ = withParam(u.href(), queryClerkSynced, "true", true)
		_, _, _ = urlOrigin(rawQuery)
		_ = jsNumber(rawQuery)
	})
}

// FuzzHandshakeDirectives: the directives of a handshake payload or
// token, and the session token Clerk reads from them.
func FuzzHandshakeDirectives(f *testing.F) {
	f.Add(`["__session=a.b.c; Path=/","__client_uat=1; Path=/"]`)
	f.Add(`["__session_abc=x=y; Path=/", 1]`)
	f.Add(`[]`)
	f.Add(`"x"`)
	f.Add(`["a\r\nSet-Cookie: x=1"]`)
	f.Fuzz(func(t *testing.T, raw string) {
		ds, err := parseDirectives(json.RawMessage(raw))
		if err != nil {
			return
		}
		if len(ds) > maxDirectives {
			t.Fatalf("%d directives", len(ds))
		}
		for _, d := range ds {
			if strings.ContainsAny(d, "\r\n") {
				t.Fatalf("directive with a line break: %q", d)
			}
		}
		if tok := sessionFromDirectives(ds); strings.ContainsAny(tok, ";=") {
			t.Fatalf("session token %q holds a separator", tok)
		}
	})
}

// FuzzHandshakeToken: only a token signed by the instance's key gives
// directives.
func FuzzHandshakeToken(f *testing.F) {
	k := fuzzKey(f)
	sign := func(payload string) string {
		return hSignRaw(f, k, "RS256", []byte(`{"alg":"RS256","kid":"`+k.kid+`","typ":"JWT"}`), []byte(payload), nil)
	}
	f.Add(sign(`{"handshake":["__session=a.b.c; Path=/"]}`))
	f.Add(sign(`{"handshake":"x"}`))
	f.Add(sign(`{"handshake":[1,2]}`))
	f.Add(sign(`[]`))
	f.Add("a.b.c")
	m, err := New(Options{JWTKey: hPemOf(k), Logger: hQuietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	f.Fuzz(func(t *testing.T, tok string) {
		ds, err := m.verifyHandshakeToken(t.Context(), tok)
		if err != nil {
			return
		}
		last := strings.LastIndexByte(tok, '.')
		sig, derr := base64.RawURLEncoding.Strict().DecodeString(tok[last+1:])
		sum := sha256.Sum256([]byte(tok[:last]))
		if derr != nil || rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, sum[:], sig) != nil {
			t.Fatalf("directives %q from a token not signed by the key: %q", ds, tok)
		}
	})
}

// FuzzUnverifiedIat: the JavaScript conversion of an unverified iat.
func FuzzUnverifiedIat(f *testing.F) {
	for _, s := range []string{`1`, `"12"`, `null`, `true`, `""`, `[5]`, `["7"]`, `{}`, `"0x10"`, `" 3 "`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, iat string) {
		tok := hB64.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + hB64.EncodeToString([]byte(`{"iat":`+iat+`}`)) + ".x"
		u := claims.DecodeUnverified(tok)
		if u.IatJSOK && u.IatJS != u.IatJS {
			t.Fatalf("iat %s: NaN reported as a number", iat)
		}
	})
}

// FuzzPageLoad runs the whole cookie flow (handshake on, a development
// instance) on fuzzed cookies, query and headers: it never panics, every
// state is consistent, and a redirect only answers an eligible request.
func FuzzPageLoad(f *testing.F) {
	k := fuzzKey(f)
	toks := seedTokens(f, k)
	bapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":[{"code":"resource_not_found"}]}`))
	}))
	f.Cleanup(bapi.Close)
	// Every request is reported exactly once, with the verdict it got.
	var events []AuthenticationEvent
	m, err := New(Options{JWTKey: hPemOf(k), SecretKey: "sk_test_fuzz", APIURL: bapi.URL,
		PublishableKey: "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", Now: hFixedClock(fuzzNow), Logger: hQuietLogger(),
		Getenv:   func(string) string { return "" },
		Observer: &Observer{Authentication: func(e AuthenticationEvent) { events = append(events, e) }}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	f.Add("__session="+toks[0]+"; __client_uat=1; __clerk_db_jwt=d", "", "document", "GET")
	f.Add("__client_uat=1", "__clerk_db_jwt=x&__clerk_synced=false", "", "GET")
	f.Add("__clerk_redirect_count=2; __session=a.b.c; __client_uat=9", "__clerk_redirect_url=https%3A%2F%2Fs.net%2F", "iframe", "GET")
	f.Add("__clerk_handshake_nonce=n1", "__clerk_handshake="+toks[0], "document", "POST")
	f.Fuzz(func(t *testing.T, cookieLine, rawQuery, dest, method string) {
		if !validMethod(method) {
			method = http.MethodGet
		}
		r := httptest.NewRequest(method, "http://app.example.com/p", nil)
		r.URL.RawQuery = rawQuery
		r.Header.Set("Cookie", cookieLine)
		if dest != "" {
			r.Header.Set("Sec-Fetch-Dest", dest)
		}
		w := httptest.NewRecorder()
		events = events[:0]
		a, handled := m.AuthenticateResponse(w, r)
		eligible := method == http.MethodGet && (dest == "document" || dest == "iframe")
		verdict := "signed-out"
		switch {
		case a.IsSignedIn():
			verdict = "signed-in"
		case errors.Is(a.Err(), ErrHandshake):
			verdict = "handshake"
		}
		if len(events) != 1 || events[0].Verdict != verdict || events[0].Reason != a.Reason() {
			t.Fatalf("%s %s: reported %+v", verdict, a.Reason(), events)
		}
		switch {
		case a.IsSignedIn() && a.Err() != nil:
			t.Fatalf("signed in with an error %v", a.Err())
		case !a.IsSignedIn() && a.Reason() == "":
			t.Fatal("signed out without a reason")
		case handled && w.Code != http.StatusTemporaryRedirect:
			t.Fatalf("handled with %d", w.Code)
		case handled && !eligible && !strings.Contains(rawQuery+cookieLine, "__clerk_handshake"):
			// (a handshake is resolved on any request: on a development
			// instance with a 307 to the clean URL)
			t.Fatalf("a request that is not a page load was redirected (%s %q)", method, dest)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
