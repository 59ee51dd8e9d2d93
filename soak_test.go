package clerkauth

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentSoak sends a mix of valid, expired, forged, random-kid and
// retired-key tokens from many goroutines through RequireAuth over a real
// loopback HTTP server while the instance's keys rotate, and checks every
// single answer. It stops by itself (about 3 s; 1 s with -short).
//
// Rotation is coordinated so that every expected answer is exact: phase p
// serves kids {k<p>, k<p+1>}; clients sign valid tokens with the "stable"
// kid that is in both the middleware's current set and the next one; a key
// is removed from the server only while no request is in flight (a write
// lock), and is "retired" (its tokens expected to fail) once the
// middleware's key set no longer holds it.
func TestConcurrentSoak(t *testing.T) {
	duration := 3 * time.Second
	if testing.Short() {
		duration = time.Second
	}
	const workers = 12
	attacker := hTestKeys()[3]
	kidKey := func(i int) hkey { return hkey{kid: "k" + strconv.Itoa(i), priv: hTestKeys()[i%3]} }
	setOf := func(p int) []byte { return hJwksOf(kidKey(p), kidKey(p+1)) }

	jwks := hNewJWKSServer(t, setOf(0))
	m := hNewTestMW(t, Options{
		JWKSURL:             jwks.URL + "/.well-known/jwks.json",
		JWKSRefreshInterval: 20 * time.Millisecond,
		JWKSCooldown:        20 * time.Millisecond,
		KeyWaitTimeout:      2 * time.Second,
		HTTPClient:          &http.Client{Timeout: 2 * time.Second},
	})
	app := httptest.NewServer(m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "user="+GetAuth(r).UserID)
	})))
	defer app.Close()

	// mwHas reports whether the middleware's key set is exactly phase p's.
	mwHas := func(p int) bool {
		s := m.c.keys.snapshot()
		return s != nil && len(s.ByKid) == 2 && s.ByKid[kidKey(p).kid] != nil && s.ByKid[kidKey(p+1).kid] != nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	waitMW := func(p int) bool {
		deadline := time.Now().Add(10 * time.Second)
		for !mwHas(p) {
			if time.Now().After(deadline) {
				t.Errorf("the middleware never loaded phase %d's keys", p)
				return false
			}
			time.Sleep(2 * time.Millisecond)
		}
		return true
	}
	if !waitMW(0) {
		return
	}

	var (
		rw      sync.RWMutex // write-held while a key leaves the server
		stable  atomic.Int64 // kid index valid in the middleware now and next phase
		retired atomic.Int64 // highest kid index the middleware no longer holds; -1 none
		phases  atomic.Int64
	)
	stable.Store(1)
	retired.Store(-1)

	var rotator sync.WaitGroup
	rotator.Add(1)
	go func() {
		defer rotator.Done()
		for p := 0; ; p++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(150 * time.Millisecond):
			}
			rw.Lock()
			jwks.setBody(setOf(p + 1)) // k<p> leaves the server
			rw.Unlock()
			if !waitMW(p + 1) {
				return
			}
			retired.Store(int64(p))
			stable.Store(int64(p + 2))
			phases.Add(1)
		}
	}()

	type kind int
	const (
		valid kind = iota
		validCookie
		expired
		forged
		randomKid
		retiredKey
		noToken
		kinds
	)
	names := [kinds]string{"valid", "valid-cookie", "expired", "forged", "random-kid", "retired-key", "no-token"}
	var counts [kinds]atomic.Int64
	var wrong atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			tokens := map[string]string{} // this worker's valid token per kid, reused (cache hits)
			user := fmt.Sprintf("user_w%d", w)
			for n := 0; ctx.Err() == nil; n++ {
				k := kind(rng.IntN(int(kinds)))
				rw.RLock()
				now := time.Now()
				st := kidKey(int(stable.Load()))
				payload := func(exp int64) []byte {
					return fmt.Appendf(nil, `{"sub":%q,"sid":"sess_1","exp":%d,"iat":%d,"nbf":%d}`, user, exp, now.Unix()-1, now.Unix()-10)
				}
				var tok, cookie string
				wantStatus, wantReason := http.StatusUnauthorized, ""
				switch k {
				case valid, validCookie:
					tok = tokens[st.kid]
					if tok == "" || rng.IntN(10) == 0 {
						tok = hSignRaw(t, st, "RS256", hStdHeader(st.kid), payload(now.Unix()+60), nil)
						tokens[st.kid] = tok
					}
					wantStatus = http.StatusOK
					if k == validCookie {
						cookie, tok = "__session="+tok+"; __client_uat="+strconv.FormatInt(now.Unix()-100, 10), ""
					}
				case expired:
					tok = hSignRaw(t, st, "RS256", hStdHeader(st.kid), payload(now.Unix()-60), nil)
					wantReason = ReasonTokenExpired
				case forged:
					tok = hSignRaw(t, hkey{kid: st.kid, priv: attacker}, "RS256", hStdHeader(st.kid), payload(now.Unix()+60), nil)
					wantReason = ReasonTokenInvalidSignature
				case randomKid:
					kid := fmt.Sprintf("rnd_%d", rng.Uint64())
					tok = hSignRaw(t, hkey{kid: kid, priv: attacker}, "RS256", hStdHeader(kid), payload(now.Unix()+60), nil)
					wantReason = ReasonJWKKidMismatch
				case retiredKey:
					r := retired.Load()
					if r < 0 {
						rw.RUnlock()
						continue
					}
					old := kidKey(int(r))
					// A token that was valid (and may sit in the cache).
					if tok = tokens[old.kid]; tok == "" {
						tok = hSignRaw(t, old, "RS256", hStdHeader(old.kid), payload(now.Unix()+60), nil)
					}
					wantReason = ReasonJWKKidMismatch
				case noToken:
					wantReason = ReasonTokenAndUATMissing
				}
				req, _ := http.NewRequest(http.MethodGet, app.URL+"/private", nil)
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				rw.RUnlock()
				counts[k].Add(1)
				if k == randomKid && err == nil && resp.StatusCode == http.StatusServiceUnavailable &&
					resp.Header.Get("X-Clerk-Auth-Reason") == ReasonJWKRemoteFailedToLoad && resp.Header.Get("Retry-After") != "" {
					// The cooldown refused the refresh that would tell
					// whether the kid is new: 503, never 401.
					continue
				}
				switch {
				case err != nil:
					t.Errorf("%s: %v", names[k], err)
					wrong.Add(1)
				case resp.StatusCode != wantStatus || resp.Header.Get("X-Clerk-Auth-Reason") != wantReason:
					t.Errorf("%s (kid %s): got %d %q, want %d %q", names[k], st.kid, resp.StatusCode, resp.Header.Get("X-Clerk-Auth-Reason"), wantStatus, wantReason)
					wrong.Add(1)
				case wantStatus == http.StatusOK && string(body) != "user="+user:
					t.Errorf("%s: body %q, want user=%s", names[k], body, user)
					wrong.Add(1)
				case wantStatus != http.StatusOK && string(body) != `{"error":"Not authenticated"}`:
					t.Errorf("%s: body %q", names[k], body)
					wrong.Add(1)
				}
				if wrong.Load() > 20 {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	rotator.Wait()

	total := int64(0)
	summary := ""
	for k := range kinds {
		total += counts[k].Load()
		summary += fmt.Sprintf(" %s=%d", names[k], counts[k].Load())
	}
	t.Logf("%d requests, %d wrong, %d key rotations, %d JWKS downloads;%s", total, wrong.Load(), phases.Load(), jwks.fetches.Load(), summary)
	if wrong.Load() != 0 {
		t.Errorf("%d wrong answers", wrong.Load())
	}
	if phases.Load() < 2 {
		t.Errorf("only %d key rotations happened", phases.Load())
	}
	for k := range kinds {
		if counts[k].Load() == 0 {
			t.Errorf("no %s request was sent", names[k])
		}
	}
}
