package clerkauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

var jsonObjectSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"alg":"RS256","kid":"ins_1","typ":"JWT","cat":"cl_B7d4PD111AAA"}`,
	`{"sub":"user_1","exp":1700000000,"nbf":1.5e9,"iat":-1,"v":2,"o":{"id":"org_1","rol":"admin"},"fea":"o:a","act":{"sub":"user_2"},"fva":[1,-1],"org_permissions":["x"]}`,
	`{"a":"\u0041\n\"","b":[true,false,null,{"c":[]}],"c":-0.0e+1}`,
	`{"a":1,"a":2}`, `{"exp":1,"EXP":2}`, `{"\u0065xp":1,"exp":2}`, `[1]`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`,
	`{"a":"` + "\x01" + `"}`, `{"a":"\x"}`, `{"a":tru}`, `{"a":1,}`, `{"a" 1}`, `{"a":1}}`, `{"a":1} x`,
	`{"a":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`, `{"sub":null,"exp":null,"v":null}`,
	`{"sub":5}`, `{"exp":"1"}`, `{"k":1,"\u212a":2}`, `{"\u212a":1,"k":2}`, `{"v":2.5}`, `{"o":[]}`, `{"fva":"x"}`,
}

// jsonDepth is the deepest nesting of arrays and objects in valid JSON.
func jsonDepth(raw []byte) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
				deepest = max(deepest, depth)
			} else {
				depth--
			}
		}
	}
}

// FuzzObjectMembers checks the hand-written object reader against
// encoding/json: it accepts only valid JSON objects, returns exactly their
// members, and rejects a valid object only for a duplicate name (in any
// case), too many members or too deep a nesting.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range jsonObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var buf [8]member
		members, ok := objectMembers(raw, buf[:])
		var m map[string]json.RawMessage
		isObj := json.Valid(raw) && json.Unmarshal(raw, &m) == nil && m != nil
		if ok && !isObj {
			t.Fatalf("accepted %q, which is not a valid JSON object", raw)
		}
		if !ok {
			if isObj && !hasDuplicateKeys(raw) && len(m) < maxMembers && jsonDepth(raw) <= maxDepth {
				t.Fatalf("rejected the valid object %q", raw)
			}
			return
		}
		if len(members) != len(m) {
			t.Fatalf("%d members, encoding/json sees %d in %q", len(members), len(m), raw)
		}
		for _, mem := range members {
			if want, found := m[string(mem.name)]; !found || !bytes.Equal(want, mem.val) {
				t.Fatalf("member %q = %q, encoding/json says %q", mem.name, mem.val, want)
			}
		}
	})
}

var sessionClaimNames = []string{"sub", "sid", "sts", "azp", "iss", "exp", "nbf", "iat", "act", "fva", "v",
	"org_id", "org_slug", "org_role", "org_permissions", "o", "fea", "pla"}

// FuzzSessionClaims checks that reading the claims members gives what
// json.Unmarshal into sessionClaims gives, for objects whose names match
// the claims exactly (encoding/json would also match them in another case).
func FuzzSessionClaims(f *testing.F) {
	for _, s := range jsonObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var buf [8]member
		members, ok := objectMembers(raw, buf[:])
		if !ok {
			return
		}
		for _, mem := range members {
			for _, k := range sessionClaimNames {
				if strings.EqualFold(string(mem.name), k) && string(mem.name) != k {
					return
				}
			}
		}
		var got, want sessionClaims
		gotErr := parseSessionClaims(members, string(raw), &got)
		wantErr := json.Unmarshal(raw, &want)
		var se *json.SyntaxError
		if errors.As(wantErr, &se) || errors.Is(wantErr, io.ErrUnexpectedEOF) {
			t.Fatalf("objectMembers accepted what encoding/json cannot parse: %q", raw)
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: fast reader error %v, encoding/json error %v", raw, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfast reader   %+v\nencoding/json %+v", raw, got, want)
		}
	})
}
