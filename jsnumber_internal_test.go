package clerkauth

import (
	"math"
	"testing"
)

// TestJSNumber: the redirect-loop counter cookie read as JavaScript's
// Number(s) || 0 (values checked against node).
func TestJSNumber(t *testing.T) {
	for in, want := range map[string]float64{
		"": 0, "2": 2, " 2 ": 2, "\u00a02": 2, "\ufeff2": 2, "\u20282\u3000": 2, "\u00852": 0, "\u200b2": 0,
		"0b10": 2, "0B11": 3, "0o7": 7, "0x1F": 31, "-0x1": 0, "+0x1": 0, "0x": 0, "0b2": 0, "0x1p3": 0,
		"Infinity": math.Inf(1), "+Infinity": math.Inf(1), "-Infinity": math.Inf(-1), "infinity": 0, "Inf": 0, "NaN": 0,
		"1e400": math.Inf(1), "-1e400": math.Inf(-1), "1e-400": 0, "1_0": 0, "2.": 2, ".5": 0.5, "+2": 2, "-1": -1, "03": 3,
		"1.5": 1.5, "2e0": 2, "3.0000000000000001": 3, "9007199254740993": 9007199254740992, "1 2": 0, "e5": 0, ".": 0,
	} {
		if got := jsNumber(in); got != want {
			t.Errorf("jsNumber(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[float64]string{
		1: "1", 2.5: "2.5", -1: "-1", 1e20: "100000000000000000000", 1e21: "1e+21", 1.5e-7: "1.5e-7", 0.000001: "0.000001",
		math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", 9007199254740992: "9007199254740992", 1.7976931348623157e308: "1.7976931348623157e+308",
	} {
		if got := jsNumberString(in); got != want {
			t.Errorf("jsNumberString(%v) = %q, want %q", in, got, want)
		}
	}
}

// FuzzJSNumber: any cookie value gives a number (never NaN), and a finite
// one written as JavaScript writes it reads back as itself.
func FuzzJSNumber(f *testing.F) {
	for _, s := range []string{"", "1", "0x1F", "0b10", "1e400", "Infinity", " 2 ", "1.5e-7", "\ufeff3", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := jsNumber(s)
		if n != n {
			t.Fatalf("jsNumber(%q) is NaN", s)
		}
		if !math.IsInf(n, 0) {
			if back := jsNumber(jsNumberString(n)); back != n {
				t.Fatalf("jsNumber(%q) = %v, written %q, read back %v", s, n, jsNumberString(n), back)
			}
		}
	})
}
