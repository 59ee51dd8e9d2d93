package clerkauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

const (
	maxJWKSBytes = 1 << 20 // a Clerk JWKS is about 1 KiB
	maxKeys      = 64
	maxKidLen    = 256
	// failureBackoff is the least time between two attempts to load keys
	// while none are loaded, so that a JWKS outage does not turn every
	// request into a fetch.
	failureBackoff = time.Second
)

// verifyKey is one usable verification key.
type verifyKey struct {
	kid string
	pub *rsa.PublicKey
	alg string // the alg the key declares; "" allows RS256 only
}

// keySet is an immutable snapshot of the keys, replaced whole on refresh.
type keySet struct {
	byKid map[string]*verifyKey
	kf    keyfunc.Keyfunc
}

// keys finds the key for a token: the single PEM key, or the remote JWKS.
type keys struct {
	static *verifyKey
	remote *remoteKeys
}

// lookup returns the key for kid, fetching the JWKS when needed.
func (k *keys) lookup(ctx context.Context, kid string) (*verifyKey, *AuthError) {
	if k.static != nil {
		return k.static, nil
	}
	return k.remote.lookup(ctx, kid)
}

// current reports whether key is still the key for kid, without fetching.
func (k *keys) current(key *verifyKey) bool {
	if k.static != nil {
		return key == k.static
	}
	s := k.remote.snap.Load()
	return s != nil && s.byKid[key.kid] == key
}

func (k *keys) close() {
	if k.remote != nil {
		k.remote.close()
	}
}

// remoteKeys holds the JWKS of an instance and owns its refresh policy:
// one download in flight however many requests wait for it, a cooldown
// between refreshes caused by unknown kids, the last good keys kept when a
// refresh fails, and a background refresh that close stops.
type remoteKeys struct {
	url        string
	secret     string // sent as a bearer token; "" for public JWKS URLs
	client     *http.Client
	logger     *slog.Logger
	cooldown   time.Duration
	keyWait    time.Duration
	interval   time.Duration
	fetchLimit time.Duration

	snap   atomic.Pointer[keySet] // nil until the first good download
	ctx    context.Context        // canceled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines

	mu             sync.Mutex // guards the fields below
	inflight       *download
	lastKidRefresh time.Time  // start of the last refresh caused by an unknown kid
	lastFailure    time.Time  // end of the last failed download
	lastErr        *AuthError // error of the last download; nil after a success
	closed         bool
	fetches        int // downloads started, for tests and metrics
}

// download is one JWKS download; done is closed when err is set.
type download struct {
	done chan struct{}
	err  *AuthError
}

func newRemoteKeys(c *config) *remoteKeys {
	ctx, cancel := context.WithCancel(context.Background())
	r := &remoteKeys{
		url:        c.jwksURL,
		client:     c.httpClient,
		logger:     c.logger,
		cooldown:   c.cooldown,
		keyWait:    c.keyWait,
		interval:   c.refreshInterval,
		fetchLimit: 2 * c.keyWait,
		ctx:        ctx,
		cancel:     cancel,
	}
	if c.jwksSendSecret {
		r.secret = c.secretKey
	}
	r.wg.Add(1)
	go r.loop()
	return r
}

// loop downloads the keys at once and then every interval, until close.
func (r *remoteKeys) loop() {
	defer r.wg.Done()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for first := true; ; first = false {
		var d *download
		r.mu.Lock()
		if !first || r.snap.Load() == nil { // a request may have loaded the keys already
			d = r.startLocked()
		}
		r.mu.Unlock()
		if d != nil {
			select {
			case <-d.done:
			case <-r.ctx.Done():
				return
			}
		}
		select {
		case <-t.C:
		case <-r.ctx.Done():
			return
		}
	}
}

func (r *remoteKeys) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

func (r *remoteKeys) lookup(ctx context.Context, kid string) (*verifyKey, *AuthError) {
	s := r.snap.Load()
	if s != nil {
		if k := s.byKid[kid]; k != nil {
			return k, nil
		}
	}
	if kid == "" || len(kid) > maxKidLen {
		// Not a kid Clerk issues: no refresh can help.
		if s == nil {
			if err := r.lastError(); err != nil {
				return nil, err
			}
		}
		return nil, errKidMismatch
	}

	r.mu.Lock()
	d := r.inflight
	if d == nil {
		now := time.Now()
		switch {
		case s == nil && r.lastErr != nil && now.Sub(r.lastFailure) < min(failureBackoff, r.cooldown):
			err := r.lastErr
			r.mu.Unlock()
			return nil, err
		case s != nil && !r.lastKidRefresh.IsZero() && now.Sub(r.lastKidRefresh) < r.cooldown:
			r.mu.Unlock()
			return nil, errKidMismatch
		}
		if s != nil {
			r.lastKidRefresh = now
		}
		d = r.startLocked()
		if d == nil {
			r.mu.Unlock()
			return nil, errKeysClosed
		}
	}
	r.mu.Unlock()

	t := time.NewTimer(r.keyWait)
	defer t.Stop()
	select {
	case <-d.done:
	case <-ctx.Done():
		return nil, &AuthError{Reason: ReasonJWKRemoteFailedToLoad, Kind: ErrKeysUnavailable,
			Detail: "request ended while waiting for keys", Err: ctx.Err()}
	case <-t.C:
		return nil, errKeyWait
	}
	if s = r.snap.Load(); s != nil {
		if k := s.byKid[kid]; k != nil {
			return k, nil
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return nil, errKidMismatch
}

var (
	errKeysClosed = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad, "middleware closed")
	errKeyWait    = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad, "timed out waiting for the JWKS")
)

func (r *remoteKeys) lastError() *AuthError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// startLocked starts a download unless one is in flight, and returns the
// download in flight. It returns nil after close. r.mu must be held.
func (r *remoteKeys) startLocked() *download {
	if r.inflight != nil {
		return r.inflight
	}
	if r.closed {
		return nil
	}
	d := &download{done: make(chan struct{})}
	r.inflight = d
	r.fetches++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		set, err := r.fetch()
		r.mu.Lock()
		if err == nil {
			r.snap.Store(set)
			r.lastErr = nil
		} else {
			r.lastErr = err
			r.lastFailure = time.Now()
		}
		d.err = err
		r.inflight = nil
		r.mu.Unlock()
		close(d.done)
		if err != nil {
			r.logger.Warn("clerkauth: JWKS refresh failed; keeping the last good keys",
				"reason", err.Reason, "error", err.Error(), "url", r.url)
		}
	}()
	return d
}

// fetch downloads and parses the JWKS.
func (r *remoteKeys) fetch() (*keySet, *AuthError) {
	ctx, cancel := context.WithTimeout(r.ctx, r.fetchLimit)
	defer cancel()
	fail := func(reason, detail string, err error) (*keySet, *AuthError) {
		return nil, &AuthError{Reason: reason, Kind: ErrKeysUnavailable, Detail: detail, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "bad JWKS URL", nil)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if r.secret != "" {
		req.Header.Set("Authorization", "Bearer "+r.secret)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS request failed", redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "reading the JWKS failed", err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fail(ReasonSecretKeyInvalid, fmt.Sprintf("the JWKS endpoint refused the secret key (HTTP %d)", resp.StatusCode), nil)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(ReasonJWKRemoteFailedToLoad, fmt.Sprintf("JWKS endpoint answered HTTP %d", resp.StatusCode), nil)
	}
	if len(body) > maxJWKSBytes {
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS larger than 1 MiB", nil)
	}
	set, skipped, err := parseJWKS(body)
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS unusable", err)
	}
	if skipped > 0 {
		r.logger.Debug("clerkauth: skipped unusable keys in the JWKS", "skipped", skipped, "usable", len(set.byKid))
	}
	return set, nil
}

// parseJWKS parses a JWKS and keeps the RSA signing keys of at least 2048
// bits; one bad key does not sink the others. It fails when no key is usable.
func parseJWKS(body []byte) (set *keySet, skipped int, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, errors.New("not a JSON Web Key Set")
	}
	byKid := make(map[string]*verifyKey, len(doc.Keys))
	store := jwkset.NewMemoryStorage()
	for i, raw := range doc.Keys {
		if i >= maxKeys {
			skipped += len(doc.Keys) - i
			break
		}
		k, jwk, ok := parseJWK(raw)
		if !ok || byKid[k.kid] != nil {
			skipped++
			continue
		}
		byKid[k.kid] = k
		if store.KeyWrite(context.Background(), jwk) != nil {
			skipped++
			delete(byKid, k.kid)
		}
	}
	if len(byKid) == 0 {
		return nil, skipped, errors.New("no usable RSA signing key of at least 2048 bits")
	}
	kf, err := keyfunc.New(keyfunc.Options{Storage: store})
	if err != nil {
		return nil, skipped, err
	}
	return &keySet{byKid: byKid, kf: kf}, skipped, nil
}

func parseJWK(raw json.RawMessage) (*verifyKey, jwkset.JWK, bool) {
	jwk, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, jwkset.JWK{}, false
	}
	m := jwk.Marshal()
	pub, ok := jwk.Key().(*rsa.PublicKey)
	if !ok || m.KID == "" || len(m.KID) > maxKidLen || pub.N.BitLen() < 2048 {
		return nil, jwkset.JWK{}, false
	}
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, jwkset.JWK{}, false
	}
	switch m.ALG {
	case "", jwkset.AlgRS256, jwkset.AlgRS384, jwkset.AlgRS512:
	default:
		return nil, jwkset.JWK{}, false
	}
	return &verifyKey{kid: m.KID, pub: pub, alg: string(m.ALG)}, jwk, true
}

// redactURLError drops the URL from a *url.Error (it is logged apart) and
// keeps the cause.
func redactURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// jwtKeyfunc adapts the current keys to golang-jwt: the PEM key whatever
// the kid, or the JWKS key with the token's kid (through keyfunc). Only the
// RSA algorithms are ever given a key.
func (k *keys) jwtKeyfunc() jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("clerkauth: unexpected signing method %q", t.Method.Alg())
		}
		if k.static != nil {
			return k.static.pub, nil
		}
		s := k.remote.snap.Load()
		if s == nil {
			return nil, ErrKeysUnavailable
		}
		return s.kf.Keyfunc(t)
	}
}
