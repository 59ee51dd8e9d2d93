// Package jws reads the compact serialization of a JSON Web Signature
// (RFC 7515) without allocating: the shape check of a token and strict
// base64url decoding of its segments. It knows nothing of keys or claims.
package jws

import (
	"encoding/binary"
	"strings"
)

// Split checks the shape of a compact JWS without decoding it: exactly two
// dots and non-empty segments of the base64url alphabet only. It returns
// the positions of the two dots.
func Split(tok string) (dot1, dot2 int, ok bool) {
	dot1 = strings.IndexByte(tok, '.')
	if dot1 <= 0 {
		return 0, 0, false
	}
	n := strings.IndexByte(tok[dot1+1:], '.')
	if n <= 0 {
		return 0, 0, false
	}
	dot2 = dot1 + 1 + n
	if dot2 == len(tok)-1 || strings.IndexByte(tok[dot2+1:], '.') >= 0 {
		return 0, 0, false
	}
	if !IsBase64URL(tok[:dot1]) || !IsBase64URL(tok[dot1+1:dot2]) || !IsBase64URL(tok[dot2+1:]) {
		return 0, 0, false
	}
	return dot1, dot2, true
}

// IsBase64URL reports whether s holds base64url characters only. The
// values of valid characters fit in 6 bits and invalid ones are 0xff, so
// OR-ing them all tells without a branch per byte.
func IsBase64URL(s string) bool {
	var acc byte
	for len(s) >= 8 { // 8 independent lookups per round
		acc |= values[s[0]] | values[s[1]] | values[s[2]] | values[s[3]] |
			values[s[4]] | values[s[5]] | values[s[6]] | values[s[7]]
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		acc |= values[s[i]]
	}
	return acc <= 63
}

// Decode decodes strict base64url (no padding, canonical trailing bits)
// into buf when it fits, else into a new slice. It reads seg in place:
// converting it to []byte for encoding/base64 would copy every segment of
// every token.
func Decode(seg string, buf []byte) ([]byte, bool) {
	if len(seg)%4 == 1 {
		return nil, false
	}
	n := len(seg)/4*3 + len(seg)%4*3/4
	if n > len(buf) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	j := 0
	i := 0
	// 8 characters (6 bytes) per round, written as one 8-byte word while
	// 2 bytes of room remain past them; then 4 at a time.
	for ; i+8 <= len(seg) && j+8 <= len(buf); i += 8 {
		s := seg[i : i+8]
		a, b, c, d := values[s[0]], values[s[1]], values[s[2]], values[s[3]]
		e, f, g, h := values[s[4]], values[s[5]], values[s[6]], values[s[7]]
		if a|b|c|d|e|f|g|h > 63 {
			return nil, false
		}
		w := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		binary.BigEndian.PutUint64(buf[j:], w)
		j += 6
	}
	for ; i+4 <= len(seg); i += 4 {
		a, b, c, d := values[seg[i]], values[seg[i+1]], values[seg[i+2]], values[seg[i+3]]
		if a|b|c|d > 63 {
			return nil, false
		}
		w := uint(a)<<18 | uint(b)<<12 | uint(c)<<6 | uint(d)
		buf[j], buf[j+1], buf[j+2] = byte(w>>16), byte(w>>8), byte(w)
		j += 3
	}
	switch len(seg) - i {
	case 2:
		a, b := values[seg[i]], values[seg[i+1]]
		if a|b > 63 || b&0x0f != 0 {
			return nil, false
		}
		buf[j] = a<<2 | b>>4
	case 3:
		a, b, c := values[seg[i]], values[seg[i+1]], values[seg[i+2]]
		if a|b|c > 63 || c&0x03 != 0 {
			return nil, false
		}
		buf[j], buf[j+1] = a<<2|b>>4, b<<4|c>>2
	}
	return buf, true
}

// values maps every byte to its base64url value, 0xff when it is not in
// the alphabet. It is never written after initialization.
var values = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()
