package clerktest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/internal/reason"
)

func TestMachineTokens(t *testing.T) {
	srv := clerktest.New(t)
	opts := srv.Options()
	opts.AcceptsToken = []string{clerkauth.TokenTypeAny}
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()

	apiKey := srv.AddAPIKey(clerktest.MachineToken{Subject: "user_1", Name: "ci", Scopes: []string{"read"},
		Claims: map[string]any{"team": "a"}})
	m2m := srv.AddM2MToken(clerktest.MachineToken{Subject: "mch_worker", Scopes: []string{"mch_api"},
		ExpiresAt: time.Now().Add(time.Hour)})
	oauth := srv.AddOAuthToken(clerktest.MachineToken{Subject: "user_2", ClientID: "cli_1", Scopes: []string{"email"},
		ExpiresAt: time.Now().Add(time.Hour)})
	revoked := srv.AddAPIKey(clerktest.MachineToken{Subject: "user_1", Revoked: true})
	expired := srv.AddM2MToken(clerktest.MachineToken{Subject: "mch_worker", ExpiresAt: time.Now().Add(-time.Minute)})

	cases := []struct {
		name, tok, kind, reason string
		scope                   string
	}{
		{"api key", apiKey, clerkauth.TokenTypeAPIKey, "", "read"},
		{"m2m", m2m, clerkauth.TokenTypeM2M, "", "mch_api"},
		{"oauth", oauth, clerkauth.TokenTypeOAuth, "", "email"},
		{"revoked", revoked, "", reason.TokenInvalid, ""},
		{"expired", expired, "", reason.TokenInvalid, ""}, // Clerk: 404, token-invalid
		{"unknown", "ak_unknown", "", reason.TokenInvalid, ""},
		{"api key at the m2m endpoint", "mt" + apiKey[2:], "", reason.TokenInvalid, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := mw.AuthenticateToken(t.Context(), tc.tok)
			if tc.reason != "" {
				if reasonOf(err) != tc.reason {
					t.Fatalf("got %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil || a.TokenType != tc.kind || !a.Has(clerkauth.Check{Scope: tc.scope}) {
				t.Fatalf("got %+v, %v", a, err)
			}
		})
	}
	if srv.Requests("/api_keys/verify") == 0 || srv.Requests("/m2m_tokens/verify") == 0 ||
		srv.Requests("/oauth_applications/access_tokens/verify") == 0 {
		t.Fatal("verify endpoints not called")
	}

	// Revoked and expired tokens are answered 404 as by Clerk, and a real
	// middleware signs them out with authenticateRequest's reason.
	private := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler ran") }))
	for name, tok := range map[string]string{"revoked": revoked, "expired": expired} {
		req := httptest.NewRequest("GET", "/private", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		private.ServeHTTP(rec, req)
		if rec.Code != 401 || rec.Header().Get("X-Clerk-Auth-Reason") != reason.TokenInvalid {
			t.Fatalf("%s: %d %q", name, rec.Code, rec.Header().Get("X-Clerk-Auth-Reason"))
		}
	}
	for _, tc := range []struct {
		path, field, tok string
	}{{"/api_keys/verify", "secret", revoked}, {"/m2m_tokens/verify", "token", expired}} {
		req, _ := http.NewRequest("POST", opts.APIURL+tc.path, strings.NewReader(`{"`+tc.field+`":"`+tc.tok+`"}`))
		req.Header.Set("Authorization", "Bearer "+opts.SecretKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(body), `"code":"resource_not_found"`) {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, body)
		}
	}

	// A route for machines only.
	h := mw.AcceptsToken(clerkauth.TokenTypeM2M).RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(clerkauth.GetAuth(r).Machine.MachineID))
	}))
	for tok, want := range map[string]int{m2m: 200, apiKey: 401, srv.SessionToken("user_1"): 401} {
		req := httptest.NewRequest("GET", "/internal", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("machine route: %d, want %d", rec.Code, want)
		}
	}
}
