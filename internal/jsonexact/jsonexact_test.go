package jsonexact

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type org struct {
	Role string `json:"role"`
}

type claims struct {
	Role     string          `json:"role"`
	Org      org             `json:"org"`
	OrgPtr   *org            `json:"org_ptr"`
	Orgs     []org           `json:"orgs"`
	ByID     map[string]org  `json:"by_id"`
	Any      any             `json:"any"`
	Raw      json.RawMessage `json:"raw"`
	Untagged string
	embedded
}

type embedded struct {
	Plan string `json:"plan"`
}

// upper has its own UnmarshalJSON: what it reads is its business.
type upper struct{ V string }

func (u *upper) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	u.V = m["V"] + m["v"]
	return nil
}

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		path       string // "" when accepted
	}{
		{"exact", `{"role":"viewer","org":{"role":"a"},"plan":"p","Untagged":"u"}`, ""},
		{"issue 17: role then ROLE", `{"role":"viewer","ROLE":"admin"}`, `"ROLE"`},
		{"ROLE alone", `{"ROLE":"admin"}`, `"ROLE"`},
		{"Role before role", `{"Role":"admin","role":"viewer"}`, `"Role"`},
		{"nested struct", `{"org":{"role":"viewer","Role":"admin"}}`, `"org"."Role"`},
		{"nested member name", `{"ORG":{"role":"admin"}}`, `"ORG"`},
		{"through a pointer", `{"org_ptr":{"rOle":"admin"}}`, `"org_ptr"."rOle"`},
		{"in a slice", `{"orgs":[{"role":"a"},{"ROLE":"admin"}]}`, `"orgs"[1]."ROLE"`},
		{"in a map value", `{"by_id":{"Org_1":{"ROLE":"admin"}}}`, `"by_id"."Org_1"."ROLE"`},
		{"map keys are exact", `{"by_id":{"a":{"role":"x"},"A":{"role":"y"}}}`, ""},
		{"embedded field", `{"PLAN":"gold"}`, `"PLAN"`},
		{"untagged: one member matching when case is ignored", `{"untagged":"u"}`, ""},
		{"untagged: two members for one field", `{"UNTAGGED":"a","untagged":"u"}`, `"untagged"`},
		{"untagged: exact and folded", `{"Untagged":"a","untagged":"u"}`, `"untagged"`},
		{"long s folds to s in Go", `{"orgſ":[]}`, `"orgſ"`},
		{"any keeps names", `{"any":{"role":"a","ROLE":"b"}}`, ""},
		{"raw is not looked into", `{"raw":{"ROLE":"b"}}`, ""},
		{"unknown names pass", `{"other":1,"Other":2}`, ""},
		{"a number beyond float64 elsewhere", `{"role":"a","big":1e400}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got claims
			err := Unmarshal([]byte(tc.data), &got)
			var ce *CaseError
			switch {
			case tc.path == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.path != "" && !errors.As(err, &ce):
				t.Fatalf("accepted (%v): %+v", err, got)
			case tc.path != "" && ce.Path != tc.path && ce.Other != tc.path:
				t.Fatalf("path %s, want %s (%v)", ce.Path, tc.path, err)
			case tc.path == "":
				var want claims
				if err := json.Unmarshal([]byte(tc.data), &want); err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("got %+v, encoding/json %+v (%v)", got, want, err)
				}
			}
		})
	}
	// A type with its own UnmarshalJSON, and a pointer an interface holds.
	var u struct {
		U upper `json:"u"`
	}
	if err := Unmarshal([]byte(`{"u":{"V":"a","v":"b"}}`), &u); err != nil || u.U.V != "ab" {
		t.Fatalf("UnmarshalJSON: %+v %v", u, err)
	}
	var held any = &org{}
	if err := Unmarshal([]byte(`{"ROLE":"admin"}`), &held); err == nil {
		t.Fatalf("a pointer held by an interface is decoded into: %+v", held)
	}
	if err := Unmarshal([]byte(`{"role":`), &held); err == nil || errors.As(err, new(*CaseError)) {
		t.Fatalf("invalid JSON: %v", err)
	}
	if err := Unmarshal([]byte(strings.Repeat("[", 10)+strings.Repeat("]", 10)), &u); err == nil {
		t.Fatal("an array into a struct: no error")
	}
}

// FuzzUnmarshal: never a panic; when accepted, the result is encoding/json's,
// and every field holds the exact member (or nothing).
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"role":"viewer","ROLE":"admin"}`, `{"org":{"role":"a"},"orgs":[{"role":"b"}]}`,
		`{"by_id":{"x":{"Role":"y"}}}`, `{"plan":"p","Untagged":"u","any":[1,{"a":null}]}`, `[]`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var got claims
		if Unmarshal([]byte(data), &got) != nil {
			return
		}
		var want claims
		if err := json.Unmarshal([]byte(data), &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, encoding/json %+v (%v)", got, want, err)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(data), &m) != nil {
			return
		}
		var role string
		if raw, ok := m["role"]; ok && json.Unmarshal(raw, &role) != nil {
			return
		}
		if got.Role != role {
			t.Fatalf("role %q, exact member %q", got.Role, role)
		}
	})
}
