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

// Member is one name/value pair of an object.
type Member struct {
	Name  []byte // the name, unescaped
	Value []byte // the raw JSON value
	Off   int    // where Value starts in the object's bytes
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
// error is an [Error].
func Members(raw []byte, buf []Member) ([]Member, error) {
	var small [linearNames][]byte
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
			for _, m := range members {
				if string(m.Name) == string(name) {
					r.dup = true
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*linearNames)
				for _, m := range members {
					seen[string(m.Name)] = struct{}{}
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
		end, err = r.value(raw, start, 1, names)
		if err != nil {
			return nil, err
		}
		members = append(members, Member{Name: name, Value: raw[start:end], Off: start})
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

func trailing(raw []byte, i int, members []Member) ([]Member, error) {
	if skipWS(raw, i) != len(raw) {
		return nil, ErrSyntax
	}
	return members, nil
}

// readName reads the member name starting at the quote b[i]: the name
// unescaped, and the index just past its closing quote.
func readName(b []byte, i int) (name []byte, end int, err error) {
	end, plain, ok := validString(b, i)
	if !ok {
		return nil, 0, ErrSyntax
	}
	name = b[i+1 : end-1]
	if !plain {
		// Escapes, or bytes beyond ASCII: encoding/json decodes them as
		// JSON.parse after TextDecoder does (invalid UTF-8 becomes U+FFFD).
		var s string
		if json.Unmarshal(b[i:end], &s) != nil {
			return nil, 0, ErrSyntax
		}
		name = []byte(s)
	}
	return name, end, nil
}

// value checks the JSON value starting at b[i], at the given depth, and
// returns the index just past it.
func (r *reader) value(b []byte, i, depth int, names [][]byte) (int, error) {
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
func (r *reader) object(b []byte, i, depth int, names [][]byte) (int, error) {
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
				if string(prev) == string(name) {
					r.dup = true
				}
			}
			names = append(names, name)
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*linearNames)
				for _, prev := range names {
					seen[string(prev)] = struct{}{}
				}
			}
			if _, dup := seen[string(name)]; dup {
				r.dup = true
			}
			seen[string(name)] = struct{}{}
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, ErrSyntax
		}
		if i, err = r.value(b, skipWS(b, i+1), depth, names); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = next(b, i, '}'); done || err != nil {
			return i, err
		}
	}
}

// array checks an array starting at b[i].
func (r *reader) array(b []byte, i, depth int, names [][]byte) (int, error) {
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
		if i, done, err = next(b, i, ']'); done || err != nil {
			return i, err
		}
	}
}

// next reads what follows a member or an element: a comma, after which
// the next one starts at j, or the closing byte, after which the object
// or array ends at j (done).
func next(b []byte, i int, closing byte) (j int, done bool, err error) {
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

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, ErrSyntax
}

// validString checks the string starting at the quote b[i] and returns the
// index just past its closing quote, and whether its body is plain ASCII
// with no escapes (then the body is the string itself).
func validString(b []byte, i int) (end int, plain, ok bool) {
	plain = true
	for j := i + 1; j < len(b); j++ {
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
func validNumber(b []byte, i int) (int, error) {
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

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// PlainASCII reports whether a string body needs no decoding: no escape
// and no byte outside ASCII (encoding/json replaces invalid UTF-8 with
// U+FFFD, so such strings take its path).
func PlainASCII(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// String decodes the member's value when it is a JSON string; null gives
// isNull; ok is false for any other type. src is the object's bytes as a
// string: a plain string is a substring of it, so reading it allocates
// nothing.
func String(m Member, src string) (s string, isNull, ok bool) {
	val := m.Value
	if len(val) == 0 {
		return "", false, false
	}
	switch val[0] {
	case 'n':
		return "", true, true
	case '"':
		if body := val[1 : len(val)-1]; PlainASCII(body) {
			return src[m.Off+1 : m.Off+len(val)-1], false, true
		}
		s, ok = unquote(val)
		return s, false, ok
	}
	return "", false, false
}

// unquote decodes a JSON string with escapes or bytes beyond ASCII. It is
// a function of its own so that only this path moves a string to the heap.
func unquote(val []byte) (string, bool) {
	var s string
	if json.Unmarshal(val, &s) != nil {
		return "", false
	}
	return s, true
}

// Ints reads an array of integers, such as [3,-1]. ok is false for
// anything else (null, fractions, exponents, other types, values beyond
// int).
func Ints(val []byte) (out []int, ok bool) {
	out = make([]int, 0, 2)
	ok = eachElement(val, func(i int) (int, bool) {
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
		n, err := strconv.Atoi(string(val[start:i]))
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
// Elements that are plain ASCII are substrings of src, the object the
// array is a member of, at offset off.
func Strings(val []byte, src string, off int) (out []string, ok bool) {
	out = []string{}
	ok = eachElement(val, func(i int) (int, bool) {
		if val[i] != '"' {
			return 0, false
		}
		end, _, ok := validString(val, i)
		if !ok {
			return 0, false
		}
		s, _, ok := String(Member{Value: val[i:end], Off: off + i}, src)
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

// eachElement walks the JSON array val: elem reads the element that
// starts at val[i] and returns where it ends. ok is false when val is not
// one array (trailing bytes included) or an element fails.
func eachElement(val []byte, elem func(i int) (end int, ok bool)) bool {
	if len(val) < 2 || val[0] != '[' {
		return false
	}
	i := skipWS(val, 1)
	if i < len(val) && val[i] == ']' {
		return i == len(val)-1
	}
	for i < len(val) {
		end, ok := elem(i)
		if !ok {
			return false
		}
		var done bool
		var err error
		if i, done, err = next(val, end, ']'); done || err != nil {
			return err == nil && i == len(val)
		}
	}
	return false
}

// Number reads a JSON number as float64; ok is false for other types.
func Number(val []byte) (f float64, ok bool) {
	if len(val) == 0 || val[0] != '-' && (val[0] < '0' || val[0] > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(val), 64)
	// Beyond float64's range (JSON.parse: ±Infinity) is not a number here.
	return f, err == nil
}
