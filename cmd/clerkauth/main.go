// Command clerkauth inspects Clerk session tokens: what a token says, and
// whether the clerkauth middleware, configured from the same CLERK_*
// environment variables as your server, accepts it and why not. It is what
// to reach for when an API answers 401 and you do not know why.
//
// Usage:
//
//	clerkauth decode TOKEN   print the header and claims, without verifying
//	clerkauth verify TOKEN   verify as the middleware does; exit 0 signed in, 1 signed out
//
// TOKEN may be "-" to read it from standard input. A leading "Bearer ",
// "Authorization: Bearer " or "__session=" is ignored, so a header or
// cookie can be pasted as copied.
//
// verify reads CLERK_SECRET_KEY (keys from the Backend API), CLERK_JWT_KEY
// (PEM key, no network), CLERK_PUBLISHABLE_KEY (issuer check),
// CLERK_API_URL and CLERK_API_VERSION. It never prints a secret key.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth"
)

// Exit statuses.
const (
	exitOK    = 0 // decoded; or verified and signed in
	exitFail  = 1 // not a decodable token; or signed out
	exitUsage = 2 // bad arguments or configuration
)

const usage = `usage:
  clerkauth decode TOKEN             print the token's header and claims, WITHOUT verifying it
  clerkauth verify [-azp ORIGINS] TOKEN
                                     verify the token as the clerkauth middleware does, with the
                                     CLERK_* environment variables; exit 0 signed in, 1 signed out
  clerkauth version

TOKEN may be "-" to read it from standard input. A leading "Bearer ",
"Authorization: Bearer " or "__session=" is ignored.

verify reads CLERK_SECRET_KEY (keys from the Backend API's /v1/jwks),
CLERK_JWT_KEY (PEM public key: no network), CLERK_PUBLISHABLE_KEY (the
issuer is derived from it and checked), CLERK_API_URL and CLERK_API_VERSION.
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
		fmt.Fprintln(stdout, "clerkauth", clerkauth.Version)
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
	fs.Usage = func() { fmt.Fprint(c.stderr, usage) }
	return fs
}

// readToken returns the single TOKEN argument, read from stdin when it is
// "-", with any pasted header or cookie prefix removed.
func (c *cli) readToken(args []string) (string, error) {
	if len(args) != 1 {
		return "", errors.New("expected exactly one TOKEN argument (or - for standard input)")
	}
	tok := args[0]
	if tok == "-" {
		b, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
		if err != nil {
			return "", fmt.Errorf("reading standard input: %w", err)
		}
		tok = string(b)
	}
	tok = cleanToken(tok)
	if tok == "" {
		return "", errors.New("empty token")
	}
	return tok, nil
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
