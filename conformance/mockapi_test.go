package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// mockAPI is the Backend API both sides call: clerkauth (Options.APIURL)
// and Clerk's client (apiUrl). It answers the verify endpoints of opaque
// machine tokens (POST /api_keys/verify, /m2m_tokens/verify,
// /oauth_applications/access_tokens/verify, with or without /v1) from
// answers registered per token, and 404 with Clerk's error shape for any
// other token, as the Backend API answers an unknown one.
type mockAPI struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]mockAnswer // by token
}

type mockAnswer struct {
	Status int
	Body   string
}

const notFoundBody = `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}]}`

func newMockAPI() *mockAPI {
	m := &mockAPI{answers: map[string]mockAnswer{}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// answer registers what the verify endpoints answer about tok.
func (m *mockAPI) answer(tok string, status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answers[tok] = mockAnswer{status, body}
}

func (m *mockAPI) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	field := map[string]string{
		"/api_keys/verify":                         "secret",
		"/m2m_tokens/verify":                       "token",
		"/oauth_applications/access_tokens/verify": "access_token",
	}[path]
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || field == "" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, notFoundBody)
		return
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &body)
	tok, _ := body[field].(string)
	m.mu.Lock()
	a, ok := m.answers[tok]
	m.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, notFoundBody)
		return
	}
	w.WriteHeader(a.Status)
	io.WriteString(w, a.Body)
}
