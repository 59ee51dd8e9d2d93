package claims

import (
	"slices"
	"testing"
)

func TestOrgPermissions(t *testing.T) {
	cases := []struct {
		fea, per, fpm string
		want          []string
	}{
		// clerk.md section 4.
		{"o:repositories,uo:projects", "read,create,update,delete,revoke", "7,21", []string{
			"org:repositories:read", "org:repositories:create", "org:repositories:update",
			"org:projects:read", "org:projects:update", "org:projects:revoke"}},
		{"u:chat,o:docs", "read,write", "2", []string{"org:docs:write"}},
		{"o:a", "read", "x", nil},
		{"", "read", "1", nil},
	}
	for _, tc := range cases {
		if got := OrgPermissions(tc.fea, tc.per, tc.fpm); !slices.Equal(got, tc.want) {
			t.Errorf("OrgPermissions(%q, %q, %q) = %q, want %q", tc.fea, tc.per, tc.fpm, got, tc.want)
		}
	}
}
