package clerkauth

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/claims"
)

// sessionClaims are the claims of a Clerk session token (v1 and v2).
// Registered times are decoded by numericDate, which accepts JSON numbers
// only and handles floats, huge and negative values explicitly.
type sessionClaims struct {
	Sub *string     `json:"sub"`
	Sid string      `json:"sid"`
	Sts string      `json:"sts"`
	Azp string      `json:"azp"`
	Iss string      `json:"iss"`
	Exp numericDate `json:"exp"`
	Nbf numericDate `json:"nbf"`
	Iat numericDate `json:"iat"`
	Act *Actor      `json:"act"`
	Fva []int       `json:"fva"`
	V   int         `json:"v"`

	// v1 organization claims.
	OrgID          string   `json:"org_id"`
	OrgSlug        string   `json:"org_slug"`
	OrgRole        string   `json:"org_role"`
	OrgPermissions []string `json:"org_permissions"`

	// v2 organization claims.
	O   *orgClaimsV2 `json:"o"`
	Fea string       `json:"fea"`
	Pla string       `json:"pla"`
}

type orgClaimsV2 struct {
	ID  string `json:"id"`
	Slg string `json:"slg"`
	Rol string `json:"rol"`
	Per string `json:"per"`
	Fpm string `json:"fpm"`
}

// numericDate is a JWT NumericDate claim: a JSON number of seconds since
// the Unix epoch. Fractions are rounded down; values are clamped to ±2^33 s
// (year 2242), which keeps nanosecond arithmetic from overflowing. Strings
// are rejected, as RFC 7519 requires. null counts as absent.
type numericDate struct {
	sec int64
	set bool
}

var errNotNumber = errors.New("clerkauth: NumericDate claim is not a number")

// UnmarshalJSON implements json.Unmarshaler.
func (n *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errNotNumber
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil { // not a number, or beyond float64 (1e400)
		return errNotNumber
	}
	const limit = 1 << 33
	switch {
	case math.IsNaN(f):
		return errNotNumber
	case f > limit:
		f = limit
	case f < -limit:
		f = -limit
	}
	n.sec, n.set = int64(math.Floor(f)), true
	return nil
}

// fillAuth maps verified claims into a.
func fillAuth(a *Auth, c *sessionClaims, exp, iat int64) {
	*a = Auth{
		TokenType:             TokenTypeSession,
		UserID:                *c.Sub,
		SessionID:             c.Sid,
		SessionStatus:         c.Sts,
		Actor:                 c.Act,
		AuthorizedParty:       c.Azp,
		Issuer:                c.Iss,
		FactorVerificationAge: c.Fva,
		Expiry:                time.Unix(exp, 0),
	}
	if a.SessionStatus == "" {
		a.SessionStatus = "active"
	}
	if iat != 0 {
		a.IssuedAt = time.Unix(iat, 0)
	}
	if a.Actor != nil && a.Actor.Subject == "" {
		a.Actor = nil
	}
	if len(a.FactorVerificationAge) != 2 {
		a.FactorVerificationAge = nil
	}
	a.Features = splitList(c.Fea)
	a.Plans = splitList(c.Pla)
	if c.V >= 2 || c.O != nil {
		if c.O != nil && c.O.ID != "" {
			a.OrgID = c.O.ID
			a.OrgSlug = c.O.Slg
			if c.O.Rol != "" {
				a.OrgRole = "org:" + strings.TrimPrefix(c.O.Rol, "org:")
			}
			a.OrgPermissions = claims.OrgPermissions(c.Fea, c.O.Per, c.O.Fpm)
		}
	} else if c.OrgID != "" {
		a.OrgID = c.OrgID
		a.OrgSlug = c.OrgSlug
		a.OrgRole = c.OrgRole
		a.OrgPermissions = c.OrgPermissions
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Check is a question for [Auth.Has]. Every field that is set must hold;
// a Check with no field set is false.
type Check struct {
	// Role is an organization role, "org:admin" or "admin".
	Role string
	// Permission is an organization permission, "org:invoices:create".
	Permission string
	// Feature is a billing feature: "name" (user's or organization's),
	// "org:name" or "user:name".
	Feature string
	// Plan is a billing plan, in the same forms as Feature.
	Plan string
	// Reverification requires that the user verified recently. Use one of
	// the presets (ReverifyStrict(), ...) or a custom level; the zero value
	// asks nothing.
	Reverification Reverification
	// Scope is a scope the machine token must grant (machine tokens only).
	Scope string
}

// Reverification says how recently a user must have verified which
// factors. Level is "first_factor", "second_factor" or "multi_factor".
type Reverification struct {
	Level        string
	AfterMinutes int
}

// ReverifyStrictMFA is Clerk's "strict_mfa" preset: both factors within
// 10 minutes.
func ReverifyStrictMFA() Reverification { return Reverification{"multi_factor", 10} }

// ReverifyStrict is Clerk's "strict" preset: second factor within 10 minutes.
func ReverifyStrict() Reverification { return Reverification{"second_factor", 10} }

// ReverifyModerate is Clerk's "moderate" preset: second factor within an hour.
func ReverifyModerate() Reverification { return Reverification{"second_factor", 60} }

// ReverifyLax is Clerk's "lax" preset: second factor within a day.
func ReverifyLax() Reverification { return Reverification{"second_factor", 1440} }

// Has reports whether the signed-in user or machine satisfies every field
// of c, with the semantics of Clerk's has(): false when signed out; role
// and permission need an active organization ("admin" and "org:admin" are
// the same role); features and plans match by name in the scopes the
// prefix allows; a factor is fresh when its age is known and below
// AfterMinutes. Scope checks apply to machine tokens.
func (a *Auth) Has(c Check) bool {
	if !a.IsSignedIn() {
		return false
	}
	asked := false
	if c.Role != "" {
		asked = true
		if a.OrgID == "" || a.OrgRole == "" || normRole(a.OrgRole) != normRole(c.Role) {
			return false
		}
	}
	if c.Permission != "" {
		asked = true
		if a.OrgID == "" || !contains(a.OrgPermissions, c.Permission) {
			return false
		}
	}
	if c.Feature != "" {
		asked = true
		if !hasScoped(a.Features, c.Feature) {
			return false
		}
	}
	if c.Plan != "" {
		asked = true
		if !hasScoped(a.Plans, c.Plan) {
			return false
		}
	}
	if c.Reverification != (Reverification{}) {
		asked = true
		if !a.reverified(c.Reverification) {
			return false
		}
	}
	if c.Scope != "" {
		asked = true
		if a.Machine == nil || !contains(a.Machine.Scopes, c.Scope) {
			return false
		}
	}
	return asked
}

func normRole(r string) string {
	return strings.TrimPrefix(r, "org:")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// hasScoped answers a feature or plan check against "scope:name" entries.
func hasScoped(entries []string, want string) bool {
	scopeNeed := ""
	name := want
	if rest, ok := strings.CutPrefix(want, "org:"); ok {
		scopeNeed, name = "o", rest
	} else if rest, ok := strings.CutPrefix(want, "user:"); ok {
		scopeNeed, name = "u", rest
	}
	for _, e := range entries {
		scope, n, ok := strings.Cut(e, ":")
		if !ok || n != name {
			continue
		}
		if scopeNeed == "" || strings.Contains(scope, scopeNeed) {
			return true
		}
	}
	return false
}

// reverified applies Clerk's rule: with fva = [first, second] ages in
// minutes (-1 = never), a factor is fresh when its age is >= 0 and below
// AfterMinutes; second_factor falls back to the first factor when the user
// has no second factor; multi_factor needs both when a second exists.
func (a *Auth) reverified(r Reverification) bool {
	if len(a.FactorVerificationAge) != 2 || r.AfterMinutes <= 0 {
		return false
	}
	f1, f2 := a.FactorVerificationAge[0], a.FactorVerificationAge[1]
	fresh1 := f1 >= 0 && f1 < r.AfterMinutes
	fresh2 := f2 >= 0 && f2 < r.AfterMinutes
	switch r.Level {
	case "first_factor":
		return fresh1
	case "second_factor":
		if f2 == -1 {
			return fresh1
		}
		return fresh2
	case "multi_factor":
		if f2 == -1 {
			return fresh1
		}
		return fresh1 && fresh2
	}
	return false
}
