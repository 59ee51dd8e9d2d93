package clerkauth

import (
	"github.com/clerkauth/clerkauth/internal/claims"
	"slices"
)

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
	// Reverification requires that the user verified recently. Use a
	// preset (Reverify("strict"), ...) or a custom level; the zero value
	// asks nothing.
	Reverification Reverification
	// Scope is a scope the machine token must grant (machine tokens only).
	Scope string
}

// Reverification says how recently a user must have verified which
// factors. Level is "first_factor", "second_factor" or "multi_factor";
// a factor is fresh when its age in whole minutes is below AfterMinutes,
// which may be fractional (as Clerk's afterMinutes) and must be positive.
type Reverification struct {
	Level        string
	AfterMinutes float64
}

// Reverify returns Clerk's reverification preset of that name, as in
// has({reverification: "strict"}): "strict_mfa" (both factors within 10
// minutes), "strict" (second factor within 10 minutes), "moderate" (within
// an hour) or "lax" (within a day). Any other name gives a Reverification
// that never holds.
func Reverify(preset string) Reverification {
	switch preset {
	case "strict_mfa":
		return Reverification{"multi_factor", 10}
	case "strict":
		return Reverification{"second_factor", 10}
	case "moderate":
		return Reverification{"second_factor", 60}
	case "lax":
		return Reverification{"second_factor", 1440}
	}
	return Reverification{Level: "unknown preset " + preset} // never holds
}

// Has reports whether the signed-in user or machine satisfies every field
// of c, with the semantics of Clerk's has(): false when signed out; role
// and permission need an active organization ("admin" and "org:admin" are
// the same role, and "f1:read" asks for the permission "org:f1:read");
// features and plans match as Clerk's checkForFeatureOrPlan; a factor is
// fresh when its age is known and below AfterMinutes. Scope checks apply to machine tokens.
func (a *Auth) Has(c Check) bool {
	if !a.IsSignedIn() {
		return false
	}
	asked := false
	if c.Role != "" {
		asked = true
		if a.OrgID == "" || a.OrgRole == "" || claims.PrefixWithOrg(a.OrgRole) != claims.PrefixWithOrg(c.Role) {
			return false
		}
	}
	if c.Permission != "" {
		asked = true
		// Clerk normalises the argument only: the token's permissions are
		// compared as they are.
		if a.OrgID == "" || !slices.Contains(a.OrgPermissions, claims.PrefixWithOrg(c.Permission)) {
			return false
		}
	}
	if c.Feature != "" {
		asked = true
		if !claims.HasScoped(a.Features, c.Feature) {
			return false
		}
	}
	if c.Plan != "" {
		asked = true
		if !claims.HasScoped(a.Plans, c.Plan) {
			return false
		}
	}
	if c.Reverification != (Reverification{}) {
		asked = true
		if !claims.Reverified(a.FactorVerificationAge, c.Reverification.Level, c.Reverification.AfterMinutes) {
			return false
		}
	}
	if c.Scope != "" {
		asked = true
		if a.Machine == nil || !slices.Contains(a.Machine.Scopes, c.Scope) {
			return false
		}
	}
	return asked
}
