package clerkauth

import (
	"context"
	"errors"
	"time"
)

// GetTokenOption is an option of [Auth.GetToken]. (clerktest's
// TokenOption configures the tokens its test server mints.)
type GetTokenOption func(*tokenOptions)

type tokenOptions struct {
	template  string
	expiresIn int
}

// WithTemplate asks for a token of the named JWT template (Dashboard > JWT
// templates), for example "supabase", instead of the session token.
func WithTemplate(name string) GetTokenOption {
	return func(o *tokenOptions) { o.template = name }
}

// WithExpiresIn sets the lifetime of the token Clerk mints, rounded up to
// whole seconds (Clerk's expires_in_seconds). Default: the template's own
// lifetime.
func WithExpiresIn(d time.Duration) GetTokenOption {
	return func(o *tokenOptions) {
		o.expiresIn = int(d / time.Second)
		if d%time.Second > 0 {
			o.expiresIn++
		} else if d%time.Second < 0 {
			o.expiresIn = -1 // refused below, as a negative count was
		}
	}
}

// GetToken returns a token for the signed-in session, as getToken() of
// Clerk's getAuth does.
//
// Without options it returns the verified token of the request itself and
// makes no network call. With [WithTemplate] (and optionally
// [WithExpiresIn]) it asks the Backend API to mint a token of that
// JWT template: POST /v1/sessions/{sid}/tokens/{template}. With
// WithExpiresIn alone it mints a session token of that lifetime.
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
func (a *Auth) GetToken(ctx context.Context, opts ...GetTokenOption) (string, error) {
	if !a.IsSignedIn() {
		return "", a.Err()
	}
	if a.token == nil {
		return "", errors.New("clerkauth: GetToken needs an Auth made by a middleware; this one holds no token")
	}
	var o tokenOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.template == "" && o.expiresIn == 0 {
		return *a.token, nil
	}
	if o.expiresIn < 0 {
		return "", errors.New("clerkauth: WithExpiresIn must not be negative")
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
