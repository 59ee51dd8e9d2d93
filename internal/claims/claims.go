// Package claims holds the decoding of Clerk's claim encodings shared by
// the middleware and the clerkauth command.
package claims

import (
	"strconv"
	"strings"
)

// OrgPermissions decodes the v2 permission encoding: fea lists features
// as "scope:name"; the ones whose scope includes "o" are the organization's
// features, in order. per lists permission names. fpm holds one integer per
// organization feature; bit i of item j grants "org:<feature j>:<per[i]>".
func OrgPermissions(fea, per, fpm string) []string {
	if fea == "" || per == "" || fpm == "" {
		return nil
	}
	perms := strings.Split(per, ",")
	for i := range perms {
		perms[i] = strings.TrimSpace(perms[i])
	}
	perms = perms[:min(len(perms), 64)]
	masks := strings.Split(fpm, ",")

	// First the grants and the total size, then every permission written
	// into one string and sliced out of it: one allocation for all.
	type grant struct {
		name string
		mask uint64
	}
	var small [16]grant
	grants := small[:0]
	size, count := 0, 0
	j := 0
	for f := range strings.SplitSeq(fea, ",") {
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
		grants = append(grants, grant{name, mask})
		for i, p := range perms {
			if p != "" && mask&(1<<uint(i)) != 0 {
				size += len("org:") + len(name) + len(":") + len(p)
				count++
			}
		}
	}
	if count == 0 {
		return nil
	}
	var b strings.Builder
	b.Grow(size)
	for _, g := range grants {
		for i, p := range perms {
			if p != "" && g.mask&(1<<uint(i)) != 0 {
				b.WriteString("org:")
				b.WriteString(g.name)
				b.WriteByte(':')
				b.WriteString(p)
			}
		}
	}
	all, off := b.String(), 0
	out := make([]string, 0, count)
	for _, g := range grants {
		for i, p := range perms {
			if p != "" && g.mask&(1<<uint(i)) != 0 {
				n := len("org:") + len(g.name) + len(":") + len(p)
				out = append(out, all[off:off+n])
				off += n
			}
		}
	}
	return out
}
