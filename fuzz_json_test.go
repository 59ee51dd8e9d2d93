package clerkauth

import (
	"encoding/json"
	"github.com/clerkauth/clerkauth/internal/claims"
	"reflect"
	"strings"
	"testing"
)

var jsonObjectSeeds = []string{
	`{}`, `{"a":1}`,
	`{"sub":"user_1","exp":1700000000,"nbf":1.5e9,"iat":-1,"v":2,"o":{"id":"org_1","rol":"admin"},"fea":"o:a","act":{"sub":"user_2"},"fva":[1,-1],"org_permissions":["x"]}`,
	`{"a":"\u0041\n\"","b":[true,false,null,{"c":[]}],"c":-0.0e+1}`,
	`{"a":1,"a":2}`, `{"exp":1,"EXP":2}`, `{"\u0065xp":1,"exp":2}`, `{"sub":null,"exp":null,"v":null}`,
	`{"sub":5}`, `{"exp":"1"}`, `{"k":1,"\u212a":2}`, `{"v":2.5}`, `{"v":"2","o":{"id":"a"}}`, `{"v":2.0,"o":{"id":"a"}}`,
	`{"o":[]}`, `{"v":2,"o":"x"}`, `{"fva":"x"}`, `{"fva":[-5,3]}`, `{"fva":[1e0,2]}`,
	`{"v":2,"o":{"id":"org_a","ID":"org_b"}}`, `{"act":{"sub":"a","SUB":"b"}}`, `{"v":2,"o":{"id":"a","id":"b"}}`,
	`{"org_id":"org_1","org_permissions":["a","b"],"v":1}`, `{"org_id":5,"v":2}`, `{"v":2,"o":{"id":"a"},"org_id":5}`,
	`{"nbf":null,"iat":null}`, `{"act":{"sub":"\u0075"},"x":{"y":{"z":1,"Z":2}}}`,
}

// refSessionClaims reads claims the plain way, with encoding/json, and
// matches names exactly as JSON.parse does (a map, not struct fields,
// which encoding/json would match in any case).
func refSessionClaims(raw []byte) (c claims.Session, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return c, false
	}
	str := func(v json.RawMessage, dst *string) bool { return json.Unmarshal(v, dst) == nil }
	for name, dst := range map[string]*string{"sub": &c.Sub, "sid": &c.Sid, "sts": &c.Sts, "azp": &c.Azp, "iss": &c.Iss, "fea": &c.Fea, "pla": &c.Pla} {
		if v, found := m[name]; found && !str(v, dst) {
			return c, false
		}
	}
	for name, dst := range map[string]*claims.NumericDate{"exp": &c.Exp, "nbf": &c.Nbf, "iat": &c.Iat} {
		if v, found := m[name]; found {
			dst.Bad = dst.UnmarshalJSON(v) != nil
		}
	}
	if v, found := m["v"]; found {
		var n any
		_ = json.Unmarshal(v, &n)
		c.V2 = n == 2.0
	}
	if v, found := m["act"]; found && string(v) != "null" {
		var am map[string]json.RawMessage
		if json.Unmarshal(v, &am) != nil || am == nil {
			return c, false
		}
		c.Act = new(claims.Actor)
		for name, dst := range map[string]*string{"sub": &c.Act.Subject, "iss": &c.Act.Issuer, "sid": &c.Act.SessionID} {
			if v, found := am[name]; found && !str(v, dst) {
				return c, false
			}
		}
	}
	if v, found := m["fva"]; found && string(v) != "null" {
		if json.Unmarshal(v, &c.Fva) != nil {
			return c, false
		}
	}
	if c.V2 {
		if v, found := m["o"]; found && v[0] == '{' {
			var om map[string]json.RawMessage
			if json.Unmarshal(v, &om) != nil {
				return c, false
			}
			c.HasO = true
			for name, dst := range map[string]*string{"id": &c.O.ID, "slg": &c.O.Slg, "rol": &c.O.Rol, "per": &c.O.Per, "fpm": &c.O.Fpm} {
				if v, found := om[name]; found && !str(v, dst) {
					return c, false
				}
			}
		}
		return c, true
	}
	for name, dst := range map[string]*string{"org_id": &c.OrgID, "org_slug": &c.OrgSlug, "org_role": &c.OrgRole} {
		if v, found := m[name]; found && !str(v, dst) {
			return c, false
		}
	}
	if v, found := m["org_permissions"]; found && json.Unmarshal(v, &c.OrgPermissions) != nil {
		return c, false
	}
	return c, true
}

// FuzzSessionClaims checks the claims reader against encoding/json read
// as JSON.parse reads (names exact, at every depth): every object the
// reader accepts, encoding/json reads the same, and every claim has the
// same value; a valid object is refused only for a repeated name (at any
// depth) or nesting beyond 128.
func FuzzSessionClaims(f *testing.F) {
	for _, s := range jsonObjectSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a":` + strings.Repeat(`{"a":`, 126) + `1` + strings.Repeat("}", 126) + `}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var got claims.Session
		aerr := readSessionClaims(string(raw), &got)
		want, ok := refSessionClaims(raw)
		switch {
		case aerr == errPayloadDuplicate || aerr == errPayloadTooDeep || aerr == errBadPayload || aerr == errPayloadSyntax:
			var m map[string]json.RawMessage
			if (aerr == errBadPayload || aerr == errPayloadSyntax) && json.Unmarshal(raw, &m) == nil && m != nil {
				t.Fatalf("%q: %v, but it is a JSON object", raw, aerr)
			}
			return
		case aerr != nil:
			if ok {
				t.Fatalf("%q: %v; encoding/json reads it", raw, aerr)
			}
			return
		case !ok:
			t.Fatalf("%q accepted; encoding/json refuses a claim", raw)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nreader        %+v\nencoding/json %+v", raw, got, want)
		}
	})
}
