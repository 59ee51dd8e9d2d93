// Command clerkauth inspects Clerk session tokens: what a token says, and
// whether the clerkauth middleware, configured from the same CLERK_*
// environment variables as your server, accepts it and why not. It is what
// to reach for when an API answers 401 and you do not know why.
//
// Usage:
//
//	clerkauth decode TOKEN   print the header and claims, without verifying
//	clerkauth verify [-jwks-url URL | -pem FILE] [-azp ORIGINS] TOKEN
//	                         verify as the middleware does; exit 0 signed in, 1 signed out
//
// TOKEN may be "-" to read it from standard input. A leading "Bearer ",
// "Authorization: Bearer " or "__session=" is ignored, so a header or
// cookie can be pasted as copied; a whole Cookie header with __client_uat
// is checked under Clerk's cookie rules, and verify says which rule
// decided.
//
// verify takes its keys from -jwks-url (for example the example server's
// /.well-known/jwks.json, or your instance's public one) or -pem (a PEM
// public key file), and then reads no CLERK_* variable; without either it
// reads CLERK_SECRET_KEY (keys from
// the Backend API) or CLERK_JWT_KEY (PEM key, no network). It also reads
// CLERK_PUBLISHABLE_KEY (issuer check), CLERK_API_URL and
// CLERK_API_VERSION. It never prints a secret key.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/instance"
)

// Exit statuses.
const (
	exitOK    = 0 // decoded; or verified and signed in
	exitFail  = 1 // not a decodable token; or signed out
	exitUsage = 2 // bad arguments or configuration
)

const usage = `usage:
  clerkauth decode TOKEN     print the token's header and claims, WITHOUT verifying it
  clerkauth verify [-jwks-url URL | -pem FILE] [-azp ORIGINS] TOKEN
                             verify the token as the clerkauth middleware does;
                             exit 0 signed in, 1 signed out
  clerkauth version

TOKEN may be "-" to read it from standard input. A leading "Bearer ",
"Authorization: Bearer " or "__session=" is ignored. A pasted Cookie header
("Cookie: __session=...; __client_uat=...", or the cookies alone) is checked
as the middleware checks cookies, __client_uat rules included.

verify flags:
  -jwks-url URL   fetch the keys from URL, for example the public
                  https://<frontend api>/.well-known/jwks.json (no secret needed)
  -pem FILE       verify with the PEM public key in FILE (no network)
  -azp ORIGINS    comma-separated authorized parties, e.g. https://app.example.com

With -jwks-url or -pem no CLERK_* variable is read (they may describe
another instance). Without them, verify reads CLERK_SECRET_KEY (keys from the
Backend API's /v1/jwks) or CLERK_JWT_KEY (PEM public key: no network), as
the middleware does. It also reads CLERK_PUBLISHABLE_KEY (the issuer is
derived from it and checked), CLERK_API_URL and CLERK_API_VERSION. It never
prints a secret key.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// cli holds what a command reads and writes, so that tests run it without
// exec.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

// run runs the command line args (without the program name) and returns
// the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	return c.run(args)
}

func (c *cli) run(args []string) int {
	stdout, stderr := c.stdout, c.stderr
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "decode":
		return c.decodeCmd(args[1:])
	case "verify":
		return c.verifyCmd(args[1:])
	case "version":
		fmt.Fprintln(stdout, "clerkauth", instance.Version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "clerkauth: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("clerkauth "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {} // parseFlags prints the usage, to the right stream
	return fs
}

// parseFlags parses args into fs. It returns ok false with the exit status
// when the command must stop: 0 after -h (usage on stdout), 2 after a bad
// flag (the error and the usage on stderr).
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(c.stdout, usage)
		return exitOK, false
	}
	fmt.Fprint(c.stderr, "\n"+usage) // the flag package printed the error
	return exitUsage, false
}

// readToken returns the single TOKEN argument, read from stdin when it is
// "-", with any pasted header or cookie prefix removed. When the argument
// is a Cookie header (a "Cookie:" line, or several cookies separated by
// ";"), cookies is that header's value and tok the __session cookie in it.
func (c *cli) readToken(args []string) (tok, cookies string, err error) {
	if len(args) != 1 {
		return "", "", errors.New("expected exactly one TOKEN argument (or - for standard input)")
	}
	tok = args[0]
	if tok == "-" {
		b, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
		if err != nil {
			return "", "", fmt.Errorf("reading standard input: %w", err)
		}
		tok = string(b)
	}
	if cookies, ok := cookieHeader(tok); ok {
		tok = sessionCookie(cookies)
		if tok == "" && !strings.Contains(cookies, "__client_uat") {
			return "", "", errors.New("the Cookie header has no __session or __client_uat cookie")
		}
		return tok, cookies, nil
	}
	tok = cleanToken(tok)
	if tok == "" {
		return "", "", errors.New("empty token")
	}
	return tok, "", nil
}

// cookieHeader reports whether s is a pasted Cookie header rather than a
// token: it starts with "Cookie:", or holds several cookies separated by
// ";" (a lone "__session=TOKEN" is a token). It returns the header value.
func cookieHeader(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= len("cookie:") && strings.EqualFold(s[:len("cookie:")], "cookie:") {
		return strings.TrimSpace(s[len("cookie:"):]), true
	}
	if !strings.Contains(strings.TrimSuffix(s, ";"), ";") {
		return "", false
	}
	for part := range strings.SplitSeq(s, ";") {
		if name, _, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.HasPrefix(name, "__") {
			return s, true
		}
	}
	return "", false
}

// sessionCookie returns the value of the first __session cookie (suffixed
// or not) in a Cookie header, for display and hints only: which cookie the
// middleware uses is decided by the middleware.
func sessionCookie(cookies string) string {
	for part := range strings.SplitSeq(cookies, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && (name == "__session" || strings.HasPrefix(name, "__session_")) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

// cleanToken strips what commonly comes along when a token is copied: an
// Authorization header, a Bearer scheme, a cookie name, quotes, spaces.
func cleanToken(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= len("authorization:") && strings.EqualFold(s[:len("authorization:")], "authorization:") {
		s = strings.TrimSpace(s[len("authorization:"):])
	}
	if len(s) >= len("bearer ") && strings.EqualFold(s[:len("bearer ")], "bearer ") {
		s = strings.TrimSpace(s[len("bearer "):])
	}
	if name, val, ok := strings.Cut(s, "="); ok && strings.HasPrefix(name, "__session") {
		s = val
	}
	s = strings.TrimSuffix(s, ";")
	return strings.Trim(strings.TrimSpace(s), `"'`)
}
