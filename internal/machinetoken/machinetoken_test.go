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

func TestFromJWT(t *testing.T) {
	exp := time.Unix(1_700_000_000, 0)
	for _, tt := range []struct {
		name, kind, raw string
		scopes          []string
		claims          string
	}{
		{"scopes wins", M2M, `{"scopes":"a b","scope":"c","aud":["d"]}`, []string{"a", "b"}, ""},
		{"scope", OAuth, `{"scope":"c d","scp":["e"]}`, []string{"c", "d"}, ""},
		{"scp", OAuth, `{"scp":["e"]}`, []string{"e"}, ""},
		{"aud for M2M", M2M, `{"aud":["d","e"]}`, []string{"d", "e"}, ""},
		{"aud not for OAuth", OAuth, `{"aud":["d"]}`, nil, ""},
		{"custom claims", M2M, `{"sub":"mch_1","jti":"j","role":"x"}`, nil, `{"role":"x"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c JWTClaims
			if err := json.Unmarshal([]byte(tt.raw), &c); err != nil {
				t.Fatal(err)
			}
			f := FromJWT(tt.kind, "mch_1", exp, &c, []byte(tt.raw))
			if !slices.Equal(f.Scopes, tt.scopes) || string(f.Claims) != tt.claims || f.Subject != "mch_1" || !f.ExpiresAt.Equal(exp) {
				t.Fatalf("FromJWT = %+v", f)
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
}
