package clerkauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/jsonobj"
	"github.com/clerkauth/clerkauth/internal/jws"
	"github.com/clerkauth/clerkauth/internal/retry"
)

// The handshake (Clerk's handshake.ts): the 307 that sends a page load to
// the Frontend API, which reads the browser's client cookie on its own
// domain and sends the browser back with a nonce or a signed handshake
// token; and the resolution of that answer into Set-Cookie headers and a
// verified session.

// handshakeURL is Clerk's buildRedirectToHandshake: the Frontend API's
// /v1/client/handshake with Clerk's query parameters, in Clerk's order.
func (m *Middleware) handshakeURL(p *pageReq, rsn string) string {
	base := p.fapi
	if !strings.HasPrefix(base, "http") {
		base = "https://" + base
	}
	base = strings.TrimRight(base, "/") + "/v1/client/handshake"
	q := []queryPair{
		{"redirect_url", p.url.hrefWithout(cookieDevBrowser, queryLegacyDevSess)},
		{"__clerk_api_version", handshakeAPIVersion},
		{querySuffixed, boolString(p.suffixed)},
		{queryHandshakeRsn, rsn},
		{queryFormat, "nonce"},
	}
	if tok := p.sessionToken(); tok != "" {
		q = append(q, queryPair{querySession, tok})
	}
	if m.c.cfg.development && p.devBrowser != "" {
		q = append(q, queryPair{cookieDevBrowser, p.devBrowser})
	}
	if t, ok := m.c.cfg.findOrgTarget(p.url.path); ok {
		q = append(q, queryPair{"organization_id", t.queryValue()})
	}
	return base + "?" + encodeQuery(q)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// resolveHandshake is Clerk's resolveHandshake: the directives of the
// nonce (from the Backend API) or of the handshake token (verified with
// the instance's keys) become Set-Cookie headers, and the session token
// among them is verified. nil means Clerk's resolution threw: the request
// goes on through the cookie rules without these headers. The outcome
// is reported to the Observer: failed when it is nil or the Backend API
// gave no payload (then, as in Clerk, no cookies are set), else resolved.
func (m *Middleware) resolveHandshake(p *pageReq) (st *pageState) {
	noPayload := false
	defer func() {
		outcome := outcomeResolved
		if st == nil || noPayload {
			outcome = outcomeFailed
		}
		m.c.observePageLoad(flowHandshake, outcome, "", p.start)
	}()
	var directives []string
	if p.hsNonce != "" {
		var err error
		directives, err = m.handshakePayload(p.ctx, p.hsNonce)
		if err != nil {
			m.c.cfg.logger.Warn("clerkauth: getting the handshake payload failed", "err", err)
			noPayload = true
		}
	} else {
		var err error
		directives, err = m.verifyHandshakeToken(p.ctx, p.hsToken)
		if err != nil {
			m.c.cfg.logger.Warn("clerkauth: handshake token refused", "err", err)
			return nil
		}
	}
	st = &pageState{cors: true, setCookie: directives}
	tok := sessionFromDirectives(directives)
	if m.c.cfg.development {
		st.location = p.url.hrefWithout(cookieHandshake, queryHandshakeHelp, cookieDevBrowser, cookieHandshakeOnce)
		st.noStore = true
	}
	if tok == "" {
		st.err = errHandshakeNoSession
		return st
	}
	a, aerr, _ := m.c.decide(p.ctx, m.c.cfg.now(), tok, 0, maskSession, false) // the request is reported once, by its caller
	switch {
	case aerr == nil:
		st.auth = a
		return st
	case aerr == errPending:
		st.err = aerr
		return st
	case m.c.cfg.development && timeErr(aerr):
		// Clerk accounts for a development machine's clock skew: one day.
		if v, verr := m.c.verify(p.ctx, tok); verr == nil && v.checkTime(m.c.cfg.now(), 24*time.Hour) == nil {
			if v.auth.SessionStatus == "pending" && !m.c.cfg.acceptPending {
				st.err = errPending
			} else {
				st.auth = v.auth
			}
			return st
		}
	}
	m.c.cfg.logger.Debug("clerkauth: the handshake's session token does not verify", "reason", aerr.Reason)
	return nil
}

var errHandshakeNoSession = authErr(ErrSignedOut, reasonSessionTokenMissing, "the handshake set no __session cookie")

// sessionFromDirectives is the value of the last directive whose cookie
// name starts with __session, read as Clerk does (up to the next '=' or
// ';', not decoded).
func sessionFromDirectives(directives []string) string {
	tok := ""
	for _, d := range directives {
		first, _, _ := strings.Cut(d, ";")
		name, rest, _ := strings.Cut(first, "=")
		if strings.HasPrefix(name, "__session") {
			tok, _, _ = strings.Cut(rest, "=")
		}
	}
	return tok
}

// maxDirectives bounds the Set-Cookie directives a handshake may carry.
const maxDirectives = 32

// parseDirectives reads the JSON array of Set-Cookie strings of a
// handshake token's "handshake" claim or a handshake payload's
// "directives"; anything else in the array is refused.
func parseDirectives(raw json.RawMessage) ([]string, error) {
	var ds []string
	if err := json.Unmarshal(raw, &ds); err != nil {
		return nil, errors.New("not an array of strings")
	}
	if len(ds) > maxDirectives {
		return nil, errors.New("too many directives")
	}
	for _, d := range ds {
		if strings.ContainsAny(d, "\r\n\x00") {
			return nil, errors.New("a directive holds a line break")
		}
	}
	return ds, nil
}

// verifyHandshakeToken is Clerk's verifyHandshakeToken: a JWT signed by
// one of the instance's keys (its typ, alg and cat checked as a session
// token's; no time claim), whose "handshake" claim is the directives.
func (m *Middleware) verifyHandshakeToken(ctx context.Context, tok string) ([]string, error) {
	dot1, dot2, aerr := splitToken(tok)
	if aerr != nil {
		return nil, aerr
	}
	h, _, aerr := parseHeader(tok[:dot1])
	if aerr != nil {
		return nil, aerr
	}
	if h.Alg != "RS256" && h.Alg != "RS384" && h.Alg != "RS512" {
		return nil, errAlg
	}
	if h.HasCat && h.Cat != catSessionToken && h.Cat != catIgnore {
		return nil, errCat // Clerk: "Invalid handshake token category."
	}
	if _, aerr := m.c.keys.checkSignature(ctx, tok, dot2, h.Alg, h.Kid); aerr != nil {
		return nil, aerr
	}
	raw, ok := jws.Decode(tok[dot1+1:dot2], nil)
	if !ok || !jsonobj.StartsObject(raw) {
		return nil, errBadPayload
	}
	var payload struct {
		Handshake json.RawMessage `json:"handshake"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil {
		return nil, errBadPayload
	}
	if len(payload.Handshake) == 0 || payload.Handshake[0] != '[' {
		return nil, nil // Clerk: no array, no directives
	}
	return parseDirectives(payload.Handshake)
}

// handshakePayload is GET /v1/clients/handshake_payload?nonce=...: the
// directives Clerk keeps for the nonce.
func (m *Middleware) handshakePayload(ctx context.Context, nonce string) ([]string, error) {
	if len(nonce) > 512 {
		return nil, errors.New("clerkauth: handshake nonce longer than 512 bytes")
	}
	raw, err := m.c.pageCall(ctx, http.MethodGet, "/v1/clients/handshake_payload?nonce="+url.QueryEscape(nonce), nil)
	if err != nil {
		// The error names the path, which holds the nonce: say only what
		// failed.
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			code := ""
			if len(apiErr.Errors) > 0 {
				code = " " + apiErr.Errors[0].Code
			}
			return nil, fmt.Errorf("clerkauth: Backend API GET /v1/clients/handshake_payload: HTTP %d%s", apiErr.StatusCode, code)
		}
		if errors.Is(err, errPageCallBusy) || errors.Is(err, errPageCallBreaker) {
			return nil, err
		}
		return nil, errors.New("clerkauth: Backend API GET /v1/clients/handshake_payload: the request failed")
	}
	var ans struct {
		Directives json.RawMessage `json:"directives"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, errors.New("clerkauth: the handshake payload is not JSON")
	}
	if len(ans.Directives) == 0 || string(ans.Directives) == "null" {
		return nil, nil
	}
	ds, err := parseDirectives(ans.Directives)
	if err != nil {
		return nil, errors.New("clerkauth: handshake payload: directives " + err.Error())
	}
	return ds, nil
}

// pageCalls bounds the Backend API calls of the page-load flows (refresh,
// handshake payload): at most Options.MaxMachineVerifyCalls in flight, a
// time limit each, never retried, and none at all for a while after Clerk
// answered 429 or 5xx, so that a flood of page loads with forged nonces
// or refresh cookies cannot become a flood of calls.
type pageCalls struct {
	slots   chan struct{}
	breaker retry.Breaker
	limit   time.Duration
}

var (
	errPageCallBusy    = errors.New("clerkauth: too many page-load Backend API calls in flight")
	errPageCallBreaker = errors.New("clerkauth: the Backend API asked us to slow down; not calling it for a while")
)

// pageCall makes one bounded Backend API call (see pageCalls); a status
// of 400 or more is an *APIError.
func (c *core) pageCall(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	pc := &c.page
	if !pc.breaker.Closed(c.cfg.now()) {
		return nil, errPageCallBreaker
	}
	select {
	case pc.slots <- struct{}{}:
		defer func() { <-pc.slots }()
	default:
		return nil, errPageCallBusy
	}
	ctx, cancel := context.WithTimeout(ctx, pc.limit)
	defer cancel()
	raw, apiErr, err := c.client.send(ctx, credSecret, method, path, body)
	if err != nil {
		return nil, err
	}
	if apiErr != nil {
		if s := apiErr.StatusCode; s == http.StatusTooManyRequests || s >= 500 {
			pc.breaker.Open(c.cfg.now(), apiErr.RetryAfter, breakerDefault, breakerMax)
		}
		return nil, apiErr
	}
	return raw, nil
}
