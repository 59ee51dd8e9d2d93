package main

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/examples/internal/demo"
)

// settingsPermission guards /org/settings.
const settingsPermission = "org:settings:manage"

//go:embed templates.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates.html"))

// site is what the pages show besides the request's Auth.
type site struct {
	signIn         string // the sign-in page, for the home page's link; "" for none
	signOut        string // the embedded instance's sign-out endpoint; "" with clerk-js
	clerkJS        string // clerk-js from the instance's Frontend API; "" offline
	publishableKey string
}

// newHandler builds the application. mw.Handler authenticates every
// request, and, for page loads, keeps the session fresh (Clerk's
// handshake); each route then says who may see it:
//
//   - page routes protect with pages.Protect: signed out, a page load goes
//     to the sign-in page (Options.SignInURL) and an htmx request is told
//     to go there; a signed-in user who fails the check gets the 403 page;
//   - the API route answers JSON, never a redirect.
func newHandler(mw *clerkauth.Middleware, s site, logger *slog.Logger) http.Handler {
	pages := mw.WithResponses(clerkauth.Responses{Forbidden: s.forbidden})
	api := mw.WithResponses(clerkauth.Responses{Unauthenticated: clerkauth.DefaultErrorHandler})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page("home", "Home"))
	mux.Handle("GET /dashboard", pages.Protect()(s.page("dashboard", "Dashboard")))
	mux.Handle("GET /org/settings", pages.Protect(clerkauth.Check{Permission: settingsPermission})(
		s.page("settings", "Organization settings")))
	mux.Handle("GET /fragments/me", pages.Protect()(http.HandlerFunc(fragmentMe)))
	mux.Handle("GET /api/me", api.Protect()(http.HandlerFunc(apiMe)))
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	return mw.Handler(demo.LogRequests(logger, mux))
}

// pageData is what every page template reads.
type pageData struct {
	Title          string
	Auth           *clerkauth.Auth
	SignInURL      string
	SignOutURL     string
	ClerkJS        string
	PublishableKey string
	Need           string // the permission the 403 page names
}

func (s site) data(r *http.Request, title string) pageData {
	home := "http://" + r.Host + "/"
	d := pageData{Title: title, Auth: clerkauth.GetAuth(r), ClerkJS: s.clerkJS, PublishableKey: s.publishableKey}
	if s.signIn != "" {
		d.SignInURL = s.signIn + "?redirect_url=" + url.QueryEscape(home)
	}
	if d.Auth.IsSignedIn() {
		d.SignOutURL = signOutURL(s.signOut, home)
	}
	return d
}

// page renders the template name.
func (s site) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		render(w, http.StatusOK, name, s.data(r, title))
	}
}

// forbidden is the page routes' answer to a signed-in user who fails a
// check (err is a *clerkauth.ForbiddenError, naming the Check).
func (s site) forbidden(w http.ResponseWriter, r *http.Request, err error) {
	d := s.data(r, "Forbidden")
	var fe *clerkauth.ForbiddenError
	if errors.As(err, &fe) {
		d.Need = fe.Check.Permission
	}
	render(w, http.StatusForbidden, "forbidden", d)
}

func render(w http.ResponseWriter, code int, name string, d any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // pages differ per user
	w.WriteHeader(code)
	templates.ExecuteTemplate(w, name, d)
}

// fragmentMe is the htmx fragment: who the user is.
func fragmentMe(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, "me", clerkauth.GetAuth(r))
}

// apiMe answers JSON, for scripts.
func apiMe(w http.ResponseWriter, r *http.Request) {
	a := clerkauth.GetAuth(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"userId": a.UserID, "orgId": a.OrgID, "orgRole": a.OrgRole,
		"orgPermissions": a.OrgPermissions})
}
