// Command gin is the examples/basic API with gin: two small gin middleware
// adapt clerkauth (authenticate, router-wide; requireAuth, on a route group
// of the routes that need a signed-in user).
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
//	cd examples/gin && go run . [-addr :8080]
package main

import (
	"context"
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
	"github.com/gin-gonic/gin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully (the program's
// life is the same in every example: see demo.Serve). Instructions go to
// stdout, logs to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return demo.Serve(ctx, "gin", args, getenv, stdout, stderr, func(mw *clerkauth.Middleware, logger *slog.Logger) http.Handler { return newRouter(mw, logger) })
}

// newRouter returns the API.
func newRouter(mw *clerkauth.Middleware, logger *slog.Logger) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery())
	r.Use(authenticate(mw)) // every request: clerkauth.GetAuth(c.Request) works in any handler
	r.Use(logRequests(logger))

	api := r.Group("/api")
	// Signed in or not.
	api.GET("/public", public)
	api.GET("/user", getUser(mw.Client(), logger))

	// Signed in only: 401 {"error":"Not authenticated"} otherwise.
	private := api.Group("", requireAuth)
	private.GET("/protected", protected)
	private.GET("/token", getToken(logger))
	private.GET("/admin", requirePermission("org:admin:access"), admin)
	return r
}

// authenticate is mw.Handler for gin: it authenticates the request and puts
// the result in the request's context, where clerkauth.GetAuth finds it. It
// never rejects. On a page load it does what Clerk does: a request that
// needs Clerk's handshake gets its 307 redirect (handled: the chain stops
// there), and the new cookies of a refreshed session are set on the
// response.
func authenticate(mw *clerkauth.Middleware) gin.HandlerFunc {
	return func(c *gin.Context) {
		auth, handled := mw.AuthenticateResponse(c.Writer, c.Request) // auth.Err() says why when signed out
		if handled {
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(clerkauth.NewContext(c.Request.Context(), auth))
		c.Next()
	}
}

// requireAuth is mw.RequireAuth for gin, after authenticate: it aborts with
// 401 {"error":"Not authenticated"}, or 503 when Clerk's keys cannot be
// obtained, unless the request is signed in.
func requireAuth(c *gin.Context) {
	if auth := clerkauth.GetAuth(c.Request); !auth.IsSignedIn() {
		clerkauth.DefaultErrorHandler(c.Writer, c.Request, auth.Err())
		c.Abort()
		return
	}
	c.Next()
}

// requirePermission aborts with 403 unless the user has permission in
// their active organization.
func requirePermission(permission string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !clerkauth.GetAuth(c.Request).Has(clerkauth.Check{Permission: permission}) {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "Forbidden"})
			return
		}
		c.Next()
	}
}

func public(c *gin.Context) {
	auth := clerkauth.GetAuth(c.Request)
	c.JSON(http.StatusOK, gin.H{"signedIn": auth.IsSignedIn(), "userId": auth.UserID})
}

func protected(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"userId": clerkauth.GetAuth(c.Request).UserID})
}

// getToken mints a token of the "supabase" JWT template, to call Supabase
// as the user. The caller is that user, so it may see the token; it is
// never logged.
func getToken(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, err := clerkauth.GetAuth(c.Request).GetToken(c.Request.Context(), clerkauth.WithTemplate("supabase"))
		if err != nil {
			backendError(c, logger, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"token": tok})
	}
}

// getUser returns the signed-in user, or null when signed out.
func getUser(client *clerkauth.Client, logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		auth := clerkauth.GetAuth(c.Request)
		if !auth.IsSignedIn() {
			c.JSON(http.StatusOK, nil)
			return
		}
		user, err := client.GetUser(c.Request.Context(), auth.UserID)
		if err != nil {
			backendError(c, logger, err)
			return
		}
		c.JSON(http.StatusOK, userJSON{
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

func admin(c *gin.Context) {
	auth := clerkauth.GetAuth(c.Request)
	c.JSON(http.StatusOK, gin.H{"userId": auth.UserID, "orgId": auth.OrgID})
}

// backendError answers a failed Backend API call: 404 when Clerk says the
// user or template does not exist, 501 without a secret key, else 502.
func backendError(c *gin.Context, logger *slog.Logger, err error) {
	logger.Error("clerk backend api", "path", c.Request.URL.Path, "err", err) // errors carry no token or key
	var apiErr *clerkauth.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
		c.JSON(http.StatusNotFound, gin.H{"error": "Not found"})
	case errors.Is(err, clerkauth.ErrNoSecretKey):
		c.JSON(http.StatusNotImplemented, gin.H{"error": "CLERK_SECRET_KEY is not set"})
	default:
		c.JSON(http.StatusBadGateway, gin.H{"error": "Clerk is unavailable"})
	}
}

// logRequests logs each request with the user it was made by, never its
// token.
func logRequests(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		auth := clerkauth.GetAuth(c.Request)
		logger.Info("request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
			"user", auth.UserID, "reason", auth.Reason(), "duration", time.Since(start))
	}
}
