package claims

import (
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/clerkauth/clerkauth/internal/jsonobj"
)

// Actor is the act claim of an impersonation session. The root package's
// Actor has the same fields, so a pointer to one converts to the other.
type Actor struct {
	Subject   string
	Issuer    string
	SessionID string
}

// Session holds the claims of a Clerk session token (v1 and v2), read
// as Clerk's code reads them: names are case-sensitive, and the
// organization claims of the other version are ignored.
type Session struct {
	Sub string `json:"sub"` // null or absent: "", which no check tells apart
	Sid string `json:"sid"`
	Sts string `json:"sts"`
	Azp string `json:"azp"`
	// AzpBad: azp present but neither a string nor null. Clerk reports it
	// as token-invalid-authorized-parties when authorized parties are
	// configured (the root package's checkClaims), else it is a claim of the wrong type.
	AzpBad bool        `json:"-"`
	Iss    string      `json:"iss"`
	Exp    NumericDate `json:"exp"`
	Nbf    NumericDate `json:"nbf"`
	Iat    NumericDate `json:"iat"`
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
	O    OrgV2  `json:"o"`
	HasO bool   `json:"-"`
	Fea  string `json:"fea"`
	Pla  string `json:"pla"`
}

type OrgV2 struct {
	ID  string `json:"id"`
	Slg string `json:"slg"`
	Rol string `json:"rol"`
	Per string `json:"per"`
	Fpm string `json:"fpm"`
}

// NumericDate is a JWT NumericDate claim: a JSON number of seconds since
// the Unix epoch. Fractions are rounded down; values are clamped to ±2^33 s
// (year 2242), which keeps nanosecond arithmetic from overflowing. Any
// other JSON value, null included, is the wrong type (Clerk: typeof !==
// "number"); the reader notes it in Bad and the checks reject it in
// Clerk's order.
type NumericDate struct {
	Sec int64
	Set bool // a number
	Bad bool // present but not a number
}

var errNotNumber = errors.New("claims: NumericDate claim is not a number")

// UnmarshalJSON implements json.Unmarshaler.
func (n *NumericDate) UnmarshalJSON(b []byte) error {
	return n.Read(string(b))
}

// Read sets n from the raw JSON value val.
func (n *NumericDate) Read(val string) error {
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
	n.Sec, n.Set = int64(math.Floor(f)), true
	return nil
}

// TypeError is a claim of the wrong type.
type TypeError struct{ Name string }

func (e TypeError) Error() string {
	return "claims: claim " + strconv.Quote(e.Name) + " has the wrong type"
}

// ErrPayload is a payload that is not a JSON object.
var ErrPayload = errors.New("claims: payload is not a JSON object")

// ReadSession reads a verified payload into c. The strings of c are
// substrings of raw, or decoded when they hold escapes. The error is a
// TypeError, ErrPayload, or one of jsonobj's ErrDuplicate, ErrTooDeep and
// ErrSyntax.
func ReadSession(raw string, c *Session) error {
	var buf [32]jsonobj.Member
	members, err := jsonobj.Members(raw, buf[:])
	switch err {
	case nil:
	case jsonobj.ErrDuplicate, jsonobj.ErrTooDeep, jsonobj.ErrSyntax:
		return err
	default:
		return ErrPayload
	}
	return readSession(members, c)
}

// readSession reads the claims members into c.
func readSession(members []jsonobj.Member, c *Session) error {
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
				return TypeError{name}
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
			c.Exp.Bad = c.Exp.Read(m.Value) != nil
		case "nbf":
			c.Nbf.Bad = c.Nbf.Read(m.Value) != nil
		case "iat":
			c.Iat.Bad = c.Iat.Read(m.Value) != nil
		case "v":
			f, ok := jsonobj.Number(m.Value)
			c.V2 = ok && f == 2
		case "act":
			act, ok := readActor(m)
			if !ok {
				return TypeError{name}
			}
			c.Act = act
		case "fva":
			if m.Value == "null" {
				continue
			}
			var ok bool
			if c.Fva, ok = jsonobj.Ints(m.Value); !ok {
				return TypeError{name}
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
				return TypeError{"o"}
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
			return TypeError{members[f.k].Name}
		}
		*f.dst = s
	}
	if orgPerms >= 0 && members[orgPerms].Value != "null" {
		var ok bool
		if c.OrgPermissions, ok = jsonobj.Strings(members[orgPerms].Value); !ok {
			return TypeError{"org_permissions"}
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
func readOrg(m jsonobj.Member, o *OrgV2) bool {
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
