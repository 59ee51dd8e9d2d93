package clerkauth

import (
	"strings"
	"testing"
)

// TestGetenv checks that Options.Getenv is the only way the environment is
// read: a custom one supplies every CLERK_* default, and one returning ""
// hides the process environment completely.
func TestGetenv(t *testing.T) {
	pemKey := pemOf(t, &testKey(t, 0).PublicKey)
	env := map[string]string{
		"CLERK_SECRET_KEY":         "sk_test_fromgetenv",
		"CLERK_PUBLISHABLE_KEY":    "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
		"CLERK_API_URL":            "https://api.example.com/",
		"CLERK_API_VERSION":        "2099-01-01",
		"CLERK_JWT_KEY":            pemKey,
		"CLERK_MACHINE_SECRET_KEY": "ak_fromgetenv",
	}
	// The process environment says something else, which must not matter.
	t.Setenv("CLERK_SECRET_KEY", "sk_live_process")
	t.Setenv("CLERK_API_VERSION", "2000-01-01")
	t.Setenv("CLERK_JWT_KEY", "not a key")

	c, err := Options{Getenv: func(name string) string { return env[name] }}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.secretKey != env["CLERK_SECRET_KEY"] || c.apiURL != "https://api.example.com" || c.apiVersion != "2099-01-01" ||
		strings.Join(c.issuers, ",") != "https://clerk.example.com" || c.pemKey == nil || c.machineSecretKey != "ak_fromgetenv" {
		t.Fatalf("resolved through Getenv: %+v", c)
	}

	none := func(string) string { return "" }
	if _, err := New(Options{Getenv: none}); err == nil || !strings.Contains(err.Error(), "no way to verify tokens") {
		t.Fatalf("Getenv returning \"\": err %v, want no way to verify tokens", err)
	}
	if _, err := NewClient(Options{Getenv: none}); err == nil {
		t.Fatal("NewClient found a secret key in an empty environment")
	}
	c, err = Options{Getenv: none, SecretKey: "sk_test_explicit"}.resolve()
	if err != nil || c.apiVersion != DefaultAPIVersion || c.pemKey != nil || c.machineSecretKey != "" {
		t.Fatalf("Getenv returning \"\": %+v %v", c, err)
	}
}
