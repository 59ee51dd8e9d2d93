package cookie

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseIntJS(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "0": 0, "00": 0, "17": 17, " 17": 17, "17abc": 17, "+5": 5, "-5": -5, "0x1f": 31,
		"abc": 0, "1e3": 1, "99999999999999999999999": 1<<63 - 1, "-": 0, "0x": 0,
	} {
		if got := ParseIntJS(in); got != want {
			t.Errorf("ParseIntJS(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestValue(t *testing.T) {
	for in, want := range map[string]string{
		"abc": "abc", " abc\t": "abc", `"abc"`: `"abc"`, "a%2Eb": "a.b", "%zz": "%zz",
		"%e2%82%ac": "€", "%ff": "%ff", "a%2": "a%2", "a+b": "a+b",
	} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzValue: Value never fails; a value without '%' comes back trimmed
// and unchanged, a decoded one is valid UTF-8 and no longer than it.
func FuzzValue(f *testing.F) {
	for _, s := range []string{"abc", " a%2Eb ", "%e2%82%ac", "%ff", "a%2", "%%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := Value(v)
		if !strings.Contains(v, "%") && got != TrimSpaceTab(v) {
			t.Fatalf("Value(%q) = %q", v, got)
		}
		if got != TrimSpaceTab(v) && (!utf8.ValidString(got) || len(got) > len(v)) {
			t.Fatalf("Value(%q) = %q", v, got)
		}
	})
}

// FuzzParseIntJS: decimal strings read as strconv does (saturating).
func FuzzParseIntJS(f *testing.F) {
	for _, s := range []string{"0", "17", "-5", "+5", "0x1f", " 12ab", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseIntJS(s)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && got != n {
			t.Fatalf("ParseIntJS(%q) = %d, strconv says %d", s, got, n)
		}
	})
}
