package clerkauth

// Test helpers for the hostile-input, fuzz, fault, soak and secrets tests:
// real RSA keys, a real JWKS server, and a signer that takes the header and
// payload as raw JSON bytes so that malformed JSON (duplicate members,
// arrays, floats, strings for numbers) can be signed.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hkey is an RSA signing key with its kid.
type hkey struct {
	kid  string
	priv *rsa.PrivateKey
}

// hTestKeys generates RSA keys once per test binary: key generation costs
// about 100 ms each. They are never modified after generation.
var hTestKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 4)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// hkeyN returns test key n (0..3) under the given kid.
func hkeyN(n int, kid string) hkey {
	return hkey{kid: kid, priv: hTestKeys()[n]}
}

var hB64 = base64.RawURLEncoding

// hSignRaw builds a compact JWS from raw header and payload JSON, signed with
// alg: RS256/384/512 and PS256 with k, HS256 with hmacKey, ES256 with a
// fresh EC key, "none" with an empty signature.
func hSignRaw(t testing.TB, k hkey, alg string, header, payload []byte, hmacKey []byte) string {
	t.Helper()
	input := hB64.EncodeToString(header) + "." + hB64.EncodeToString(payload)
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		h := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, h[:])
	case "RS384":
		h := sha512.Sum384([]byte(input))
		sig, err = rsa.SignPKCS1v15(nil, k.priv, crypto.SHA384, h[:])
	case "RS512":
		h := sha512.Sum512([]byte(input))
		sig, err = rsa.SignPKCS1v15(nil, k.priv, crypto.SHA512, h[:])
	case "PS256":
		h := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPSS(rand.Reader, k.priv, crypto.SHA256, h[:], nil)
	case "HS256":
		m := hmac.New(sha256.New, hmacKey)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "ES256":
		ek, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			t.Fatal(gerr)
		}
		h := sha256.Sum256([]byte(input))
		r, s, serr := ecdsa.Sign(rand.Reader, ek, h[:])
		if serr != nil {
			t.Fatal(serr)
		}
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case "none":
	default:
		t.Fatalf("hSignRaw: unknown alg %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + hB64.EncodeToString(sig)
}

// hStdHeader is the header Clerk puts on session tokens.
func hStdHeader(kid string) []byte {
	return []byte(`{"alg":"RS256","cat":"cl_B7d4PD111AAA","kid":"` + kid + `","typ":"JWT"}`)
}

// hClaimsAt returns a Clerk-like session payload valid around now, with
// extra raw members appended (extra must start with a comma or be empty).
func hClaimsAt(now time.Time, extra string) []byte {
	u := now.Unix()
	return fmt.Appendf(nil, `{"azp":"https://app.example.com","exp":%d,"fva":[5,-1],"iat":%d,"iss":"https://clerk.example.com","nbf":%d,"sid":"sess_123","sts":"active","sub":"user_123","v":2%s}`,
		u+60, u-1, u-11, extra)
}

// hGoodToken signs a standard session token with k.
func hGoodToken(t testing.TB, k hkey, now time.Time) string {
	t.Helper()
	return hSignRaw(t, k, "RS256", hStdHeader(k.kid), hClaimsAt(now, ""), nil)
}

// hJwkJSON renders k's public key as a Clerk JWK.
func hJwkJSON(k hkey, alg, use string) string {
	pub := &k.priv.PublicKey
	m := map[string]string{
		"kty": "RSA",
		"kid": k.kid,
		"n":   hB64.EncodeToString(pub.N.Bytes()),
		"e":   hB64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	if alg != "" {
		m["alg"] = alg
	}
	if use != "" {
		m["use"] = use
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// hJwksOf renders a JWKS of Clerk-shaped RS256 signing keys.
func hJwksOf(keys ...hkey) []byte {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = hJwkJSON(k, "RS256", "sig")
	}
	return []byte(`{"keys":[` + strings.Join(parts, ",") + `]}`)
}

// hPemOf renders k's public key as PKIX PEM, as Clerk's dashboard shows it.
func hPemOf(k hkey) string {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// hJwksServer is a real JWKS endpoint whose behaviour a test changes at any
// time. It counts requests and checks Clerk's request shape.
type hJwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	handler atomic.Pointer[http.HandlerFunc]
	body    atomic.Pointer[[]byte]
}

// hNewJWKSServer starts a server that serves body as the JWKS (on any path).
func hNewJWKSServer(t testing.TB, body []byte) *hJwksServer {
	t.Helper()
	s := &hJwksServer{}
	s.setBody(body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if h := s.handler.Load(); h != nil {
			(*h)(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hJwksServer) setBody(b []byte) { s.body.Store(&b) }

// setHandler replaces the default JWKS answer; nil restores it.
func (s *hJwksServer) setHandler(h http.HandlerFunc) {
	if h == nil {
		s.handler.Store(nil)
		return
	}
	s.handler.Store(&h)
}

// hTickingClock returns a Now func that starts at t and moves 1 µs at
// each read: time passes, deterministically.
func hTickingClock(t time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t.Add(time.Duration(n.Add(1)) * time.Microsecond) }
}

// hFixedClock returns a Now func fixed at t.
func hFixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// hQuietLogger discards everything.
func hQuietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// hNewTestMW builds a Middleware and closes it at the end of the test.
func hNewTestMW(t testing.TB, o Options) *Middleware {
	t.Helper()
	if o.Logger == nil {
		o.Logger = hQuietLogger()
	}
	m, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// hHandlerResult is what one request through RequireAuth produced.
type hHandlerResult struct {
	status int
	reason string // X-Clerk-Auth-Reason
	ran    bool   // the protected handler ran
	body   string
	user   string // GetAuth(r).UserID seen by the handler
}

// serve runs r through m.RequireAuth around a handler that records that it
// ran.
func hServe(m *Middleware, r *http.Request) hHandlerResult {
	var res hHandlerResult
	h := m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.ran = true
		res.user = GetAuth(r).UserID
		io.WriteString(w, "ok")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res.status = rec.Code
	res.reason = rec.Header().Get("X-Clerk-Auth-Reason")
	res.body = rec.Body.String()
	return res
}

// bearer returns a request carrying tok in the Authorization header.
func hBearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/private", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// hWaitGoroutines polls until the number of goroutines is at most n, and
// fails with the stacks of clerkauth goroutines when it does not get there.
func hWaitGoroutines(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if runtime.NumGoroutine() <= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "keyring.(*Ring[") {
			leaked = append(leaked, g)
		}
	}
	t.Errorf("goroutines: %d, want <= %d; clerkauth goroutines still running:\n%s",
		runtime.NumGoroutine(), n, strings.Join(leaked, "\n\n"))
}

// hFlipBit flips bit i of the decoded segment seg and re-encodes it.
func hFlipBit(seg string, i int) string {
	b, err := hB64.DecodeString(seg)
	if err != nil {
		panic(err)
	}
	b[i/8] ^= 1 << (i % 8)
	return hB64.EncodeToString(b)
}

// segments splits a compact token into its three parts.
func hSegments(tok string) (h, p, s string) {
	parts := strings.SplitN(tok, ".", 3)
	return parts[0], parts[1], parts[2]
}
