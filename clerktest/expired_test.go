package clerktest_test

import (
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/reason"
)

// TestExpiredVersusSkew pins what the WithLifetime and WithExpired docs
// say: a token one second past exp is inside the 5 s clock skew and
// accepted; WithExpired is rejected as expired.
func TestExpiredVersusSkew(t *testing.T) {
	srv := clerktest.New(t)
	at := time.Now().Truncate(time.Second)
	opts := srv.Options()
	opts.Now = func() time.Time { return at }
	mw := newMiddleware(t, opts)

	justPast := srv.SessionToken("user_1", clerktest.WithIssuedAt(at.Add(-10*time.Second)), clerktest.WithLifetime(9*time.Second))
	if _, err := authenticate(t, mw, justPast); err != nil {
		t.Fatalf("exp 1s ago, inside the 5s skew: %v, want signed in", err)
	}
	negative := srv.SessionToken("user_1", clerktest.WithIssuedAt(at), clerktest.WithLifetime(-time.Second))
	if _, err := authenticate(t, mw, negative); err != nil {
		t.Fatalf("WithLifetime(-time.Second): %v, want signed in (inside the skew, as its doc says)", err)
	}

	// WithExpired dates the token by the wall clock; the middleware's clock
	// is the same instant, so the token is a minute past exp.
	opts.Now = time.Now
	mw = newMiddleware(t, opts)
	expired := srv.SessionToken("user_1", clerktest.WithExpired())
	if _, err := authenticate(t, mw, expired); reasonOf(err) != reason.TokenExpired {
		t.Fatalf("WithExpired: %v, want %s", err, reason.TokenExpired)
	}
	if exp := decodeClaims(t, expired)["exp"].(float64); time.Unix(int64(exp), 0).After(time.Now().Add(-5*time.Second - 50*time.Second)) {
		t.Fatalf("WithExpired: exp %v is not a minute in the past", exp)
	}
}

// TestWithOrgAnyRole checks that WithOrg takes any role key, with or
// without the org: prefix.
func TestWithOrgAnyRole(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMiddleware(t, srv.Options())
	for _, role := range []string{"admin", "org:admin", "member", "org:billing_manager", "viewer"} {
		auth, err := authenticate(t, mw, srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", role)))
		want := "org:" + role
		if role[:4] == "org:" {
			want = role
		}
		if err != nil || auth.OrgRole != want {
			t.Errorf("WithOrg role %q: OrgRole %q, err %v; want %q", role, auth.OrgRole, err, want)
		}
	}
}
