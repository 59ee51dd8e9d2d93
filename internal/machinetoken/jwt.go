package machinetoken

import (
	"strings"

	"github.com/clerkauth/clerkauth/internal/jsonobj"
	"github.com/clerkauth/clerkauth/internal/jws"
)

// JWTKind is the machine token type Clerk's routing gives the JWT tok
// before verifying it (tokens/machine.ts: an mch_ subject is M2M, else a
// typ at+jwt or application/at+jwt is OAuth), or "". It reads the
// unverified token: use it only to pick a failure's reason.
func JWTKind(tok string) string {
	dot1, dot2, ok := jws.Split(tok)
	if !ok {
		return ""
	}
	if SubIsMachine(tok[dot1+1 : dot2]) {
		return M2M
	}
	var buf [256]byte
	raw, ok := jws.Decode(tok[:dot1], buf[:])
	var h jws.Header
	if !ok || jws.ReadHeader(string(raw), &h) != nil {
		return ""
	}
	if h.Typ == "at+jwt" || h.Typ == "application/at+jwt" {
		return OAuth
	}
	return ""
}

// SubIsMachine reports whether the (not yet verified) payload segment seg
// has a sub, a string, starting with mch_: how Clerk routes a JWT to its
// M2M verifier (names case-sensitive; a repeated name is not a subject).
func SubIsMachine(seg string) bool {
	raw, ok := jws.Decode(seg, nil)
	if !ok {
		return false
	}
	var buf [32]jsonobj.Member
	members, err := jsonobj.Members(string(raw), buf[:])
	if err != nil {
		return false
	}
	for _, m := range members {
		if m.Name == "sub" {
			s, isNull, ok := jsonobj.String(m)
			return ok && !isNull && strings.HasPrefix(s, "mch_")
		}
	}
	return false
}
