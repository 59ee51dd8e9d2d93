package clerkauth

import (
	"bytes"
	"encoding/json"
)

// hasDuplicateKeys reports whether the top-level JSON object in b names a
// member twice, or two names that differ only in case (RFC 7515 §4 and
// RFC 8725 §3.x: such a token is ambiguous between parsers). b must already be known to be valid JSON; anything
// unexpected is reported as a duplicate, so the check fails closed.
func hasDuplicateKeys(b []byte) bool {
	var small [32][]byte
	seen := small[:0]
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return true
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return false
	}
	for i < len(b) {
		if b[i] != '"' {
			return true
		}
		end, escaped := scanString(b, i)
		if end < 0 {
			return true
		}
		key := b[i+1 : end]
		if escaped {
			var s string
			if json.Unmarshal(b[i:end+1], &s) != nil {
				return true
			}
			key = []byte(s)
		}
		for _, k := range seen {
			// encoding/json matches member names case-insensitively
			// ("EXP" fills Exp): a case variant is a duplicate too.
			if bytes.EqualFold(k, key) {
				return true
			}
		}
		seen = append(seen, key)
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return true
		}
		i = skipValue(b, skipWS(b, i+1))
		if i < 0 {
			return true
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return true
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return false
		default:
			return true
		}
	}
	return true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index of the closing quote of the string that
// starts at b[i], and whether it contains escapes; -1 when unterminated.
func scanString(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just past the JSON value at b[i], or -1.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			end, _ := scanString(b, i)
			if end < 0 {
				return -1
			}
			i = end + 1
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			i++
		case ',':
			if depth == 0 {
				return i
			}
			i++
		default:
			i++
		}
		if depth == 0 && i < len(b) && (b[i] == ',' || b[i] == '}' || b[i] == ']' || b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			return i
		}
	}
	if depth == 0 {
		return i
	}
	return -1
}
