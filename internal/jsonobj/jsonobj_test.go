package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// oracle reads b with encoding/json's tokenizer, independently of the
// reader under test: whether b is valid JSON, whether it is an object,
// whether some object at any depth names a member twice (exactly, after
// unescaping), and how deep it nests.
func oracle(b []byte) (valid, object, dup bool, depth int) {
	if !json.Valid(b) {
		return false, false, false, 0
	}
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj   bool
		names map[string]bool
		key   bool // the next token of an object is a name
	}
	var stack []*frame
	first := true
	for {
		tok, err := d.Token()
		if err != nil {
			return true, object, dup, depth
		}
		if first {
			object = tok == json.Delim('{')
			first = false
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.obj && top.key {
				if name, ok := tok.(string); ok {
					if top.names[name] {
						dup = true
					}
					top.names[name] = true
					top.key = false
					continue
				}
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].key = true
			}
			stack = append(stack, &frame{obj: tok == json.Delim('{'), names: map[string]bool{}, key: true})
			depth = max(depth, len(stack))
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}

var seeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"alg":"RS256","kid":"ins_1","typ":"JWT","cat":"cl_B7d4PD111AAA"}`,
	`{"sub":"user_1","exp":1700000000,"nbf":1.5e9,"iat":-1,"v":2,"o":{"id":"org_1","rol":"admin"},"fea":"o:a","act":{"sub":"user_2"},"fva":[1,-1],"org_permissions":["x"]}`,
	`{"a":"\u0041\n\"","b":[true,false,null,{"c":[]}],"c":-0.0e+1}`,
	`{"a":1,"a":2}`, `{"exp":1,"EXP":2}`, `{"\u0065xp":1,"exp":2}`, `[1]`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`,
	`{"a":"` + "\x01" + `"}`, `{"a":"\x"}`, `{"a":tru}`, `{"a":1,}`, `{"a" 1}`, `{"a":1}}`, `{"a":1} x`,
	`{"o":{"id":"org_a","ID":"org_b"}}`, `{"o":{"id":"a","id":"b"}}`, `{"a":[{"x":1},{"x":1}]}`, `{"a":[{"x":1,"x":2}]}`,
	`{"a":{"b":{"c":1,"c":2}},"b":1}`, `{"a":{"x":1},"b":{"x":1}}`, `{"a":{"b":1},"b":{"a":1,"b":{"a":{"a":{"a":1}}}}}`,
	`{"a":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`, `{"a":` + strings.Repeat(`{"a":`, 130) + `1` + strings.Repeat("}", 130) + `}`,
	`{"\ud800":1,"\udc00":2}`, "{\"\xff\":1,\"\xfe\":2}", `{"k":1,"\u212a":2}`, `"x"`, `5`, `null`, ``, `{"a":1e999}`,
}

// FuzzMembers checks the reader against encoding/json: it accepts exactly
// the valid JSON objects with no repeated name and no nesting beyond
// MaxDepth, returns exactly their members, and says which rule failed.
func FuzzMembers(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, n := range []int{31, 32, 33, 70} {
		var b strings.Builder
		b.WriteString(`{"x":{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"k` + strings.Repeat("z", i) + `":1`)
		}
		b.WriteString(`,"k":2}}`)
		f.Add([]byte(b.String()))
		f.Add([]byte(b.String()[5 : b.Len()-1]))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var buf [8]Member
		members, err := Members(string(raw), buf[:])
		valid, object, dup, depth := oracle(raw)
		var want error
		switch {
		case !valid:
			want = ErrSyntax
		case !object:
			want = ErrNotObject
		case depth > MaxDepth:
			want = ErrTooDeep
		case dup:
			want = ErrDuplicate
		}
		if want == nil {
			if err != nil {
				t.Fatalf("%q: %v, want no error", raw, err)
			}
		} else if err == nil {
			t.Fatalf("%q accepted, want %v", raw, want)
		} else if err != want && !(depth > MaxDepth && dup) && !(want == ErrSyntax && err == ErrTooDeep) {
			// Both a duplicate and too deep: either may be found first.
			t.Fatalf("%q: %v, want %v", raw, err, want)
		}
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			t.Fatalf("%q accepted, encoding/json cannot read it", raw)
		}
		if len(members) != len(m) {
			t.Fatalf("%d members, encoding/json sees %d in %q", len(members), len(m), raw)
		}
		for _, mem := range members {
			if w, found := m[mem.Name]; !found || string(w) != mem.Value {
				t.Fatalf("member %q = %q, encoding/json says %q", mem.Name, mem.Value, w)
			}
			var ws string
			s, isNull, ok := String(mem)
			werr := json.Unmarshal([]byte(mem.Value), &ws)
			if ok != (werr == nil) || ok && s != ws || isNull != (mem.Value == "null") {
				t.Fatalf("String(%q) = %q %v %v; encoding/json %q %v", mem.Value, s, isNull, ok, ws, werr)
			}
			var wi []int
			ints, ok := Ints(mem.Value)
			werr = json.Unmarshal([]byte(mem.Value), &wi)
			if ok && (werr != nil || len(wi) != len(ints)) {
				t.Fatalf("Ints(%q) = %v; encoding/json %v %v", mem.Value, ints, wi, werr)
			}
			if !ok && werr == nil && wi != nil && !strings.ContainsAny(mem.Value, ".eE") {
				t.Fatalf("Ints(%q) refused; encoding/json %v", mem.Value, wi)
			}
			var wf float64
			f, ok := Number(mem.Value)
			werr = json.Unmarshal([]byte(mem.Value), &wf)
			if ok != (werr == nil && mem.Value != "null") || ok && math.Float64bits(f) != math.Float64bits(wf) {
				t.Fatalf("Number(%q) = %v %v; encoding/json %v %v", mem.Value, f, ok, wf, werr)
			}
			var wss []string
			ss, ok := Strings(mem.Value)
			werr = json.Unmarshal([]byte(mem.Value), &wss)
			if ok != (werr == nil && wss != nil) || ok && strings.Join(ss, "\x00") != strings.Join(wss, "\x00") {
				t.Fatalf("Strings(%q) = %q %v; encoding/json %q %v", mem.Value, ss, ok, wss, werr)
			}
		}
	})
}

func TestMembersErrors(t *testing.T) {
	deep := func(n int) string { return `{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}` }
	var many strings.Builder
	many.WriteString("{")
	for i := range 200 {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`"c` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":{"n":1}`)
	}
	many.WriteString("}")
	cases := []struct {
		in   string
		want error
	}{
		{`{"a":1}`, nil},
		{`{"a":1,"A":2}`, nil}, // names are case-sensitive, as in JSON.parse
		{`{"o":{"id":"org_a","ID":"org_b"}}`, nil},
		{`{"a":1,"a":2}`, ErrDuplicate},
		{`{"o":{"id":"org_a","id":"org_b"}}`, ErrDuplicate},
		{`{"x":[{"a":{"b":1,"b":1}}]}`, ErrDuplicate},
		{`{"e\u0078p":1,"exp":2}`, ErrDuplicate},
		{deep(MaxDepth), nil},
		{deep(MaxDepth + 1), ErrTooDeep},
		{many.String(), nil},
		{`[1]`, ErrNotObject},
		{`{"a":1`, ErrSyntax},
		{`{"a":1}x`, ErrSyntax},
	}
	for _, tc := range cases {
		_, err := Members(tc.in, nil)
		if !errors.Is(err, tc.want) && err != tc.want {
			t.Errorf("Members(%.60s) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestMembersAllocs(t *testing.T) {
	raw := `{"sub":"user_1","exp":1700000000,"o":{"id":"org_1","rol":"admin","per":"a,b","fpm":"3"},"act":{"sub":"u"},"fva":[1,-1]}`
	var buf [16]Member
	if n := testing.AllocsPerRun(100, func() { _, _ = Members(raw, buf[:]) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func TestNumber(t *testing.T) {
	for _, v := range []string{"0", "-0", "1", "-1", "2", "1700000000", "-1700000000", "999999999999999",
		"1000000000000000", "-999999999999999", "12345678901234567890", "1.5", "2.0", "1e3", "-0.0", "1e999"} {
		want, werr := strconv.ParseFloat(v, 64)
		got, ok := Number(v)
		if ok != (werr == nil) || ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("Number(%q) = %v %v, want %v %v", v, got, ok, want, werr)
		}
	}
}

func TestPlainWord(t *testing.T) {
	// Every byte value at every position of a word of plain bytes.
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			if got, want := plainWord(string(w)), plainChar[c]; got != want {
				t.Fatalf("plainWord(%q) = %v, want %v", w, got, want)
			}
		}
	}
}
