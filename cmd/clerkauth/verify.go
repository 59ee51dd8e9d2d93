package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth"
)

// verifyTimeout bounds the whole verification, key download included.
const verifyTimeout = 15 * time.Second

func (c *cli) verifyCmd(args []string) int {
	fs := c.flagSet("verify")
	azp := fs.String("azp", "", "comma-separated authorized parties (Options.AuthorizedParties), e.g. https://app.example.com")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	tok, err := c.readToken(fs.Args())
	if err != nil {
		fmt.Fprintf(c.stderr, "clerkauth verify: %v\n", err)
		return exitUsage
	}

	// The same configuration as clerkauth.New(clerkauth.Options{}), read
	// through getenv so that it can be tested.
	opts := clerkauth.Options{
		SecretKey:      c.getenv("CLERK_SECRET_KEY"),
		JWTKey:         c.getenv("CLERK_JWT_KEY"),
		PublishableKey: c.getenv("CLERK_PUBLISHABLE_KEY"),
		APIURL:         c.getenv("CLERK_API_URL"),
		APIVersion:     c.getenv("CLERK_API_VERSION"),
		Logger:         slog.New(slog.DiscardHandler),
		TokenCacheSize: -1,
	}
	for _, p := range strings.Split(*azp, ",") {
		if p = strings.TrimSpace(p); p != "" {
			opts.AuthorizedParties = append(opts.AuthorizedParties, p)
		}
	}
	mw, err := clerkauth.New(opts)
	if err != nil {
		fmt.Fprintf(c.stderr, "clerkauth verify: %v\n", err)
		return exitUsage
	}
	defer mw.Close()

	w := c.stdout
	c.writeConfig(w, opts)
	fmt.Fprintln(w)

	ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
	defer cancel()
	auth, err := mw.AuthenticateToken(ctx, tok)
	d, _ := decodeToken(tok) // for hints; nil when the token is not a JWT
	if err != nil {
		fmt.Fprintln(w, "signed-out")
		line(w, "reason", clerkauth.ReasonOf(err))
		line(w, "error", err.Error())
		if auth.SessionStatus != "" {
			line(w, "status", auth.SessionStatus)
		}
		if h := c.hint(clerkauth.ReasonOf(err), d, opts); h != "" {
			line(w, "hint", h)
		}
		return exitFail
	}
	fmt.Fprintln(w, "signed-in")
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
func (c *cli) writeConfig(w io.Writer, opts clerkauth.Options) {
	fmt.Fprintln(w, "Configuration (from the environment)")
	apiURL := strings.TrimRight(opts.APIURL, "/")
	if apiURL == "" {
		apiURL = clerkauth.DefaultAPIURL
	}
	switch {
	case opts.JWTKey != "":
		line(w, "keys", "PEM public key from CLERK_JWT_KEY (no network)")
	case opts.SecretKey != "":
		line(w, "keys", "JWKS from "+apiURL+"/v1/jwks with CLERK_SECRET_KEY ("+secretKind(opts.SecretKey)+")")
	}
	if opts.PublishableKey != "" {
		if host, err := clerkauth.ParsePublishableKey(opts.PublishableKey); err == nil {
			line(w, "issuer", "https://"+host+" (from CLERK_PUBLISHABLE_KEY, "+pkKind(opts.PublishableKey)+")")
		}
	} else {
		line(w, "issuer", "not checked (CLERK_PUBLISHABLE_KEY unset)")
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
func (c *cli) hint(reason string, d *decoded, opts clerkauth.Options) string {
	claim := func(name string) string {
		if d == nil {
			return ""
		}
		s, _ := d.claims[name].(string)
		return s
	}
	switch reason {
	case clerkauth.ReasonTokenExpired:
		when := ""
		if d != nil {
			if exp, ok := numericDate(d.claims["exp"]); ok {
				when = "it " + describeTime("exp", exp, c.now()) + "; "
			}
		}
		return when + "session tokens live 60 seconds and the frontend refreshes them; copy a fresh one " +
			"(the __session cookie, or `await Clerk.session.getToken()` in the browser console). " +
			"If fresh tokens expire too, check this machine's clock."
	case clerkauth.ReasonTokenNotActiveYet, clerkauth.ReasonTokenIATInTheFuture, clerkauth.ReasonSessionTokenNBF, clerkauth.ReasonSessionTokenIATInTheFuture:
		if d != nil {
			if iat, ok := numericDate(d.claims["iat"]); ok && iat.After(c.now()) {
				return "the token was issued " + human(iat.Sub(c.now())) + " in the future by this machine's clock, " +
					"which is probably behind (check NTP)."
			}
		}
		return "the token is dated in the future: this machine's clock is probably behind (check NTP)."
	case clerkauth.ReasonJWKKidMismatch:
		kid := ""
		if d != nil {
			kid, _ = d.header["kid"].(string)
		}
		return fmt.Sprintf("no key of the configured instance has the token's kid %q: the token was issued by another "+
			"Clerk instance (development vs production?) than the one CLERK_SECRET_KEY belongs to. Token issuer: %q.", kid, claim("iss"))
	case clerkauth.ReasonTokenInvalidSignature:
		if opts.JWTKey != "" {
			return "CLERK_JWT_KEY is not the key of the instance that issued this token (token issuer: " + claim("iss") + ")."
		}
		return "the signature does not match the instance's key: the token was altered or forged."
	case clerkauth.ReasonTokenInvalidIssuer:
		host, _ := clerkauth.ParsePublishableKey(opts.PublishableKey)
		return fmt.Sprintf("the token's iss is %q but CLERK_PUBLISHABLE_KEY says %q: the publishable key belongs to another instance.",
			claim("iss"), "https://"+host)
	case clerkauth.ReasonTokenInvalidAzp:
		return fmt.Sprintf("the token's azp is %q, not one of %s.", claim("azp"), strings.Join(opts.AuthorizedParties, ", "))
	case clerkauth.ReasonSecretKeyInvalid:
		return "the Backend API refused CLERK_SECRET_KEY: check that it is the instance's current secret key."
	case clerkauth.ReasonJWKRemoteFailedToLoad:
		return "the keys could not be downloaded: check the network and CLERK_API_URL, or set CLERK_JWT_KEY to verify without network."
	case clerkauth.ReasonTokenTypeMismatch:
		if d != nil {
			kind, _ := tokenKind(d)
			return "this is a " + kind + "; the middleware accepts session tokens only."
		}
	case clerkauth.ReasonSessionPending:
		return "the session awaits a required step (for example choosing an organization); " +
			"set Options.AcceptPendingSessions to treat pending sessions as signed in."
	case clerkauth.ReasonTokenInvalidAlgorithm:
		alg := ""
		if d != nil {
			alg, _ = d.header["alg"].(string)
		}
		return fmt.Sprintf("Clerk signs session tokens with RS256; this token says alg %q.", alg)
	case clerkauth.ReasonTokenInvalid:
		return "not a well-formed Clerk session token: did you copy the whole value? Run \"clerkauth decode\" to see it."
	case clerkauth.ReasonTokenVerificationFailed:
		return "a required claim (sub or exp) is missing or has the wrong type; run \"clerkauth decode\" to see the claims."
	}
	return ""
}
