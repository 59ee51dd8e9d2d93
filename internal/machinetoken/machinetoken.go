// Package machinetoken reads Clerk's machine tokens as @clerk/backend
// does: opaque API keys (ak_), M2M tokens (mt_) and OAuth access tokens
// (oat_), which the Backend API verifies, and the claims of JWT-format M2M
// and OAuth tokens. It knows no clerkauth types.
package machinetoken

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/jsonobj"
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

// Fields returns what the answer says of a token of kind, with the
// fields Clerk's machine auth object has for that kind: a name for an API
// key, a client id for an OAuth token, custom claims for an API key or an
// M2M token.
func (a *Answer) Fields(kind string) Fields {
	f := Fields{ID: a.ID, Subject: a.Subject, Scopes: a.Scopes}
	switch kind {
	case APIKey:
		f.Name = a.Name
	case OAuth:
		f.ClientID = a.ClientID
	}
	if kind != OAuth && len(a.Claims) > 0 && string(a.Claims) != "null" {
		f.Claims = a.Claims
	}
	if a.Expiration != nil {
		f.ExpiresAt = time.UnixMilli(*a.Expiration)
	}
	return f
}

// reservedM2MClaims are the claims Clerk's M2MToken.fromJwtPayload leaves
// out of an M2M JWT's custom claims (M2M_RESERVED_JWT_CLAIMS).
var reservedM2MClaims = map[string]bool{"iss": true, "sub": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// ErrClaimType is FromJWT's error for a claim it reads that has a type
// Clerk's fromJwtPayload cannot use (Clerk throws a TypeError, or returns
// a value no []string holds).
var ErrClaimType = errors.New("machine token claim of the wrong type")

// FromJWT returns what a verified JWT-format machine token of kind (M2M
// or OAuth) says, read as Clerk's M2MToken.fromJwtPayload and
// IdPOAuthAccessToken.fromJwtPayload read it, names case-sensitive: raw is
// its payload (a JSON object already validated), sub and exp its subject
// and expiry, already read.
//
//   - ID: jti, else "".
//   - M2M scopes: scopes split at each space, else aud; custom claims:
//     every member but iss, sub, exp, nbf, iat and jti (nil when none).
//   - OAuth scopes: scp, else scope split at each space; client id:
//     client_id, else ""; no custom claims.
//
// A member that is null counts as absent (JavaScript's ??). Where Clerk
// keeps a string as it is (aud or scp "x"), the scopes are ["x"]. A claim
// read here with another type is ErrClaimType.
func FromJWT(kind, sub string, exp time.Time, raw []byte) (Fields, error) {
	f := Fields{Subject: sub, ExpiresAt: exp}
	var buf [32]jsonobj.Member
	members, err := jsonobj.Members(string(raw), buf[:])
	if err != nil {
		return f, err
	}
	get := func(name string) (jsonobj.Member, bool) {
		for _, m := range members {
			if m.Name == name && m.Value != "null" {
				return m, true
			}
		}
		return jsonobj.Member{}, false
	}
	ok, bad := true, "" // bad: the first claim of the wrong type
	check := func(name string, good bool) {
		if !good && ok {
			ok, bad = false, name
		}
	}
	if m, found := get("jti"); found {
		var good bool
		f.ID, _, good = jsonobj.String(m)
		check("jti", good)
	}
	var good bool
	if kind == M2M {
		if m, found := get("scopes"); found {
			f.Scopes, good = splitSpaces(m)
			check("scopes", good)
		} else if m, found := get("aud"); found {
			f.Scopes, good = stringOrStrings(m)
			check("aud", good)
		}
		if f.Claims, err = customClaims(members); err != nil {
			return f, err
		}
	} else {
		if m, found := get("client_id"); found {
			f.ClientID, _, good = jsonobj.String(m)
			check("client_id", good)
		}
		if m, found := get("scp"); found {
			f.Scopes, good = stringOrStrings(m)
			check("scp", good)
		} else if m, found := get("scope"); found {
			f.Scopes, good = splitSpaces(m)
			check("scope", good)
		}
	}
	if !ok {
		return f, &ClaimTypeError{Name: bad}
	}
	return f, nil
}

// ClaimTypeError is FromJWT's error for a claim of the wrong type; it
// matches ErrClaimType with errors.Is.
type ClaimTypeError struct{ Name string }

func (e *ClaimTypeError) Error() string {
	switch e.Name {
	case "scopes":
		return `claim "scopes" is not a string: Clerk's M2M tokens carry their scopes space-separated ("mch_a mch_b")`
	case "scope":
		return `claim "scope" is not a string: OAuth tokens carry their scopes space-separated ("read write"), or as an array in "scp"`
	}
	return fmt.Sprintf("claim %q has the wrong type", e.Name)
}

// Is reports whether target is ErrClaimType.
func (e *ClaimTypeError) Is(target error) bool { return target == ErrClaimType }

// splitSpaces is JavaScript's s.split(" ") of the string m: every space
// splits, so "a  b" gives "a", "", "b" and "" gives one empty scope.
func splitSpaces(m jsonobj.Member) ([]string, bool) {
	s, _, ok := jsonobj.String(m)
	if !ok {
		return nil, false
	}
	return strings.Split(s, " "), true
}

// stringOrStrings reads m as an array of strings, or a string x as [x].
func stringOrStrings(m jsonobj.Member) ([]string, bool) {
	if s, _, ok := jsonobj.String(m); ok {
		return []string{s}, true
	}
	return jsonobj.Strings(m.Value)
}

// customClaims is Clerk's extractCustomClaims: the members that are not
// reserved, as a JSON object; nil when there are none.
func customClaims(members []jsonobj.Member) (json.RawMessage, error) {
	var b []byte
	for _, m := range members {
		if reservedM2MClaims[m.Name] {
			continue
		}
		if b == nil {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		name, err := json.Marshal(m.Name)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, name...), ':'), m.Value...)
	}
	if b == nil {
		return nil, nil
	}
	return append(b, '}'), nil
}
