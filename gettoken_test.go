package clerkauth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testClock is a settable clock shared by the middleware and the fake API.
type testClock struct{ nanos atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.nanos.Store(time.Now().UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *testClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// tokenEnv is a signed-in session and a fake Backend API that mints
// template tokens signed with the instance key, as Clerk does.
type tokenEnv struct {
	api     *fakeAPI
	mw      *Middleware
	auth    *Auth
	session string // the verified session token
	clock   *testClock
	key     *rsa.PrivateKey // the instance's signing key
	minted  atomic.Int64
}

// newTokenEnv builds a Middleware over a PEM key and a fake Backend API,
// and authenticates a real session token for sess_2abc. opts may change
// the Options.
func newTokenEnv(t testing.TB, opts func(*Options)) *tokenEnv {
	t.Helper()
	key := clientTestRSAKey(t)
	env := &tokenEnv{clock: newTestClock(), key: key}
	env.api = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		env.mintTemplate(t, key, w, r)
	})
	o := Options{
		JWTKey:    clientTestPEM(t, &key.PublicKey),
		SecretKey: apiTestSecret,
		APIURL:    env.api.URL,
		Now:       env.clock.Now,
	}
	if opts != nil {
		opts(&o)
	}
	mw, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	env.mw = mw
	env.session, env.auth = env.signIn(t, nil)
	return env
}

// signIn authenticates a new session token of sess_2abc with the extra
// claims.
func (env *tokenEnv) signIn(t testing.TB, extra jwt.MapClaims) (string, *Auth) {
	t.Helper()
	now := env.clock.Now()
	claims := jwt.MapClaims{
		"sub": "user_2abc", "sid": "sess_2abc", "sts": "active", "v": 2,
		"iat": now.Unix(), "nbf": now.Unix() - 5, "exp": now.Add(time.Hour).Unix(),
		"azp": "https://app.example.com", "iss": "https://clerk.example.com",
	}
	for k, v := range extra {
		claims[k] = v
	}
	tok := signTestJWT(t, env.key, "cl_B7d4PD111AAA", claims)
	a, err := env.mw.AuthenticateToken(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, a
}

// mintTemplate answers POST /v1/sessions/{sid}/tokens[/{template}] like
// Clerk: a JWT of the template, with lifetime expires_in_seconds or 60s.
func (env *tokenEnv) mintTemplate(t testing.TB, key *rsa.PrivateKey, w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/sessions/sess_2abc/tokens")
	if r.Method != http.MethodPost || !ok {
		w.Header().Set("Clerk-Trace-Id", "trace_404")
		writeJSON(w, 404, `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}]}`)
		return
	}
	template := strings.TrimPrefix(rest, "/")
	if template == "missing" {
		writeJSON(w, 404, `{"errors":[{"message":"not found","long_message":"JWT template not found","code":"resource_not_found"}]}`)
		return
	}
	life := int64(60)
	if r.ContentLength > 0 {
		var body struct {
			ExpiresInSeconds *int64 `json:"expires_in_seconds"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ExpiresInSeconds == nil {
			writeJSON(w, 422, `{"errors":[{"message":"is invalid","code":"form_param_value_invalid"}]}`)
			return
		}
		life = *body.ExpiresInSeconds
	}
	now := env.clock.Now().Unix()
	n := env.minted.Add(1)
	tok := signTestJWT(t, key, "cl_B7d4PD222AAA", jwt.MapClaims{
		"sub": "user_2abc", "aud": "authenticated", "role": "authenticated", "tpl": template,
		"iat": now, "nbf": now - 5, "exp": now + life, "jti": fmt.Sprint("jti_", n),
	})
	writeJSON(w, 200, fmt.Sprintf(`{"object":"token","jwt":%q}`, tok))
}

func signTestJWT(t testing.TB, key *rsa.PrivateKey, cat string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "ins_test_key"
	tok.Header["cat"] = cat
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGetTokenWithoutTemplate(t *testing.T) {
	env := newTokenEnv(t, nil)
	got, err := env.auth.GetToken(context.Background())
	if err != nil || got != env.session {
		t.Fatalf("GetToken() = %.20q..., %v; want the session token", got, err)
	}
	if n := len(env.api.requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestGetTokenTemplate(t *testing.T) {
	tests := []struct {
		name     string
		opts     []GetTokenOption
		wantPath string
		wantBody string
		wantLife int64
	}{
		{"template", []GetTokenOption{WithTemplate("supabase")}, "/v1/sessions/sess_2abc/tokens/supabase", "", 60},
		{"template and expiry", []GetTokenOption{WithTemplate("supabase"), WithExpiresIn(300 * time.Second)},
			"/v1/sessions/sess_2abc/tokens/supabase", `{"expires_in_seconds":300}`, 300},
		{"expiry alone", []GetTokenOption{WithExpiresIn(119500 * time.Millisecond)}, "/v1/sessions/sess_2abc/tokens", `{"expires_in_seconds":120}`, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTokenEnv(t, nil)
			got, err := env.auth.GetToken(context.Background(), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			calls := env.api.requests()
			if len(calls) != 1 {
				t.Fatalf("%d requests, want 1", len(calls))
			}
			c := calls[0]
			if c.Method != http.MethodPost || c.EscapedPath != tt.wantPath || c.Body != tt.wantBody {
				t.Errorf("request %s %s body %q, want POST %s body %q", c.Method, c.EscapedPath, c.Body, tt.wantPath, tt.wantBody)
			}
			checkAPIHeaders(t, c, defaultAPIVersion)
			var claims jwt.MapClaims
			if _, _, err := jwt.NewParser().ParseUnverified(got, &claims); err != nil {
				t.Fatalf("returned token: %v", err)
			}
			exp, _ := claims.GetExpirationTime()
			iat, _ := claims.GetIssuedAt()
			if life := exp.Unix() - iat.Unix(); life != tt.wantLife {
				t.Errorf("lifetime %d, want %d", life, tt.wantLife)
			}
			// The minted token verifies with the instance's keys.
			if _, err := jwt.Parse(got, env.mw.Keyfunc(), jwt.WithTimeFunc(env.clock.Now)); err != nil {
				t.Errorf("minted token does not verify: %v", err)
			}
		})
	}
}

func TestGetTokenCache(t *testing.T) {
	ctx := context.Background()
	supabase := WithTemplate("supabase")
	t.Run("second call served, expiry refetches", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		first, err := env.auth.GetToken(ctx, supabase)
		if err != nil {
			t.Fatal(err)
		}
		second, err := env.auth.GetToken(ctx, supabase)
		if err != nil || second != first {
			t.Fatalf("second call: %v, same token %v", err, second == first)
		}
		if n := len(env.api.requests()); n != 1 {
			t.Fatalf("%d requests after two calls, want 1", n)
		}
		env.clock.Advance(45 * time.Second) // 15s left: still served
		if tok, _ := env.auth.GetToken(ctx, supabase); tok != first || len(env.api.requests()) != 1 {
			t.Fatalf("at 45s: new token %v, %d requests", tok != first, len(env.api.requests()))
		}
		env.clock.Advance(6 * time.Second) // 9s left: within the 10s margin
		third, err := env.auth.GetToken(ctx, supabase)
		if err != nil || third == first {
			t.Fatalf("after expiry: %v, same token %v", err, third == first)
		}
		if n := len(env.api.requests()); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
	t.Run("keyed by template and expiry", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		calls := [][]GetTokenOption{
			{supabase}, {supabase, WithExpiresIn(300 * time.Second)}, {WithTemplate("hasura")}, {WithExpiresIn(300 * time.Second)},
			{supabase}, {supabase, WithExpiresIn(300 * time.Second)}, {WithTemplate("hasura")}, {WithExpiresIn(300 * time.Second)},
		}
		seen := map[string]bool{}
		for _, opts := range calls {
			tok, err := env.auth.GetToken(ctx, opts...)
			if err != nil {
				t.Fatal(err)
			}
			seen[tok] = true
		}
		if n := len(env.api.requests()); n != 4 || len(seen) != 4 {
			t.Fatalf("%d requests and %d distinct tokens, want 4 and 4", n, len(seen))
		}
	})
	t.Run("keyed by active organization", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		_, inOrg := env.signIn(t, jwt.MapClaims{"o": map[string]any{"id": "org_2xyz", "slg": "acme", "rol": "admin"}})
		if inOrg.OrgID != "org_2xyz" || inOrg.SessionID != env.auth.SessionID {
			t.Fatalf("second Auth: org %q session %q", inOrg.OrgID, inOrg.SessionID)
		}
		personal, err := env.auth.GetToken(ctx, supabase)
		if err != nil {
			t.Fatal(err)
		}
		org, err := inOrg.GetToken(ctx, supabase)
		if err != nil || org == personal {
			t.Fatalf("in the organization: %v, same token as without %v", err, org == personal)
		}
		if n := len(env.api.requests()); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
	t.Run("turned off", func(t *testing.T) {
		env := newTokenEnv(t, func(o *Options) { o.TemplateTokenCacheSize = -1 })
		for range 3 {
			if _, err := env.auth.GetToken(ctx, supabase); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(env.api.requests()); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
	})
	t.Run("errors not cached", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		for range 2 {
			_, err := env.auth.GetToken(ctx, WithTemplate("missing"))
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Errors[0].LongMessage != "JWT template not found" {
				t.Fatalf("err = %v, want the 404 APIError", err)
			}
		}
		if n := len(env.api.requests()); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		env := newTokenEnv(t, func(o *Options) { o.TemplateTokenCacheSize = 3 })
		for i := range 10 {
			if _, err := env.auth.GetToken(ctx, WithTemplate(fmt.Sprint("tpl", i))); err != nil {
				t.Fatal(err)
			}
		}
		if n := env.mw.Client().templates.Len(); n != 3 {
			t.Fatalf("cache holds %d entries, want 3", n)
		}
	})
	t.Run("concurrent calls share one request", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		var wg sync.WaitGroup
		toks := make([]string, 16)
		errs := make([]error, len(toks))
		for i := range toks {
			wg.Go(func() { toks[i], errs[i] = env.auth.GetToken(ctx, supabase) })
		}
		wg.Wait()
		for i := range toks {
			if errs[i] != nil || toks[i] != toks[0] {
				t.Fatalf("call %d: %v, same token %v", i, errs[i], toks[i] == toks[0])
			}
		}
		if n := len(env.api.requests()); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})
}

func TestGetTokenRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("signed out", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		out, _ := env.mw.AuthenticateToken(ctx, env.session[:len(env.session)-4]+"AAAA")
		noMW := GetAuth(httptest.NewRequest("GET", "/", nil))
		for name, a := range map[string]*Auth{"bad signature": out, "no middleware": noMW, "nil": nil} {
			for _, opts := range [][]GetTokenOption{nil, {WithTemplate("supabase")}} {
				if tok, err := a.GetToken(ctx, opts...); err == nil || err.Error() != a.Err().Error() || tok != "" {
					t.Errorf("%s, %d options: %q, %v; want the Auth's own error %v", name, len(opts), tok, err, a.Err())
				}
			}
		}
		if n := len(env.api.requests()); n != 0 {
			t.Errorf("%d requests, want none", n)
		}
	})
	t.Run("no secret key", func(t *testing.T) {
		t.Setenv("CLERK_SECRET_KEY", "")
		env := newTokenEnv(t, func(o *Options) { o.SecretKey = "" })
		if _, err := env.auth.GetToken(ctx, WithTemplate("supabase")); !errors.Is(err, ErrNoSecretKey) {
			t.Errorf("err = %v, want ErrNoSecretKey", err)
		}
		if tok, err := env.auth.GetToken(ctx); err != nil || tok != env.session {
			t.Errorf("without a template: %v", err)
		}
		if n := len(env.api.requests()); n != 0 {
			t.Errorf("%d requests, want none", n)
		}
	})
	t.Run("negative expiry", func(t *testing.T) {
		env := newTokenEnv(t, nil)
		if _, err := env.auth.GetToken(ctx, WithTemplate("supabase"), WithExpiresIn(-time.Millisecond)); err == nil {
			t.Error("no error for a negative expiry")
		}
		if n := len(env.api.requests()); n != 0 {
			t.Errorf("%d requests, want none", n)
		}
	})
}

func TestCacheUntil(t *testing.T) {
	enc := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct {
		name string
		jwt  string
		want int64 // Unix seconds of until; -1 for not cacheable
	}{
		{"60s token", enc(`{"iat":1000,"exp":1060}`), 1050},
		{"20s token: a quarter of its life", enc(`{"iat":1000,"exp":1020}`), 1015},
		{"no iat", enc(`{"exp":1060}`), 1050},
		{"float exp", enc(`{"iat":1000,"exp":1060.9}`), 1050},
		{"no exp", enc(`{"iat":1000}`), -1},
		{"string exp", enc(`{"exp":"1060"}`), -1},
		{"not JSON", enc(`nope`), -1},
		{"not a JWT", "opaque-token", -1},
		{"bad base64", "a.!!!.c", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			until, ok := cacheUntil(tt.jwt)
			if tt.want < 0 {
				if ok {
					t.Errorf("cacheable until %v, want not cacheable", until)
				}
				return
			}
			if !ok || until.Unix() != tt.want {
				t.Errorf("until = %d (ok %v), want %d", until.Unix(), ok, tt.want)
			}
		})
	}
}

// BenchmarkGetTokenCached is a handler calling GetToken with a template on
// every request, once the token is cached.
func BenchmarkGetTokenCached(b *testing.B) {
	env := newTokenEnv(b, nil)
	ctx := context.Background()
	opt := WithTemplate("supabase")
	if _, err := env.auth.GetToken(ctx, opt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := env.auth.GetToken(ctx, opt); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if n := len(env.api.requests()); n != 1 {
		b.Fatalf("%d requests, want 1", n)
	}
}

// BenchmarkGetTokenUncached calls the (local) Backend API every time.
func BenchmarkGetTokenUncached(b *testing.B) {
	env := newTokenEnv(b, func(o *Options) { o.TemplateTokenCacheSize = -1 })
	ctx := context.Background()
	opt := WithTemplate("supabase")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.auth.GetToken(ctx, opt); err != nil {
			b.Fatal(err)
		}
	}
}
