// Package claims holds the decoding of Clerk's claim encodings shared by
// the middleware and the clerkauth command. It follows Clerk's own code
// (@clerk/shared authorization.ts and jwtPayloadParser.ts) step by step.
package claims

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// TrimJS trims s as JavaScript's String.prototype.trim does: Unicode
// White_Space and U+FEFF, but not U+0085, which Go's unicode.IsSpace
// counts and JavaScript does not.
func TrimJS(s string) string {
	// Fast path: a string that starts and ends with a printable ASCII
	// character has nothing to trim.
	if s == "" || notSpace(s[0]) && notSpace(s[len(s)-1]) {
		return s
	}
	return strings.TrimFunc(s, func(r rune) bool {
		return r != 0x85 && (unicode.IsSpace(r) || r == 0xFEFF)
	})
}

// notSpace reports whether c is a printable ASCII character other than
// the space, which no trim removes.
func notSpace(c byte) bool {
	return c > ' ' && c < 0x7f
}

// SplitList splits a comma list (fea, pla) into its trimmed entries, as
// Clerk does before reading them: empty entries are kept. "" gives nil.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	return fillList(make([]string, listLen(s)), s)
}

// listLen is the number of entries of the comma list s.
func listLen(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, ",") + 1
}

// fillList writes the trimmed entries of s into dst, which holds exactly
// listLen(s) of them, and returns dst.
func fillList(dst []string, s string) []string {
	for i := range dst {
		part := s
		if c := strings.IndexByte(s, ','); c >= 0 {
			part, s = s[:c], s[c+1:]
		}
		dst[i] = TrimJS(part)
	}
	return dst
}

// Lists is what [Decode] makes of a session token's list claims.
type Lists struct {
	Features, Plans []string // SplitList of fea and pla
	OrgRole         string   // "org:" + rol; "" when rol is ""
	OrgPermissions  []string // OrgPermissions(fea, per, fpm)
}

// Decode reads the list claims of a session token: fea and pla split as
// SplitList and, when org is set (a v2 token with an "o" object), the
// organization role rol prefixed with "org:" (empty stays empty) and the
// permissions as OrgPermissions. ok is false when org is set and fea has
// an entry without a scope (Clerk throws). It allocates at most twice:
// one array behind the three lists (each capped at its own length, so an
// append to one never writes into another) and one string holding the
// role and every permission name.
func Decode(fea, pla string, org bool, rol, per, fpm string) (l Lists, ok bool) {
	nf, np := listLen(fea), listLen(pla)
	var list []string
	if org {
		if !scopedList(fea) {
			return Lists{}, false
		}
		l.OrgRole, list = orgPermissions(fea, per, fpm, rol, nf+np)
	} else if nf+np > 0 {
		list = make([]string, nf+np)
	}
	if nf > 0 {
		l.Features = fillList(list[:nf:nf], fea)
	}
	if np > 0 {
		l.Plans = fillList(list[nf:nf+np:nf+np], pla)
	}
	if len(list) > nf+np {
		l.OrgPermissions = list[nf+np:]
	}
	return l, true
}

// scopedList is AllScoped(SplitList(s)) without building the list.
func scopedList(s string) bool {
	if s == "" {
		return true
	}
	for part := range strings.SplitSeq(s, ",") {
		if !strings.Contains(TrimJS(part), ":") {
			return false
		}
	}
	return true
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
			return slices.Contains(org, id)
		case "u", "user":
			return slices.Contains(user, id)
		}
		return false
	}
	return slices.Contains(org, scope) || slices.Contains(user, scope)
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
	_, out := orgPermissions(fea, per, fpm, "", 0)
	return out
}

// orgPermissions decodes the permissions as OrgPermissions into out[head:],
// after head slots left for the caller; out is nil when it would be empty.
// When rol is not "", "org:"+rol is written first into the string that
// holds the permission names and returned as role. Two allocations at
// most: out, and that string.
func orgPermissions(fea, per, fpm, rol string, head int) (role string, out []string) {
	var (
		fsmall [16]string
		psmall [32]string
		ismall [16]fpmItem
	)
	features, perms, items := fsmall[:0], psmall[:0], ismall[:0]
	if per != "" && fpm != "" {
		// SplitByScope's organization half, without building the lists.
		for part := range strings.SplitSeq(fea, ",") {
			scope, name, found := strings.Cut(TrimJS(part), ":")
			if !found {
				features = features[:0]
				break // Clerk throws: no permissions
			}
			if scope == "o" || scope == "ou" || scope == "uo" {
				features = append(features, name)
			}
		}
	}
	count, size := 0, 0
	if len(features) > 0 {
		for p := range strings.SplitSeq(per, ",") {
			perms = append(perms, TrimJS(p))
		}
		for mask := range strings.SplitSeq(fpm, ",") {
			if len(items) == len(features) {
				break
			}
			items = append(items, parseFpm(mask))
		}
		for j, it := range items {
			for i, p := range perms {
				if it.bit(i) {
					size += len("org:") + len(features[j]) + len(":") + len(p)
					count++
				}
			}
		}
	}
	if head+count > 0 {
		out = make([]string, head, head+count)
	}
	if rol != "" {
		size += len("org:") + len(rol)
	}
	if size == 0 {
		return "", out
	}
	// The role and every permission written into one string and sliced
	// out of it: one allocation for all.
	var b strings.Builder
	b.Grow(size)
	if rol != "" {
		b.WriteString("org:")
		b.WriteString(rol)
	}
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
	all := b.String()
	off := 0
	if rol != "" {
		off = len("org:") + len(rol)
		role = all[:off]
	}
	for j, it := range items {
		for i, p := range perms {
			if it.bit(i) {
				n := len("org:") + len(features[j]) + len(":") + len(p)
				out = append(out, all[off:off+n])
				off += n
			}
		}
	}
	return role, out
}

// Reverified applies Clerk's checkReverificationAuthorization: fva =
// [first, second] ages in minutes, each -1 (factor not enabled) or >= 0,
// else nothing passes; a factor is fresh when enabled and its age is below
// afterMinutes; second_factor falls back to whichever factor is enabled;
// multi_factor falls back to the first factor when no second is enabled
// and fails when only the second is.
func Reverified(fva []int, level string, afterMinutes float64) bool {
	if len(fva) != 2 || !(afterMinutes > 0) {
		return false
	}
	f1, f2 := fva[0], fva[1]
	if f1 < -1 || f2 < -1 || f1 == -1 && f2 == -1 {
		return false
	}
	fresh1 := f1 != -1 && float64(f1) < afterMinutes
	fresh2 := f2 != -1 && float64(f2) < afterMinutes
	switch level {
	case "first_factor":
		return fresh1
	case "second_factor":
		if f2 == -1 {
			return fresh1
		}
		return fresh2
	case "multi_factor":
		if f2 == -1 {
			return fresh1
		}
		return f1 != -1 && fresh1 && fresh2
	}
	return false
}
