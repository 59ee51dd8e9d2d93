package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/clerkauth/clerkauth"
)

// Serve is the life of every example program: flags (-addr, default $ADDR
// else 127.0.0.1:8080), configuration (Configure, whose error ends it), a clerkauth Middleware, an HTTP
// server on the handler newHandler builds (with POST /webhooks/clerk in
// front, see WithWebhooks), the curl instructions on stdout
// and slog logs on stderr; it serves until ctx is done (SIGINT/SIGTERM in
// main) and then shuts down gracefully.
func Serve(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer,
	newHandler func(*clerkauth.Middleware, *slog.Logger) http.Handler) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [-addr address]\n\n"+
			"Serves the clerkauth example API. With CLERK_SECRET_KEY or CLERK_JWT_KEY set it\n"+
			"authenticates your Clerk instance's users; without, an embedded demo instance's,\n"+
			"and prints ready-to-paste curl commands.\n\n", name)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", Addr(getenv), "listen `address`; $ADDR when set")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the usage, which is printed: not a failure
		}
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	cfg, err := Configure(getenv)
	if err != nil {
		return err
	}
	defer cfg.Close()
	opts := cfg.Options
	opts.Logger = logger
	mw, err := clerkauth.New(opts)
	if err != nil {
		return err
	}
	defer mw.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := Start(ln, WithWebhooks(newHandler(mw, logger), cfg.WebhookSecret, logger), logger)
	logger.Info("listening", "addr", ln.Addr().String(), "embedded", cfg.Embedded != nil)
	cfg.PrintCurl(stdout, BaseURL(ln.Addr().String()))
	return srv.Wait(ctx)
}

// Server is an HTTP server serving on its listener, from [Start].
type Server struct {
	srv    *http.Server
	done   chan error // Serve's error
	logger *slog.Logger
}

// Start serves h on ln, logging the server's own errors to logger, until
// [Server.Wait] shuts it down. Instructions printed after Start may be
// followed at once.
func Start(ln net.Listener, h http.Handler, logger *slog.Logger) *Server {
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		done:   make(chan error, 1),
		logger: logger,
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Wait serves until ctx is done, then shuts down gracefully, giving
// requests in flight up to 10s. It returns nil after a clean shutdown,
// else why serving or shutting down failed.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// LogRequests logs each request with its status, the user it was made by
// and Clerk's reason when signed out; never its token.
func LogRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		auth := clerkauth.GetAuth(r)
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.code,
			"user", auth.UserID, "reason", auth.Reason(), "duration", time.Since(start))
	})
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
