package clerkauth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzAPIError feeds arbitrary Backend API error answers to the decoder:
// it must never panic, keep the status, bound the raw body it keeps, and
// never let the secret key into the error, however the server encodes it.
func FuzzAPIError(f *testing.F) {
	const secret = "sk_test_FUZZSECRET"
	f.Add(404, `{"errors":[{"code":"resource_not_found","message":"not found","long_message":"User not found","meta":{"param_name":"id"}}],"clerk_trace_id":"abc"}`, "trace-1", "")
	f.Add(401, `{"errors":[{"code":"clerk_key_invalid","message":"`+secret+`"}]}`, "", "")
	f.Add(500, `<html>`+secret+`</html>`, "", "5")
	f.Add(429, `{"errors":[]}`, "", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(502, strings.Repeat("x", 4096), secret, "-1")
	f.Add(400, `{"errors":[{"message":"\u0073k_test_FUZZSECRET"}]}`, "", "")
	c := &Client{creds: &credentials{secret: secret}, now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
	f.Fuzz(func(t *testing.T, status int, body, trace, retryAfter string) {
		if status < 400 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("Clerk-Trace-Id", trace)
		resp.Header.Set("Retry-After", retryAfter)
		e := c.apiError("GET", "/v1/users/x", resp.StatusCode, resp.Header, []byte(body), nil)
		if e.StatusCode != status {
			t.Fatalf("status %d, want %d", e.StatusCode, status)
		}
		if len(e.Body) > maxErrorBodyInMessage {
			t.Fatalf("kept %d bytes of body", len(e.Body))
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v", e.RetryAfter)
		}
		if msg := e.Error(); strings.Contains(msg, secret) {
			t.Fatalf("secret key in error: %s", msg)
		}
	})
}

// FuzzCacheUntil reads exp/iat from tokens the Backend API minted, only to
// time the template-token cache: never a panic, and a token is cached only
// when it has a numeric exp.
func FuzzCacheUntil(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDAwMDAwNjAsImlhdCI6MTcwMDAwMDAwMH0.sig")
	f.Add("a.eyJleHAiOiIxNzAwMDAwMDAwIn0.b")
	f.Add("...")
	f.Add("a.e30.b")
	f.Fuzz(func(t *testing.T, tok string) {
		until, ok := cacheUntil(tok)
		if !ok && !until.IsZero() {
			t.Fatalf("not cacheable but until = %v", until)
		}
	})
}
