package redact

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestNew: every listed form is replaced by its label and the text around
// it is kept; a form not listed that still decodes to the token (entities
// with leading zeros, mixed-case hex) withholds the whole text.
func TestNew(t *testing.T) {
	const tok = "oat_TOKEN+/=123"
	scrub := New("sk_test_KEY12345", "", []byte(`{"access_token":"`+tok+`"}`))
	for _, tc := range []struct{ in, want string }{
		{"bad token " + tok + " here", "bad token [token] here"},
		{"hex " + hex.EncodeToString([]byte(tok)), "hex [token]"},
		{"HEX " + strings.ToUpper(hex.EncodeToString([]byte(tok))), "HEX [token]"},
		{"pct oat_TOKEN%2b%2f%3d123", "pct [token]"},
		{"pct oat_TOKEN%2B%2F%3D123", "pct [token]"},
		{"key sk_test_KEY12345.", "key [secret key]."},
		{"body eyJhY2Nlc3NfdG9rZW4iOiJvYXRfVE9LRU4rLz0xMjMifQ==", "body [request body]"},
		{"body eyJhY2Nlc3NfdG9rZW4iOiJvYXRfVE9LRU4rLz0xMjMifQ", "body [request body]"},
		{"entities &#0111;&#97;&#116;&#95;TOKEN+/=123", "[withheld: the answer echoed a secret key or the token]"},
		{"mixed hex 6F61745f544f4b454e2b2f3d313233", "[withheld: the answer echoed a secret key or the token]"},
		{"short values stay: 1234", "short values stay: 1234"},
	} {
		if got := scrub(tc.in); got != tc.want {
			t.Errorf("scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
