// Package backend sends one HTTP request to Clerk's Backend API (or a
// public JWKS endpoint) and reads its answer, bounded. It knows no
// clerkauth types and holds no key: the caller passes the bearer key of
// each request.
package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/clerkauth/clerkauth/internal/redact"
)

// MaxBody bounds every answer read.
const MaxBody = 1 << 20

// Request is one request. Bearer, when not "", is sent as
// "Authorization: Bearer <Bearer>"; Body, when not nil, as JSON.
type Request struct {
	Method, URL string
	Bearer      string
	APIVersion  string // the Clerk-API-Version header
	UserAgent   string
	Body        []byte
}

// ErrTooLarge is returned for an answer larger than MaxBody.
var ErrTooLarge = errors.New("answer larger than 1 MiB")

// Send makes one attempt and returns the status, headers and body of an
// answer with a status of 2xx or 400 and more; anything else (a network
// error, ctx's end, an answer too large or with another status) is err,
// which never holds the bearer key or the URL.
func Send(ctx context.Context, hc *http.Client, r Request) (status int, h http.Header, body []byte, err error) {
	var rd io.Reader
	if r.Body != nil {
		rd = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("building the request: %w", err)
	}
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Clerk-API-Version", r.APIVersion)
	req.Header.Set("User-Agent", r.UserAgent)
	resp, err := hc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, nil, nil, ctxErr
		}
		return 0, nil, nil, redact.URLError(err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return 0, nil, nil, fmt.Errorf("reading the answer: %w", err)
	case len(body) > MaxBody:
		return 0, nil, nil, ErrTooLarge
	case resp.StatusCode < 200 || resp.StatusCode > 299 && resp.StatusCode < 400:
		return 0, nil, nil, fmt.Errorf("unexpected HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, resp.Header, body, nil
}
