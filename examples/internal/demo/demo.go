// Package demo is what the examples share besides clerkauth itself: their
// configuration from the environment and, when no CLERK_* key is set, an
// embedded Clerk instance (a [clerktest.Server]) with a demo user, so that
// every example runs from a fresh clone with no Clerk account.
package demo

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// Demo identities of the embedded instance.
const (
	UserID = "user_demo"
	OrgID  = "org_demo"
	// AdminPermission is the organization permission the examples'
	// /api/admin route requires.
	AdminPermission = "org:admin:access"
	// SupabaseTemplate is the JWT template the /api/token routes mint.
	SupabaseTemplate = "supabase"
)

// TokenLifetime is the life of the tokens printed for the embedded
// instance: long enough to paste them (real Clerk session tokens live 60s).
const TokenLifetime = time.Hour

// DefaultAddr is where the examples listen without $ADDR or -addr: the
// loopback interface only, since the embedded instance's printed tokens
// (an organization admin's among them) are valid for an hour. Listen on
// all interfaces with -addr :8080.
const DefaultAddr = "127.0.0.1:8080"

// Addr returns the listen address: $ADDR, else DefaultAddr.
func Addr(getenv func(string) string) string {
	if a := getenv("ADDR"); a != "" {
		return a
	}
	return DefaultAddr
}

// Config is how an example authenticates: either a real Clerk instance
// from the CLERK_* variables, or the embedded one.
type Config struct {
	// Options configure clerkauth.New.
	Options clerkauth.Options
	// Embedded is the embedded instance, nil for a real one.
	Embedded *clerktest.Server
	// WebhookSecret verifies the webhooks of WebhookPath:
	// $CLERK_WEBHOOK_SIGNING_SECRET, or the embedded instance's.
	WebhookSecret string
}

// Close stops the embedded instance, if any.
func (c *Config) Close() {
	if c.Embedded != nil {
		c.Embedded.Close()
	}
}

// realInstanceVars are the variables that configure a real instance
// besides its keys: one of them set without a key is a half-configured
// real instance (a key's name misspelt, say), not a wish for the demo.
var realInstanceVars = []string{"CLERK_PUBLISHABLE_KEY", "CLERK_AUTHORIZED_PARTIES", "CLERK_WEBHOOK_SIGNING_SECRET",
	"CLERK_MACHINE_SECRET_KEY", "CLERK_API_URL", "CLERK_API_VERSION"}

// Configure reads CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY,
// CLERK_AUTHORIZED_PARTIES (comma-separated origins) and
// CLERK_WEBHOOK_SIGNING_SECRET through getenv.
// With no CLERK_* variable set it starts the embedded instance instead,
// with the demo user, the "supabase" template, and the authorized party of
// its tokens. Another CLERK_* variable (CLERK_PUBLISHABLE_KEY...) without
// CLERK_SECRET_KEY or CLERK_JWT_KEY is an error that names both: a real
// instance half configured never falls back to the demo. embedded configure
// the embedded instance (a development one by default). Call Close when
// done.
func Configure(getenv func(string) string, embedded ...clerktest.ServerOption) (*Config, error) {
	if getenv("CLERK_SECRET_KEY") != "" || getenv("CLERK_JWT_KEY") != "" {
		opts := clerkauth.Options{
			SecretKey:         getenv("CLERK_SECRET_KEY"),
			JWTKey:            getenv("CLERK_JWT_KEY"),
			PublishableKey:    getenv("CLERK_PUBLISHABLE_KEY"),
			AuthorizedParties: AuthorizedParties(getenv),
		}
		return &Config{Options: opts, WebhookSecret: getenv("CLERK_WEBHOOK_SIGNING_SECRET")}, nil
	}
	if err := HalfConfigured(getenv); err != nil {
		return nil, err
	}
	srv := clerktest.NewServer(embedded...)
	srv.AddUser(clerktest.User{
		ID:        UserID,
		FirstName: "Ada",
		LastName:  "Lovelace",
		Username:  "ada",
		Email:     "ada@example.com",
	})
	srv.AddTemplate(SupabaseTemplate, map[string]any{"role": "authenticated", "aud": "authenticated"})
	opts := srv.Options()
	opts.AuthorizedParties = []string{clerktest.DefaultAuthorizedParty}
	return &Config{Options: opts, Embedded: srv, WebhookSecret: srv.WebhookSecret()}, nil
}

// HalfConfigured reports, for a program about to run the embedded demo
// instance because neither CLERK_SECRET_KEY nor CLERK_JWT_KEY is set, a
// variable of a real instance that is set all the same (a misspelt key
// name, most likely): an error naming it, so that the program exits
// rather than serving demo tokens in place of the real instance.
func HalfConfigured(getenv func(string) string) error {
	for _, name := range realInstanceVars {
		if getenv(name) != "" {
			return fmt.Errorf("%s is set but CLERK_SECRET_KEY (or CLERK_JWT_KEY) is not: set it to serve your Clerk instance "+
				"(is its name misspelt?), or unset %s to run the embedded demo instance", name, strings.Join(realInstanceVars, ", "))
		}
	}
	return nil
}

// AuthorizedParties reads CLERK_AUTHORIZED_PARTIES, comma-separated
// origins, ignoring blanks around and between them.
func AuthorizedParties(getenv func(string) string) []string {
	var parties []string
	for p := range strings.SplitSeq(getenv("CLERK_AUTHORIZED_PARTIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			parties = append(parties, p)
		}
	}
	return parties
}

// Route is one line of the printed instructions.
type Route struct {
	Path string
	// Token is "user" (the demo user), "admin" (the demo user as an
	// organization admin with AdminPermission) or "" (no token).
	Token string
}

// Routes are the routes every example serves, as PrintCurl shows them.
var Routes = []Route{
	{"/api/public", ""},
	{"/api/protected", ""},
	{"/api/protected", "user"},
	{"/api/token", "user"},
	{"/api/user", "user"},
	{"/api/admin", "user"},
	{"/api/admin", "admin"},
}

// PrintCurl writes a ready-to-paste curl command for each of Routes, with
// tokens freshly minted by the embedded instance, to reach the server at
// baseURL ("http://127.0.0.1:8080"). It does nothing for a real instance:
// its tokens come from a signed-in browser.
func (c *Config) PrintCurl(w io.Writer, baseURL string) {
	if c.Embedded == nil {
		return
	}
	user := c.Embedded.SessionToken(UserID, clerktest.WithLifetime(TokenLifetime))
	admin := c.Embedded.SessionToken(UserID, clerktest.WithLifetime(TokenLifetime),
		clerktest.WithOrg(OrgID, "demo", "admin", AdminPermission))
	fmt.Fprintf(w, "No CLERK_SECRET_KEY or CLERK_JWT_KEY: using an embedded demo Clerk instance at %s.\n", c.Embedded.URL)
	fmt.Fprintf(w, "Its demo tokens below are valid for 1 hour, until %s; restart for new ones.\n\n",
		time.Now().Add(TokenLifetime).Format("15:04 MST"))
	for _, rt := range Routes {
		switch rt.Token {
		case "":
			fmt.Fprintf(w, "# %s, signed out\ncurl -i %s%s\n\n", rt.Path, baseURL, rt.Path)
		default:
			tok := user
			if rt.Token == "admin" {
				tok = admin
			}
			fmt.Fprintf(w, "# %s, as %s (%s)\ncurl -i -H 'Authorization: Bearer %s' %s%s\n\n",
				rt.Path, UserID, rt.Token, tok, baseURL, rt.Path)
		}
	}
	fmt.Fprintf(w, "%s\n%s\n", VerifyComment, c.VerifyCommand(user))
}

// VerifyComment is the line PrintCurl prints above [Config.VerifyCommand].
const VerifyComment = "# Why a token is (not) accepted: the clerkauth CLI, from the repository root"

// VerifyCommand returns the command line that verifies tok with the
// clerkauth CLI against the embedded instance's public JWKS, with the
// same authorized party as the example server.
func (c *Config) VerifyCommand(tok string) string {
	return "go run ./cmd/clerkauth verify -jwks-url " + c.Embedded.URL + "/.well-known/jwks.json" +
		" -azp " + strings.Join(c.Options.AuthorizedParties, ",") + " " + tok
}

// BaseURL returns the URL to reach a server listening on addr, as
// net.Listener.Addr().String() gives it ("[::]:8080", "127.0.0.1:54321").
func BaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
