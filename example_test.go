package clerkauth_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// The examples run against a clerktest.Server: a real local HTTP server
// standing in for a Clerk instance, with its own RSA key. Nothing is
// mocked: the middleware downloads the keys and verifies real signatures.

// get sends a GET for path to h, with tok as a bearer token if not "",
// and returns the status and body.
func get(h http.Handler, path, tok string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// A net/http API with one protected route. In production the options come
// from the CLERK_* environment variables: clerkauth.New(clerkauth.Options{}).
func Example() {
	clerk := clerktest.NewServer() // a local Clerk instance
	defer clerk.Close()

	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /api/me", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", clerkauth.GetAuth(r).UserID)
	})))

	fmt.Println(get(mux, "/api/me", clerk.SessionToken("user_123")))
	fmt.Println(get(mux, "/api/me", ""))
	// Output:
	// 200 hello user_123
	// 401 {"error":"Not authenticated"}
}

func ExampleNew() {
	clerk := clerktest.NewServer()
	defer clerk.Close()

	// Every empty field falls back to its CLERK_* variable, then to a
	// default; New checks everything once and says what is wrong.
	mw, err := clerkauth.New(clerkauth.Options{
		SecretKey:         clerk.SecretKey(),      // $CLERK_SECRET_KEY: keys from the Backend API
		PublishableKey:    clerk.PublishableKey(), // $CLERK_PUBLISHABLE_KEY: the issuer is checked
		APIURL:            clerk.URL,              // $CLERK_API_URL, else https://api.clerk.com
		AuthorizedParties: []string{"http://localhost:3000"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	auth, err := mw.AuthenticateToken(context.Background(), clerk.SessionToken("user_123"))
	fmt.Println(auth.UserID, err)

	_, err = clerkauth.New(clerkauth.Options{
		SecretKey: "sk_test_example",
		APIURL:    "http://api.example.com", // not https
	})
	fmt.Println(err)
	// Output:
	// user_123 <nil>
	// clerkauth: APIURL ($CLERK_API_URL) "http://api.example.com" must use https (http is allowed only for loopback addresses)
}

func ExampleMiddleware_Handler() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	// Handler authenticates and never rejects: the handler decides what a
	// signed-out request gets.
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		if !auth.IsSignedIn() {
			fmt.Fprintf(w, "hello guest (%s)", auth.Reason())
			return
		}
		fmt.Fprintf(w, "hello %s", auth.UserID)
	}))

	fmt.Println(get(h, "/", clerk.SessionToken("user_123")))
	fmt.Println(get(h, "/", clerk.SessionToken("user_123", clerktest.WithExpired())))
	fmt.Println(get(h, "/", ""))
	// Output:
	// 200 hello user_123
	// 200 hello guest (session-token-expired-refresh-non-eligible-no-refresh-cookie)
	// 200 hello guest (dev-browser-missing)
}

func ExampleMiddleware_RequireAuth() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	opts := clerk.Options()
	opts.Logger = slog.New(slog.DiscardHandler) // the outage below logs a warning
	mw, err := clerkauth.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	// RequireAuth answers 401 (or 503 when the keys cannot be obtained)
	// before the handler runs.
	h := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", clerkauth.GetAuth(r).UserID)
	}))
	fmt.Println(get(h, "/", clerk.SessionToken("user_123")))
	fmt.Println(get(h, "/", clerk.SessionToken("user_123", clerktest.WithExpired())))

	clerk.SetJWKSStatus(http.StatusServiceUnavailable) // Clerk is down
	clerk.RotateKey(false)                             // and a token has a new key
	fmt.Println(get(h, "/", clerk.SessionToken("user_123")))
	// Output:
	// 200 hello user_123
	// 401 {"error":"Not authenticated"}
	// 503 {"error":"Authentication unavailable"}
}

func ExampleAuth_Has() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	tok := clerk.SessionToken("user_123",
		clerktest.WithOrg("org_1", "acme", "admin", "org:invoices:read", "org:invoices:create"),
		clerktest.WithPlans("org:pro"))
	auth, err := mw.AuthenticateToken(context.Background(), tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(auth.OrgSlug, auth.OrgRole)
	fmt.Println("admin:", auth.Has(clerkauth.Check{Role: "admin"}))
	fmt.Println("read invoices:", auth.Has(clerkauth.Check{Permission: "org:invoices:read"}))
	fmt.Println("delete invoices:", auth.Has(clerkauth.Check{Permission: "org:invoices:delete"}))
	fmt.Println("pro plan:", auth.Has(clerkauth.Check{Plan: "org:pro"}))
	// Output:
	// acme org:admin
	// admin: true
	// read invoices: true
	// delete invoices: false
	// pro plan: true
}

func ExampleAuth_GetToken() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	clerk.AddTemplate("supabase", map[string]any{"role": "authenticated"})
	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	h := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		// A token of the "supabase" JWT template, minted by the Backend
		// API for this session (and cached until shortly before its exp).
		tok, err := auth.GetToken(r.Context(), clerkauth.WithTemplate("supabase"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		own, _ := auth.GetToken(r.Context()) // the request's own token, no network
		fmt.Fprintf(w, "template token: %t, own token: %t", tok != "" && tok != own, own != "")
	}))
	session := clerk.SessionToken("user_123", clerktest.WithSessionID("sess_1"))
	fmt.Println(get(h, "/", session))
	fmt.Println(get(h, "/", session))
	fmt.Println("Backend API calls:", clerk.Requests("/v1/sessions/sess_1/tokens/supabase"))
	// Output:
	// 200 template token: true, own token: true
	// 200 template token: true, own token: true
	// Backend API calls: 1
}

func ExampleMiddleware_Accept() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	opts := clerk.Options()
	opts.AcceptsToken = []string{clerkauth.TokenTypeSession, clerkauth.TokenTypeAPIKey}
	mw, err := clerkauth.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		fmt.Fprintf(w, "%s %s", auth.TokenType, auth.UserID)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", mw.RequireAuth(whoami))                                                  // users and API keys
	mux.Handle("/api/keys-only", mw.AcceptsToken(clerkauth.TokenTypeAPIKey).RequireAuth(whoami)) // API keys only

	session := clerk.SessionToken("user_123")
	apiKey := clerk.AddAPIKey(clerktest.MachineToken{Subject: "user_123", Name: "ci"})
	fmt.Println(get(mux, "/api/any", session))
	fmt.Println(get(mux, "/api/any", apiKey))
	fmt.Println(get(mux, "/api/keys-only", apiKey))
	fmt.Println(get(mux, "/api/keys-only", session))
	// Output:
	// 200 session_token user_123
	// 200 api_key user_123
	// 200 api_key user_123
	// 401 {"error":"Not authenticated"}
}

func ExampleAuth_Claims() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	// Custom session claims (Dashboard > Sessions > Customize session token).
	tok := clerk.SessionToken("user_123", clerktest.WithClaims(map[string]any{"tenant": "eu-1"}))
	auth, err := mw.AuthenticateToken(context.Background(), tok)
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
	clerk := clerktest.NewServer()
	defer clerk.Close()
	mw, err := clerkauth.New(clerk.Options())
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "__session", Value: clerk.SessionToken("user_123")})
	req.AddCookie(&http.Cookie{Name: "__client_uat", Value: "0"})       // the browser signed out
	req.AddCookie(&http.Cookie{Name: "__clerk_db_jwt", Value: "dvb_1"}) // clerk-js on a development instance
	auth, err := mw.Authenticate(req)
	fmt.Println(auth.Reason())
	fmt.Println(err)
	// Output:
	// session-token-but-no-client-uat
	// clerkauth: client is signed out (session-token-but-no-client-uat): __session cookie present but __client_uat is missing or 0
}
