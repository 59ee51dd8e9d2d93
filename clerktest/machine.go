package clerktest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"time"
)

// MachineToken describes an opaque machine token the server knows: an API
// key (ak_...), an M2M token (mt_...) or an OAuth access token (oat_...).
// The verify endpoints answer with it in Clerk's shapes.
type MachineToken struct {
	// ID is the token's id; default: generated with the right prefix.
	ID string
	// Subject is whom the token acts for: "user_...", "org_..." or, for
	// M2M tokens, the calling machine "mch_...".
	Subject string
	// Name is an API key's name.
	Name string
	// Scopes are the scopes granted.
	Scopes []string
	// Claims are custom claims; nil is served as null.
	Claims map[string]any
	// ClientID is an OAuth application's client id.
	ClientID string
	// ExpiresAt is when the token expires; zero: never (API keys only).
	ExpiresAt time.Time
	// Revoked makes the verify endpoint refuse the token, as Clerk does
	// for a revoked one: 404 resource_not_found.
	Revoked bool
}

// AddAPIKey registers an API key and returns its secret (ak_...), which
// POST /api_keys/verify then accepts.
func (s *Server) AddAPIKey(t MachineToken) string {
	return s.addMachine("ak_", "api_key", t)
}

// AddM2MToken registers an M2M token and returns it (mt_...), which POST
// /m2m_tokens/verify then accepts. Its Subject should be a machine id.
func (s *Server) AddM2MToken(t MachineToken) string {
	return s.addMachine("mt_", "machine_to_machine_token", t)
}

// AddOAuthToken registers an OAuth access token and returns it (oat_...),
// which POST /oauth_applications/access_tokens/verify then accepts.
func (s *Server) AddOAuthToken(t MachineToken) string {
	return s.addMachine("oat_", "clerk_idp_oauth_access_token", t)
}

type machineEntry struct {
	object string
	tok    MachineToken
}

func (s *Server) addMachine(prefix, object string, t MachineToken) string {
	if t.ID == "" {
		t.ID = prefix + rand.Text()
	}
	secret := prefix + "secret_" + rand.Text() + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.machines == nil {
		s.machines = make(map[string]machineEntry)
	}
	s.machines[secret] = machineEntry{object: object, tok: t}
	return secret
}

// serveMachineVerify answers the three verify endpoints. Unknown, revoked
// and expired tokens, and tokens of another kind than the endpoint's, are
// 404 as in Clerk: its SDK never reads the revoked and expired fields of a
// 200 answer, and its authenticateRequest reports a 404 as token-invalid.
func (s *Server) serveMachineVerify(object, field string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil || body[field] == "" {
			writeError(w, http.StatusUnprocessableEntity, "form_param_missing", field+" is missing", "The "+field+" parameter is required.")
			return
		}
		s.mu.Lock()
		e, ok := s.machines[body[field]]
		s.mu.Unlock()
		if !ok || e.object != object {
			writeError(w, http.StatusNotFound, "resource_not_found", "not found", "Resource not found")
			return
		}
		t := e.tok
		now := time.Now()
		if t.Revoked || !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
			writeError(w, http.StatusNotFound, "resource_not_found", "not found", "Resource not found")
			return
		}
		ans := map[string]any{
			"object":            object,
			"id":                t.ID,
			"subject":           t.Subject,
			"scopes":            nonNil(t.Scopes),
			"claims":            t.Claims,
			"revoked":           false,
			"revocation_reason": nil,
			"expired":           false,
			"expiration":        nil,
			"created_at":        now.Add(-time.Hour).UnixMilli(),
			"updated_at":        now.Add(-time.Hour).UnixMilli(),
		}
		if !t.ExpiresAt.IsZero() {
			ans["expiration"] = t.ExpiresAt.UnixMilli()
		}
		switch object {
		case "api_key":
			ans["type"], ans["name"] = "api_key", t.Name
		case "clerk_idp_oauth_access_token":
			ans["type"], ans["client_id"] = "oauth:access_token", t.ClientID
		}
		b, _ := json.Marshal(ans)
		writeJSON(w, http.StatusOK, b)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// machineRoutes are served without the /v1 prefix, as Clerk serves them.
func (s *Server) machineRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api_keys/verify", s.backend(s.serveMachineVerify("api_key", "secret")))
	mux.HandleFunc("POST /m2m_tokens/verify", s.backend(s.serveMachineVerify("machine_to_machine_token", "token")))
	mux.HandleFunc("POST /oauth_applications/access_tokens/verify",
		s.backend(s.serveMachineVerify("clerk_idp_oauth_access_token", "access_token")))
}
