package clerkauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/instance"
)

var testNow = time.Unix(1_760_000_000, 0)

// pemMiddleware verifies with the PEM key of testKey(0): no network.
func pemMiddleware(t testing.TB, mod func(*Options)) *Middleware {
	t.Helper()
	o := Options{JWTKey: pemOf(t, &testKey(t, 0).PublicKey), Now: fixedClock(testNow)}
	if mod != nil {
		mod(&o)
	}
	return newMiddleware(t, o)
}

func TestAuthenticateReasons(t *testing.T) {
	now := testNow
	other := testKey(t, 1)
	cases := []struct {
		name   string
		opts   func(*Options)
		spec   tokenSpec
		raw    string // used instead of spec when set
		reason string
		kind   error
	}{
		{name: "valid", spec: tokenSpec{}},
		{name: "malformed", raw: "not-a-token", reason: ReasonTokenInvalid, kind: ErrTokenInvalid},
		{name: "too large", raw: strings.Repeat("a", maxTokenSize+1), reason: ReasonTokenInvalid, kind: ErrTokenInvalid},
		{name: "typ not JWT", spec: tokenSpec{header: map[string]any{"typ": "JOSE"}}, reason: ReasonTokenInvalid, kind: ErrTokenInvalid},
		{name: "typ at+jwt", spec: tokenSpec{header: map[string]any{"typ": "at+jwt"}}, reason: ReasonTokenTypeMismatch, kind: ErrTokenInvalid},
		{name: "template cat", spec: tokenSpec{header: map[string]any{"cat": "cl_B7d4PD222AAA"}}, reason: ReasonTokenTypeMismatch, kind: ErrTokenInvalid},
		{name: "no cat is fine", spec: tokenSpec{header: map[string]any{"cat": nil}}},
		{name: "crit", spec: tokenSpec{header: map[string]any{"crit": []string{"exp"}}}, reason: ReasonTokenInvalid, kind: ErrTokenInvalid},
		{name: "alg none", spec: tokenSpec{header: map[string]any{"alg": "none"}}, reason: ReasonTokenInvalidAlgorithm, kind: ErrTokenInvalid},
		{name: "alg HS256", spec: tokenSpec{header: map[string]any{"alg": "HS256"}}, reason: ReasonTokenInvalidAlgorithm, kind: ErrTokenInvalid},
		{name: "alg RS512 with RS256 key", spec: tokenSpec{header: map[string]any{"alg": "RS512"}}, reason: ReasonTokenInvalidAlgorithm, kind: ErrTokenInvalid},
		{name: "other key", spec: tokenSpec{key: other}, reason: ReasonTokenInvalidSignature, kind: ErrTokenInvalid},
		{name: "machine sub", spec: tokenSpec{claims: map[string]any{"sub": "mch_123"}}, reason: ReasonTokenTypeMismatch, kind: ErrTokenInvalid},
		{name: "sub missing", spec: tokenSpec{claims: map[string]any{"sub": nil}}, reason: ReasonTokenVerificationFailed, kind: ErrTokenInvalid},
		{name: "sub number", spec: tokenSpec{claims: map[string]any{"sub": 42}}, reason: ReasonTokenVerificationFailed, kind: ErrTokenInvalid},
		{name: "exp missing", spec: tokenSpec{claims: map[string]any{"exp": nil}}, reason: ReasonTokenVerificationFailed, kind: ErrTokenInvalid},
		{name: "exp string", spec: tokenSpec{claims: map[string]any{"exp": "9999999999"}}, reason: ReasonTokenVerificationFailed, kind: ErrTokenInvalid},
		{name: "expired", spec: tokenSpec{claims: map[string]any{"exp": now.Unix() - 10}}, reason: ReasonTokenExpired, kind: ErrTokenExpired},
		{name: "expired within skew", spec: tokenSpec{claims: map[string]any{"exp": now.Unix() - 4}}},
		{name: "expired at skew edge", spec: tokenSpec{claims: map[string]any{"exp": now.Unix() - 5}}, reason: ReasonTokenExpired, kind: ErrTokenExpired},
		{name: "no skew", opts: func(o *Options) { o.ClockSkew = -1 }, spec: tokenSpec{claims: map[string]any{"exp": now.Unix()}}, reason: ReasonTokenExpired, kind: ErrTokenExpired},
		{name: "nbf future", spec: tokenSpec{claims: map[string]any{"nbf": now.Unix() + 30}}, reason: ReasonSessionTokenNBF, kind: ErrTokenInvalid},
		{name: "nbf within skew", spec: tokenSpec{claims: map[string]any{"nbf": now.Unix() + 4}}},
		{name: "iat future", spec: tokenSpec{claims: map[string]any{"iat": now.Unix() + 30}}, reason: ReasonSessionTokenIATInTheFuture, kind: ErrTokenInvalid},
		{name: "azp listed", opts: func(o *Options) { o.AuthorizedParties = []string{"https://app.example.com"} }},
		{name: "azp unlisted", opts: func(o *Options) { o.AuthorizedParties = []string{"https://other.example.com"} },
			reason: ReasonTokenInvalidAzp, kind: ErrTokenInvalid},
		{name: "azp missing", opts: func(o *Options) { o.AuthorizedParties = []string{"https://app.example.com"} },
			spec: tokenSpec{claims: map[string]any{"azp": nil}}, reason: ReasonTokenInvalidAzp, kind: ErrTokenInvalid},
		{name: "issuer matches", opts: func(o *Options) { o.Issuer = testIssuer }},
		{name: "issuer differs", opts: func(o *Options) { o.Issuer = "https://clerk.other.com" }, reason: ReasonTokenInvalidIssuer, kind: ErrTokenInvalid},
		{name: "issuer from publishable key", opts: func(o *Options) { o.PublishableKey = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k" }},
		{name: "issuer lookalike", opts: func(o *Options) { o.PublishableKey = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k" },
			spec: tokenSpec{claims: map[string]any{"iss": "https://clerk.example.com.evil.com"}}, reason: ReasonTokenInvalidIssuer, kind: ErrTokenInvalid},
		{name: "pending", spec: tokenSpec{claims: map[string]any{"sts": "pending"}}, reason: ReasonSessionPending, kind: ErrSessionPending},
		{name: "pending accepted", opts: func(o *Options) { o.AcceptPendingSessions = true }, spec: tokenSpec{claims: map[string]any{"sts": "pending"}}},
		{name: "duplicate exp", raw: signRS256(t, testKey(t, 0), []byte(`{"alg":"RS256","typ":"JWT"}`),
			[]byte(`{"sub":"user_1","exp":1,"exp":`+strconv.FormatInt(now.Unix()+60, 10)+`}`)), reason: ReasonTokenInvalid, kind: ErrTokenInvalid},
		{name: "array payload", raw: signRS256(t, testKey(t, 0), []byte(`{"alg":"RS256"}`), []byte(`[1,2]`)), reason: ReasonTokenInvalid, kind: ErrTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := pemMiddleware(t, tc.opts)
			tok := tc.raw
			if tok == "" {
				tok = makeToken(t, now, tc.spec)
			}
			a, err := m.Authenticate(bearer(tok))
			if a == nil {
				t.Fatal("Authenticate returned a nil Auth")
			}
			if tc.reason == "" {
				if err != nil || !a.IsSignedIn() {
					t.Fatalf("want signed in, got %v", err)
				}
				if a.UserID != "user_2abc" || a.SessionID != "sess_2xyz" {
					t.Fatalf("wrong identity: %+v", a)
				}
				return
			}
			if err == nil || a.IsSignedIn() {
				t.Fatalf("want %s, got signed in", tc.reason)
			}
			if got := reasonOf(err); got != tc.reason {
				t.Fatalf("reason = %q (%v), want %q", got, err, tc.reason)
			}
			if a.Reason() != tc.reason {
				t.Fatalf("Auth.Reason = %q, want %q", a.Reason(), tc.reason)
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.kind)
			}
			if a.UserID != "" || a.OrgID != "" || a.Has(Check{Role: "admin"}) {
				t.Fatalf("signed-out Auth has data: %+v", a)
			}
			if strings.Contains(err.Error(), tok) {
				t.Fatal("error message contains the token")
			}
		})
	}
}

func TestPendingKeepsStatus(t *testing.T) {
	m := pemMiddleware(t, nil)
	a, err := m.Authenticate(bearer(makeToken(t, testNow, tokenSpec{claims: map[string]any{"sts": "pending"}})))
	if !errors.Is(err, ErrSessionPending) || a.SessionStatus != "pending" || a.UserID != "" {
		t.Fatalf("got %+v, %v", a, err)
	}
}

func cookieRequest(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func TestTokenSources(t *testing.T) {
	now := testNow
	good := makeToken(t, now, tokenSpec{})
	expired := makeToken(t, now, tokenSpec{claims: map[string]any{"exp": now.Unix() - 60}})
	uat := strconv.FormatInt(now.Unix()-100, 10)
	const pk = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"
	sfx := instance.CookieSuffix(pk)
	cases := []struct {
		name   string
		pk     bool
		req    func() *http.Request
		reason string
	}{
		{"nothing", false, func() *http.Request { return httptest.NewRequest("GET", "/", nil) }, ReasonTokenAndUATMissing},
		{"bearer", false, func() *http.Request { return bearer(good) }, ""},
		{"bearer lowercase scheme", false, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "bearer "+good)
			return r
		}, ""},
		{"bearer empty", false, func() *http.Request {
			r := cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: uat})
			r.Header.Set("Authorization", "Bearer ")
			return r
		}, ReasonTokenInvalid},
		{"two authorization headers", false, func() *http.Request {
			r := bearer(good)
			r.Header.Add("Authorization", "Bearer "+good)
			return r
		}, ReasonTokenInvalid},
		{"bad header wins over good cookie", false, func() *http.Request {
			r := cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: uat})
			r.Header.Set("Authorization", "Bearer "+expired)
			return r
		}, ReasonTokenExpired},
		{"good header wins over expired cookie", false, func() *http.Request {
			r := cookieRequest(&http.Cookie{Name: "__session", Value: expired}, &http.Cookie{Name: "__client_uat", Value: uat})
			r.Header.Set("Authorization", "Bearer "+good)
			return r
		}, ""},
		{"basic scheme falls back to cookie", false, func() *http.Request {
			r := cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: uat})
			r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
			return r
		}, ""},
		{"cookie", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: uat})
		}, ""},
		{"cookie without uat", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: good})
		}, ReasonTokenButNoClientUAT},
		{"cookie with uat 0", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: "0"})
		}, ReasonTokenButNoClientUAT},
		{"uat without cookie", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__client_uat", Value: uat})
		}, ReasonClientUATButNoToken},
		{"uat 0 and no cookie", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__client_uat", Value: "0"})
		}, ReasonTokenAndUATMissing},
		{"iat before uat", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: good},
				&http.Cookie{Name: "__client_uat", Value: strconv.FormatInt(now.Unix(), 10)})
		}, ReasonTokenIATBeforeClientUAT},
		{"expired cookie", false, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: expired}, &http.Cookie{Name: "__client_uat", Value: uat})
		}, ReasonTokenExpired},
		{"suffixed pair preferred", true, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: expired}, &http.Cookie{Name: "__client_uat", Value: uat},
				&http.Cookie{Name: "__session_" + sfx, Value: good}, &http.Cookie{Name: "__client_uat_" + sfx, Value: uat})
		}, ""},
		// Clerk: suffixed uat 0 but unsuffixed uat set -> the unsuffixed pair.
		{"suffixed uat 0, unsuffixed set", true, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: uat},
				&http.Cookie{Name: "__session_" + sfx, Value: good}, &http.Cookie{Name: "__client_uat_" + sfx, Value: "0"})
		}, ""},
		{"unsuffixed when no suffixed", true, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session", Value: good}, &http.Cookie{Name: "__client_uat", Value: uat})
		}, ""},
		{"other suffix ignored", true, func() *http.Request {
			return cookieRequest(&http.Cookie{Name: "__session_zzzzzzzz", Value: good}, &http.Cookie{Name: "__client_uat_zzzzzzzz", Value: uat})
		}, ReasonTokenAndUATMissing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := pemMiddleware(t, func(o *Options) {
				if tc.pk {
					o.PublishableKey = pk
				}
			})
			a, err := m.Authenticate(tc.req())
			if got := reasonOf(err); got != tc.reason {
				t.Fatalf("reason = %q (%v), want %q", got, err, tc.reason)
			}
			if (tc.reason == "") != a.IsSignedIn() {
				t.Fatalf("IsSignedIn = %v", a.IsSignedIn())
			}
		})
	}
}

func TestCookieSuffix(t *testing.T) {
	if got := instance.CookieSuffix("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"); got != "naoXFJnI" {
		t.Fatalf("CookieSuffix = %q, want naoXFJnI (clerk.md example)", got)
	}
}

func TestRequireAuthResponses(t *testing.T) {
	m := pemMiddleware(t, nil)
	ran := 0
	h := m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		io.WriteString(w, GetAuth(r).UserID)
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, bearer(makeToken(t, testNow, tokenSpec{})))
	if rec.Code != 200 || rec.Body.String() != "user_2abc" || ran != 1 {
		t.Fatalf("signed in: %d %q", rec.Code, rec.Body)
	}

	tok := makeToken(t, testNow, tokenSpec{claims: map[string]any{"exp": testNow.Unix() - 100}})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, bearer(tok))
	if rec.Code != 401 || rec.Body.String() != `{"error":"Not authenticated"}` || ran != 1 {
		t.Fatalf("expired: %d %q ran=%d", rec.Code, rec.Body, ran)
	}
	if rec.Header().Get("Content-Type") != "application/json" ||
		rec.Header().Get("X-Clerk-Auth-Status") != "signed-out" ||
		rec.Header().Get("X-Clerk-Auth-Reason") != ReasonTokenExpired {
		t.Fatalf("headers: %v", rec.Header())
	}
	for k, v := range rec.Header() {
		if strings.Contains(strings.Join(v, " "), tok[10:40]) {
			t.Fatalf("header %s echoes the token", k)
		}
	}

	// A custom ErrorHandler replaces the default response.
	m2 := pemMiddleware(t, func(o *Options) {
		o.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, reasonOf(err))
		}
	})
	rec = httptest.NewRecorder()
	m2.RequireAuth(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusTeapot || rec.Body.String() != ReasonTokenAndUATMissing {
		t.Fatalf("error handler: %d %q", rec.Code, rec.Body)
	}
}

func TestHandlerNeverRejectsAndRequireAuthReuses(t *testing.T) {
	m := pemMiddleware(t, nil)
	var seen *Auth
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = GetAuth(r) })

	rec := httptest.NewRecorder()
	m.Handler(inner).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || seen == nil || seen.IsSignedIn() || seen.Reason() != ReasonTokenAndUATMissing {
		t.Fatalf("Handler on anonymous request: %d %+v", rec.Code, seen)
	}

	// Handler then RequireAuth: the token is verified once, the same Auth
	// reaches the handler.
	var outer *Auth
	chain := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer = GetAuth(r)
		m.RequireAuth(inner).ServeHTTP(w, r)
	}))
	rec = httptest.NewRecorder()
	chain.ServeHTTP(rec, bearer(makeToken(t, testNow, tokenSpec{})))
	if rec.Code != 200 || seen != outer || !seen.IsSignedIn() {
		t.Fatalf("RequireAuth did not reuse the outer Auth: %d %p %p", rec.Code, seen, outer)
	}
}

// TestGetAuthWithoutMiddleware: a request no middleware saw is signed
// out with ErrNoMiddleware, whose message names the middleware, and no
// Clerk reason (nobody applied Clerk's rules to it, even when it carries
// a valid token); so are a nil Auth and NewContext(ctx, nil).
func TestGetAuthWithoutMiddleware(t *testing.T) {
	withToken := bearer(makeToken(t, testNow, tokenSpec{}))
	var nilAuth *Auth
	fromNil, _ := FromContext(NewContext(context.Background(), nil))
	for name, a := range map[string]*Auth{
		"no token":   GetAuth(httptest.NewRequest("GET", "/", nil)),
		"with token": GetAuth(withToken),
		"nil Auth":   nilAuth,
		"NewContext": fromNil,
	} {
		err := a.Err()
		if a.IsSignedIn() || a.Reason() != "" || a.Has(Check{Permission: "x"}) || !errors.Is(err, ErrNoMiddleware) || errors.Is(err, ErrNoToken) {
			t.Errorf("%s: signed in %v, reason %q, err %v", name, a.IsSignedIn(), a.Reason(), err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "no clerkauth middleware ran") || !strings.Contains(msg, "Middleware.Handler or RequireAuth") || strings.Contains(msg, "()") {
			t.Errorf("%s: message %q", name, msg)
		}
		if a == nil {
			continue
		}
		if s := a.String(); s != "clerkauth.Auth{signed out: no clerkauth middleware ran}" {
			t.Errorf("%s: String %q", name, s)
		}
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("FromContext ok on empty context")
	}
}

func TestClaimsDecoding(t *testing.T) {
	m := pemMiddleware(t, nil)
	tok := makeToken(t, testNow, tokenSpec{claims: map[string]any{
		"act":  map[string]any{"sub": "user_admin", "iss": "https://dashboard.clerk.com"},
		"fva":  []int{3, -1},
		"team": "blue",
	}})
	a, err := m.Authenticate(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if a.Actor == nil || a.Actor.Subject != "user_admin" {
		t.Fatalf("actor: %+v", a.Actor)
	}
	if a.Expiry.Unix() != testNow.Unix()+59 || a.IssuedAt.Unix() != testNow.Unix()-1 {
		t.Fatalf("times: %v %v", a.Expiry, a.IssuedAt)
	}
	var custom struct {
		Team string `json:"team"`
		Sub  string `json:"sub"`
	}
	if err := a.Claims(&custom); err != nil || custom.Team != "blue" || custom.Sub != "user_2abc" {
		t.Fatalf("Claims: %+v %v", custom, err)
	}
	if a.TokenType != TokenTypeSession || a.AuthorizedParty != "https://app.example.com" {
		t.Fatalf("fields: %+v", a)
	}
	if err := signedOut(errNoToken).Claims(&custom); err == nil {
		t.Fatal("Claims on signed-out Auth must fail")
	}
}

func TestAuthenticateToken(t *testing.T) {
	m := pemMiddleware(t, nil)
	a, err := m.AuthenticateToken(context.Background(), makeToken(t, testNow, tokenSpec{}))
	if err != nil || a.UserID != "user_2abc" {
		t.Fatalf("%+v %v", a, err)
	}
	a, err = m.AuthenticateToken(context.Background(), "x.y.z")
	if err == nil || a.IsSignedIn() {
		t.Fatal("garbage accepted")
	}
}

// TestClaimsExactNames: Auth.Claims gives the exact member, as Clerk's
// sessionClaims does, or refuses with an error that says why; never a
// member whose name differs only in case (issue 17 #3: encoding/json
// decoded "role":"viewer","ROLE":"admin" as "admin"). Tokens are signed;
// the verifier accepts such names (they are not duplicates).
func TestClaimsExactNames(t *testing.T) {
	m := pemMiddleware(t, nil)
	type org struct {
		Role string `json:"role"`
	}
	type custom struct {
		Role string         `json:"role"`
		Org  org            `json:"org"`
		Orgs []org          `json:"orgs"`
		ByID map[string]org `json:"by_id"`
	}
	sign := func(payload string) string {
		c := defaultClaims(testNow)
		c["sub"] = "user_2abc"
		b := mustJSON(t, c)
		return signRS256(t, testKey(t, 0), []byte(`{"alg":"RS256","kid":"ins_1","typ":"JWT"}`),
			append(append(b[:len(b)-1], ','), payload[1:]...))
	}
	for _, tc := range []struct {
		name, payload, refused string // refused: the claim named in the error
		role                   string
	}{
		{"exact", `{"role":"viewer"}`, "", "viewer"},
		{"role then ROLE", `{"role":"viewer","ROLE":"admin"}`, `"ROLE"`, ""},
		{"ROLE then role", `{"ROLE":"admin","role":"viewer"}`, `"ROLE"`, ""},
		{"Role alone", `{"Role":"admin"}`, `"Role"`, ""},
		{"nested", `{"role":"viewer","org":{"role":"viewer","ROLE":"admin"}}`, `"org"."ROLE"`, ""},
		{"in an array", `{"orgs":[{"role":"viewer"},{"rolE":"admin"}]}`, `"orgs"[1]."rolE"`, ""},
		{"in a map", `{"by_id":{"org_1":{"RoLe":"admin"}}}`, `"by_id"."org_1"."RoLe"`, ""},
		{"other names pass", `{"role":"viewer","Rolex":"admin"}`, "", "viewer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := m.Authenticate(bearer(sign(tc.payload)))
			if err != nil {
				t.Fatal(err)
			}
			var got custom
			err = a.Claims(&got)
			if tc.refused == "" {
				if err != nil || got.Role != tc.role {
					t.Fatalf("Claims: %+v %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "case") ||
				!strings.HasPrefix(err.Error(), "clerkauth: ") {
				t.Fatalf("Claims = %+v, %v; want an error naming %s", got, err, tc.refused)
			}
			// A map keeps every name as it is: the exact member is there.
			var all map[string]any
			if err := a.Claims(&all); err != nil {
				t.Fatal(err)
			}
		})
	}
	// An untagged field takes the one member matching its Go name when
	// case is ignored (the Go idiom), never one of two.
	var untagged struct{ Email string }
	a, err := m.Authenticate(bearer(sign(`{"email":"a@example.com"}`)))
	if err != nil || a.Claims(&untagged) != nil || untagged.Email != "a@example.com" {
		t.Fatalf("untagged field: %+v %v", untagged, err)
	}
	a, err = m.Authenticate(bearer(sign(`{"email":"a@example.com","EMAIL":"admin@example.com"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Claims(&untagged); err == nil || !strings.Contains(err.Error(), `"EMAIL" and "email" would both fill the field "Email"`) {
		t.Fatalf("two members for an untagged field: %v", err)
	}
}
