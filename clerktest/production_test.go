package clerktest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clerkauth/clerkauth/clerktest"
)

func TestProductionInstance(t *testing.T) {
	srv := clerktest.New(t, clerktest.WithProductionInstance())
	if !strings.HasPrefix(srv.PublishableKey(), "pk_live_") || !strings.HasPrefix(srv.SecretKey(), "sk_live_") {
		t.Fatalf("keys %s..., %s...", srv.PublishableKey()[:8], srv.SecretKey()[:8])
	}
	for _, c := range srv.SessionCookies(srv.SessionToken("user_1")) {
		if strings.HasPrefix(c.Name, "__clerk_db_jwt") {
			t.Fatalf("a production browser has no dev-browser cookie: %s", c.Name)
		}
	}
	// The handshake gives the session cookies, and no dev-browser cookie.
	srv.AddUser(clerktest.User{ID: "user_1", SessionOptions: []clerktest.TokenOption{
		clerktest.WithOrg("org_1", "acme", "admin", "org:settings:manage"), clerktest.WithPlans("pro")}})
	directives := handshake(t, srv, srv.SignIn("user_1"))
	var session string
	for _, d := range directives {
		if strings.HasPrefix(d, "__clerk_db_jwt") {
			t.Fatalf("dev-browser directive on a production instance: %s", d)
		}
		if v, ok := strings.CutPrefix(d, "__session="); ok {
			session, _, _ = strings.Cut(v, ";")
		}
	}
	// User.SessionOptions shape the token of a session begun by signing in.
	var claims struct {
		O   map[string]any `json:"o"`
		Pla string         `json:"pla"`
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(session+"..", ".")[1])
	if err := json.Unmarshal(raw, &claims); err != nil || claims.O["id"] != "org_1" || claims.O["rol"] != "admin" || claims.Pla != "u:pro,o:free_org" {
		t.Fatalf("session token claims %s (%v)", raw, err)
	}
}

// handshake runs GET /v1/client/handshake (format=token) for the browser
// holding cookie and returns the Set-Cookie directives of its answer.
func handshake(t *testing.T, srv *clerktest.Server, cookie *http.Cookie) []string {
	t.Helper()
	q := url.Values{"redirect_url": {"http://app.test/"}, "format": {"token"}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/client/handshake?"+q.Encode(), nil)
	req.AddCookie(cookie)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusTemporaryRedirect || err != nil {
		t.Fatalf("handshake: %d %v", resp.StatusCode, err)
	}
	tok := loc.Query().Get("__clerk_handshake")
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok+"..", ".")[1])
	var payload struct {
		Handshake []string `json:"handshake"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil || len(payload.Handshake) == 0 {
		t.Fatalf("handshake token payload %s: %v", raw, err)
	}
	return payload.Handshake
}
