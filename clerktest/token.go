package clerktest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultAuthorizedParty is the azp claim of minted session tokens unless
// [WithAzp] says otherwise: the origin of a local frontend dev server.
const DefaultAuthorizedParty = "http://localhost:3000"

// DefaultTokenLifetime is the life of minted tokens, as Clerk's: 60 s.
const DefaultTokenLifetime = 60 * time.Second

// TokenOption configures a token minted by [Server.SessionToken].
type TokenOption func(*tokenConfig)

type tokenConfig struct {
	sid      string
	iat      time.Time
	exp      time.Time
	lifetime time.Duration
	azp      *string
	org      *orgConfig
	plans    []scopedName
	features []scopedName
	actor    string
	pending  bool
	fva      *[2]int
	claims   map[string]any
}

type orgConfig struct {
	id, slug, role string
	perms          []string
}

// WithSessionID sets the sid claim. Default: a new "sess_..." id per token.
func WithSessionID(sid string) TokenOption {
	return func(c *tokenConfig) { c.sid = sid }
}

// WithIssuedAt sets iat to t, nbf to t-10s (as Clerk does) and exp to
// t + lifetime. Default: now.
func WithIssuedAt(t time.Time) TokenOption {
	return func(c *tokenConfig) { c.iat = t }
}

// WithLifetime sets exp to iat + d. Default: 60s. A negative d puts exp in
// the past, but clerkauth allows a clock skew (Options.ClockSkew, 5 s by
// default): a token with WithLifetime(-time.Second) is still accepted for
// about 4 s. Use [WithExpired] for a token the middleware rejects as
// expired.
func WithLifetime(d time.Duration) TokenOption {
	return func(c *tokenConfig) { c.lifetime = d }
}

// WithExpired mints a token that expired a minute ago (iat 2 minutes ago,
// exp 1 minute ago): far enough past clerkauth's clock skew
// (Options.ClockSkew, 5 s by default) that the middleware rejects it with
// token-expired. A later [WithIssuedAt] or [WithExpiry] overrides it.
func WithExpired() TokenOption {
	return func(c *tokenConfig) {
		now := time.Now()
		c.iat, c.exp = now.Add(-2*time.Minute), now.Add(-time.Minute)
	}
}

// WithExpiry sets exp to t exactly, whatever the lifetime.
func WithExpiry(t time.Time) TokenOption {
	return func(c *tokenConfig) { c.exp = t }
}

// WithAzp sets the azp claim (the frontend origin the token was issued
// to); "" leaves it out. Default: [DefaultAuthorizedParty].
func WithAzp(origin string) TokenOption {
	return func(c *tokenConfig) { c.azp = &origin }
}

// WithOrg makes the organization id (slug, role) the session's active one,
// with the given permissions, written in Clerk's v2 encoding (o.per and
// o.fpm over the org features of fea). role is any role key, with or
// without the "org:" prefix ("admin", "org:member", "org:billing_manager"):
// the token carries it without, as Clerk's do, and clerkauth reports it
// with (Auth.OrgRole "org:admin"). permissions are
// "org:<feature>:<permission>", for example
// "org:invoices:read". A malformed permission makes SessionToken panic.
func WithOrg(id, slug, role string, permissions ...string) TokenOption {
	return func(c *tokenConfig) {
		c.org = &orgConfig{id: id, slug: slug, role: role, perms: append([]string(nil), permissions...)}
	}
}

// DefaultUserPlan and DefaultOrgPlan are the plans every minted token
// carries in pla unless [WithPlans] says otherwise, as Clerk's do: the
// user's free plan ("u:free_user") and, with an active organization
// ([WithOrg]), the organization's ("o:free_org"). So Check{Plan:
// "free_user"} holds in tests as in production.
const (
	DefaultUserPlan = "free_user"
	DefaultOrgPlan  = "free_org"
)

// DefaultActorIssuer is the act.iss of an impersonation token minted with
// [WithActor]: Clerk's dashboard, where impersonations start.
const DefaultActorIssuer = "https://dashboard.clerk.com"

// WithPlans sets the billing plans (pla claim), replacing the defaults
// ([DefaultUserPlan], [DefaultOrgPlan]). Like Clerk's tokens, pla holds at
// most one user plan and one organization plan: "name", "u:name" or
// "user:name" is the user's plan; "o:name", "org:name" or
// "organization:name" the active organization's, which needs [WithOrg].
// Anything Clerk never mints (another scope such as "team:pro", "ou:" or
// "uo:" on a plan, two user plans, an organization plan without an
// organization, an empty name or one holding ',', ':' or a space) makes
// WithPlans or SessionToken panic.
func WithPlans(plans ...string) TokenOption {
	parsed := make([]scopedName, 0, len(plans))
	for _, p := range plans {
		e, err := parseScoped(p, false)
		if err != nil {
			panic("clerktest: WithPlans: " + err.Error())
		}
		parsed = append(parsed, e)
	}
	return func(c *tokenConfig) { c.plans = append(c.plans, parsed...) }
}

// WithFeatures sets the billing features (fea claim). Each is "name",
// "u:name" or "user:name" (the user's), "o:name", "org:name" or
// "organization:name" (the organization's), or "uo:name" / "ou:name"
// (both); Clerk's scopes are written as Clerk writes them (u, o, uo), a
// feature given with both scopes is written once as "uo:", and fea is
// sorted, as in Clerk's tokens. Organization features needed by [WithOrg]
// permissions are added. A scope Clerk never mints ("x:export"), an empty
// name or one holding ',', ':' or a space makes WithFeatures panic.
func WithFeatures(features ...string) TokenOption {
	parsed := make([]scopedName, 0, len(features))
	for _, f := range features {
		e, err := parseScoped(f, true)
		if err != nil {
			panic("clerktest: WithFeatures: " + err.Error())
		}
		parsed = append(parsed, e)
	}
	return func(c *tokenConfig) { c.features = append(c.features, parsed...) }
}

// WithActor makes the session an impersonation by the user actorID: the
// act claim is {"iss": [DefaultActorIssuer], "sid": a new "sess_..." id
// (the impersonator's session), "sub": actorID}, as in Clerk's tokens.
// Use [WithClaims] for another act.
func WithActor(actorID string) TokenOption {
	return func(c *tokenConfig) { c.actor = actorID }
}

// WithPending sets the session status (sts) to "pending": the session
// awaits a required step, and clerkauth treats it as signed out by default.
func WithPending() TokenOption {
	return func(c *tokenConfig) { c.pending = true }
}

// WithFactorAge sets fva: the minutes since the first and second factors
// were verified (-1: never). Default: [0, -1]. An age below -1, which
// Clerk never mints, makes WithFactorAge panic.
func WithFactorAge(first, second int) TokenOption {
	if first < -1 || second < -1 {
		panic(fmt.Sprintf("clerktest: WithFactorAge(%d, %d): an age is minutes (>= 0) or -1 (never)", first, second))
	}
	return func(c *tokenConfig) { c.fva = &[2]int{first, second} }
}

// WithClaims merges claims into the token's claims last, overriding any
// default; a nil value removes the claim (WithClaims(map[string]any{"exp":
// nil}) mints a token without exp).
func WithClaims(claims map[string]any) TokenOption {
	return func(c *tokenConfig) {
		if c.claims == nil {
			c.claims = make(map[string]any, len(claims))
		}
		maps.Copy(c.claims, claims)
	}
}

// SessionToken mints a Clerk v2 session token for userID, signed with the
// current key. Defaults: sub userID, a new sid, sts "active", iat now, nbf
// iat-10s, exp iat+60s, azp [DefaultAuthorizedParty], iss [Server.Issuer],
// fva [0,-1], v 2, a jti, and pla "u:free_user" ("u:free_user,o:free_org"
// with [WithOrg]); fea only when there are features. The user need not
// have been added with AddUser. The session is remembered, so POST
// /v1/sessions/{sid}/tokens/... works for it.
//
// SessionToken mints only what Clerk can mint: options asking for
// anything else (see [WithPlans], [WithFeatures], [WithOrg],
// [WithFactorAge]) make it panic with a message saying why, as a test
// helper's misuse should. [WithClaims] and [Server.Sign] mint anything.
func (s *Server) SessionToken(userID string, opts ...TokenOption) string {
	s.mu.Lock()
	c := tokenConfig{lifetime: s.lifetime}
	s.mu.Unlock()
	for _, o := range opts {
		o(&c)
	}
	if c.sid == "" {
		c.sid = newID("sess")
	}
	claims := s.baseClaims(userID, c.iat, c.lifetime, c.exp, c.azp)
	claims["sid"] = c.sid
	claims["sts"] = "active"
	if c.pending {
		claims["sts"] = "pending"
	}
	claims["v"] = 2
	fva := [2]int{0, -1}
	if c.fva != nil {
		fva = *c.fva
	}
	claims["fva"] = fva
	if c.actor != "" {
		claims["act"] = map[string]any{"iss": DefaultActorIssuer, "sid": newID("sess"), "sub": c.actor}
	}
	pla, err := mintPlans(c.plans, c.org != nil)
	if err != nil {
		panic("clerktest: WithPlans: " + err.Error())
	}
	claims["pla"] = pla
	var perms []string
	if c.org != nil {
		perms = c.org.perms
	}
	fea, per, fpm, err := mintFeatures(c.features, perms)
	if err != nil {
		panic("clerktest: WithOrg: " + err.Error())
	}
	if c.org != nil {
		role := strings.TrimPrefix(c.org.role, "org:")
		o := map[string]any{"id": c.org.id, "slg": c.org.slug, "rol": role}
		if per != "" {
			o["per"], o["fpm"] = per, fpm
		}
		claims["o"] = o
	}
	if fea != "" {
		claims["fea"] = fea
	}
	for k, v := range c.claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok := s.Sign(s.header(CategorySession), claims)
	s.rememberSession(c.sid, userID, tok)
	return tok
}

// baseClaims are the claims every minted token has.
func (s *Server) baseClaims(sub string, iat time.Time, lifetime time.Duration, exp time.Time, azp *string) map[string]any {
	if iat.IsZero() {
		iat = time.Now()
	}
	if exp.IsZero() {
		exp = iat.Add(lifetime)
	}
	claims := map[string]any{
		"sub": sub,
		"iss": s.Issuer(),
		"iat": iat.Unix(),
		"nbf": iat.Unix() - 10,
		"exp": exp.Unix(),
		"jti": strings.ToLower(rand.Text()[:20]),
		"azp": DefaultAuthorizedParty,
	}
	if azp != nil {
		if *azp == "" {
			delete(claims, "azp")
		} else {
			claims["azp"] = *azp
		}
	}
	return claims
}

func (s *Server) header(cat string) map[string]any {
	return map[string]any{"alg": "RS256", "kid": s.KeyID(), "typ": "JWT", "cat": cat}
}

func secondsDuration(n int64) time.Duration {
	const maxSec = int64(1<<63-1) / int64(time.Second)
	return time.Duration(min(n, maxSec)) * time.Second
}

// Sign signs header and claims with the current key using RS256, whatever
// the header says, and returns the compact token. It adds nothing: what
// the token says is exactly what it is given, for hostile tests (alg
// "none", a missing kid, a wrong cat, no exp, ...). header and claims are
// JSON-encoded, except a []byte or json.RawMessage, used verbatim (to test
// duplicate member names, say). It panics when a value cannot be encoded.
// For machine tokens as Clerk mints them use [Server.M2MJWT] and
// [Server.OAuthJWT]: Clerk writes an M2M token's scopes claim as one
// space-separated string, and clerkauth refuses one given as an array
// (token-verification-failed, with a message saying so).
func (s *Server) Sign(header, claims any) string {
	s.mu.Lock()
	key := s.keys[0].priv
	s.mu.Unlock()
	input := segment(header) + "." + segment(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		panic("clerktest: signing: " + err.Error())
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func segment(v any) string {
	var b []byte
	switch v := v.(type) {
	case []byte:
		b = v
	case json.RawMessage:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic("clerktest: encoding a token segment: " + err.Error())
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SessionCookies returns the cookies a browser sends to a same-origin
// backend for token: __session, and __client_uat set to the token's iat
// (the client's last sign-in, which must not be later than the token's
// iat). Add them to a request with AddCookie to test the cookie path.
func SessionCookies(token string) []*http.Cookie {
	uat := "1"
	if parts := strings.Split(token, "."); len(parts) == 3 {
		var c struct {
			Iat json.Number `json:"iat"`
		}
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(raw, &c) == nil {
			if n, err := c.Iat.Int64(); err == nil && n > 0 {
				uat = strconv.FormatInt(n, 10)
			}
		}
	}
	return []*http.Cookie{{Name: "__session", Value: token}, {Name: "__client_uat", Value: uat}}
}

// Billing scopes of a plan or feature, as bits.
const (
	scopeUser = 1 << iota
	scopeOrg
)

// scopedName is a plan or feature as Clerk mints it: a name and who holds it.
type scopedName struct {
	scope int // scopeUser, scopeOrg or both
	name  string
}

// parseScoped reads a plan (both false) or feature argument: "name" is the
// user's; u/user, o/org/organization are the scopes Clerk's has() accepts
// as arguments; uo/ou (both) only for features, since Clerk's pla holds
// one user plan and one organization plan.
func parseScoped(s string, both bool) (scopedName, error) {
	scope, name, ok := strings.Cut(s, ":")
	if !ok {
		scope, name = "u", s
	}
	var e scopedName
	switch scope {
	case "u", "user":
		e.scope = scopeUser
	case "o", "org", "organization":
		e.scope = scopeOrg
	case "uo", "ou":
		if !both {
			return e, fmt.Errorf("%q: a plan is the user's (u:) or the organization's (o:), never both", s)
		}
		e.scope = scopeUser | scopeOrg
	default:
		return e, fmt.Errorf("%q: scope %q is not one Clerk mints (u, o, uo; user:, org:, organization:)", s, scope)
	}
	if name == "" || strings.ContainsAny(name, ",: \t\r\n") {
		return e, fmt.Errorf("%q: the name must be non-empty, without ',', ':' or spaces", s)
	}
	e.name = name
	return e, nil
}

// mintPlans writes pla as Clerk does: the user's plan, then the active
// organization's when there is one, each defaulting to the free plan.
func mintPlans(plans []scopedName, withOrg bool) (string, error) {
	user, org := "", ""
	for _, p := range plans {
		switch p.scope {
		case scopeUser:
			if user != "" && user != p.name {
				return "", fmt.Errorf("two user plans (%q, %q): Clerk's pla holds one", user, p.name)
			}
			user = p.name
		case scopeOrg:
			if !withOrg {
				return "", fmt.Errorf("organization plan %q without an active organization (WithOrg)", p.name)
			}
			if org != "" && org != p.name {
				return "", fmt.Errorf("two organization plans (%q, %q): Clerk's pla holds one", org, p.name)
			}
			org = p.name
		}
	}
	if user == "" {
		user = DefaultUserPlan
	}
	if !withOrg {
		return "u:" + user, nil
	}
	if org == "" {
		org = DefaultOrgPlan
	}
	return "u:" + user + ",o:" + org, nil
}

// mintFeatures writes fea and the organization permissions in Clerk's v2
// form. Each feature is written once, with scope u, o or uo (a feature
// given for both, or a user feature an organization permission needs,
// is "uo"), and fea is sorted. perms are "org:<feature>:<permission>";
// per lists the distinct permission names, sorted; fpm has one integer per
// organization feature of fea, in fea's order: bit i grants
// "org:<feature>:<per[i]>".
func mintFeatures(features []scopedName, perms []string) (fea, per, fpm string, err error) {
	scopes := map[string]int{}
	for _, f := range features {
		scopes[f.name] |= f.scope
	}
	type grant struct{ feature, name string }
	grants := make([]grant, 0, len(perms))
	var names []string
	for _, p := range perms {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[0] != "org" || parts[1] == "" || parts[2] == "" || strings.ContainsAny(p, ", \t\r\n") {
			return "", "", "", fmt.Errorf("permission %q is not of the form org:<feature>:<permission>", p)
		}
		grants = append(grants, grant{parts[1], parts[2]})
		scopes[parts[1]] |= scopeOrg
		if !slices.Contains(names, parts[2]) {
			names = append(names, parts[2])
		}
	}
	if len(names) > 64 {
		return "", "", "", fmt.Errorf("more than 64 distinct permission names")
	}
	slices.Sort(names)
	entries := make([]string, 0, len(scopes))
	for name, sc := range scopes {
		prefix := "uo:"
		switch sc {
		case scopeUser:
			prefix = "u:"
		case scopeOrg:
			prefix = "o:"
		}
		entries = append(entries, prefix+name)
	}
	slices.Sort(entries)
	if len(grants) == 0 {
		return strings.Join(entries, ","), "", "", nil
	}
	masks := map[string]uint64{}
	for _, g := range grants {
		masks[g.feature] |= 1 << uint(slices.Index(names, g.name))
	}
	var fpms []string
	for _, e := range entries {
		if scope, name, _ := strings.Cut(e, ":"); scope != "u" {
			fpms = append(fpms, strconv.FormatUint(masks[name], 10))
		}
	}
	return strings.Join(entries, ","), strings.Join(names, ","), strings.Join(fpms, ","), nil
}
