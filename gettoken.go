package clerkauth

import (
	"context"
	"errors"
	"fmt"
)

// errNotSignedIn is wrapped by GetToken's error for a signed-out Auth,
// for callers of the deprecated ErrNotSignedIn.
var errNotSignedIn = errors.New("clerkauth: not signed in")

// TokenOption is an option of [Auth.GetToken].
type TokenOption func(*tokenOptions)

type tokenOptions struct {
	template  string
	expiresIn int
}

// WithTemplate asks for a token of the named JWT template (Dashboard > JWT
// templates), for example "supabase", instead of the session token.
func WithTemplate(name string) TokenOption {
	return func(o *tokenOptions) { o.template = name }
}

// WithExpiresInSeconds sets the lifetime of the token Clerk mints, in
// seconds. Default: the template's own lifetime.
func WithExpiresInSeconds(n int) TokenOption {
	return func(o *tokenOptions) { o.expiresIn = n }
}

// GetToken returns a token for the signed-in session, as getToken() of
// Clerk's getAuth does.
//
// Without options it returns the verified token of the request itself and
// makes no network call. With [WithTemplate] (and optionally
// [WithExpiresInSeconds]) it asks the Backend API to mint a token of that
// JWT template: POST /v1/sessions/{sid}/tokens/{template}. With
// WithExpiresInSeconds alone it mints a session token of that lifetime.
//
//	tok, err := clerkauth.GetAuth(r).GetToken(ctx, clerkauth.WithTemplate("supabase"))
//
// Minted tokens are cached per session, active organization, template and
// expiry until shortly before their own exp (see
// Options.TemplateTokenCacheSize), and concurrent calls for the same token
// share one Backend API call, so calling GetToken on every request is
// cheap. A cached token can lag a change to the user's data (metadata, a
// new email) by up to its lifetime, as the token itself would; turn the
// cache off if a template carries data that must be fresher. It returns
// the Auth's own error ([Auth.Err]) when the Auth is signed out and
// [ErrNoSecretKey] when minting is asked
// for without a secret key; neither sends a request. Backend API failures
// are [*APIError].
func (a *Auth) GetToken(ctx context.Context, opts ...TokenOption) (string, error) {
	if !a.IsSignedIn() {
		return "", fmt.Errorf("%w: %w", errNotSignedIn, a.Err())
	}
	if a.token == nil {
		return "", errNotSignedIn // an Auth built without a token
	}
	var o tokenOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.template == "" && o.expiresIn == 0 {
		return *a.token, nil
	}
	if o.expiresIn < 0 {
		return "", errors.New("clerkauth: WithExpiresInSeconds must not be negative")
	}
	if a.Machine != nil {
		return "", errors.New("clerkauth: GetToken with a template needs a session; this request carries a machine token, not a session token")
	}
	if a.origin == nil || a.origin.client == nil {
		return "", ErrNoSecretKey
	}
	if a.SessionID == "" {
		return "", errors.New("clerkauth: GetToken with a template needs a session; this request carries a machine token or a session token without sid")
	}
	return a.origin.client.sessionToken(ctx, a.SessionID, a.OrgID, o.template, o.expiresIn)
}
