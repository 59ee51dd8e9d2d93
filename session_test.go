package clerkauth

import (
	"slices"
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
		{"strict: second factor 30 min ago", a, Check{Reverification: ReverifyStrict()}, false},
		{"moderate: second factor 30 min ago", a, Check{Reverification: ReverifyModerate()}, true},
		{"strict_mfa", a, Check{Reverification: ReverifyStrictMFA()}, false},
		{"lax", a, Check{Reverification: ReverifyLax()}, true},
		{"first factor custom", a, Check{Reverification: Reverification{Level: "first_factor", AfterMinutes: 10}}, true},
		{"second factor falls back to first", noOrg, Check{Reverification: ReverifyStrict()}, true},
		{"multi factor without second", noOrg, Check{Reverification: ReverifyStrictMFA()}, true},
		{"unknown level", a, Check{Reverification: Reverification{Level: "third", AfterMinutes: 100}}, false},
		{"reverification and permission", a, Check{Permission: "org:projects:read", Reverification: ReverifyModerate()}, true},
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
		var n numericDate
		err := n.UnmarshalJSON([]byte(tc.in))
		if (err != nil) != tc.fail || n.sec != tc.sec || n.set != tc.set {
			t.Errorf("%s: got %+v %v", tc.in, n, err)
		}
	}
}
