// Command basic is a net/http API authenticated by Clerk, with the standard
// library only: the handlers of Clerk's getAuth() page in Go.
//
//	GET /api/public     anyone; says whether the caller is signed in
//	GET /api/protected  401 {"error":"Not authenticated"}, or {"userId": ...}
//	GET /api/token      a "supabase" JWT-template token for the session
//	GET /api/user       the signed-in user from the Backend API, or null
//	GET /api/admin      403 without the org:admin:access permission
//
// With CLERK_SECRET_KEY (or CLERK_JWT_KEY) set it serves your Clerk
// instance; set CLERK_PUBLISHABLE_KEY to check the issuer and
// CLERK_AUTHORIZED_PARTIES (your frontend's origins, comma-separated) to
// accept the __session cookie safely. With neither key it starts an
// embedded demo instance and prints curl commands with tokens to try.
//
//	go run ./examples/basic [-addr 127.0.0.1:8080]
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

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully (the program's
// life is the same in every example: see demo.Serve). Instructions go to
// stdout, logs to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return demo.Serve(ctx, "basic", args, getenv, stdout, stderr, newServer)
}

// newServer returns the API: mw.Handler authenticates every request (and
// never rejects), mw.RequireAuth guards the routes that need a user.
func newServer(mw *clerkauth.Middleware, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/public", public)
	mux.HandleFunc("GET /api/user", getUser(mw.Client(), logger))
	mux.Handle("GET /api/protected", mw.RequireAuth(http.HandlerFunc(protected)))
	mux.Handle("GET /api/token", mw.RequireAuth(getToken(logger)))
	mux.Handle("GET /api/admin", mw.RequireAuth(http.HandlerFunc(admin)))
	return mw.Handler(demo.LogRequests(logger, mux))
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
	if !auth.Has(clerkauth.Check{Permission: "org:admin:access"}) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Forbidden"})
		return
	}
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
