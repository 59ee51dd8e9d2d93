// Command prometheus is a net/http API authenticated by clerkauth whose
// metrics Prometheus scrapes at /metrics: clerkauth reports to otelclerk,
// which records OpenTelemetry metrics, which OpenTelemetry's Prometheus
// exporter serves.
//
//	GET /api/public     anyone; says whether the caller is signed in
//	GET /api/protected  401 {"error":"Not authenticated"}, or {"userId": ...}
//	GET /metrics        the metrics, in Prometheus' text format
//
// With CLERK_SECRET_KEY (or CLERK_JWT_KEY) set it serves your Clerk
// instance; with neither it starts an embedded demo instance (a production
// one, so that a request without a token counts as
// session-token-and-uat-missing rather than a development instance's
// dev-browser-missing) and prints curl commands with a token to try, so it
// runs offline.
//
//	cd examples/prometheus && go run . [-addr :8080]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
	"github.com/clerkauth/clerkauth/examples/internal/demo"
	"github.com/clerkauth/clerkauth/otelclerk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully. Instructions
// go to stdout, logs to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prometheus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", demo.Addr(getenv), "listen `address`; $ADDR when set")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := demo.Configure(getenv, clerktest.WithProductionInstance())
	if err != nil {
		return err
	}
	defer cfg.Close()
	opts := cfg.Options
	opts.Logger = logger
	app, err := newApp(opts)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := demo.Start(ln, app, logger)
	base := demo.BaseURL(ln.Addr().String())
	logger.Info("listening", "addr", ln.Addr().String(), "embedded", cfg.Embedded != nil)
	if cfg.Embedded != nil {
		tok := cfg.Embedded.SessionToken(demo.UserID, clerktest.WithLifetime(demo.TokenLifetime))
		fmt.Fprintf(stdout, "Embedded demo Clerk instance at %s. Try:\n\n"+
			"curl -i %s/api/protected\n"+
			"curl -i -H 'Authorization: Bearer %s' %s/api/protected\n"+
			"curl -s %s/metrics | grep ^clerkauth_\n\n", cfg.Embedded.URL, base, tok, base, base)
	}
	return srv.Wait(ctx)
}

// app is the API, its /metrics, and what to close when done.
type app struct {
	http.Handler
	mw *clerkauth.Middleware
	mp *sdkmetric.MeterProvider
}

// newApp wires clerkauth to Prometheus: a registry of its own, the
// OpenTelemetry exporter registered in it as the meter provider's reader,
// otelclerk's Observer on that provider, and the middleware with it.
func newApp(opts clerkauth.Options) (*app, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	obs, err := otelclerk.New(otelclerk.Options{MeterProvider: mp})
	if err != nil {
		return nil, err
	}
	opts.Observer = obs
	mw, err := clerkauth.New(opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	// Scrapes are not authenticated by clerkauth (put them behind your
	// own network rule), so they do not count as requests signed out.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /api/public", mw.Handler(http.HandlerFunc(public)))
	mux.Handle("GET /api/protected", mw.RequireAuth(http.HandlerFunc(protected)))
	return &app{Handler: mux, mw: mw, mp: mp}, nil
}

// Close stops the middleware's key refresh and the meter provider.
func (a *app) Close() error {
	a.mw.Close()
	return a.mp.Shutdown(context.Background())
}

func public(w http.ResponseWriter, r *http.Request) {
	auth := clerkauth.GetAuth(r)
	writeJSON(w, map[string]any{"signedIn": auth.IsSignedIn(), "userId": auth.UserID})
}

func protected(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"userId": clerkauth.GetAuth(r).UserID})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
