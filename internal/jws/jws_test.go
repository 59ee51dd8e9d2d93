package jws

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDecodeSegmentMatchesStrictBase64 checks the hand-written decoder
// against encoding/base64 in strict mode on random segments, valid and not.
func TestDecodeSegmentMatchesStrictBase64(t *testing.T) {
	strict := base64.RawURLEncoding.Strict()
	r := rand.New(rand.NewPCG(1, 2))
	alpha := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. "
	for n := 0; n < 200000; n++ {
		l := r.IntN(40)
		b := make([]byte, l)
		for i := range b {
			if r.IntN(10) == 0 {
				b[i] = alpha[r.IntN(len(alpha))]
			} else {
				b[i] = alpha[r.IntN(64)]
			}
		}
		want, werr := strict.DecodeString(string(b))
		got, ok := Decode(string(b), nil)
		if (werr == nil) != ok || ok && !bytes.Equal(got, want) {
			t.Fatalf("%q: got %x %v, want %x %v", b, got, ok, want, werr)
		}
		// Into a larger buffer (the 8-byte writes have room to spare) and
		// one of the exact size.
		for _, buf := range [][]byte{make([]byte, 64), make([]byte, len(want))} {
			got, ok := Decode(string(b), buf)
			if (werr == nil) != ok || ok && !bytes.Equal(got, want) {
				t.Fatalf("%q into %d bytes: got %x %v, want %x %v", b, len(buf), got, ok, want, werr)
			}
		}
		if IsBase64URL(string(b)) != !bytes.ContainsAny(b, "=+/. ") {
			t.Fatalf("IsBase64URL(%q) = %v", b, !bytes.ContainsAny(b, "=+/. "))
		}
	}
}

// FuzzDecode checks Decode against encoding/base64 in strict mode, and
// Split against a plain reading of the compact serialization.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "eyJhbGciOiJSUzI1NiJ9",
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln", "a..b", ".a.b", "a.b.", "a.b.c.d", "a=.b.c"} {
		f.Add(s)
	}
	strict := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r\n") {
			// encoding/base64 skips line breaks; Decode refuses them.
			if _, ok := Decode(s, nil); ok {
				t.Fatalf("Decode accepted %q", s)
			}
			return
		}
		want, werr := strict.DecodeString(s)
		var buf [16]byte
		got, ok := Decode(s, buf[:])
		if (werr == nil) != ok || ok && !bytes.Equal(got, want) {
			t.Fatalf("Decode(%q) = %x %v, want %x %v", s, got, ok, want, werr)
		}
		parts := strings.Split(s, ".")
		wantOK := len(parts) == 3
		for _, p := range parts {
			wantOK = wantOK && p != "" && IsBase64URL(p) && !strings.ContainsAny(p, "=+/")
		}
		dot1, dot2, ok := Split(s)
		if ok != wantOK || ok && (s[:dot1] != parts[0] || s[dot1+1:dot2] != parts[1] || s[dot2+1:] != parts[2]) {
			t.Fatalf("Split(%q) = %d, %d, %v; want ok %v", s, dot1, dot2, ok, wantOK)
		}
	})
}
