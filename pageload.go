package clerkauth

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/clerkauth/clerkauth/internal/claims"
	"github.com/clerkauth/clerkauth/internal/cookie"
	"github.com/clerkauth/clerkauth/internal/reason"
)

// What happens on a page load: Clerk's authenticateRequest beyond API
// requests (request.ts authenticateRequestWithTokenInCookie and
// handleSessionTokenError), read top to bottom in Clerk's order. The
// handshake itself (the redirect and its resolution) is in handshake.go,
// the session refresh in refresh.go. These flows run only when both a
// publishable key and a secret key are configured and Options
// .DisableHandshake is false; an API request with a valid bearer token
// never comes here.

// Reasons of the page-load states (Clerk's AuthErrorReason).
const (
	reasonDevBrowserMissing     = "dev-browser-missing"
	reasonDevBrowserSync        = "dev-browser-sync"
	reasonPrimaryRespondsToSync = "primary-responds-to-syncing"
	reasonCrossOriginSync       = "primary-domain-cross-origin-sync"
	reasonSatelliteNeedsSync    = "satellite-needs-syncing"
	reasonSessionTokenMissing   = "session-token-missing"
	reasonSessionTokenExpired   = "session-token-expired"
)

// Names of Clerk's page-load cookies and query parameters (constants.ts).
const (
	cookieClientUAT     = "__client_uat"
	cookieRefresh       = "__refresh"
	cookieHandshake     = "__clerk_handshake"
	cookieHandshakeOnce = "__clerk_handshake_nonce"
	cookieDevBrowser    = "__clerk_db_jwt"
	cookieRedirectCount = "__clerk_redirect_count"
	queryClerkSynced    = "__clerk_synced"
	queryRedirectURL    = "__clerk_redirect_url"
	queryHandshakeHelp  = "__clerk_help"
	queryLegacyDevSess  = "__dev_session"
	queryHandshakeRsn   = "__clerk_hs_reason"
	querySuffixed       = "suffixed_cookies"
	queryFormat         = "format"
	querySession        = "__session"
	// handshakeAPIVersion is the __clerk_api_version @clerk/backend 3.25
	// puts on the handshake redirect (its SUPPORTED_BAPI_VERSION).
	handshakeAPIVersion = "2026-05-12"
)

// pageState is Clerk's RequestState for one request: signed in (auth),
// signed out or handshake (err), with the response headers the state
// carries.
type pageState struct {
	auth      *Auth      // signed in; may be shared with the token cache: copy it
	err       *AuthError // signed out, or Kind ErrHandshake
	location  string     // a 307 to it ends the request
	setCookie []string
	noStore   bool // Cache-Control: no-store
	cors      bool // a resolved handshake's Access-Control-Allow-Origin: null, -Credentials: true
}

// apply writes the state's headers to w and, when it carries a
// Location, the 307 itself; handled reports that the response is
// complete.
func (s *pageState) apply(w http.ResponseWriter) (handled bool) {
	h := w.Header()
	for _, c := range s.setCookie {
		h.Add("Set-Cookie", c)
	}
	if s.cors {
		h.Set("Access-Control-Allow-Origin", "null")
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if s.noStore {
		h.Set("Cache-Control", "no-store")
	}
	if s.location == "" {
		return false
	}
	h.Set("Location", s.location)
	if s.err != nil {
		status := "signed-out"
		if s.err.Kind == ErrHandshake {
			status = "handshake"
		}
		h.Set("X-Clerk-Auth-Status", status)
		h.Set("X-Clerk-Auth-Reason", s.err.Reason)
	}
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// pageReq is what Clerk's AuthenticateContext reads from a request.
type pageReq struct {
	ctx           context.Context
	r             *http.Request
	url           clerkURL
	tokenInHeader string
	session       string // the chosen __session cookie
	uat           int64  // the chosen __client_uat, as parseInt || 0
	suffixed      bool   // usesSuffixedCookies
	refresh       string // __refresh_<sfx> (the unsuffixed one is never read)
	devBrowser    string // __clerk_db_jwt query parameter, else cookie
	hsToken       string
	hsNonce       string
	loop          float64 // __clerk_redirect_count, as Number() || 0
	fapi          string  // Clerk's frontendApi: a host, or the proxy URL (a relative one resolved)

	// For the Observer: when deciding began (Options.Now), and whether the
	// outcome came from the verified-token cache alone.
	start time.Time
	hit   bool
}

// readPageReq reads r, whose deciding began at start, into p as Clerk's
// AuthenticateContext does.
func (c *core) readPageReq(p *pageReq, r *http.Request, tokenInHeader string, start time.Time) {
	*p = pageReq{ctx: r.Context(), r: r, url: requestURL(r), tokenInHeader: tokenInHeader, start: start}
	lines := r.Header["Cookie"]
	j := cookie.Read(lines, c.cfg.cookieSuffix)
	p.suffixed = c.cfg.cookieSuffix != "" && c.usesSuffixedCookies(&j, true)
	rawUAT, devCookie := j.UAT, cookie.Get(lines, cookieDevBrowser)
	p.session = j.Session
	if p.suffixed {
		p.session, rawUAT, devCookie = j.SfxSession, j.SfxUAT, cookie.Get(lines, c.cfg.devBrowserCookie)
	}
	p.uat = cookie.ParseIntJS(rawUAT)
	p.refresh = cookie.Get(lines, c.cfg.refreshCookie)
	p.devBrowser = devCookie
	if v, _ := p.url.get(cookieDevBrowser); v != "" {
		p.devBrowser = v
	}
	p.hsToken = cookie.Get(lines, cookieHandshake)
	if v, _ := p.url.get(cookieHandshake); v != "" {
		p.hsToken = v
	}
	p.hsNonce = cookie.Get(lines, cookieHandshakeOnce)
	if v, _ := p.url.get(cookieHandshakeOnce); v != "" {
		p.hsNonce = v
	}
	p.loop = jsNumber(cookie.Get(lines, cookieRedirectCount))
	// Clerk's frontendApi: a host, or the proxy URL.
	p.fapi = strings.TrimPrefix(c.cfg.frontendAPI, "https://")
	if c.cfg.proxyURL != "" {
		p.fapi = c.cfg.proxyURL
		if strings.HasPrefix(p.fapi, "/") {
			p.fapi = p.url.origin() + p.fapi
		}
	}
}

// sessionToken is Clerk's AuthenticateContext.sessionToken: the cookie's,
// else the header's.
func (p *pageReq) sessionToken() string {
	if p.session != "" {
		return p.session
	}
	return p.tokenInHeader
}

// secFetchDest is the Sec-Fetch-Dest header ("" when absent).
func (p *pageReq) secFetchDest() string { return p.r.Header.Get("Sec-Fetch-Dest") }

// eligible is Clerk's isRequestEligibleForHandshake (see pageLoad).
func (p *pageReq) eligible() bool { return pageLoad(p.r) }

// pageLoad reports whether r is a browser loading a page, as Clerk's
// isRequestEligibleForHandshake decides: a GET with Sec-Fetch-Dest
// document or iframe, or without Sec-Fetch-Dest and with an Accept header
// starting with text/html. A fetch from a script (Sec-Fetch-Dest: empty)
// is an API request. The handshake and the sign-in redirect (signin.go)
// both ask it.
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

// pageFlows reports whether m runs Clerk's page-load flows: they need
// the publishable key (the Frontend API), the secret key (the Backend API
// calls), and session tokens among the accepted types.
func (m *Middleware) pageFlows() bool {
	return m.c.cfg.handshake && m.accept&maskSession != 0
}

// pageLoad runs Clerk's cookie flow on r, a request without a token in
// its Authorization header whose deciding began at start, and reports it
// to the Observer once. st is nil when there are no headers to apply (the
// common signed-in and signed-out requests, which allocate nothing here).
func (m *Middleware) pageLoad(r *http.Request, start time.Time) (a *Auth, aerr *AuthError, st *pageState) {
	var p pageReq
	m.c.readPageReq(&p, r, "", start)
	a, aerr, st = m.cookieFlow(&p)
	if m.c.cfg.observer.Authentication != nil {
		var ctx context.Context // no token: no span, as observeNoToken
		typ := ""
		switch {
		case a != nil:
			typ, ctx = a.TokenType, r.Context()
		case p.session != "" || aerr == errPending: // a pending session may come from the handshake or a refresh
			typ, ctx = TokenTypeSession, r.Context()
		}
		m.c.observePageRequest(ctx, start, typ, aerr, p.hit)
	}
	return a, aerr, st
}

// cookieFlow is Clerk's authenticateRequestWithTokenInCookie for p.
func (m *Middleware) cookieFlow(p *pageReq) (*Auth, *AuthError, *pageState) {
	c, cfg, r := m.c, m.c.cfg, p.r
	dev := cfg.development

	if p.hsNonce != "" || p.hsToken != "" {
		if st := m.resolveHandshake(p); st != nil {
			return st.auth, st.err, st
		}
	}

	hasSession := p.session != ""
	hasClient := p.uat != 0
	synced, _ := p.url.get(queryClerkSynced)
	needsSync, syncDone := synced == "false", synced == "true"
	if cfg.isSatellite && p.secFetchDest() == "document" && r.Method == http.MethodGet && !syncDone {
		hasCookies := hasSession || hasClient
		if !hasCookies && !needsSync {
			return nil, errNoToken, nil // Clerk's satelliteAutoSync is off by default
		}
		if !hasCookies || needsSync {
			loc := ""
			if dev {
				loc = withParam(cfg.signInURL, queryRedirectURL, p.url.href(), false)
			}
			return unpack(m.handshakeStatus(p, reasonSatelliteNeedsSync, nil, loc))
		}
	}
	if redirect, _ := p.url.get(queryRedirectURL); dev && !cfg.isSatellite && redirect != "" {
		if _, _, ok := urlOrigin(redirect); ok {
			if p.devBrowser != "" {
				redirect = withParam(redirect, cookieDevBrowser, p.devBrowser, false)
			}
			redirect = withParam(redirect, queryClerkSynced, "true", true)
			return unpack(m.handshakeStatus(p, reasonPrimaryRespondsToSync, nil, redirect))
		}
	}
	if _, ok := p.url.get(cookieDevBrowser); dev && ok {
		return unpack(m.handshakeStatus(p, reasonDevBrowserSync, nil, ""))
	}
	if dev && p.devBrowser == "" {
		return unpack(m.handshakeStatus(p, reasonDevBrowserMissing, nil, ""))
	}
	switch {
	case !hasClient && !hasSession:
		return nil, errNoToken, nil
	case !hasClient:
		return unpack(m.handshakeStatus(p, reason.TokenButNoClientUAT, errTokenButNoUAT, ""))
	case !hasSession:
		return unpack(m.handshakeStatus(p, reason.ClientUATButNoToken, errUATButNoToken, ""))
	}

	uat := max(p.uat, 1) // any non-zero uat is a signed-in client
	a, aerr, hit := c.decide(p.ctx, p.start, p.session, uat, m.accept, false)
	p.hit = hit
	// A pending session is Clerk's signed-in state (its toAuth() signs it
	// out): the cross-origin sync below applies to it too.
	if aerr != nil && aerr != errPending {
		if aerr.Reason == reason.TokenTypeMismatch {
			return nil, aerr, nil
		}
		// Clerk compares the unverified iat with __client_uat before it
		// verifies anything (and before the expiry): a token older than
		// the client's last sign-in or sign-out asks for a handshake.
		if aerr == errIATBeforeUAT {
			return unpack(m.handshakeStatus(p, reason.TokenIATBeforeClientUAT, aerr, ""))
		}
		if u := claims.DecodeUnverified(p.session); u.OK && u.IatJSOK && u.IatJS < float64(p.uat) {
			return unpack(m.handshakeStatus(p, reason.TokenIATBeforeClientUAT, errIATBeforeUAT, ""))
		}
		return unpack(m.tokenError(p, p.session, aerr))
	}
	if !cfg.isSatellite && r.Method == http.MethodGet && p.secFetchDest() == "document" && p.loop == 0 &&
		m.crossOriginReferrer(p) {
		return unpack(m.handshakeStatus(p, reasonCrossOriginSync, errCrossOrigin, ""))
	}
	if aerr != nil {
		return nil, aerr, nil // pending: signed out, no headers
	}
	if a.UserID != "" {
		if st := m.orgSync(p, a); st != nil {
			return st.auth, st.err, st
		}
	}
	return a, nil, nil
}

// errCrossOrigin is the signed-out answer of a document request from
// another origin that cannot be redirected (a loop).
var errCrossOrigin = authErr(ErrSignedOut, reasonCrossOriginSync, "Cross-origin request from satellite domain requires handshake")

// crossOriginReferrer is Clerk's isCrossOriginReferrer and not
// isKnownClerkReferrer: the Referer is another origin, and not the
// Frontend API, the accounts portal, or (development) a development
// accounts portal.
func (m *Middleware) crossOriginReferrer(p *pageReq) bool {
	ref := p.r.Header.Get("Referer")
	if ref == "" {
		return false
	}
	origin, host, ok := urlOrigin(ref)
	if !ok || origin == p.url.origin() {
		return false
	}
	fapi := p.fapi
	fapiHost := fapi
	if strings.HasPrefix(fapi, "http") {
		_, fapiHost, _ = urlOrigin(fapi)
	}
	if fapiHost != "" && host == fapiHost {
		return false
	}
	if m.c.cfg.development && devAccountsPortal(host) {
		return false
	}
	if fapi != "" {
		acc := strings.Replace(fapi, "clerk.accountsstage.", "accountsstage.", 1)
		// /clerk\.accounts\.|clerk\./, first match: the longer form where
		// the first "clerk." starts it.
		if i := strings.Index(acc, "clerk."); i >= 0 && strings.HasPrefix(acc[i:], "clerk.accounts.") {
			acc = acc[:i] + "accounts." + acc[i+len("clerk.accounts."):]
		} else if i >= 0 {
			acc = acc[:i] + "accounts." + acc[i+len("clerk."):]
		}
		if o, _, ok := urlOrigin("https://" + acc); ok && o == origin {
			return false
		}
	}
	return true
}

// devAccountsPortal is Clerk's isLegacyDevAccountPortalOrigin or
// isCurrentDevAccountPortalOrigin.
func devAccountsPortal(host string) bool {
	for _, s := range []string{".lcl.dev", ".lclstage.dev", ".lclclerk.com"} {
		if strings.HasPrefix(host, "accounts.") && strings.HasSuffix(host, s) {
			return true
		}
	}
	for _, s := range []string{".accounts.dev", ".accountsstage.dev", ".accounts.lclclerk.com"} {
		if strings.HasSuffix(host, s) && !strings.HasSuffix(host, ".clerk"+s) {
			return true
		}
	}
	return false
}

// headerTokenError is handleSessionTokenError for a token from the
// Authorization header that failed verification with aerr, a time failure
// (from the verified-token cache: hit), deciding from start. It reports
// the request to the Observer once.
func (m *Middleware) headerTokenError(r *http.Request, tok string, aerr *AuthError, start time.Time, hit bool) *pageState {
	var p pageReq
	m.c.readPageReq(&p, r, tok, start)
	p.hit = hit
	st := m.tokenError(&p, tok, aerr)
	m.c.observePageRequest(r.Context(), start, tokenTypeOf(tok, 0, st.auth), st.err, p.hit)
	return st
}

// timeErr reports whether aerr is one of the session-token time failures
// that Clerk answers with a refresh or a handshake.
func timeErr(aerr *AuthError) bool {
	return aerr == errExpired || aerr == errSessionNbf || aerr == errSessionIATFuture
}

// tokenError is Clerk's handleSessionTokenError for tok, which failed
// with aerr: an expired token (its signature verified: see verify) is
// refreshed when the request is a GET with the __refresh cookie, and the
// time failures ask for a handshake; every other failure is signed out.
func (m *Middleware) tokenError(p *pageReq, tok string, aerr *AuthError) *pageState {
	if !timeErr(aerr) {
		return signedOutState(aerr)
	}
	why, refreshed := "null", false
	switch {
	case aerr == errExpired && p.refresh != "" && p.r.Method == http.MethodGet:
		st, w := m.refresh(p, tok)
		p.hit, refreshed = false, true // a Backend API call, a new token
		if st != nil {
			m.c.observePageLoad(flowRefresh, outcomeRefreshed, "", p.start)
			return st
		}
		why = w
	case p.r.Method != http.MethodGet:
		why = "non-eligible-non-get"
	case p.refresh == "":
		why = "non-eligible-no-refresh-cookie"
	}
	rsn := aerr.Reason
	base := aerr
	if aerr == errExpired {
		rsn = reasonSessionTokenExpired + "-refresh-" + why
		base = &AuthError{Reason: rsn, Kind: ErrTokenExpired, Detail: "token expired"}
	}
	if refreshed {
		m.c.observePageLoad(flowRefresh, outcomeFailed, rsn, p.start)
	}
	return m.handshakeStatus(p, rsn, base, "")
}

// unpack is the state as cookieFlow returns it.
func unpack(st *pageState) (*Auth, *AuthError, *pageState) { return st.auth, st.err, st }

// signedOutState is a signed-out state without headers.
func signedOutState(aerr *AuthError) *pageState { return &pageState{err: aerr} }

// handshakeStatus is Clerk's handleMaybeHandshakeStatus: a request that is
// not a page load is signed out (base, or an error with rsn); a page load
// is redirected to location (the handshake URL when "") with no-store and
// the redirect-loop counter, unless the counter says this is the third
// redirect in a row, then it is signed out too.
func (m *Middleware) handshakeStatus(p *pageReq, rsn string, base *AuthError, location string) *pageState {
	if base == nil || base.Reason != rsn {
		kind := ErrSignedOut
		if base != nil {
			kind = base.Kind
		}
		base = &AuthError{Reason: rsn, Kind: kind, Detail: "needs a handshake with the Frontend API"}
	}
	if !p.eligible() {
		return signedOutState(base)
	}
	if p.loop == 3 {
		m.c.observePageLoad(flowHandshake, outcomeLoop, rsn, p.start)
		return signedOutState(base)
	}
	if location == "" {
		location = m.handshakeURL(p, rsn)
	}
	m.c.observePageLoad(flowHandshake, outcomeRedirect, rsn, p.start)
	return &pageState{
		err:       &AuthError{Reason: rsn, Kind: ErrHandshake, Detail: "redirecting to the Frontend API handshake", Err: base},
		location:  location,
		noStore:   true,
		setCookie: []string{cookieRedirectCount + "=" + jsNumberString(p.loop+1) + "; SameSite=Lax; HttpOnly; Max-Age=2"},
	}
}

// withParam adds name=value to the query of the absolute URL raw, as
// URLSearchParams.append (set: .set, which replaces the first and drops
// the other values of name) does: the whole query is re-serialized.
func withParam(raw, name, value string, set bool) string {
	base, frag, _ := strings.Cut(raw, "#")
	base, q, _ := strings.Cut(base, "?")
	pairs := parseQuery(q)
	if set {
		kept := pairs[:0]
		done := false
		for _, p := range pairs {
			if p.name != name {
				kept = append(kept, p)
			} else if !done {
				kept = append(kept, queryPair{name, value})
				done = true
			}
		}
		pairs = kept
		if !done {
			pairs = append(pairs, queryPair{name, value})
		}
	} else {
		pairs = append(pairs, queryPair{name, value})
	}
	if o, _, ok := urlOrigin(base); ok && o != "null" && strings.Count(base, "/") < 3 {
		base += "/" // new URL("https://a.com").href is https://a.com/
	}
	s := base + "?" + encodeQuery(pairs)
	if frag != "" {
		s += "#" + frag
	}
	return s
}

// jsNumber is JavaScript's Number(s) || 0 for a cookie value (s as
// cookie.Value returns it): JavaScript's whitespace trimmed, "" is 0,
// Infinity with its sign, 0x/0o/0b integers without a sign, else a
// decimal literal (an overflow is Infinity); anything else (NaN) is 0.
func jsNumber(s string) float64 {
	s = cookie.TrimJSSpace(s)
	if s == "" {
		return 0
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[s[1]]
		if base != 0 {
			f := 0.0
			for _, c := range s[2:] {
				d := strings.IndexRune("0123456789abcdef", unicode.ToLower(c))
				if d < 0 || d >= base {
					return 0
				}
				f = f*float64(base) + float64(d)
			}
			return f
		}
	}
	if strings.Trim(s, "0123456789.eE+-") != "" {
		return 0 // no inf, nan, hex floats or underscores, which ParseFloat takes
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || f != f {
		return 0
	}
	return f
}

// jsNumberString is String(n) for the counter values: Infinity by name,
// exponent notation from 1e21 up and below 1e-6, as JavaScript writes them.
func jsNumberString(f float64) string {
	switch abs := math.Abs(f); {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case abs >= 1e21 || abs != 0 && abs < 1e-6:
		m, e, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
		sign, digits := e[:1], strings.TrimLeft(e[1:], "0")
		return m + "e" + sign + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
