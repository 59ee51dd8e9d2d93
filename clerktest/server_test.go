package clerktest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/instance"
	"github.com/clerkauth/clerkauth/internal/reason"
	"github.com/golang-jwt/jwt/v5"
)

// newMiddleware returns a clerkauth middleware closed when the test ends.
func newMiddleware(t *testing.T, opts clerkauth.Options) *clerkauth.Middleware {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	if opts.Getenv == nil {
		// Options built by hand in a test read no environment either.
		opts.Getenv = func(string) string { return "" }
	}
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatalf("clerkauth.New: %v", err)
	}
	t.Cleanup(func() { mw.Close() })
	return mw
}

// authenticate sends tok as a bearer token through mw.
func authenticate(t *testing.T, mw *clerkauth.Middleware, tok string) (*clerkauth.Auth, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return mw.Authenticate(r)
}

// reasonOf is Clerk's reason string carried by err ("" for none).
func reasonOf(err error) string {
	var ae *clerkauth.AuthError
	if errors.As(err, &ae) {
		if strings.HasPrefix(ae.Reason, "session-token-expired-refresh-") && errors.Is(err, clerkauth.ErrTokenExpired) {
			// With the page-load flows on (a secret and a publishable
			// key), Clerk names an expired token's reason after the
			// refresh it could not make.
			return reason.TokenExpired
		}
		return ae.Reason
	}
	return ""
}

// decodeClaims returns the claims of tok without verifying it.
func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMiddlewareModes(t *testing.T) {
	srv := clerktest.New(t)
	other := clerktest.New(t) // another instance, another key
	modes := []struct {
		name string
		opts clerkauth.Options
		// foreign is the reason for a token signed by another instance.
		foreign string
	}{
		{"jwks", srv.Options(), reason.JWKKidMismatch},
		{"pem", clerkauth.Options{JWTKey: srv.PublicKeyPEM(), PublishableKey: srv.PublishableKey()}, reason.TokenInvalidSignature},
		{"public-jwks", clerkauth.Options{JWKSURL: srv.URL + "/.well-known/jwks.json", PublishableKey: srv.PublishableKey()}, reason.JWKKidMismatch},
	}
	now := time.Now()
	tokens := []struct {
		name   string
		tok    string
		reason string // "" when signed in
	}{
		{"default", srv.SessionToken("user_1", clerktest.WithSessionID("sess_1")), ""},
		{"issued 30s ago", srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(-30*time.Second))), ""},
		{"expired", srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(-2*time.Minute))), reason.TokenExpired},
		{"negative lifetime", srv.SessionToken("user_1", clerktest.WithLifetime(-time.Minute)), reason.TokenExpired},
		{"issued in the future", srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(time.Minute))), reason.SessionTokenNBF},
		{"pending", srv.SessionToken("user_1", clerktest.WithPending()), reason.SessionPending},
		{"wrong issuer", srv.SessionToken("user_1", clerktest.WithClaims(map[string]any{"iss": "https://clerk.evil.com"})), reason.TokenInvalidIssuer},
		{"no exp", srv.SessionToken("user_1", clerktest.WithClaims(map[string]any{"exp": nil})), reason.TokenVerificationFailed},
		{"machine sub", srv.SessionToken("mch_1"), reason.TokenTypeMismatch},
		{"template cat", srv.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "typ": "JWT", "cat": clerktest.CategoryTemplate},
			decodeClaims(t, srv.SessionToken("user_1"))), reason.TokenTypeMismatch},
		{"alg none", srv.Sign(map[string]any{"alg": "none", "kid": srv.KeyID()}, decodeClaims(t, srv.SessionToken("user_1"))), reason.TokenInvalidAlgorithm},
		{"alg HS256", srv.Sign(map[string]any{"alg": "HS256", "kid": srv.KeyID()}, decodeClaims(t, srv.SessionToken("user_1"))), reason.TokenInvalidAlgorithm},
		{"duplicate sub", srv.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID()},
			[]byte(`{"sub":"user_1","sub":"user_admin","exp":`+jsonInt(now.Add(time.Minute).Unix())+`}`)), reason.TokenInvalid},
		{"other instance", other.SessionToken("user_1"), ""}, // reason depends on the mode
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			mw := newMiddleware(t, m.opts)
			for _, tc := range tokens {
				t.Run(tc.name, func(t *testing.T) {
					want := tc.reason
					if tc.name == "other instance" {
						want = m.foreign
					}
					a, err := authenticate(t, mw, tc.tok)
					if got := reasonOf(err); got != want {
						t.Fatalf("reason = %q (err %v), want %q", got, err, want)
					}
					if want != "" {
						if a.IsSignedIn() || a.UserID != "" {
							t.Fatalf("signed out Auth has UserID %q", a.UserID)
						}
						return
					}
					if a.UserID != "user_1" || a.SessionStatus != "active" || a.Issuer != srv.Issuer() ||
						a.AuthorizedParty != clerktest.DefaultAuthorizedParty || !strings.HasPrefix(a.SessionID, "sess_") {
						t.Fatalf("Auth = %+v", a)
					}
					if !slices.Equal(a.FactorVerificationAge, []int{0, -1}) {
						t.Fatalf("FactorVerificationAge = %v, want [0 -1]", a.FactorVerificationAge)
					}
					if d := a.Expiry.Sub(a.IssuedAt); d != clerktest.DefaultTokenLifetime {
						t.Fatalf("exp - iat = %v, want %v", d, clerktest.DefaultTokenLifetime)
					}
				})
			}
		})
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestTokenOptions(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	iat := time.Now().Add(-5 * time.Second).Truncate(time.Second)
	tests := []struct {
		name  string
		opts  []clerktest.TokenOption
		check func(t *testing.T, a *clerkauth.Auth)
	}{
		{"session id", []clerktest.TokenOption{clerktest.WithSessionID("sess_abc")}, func(t *testing.T, a *clerkauth.Auth) {
			if a.SessionID != "sess_abc" {
				t.Errorf("SessionID = %q", a.SessionID)
			}
		}},
		{"times", []clerktest.TokenOption{clerktest.WithIssuedAt(iat), clerktest.WithLifetime(time.Hour)}, func(t *testing.T, a *clerkauth.Auth) {
			if !a.IssuedAt.Equal(iat) || !a.Expiry.Equal(iat.Add(time.Hour)) {
				t.Errorf("iat %v exp %v, want %v and %v", a.IssuedAt, a.Expiry, iat, iat.Add(time.Hour))
			}
		}},
		{"expiry", []clerktest.TokenOption{clerktest.WithExpiry(iat.Add(10 * time.Minute))}, func(t *testing.T, a *clerkauth.Auth) {
			if !a.Expiry.Equal(iat.Add(10 * time.Minute)) {
				t.Errorf("exp %v", a.Expiry)
			}
		}},
		{"azp", []clerktest.TokenOption{clerktest.WithAzp("https://app.example.com")}, func(t *testing.T, a *clerkauth.Auth) {
			if a.AuthorizedParty != "https://app.example.com" {
				t.Errorf("azp %q", a.AuthorizedParty)
			}
		}},
		{"no azp", []clerktest.TokenOption{clerktest.WithAzp("")}, func(t *testing.T, a *clerkauth.Auth) {
			if a.AuthorizedParty != "" {
				t.Errorf("azp %q", a.AuthorizedParty)
			}
		}},
		{"actor", []clerktest.TokenOption{clerktest.WithActor("user_admin")}, func(t *testing.T, a *clerkauth.Auth) {
			if a.Actor == nil || a.Actor.Subject != "user_admin" {
				t.Errorf("Actor %+v", a.Actor)
			}
		}},
		{"plans and features", []clerktest.TokenOption{clerktest.WithPlans("pro", "org:team"), clerktest.WithFeatures("user:export", "o:reports"),
			clerktest.WithOrg("org_1", "acme", "admin")},
			func(t *testing.T, a *clerkauth.Auth) {
				if !slices.Equal(a.Plans, []string{"u:pro", "o:team"}) || !slices.Equal(a.Features, []string{"o:reports", "u:export"}) {
					t.Errorf("Plans %v Features %v", a.Plans, a.Features)
				}
				for _, c := range []clerkauth.Check{{Plan: "pro"}, {Plan: "user:pro"}, {Plan: "org:team"}, {Feature: "export"}, {Feature: "org:reports"}} {
					if !a.Has(c) {
						t.Errorf("Has(%+v) = false", c)
					}
				}
				for _, c := range []clerkauth.Check{{Plan: "org:pro"}, {Feature: "user:reports"}, {Feature: "missing"}} {
					if a.Has(c) {
						t.Errorf("Has(%+v) = true", c)
					}
				}
			}},
		{"factor age", []clerktest.TokenOption{clerktest.WithFactorAge(3, 20)}, func(t *testing.T, a *clerkauth.Auth) {
			if !a.Has(clerkauth.Check{Reverification: clerkauth.Reverify("moderate")}) || a.Has(clerkauth.Check{Reverification: clerkauth.Reverify("strict")}) {
				t.Errorf("reverification with fva %v", a.FactorVerificationAge)
			}
		}},
		{"custom claims", []clerktest.TokenOption{clerktest.WithClaims(map[string]any{"email": "a@example.com"})}, func(t *testing.T, a *clerkauth.Auth) {
			var c struct{ Email string }
			if err := a.Claims(&c); err != nil || c.Email != "a@example.com" {
				t.Errorf("Claims: %v, email %q", err, c.Email)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := authenticate(t, mw, srv.SessionToken("user_1", tc.opts...))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			tc.check(t, a)
		})
	}
}

func TestSessionTokenShape(t *testing.T) {
	srv := clerktest.New(t)
	tok := srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "org:admin", "org:invoices:read"))
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	wantHdr := `{"alg":"RS256","cat":"cl_B7d4PD111AAA","kid":"` + srv.KeyID() + `","typ":"JWT"}`
	if string(hdr) != wantHdr {
		t.Errorf("header = %s, want %s", hdr, wantHdr)
	}
	c := decodeClaims(t, tok)
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"azp", "exp", "fea", "fva", "iat", "iss", "jti", "nbf", "o", "pla", "sid", "sts", "sub", "v"}
	if !slices.Equal(keys, want) {
		t.Errorf("claims = %v, want %v", keys, want)
	}
	if c["v"] != 2.0 || c["sts"] != "active" || c["iat"].(float64)-c["nbf"].(float64) != 10 {
		t.Errorf("claims = %v", c)
	}
	o := c["o"].(map[string]any)
	if o["rol"] != "admin" || o["slg"] != "acme" || o["per"] != "read" || o["fpm"] != "1" || c["fea"] != "o:invoices" {
		t.Errorf("o = %v, fea = %v", o, c["fea"])
	}
}

func TestOrgPermissionsRoundTrip(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())

	// Clerk's own example (clerk.md section 4), signed verbatim.
	clerkExample := srv.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "typ": "JWT", "cat": clerktest.CategorySession},
		map[string]any{
			"sub": "user_1", "sid": "sess_1", "iss": srv.Issuer(), "v": 2,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
			"fea": "o:repositories,uo:projects",
			"o":   map[string]any{"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,create,update,delete,revoke", "fpm": "7,21"},
		})
	clerkPerms := []string{"org:repositories:read", "org:repositories:create", "org:repositories:update",
		"org:projects:read", "org:projects:update", "org:projects:revoke"}

	tests := []struct {
		name     string
		tok      string
		want     []string
		features []string
	}{
		{"clerk example verbatim", clerkExample, clerkPerms, []string{"o:repositories", "uo:projects"}},
		{"clerk example minted", srv.SessionToken("user_1", clerktest.WithFeatures("o:repositories", "uo:projects"),
			clerktest.WithOrg("org_1", "acme", "admin", clerkPerms...)), clerkPerms, []string{"o:repositories", "uo:projects"}},
		{"features added", srv.SessionToken("user_1",
			clerktest.WithOrg("org_1", "acme", "org:admin", "org:invoices:read", "org:reports:read", "org:invoices:write")),
			[]string{"org:invoices:read", "org:invoices:write", "org:reports:read"}, []string{"o:invoices", "o:reports"}},
		{"features sorted", srv.SessionToken("user_1", clerktest.WithFeatures("u:export", "o:billing"),
			clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read")),
			[]string{"org:invoices:read"}, []string{"o:billing", "o:invoices", "u:export"}},
		{"no permissions", srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin")), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := authenticate(t, mw, tc.tok)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if a.OrgID != "org_1" || a.OrgSlug != "acme" || a.OrgRole != "org:admin" {
				t.Errorf("org = %q %q %q", a.OrgID, a.OrgSlug, a.OrgRole)
			}
			got := slices.Sorted(slices.Values(a.OrgPermissions))
			if want := slices.Sorted(slices.Values(tc.want)); !slices.Equal(got, want) {
				t.Errorf("OrgPermissions = %v, want %v", got, want)
			}
			if !slices.Equal(a.Features, tc.features) {
				t.Errorf("Features = %v, want %v", a.Features, tc.features)
			}
			for _, p := range tc.want {
				if !a.Has(clerkauth.Check{Permission: p}) {
					t.Errorf("Has(%s) = false", p)
				}
			}
			for _, p := range []string{"org:repositories:delete", "org:invoices:delete", "org:projects:create"} {
				if a.Has(clerkauth.Check{Permission: p}) {
					t.Errorf("Has(%s) = true", p)
				}
			}
			if !a.Has(clerkauth.Check{Role: "admin"}) || !a.Has(clerkauth.Check{Role: "org:admin"}) || a.Has(clerkauth.Check{Role: "member"}) {
				t.Errorf("role checks wrong for %q", a.OrgRole)
			}
		})
	}
}

func TestMalformedPermissionPanics(t *testing.T) {
	srv := clerktest.New(t)
	for _, p := range []string{"invoices:read", "org:invoices", "org::read", "org:a:b:c", "org:a:b,c"} {
		t.Run(p, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("SessionToken did not panic for %q", p)
				}
			}()
			srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin", p))
		})
	}
}

func TestSignAddsNothing(t *testing.T) {
	srv := clerktest.New(t)
	tok := srv.Sign(map[string]any{"alg": "RS256"}, map[string]any{"sub": "user_1"})
	parts := strings.Split(tok, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	pay, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(hdr) != `{"alg":"RS256"}` || string(pay) != `{"sub":"user_1"}` {
		t.Errorf("header %s payload %s", hdr, pay)
	}
	raw := srv.Sign([]byte(`{"alg":"RS256"}`), json.RawMessage(`{"a":1,"a":2}`))
	if pay, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1]); string(pay) != `{"a":1,"a":2}` {
		t.Errorf("raw payload %s", pay)
	}
	// The signature is real: it verifies with the server's key.
	mw := newMiddleware(t, clerkauth.Options{JWTKey: srv.PublicKeyPEM()})
	if _, err := jwt.Parse(tok, mw.Keyfunc(), jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestRotateKey(t *testing.T) {
	for _, keep := range []bool{false, true} {
		name := map[bool]string{false: "drop old", true: "keep old"}[keep]
		t.Run(name, func(t *testing.T) {
			srv := clerktest.New(t)
			mw := newMiddleware(t, srv.Options())
			oldKid := srv.KeyID()
			before := srv.SessionToken("user_1")
			if _, err := authenticate(t, mw, before); err != nil {
				t.Fatalf("before rotation: %v", err)
			}
			fetches := srv.Requests("/v1/jwks")
			if kid := srv.RotateKey(keep); kid == oldKid || kid != srv.KeyID() {
				t.Fatalf("RotateKey returned %q; old %q, now %q", kid, oldKid, srv.KeyID())
			}
			after := srv.SessionToken("user_1")
			if _, err := authenticate(t, mw, after); err != nil {
				t.Fatalf("token of the new key: %v", err)
			}
			_, err := authenticate(t, mw, before)
			if keep && err != nil {
				t.Errorf("old key kept, old token: %v", err)
			}
			if !keep && reasonOf(err) != reason.JWKKidMismatch {
				t.Errorf("old key dropped, old token: %v, want %s", err, reason.JWKKidMismatch)
			}
			if n := srv.Requests("/v1/jwks"); fetches == 0 || n != fetches+1 {
				t.Errorf("Requests(/v1/jwks) = %d before rotation, %d after; want one more (the kid miss)", fetches, n)
			}
		})
	}
}

func TestSetJWKSStatus(t *testing.T) {
	tests := []struct {
		code     int
		reason   string
		wantHTTP int
	}{
		{http.StatusServiceUnavailable, reason.JWKRemoteFailedToLoad, http.StatusServiceUnavailable},
		{http.StatusInternalServerError, reason.JWKRemoteFailedToLoad, http.StatusServiceUnavailable},
		{http.StatusUnauthorized, reason.SecretKeyInvalid, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			srv := clerktest.New(t)
			srv.SetJWKSStatus(tc.code)
			mw := newMiddleware(t, srv.Options())
			tok := srv.SessionToken("user_1")
			_, err := authenticate(t, mw, tok)
			if !errors.Is(err, clerkauth.ErrKeysUnavailable) || reasonOf(err) != tc.reason {
				t.Fatalf("err = %v, want %s", err, tc.reason)
			}
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			mw.RequireAuth(http.NotFoundHandler()).ServeHTTP(rec, r)
			if rec.Code != tc.wantHTTP {
				t.Errorf("RequireAuth answered %d, want %d", rec.Code, tc.wantHTTP)
			}
			srv.SetJWKSStatus(0)
			// A fresh middleware (no failure backoff) gets the keys again.
			if _, err := authenticate(t, newMiddleware(t, srv.Options()), tok); err != nil {
				t.Errorf("after SetJWKSStatus(0): %v", err)
			}
		})
	}
}

// clerkError is Clerk's Backend API error body.
type clerkError struct {
	Errors []struct {
		Code        string         `json:"code"`
		Message     string         `json:"message"`
		LongMessage string         `json:"long_message"`
		Meta        map[string]any `json:"meta"`
	} `json:"errors"`
	TraceID string `json:"clerk_trace_id"`
}

// call makes a Backend API request and returns the status and the body.
func call(t *testing.T, method, url, secret, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestBackendAPIErrors(t *testing.T) {
	srv := clerktest.New(t)
	srv.AddUser(clerktest.User{ID: "user_1"})
	srv.SessionToken("user_1", clerktest.WithSessionID("sess_1"))
	tests := []struct {
		name, method, path, secret, body string
		code                             int
		errCode                          string
	}{
		{"jwks without secret", "GET", "/v1/jwks", "", "", 401, "clerk_key_invalid"},
		{"jwks wrong secret", "GET", "/v1/jwks", "sk_test_wrong", "", 401, "clerk_key_invalid"},
		{"user without secret", "GET", "/v1/users/user_1", "", "", 401, "clerk_key_invalid"},
		{"unknown user", "GET", "/v1/users/user_2", srv.SecretKey(), "", 404, "resource_not_found"},
		{"token without secret", "POST", "/v1/sessions/sess_1/tokens/supabase", "", "", 401, "clerk_key_invalid"},
		{"unknown session", "POST", "/v1/sessions/sess_2/tokens/supabase", srv.SecretKey(), "", 404, "resource_not_found"},
		{"bad body", "POST", "/v1/sessions/sess_1/tokens/supabase", srv.SecretKey(), "{", 422, "form_param_format_invalid"},
		{"bad expiry", "POST", "/v1/sessions/sess_1/tokens/supabase", srv.SecretKey(), `{"expires_in_seconds":0}`, 422, "form_param_value_invalid"},
		{"expiry under Clerk's 30s", "POST", "/v1/sessions/sess_1/tokens", srv.SecretKey(), `{"expires_in_seconds":29}`, 422, "form_param_value_invalid"},
		{"unknown session, no template", "POST", "/v1/sessions/sess_2/tokens", srv.SecretKey(), "", 404, "resource_not_found"},
		{"unknown path", "GET", "/v1/nothing", srv.SecretKey(), "", 404, "resource_not_found"},
		{"wrong method", "DELETE", "/v1/jwks", srv.SecretKey(), "", 404, "resource_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := call(t, tc.method, srv.URL+tc.path, tc.secret, tc.body)
			var e clerkError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if code != tc.code || len(e.Errors) != 1 || e.Errors[0].Code != tc.errCode {
				t.Fatalf("got %d %s, want %d %s", code, body, tc.code, tc.errCode)
			}
			if e.TraceID == "" || hdr.Get("Clerk-Trace-Id") != e.TraceID || hdr.Get("Content-Type") != "application/json" {
				t.Errorf("trace id %q, header %q, content type %q", e.TraceID, hdr.Get("Clerk-Trace-Id"), hdr.Get("Content-Type"))
			}
			if e.Errors[0].Message == "" || e.Errors[0].LongMessage == "" || e.Errors[0].Meta == nil {
				t.Errorf("incomplete error %s", body)
			}
			if bytes.Contains(body, []byte(srv.SecretKey())) {
				t.Errorf("error body contains the secret key")
			}
		})
	}
}

func TestGetUser(t *testing.T) {
	srv := clerktest.New(t)
	signIn := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv.AddUser(clerktest.User{
		ID: "user_1", FirstName: "Ada", LastName: "Lovelace", Username: "ada",
		Email: "ada@example.com", Phone: "+15555550100",
		PublicMetadata: map[string]any{"plan": "pro"}, Banned: true, LastSignInAt: signIn,
	})
	srv.AddUser(clerktest.User{ID: "user_2"})
	code, _, body := call(t, "GET", srv.URL+"/v1/users/user_1", srv.SecretKey(), "")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var u struct {
		ID                    string  `json:"id"`
		Object                string  `json:"object"`
		FirstName             *string `json:"first_name"`
		LastName              *string `json:"last_name"`
		Username              *string `json:"username"`
		ImageURL              string  `json:"image_url"`
		PrimaryEmailAddressID *string `json:"primary_email_address_id"`
		EmailAddresses        []struct {
			ID           string `json:"id"`
			EmailAddress string `json:"email_address"`
			Verification struct {
				Status string `json:"status"`
			} `json:"verification"`
		} `json:"email_addresses"`
		PhoneNumbers []struct {
			PhoneNumber string `json:"phone_number"`
		} `json:"phone_numbers"`
		PublicMetadata  map[string]any `json:"public_metadata"`
		PrivateMetadata map[string]any `json:"private_metadata"`
		UnsafeMetadata  map[string]any `json:"unsafe_metadata"`
		Banned          bool           `json:"banned"`
		Locked          bool           `json:"locked"`
		CreatedAt       int64          `json:"created_at"`
		UpdatedAt       int64          `json:"updated_at"`
		LastSignInAt    *int64         `json:"last_sign_in_at"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatal(err)
	}
	if u.ID != "user_1" || u.Object != "user" || *u.FirstName != "Ada" || *u.LastName != "Lovelace" || *u.Username != "ada" ||
		u.ImageURL == "" || !u.Banned || u.Locked || u.PublicMetadata["plan"] != "pro" ||
		u.PrivateMetadata == nil || u.UnsafeMetadata == nil || u.CreatedAt == 0 || u.UpdatedAt < u.CreatedAt {
		t.Errorf("user = %s", body)
	}
	if len(u.EmailAddresses) != 1 || u.PrimaryEmailAddressID == nil || u.EmailAddresses[0].ID != *u.PrimaryEmailAddressID ||
		u.EmailAddresses[0].EmailAddress != "ada@example.com" || u.EmailAddresses[0].Verification.Status != "verified" {
		t.Errorf("email addresses = %s", body)
	}
	if len(u.PhoneNumbers) != 1 || u.PhoneNumbers[0].PhoneNumber != "+15555550100" {
		t.Errorf("phone numbers = %s", body)
	}
	if u.LastSignInAt == nil || *u.LastSignInAt != signIn.UnixMilli() {
		t.Errorf("last_sign_in_at = %v, want %d (Unix ms)", u.LastSignInAt, signIn.UnixMilli())
	}

	code, _, body = call(t, "GET", srv.URL+"/v1/users/user_2", srv.SecretKey(), "")
	var bare map[string]any
	if err := json.Unmarshal(body, &bare); code != 200 || err != nil {
		t.Fatalf("status %d err %v", code, err)
	}
	if bare["first_name"] != nil || bare["primary_email_address_id"] != nil || bare["last_sign_in_at"] != nil ||
		len(bare["email_addresses"].([]any)) != 0 {
		t.Errorf("bare user = %s", body)
	}
	if n := srv.Requests("/v1/users/user_1"); n != 1 {
		t.Errorf("Requests(/v1/users/user_1) = %d, want 1", n)
	}
}

func TestTemplateTokens(t *testing.T) {
	srv := clerktest.New(t)
	srv.AddTemplate("supabase", map[string]any{"role": "authenticated", "aud": "supabase"})
	mw := newMiddleware(t, srv.Options())
	// Authenticating once loads the keys that mw.Keyfunc uses below.
	if _, err := authenticate(t, mw, srv.SessionToken("user_1", clerktest.WithSessionID("sess_1"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, body string
		lifetime         float64
		claims           map[string]any
		session          bool
	}{
		{"template", "/v1/sessions/sess_1/tokens/supabase", "", 60, map[string]any{"role": "authenticated", "aud": "supabase"}, false},
		{"template with expiry", "/v1/sessions/sess_1/tokens/supabase", `{"expires_in_seconds":3600}`, 3600, map[string]any{"role": "authenticated"}, false},
		{"unregistered template", "/v1/sessions/sess_1/tokens/other", "", 60, map[string]any{}, false},
		{"session token", "/v1/sessions/sess_1/tokens", "", 60, map[string]any{"sid": "sess_1", "v": 2.0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := call(t, "POST", srv.URL+tc.path, srv.SecretKey(), tc.body)
			var ans struct {
				Object string `json:"object"`
				JWT    string `json:"jwt"`
			}
			if err := json.Unmarshal(body, &ans); code != 200 || err != nil || ans.Object != "token" {
				t.Fatalf("status %d body %s err %v", code, body, err)
			}
			c := decodeClaims(t, ans.JWT)
			if c["sub"] != "user_1" || c["iss"] != srv.Issuer() || c["exp"].(float64)-c["iat"].(float64) != tc.lifetime {
				t.Errorf("claims %v", c)
			}
			skew := 5.0 // a template's default allowed clock skew
			if tc.session {
				skew = 10
			}
			if c["iat"].(float64)-c["nbf"].(float64) != skew {
				t.Errorf("iat - nbf = %v, want %v", c["iat"].(float64)-c["nbf"].(float64), skew)
			}
			for k, v := range tc.claims {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			// The signature is real...
			if _, err := jwt.Parse(ans.JWT, mw.Keyfunc(), jwt.WithValidMethods([]string{"RS256"})); err != nil {
				t.Errorf("does not verify with the instance's keys: %v", err)
			}
			// ...and the category tells a template token from a session token.
			_, err := mw.AuthenticateToken(context.Background(), ans.JWT)
			if tc.session && err != nil {
				t.Errorf("session token rejected: %v", err)
			}
			if !tc.session && reasonOf(err) != reason.TokenTypeMismatch {
				t.Errorf("template token: %v, want %s", err, reason.TokenTypeMismatch)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	srv := clerktest.New(t)
	host, err := instance.FrontendAPIHost(srv.PublishableKey())
	if err != nil || "http://"+host != srv.URL || srv.Issuer() != "https://"+host {
		t.Errorf("publishable key %q decodes to %q (%v); URL %s, issuer %s", srv.PublishableKey(), host, err, srv.URL, srv.Issuer())
	}
	if !strings.HasPrefix(srv.SecretKey(), "sk_test_") || len(srv.SecretKey()) < 40 {
		t.Errorf("secret key shape")
	}
	if other := clerktest.New(t); other.SecretKey() == srv.SecretKey() || other.KeyID() == srv.KeyID() {
		t.Errorf("two servers share a secret key or kid")
	}
	if _, err := instance.ParsePEMKey(srv.PublicKeyPEM()); err != nil {
		t.Errorf("PublicKeyPEM: %v", err)
	}
	if strings.Contains(srv.String(), srv.SecretKey()) {
		t.Errorf("String() shows the secret key")
	}
}

func TestSessionCookies(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	tok := srv.SessionToken("user_1")
	tests := []struct {
		name    string
		cookies []*http.Cookie
		reason  string
	}{
		{"both", clerktest.SessionCookies(tok), ""},
		{"session only", clerktest.SessionCookies(tok)[:1], reason.TokenButNoClientUAT},
		{"signed out since", []*http.Cookie{{Name: "__session", Value: tok},
			{Name: "__client_uat", Value: jsonInt(time.Now().Add(time.Hour).Unix())}}, reason.TokenIATBeforeClientUAT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range tc.cookies {
				r.AddCookie(c)
			}
			r.AddCookie(&http.Cookie{Name: "__clerk_db_jwt", Value: "dvb_1"}) // a development instance's clerk-js
			a, err := mw.Authenticate(r)
			if reasonOf(err) != tc.reason || (tc.reason == "" && a.UserID != "user_1") {
				t.Errorf("err = %v, user %q; want reason %q", err, a.UserID, tc.reason)
			}
		})
	}
}

func TestWithSigningKey(t *testing.T) {
	a := clerktest.New(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b := clerktest.New(t, clerktest.WithSigningKey(key))
	c := clerktest.New(t, clerktest.WithSigningKey(key))
	shared := newMiddleware(t, clerkauth.Options{JWTKey: b.PublicKeyPEM()})
	tests := []struct {
		name   string
		tok    string
		reason string
	}{
		{"same server", b.SessionToken("user_1"), ""},
		{"other server, same key", c.SessionToken("user_1"), ""},
		{"other key", a.SessionToken("user_1"), reason.TokenInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := authenticate(t, shared, tc.tok); reasonOf(err) != tc.reason {
				t.Errorf("err = %v, want reason %q", err, tc.reason)
			}
		})
	}
}

// TestConcurrentUse exercises the server from many goroutines; run it with
// -race.
func TestConcurrentUse(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			id := "user_" + jsonInt(int64(i))
			srv.AddUser(clerktest.User{ID: id})
			for range 20 {
				a, err := authenticate(t, mw, srv.SessionToken(id, clerktest.WithOrg("org_1", "acme", "admin", "org:x:read")))
				if err == nil && a.UserID != id {
					err = errors.New("wrong user " + a.UserID)
				}
				if err != nil {
					errs <- err
					return
				}
				srv.Requests("/v1/jwks")
				srv.SetJWKSStatus(0)
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkSessionToken(b *testing.B) {
	srv := clerktest.New(b)
	org := clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read", "org:invoices:write")
	b.ReportAllocs()
	for b.Loop() {
		srv.SessionToken("user_1", org)
	}
}
