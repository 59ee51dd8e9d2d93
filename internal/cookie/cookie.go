// Package cookie reads Cookie header values as the JavaScript cookie
// package Clerk uses does: names and values trimmed of spaces and tabs,
// values percent-decoded as decodeURIComponent decodes, numbers read as
// Number.parseInt. It knows no clerkauth types.
package cookie

import (
	"strings"
	"unicode/utf8"
)

// TrimSpaceTab trims spaces and tabs, as the cookie package does.
func TrimSpaceTab(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// Value is a cookie value as Clerk reads it, as the JavaScript string
// the cookie package hands it (UTF-8 encoded here): trimmed of spaces and
// tabs, quotes kept, percent-decoded as decodeURIComponent decodes when it
// holds a '%' (the raw value when that fails). Node reads header bytes as
// latin1, so a byte from 0x80 up that no escape produced is the character
// of that code (0xA0 is U+00A0). It allocates only when the value holds a
// '%' or such a byte.
func Value(v string) string {
	v = TrimSpaceTab(v)
	hasPct, hasHigh := false, false
	for i := 0; i < len(v); i++ {
		hasPct = hasPct || v[i] == '%'
		hasHigh = hasHigh || v[i] >= 0x80
	}
	if !hasPct && !hasHigh {
		return v
	}
	if hasPct {
		if d, ok := decodeURIComponent(v); ok {
			return d
		}
	}
	return latin1(v)
}

// latin1 is s with every byte from 0x80 up read as the character of that
// code, UTF-8 encoded.
func latin1(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return string(b)
}

// decodeURIComponent decodes v as JavaScript's decodeURIComponent does on
// the latin1 string of v's bytes: each run of %XX escapes must be UTF-8
// (no surrogates, no overlong forms), other bytes are characters of their
// own code; ok is false where JavaScript throws URIError.
func decodeURIComponent(v string) (string, bool) {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); {
		if v[i] != '%' {
			b = utf8.AppendRune(b, rune(v[i]))
			i++
			continue
		}
		start := len(b)
		for i < len(v) && v[i] == '%' {
			if i+2 >= len(v) || unhex(v[i+1]) > 15 || unhex(v[i+2]) > 15 {
				return "", false
			}
			b = append(b, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 3
		}
		if !utf8.Valid(b[start:]) {
			return "", false
		}
	}
	return string(b), true
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// ParseIntJS is JavaScript's Number.parseInt(s) || 0 for the values a
// __client_uat can hold (s as Value returns it): leading whitespace as
// JavaScript knows it (ASCII, U+00A0, U+FEFF, the Unicode space
// separators, U+2028 and U+2029), an optional sign, then decimal digits
// (or hex after 0x) up to the first other character; 0 when there are
// none. Values past int64 saturate.
func ParseIntJS(s string) int64 {
	for s != "" {
		r, size := utf8.DecodeRuneInString(s)
		if !isJSSpace(r) {
			break
		}
		s = s[size:]
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := int64(10)
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := int64(unhex(s[i]))
		if d >= base {
			break
		}
		if n > (1<<63-1-d)/base {
			n = 1<<63 - 1
			break
		}
		n = n*base + d
	}
	if neg {
		return -n
	}
	return n
}

// TrimJSSpace trims JavaScript's whitespace (String.prototype.trim's,
// which Number() also skips) from both ends of s.
func TrimJSSpace(s string) string {
	return strings.TrimFunc(s, isJSSpace)
}

// isJSSpace reports whether r is WhiteSpace or LineTerminator in
// ECMAScript: what parseInt skips.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return 0x2000 <= r && r <= 0x200A
}

// Jar holds the session cookies of a request: __session and __client_uat,
// and the instance's suffixed pair. As in the cookie package Clerk uses,
// the first occurrence of a name counts even when its value is empty, and
// an empty value counts as absent afterwards.
type Jar struct {
	Session, UAT, SfxSession, SfxUAT         string
	seenSession, seenUAT, seenSfxS, seenSfxU bool
}

// Read reads the Cookie header lines into a Jar; sfx is the instance's
// cookie suffix ("" reads only the unsuffixed pair). It allocates only for
// a value holding a '%'.
func Read(lines []string, sfx string) Jar {
	var j Jar
	take := func(seen *bool, dst *string, val string) {
		if !*seen {
			*dst, *seen = Value(val), true
		}
	}
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			name, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			name = TrimSpaceTab(name)
			if !strings.HasPrefix(name, "__") {
				continue
			}
			switch {
			case name == "__session":
				take(&j.seenSession, &j.Session, val)
			case name == "__client_uat":
				take(&j.seenUAT, &j.UAT, val)
			case sfx != "" && len(name) == len("__session_")+len(sfx) && name == "__session_"+sfx:
				take(&j.seenSfxS, &j.SfxSession, val)
			case sfx != "" && len(name) == len("__client_uat_")+len(sfx) && name == "__client_uat_"+sfx:
				take(&j.seenSfxU, &j.SfxUAT, val)
			}
		}
	}
	return j
}

// Get returns the value of the first cookie called name in the Cookie
// header lines, as Read reads values ("" when absent). It allocates only
// for a value holding a '%'.
func Get(lines []string, name string) string {
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			n, val, ok := strings.Cut(part, "=")
			if ok && TrimSpaceTab(n) == name {
				return Value(val)
			}
		}
	}
	return ""
}
