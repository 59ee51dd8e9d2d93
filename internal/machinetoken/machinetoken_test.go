package machinetoken

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestShapeOK(t *testing.T) {
	for _, tt := range []struct {
		tok  string
		want bool
	}{
		{"ak_abc123", true},
		{"mt_AbC+/=-_", true},
		{"oat_" + strings.Repeat("x", MaxOpaque-4), true},
		{"oat_" + strings.Repeat("x", MaxOpaque-3), false},
		{"ak_a b", false},
		{"ak_\x00", false},
		{"ak_é", false},
	} {
		if got := ShapeOK(tt.tok); got != tt.want {
			t.Errorf("ShapeOK(%.20q) = %v, want %v", tt.tok, got, tt.want)
		}
	}
}

// TestFromJWT: the fields of JWT-format machine tokens are Clerk's. The
// verdicts were taken from @clerk/backend 3.25.0 (verifyMachineAuthToken
// then authenticatedMachineObject, on tokens signed with a PEM key), the
// first ones being issue 17's measured differences.
func TestFromJWT(t *testing.T) {
	exp := time.Unix(1_700_000_000, 0)
	type want struct {
		id, clientID string
		scopes       []string
		claims       string
	}
	for _, tt := range []struct {
		name, kind, raw string
		want            want
		err             bool
	}{
		{"M2M aud, not scope", M2M, `{"sub":"mch_1","jti":"j1","aud":["mch_reports"],"scope":"mch_admin"}`,
			want{id: "j1", scopes: []string{"mch_reports"}, claims: `{"aud":["mch_reports"],"scope":"mch_admin"}`}, false},
		{"M2M aud, not scp", M2M, `{"sub":"mch_1","aud":["mch_reports"],"scp":["mch_admin"]}`,
			want{scopes: []string{"mch_reports"}, claims: `{"aud":["mch_reports"],"scp":["mch_admin"]}`}, false},
		{"M2M aud, not Scopes (names are case-sensitive)", M2M, `{"sub":"mch_1","aud":["mch_reports"],"Scopes":"mch_admin"}`,
			want{scopes: []string{"mch_reports"}, claims: `{"aud":["mch_reports"],"Scopes":"mch_admin"}`}, false},
		{"M2M scopes beat aud", M2M, `{"scopes":"a b","scope":"c","aud":["d"]}`,
			want{scopes: []string{"a", "b"}, claims: `{"scopes":"a b","scope":"c","aud":["d"]}`}, false},
		{"M2M aud as a string", M2M, `{"sub":"mch_1","aud":"mch_reports"}`,
			want{scopes: []string{"mch_reports"}, claims: `{"aud":"mch_reports"}`}, false},
		{"M2M scopes split at every space", M2M, `{"scopes":"a "}`, want{scopes: []string{"a", ""}, claims: `{"scopes":"a "}`}, false},
		{"M2M scopes double space", M2M, `{"scopes":"a  b"}`, want{scopes: []string{"a", "", "b"}, claims: `{"scopes":"a  b"}`}, false},
		{"M2M scopes empty", M2M, `{"scopes":""}`, want{scopes: []string{""}, claims: `{"scopes":""}`}, false},
		{"M2M scopes null reads aud", M2M, `{"scopes":null,"aud":["x"]}`, want{scopes: []string{"x"}, claims: `{"scopes":null,"aud":["x"]}`}, false},
		{"M2M nothing", M2M, `{"sub":"mch_1","iss":"i","exp":1,"nbf":1,"iat":1}`, want{}, false},
		{"M2M has no client id", M2M, `{"sub":"mch_1","client_id":"c1","jti":"j"}`, want{id: "j", claims: `{"client_id":"c1"}`}, false},
		{"M2M scopes a number (Clerk throws)", M2M, `{"scopes":5}`, want{}, true},
		{"M2M jti a number", M2M, `{"jti":5}`, want{}, true},
		{"OAuth scp, not scopes", OAuth, `{"sub":"user_1","scp":["read"],"scopes":"read admin","client_id":"c1","jti":"oat_j"}`,
			want{id: "oat_j", clientID: "c1", scopes: []string{"read"}}, false},
		{"OAuth scp, not Scope", OAuth, `{"scp":["read"],"Scope":"read admin"}`, want{scopes: []string{"read"}}, false},
		{"OAuth scope, not Scp", OAuth, `{"Scp":["admin"],"scope":"read"}`, want{scopes: []string{"read"}}, false},
		{"OAuth scp beats scope", OAuth, `{"scope":"c d","scp":["e"]}`, want{scopes: []string{"e"}}, false},
		{"OAuth scope", OAuth, `{"scope":"read write"}`, want{scopes: []string{"read", "write"}}, false},
		{"OAuth scp as a string", OAuth, `{"scp":"read"}`, want{scopes: []string{"read"}}, false},
		{"OAuth scp null reads scope", OAuth, `{"scp":null,"scope":"a b"}`, want{scopes: []string{"a", "b"}}, false},
		{"OAuth aud is not scopes", OAuth, `{"aud":["d"]}`, want{}, false},
		{"OAuth Client_ID is not client_id", OAuth, `{"Client_ID":"c2"}`, want{}, false},
		{"OAuth scope a number (Clerk throws)", OAuth, `{"scope":5}`, want{}, true},
		{"OAuth client_id a number", OAuth, `{"client_id":5}`, want{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := FromJWT(tt.kind, "mch_1", exp, []byte(tt.raw))
			if tt.err {
				if err == nil {
					t.Fatalf("FromJWT = %+v, want an error", f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{id: f.ID, clientID: f.ClientID, scopes: f.Scopes, claims: string(f.Claims)}
			if got.id != tt.want.id || got.clientID != tt.want.clientID || !slices.Equal(got.scopes, tt.want.scopes) ||
				got.claims != tt.want.claims || f.Subject != "mch_1" || !f.ExpiresAt.Equal(exp) {
				t.Fatalf("FromJWT = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAnswerFields(t *testing.T) {
	ms := int64(1_700_000_000_000)
	a := Answer{ID: "ak_1", Name: "ci", Subject: "user_1", Claims: json.RawMessage("null"), Expiration: &ms}
	if f := a.Fields(APIKey); f.Name != "ci" || f.Claims != nil || !f.ExpiresAt.Equal(time.UnixMilli(ms)) {
		t.Fatalf("API key: %+v", f)
	}
	if f := a.Fields(M2M); f.Name != "" {
		t.Fatalf("an M2M token got a name: %+v", f)
	}
	// Clerk's machine auth objects: a client id only for OAuth tokens,
	// custom claims only for API keys and M2M tokens.
	b := Answer{ID: "x", ClientID: "c1", Claims: json.RawMessage(`{"a":1}`)}
	for kind, want := range map[string][2]string{APIKey: {"", `{"a":1}`}, M2M: {"", `{"a":1}`}, OAuth: {"c1", ""}} {
		if f := b.Fields(kind); f.ClientID != want[0] || string(f.Claims) != want[1] {
			t.Errorf("%s: client id %q, claims %s; want %q, %s", kind, f.ClientID, f.Claims, want[0], want[1])
		}
	}
}

// FuzzFromJWT: any payload gives fields or ErrClaimType-style errors,
// never a panic; the custom claims of an M2M token are a JSON object
// without the reserved names.
func FuzzFromJWT(f *testing.F) {
	for _, s := range []string{`{"scopes":"a b","aud":["x"],"jti":"j","r":1}`, `{"scp":"x","scope":"a"}`,
		`{"aud":"x","client_id":5}`, `{"scopes":null,"aud":[1]}`, `{}`, `[]`} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, m2m bool) {
		kind := OAuth
		if m2m {
			kind = M2M
		}
		fl, err := FromJWT(kind, "sub_1", time.Time{}, []byte(raw))
		if err != nil || fl.Claims == nil {
			return
		}
		var c map[string]json.RawMessage
		if err := json.Unmarshal(fl.Claims, &c); err != nil {
			t.Fatalf("claims %s: %v", fl.Claims, err)
		}
		for name := range reservedM2MClaims {
			if _, ok := c[name]; ok {
				t.Fatalf("claims %s hold %q", fl.Claims, name)
			}
		}
	})
}
