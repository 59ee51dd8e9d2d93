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

// Value is a cookie value as Clerk reads it: trimmed of spaces and
// tabs, quotes kept, percent-decoded as decodeURIComponent decodes (the raw
// value when that fails). It allocates only when the value holds a '%'.
func Value(v string) string {
	v = TrimSpaceTab(v)
	if strings.IndexByte(v, '%') < 0 {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b = append(b, v[i])
			continue
		}
		if i+2 >= len(v) || unhex(v[i+1]) > 15 || unhex(v[i+2]) > 15 {
			return v
		}
		b = append(b, unhex(v[i+1])<<4|unhex(v[i+2]))
		i += 2
	}
	if !utf8.Valid(b) {
		return v
	}
	return string(b)
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
// __client_uat can hold: leading whitespace, an optional sign, then decimal
// digits (or hex after 0x) up to the first other character; 0 when there
// are none. Values past int64 saturate.
func ParseIntJS(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
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

// IndexFold is strings.Index under ASCII case folding.
func IndexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
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
