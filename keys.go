package clerkauth

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/clerkauth/clerkauth/internal/jwks"
)

const (
	maxKeys   = jwks.MaxKeys
	maxKidLen = jwks.MaxKidLen
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
	byKid    map[string]*verifyKey
	unusable map[string]bool // kids the JWKS named with no usable key, or removed: no refresh can help
	seq      uint64          // the download that produced it (remoteKeys.fetches)
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

// current reports whether key is still the key for kid, without fetching;
// it starts a background refresh when one is due at now.
func (k *keys) current(key *verifyKey, now time.Time) bool {
	if k.static != nil {
		return key == k.static
	}
	k.remote.refreshIfDue(now)
	s := k.remote.snap.Load()
	return s != nil && s.byKid[key.kid] == key
}

func (k *keys) close() {
	if k.remote != nil {
		k.remote.close()
	}
}

// remoteKeys holds the JWKS of an instance and owns its refresh policy:
//
//   - one download in flight however many requests wait for it;
//   - a periodic refresh, due interval after the last download (by the
//     injected clock), started by the first request that finds it due or
//     by the background loop, never making a request wait;
//   - at most one refresh per cooldown caused by unknown kids, so a flood
//     of random kids costs one download per cooldown. A token whose kid is
//     unknown is rejected with jwk-kid-mismatch only when a download that
//     started after the token arrived did not hold its kid; when the
//     cooldown refused that download, the answer is 503 (keys unavailable):
//     the keys may have rotated and we did not check;
//   - the last good keys kept when a refresh fails; close stops everything.
//
// Every time it reads (cooldown, backoff, due refresh) comes from the
// injected clock, so tests drive it without sleeping.
type remoteKeys struct {
	url        string // what the client sends to: a path of the API URL, or an absolute URL
	cred       credential
	client     *Client // the one function that sends: Client.send
	logger     *slog.Logger
	now        func() time.Time
	cooldown   time.Duration
	keyWait    time.Duration
	interval   time.Duration
	fetchLimit time.Duration

	snap   atomic.Pointer[keySet] // nil until the first good download
	due    atomic.Int64           // UnixNano (injected clock) when the next refresh is due
	ctx    context.Context        // canceled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines

	mu             sync.Mutex // guards the fields below
	inflight       *download
	lastKidRefresh time.Time  // start of the last refresh caused by an unknown kid
	lastFailure    time.Time  // end of the last failed download
	lastErr        *AuthError // error of the last download; nil after a success
	closed         bool
	fetches        uint64 // downloads started; the seq of the latest
}

// retire records in s.unusable the kids of prev that s no longer has:
// Clerk removed them, so a token with such a kid is rejected at once,
// without a refresh. At most maxKeys are remembered.
func (s *keySet) retire(prev *keySet) {
	if prev == nil {
		return
	}
	add := func(kid string) {
		if s.byKid[kid] != nil || len(s.unusable) >= maxKeys {
			return
		}
		if s.unusable == nil {
			s.unusable = make(map[string]bool)
		}
		s.unusable[kid] = true
	}
	for kid := range prev.byKid {
		add(kid)
	}
	for kid := range prev.unusable {
		add(kid)
	}
}

// download is one JWKS download; done is closed when err is set.
type download struct {
	done chan struct{}
	err  *AuthError
	seq  uint64
}

func newRemoteKeys(c *config, client *Client) *remoteKeys {
	ctx, cancel := context.WithCancel(context.Background())
	r := &remoteKeys{
		url:        c.jwksURL,
		client:     client,
		logger:     c.logger,
		now:        c.now,
		cooldown:   c.cooldown,
		keyWait:    c.keyWait,
		interval:   c.refreshInterval,
		fetchLimit: 2 * c.keyWait,
		ctx:        ctx,
		cancel:     cancel,
	}
	if c.jwksSendSecret {
		// The Backend API's own endpoint: a path of the API URL, sent
		// with the secret key.
		r.url, r.cred = jwksPath, credSecret
	}
	r.wg.Add(1)
	go r.loop()
	return r
}

// jwksPath is the Backend API's JWKS endpoint.
const jwksPath = "/v1/jwks"

// loop downloads the keys at once, then wakes up four times per interval
// and starts the refresh when the injected clock says it is due (or, with
// no keys yet, when the failure backoff has passed), until close.
func (r *remoteKeys) loop() {
	defer r.wg.Done()
	t := time.NewTicker(max(r.interval/4, time.Millisecond))
	defer t.Stop()
	for {
		now := r.now()
		r.mu.Lock()
		if r.snap.Load() == nil {
			if r.lastErr == nil || now.Sub(r.lastFailure) >= min(failureBackoff, r.cooldown) {
				r.startLocked(now)
			}
		} else if now.UnixNano() >= r.due.Load() {
			r.startLocked(now)
		}
		r.mu.Unlock()
		select {
		case <-t.C:
		case <-r.ctx.Done():
			return
		}
	}
}

// refreshIfDue starts a background refresh when one is due at now. It
// costs one atomic load when none is.
func (r *remoteKeys) refreshIfDue(now time.Time) {
	if now.UnixNano() < r.due.Load() {
		return
	}
	r.mu.Lock()
	if r.snap.Load() != nil && now.UnixNano() >= r.due.Load() {
		r.startLocked(now)
	}
	r.mu.Unlock()
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
			r.refreshIfDue(r.now())
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

	var timer *time.Timer // bounds the whole wait, however many downloads
	r.mu.Lock()
	arrival := r.fetches // downloads with a greater seq started after this request arrived
	for {
		s = r.snap.Load()
		if s != nil {
			if k := s.byKid[kid]; k != nil {
				r.mu.Unlock()
				return k, nil
			}
			if s.seq > arrival || s.unusable[kid] {
				// A download made for (or after) this request lacks the
				// kid, or the JWKS has it with a key we do not accept.
				r.mu.Unlock()
				return nil, errKidMismatch
			}
		}
		d := r.inflight
		if d == nil {
			now := r.now()
			switch {
			case s == nil && r.lastErr != nil && now.Sub(r.lastFailure) < min(failureBackoff, r.cooldown):
				err := r.lastErr
				r.mu.Unlock()
				return nil, err
			case s != nil && !r.lastKidRefresh.IsZero() && now.Sub(r.lastKidRefresh) < r.cooldown:
				r.mu.Unlock()
				return nil, errKidRefreshRefused
			}
			if s != nil {
				r.lastKidRefresh = now
			}
			if d = r.startLocked(now); d == nil {
				r.mu.Unlock()
				return nil, errKeysClosed
			}
		}
		r.mu.Unlock()

		if timer == nil {
			timer = time.NewTimer(r.keyWait)
			defer timer.Stop()
		}
		select {
		case <-d.done:
		case <-ctx.Done():
			return nil, &AuthError{Reason: ReasonJWKRemoteFailedToLoad, Kind: ErrKeysUnavailable,
				Detail: "request ended while waiting for keys", Err: ctx.Err()}
		case <-timer.C:
			return nil, errKeyWait
		}
		if d.err != nil {
			return nil, d.err
		}
		r.mu.Lock()
	}
}

var (
	errKeysClosed = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad, "middleware closed")
	errKeyWait    = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad, "timed out waiting for the JWKS")
	// errKidRefreshRefused: the kid is unknown and the cooldown refused the
	// download that would tell whether the keys rotated. Not the client's
	// fault as far as we know: 503, never a 401 that signs a user out.
	errKidRefreshRefused = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad,
		"unknown kid; the JWKS was refreshed for another unknown kid within the cooldown")
)

func (r *remoteKeys) lastError() *AuthError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// startLocked starts a download unless one is in flight, and returns the
// download in flight. It returns nil after close. r.mu must be held.
func (r *remoteKeys) startLocked(now time.Time) *download {
	if r.inflight != nil {
		return r.inflight
	}
	if r.closed {
		return nil
	}
	r.fetches++
	d := &download{done: make(chan struct{}), seq: r.fetches}
	r.inflight = d
	// Not due again while this one runs.
	r.due.Store(now.Add(r.interval).UnixNano())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		set, err := r.fetch(d.seq)
		end := r.now()
		r.mu.Lock()
		hadKeys := r.snap.Load() != nil
		if err == nil {
			set.retire(r.snap.Load())
			r.snap.Store(set)
			r.lastErr = nil
			r.due.Store(end.Add(r.interval).UnixNano())
		} else {
			r.lastErr = err
			r.lastFailure = end
			// Try again sooner than a full interval, but not in a loop.
			r.due.Store(end.Add(min(r.interval, max(r.cooldown, failureBackoff))).UnixNano())
		}
		d.err = err
		r.inflight = nil
		r.mu.Unlock()
		// Log before waking the waiters: what they report is logged.
		defer close(d.done)
		switch {
		case err == nil:
		case hadKeys:
			r.logger.Warn("clerkauth: JWKS refresh failed; keeping the last good keys",
				"reason", err.Reason, "error", err.Error(), "url", r.url)
		default:
			r.logger.Warn("clerkauth: JWKS download failed and no keys were ever loaded; "+
				"requests needing a key get 503 until a download succeeds",
				"reason", err.Reason, "error", err.Error(), "url", r.url)
		}
	}()
	return d
}

// fetch downloads and parses the JWKS through the Backend API request path
// (Client.send: headers, credentials, redaction, 1 MiB cap), one attempt:
// the refresh policy above decides when to try again.
func (r *remoteKeys) fetch(seq uint64) (*keySet, *AuthError) {
	ctx, cancel := context.WithTimeout(r.ctx, r.fetchLimit)
	defer cancel()
	fail := func(reason, detail string, err error) (*keySet, *AuthError) {
		return nil, &AuthError{Reason: reason, Kind: ErrKeysUnavailable, Detail: detail, Err: err}
	}
	body, apiErr, err := r.client.send(ctx, r.cred, http.MethodGet, r.url, nil)
	switch {
	case err != nil:
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS request failed", err)
	case apiErr != nil && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
		return fail(ReasonSecretKeyInvalid, fmt.Sprintf("the JWKS endpoint refused the secret key (HTTP %d)", apiErr.StatusCode), nil)
	case apiErr != nil:
		return fail(ReasonJWKRemoteFailedToLoad, fmt.Sprintf("JWKS endpoint answered HTTP %d", apiErr.StatusCode), nil)
	}
	set, skipped, err := parseJWKS(body)
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS unusable", err)
	}
	set.seq = seq
	if skipped > 0 {
		r.logger.Debug("clerkauth: skipped unusable keys in the JWKS", "skipped", skipped, "usable", len(set.byKid))
	}
	return set, nil
}

// parseJWKS parses a JWKS (see [jwks.Parse]) into a key set.
func parseJWKS(body []byte) (set *keySet, skipped int, err error) {
	parsed, err := jwks.Parse(body)
	if err != nil {
		return nil, 0, err
	}
	byKid := make(map[string]*verifyKey, len(parsed.Keys))
	for _, k := range parsed.Keys {
		byKid[k.Kid] = &verifyKey{kid: k.Kid, pub: k.Pub, alg: k.Alg}
	}
	return &keySet{byKid: byKid, unusable: parsed.Unusable}, parsed.Skipped, nil
}

// jwtKeyfunc adapts the keys to golang-jwt, deciding as the middleware
// does: the same lookup (the first download awaited, bounded by
// KeyWaitTimeout; an unknown kid refreshed through the same single flight
// and cooldown) and exactly the algorithms the middleware accepts (RS256,
// or RS384/RS512 with a key that declares it).
func (k *keys) jwtKeyfunc() jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if h, _ := t.Header["alg"].(string); h != alg || alg != "RS256" && alg != "RS384" && alg != "RS512" {
			return nil, errAlg
		}
		kid, ok := t.Header["kid"].(string)
		if !ok && k.static == nil {
			return nil, errKidMismatch
		}
		key, aerr := k.lookup(context.Background(), kid)
		if aerr != nil {
			return nil, aerr
		}
		if signingMethod(alg, key) == nil {
			return nil, errAlg
		}
		return key.pub, nil
	}
}
