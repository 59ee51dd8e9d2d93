package clerkauth

import (
	"context"
	"github.com/clerkauth/clerkauth/internal/jwks"
	"math/bits"
	"net/http"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/fifocache"
	"github.com/clerkauth/clerkauth/internal/machinetoken"
	"github.com/golang-jwt/jwt/v5"
)

// Middleware authenticates requests with Clerk session tokens. Create it
// with [New]; it is safe for concurrent use. Call [Middleware.Close] when
// done with it to stop the background key refresh.
type Middleware struct {
	c      *core
	accept tokenMask // token types this middleware accepts
	resp   Responses // the route's own responses (WithResponses)
}

// core is what every request shares: the configuration, the keys and the
// caches. It is immutable after New except for the keys and caches, which
// synchronize themselves.
type core struct {
	cfg    *config
	keys   *keys
	cache  *fifocache.Cache[*verified] // verified tokens; nil when turned off
	client *Client                     // Backend API; calls fail with ErrNoSecretKey without a secret key
	mach   *machineVerifier
	page   pageCalls // Backend API calls of the page-load flows
}

// The verified-token cache is bounded in bytes as well as in entries: its
// entries' costs add up to at most cacheBytesPerEntry per entry of
// Options.TokenCacheSize (30,000 KiB, about 29 MiB, at the default 10,000),
// whatever the size of the tokens. A typical 1 KiB session token costs
// under 3 KiB, so then the entry count is the bound that counts; 16 KiB
// tokens fit about 900 at a time.
const cacheBytesPerEntry = 3 << 10

// cacheEntryCost bounds the heap a cached verification of tok holds: the
// token, what was decoded from its claims (less than the token) and about
// 1 KiB of records (TestTokenCacheBoundedInBytes measures it).
func cacheEntryCost(tok string) int64 { return 2*int64(len(tok)) + 1<<10 }

// New validates opts (see [Options] for defaults and environment
// variables) and returns a Middleware. With a JWKS source it starts
// downloading the keys in the background at once; the first requests wait
// for that download (bounded by Options.KeyWaitTimeout).
func New(opts Options) (*Middleware, error) {
	cfg, err := opts.resolve()
	if err == nil {
		err = cfg.checkVerifier()
	}
	if err != nil {
		return nil, err
	}
	cache := fifocache.New[*verified](cfg.cacheSize, int64(cfg.cacheSize)*cacheBytesPerEntry, cfg.skew)
	c := &core{cfg: cfg, keys: &keys{}, cache: cache, client: newClient(cfg)}
	if cfg.pemKey != nil {
		c.keys.static = &jwks.Key{Pub: cfg.pemKey}
	} else {
		c.keys.remote = newRemoteKeys(cfg, c.client)
	}
	c.mach = newMachineVerifier(cfg, c.client)
	c.page = pageCalls{slots: make(chan struct{}, cfg.maxVerifyCalls), limit: 2 * cfg.keyWait}
	return &Middleware{c: c, accept: cfg.accept}, nil
}

// Close stops the background key refresh and waits for it to end. It is
// safe to call more than once. Requests after Close still verify with the
// keys already loaded.
func (m *Middleware) Close() error {
	m.c.keys.close()
	m.c.mach.close()
	return nil
}

// Client returns the Backend API client built from the middleware's
// Options. It is never nil; without a secret key its calls return
// [ErrNoSecretKey].
func (m *Middleware) Client() *Client {
	return m.c.client
}

// Keyfunc returns a [jwt.Keyfunc] over the middleware's keys, for
// verifying other JWTs signed by the instance (for example JWT templates)
// with golang-jwt directly. It finds keys as the middleware does: it waits
// for the first key download (at most Options.KeyWaitTimeout), refreshes
// the keys for an unknown kid within the same cooldown, and gives a key
// only for the algorithms the middleware accepts (RS256, or RS384/RS512
// with a key that declares it).
func (m *Middleware) Keyfunc() jwt.Keyfunc {
	return m.c.keys.jwtKeyfunc()
}

// Handler authenticates every request and puts the result in its context,
// where [GetAuth] finds it; it never rejects. Its method value fits chi's
// r.Use and any func(http.Handler) http.Handler chain.
//
// On page loads it does what Clerk's authenticateRequest does (see
// docs/page-loads.md): a request in a state only the Frontend API can
// settle is answered with Clerk's 307 handshake redirect (Location,
// Cache-Control: no-store, Set-Cookie) and next is not called; after a
// session refresh or a resolved handshake the new cookies are added to the
// response (Set-Cookie) and the request is served signed in (on a
// development instance, a resolved handshake is a 307 to the URL without
// its handshake parameters). Requests that are not page loads (fetch, XHR,
// non-GET) are never redirected.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.decidedIn(r.Context()) {
			next.ServeHTTP(w, r)
			return
		}
		tok, uat, aerr := m.extract(r)
		if aerr == nil && uat == 0 {
			if kind := machinetoken.OpaqueKind(tok); kind != "" && m.accept&maskOf(kind) != 0 {
				// An opaque machine token: verified (a Backend API call)
				// only if the handler reads its Auth.
				lc := &lazyAuthContext{Context: r.Context(), m: m, tok: tok}
				next.ServeHTTP(w, r.WithContext(lc))
				return
			}
		}
		a, aerr, st := m.judge(r, tok, uat, aerr)
		if st != nil && st.apply(w) {
			return // a handshake redirect: the page is served after it
		}
		if aerr != nil {
			a = m.signedOut(aerr)
		}
		next.ServeHTTP(w, r.WithContext(newAuthContext(r.Context(), a, m.accept)))
	})
}

// RequireAuth is Handler that also rejects requests that are not signed
// in: 401 {"error":"Not authenticated"}, or 503 {"error":"Authentication
// unavailable"} with Retry-After when the keys cannot be obtained (a fault
// of the server, not of the client's session). Page loads get what
// Handler gives them first (the handshake redirect, the refreshed
// cookies). When Options.SignInURL is set, a page load that is still
// signed out is redirected (307) to the sign-in page with redirect_url,
// its own URL, as Clerk's redirectToSignIn does, and an htmx request gets
// its 401 with HX-Redirect to that page. Options.ErrorHandler replaces
// the 401 and 503 responses; [Middleware.WithResponses] chooses a route's
// own. When an outer Handler of the same Middleware already authenticated
// the request, its result is reused. [Middleware.Protect] also checks
// roles, permissions, plans and the like.
func (m *Middleware) RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := FromContext(r.Context())
		if !ok || !m.reusable(a) {
			shared, aerr, st := m.check(r)
			if st != nil && st.apply(w) {
				return
			}
			if aerr != nil {
				shared = m.signedOut(aerr)
			}
			ac := newAuthContext(r.Context(), shared, m.accept)
			r, a = r.WithContext(ac), &ac.auth
		}
		if !a.IsSignedIn() {
			m.reject(w, r, a.Err())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reusable reports whether a, found in a request's context, is what m
// itself would decide: it was produced by the same instance, for the same
// set of accepted token types.
func (m *Middleware) reusable(a *Auth) bool {
	return a.origin == m.c && a.mask == m.accept
}

// Authenticate checks the request's token without any HTTP plumbing. It
// always returns a non-nil Auth; when err is non-nil (an [*AuthError], the
// caller's own copy, which Auth.Err also returns) the Auth is signed out.
//
// It cannot write a response: a page load that needs the handshake
// redirect gets an error of kind [ErrHandshake], and the Set-Cookie
// headers of a session refresh or a resolved handshake are lost (the
// request is still signed in, but the browser keeps its expired cookie).
// Integrations that serve pages call [Middleware.AuthenticateResponse]
// instead.
func (m *Middleware) Authenticate(r *http.Request) (*Auth, error) {
	a, aerr, _ := m.check(r)
	return m.own(a, aerr)
}

// AuthenticateResponse is Authenticate for integrations that call it
// themselves (a gin or echo middleware): it writes to w what
// [Middleware.Handler] writes. When handled is true the response is
// complete (Clerk's 307 handshake redirect, with Location, Cache-Control:
// no-store and Set-Cookie) and the caller must stop; otherwise any
// Set-Cookie of a session refresh or a resolved handshake has been added
// to w's headers and the caller serves the request with a, signed in or
// not (a.Err says why not), as Handler would.
func (m *Middleware) AuthenticateResponse(w http.ResponseWriter, r *http.Request) (a *Auth, handled bool) {
	shared, aerr, st := m.check(r)
	if st != nil && st.apply(w) {
		handled = true
	}
	a, _ = m.own(shared, aerr)
	return a, handled
}

// check extracts and verifies the request's token, with Clerk's page-load
// flows when they are on. A signed-in Auth may be shared with other
// requests (the verified-token cache): callers copy it. st, when not nil,
// carries response headers to apply.
func (m *Middleware) check(r *http.Request) (*Auth, *AuthError, *pageState) {
	tok, uat, aerr := m.extract(r)
	return m.judge(r, tok, uat, aerr)
}

// judge is check after extract. An API request (a bearer token, or the
// page-load flows off) takes the short path: decide, then one report to
// the Observer. A request without a header token takes Clerk's cookie
// flow when the page-load flows are on, and a header token that failed on
// its time claims may be refreshed or redirected as Clerk does; those
// flows report the request themselves, once.
func (m *Middleware) judge(r *http.Request, tok string, uat int64, aerr *AuthError) (*Auth, *AuthError, *pageState) {
	if aerr == nil && uat == 0 { // a token in the Authorization header
		ctx, start := r.Context(), m.c.cfg.now()
		a, aerr, hit := m.c.decide(ctx, start, tok, uat, m.accept, tokenIsHeader(r, uat, tok))
		if aerr != nil && timeErr(aerr) && m.pageFlows() {
			st := m.headerTokenError(r, tok, aerr, start, hit)
			return st.auth, st.err, st
		}
		m.c.observeAuthentication(ctx, start, tok, uat, a, aerr, hit)
		return a, aerr, nil
	}
	if m.pageFlows() && (uat > 0 || aerr == errNoToken || aerr == errUATButNoToken || aerr == errTokenButNoUAT) {
		return m.pageLoad(r, m.c.cfg.now())
	}
	if aerr != nil {
		m.c.observeNoToken(aerr)
		return nil, aerr, nil
	}
	a, aerr := m.c.authenticate(r.Context(), tok, uat, m.accept, false)
	return a, aerr, nil
}

// extract finds the request's token as core.extract does, with the
// answers of Clerk's authenticateRequest for a route that takes no session
// tokens: machine tokens come in the Authorization header only, so a
// request without one there (cookies or nothing) is "No token in header"
// on a route for one machine type and token-type-mismatch on a route for
// several, and "Bearer" alone is not a machine token (token-type-mismatch).
func (m *Middleware) extract(r *http.Request) (tok string, uat int64, aerr *AuthError) {
	tok, uat, aerr = m.c.extract(r)
	if m.accept&maskSession != 0 {
		return tok, uat, aerr
	}
	switch {
	case aerr == errBearerEmpty:
		return "", 0, errTypeNotAccepted
	case aerr == errTwoAuthorization || aerr == nil && uat == 0:
		return tok, uat, aerr // a header token, or none that could be read
	case bits.OnesCount8(uint8(m.accept)) == 1:
		return "", 0, errNoHeaderToken
	}
	return "", 0, errTypeNotAccepted
}

// tokenIsHeader reports whether tok, as extract returned it, is all but a
// few bytes of the Authorization header that holds it: then the cache may
// keep tok itself alive rather than a copy (a cookie token is part of a
// Cookie line, which may be long).
func tokenIsHeader(r *http.Request, uat int64, tok string) bool {
	return uat == 0 && len(r.Header["Authorization"]) == 1 && len(r.Header["Authorization"][0]) <= len(tok)+16
}

// AuthenticateToken checks a token obtained some other way (a WebSocket
// subprotocol, a query parameter of a server-sent event stream), as if it
// came in the Authorization header.
func (m *Middleware) AuthenticateToken(ctx context.Context, token string) (*Auth, error) {
	return m.own(m.c.authenticate(ctx, token, 0, m.accept, false))
}

// own hands the caller an Auth of its own: a copy of the signed-in a,
// which the verified-token cache shares with other requests, or a
// signed-out Auth holding its own copy of aerr, also returned as the error.
func (m *Middleware) own(a *Auth, aerr *AuthError) (*Auth, error) {
	if aerr != nil {
		a = m.signedOut(aerr)
		return a, a.err
	}
	own := *a
	own.mask = m.accept
	return &own, nil
}

func (m *Middleware) signedOut(err *AuthError) *Auth {
	a := signedOut(err)
	a.origin, a.mask = m.c, m.accept
	if err == errPending {
		a.SessionStatus = "pending"
	}
	return a
}

// authenticate verifies tok (from the cache when it was seen before) and
// applies the per-request checks. uat is the __client_uat of the cookie
// path, 0 for a header token; mask is the set of accepted token types;
// keepTok says tok may be kept as it is (see tokenIsHeader). It reports
// the outcome to Options.Observer when one is set.
func (c *core) authenticate(ctx context.Context, tok string, uat int64, mask tokenMask, keepTok bool) (*Auth, *AuthError) {
	now := c.cfg.now()
	if c.cfg.observer.Authentication == nil {
		a, aerr, _ := c.decide(ctx, now, tok, uat, mask, keepTok)
		return a, aerr
	}
	a, aerr, hit := c.decide(ctx, now, tok, uat, mask, keepTok)
	c.observeAuthentication(ctx, now, tok, uat, a, aerr, hit)
	return a, aerr
}

// decide is authenticate at now; hit says the answer came from a cache.
func (c *core) decide(ctx context.Context, now time.Time, tok string, uat int64, mask tokenMask, keepTok bool) (*Auth, *AuthError, bool) {
	if uat > 0 && mask&maskSession == 0 {
		return nil, errTypeNotAccepted, false // cookies carry session tokens only
	}
	if uat == 0 {
		if kind := machinetoken.OpaqueKind(tok); kind != "" {
			if mask == maskSession {
				// Clerk verifies it as a session token: not a JWT.
				return nil, errOpaqueNotJWT, false
			}
			if mask&maskOf(kind) == 0 {
				return nil, errTypeNotAccepted, false
			}
			a, aerr, hit := c.mach.verify(ctx, kind, tok)
			if aerr != nil {
				return nil, aerr, hit
			}
			a.origin = c // a is this request's own copy
			return a, nil, hit
		}
	}
	var v *verified
	if c.cache != nil {
		v = c.cache.Get(tok)
		if v != nil && !c.keys.current(v.key, now) {
			// The key left the key set: verify again from scratch.
			c.cache.Remove(tok)
			v = nil
		}
	}
	hit := v != nil
	if v == nil {
		var aerr *AuthError
		v, aerr = c.verify(ctx, tok)
		if aerr != nil && aerr != errTooLarge {
			if kind := machinetoken.JWTKind(tok); kind != "" && mask&maskOf(kind) == 0 {
				// Clerk decides the type before verifying: a machine JWT on a
				// route that does not take it is a type mismatch, valid or not.
				aerr = errTypeNotAccepted
			}
		}
		if aerr != nil {
			c.cfg.logger.Debug("clerkauth: token rejected", "reason", aerr.Reason)
			return nil, aerr, false
		}
		if c.cache != nil && v.exp*1e9 > now.UnixNano()-int64(c.cfg.skew) {
			// tok may be a substring of a much longer string (a whole
			// Cookie line, a caller's buffer): unless keepTok says it is
			// (nearly) all of its header, keep only a copy alive for the
			// entry's life.
			if !keepTok {
				tok = strings.Clone(tok)
			}
			v.auth.setToken(tok)
			c.cache.Put(tok, v, cacheEntryCost(tok), v.exp, now)
		}
	}
	if mask&maskOf(v.auth.TokenType) == 0 || uat > 0 && v.auth.TokenType != TokenTypeSession {
		return nil, errTypeNotAccepted, hit
	}
	if aerr := v.checkTime(now, c.cfg.skew); aerr != nil {
		if aerr == errExpired && hit {
			c.cache.Remove(tok) // never served again: drop it now
		}
		return nil, aerr, hit
	}
	if uat > 0 && v.hasIat && v.iat < uat {
		return nil, errIATBeforeUAT, hit
	}
	if v.auth.SessionStatus == "pending" && !c.cfg.acceptPending {
		return nil, errPending, hit
	}
	// Shared by every request with this token: callers copy it (Handler
	// into its context node, Authenticate into a new Auth).
	return v.auth, nil, hit
}

// reject writes the response for a request that is not signed in (see
// refuse, protect.go).
func (m *Middleware) reject(w http.ResponseWriter, r *http.Request, err error) {
	m.refuse(w, r, err)
}

// FrontendAPI returns the URL of the instance's Frontend API, where a page
// loads clerk-js from and where handshakes go: ProxyURL when set (a path
// when ProxyURL is one), else https://clerk.<Domain> for a production
// satellite, else https:// + the host decoded from the publishable key.
// It is "" without a publishable key.
func (m *Middleware) FrontendAPI() string {
	return m.c.cfg.frontendAPI
}
