package clerkauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/benchstat"
	"github.com/clerkauth/clerkauth/internal/claims"
	"github.com/clerkauth/clerkauth/internal/fifocache"
	"github.com/clerkauth/clerkauth/internal/jws"
)

// benchFixture is a middleware verifying with a PEM key, and a Clerk v2
// session token signed by that key, shaped like a real one (about 700
// bytes of signing input). The token lives an hour so that it outlasts a
// long benchmark run; a real one lives 60 s.
type benchFixture struct {
	key   *rsa.PrivateKey
	token string
	now   time.Time
}

func newBenchFixture(tb testing.TB) *benchFixture {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	f := &benchFixture{key: key, now: time.Now()}
	f.token = f.sign(tb, "sess_2pYbGZ7WbH6JdVjY4nCrS9xU1aB")
	return f
}

// sign returns a session token for session sid.
func (f *benchFixture) sign(tb testing.TB, sid string) string {
	tb.Helper()
	now := f.now.Unix()
	header := map[string]any{"alg": "RS256", "cat": catSessionToken, "kid": "ins_2pYbGZ7WbH6JdVjY4nCrS9xU1aB", "typ": "JWT"}
	claims := map[string]any{
		"azp": "https://app.example.com",
		"exp": now + 3600,
		"fea": "o:reports,o:invoices,u:pro",
		"fva": []int{12, -1},
		"iat": now - 1,
		"iss": "https://clerk.example.com",
		"jti": "7f1c0a9e1b2d3c4e5f60",
		"nbf": now - 11,
		"o":   map[string]any{"fpm": "3,1", "id": "org_2pYbH1ZfTn9YqN4rB7mKc3xLw8A", "per": "read,manage", "rol": "admin", "slg": "acme"},
		"pla": "u:pro",
		"sid": sid,
		"sts": "active",
		"sub": "user_2pYbFw8Q0nS1yXe4LkT7hVd3MzR",
		"v":   2,
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// middleware returns a Middleware with the fixture's PEM key and the given
// token cache size (negative: off), and the options changed by mod.
func (f *benchFixture) middleware(tb testing.TB, cacheSize int, mod ...func(*Options)) *Middleware {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	o := Options{
		JWTKey:            string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		PublishableKey:    "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", // issuer https://clerk.example.com
		AuthorizedParties: []string{"https://app.example.com"},
		TokenCacheSize:    cacheSize,
	}
	for _, m := range mod {
		m(&o)
	}
	mw, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { mw.Close() })
	return mw
}

// request returns a prebuilt request carrying the fixture's token.
func (f *benchFixture) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/private", nil)
	r.Header.Set("Authorization", "Bearer "+f.token)
	return r
}

// noopWriter is a ResponseWriter that does nothing, so that the benchmarks
// measure the middleware and not the recording of a response.
type noopWriter struct{ h http.Header }

func (w *noopWriter) Header() http.Header         { return w.h }
func (w *noopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *noopWriter) WriteHeader(int)             {}

// signedInHandler is the no-op handler behind the middleware; it panics
// if the request did not come out signed in, so a benchmark cannot
// measure a failure path by mistake.
var signedInHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if !GetAuth(r).IsSignedIn() {
		panic("clerkauth benchmark: request not signed in: " + GetAuth(r).Reason())
	}
})

// BenchmarkColdPath compares verifying a token never seen before (cache
// off, key already loaded) with the raw RSA floor it cannot go below:
// SHA-256 of the signing input and an RSA-2048 PKCS #1 v1.5 verification.
func BenchmarkColdPath(b *testing.B) {
	f := newBenchFixture(b)
	b.Run("RSAFloor", func(b *testing.B) {
		dot2 := strings.LastIndexByte(f.token, '.')
		sig, err := base64.RawURLEncoding.DecodeString(f.token[dot2+1:])
		if err != nil {
			b.Fatal(err)
		}
		input := []byte(f.token[:dot2])
		pub := &f.key.PublicKey
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256(input)
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AuthenticateToken", func(b *testing.B) {
		mw := f.middleware(b, -1)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mw.AuthenticateToken(ctx, f.token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Interleaved", func(b *testing.B) {
		// Each iteration times one floor verification and one cold
		// AuthenticateToken back to back, so that the ratio reported
		// survives the load of a shared machine better than two
		// separate benchmarks do.
		mw := f.middleware(b, -1)
		ctx := context.Background()
		dot2 := strings.LastIndexByte(f.token, '.')
		sig, err := base64.RawURLEncoding.DecodeString(f.token[dot2+1:])
		if err != nil {
			b.Fatal(err)
		}
		input := []byte(f.token[:dot2])
		var floor, cold time.Duration
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			sum := sha256.Sum256(input)
			if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := mw.AuthenticateToken(ctx, f.token); err != nil {
				b.Fatal(err)
			}
			floor += t1.Sub(t0)
			cold += time.Since(t1)
		}
		b.ReportMetric(float64(cold)/float64(floor), "cold/floor")
	})
	b.Run("Handler", func(b *testing.B) {
		h := f.middleware(b, -1).Handler(signedInHandler)
		w, r := &noopWriter{h: http.Header{}}, f.request()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkWarmHandler measures the whole Handler on a cache hit, the
// common case: a browser sends the same token for its whole life.
func BenchmarkWarmHandler(b *testing.B) {
	f := newBenchFixture(b)
	h := f.middleware(b, 0).Handler(signedInHandler)
	w, r := &noopWriter{h: http.Header{}}, f.request()
	h.ServeHTTP(w, r) // verify once: every request below is a hit
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkWarmObserved times, in each iteration, one RSA floor
// verification, 16 warm Handler requests with no Observer (the baseline,
// as BenchmarkWarmHandler) and 16 with an Observer whose Authentication
// func does almost nothing (the cost of the hook itself: a second clock
// read and the event), back to back as BenchmarkColdPath/Interleaved does,
// so that the ratios survive a loaded machine (medians of the iterations):
// none/floor and observed/floor are one warm request as a fraction of one
// RSA verification (budget 2.5%), observed-none-ns what the hook adds to
// one. Allocations are per iteration (33 calls).
func BenchmarkWarmObserved(b *testing.B) {
	const n = 16
	f := newBenchFixture(b)
	handler := func(mod ...func(*Options)) http.Handler {
		h := f.middleware(b, 0, mod...).Handler(signedInHandler)
		h.ServeHTTP(&noopWriter{h: http.Header{}}, f.request())
		return h
	}
	none := handler()
	hits := 0
	observed := handler(func(o *Options) {
		o.Observer = &Observer{Authentication: func(e AuthenticationEvent) {
			if e.CacheHit {
				hits++
			}
		}}
	})
	dot2 := strings.LastIndexByte(f.token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(f.token[dot2+1:])
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(f.token[:dot2])
	w, r := &noopWriter{h: http.Header{}}, f.request()
	var s benchstat.Interleaved
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for range n {
			none.ServeHTTP(w, r)
		}
		t2 := time.Now()
		for range n {
			observed.ServeHTTP(w, r)
		}
		s.Add(t1.Sub(t0), t2.Sub(t1), time.Since(t2))
	}
	if hits < n*b.N {
		b.Fatalf("the Observer saw %d cache hits, want %d", hits, n*b.N)
	}
	floor, base, obs := s.Medians()
	b.ReportMetric(float64(base)/n/float64(floor), "none/floor")
	b.ReportMetric(float64(obs)/n/float64(floor), "observed/floor")
	b.ReportMetric(float64(obs-base)/n, "observed-none-ns")
}

// BenchmarkWarmHandlerParallel hammers the warm path from GOMAXPROCS
// goroutines (run it with -cpu 1,2,8): with no lock on the read path the
// time per request falls with the cores. Each goroutine sends its own
// token, as distinct users do, so that they hit different cache shards
// as well as the same one.
func BenchmarkWarmHandlerParallel(b *testing.B) {
	f := newBenchFixture(b)
	h := f.middleware(b, 0).Handler(signedInHandler)
	reqs := make(chan *http.Request, 64)
	for i := range cap(reqs) {
		tok := f.sign(b, fmt.Sprintf("sess_bench%03d", i))
		r := httptest.NewRequest(http.MethodGet, "/api/private", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(&noopWriter{h: http.Header{}}, r)
		reqs <- r
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var r *http.Request
		select {
		case r = <-reqs:
		default:
			r = f.request()
		}
		w := &noopWriter{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkCachePut measures storing a newly verified token in a full
// cache of the default size: the part of a cold request that is not
// verification. The keys are as long as real tokens, since hashing them
// is part of the cost.
func BenchmarkCachePut(b *testing.B) {
	c := fifocache.New[*verified](defaultTokenCacheSize, 1<<40, 0)
	now := time.Now()
	v := &verified{exp: now.Add(time.Hour).Unix()}
	pad := strings.Repeat("x", 1000)
	toks := make([]string, 4*defaultTokenCacheSize)
	for i := range toks {
		toks[i] = fmt.Sprintf("%s%08d", pad, i)
	}
	for _, t := range toks[:defaultTokenCacheSize] {
		c.Put(t, v, 1, v.exp, now)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Put(toks[i%len(toks)], v, 1, v.exp, now)
		i++
	}
}

// TestWarmHandlerAllocs checks the allocation budget of a cache hit
// through Handler: the budget is 3; today it is 2, the context
// node (which holds the request's own copy of the shared Auth) and the
// request copy. Allocation counts are deterministic, unlike timings.
func TestWarmHandlerAllocs(t *testing.T) {
	f := newBenchFixture(t)
	mw := f.middleware(t, 0)
	h := mw.Handler(signedInHandler)
	w, r := &noopWriter{h: http.Header{}}, f.request()
	h.ServeHTTP(w, r)
	if n := mw.c.cache.Len(); n != 1 {
		t.Fatalf("cache holds %d entries after one request, want 1", n)
	}
	const budget = 2
	if allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); allocs > budget {
		t.Errorf("warm Handler allocates %v times per request, want at most %d", allocs, budget)
	}

	// An Observer adds no allocation: the event is passed by value and
	// carries no context on a cache hit.
	var hits int
	observed := f.middleware(t, 0, func(o *Options) {
		o.Observer = &Observer{Authentication: func(e AuthenticationEvent) {
			if e.CacheHit && e.Verdict == "signed-in" {
				hits++
			}
		}}
	}).Handler(signedInHandler)
	observed.ServeHTTP(w, r)
	if allocs := testing.AllocsPerRun(100, func() { observed.ServeHTTP(w, r) }); allocs > budget {
		t.Errorf("warm Handler with an Observer allocates %v times per request, want at most %d", allocs, budget)
	}
	if hits < 100 {
		t.Errorf("the Observer saw %d cache hits, want at least 100", hits)
	}
}

// BenchmarkColdStages times the stages of a cold verification apart, to
// show where the time beyond the RSA floor goes.
func BenchmarkColdStages(b *testing.B) {
	f := newBenchFixture(b)
	tok := f.token
	mw := f.middleware(b, -1)
	c := mw.c
	dot1, dot2, _ := splitToken(tok)
	b.Run("split", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			splitToken(tok)
		}
	})
	b.Run("header", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parseHeader(tok[:dot1])
		}
	})
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.keys.lookup(context.Background(), "ins_2pYbGZ7WbH6JdVjY4nCrS9xU1aB")
		}
	})
	b.Run("payload+claims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf [2048]byte
			raw, _ := jws.Decode(tok[dot1+1:dot2], buf[:])
			var claims claims.Session
			readSessionClaims(string(raw), &claims)
		}
	})
	b.Run("sigdecode", func(b *testing.B) {
		b.ReportAllocs()
		var sigBuf [512]byte
		for b.Loop() {
			jws.Decode(tok[dot2+1:], sigBuf[:])
		}
	})
	b.Run("checkClaims", func(b *testing.B) {
		raw, _ := jws.Decode(tok[dot1+1:dot2], nil)
		var claims claims.Session
		readSessionClaims(string(raw), &claims)
		b.ReportAllocs()
		for b.Loop() {
			c.checkClaims(&claims, nil)
		}
	})
	b.Run("authenticate-total", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.authenticate(context.Background(), tok, 0, maskSession, false)
		}
	})
}

// BenchmarkRequireAuthVsFloor is the cold path measured as the project's
// targets state it: every iteration signs a fresh realistic v2
// organization token (o, pla, fea, fva; about 1 KB; signed in untimed
// batches), then times
// in one loop
//   - the RSA floor: SHA-256 of its signing input and one RSA-2048
//     PKCS #1 v1.5 verification;
//   - cold: the whole RequireAuth handler on it, with the verified-token
//     cache on at the default size and full (prefilled), so the insert
//     evicts as in a steady state;
//   - warm: the same request again, a cache hit (a batch of warmBatch
//     requests, so the clock reads do not dominate).
//
// The floor and cold take turns going first. It reports cold/floor
// (target <= 1.25) and warm/floor (target <= 0.025), ratios of median
// times, which it reports too; ns/op is the sum of the timed parts. On a
// shared machine the noise hits all three alike, so the ratios are
// steadier than ratios of separate benchmarks.
func BenchmarkRequireAuthVsFloor(b *testing.B) {
	const warmBatch = 16
	f := newBenchFixture(b)
	mw := f.middleware(b, 0)
	served := 0
	h := mw.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	w := &noopWriter{h: http.Header{}}
	h.ServeHTTP(w, f.request())
	served = 0
	v := mw.c.cache.Get(f.token)
	if v == nil {
		b.Fatal("fixture token not cached")
	}
	pad := strings.Repeat("x", len(f.token))
	for i := mw.c.cache.Len(); i < defaultTokenCacheSize; i++ {
		key := fmt.Sprintf("%s%08d", pad, i)
		mw.c.cache.Put(key, v, cacheEntryCost(key), v.exp, f.now)
	}
	// next moves to a fresh token, never seen before, and prepares what
	// the floor needs. Tokens are signed in batches (untimed), so that
	// signing, which a server never does between two requests, does not
	// evict the code and data of both paths before every iteration.
	const batch = 128
	type fresh struct {
		r          *http.Request
		input, sig []byte
	}
	var (
		pool []fresh
		cur  fresh
		n    int
	)
	next := func() {
		if len(pool) == 0 {
			for i := range batch {
				tok := f.sign(b, fmt.Sprintf("sess_cold%010d", n+i))
				r := httptest.NewRequest(http.MethodGet, "/api/private", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				dot2 := strings.LastIndexByte(tok, '.')
				sig, err := base64.RawURLEncoding.DecodeString(tok[dot2+1:])
				if err != nil {
					b.Fatal(err)
				}
				pool = append(pool, fresh{r, []byte(tok[:dot2]), sig})
			}
		}
		cur, pool = pool[0], pool[1:]
	}
	var floors, colds, warms []time.Duration
	timeFloor := func() {
		t0 := time.Now()
		sum := sha256.Sum256(cur.input)
		if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], cur.sig); err != nil {
			b.Fatal(err)
		}
		floors = append(floors, time.Since(t0))
	}
	next()
	b.ReportAllocs()
	for b.Loop() {
		if n%2 == 0 {
			timeFloor()
		}
		t0 := time.Now()
		h.ServeHTTP(w, cur.r)
		t1 := time.Now()
		for range warmBatch {
			h.ServeHTTP(w, cur.r)
		}
		t2 := time.Now()
		if n%2 == 1 {
			timeFloor()
		}
		b.StopTimer()
		colds = append(colds, t1.Sub(t0))
		warms = append(warms, t2.Sub(t1)/warmBatch)
		n++
		next()
		b.StartTimer()
	}
	if want := n * (1 + warmBatch); served != want {
		b.Fatalf("%d requests served, want %d: some were rejected", served, want)
	}
	// The cache stayed full: at its entry bound, or (tokens of this size
	// cost more than cacheBytesPerEntry each) at its byte bound.
	budget := int64(defaultTokenCacheSize) * cacheBytesPerEntry
	if size, used := mw.c.cache.Len(), mw.c.cache.Bytes(); size != defaultTokenCacheSize && used+cacheEntryCost(f.token) <= budget {
		b.Fatalf("cache holds %d entries, %d of %d bytes: not full", size, used, budget)
	}
	// Medians: a preemption by another process lands in one sample, not
	// in the figures.
	floor, cold, warm := benchstat.Median(floors), benchstat.Median(colds), benchstat.Median(warms)
	b.ReportMetric(float64(cold)/float64(floor), "cold/floor")
	b.ReportMetric(float64(warm)/float64(floor), "warm/floor")
	b.ReportMetric(float64(floor.Nanoseconds()), "floor-ns")
	b.ReportMetric(float64(cold.Nanoseconds()), "cold-ns")
	b.ReportMetric(float64(warm.Nanoseconds()), "warm-ns")
}

// BenchmarkWarmPageLoad measures Handler on a signed-in page load with the
// page-load flows on (a secret key and a development publishable key):
// __session, __client_uat and the dev-browser cookie, Sec-Fetch-Dest:
// document, the token already verified. Compare with BenchmarkWarmHandler
// (a bearer token, the API path); /observed adds an Observer, as
// BenchmarkWarmObserved does on the API path.
func BenchmarkWarmPageLoad(b *testing.B) {
	for _, observed := range []bool{false, true} {
		name := "none"
		if observed {
			name = "observed"
		}
		b.Run(name, func(b *testing.B) {
			h, r, hits := warmPageLoad(b, observed)
			w := &noopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			if observed && *hits < b.N {
				b.Fatalf("the Observer saw %d cache hits, want %d", *hits, b.N)
			}
		})
	}
}

// warmPageLoad is BenchmarkWarmPageLoad's handler, with an Observer that
// counts signed-in cache hits when observed, and its request, sent once.
func warmPageLoad(tb testing.TB, observed bool) (http.Handler, *http.Request, *int) {
	f := newBenchFixture(tb)
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	hits := new(int)
	o := Options{
		JWTKey:            string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		SecretKey:         "sk_test_bench",
		PublishableKey:    "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
		AuthorizedParties: []string{"https://app.example.com"},
		Getenv:            func(string) string { return "" },
	}
	if observed {
		o.Observer = &Observer{Authentication: func(e AuthenticationEvent) {
			if e.CacheHit && e.Verdict == "signed-in" {
				*hits++
			}
		}}
	}
	mw, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { mw.Close() })
	h := mw.Handler(signedInHandler)
	r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	r.Header.Set("Sec-Fetch-Dest", "document")
	r.Header.Set("Cookie", "__session="+f.token+"; __client_uat="+strconv.FormatInt(f.now.Unix()-60, 10)+"; __clerk_db_jwt=dvb_bench")
	h.ServeHTTP(&noopWriter{h: http.Header{}}, r)
	return h, r, hits
}

// TestWarmPageLoadAllocs: a warm signed-in page load (cookies, the
// page-load flows on) allocates as a warm bearer request does
// (TestWarmHandlerAllocs), with or without an Observer.
func TestWarmPageLoadAllocs(t *testing.T) {
	const budget = 2
	for _, observed := range []bool{false, true} {
		h, r, hits := warmPageLoad(t, observed)
		w := &noopWriter{h: http.Header{}}
		if allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); allocs > budget {
			t.Errorf("observed %v: a warm page load allocates %v times, want at most %d", observed, allocs, budget)
		}
		if observed && *hits < 100 {
			t.Errorf("the Observer saw %d signed-in cache hits, want at least 100", *hits)
		}
	}
}
