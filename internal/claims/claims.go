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
	masks := strings.Split(fpm, ",")
	var out []string
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
