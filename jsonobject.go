package clerkauth

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// A hand-written reader for the two small JSON objects of a session token,
// the header and the claims. encoding/json's reflection was about a fifth
// of the cost of verifying a token never seen before (the rest is the RSA
// verification itself); this reader validates the object strictly (RFC
// 8259, as json.Valid), splits it into members in one pass, rejects
// duplicate names, and leaves each value to a decoder of its own type. Only
// nested values (act, o, fva, org_permissions) still go through
// encoding/json. FuzzObjectMembers checks it against encoding/json.

// member is one name/value pair of a JSON object, both as raw bytes.
type member struct {
	name  []byte // unescaped
	val   []byte // the raw JSON value
	off   int    // where val starts in the object's bytes
	ascii bool   // name is plain ASCII
}

// maxMembers bounds the members of a token object; Clerk's have about 15.
const maxMembers = 64

// maxDepth bounds nesting inside a token object.
const maxDepth = 16

// objectMembers validates raw as one JSON object and returns its members,
// appended to buf. ok is false when raw is not valid JSON, not an object,
// has too many members, nests too deep, or names a member twice; names
// differing only in case count as the same (encoding/json matches struct
// fields case-insensitively, so such a pair would be ambiguous).
func objectMembers(raw []byte, buf []member) (members []member, ok bool) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	members = buf[:0]
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return members, skipWS(raw, i+1) == len(raw)
	}
	for {
		if i >= len(raw) || raw[i] != '"' || len(members) == maxMembers {
			return nil, false
		}
		end, escaped, ok := validString(raw, i)
		if !ok {
			return nil, false
		}
		name := raw[i+1 : end-1]
		if escaped || !plainASCII(name) {
			var s string
			if json.Unmarshal(raw[i:end], &s) != nil {
				return nil, false
			}
			name = []byte(s)
		}
		ascii := plainASCII(name)
		for _, m := range members {
			// Two ASCII names can only fold together at the same length
			// (non-ASCII ones can: "k" and the Kelvin sign).
			if (len(m.name) == len(name) || !ascii || !m.ascii) && bytes.EqualFold(m.name, name) {
				return nil, false
			}
		}
		i = skipWS(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		start := skipWS(raw, i+1)
		end, ok = validValue(raw, start, 1)
		if !ok {
			return nil, false
		}
		members = append(members, member{name: name, val: raw[start:end], off: start, ascii: ascii})
		i = skipWS(raw, end)
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case '}':
			return members, skipWS(raw, i+1) == len(raw)
		default:
			return nil, false
		}
	}
}

// validValue checks the JSON value starting at b[i] and returns the index
// just past it.
func validValue(b []byte, i, depth int) (end int, ok bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok = validString(b, i)
		return end, ok
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return 0, false
		}
		return validComposite(b, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return 0, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// validComposite checks an object or array starting at b[i].
func validComposite(b []byte, i, depth int) (int, bool) {
	isObj := b[i] == '{'
	closer := byte(']')
	if isObj {
		closer = '}'
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		var ok bool
		if isObj {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			if i, _, ok = validString(b, i); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
		if i, ok = validValue(b, i, depth); !ok {
			return 0, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case closer:
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// validString checks the string starting at the quote b[i] and returns the
// index just past its closing quote, and whether it has escapes.
func validString(b []byte, i int) (end int, escaped, ok bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			escaped = true
			j++
			if j >= len(b) {
				return 0, false, false
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return 0, false, false
				}
				for _, h := range b[j+1 : j+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return 0, false, false
					}
				}
				j += 4
			default:
				return 0, false, false
			}
		}
	}
	return 0, false, false
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}

// plainASCII reports whether a string body needs no decoding: no escape
// and no byte outside ASCII (encoding/json replaces invalid UTF-8 with
// U+FFFD, so such strings take its path).
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// jsonString decodes the JSON string value m.val; null gives "" and ok; ok
// is false for any other type. src is the object's bytes as a string: a
// plain string is a substring of it, so decoding it allocates nothing.
func jsonString(m member, src string) (s string, isNull, ok bool) {
	val := m.val
	if len(val) == 0 {
		return "", false, false
	}
	switch val[0] {
	case 'n':
		return "", true, true
	case '"':
		if body := val[1 : len(val)-1]; plainASCII(body) {
			return src[m.off+1 : m.off+len(val)-1], false, true
		}
		if json.Unmarshal(val, &s) != nil {
			return "", false, false
		}
		return s, false, true
	}
	return "", false, false
}

// parseHeaderJSON reads the JOSE header members into h. ok is false when a
// member Clerk's header defines has the wrong type.
func parseHeaderJSON(members []member, src string, h *header) (ok bool) {
	for _, m := range members {
		switch string(m.name) {
		case "alg", "kid", "typ", "cat":
			s, isNull, ok := jsonString(m, src)
			if !ok {
				return false
			}
			if isNull {
				continue
			}
			switch string(m.name) {
			case "alg":
				h.Alg = s
			case "kid":
				h.Kid = s
			case "typ":
				h.Typ, h.hasTyp = s, true
			case "cat":
				h.Cat, h.hasCat = s, true
			}
		case "crit":
			h.hasCrit = true
		}
	}
	return true
}

// parseSessionClaims reads the claims members into c; src is the claims
// object as a string (see jsonString). It returns errClaimType when a claim
// has the wrong type.
func parseSessionClaims(members []member, src string, c *sessionClaims) *AuthError {
	for _, m := range members {
		var err error
		switch name := string(m.name); name {
		case "sub", "sid", "sts", "azp", "iss", "org_id", "org_slug", "org_role", "fea", "pla":
			s, isNull, ok := jsonString(m, src)
			if !ok {
				return errClaimType
			}
			switch name {
			case "sub":
				if !isNull {
					c.Sub = new(string)
					*c.Sub = s
				}
			case "sid":
				c.Sid = s
			case "sts":
				c.Sts = s
			case "azp":
				c.Azp = s
			case "iss":
				c.Iss = s
			case "org_id":
				c.OrgID = s
			case "org_slug":
				c.OrgSlug = s
			case "org_role":
				c.OrgRole = s
			case "fea":
				c.Fea = s
			case "pla":
				c.Pla = s
			}
		case "exp":
			err = c.Exp.UnmarshalJSON(m.val)
		case "nbf":
			err = c.Nbf.UnmarshalJSON(m.val)
		case "iat":
			err = c.Iat.UnmarshalJSON(m.val)
		case "v":
			if string(m.val) != "null" {
				c.V, err = strconv.Atoi(string(m.val))
			}
		case "act":
			err = json.Unmarshal(m.val, &c.Act)
		case "fva":
			var ok bool
			if c.Fva, ok = intArray(m.val); !ok {
				err = json.Unmarshal(m.val, &c.Fva)
			}
		case "org_permissions":
			err = json.Unmarshal(m.val, &c.OrgPermissions)
		case "o":
			var ok bool
			if c.O, ok = orgObject(m.val); !ok {
				err = json.Unmarshal(m.val, &c.O)
			}
		}
		if err != nil {
			return errClaimType
		}
	}
	return nil
}

// intArray reads a plain array of small integers, such as fva's [3,-1].
// ok is false for anything else (null, floats, other types), which the
// caller leaves to encoding/json.
func intArray(val []byte) (out []int, ok bool) {
	if len(val) < 2 || val[0] != '[' {
		return nil, false
	}
	out = make([]int, 0, 2)
	i := skipWS(val, 1)
	if i < len(val) && val[i] == ']' {
		return out, i == len(val)-1
	}
	for i < len(val) {
		start := i
		if val[i] == '-' {
			i++
		}
		for i < len(val) && val[i] >= '0' && val[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(string(val[start:i]))
		if err != nil || len(val[start:i]) > 1 && val[start] == '0' {
			return nil, false
		}
		out = append(out, n)
		i = skipWS(val, i)
		if i >= len(val) {
			return nil, false
		}
		switch val[i] {
		case ',':
			i = skipWS(val, i+1)
		case ']':
			return out, i == len(val)-1
		default:
			return nil, false
		}
	}
	return nil, false
}

// orgFieldNames are the members of the v2 "o" claim.
var orgFieldNames = [...]string{"id", "slg", "rol", "per", "fpm"}

// orgObject reads the v2 "o" claim when it is a flat object of plain
// strings named exactly as Clerk names them. ok is false for anything
// else (null, nesting, other types, names in another case, duplicates),
// which the caller leaves to encoding/json so that the result is the same.
func orgObject(val []byte) (o *orgClaimsV2, ok bool) {
	var buf [8]member
	members, ok := objectMembers(val, buf[:])
	if !ok {
		return nil, false
	}
	o = new(orgClaimsV2)
	for _, m := range members {
		if len(m.val) < 2 || m.val[0] != '"' || !plainASCII(m.val[1:len(m.val)-1]) {
			return nil, false
		}
		s := string(m.val[1 : len(m.val)-1])
		switch string(m.name) {
		case "id":
			o.ID = s
		case "slg":
			o.Slg = s
		case "rol":
			o.Rol = s
		case "per":
			o.Per = s
		case "fpm":
			o.Fpm = s
		default:
			for _, f := range orgFieldNames {
				if bytes.EqualFold(m.name, []byte(f)) {
					return nil, false
				}
			}
		}
	}
	return o, true
}
