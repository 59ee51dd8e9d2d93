package clerkauth

import (
	"os"
	"testing"
)

// clerkEnv lists every CLERK_* variable the library or a Clerk developer's
// shell may set.
var clerkEnv = []string{
	"CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_API_URL", "CLERK_API_VERSION",
	"CLERK_AUTHORIZED_PARTIES", "CLERK_MACHINE_SECRET_KEY", "CLERK_WEBHOOK_SIGNING_SECRET",
}

// TestMain runs the tests in an environment without the developer's own
// CLERK_* variables (scripts/envcheck.sh sets them all to another
// instance's): the tests configure the middleware through Options, and the
// few that test the environment fallback set it with t.Setenv.
func TestMain(m *testing.M) {
	for _, name := range clerkEnv {
		os.Unsetenv(name)
	}
	os.Exit(m.Run())
}
