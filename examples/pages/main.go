// Command pages is a server-rendered web application (html/template and
// htmx) whose users sign in with Clerk: the page-app twin of
// examples/basic. It needs no auth code beyond choosing which check
// protects which route and what refused requests see.
//
//	GET /              anyone: the user's id, or a sign-in link
//	GET /dashboard     signed in: a signed-out page load goes to the sign-in
//	                   page and comes back after signing in
//	GET /org/settings  the organization permission org:settings:manage;
//	                   others signed in get a 403 page
//	GET /fragments/me  an htmx fragment: signed out, htmx is sent to the
//	                   sign-in page (HX-Redirect) instead of swapping it in
//	GET /api/me        JSON; 401 {"error":"Not authenticated"} signed out,
//	                   never a redirect
//
// Without CLERK_SECRET_KEY it runs offline against an embedded Clerk
// instance (clerktest), whose hosted sign-in page lists the demo users,
// and prints the URL to open and the users to sign in as. With
// CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY set it serves your instance
// (set CLERK_SIGN_IN_URL, your sign-in page, and CLERK_AUTHORIZED_PARTIES,
// this application's origin) and loads clerk-js from its Frontend API.
//
//	go run ./examples/pages [-addr 127.0.0.1:8080] [-token-lifetime 60s] [-production]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pages:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully. The URL to
// open and the demo users go to stdout, logs to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", demo.Addr(getenv), "listen `address`; $ADDR when set")
	lifetime := fs.Duration("token-lifetime", clerktest.DefaultTokenLifetime,
		"life of the embedded instance's session tokens (Clerk's: 60s); past it, a page load goes through the handshake")
	production := fs.Bool("production", false,
		"make the embedded instance a production one (pk_live_: no development browser)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	origins := appOrigins(ln.Addr().String())

	var (
		opts     clerkauth.Options
		embedded *clerktest.Server
		site     site
	)
	if getenv("CLERK_SECRET_KEY") == "" {
		if err := demo.HalfConfigured(getenv); err != nil {
			return err
		}
		embedded = newInstance(*lifetime, *production)
		defer embedded.Close()
		opts = embedded.Options()
		opts.AuthorizedParties = origins
		site.signIn, site.signOut = embedded.SignInURL(), embedded.URL+"/sign-out"
	} else {
		opts = clerkauth.Options{Getenv: getenv, AuthorizedParties: demo.AuthorizedParties(getenv)}
		site.signIn = getenv("CLERK_SIGN_IN_URL")
	}
	opts.Logger = logger
	mw, err := clerkauth.New(opts)
	if err != nil {
		return err
	}
	defer mw.Close()
	if embedded == nil {
		// clerk-js keeps the session cookie fresh and signs out.
		site.publishableKey = getenv("CLERK_PUBLISHABLE_KEY")
		if fapi := mw.FrontendAPI(); fapi != "" {
			site.clerkJS = fapi + "/npm/@clerk/clerk-js@5/dist/clerk.browser.js"
		}
	}

	srv := demo.Start(ln, newHandler(mw, site, logger), logger)
	logger.Info("listening", "addr", ln.Addr().String(), "embedded", embedded != nil)
	printInstructions(stdout, origins[0], embedded, *lifetime, getenv("CLERK_SIGN_IN_URL"))
	return srv.Wait(ctx)
}

// Demo users of the embedded instance.
var demoUsers = []struct {
	user clerktest.User
	note string
}{
	{clerktest.User{ID: "user_admin", FirstName: "Ada", LastName: "Admin",
		SessionOptions: []clerktest.TokenOption{clerktest.WithOrg("org_acme", "acme", "admin", settingsPermission)}},
		"organization acme, admin: may open /org/settings"},
	{clerktest.User{ID: "user_member", FirstName: "Max", LastName: "Member",
		SessionOptions: []clerktest.TokenOption{clerktest.WithOrg("org_acme", "acme", "member", "org:settings:read")}},
		"organization acme, member: /org/settings answers 403"},
}

// newInstance starts the embedded Clerk instance with the demo users.
func newInstance(lifetime time.Duration, production bool) *clerktest.Server {
	opts := []clerktest.ServerOption{clerktest.WithSessionTokenLifetime(lifetime)}
	if production {
		opts = append(opts, clerktest.WithProductionInstance())
	}
	srv := clerktest.NewServer(opts...)
	for _, u := range demoUsers {
		srv.AddUser(u.user)
	}
	return srv
}

// appOrigins are the origins a browser reaches the listener at: the
// address itself, and localhost for a loopback or unspecified one. They
// are the authorized parties of the embedded instance's tokens.
func appOrigins(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{"http://" + addr}
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() && !ip.IsUnspecified() {
		return []string{"http://" + net.JoinHostPort(host, port)}
	}
	if ip.IsUnspecified() || ip.To4() == nil {
		host = "127.0.0.1"
	}
	return []string{"http://" + net.JoinHostPort(host, port), "http://localhost:" + port}
}

func printInstructions(w io.Writer, origin string, embedded *clerktest.Server, lifetime time.Duration, signIn string) {
	fmt.Fprintf(w, "Open %s/ in a browser.\n", origin)
	if embedded == nil {
		if signIn == "" {
			fmt.Fprintln(w, "CLERK_SIGN_IN_URL is not set: signed-out page loads get 401, not your sign-in page.")
		}
		return
	}
	fmt.Fprintf(w, "No CLERK_SECRET_KEY: an embedded Clerk instance runs at %s;\n", embedded.URL)
	fmt.Fprintf(w, "sign in on its page (%s) as:\n", embedded.SignInURL())
	for _, u := range demoUsers {
		fmt.Fprintf(w, "  %-12s %-11s %s\n", u.user.ID, u.user.FirstName+" "+u.user.LastName, u.note)
	}
	fmt.Fprintf(w, "Session tokens live %s; past that, a page load goes through Clerk's handshake and stays signed in.\n", lifetime)
}

// signOutURL is where the embedded instance signs the browser out and
// sends it back to the application's home page.
func signOutURL(base, home string) string {
	if base == "" {
		return ""
	}
	return base + "?redirect_url=" + url.QueryEscape(home)
}
