package clerktest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// Real v2 tokens always carry pla: the user's plan, and the active
// organization's when there is one (Clerk's docs, session-tokens: "one
// entry (if no org is active) or two entries"); the free plans by default.
func TestSessionTokenPlans(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	org := clerktest.WithOrg("org_1", "acme", "admin")
	tests := []struct {
		name     string
		opts     []clerktest.TokenOption
		plans    []string
		has, not []clerkauth.Check
	}{
		{"default", nil, []string{"u:free_user"},
			[]clerkauth.Check{{Plan: "free_user"}, {Plan: "user:free_user"}, {Plan: "u:free_user"}},
			[]clerkauth.Check{{Plan: "org:free_org"}, {Plan: "free_org"}}},
		{"default with an org", []clerktest.TokenOption{org}, []string{"u:free_user", "o:free_org"},
			[]clerkauth.Check{{Plan: "free_user"}, {Plan: "org:free_org"}, {Plan: "organization:free_org"}},
			[]clerkauth.Check{{Plan: "user:free_org"}}},
		{"user plan", []clerktest.TokenOption{clerktest.WithPlans("pro")}, []string{"u:pro"},
			[]clerkauth.Check{{Plan: "pro"}, {Plan: "user:pro"}},
			[]clerkauth.Check{{Plan: "free_user"}}},
		{"org plan, long scope", []clerktest.TokenOption{clerktest.WithPlans("organization:team"), org}, []string{"u:free_user", "o:team"},
			[]clerkauth.Check{{Plan: "free_user"}, {Plan: "org:team"}},
			[]clerkauth.Check{{Plan: "org:free_org"}, {Plan: "user:team"}}},
		{"both, in two calls", []clerktest.TokenOption{org, clerktest.WithPlans("org:team"), clerktest.WithPlans("user:pro")}, []string{"u:pro", "o:team"},
			[]clerkauth.Check{{Plan: "pro"}, {Plan: "team"}},
			[]clerkauth.Check{{Plan: "free_user"}, {Plan: "free_org"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := srv.SessionToken("user_1", tc.opts...)
			if got, want := decodeClaims(t, tok)["pla"], strings.Join(tc.plans, ","); got != want {
				t.Errorf("pla = %v, want %q", got, want)
			}
			a, err := authenticate(t, mw, tok)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !slices.Equal(a.Plans, tc.plans) || a.Features != nil {
				t.Errorf("Plans %v Features %v, want %v and none", a.Plans, a.Features, tc.plans)
			}
			for _, c := range tc.has {
				if !a.Has(c) {
					t.Errorf("Has(%+v) = false", c)
				}
			}
			for _, c := range tc.not {
				if a.Has(c) {
					t.Errorf("Has(%+v) = true", c)
				}
			}
		})
	}
}

// act carries sub, iss and sid, as Clerk's impersonation tokens.
func TestSessionTokenActor(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	a, err := authenticate(t, mw, srv.SessionToken("user_1", clerktest.WithActor("user_admin")))
	if err != nil {
		t.Fatal(err)
	}
	act := a.Actor
	if act == nil || act.Subject != "user_admin" || act.Issuer != clerktest.DefaultActorIssuer ||
		!strings.HasPrefix(act.SessionID, "sess_") || act.SessionID == a.SessionID {
		t.Fatalf("Actor = %+v (session %q), want sub user_admin, iss %s, another sess_ id", act, a.SessionID, clerktest.DefaultActorIssuer)
	}
	if a, err = authenticate(t, mw, srv.SessionToken("user_1")); err != nil || a.Actor != nil {
		t.Errorf("no WithActor: Actor %+v, err %v", a.Actor, err)
	}
}

// fea and o.per are sorted, as in Clerk's tokens, and fpm follows both
// orders; a feature is written once, with the scopes Clerk writes.
func TestSessionTokenFeatureEncoding(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	tests := []struct {
		name          string
		opts          []clerktest.TokenOption
		fea, per, fpm string // per "" means no o.per and no o.fpm
		perms         []string
		has, not      []clerkauth.Check
	}{
		{"sorted",
			[]clerktest.TokenOption{clerktest.WithFeatures("u:zeta", "o:alpha", "beta"),
				clerktest.WithOrg("org_1", "acme", "admin", "org:reports:write", "org:reports:read", "org:alpha:read", "org:alpha:delete")},
			"o:alpha,o:reports,u:beta,u:zeta", "delete,read,write", "3,6",
			[]string{"org:alpha:delete", "org:alpha:read", "org:reports:read", "org:reports:write"},
			[]clerkauth.Check{{Feature: "beta"}, {Feature: "user:zeta"}, {Feature: "org:alpha"}, {Permission: "reports:write"}},
			[]clerkauth.Check{{Feature: "org:beta"}, {Permission: "org:reports:delete"}}},
		{"organization: scope with a permission",
			[]clerktest.TokenOption{clerktest.WithFeatures("organization:reports"), clerktest.WithOrg("org_1", "acme", "admin", "org:reports:read")},
			"o:reports", "read", "1", []string{"org:reports:read"},
			[]clerkauth.Check{{Feature: "org:reports"}, {Feature: "reports"}, {Permission: "org:reports:read"}},
			[]clerkauth.Check{{Feature: "user:reports"}}},
		{"user feature an org permission needs is uo",
			[]clerktest.TokenOption{clerktest.WithFeatures("user:reports", "o:billing"), clerktest.WithOrg("org_1", "acme", "admin", "org:reports:read")},
			"o:billing,uo:reports", "read", "0,1", []string{"org:reports:read"},
			[]clerkauth.Check{{Feature: "user:reports"}, {Feature: "org:reports"}, {Permission: "org:reports:read"}},
			[]clerkauth.Check{{Permission: "org:billing:read"}}},
		{"both scopes merged",
			[]clerktest.TokenOption{clerktest.WithFeatures("u:x", "org:x", "ou:y", "y")},
			"uo:x,uo:y", "", "", nil,
			[]clerkauth.Check{{Feature: "user:x"}, {Feature: "org:x"}, {Feature: "user:y"}, {Feature: "org:y"}},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := srv.SessionToken("user_1", tc.opts...)
			c := decodeClaims(t, tok)
			if c["fea"] != tc.fea {
				t.Errorf("fea = %v, want %q", c["fea"], tc.fea)
			}
			if o, _ := c["o"].(map[string]any); tc.per != "" && (o["per"] != tc.per || o["fpm"] != tc.fpm) {
				t.Errorf("o = %v, want per %q fpm %q", o, tc.per, tc.fpm)
			}
			a, err := authenticate(t, mw, tok)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if got := slices.Sorted(slices.Values(a.OrgPermissions)); !slices.Equal(got, tc.perms) {
				t.Errorf("OrgPermissions = %v, want %v", got, tc.perms)
			}
			if got := strings.Join(a.Features, ","); got != tc.fea {
				t.Errorf("Features = %v, want %s", a.Features, tc.fea)
			}
			for _, ch := range tc.has {
				if !a.Has(ch) {
					t.Errorf("Has(%+v) = false", ch)
				}
			}
			for _, ch := range tc.not {
				if a.Has(ch) {
					t.Errorf("Has(%+v) = true", ch)
				}
			}
		})
	}
}

// Options asking for what Clerk never mints panic with a message saying
// why; the limits themselves mint.
func TestSessionTokenRefusesWhatClerkNeverMints(t *testing.T) {
	srv := clerktest.New(t)
	org := clerktest.WithOrg("org_1", "acme", "admin")
	tests := []struct {
		name string
		mint func() string
		want string // in the panic message
	}{
		{"unknown plan scope", func() string { return srv.SessionToken("user_1", clerktest.WithPlans("team:pro")) }, `WithPlans: "team:pro": scope "team"`},
		{"unknown feature scope", func() string { return srv.SessionToken("user_1", clerktest.WithFeatures("x:export")) }, `WithFeatures: "x:export": scope "x"`},
		{"plan for both", func() string { return srv.SessionToken("user_1", clerktest.WithPlans("ou:pro"), org) }, "never both"},
		{"two user plans", func() string { return srv.SessionToken("user_1", clerktest.WithPlans("pro", "plus")) }, "two user plans"},
		{"two user plans, two calls", func() string {
			return srv.SessionToken("user_1", clerktest.WithPlans("pro"), clerktest.WithPlans("user:plus"))
		}, "two user plans"},
		{"two org plans", func() string { return srv.SessionToken("user_1", clerktest.WithPlans("o:a", "org:b"), org) }, "two organization plans"},
		{"org plan without an org", func() string { return srv.SessionToken("user_1", clerktest.WithPlans("org:team")) }, "without an active organization"},
		{"empty plan", func() string { return srv.SessionToken("user_1", clerktest.WithPlans("")) }, "non-empty"},
		{"empty feature name", func() string { return srv.SessionToken("user_1", clerktest.WithFeatures("u:")) }, "non-empty"},
		{"comma in a feature", func() string { return srv.SessionToken("user_1", clerktest.WithFeatures("a,b")) }, "without ','"},
		{"colon in a feature name", func() string { return srv.SessionToken("user_1", clerktest.WithFeatures("o:a:b")) }, "without ','"},
		{"factor age -5", func() string { return srv.SessionToken("user_1", clerktest.WithFactorAge(-5, 3)) }, "WithFactorAge(-5, 3)"},
		{"second factor age -2", func() string { return srv.SessionToken("user_1", clerktest.WithFactorAge(3, -2)) }, "WithFactorAge(3, -2)"},
		{"malformed permission", func() string {
			return srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin", "reports:read"))
		}, "WithOrg: permission"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := panicMessage(tc.mint)
			if !strings.HasPrefix(msg, "clerktest: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("panic %q, want one containing %q", msg, tc.want)
			}
		})
	}

	mw := newMiddleware(t, srv.Options())
	a, err := authenticate(t, mw, srv.SessionToken("user_1", clerktest.WithFactorAge(-1, -1)))
	if err != nil || !slices.Equal(a.FactorVerificationAge, []int{-1, -1}) {
		t.Errorf("WithFactorAge(-1, -1): fva %v, err %v", a.FactorVerificationAge, err)
	}
}

// panicMessage runs f and returns what it panicked with, "" if it did not.
func panicMessage(f func() string) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}
