package clerkauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/golang-jwt/jwt/v5"
)

// exampleInstance stands in for a Clerk instance: a key pair whose public
// half is what the dashboard shows as the JWT public key (CLERK_JWT_KEY).
func exampleInstance() (*rsa.PrivateKey, string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// exampleToken signs a session token the way Clerk does.
func exampleToken(key *rsa.PrivateKey, claims jwt.MapClaims) string {
	now := time.Now()
	base := jwt.MapClaims{"sub": "user_123", "sid": "sess_456", "iat": now.Unix(), "nbf": now.Unix() - 10,
		"exp": now.Add(time.Minute).Unix(), "azp": "https://app.example.com", "sts": "active", "v": 2}
	for k, v := range claims {
		base[k] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, base)
	t.Header["kid"] = "ins_1"
	s, err := t.SignedString(key)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func ExampleMiddleware_RequireAuth() {
	key, publicPEM := exampleInstance()
	mw, err := clerkauth.New(clerkauth.Options{
		JWTKey:            publicPEM, // or leave empty to read $CLERK_JWT_KEY / $CLERK_SECRET_KEY
		AuthorizedParties: []string{"https://app.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	mux := http.NewServeMux()
	mux.Handle("/api/protected", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"userId":%q}`, clerkauth.GetAuth(r).UserID)
	})))

	for _, token := range []string{exampleToken(key, nil), ""} {
		req := httptest.NewRequest(http.MethodGet, "/api/protected", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 {"userId":"user_123"}
	// 401 {"error":"Not authenticated"}
}

func ExampleGetAuth() {
	key, publicPEM := exampleInstance()
	mw, err := clerkauth.New(clerkauth.Options{JWTKey: publicPEM})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	// Handler never rejects: the handler decides what signed-out means.
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		if !auth.IsSignedIn() {
			fmt.Println("signed out:", auth.Reason())
			return
		}
		fmt.Println(auth.UserID, auth.OrgID, auth.OrgRole)
		fmt.Println("can revoke:", auth.Has(clerkauth.Check{Permission: "org:projects:revoke"}))
		fmt.Println("is admin:", auth.Has(clerkauth.Check{Role: "admin"}))
	}))

	token := exampleToken(key, jwt.MapClaims{
		"fea": "o:repositories,uo:projects",
		"o":   map[string]any{"id": "org_789", "slg": "acme", "rol": "admin", "per": "read,create,update,delete,revoke", "fpm": "7,21"},
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), req)

	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "__session", Value: token})
	req.AddCookie(&http.Cookie{Name: "__client_uat", Value: "0"}) // the browser signed out
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// user_123 org_789 org:admin
	// can revoke: true
	// is admin: true
	// signed out: session-token-but-no-client-uat
}

func ExampleAuth_Claims() {
	key, publicPEM := exampleInstance()
	mw, err := clerkauth.New(clerkauth.Options{JWTKey: publicPEM})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+exampleToken(key, jwt.MapClaims{"tenant": "eu-1"}))
	auth, err := mw.Authenticate(req)
	if err != nil {
		log.Fatal(err)
	}
	var custom struct {
		Tenant string `json:"tenant"`
	}
	if err := auth.Claims(&custom); err != nil {
		log.Fatal(err)
	}
	fmt.Println(custom.Tenant)
	// Output: eu-1
}

func ExampleReasonOf() {
	_, publicPEM := exampleInstance()
	mw, err := clerkauth.New(clerkauth.Options{JWTKey: publicPEM})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer not.a.jwt")
	_, err = mw.Authenticate(req)
	fmt.Println(clerkauth.ReasonOf(err))
	fmt.Println(err)
	// Output:
	// token-invalid
	// clerkauth: token invalid (token-invalid): token header is not a JSON object
}
