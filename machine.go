package clerkauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/claims"
	"github.com/clerkauth/clerkauth/internal/jwks"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerkauth/clerkauth/internal/machinetoken"
	"github.com/clerkauth/clerkauth/internal/reason"
	"github.com/clerkauth/clerkauth/internal/retry"
	"github.com/clerkauth/clerkauth/internal/ttlcache"
)

// TokenTypeAny in Options.AcceptsToken or [Middleware.AcceptsToken]
// accepts every token type.
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

// AcceptsToken returns a Middleware for the same instance (sharing its
// keys, caches, Close and route responses) that accepts only the given token types (as
// Options.AcceptsToken names them), for routes narrower or wider than the
// default: mw.AcceptsToken(clerkauth.TokenTypeM2M).RequireAuth(h) admits
// machine-to-machine tokens only. A token of another type is signed out
// with token-type-mismatch. Close only the Middleware returned by New.
//
// Routes are set up once, at start, so a mistake there is a programming
// error: like [regexp.MustCompile] and [http.ServeMux.Handle],
// AcceptsToken panics, with a message naming the valid types, when given
// no type or an unknown one.
func (m *Middleware) AcceptsToken(types ...string) *Middleware {
	mask, ok := parseMask(types)
	if !ok || len(types) == 0 {
		panic(fmt.Sprintf("clerkauth: Middleware.AcceptsToken(%q): token types are %q, %q, %q, %q or %q",
			types, TokenTypeSession, TokenTypeAPIKey, TokenTypeM2M, TokenTypeOAuth, TokenTypeAny))
	}
	n := *m
	n.accept = mask
	return &n
}

// checkMachineClaims builds the Auth of a verified JWT-format machine token.
func (c *core) checkMachineClaims(kind string, raw []byte, claims *claims.Session, key *jwks.Key) (*verified, *AuthError) {
	if claims.Sub == "" {
		return nil, errSub
	}
	if !claims.Exp.Set {
		return nil, errExpMissing
	}
	// verify has already read raw with readSessionClaims, so it was
	// rejected for the same reasons as a session token's (invalid JSON, a
	// duplicate name at any depth, too deep); a machine claim of a type
	// Clerk cannot use is token-verification-failed.
	f, err := machinetoken.FromJWT(kind, claims.Sub, time.Unix(claims.Exp.Sec, 0), raw)
	if err != nil {
		var ce *machinetoken.ClaimTypeError
		if errors.As(err, &ce) {
			return nil, authErr(ErrTokenInvalid, reason.TokenVerificationFailed, ce.Error())
		}
		return nil, errClaimType
	}
	v := new(verified)
	*v = newVerified(claims, key)
	v.auth = machineAuth(kind, f)
	if v.hasIat {
		v.auth.IssuedAt = time.Unix(v.iat, 0)
	}
	v.auth.Issuer = claims.Iss
	v.auth.origin = c
	return v, nil
}

// machineAuth builds the Auth of a machine token, routing its subject as
// Clerk's authenticatedMachineObject does: an API key's is the UserID when
// it starts with user_ and the OrgID when it starts with org_; an M2M
// token's is always the MachineID; an OAuth token's is always the UserID.
func machineAuth(kind string, f machinetoken.Fields) *Auth {
	mach := &Machine{ID: f.ID, Subject: f.Subject, Name: f.Name, ClientID: f.ClientID,
		Scopes: f.Scopes, Claims: f.Claims, ExpiresAt: f.ExpiresAt}
	a := &Auth{TokenType: kind, Machine: mach, Expiry: f.ExpiresAt}
	switch kind {
	case machinetoken.APIKey:
		if strings.HasPrefix(f.Subject, "user_") {
			a.UserID = f.Subject
		} else if strings.HasPrefix(f.Subject, "org_") {
			a.OrgID = f.Subject
		}
	case machinetoken.M2M:
		mach.MachineID = f.Subject
	case machinetoken.OAuth:
		a.UserID = f.Subject
	}
	return a
}

const (
	// breakerDefault is how long a 429 or 5xx without Retry-After stops
	// verify calls; breakerMax caps a longer Retry-After.
	breakerDefault = 5 * time.Second
	breakerMax     = 30 * time.Second
)

// machineVerifier verifies opaque machine tokens with the Backend API and
// caches the answers: a verified token for ttl, an unknown or revoked one
// for negTTL. Entries are keyed by the SHA-256 of the token, so the cache
// holds no secret. Concurrent requests with the same token share one call,
// which is cancelled when they all leave; at most maxInFlight calls run at
// once; a call is never retried, and a 429 or 5xx answer stops new calls
// for a while (the breaker) while cached answers are still served. With a
// MachineTokenStore, a call is made only when the store holds no verdict
// (machinestore.go), and counts against the same bound as the call.
type machineVerifier struct {
	client    *Client
	ttl       time.Duration
	negTTL    time.Duration
	callLimit time.Duration
	now       func() time.Time // Options.Now: cache entries, breaker, expiry
	store     *machineStore    // Options.MachineTokenStore; nil: none

	cache   *ttlcache.Cache[[32]byte, *Auth]
	breaker retry.Breaker
	// open is true from the breaker's opening until the first call let
	// through after it, so that each opening and closing is reported to
	// the Observer once.
	open     atomic.Bool
	observer *Observer
	limit    int // Options.MaxMachineVerifyCalls, for the Observer
}

func newMachineVerifier(cfg *config, client *Client) *machineVerifier {
	mv := &machineVerifier{
		client:    client,
		ttl:       cfg.machineTTL,
		negTTL:    min(cfg.machineTTL, 5*time.Second),
		callLimit: 2 * cfg.keyWait,
		now:       cfg.now,
		observer:  &cfg.observer,
		limit:     cfg.maxVerifyCalls,
		store:     newMachineStore(cfg),
	}
	mv.cache = ttlcache.New[[32]byte, *Auth](ttlcache.Options{
		Size:        max(cfg.cacheSize, 100),
		MaxInFlight: cfg.maxVerifyCalls,
		Now:         cfg.now,
	})
	return mv
}

// close ends the calls in flight and waits for them.
func (mv *machineVerifier) close() { mv.cache.Close() }

var (
	errMachineClosed  = authErr(ErrBackendUnavailable, ReasonBackendAPIUnavailable, "middleware closed")
	errMachineBusy    = authErr(ErrBackendUnavailable, ReasonBackendAPIUnavailable, "too many machine-token verifications in flight")
	errMachineBreaker = authErr(ErrBackendUnavailable, ReasonBackendAPIUnavailable, "the Backend API asked us to slow down; not calling it for a while")
	errMachineShape   = authErr(ErrTokenInvalid, ReasonTokenInvalid, "not the shape of a machine token")
	errMachineUnknown = authErr(ErrTokenInvalid, ReasonTokenInvalid, "machine token unknown, revoked or expired")
	errMachineRevoked = authErr(ErrTokenInvalid, ReasonTokenInvalid, "machine token revoked")
	errMachineExpired = authErr(ErrTokenExpired, ReasonTokenExpired, "machine token expired")
)

// verify returns the Auth of an opaque machine token of the given type;
// hit says it came from the cache.
func (mv *machineVerifier) verify(ctx context.Context, kind, tok string) (*Auth, *AuthError, bool) {
	if !machinetoken.ShapeOK(tok) {
		return nil, errMachineShape, false
	}
	key := sha256.Sum256([]byte(tok))
	if a, err, ok := mv.cache.Lookup(key); ok {
		a, aerr := mv.result(a, err)
		return a, aerr, true
	}
	if mv.store == nil && !mv.breakerLets() {
		return nil, errMachineBreaker, false // with a store, checked after it missed
	}
	a, err := mv.cache.Get(ctx, key, func(ctx context.Context) (*Auth, time.Time, error) {
		if mv.store != nil {
			return mv.loadShared(ctx, kind, tok)
		}
		return mv.ask(ctx, kind, tok)
	})
	var we *ttlcache.WaitError
	switch {
	case err == nil:
	case errors.Is(err, ttlcache.ErrBusy):
		if mv.observer.MachineBusy != nil {
			mv.observer.MachineBusy(MachineBusyEvent{TokenType: kind, Limit: mv.limit})
		}
		return nil, errMachineBusy, false
	case errors.Is(err, ttlcache.ErrClosed):
		return nil, errMachineClosed, false
	case errors.As(err, &we):
		return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrBackendUnavailable,
			Detail: "request ended while verifying a machine token", Err: we.Err}, false
	}
	a, aerr := mv.result(a, err)
	return a, aerr, false
}

// breakerLets reports whether the breaker lets a Backend API call through,
// and tells the observer when it has closed again.
func (mv *machineVerifier) breakerLets() bool {
	if !mv.breaker.Closed(mv.now()) {
		return false
	}
	if mv.open.Load() && mv.open.CompareAndSwap(true, false) && mv.observer.Breaker != nil {
		mv.observer.Breaker(BreakerEvent{Endpoint: endpointMachine})
	}
	return true
}

// ask calls the Backend API about tok and returns its verdict and until
// when the verdict may be reused: a verified token for ttl, an unknown,
// revoked or expired one for negTTL, a failure not at all.
func (mv *machineVerifier) ask(ctx context.Context, kind, tok string) (*Auth, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, mv.callLimit)
	defer cancel()
	a, aerr := mv.call(ctx, kind, tok)
	if aerr != nil {
		if aerr.Kind == ErrTokenInvalid || aerr.Kind == ErrTokenExpired {
			return nil, mv.now().Add(mv.negTTL), aerr
		}
		return nil, time.Time{}, aerr // our fault or Clerk's: ask again next time
	}
	return a, mv.now().Add(mv.ttl), nil
}

// result applies the per-request check of a cached answer (the token's
// own expiry) and copies the shared Auth.
func (mv *machineVerifier) result(a *Auth, err error) (*Auth, *AuthError) {
	if err != nil {
		var aerr *AuthError
		if errors.As(err, &aerr) {
			return nil, aerr
		}
		return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrBackendUnavailable, Err: err}
	}
	if !a.Machine.ExpiresAt.IsZero() && !mv.now().Before(a.Machine.ExpiresAt) {
		return nil, errMachineExpired
	}
	c := *a
	return &c, nil
}

// call asks the Backend API about tok, once: a failed call is not retried
// (Clerk's SDK does not retry either).
func (mv *machineVerifier) call(ctx context.Context, kind, tok string) (*Auth, *AuthError) {
	path, field, machineKey := machinetoken.Endpoint(kind)
	cred := credSecret
	if machineKey {
		cred = credMachine
	}
	if mv.client.bearer(cred) == "" {
		return nil, &AuthError{Reason: ReasonSecretKeyInvalid, Kind: ErrKeysUnavailable,
			Detail: "no secret key to verify a machine token", Err: ErrNoSecretKey}
	}
	payload, _ := json.Marshal(map[string]string{field: tok})
	raw, apiErr, err := mv.client.send(ctx, cred, http.MethodPost, path, payload)
	if err != nil {
		return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrBackendUnavailable,
			Detail: "verifying a machine token with the Backend API failed", Err: err}
	}
	if apiErr != nil {
		switch s := apiErr.StatusCode; {
		case s == http.StatusUnauthorized, s == http.StatusForbidden:
			return nil, &AuthError{Reason: ReasonSecretKeyInvalid, Kind: ErrKeysUnavailable,
				Detail: "the Backend API refused the secret key verifying a machine token", Err: apiErr}
		case s == http.StatusTooManyRequests || s >= 500:
			pause := mv.breaker.Open(mv.now(), apiErr.RetryAfter, breakerDefault, breakerMax)
			if mv.open.CompareAndSwap(false, true) && mv.observer.Breaker != nil {
				mv.observer.Breaker(BreakerEvent{Open: true, Endpoint: endpointMachine, Pause: pause})
			}
			return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrBackendUnavailable,
				Detail: "verifying a machine token with the Backend API failed", Err: apiErr}
		}
		// 404 (unknown, revoked or expired, as Clerk answers) and any
		// other 4xx: Clerk's authenticateRequest says token-invalid.
		return nil, errMachineUnknown
	}
	var ans machinetoken.Answer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, &AuthError{Reason: ReasonBackendAPIUnavailable, Kind: ErrBackendUnavailable,
			Detail: "the Backend API's answer about a machine token is not JSON"}
	}
	switch {
	case ans.Revoked:
		return nil, errMachineRevoked
	case ans.Expired:
		return nil, errMachineExpired
	case ans.Subject == "":
		return nil, errMachineUnknown
	}
	a := machineAuth(kind, ans.Fields(kind))
	a.setToken(strings.Clone(tok)) // tok may hold a whole header alive
	return a, nil
}

// peekKey asks a request's context for the nearest node holding an Auth
// (an *authContext or a *lazyAuthContext) without resolving a lazy one.
type peekKey struct{}

// decidedIn reports whether ctx already holds what m would decide for the
// request: an Auth (or a pending lazy one) from the same instance for the
// same accepted token types.
func (m *Middleware) decidedIn(ctx context.Context) bool {
	switch n := ctx.Value(peekKey{}).(type) {
	case *authContext:
		return m.reusable(&n.auth)
	case *lazyAuthContext:
		return n.m.c == m.c && n.m.accept == m.accept
	}
	return false
}

// lazyAuthContext is a context node whose Auth is the verification of an
// opaque machine token, made the first time something reads it
// ([GetAuth], [FromContext], RequireAuth): a handler that never looks
// costs no Backend API call.
type lazyAuthContext struct {
	context.Context
	m   *Middleware
	tok string // never printed

	once sync.Once
	auth Auth
}

// Value implements context.Context.
func (c *lazyAuthContext) Value(key any) any {
	switch key.(type) {
	case ctxKey:
		c.once.Do(c.resolve)
		return &c.auth
	case peekKey:
		return c
	}
	return c.Context.Value(key)
}

func (c *lazyAuthContext) resolve() {
	a, aerr := c.m.c.authenticate(c.Context, c.tok, 0, c.m.accept, false)
	if aerr != nil {
		a = c.m.signedOut(aerr)
	}
	c.auth = *a
	c.auth.mask = c.m.accept
}

// String names the node without its token.
func (c *lazyAuthContext) String() string { return withValueName(c.Context, "clerkauth.Auth") }

// GoString is String, for the %#v verb.
func (c *lazyAuthContext) GoString() string { return c.String() }

// Format prints String for every verb (%d, %x, %t... included), so that
// no verb reaches the token the node holds.
func (c *lazyAuthContext) Format(f fmt.State, verb rune) { formatAs(f, verb, c.String()) }
