package clerkauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/instance"
)

const apiTestSecret = "sk_test_c2VjcmV0LWtleS1mb3ItdGVzdHM"

// apiCall is one request the fake Backend API received.
type apiCall struct {
	Method      string
	Path        string // decoded
	EscapedPath string
	Header      http.Header
	Body        string
}

// fakeAPI is an httptest Backend API that records every request and
// answers with the handler the test sets.
type fakeAPI struct {
	*httptest.Server
	mu     sync.Mutex // guards calls and answer
	calls  []apiCall
	answer func(w http.ResponseWriter, r *http.Request, n int) // n counts from 1
}

func newFakeAPI(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, n int)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, apiCall{r.Method, r.URL.Path, r.URL.EscapedPath(), r.Header.Clone(), string(body)})
		r.Body = io.NopCloser(bytes.NewReader(body))
		n, answer := len(f.calls), f.answer
		f.mu.Unlock()
		answer(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) requests() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

// checkAPIHeaders fails unless the request carries every header the
// Backend API needs.
func checkAPIHeaders(t testing.TB, c apiCall, wantVersion string) {
	t.Helper()
	want := map[string]string{
		"Authorization":     "Bearer " + apiTestSecret,
		"Content-Type":      "application/json",
		"Clerk-Api-Version": wantVersion,
		"User-Agent":        "clerkauth-go/" + instance.Version,
	}
	for k, v := range want {
		if got := c.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", c.Method, c.EscapedPath, k, got, v)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func newAPITestClient(t testing.TB, apiURL string) *Client {
	t.Helper()
	c, err := NewClient(Options{SecretKey: apiTestSecret, APIURL: apiURL})
	if err != nil {
		t.Fatal(err)
	}
	c.retry.Base, c.retry.Cap = time.Millisecond, 4*time.Millisecond
	return c
}

// realisticUser is a user as GET /v1/users/{id} returns it (API version
// 2025-04-10), with every field the User type decodes.
const realisticUser = `{
  "id": "user_2x4Q1bXYZabc",
  "object": "user",
  "username": "ada",
  "first_name": "Ada",
  "last_name": "Lovelace",
  "image_url": "https://img.clerk.com/eyJ0eXBlIjoicHJveHkifQ",
  "has_image": true,
  "primary_email_address_id": "idn_2email2",
  "primary_phone_number_id": "idn_2phone1",
  "primary_web3_wallet_id": null,
  "password_enabled": true,
  "two_factor_enabled": false,
  "totp_enabled": false,
  "backup_code_enabled": false,
  "email_addresses": [
    {"id": "idn_2email1", "object": "email_address", "email_address": "old@example.com", "reserved": false,
     "verification": {"status": "unverified", "strategy": "email_code", "attempts": null, "expire_at": null},
     "linked_to": [], "created_at": 1700000000000, "updated_at": 1700000000000},
    {"id": "idn_2email2", "object": "email_address", "email_address": "ada@example.com", "reserved": false,
     "verification": {"status": "verified", "strategy": "email_code", "attempts": 1, "expire_at": 1700000600000},
     "linked_to": [{"type": "oauth_google", "id": "idn_2google"}], "created_at": 1700000000000, "updated_at": 1700000100000}
  ],
  "phone_numbers": [
    {"id": "idn_2phone1", "object": "phone_number", "phone_number": "+15555550100", "reserved_for_second_factor": false,
     "default_second_factor": false, "verification": {"status": "verified", "strategy": "phone_code", "attempts": 1, "expire_at": null},
     "linked_to": [], "backup_codes": null}
  ],
  "web3_wallets": [],
  "passkeys": [],
  "external_accounts": [],
  "saml_accounts": [],
  "public_metadata": {"plan": "pro", "seats": 3},
  "private_metadata": {"stripe_customer": "cus_123"},
  "unsafe_metadata": {},
  "external_id": "ext-42",
  "last_sign_in_at": 1718000000123,
  "banned": true,
  "locked": true,
  "lockout_expires_in_seconds": null,
  "verification_attempts_remaining": 100,
  "created_at": 1700000000000,
  "updated_at": 1718000000456,
  "delete_self_enabled": true,
  "create_organization_enabled": true,
  "last_active_at": 1718000000000,
  "legal_accepted_at": null
}`

func TestGetUser(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, realisticUser)
	})
	c := newAPITestClient(t, api.URL)
	u, err := c.GetUser(context.Background(), "user_2x4Q1bXYZabc")
	if err != nil {
		t.Fatal(err)
	}
	calls := api.requests()
	if len(calls) != 1 {
		t.Fatalf("%d requests, want 1", len(calls))
	}
	if calls[0].Method != http.MethodGet || calls[0].EscapedPath != "/v1/users/user_2x4Q1bXYZabc" || calls[0].Body != "" {
		t.Errorf("request = %s %s body %q", calls[0].Method, calls[0].EscapedPath, calls[0].Body)
	}
	checkAPIHeaders(t, calls[0], defaultAPIVersion)

	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", u.ID, "user_2x4Q1bXYZabc"},
		{"FirstName", u.FirstName, "Ada"},
		{"LastName", u.LastName, "Lovelace"},
		{"Username", u.Username, "ada"},
		{"ImageURL", u.ImageURL, "https://img.clerk.com/eyJ0eXBlIjoicHJveHkifQ"},
		{"HasImage", u.HasImage, true},
		{"ExternalID", u.ExternalID, "ext-42"},
		{"PrimaryEmailAddressID", u.PrimaryEmailAddressID, "idn_2email2"},
		{"PrimaryPhoneNumberID", u.PrimaryPhoneNumberID, "idn_2phone1"},
		{"PrimaryEmail", u.PrimaryEmail(), "ada@example.com"},
		{"len(EmailAddresses)", len(u.EmailAddresses), 2},
		{"EmailAddresses[1].Verification.Status", u.EmailAddresses[1].Verification.Status, "verified"},
		{"EmailAddresses[0].Verification.Strategy", u.EmailAddresses[0].Verification.Strategy, "email_code"},
		{"PhoneNumbers[0].PhoneNumber", u.PhoneNumbers[0].PhoneNumber, "+15555550100"},
		{"PhoneNumbers[0].ID", u.PhoneNumbers[0].ID, "idn_2phone1"},
		{"Banned", u.Banned, true},
		{"Locked", u.Locked, true},
		{"CreatedAt", u.CreatedAt.UnixMilli(), int64(1700000000000)},
		{"UpdatedAt", u.UpdatedAt.UnixMilli(), int64(1718000000456)},
		{"LastSignInAt", u.LastSignInAt.UnixMilli(), int64(1718000000123)},
		{"PublicMetadata", compactJSON(t, u.PublicMetadata), `{"plan":"pro","seats":3}`},
		{"PrivateMetadata", compactJSON(t, u.PrivateMetadata), `{"stripe_customer":"cus_123"}`},
		{"UnsafeMetadata", compactJSON(t, u.UnsafeMetadata), `{}`},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func compactJSON(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("metadata %q: %v", raw, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestUserNullFields(t *testing.T) {
	var u User
	err := json.Unmarshal([]byte(`{"id":"user_1","first_name":null,"last_name":null,"username":null,
		"primary_email_address_id":null,"email_addresses":[],"last_sign_in_at":null,"created_at":1700000000000}`), &u)
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "" || u.PrimaryEmail() != "" || !u.LastSignInAt.IsZero() || u.CreatedAt.IsZero() {
		t.Errorf("user = %+v", u)
	}
}

func TestAPIVersionHeader(t *testing.T) {
	tests := []struct {
		name   string
		option string
		env    string
		want   string
	}{
		{"default", "", "", defaultAPIVersion},
		{"env", "", "2026-05-12", "2026-05-12"},
		{"option wins over env", "2024-10-01", "2026-05-12", "2024-10-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CLERK_API_VERSION", tt.env)
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, http.StatusOK, `{"id":"user_1"}`)
			})
			c, err := NewClient(Options{SecretKey: apiTestSecret, APIURL: api.URL, APIVersion: tt.option})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetUser(context.Background(), "user_1"); err != nil {
				t.Fatal(err)
			}
			checkAPIHeaders(t, api.requests()[0], tt.want)
		})
	}
}

func TestAPIErrors(t *testing.T) {
	longBody := "<html>" + strings.Repeat("bad gateway ", 200) + "</html>"
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		wantCodes []string
		wantTrace string
		wantBody  string
	}{
		{
			name:      "404 resource_not_found",
			status:    404,
			body:      `{"errors":[{"message":"not found","long_message":"No user was found with id user_missing","code":"resource_not_found"}],"clerk_trace_id":"trace_body_1"}`,
			header:    map[string]string{"Clerk-Trace-Id": "trace_header_1"},
			wantCodes: []string{"resource_not_found"},
			wantTrace: "trace_body_1",
		},
		{
			name:      "401 authentication_invalid with meta and header trace",
			status:    401,
			body:      `{"errors":[{"message":"Invalid authentication","long_message":"Unable to authenticate the request, you need to supply an active API key","code":"authentication_invalid","meta":{"param_name":"Authorization"}},{"message":"second","code":"other"}]}`,
			header:    map[string]string{"Clerk-Trace-Id": "trace_header_2"},
			wantCodes: []string{"authentication_invalid", "other"},
			wantTrace: "trace_header_2",
		},
		{
			name:     "500 not Clerk JSON, echoing the secret",
			status:   500,
			body:     "upstream said: Bearer " + apiTestSecret + " " + longBody,
			wantBody: "upstream said: Bearer [secret key] <html>bad gateway",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tt.status, tt.body)
			})
			c := newAPITestClient(t, api.URL)
			_, err := c.GetUser(context.Background(), "user_missing")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.StatusCode != tt.status || apiErr.TraceID != tt.wantTrace {
				t.Errorf("status %d trace %q, want %d %q", apiErr.StatusCode, apiErr.TraceID, tt.status, tt.wantTrace)
			}
			if apiErr.Method != "GET" || apiErr.Path != "/v1/users/user_missing" {
				t.Errorf("Method/Path = %s %s", apiErr.Method, apiErr.Path)
			}
			var codes []string
			for _, d := range apiErr.Errors {
				codes = append(codes, d.Code)
			}
			if strings.Join(codes, ",") != strings.Join(tt.wantCodes, ",") {
				t.Errorf("codes = %v, want %v", codes, tt.wantCodes)
			}
			if tt.wantBody != "" && (!strings.HasPrefix(apiErr.Body, tt.wantBody) || len(apiErr.Body) > maxErrorBodyInMessage) {
				t.Errorf("Body = %q (%d bytes), want a prefix %q of at most %d bytes", apiErr.Body, len(apiErr.Body), tt.wantBody, maxErrorBodyInMessage)
			}
			if strings.Contains(err.Error(), apiTestSecret) {
				t.Errorf("error message contains the secret key: %s", err)
			}
			if len(apiErr.Errors) > 0 && !strings.Contains(err.Error(), apiErr.Errors[0].LongMessage) {
				t.Errorf("error message %q lacks the long message", err)
			}
		})
	}
	t.Run("meta kept", func(t *testing.T) {
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, 422, `{"errors":[{"message":"is invalid","long_message":"expires_in_seconds is invalid","code":"form_param_value_invalid","meta":{"param_name":"expires_in_seconds"}}]}`)
		})
		_, err := newAPITestClient(t, api.URL).CreateSessionToken(context.Background(), "sess_1", "supabase", 5)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || len(apiErr.Errors) != 1 || string(apiErr.Errors[0].Meta) != `{"param_name":"expires_in_seconds"}` {
			t.Fatalf("err = %#v", err)
		}
	})
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		post      bool
		statuses  []int // answers in order; 200 after the list
		retryAft  string
		wantCalls int
		wantErr   int // expected APIError status; 0 for success
	}{
		{"GET 429 then 200", false, []int{429}, "0", 2, 0},
		{"GET 503 502 then 200", false, []int{503, 502}, "", 3, 0},
		{"GET 504 three times", false, []int{504, 504, 504, 504}, "", 3, 504},
		{"GET 500 not retried", false, []int{500}, "", 1, 500},
		{"GET 404 not retried", false, []int{404}, "", 1, 404},
		{"GET 429 with a Retry-After too long", false, []int{429}, "3600", 1, 429},
		{"POST 429 then 200", true, []int{429}, "", 2, 0},
		{"POST 503 not retried", true, []int{503}, "", 1, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= len(tt.statuses) {
					if tt.retryAft != "" {
						w.Header().Set("Retry-After", tt.retryAft)
					}
					writeJSON(w, tt.statuses[n-1], `{"errors":[{"message":"slow down","code":"too_many_requests"}]}`)
					return
				}
				if r.Method == http.MethodPost {
					writeJSON(w, 200, `{"object":"token","jwt":"a.b.c"}`)
					return
				}
				writeJSON(w, 200, `{"id":"user_1"}`)
			})
			c := newAPITestClient(t, api.URL)
			var err error
			if tt.post {
				_, err = c.CreateSessionToken(context.Background(), "sess_1", "tpl", 60)
			} else {
				_, err = c.GetUser(context.Background(), "user_1")
			}
			calls := api.requests()
			if len(calls) != tt.wantCalls {
				t.Errorf("%d requests, want %d", len(calls), tt.wantCalls)
			}
			for _, call := range calls {
				checkAPIHeaders(t, call, defaultAPIVersion)
				if tt.post && call.Body != `{"expires_in_seconds":60}` {
					t.Errorf("retried body = %q", call.Body)
				}
			}
			var apiErr *APIError
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Errorf("err = %v, want success", err)
			case tt.wantErr != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantErr):
				t.Errorf("err = %v, want APIError %d", err, tt.wantErr)
			}
		})
	}
}

func TestContextBoundsCalls(t *testing.T) {
	t.Run("hanging server", func(t *testing.T) {
		release := make(chan struct{})
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release) // before api.Close, which waits for handlers
		c := newAPITestClient(t, api.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.GetUser(ctx, "user_1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if strings.Contains(err.Error(), apiTestSecret) {
			t.Errorf("error contains the secret: %v", err)
		}
	})
	t.Run("retry wait beyond the deadline", func(t *testing.T) {
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "5")
			writeJSON(w, 429, `{"errors":[{"message":"slow down","code":"too_many_requests"}]}`)
		})
		c := newAPITestClient(t, api.URL)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.GetUser(ctx, "user_1")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter != 5*time.Second {
			t.Fatalf("err = %v, want the 429 APIError", err)
		}
		if n := len(api.requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("canceled during the backoff", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "5")
			writeJSON(w, 503, `{"errors":[{"message":"unavailable","code":"service_unavailable"}]}`)
			cancel()
		})
		_, err := newAPITestClient(t, api.URL).GetUser(ctx, "user_1")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestPathEscaping(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, `{"id":"x","object":"token","jwt":"a.b.c"}`)
	})
	c := newAPITestClient(t, api.URL)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		wantPath string // "" means no request and an error
	}{
		{"user id with a slash", func() error { _, err := c.GetUser(ctx, "../users"); return err }, "/v1/users/..%2Fusers"},
		{"user id with a query", func() error { _, err := c.GetUser(ctx, "user_1?x=1#f"); return err }, "/v1/users/user_1%3Fx=1%23f"},
		{"empty user id", func() error { _, err := c.GetUser(ctx, ""); return err }, ""},
		{"dot-dot user id", func() error { _, err := c.GetUser(ctx, ".."); return err }, ""},
		{"template with a slash", func() error {
			_, err := c.CreateSessionToken(ctx, "sess_1", "a/../../users", 0)
			return err
		}, "/v1/sessions/sess_1/tokens/a%2F..%2F..%2Fusers"},
		{"no template", func() error { _, err := c.CreateSessionToken(ctx, "sess_1", "", 0); return err }, "/v1/sessions/sess_1/tokens"},
		{"empty session id", func() error { _, err := c.CreateSessionToken(ctx, "", "t", 0); return err }, ""},
		{"negative expiry", func() error { _, err := c.CreateSessionToken(ctx, "sess_1", "t", -1); return err }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(api.requests())
			err := tt.call()
			calls := api.requests()[before:]
			if tt.wantPath == "" {
				if err == nil || len(calls) != 0 {
					t.Fatalf("err = %v with %d requests, want an error and none", err, len(calls))
				}
				return
			}
			if err != nil || len(calls) != 1 || calls[0].EscapedPath != tt.wantPath {
				t.Fatalf("err = %v, requests %+v, want one to %s", err, calls, tt.wantPath)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "")
	t.Setenv("CLERK_JWT_KEY", "")
	if _, err := NewClient(Options{}); err == nil || !strings.Contains(err.Error(), "$CLERK_SECRET_KEY") {
		t.Errorf("NewClient without a key: err = %v, want one naming $CLERK_SECRET_KEY", err)
	}
	bad := "ak_" + apiTestSecret
	if _, err := NewClient(Options{SecretKey: bad}); err == nil || strings.Contains(err.Error(), bad) {
		t.Errorf("NewClient with a malformed key: err = %v", err)
	}
	t.Setenv("CLERK_SECRET_KEY", apiTestSecret)
	if _, err := NewClient(Options{}); err != nil {
		t.Errorf("NewClient with $CLERK_SECRET_KEY: %v", err)
	}
}

func TestMiddlewareClientWithoutSecret(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "")
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, `{"id":"user_1"}`)
	})
	key := clientTestRSAKey(t)
	mw, err := New(Options{JWTKey: clientTestPEM(t, &key.PublicKey), APIURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	c := mw.Client()
	if c == nil {
		t.Fatal("Client() is nil")
	}
	if _, err := c.GetUser(context.Background(), "user_1"); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("GetUser: err = %v, want ErrNoSecretKey", err)
	}
	if _, err := c.CreateSessionToken(context.Background(), "sess_1", "t", 0); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("CreateSessionToken: err = %v, want ErrNoSecretKey", err)
	}
	if n := len(api.requests()); n != 0 {
		t.Errorf("%d requests sent without a secret key", n)
	}
}

func TestOversizedAnswer(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(200)
		io.WriteString(w, `{"id":"`+strings.Repeat("x", maxResponseBytes)+`"}`)
	})
	_, err := newAPITestClient(t, api.URL).GetUser(context.Background(), "user_1")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

// clientTestRSAKey returns a fresh 2048-bit RSA key.
func clientTestRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clientTestPEM returns pub as the dashboard shows it.
func clientTestPEM(t testing.TB, pub *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestUserJSONRoundTrip(t *testing.T) {
	in := User{ID: "user_1", FirstName: "Ada", CreatedAt: time.UnixMilli(1_700_000_000_123),
		UpdatedAt: time.UnixMilli(1_700_000_500_000), PublicMetadata: json.RawMessage(`{"plan":"pro"}`),
		EmailAddresses: []EmailAddress{{ID: "idn_1", EmailAddress: "ada@example.com"}}, PrimaryEmailAddressID: "idn_1"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"created_at":1700000000123`) || !strings.Contains(string(b), `"last_sign_in_at":null`) {
		t.Fatalf("not Clerk's shape: %s", b)
	}
	var out User
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.CreatedAt.Equal(in.CreatedAt) || !out.UpdatedAt.Equal(in.UpdatedAt) || !out.LastSignInAt.IsZero() ||
		out.PrimaryEmail() != "ada@example.com" || string(out.PublicMetadata) != `{"plan":"pro"}` {
		t.Fatalf("round trip: %+v", out)
	}
}
