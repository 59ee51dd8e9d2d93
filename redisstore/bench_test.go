package redisstore

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// BenchmarkMachineToken compares, side by side, what an API key request
// costs when its verdict comes from the instance's own cache, from Redis
// (a miss in the instance's cache, a hit in the store) and from the
// Backend API (clerktest on loopback), and a bare Redis GET. Each reports
// p50 and p99 of its calls besides the mean.
func BenchmarkMachineToken(b *testing.B) {
	api := clerktest.New(b)
	const n = 1000 // ten times the instance cache's least size: cycling them always misses it
	toks := make([]string, n)
	for i := range toks {
		toks[i] = api.AddAPIKey(clerktest.MachineToken{Subject: "user_1", Name: "bench"})
	}
	ctx := context.Background()
	client := newClient(b, redisAddr)
	store := New(client, WithPrefix(testPrefix()))
	mk := func(s clerkauth.MachineTokenStore) *clerkauth.Middleware {
		o := api.Options()
		o.AcceptsToken = []string{clerkauth.TokenTypeAPIKey}
		o.TokenCacheSize = 1 // the machine-token cache keeps its least, 100
		o.MachineTokenCacheTTL = time.Hour
		o.MachineTokenStore = s
		// Measure store hits, not the fallback: on a loaded machine a
		// call can outlive the default 50ms.
		o.MachineTokenStoreTimeout = 5 * time.Second
		o.Logger = slog.New(slog.DiscardHandler)
		mw, err := clerkauth.New(o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { mw.Close() })
		return mw
	}
	writer := mk(store)
	for _, tok := range toks {
		if _, err := writer.AuthenticateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}

	run := func(b *testing.B, call func(i int) error) {
		b.ReportAllocs()
		lat := make([]time.Duration, 0, b.N)
		i := 0
		for b.Loop() {
			t0 := time.Now()
			if err := call(i); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			i++
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	}
	auth := func(mw *clerkauth.Middleware, tok string) error {
		_, err := mw.AuthenticateToken(ctx, tok)
		return err
	}

	b.Run("in-process-hit", func(b *testing.B) {
		mw := mk(nil)
		run(b, func(int) error { return auth(mw, toks[0]) })
	})
	b.Run("store-hit", func(b *testing.B) {
		mw := mk(store)
		before := api.Requests("/api_keys/verify")
		run(b, func(i int) error { return auth(mw, toks[i%n]) })
		if calls := api.Requests("/api_keys/verify") - before; calls != 0 {
			b.Fatalf("%d Backend API calls: not store hits", calls)
		}
	})
	b.Run("backend-api-call", func(b *testing.B) {
		mw := mk(nil)
		run(b, func(i int) error { return auth(mw, toks[i%n]) })
	})
	b.Run("redis-get", func(b *testing.B) {
		client.Set(ctx, "clerkauth-bench", "x", time.Minute)
		run(b, func(int) error { return client.Get(ctx, "clerkauth-bench").Err() })
	})
}

// BenchmarkMachineTokenClaimWait: two replicas sharing Redis see a new
// API key at the same moment, the Backend API answering in 20ms (a fast
// call to Clerk). With claims one replica asks and the other waits for
// its verdict; without, both ask. It reports the latency of the faster
// and the slower of the two requests (p50, p99) and Backend API calls per
// key, side by side.
func BenchmarkMachineTokenClaimWait(b *testing.B) {
	const delay = 20 * time.Millisecond
	api := clerktest.New(b)
	api.SetMachineVerifyStatus(0, delay)
	ctx := context.Background()
	for _, claims := range []bool{true, false} {
		name := "claims"
		if !claims {
			name = "no-claims"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			prefix := testPrefix()
			var mws [2]*clerkauth.Middleware
			for i := range mws {
				o := api.Options()
				o.AcceptsToken = []string{clerkauth.TokenTypeAPIKey}
				o.MachineTokenCacheTTL = time.Hour
				var s clerkauth.MachineTokenStore = New(newClient(b, redisAddr), WithPrefix(prefix))
				if !claims {
					s = getSetOnly{s}
				}
				o.MachineTokenStore = s
				o.Logger = slog.New(slog.DiscardHandler)
				mw, err := clerkauth.New(o)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { mw.Close() })
				mws[i] = mw
			}
			var fast, slow []time.Duration
			before := api.Requests("/api_keys/verify")
			keys := 0
			for b.Loop() {
				tok := api.AddAPIKey(clerktest.MachineToken{Subject: "user_1", Name: "bench"})
				keys++
				var lat [2]time.Duration
				start := make(chan struct{})
				done := make(chan struct{}, 2)
				for i, mw := range mws {
					go func() {
						<-start
						t0 := time.Now()
						if _, err := mw.AuthenticateToken(ctx, tok); err != nil {
							b.Error(err)
						}
						lat[i] = time.Since(t0)
						done <- struct{}{}
					}()
				}
				close(start)
				<-done
				<-done
				fast = append(fast, min(lat[0], lat[1]))
				slow = append(slow, max(lat[0], lat[1]))
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
			for _, s := range []struct {
				name string
				lat  []time.Duration
			}{{"faster", fast}, {"slower", slow}} {
				slices.Sort(s.lat)
				b.ReportMetric(ms(s.lat[len(s.lat)/2]), s.name+"-p50-ms")
				b.ReportMetric(ms(s.lat[len(s.lat)*99/100]), s.name+"-p99-ms")
			}
			b.ReportMetric(float64(api.Requests("/api_keys/verify")-before)/float64(keys), "calls/key")
		})
	}
}
