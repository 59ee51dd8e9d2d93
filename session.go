package clerkauth

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/clerkauth/clerkauth/internal/claims"
	"github.com/clerkauth/clerkauth/internal/jsonobj"
)

// sessionClaims are the claims of a Clerk session token (v1 and v2), read
// as Clerk's code reads them: names are case-sensitive, and the
// organization claims of the other version are ignored.
type sessionClaims struct {
	Sub string `json:"sub"` // null or absent: "", which no check tells apart
	Sid string `json:"sid"`
	Sts string `json:"sts"`
	Azp string `json:"azp"`
	// AzpBad: azp present but neither a string nor null. Clerk reports it
	// as token-invalid-authorized-parties when authorized parties are
	// configured (checkClaims), else it is a claim of the wrong type.
	AzpBad bool        `json:"-"`
	Iss    string      `json:"iss"`
	Exp    numericDate `json:"exp"`
	Nbf    numericDate `json:"nbf"`
	Iat    numericDate `json:"iat"`
	Act    *Actor      `json:"act"`
	Fva    []int       `json:"fva"`
	// V2 is true when "v" is the number 2 (Clerk: switch (claims.v) case
	// 2); any other value, "2" included, reads the token as v1.
	V2 bool `json:"-"`

	// v1 organization claims (read when !V2).
	OrgID          string   `json:"org_id"`
	OrgSlug        string   `json:"org_slug"`
	OrgRole        string   `json:"org_role"`
	OrgPermissions []string `json:"org_permissions"`

	// v2 organization claims (read when V2). HasO: "o" is an object.
	O    orgClaimsV2 `json:"o"`
	HasO bool        `json:"-"`
	Fea  string      `json:"fea"`
	Pla  string      `json:"pla"`
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
// (year 2242), which keeps nanosecond arithmetic from overflowing. Any
// other JSON value, null included, is the wrong type (Clerk: typeof !==
// "number"); the reader notes it in bad and the checks reject it in
// Clerk's order.
type numericDate struct {
	sec int64
	set bool // a number
	bad bool // present but not a number
}

var errNotNumber = errors.New("clerkauth: NumericDate claim is not a number")

// UnmarshalJSON implements json.Unmarshaler.
func (n *numericDate) UnmarshalJSON(b []byte) error {
	return n.read(string(b))
}

// read sets n from the raw JSON value val.
func (n *numericDate) read(val string) error {
	f, ok := jsonobj.Number(val)
	if !ok || math.IsNaN(f) {
		return errNotNumber
	}
	const limit = 1 << 33
	switch {
	case f > limit:
		f = limit
	case f < -limit:
		f = -limit
	}
	n.sec, n.set = int64(math.Floor(f)), true
	return nil
}

// Errors of the claims and header readers: each says what was wrong.
var (
	errPayloadSyntax    = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token payload is not valid JSON")
	errPayloadDuplicate = authErr(ErrTokenInvalid, ReasonTokenInvalid, "duplicate member name in token payload")
	errPayloadTooDeep   = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token payload nested deeper than 128 levels")
	errHeaderDuplicate  = authErr(ErrTokenInvalid, ReasonTokenInvalid, "duplicate member name in token header")
	errHeaderTooDeep    = authErr(ErrTokenInvalid, ReasonTokenInvalid, "token header nested deeper than 128 levels")
	errFeaUnscoped      = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, `claim "fea" has an entry without a scope`)
)

func claimTypeErr(name string) *AuthError {
	return authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, "claim "+strconv.Quote(name)+" has the wrong type")
}

// readSessionClaims reads a verified payload into c. The strings of c are
// substrings of raw, or decoded when they hold escapes.
func readSessionClaims(raw string, c *sessionClaims) *AuthError {
	var buf [32]jsonobj.Member
	members, err := jsonobj.Members(raw, buf[:])
	switch err {
	case nil:
	case jsonobj.ErrDuplicate:
		return errPayloadDuplicate
	case jsonobj.ErrTooDeep:
		return errPayloadTooDeep
	case jsonobj.ErrSyntax:
		return errPayloadSyntax
	default:
		return errBadPayload
	}
	return parseSessionClaims(members, c)
}

// parseSessionClaims reads the claims members into c.
func parseSessionClaims(members []jsonobj.Member, c *sessionClaims) *AuthError {
	// The organization claims of one version only are read, once v is
	// known: Clerk ignores the others, whatever they hold.
	o, orgID, orgSlug, orgRole, orgPerms := -1, -1, -1, -1, -1
	for k, m := range members {
		switch name := m.Name; name {
		case "sub", "sid", "sts", "azp", "iss", "fea", "pla":
			s, _, ok := jsonobj.String(m)
			if !ok && name == "azp" {
				c.AzpBad = true
				continue
			}
			if !ok {
				return claimTypeErr(name)
			}
			switch name {
			case "sub":
				c.Sub = s
			case "sid":
				c.Sid = s
			case "sts":
				c.Sts = s
			case "azp":
				c.Azp = s
			case "iss":
				c.Iss = s
			case "fea":
				c.Fea = s
			case "pla":
				c.Pla = s
			}
		case "exp":
			c.Exp.bad = c.Exp.read(m.Value) != nil
		case "nbf":
			c.Nbf.bad = c.Nbf.read(m.Value) != nil
		case "iat":
			c.Iat.bad = c.Iat.read(m.Value) != nil
		case "v":
			f, ok := jsonobj.Number(m.Value)
			c.V2 = ok && f == 2
		case "act":
			act, ok := readActor(m)
			if !ok {
				return claimTypeErr(name)
			}
			c.Act = act
		case "fva":
			if m.Value == "null" {
				continue
			}
			var ok bool
			if c.Fva, ok = jsonobj.Ints(m.Value); !ok {
				return claimTypeErr(name)
			}
		case "o":
			o = k
		case "org_id":
			orgID = k
		case "org_slug":
			orgSlug = k
		case "org_role":
			orgRole = k
		case "org_permissions":
			orgPerms = k
		}
	}
	if c.V2 {
		if o >= 0 && members[o].Value[0] == '{' {
			if !readOrg(members[o], &c.O) {
				return claimTypeErr("o")
			}
			c.HasO = true
		}
		return nil
	}
	for _, f := range [...]struct {
		k   int
		dst *string
	}{{orgID, &c.OrgID}, {orgSlug, &c.OrgSlug}, {orgRole, &c.OrgRole}} {
		if f.k < 0 {
			continue
		}
		s, _, ok := jsonobj.String(members[f.k])
		if !ok {
			return claimTypeErr(members[f.k].Name)
		}
		*f.dst = s
	}
	if orgPerms >= 0 && members[orgPerms].Value != "null" {
		var ok bool
		if c.OrgPermissions, ok = jsonobj.Strings(members[orgPerms].Value); !ok {
			return claimTypeErr("org_permissions")
		}
	}
	return nil
}

// readActor reads the act claim: null, or an object whose sub, iss and
// sid are strings when present. Names are matched exactly.
func readActor(m jsonobj.Member) (*Actor, bool) {
	if m.Value == "null" {
		return nil, true
	}
	a := new(Actor)
	if !readStrings(m.Value, []string{"sub", "iss", "sid"}, []*string{&a.Subject, &a.Issuer, &a.SessionID}) {
		return nil, false
	}
	return a, true
}

// readOrg reads the v2 "o" object into o; its fields are strings or null.
// Names are matched exactly.
func readOrg(m jsonobj.Member, o *orgClaimsV2) bool {
	return readStrings(m.Value, []string{"id", "slg", "rol", "per", "fpm"},
		[]*string{&o.ID, &o.Slg, &o.Rol, &o.Per, &o.Fpm})
}

// readStrings reads the JSON object obj: a member named names[i] must be
// a string or null (read as "") and goes to dsts[i]; the others are
// skipped.
func readStrings(obj string, names []string, dsts []*string) bool {
	var buf [8]jsonobj.Member
	members, err := jsonobj.Members(obj, buf[:])
	if err != nil {
		return false
	}
	for _, f := range members {
		if i := slices.Index(names, f.Name); i >= 0 {
			s, _, ok := jsonobj.String(f)
			if !ok {
				return false
			}
			*dsts[i] = s
		}
	}
	return true
}

// fillAuth maps verified claims into a, as Clerk's
// JWTPayloadToAuthObjectProperties does. It fails only on a v2
// organization whose fea Clerk cannot split (Clerk throws there).
func fillAuth(a *Auth, c *sessionClaims, exp, iat int64) *AuthError {
	*a = Auth{
		TokenType:             TokenTypeSession,
		UserID:                c.Sub,
		SessionID:             c.Sid,
		SessionStatus:         c.Sts, // absent: "" (Clerk: null)
		Actor:                 c.Act,
		AuthorizedParty:       c.Azp,
		Issuer:                c.Iss,
		FactorVerificationAge: c.Fva,
		Expiry:                time.Unix(exp, 0),
	}
	if iat != 0 {
		a.IssuedAt = time.Unix(iat, 0)
	}
	// As Clerk: act and fva are copied as they are (an act object without
	// sub is still an actor; an fva of another length than 2 is exposed,
	// and Has's reverification then fails).
	org := c.V2 && c.HasO
	var rol, per, fpm string
	if org {
		rol, per, fpm = c.O.Rol, c.O.Per, c.O.Fpm
	}
	lists, ok := claims.Decode(c.Fea, c.Pla, org, rol, per, fpm)
	if !ok {
		return errFeaUnscoped
	}
	a.Features, a.Plans = lists.Features, lists.Plans
	switch {
	case org:
		// As Clerk, the other members are read without an id too;
		// Has asks for an OrgID before it looks at them.
		a.OrgID = c.O.ID
		a.OrgSlug = c.O.Slg
		a.OrgRole = lists.OrgRole
		a.OrgPermissions = lists.OrgPermissions
	case !c.V2:
		a.OrgID = c.OrgID
		a.OrgSlug = c.OrgSlug
		a.OrgRole = c.OrgRole
		a.OrgPermissions = c.OrgPermissions
	}
	return nil
}
