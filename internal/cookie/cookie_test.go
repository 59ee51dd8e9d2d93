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
		// JavaScript's whitespace, which parseInt skips, and what is not.
		"\u00a017": 17, "\u200317": 17, "\ufeff17": 17, "\u2028\u3000-17": -17, "\v\f17": 17,
		"\u008517": 0, "\u180e17": 0, "\u200b17": 0, "\u00c2\u00a017": 0,
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
		// Bytes from 0x80 up that no escape produced are latin1 characters,
		// as node reads header bytes; escapes must form UTF-8 run by run.
		"\xa0": "\u00a0", "\xc2\xa0": "\u00c2\u00a0", "\xa0%31": "\u00a01", "%C2%A0\xff": "\u00a0\u00ff",
		"%C2\xa0": "%C2\u00a0", "%ED%A0%80": "%ED%A0%80", "%C0%80": "%C0%80",
	} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzValue: Value never fails and always gives UTF-8 (the JavaScript
// string); a value without '%' comes back trimmed, each byte from 0x80 up
// read as latin1; nothing grows past twice its size.
func FuzzValue(f *testing.F) {
	for _, s := range []string{"abc", " a%2Eb ", "%e2%82%ac", "%ff", "a%2", "%%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := Value(v)
		if !strings.Contains(v, "%") && got != latin1(TrimSpaceTab(v)) {
			t.Fatalf("Value(%q) = %q", v, got)
		}
		if !utf8.ValidString(got) || len(got) > 2*len(v) {
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
