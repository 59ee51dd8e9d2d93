package clerkauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/clerkauth/clerkauth/internal/claims"
)

// The session refresh (request.ts refreshToken and attemptRefresh): a GET
// whose session token has expired, carrying the instance's __refresh_<sfx>
// cookie, asks the Backend API for new session cookies instead of a
// handshake round trip.
//
// Only a token whose signature verified is ever sent: the caller passes
// the token that failed as expired (verification checks the signature
// before exp, as Clerk 3.25 does), so forged cookies never become Backend
// API calls. One difference from Clerk follows: with an expired header
// token and another token in __session, Clerk sends the cookie's
// (unverified) token; this sends the header's.

// refresh returns the signed-in state with the new cookies, or nil and
// Clerk's reason why the refresh failed (the <why> of
// session-token-expired-refresh-<why>).
func (m *Middleware) refresh(p *pageReq, expired string) (*pageState, string) {
	if expired == "" {
		return nil, "missing-session-token"
	}
	u := claims.DecodeUnverified(expired)
	if !u.OK {
		return nil, "expired-session-token-decode-failed"
	}
	if u.Sid == "" {
		return nil, "expired-session-token-missing-sid-claim"
	}
	body, err := json.Marshal(refreshBody{
		Format:         "cookie",
		ExpiredToken:   expired,
		RefreshToken:   p.refresh,
		RequestOrigin:  p.url.origin(),
		RequestHeaders: requestHeaders(p.r),
	})
	if err != nil {
		return nil, "unexpected-sdk-error"
	}
	path := "/v1/sessions/" + url.PathEscape(u.Sid) + "/refresh"
	if p.suffixed {
		path += "?suffixed_cookies=true"
	}
	raw, err := m.c.pageCall(p.ctx, http.MethodPost, path, body)
	if err != nil {
		var apiErr *APIError
		switch {
		case !errors.As(err, &apiErr):
			return nil, "fetch-error" // Clerk: a failed fetch is its unexpected_error
		case len(apiErr.Errors) == 0:
			return nil, "unexpected-bapi-error"
		case apiErr.Errors[0].Code == "unexpected_error":
			return nil, "fetch-error"
		}
		return nil, apiErr.Errors[0].Code
	}
	var ans struct {
		Cookies json.RawMessage `json:"cookies"`
	}
	if json.Unmarshal(raw, &ans) != nil || len(ans.Cookies) == 0 || string(ans.Cookies) == "null" {
		return nil, "unexpected-sdk-error"
	}
	cookies, err := parseDirectives(ans.Cookies)
	if err != nil || len(cookies) == 0 {
		return nil, "unexpected-sdk-error"
	}
	tok := sessionFromDirectives(cookies)
	a, aerr, _ := m.c.decide(p.ctx, m.c.cfg.now(), tok, 0, maskSession, false) // the request is reported once, by its caller
	switch {
	case aerr == errPending:
		return &pageState{err: aerr, setCookie: cookies}, ""
	case aerr != nil:
		return nil, "invalid-session-token"
	}
	return &pageState{auth: a, setCookie: cookies}, ""
}

// refreshBody is the body of POST /v1/sessions/{sid}/refresh, in the
// order Clerk sends its fields.
type refreshBody struct {
	Format         string              `json:"format"`
	ExpiredToken   string              `json:"expired_token"`
	RefreshToken   string              `json:"refresh_token"`
	RequestOrigin  string              `json:"request_origin"`
	RequestHeaders map[string][]string `json:"request_headers"`
}

// requestHeaders are the request's headers as Clerk sends them to the
// refresh endpoint: lower-case names (Host included), each with one
// value, the header's values joined with ", ".
func requestHeaders(r *http.Request) map[string][]string {
	out := make(map[string][]string, len(r.Header)+1)
	for name, vs := range r.Header {
		out[strings.ToLower(name)] = []string{strings.Join(vs, ", ")}
	}
	if r.Host != "" {
		out["host"] = []string{r.Host}
	}
	return out
}
