package clerkauth

import (
	"errors"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/claims"
	"slices"
	"strings"
	"testing"
)

func TestOrgClaims(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		id     string
		role   string
		slug   string
		perms  []string
	}{
		{
			name: "v1",
			claims: map[string]any{"v": nil, "org_id": "org_1", "org_slug": "acme", "org_role": "org:admin",
				"org_permissions": []string{"org:sys_memberships:manage", "org:invoices:create"}},
			id: "org_1", role: "org:admin", slug: "acme",
			perms: []string{"org:sys_memberships:manage", "org:invoices:create"},
		},
		{
			// The example of clerk.md section 4.
			name: "v2 fpm example",
			claims: map[string]any{"fea": "o:repositories,uo:projects",
				"o": map[string]any{"id": "org_2", "slg": "corp", "rol": "admin", "per": "read,create,update,delete,revoke", "fpm": "7,21"}},
			id: "org_2", role: "org:admin", slug: "corp",
			perms: []string{"org:repositories:read", "org:repositories:create", "org:repositories:update",
				"org:projects:read", "org:projects:update", "org:projects:revoke"},
		},
		{
			name: "v2 user features skipped",
			claims: map[string]any{"fea": "u:billing,o:reports,u:chat,ou:docs",
				"o": map[string]any{"id": "org_3", "rol": "member", "per": "read,manage", "fpm": "2,3"}},
			id: "org_3", role: "org:member",
			perms: []string{"org:reports:manage", "org:docs:read", "org:docs:manage"},
		},
		{
			name: "v2 fewer masks than features",
			claims: map[string]any{"fea": "o:a,o:b",
				"o": map[string]any{"id": "org_4", "rol": "member", "per": "read", "fpm": "1"}},
			id: "org_4", role: "org:member", perms: []string{"org:a:read"},
		},
		{
			name: "v2 bad mask ignored",
			claims: map[string]any{"fea": "o:a,o:b",
				"o": map[string]any{"id": "org_5", "rol": "member", "per": "read", "fpm": "x,1"}},
			id: "org_5", role: "org:member", perms: []string{"org:b:read"},
		},
		{name: "v2 no org", claims: map[string]any{"fea": "u:x"}},
	}
	m := pemMiddleware(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := m.Authenticate(bearer(makeToken(t, testNow, tokenSpec{claims: tc.claims})))
			if err != nil {
				t.Fatal(err)
			}
			if a.OrgID != tc.id || a.OrgRole != tc.role || a.OrgSlug != tc.slug {
				t.Fatalf("org = %q %q %q, want %q %q %q", a.OrgID, a.OrgRole, a.OrgSlug, tc.id, tc.role, tc.slug)
			}
			if !slices.Equal(a.OrgPermissions, tc.perms) {
				t.Fatalf("permissions = %q, want %q", a.OrgPermissions, tc.perms)
			}
		})
	}
}

func TestHas(t *testing.T) {
	m := pemMiddleware(t, nil)
	a, err := m.Authenticate(bearer(makeToken(t, testNow, tokenSpec{claims: map[string]any{
		"fea": "o:repositories,uo:projects,u:ai_chat",
		"pla": "u:pro,o:team",
		"fva": []int{5, 30},
		"o":   map[string]any{"id": "org_2", "slg": "corp", "rol": "admin", "per": "read,create,update,delete,revoke", "fpm": "7,21"},
	}})))
	if err != nil {
		t.Fatal(err)
	}
	noOrg, err := m.Authenticate(bearer(makeToken(t, testNow, tokenSpec{claims: map[string]any{
		"fva": []int{5, -1}, "fea": "u:ai_chat",
	}})))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		auth *Auth
		c    Check
		want bool
	}{
		{"empty check", a, Check{}, false},
		{"role with prefix", a, Check{Role: "org:admin"}, true},
		{"role without prefix", a, Check{Role: "admin"}, true},
		{"other role", a, Check{Role: "org:member"}, false},
		{"permission", a, Check{Permission: "org:projects:revoke"}, true},
		{"permission not granted", a, Check{Permission: "org:projects:delete"}, false},
		{"permission and role", a, Check{Permission: "org:repositories:read", Role: "admin"}, true},
		{"permission ok role not", a, Check{Permission: "org:repositories:read", Role: "member"}, false},
		{"role without org", noOrg, Check{Role: "admin"}, false},
		{"feature any scope", a, Check{Feature: "projects"}, true},
		{"feature org scope", a, Check{Feature: "org:repositories"}, true},
		{"feature user scope on org feature", a, Check{Feature: "user:repositories"}, false},
		{"feature user scope", a, Check{Feature: "user:ai_chat"}, true},
		{"feature missing", a, Check{Feature: "sso"}, false},
		{"plan user", a, Check{Plan: "user:pro"}, true},
		{"plan org", a, Check{Plan: "org:team"}, true},
		{"plan wrong scope", a, Check{Plan: "org:pro"}, false},
		{"strict: second factor 30 min ago", a, Check{Reverification: Reverify("strict")}, false},
		{"moderate: second factor 30 min ago", a, Check{Reverification: Reverify("moderate")}, true},
		{"strict_mfa", a, Check{Reverification: Reverify("strict_mfa")}, false},
		{"lax", a, Check{Reverification: Reverify("lax")}, true},
		{"first factor custom", a, Check{Reverification: Reverification{Level: "first_factor", AfterMinutes: 10}}, true},
		{"second factor falls back to first", noOrg, Check{Reverification: Reverify("strict")}, true},
		{"multi factor without second", noOrg, Check{Reverification: Reverify("strict_mfa")}, true},
		{"unknown level", a, Check{Reverification: Reverification{Level: "third", AfterMinutes: 100}}, false},
		{"reverification and permission", a, Check{Permission: "org:projects:read", Reverification: Reverify("moderate")}, true},
		{"scope on session token", a, Check{Scope: "read"}, false},
		{"signed out", signedOut(errNoToken), Check{Role: "admin"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.auth.Has(tc.c); got != tc.want {
				t.Fatalf("Has(%+v) = %v, want %v", tc.c, got, tc.want)
			}
		})
	}
}

func TestNumericDate(t *testing.T) {
	cases := []struct {
		in   string
		sec  int64
		set  bool
		fail bool
	}{
		{"1700000000", 1700000000, true, false},
		{"1700000000.9", 1700000000, true, false},
		{"-5", -5, true, false},
		{"1e300", 1 << 33, true, false},
		{"-1e300", -(1 << 33), true, false},
		{"null", 0, false, true}, // Clerk: typeof null !== "number"
		{`"1700000000"`, 0, false, true},
		{"true", 0, false, true},
	}
	for _, tc := range cases {
		var n claims.NumericDate
		err := n.UnmarshalJSON([]byte(tc.in))
		if (err != nil) != tc.fail || n.Sec != tc.sec || n.Set != tc.set {
			t.Errorf("%s: got %+v %v", tc.in, n, err)
		}
	}
}

// rawToken signs header and payload exactly as written, with testKey(0).
func rawToken(t *testing.T, header, payload string) string {
	t.Helper()
	return signRS256(t, testKey(t, 0), []byte(header), []byte(payload))
}

const rawHeader = `{"alg":"RS256","kid":"ins_kid_1","typ":"JWT"}`

// rawClaims is a valid payload at testNow (sub and exp only) with extra members appended.
func rawClaims(extra string) string {
	u := testNow.Unix()
	return fmt.Sprintf(`{"sub":"user_1","exp":%d%s}`, u+60, extra)
}

// TestClaimsAsClerk checks each claim case where Clerk's reading (JSON.parse
// and __experimental_JWTPayloadToAuthObjectProperties) decides, through a
// real middleware.
func TestClaimsAsClerk(t *testing.T) {
	m := pemMiddleware(t, nil)
	var many, deep strings.Builder
	for i := range 80 {
		fmt.Fprintf(&many, `,"custom_%02d":"value %d"`, i, i)
	}
	deep.WriteString(`,"custom":`)
	for range 63 {
		deep.WriteString(`{"a":`)
	}
	deep.WriteString(`1` + strings.Repeat("}", 63))
	cases := []struct {
		name, header, extra string
		reason              string // "" signed in
		check               func(*testing.T, *Auth)
	}{
		{name: "o names are case-sensitive", extra: `,"v":2,"o":{"id":"org_a","ID":"org_b","rol":"admin"}`,
			check: func(t *testing.T, a *Auth) { eq(t, a.OrgID, "org_a"); eq(t, a.OrgRole, "org:admin") }},
		{name: "act names are case-sensitive", extra: `,"act":{"sub":"user_a","SUB":"user_b","iss":"https://x","sid":"sess_a"}`,
			check: func(t *testing.T, a *Auth) {
				if a.Actor == nil || *a.Actor != (Actor{"user_a", "https://x", "sess_a"}) {
					t.Fatalf("actor %+v", a.Actor)
				}
			}},
		{name: "nested duplicate in o", extra: `,"v":2,"o":{"id":"org_a","id":"org_b"}`, reason: ReasonTokenInvalid},
		{name: "nested duplicate in custom claim", extra: `,"meta":[{"k":1,"k":2}]`, reason: ReasonTokenInvalid},
		{name: "nbf null", extra: `,"nbf":null`, reason: ReasonTokenVerificationFailed},
		{name: "iat null", extra: `,"iat":null`, reason: ReasonTokenVerificationFailed},
		{name: "typ null", header: `{"alg":"RS256","kid":"ins_kid_1","typ":null}`, reason: ReasonTokenInvalid},
		{name: "v2 claims without v: no org", extra: `,"o":{"id":"org_a","rol":"admin"},"fea":"o:a"`,
			check: func(t *testing.T, a *Auth) { eq(t, a.OrgID, ""); eq(t, a.OrgRole, "") }},
		{name: "v as a string reads v1", extra: `,"v":"2","o":{"id":"org_a"},"org_id":"org_v1","org_role":"org:member"`,
			check: func(t *testing.T, a *Auth) { eq(t, a.OrgID, "org_v1"); eq(t, a.OrgRole, "org:member") }},
		{name: "v 2.0 is 2", extra: `,"v":2.0,"o":{"id":"org_a"},"org_id":5`,
			check: func(t *testing.T, a *Auth) { eq(t, a.OrgID, "org_a") }},
		{name: "v2 o not an object: no org", extra: `,"v":2,"o":"org_a"`,
			check: func(t *testing.T, a *Auth) { eq(t, a.OrgID, "") }},
		{name: "rol kept as written", extra: `,"v":2,"o":{"id":"org_a","rol":"org:admin"}`,
			check: func(t *testing.T, a *Auth) { eq(t, a.OrgRole, "org:org:admin") }},
		{name: "sts absent is empty", extra: ``,
			check: func(t *testing.T, a *Auth) { eq(t, a.SessionStatus, "") }},
		{name: "80 top-level claims", extra: many.String(),
			check: func(t *testing.T, a *Auth) { eq(t, a.UserID, "user_1") }},
		{name: "custom claim nested 64 deep", extra: deep.String(),
			check: func(t *testing.T, a *Auth) { eq(t, a.UserID, "user_1") }},
		{name: "nested beyond 128", extra: `,"x":` + strings.Repeat("[", 128) + strings.Repeat("]", 128), reason: ReasonTokenInvalid},
		{name: "xo scope takes no fpm slot", extra: `,"v":2,"fea":"xo:admin,o:reports","o":{"id":"org_a","per":"read","fpm":"1"}`,
			check: func(t *testing.T, a *Auth) {
				if !slices.Equal(a.OrgPermissions, []string{"org:reports:read"}) {
					t.Fatalf("permissions %q", a.OrgPermissions)
				}
			}},
		{name: "v2 fea entry without scope", extra: `,"v":2,"fea":"o:a,bad","o":{"id":"org_a"}`, reason: ReasonTokenVerificationFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == "" {
				h = rawHeader
			}
			a, err := m.Authenticate(bearer(rawToken(t, h, rawClaims(tc.extra))))
			if got := reasonOf(err); got != tc.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.reason)
			}
			if tc.reason != "" {
				if !errors.Is(err, ErrTokenInvalid) {
					t.Fatalf("%v is not ErrTokenInvalid", err)
				}
				return
			}
			tc.check(t, a)
		})
	}
}

// TestClaimErrorDetails checks that each rejection says what was wrong.
func TestClaimErrorDetails(t *testing.T) {
	m := pemMiddleware(t, nil)
	for extra, detail := range map[string]string{
		`,"o":{"a":1,"a":2}`: "duplicate member name in token payload",
		`,"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200): "nested deeper than 128",
		`,"nbf":"1"`: `claim "nbf" is not a number`,
		`,"sid":5`:   `claim "sid" has the wrong type`,
	} {
		_, err := m.Authenticate(bearer(rawToken(t, rawHeader, rawClaims(extra))))
		if err == nil || !strings.Contains(err.Error(), detail) {
			t.Errorf("%.40s: %v, want %q", extra, err, detail)
		}
	}
	_, err := m.Authenticate(bearer(rawToken(t, `{"alg":"RS256","alg":"RS256"}`, rawClaims(""))))
	if err == nil || !strings.Contains(err.Error(), "duplicate member name in token header") {
		t.Errorf("header: %v", err)
	}
}

// TestClaimOrderAsClerk: Clerk checks exp before nbf's and iat's types.
func TestClaimOrderAsClerk(t *testing.T) {
	m := pemMiddleware(t, nil)
	u := testNow.Unix()
	tok := rawToken(t, rawHeader, fmt.Sprintf(`{"sub":"user_1","exp":%d,"nbf":null}`, u-100))
	if _, err := m.Authenticate(bearer(tok)); reasonOf(err) != ReasonTokenExpired || !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired token with nbf null: %v", err)
	}
}

func TestHasAsClerk(t *testing.T) {
	m := pemMiddleware(t, nil)
	auth := func(extra string) *Auth {
		t.Helper()
		a, err := m.Authenticate(bearer(rawToken(t, rawHeader, rawClaims(extra))))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	v2 := auth(`,"v":2,"fea":"o:f1,u:pro_feature,xo:admin","pla":"u:free_user,o:team","o":{"id":"org_a","rol":"admin","per":"read","fpm":"1"}`)
	v1 := auth(`,"org_id":"org_b","org_role":"org:org:admin","org_permissions":["org:f1:read","f2:write"]`)
	cases := []struct {
		a    *Auth
		c    Check
		want bool
	}{
		{v2, Check{Permission: "f1:read"}, true},
		{v2, Check{Permission: "org:org:f1:read"}, true},
		{v2, Check{Role: "admin"}, true},
		{v2, Check{Role: "org:org:admin"}, true},
		{v1, Check{Role: "admin"}, true},
		{v1, Check{Permission: "f1:read"}, true},
		{v1, Check{Permission: "f2:write"}, false}, // the token's value is not normalised
		{v2, Check{Feature: "admin"}, false},
		{v2, Check{Feature: "org:admin"}, false},
		{v2, Check{Feature: "xo:admin"}, false},
		{v2, Check{Feature: "f1"}, true},
		{v2, Check{Feature: "o:f1"}, true},
		{v2, Check{Feature: "organization:f1"}, true},
		{v2, Check{Feature: "user:pro_feature"}, true},
		{v2, Check{Plan: "free_user"}, true},
		{v2, Check{Plan: "user:team"}, false},
		{v2, Check{Plan: "x:team"}, false},
		{auth(`,"fea":"u:a,"`), Check{Feature: "a"}, false}, // Clerk cannot split the list
		{auth(`,"fva":[-5,3]`), Check{Reverification: Reverify("strict")}, false},
		{auth(`,"fva":[3,-5]`), Check{Reverification: Reverification{"first_factor", 10}}, false},
		{auth(`,"fva":[-1,-1]`), Check{Reverification: Reverify("lax")}, false},
		{auth(`,"fva":[-1,3]`), Check{Reverification: Reverify("strict")}, true},
		{auth(`,"fva":[-1,3]`), Check{Reverification: Reverify("strict_mfa")}, false},
		{auth(`,"fva":[3,-1]`), Check{Reverification: Reverify("strict_mfa")}, true},
		{auth(`,"fva":[3,20]`), Check{Reverification: Reverify("strict_mfa")}, false},
	}
	for i, tc := range cases {
		if got := tc.a.Has(tc.c); got != tc.want {
			t.Errorf("case %d: Has(%+v) = %v, want %v", i, tc.c, got, tc.want)
		}
	}
}

func eq(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
