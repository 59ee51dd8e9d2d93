package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/instance"
)

// isolateEnv blanks the CLERK_* variables of the real environment, which
// clerkauth falls back to for empty options.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_API_URL", "CLERK_API_VERSION"} {
		t.Setenv(name, "")
	}
}

// runCLI runs the command as if at time now and returns its exit status
// and output.
func runCLI(t *testing.T, now time.Time, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return env[k] }, now: func() time.Time { return now }}
	code = c.run(args)
	return code, out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, strings.NewReader(""), &out, &errOut, func(string) string { return "" }); code != 0 ||
		out.String() != "clerkauth "+instance.Version+"\n" {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

func envFor(srv *clerktest.Server) map[string]string {
	return map[string]string{
		"CLERK_SECRET_KEY":      srv.SecretKey(),
		"CLERK_PUBLISHABLE_KEY": srv.PublishableKey(),
		"CLERK_API_URL":         srv.URL,
	}
}

func TestDecode(t *testing.T) {
	isolateEnv(t)
	srv := clerktest.New(t)
	// Decoding does not depend on the clock: tokens are dated relative to
	// a fixed instant and the command runs one second after it.
	at := time.Now().Truncate(time.Second)
	iat := clerktest.WithIssuedAt(at)
	rich := srv.SessionToken("user_1", iat, clerktest.WithSessionID("sess_1"),
		clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read", "org:invoices:write", "org:reports:read"),
		clerktest.WithActor("user_admin"), clerktest.WithPlans("u:pro"), clerktest.WithFactorAge(3, -1))
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		want    []string // in stdout (or stderr when code is not 0)
		wantNot []string
	}{
		{"session token", []string{"decode", rich}, "", 0, []string{
			"NOT VERIFIED", `"alg": "RS256"`, `"cat": "cl_B7d4PD111AAA"`, `"sub": "user_1"`,
			"expires in 59s", "issued 1s ago", "valid since 11s ago", "lifetime 1m0s",
			"Clerk session token (claims v2)", "user         user_1", "session      sess_1 (active)",
			"org          org_1  acme  org:admin", "org:invoices:read, org:invoices:write, org:reports:read",
			"actor        user_admin (impersonation)", "plans        u:pro", "first 3m ago, second never",
			"iss          " + srv.Issuer(), "kid          " + srv.KeyID(),
		}, []string{srv.SecretKey(), rich}},
		{"expired, from stdin with Bearer", []string{"decode", "-"},
			"Bearer " + srv.SessionToken("user_1", clerktest.WithIssuedAt(at.Add(-4*time.Minute+time.Second))) + "\n", 0,
			[]string{"expired 3m ago", "issued 4m ago"}, nil},
		{"future", []string{"decode", srv.SessionToken("user_1", clerktest.WithIssuedAt(at.Add(time.Hour)))}, "", 0,
			[]string{"IN THE FUTURE", "NOT VALID YET"}, nil},
		{"cookie paste", []string{"decode", "__session=" + srv.SessionToken("user_2") + ";"}, "", 0, []string{"user         user_2"}, nil},
		{"template token", []string{"decode", srv.Sign(map[string]any{"alg": "RS256", "cat": clerktest.CategoryTemplate}, map[string]any{"sub": "user_1"})},
			"", 0, []string{"JWT template token", "exp  (absent)"}, nil},
		{"machine token", []string{"decode", srv.Sign(map[string]any{"alg": "RS256"}, map[string]any{"sub": "mch_1"})}, "", 0, []string{"M2M token"}, nil},
		{"alg none", []string{"decode", srv.Sign(map[string]any{"alg": "none"}, map[string]any{"sub": "user_1"})}, "", 0,
			[]string{`"none": Clerk signs with RS256`}, nil},
		{"v1 org claims", []string{"decode", srv.Sign(map[string]any{"alg": "RS256"}, map[string]any{"sub": "user_1",
			"org_id": "org_9", "org_slug": "old", "org_role": "org:member", "org_permissions": []string{"org:a:read"}})}, "", 0,
			[]string{"Clerk session token (claims v1)", "org_9  old  org:member", "permissions  org:a:read"}, nil},
		{"not a jwt", []string{"decode", "abc.def"}, "", 1, []string{"not a JWT: 2 dot-separated parts"}, nil},
		{"bad json", []string{"decode", "e30.bm90IGpzb24.c2ln"}, "", 1, []string{"claims: not a JSON object"}, nil},
		{"no token", []string{"decode"}, "", 2, []string{"exactly one TOKEN"}, nil},
		{"empty stdin", []string{"decode", "-"}, "  \n", 2, []string{"empty token"}, nil},
		{"no command", nil, "", 2, []string{"usage:"}, nil},
		{"unknown command", []string{"inspect"}, "", 2, []string{`unknown command "inspect"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, at.Add(time.Second), nil, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			text := out
			if code != 0 {
				text = errOut
			}
			for _, s := range tc.want {
				if !strings.Contains(text, s) {
					t.Errorf("output lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tc.wantNot {
				if strings.Contains(out+errOut, s) {
					t.Errorf("output contains %.20q...", s)
				}
			}
		})
	}
}

// TestDecodePermissionsMatchMiddleware checks that decode reads v2
// permissions exactly as the middleware does.
func TestDecodePermissionsMatchMiddleware(t *testing.T) {
	isolateEnv(t)
	srv := clerktest.New(t)
	mw, err := clerkauth.New(clerkauth.Options{JWTKey: srv.PublicKeyPEM()})
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	cases := map[string][]clerktest.TokenOption{
		"one":       {clerktest.WithOrg("org_1", "a", "admin", "org:x:read")},
		"several":   {clerktest.WithOrg("org_1", "a", "admin", "org:x:read", "org:y:write", "org:x:write", "org:z:delete")},
		"user feas": {clerktest.WithFeatures("u:export", "uo:y"), clerktest.WithOrg("org_1", "a", "admin", "org:y:read", "org:x:read")},
		"none":      {clerktest.WithOrg("org_1", "a", "admin")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			tok := srv.SessionToken("user_1", opts...)
			a, err := mw.AuthenticateToken(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			d, err := decodeToken(tok)
			if err != nil {
				t.Fatal(err)
			}
			if got := orgOf(d.claims).perms; !slices.Equal(got, a.OrgPermissions) {
				t.Errorf("decode: %v, middleware: %v", got, a.OrgPermissions)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	isolateEnv(t)
	srv := clerktest.New(t)
	other := clerktest.New(t)
	down := clerktest.New(t)
	down.SetJWKSStatus(http.StatusServiceUnavailable)

	good := srv.SessionToken("user_1", clerktest.WithSessionID("sess_1"), clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read"))
	wrongIssuer := envFor(srv)
	wrongIssuer["CLERK_PUBLISHABLE_KEY"] = other.PublishableKey()
	badSecret := envFor(srv)
	badSecret["CLERK_SECRET_KEY"] = "sk_test_wrong"
	pem := map[string]string{"CLERK_JWT_KEY": srv.PublicKeyPEM()}
	pemOther := map[string]string{"CLERK_JWT_KEY": other.PublicKeyPEM()}
	dir := t.TempDir()
	pemFile, pemOtherFile := filepath.Join(dir, "srv.pem"), filepath.Join(dir, "other.pem")
	if err := os.WriteFile(pemFile, []byte(srv.PublicKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemOtherFile, []byte(other.PublicKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	jwksURL := srv.URL + "/.well-known/jwks.json"
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)

	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"signed in", envFor(srv), []string{"verify", good}, 0, []string{
			"keys         JWKS from " + srv.URL + "/v1/jwks with CLERK_SECRET_KEY (sk_test_: development instance)",
			"issuer       " + srv.Issuer() + " (from CLERK_PUBLISHABLE_KEY, development)",
			"signed-in", "user         user_1", "session      sess_1 (active)", "org          org_1  acme  org:admin",
			"permissions  org:invoices:read", "expires in ",
		}},
		{"stdin", envFor(srv), []string{"verify", "-"}, 0, []string{"signed-in"}},
		{"pem", pem, []string{"verify", good}, 0, []string{"PEM public key from CLERK_JWT_KEY", "issuer       not checked (no CLERK_PUBLISHABLE_KEY)", "signed-in"}},
		{"expired", envFor(srv), []string{"verify", srv.SessionToken("user_1", clerktest.WithLifetime(-time.Minute))}, 1,
			[]string{"signed-out", "reason       token-expired", "hint         it expired ", "session tokens live 60 seconds"}},
		{"future", envFor(srv), []string{"verify", srv.SessionToken("user_1", clerktest.WithIssuedAt(time.Now().Add(time.Hour)))}, 1,
			[]string{"reason       session-token-nbf", "in the future by this machine's clock"}},
		{"pending", envFor(srv), []string{"verify", srv.SessionToken("user_1", clerktest.WithPending())}, 1,
			[]string{"reason       session-pending", "status       pending", "AcceptPendingSessions"}},
		{"other instance", envFor(srv), []string{"verify", other.SessionToken("user_1")}, 1,
			[]string{"reason       jwk-kid-mismatch", other.KeyID(), other.Issuer()}},
		{"other pem", pemOther, []string{"verify", good}, 1,
			[]string{"reason       token-invalid-signature", "either CLERK_JWT_KEY is not the key of the instance that issued this token", "or the token was altered after it was signed"}},
		{"wrong issuer", wrongIssuer, []string{"verify", good}, 1,
			[]string{"reason       token-invalid-issuer", `iss is "` + srv.Issuer() + `" but CLERK_PUBLISHABLE_KEY says "` + other.Issuer()}},
		{"azp", envFor(srv), []string{"verify", "-azp", "https://app.example.com", good}, 1,
			[]string{"azp          https://app.example.com", "reason       token-invalid-authorized-parties", `azp is "http://localhost:3000"`}},
		{"azp ok", envFor(srv), []string{"verify", "-azp", "https://app.example.com, http://localhost:3000", good}, 0, []string{"signed-in"}},
		{"template token", envFor(srv), []string{"verify", srv.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "cat": clerktest.CategoryTemplate},
			map[string]any{"sub": "user_1", "exp": time.Now().Add(time.Minute).Unix()})}, 1,
			[]string{"reason       token-type-mismatch", "JWT template token"}},
		{"jwks down", envFor(down), []string{"verify", down.SessionToken("user_1")}, 1,
			[]string{"reason       jwk-remote-failed-to-load", "HTTP 503", "check the network"}},
		{"secret refused", badSecret, []string{"verify", good}, 1,
			[]string{"reason       secret-key-invalid", "refused CLERK_SECRET_KEY"}},
		{"garbage", envFor(srv), []string{"verify", "not-a-token"}, 1, []string{"reason       token-invalid", "did you copy the whole value"}},
		{"no configuration", nil, []string{"verify", good}, 2, []string{"no way to verify tokens"}},
		{"bad secret key", map[string]string{"CLERK_SECRET_KEY": "xyz_secret"}, []string{"verify", good}, 2, []string{"must start with sk_test_"}},
		{"bad flag", envFor(srv), []string{"verify", "-nope", good}, 2, []string{"flag provided but not defined", "usage:"}},

		// Keys from flags, as the examples print.
		{"jwks-url", nil, []string{"verify", "-jwks-url", jwksURL, good}, 0,
			[]string{"keys         JWKS from -jwks-url " + jwksURL, "signed-in", "user         user_1"}},
		{"jwks-url: no CLERK_* read", map[string]string{"CLERK_JWT_KEY": other.PublicKeyPEM(), "CLERK_PUBLISHABLE_KEY": other.PublishableKey()},
			[]string{"verify", "-jwks-url", jwksURL, good}, 0, []string{"signed-in", "issuer       not checked"}},
		{"jwks-url other instance", nil, []string{"verify", "-jwks-url", jwksURL, other.SessionToken("user_1")}, 1,
			[]string{"reason       jwk-kid-mismatch"}},
		{"pem file", nil, []string{"verify", "-pem", pemFile, good}, 0, []string{"PEM public key from -pem " + pemFile, "signed-in"}},
		{"pem file of another instance", envFor(srv), []string{"verify", "-pem", pemOtherFile, good}, 1,
			[]string{"reason       token-invalid-signature", "either the key in " + pemOtherFile + " is not the key", "or the token was altered"}},
		{"altered token", nil, []string{"verify", "-jwks-url", jwksURL, tamper(t, good)}, 1,
			[]string{"reason       token-invalid-signature", "either the token was altered after it was signed"}},
		{"pem file missing", nil, []string{"verify", "-pem", filepath.Join(dir, "none.pem"), good}, 2, []string{"-pem:"}},
		{"both key flags", nil, []string{"verify", "-pem", pemFile, "-jwks-url", jwksURL, good}, 2, []string{"not both"}},
		{"no keys at all", nil, []string{"verify", good}, 2, []string{"give -jwks-url URL or -pem FILE"}},

		// A pasted Cookie header goes through Clerk's __client_uat rules.
		{"cookie header", envFor(srv), []string{"verify", "Cookie: __session=" + good + "; __client_uat=123"}, 0,
			[]string{"signed-in", "cookie rule", "__client_uat=123 are both set", "is not before __client_uat"}},
		{"cookies pasted alone", envFor(srv), []string{"verify", "__session=" + good + "; __client_uat=123"}, 0,
			[]string{"signed-in", "cookie rule"}},
		{"cookie without client_uat", envFor(srv), []string{"verify", "Cookie: __session=" + good}, 1,
			[]string{"reason       session-token-but-no-client-uat", "cookie rule", "__client_uat is missing or 0"}},
		{"client_uat 0", envFor(srv), []string{"verify", "__session=" + good + "; __client_uat=0"}, 1,
			[]string{"reason       session-token-but-no-client-uat"}},
		{"signed in again since", envFor(srv), []string{"verify", "__session=" + good + "; __client_uat=" + future}, 1,
			[]string{"reason       session-token-iat-before-client-uat", "before __client_uat=" + future, "stale"}},
		{"client_uat without session", envFor(srv), []string{"verify", "Cookie: __client_uat=123; theme=dark"}, 1,
			[]string{"reason       client-uat-but-no-session-token", "no __session cookie"}},
		{"cookie with a bad token", envFor(srv), []string{"verify", "__session=not-a-token; __client_uat=123"}, 1,
			[]string{"reason       token-invalid", "the verification decided"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, time.Now(), tc.env, good, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.want {
				if !strings.Contains(out+errOut, s) {
					t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", s, out, errOut)
				}
			}
			for _, secret := range []string{srv.SecretKey(), other.SecretKey(), down.SecretKey(), "sk_test_wrong", good} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("output contains a secret key or the token %.16q...", secret)
				}
			}
		})
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {42 * time.Second, "42s"}, {59*time.Second + 999*time.Millisecond, "59s"},
		{time.Minute, "1m"}, {3*time.Minute + 59*time.Second, "3m"}, {time.Hour, "1h"},
		{47 * time.Hour, "47h"}, {48 * time.Hour, "2d"}, {400 * 24 * time.Hour, "400d"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := human(tc.d); got != tc.want {
				t.Errorf("human(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestCleanToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.b.c", "a.b.c"},
		{"  a.b.c\n", "a.b.c"},
		{"Bearer a.b.c", "a.b.c"},
		{"bearer a.b.c", "a.b.c"},
		{"Authorization: Bearer a.b.c", "a.b.c"},
		{"__session=a.b.c; ", "a.b.c"},
		{"__session_naoXFJnI=a.b.c", "a.b.c"},
		{`"a.b.c"`, "a.b.c"},
		{"Basic abc", "Basic abc"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := cleanToken(tc.in); got != tc.want {
				t.Errorf("cleanToken(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// tamper changes one claim of tok and keeps its signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(raw), `"user_1"`, `"user_2"`, 1)
	if changed == string(raw) {
		t.Fatal("tamper: no sub user_1")
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// TestHelp checks that asking for help, at any level, prints the usage on
// standard output and exits 0, while a bad flag exits 2 with the error and
// the usage on standard error.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"decode", "-h"}, {"verify", "-h"}, {"verify", "-help"}, {"decode", "--help"}} {
		code, out, errOut := runCLI(t, time.Now(), nil, "", args...)
		if code != 0 || out != usage || errOut != "" {
			t.Errorf("%q: exit %d, stdout %d bytes (usage %d), stderr %q; want 0, the usage, nothing", args, code, len(out), len(usage), errOut)
		}
	}
	code, out, errOut := runCLI(t, time.Now(), nil, "", "decode", "-x")
	if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "flag provided but not defined: -x\n") || !strings.HasSuffix(errOut, usage) {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
