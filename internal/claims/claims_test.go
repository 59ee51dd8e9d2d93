package claims

import (
	"encoding/base64"
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
		// An unknown scope takes no fpm slot (before: xo: took the first).
		{"xo:admin,o:reports", "read", "1", []string{"org:reports:read"}},
		{"org:admin,o:reports", "read", "1", []string{"org:reports:read"}},
		// A bad item keeps its slot; a decimal beyond 64 bits still counts.
		{"o:a,o:b", "read", "x,1", []string{"org:b:read"}},
		{"o:a", strings.Repeat("p,", 64) + "last", "18446744073709551616", []string{"org:a:last"}},
		// Empty permission names are names (Clerk keeps them).
		{"o:a", "read,,write", "7", []string{"org:a:read", "org:a:", "org:a:write"}},
		// An entry without a scope: Clerk's splitByScope throws.
		{"o:a,bad", "read", "1", nil},
		{"o:a,", "read", "1", nil},
		{" o:a\ufeff", "read", " 1 ", []string{"org:a:read"}},
	}
	for _, tc := range cases {
		if got := OrgPermissions(tc.fea, tc.per, tc.fpm); !slices.Equal(got, tc.want) {
			t.Errorf("OrgPermissions(%q, %q, %q) = %q, want %q", tc.fea, tc.per, tc.fpm, got, tc.want)
		}
	}
}

func TestHasScoped(t *testing.T) {
	entries := SplitList("u:pro, o:reports,ou:docs,xo:admin,uo:a:b")
	cases := map[string]bool{
		"pro": true, "user:pro": true, "u:pro": true, "org:pro": false,
		"reports": true, "org:reports": true, "o:reports": true, "organization:reports": true, "user:reports": false,
		"docs": true, "org:docs": true, "user:docs": true,
		"admin": false, "xo:admin": false, "org:admin": false,
		"a:b": false, "org:a:b": false, "org:a": false, "user:a": false, "uo:a:b": false, "team:pro": false, "": false,
	}
	for want, ok := range cases {
		if got := HasScoped(entries, want); got != ok {
			t.Errorf("HasScoped(%q) = %v, want %v", want, got, ok)
		}
	}
	if HasScoped(SplitList("u:pro,bad"), "pro") || HasScoped(SplitList("u:pro,"), "pro") || HasScoped(nil, "pro") {
		t.Error("a list Clerk cannot split granted a feature")
	}
}

func TestPrefixWithOrg(t *testing.T) {
	for in, want := range map[string]string{"admin": "org:admin", "org:admin": "org:admin",
		"org:org:admin": "org:admin", "": "org:", "f1:read": "org:f1:read", "orgadmin": "org:orgadmin"} {
		if got := PrefixWithOrg(in); got != want {
			t.Errorf("PrefixWithOrg(%q) = %q, want %q", in, got, want)
		}
	}
}

// reference is Clerk's jwtPayloadParser (splitByScope, parsePermissions,
// decimalToBinaryBits, buildOrgPermissions) transliterated line by line.
func reference(fea, per, fpm string) []string {
	var org []string
	if fea != "" {
		for _, part := range strings.Split(fea, ",") {
			part = TrimJS(part)
			colon := strings.Index(part, ":")
			if colon == -1 {
				return nil // throws
			}
			scope, value := part[:colon], part[colon+1:]
			if scope == "o" || scope == "ou" || scope == "uo" {
				org = append(org, value)
			}
		}
	}
	if per == "" || fpm == "" {
		return nil
	}
	permissions := strings.Split(per, ",")
	for i := range permissions {
		permissions[i] = TrimJS(permissions[i])
	}
	var fpmBits [][]int
	for _, d := range strings.Split(fpm, ",") {
		fpmBits = append(fpmBits, decimalToBinaryBits(TrimJS(d), len(permissions)))
	}
	var out []string
	for fi, feature := range org {
		if fi >= len(fpmBits) {
			continue
		}
		bits := fpmBits[fi]
		for pi := 0; pi < len(bits) && pi < len(permissions); pi++ {
			if bits[pi] == 1 {
				out = append(out, "org:"+feature+":"+permissions[pi])
			}
		}
	}
	return out
}

func decimalToBinaryBits(decimal string, minimumLength int) []int {
	if decimal == "" {
		return nil
	}
	for _, c := range decimal {
		if c < '0' || c > '9' {
			return nil
		}
	}
	remaining := strings.TrimLeft(decimal, "0")
	if remaining == "" {
		remaining = "0"
	}
	var bits []int
	for remaining != "0" {
		quotient := ""
		remainder := 0
		for i := 0; i < len(remaining); i++ {
			value := remainder*10 + int(remaining[i]-'0')
			q := value / 2
			if quotient != "" || q != 0 {
				quotient += strconv.Itoa(q)
			}
			remainder = value % 2
		}
		bits = append(bits, remainder)
		remaining = quotient
		if remaining == "" {
			remaining = "0"
		}
	}
	if len(bits) == 0 {
		bits = append(bits, 0)
	}
	for len(bits) < minimumLength {
		bits = append(bits, 0)
	}
	return bits
}

// FuzzOrgPermissions checks the one-allocation decoder against the plain
// rule.
func FuzzOrgPermissions(f *testing.F) {
	f.Add("o:repositories,uo:projects", "read,create,update,delete,revoke", "7,21")
	f.Add("u:chat,o:docs", " read , write ", "2")
	f.Add("o:a,o:b,o:c", "x", "1,x,18446744073709551615")
	f.Add("xo:a,o:b,ou:c", "x,,y", "1,+2,7,18446744073709551616")
	f.Add("o:a,", "x", "1")
	f.Fuzz(func(t *testing.T, fea, per, fpm string) {
		if got, want := OrgPermissions(fea, per, fpm), reference(fea, per, fpm); !slices.Equal(got, want) {
			t.Fatalf("OrgPermissions(%q, %q, %q) = %q, want %q", fea, per, fpm, got, want)
		}
	})
}

// FuzzDecode checks Decode against the functions it combines (SplitList,
// AllScoped, OrgPermissions) and that its lists do not share room: an
// append to one never changes another.
func FuzzDecode(f *testing.F) {
	f.Add("o:reports,o:invoices,u:pro", "u:pro", true, "admin", "read,manage", "3,1")
	f.Add("o:repositories,uo:projects", "", true, "", "read,create,update,delete,revoke", "7,21")
	f.Add("u:pro, bad", "a,,b", false, "admin", "x", "1")
	f.Add("u:pro, bad", "a", true, "admin", "x", "1")
	f.Add("", "", true, "r", "", "")
	f.Add(" o:a\ufeff", "\u00a0p ", true, "", "read", " 1 ")
	f.Fuzz(func(t *testing.T, fea, pla string, org bool, rol, per, fpm string) {
		l, ok := Decode(fea, pla, org, rol, per, fpm)
		features := SplitList(fea)
		if org && !AllScoped(features) {
			if ok {
				t.Fatalf("Decode(%q) accepted an entry without a scope", fea)
			}
			return
		}
		if !ok {
			t.Fatalf("Decode(%q, org %v) refused", fea, org)
		}
		want := Lists{Features: features, Plans: SplitList(pla)}
		if org {
			want.OrgPermissions = OrgPermissions(fea, per, fpm)
			if rol != "" {
				want.OrgRole = "org:" + rol
			}
		}
		if !slices.Equal(l.Features, want.Features) || !slices.Equal(l.Plans, want.Plans) ||
			!slices.Equal(l.OrgPermissions, want.OrgPermissions) || l.OrgRole != want.OrgRole {
			t.Fatalf("Decode = %q, want %q", l, want)
		}
		for _, s := range [][]string{l.Features, l.Plans, l.OrgPermissions} {
			if (s == nil) != (len(s) == 0) || cap(s) != len(s) {
				t.Fatalf("list %q: len %d cap %d, nil %v", s, len(s), cap(s), s == nil)
			}
		}
		_ = append(l.Features, "x")
		_ = append(l.Plans, "x")
		if !slices.Equal(l.Plans, want.Plans) || !slices.Equal(l.OrgPermissions, want.OrgPermissions) {
			t.Fatal("an append to one list changed another")
		}
	})
}

func TestDecodeAllocs(t *testing.T) {
	var l Lists
	n := testing.AllocsPerRun(100, func() {
		l, _ = Decode("o:reports,o:invoices,u:pro", "u:pro", true, "admin", "read,manage", "3,1")
	})
	if n > 2 {
		t.Errorf("Decode allocates %v times, want at most 2", n)
	}
	if !slices.Equal(l.OrgPermissions, []string{"org:reports:read", "org:reports:manage", "org:invoices:read"}) || l.OrgRole != "org:admin" {
		t.Errorf("Decode = %q", l)
	}
}

// TestDecodeUnverifiedCap: a token over MaxTokenSize is not decoded at all
// (the zero value), one at the cap is.
func TestDecodeUnverifiedCap(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	tok := func(n int) string {
		head := enc([]byte(`{"alg":"RS256"}`)) + "."
		pad := strings.Repeat("x", n)
		for {
			t := head + enc([]byte(`{"iss":"https://a.b","iat":5,"p":"`+pad+`"}`)) + ".sig"
			if len(t) <= n {
				return t
			}
			pad = pad[:len(pad)-(len(t)-n)]
		}
	}
	if u := DecodeUnverified(tok(MaxTokenSize)); !u.OK || u.Iss != "https://a.b" || u.Iat != 5 {
		t.Fatalf("a token of %d bytes: %+v", MaxTokenSize, u)
	}
	big := tok(MaxTokenSize) // then longer signatures: still a JWT, just over the cap
	for len(big) <= MaxTokenSize {
		big += "x"
	}
	if u := DecodeUnverified(big); u.OK || u.Iss != nil {
		t.Fatalf("a token over the cap was decoded: %+v", u)
	}
}
