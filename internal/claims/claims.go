// Package claims holds the decoding of Clerk's claim encodings shared by
// the middleware and the clerkauth command. It follows Clerk's own code
// (@clerk/shared authorization.ts and jwtPayloadParser.ts) step by step.
package claims

import (
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// TrimJS trims s as JavaScript's String.prototype.trim does: Unicode
// White_Space and U+FEFF, but not U+0085, which Go's unicode.IsSpace
// counts and JavaScript does not.
func TrimJS(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return r != 0x85 && (unicode.IsSpace(r) || r == 0xFEFF)
	})
}

// SplitList splits a comma list (fea, pla) into its trimmed entries, as
// Clerk does before reading them: empty entries are kept. "" gives nil.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = TrimJS(p)
	}
	return parts
}

// SplitByScope sorts "scope:name" entries into the organization's and the
// user's, as Clerk's splitByScope: scope "o" is the organization's, "u"
// the user's, "ou" and "uo" both; any other scope is ignored. The name is
// everything after the first ':'. ok is false when an entry has no ':'
// (Clerk throws then).
func SplitByScope(entries []string) (org, user []string, ok bool) {
	for _, e := range entries {
		scope, name, found := strings.Cut(e, ":")
		if !found {
			return nil, nil, false
		}
		switch scope {
		case "o":
			org = append(org, name)
		case "u":
			user = append(user, name)
		case "ou", "uo":
			org = append(org, name)
			user = append(user, name)
		}
	}
	return org, user, true
}

// AllScoped reports whether every entry has a scope, that is whether
// Clerk's splitByScope can read the list.
func AllScoped(entries []string) bool {
	for _, e := range entries {
		if !strings.Contains(e, ":") {
			return false
		}
	}
	return true
}

// HasScoped answers a feature or plan check as Clerk's
// checkForFeatureOrPlan: want is "name" (an organization or user entry),
// or "scope:name" with scope o/org/organization or u/user; only the part
// up to a second ':' is the name. Any other scope, or a list Clerk cannot
// split, is false.
func HasScoped(entries []string, want string) bool {
	if len(entries) == 0 {
		return false
	}
	org, user, ok := SplitByScope(entries)
	if !ok {
		return false
	}
	scope, id, explicit := strings.Cut(want, ":")
	if explicit {
		id, _, _ = strings.Cut(id, ":")
		if id == "" {
			id = scope // JavaScript's rawId || rawScope
		}
		switch scope {
		case "o", "org", "organization":
			return contains(org, id)
		case "u", "user":
			return contains(user, id)
		}
		return false
	}
	return contains(org, scope) || contains(user, scope)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// PrefixWithOrg is Clerk's prefixWithOrg: any run of leading "org:"
// becomes one "org:", and a value without one gets it.
func PrefixWithOrg(s string) string {
	rest := s
	for strings.HasPrefix(rest, "org:") {
		rest = rest[len("org:"):]
	}
	if len(rest)+len("org:") == len(s) {
		return s
	}
	return "org:" + rest
}

// fpmItem is one decoded fpm entry: bit i grants permission i.
type fpmItem struct {
	small uint64
	big   *big.Int // set when the decimal does not fit 64 bits
	valid bool     // the entry is all decimal digits
}

func (f fpmItem) bit(i int) bool {
	switch {
	case !f.valid:
		return false
	case f.big != nil:
		return f.big.Bit(i) == 1
	}
	return i < 64 && f.small>>uint(i)&1 == 1
}

func parseFpm(s string) fpmItem {
	s = TrimJS(s)
	if s == "" {
		return fpmItem{}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fpmItem{}
		}
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return fpmItem{small: n, valid: true}
	}
	b, _ := new(big.Int).SetString(s, 10)
	return fpmItem{big: b, valid: true}
}

// OrgPermissions decodes the v2 permission encoding as Clerk's
// jwtPayloadParser does: the organization features are the fea entries
// with scope o, ou or uo, in order (other scopes take no fpm slot); per
// lists permission names; fpm holds one decimal per organization feature,
// of any size, and bit i of item j grants "org:<feature j>:<per[i]>". An
// fpm item that is not all digits grants nothing but keeps its slot. It
// returns nil when fea has an entry without a scope (Clerk throws).
func OrgPermissions(fea, per, fpm string) []string {
	if per == "" || fpm == "" {
		return nil
	}
	// SplitByScope's organization half, without building the lists.
	var fsmall [16]string
	features := fsmall[:0]
	for part := range strings.SplitSeq(fea, ",") {
		scope, name, found := strings.Cut(TrimJS(part), ":")
		if !found {
			return nil
		}
		if scope == "o" || scope == "ou" || scope == "uo" {
			features = append(features, name)
		}
	}
	if len(features) == 0 {
		return nil
	}
	perms := strings.Split(per, ",")
	for i := range perms {
		perms[i] = TrimJS(perms[i])
	}
	masks := strings.Split(fpm, ",")
	var ismall [16]fpmItem
	items := ismall[:0]
	for range min(len(masks), len(features)) {
		items = append(items, fpmItem{})
	}
	size, count := 0, 0
	for j := range items {
		items[j] = parseFpm(masks[j])
		for i, p := range perms {
			if items[j].bit(i) {
				size += len("org:") + len(features[j]) + len(":") + len(p)
				count++
			}
		}
	}
	if count == 0 {
		return nil
	}
	// Every permission written into one string and sliced out of it: one
	// allocation for all.
	var b strings.Builder
	b.Grow(size)
	for j, it := range items {
		for i, p := range perms {
			if it.bit(i) {
				b.WriteString("org:")
				b.WriteString(features[j])
				b.WriteByte(':')
				b.WriteString(p)
			}
		}
	}
	all, off := b.String(), 0
	out := make([]string, 0, count)
	for j, it := range items {
		for i, p := range perms {
			if it.bit(i) {
				n := len("org:") + len(features[j]) + len(":") + len(p)
				out = append(out, all[off:off+n])
				off += n
			}
		}
	}
	return out
}
