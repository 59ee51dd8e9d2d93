// Command chi is the examples/basic API with chi's routing: mw.Handler as
// router-wide middleware, and a route group that adds mw.RequireAuth, so
// that only some routes require a signed-in user.
//
//	GET /api/public     anyone; says whether the caller is signed in
//	GET /api/user       the signed-in user from the Backend API, or null
//	GET /api/protected  401 {"error":"Not authenticated"}, or {"userId": ...}
//	GET /api/token      a "supabase" JWT-template token for the session
//	GET /api/admin      403 without the org:admin:access permission
//
// It reads the same variables as examples/basic; with no CLERK_* key it
// starts an embedded demo instance and prints curl commands to try.
//
//	cd examples/chi && go run . [-addr 127.0.0.1:8080]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/examples/internal/demo"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chi:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully (the program's
// life is the same in every example: see demo.Serve). Instructions go to
// stdout, logs to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return demo.Serve(ctx, "chi", args, getenv, stdout, stderr, newRouter)
}

// newRouter returns the API. mw.Handler and mw.RequireAuth are
// func(http.Handler) http.Handler, chi's middleware type, so they go
// straight into r.Use.
func newRouter(mw *clerkauth.Middleware, logger *slog.Logger) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(mw.Handler) // every request: GetAuth(r) works in any handler
	r.Use(logRequests(logger))

	r.Route("/api", func(r chi.Router) {
		// Signed in or not.
		r.Get("/public", public)
		r.Get("/user", getUser(mw.Client(), logger))

		// Signed in only: 401 {"error":"Not authenticated"} otherwise.
		r.Group(func(r chi.Router) {
			r.Use(mw.RequireAuth)
			r.Get("/protected", protected)
			r.Get("/token", getToken(logger))
			r.With(requirePermission("org:admin:access")).Get("/admin", admin)
		})
	})
	return r
}

// requirePermission answers 403 unless the user has permission in their
// active organization.
func requirePermission(permission string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !clerkauth.GetAuth(r).Has(clerkauth.Check{Permission: permission}) {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "Forbidden"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func public(w http.ResponseWriter, r *http.Request) {
	auth := clerkauth.GetAuth(r)
	writeJSON(w, http.StatusOK, map[string]any{"signedIn": auth.IsSignedIn(), "userId": auth.UserID})
}

func protected(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"userId": clerkauth.GetAuth(r).UserID})
}

// getToken mints a token of the "supabase" JWT template, to call Supabase
// as the user. The caller is that user, so it may see the token; it is
// never logged.
func getToken(logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := clerkauth.GetAuth(r).GetToken(r.Context(), clerkauth.WithTemplate("supabase"))
		if err != nil {
			backendError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": tok})
	}
}

// getUser returns the signed-in user, or null when signed out.
func getUser(client *clerkauth.Client, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := clerkauth.GetAuth(r)
		if !auth.IsSignedIn() {
			writeJSON(w, http.StatusOK, nil)
			return
		}
		user, err := client.GetUser(r.Context(), auth.UserID)
		if err != nil {
			backendError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, userJSON{
			ID:        user.ID,
			FirstName: user.FirstName,
			LastName:  user.LastName,
			Email:     user.PrimaryEmail(),
			ImageURL:  user.ImageURL,
		})
	}
}

// userJSON is what /api/user shows of a Clerk user.
type userJSON struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	ImageURL  string `json:"imageUrl"`
}

func admin(w http.ResponseWriter, r *http.Request) {
	auth := clerkauth.GetAuth(r)
	writeJSON(w, http.StatusOK, map[string]string{"userId": auth.UserID, "orgId": auth.OrgID})
}

// backendError answers a failed Backend API call: 404 when Clerk says the
// user or template does not exist, 501 without a secret key, else 502.
func backendError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	logger.Error("clerk backend api", "path", r.URL.Path, "err", err) // errors carry no token or key
	var apiErr *clerkauth.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
	case errors.Is(err, clerkauth.ErrNoSecretKey):
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "CLERK_SECRET_KEY is not set"})
	default:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "Clerk is unavailable"})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// logRequests logs each request with the user it was made by, never its
// token.
func logRequests(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			auth := clerkauth.GetAuth(r)
			logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
				"user", auth.UserID, "reason", auth.Reason(), "duration", time.Since(start))
		})
	}
}
