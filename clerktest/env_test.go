package clerktest_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/reason"
)

// exportOtherInstance sets every CLERK_* variable a Clerk developer has
// exported to valid values of another instance, as scripts/envcheck.sh
// does for the whole suite.
func exportOtherInstance(t *testing.T) {
	t.Helper()
	other := clerktest.New(t)
	for name, val := range map[string]string{
		"CLERK_SECRET_KEY":             other.SecretKey(),
		"CLERK_JWT_KEY":                other.PublicKeyPEM(),
		"CLERK_PUBLISHABLE_KEY":        other.PublishableKey(),
		"CLERK_API_URL":                other.URL,
		"CLERK_API_VERSION":            "2021-02-05",
		"CLERK_AUTHORIZED_PARTIES":     "https://other.example.com",
		"CLERK_MACHINE_SECRET_KEY":     "ak_otherinstance0000000000",
		"CLERK_WEBHOOK_SIGNING_SECRET": "whsec_b3RoZXJpbnN0YW5jZXNlY3JldA==",
	} {
		t.Setenv(name, val)
	}
}

// TestOptionsIgnoreEnvironment shows that a developer's exported CLERK_*
// variables change nothing in Server.Options, and that they would have
// changed the result had they been read (the control).
func TestOptionsIgnoreEnvironment(t *testing.T) {
	exportOtherInstance(t)
	srv := clerktest.New(t)
	srv.AddUser(clerktest.User{ID: "user_env"})
	tok := srv.SessionToken("user_env")

	mw := newMiddleware(t, srv.Options())
	auth, err := authenticate(t, mw, tok)
	if err != nil || auth.UserID != "user_env" {
		t.Fatalf("with CLERK_* exported: auth %+v, err %v; want user_env signed in", auth, err)
	}
	client, err := clerkauth.NewClient(srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	if u, err := client.GetUser(context.Background(), "user_env"); err != nil || u.ID != "user_env" {
		t.Fatalf("Client.GetUser with CLERK_* exported: %+v, %v", u, err)
	}

	// Control: the same options reading the environment verify against the
	// other instance's CLERK_JWT_KEY and reject the token.
	opts := srv.Options()
	opts.Getenv = nil
	opts.Logger = slog.New(slog.DiscardHandler)
	control, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close()
	_, err = authenticate(t, control, tok)
	if reasonOf(err) != reason.TokenInvalidSignature {
		t.Fatalf("reading the environment: err %v, want %s (the control shows the variables are in effect)",
			err, reason.TokenInvalidSignature)
	}
}
