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
	plans    []string
	features []string
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

// WithPlans sets the billing plans (pla claim). Each entry is
// "scope:name" with scope u, o, uo or ou; "user:name" and "org:name" are
// accepted too, and a bare "name" means "u:name".
func WithPlans(plans ...string) TokenOption {
	return func(c *tokenConfig) { c.plans = append(c.plans, plans...) }
}

// WithFeatures sets the billing features (fea claim), in the forms
// [WithPlans] accepts. Organization features needed by [WithOrg]
// permissions are added after them.
func WithFeatures(features ...string) TokenOption {
	return func(c *tokenConfig) { c.features = append(c.features, features...) }
}

// WithActor makes the session an impersonation by the user actorID (act
// claim).
func WithActor(actorID string) TokenOption {
	return func(c *tokenConfig) { c.actor = actorID }
}

// WithPending sets the session status (sts) to "pending": the session
// awaits a required step, and clerkauth treats it as signed out by default.
func WithPending() TokenOption {
	return func(c *tokenConfig) { c.pending = true }
}

// WithFactorAge sets fva: the minutes since the first and second factors
// were verified (-1: never). Default: [0, -1].
func WithFactorAge(first, second int) TokenOption {
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
// fva [0,-1], v 2, a jti. The user need not have been added with AddUser.
// The session is remembered, so POST /v1/sessions/{sid}/tokens/... works
// for it.
func (s *Server) SessionToken(userID string, opts ...TokenOption) string {
	c := tokenConfig{lifetime: DefaultTokenLifetime}
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
		claims["act"] = map[string]any{"sub": c.actor}
	}
	if len(c.plans) > 0 {
		claims["pla"] = strings.Join(scoped(c.plans), ",")
	}
	fea := scoped(c.features)
	if c.org != nil {
		role := strings.TrimPrefix(c.org.role, "org:")
		o := map[string]any{"id": c.org.id, "slg": c.org.slug, "rol": role}
		var per, fpm string
		var err error
		fea, per, fpm, err = encodePermissions(fea, c.org.perms)
		if err != nil {
			panic("clerktest: WithOrg: " + err.Error())
		}
		if per != "" {
			o["per"], o["fpm"] = per, fpm
		}
		claims["o"] = o
	}
	if len(fea) > 0 {
		claims["fea"] = strings.Join(fea, ",")
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

// scoped normalizes plan and feature entries to Clerk's "scope:name".
func scoped(entries []string) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		switch scope, name, ok := strings.Cut(e, ":"); {
		case !ok:
			out = append(out, "u:"+e)
		case scope == "org":
			out = append(out, "o:"+name)
		case scope == "user":
			out = append(out, "u:"+name)
		default:
			out = append(out, e)
		}
	}
	return out
}

// encodePermissions writes organization permissions in Clerk's v2 form.
// fea lists the features as "scope:name"; those whose scope contains "o"
// are the organization's, in order, and the features of perms that are
// not among them are appended as "o:<feature>". per lists the permission
// names, in order of first use. fpm has one integer per organization
// feature of fea: bit i set grants "org:<feature>:<per[i]>".
func encodePermissions(fea, perms []string) (feaOut []string, per, fpm string, err error) {
	if len(perms) == 0 {
		return fea, "", "", nil
	}
	var names []string // per, in order
	bit := map[string]int{}
	want := map[string]uint64{} // feature -> mask
	var newFeatures []string
	orgFeature := map[string]bool{}
	for _, f := range fea {
		if scope, name, _ := strings.Cut(f, ":"); strings.Contains(scope, "o") {
			orgFeature[name] = true
		}
	}
	for _, p := range perms {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[0] != "org" || parts[1] == "" || parts[2] == "" || strings.Contains(p, ",") {
			return nil, "", "", fmt.Errorf("permission %q is not of the form org:<feature>:<permission>", p)
		}
		feature, name := parts[1], parts[2]
		i, ok := bit[name]
		if !ok {
			if len(names) == 64 {
				return nil, "", "", fmt.Errorf("more than 64 distinct permission names")
			}
			i = len(names)
			bit[name] = i
			names = append(names, name)
		}
		if _, ok := want[feature]; !ok && !orgFeature[feature] {
			newFeatures = append(newFeatures, "o:"+feature)
			orgFeature[feature] = true
		}
		want[feature] |= 1 << uint(i)
	}
	feaOut = append(append([]string(nil), fea...), newFeatures...)
	var masks []string
	for _, f := range feaOut {
		if scope, name, _ := strings.Cut(f, ":"); strings.Contains(scope, "o") {
			masks = append(masks, strconv.FormatUint(want[name], 10))
		}
	}
	return feaOut, strings.Join(names, ","), strings.Join(masks, ","), nil
}
