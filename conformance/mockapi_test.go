package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// mockAPI is the Backend API both sides call: clerkauth (Options.APIURL)
// and Clerk's client (apiUrl). It answers the verify endpoints of opaque
// machine tokens (POST /api_keys/verify, /m2m_tokens/verify,
// /oauth_applications/access_tokens/verify, with or without /v1) from
// answers registered per token, and 404 with Clerk's error shape for any
// other token, as the Backend API answers an unknown one.
//
// For the page-load flows it answers POST /v1/sessions/{sid}/refresh by
// the refresh token in the body and the suffixed_cookies query parameter
// (absent is false), and GET /v1/clients/handshake_payload by the nonce,
// from answers registered the same way. Both sides send their calls here,
// and get the same answers.
type mockAPI struct {
	*httptest.Server
	mu        sync.Mutex
	answers   map[string]mockAnswer // by token
	refreshes map[string]mockAnswer // by refresh token + "|" + suffixed ("true"/"false")
	payloads  map[string]mockAnswer // by nonce
	calls     map[string]int        // by "refresh"/"payload"/"verify"
}

type mockAnswer struct {
	Status int
	Body   string
}

const notFoundBody = `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}]}`

func newMockAPI() *mockAPI {
	m := &mockAPI{answers: map[string]mockAnswer{}, refreshes: map[string]mockAnswer{}, payloads: map[string]mockAnswer{},
		calls: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// answer registers what the verify endpoints answer about tok.
func (m *mockAPI) answer(tok string, status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answers[tok] = mockAnswer{status, body}
}

// refreshSession registers the answer to a refresh of session sid with
// refresh token rt (it takes precedence over refresh's).
func (m *mockAPI) refreshSession(rt, sid string, suffixed bool, status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refreshes[rt+"|"+strconv.FormatBool(suffixed)+"|"+sid] = mockAnswer{status, body}
}

// refresh registers the answer to a refresh with refresh token rt.
func (m *mockAPI) refresh(rt string, suffixed bool, status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refreshes[rt+"|"+strconv.FormatBool(suffixed)] = mockAnswer{status, body}
}

// payload registers the handshake payload of nonce.
func (m *mockAPI) payload(nonce string, status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.payloads[nonce] = mockAnswer{status, body}
}

func (m *mockAPI) reply(w http.ResponseWriter, a mockAnswer, ok bool) {
	if !ok {
		a = mockAnswer{http.StatusNotFound, notFoundBody}
	}
	w.WriteHeader(a.Status)
	io.WriteString(w, a.Body)
}

func (m *mockAPI) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet && r.URL.Path == "/v1/clients/handshake_payload" {
		m.mu.Lock()
		m.calls["payload"]++
		a, ok := m.payloads[r.URL.Query().Get("nonce")]
		m.mu.Unlock()
		m.reply(w, a, ok)
		return
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/sessions/") && strings.HasSuffix(r.URL.Path, "/refresh") {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		rt, _ := body["refresh_token"].(string)
		suffixed := r.URL.Query().Get("suffixed_cookies") == "true"
		m.mu.Lock()
		m.calls["refresh"]++
		sid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/sessions/"), "/refresh")
		a, ok := m.refreshes[rt+"|"+strconv.FormatBool(suffixed)+"|"+sid]
		if !ok {
			a, ok = m.refreshes[rt+"|"+strconv.FormatBool(suffixed)]
		}
		m.mu.Unlock()
		m.reply(w, a, ok)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	field := map[string]string{
		"/api_keys/verify":                         "secret",
		"/m2m_tokens/verify":                       "token",
		"/oauth_applications/access_tokens/verify": "access_token",
	}[path]
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
	m.calls["verify"]++
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
