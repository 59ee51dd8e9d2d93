package clerkauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/backend"
	"github.com/clerkauth/clerkauth/internal/machinetoken"
)

// Observer receives what the middleware and its [Client] do, for metrics
// and traces: each authentication, key download, Backend API request,
// machine-token verification refused under load, breaker change and
// page-load flow (handshake, refresh). Set it with Options.Observer; the
// nested module github.com/clerkauth/clerkauth/otelclerk turns it into
// OpenTelemetry metrics and spans.
//
// Like [net/http/httptrace.ClientTrace], every field is optional: a nil
// one costs a nil check, and new fields may be added later without
// breaking anyone. The funcs are called synchronously, on the request's
// goroutine or on the background goroutine doing the work (key downloads,
// machine-token verification), possibly concurrently: they must be safe
// for concurrent use and quick.
//
// Events carry only bounded values (token types, Clerk's reason strings,
// endpoint classes, status codes, durations): never a token, a secret
// key, a user, session or organization id, nor a URL with ids in it.
// Durations are measured with Options.Now.
type Observer struct {
	// Authentication is called once for each request the middleware
	// decides (Handler, RequireAuth, Authenticate, AuthenticateToken),
	// cache hits and page loads included (a page load's refresh or
	// handshake does not make it twice). A request whose outer Handler
	// already decided is not reported again; an opaque machine token is
	// reported when it is verified, the first time the handler reads its
	// Auth.
	Authentication func(AuthenticationEvent)

	// KeyDownload is called after each JWKS download, successful or not.
	KeyDownload func(KeyDownloadEvent)

	// BackendRequest is called after each attempt of a Backend API
	// request (the JWKS download included), answered or not.
	BackendRequest func(BackendRequestEvent)

	// MachineBusy is called when a machine-token verification is refused
	// because Options.MaxMachineVerifyCalls calls are in flight.
	MachineBusy func(MachineBusyEvent)

	// Breaker is called when the machine-token breaker opens (the Backend
	// API answered 429 or 5xx) and when it closes again.
	Breaker func(BreakerEvent)

	// PageLoad is called with the outcome of each page-load flow: a
	// handshake redirect or its resolution, a session refresh.
	PageLoad func(PageLoadEvent)
}

// The verdicts of an [AuthenticationEvent], as Clerk's authenticateRequest
// names its status (the X-Clerk-Auth-Status header).
const (
	verdictSignedIn  = "signed-in"
	verdictSignedOut = "signed-out"
	verdictHandshake = "handshake"
)

// AuthenticationEvent is one request decided by the middleware.
type AuthenticationEvent struct {
	// TokenType is the type of the token the request carried
	// (TokenTypeSession, TokenTypeAPIKey, TokenTypeM2M or TokenTypeOAuth;
	// for a token that failed, the type it claims to be), or "" when it
	// carried none (the cookie rules decided, or the Authorization header
	// was unusable).
	TokenType string
	// Verdict is "signed-in", "signed-out" or "handshake" (a page load
	// sent to Clerk to refresh its session), as Clerk's X-Clerk-Auth-Status.
	Verdict string
	// Reason is Clerk's reason string when signed out (see Auth.Reason),
	// for example "token-expired"; "" when signed in.
	Reason string
	// CacheHit says the answer came from the verified-token cache or the
	// machine-token cache, without verifying the token again.
	CacheHit bool
	// Duration is how long deciding took; 0 when no token was found and
	// the page-load flows are off (nothing was done).
	Duration time.Duration
	// Context is the request's context, for starting a span under the
	// request's own; nil on a cache hit and when no token was found
	// (nothing slow happened, and a cache hit stays free of allocations).
	// The Auth of this or any other clerkauth middleware cannot be read
	// from it.
	Context context.Context
}

// KeyDownloadEvent is one download of the JWKS.
type KeyDownloadEvent struct {
	// Reason is "" for a usable key set, else Clerk's reason for the
	// failure: "jwk-remote-failed-to-load", or "secret-key-invalid" when
	// the Backend API refused the secret key.
	Reason string
	// StatusCode is the HTTP status of the answer; 0 when none came.
	StatusCode int
	// Keys is the number of usable keys downloaded; 0 on failure.
	Keys int
	// Duration is how long the download took.
	Duration time.Duration
}

// BackendRequestEvent is one attempt of a Backend API request.
type BackendRequestEvent struct {
	// Endpoint is the class of the request, never its URL: "jwks",
	// "users.get", "sessions.tokens", "sessions.refresh",
	// "clients.handshake_payload", "machine.verify", or "other".
	Endpoint string
	// Method is the HTTP method, for example "GET".
	Method string
	// StatusCode is the HTTP status of the answer; 0 when none came.
	StatusCode int
	// Error is "" when an answer came (whatever its status), else why
	// none did: "timeout", "canceled", "too-large" (an answer over 1 MiB)
	// or "transport" (anything else: connection refused, DNS, TLS, an
	// unexpected 1xx or 3xx).
	Error string
	// Attempt counts the attempts of one call from 1 (retries of 429 and
	// 5xx answers, see [Client]).
	Attempt int
	// Duration is how long the attempt took.
	Duration time.Duration
	// Context is the context of the call (a background one for key
	// downloads and machine-token verification, which outlive the
	// requests waiting for them), for starting a span under its own. The
	// Auth of a clerkauth middleware cannot be read from it.
	Context context.Context
}

// MachineBusyEvent is a machine-token verification refused at once (503
// backend-api-unavailable) because Options.MaxMachineVerifyCalls Backend
// API calls were in flight.
type MachineBusyEvent struct {
	// TokenType is the type of the refused token (TokenTypeAPIKey,
	// TokenTypeM2M or TokenTypeOAuth).
	TokenType string
	// Limit is Options.MaxMachineVerifyCalls.
	Limit int
}

// BreakerEvent is the machine-token breaker opening (no verification call
// is made for Pause after a 429 or 5xx answer; cached answers are still
// served) or closing (the first call after the pause was let through).
type BreakerEvent struct {
	// Open is true when the breaker opened, false when it closed.
	Open bool
	// Endpoint is the class of the calls it stops: "machine.verify".
	Endpoint string
	// Pause is how long the breaker stays open (Retry-After, capped at
	// 30s; 5s without one); 0 when it closed.
	Pause time.Duration
}

// PageLoadEvent is the outcome of a page-load flow.
type PageLoadEvent struct {
	// Flow is "handshake" or "refresh".
	Flow string
	// Outcome is, for a handshake: "redirect" (the browser was sent to
	// Clerk), "resolved" (its answer was applied), "failed" (its answer
	// could not be used) or "loop" (the redirect-loop bound stopped it);
	// for a refresh: "refreshed" or "failed".
	Outcome string
	// Reason is Clerk's reason string of the flow (why a handshake was
	// needed, why a refresh was not possible); "" when none applies.
	Reason string
	// Duration is how long the flow took in this process (a redirect's
	// round trip through the browser is not counted).
	Duration time.Duration
}

// Values of the events: the page-load flows and their outcomes (see
// [PageLoadEvent]), endpoint and error classes (see [BackendRequestEvent]).
const (
	flowHandshake     = "handshake"
	flowRefresh       = "refresh"
	outcomeRedirect   = "redirect"
	outcomeResolved   = "resolved"
	outcomeFailed     = "failed"
	outcomeLoop       = "loop"
	outcomeRefreshed  = "refreshed"
	endpointMachine   = "machine.verify"
	endpointJWKS      = "jwks"
	endpointOther     = "other"
	errClassTimeout   = "timeout"
	errClassCanceled  = "canceled"
	errClassTooLarge  = "too-large"
	errClassTransport = "transport"
)

// observeAuthentication reports a request decided by authenticate, which
// started at start: tok is the token it was given (only its type is
// reported), a and aerr what it decided.
func (c *core) observeAuthentication(ctx context.Context, start time.Time, tok string, uat int64, a *Auth, aerr *AuthError, hit bool) {
	if c.cfg.observer.Authentication == nil {
		return
	}
	verdict, reason := verdictSignedIn, ""
	if aerr != nil {
		verdict, reason = verdictSignedOut, aerr.Reason
	}
	c.observeVerdict(ctx, start, tokenTypeOf(tok, uat, a), verdict, reason, hit)
}

// observePageRequest reports a request the page-load flows decided
// (deciding its token with decide, which reports nothing): signed in
// (aerr nil), signed out, or answered with a handshake redirect (aerr of
// kind ErrHandshake). tokenType is "" and ctx nil when the request
// carried no token.
func (c *core) observePageRequest(ctx context.Context, start time.Time, tokenType string, aerr *AuthError, hit bool) {
	if c.cfg.observer.Authentication == nil {
		return
	}
	verdict, reason := verdictSignedIn, ""
	if aerr != nil {
		verdict, reason = verdictSignedOut, aerr.Reason
		if aerr.Kind == ErrHandshake {
			verdict = verdictHandshake
		}
	}
	c.observeVerdict(ctx, start, tokenType, verdict, reason, hit)
}

// observeVerdict reports a request decided, by authenticate or by the
// page-load flows (observePageRequest).
func (c *core) observeVerdict(ctx context.Context, start time.Time, tokenType, verdict, reason string, hit bool) {
	if c.cfg.observer.Authentication == nil {
		return
	}
	e := AuthenticationEvent{TokenType: tokenType, Verdict: verdict, Reason: reason, CacheHit: hit,
		Duration: c.cfg.now().Sub(start)}
	if !hit {
		e.Context = hideAuth(ctx)
	}
	c.cfg.observer.Authentication(e)
}

// tokenTypeOf is the type of tok, as authenticate decided it (a), else as
// tok claims to be: cookies carry session tokens; opaque and JWT machine
// tokens say what they are; Clerk verifies anything else as a session
// token.
func tokenTypeOf(tok string, uat int64, a *Auth) string {
	switch {
	case a != nil:
		return a.TokenType
	case uat > 0:
		return TokenTypeSession
	}
	if kind := machinetoken.OpaqueKind(tok); kind != "" {
		return kind
	}
	if kind := machinetoken.JWTKind(tok); kind != "" {
		return kind
	}
	return TokenTypeSession
}

// observeNoToken reports a request signed out before any token was
// verified: extract's error (no token, the cookie rules, an unusable
// Authorization header).
func (c *core) observeNoToken(aerr *AuthError) {
	if c.cfg.observer.Authentication != nil {
		c.cfg.observer.Authentication(AuthenticationEvent{Verdict: verdictSignedOut, Reason: aerr.Reason})
	}
}

// observePageLoad reports the outcome of a page-load flow (flowHandshake
// or flowRefresh) that started at start. The handshake and refresh code
// calls it where each flow ends.
func (c *core) observePageLoad(flow, outcome, reason string, start time.Time) {
	if c.cfg.observer.PageLoad != nil {
		c.cfg.observer.PageLoad(PageLoadEvent{Flow: flow, Outcome: outcome, Reason: reason, Duration: c.cfg.now().Sub(start)})
	}
}

// observeRequest reports one attempt of a Backend API request.
func (c *Client) observeRequest(ctx context.Context, method, path string, attempt, status int, err error, start time.Time) {
	if c.observer == nil || c.observer.BackendRequest == nil {
		return
	}
	c.observer.BackendRequest(BackendRequestEvent{
		Endpoint:   endpointClass(method, path),
		Method:     method,
		StatusCode: status,
		Error:      errorClass(err),
		Attempt:    attempt,
		Duration:   c.now().Sub(start),
		Context:    hideAuth(ctx),
	})
}

// endpointClass names a Backend API request by what it does, without the
// ids in its path. path is relative to the API URL, or an absolute URL
// (a public JWKS endpoint).
func endpointClass(method, path string) string {
	if !strings.HasPrefix(path, "/") {
		return endpointJWKS // the only absolute URL requested
	}
	path, _, _ = strings.Cut(path, "?")
	switch {
	case path == jwksPath:
		return endpointJWKS
	case path == "/api_keys/verify", path == "/m2m_tokens/verify", path == "/oauth_applications/access_tokens/verify":
		return endpointMachine
	case path == "/v1/clients/handshake_payload":
		return "clients.handshake_payload"
	case method == http.MethodGet && strings.HasPrefix(path, "/v1/users/") && strings.Count(path, "/") == 3:
		return "users.get"
	case strings.HasPrefix(path, "/v1/sessions/"):
		switch rest := path[len("/v1/sessions/"):]; {
		case strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/refresh"):
			return "sessions.refresh"
		case strings.Contains(rest, "/tokens"):
			return "sessions.tokens"
		}
	}
	return endpointOther
}

// errorClass says why a request got no answer; "" for nil.
func errorClass(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return errClassCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errClassTimeout
	case errors.Is(err, backend.ErrTooLarge):
		return errClassTooLarge
	}
	return errClassTransport
}

// hideAuth returns ctx with the values of every clerkauth middleware
// hidden (so an Observer cannot read a request's Auth, its user or its
// token from it), its deadline, cancellation and other values kept.
func hideAuth(ctx context.Context) context.Context {
	if ctx == nil {
		return nil
	}
	return authHidden{parent: ctx}
}

// authHidden is a context whose clerkauth values are hidden. Its parent is
// unexported, so it cannot be reached past the filter.
type authHidden struct{ parent context.Context }

func (h authHidden) Deadline() (time.Time, bool) { return h.parent.Deadline() }
func (h authHidden) Done() <-chan struct{}       { return h.parent.Done() }
func (h authHidden) Err() error                  { return h.parent.Err() }

// Value implements context.Context; clerkauth's own keys find nothing.
func (h authHidden) Value(key any) any {
	switch key.(type) {
	case ctxKey, peekKey:
		return nil
	}
	return h.parent.Value(key)
}

// String names the context without its values.
func (h authHidden) String() string { return "clerkauth.hiddenContext" }
