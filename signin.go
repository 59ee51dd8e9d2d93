package clerkauth

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// The sign-in redirect: what a protected route answers a page load that is
// not signed in, when Options.SignInURL is set. Clerk's redirectToSignIn
// (createRedirect.ts in @clerk/backend) decides where it goes; htmx
// requests get the same destination as HX-Redirect.

// redirectToSignIn sends a request that is not signed in to the sign-in
// page, as Clerk's redirectToSignIn does, and reports whether it did:
//   - a page load (pageLoad, as for the handshake) gets 307 to
//     Options.SignInURL with redirect_url, the request's own absolute URL;
//   - an htmx request (HX-Request: true) gets 401, as any API request,
//     with HX-Redirect: htmx follows a 3xx inside its XHR and would swap
//     the sign-in page into the fragment, whereas it navigates the whole
//     page to HX-Redirect whatever the status. Its redirect_url is the page
//     the fragment belongs to (HX-Current-URL, when of the same origin).
//
// Nothing is written, and it reports false, without SignInURL, on a route
// that takes no session tokens, for any other request, and for a fault of
// the server (keys or Backend API unavailable): a user who may well be
// signed in is not sent to sign in again.
func (m *Middleware) redirectToSignIn(w http.ResponseWriter, r *http.Request, err error) bool {
	cfg := m.c.cfg
	if cfg.signInURL == "" || m.accept&maskSession == 0 ||
		errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrBackendUnavailable) {
		return false
	}
	htmx := r.Header.Get("HX-Request") == "true"
	if !htmx && !pageLoad(r) {
		return false
	}
	self := requestURL(r)
	if !validHost(self.host) || self.scheme != "http" && self.scheme != "https" {
		// No web page to come back to (a Host or X-Forwarded-Proto no
		// browser sends): a 401, as for an API request.
		return false
	}
	back := self.href()
	if htmx {
		cur := strings.TrimSpace(r.Header.Get("HX-Current-URL"))
		if o, _, ok := urlOrigin(cur); ok && o == self.origin() {
			back = cur
		}
	}
	var dbToken string
	if cfg.development {
		var p pageReq
		m.c.readPageReq(&p, r, "", time.Time{}) // only the dev-browser token is read
		dbToken = p.devBrowser
	}
	h := w.Header()
	target := signInTarget(cfg, &self, back, dbToken, errors.Is(err, ErrSessionPending))
	if htmx {
		h.Set("HX-Redirect", target)
		DefaultErrorHandler(w, r, err)
		return true
	}
	signedOutHeaders(h, err)
	h.Set("Location", target)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// signInTarget builds the sign-in URL as Clerk's buildUrl
// (createRedirect.ts): Options.SignInURL (+ "/tasks" for a pending
// session) resolved against the request's URL self, with redirect_url =
// back; when the sign-in page is on another host (or port), a satellite's
// back URL gets __clerk_synced=false (so that coming back syncs the
// session) and a development browser's token rides along as
// __clerk_db_jwt, the only way a page on another site knows the browser.
func signInTarget(cfg *config, self *clerkURL, back, dbToken string, pending bool) string {
	target := cfg.signInURL
	if pending {
		target += "/tasks"
	}
	if strings.HasPrefix(target, "/") {
		target = self.origin() + target // New allows only an absolute URL or a path
	}
	cross := true
	if o, _, ok := urlOrigin(target); ok {
		_, host, _ := strings.Cut(o, "://")
		cross = host != self.host
	}
	if cross && cfg.isSatellite {
		back = withParam(back, "__clerk_synced", "false", true)
	}
	target = withParam(target, "redirect_url", back, true)
	if cross && dbToken != "" {
		target = withParam(target, cookieDevBrowser, dbToken, true)
	}
	return target
}
