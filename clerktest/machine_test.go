package clerktest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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

// jwtParts decodes the header and claims of a compact JWT.
func jwtParts(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestMachineJWTs(t *testing.T) {
	srv := clerktest.New(t)
	opts := srv.Options()
	opts.AcceptsToken = []string{clerkauth.TokenTypeM2M, clerkauth.TokenTypeOAuth}
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)

	m2m := srv.M2MJWT(clerktest.MachineToken{Subject: "mch_worker", Scopes: []string{"mch_api", "mch_db"},
		Claims: map[string]any{"region": "eu"}, ExpiresAt: exp})
	h, c := jwtParts(t, m2m)
	if h["typ"] != "JWT" || h["cat"] != "cl_B7d4PD333AAA" || h["kid"] != srv.KeyID() || c["sub"] != "mch_worker" ||
		c["scopes"] != "mch_api mch_db" || fmt.Sprint(c["aud"]) != "[mch_api mch_db]" || c["iss"] != srv.Issuer() ||
		!strings.HasPrefix(c["jti"].(string), "mt_") || c["nbf"].(float64) != c["iat"].(float64)-10 || c["exp"].(float64) != float64(exp.Unix()) {
		t.Fatalf("M2M JWT header %v claims %v", h, c)
	}
	a, err := mw.AuthenticateToken(t.Context(), m2m)
	// Claims is Clerk's extractCustomClaims: every member but iss, sub,
	// exp, nbf, iat and jti.
	if err != nil || a.TokenType != clerkauth.TokenTypeM2M || a.Machine.MachineID != "mch_worker" ||
		!a.Has(clerkauth.Check{Scope: "mch_db"}) || string(a.Machine.Claims) != `{"aud":["mch_api","mch_db"],"region":"eu","scopes":"mch_api mch_db"}` || !a.Expiry.Equal(exp) {
		t.Fatalf("M2M JWT: %+v %+v, %v", a, a.Machine, err)
	}

	oauth := srv.OAuthJWT(clerktest.MachineToken{Subject: "user_2", ClientID: "client_app", Scopes: []string{"email", "profile"}})
	h, c = jwtParts(t, oauth)
	if h["typ"] != "at+jwt" || h["cat"] != nil || c["client_id"] != "client_app" || c["scope"] != "email profile" ||
		!strings.HasPrefix(c["jti"].(string), "oat_") || c["exp"].(float64)-c["iat"].(float64) != 3600 {
		t.Fatalf("OAuth JWT header %v claims %v", h, c)
	}
	a, err = mw.AuthenticateToken(t.Context(), oauth)
	if err != nil || a.TokenType != clerkauth.TokenTypeOAuth || a.UserID != "user_2" || a.Machine.ClientID != "client_app" ||
		!a.Has(clerkauth.Check{Scope: "profile"}) {
		t.Fatalf("OAuth JWT: %+v, %v", a, err)
	}
	if n := srv.Requests("/m2m_tokens/verify") + srv.Requests("/oauth_applications/access_tokens/verify"); n != 0 {
		t.Fatalf("JWTs are verified locally, but the verify endpoints were called %d times", n)
	}

	// Defaults: a machine and a user of their own, no scopes.
	_, c = jwtParts(t, srv.M2MJWT(clerktest.MachineToken{}))
	if !strings.HasPrefix(c["sub"].(string), "mch_") || c["scopes"] != nil || c["aud"] != nil {
		t.Fatalf("default M2M claims %v", c)
	}
	_, c = jwtParts(t, srv.OAuthJWT(clerktest.MachineToken{}))
	if !strings.HasPrefix(c["sub"].(string), "user_") || !strings.HasPrefix(c["client_id"].(string), "client_") {
		t.Fatalf("default OAuth claims %v", c)
	}

	// What Clerk never mints panics, saying why.
	for name, f := range map[string]func(){
		"user subject":   func() { srv.M2MJWT(clerktest.MachineToken{Subject: "user_1"}) },
		"revoked":        func() { srv.OAuthJWT(clerktest.MachineToken{Revoked: true}) },
		"spaced scope":   func() { srv.M2MJWT(clerktest.MachineToken{Scopes: []string{"a b"}}) },
		"reserved claim": func() { srv.OAuthJWT(clerktest.MachineToken{Claims: map[string]any{"scope": "x"}}) },
		"reserved exp":   func() { srv.M2MJWT(clerktest.MachineToken{Claims: map[string]any{"exp": 1}}) },
	} {
		func() {
			defer func() {
				if msg := fmt.Sprint(recover()); !strings.HasPrefix(msg, "clerktest: ") {
					t.Errorf("%s: panic %q", name, msg)
				}
			}()
			f()
		}()
	}

	// Sign mints anything; a hand-made M2M token with scopes as an array
	// is refused with a message saying how Clerk writes them.
	bad := srv.Sign(map[string]any{"alg": "RS256", "kid": srv.KeyID(), "typ": "JWT", "cat": "cl_B7d4PD333AAA"},
		map[string]any{"sub": "mch_1", "iss": srv.Issuer(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
			"scopes": []string{"mch_a", "mch_b"}})
	_, err = mw.AuthenticateToken(t.Context(), bad)
	if reasonOf(err) != reason.TokenVerificationFailed || !strings.Contains(err.Error(), `claim "scopes" is not a string`) ||
		!strings.Contains(err.Error(), "space-separated") {
		t.Fatalf("scopes as an array: %v", err)
	}
}

func TestSetMachineVerifyStatus(t *testing.T) {
	srv := clerktest.New(t)
	opts := srv.Options()
	opts.AcceptsToken = []string{clerkauth.TokenTypeAPIKey}
	opts.MachineTokenCacheTTL = -1
	mw, err := clerkauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	key := srv.AddAPIKey(clerktest.MachineToken{Subject: "user_1"})

	for _, tc := range []struct {
		code int
		want error
	}{
		{500, clerkauth.ErrBackendUnavailable},
		{404, clerkauth.ErrTokenInvalid},
		{200, nil},
	} {
		srv.SetMachineVerifyStatus(tc.code, 0)
		_, err := mw.AuthenticateToken(t.Context(), key)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("status %d: %v, want %v", tc.code, err, tc.want)
		}
		if tc.code == 500 {
			// The middleware's breaker now holds calls back for a while:
			// a fresh middleware sees the next answers.
			mw.Close()
			if mw, err = clerkauth.New(opts); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The raw answers, in Clerk's shapes.
	post := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api_keys/verify", strings.NewReader(`{"secret":"`+key+`"}`))
		req.Header.Set("Authorization", "Bearer "+srv.SecretKey())
		return http.DefaultClient.Do(req)
	}
	for code, want := range map[int]string{401: "clerk_key_invalid", 404: "resource_not_found", 429: "too_many_requests", 502: "internal_clerk_error"} {
		srv.SetMachineVerifyStatus(code, 0)
		resp, err := post(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code || !strings.Contains(string(body), `"code":"`+want+`"`) || code == 429 && resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("%d: %d %s", code, resp.StatusCode, body)
		}
	}

	// A delay that outlives the client's deadline: the client gives up,
	// and the server's answer ends with it.
	srv.SetMachineVerifyStatus(0, time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := post(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed answer: %v", err)
	}
	// Close ends a delayed answer still waiting: it does not wait an hour.
	before := srv.Requests("/api_keys/verify")
	done := make(chan error, 1)
	go func() {
		resp, err := post(context.Background())
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for srv.Requests("/api_keys/verify") == before {
		time.Sleep(time.Millisecond)
	}
	srv.Close()
	<-done
	mw.Close()
}
