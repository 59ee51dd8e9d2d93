// Package keyring holds a set of keys indexed by kid, downloaded from a
// remote source, and owns its refresh policy:
//
//   - one download in flight however many callers wait for it;
//   - a periodic refresh, due Interval after the last download (by the
//     injected clock), started by the first lookup that finds it due or
//     by the background loop, never making a caller wait;
//   - at most one refresh per Cooldown caused by unknown kids, so a flood
//     of random kids costs one download per cooldown. An unknown kid is
//     [ErrKidMismatch] only when a download that started after the lookup
//     arrived did not hold it; when the cooldown refused that download,
//     the answer is [ErrRefreshRefused]: the keys may have rotated and
//     nobody checked;
//   - the last good keys kept when a refresh fails; Close stops everything.
//
// Every time it reads (cooldown, backoff, due refresh) comes from the
// injected clock, so tests drive it without sleeping. It knows no
// clerkauth types.
package keyring

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// FailureBackoff is the least time between two attempts to load keys
// while none are loaded, so that an outage does not turn every lookup into
// a download.
const FailureBackoff = time.Second

var (
	// ErrKidMismatch: no key has the kid, and a download made after the
	// lookup arrived (or the set itself) says so.
	ErrKidMismatch = errors.New("keyring: no key with this kid")
	// ErrRefreshRefused: the kid is unknown and the cooldown refused the
	// download that would tell whether the keys rotated.
	ErrRefreshRefused = errors.New("keyring: unknown kid; refreshed for another unknown kid within the cooldown")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("keyring: closed")
	// ErrTimeout: the wait for a download exceeded Options.Wait.
	ErrTimeout = errors.New("keyring: timed out waiting for the keys")
)

// Set is an immutable snapshot of the keys, replaced whole on refresh.
type Set[V comparable] struct {
	ByKid    map[string]V
	Unusable map[string]bool // kids named with no usable key, or removed: no refresh can help
	seq      uint64          // the download that produced it
}

// retire records in s.Unusable the kids of prev that s no longer has: a
// token with such a kid is rejected at once, without a refresh. At most
// maxUnusable are remembered.
func (s *Set[V]) retire(prev *Set[V], maxUnusable int) {
	if prev == nil {
		return
	}
	var zero V
	add := func(kid string) {
		if s.ByKid[kid] != zero || len(s.Unusable) >= maxUnusable {
			return
		}
		if s.Unusable == nil {
			s.Unusable = make(map[string]bool)
		}
		s.Unusable[kid] = true
	}
	for kid := range prev.ByKid {
		add(kid)
	}
	for kid := range prev.Unusable {
		add(kid)
	}
}

// Options configures a Ring.
type Options[V comparable] struct {
	// Fetch downloads the keys once; ctx is bounded by 2*Wait and
	// cancelled by Close.
	Fetch func(ctx context.Context) (byKid map[string]V, unusable map[string]bool, err error)
	// Failed is told of a failed download (hadKeys: older keys are kept)
	// before the callers waiting for it are woken; not of one that Close
	// ended, which is a shutdown, not a failure.
	Failed func(err error, hadKeys bool)
	// Now is the injected clock.
	Now      func() time.Time
	Interval time.Duration // periodic refresh
	Cooldown time.Duration // between refreshes caused by unknown kids
	Wait     time.Duration // longest wait of one lookup
	// MaxKidLen bounds a kid worth a download; MaxUnusable the kids
	// remembered as unusable.
	MaxKidLen, MaxUnusable int
}

// Ring is a key set and its refresh policy. Build it with New.
type Ring[V comparable] struct {
	o Options[V]

	snap   atomic.Pointer[Set[V]] // nil until the first good download
	due    atomic.Int64           // UnixNano (injected clock) when the next refresh is due
	ctx    context.Context        // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines

	mu             sync.Mutex // guards the fields below
	inflight       *download
	lastKidRefresh time.Time // start of the last refresh caused by an unknown kid
	lastFailure    time.Time // end of the last failed download
	lastErr        error     // error of the last download; nil after a success
	closed         bool
	fetches        uint64 // downloads started; the seq of the latest
}

// download is one download; done is closed when err is set.
type download struct {
	done chan struct{}
	err  error
	seq  uint64
}

// New returns a Ring and starts its background loop, which downloads the
// keys at once.
func New[V comparable](o Options[V]) *Ring[V] {
	r := &Ring[V]{o: o}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.loop()
	return r
}

// loop downloads the keys at once, then wakes up four times per interval
// and starts the refresh when the injected clock says it is due (or, with
// no keys yet, when the failure backoff has passed), until Close.
func (r *Ring[V]) loop() {
	defer r.wg.Done()
	t := time.NewTicker(max(r.o.Interval/4, time.Millisecond))
	defer t.Stop()
	for {
		now := r.o.Now()
		r.mu.Lock()
		if r.snap.Load() == nil {
			if r.lastErr == nil || now.Sub(r.lastFailure) >= min(FailureBackoff, r.o.Cooldown) {
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

// Close stops the background loop and the download in flight, and waits
// for them.
func (r *Ring[V]) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// Snapshot returns the current set; nil before the first good download.
func (r *Ring[V]) Snapshot() *Set[V] { return r.snap.Load() }

// Fetches returns the number of downloads started.
func (r *Ring[V]) Fetches() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

// WaitIdle waits for the download in flight, if any.
func (r *Ring[V]) WaitIdle() {
	r.mu.Lock()
	d := r.inflight
	r.mu.Unlock()
	if d != nil {
		<-d.done
	}
}

// Current reports whether v is still the key of kid, without a download;
// it starts a background refresh when one is due at now.
func (r *Ring[V]) Current(kid string, v V, now time.Time) bool {
	r.refreshIfDue(now)
	s := r.snap.Load()
	return s != nil && s.ByKid[kid] == v
}

// refreshIfDue starts a background refresh when one is due at now. It
// costs one atomic load when none is.
func (r *Ring[V]) refreshIfDue(now time.Time) {
	if now.UnixNano() < r.due.Load() {
		return
	}
	r.mu.Lock()
	if r.snap.Load() != nil && now.UnixNano() >= r.due.Load() {
		r.startLocked(now)
	}
	r.mu.Unlock()
}

// Lookup returns the key of kid, downloading the keys when needed. Its
// errors are ErrKidMismatch, ErrRefreshRefused, ErrClosed, ErrTimeout,
// ctx's error, or the error of the download (Fetch's).
func (r *Ring[V]) Lookup(ctx context.Context, kid string) (V, error) {
	var zero V
	s := r.snap.Load()
	if s != nil {
		if k, ok := s.ByKid[kid]; ok {
			r.refreshIfDue(r.o.Now())
			return k, nil
		}
	}
	if kid == "" || len(kid) > r.o.MaxKidLen {
		// Not a kid worth a download: no refresh can help.
		if s == nil {
			r.mu.Lock()
			err := r.lastErr
			r.mu.Unlock()
			if err != nil {
				return zero, err
			}
		}
		return zero, ErrKidMismatch
	}

	var timer *time.Timer // bounds the whole wait, however many downloads
	r.mu.Lock()
	arrival := r.fetches // downloads with a greater seq started after this lookup arrived
	for {
		s = r.snap.Load()
		if s != nil {
			if k, ok := s.ByKid[kid]; ok {
				r.mu.Unlock()
				return k, nil
			}
			if s.seq > arrival || s.Unusable[kid] {
				// A download made for (or after) this lookup lacks the
				// kid, or the set has it with a key that is not accepted.
				r.mu.Unlock()
				return zero, ErrKidMismatch
			}
		}
		d := r.inflight
		if d == nil {
			now := r.o.Now()
			switch {
			case s == nil && r.lastErr != nil && now.Sub(r.lastFailure) < min(FailureBackoff, r.o.Cooldown):
				err := r.lastErr
				r.mu.Unlock()
				return zero, err
			case s != nil && !r.lastKidRefresh.IsZero() && now.Sub(r.lastKidRefresh) < r.o.Cooldown:
				r.mu.Unlock()
				return zero, ErrRefreshRefused
			}
			if s != nil {
				r.lastKidRefresh = now
			}
			if d = r.startLocked(now); d == nil {
				r.mu.Unlock()
				return zero, ErrClosed
			}
		}
		r.mu.Unlock()

		if timer == nil {
			timer = time.NewTimer(r.o.Wait)
			defer timer.Stop()
		}
		select {
		case <-d.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-timer.C:
			return zero, ErrTimeout
		}
		if d.err != nil {
			return zero, d.err
		}
		r.mu.Lock()
	}
}

// startLocked starts a download unless one is in flight, and returns the
// download in flight. It returns nil after Close. r.mu must be held.
func (r *Ring[V]) startLocked(now time.Time) *download {
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
	r.due.Store(now.Add(r.o.Interval).UnixNano())
	r.wg.Add(1)
	go r.run(d)
	return d
}

func (r *Ring[V]) run(d *download) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, 2*r.o.Wait)
	byKid, unusable, err := r.o.Fetch(ctx)
	cancel()
	end := r.o.Now()
	r.mu.Lock()
	prev := r.snap.Load()
	if err == nil {
		set := &Set[V]{ByKid: byKid, Unusable: unusable, seq: d.seq}
		set.retire(prev, r.o.MaxUnusable)
		r.snap.Store(set)
		r.lastErr = nil
		r.due.Store(end.Add(r.o.Interval).UnixNano())
	} else {
		r.lastErr = err
		r.lastFailure = end
		// Try again sooner than a full interval, but not in a loop.
		r.due.Store(end.Add(min(r.o.Interval, max(r.o.Cooldown, FailureBackoff))).UnixNano())
	}
	d.err = err
	r.inflight = nil
	r.mu.Unlock()
	// Report before waking the waiters: what they report is logged.
	if err != nil && r.ctx.Err() == nil {
		r.o.Failed(err, prev != nil)
	}
	close(d.done)
}
