package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkhttp "github.com/clerk/clerk-sdk-go/v2/http"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/user"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// The SDK accepts only issuers of the form https://clerk.* (or
// *.clerk.accounts*); clerktest's own issuer is its loopback address, so
// the tokens of these tests carry a production-like one, which clerkauth
// is told to expect (Options.Issuer).
const issuer = "https://clerk.example.com"

const origin = "https://app.example.com"

// tenant is the custom session claim both ports decode.
type tenant struct {
	Tenant string `json:"tenant"`
}

// sdkAPI is the API as written with clerk-sdk-go v2: /me requires a
// session, /feed works signed in or out, /admin needs the org:admin role,
// /reports the org:reports:read permission, /tenant decodes a custom
// claim. parties, when given, are the authorized parties.
func sdkAPI(keys *jwks.Client, parties ...string) http.Handler {
	opts := []clerkhttp.AuthorizationOption{
		clerkhttp.JWKSClient(keys),
		clerkhttp.CustomClaimsConstructor(func(context.Context) any { return &tenant{} }),
	}
	if len(parties) > 0 {
		opts = append(opts, clerkhttp.AuthorizedPartyMatches(parties...))
	}
	required := clerkhttp.RequireHeaderAuthorization(opts...)
	mux := http.NewServeMux()
	mux.Handle("GET /me", required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := clerk.SessionClaimsFromContext(r.Context())
		fmt.Fprintf(w, "user=%s session=%s org=%s", claims.Subject, claims.SessionID, claims.ActiveOrganizationID)
	})))
	mux.Handle("GET /feed", clerkhttp.WithHeaderAuthorization(opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if claims, ok := clerk.SessionClaimsFromContext(r.Context()); ok {
			fmt.Fprintf(w, "feed of %s", claims.Subject)
			return
		}
		fmt.Fprint(w, "public feed")
	})))
	mux.Handle("GET /admin", required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := clerk.SessionClaimsFromContext(r.Context())
		if !claims.HasRole("org:admin") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "admin")
	})))
	mux.Handle("GET /reports", required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := clerk.SessionClaimsFromContext(r.Context())
		if !claims.HasPermission("org:reports:read") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "reports")
	})))
	mux.Handle("GET /tenant", required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := clerk.SessionClaimsFromContext(r.Context())
		fmt.Fprint(w, claims.Custom.(*tenant).Tenant)
	})))
	return mux
}

// ourAPI is the same API ported line by line to clerkauth, as the guide's
// table says.
func ourAPI(mw *clerkauth.Middleware) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /me", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		fmt.Fprintf(w, "user=%s session=%s org=%s", auth.UserID, auth.SessionID, auth.OrgID)
	})))
	mux.Handle("GET /feed", mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := clerkauth.GetAuth(r); auth.IsSignedIn() {
			fmt.Fprintf(w, "feed of %s", auth.UserID)
			return
		}
		fmt.Fprint(w, "public feed")
	})))
	mux.Handle("GET /admin", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !clerkauth.GetAuth(r).Has(clerkauth.Check{Role: "org:admin"}) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "admin")
	})))
	mux.Handle("GET /reports", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !clerkauth.GetAuth(r).Has(clerkauth.Check{Permission: "org:reports:read"}) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "reports")
	})))
	mux.Handle("GET /tenant", mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var t tenant
		if err := clerkauth.GetAuth(r).Claims(&t); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, t.Tenant)
	})))
	return mux
}

// env is one clerktest instance served to both ports.
type env struct {
	srv       *clerktest.Server
	sdk, ours http.Handler
	mw        *clerkauth.Middleware
	opts      clerkauth.Options
	keys      *jwks.Client
}

func newEnv(t *testing.T, parties ...string) *env {
	t.Helper()
	srv := clerktest.New(t)
	// Ours: the instance's keys and Backend API, with the production-like
	// issuer and no publishable key (which would name clerktest's).
	opts := srv.Options()
	opts.PublishableKey = ""
	opts.Issuer = issuer
	opts.AuthorizedParties = parties
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	// The SDK: its Backend API pointed at the same instance (its JWKS at
	// {URL}/jwks, its users at {URL}/users/{id}).
	url, key := srv.URL+"/v1", srv.SecretKey()
	cfg := &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &url, Key: &key}}
	keys := jwks.NewClient(cfg)
	return &env{srv: srv, sdk: sdkAPI(keys, parties...), ours: ourAPI(mw), mw: mw, opts: opts, keys: keys}
}

// token mints a session token with the production-like issuer.
func (e *env) token(userID string, opts ...clerktest.TokenOption) string {
	opts = append(opts, clerktest.WithAzp(origin), clerktest.WithClaims(map[string]any{"iss": issuer}))
	return e.srv.SessionToken(userID, opts...)
}

type answer struct {
	status int
	body   string
}

func serve(h http.Handler, path string, prepare func(*http.Request)) answer {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if prepare != nil {
		prepare(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return answer{rec.Code, strings.TrimSpace(string(b))}
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// both sends the same request to both ports.
func (e *env) both(path string, prepare func(*http.Request)) (sdk, ours answer) {
	return serve(e.sdk, path, prepare), serve(e.ours, path, prepare)
}

// The table of the guide: each SDK piece and its clerkauth twin give the
// same answer for a valid token.
func TestMappingTable(t *testing.T) {
	e := newEnv(t, origin)
	admin := e.token("user_admin", clerktest.WithSessionID("sess_a"),
		clerktest.WithOrg("org_1", "acme", "org:admin", "org:reports:read"),
		clerktest.WithClaims(map[string]any{"tenant": "eu-1"}))
	member := e.token("user_member", clerktest.WithOrg("org_1", "acme", "org:member"))
	for _, tc := range []struct {
		name, tok, path string
		want            answer
	}{
		{"claims.Subject, SessionID, ActiveOrganizationID", admin, "/me", answer{200, "user=user_admin session=sess_a org=org_1"}},
		{"WithHeaderAuthorization, signed in", admin, "/feed", answer{200, "feed of user_admin"}},
		{"HasRole(org:admin)", admin, "/admin", answer{200, "admin"}},
		{"HasRole(org:admin), a member", member, "/admin", answer{403, "forbidden"}},
		{"HasPermission", admin, "/reports", answer{200, "reports"}},
		{"HasPermission, missing", member, "/reports", answer{403, "forbidden"}},
		{"CustomClaimsConstructor", admin, "/tenant", answer{200, "eu-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdk, ours := e.both(tc.path, bearer(tc.tok))
			if sdk != tc.want || ours != tc.want {
				t.Errorf("sdk %v, clerkauth %v, want %v from both", sdk, ours, tc.want)
			}
		})
	}
}

// user.Get and *clerk.APIErrorResponse against mw.Client().GetUser and
// *clerkauth.APIError: the same user, the same 404.
func TestBackendAPI(t *testing.T) {
	e := newEnv(t)
	e.srv.AddUser(clerktest.User{ID: "user_1", FirstName: "Ada", Email: "ada@example.com"})
	url, key := e.srv.URL+"/v1", e.srv.SecretKey()
	users := user.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &url, Key: &key}})
	ctx := context.Background()

	theirs, err := users.Get(ctx, "user_1")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := e.mw.Client().GetUser(ctx, "user_1")
	if err != nil {
		t.Fatal(err)
	}
	if theirs.ID != ours.ID || theirs.FirstName == nil || *theirs.FirstName != ours.FirstName {
		t.Errorf("sdk %s %v, clerkauth %s %q", theirs.ID, theirs.FirstName, ours.ID, ours.FirstName)
	}

	_, sdkErr := users.Get(ctx, "user_missing")
	_, ourErr := e.mw.Client().GetUser(ctx, "user_missing")
	var apiResp *clerk.APIErrorResponse
	var apiErr *clerkauth.APIError
	if !errors.As(sdkErr, &apiResp) || !errors.As(ourErr, &apiErr) {
		t.Fatalf("sdk %T %v, clerkauth %T %v", sdkErr, sdkErr, ourErr, ourErr)
	}
	if apiResp.HTTPStatusCode != http.StatusNotFound || apiErr.StatusCode != http.StatusNotFound ||
		len(apiResp.Errors) == 0 || len(apiErr.Errors) == 0 || apiResp.Errors[0].Code != apiErr.Errors[0].Code {
		t.Errorf("sdk %d %+v, clerkauth %d %+v", apiResp.HTTPStatusCode, apiResp.Errors, apiErr.StatusCode, apiErr.Errors)
	}
}

// The behaviour changes the guide lists, each seen on both sides.
func TestBehaviourChanges(t *testing.T) {
	e := newEnv(t)
	ok := e.token("user_1")

	t.Run("missing token: 403 from the SDK, 401 from clerkauth", func(t *testing.T) {
		sdk, ours := e.both("/me", nil)
		if sdk.status != http.StatusForbidden || ours.status != http.StatusUnauthorized {
			t.Errorf("sdk %v, clerkauth %v", sdk, ours)
		}
	})

	t.Run("expired token on an optional route: SDK 401, clerkauth passes it on signed out", func(t *testing.T) {
		expired := e.token("user_1", clerktest.WithExpired())
		sdk, ours := e.both("/feed", bearer(expired))
		if sdk.status != http.StatusUnauthorized || ours != (answer{200, "public feed"}) {
			t.Errorf("sdk %v, clerkauth %v", sdk, ours)
		}
	})

	t.Run("FromContext ok is true for a signed-out request: check IsSignedIn", func(t *testing.T) {
		var sdkOK, ourOK, signedIn bool
		theirs := clerkhttp.WithHeaderAuthorization(clerkhttp.JWKSClient(e.keys))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, sdkOK = clerk.SessionClaimsFromContext(r.Context())
		}))
		ours := e.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var auth *clerkauth.Auth
			auth, ourOK = clerkauth.FromContext(r.Context())
			signedIn = auth.IsSignedIn()
		}))
		serve(theirs, "/", nil)
		serve(ours, "/", nil)
		if sdkOK || !ourOK || signedIn {
			t.Errorf("sdk ok %v; clerkauth ok %v, signed in %v", sdkOK, ourOK, signedIn)
		}
	})

	t.Run("a role without org: matches org:admin in Has, not in HasRole", func(t *testing.T) {
		admin := e.token("user_1", clerktest.WithOrg("org_1", "acme", "admin"))
		var sdkPlain, sdkFull, oursPlain, oursFull bool
		theirs := clerkhttp.RequireHeaderAuthorization(clerkhttp.JWKSClient(e.keys))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, _ := clerk.SessionClaimsFromContext(r.Context())
			sdkPlain, sdkFull = claims.HasRole("admin"), claims.HasRole("org:admin")
		}))
		ours := e.mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := clerkauth.GetAuth(r)
			oursPlain, oursFull = auth.Has(clerkauth.Check{Role: "admin"}), auth.Has(clerkauth.Check{Role: "org:admin"})
		}))
		serve(theirs, "/", bearer(admin))
		serve(ours, "/", bearer(admin))
		if sdkPlain || !sdkFull || !oursPlain || !oursFull {
			t.Errorf("sdk HasRole(admin) %v, HasRole(org:admin) %v; clerkauth Has(admin) %v, Has(org:admin) %v", sdkPlain, sdkFull, oursPlain, oursFull)
		}
	})

	t.Run("issuer: the SDK accepts any https://clerk.*, clerkauth only the instance's", func(t *testing.T) {
		evil := e.srv.SessionToken("user_1", clerktest.WithClaims(map[string]any{"iss": "https://clerk.evil.com"}))
		sdk, ours := e.both("/me", bearer(evil))
		if sdk.status != http.StatusOK || ours.status != http.StatusUnauthorized {
			t.Errorf("sdk %v, clerkauth %v", sdk, ours)
		}
		if a, err := e.mw.AuthenticateToken(context.Background(), evil); !errors.Is(err, clerkauth.ErrTokenInvalid) || a.Reason() != clerkauth.ReasonTokenInvalidIssuer {
			t.Errorf("clerkauth: %v", err)
		}
	})

	t.Run("cookies: the SDK reads the header only, clerkauth the cookies with __client_uat", func(t *testing.T) {
		cookies := func(uat string) func(*http.Request) {
			return func(r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "__session", Value: ok})
				r.AddCookie(&http.Cookie{Name: "__client_uat", Value: uat})
			}
		}
		signedIn := fmt.Sprint(time.Now().Add(-time.Hour).Unix())
		sdk, ours := e.both("/me", cookies(signedIn))
		if sdk.status != http.StatusForbidden || ours.status != http.StatusOK {
			t.Errorf("signed-in cookies: sdk %v, clerkauth %v", sdk, ours)
		}
		// __client_uat=0: the browser signed out; the token is still valid
		// for up to a minute, but clerkauth signs the request out at once.
		_, ours = e.both("/me", cookies("0"))
		a, _ := e.mw.Authenticate(func() *http.Request {
			r := httptest.NewRequest("GET", "/me", nil)
			cookies("0")(r)
			return r
		}())
		if ours.status != http.StatusUnauthorized || a.Reason() != clerkauth.ReasonTokenButNoClientUAT {
			t.Errorf("signed-out cookies: clerkauth %v, reason %q", ours, a.Reason())
		}
	})
}

// AuthorizedPartyMatches lets a token without azp through; clerkauth's
// AuthorizedParties does not.
func TestAuthorizedPartiesWithoutAzp(t *testing.T) {
	e := newEnv(t, origin)
	noAzp := e.srv.SessionToken("user_1", clerktest.WithAzp(""), clerktest.WithClaims(map[string]any{"iss": issuer}))
	other := e.srv.SessionToken("user_1", clerktest.WithAzp("https://evil.example"), clerktest.WithClaims(map[string]any{"iss": issuer}))
	sdk, ours := e.both("/me", bearer(noAzp))
	if sdk.status != http.StatusOK || ours.status != http.StatusUnauthorized {
		t.Errorf("no azp: sdk %v, clerkauth %v", sdk, ours)
	}
	sdk, ours = e.both("/me", bearer(other))
	if sdk.status != http.StatusUnauthorized || ours.status != http.StatusUnauthorized {
		t.Errorf("another azp: sdk %v, clerkauth %v", sdk, ours)
	}
}

// When the keys cannot be downloaded the SDK answers 401, clerkauth 503
// with Retry-After.
func TestKeysUnavailable(t *testing.T) {
	e := newEnv(t)
	e.srv.SetJWKSStatus(http.StatusServiceUnavailable)
	e.srv.RotateKey(false) // a kid nobody has cached
	tok := e.token("user_1")
	sdk := serve(e.sdk, "/me", bearer(tok))
	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	bearer(tok)(req)
	rec := httptest.NewRecorder()
	e.ours.ServeHTTP(rec, req)
	if sdk.status != http.StatusUnauthorized || rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("sdk %v, clerkauth %d (Retry-After %q)", sdk, rec.Code, rec.Header().Get("Retry-After"))
	}
}
