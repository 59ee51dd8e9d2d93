package clerkauth_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// Differences from Clerk that the conformance suite (conformance/) found,
// each checked here without node.

// TestPendingCrossOriginSync: a pending session is Clerk's signed-in state
// (toAuth() signs it out), so a document request from another origin gets
// the primary-domain cross-origin sync handshake, as a signed-in one does.
func TestPendingCrossOriginSync(t *testing.T) {
	srv := clerktest.New(t)
	mw := newMW(t, liveOptions(srv))
	cookies := map[string]string{"__session": srv.SessionToken("user_1", clerktest.WithPending()),
		"__client_uat": jsInt(time.Now().Add(-time.Minute).Unix())}
	pageCase{header: merge(document, "Referer", "https://satellite.example.net/x"), cookies: cookies,
		status: "handshake", reason: "primary-domain-cross-origin-sync"}.run(t, mw)
	pageCase{header: document, cookies: cookies, status: "signed-out", reason: "session-pending"}.run(t, mw)
}

// TestHandshakeTokenCategory: a handshake token whose JOSE header cat
// names another class of JWT (an M2M token's) is refused, as Clerk's
// verifyHandshakeJwt refuses it ("Invalid handshake token category"); one
// with the session category or none is resolved.
func TestHandshakeTokenCategory(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	now := time.Unix(1_750_000_000, 0)
	mw := newMW(t, clerkauth.Options{
		JWTKey:         string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		PublishableKey: "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", // clerk.example.com
		SecretKey:      "sk_live_conformance", APIURL: "http://127.0.0.1:1",
		Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
	})
	sign := func(header string, payload any) string {
		p, _ := json.Marshal(payload)
		in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(p)
		h := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	session := sign(`{"alg":"RS256","typ":"JWT"}`, map[string]any{"sub": "user_1", "sid": "sess_1", "iss": "https://clerk.example.com",
		"iat": now.Unix() - 1, "nbf": now.Unix() - 6, "exp": now.Unix() + 59})
	directives := map[string]any{"handshake": []string{"__session=" + session + "; Path=/", "__client_uat=" + jsInt(now.Unix()-5) + "; Path=/"}}
	for _, tc := range []struct {
		header   string
		signedIn bool
	}{
		{`{"alg":"RS256","typ":"JWT"}`, true},
		{`{"alg":"RS256","typ":"JWT","cat":"cl_B7d4PD111AAA"}`, true},
		{`{"alg":"RS256","typ":"JWT","cat":"cl_I7d4PD111III"}`, true},
		{`{"alg":"RS256","typ":"JWT","cat":"cl_B7d4PD333AAA"}`, false},
		{`{"alg":"RS256","typ":"JWT","cat":"cl_B7d4PD222AAA"}`, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
		r.AddCookie(&http.Cookie{Name: "__clerk_handshake", Value: sign(tc.header, directives)})
		w := httptest.NewRecorder()
		a, _ := mw.AuthenticateResponse(w, r)
		if a.IsSignedIn() != tc.signedIn || tc.signedIn != (len(w.Header().Values("Set-Cookie")) > 0) {
			t.Errorf("header %s: signed in %v (%s), Set-Cookie %q", tc.header, a.IsSignedIn(), a.Reason(), w.Header().Values("Set-Cookie"))
		}
	}
}

// TestReverificationFractional: afterMinutes may be fractional, as in
// Clerk (a factor is fresh when its age in whole minutes is below it), and
// must be positive.
func TestReverificationFractional(t *testing.T) {
	a := &clerkauth.Auth{TokenType: clerkauth.TokenTypeSession, UserID: "user_1", FactorVerificationAge: []int{3, 10}}
	for _, tc := range []struct {
		level string
		after float64
		want  bool
	}{
		{"second_factor", 10, false}, {"second_factor", 10.01, true}, {"second_factor", 10.5, true},
		{"first_factor", 3, false}, {"first_factor", 3.5, true}, {"multi_factor", 10.5, true}, {"multi_factor", 9.99, false},
		{"first_factor", 0, false}, {"first_factor", -1, false}, {"first_factor", 0.5, false},
	} {
		if got := a.Has(clerkauth.Check{Reverification: clerkauth.Reverification{Level: tc.level, AfterMinutes: tc.after}}); got != tc.want {
			t.Errorf("%s after %v minutes with fva [3, 10]: %v, want %v", tc.level, tc.after, got, tc.want)
		}
	}
}
