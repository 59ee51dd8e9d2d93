package clerkauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// ErrForbidden: the request is signed in but fails a [Check] of
// [Middleware.Protect]. The error is a [*ForbiddenError].
var ErrForbidden = errors.New("clerkauth: forbidden")

// ErrReverificationRequired: what failed is a Check's Reverification
// (its other fields held): the user must verify again, then retry. It
// comes with ErrForbidden, in a [*ForbiddenError].
var ErrReverificationRequired = errors.New("clerkauth: reverification required")

// ForbiddenError is the error of a signed-in request that fails a [Check]
// of [Middleware.Protect]. errors.Is finds ErrForbidden in it, and
// ErrReverificationRequired when only the Check's Reverification failed.
type ForbiddenError struct {
	// Check is the check that failed, as given to Protect.
	Check Check

	reverify bool
}

// Error implements error.
func (e *ForbiddenError) Error() string {
	if e.reverify {
		return fmt.Sprintf("clerkauth: reverification required (%+v)", e.Check.Reverification)
	}
	return fmt.Sprintf("clerkauth: forbidden: the request fails %+v", e.Check)
}

// Unwrap returns ErrForbidden, and ErrReverificationRequired for a failed
// reverification.
func (e *ForbiddenError) Unwrap() []error {
	if e.reverify {
		return []error{ErrForbidden, ErrReverificationRequired}
	}
	return []error{ErrForbidden}
}

// Protect returns a handler wrapper that admits a request only when it is
// signed in and passes every check, as Clerk's auth.protect does with
// has(): a Check holds when all of its fields hold, and Protect(a, b)
// needs both a and b (a Check with no field set never holds, as has({})).
// With no check, Protect is [Middleware.RequireAuth].
//
// A request that is not signed in gets what RequireAuth gives it (a
// sign-in redirect for a page load when Options.SignInURL is set, else
// 401). A signed-in request that fails a check gets, by default, 403
// {"error":"Forbidden"}; when all that fails is a Check's Reverification
// it gets Clerk's reverification error instead (what
// reverificationErrorResponse of @clerk/shared sends), which clerk-js's
// useReverification understands: it asks the user to verify again and
// retries. [Middleware.WithResponses] chooses other responses for a route.
//
// Like RequireAuth, Protect reuses the result of an outer Handler of the
// same Middleware. Its method value fits any func(http.Handler)
// http.Handler chain:
//
//	mux.Handle("/billing", mw.Protect(clerkauth.Check{Permission: "org:billing:manage"})(billing))
func (m *Middleware) Protect(checks ...Check) func(http.Handler) http.Handler {
	checks = slices.Clone(checks)
	return func(next http.Handler) http.Handler {
		if len(checks) == 0 {
			return m.RequireAuth(next)
		}
		return m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ferr := failedCheck(GetAuth(r), checks); ferr != nil {
				m.refuse(w, r, ferr)
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// failedCheck returns why the signed-in a fails checks, nil when it
// passes them all. A check whose fields other than Reverification fail is
// forbidden outright (verifying again would not help); only when all of
// those hold does a stale reverification ask the user to verify again.
func failedCheck(a *Auth, checks []Check) *ForbiddenError {
	for _, c := range checks {
		rest := c
		rest.Reverification = Reverification{}
		if c == (Check{}) || rest != (Check{}) && !a.Has(rest) {
			return &ForbiddenError{Check: c}
		}
	}
	for _, c := range checks {
		if c.Reverification != (Reverification{}) && !a.Has(Check{Reverification: c.Reverification}) {
			return &ForbiddenError{Check: c, reverify: true}
		}
	}
	return nil
}

// Responses says how a route answers the requests it refuses. Each field
// is an error handler, with the signature of Options.ErrorHandler; a nil
// field keeps the Middleware's own response. [DefaultErrorHandler] is the
// JSON one, for routes that must never redirect.
type Responses struct {
	// Unauthenticated answers a request that is not signed in; err is its
	// [*AuthError]. Default: a redirect to Options.SignInURL for a page
	// load or an htmx request when SignInURL is set (see
	// [Middleware.RequireAuth]), else Options.ErrorHandler, else
	// DefaultErrorHandler.
	Unauthenticated func(w http.ResponseWriter, r *http.Request, err error)

	// Forbidden answers a signed-in request that fails a check of
	// [Middleware.Protect]; err is a [*ForbiddenError]. Default:
	// Options.ErrorHandler, else DefaultErrorHandler (403
	// {"error":"Forbidden"}, or Clerk's reverification error).
	Forbidden func(w http.ResponseWriter, r *http.Request, err error)
}

// WithResponses returns a Middleware for the same instance (sharing its
// keys, caches and Close; accepting the same token types) whose
// RequireAuth and Protect answer refused requests with resp's handlers;
// its nil fields keep m's. So page routes and API routes of one
// Middleware answer differently without a handler that branches on paths:
//
//	pages := mw.WithResponses(clerkauth.Responses{Forbidden: forbiddenPage})
//	api := mw.WithResponses(clerkauth.Responses{Unauthenticated: clerkauth.DefaultErrorHandler})
//
// Close only the Middleware returned by New.
func (m *Middleware) WithResponses(resp Responses) *Middleware {
	n := *m
	if resp.Unauthenticated != nil {
		n.resp.Unauthenticated = resp.Unauthenticated
	}
	if resp.Forbidden != nil {
		n.resp.Forbidden = resp.Forbidden
	}
	return &n
}

// refuse answers a request that RequireAuth or Protect refuses: err is its
// *AuthError, or a *ForbiddenError. The route's Responses come first;
// then, for a request not signed in, the sign-in redirect of a page load;
// then Options.ErrorHandler, else DefaultErrorHandler.
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var fe *ForbiddenError
	if errors.As(err, &fe) {
		if h := m.resp.Forbidden; h != nil {
			h(w, r, err)
			return
		}
	} else {
		if h := m.resp.Unauthenticated; h != nil {
			h(w, r, err)
			return
		}
		if m.redirectToSignIn(w, r, err) {
			return
		}
	}
	if h := m.c.cfg.errorHandler; h != nil {
		h(w, r, err)
		return
	}
	DefaultErrorHandler(w, r, err)
}

var bodyForbidden = []byte(`{"error":"Forbidden"}`)

// writeForbidden is DefaultErrorHandler's answer to a *ForbiddenError.
func writeForbidden(w http.ResponseWriter, fe *ForbiddenError) {
	h := w.Header()
	if fe.reverify {
		// Exactly what reverificationErrorResponse of @clerk/shared sends:
		// a Response built from a string, hence its content type.
		h.Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write(reverificationBody(fe.Check.Reverification))
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	w.Write(bodyForbidden)
}

// reverificationBody is JSON.stringify(reverificationError(config)) of
// @clerk/shared: the preset's name when rv is one of Clerk's presets
// (which clerk-js reads back as the same level and minutes), else the
// {level, afterMinutes} object.
func reverificationBody(rv Reverification) []byte {
	var missing any = struct {
		Level        string `json:"level"`
		AfterMinutes any    `json:"afterMinutes"`
	}{rv.Level, rv.AfterMinutes}
	for _, name := range []string{"strict_mfa", "strict", "moderate", "lax"} {
		if rv == Reverify(name) {
			missing = name
			break
		}
	}
	type metadata struct {
		Reverification any `json:"reverification"`
	}
	type clerkError struct {
		Type     string   `json:"type"`
		Reason   string   `json:"reason"`
		Metadata metadata `json:"metadata"`
	}
	// JSON.stringify escapes no HTML characters.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		ClerkError clerkError `json:"clerk_error"`
	}{clerkError{"forbidden", "reverification-error", metadata{missing}}})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
