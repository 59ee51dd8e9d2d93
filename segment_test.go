package clerkauth

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
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
		got, ok := decodeSegment(string(b), nil)
		if (werr == nil) != ok || ok && !bytes.Equal(got, want) {
			t.Fatalf("%q: got %x %v, want %x %v", b, got, ok, want, werr)
		}
		// Into a larger buffer (the 8-byte writes have room to spare) and
		// one of the exact size.
		for _, buf := range [][]byte{make([]byte, 64), make([]byte, len(want))} {
			got, ok := decodeSegment(string(b), buf)
			if (werr == nil) != ok || ok && !bytes.Equal(got, want) {
				t.Fatalf("%q into %d bytes: got %x %v, want %x %v", b, len(buf), got, ok, want, werr)
			}
		}
		if isBase64URL(string(b)) != !bytes.ContainsAny(b, "=+/. ") {
			t.Fatalf("isBase64URL(%q) = %v", b, !bytes.ContainsAny(b, "=+/. "))
		}
	}
}
