package claims

import (
	"slices"
	"strconv"
	"strings"
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

// reference is the rule written the plain way, one string at a time.
func reference(fea, per, fpm string) []string {
	if fea == "" || per == "" || fpm == "" {
		return nil
	}
	perms := strings.Split(per, ",")
	masks := strings.Split(fpm, ",")
	var out []string
	j := 0
	for _, f := range strings.Split(fea, ",") {
		scope, name, ok := strings.Cut(strings.TrimSpace(f), ":")
		if !ok || !strings.Contains(scope, "o") {
			continue
		}
		if j >= len(masks) {
			break
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(masks[j]), 10, 64)
		j++
		if err != nil {
			continue
		}
		for i, p := range perms {
			if i >= 64 {
				break
			}
			if p = strings.TrimSpace(p); p != "" && mask&(1<<uint(i)) != 0 {
				out = append(out, "org:"+name+":"+p)
			}
		}
	}
	return out
}

// FuzzOrgPermissions checks the one-allocation decoder against the plain
// rule.
func FuzzOrgPermissions(f *testing.F) {
	f.Add("o:repositories,uo:projects", "read,create,update,delete,revoke", "7,21")
	f.Add("u:chat,o:docs", " read , write ", "2")
	f.Add("o:a,o:b,o:c", "x", "1,x,18446744073709551615")
	f.Fuzz(func(t *testing.T, fea, per, fpm string) {
		if got, want := OrgPermissions(fea, per, fpm), reference(fea, per, fpm); !slices.Equal(got, want) {
			t.Fatalf("OrgPermissions(%q, %q, %q) = %q, want %q", fea, per, fpm, got, want)
		}
	})
}
