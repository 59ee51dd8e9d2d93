package clerktest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
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
		if !s.machineFault(w, r) {
			return
		}
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

// SetMachineVerifyStatus makes the three machine-token verify endpoints
// (API keys, M2M and OAuth tokens) wait delay, then answer with HTTP
// status code and Clerk's error body for it: 401 and 403 clerk_key_invalid,
// 404 resource_not_found, 429 too_many_requests (with Retry-After: 1),
// anything else internal_clerk_error. A code of 0 or 200 keeps their
// normal answers, after delay. A waiting answer ends early when its client
// gives up or the server closes. SetMachineVerifyStatus(0, 0) restores
// normal answers.
func (s *Server) SetMachineVerifyStatus(code int, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verifyCode, s.verifyDelay = code, delay
}

// machineFault applies SetMachineVerifyStatus: it reports whether the
// endpoint should answer normally.
func (s *Server) machineFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	code, delay := s.verifyCode, s.verifyDelay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.closing:
			return false
		}
	}
	switch code {
	case 0, http.StatusOK:
		return true
	case http.StatusUnauthorized, http.StatusForbidden:
		writeError(w, code, "clerk_key_invalid", "Secret Key is invalid",
			"The provided Secret Key is invalid. Make sure that your Secret Key is correct.")
	case http.StatusNotFound:
		writeError(w, code, "resource_not_found", "not found", "Resource not found")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeError(w, code, "too_many_requests", "Too many requests",
			"Too many requests, retry later")
	default:
		writeError(w, code, "internal_clerk_error", "Oops, an unexpected error occurred",
			"There was an internal error on our servers. We've been notified and are working on fixing it.")
	}
	return false
}

// DefaultMachineTokenLifetime is the life of JWT-format machine tokens
// minted by [Server.M2MJWT] and [Server.OAuthJWT] when
// MachineToken.ExpiresAt is zero.
const DefaultMachineTokenLifetime = time.Hour

// Header "cat" of Clerk's JWT-format M2M tokens.
const categoryM2M = "cl_B7d4PD333AAA"

// M2MJWT mints a JWT-format M2M token (what Clerk's Backend API gives with
// token_format "jwt"), which clerkauth verifies locally with the
// instance's keys, no Backend API call. As Clerk's: header typ JWT and cat
// cl_B7d4PD333AAA; iss [Server.Issuer]; sub t.Subject, the calling machine
// (default: a new "mch_..." id); jti t.ID (default: a new "mt_..." id);
// iat now, nbf iat-10s, exp t.ExpiresAt (default: iat +
// [DefaultMachineTokenLifetime]); and, when t.Scopes is set, scopes (the
// machines it may call, space-separated, as Clerk writes them) and aud
// (the same, as an array); then t.Claims, the custom claims.
//
// M2MJWT panics, saying why, on what Clerk never mints: a Subject that is
// not "mch_..." (Clerk tells an M2M JWT by it), a scope holding a space,
// a Claims member that is a structural claim (iss, sub, exp, nbf, iat,
// jti, scopes, aud), or Revoked (a JWT is verified without asking Clerk,
// so it cannot be revoked). Use [Server.Sign] for anything else.
func (s *Server) M2MJWT(t MachineToken) string {
	if t.Subject == "" {
		t.Subject = newID("mch")
	}
	if !strings.HasPrefix(t.Subject, "mch_") {
		panic(fmt.Sprintf("clerktest: M2MJWT: Subject %q: an M2M token's subject is the calling machine, mch_...", t.Subject))
	}
	claims := s.machineJWTClaims("M2MJWT", "mt_", t, "scopes", "aud")
	if len(t.Scopes) > 0 {
		claims["scopes"] = strings.Join(t.Scopes, " ")
		claims["aud"] = t.Scopes
	}
	return s.Sign(map[string]any{"alg": "RS256", "kid": s.KeyID(), "typ": "JWT", "cat": categoryM2M}, claims)
}

// OAuthJWT mints a JWT-format OAuth access token, as Clerk issues them to
// OAuth applications (RFC 9068), which clerkauth verifies locally: header
// typ at+jwt; iss [Server.Issuer]; sub t.Subject (default: a new
// "user_..." id); client_id t.ClientID (default: a new "client_..." id);
// jti t.ID (default: a new "oat_..." id); iat now, nbf iat-10s, exp
// t.ExpiresAt (default: iat + [DefaultMachineTokenLifetime]); scope, the
// space-separated t.Scopes, when set; then t.Claims.
//
// OAuthJWT panics, saying why, on a scope holding a space, a Claims member
// that is a structural claim (iss, sub, exp, nbf, iat, jti, client_id,
// scope, scp), or Revoked.
func (s *Server) OAuthJWT(t MachineToken) string {
	if t.Subject == "" {
		t.Subject = newID("user")
	}
	if t.ClientID == "" {
		t.ClientID = newID("client")
	}
	claims := s.machineJWTClaims("OAuthJWT", "oat_", t, "client_id", "scope", "scp")
	claims["client_id"] = t.ClientID
	if len(t.Scopes) > 0 {
		claims["scope"] = strings.Join(t.Scopes, " ")
	}
	return s.Sign(map[string]any{"alg": "RS256", "kid": s.KeyID(), "typ": "at+jwt"}, claims)
}

// machineJWTClaims are the claims every machine JWT has, with t's custom
// claims; reserved lists the claims of the kind beyond the registered
// ones, which t.Claims may not set either.
func (s *Server) machineJWTClaims(fn, idPrefix string, t MachineToken, reserved ...string) map[string]any {
	if t.Revoked {
		panic("clerktest: " + fn + ": a JWT cannot be revoked: it is verified without asking Clerk (use an opaque token, AddM2MToken or AddOAuthToken)")
	}
	for _, sc := range t.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n") {
			panic(fmt.Sprintf("clerktest: %s: scope %q: Clerk writes scopes space-separated, so a scope is non-empty, without spaces", fn, sc))
		}
	}
	for k := range t.Claims {
		if k == "iss" || k == "sub" || k == "exp" || k == "nbf" || k == "iat" || k == "jti" || slices.Contains(reserved, k) {
			panic(fmt.Sprintf("clerktest: %s: Claims[%q]: a structural claim, set by the other MachineToken fields", fn, k))
		}
	}
	if t.ID == "" {
		t.ID = idPrefix + rand.Text()
	}
	iat := time.Now()
	exp := t.ExpiresAt
	if exp.IsZero() {
		exp = iat.Add(DefaultMachineTokenLifetime)
	}
	claims := maps.Clone(t.Claims)
	if claims == nil {
		claims = map[string]any{}
	}
	claims["iss"] = s.Issuer()
	claims["sub"] = t.Subject
	claims["jti"] = t.ID
	claims["iat"] = iat.Unix()
	claims["nbf"] = iat.Unix() - 10
	claims["exp"] = exp.Unix()
	return claims
}
