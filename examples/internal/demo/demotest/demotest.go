// Package demotest is the test suite every example runs: the same routes
// with the same answers, whatever the router, against a real clerktest
// instance.
package demotest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/examples/internal/demo"
	"github.com/golang-jwt/jwt/v5"
)

// Example is what an example program gives its tests.
type Example struct {
	// NewHandler builds the example's routes around mw.
	NewHandler func(mw *clerkauth.Middleware, logger *slog.Logger) http.Handler
	// Main is the program's run function.
	Main func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// IsolateEnv blanks the CLERK_* variables of the real environment, which
// clerkauth falls back to for empty options.
func IsolateEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{"CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_API_URL", "CLERK_WEBHOOK_SIGNING_SECRET"} {
		t.Setenv(name, "")
	}
}

// Start serves the example's handler against opts and returns its URL.
func (ex Example) Start(t *testing.T, opts clerkauth.Options) (string, *clerkauth.Middleware) {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	ts := httptest.NewServer(ex.NewHandler(mw, opts.Logger))
	t.Cleanup(ts.Close)
	return ts.URL, mw
}

// Get requests url with the bearer token tok ("" for none) and cookies,
// and returns the status and the body without surrounding space.
func Get(t *testing.T, url, tok string, cookies ...*http.Cookie) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// Routes checks every route, signed in and out.
func (ex Example) Routes(t *testing.T) {
	IsolateEnv(t)
	srv := clerktest.New(t)
	srv.AddUser(clerktest.User{ID: "user_1", FirstName: "Ada", Email: "ada@example.com"})
	opts := srv.Options()
	opts.AuthorizedParties = []string{clerktest.DefaultAuthorizedParty}
	base, mw := ex.Start(t, opts)

	user := srv.SessionToken("user_1")
	admin := srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "admin", "org:admin:access"))
	member := srv.SessionToken("user_1", clerktest.WithOrg("org_1", "acme", "member", "org:reports:read"))
	expired := srv.SessionToken("user_1", clerktest.WithExpired())
	otherSite := srv.SessionToken("user_1", clerktest.WithAzp("https://evil.example"))
	stranger := srv.SessionToken("user_404")
	const unauthorized = `{"error":"Not authenticated"}`

	tests := []struct {
		name     string
		path     string
		tok      string
		cookies  []*http.Cookie
		wantCode int
		wantBody string // exact, when not ""
		check    func(t *testing.T, body string)
	}{
		{name: "public signed out", path: "/api/public", wantCode: 200, wantBody: `{"signedIn":false,"userId":""}`},
		{name: "public signed in", path: "/api/public", tok: user, wantCode: 200, wantBody: `{"signedIn":true,"userId":"user_1"}`},
		{name: "protected", path: "/api/protected", tok: user, wantCode: 200, wantBody: `{"userId":"user_1"}`},
		{name: "protected with cookies", path: "/api/protected", cookies: srv.SessionCookies(user), wantCode: 200, wantBody: `{"userId":"user_1"}`},
		{name: "protected signed out", path: "/api/protected", wantCode: 401, wantBody: unauthorized},
		{name: "protected expired", path: "/api/protected", tok: expired, wantCode: 401, wantBody: unauthorized},
		{name: "protected other site", path: "/api/protected", tok: otherSite, wantCode: 401, wantBody: unauthorized},
		{name: "protected forged", path: "/api/protected", tok: user[:len(user)-4] + "AAAA", wantCode: 401, wantBody: unauthorized},
		{name: "token", path: "/api/token", tok: user, wantCode: 200, check: func(t *testing.T, body string) {
			var got struct{ Token string }
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			// A template token of the instance: signed by its key, for the user.
			claims := jwt.MapClaims{}
			if _, err := jwt.ParseWithClaims(got.Token, claims, mw.Keyfunc()); err != nil {
				t.Fatalf("template token: %v", err)
			}
			if sub, _ := claims.GetSubject(); sub != "user_1" {
				t.Errorf("template token sub = %q, want user_1", sub)
			}
		}},
		{name: "token signed out", path: "/api/token", wantCode: 401, wantBody: unauthorized},
		{name: "user", path: "/api/user", tok: user, wantCode: 200, check: func(t *testing.T, body string) {
			want := `{"id":"user_1","firstName":"Ada","lastName":"","email":"ada@example.com","imageUrl":"https://img.clerk.com/default-avatar"}`
			if body != want {
				t.Errorf("body %s, want %s", body, want)
			}
		}},
		{name: "user signed out", path: "/api/user", wantCode: 200, wantBody: "null"},
		{name: "user unknown to clerk", path: "/api/user", tok: stranger, wantCode: 404, wantBody: `{"error":"Not found"}`},
		{name: "admin", path: "/api/admin", tok: admin, wantCode: 200, wantBody: `{"orgId":"org_1","userId":"user_1"}`},
		{name: "admin without permission", path: "/api/admin", tok: member, wantCode: 403, wantBody: `{"error":"Forbidden"}`},
		{name: "admin without org", path: "/api/admin", tok: user, wantCode: 403, wantBody: `{"error":"Forbidden"}`},
		{name: "admin signed out", path: "/api/admin", wantCode: 401, wantBody: unauthorized},
		{name: "unknown route", path: "/api/nope", tok: user, wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := Get(t, base+tt.path, tt.tok, tt.cookies...)
			if code != tt.wantCode {
				t.Fatalf("GET %s: %d %s, want %d", tt.path, code, body, tt.wantCode)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("GET %s: body %s, want %s", tt.path, body, tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
	t.Run("webhooks", func(t *testing.T) { ex.webhooks(t, srv, mw, user) })
}

// webhooks checks POST /webhooks/clerk as Serve mounts it in front of the
// example's routes: deliveries signed by the instance are verified and
// logged, the rest refused.
func (ex Example) webhooks(t *testing.T, srv *clerktest.Server, mw *clerkauth.Middleware, user string) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ts := httptest.NewServer(demo.WithWebhooks(ex.NewHandler(mw, logger), srv.WebhookSecret(), logger))
	t.Cleanup(ts.Close)
	url := ts.URL + demo.WebhookPath
	other := clerktest.New(t)

	signed := func(body string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header = srv.WebhookHeaders("", time.Now(), []byte(body))
		return req
	}
	tests := []struct {
		name     string
		req      *http.Request
		wantCode int
		wantLog  string
	}{
		{"user.created", srv.WebhookRequest(url, "user.created", clerktest.User{ID: "user_1", Email: "ada@example.com"}), 204,
			"msg=webhook type=user.created id=msg_"},
		{"session.created", srv.WebhookRequest(url, "session.created", map[string]string{"id": "sess_1", "user_id": "user_7"}), 204,
			"type=session.created"},
		{"unsigned", func() *http.Request {
			r := srv.WebhookRequest(url, "user.deleted", map[string]any{"id": "user_1", "deleted": true})
			r.Header.Del("svix-signature")
			return r
		}(), 401, ""},
		{"tampered", func() *http.Request {
			r := srv.WebhookRequest(url, "user.created", clerktest.User{ID: "user_1"})
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(string(b), "user_1", "user_2", 1)))
			return r
		}(), 401, ""},
		{"another instance's signature", other.WebhookRequest(url, "user.created", clerktest.User{ID: "user_1"}), 401, ""},
		{"signed, not JSON", signed("not json"), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("POST %s: %d, want %d", demo.WebhookPath, resp.StatusCode, tt.wantCode)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
	for _, want := range []string{"type=user.created id=msg_", "user=user_1\n", "type=session.created", "user=user_7\n"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "msg=webhook "); n != 2 {
		t.Errorf("%d events logged, want 2:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), strings.TrimPrefix(srv.WebhookSecret(), "whsec_")) {
		t.Error("logs contain the webhook secret")
	}
	// The example's own routes are still served behind the webhook route.
	if code, body := Get(t, ts.URL+"/api/protected", user); code != 200 {
		t.Errorf("GET /api/protected behind WithWebhooks: %d %s", code, body)
	}
}

// JWTKeyOnly checks that without a secret key (CLERK_JWT_KEY only) tokens
// verify with no network, and the routes that need the Backend API say so.
func (ex Example) JWTKeyOnly(t *testing.T) {
	IsolateEnv(t)
	srv := clerktest.New(t)
	base, _ := ex.Start(t, clerkauth.Options{JWTKey: srv.PublicKeyPEM()})
	tok := srv.SessionToken("user_1")
	tests := []struct {
		path     string
		wantCode int
	}{
		{"/api/protected", 200},
		{"/api/token", 501},
		{"/api/user", 501},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if code, body := Get(t, base+tt.path, tok); code != tt.wantCode {
				t.Errorf("GET %s: %d %s, want %d", tt.path, code, body, tt.wantCode)
			}
		})
	}
	if n := srv.Requests("/v1/jwks"); n != 0 {
		t.Errorf("%d JWKS requests with a PEM key, want 0", n)
	}
}

// Run runs the program itself with no CLERK_* key, pastes each curl
// command it prints, and stops it as SIGINT would.
func (ex Example) Run(t *testing.T) {
	IsolateEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		getenv := func(k string) string { return map[string]string{"ADDR": "127.0.0.1:0"}[k] }
		err := ex.Main(ctx, nil, getenv, pw, &stderr)
		pw.CloseWithError(io.ErrUnexpectedEOF)
		done <- err
	}()

	// Every route gets the answer the comment above its command promises.
	want := map[string]int{
		"# /api/public, signed out":             200,
		"# /api/protected, signed out":          401,
		"# /api/protected, as user_demo (user)": 200,
		"# /api/token, as user_demo (user)":     200,
		"# /api/user, as user_demo (user)":      200,
		"# /api/admin, as user_demo (user)":     403,
		"# /api/admin, as user_demo (admin)":    200,
	}
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	var comment string
	for len(want) > 0 && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			comment = line
			continue
		}
		if !strings.HasPrefix(line, "curl ") {
			continue
		}
		wantCode, ok := want[comment]
		if !ok {
			t.Fatalf("unexpected command after %q", comment)
		}
		delete(want, comment)
		url, tok := parseCurl(t, line)
		if code, body := Get(t, url, tok); code != wantCode {
			t.Errorf("%s: %d %s, want %d", comment, code, body, wantCode)
		}
	}
	if len(want) > 0 {
		t.Fatalf("no command printed for %v (err %v); stderr:\n%s", want, sc.Err(), stderr.String())
	}
	go io.Copy(io.Discard, pr)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context was canceled")
	}
	logs := stderr.String()
	for _, s := range []string{"msg=listening", `msg="shutting down"`, "path=/api/admin status=403 user=user_demo"} {
		if !strings.Contains(logs, s) {
			t.Errorf("logs lack %q:\n%s", s, logs)
		}
	}
	if strings.Contains(logs, "eyJ") {
		t.Errorf("logs contain a token:\n%s", logs)
	}
}

// parseCurl reads back the URL and bearer token of a printed command:
// curl -i [-H 'Authorization: Bearer TOKEN'] URL.
func parseCurl(t *testing.T, line string) (url, tok string) {
	t.Helper()
	fields := strings.Fields(line)
	url = fields[len(fields)-1]
	if _, rest, ok := strings.Cut(line, "'Authorization: Bearer "); ok {
		tok, _, _ = strings.Cut(rest, "'")
	}
	return url, tok
}

// RunBadFlag checks that a bad flag is an error.
func (ex Example) RunBadFlag(t *testing.T) {
	var out, errOut syncBuffer
	if err := ex.Main(context.Background(), []string{"-nope"}, func(string) string { return "" }, &out, &errOut); err == nil {
		t.Fatal("run -nope: nil error")
	}
}

// RunHelp checks that -h prints a clean usage (one default, no "flag:
// help requested") and is not an error, so that the program exits 0.
func (ex Example) RunHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}} {
		var out, errOut syncBuffer
		if err := ex.Main(context.Background(), args, func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("run %q: %v, want nil (exit 0)", args, err)
		}
		help := errOut.String()
		if !strings.HasPrefix(help, "usage: ") || !strings.Contains(help, "-addr address") ||
			strings.Count(help, "default") != 1 || !strings.Contains(help, `(default ":8080")`) || strings.Contains(help, "flag:") {
			t.Errorf("run %q: usage\n%s", args, help)
		}
		if out.String() != "" {
			t.Errorf("run %q wrote to stdout: %q", args, out.String())
		}
	}
}

// syncBuffer is a strings.Builder safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// KeysUnavailable checks that during a Clerk outage the protected routes
// answer 503 (a server fault, which a frontend should not take for a
// sign-out), not 401, and the public ones still serve.
func (ex Example) KeysUnavailable(t *testing.T) {
	IsolateEnv(t)
	srv := clerktest.New(t)
	srv.SetJWKSStatus(http.StatusServiceUnavailable)
	base, _ := ex.Start(t, srv.Options())
	tok := srv.SessionToken("user_1")
	tests := []struct {
		path, wantBody string
		wantCode       int
	}{
		{"/api/protected", `{"error":"Authentication unavailable"}`, 503},
		{"/api/public", `{"signedIn":false,"userId":""}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if code, body := Get(t, base+tt.path, tok); code != tt.wantCode || body != tt.wantBody {
				t.Errorf("GET %s: %d %s, want %d %s", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}
