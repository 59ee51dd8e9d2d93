package clerkauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewValidation(t *testing.T) {
	for _, env := range []string{"CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_API_URL", "CLERK_API_VERSION"} {
		t.Setenv(env, "")
	}
	pemKey := pemOf(t, &testKey(t, 0).PublicKey)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		o    Options
		want string // substring of the error; "" for success
	}{
		{"nothing", Options{}, "CLERK_SECRET_KEY"},
		{"bad secret", Options{SecretKey: "secret-sk_live_abc"}, "sk_test_ or sk_live_"},
		{"pem", Options{JWTKey: pemKey}, ""},
		{"pem without armor", Options{JWTKey: pemBody(pemKey)}, ""},
		{"pem escaped newlines", Options{JWTKey: strings.ReplaceAll(pemKey, "\n", `\n`)}, ""},
		{"pem garbage", Options{JWTKey: "-----BEGIN PUBLIC KEY-----\nzzz\n-----END PUBLIC KEY-----"}, "CLERK_JWT_KEY"},
		{"pem small", Options{JWTKey: pemOf(t, &small.PublicKey)}, "at least 2048"},
		{"secret", Options{SecretKey: "sk_test_abc"}, ""},
		{"jwks url only", Options{JWKSURL: "https://clerk.example.com/.well-known/jwks.json"}, ""},
		{"http api url", Options{SecretKey: "sk_test_abc", APIURL: "http://api.example.com"}, "https"},
		{"http loopback api url", Options{SecretKey: "sk_test_abc", APIURL: "http://127.0.0.1:8080"}, ""},
		{"http localhost api url", Options{SecretKey: "sk_test_abc", APIURL: "http://localhost:8080"}, ""},
		{"http jwks url", Options{JWKSURL: "http://clerk.example.com/jwks"}, "https"},
		{"url with credentials", Options{SecretKey: "sk_test_abc", APIURL: "https://u:p@api.clerk.com"}, "credentials"},
		{"bad publishable key", Options{SecretKey: "sk_test_abc", PublishableKey: "pk_live_!!!"}, "CLERK_PUBLISHABLE_KEY"},
		{"publishable without $", Options{SecretKey: "sk_test_abc", PublishableKey: "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com"))}, "ending in $"},
		{"negative cooldown", Options{SecretKey: "sk_test_abc", JWKSCooldown: -time.Second}, "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = discardLogger()
			m, err := New(tc.o)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				m.Close()
				return
			}
			if err == nil {
				m.Close()
				t.Fatalf("New succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "sk_live_abc") {
				t.Fatal("error contains the secret key")
			}
		})
	}
}

func pemBody(p string) string {
	var lines []string
	for _, l := range strings.Split(p, "\n") {
		if !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func TestEnvironmentDefaults(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "sk_test_fromenv")
	t.Setenv("CLERK_PUBLISHABLE_KEY", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
	t.Setenv("CLERK_API_URL", "http://127.0.0.1:9/")
	t.Setenv("CLERK_API_VERSION", "2099-01-01")
	t.Setenv("CLERK_JWT_KEY", "")
	c, err := Options{}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.secretKey != "sk_test_fromenv" || c.apiURL != "http://127.0.0.1:9" || c.apiVersion != "2099-01-01" ||
		strings.Join(c.issuers, ",") != "https://clerk.example.com" || c.jwksURL != "http://127.0.0.1:9/v1/jwks" || !c.jwksSendSecret ||
		c.skew != DefaultClockSkew || c.cacheSize != DefaultTokenCacheSize {
		t.Fatalf("resolved config: %+v", c)
	}
	// An explicit field wins over the environment.
	c, err = Options{SecretKey: "sk_live_explicit", Issuer: "https://x"}.resolve()
	if err != nil || c.secretKey != "sk_live_explicit" || c.issuer != "https://x" {
		t.Fatalf("explicit: %+v %v", c, err)
	}
	// The secret key is never sent to a JWKS URL other than the API's own.
	c, err = Options{JWKSURL: "https://clerk.example.com/.well-known/jwks.json"}.resolve()
	if err != nil || c.jwksSendSecret {
		t.Fatalf("public JWKS URL gets the secret: %+v %v", c, err)
	}
}

func TestParsePublishableKey(t *testing.T) {
	host, err := ParsePublishableKey("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
	if err != nil || host != "clerk.example.com" {
		t.Fatalf("%q %v", host, err)
	}
	for _, bad := range []string{"", "pk_", "sk_test_abc", "pk_test_", "pk_test_JA==", "pk_test_" + base64.StdEncoding.EncodeToString([]byte("a/b$"))} {
		if _, err := ParsePublishableKey(bad); err == nil {
			t.Errorf("ParsePublishableKey(%q) accepted", bad)
		}
	}
}

func TestParseJWTKeyPKCS1(t *testing.T) {
	der := x509.MarshalPKCS1PublicKey(&testKey(t, 0).PublicKey)
	p := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: der}))
	k, err := ParseJWTKey(p)
	if err != nil || k.N.Cmp(testKey(t, 0).N) != 0 {
		t.Fatalf("PKCS1: %v", err)
	}
	if _, err := ParseJWTKey(p + "trailing"); err == nil {
		t.Fatal("trailing data accepted")
	}
}

// TestAcceptsTokenPanicsAtSetUp: a misspelt or empty type list is a
// programming error caught when routes are built, like Options.AcceptsToken
// at New; the deprecated Accept keeps matching nothing instead.
func TestAcceptsTokenPanicsAtSetUp(t *testing.T) {
	f := newBenchFixture(t)
	mw := f.middleware(t, 0)
	for _, types := range [][]string{{"m2m"}, {TokenTypeSession, "sesion_token"}, nil} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "Middleware.AcceptsToken") || !strings.Contains(msg, TokenTypeM2M) {
					t.Errorf("AcceptsToken(%q): panic %q", types, msg)
				}
			}()
			mw.AcceptsToken(types...)
		}()
	}
	if got := mw.AcceptsToken(TokenTypeM2M, TokenTypeSession).accept; got != maskM2M|maskSession {
		t.Errorf("AcceptsToken mask %b", got)
	}
	if got := mw.Accept("m2m").accept; got != 0 {
		t.Errorf("deprecated Accept with an unknown name: mask %b, want none", got)
	}
	// The same token is refused by a narrowed route, accepted by a wider one.
	r := f.request()
	if _, err := mw.AcceptsToken(TokenTypeM2M).Authenticate(r); !errors.Is(err, ErrTokenInvalid) || err.(*AuthError).Reason != "token-type-mismatch" {
		t.Errorf("session token on an M2M-only route: %v", err)
	}
	if a, err := mw.AcceptsToken(TokenTypeAny).Authenticate(r); err != nil || !a.IsSignedIn() {
		t.Errorf("session token on an any route: %v", err)
	}
}

// TestReverifyPresets: Reverify's presets are Clerk's, the deprecated
// functions give the same values, and an unknown preset never holds.
func TestReverifyPresets(t *testing.T) {
	for _, tc := range []struct {
		preset string
		old    Reverification
		want   Reverification
	}{
		{"strict_mfa", ReverifyStrictMFA(), Reverification{"multi_factor", 10}},
		{"strict", ReverifyStrict(), Reverification{"second_factor", 10}},
		{"moderate", ReverifyModerate(), Reverification{"second_factor", 60}},
		{"lax", ReverifyLax(), Reverification{"second_factor", 1440}},
	} {
		if got := Reverify(tc.preset); got != tc.want || tc.old != tc.want {
			t.Errorf("Reverify(%q) = %v, deprecated %v, want %v", tc.preset, got, tc.old, tc.want)
		}
	}
	a := &Auth{UserID: "user_1", FactorVerificationAge: []int{0, 0}}
	if !a.Has(Check{Reverification: Reverify("lax")}) || a.Has(Check{Reverification: Reverify("Strict")}) {
		t.Error("a fresh user: lax must hold, an unknown preset must not")
	}
}

func TestPageLoadOptions(t *testing.T) {
	pkLive := "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com$"))
	pkTest := "pk_test_" + base64.StdEncoding.EncodeToString([]byte("happy-cat-12.clerk.accounts.dev$"))
	pemKey := pemOf(t, &testKey(t, 0).PublicKey)
	cases := []struct {
		name    string
		o       Options
		env     map[string]string
		want    string // FrontendAPI
		wantErr string
	}{
		{"no publishable key", Options{JWTKey: pemKey}, nil, "", ""},
		{"primary", Options{PublishableKey: pkLive, JWTKey: pemKey}, nil, "https://clerk.example.com", ""},
		{"proxy", Options{PublishableKey: pkLive, JWTKey: pemKey, ProxyURL: "https://example.com/__clerk/"}, nil, "https://example.com/__clerk", ""},
		{"relative proxy", Options{PublishableKey: pkLive, JWTKey: pemKey, ProxyURL: "/__clerk"}, nil, "/__clerk", ""},
		{"satellite", Options{PublishableKey: pkLive, JWTKey: pemKey, IsSatellite: true, Domain: "sat.example.net"}, nil, "https://clerk.sat.example.net", ""},
		{"satellite from env", Options{PublishableKey: pkLive, JWTKey: pemKey},
			map[string]string{"CLERK_IS_SATELLITE": "TRUE", "CLERK_DOMAIN": "https://sat.example.net"}, "https://clerk.sat.example.net", ""},
		{"satellite proxy wins", Options{PublishableKey: pkLive, JWTKey: pemKey, IsSatellite: true, Domain: "sat.example.net", ProxyURL: "https://sat.example.net/__clerk"}, nil, "https://sat.example.net/__clerk", ""},
		{"dev satellite keeps its host", Options{PublishableKey: pkTest, JWTKey: pemKey, IsSatellite: true, Domain: "sat.example.net", SignInURL: "https://primary.example.com/sign-in"}, nil, "https://happy-cat-12.clerk.accounts.dev", ""},
		{"satellite without domain", Options{PublishableKey: pkLive, JWTKey: pemKey, IsSatellite: true}, nil, "", "needs Domain"},
		{"dev satellite without sign-in", Options{PublishableKey: pkTest, SecretKey: "sk_test_x", IsSatellite: true, Domain: "sat.example.net"}, nil, "", "SignInURL"},
		{"satellite relative sign-in", Options{PublishableKey: pkLive, JWTKey: pemKey, IsSatellite: true, Domain: "s.net", SignInURL: "/sign-in"}, nil, "", "absolute"},
		{"bad sign-in url", Options{JWTKey: pemKey, SignInURL: "ftp://x"}, nil, "", "SignInURL"},
		{"bad sign-up url", Options{JWTKey: pemKey}, map[string]string{"CLERK_SIGN_UP_URL": "sign-up"}, "", "SignUpURL"},
		{"http proxy", Options{JWTKey: pemKey, ProxyURL: "http://example.com/__clerk"}, nil, "", "https"},
		{"bad domain", Options{JWTKey: pemKey, Domain: "sat.example.net/x"}, nil, "", "host name"},
		{"not truthy", Options{PublishableKey: pkLive, JWTKey: pemKey}, map[string]string{"CLERK_IS_SATELLITE": "false"}, "https://clerk.example.com", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = discardLogger()
			tc.o.Getenv = func(k string) string { return tc.env[k] }
			m, err := New(tc.o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if got := m.FrontendAPI(); got != tc.want {
				t.Fatalf("FrontendAPI() = %q, want %q", got, tc.want)
			}
		})
	}
	for v, want := range map[string]bool{"true": true, "True": true, "1": true, "2x": true, "0": false, "": false, "false": false, "yes": false} {
		if truthy(v) != want {
			t.Errorf("truthy(%q) != %v", v, want)
		}
	}
}
