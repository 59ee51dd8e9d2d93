// Package jsonexact decodes JSON into Go values as encoding/json does, but
// never lets names that differ only in case be confused. encoding/json
// fills a field from a member whose name differs from the field's only in
// case, and of two such members keeps the later one; JavaScript's
// JSON.parse, and so a property read in JavaScript, knows only the exact
// name. Unmarshal refuses, at any depth, with an error naming them:
//
//   - a member that would fill a field named by a json tag without being
//     that exact name ("ROLE" for `json:"role"`): the tag says which
//     member is meant;
//   - two members of one object that would fill the same field ("Email"
//     and "email" for an untagged Email field).
//
// An untagged field still takes the one member whose name matches it
// when case is ignored (the usual Go idiom: Email takes "email"). It
// knows no clerkauth types.
package jsonexact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// CaseError reports a member that would fill a struct field whose name
// it matches only when case is ignored.
type CaseError struct {
	Path  string // where the member is, as dotted names and [index]es
	Field string // the field's JSON name (its tag's, else its Go name)
	Other string // the path of another member filling the same field, if any
}

func (e *CaseError) Error() string {
	if e.Other != "" {
		return fmt.Sprintf("members %s and %s would both fill the field %q (their names differ only in case)", e.Other, e.Path, e.Field)
	}
	return fmt.Sprintf("member %s would fill the field tagged %q, a name it matches only when case is ignored (names are case-sensitive)",
		e.Path, e.Field)
}

// Unmarshal is json.Unmarshal that refuses (with a *CaseError) data where
// a member would fill a tagged struct field whose name it matches only
// when case is ignored, or two members the same field. Fields of a type
// with its own UnmarshalJSON are that method's business and are not
// looked into.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		// Numbers as json.Number: a value beyond float64 (1e400) is the
		// target's business, not this walk's.
		var tree any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			return json.Unmarshal(data, v) // encoding/json's own error
		}
		if err := check(tree, rv.Elem(), rv.Elem().Type(), ""); err != nil {
			return err
		}
	}
	return json.Unmarshal(data, v)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// check walks the JSON value node (as decoded into any) and the Go value
// it will be decoded into: val when it exists (a pointer or interface
// already set is followed, as encoding/json follows it), else the type t.
func check(node any, val reflect.Value, t reflect.Type, path string) error {
	for {
		if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil
		}
		switch t.Kind() {
		case reflect.Pointer:
			if val.IsValid() && !val.IsNil() {
				val = val.Elem()
			} else {
				val = reflect.Value{}
			}
			t = t.Elem()
			continue
		case reflect.Interface:
			// encoding/json decodes into a non-nil pointer an interface
			// holds; anything else becomes map[string]any, []any...,
			// which keep every name as it is.
			if !val.IsValid() || val.IsNil() || node == nil {
				return nil
			}
			e := val.Elem()
			if e.Kind() != reflect.Pointer || e.IsNil() {
				return nil
			}
			val, t = e, e.Type()
			continue
		}
		break
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		fields := fieldsOf(t)
		filled := map[string]string{} // field name -> path of the member filling it
		// Members in a fixed order, so that the error names them alike
		// every time (a map of any has none).
		for _, name := range sortedKeys(obj) {
			f, ok := fields.exact[name]
			if !ok {
				// encoding/json's fallback: the first field, in field
				// order, whose name matches when case is ignored.
				for _, g := range fields.list {
					if strings.EqualFold(g.name, name) {
						f, ok = g, true
						break
					}
				}
				if !ok {
					continue // no field: ignored
				}
				if f.tagged {
					return &CaseError{Path: join(path, name), Field: f.name}
				}
			}
			if other, dup := filled[f.name]; dup {
				return &CaseError{Path: join(path, name), Field: f.name, Other: other}
			}
			filled[f.name] = join(path, name)
			fv := reflect.Value{}
			if val.IsValid() {
				fv = fieldByIndex(val, f.index)
			}
			if err := check(obj[name], fv, f.typ, join(path, name)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		for _, name := range sortedKeys(obj) {
			if err := check(obj[name], reflect.Value{}, t.Elem(), join(path, name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := node.([]any)
		if !ok {
			return nil
		}
		for i, sub := range arr {
			ev := reflect.Value{}
			if val.IsValid() && i < val.Len() {
				ev = val.Index(i) // encoding/json decodes into existing elements
			}
			if err := check(sub, ev, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(obj map[string]any) []string {
	return slices.Sorted(maps.Keys(obj))
}

func join(path, name string) string {
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	q := fmt.Sprintf("%q", name)
	if path == "" {
		return q
	}
	return path + "." + q
}

// fieldByIndex is val.FieldByIndex that stops (invalid) at a nil embedded
// pointer instead of panicking.
func fieldByIndex(val reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && val.Kind() == reflect.Pointer {
			if val.IsNil() {
				return reflect.Value{}
			}
			val = val.Elem()
		}
		val = val.Field(x)
	}
	return val
}

type field struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
}

type fieldSet struct {
	exact map[string]field
	list  []field // in encoding/json's order: by index sequence
}

// fieldsOf lists the fields encoding/json decodes into for the struct type
// t, with its rules: the json tag's name, else the Go name; "-" skips;
// unexported fields are skipped, but embedded structs (even unexported)
// give their fields, which lose to a field of the same name at a shallower
// depth, or a tagged one at the same depth (two untagged ones cancel).
func fieldsOf(t reflect.Type) fieldSet {
	type queued struct {
		t     reflect.Type
		index []int
	}
	next := []queued{{t: t}}
	visited := map[reflect.Type]bool{}
	var all []field
	for len(next) > 0 {
		var current []queued
		current, next = next, nil
		for _, q := range current {
			if visited[q.t] {
				continue
			}
			visited[q.t] = true
			for i := range q.t.NumField() {
				sf := q.t.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(append([]int(nil), q.index...), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{name: name, tagged: name != "", index: index, typ: sf.Type}
					if f.name == "" {
						f.name = sf.Name
					}
					all = append(all, f)
					continue
				}
				next = append(next, queued{t: ft, index: index})
			}
		}
	}
	// Dominant field per name: the shallowest, then the only tagged one.
	byName := map[string][]field{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	fs := fieldSet{exact: map[string]field{}}
	for name, cands := range byName {
		depth := len(cands[0].index)
		for _, f := range cands {
			depth = min(depth, len(f.index))
		}
		var top []field
		for _, f := range cands {
			if len(f.index) == depth {
				top = append(top, f)
			}
		}
		if len(top) == 1 {
			fs.exact[name] = top[0]
			fs.list = append(fs.list, top[0])
			continue
		}
		var tagged []field
		for _, f := range top {
			if f.tagged {
				tagged = append(tagged, f)
			}
		}
		if len(tagged) == 1 {
			fs.exact[name] = tagged[0]
			fs.list = append(fs.list, tagged[0])
		}
	}
	slices.SortFunc(fs.list, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return fs
}

// validTag is encoding/json's isValidTag.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
