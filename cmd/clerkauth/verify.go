package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/internal/instance"
	"github.com/clerkauth/clerkauth/internal/reason"
)

// verifyTimeout bounds the whole verification, key download included.
const verifyTimeout = 15 * time.Second

func (c *cli) verifyCmd(args []string) int {
	fs := c.flagSet("verify")
	azp := fs.String("azp", "", "")
	jwksURL := fs.String("jwks-url", "", "")
	pemFile := fs.String("pem", "", "")
	if code, ok := c.parseFlags(fs, args); !ok {
		return code
	}
	if *jwksURL != "" && *pemFile != "" {
		fmt.Fprintln(c.stderr, "clerkauth verify: use -jwks-url or -pem, not both")
		return exitUsage
	}
	tok, cookies, err := c.readToken(fs.Args())
	if err != nil {
		fmt.Fprintf(c.stderr, "clerkauth verify: %v\n", err)
		return exitUsage
	}

	// The same configuration as clerkauth.New(clerkauth.Options{}), with
	// every CLERK_* variable read through getenv (so that it can be
	// tested). A -jwks-url or -pem flag names the instance instead, and
	// then no CLERK_* variable is read: they may describe another one.
	keys, pemName := "", "" // where the keys come from; the PEM key's name for hints
	// The page-load flows are off: verify judges a token as an API request
	// does, and must never call the Backend API's refresh endpoint with a
	// pasted __refresh cookie.
	opts := clerkauth.Options{
		Getenv:           func(string) string { return "" },
		Logger:           slog.New(slog.DiscardHandler),
		TokenCacheSize:   -1,
		DisableHandshake: true,
	}
	switch {
	case *pemFile != "":
		b, err := os.ReadFile(*pemFile)
		if err != nil {
			fmt.Fprintf(c.stderr, "clerkauth verify: -pem: %v\n", err)
			return exitUsage
		}
		opts.JWTKey = string(b)
		keys = "PEM public key from -pem " + *pemFile + " (no network; CLERK_* not read)"
		pemName = "the key in " + *pemFile
	case *jwksURL != "":
		opts.JWKSURL = *jwksURL
		keys = "JWKS from -jwks-url " + *jwksURL + " (CLERK_* not read)"
	default:
		opts.SecretKey = c.getenv("CLERK_SECRET_KEY")
		opts.JWTKey = c.getenv("CLERK_JWT_KEY")
		opts.PublishableKey = c.getenv("CLERK_PUBLISHABLE_KEY")
		opts.APIURL = c.getenv("CLERK_API_URL")
		opts.APIVersion = c.getenv("CLERK_API_VERSION")
		opts.Getenv = c.getenv
		switch {
		case opts.JWTKey != "":
			keys = "PEM public key from CLERK_JWT_KEY (no network)"
			pemName = "CLERK_JWT_KEY"
		case opts.SecretKey != "":
			apiURL := strings.TrimRight(opts.APIURL, "/")
			if apiURL == "" {
				apiURL = instance.DefaultAPIURL
			}
			keys = "JWKS from " + apiURL + "/v1/jwks with CLERK_SECRET_KEY (" + secretKind(opts.SecretKey) + ")"
		}
	}
	for _, p := range strings.Split(*azp, ",") {
		if p = strings.TrimSpace(p); p != "" {
			opts.AuthorizedParties = append(opts.AuthorizedParties, p)
		}
	}
	mw, err := clerkauth.New(opts)
	if err != nil {
		fmt.Fprintf(c.stderr, "clerkauth verify: %v\n", err)
		if keys == "" {
			fmt.Fprintln(c.stderr, "clerkauth verify: give -jwks-url URL or -pem FILE, or set CLERK_SECRET_KEY or CLERK_JWT_KEY")
		}
		return exitUsage
	}
	defer mw.Close()

	w := c.stdout
	c.writeConfig(w, opts, keys)
	fmt.Fprintln(w)

	ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
	defer cancel()
	var auth *clerkauth.Auth
	if cookies != "" {
		// A pasted Cookie header goes through the middleware's own cookie
		// path, so that Clerk's __client_uat rules apply exactly.
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/", nil)
		r.Header.Set("Cookie", cookies)
		auth, err = mw.Authenticate(r)
	} else {
		auth, err = mw.AuthenticateToken(ctx, tok)
	}
	d, _ := decodeToken(tok) // for hints; nil when the token is not a JWT
	if err != nil {
		fmt.Fprintln(w, "signed-out")
		line(w, "reason", auth.Reason())
		line(w, "error", err.Error())
		if cookies != "" {
			line(w, "cookie rule", cookieRule(auth.Reason(), d, cookies))
		}
		if auth.SessionStatus != "" {
			line(w, "status", auth.SessionStatus)
		}
		if h := c.hint(auth.Reason(), d, opts, pemName); h != "" {
			line(w, "hint", h)
		}
		return exitFail
	}
	fmt.Fprintln(w, "signed-in")
	if cookies != "" {
		line(w, "cookie rule", cookieRule("", d, cookies))
	}
	line(w, "user", auth.UserID)
	line(w, "session", auth.SessionID+" ("+auth.SessionStatus+")")
	if auth.OrgID != "" {
		line(w, "org", strings.Join(nonEmpty(auth.OrgID, auth.OrgSlug, auth.OrgRole), "  "))
		line(w, "permissions", strings.Join(auth.OrgPermissions, ", "))
	}
	line(w, "plans", strings.Join(auth.Plans, ", "))
	line(w, "features", strings.Join(auth.Features, ", "))
	if auth.Actor != nil {
		line(w, "actor", auth.Actor.Subject+" (impersonation)")
	}
	line(w, "azp", auth.AuthorizedParty)
	line(w, "iss", auth.Issuer)
	line(w, "expires", auth.Expiry.UTC().Format(time.RFC3339)+"  "+describeTime("exp", auth.Expiry, c.now()))
	return exitOK
}

func line(w io.Writer, label, value string) {
	if value != "" {
		fmt.Fprintf(w, "  %-12s %s\n", label, value)
	}
}

// writeConfig says where keys come from and what is checked, without ever
// printing a secret key (only its sk_test_/sk_live_ kind).
func (c *cli) writeConfig(w io.Writer, opts clerkauth.Options, keys string) {
	fmt.Fprintln(w, "Configuration (flags and the environment)")
	line(w, "keys", keys)
	if opts.PublishableKey != "" {
		if host, err := instance.FrontendAPIHost(opts.PublishableKey); err == nil {
			line(w, "issuer", "https://"+host+" (from CLERK_PUBLISHABLE_KEY, "+pkKind(opts.PublishableKey)+")")
		}
	} else {
		line(w, "issuer", "not checked (no CLERK_PUBLISHABLE_KEY)")
	}
	if len(opts.AuthorizedParties) > 0 {
		line(w, "azp", strings.Join(opts.AuthorizedParties, ", "))
	} else {
		line(w, "azp", "not checked (no -azp)")
	}
}

func secretKind(sk string) string {
	if strings.HasPrefix(sk, "sk_live_") {
		return "sk_live_: production instance"
	}
	return "sk_test_: development instance"
}

func pkKind(pk string) string {
	if strings.HasPrefix(pk, "pk_live_") {
		return "production"
	}
	return "development"
}

// hint explains a reason in terms of what to do about it.
//
// pemName names the PEM public key in use ("CLERK_JWT_KEY"), "" when the
// keys come from a JWKS.
func (c *cli) hint(rsn string, d *decoded, opts clerkauth.Options, pemName string) string {
	claim := func(name string) string {
		if d == nil {
			return ""
		}
		s, _ := d.claims[name].(string)
		return s
	}
	switch rsn {
	case reason.TokenExpired:
		when := ""
		if d != nil {
			if exp, ok := numericDate(d.claims["exp"]); ok {
				when = "it " + describeTime("exp", exp, c.now()) + "; "
			}
		}
		return when + "session tokens live 60 seconds and the frontend refreshes them; copy a fresh one " +
			"(the __session cookie, or `await Clerk.session.getToken()` in the browser console). " +
			"If fresh tokens expire too, check this machine's clock."
	case reason.TokenNotActiveYet, reason.TokenIATInTheFuture, reason.SessionTokenNBF, reason.SessionTokenIATInTheFuture:
		if d != nil {
			if iat, ok := numericDate(d.claims["iat"]); ok && iat.After(c.now()) {
				return "the token was issued " + human(iat.Sub(c.now())) + " in the future by this machine's clock, " +
					"which is probably behind (check NTP)."
			}
		}
		return "the token is dated in the future: this machine's clock is probably behind (check NTP)."
	case reason.JWKKidMismatch:
		kid := ""
		if d != nil {
			kid, _ = d.header["kid"].(string)
		}
		return fmt.Sprintf("no key of the configured instance has the token's kid %q: the token was issued by another "+
			"Clerk instance (development vs production?) than the one CLERK_SECRET_KEY belongs to. Token issuer: %q.", kid, claim("iss"))
	case reason.TokenInvalidSignature:
		if pemName != "" {
			return "either " + pemName + " is not the key of the instance that issued this token " +
				"(token issuer: " + claim("iss") + "), or the token was altered after it was signed."
		}
		return "the signature does not match the key with the token's kid: either the token was altered after it " +
			"was signed (or forged), or it was signed by another key under the same kid (token issuer: " + claim("iss") + ")."
	case reason.TokenInvalidIssuer:
		host, _ := instance.FrontendAPIHost(opts.PublishableKey)
		return fmt.Sprintf("the token's iss is %q but CLERK_PUBLISHABLE_KEY says %q: the publishable key belongs to another instance.",
			claim("iss"), "https://"+host)
	case reason.TokenInvalidAzp:
		return fmt.Sprintf("the token's azp is %q, not one of %s.", claim("azp"), strings.Join(opts.AuthorizedParties, ", "))
	case reason.SecretKeyInvalid:
		return "the Backend API refused CLERK_SECRET_KEY: check that it is the instance's current secret key."
	case reason.JWKRemoteFailedToLoad:
		return "the keys could not be downloaded: check the network and CLERK_API_URL, or set CLERK_JWT_KEY to verify without network."
	case reason.TokenTypeMismatch:
		if d != nil {
			kind, _ := tokenKind(d)
			return "this is a " + kind + "; the middleware accepts session tokens only."
		}
	case reason.SessionPending:
		return "the session awaits a required step (for example choosing an organization); " +
			"set Options.AcceptPendingSessions to treat pending sessions as signed in."
	case reason.TokenInvalidAlgorithm:
		alg := ""
		if d != nil {
			alg, _ = d.header["alg"].(string)
		}
		return fmt.Sprintf("Clerk signs session tokens with RS256; this token says alg %q.", alg)
	case reason.TokenInvalid:
		return "not a well-formed Clerk session token: did you copy the whole value? Run \"clerkauth decode\" to see it."
	case reason.TokenVerificationFailed:
		return "a required claim (sub or exp) is missing or has the wrong type; run \"clerkauth decode\" to see the claims."
	}
	return ""
}

// cookieRule says which of Clerk's cookie rules decided, for a pasted
// Cookie header. rsn is "" when the request was signed in.
func cookieRule(rsn string, d *decoded, cookies string) string {
	uat := ""
	for part := range strings.SplitSeq(cookies, ";") {
		if name, val, ok := strings.Cut(strings.TrimSpace(part), "="); ok &&
			(name == "__client_uat" || strings.HasPrefix(name, "__client_uat_")) {
			uat = strings.TrimSpace(val)
			break
		}
	}
	iat := "?"
	if d != nil {
		if n, ok := d.claims["iat"].(json.Number); ok {
			iat = n.String()
		}
	}
	switch rsn {
	case reason.TokenButNoClientUAT:
		return "__session is set but __client_uat is missing or 0: the browser signed out (Clerk's handshake would refresh it), so the request is signed out whatever the token says."
	case reason.ClientUATButNoToken:
		return "__client_uat=" + uat + " is set but there is no __session cookie: signed out until the frontend sets a fresh token."
	case reason.TokenAndUATMissing:
		return "neither __session nor __client_uat is set."
	case reason.TokenIATBeforeClientUAT:
		return "the token was issued (iat " + iat + ") before __client_uat=" + uat + ": the client signed in or out since, so this token is stale."
	case "":
		return "__session and __client_uat=" + uat + " are both set and the token's iat " + iat + " is not before __client_uat: the token counts."
	}
	return "__session and __client_uat=" + uat + " are both set, so the token was verified (it would also need iat >= __client_uat); the verification decided."
}
