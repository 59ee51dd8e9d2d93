// Package bench compares clerkauth with the raw cost of verifying a token,
// with golang-jwt, and with Clerk's own Go SDK middleware, in one run on
// one machine. It is a module of its own so that Clerk's SDK never enters
// the library's dependencies. Run it with ./run.sh.
package bench

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/benchstat"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkhttp "github.com/clerk/clerk-sdk-go/v2/http"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/bench/internal/fixture"
	"github.com/golang-jwt/jwt/v5"
)

// setup starts a fake instance and signs one session token.
func setup(b *testing.B) (*fixture.Instance, string) {
	b.Helper()
	in, err := fixture.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(in.Close)
	tok, err := in.Token("sess_2pYbGZ7WbH6JdVjY4nCrS9xU1aB")
	if err != nil {
		b.Fatal(err)
	}
	return in, tok
}

// request is a prebuilt request carrying tok, as a browser sends it.
func request(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/private", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// okWriter discards the response and panics on an error status, so that
// no benchmark can measure a rejection by mistake.
type okWriter struct{ h http.Header }

func (w *okWriter) Header() http.Header         { return w.h }
func (w *okWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *okWriter) WriteHeader(code int) {
	if code != http.StatusOK {
		panic(fmt.Sprintf("bench: request rejected with HTTP %d", code))
	}
}

func newWriter() *okWriter { return &okWriter{h: http.Header{}} }

// clerkauthHandler is clerkauth's Handler, keys from the instance's JWKS
// (downloaded once, before the timed loop), around a no-op handler that
// panics unless the request is signed in.
func clerkauthHandler(b *testing.B, in *fixture.Instance, tok string, cacheSize int) http.Handler {
	b.Helper()
	mw, err := clerkauth.New(clerkauth.Options{
		SecretKey:         fixture.SecretKey,
		APIURL:            in.APIURL(),
		PublishableKey:    fixture.PublishableKey,
		AuthorizedParties: []string{fixture.AuthorizedParty},
		HTTPClient:        in.Server.Client(),
		TokenCacheSize:    cacheSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mw.Close() })
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !clerkauth.GetAuth(r).IsSignedIn() {
			panic("bench: not signed in: " + clerkauth.GetAuth(r).Reason())
		}
	}))
	h.ServeHTTP(newWriter(), request(tok)) // loads the keys (and caches tok)
	return h
}

// BenchmarkFloorRSA is what verifying a token never seen before cannot go
// below: SHA-256 of the signing input and one RSA-2048 PKCS #1 v1.5
// verification.
func BenchmarkFloorRSA(b *testing.B) {
	in, tok := setup(b)
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	input, pub := []byte(tok[:dot]), &in.Key.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// sessionClaims are typed claims for golang-jwt, the fields a Clerk v2
// session token carries.
type sessionClaims struct {
	jwt.RegisteredClaims
	Sid string `json:"sid"`
	Sts string `json:"sts"`
	Azp string `json:"azp"`
	Fva []int  `json:"fva"`
	V   int    `json:"v"`
	Fea string `json:"fea"`
	Pla string `json:"pla"`
	O   *struct {
		ID  string `json:"id"`
		Slg string `json:"slg"`
		Rol string `json:"rol"`
		Per string `json:"per"`
		Fpm string `json:"fpm"`
	} `json:"o"`
}

// BenchmarkGolangJWT is golang-jwt's ParseWithClaims with typed claims and
// a static key: what a hand-rolled middleware would cost.
func BenchmarkGolangJWT(b *testing.B) {
	in, tok := setup(b)
	pub := &in.Key.PublicKey
	keyfunc := func(*jwt.Token) (any, error) { return pub, nil }
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(fixture.Issuer),
		jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second))
	b.ReportAllocs()
	for b.Loop() {
		var c sessionClaims
		if _, err := parser.ParseWithClaims(tok, &c, keyfunc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClerkauthCold is clerkauth's Handler verifying from scratch on
// every request (token cache off, key already loaded): a token never seen
// before.
func BenchmarkClerkauthCold(b *testing.B) {
	in, tok := setup(b)
	h := clerkauthHandler(b, in, tok, -1)
	w, r := newWriter(), request(tok)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkColdVsFloor measures the cold and warm paths as the project's
// targets state them, in one loop with the RSA floor: every iteration
// takes a fresh realistic v2 organization token (o, pla, fea, fva; about
// 1 KB; signed in untimed batches) and times SHA-256 of its signing input
// plus one RSA-2048 PKCS #1 v1.5 verification (the floor), the whole
// RequireAuth handler on it with the verified-token cache on at the
// default size (cold: verifies and inserts), then the same request
// warmBatch times (warm: cache hits). The floor and cold take turns going
// first. It reports cold/floor (target <= 1.25) and warm/floor (target
// <= 0.025) as ratios of median times, and the medians; ns/op is not the
// figure to read.
func BenchmarkColdVsFloor(b *testing.B) {
	const warmBatch, batch = 16, 128
	in, tok := setup(b)
	mw, err := clerkauth.New(clerkauth.Options{
		SecretKey:         fixture.SecretKey,
		APIURL:            in.APIURL(),
		PublishableKey:    fixture.PublishableKey,
		AuthorizedParties: []string{fixture.AuthorizedParty},
		HTTPClient:        in.Server.Client(),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mw.Close() })
	served := 0
	h := mw.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	w := newWriter()
	h.ServeHTTP(w, request(tok)) // loads the keys
	served = 0

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
				t, err := in.Token(fmt.Sprintf("sess_cold%010d", n+i))
				if err != nil {
					b.Fatal(err)
				}
				dot := strings.LastIndexByte(t, '.')
				sig, err := base64.RawURLEncoding.DecodeString(t[dot+1:])
				if err != nil {
					b.Fatal(err)
				}
				pool = append(pool, fresh{request(t), []byte(t[:dot]), sig})
			}
		}
		cur, pool = pool[0], pool[1:]
	}
	pub := &in.Key.PublicKey
	var floors, colds, warms []time.Duration
	timeFloor := func() {
		t0 := time.Now()
		sum := sha256.Sum256(cur.input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], cur.sig); err != nil {
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
	floor, cold, warm := benchstat.Median(floors), benchstat.Median(colds), benchstat.Median(warms)
	b.ReportMetric(float64(cold)/float64(floor), "cold/floor")
	b.ReportMetric(float64(warm)/float64(floor), "warm/floor")
	b.ReportMetric(float64(floor.Nanoseconds()), "floor-ns")
	b.ReportMetric(float64(cold.Nanoseconds()), "cold-ns")
	b.ReportMetric(float64(warm.Nanoseconds()), "warm-ns")
}

// BenchmarkClerkauthWarm is clerkauth's Handler on a token it has verified
// before (the default cache): a browser's second and later requests.
func BenchmarkClerkauthWarm(b *testing.B) {
	in, tok := setup(b)
	h := clerkauthHandler(b, in, tok, 0)
	w, r := newWriter(), request(tok)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkClerkauthWarmParallel is the warm path from GOMAXPROCS
// goroutines at once (see run.sh for -cpu), each sending its own token.
func BenchmarkClerkauthWarmParallel(b *testing.B) {
	in, tok := setup(b)
	h := clerkauthHandler(b, in, tok, 0)
	reqs := make(chan *http.Request, 16)
	for i := range cap(reqs) {
		t, err := in.Token(fmt.Sprintf("sess_bench%02d", i))
		if err != nil {
			b.Fatal(err)
		}
		r := request(t)
		h.ServeHTTP(newWriter(), r)
		reqs <- r
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := request(tok)
		select {
		case r = <-reqs:
		default:
		}
		w := newWriter()
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkClerkauthHitParallel is the cache read path alone
// (AuthenticateToken on a cached token, no allocation) from GOMAXPROCS
// goroutines: with no lock it scales with the cores, while the Handler
// benchmark above also pays the garbage collector for its two
// allocations per request.
func BenchmarkClerkauthHitParallel(b *testing.B) {
	in, tok := setup(b)
	mw, err := clerkauth.New(clerkauth.Options{
		SecretKey:         fixture.SecretKey,
		APIURL:            in.APIURL(),
		PublishableKey:    fixture.PublishableKey,
		AuthorizedParties: []string{fixture.AuthorizedParty},
		HTTPClient:        in.Server.Client(),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mw.Close() })
	ctx := context.Background()
	if _, err := mw.AuthenticateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if a, _ := mw.AuthenticateToken(ctx, tok); !a.IsSignedIn() {
				panic("bench: cache hit not signed in")
			}
		}
	})
}

// BenchmarkClerkSDK is Clerk's Go SDK middleware,
// clerkhttp.RequireHeaderAuthorization, with its key cached (fetched from
// the same JWKS endpoint before the timed loop). It has no token cache:
// every request is verified from scratch.
func BenchmarkClerkSDK(b *testing.B) {
	in, tok := setup(b)
	client := jwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		URL:        clerk.String(in.APIURL() + "/v1"),
		Key:        clerk.String(fixture.SecretKey),
		HTTPClient: in.Server.Client(),
	}})
	h := clerkhttp.RequireHeaderAuthorization(
		clerkhttp.JWKSClient(client),
		clerkhttp.AuthorizedPartyMatches(fixture.AuthorizedParty),
	)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := clerk.SessionClaimsFromContext(r.Context()); !ok {
			panic("bench: Clerk SDK passed a request without claims")
		}
	}))
	w, r := newWriter(), request(tok)
	h.ServeHTTP(w, r) // fetches and caches the key
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// TestClerkauthAgreesWithClerkSDK checks that both middlewares accept the
// fixture's token and reject a forged one, so the benchmarks compare the
// same work.
func TestClerkauthAgreesWithClerkSDK(t *testing.T) {
	in, err := fixture.New()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	tok, err := in.Token("sess_agree")
	if err != nil {
		t.Fatal(err)
	}
	forged := tok[:len(tok)-4] + "AAAA"

	mw, err := clerkauth.New(clerkauth.Options{SecretKey: fixture.SecretKey, APIURL: in.APIURL(),
		PublishableKey: fixture.PublishableKey, AuthorizedParties: []string{fixture.AuthorizedParty},
		HTTPClient: in.Server.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	client := jwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		URL: clerk.String(in.APIURL() + "/v1"), Key: clerk.String(fixture.SecretKey), HTTPClient: in.Server.Client()}})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	handlers := map[string]http.Handler{
		"clerkauth": mw.RequireAuth(ok),
		"clerk-sdk": clerkhttp.RequireHeaderAuthorization(clerkhttp.JWKSClient(client))(ok),
	}
	for name, h := range handlers {
		for _, tc := range []struct {
			name, tok string
			want      int
		}{{"valid", tok, http.StatusOK}, {"forged", forged, 0}} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, request(tc.tok).WithContext(context.Background()))
				if ok := rec.Code == http.StatusOK; ok != (tc.want == http.StatusOK) {
					t.Errorf("HTTP %d, want success=%v", rec.Code, tc.want == http.StatusOK)
				}
			})
		}
	}
}
