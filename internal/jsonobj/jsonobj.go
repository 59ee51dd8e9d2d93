// Package jsonobj reads the small JSON objects of a JWT (its header and
// its claims) the way JavaScript's JSON.parse reads them, without
// reflection: it validates an object strictly (RFC 8259, as json.Valid),
// splits it into its top-level members in one pass and leaves each value
// to a reader of its own type.
//
// Names are case-sensitive, as in JSON.parse. Unlike JSON.parse, which
// keeps the last of two members with the same name, a name repeated in any
// object at any depth is an error: such a token means different things to
// different parsers. Any number of members is accepted; nesting is bounded
// by MaxDepth.
package jsonobj

import (
	"encoding/json"
	"strconv"
)

// MaxDepth is the deepest nesting of objects and arrays accepted, the
// object itself being depth 1.
const MaxDepth = 128

// Error says why an object was rejected.
type Error uint8

// The reasons an object is rejected.
const (
	ErrSyntax    Error = iota + 1 // not valid JSON
	ErrNotObject                  // valid JSON, but not an object
	ErrDuplicate                  // a name repeated in one object, at any depth
	ErrTooDeep                    // nested deeper than MaxDepth
)

func (e Error) Error() string {
	switch e {
	case ErrSyntax:
		return "not valid JSON"
	case ErrNotObject:
		return "not a JSON object"
	case ErrDuplicate:
		return "duplicate member name"
	case ErrTooDeep:
		return "nested deeper than " + strconv.Itoa(MaxDepth) + " levels"
	}
	return "invalid JSON"
}

// Member is one name/value pair of an object. Both are substrings of the
// object read, except a name with escapes or bytes beyond ASCII, which is
// decoded.
type Member struct {
	Name  string // the name, unescaped
	Value string // the raw JSON value
	plain bool   // Value is a string with no escape and ASCII only
}

// linearNames is how many names of one object are compared pairwise
// before a map takes over (a map costs allocations; pairs cost n²).
const linearNames = 32

// reader notes a repeated name, reported once the rest is known valid.
// The names of the objects being read, innermost last, are passed down
// by value (a shared backing array that each object extends), which keeps
// them on the stack.
type reader struct {
	dup bool
}

// Members validates raw as one JSON object and returns its top-level
// members, appended to buf[:0]. On error the members are nil and the
// error is an [Error]. Reading a string spares the caller a copy: the
// strings of the members, and those String and Strings return, are
// substrings of raw.
func Members(raw string, buf []Member) ([]Member, error) {
	var small [linearNames]string
	var keys [linearNames]uint64 // nameKey of members[i]
	var r reader
	names := small[:0]
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		if i < len(raw) {
			if end, err := r.value(raw, i, 1, names); err == nil && skipWS(raw, end) == len(raw) {
				return nil, ErrNotObject
			}
		}
		return nil, ErrSyntax
	}
	members := buf[:0]
	var seen map[string]struct{}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return trailing(raw, i+1, members)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return nil, ErrSyntax
		}
		name, end, err := readName(raw, i)
		if err != nil {
			return nil, err
		}
		if len(members) < linearNames {
			k := nameKey(name)
			for j, mk := range keys[:len(members)] {
				if mk == k && (len(name) < 8 || members[j].Name == name) {
					r.dup = true
				}
			}
			keys[len(members)] = k
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*linearNames)
				for _, m := range members {
					seen[m.Name] = struct{}{}
				}
			}
			if _, dup := seen[string(name)]; dup {
				r.dup = true
			}
			seen[string(name)] = struct{}{}
		}
		i = skipWS(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, ErrSyntax
		}
		start := skipWS(raw, i+1)
		plain := false
		if start < len(raw) && raw[start] == '"' {
			var ok bool
			if end, plain, ok = validString(raw, start); !ok {
				return nil, ErrSyntax
			}
		} else if end, err = r.value(raw, start, 1, names); err != nil {
			return nil, err
		}
		members = append(members, Member{Name: name, Value: raw[start:end], plain: plain})
		i = skipWS(raw, end)
		if i >= len(raw) {
			return nil, ErrSyntax
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case '}':
			if members, err = trailing(raw, i+1, members); err == nil && r.dup {
				return nil, ErrDuplicate
			}
			return members, err
		default:
			return nil, ErrSyntax
		}
	}
}

// nameKey packs the length of name (its low byte) and its first 7 bytes
// into a word: two names with different keys differ, and two names shorter
// than 8 bytes with the same key are the same. Claim names are short, so
// comparing keys spares most string comparisons.
func nameKey(name string) uint64 {
	k := uint64(min(len(name), 0xff))
	for i := range min(len(name), 7) {
		k |= uint64(name[i]) << (8 * (i + 1))
	}
	return k
}

func trailing(raw string, i int, members []Member) ([]Member, error) {
	if skipWS(raw, i) != len(raw) {
		return nil, ErrSyntax
	}
	return members, nil
}

// readName reads the member name starting at the quote b[i]: the name
// unescaped, and the index just past its closing quote.
func readName(b string, i int) (name string, end int, err error) {
	end, plain, ok := validString(b, i)
	if !ok {
		return "", 0, ErrSyntax
	}
	name = b[i+1 : end-1]
	if !plain {
		// Escapes, or bytes beyond ASCII: encoding/json decodes them as
		// JSON.parse after TextDecoder does (invalid UTF-8 becomes U+FFFD).
		var ok bool
		if name, ok = unquote(b[i:end]); !ok {
			return "", 0, ErrSyntax
		}
	}
	return name, end, nil
}

// value checks the JSON value starting at b[i], at the given depth, and
// returns the index just past it.
func (r *reader) value(b string, i, depth int, names []string) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := validString(b, i)
		if !ok {
			return 0, ErrSyntax
		}
		return end, nil
	case c == '{':
		if depth >= MaxDepth {
			return 0, ErrTooDeep
		}
		return r.object(b, i, depth+1, names[len(names):])
	case c == '[':
		if depth >= MaxDepth {
			return 0, ErrTooDeep
		}
		return r.array(b, i, depth+1, names)
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return 0, ErrSyntax
}

// object checks a nested object starting at b[i]; its names go on the
// reader's stack while it is read.
func (r *reader) object(b string, i, depth int, names []string) (int, error) {
	var seen map[string]struct{}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, ErrSyntax
		}
		name, end, err := readName(b, i)
		if err != nil {
			return 0, err
		}
		if len(names) < linearNames {
			for _, prev := range names {
				if prev == name {
					r.dup = true
				}
			}
			names = append(names, name)
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*linearNames)
				for _, prev := range names {
					seen[prev] = struct{}{}
				}
			}
			if _, dup := seen[name]; dup {
				r.dup = true
			}
			seen[name] = struct{}{}
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, ErrSyntax
		}
		if i, err = r.value(b, skipWS(b, i+1), depth, names); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = next(b, i, '}'); err != nil || done {
			return i, err
		}
	}
}

// array checks an array starting at b[i].
func (r *reader) array(b string, i, depth int, names []string) (int, error) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = r.value(b, i, depth, names); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = next(b, i, ']'); err != nil || done {
			return i, err
		}
	}
}

// next reads what follows a member or an element: a comma, after which the
// next one starts at j, or the closing byte, after which the object or
// array ends at j (done).
func next(b string, i int, closing byte) (j int, done bool, err error) {
	i = skipWS(b, i)
	switch {
	case i >= len(b):
		return 0, false, ErrSyntax
	case b[i] == ',':
		return skipWS(b, i+1), false, nil
	case b[i] == closing:
		return i + 1, true, nil
	}
	return 0, false, ErrSyntax
}

func literal(b string, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && b[i:i+len(lit)] == lit {
		return i + len(lit), nil
	}
	return 0, ErrSyntax
}

// validString checks the string starting at the quote b[i] and returns the
// index just past its closing quote, and whether its body is plain ASCII
// with no escapes (then the body is the string itself).
func validString(b string, i int) (end int, plain, ok bool) {
	plain = true
	for j := i + 1; j < len(b); j++ {
		for j+8 <= len(b) && plainWord(b[j:j+8]) { // the common case
			j += 8
		}
		for j < len(b) && plainChar[b[j]] {
			j++
		}
		if j >= len(b) {
			break
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, plain, true
		case c < 0x20:
			return 0, false, false
		case c >= 0x80:
			plain = false
		case c == '\\':
			plain = false
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
				for _, h := range []byte(b[j+1 : j+5]) {
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

// plainChar is true for the bytes that stand for themselves in a JSON
// string and keep it plain: ASCII from the space on, but the quote and
// the backslash. It is never written after initialization.
var plainChar = func() (t [256]bool) {
	for c := ' '; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainWord reports whether the 8 bytes of w are all plainChar, 8 at a
// time: none below 0x20 or from 0x80, no quote, no backslash. Each test
// is the classic "some byte is zero / less than n" word trick, which can
// report a false hit in a byte only beside a true one.
func plainWord(w string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	q := x ^ ones*'"'
	bs := x ^ ones*'\\'
	return (x|(x-ones*0x20)|(q-ones)&^q|(bs-ones)&^bs)&highs == 0
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b string, i int) (int, error) {
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
		return 0, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, ErrSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, ErrSyntax
		}
	}
	return i, nil
}

func skipWS(b string, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// PlainASCII reports whether a string body needs no decoding: no escape
// and no byte outside ASCII (encoding/json replaces invalid UTF-8 with
// U+FFFD, so such strings take its path).
func PlainASCII(b string) bool {
	for i := range len(b) {
		if c := b[i]; c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// String decodes the member's value when it is a JSON string; null gives
// isNull; ok is false for any other type. A plain string is a substring of
// the value, so reading it allocates nothing.
func String(m Member) (s string, isNull, ok bool) {
	val := m.Value
	if len(val) == 0 {
		return "", false, false
	}
	switch val[0] {
	case 'n':
		return "", true, true
	case '"':
		if body := val[1 : len(val)-1]; m.plain || PlainASCII(body) {
			return body, false, true
		}
		s, ok = unquote(val)
		return s, false, ok
	}
	return "", false, false
}

// unquote decodes a JSON string with escapes or bytes beyond ASCII. It is
// a function of its own so that only this path moves a string to the heap.
func unquote(val string) (string, bool) {
	var s string
	if json.Unmarshal([]byte(val), &s) != nil {
		return "", false
	}
	return s, true
}

// Ints reads an array of integers, such as [3,-1]. ok is false for
// anything else (null, fractions, exponents, other types, values beyond
// int).
func Ints(val string) (out []int, ok bool) {
	if len(val) < 2 || val[0] != '[' {
		return nil, false
	}
	out = make([]int, 0, 2)
	ok = array(val, func(i int) (int, bool) {
		start := i
		if val[i] == '-' {
			i++
		}
		for i < len(val) && val[i] >= '0' && val[i] <= '9' {
			i++
		}
		digits := val[start:i]
		if len(digits) > 0 && digits[0] == '-' {
			digits = digits[1:]
		}
		if len(digits) > 1 && digits[0] == '0' {
			return 0, false
		}
		n, err := strconv.Atoi(val[start:i])
		if err != nil {
			return 0, false
		}
		out = append(out, n)
		return i, true
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// Strings reads an array of strings; ok is false for anything else.
// Elements that are plain ASCII are substrings of val.
func Strings(val string) (out []string, ok bool) {
	if len(val) < 2 || val[0] != '[' {
		return nil, false
	}
	out = []string{}
	ok = array(val, func(i int) (int, bool) {
		if val[i] != '"' {
			return 0, false
		}
		end, _, ok := validString(val, i)
		if !ok {
			return 0, false
		}
		s, _, ok := String(Member{Value: val[i:end]})
		if !ok {
			return 0, false
		}
		out = append(out, s)
		return end, true
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// array walks the JSON array val, which starts with '[': elem reads the
// element starting at val[i] and returns the index just past it.
func array(val string, elem func(i int) (end int, ok bool)) bool {
	i := skipWS(val, 1)
	if i < len(val) && val[i] == ']' {
		return i == len(val)-1
	}
	for i < len(val) {
		end, ok := elem(i)
		if !ok {
			return false
		}
		i = skipWS(val, end)
		if i >= len(val) {
			return false
		}
		switch val[i] {
		case ',':
			i = skipWS(val, i+1)
		case ']':
			return i == len(val)-1
		default:
			return false
		}
	}
	return false
}

// Number reads a JSON number as float64; ok is false for other types.
func Number(val string) (f float64, ok bool) {
	if len(val) == 0 || val[0] != '-' && (val[0] < '0' || val[0] > '9') {
		return 0, false
	}
	if n, ok := smallInt(val); ok {
		return float64(n), true // exact: below 2^53
	}
	f, err := strconv.ParseFloat(val, 64)
	// Beyond float64's range (JSON.parse: ±Infinity) is not a number here.
	return f, err == nil
}

// smallInt reads val when it is an integer of 1 to 15 digits, with an
// optional minus sign but not -0 (which is a float64 of its own), as
// most NumericDate claims are.
func smallInt(val string) (int64, bool) {
	digits := val
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 || len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	var n int64
	for i := range len(digits) {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(val) {
		if n == 0 {
			return 0, false
		}
		n = -n
	}
	return n, true
}

// StartsObject reports whether the first byte of b that is not JSON white
// space opens an object: a cheap test before reading b as one.
func StartsObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}
