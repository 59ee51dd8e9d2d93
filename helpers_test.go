package clerkauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Test keys are generated once per test binary: RSA generation is slow.
var (
	testKeysOnce sync.Once
	testKeys     []*rsa.PrivateKey
)

// testKey returns the i-th (0..3) shared RSA-2048 test key.
func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
	})
	return testKeys[i]
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRS256 signs raw header and payload JSON bytes with key.
func signRS256(t testing.TB, key *rsa.PrivateKey, header, payload []byte) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// tokenSpec builds a Clerk-shaped session token.
type tokenSpec struct {
	key    *rsa.PrivateKey
	kid    string
	header map[string]any // merged over the default header; nil values delete
	claims map[string]any // merged over the default claims; nil values delete
}

const testIssuer = "https://clerk.example.com"

func defaultClaims(now time.Time) map[string]any {
	return map[string]any{
		"sub": "user_2abc",
		"sid": "sess_2xyz",
		"sts": "active",
		"iss": testIssuer,
		"azp": "https://app.example.com",
		"iat": now.Unix() - 1,
		"nbf": now.Unix() - 11,
		"exp": now.Unix() + 59,
		"v":   2,
	}
}

func makeToken(t testing.TB, now time.Time, s tokenSpec) string {
	t.Helper()
	if s.key == nil {
		s.key = testKey(t, 0)
	}
	if s.kid == "" {
		s.kid = "ins_kid_1"
	}
	h := map[string]any{"alg": "RS256", "kid": s.kid, "typ": "JWT", "cat": catSessionToken}
	for k, v := range s.header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	c := defaultClaims(now)
	for k, v := range s.claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return signRS256(t, s.key, mustJSON(t, h), mustJSON(t, c))
}

// jwkJSON is the JWK of key as Clerk serves it.
func jwkJSON(key *rsa.PublicKey, kid string) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": b64(key.N.Bytes()),
		"e": b64(big.NewInt(int64(key.E)).Bytes()),
	}
}

// jwksServer is a real JWKS endpoint that speaks like Clerk's /v1/jwks.
type jwksServer struct {
	*httptest.Server
	secret  string
	fetches atomic.Int64
	mu      sync.Mutex
	keys    []map[string]any
	status  int           // when non-zero, answer with this status
	delay   time.Duration // sleep before answering
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	js := &jwksServer{secret: "sk_test_jwks_secret", keys: keys}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.fetches.Add(1)
		js.mu.Lock()
		keys, status, delay := js.keys, js.status, js.delay
		js.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if r.URL.Path != "/v1/jwks" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+js.secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"clerk_key_invalid","message":"Secret key invalid","long_message":"The provided Secret Key is invalid."}],"clerk_trace_id":"trace_1"}`)
			return
		}
		if status != 0 {
			w.WriteHeader(status)
			fmt.Fprint(w, `{"errors":[{"code":"internal_clerk_error","message":"Oops"}]}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) setKeys(keys ...map[string]any) {
	js.mu.Lock()
	js.keys = keys
	js.mu.Unlock()
}

func (js *jwksServer) setStatus(code int) {
	js.mu.Lock()
	js.status = code
	js.mu.Unlock()
}

func (js *jwksServer) options() Options {
	return Options{
		SecretKey: js.secret,
		APIURL:    js.URL,
		Logger:    discardLogger(),
	}
}

func pemOf(t testing.TB, key *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func newMiddleware(t testing.TB, o Options) *Middleware {
	t.Helper()
	if o.Logger == nil {
		o.Logger = discardLogger()
	}
	m, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// fixedClock returns a Now func frozen at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func jwtParse(tok string, m *Middleware) (*jwt.Token, error) {
	return jwt.Parse(tok, m.Keyfunc(), jwt.WithValidMethods([]string{"RS256"}))
}
