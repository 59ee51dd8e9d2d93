package clerkauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/jsonexact"
)

// Token types, as named by Clerk's acceptsToken option. [Auth.TokenType]
// holds one of them.
const (
	TokenTypeSession = "session_token"
	TokenTypeAPIKey  = "api_key"
	TokenTypeM2M     = "m2m_token"
	TokenTypeOAuth   = "oauth_token"
)

// Auth is the authentication state of a request: what Clerk's getAuth()
// returns. A signed-out Auth has every field empty; [Auth.IsSignedIn]
// reports which it is and [Auth.Reason] why it is signed out.
//
// Each request gets its own copy of the Auth struct, but the slices it
// holds (OrgPermissions, Plans, ...) are shared with every request that
// carries the same token: treat them as read-only.
type Auth struct {
	// TokenType is the kind of token the request was authenticated with
	// (TokenTypeSession for a user's session token); "" when signed out.
	TokenType string
	// UserID is the user's id (sub claim), "user_...".
	UserID string
	// SessionID is the session's id (sid claim), "sess_...".
	SessionID string
	// SessionStatus is the session's status (sts claim): "active", or
	// "pending" (awaiting a required step). A pending session is signed out
	// unless Options.AcceptPendingSessions is set, but SessionStatus still
	// says "pending".
	SessionStatus string
	// Actor is set when the session is an impersonation (act claim).
	Actor *Actor
	// OrgID, OrgRole ("org:admin"), OrgSlug and OrgPermissions describe the
	// active organization, from v1 (org_*) or v2 (o, fea, per, fpm) claims.
	// As Clerk, role, slug and permissions are read even when the token
	// holds no org id; Has answers no role or permission without OrgID.
	OrgID          string
	OrgRole        string
	OrgSlug        string
	OrgPermissions []string
	// FactorVerificationAge holds the minutes since the first and second
	// factors were last verified (fva claim; -1 = never). Nil when absent;
	// copied as the token holds it (as Clerk), so check its length: Has's
	// reverification passes only with exactly two entries.
	FactorVerificationAge []int
	// Plans and Features are the billing plans and features (pla and fea
	// claims) as "scope:name" entries, for example "u:pro" or "o:reports".
	Plans    []string
	Features []string
	// AuthorizedParty is the origin the token was issued to (azp claim).
	AuthorizedParty string
	// Issuer is the token's iss claim.
	Issuer string
	// IssuedAt and Expiry are the token's iat and exp claims.
	IssuedAt time.Time
	Expiry   time.Time

	// Machine holds the fields of a machine token (API key, M2M or OAuth
	// token); nil for session tokens.
	Machine *Machine

	token  *string   // the verified token itself, behind a pointer: fmt prints only its address
	err    error     // why the request is signed out
	origin *core     // the middleware core that produced it; nil without one
	mask   tokenMask // the token types the producing middleware accepted
}

// Actor is the impersonator of an impersonation session (the act claim).
type Actor struct {
	// Subject is the id of the impersonating user (act.sub).
	Subject string `json:"sub"`
	// Issuer is act.iss, when present.
	Issuer string `json:"iss,omitempty"`
	// SessionID is act.sid, when present.
	SessionID string `json:"sid,omitempty"`
}

// Machine holds what a verified machine token says.
type Machine struct {
	// ID is the token's id ("ak_...", "mt_...", "oat_..." or the jti).
	ID string
	// Subject is whom the token acts for: "user_...", "org_..." or "mch_...".
	// As in Clerk, an API key's subject is also the Auth's UserID or OrgID
	// (by its prefix), an M2M token's is the MachineID and an OAuth
	// token's is the Auth's UserID.
	Subject string
	// Name is the API key's name.
	Name string
	// MachineID is the calling machine's id ("mch_...") for M2M tokens.
	MachineID string
	// ClientID is the OAuth application's client id for OAuth tokens.
	ClientID string
	// Scopes are the scopes granted to the token, read as Clerk reads
	// them: an M2M JWT's scopes claim split at each space, else its aud;
	// an OAuth JWT's scp, else its scope split at each space.
	Scopes []string
	// Claims are the custom claims of an API key or an M2M token, as
	// JSON (for an M2M JWT, every claim but iss, sub, exp, nbf, iat and
	// jti); nil for OAuth tokens, as in Clerk.
	Claims json.RawMessage
	// ExpiresAt is when the token expires; zero when it does not.
	ExpiresAt time.Time
}

// errNoMiddleware is the error of an Auth no middleware produced. Its
// Reason is "": no Clerk rule was applied to the request.
var errNoMiddleware = authErr(ErrNoMiddleware, "", "wrap the handler with Middleware.Handler or RequireAuth")

// IsSignedIn reports whether the request carries a valid token.
func (a *Auth) IsSignedIn() bool {
	return a != nil && a.err == nil && (a.UserID != "" || a.Machine != nil)
}

// Err returns why the request is signed out (an [*AuthError], this
// request's own copy), or nil when it is signed in.
func (a *Auth) Err() error {
	if a == nil {
		e := *errNoMiddleware // the caller's own copy
		return &e
	}
	return a.err
}

// Reason returns Clerk's reason string for a signed-out Auth (for example
// [ReasonTokenExpired]), or "" when signed in or when no middleware ran
// (then [Auth.Err] is [ErrNoMiddleware]). The Reason* constants say which
// reasons a refresh may cure; errors.Is on [Auth.Err] with the Err* kinds
// says whose fault a failure is.
func (a *Auth) Reason() string {
	return reasonOf(a.Err())
}

// String describes a (user, session, organization, or why it is signed
// out). fmt and slog's text handler use it; %#v and slog's JSON handler
// print the fields, and the token is not among them.
func (a Auth) String() string {
	if !a.IsSignedIn() {
		why := a.Reason()
		if why == "" {
			why = "no clerkauth middleware ran"
		}
		return "clerkauth.Auth{signed out: " + why + "}"
	}
	return fmt.Sprintf("clerkauth.Auth{TokenType: %q, UserID: %q, SessionID: %q, SessionStatus: %q, OrgID: %q, OrgRole: %q, Expiry: %s}",
		a.TokenType, a.UserID, a.SessionID, a.SessionStatus, a.OrgID, a.OrgRole, a.Expiry.UTC().Format(time.RFC3339))
}

// formatAs prints s for every verb (%v, %+v, %#v, %s, %d, %x, %t and the
// others; %q quotes it), so a value with a secret inside prints only what
// s shows. fmt handles %T and %p itself (a type name, an address).
func formatAs(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s)
		return
	}
	io.WriteString(f, s)
}

// Claims decodes the verified token's claims into v, which may be a
// map[string]any or a struct of the caller's own custom claims. It returns
// an error when signed out or for a machine token without a JWT.
//
// Names that differ only in case are never confused, at any depth: where
// encoding/json would fill a field tagged "role" from a claim "ROLE", or
// one field from two claims ("email" and "EMAIL"), Claims returns an error
// naming them, so a field never holds a value Clerk's sessionClaims would
// not give under its name. Tag each field with the exact claim name; an
// untagged field (Email) takes the one claim matching its name when case
// is ignored.
func (a *Auth) Claims(v any) error {
	if !a.IsSignedIn() {
		return errors.New("clerkauth: signed out: no claims")
	}
	raw, err := a.rawClaims()
	if err != nil {
		return err
	}
	if err := jsonexact.Unmarshal(raw, v); err != nil {
		if ce := (*jsonexact.CaseError)(nil); errors.As(err, &ce) {
			return fmt.Errorf("clerkauth: claims: %w", err)
		}
		return err
	}
	return nil
}

func (a *Auth) rawClaims() ([]byte, error) {
	tok := a.tokenString()
	if a.Machine != nil && a.Machine.Claims != nil && strings.Count(tok, ".") != 2 {
		return a.Machine.Claims, nil
	}
	payload, ok := jwtPayload(tok)
	if !ok {
		return nil, errors.New("clerkauth: token is not a JWT: no claims")
	}
	return payload, nil
}

// jwtPayload decodes the payload of a JWT: the base64url text between its
// first and last dots. ok is false when there is none, it is larger than
// maxTokenSize, or it is not base64url.
func jwtPayload(tok string) (payload []byte, ok bool) {
	first, last := strings.IndexByte(tok, '.'), strings.LastIndexByte(tok, '.')
	if first < 0 || last <= first || last-first > maxTokenSize {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(tok[first+1 : last])
	return payload, err == nil
}

// setToken keeps tok, the verified token, behind a pointer (one
// allocation, when a token is verified, not per request).
func (a *Auth) setToken(tok string) { a.token = &tok }

// tokenString is the verified token, "" when there is none.
func (a *Auth) tokenString() string {
	if a.token == nil {
		return ""
	}
	return *a.token
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying a copy of a. It is what the
// middleware does; use it to build contexts in tests of your own handlers.
// A nil a stores a signed-out Auth, as if no middleware ran.
func NewContext(ctx context.Context, a *Auth) context.Context {
	if a == nil {
		a = signedOut(errNoMiddleware)
	}
	return newAuthContext(ctx, a, a.mask)
}

// authContext is a context node holding an Auth by value: one allocation
// carries both the context value and the request's own copy of an Auth
// that the verified-token cache shares between requests, so a handler
// that changes its Auth changes nobody else's.
type authContext struct {
	context.Context
	auth Auth
}

func newAuthContext(parent context.Context, a *Auth, mask tokenMask) *authContext {
	c := &authContext{Context: parent, auth: *a}
	c.auth.mask = mask
	return c
}

// String describes the context as the context package does
// (parent.WithValue(...)), with the Auth's String: never its token.
func (c *authContext) String() string { return withValueName(c.Context, c.auth.String()) }

// withValueName names a context node holding value as the context package
// does: parent.WithValue(value).
func withValueName(parent context.Context, value string) string {
	name := "context"
	if st, ok := parent.(fmt.Stringer); ok {
		name = st.String()
	}
	return name + ".WithValue(" + value + ")"
}

// Format prints String for every verb, so that fmt (%v, %+v, %#v) and
// slog's text handler never reach the Auth's token.
func (c *authContext) Format(f fmt.State, verb rune) { formatAs(f, verb, c.String()) }

// LogValue is String, for every slog handler.
func (c *authContext) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Value implements context.Context.
func (c *authContext) Value(key any) any {
	switch key.(type) {
	case ctxKey:
		return &c.auth
	case peekKey:
		return c
	}
	return c.Context.Value(key)
}

// FromContext returns the Auth that a [Middleware] put in ctx; ok is false
// when no middleware ran.
func FromContext(ctx context.Context) (a *Auth, ok bool) {
	a, ok = ctx.Value(ctxKey{}).(*Auth)
	return a, ok && a != nil
}

// GetAuth returns the Auth of the request. It never returns nil: when no
// middleware ran it returns a signed-out Auth whose Err is
// [ErrNoMiddleware] and whose Reason is "".
func GetAuth(r *http.Request) *Auth {
	if a, ok := FromContext(r.Context()); ok {
		return a
	}
	return signedOut(errNoMiddleware)
}

// signedOut returns a signed-out Auth holding its own copy of err, so
// that a caller who changes the error it is handed (Authenticate,
// Auth.Err, ErrorHandler) changes nobody else's: the preallocated errors
// stay what they are. The Auth and the copy take one allocation.
func signedOut(err *AuthError) *Auth {
	s := &struct {
		a Auth
		e AuthError
	}{e: *err}
	s.a.err = &s.e
	return &s.a
}
