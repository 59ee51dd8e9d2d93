package clerkauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// The sign-in redirect: what a protected route answers a page load that is
// not signed in, when Options.SignInURL is set. Clerk's redirectToSignIn
// (createRedirect.ts in @clerk/backend) decides where it goes; htmx
// requests get the same destination as HX-Redirect.

// redirectToSignIn sends a request that is not signed in to the sign-in
// page, as Clerk's redirectToSignIn does, and reports whether it did:
//   - a page load (see pageLoad) gets 307 to Options.SignInURL with
//     redirect_url, the request's own absolute URL;
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
	if !validHost(self.Host) {
		return false // no URL to come back to: a 401, as for an API request
	}
	back := self
	if htmx {
		if cur, perr := url.Parse(r.Header.Get("HX-Current-URL")); perr == nil && sameOrigin(cur, self) {
			back = cur
		}
	}
	target, ok := signInTarget(cfg, self, back, devBrowserToken(r, cfg), errors.Is(err, ErrSessionPending))
	if !ok {
		return false
	}
	h := w.Header()
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

// pageLoad reports whether r is a browser loading a page, as Clerk's
// isRequestEligibleForHandshake decides: a GET with Sec-Fetch-Dest
// document or iframe, or without Sec-Fetch-Dest and with an Accept header
// starting with text/html. A fetch from a script (Sec-Fetch-Dest: empty)
// is an API request.
func pageLoad(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document", "iframe":
		return true
	case "":
		return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
	}
	return false
}

// requestURL is the absolute URL of r as the browser sees it, as Clerk's
// clerkRequest derives it: the first X-Forwarded-Proto and
// X-Forwarded-Host values when present (an application behind a proxy),
// else the Host header and whether the connection is TLS.
func requestURL(r *http.Request) *url.URL {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ","); p != "" {
		scheme = strings.ToLower(strings.TrimSpace(p))
	}
	host := r.Host
	if fh, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); strings.TrimSpace(fh) != "" {
		host = strings.TrimSpace(fh)
	}
	u := &url.URL{Scheme: scheme, Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if scheme != "http" && scheme != "https" || !validHost(host) {
		// Not a URL a browser could have loaded: keep the connection's own.
		u.Scheme, u.Host = "http", r.Host
		if r.TLS != nil {
			u.Scheme = "https"
		}
	}
	return u
}

// validHost reports whether h can be the host[:port] of a URL: letters,
// digits and . - _ : [ ] (an IPv6 literal), nothing else.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// devBrowserToken is the development browser's token (__clerk_db_jwt, from
// the query or the cookie, suffixed cookie first), "" on a production
// instance. Clerk passes it to a sign-in page on another origin, which
// has no other way to know the browser.
func devBrowserToken(r *http.Request, cfg *config) string {
	if !cfg.development {
		return ""
	}
	if v := r.URL.Query().Get("__clerk_db_jwt"); v != "" {
		return v
	}
	for _, name := range []string{"__clerk_db_jwt_" + cfg.cookieSuffix, "__clerk_db_jwt"} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// signInTarget builds the sign-in URL as Clerk's buildUrl (createRedirect.ts):
// Options.SignInURL resolved against the request's URL self (+ "/tasks"
// for a pending session), with redirect_url = back; when the sign-in page
// is on another host, a satellite's back URL gets __clerk_synced=false (so
// the return syncs the session) and a development browser's token rides
// along as __clerk_db_jwt.
func signInTarget(cfg *config, self, back *url.URL, dbToken string, pending bool) (string, bool) {
	target := cfg.signInURL
	if pending {
		target += "/tasks"
	}
	ref, err := url.Parse(target)
	if err != nil {
		return "", false
	}
	res := self.ResolveReference(ref)
	cross := hostPort(self) != hostPort(res)
	ret := *back
	if cross && cfg.isSatellite {
		ret.RawQuery = setParam(ret.RawQuery, "__clerk_synced", "false")
	}
	res.RawQuery = setParam(res.RawQuery, "redirect_url", ret.String())
	if cross && dbToken != "" {
		res.RawQuery = setParam(res.RawQuery, "__clerk_db_jwt", dbToken)
	}
	return res.String(), true
}

// hostPort is JavaScript's `${url.hostname}:${url.port}`: the host in
// lower case and the port, "" when it is the scheme's default.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "443" && u.Scheme == "https" || port == "80" && u.Scheme == "http" {
		port = ""
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

// sameOrigin reports whether u is an absolute URL of a's origin.
func sameOrigin(u, a *url.URL) bool {
	return u.IsAbs() && strings.EqualFold(u.Scheme, a.Scheme) && hostPort(u) == hostPort(a)
}

// setParam is URLSearchParams.set on a raw query: the first name=... pair
// takes the value and later ones go; without one, the pair is appended.
// The other pairs keep their order and encoding.
func setParam(rawQuery, name, value string) string {
	pair := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	var out []string
	set := false
	for _, p := range strings.Split(rawQuery, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil && dk == name {
			if !set {
				out, set = append(out, pair), true
			}
			continue
		}
		out = append(out, p)
	}
	if !set {
		out = append(out, pair)
	}
	return strings.Join(out, "&")
}
