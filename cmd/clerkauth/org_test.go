package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
)

// TestDecodeOrgMatchesMiddleware: decode reads the organization claims by
// the middleware's rules (v2 only when v is the number 2, org:+rol as it is,
// the other version ignored, members without an id), on signed tokens the
// middleware verifies.
func TestDecodeOrgMatchesMiddleware(t *testing.T) {
	isolateEnv(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	now := time.Unix(1_750_000_000, 0)
	mw, err := clerkauth.New(clerkauth.Options{JWTKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	o := `"o":{"id":"org_2","slg":"two","rol":"admin","per":"read","fpm":"1"},"fea":"o:x"`
	v1 := `"org_id":"org_1","org_slug":"one","org_role":"org:member","org_permissions":["org:y:read"]`
	cases := map[string]string{
		"v2":                   `"v":2,` + o,
		"v2 as 2.0":            `"v":2.0,` + o,
		"o without v":          o,
		"v as a string":        `"v":"2",` + o,
		"v 3":                  `"v":3,` + o + `,` + v1,
		"v1 beside o":          v1 + `,` + o,
		"v2 beside v1":         `"v":2,` + o + `,` + v1,
		"rol with org: prefix": `"v":2,"o":{"id":"org_2","rol":"org:admin"}`,
		"v2 without id":        `"v":2,"o":{"slg":"two","rol":"admin","per":"read","fpm":"1"},"fea":"o:x"`,
		"v1 without id":        `"org_slug":"one","org_role":"org:member","org_permissions":["org:y:read"]`,
		"v2 o not an object":   `"v":2,"o":"org_2"`,
	}
	for name, claims := range cases {
		t.Run(name, func(t *testing.T) {
			payload := fmt.Sprintf(`{"sub":"user_1","sid":"sess_1","iat":%d,"exp":%d,%s}`, now.Unix()-1, now.Unix()+60, claims)
			tok := signRaw(t, key, `{"alg":"RS256","typ":"JWT"}`, payload)
			a, err := mw.AuthenticateToken(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			d, err := decodeToken(tok)
			if err != nil {
				t.Fatal(err)
			}
			got := orgOf(d.claims)
			if got.id != a.OrgID || got.slug != a.OrgSlug || got.role != a.OrgRole || !slices.Equal(got.perms, a.OrgPermissions) {
				t.Errorf("decode: %+v, middleware: %q %q %q %v", got, a.OrgID, a.OrgSlug, a.OrgRole, a.OrgPermissions)
			}
		})
	}
}

func signRaw(t *testing.T, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	h := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
