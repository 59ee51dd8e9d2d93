package otelclerk_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/otelclerk"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The middleware's verdicts as an OpenTelemetry counter. In production the
// MeterProvider is the application's own (an OTLP or Prometheus exporter
// as its reader, see examples/prometheus); here a manual reader shows
// what it would export.
func ExampleNew() {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	reader := sdkmetric.NewManualReader()
	obs, err := otelclerk.New(otelclerk.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		log.Fatal(err)
	}
	opts := clerk.Options()
	opts.Observer = obs
	mw, err := clerkauth.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer mw.Close()
	h := mw.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tok := clerk.SessionToken("user_123")
	for range 3 {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "clerkauth.authentications" {
			continue
		}
		for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
			hit, _ := p.Attributes.Value("clerkauth.cache.hit")
			verdict, _ := p.Attributes.Value("clerkauth.verdict")
			fmt.Printf("%s cache.hit=%v: %d\n", verdict.AsString(), hit.AsBool(), p.Value)
		}
	}
	// Unordered output:
	// signed-in cache.hit=false: 1
	// signed-in cache.hit=true: 2
}
