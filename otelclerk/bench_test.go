package otelclerk_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/internal/benchstat"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// BenchmarkWarm compares, in one run, a cache hit through Handler with no
// Observer (the baseline), with otelclerk over the OpenTelemetry SDK (a
// manual reader and a span recorder: every measurement is really
// aggregated), and the RSA floor: one RS256 signature verification, which
// the observed warm path must stay within 5% of.
func BenchmarkWarm(b *testing.B) {
	srv := clerktest.New(b)
	warm := func(obs *clerkauth.Observer) func(b *testing.B) {
		return func(b *testing.B) {
			h, r := warmHandler(b, srv, obs)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(nopWriter{}, r)
			}
		}
	}
	b.Run("None", warm(nil))
	b.Run("OTel", warm(newTelemetry(b).obs))
	b.Run("RSAFloor", func(b *testing.B) {
		floor := rsaFloor(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			floor()
		}
	})
}

// rsaFloor returns one RS256 verification of a token of srv: SHA-256 of
// the signing input and an RSA-2048 PKCS #1 v1.5 verification.
func rsaFloor(b *testing.B, srv *clerktest.Server) func() {
	block, _ := pem.Decode([]byte(srv.PublicKeyPEM()))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	tok := srv.SessionToken("user_1", clerktest.WithLifetime(time.Hour))
	dot2 := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot2+1:])
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(tok[:dot2])
	return func() {
		sum := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmInterleaved times, in each iteration, one RSA floor
// verification, 16 warm requests with no Observer and 16 with otelclerk,
// back to back, so that the ratios it reports (medians of the iterations)
// survive the load of a shared machine better than separate benchmarks
// do: none/floor and otel/floor are the cost of one warm request as a
// fraction of one RSA verification (budgets: 2.5% and 5%), otel-none-ns
// the cost otelclerk adds to one. Allocations are per iteration (33
// calls).
func BenchmarkWarmInterleaved(b *testing.B) {
	const n = 16
	srv := clerktest.New(b)
	floor := rsaFloor(b, srv)
	none, rn := warmHandler(b, srv, nil)
	otel, ro := warmHandler(b, srv, newTelemetry(b).obs)
	var s benchstat.Interleaved
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		floor()
		t1 := time.Now()
		for range n {
			none.ServeHTTP(nopWriter{}, rn)
		}
		t2 := time.Now()
		for range n {
			otel.ServeHTTP(nopWriter{}, ro)
		}
		s.Add(t1.Sub(t0), t2.Sub(t1), time.Since(t2))
	}
	tFloor, tNone, tOTel := s.Medians()
	b.ReportMetric(float64(tNone)/n/float64(tFloor), "none/floor")
	b.ReportMetric(float64(tOTel)/n/float64(tFloor), "otel/floor")
	b.ReportMetric(float64(tOTel-tNone)/n, "otel-none-ns")
}
