package clerkauth

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/machinetoken"
)

// MachineTokenStore is a store shared by the replicas of a service (Redis,
// through the github.com/clerkauth/clerkauth/redisstore module), in which
// they share what the Backend API answered about opaque machine tokens
// (API keys, M2M and OAuth tokens), so that a fleet asks Clerk about a
// token about as often as one replica would. Each replica's own cache
// stays in front of it: the store is asked only when that cache has no
// answer, and told only what the Backend API answered.
//
// The store never sees a token: a key is an HMAC of the token, and a value
// is authenticated with an HMAC over the key, the token type, the verdict
// and its expiry, both with keys derived from the secret keys. A value
// that fails the check (written by anyone without the secret key, copied
// from another key, or garbage), a failure and a call that takes longer
// than Options.MachineTokenStoreTimeout all count as a miss: the Backend
// API is asked, under Options.MaxMachineVerifyCalls and the breaker, and
// the request is never signed in by the failure. See
// docs/machine-token-store.md. A store that also implements
// MachineTokenClaimer lets replicas seeing a new token at the same moment
// share one Backend API call.
//
// Implementations must be safe for concurrent use and should honour ctx.
type MachineTokenStore interface {
	// Get returns the value stored under key, or a nil value and a nil
	// error when there is none (a miss is not an error).
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (at least a millisecond), after
	// which Get no longer returns it.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// MachineTokenClaimer is an optional interface of a MachineTokenStore that
// lets replicas seeing a new token at the same moment make one Backend API
// call between them, not one each. A replica that misses the store claims
// the token; the one whose claim succeeds asks the Backend API and writes
// the verdict, the others read the store every few milliseconds until it
// appears, for at most Options.MachineTokenStoreTimeout times five (250ms
// by default), then ask the Backend API themselves. A claim is only a
// hint: a replica never takes a verdict from it, so a forged or stale
// claim costs a wait, never a wrong answer. A Claim that fails counts as
// won: the replica asks, as without claims. See docs/machine-token-store.md.
type MachineTokenClaimer interface {
	// Claim stores a marker under key for ttl (at least a millisecond)
	// unless one is there, and reports whether it did, atomically: of
	// concurrent claims of one key, at most one succeeds until ttl has
	// passed.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// storeMagic starts every value: the format's version.
const storeMagic = "cm1"

// maxStoreValue bounds a value, written or read: a verdict with larger
// custom claims is not shared, and a larger value is not even checked.
const maxStoreValue = 64 << 10

// machineStore is the verifier's link to a MachineTokenStore.
type machineStore struct {
	s       MachineTokenStore
	claimer MachineTokenClaimer // s, when it implements it; nil: no claims
	wait    time.Duration       // how long a replica waits for another's claim
	poll    time.Duration       // how often it reads the store meanwhile
	keyMAC  []byte              // HMAC key of store keys
	valMAC  []byte              // HMAC key of values
	slots   chan struct{}       // one per store call running, abandoned ones included
	skew    time.Duration       // Options.ClockSkew: how far ahead a writer's clock may be
	timeout time.Duration       // Options.MachineTokenStoreTimeout: bound of each call
	logger  *slog.Logger
}

// newMachineStore derives the store's keys from the secret keys; nil when
// there is no store or no secret key (a key derived from nothing would let
// anyone write a verdict).
func newMachineStore(cfg *config) *machineStore {
	if cfg.machineStore == nil || cfg.machineTTL <= 0 || cfg.secretKey == "" && cfg.machineSecretKey == "" {
		return nil
	}
	// Both keys: an M2M verdict may depend on the machine secret key, and
	// replicas configured differently then simply do not share.
	secret := []byte(cfg.secretKey + "\x00" + cfg.machineSecretKey)
	derive := func(label string) []byte {
		k, err := hkdf.Key(sha256.New, secret, nil, "clerkauth machine-token store v1 "+label, 32)
		if err != nil {
			panic(err) // only for a length HKDF cannot produce
		}
		return k
	}
	claimer, _ := cfg.machineStore.(MachineTokenClaimer)
	return &machineStore{
		s:       cfg.machineStore,
		claimer: claimer,
		// Five store timeouts (250ms by default): several reads, and room
		// for a Backend API call of the claimer, but no longer than the
		// call itself may take.
		wait:    max(min(5*cfg.storeTimeout, 2*cfg.keyWait), time.Millisecond),
		poll:    claimPoll,
		keyMAC:  derive("key"),
		valMAC:  derive("value"),
		slots:   make(chan struct{}, cfg.maxVerifyCalls),
		skew:    cfg.skew,
		timeout: cfg.storeTimeout,
		logger:  cfg.logger,
	}
}

// claimPoll is how often a replica waiting for another's claim reads the
// store.
const claimPoll = 5 * time.Millisecond

// key is the store key of tok: "v1:" and the unpadded base64url of its HMAC.
func (ms *machineStore) key(tok string) string {
	h := hmac.New(sha256.New, ms.keyMAC)
	h.Write([]byte(tok))
	return "v1:" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// claimKey is the key under which a replica claims the token of the store
// key k: the same HMAC, another prefix.
func claimKey(k string) string { return "c1:" + strings.TrimPrefix(k, "v1:") }

// storeEntry is what a value holds, as JSON: a verdict of the Backend API.
type storeEntry struct {
	Kind     string          `json:"kind"`    // machinetoken.APIKey, M2M or OAuth
	Verdict  string          `json:"verdict"` // one of the verdict* constants
	At       int64           `json:"at"`      // Unix ms: when the Backend API answered
	Until    int64           `json:"until"`   // Unix ms: until when it may be reused
	ID       string          `json:"id,omitempty"`
	Subject  string          `json:"sub,omitempty"`
	Name     string          `json:"name,omitempty"`
	ClientID string          `json:"client_id,omitempty"`
	Scopes   []string        `json:"scopes"`
	Claims   json.RawMessage `json:"claims,omitempty"`
	Exp      int64           `json:"exp,omitempty"` // Unix ms: the token's expiry; 0: never
}

// The verdicts a store holds: signed in, and the three answers cached as
// negatives (see machineVerifier.negTTL).
const (
	verdictOK      = "ok"
	verdictUnknown = "unknown"
	verdictRevoked = "revoked"
	verdictExpired = "expired"
)

var verdictErrs = map[string]*AuthError{
	verdictUnknown: errMachineUnknown,
	verdictRevoked: errMachineRevoked,
	verdictExpired: errMachineExpired,
}

// seal returns the value of e under key: storeMagic, the HMAC of key and
// the JSON, and the JSON.
func (ms *machineStore) seal(key string, e *storeEntry) []byte {
	body, _ := json.Marshal(e)
	out := make([]byte, 0, len(storeMagic)+sha256.Size+len(body))
	out = append(out, storeMagic...)
	out = append(out, ms.mac(key, body)...)
	return append(out, body...)
}

func (ms *machineStore) mac(key string, body []byte) []byte {
	h := hmac.New(sha256.New, ms.valMAC)
	h.Write([]byte(key))
	h.Write([]byte{0}) // a key never holds a NUL
	h.Write(body)
	return h.Sum(nil)
}

// open checks a value read under key and returns its entry; ok is false
// for anything not sealed under that key by a holder of the secret keys.
func (ms *machineStore) open(key string, v []byte) (e storeEntry, ok bool) {
	if len(v) < len(storeMagic)+sha256.Size || len(v) > maxStoreValue || string(v[:len(storeMagic)]) != storeMagic {
		return e, false
	}
	tag, body := v[len(storeMagic):len(storeMagic)+sha256.Size], v[len(storeMagic)+sha256.Size:]
	if !hmac.Equal(tag, ms.mac(key, body)) {
		return e, false
	}
	if json.Unmarshal(body, &e) != nil {
		return e, false
	}
	return e, true
}

// storeCall runs f on ms's store with its timeout, in its own goroutine,
// so that a store ignoring ctx still costs a request no more than the
// timeout. At most cap(slots) calls run, abandoned ones included: past
// that the store is not asked.
func storeCall[T any](ctx context.Context, ms *machineStore, f func(ctx context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var zero T
	select {
	case ms.slots <- struct{}{}:
	default:
		return zero, errStoreBusy
	}
	ctx, cancel := context.WithTimeout(ctx, ms.timeout)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		defer func() { <-ms.slots }()
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

var errStoreBusy = errors.New("clerkauth: too many machine-token store calls running")

// loadShared is the load of an opaque machine token with a store: the
// store's verdict when it holds a valid one, else the Backend API's
// (through ask, under the breaker), which is then written to the store.
// With a MachineTokenClaimer, a replica that loses the claim of the token
// waits for the winner's verdict first (waitShared).
func (mv *machineVerifier) loadShared(ctx context.Context, kind, tok string) (*Auth, time.Time, error) {
	ms := mv.store
	key := ms.key(tok)
	v, err := storeCall(ctx, ms, func(ctx context.Context) ([]byte, error) { return ms.s.Get(ctx, key) })
	switch {
	case err != nil:
		ms.logger.Debug("clerkauth: machine-token store read failed; asking the Backend API", "err", err)
	case v != nil:
		if a, until, ok, aerr := mv.fromStore(kind, tok, key, v); ok {
			return a, until, aerr
		}
		ms.logger.Debug("clerkauth: machine-token store value rejected; asking the Backend API")
	}

	if !mv.breakerLets() {
		return nil, time.Time{}, errMachineBreaker
	}
	if err == nil && ms.claimer != nil {
		won, cerr := storeCall(ctx, ms, func(ctx context.Context) (bool, error) {
			return ms.claimer.Claim(ctx, claimKey(key), ms.wait)
		})
		switch {
		case cerr != nil:
			ms.logger.Debug("clerkauth: machine-token store claim failed; asking the Backend API", "err", cerr)
		case !won:
			a, until, ok, aerr, rerr := mv.waitShared(ctx, kind, tok, key)
			if ok {
				return a, until, aerr
			}
			if ctx.Err() != nil {
				return nil, time.Time{}, ctx.Err() // every request left
			}
			err = rerr // a failed read: not written to either
			if !mv.breakerLets() {
				return nil, time.Time{}, errMachineBreaker
			}
		}
	}
	a, until, lerr := mv.ask(ctx, kind, tok)
	if e := mv.toEntry(kind, a, until, lerr); e != nil && err == nil {
		// Not after a failed read: the store is likely down.
		ttl := time.UnixMilli(e.Until).Sub(mv.now()).Truncate(time.Millisecond)
		if val := ms.seal(key, e); ttl > 0 && len(val) <= maxStoreValue {
			_, err := storeCall(ctx, ms, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, ms.s.Set(ctx, key, val, ttl)
			})
			if err != nil {
				ms.logger.Debug("clerkauth: machine-token store write failed", "err", err)
			}
		}
	}
	return a, until, lerr
}

// fromStore returns the verdict of the value v read under key, for tok of
// kind; ok is false when v is not a valid verdict for it.
func (mv *machineVerifier) fromStore(kind, tok, key string, v []byte) (*Auth, time.Time, bool, error) {
	e, ok := mv.store.open(key, v)
	if !ok {
		return nil, time.Time{}, false, nil
	}
	a, until, aerr, ok := mv.fromEntry(kind, &e)
	switch {
	case !ok:
		return nil, time.Time{}, false, nil
	case aerr != nil:
		return nil, until, true, aerr
	}
	a.setToken(strings.Clone(tok)) // tok may hold a whole header alive
	return a, until, true, nil
}

// waitShared reads the store every ms.poll until it holds a valid verdict
// for tok, for at most ms.wait: the time another replica, which claimed
// tok, has to ask the Backend API and write its verdict. ok is false when
// none came: the wait ran out, ctx ended, or a read failed (rerr). Only a
// value sealed under key is ever taken, as in loadShared.
func (mv *machineVerifier) waitShared(ctx context.Context, kind, tok, key string) (a *Auth, until time.Time, ok bool, aerr, rerr error) {
	ms := mv.store
	deadline := time.Now().Add(ms.wait) // a duration, not a time of day: not Options.Now
	t := time.NewTimer(ms.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, time.Time{}, false, nil, nil
		case <-t.C:
		}
		v, err := storeCall(ctx, ms, func(ctx context.Context) ([]byte, error) { return ms.s.Get(ctx, key) })
		if err != nil {
			ms.logger.Debug("clerkauth: machine-token store read failed while waiting for a claim; asking the Backend API", "err", err)
			return nil, time.Time{}, false, nil, err
		}
		if v != nil {
			if a, until, ok, aerr := mv.fromStore(kind, tok, key, v); ok {
				return a, until, true, aerr, nil
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			ms.logger.Debug("clerkauth: no verdict in the machine-token store from the replica that claimed the token; asking the Backend API")
			return nil, time.Time{}, false, nil, nil
		}
		t.Reset(min(ms.poll, left))
	}
}

// toEntry returns the entry recording the Backend API's verdict, kept as
// long as this instance's cache keeps it (until) and no longer than the
// token; nil for a failure, which is never stored.
func (mv *machineVerifier) toEntry(kind string, a *Auth, until time.Time, err error) *storeEntry {
	e := &storeEntry{Kind: kind, At: mv.now().UnixMilli(), Until: until.UnixMilli()}
	if err != nil {
		for verdict, ve := range verdictErrs {
			if err == error(ve) {
				e.Verdict = verdict
				return e
			}
		}
		return nil
	}
	m := a.Machine
	e.Verdict = verdictOK
	e.ID, e.Subject, e.Name, e.ClientID, e.Scopes, e.Claims = m.ID, m.Subject, m.Name, m.ClientID, m.Scopes, m.Claims
	if !m.ExpiresAt.IsZero() {
		e.Exp = m.ExpiresAt.UnixMilli()
		e.Until = min(e.Until, e.Exp)
	}
	return e
}

// fromEntry returns the verdict of an authenticated entry for a token of
// kind, and until when this instance may reuse it: the cache TTL counted
// from when the Backend API answered, as if this instance had asked then.
// ok is false for an entry of another kind, an unknown verdict, one that
// has outlived that time or the token's own expiry, or one written more
// than ClockSkew in the future (by a replica whose clock is wrong).
func (mv *machineVerifier) fromEntry(kind string, e *storeEntry) (a *Auth, until time.Time, aerr *AuthError, ok bool) {
	ttl := mv.ttl
	if e.Verdict != verdictOK {
		if aerr = verdictErrs[e.Verdict]; aerr == nil {
			return nil, until, nil, false
		}
		ttl = mv.negTTL
	}
	now := mv.now()
	until = time.UnixMilli(min(e.Until, e.At+ttl.Milliseconds(), now.Add(ttl).UnixMilli()))
	if e.Kind != kind || !now.Before(until) || e.At > now.Add(mv.store.skew).UnixMilli() ||
		e.Exp != 0 && now.UnixMilli() >= e.Exp ||
		e.Verdict == verdictOK && e.Subject == "" {
		return nil, until, nil, false
	}
	if aerr != nil {
		return nil, until, aerr, true
	}
	f := machinetoken.Fields{ID: e.ID, Subject: e.Subject, Name: e.Name, ClientID: e.ClientID,
		Scopes: e.Scopes, Claims: e.Claims}
	if e.Exp != 0 {
		f.ExpiresAt = time.UnixMilli(e.Exp)
	}
	return machineAuth(kind, f), until, nil, true
}
