package clerktest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
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

// authView is what a handler sees of an Auth, for comparing two tokens.
type authView struct {
	UserID, SessionID, SessionStatus, OrgID, OrgRole, OrgSlug string
	OrgPermissions, Plans, Features                           []string
	FactorVerificationAge                                     []int
	Actor                                                     *clerkauth.Actor
	Issuer, AuthorizedParty                                   string
	Custom                                                    map[string]any
}

func viewOf(t *testing.T, a *clerkauth.Auth) authView {
	t.Helper()
	var custom struct {
		Tenant map[string]any `json:"tenant"`
		Tier   any            `json:"tier"`
	}
	if err := a.Claims(&custom); err != nil {
		t.Fatalf("Claims: %v", err)
	}
	return authView{a.UserID, a.SessionID, a.SessionStatus, a.OrgID, a.OrgRole, a.OrgSlug,
		a.OrgPermissions, a.Plans, a.Features, a.FactorVerificationAge, a.Actor, a.Issuer, a.AuthorizedParty,
		map[string]any{"tenant": custom.Tenant, "tier": custom.Tier}}
}

// withoutTimes returns the claims of tok without iat, nbf, exp and jti, the
// claims a re-issued token renews.
func withoutTimes(t *testing.T, tok string) map[string]any {
	t.Helper()
	c := decodeClaims(t, tok)
	for _, k := range []string{"iat", "nbf", "exp", "jti"} {
		delete(c, k)
	}
	return c
}

// header returns the JOSE header of tok.
func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func num(t *testing.T, c map[string]any, k string) int64 {
	t.Helper()
	f, ok := c[k].(float64)
	if !ok {
		t.Fatalf("claim %s = %v, not a number", k, c[k])
	}
	return int64(f)
}

// TestSessionTokenEndpoint: POST /v1/sessions/{sid}/tokens answers the
// session's own token (every claim the last minted token had, re-issued
// now), through the Backend API client and Auth.GetToken, and verified by
// a real middleware.
func TestSessionTokenEndpoint(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	client := mw.Client()
	if client == nil {
		t.Fatal("middleware has no Backend API client")
	}
	ctx := context.Background()
	rich := []clerktest.TokenOption{
		clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read", "org:invoices:write", "org:reports:read"),
		clerktest.WithPlans("u:pro"), clerktest.WithFeatures("u:export"),
		clerktest.WithActor("user_admin"), clerktest.WithFactorAge(5, 12),
		clerktest.WithClaims(map[string]any{"tenant": map[string]any{"id": "t1", "n": 3}, "tier": "gold"}),
	}
	tests := []struct {
		name     string
		opts     []clerktest.TokenOption
		expires  int   // expires_in_seconds; 0: not sent
		lifetime int64 // exp - iat of the answer
		reason   string
		compare  bool // the original still verifies: compare the Auths
	}{
		{"plain", nil, 0, 60, "", true},
		{"org, plans, features, actor, fva, custom", rich, 0, 60, "", true},
		{"expires_in_seconds", rich, 120, 120, "", true},
		{"minted lifetime kept", append(slices.Clone(rich), clerktest.WithLifetime(5*time.Minute)), 0, 300, "", true},
		{"expired session token gets the default lifetime", []clerktest.TokenOption{clerktest.WithLifetime(-time.Minute)}, 0, 60, "", false},
		{"pending", []clerktest.TokenOption{clerktest.WithPending()}, 0, 60, reason.SessionPending, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sid := fmt.Sprintf("sess_%d", i)
			issued := time.Now().Add(-30 * time.Second)
			opts := append([]clerktest.TokenOption{clerktest.WithSessionID(sid), clerktest.WithIssuedAt(issued)}, tc.opts...)
			orig := srv.SessionToken("user_1", opts...)
			before := time.Now().Unix()
			tok, err := client.CreateSessionToken(ctx, sid, "", tc.expires)
			if err != nil {
				t.Fatalf("CreateSessionToken: %v", err)
			}
			if got, want := withoutTimes(t, tok), withoutTimes(t, orig); !reflect.DeepEqual(got, want) {
				t.Errorf("claims differ from the session's token:\n got %v\nwant %v", got, want)
			}
			c, o := decodeClaims(t, tok), decodeClaims(t, orig)
			if iat := num(t, c, "iat"); iat < before || num(t, c, "exp")-iat != tc.lifetime || num(t, c, "nbf") != iat-10 {
				t.Errorf("iat %v (want >= %d), exp-iat %d (want %d), nbf %v", c["iat"], before, num(t, c, "exp")-iat, tc.lifetime, c["nbf"])
			}
			if c["jti"] == o["jti"] || c["jti"] == "" {
				t.Errorf("jti %v not renewed (was %v)", c["jti"], o["jti"])
			}
			if h := header(t, tok); h["cat"] != clerktest.CategorySession || h["kid"] != srv.KeyID() {
				t.Errorf("header %v", h)
			}
			fresh, err := authenticate(t, mw, tok)
			if reasonOf(err) != tc.reason {
				t.Fatalf("fresh token: %v, want reason %q", err, tc.reason)
			}
			if tc.reason != "" {
				return
			}
			if tc.compare {
				old, err := authenticate(t, mw, orig)
				if err != nil {
					t.Fatalf("original token: %v", err)
				}
				if got, want := viewOf(t, fresh), viewOf(t, old); !reflect.DeepEqual(got, want) {
					t.Errorf("Auth differs:\n got %+v\nwant %+v", got, want)
				}
			}
		})
	}

	t.Run("last minted token wins", func(t *testing.T) {
		srv.SessionToken("user_1", clerktest.WithSessionID("sess_last"), clerktest.WithOrg("org_a", "a", "member"))
		second := srv.SessionToken("user_1", clerktest.WithSessionID("sess_last"), clerktest.WithOrg("org_b", "b", "admin"))
		tok, err := client.CreateSessionToken(ctx, "sess_last", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := withoutTimes(t, tok), withoutTimes(t, second); !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want the second token's claims %v", got, want)
		}
	})

	t.Run("Auth.GetToken", func(t *testing.T) {
		orig := srv.SessionToken("user_1", rich...)
		a, err := authenticate(t, mw, orig)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.GetToken(ctx, clerkauth.WithExpiresIn(90*time.Second))
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		fresh, err := authenticate(t, mw, tok)
		if err != nil {
			t.Fatalf("minted token: %v", err)
		}
		if got, want := viewOf(t, fresh), viewOf(t, a); !reflect.DeepEqual(got, want) {
			t.Errorf("Auth differs:\n got %+v\nwant %+v", got, want)
		}
		if d := fresh.Expiry.Sub(fresh.IssuedAt); d != 90*time.Second {
			t.Errorf("lifetime %v, want 90s", d)
		}
	})

	t.Run("unknown session", func(t *testing.T) {
		for _, tpl := range []string{"", "supabase"} {
			_, err := client.CreateSessionToken(ctx, "sess_unknown", tpl, 0)
			var apiErr *clerkauth.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || len(apiErr.Errors) != 1 ||
				apiErr.Errors[0].Code != "resource_not_found" || apiErr.Errors[0].Message != "not found" ||
				apiErr.Errors[0].LongMessage != "Resource not found" || apiErr.TraceID == "" {
				t.Errorf("template %q: err = %#v, want Clerk's 404 resource_not_found", tpl, err)
			}
		}
	})

	t.Run("expires_in_seconds out of Clerk's range", func(t *testing.T) {
		for _, n := range []int{1, 29, 315360001} {
			_, err := client.CreateSessionToken(ctx, "sess_0", "", n)
			var apiErr *clerkauth.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnprocessableEntity ||
				apiErr.Errors[0].Code != "form_param_value_invalid" || string(apiErr.Errors[0].Meta) != `{"param_name":"expires_in_seconds"}` {
				t.Errorf("%d: err = %v, want 422 form_param_value_invalid", n, err)
			}
		}
		for _, n := range []int{30, 315360000} {
			if _, err := client.CreateSessionToken(ctx, "sess_0", "", n); err != nil {
				t.Errorf("%d: %v", n, err)
			}
		}
	})
}

// TestTemplateShortcodes: template tokens resolve Clerk's shortcodes from
// the registered user and the session, with nbf = iat - 5 and the template
// cat, minted through Auth.GetToken.
func TestTemplateShortcodes(t *testing.T) {
	srv := clerktest.New(t)
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	srv.AddUser(clerktest.User{
		ID: "user_1", FirstName: "Maria", LastName: "Doe", Username: "maria",
		ImageURL: "https://example.com/avatar.jpg", Email: "maria@example.com", CreatedAt: created,
		PublicMetadata: map[string]any{"profile": map[string]any{"interests": []string{"reading", "climbing"}}},
		UnsafeMetadata: map[string]any{"foo": map[string]any{"bar": 42}},
	})
	srv.AddTemplate("full", map[string]any{
		"aud":         "https://my-site.com",
		"version":     1,
		"foo":         map[string]any{"bar": []any{1, 2, 3}, "email": "{{user.primary_email_address}}"},
		"user_id":     "{{user.id}}",
		"avatar":      "{{user.image_url}}",
		"full_name":   "{{user.last_name}} {{user.first_name}}",
		"name":        "{{user.full_name}}",
		"username":    "{{user.username}}",
		"email":       "{{user.primary_email_address}}",
		"phone":       "{{user.primary_phone_address}}",
		"verified":    "{{user.email_verified}}",
		"contact":     "{{user.phone_number_verified || user.email_verified}}",
		"nick":        "{{user.public_metadata.nick || 'Awesome User'}}",
		"age":         "{{ user.public_metadata.age || 30 }}",
		"registered":  "{{user.created_at}}",
		"likes":       "{{user.public_metadata.profile.interests}}",
		"unsafe_meta": "{{user.unsafe_metadata}}",
		"private":     "{{user.private_metadata}}",
		"invalid":     "{{user.i_dont_exist}}",
		"org_id":      "{{org.id}}",
		"org_role":    "{{org.role}}",
		"org_slug":    "{{org.slug}}",
		"greeting":    "hi {{user.first_name}}, phone {{user.primary_phone_address}}",
	})
	mw := newMiddleware(t, srv.Options())
	ctx := context.Background()
	sessTok := srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin"))
	a, err := authenticate(t, mw, sessTok)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"aud": "https://my-site.com", "version": 1.0,
		"foo":     map[string]any{"bar": []any{1.0, 2.0, 3.0}, "email": "maria@example.com"},
		"user_id": "user_1", "avatar": "https://example.com/avatar.jpg",
		"full_name": "Doe Maria", "name": "Maria Doe", "username": "maria",
		"email": "maria@example.com", "phone": nil, "verified": true, "contact": true,
		"nick": "Awesome User", "age": 30.0, "registered": float64(created.Unix()),
		"likes":       []any{"reading", "climbing"},
		"unsafe_meta": map[string]any{"foo": map[string]any{"bar": 42.0}},
		"private":     nil, "invalid": nil,
		"org_id": "org_1", "org_role": "org:admin", "org_slug": "acme",
		"greeting": "hi Maria, phone null",
		"sub":      "user_1", "iss": srv.Issuer(), "azp": clerktest.DefaultAuthorizedParty,
	}
	for _, expires := range []int{0, 3600} {
		t.Run(fmt.Sprintf("expires %d", expires), func(t *testing.T) {
			opts := []clerkauth.GetTokenOption{clerkauth.WithTemplate("full")}
			if expires > 0 {
				opts = append(opts, clerkauth.WithExpiresIn(time.Duration(expires)*time.Second))
			}
			tok, err := a.GetToken(ctx, opts...)
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if _, err := jwt.Parse(tok, mw.Keyfunc(), jwt.WithValidMethods([]string{"RS256"})); err != nil {
				t.Errorf("does not verify with the instance's keys: %v", err)
			}
			if h := header(t, tok); h["cat"] != clerktest.CategoryTemplate {
				t.Errorf("header cat %v, want %s", h["cat"], clerktest.CategoryTemplate)
			}
			if _, err := mw.AuthenticateToken(ctx, tok); reasonOf(err) != reason.TokenTypeMismatch {
				t.Errorf("template token as a session token: %v, want %s", err, reason.TokenTypeMismatch)
			}
			c := decodeClaims(t, tok)
			lifetime := int64(60)
			if expires > 0 {
				lifetime = int64(expires)
			}
			iat := num(t, c, "iat")
			if num(t, c, "nbf") != iat-5 || num(t, c, "exp") != iat+lifetime || c["jti"] == nil {
				t.Errorf("iat %d nbf %v exp %v jti %v; want nbf iat-5, exp iat+%d", iat, c["nbf"], c["exp"], c["jti"], lifetime)
			}
			for _, k := range []string{"iat", "nbf", "exp", "jti"} {
				delete(c, k)
			}
			if !reflect.DeepEqual(c, want) {
				for k := range want {
					if !reflect.DeepEqual(c[k], want[k]) {
						t.Errorf("claim %s = %#v, want %#v", k, c[k], want[k])
					}
				}
				for k := range c {
					if _, ok := want[k]; !ok {
						t.Errorf("unexpected claim %s = %v", k, c[k])
					}
				}
			}
		})
	}

	t.Run("unregistered user, no org", func(t *testing.T) {
		srv.AddTemplate("small", map[string]any{"uid": "{{user.id}}", "email": "{{user.primary_email_address}}",
			"org": "{{org.id}}", "who": "{{user.first_name || user.username || 'anon'}}"})
		b, err := authenticate(t, mw, srv.SessionToken("user_ghost"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := b.GetToken(ctx, clerkauth.WithTemplate("small"))
		if err != nil {
			t.Fatal(err)
		}
		c := decodeClaims(t, tok)
		if c["uid"] != "user_ghost" || c["email"] != nil || c["org"] != nil || c["who"] != "anon" {
			t.Errorf("claims %v", c)
		}
		for _, k := range []string{"email", "org"} {
			if _, ok := c[k]; !ok {
				t.Errorf("claim %s absent, want null", k)
			}
		}
	})
}

// TestAddTemplateReservedClaims: Clerk refuses templates that set a
// default claim; AddTemplate panics, naming the claim.
func TestAddTemplateReservedClaims(t *testing.T) {
	srv := clerktest.New(t)
	for _, k := range []string{"azp", "exp", "iat", "iss", "jti", "nbf", "sub"} {
		t.Run(k, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, fmt.Sprintf("%q is reserved", k)) {
					t.Errorf("recovered %v, want a panic naming %q", r, k)
				}
			}()
			srv.AddTemplate("t_"+k, map[string]any{"role": "x", k: "{{user.id}}"})
		})
	}
	// Other registered claims (aud) and session claims are the template's own.
	srv.AddTemplate("aud", map[string]any{"aud": "supabase", "role": "authenticated"})
	srv.SessionToken("user_1", clerktest.WithSessionID("sess_1"))
	code, _, body := call(t, "POST", srv.URL+"/v1/sessions/sess_1/tokens/aud", srv.SecretKey(), "")
	if code != 200 || !strings.Contains(body2claims(t, body), `"aud":"supabase"`) {
		t.Errorf("status %d body %s", code, body)
	}
}

// body2claims returns the JSON claims of the token in a token answer.
func body2claims(t *testing.T, body []byte) string {
	t.Helper()
	var ans struct {
		JWT string `json:"jwt"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(decodeClaims(t, ans.JWT))
	return string(b)
}

// TestServerSessionCookies: Server.SessionCookies sends what a development
// browser sends, and a middleware configured with the server's
// publishable key signs the request in from them.
func TestServerSessionCookies(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	sfx := instance.CookieSuffix(srv.PublishableKey())
	now := time.Now()
	tok := srv.SessionToken("user_1", clerktest.WithIssuedAt(now.Add(-10*time.Second)))
	older := srv.SessionToken("user_2", clerktest.WithIssuedAt(now.Add(-20*time.Second)))
	cookies := srv.SessionCookies(tok)

	got := map[string]string{}
	for _, c := range cookies {
		got[c.Name] = c.Value
	}
	uat := jsonInt(now.Add(-10 * time.Second).Unix())
	db := got["__clerk_db_jwt"]
	want := map[string]string{
		"__session": tok, "__session_" + sfx: tok,
		"__client_uat": uat, "__client_uat_" + sfx: uat,
		"__clerk_db_jwt": db, "__clerk_db_jwt_" + sfx: db,
	}
	if !reflect.DeepEqual(got, want) || len(cookies) != len(want) || !strings.HasPrefix(db, "dvb_") {
		t.Fatalf("cookies %v, want %v", got, want)
	}
	if again := srv.SessionCookies(older); again[4].Value != db {
		t.Errorf("dev browser changed between calls: %q, %q", again[4].Value, db)
	}

	without := func(names ...string) []*http.Cookie {
		return slices.DeleteFunc(slices.Clone(cookies), func(c *http.Cookie) bool { return slices.Contains(names, c.Name) })
	}
	tests := []struct {
		name    string
		cookies []*http.Cookie
		user    string
		reason  string
	}{
		{"all", cookies, "user_1", ""},
		{"suffixed pair only", without("__session", "__client_uat"), "user_1", ""},
		{"unsuffixed pair only", without("__session_"+sfx, "__client_uat_"+sfx), "user_1", ""},
		// The suffixed pair is the one read when the unsuffixed token is
		// older: proof that the names carry the instance's suffix.
		{"stale unsuffixed session", append(without("__session"), &http.Cookie{Name: "__session", Value: older}), "user_1", ""},
		{"no uat", without("__client_uat", "__client_uat_"+sfx), "", reason.TokenButNoClientUAT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range tc.cookies {
				r.AddCookie(c)
			}
			a, err := mw.Authenticate(r)
			if reasonOf(err) != tc.reason || a.UserID != tc.user {
				t.Errorf("user %q err %v; want user %q reason %q", a.UserID, err, tc.user, tc.reason)
			}
		})
	}
}
