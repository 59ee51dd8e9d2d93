package clerkauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// TokenTypeAny in Options.AcceptsToken or [Middleware.Accept] accepts every
// token type.
const TokenTypeAny = "any"

// tokenMask is a set of accepted token types.
type tokenMask uint8

const (
	maskSession tokenMask = 1 << iota
	maskAPIKey
	maskM2M
	maskOAuth
	maskAny = maskSession | maskAPIKey | maskM2M | maskOAuth
)

func maskOf(tokenType string) tokenMask {
	switch tokenType {
	case TokenTypeSession:
		return maskSession
	case TokenTypeAPIKey:
		return maskAPIKey
	case TokenTypeM2M:
		return maskM2M
	case TokenTypeOAuth:
		return maskOAuth
	case TokenTypeAny:
		return maskAny
	}
	return 0
}

// parseMask builds the set of types; ok is false for an unknown name.
func parseMask(types []string) (m tokenMask, ok bool) {
	for _, t := range types {
		b := maskOf(t)
		if b == 0 {
			return m, false
		}
		m |= b
	}
	return m, true
}

// Accept returns a Middleware for the same instance (sharing its keys,
// caches and Close) that accepts only the given token types, for routes
// narrower than the default: mw.Accept(clerkauth.TokenTypeM2M).RequireAuth(h)
// admits machine-to-machine tokens only. A token of another type is signed
// out with token-type-mismatch. Unknown type names match nothing, so a
// misspelt route fails closed. Close only the Middleware returned by New.
func (m *Middleware) Accept(types ...string) *Middleware {
	var mask tokenMask
	for _, t := range types {
		mask |= maskOf(t)
	}
	return &Middleware{c: m.c, accept: mask}
}

// opaqueType tells an opaque machine token by its prefix; "" for anything
// else (a JWT, or garbage that will fail as one).
func opaqueType(tok string) string {
	switch {
	case strings.HasPrefix(tok, "ak_"):
		return TokenTypeAPIKey
	case strings.HasPrefix(tok, "mt_"):
		return TokenTypeM2M
	case strings.HasPrefix(tok, "oat_"):
		return TokenTypeOAuth
	}
	return ""
}

// machineJWTClaims are the claims of JWT-format M2M and OAuth tokens
// beyond those sessionClaims already decoded.
type machineJWTClaims struct {
	Jti      string          `json:"jti"`
	Scopes   string          `json:"scopes"` // M2M: space-separated
	Scope    string          `json:"scope"`  // OAuth: space-separated
	Scp      []string        `json:"scp"`    // OAuth: array form
	Aud      json.RawMessage `json:"aud"`
	ClientID string          `json:"client_id"`
}

// reservedMachineClaims are the structural claims of machine JWTs; the
// others are the token's custom claims.
var reservedMachineClaims = map[string]bool{
	"iss": true, "sub": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"scope": true, "scopes": true, "scp": true, "client_id": true, "aud": true, "azp": true, "sid": true,
}

// checkMachineClaims builds the Auth of a verified JWT-format machine token.
func (c *core) checkMachineClaims(kind string, raw []byte, claims *sessionClaims, key *verifyKey) (*verified, *AuthError) {
	if claims.Sub == nil || *claims.Sub == "" {
		return nil, errSub
	}
	if !claims.Exp.set {
		return nil, errExpMissing
	}
	var mc machineJWTClaims
	if err := decodeClaims(raw, &mc); err != nil {
		return nil, err
	}
	mach := &Machine{ID: mc.Jti, Subject: *claims.Sub, ClientID: mc.ClientID}
	switch {
	case mc.Scopes != "":
		mach.Scopes = strings.Fields(mc.Scopes)
	case mc.Scope != "":
		mach.Scopes = strings.Fields(mc.Scope)
	case len(mc.Scp) > 0:
		mach.Scopes = mc.Scp
	case kind == TokenTypeM2M && len(mc.Aud) > 0:
		var aud []string
		if json.Unmarshal(mc.Aud, &aud) == nil {
			mach.Scopes = aud
		}
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) == nil {
		for k := range all {
			if reservedMachineClaims[k] {
				delete(all, k)
			}
		}
		if len(all) > 0 {
			mach.Claims, _ = json.Marshal(all)
		}
	}
	v := &verified{
		key: key,
		exp: claims.Exp.sec,
		nbf: claims.Nbf.sec, hasNbf: claims.Nbf.set,
		iat: claims.Iat.sec, hasIat: claims.Iat.set,
	}
	mach.ExpiresAt = time.Unix(v.exp, 0)
	v.auth = machineAuth(kind, mach)
	v.auth.Expiry = mach.ExpiresAt
	if v.hasIat {
		v.auth.IssuedAt = time.Unix(v.iat, 0)
	}
	v.auth.Issuer = claims.Iss
	v.auth.origin = c
	return v, nil
}

// machineAuth builds the Auth of a machine token; the subject says whose
// it is (a user, an organization or a machine).
func machineAuth(kind string, mach *Machine) *Auth {
	a := &Auth{TokenType: kind, Machine: mach}
	switch {
	case strings.HasPrefix(mach.Subject, "user_"):
		a.UserID = mach.Subject
	case strings.HasPrefix(mach.Subject, "org_"):
		a.OrgID = mach.Subject
	case strings.HasPrefix(mach.Subject, "mch_"):
		mach.MachineID = mach.Subject
	}
	return a
}

// machineVerifier verifies opaque machine tokens with the Backend API and
// caches the answers: a verified token for ttl, an unknown or revoked one
// for negTTL. Entries are keyed by the SHA-256 of the token, so the cache
// holds no secret. Concurrent requests with the same token share one call.
type machineVerifier struct {
	client    *Client
	ttl       time.Duration
	negTTL    time.Duration
	callLimit time.Duration
	maxSize   int
	now       func() time.Time // Options.Now, for the tokens' own expiry

	ctx    context.Context // canceled by close: ends calls in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup // calls in flight

	mu       sync.Mutex // guards entries, inflight and closed
	closed   bool
	entries  map[[32]byte]machineEntry
	inflight map[[32]byte]*machineCall
}

type machineEntry struct {
	auth  *Auth      // nil when err is set
	err   *AuthError // an unknown, revoked or expired token
	until time.Time  // monotonic clock
}

type machineCall struct {
	done chan struct{}
	auth *Auth
	err  *AuthError
}

func newMachineVerifier(cfg *config, client *Client) *machineVerifier {
	mv := &machineVerifier{
		client:    client,
		ttl:       cfg.machineTTL,
		negTTL:    min(cfg.machineTTL, 5*time.Second),
		callLimit: 2 * cfg.keyWait,
		maxSize:   max(cfg.cacheSize, 100),
		now:       cfg.now,
		entries:   make(map[[32]byte]machineEntry),
		inflight:  make(map[[32]byte]*machineCall),
	}
	mv.ctx, mv.cancel = context.WithCancel(context.Background())
	return mv
}

// close ends the calls in flight and waits for them.
func (mv *machineVerifier) close() {
	mv.mu.Lock()
	mv.closed = true
	mv.mu.Unlock()
	mv.cancel()
	mv.wg.Wait()
}

var errMachineClosed = authErr(ErrKeysUnavailable, ReasonBackendAPIUnavailable, "middleware closed")

var (
	errMachineUnknown = authErr(ErrTokenInvalid, ReasonTokenInvalid, "machine token unknown or revoked")
	errMachineRevoked = authErr(ErrTokenInvalid, ReasonTokenInvalid, "machine token revoked")
	errMachineExpired = authErr(ErrTokenExpired, ReasonTokenExpired, "machine token expired")
	errMachineWait    = authErr(ErrKeysUnavailable, ReasonBackendAPIUnavailable, "timed out waiting for the Backend API")
)

// verify returns the Auth of an opaque machine token of the given type.
func (mv *machineVerifier) verify(ctx context.Context, kind, tok string) (*Auth, *AuthError) {
	key := sha256.Sum256([]byte(tok))
	mv.mu.Lock()
	if e, ok := mv.entries[key]; ok {
		if time.Now().Before(e.until) {
			mv.mu.Unlock()
			return mv.result(e.auth, e.err)
		}
		delete(mv.entries, key)
	}
	call := mv.inflight[key]
	if call == nil {
		if mv.closed {
			mv.mu.Unlock()
			return nil, errMachineClosed
		}
		call = &machineCall{done: make(chan struct{})}
		mv.inflight[key] = call
		mv.wg.Add(1)
		go mv.run(key, kind, tok, call)
	}
	mv.mu.Unlock()

	t := time.NewTimer(mv.callLimit)
	defer t.Stop()
	select {
	case <-call.done:
		return mv.result(call.auth, call.err)
	case <-ctx.Done():
		return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrKeysUnavailable,
			Detail: "request ended while verifying a machine token", Err: ctx.Err()}
	case <-t.C:
		return nil, errMachineWait
	}
}

// result applies the per-request check of a cached answer (the token's
// own expiry) and copies the shared Auth.
func (mv *machineVerifier) result(a *Auth, err *AuthError) (*Auth, *AuthError) {
	if err != nil {
		return nil, err
	}
	if !a.Machine.ExpiresAt.IsZero() && !mv.now().Before(a.Machine.ExpiresAt) {
		return nil, errMachineExpired
	}
	c := *a
	return &c, nil
}

// run makes the Backend API call of one verification and publishes it.
func (mv *machineVerifier) run(key [32]byte, kind, tok string, call *machineCall) {
	defer mv.wg.Done()
	ctx, cancel := context.WithTimeout(mv.ctx, mv.callLimit)
	defer cancel()
	call.auth, call.err = mv.call(ctx, kind, tok)

	mv.mu.Lock()
	delete(mv.inflight, key)
	ttl := mv.ttl
	if call.err != nil {
		ttl = mv.negTTL
		if errors.Is(call.err, ErrKeysUnavailable) {
			ttl = 0 // our fault or Clerk's: ask again next time
		}
	}
	if ttl > 0 {
		if len(mv.entries) >= mv.maxSize {
			mv.evictLocked()
		}
		mv.entries[key] = machineEntry{auth: call.auth, err: call.err, until: time.Now().Add(ttl)}
	}
	mv.mu.Unlock()
	close(call.done)
}

// evictLocked drops expired entries, then arbitrary ones, until there is
// room. mv.mu must be held.
func (mv *machineVerifier) evictLocked() {
	now := time.Now()
	for k, e := range mv.entries {
		if !now.Before(e.until) {
			delete(mv.entries, k)
		}
	}
	for k := range mv.entries {
		if len(mv.entries) < mv.maxSize {
			break
		}
		delete(mv.entries, k)
	}
}

// opaqueAnswer is what the three verify endpoints answer (API key, M2M
// token, OAuth access token objects).
type opaqueAnswer struct {
	Object     string          `json:"object"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Subject    string          `json:"subject"`
	Scopes     []string        `json:"scopes"`
	Claims     json.RawMessage `json:"claims"`
	ClientID   string          `json:"client_id"`
	Revoked    bool            `json:"revoked"`
	Expired    bool            `json:"expired"`
	Expiration *int64          `json:"expiration"` // Unix ms; null: never
}

// call asks the Backend API about tok. Clerk serves these endpoints
// without the /v1 prefix.
func (mv *machineVerifier) call(ctx context.Context, kind, tok string) (*Auth, *AuthError) {
	var path string
	var body any
	cred := credSecret
	switch kind {
	case TokenTypeAPIKey:
		path, body = "/api_keys/verify", map[string]string{"secret": tok}
	case TokenTypeM2M:
		path, body = "/m2m_tokens/verify", map[string]string{"token": tok}
		cred = credMachine
	default:
		path, body = "/oauth_applications/access_tokens/verify", map[string]string{"access_token": tok}
	}
	var ans opaqueAnswer
	err := mv.client.doAs(ctx, cred, http.MethodPost, path, body, &ans)
	if err != nil {
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized,
			errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden && mv.client.bearer(cred) == "",
			errors.Is(err, ErrNoSecretKey):
			return nil, &AuthError{Reason: ReasonSecretKeyInvalid, Kind: ErrKeysUnavailable,
				Detail: "the Backend API refused the secret key verifying a machine token"}
		case errors.As(err, &apiErr) && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests:
			return nil, errMachineUnknown
		}
		return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrKeysUnavailable,
			Detail: "verifying a machine token with the Backend API failed", Err: stripAPIErrorBody(err)}
	}
	switch {
	case ans.Revoked:
		return nil, errMachineRevoked
	case ans.Expired:
		return nil, errMachineExpired
	case ans.Subject == "":
		return nil, errMachineUnknown
	}
	mach := &Machine{ID: ans.ID, Subject: ans.Subject, Scopes: ans.Scopes, ClientID: ans.ClientID}
	if kind == TokenTypeAPIKey {
		mach.Name = ans.Name
	}
	if len(ans.Claims) > 0 && string(ans.Claims) != "null" {
		mach.Claims = ans.Claims
	}
	if ans.Expiration != nil {
		mach.ExpiresAt = time.UnixMilli(*ans.Expiration)
	}
	a := machineAuth(kind, mach)
	a.Expiry = mach.ExpiresAt
	a.token = tok
	return a, nil
}

// stripAPIErrorBody keeps an APIError's status but drops its raw body,
// which a misbehaving server may have filled with the token it was sent.
func stripAPIErrorBody(err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Body != "" {
		c := *apiErr
		c.Body = ""
		return &c
	}
	return err
}
