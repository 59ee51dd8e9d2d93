// Package machinetoken reads Clerk's machine tokens as @clerk/backend
// does: opaque API keys (ak_), M2M tokens (mt_) and OAuth access tokens
// (oat_), which the Backend API verifies, and the claims of JWT-format M2M
// and OAuth tokens. It knows no clerkauth types.
package machinetoken

import (
	"encoding/json"
	"strings"
	"time"
)

// Kinds, named as Clerk's acceptsToken option names them.
const (
	APIKey = "api_key"
	M2M    = "m2m_token"
	OAuth  = "oauth_token"
)

// OpaqueKind tells an opaque machine token by its prefix; "" for anything
// else (a JWT, or garbage that will fail as one).
func OpaqueKind(tok string) string {
	switch {
	case strings.HasPrefix(tok, "ak_"):
		return APIKey
	case strings.HasPrefix(tok, "mt_"):
		return M2M
	case strings.HasPrefix(tok, "oat_"):
		return OAuth
	}
	return ""
}

// MaxOpaque bounds an opaque machine token: Clerk's are far shorter.
const MaxOpaque = 1 << 10

// ShapeOK reports whether tok could be one of Clerk's opaque machine
// tokens: at most 1 KiB of ASCII letters, digits and _ - + / = (Clerk's own
// fixtures use base64 with / and =). Anything else is refused before any
// Backend API call.
func ShapeOK(tok string) bool {
	if len(tok) > MaxOpaque {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '-' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// Endpoint returns the Backend API path that verifies an opaque token of
// kind, the member of the JSON body that carries the token, and whether
// the call is authenticated with the machine secret key (M2M) rather than
// the instance's secret key. Clerk serves these paths without /v1.
func Endpoint(kind string) (path, field string, machineKey bool) {
	switch kind {
	case APIKey:
		return "/api_keys/verify", "secret", false
	case M2M:
		return "/m2m_tokens/verify", "token", true
	}
	return "/oauth_applications/access_tokens/verify", "access_token", false
}

// Fields is what a verified machine token says.
type Fields struct {
	ID        string // the token's id, or the jti of a JWT
	Subject   string
	Name      string // an API key's name
	ClientID  string
	Scopes    []string
	Claims    json.RawMessage // custom claims; nil when none
	ExpiresAt time.Time       // zero when it does not expire
}

// Answer is what the three verify endpoints answer (API key, M2M token and
// OAuth access token objects).
type Answer struct {
	Object     string          `json:"object"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Subject    string          `json:"subject"`
	Scopes     []string        `json:"scopes"`
	Claims     json.RawMessage `json:"claims"`
	ClientID   string          `json:"client_id"`
	Revoked    bool            `json:"revoked"`
	Expired    bool            `json:"expired"`
	Expiration *int64          `json:"expiration"` // Unix ms; null: never
}

// Fields returns what the answer says of a token of kind (only an API key
// has a name).
func (a *Answer) Fields(kind string) Fields {
	f := Fields{ID: a.ID, Subject: a.Subject, Scopes: a.Scopes, ClientID: a.ClientID}
	if kind == APIKey {
		f.Name = a.Name
	}
	if len(a.Claims) > 0 && string(a.Claims) != "null" {
		f.Claims = a.Claims
	}
	if a.Expiration != nil {
		f.ExpiresAt = time.UnixMilli(*a.Expiration)
	}
	return f
}

// reservedJWTClaims are the structural claims of machine JWTs; the others
// are the token's custom claims.
var reservedJWTClaims = map[string]bool{
	"iss": true, "sub": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"scope": true, "scopes": true, "scp": true, "client_id": true, "aud": true, "azp": true, "sid": true,
}

// JWTClaims are the claims of a JWT-format M2M or OAuth token beyond the
// registered ones.
type JWTClaims struct {
	Jti      string          `json:"jti"`
	Scopes   string          `json:"scopes"` // M2M: space-separated
	Scope    string          `json:"scope"`  // OAuth: space-separated
	Scp      []string        `json:"scp"`    // OAuth: array form
	Aud      json.RawMessage `json:"aud"`
	ClientID string          `json:"client_id"`
}

// FromJWT returns what a verified JWT-format machine token of kind (M2M
// or OAuth) says: c are its claims, decoded from its payload raw, and sub
// and exp its subject and expiry, already read. The scopes come from
// scopes, scope, scp, or an M2M token's aud, in Clerk's order; the custom
// claims are the members of raw that are not structural.
func FromJWT(kind, sub string, exp time.Time, c *JWTClaims, raw []byte) Fields {
	f := Fields{ID: c.Jti, Subject: sub, ClientID: c.ClientID, ExpiresAt: exp}
	switch {
	case c.Scopes != "":
		f.Scopes = strings.Fields(c.Scopes)
	case c.Scope != "":
		f.Scopes = strings.Fields(c.Scope)
	case len(c.Scp) > 0:
		f.Scopes = c.Scp
	case kind == M2M && len(c.Aud) > 0:
		var aud []string
		if json.Unmarshal(c.Aud, &aud) == nil {
			f.Scopes = aud
		}
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) == nil {
		for k := range all {
			if reservedJWTClaims[k] {
				delete(all, k)
			}
		}
		if len(all) > 0 {
			f.Claims, _ = json.Marshal(all)
		}
	}
	return f
}
