package clerkauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/backend"
	"github.com/clerkauth/clerkauth/internal/redact"
	"github.com/clerkauth/clerkauth/internal/retry"
)

// ErrNoSecretKey is returned by every [Client] call, and by
// [Auth.GetToken] with a template, when no secret key is configured (for
// example a PEM-only configuration). No request is sent.
var ErrNoSecretKey = errors.New("clerkauth: no secret key: set Options.SecretKey or $CLERK_SECRET_KEY to call the Backend API")

const (
	// maxResponseBytes bounds every Backend API response read.
	maxResponseBytes = backend.MaxBody
	// maxErrorBodyInMessage bounds the raw body kept in an APIError whose
	// body is not Clerk's error JSON.
	maxErrorBodyInMessage = 512
)

// Client calls Clerk's Backend API with the instance's secret key. Build it
// with [NewClient] for code outside a request, or get the one of a
// [Middleware] with [Middleware.Client]. It is safe for concurrent use and
// holds no background goroutine (a shared GetToken call runs in its own
// goroutine only while someone waits for it).
type Client struct {
	// creds holds the only copies of the keys in the library, behind a
	// pointer so that fmt (%+v, %#v) prints its address, never the keys.
	creds      *credentials
	apiURL     string
	apiVersion string
	http       *http.Client
	now        func() time.Time
	templates  *templateCache // nil when turned off
	retry      retry.Policy
	observer   *Observer // the configuration's; its funcs may be nil
}

// NewClient returns a Client configured by opts: SecretKey, APIURL,
// APIVersion, HTTPClient and TemplateTokenCacheSize, with the same defaults
// and environment variables as [New]. It fails when there is no secret
// key.
func NewClient(opts Options) (*Client, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if cfg.secretKey == "" {
		return nil, errors.New("clerkauth: NewClient needs a secret key: set Options.SecretKey or $CLERK_SECRET_KEY")
	}
	return newClient(cfg), nil
}

// credentials are the instance's secret key and the M2M verification key
// (MachineSecretKey, else the secret key). Only send puts them on the
// wire, and never in an error, a log line or a printed value.
type credentials struct {
	secret, machineSecret string
}

// newClient builds the client of a configuration; with no secret key its
// calls return ErrNoSecretKey.
func newClient(cfg *config) *Client {
	return &Client{
		creds:      &credentials{secret: cfg.secretKey, machineSecret: cmp.Or(cfg.machineSecretKey, cfg.secretKey)},
		apiURL:     cfg.apiURL,
		apiVersion: cfg.apiVersion,
		http:       cfg.httpClient,
		now:        cfg.now,
		templates:  newTemplateCache(cfg.templateCacheSize, cfg.now),
		// Three attempts; a Retry-After over 10s ends the call at once.
		retry:    retry.Policy{MaxAttempts: 3, MaxRetryAfter: 10 * time.Second, Base: 250 * time.Millisecond, Cap: 2 * time.Second},
		observer: &cfg.observer,
	}
}

// String describes the client without its keys: the API URL and version,
// and whether a secret key is set (sk_test_[redacted]).
func (c *Client) String() string {
	return fmt.Sprintf("clerkauth.Client{APIURL: %q, APIVersion: %q, SecretKey: %s}", c.apiURL, c.apiVersion, keyState(c.creds.secret))
}

// Format prints String for every verb (%d, %x, %t... included), so that
// no verb reaches the secret keys the client holds.
func (c *Client) Format(f fmt.State, verb rune) { formatAs(f, verb, c.String()) }

// keyState says whether a key is set, and of which kind, without it.
func keyState(key string) string {
	switch {
	case key == "":
		return "unset"
	case strings.HasPrefix(key, "sk_live_"):
		return "sk_live_[redacted]"
	case strings.HasPrefix(key, "sk_test_"):
		return "sk_test_[redacted]"
	}
	return "[redacted]"
}

// APIError is a Backend API answer with a status of 400 or more. Use
// errors.As to reach it:
//
//	var apiErr *clerkauth.APIError
//	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound { ... }
type APIError struct {
	// Method and Path are the request's, for example "GET" and
	// "/v1/users/user_123" (escaped).
	Method string
	Path   string
	// StatusCode is the HTTP status, for example 404.
	StatusCode int
	// Errors are the items of Clerk's error JSON; empty when the body was
	// something else.
	Errors []APIErrorDetail
	// TraceID is Clerk's trace id (clerk_trace_id in the body, else the
	// Clerk-Trace-Id header), for Clerk's support.
	TraceID string
	// RetryAfter is the wait the Retry-After header asked for; 0 when
	// absent.
	RetryAfter time.Duration
	// Body is the start of the body (at most 512 bytes) when it was not
	// Clerk's error JSON; "" otherwise.
	Body string
}

// APIErrorDetail is one item of the errors array of Clerk's error JSON.
type APIErrorDetail struct {
	// Code is machine-readable, for example "resource_not_found".
	Code string `json:"code"`
	// Message is short, for example "not found".
	Message string `json:"message"`
	// LongMessage explains, for example "No user was found with id user_x".
	LongMessage string `json:"long_message"`
	// Meta carries extra fields, for example {"param_name": "..."}.
	Meta json.RawMessage `json:"meta,omitempty"`
}

// Error implements error: method, path, status, Clerk's first error and
// the trace id. It never contains the secret key.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clerkauth: Backend API %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if len(e.Errors) > 0 {
		d := e.Errors[0]
		if d.Code != "" {
			b.WriteString(": " + d.Code)
		}
		if msg := cmp.Or(d.LongMessage, d.Message); msg != "" {
			b.WriteString(": " + msg)
		}
		if len(e.Errors) > 1 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)-1)
		}
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.TraceID != "" {
		b.WriteString(" (trace " + e.TraceID + ")")
	}
	return b.String()
}

// User is a Clerk user as GET /v1/users/{id} returns it, with the commonly
// used fields typed. Fields Clerk leaves null are zero.
type User struct {
	ID                    string         `json:"id"`
	ExternalID            string         `json:"external_id"`
	FirstName             string         `json:"first_name"`
	LastName              string         `json:"last_name"`
	Username              string         `json:"username"`
	ImageURL              string         `json:"image_url"`
	HasImage              bool           `json:"has_image"`
	PrimaryEmailAddressID string         `json:"primary_email_address_id"`
	PrimaryPhoneNumberID  string         `json:"primary_phone_number_id"`
	EmailAddresses        []EmailAddress `json:"email_addresses"`
	PhoneNumbers          []PhoneNumber  `json:"phone_numbers"`
	// PublicMetadata, PrivateMetadata and UnsafeMetadata are the metadata
	// objects as Clerk sent them; decode them into your own types.
	PublicMetadata  json.RawMessage `json:"public_metadata"`
	PrivateMetadata json.RawMessage `json:"private_metadata"`
	UnsafeMetadata  json.RawMessage `json:"unsafe_metadata"`
	Banned          bool            `json:"banned"`
	Locked          bool            `json:"locked"`
	// CreatedAt, UpdatedAt and LastSignInAt come from Clerk's Unix
	// milliseconds; LastSignInAt is zero when the user never signed in.
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	LastSignInAt time.Time `json:"last_sign_in_at"`
}

// EmailAddress is one of a user's email addresses.
type EmailAddress struct {
	ID           string        `json:"id"`
	EmailAddress string        `json:"email_address"`
	Verification *Verification `json:"verification"`
}

// PhoneNumber is one of a user's phone numbers.
type PhoneNumber struct {
	ID           string        `json:"id"`
	PhoneNumber  string        `json:"phone_number"`
	Verification *Verification `json:"verification"`
}

// Verification is the verification state of an email address or phone
// number.
type Verification struct {
	// Status is "verified", "unverified", "failed" or "expired".
	Status string `json:"status"`
	// Strategy is how it was verified, for example "email_code".
	Strategy string `json:"strategy"`
}

// UnmarshalJSON decodes Clerk's user JSON, whose times are Unix
// milliseconds.
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User // no methods: no recursion
	var w struct {
		*plain
		// Shallower fields win over plain's fields of the same name.
		CreatedAt    *int64 `json:"created_at"`
		UpdatedAt    *int64 `json:"updated_at"`
		LastSignInAt *int64 `json:"last_sign_in_at"`
	}
	w.plain = (*plain)(u)
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt, u.LastSignInAt = fromMillis(w.CreatedAt), fromMillis(w.UpdatedAt), fromMillis(w.LastSignInAt)
	return nil
}

// MarshalJSON writes the user in Clerk's own shape (times as Unix
// milliseconds, null for a zero LastSignInAt), so that a User survives a
// round trip through JSON, for example when a handler returns it.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User // no methods: no recursion
	return json.Marshal(struct {
		plain
		CreatedAt    *int64 `json:"created_at"`
		UpdatedAt    *int64 `json:"updated_at"`
		LastSignInAt *int64 `json:"last_sign_in_at"`
	}{plain(u), toMillis(u.CreatedAt), toMillis(u.UpdatedAt), toMillis(u.LastSignInAt)})
}

func toMillis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func fromMillis(ms *int64) time.Time {
	if ms == nil || *ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(*ms)
}

// PrimaryEmail returns the user's primary email address, or "" when the
// user has none.
func (u *User) PrimaryEmail() string {
	for _, e := range u.EmailAddresses {
		if e.ID == u.PrimaryEmailAddressID && e.ID != "" {
			return e.EmailAddress
		}
	}
	return ""
}

// GetUser returns the user with the given id ("user_...") from GET
// /v1/users/{id}. A user that does not exist is an [*APIError] with
// StatusCode 404.
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	seg, err := pathSegment("user id", userID)
	if err != nil {
		return nil, err
	}
	u := new(User)
	if err := c.do(ctx, http.MethodGet, "/v1/users/"+seg, nil, u); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateSessionToken asks the Backend API for a token of the session:
// POST /v1/sessions/{sessionID}/tokens/{template}, or .../tokens for a
// plain session token when template is "". expiresInSeconds > 0 sets the
// token's lifetime; 0 keeps the template's own. It always calls Clerk;
// [Auth.GetToken] is the cached way in.
func (c *Client) CreateSessionToken(ctx context.Context, sessionID, template string, expiresInSeconds int) (string, error) {
	sid, err := pathSegment("session id", sessionID)
	if err != nil {
		return "", err
	}
	if expiresInSeconds < 0 {
		return "", errors.New("clerkauth: expiresInSeconds must not be negative")
	}
	path := "/v1/sessions/" + sid + "/tokens"
	if template != "" {
		tpl, err := pathSegment("template name", template)
		if err != nil {
			return "", err
		}
		path += "/" + tpl
	}
	var body any
	if expiresInSeconds > 0 {
		body = struct {
			ExpiresInSeconds int `json:"expires_in_seconds"`
		}{expiresInSeconds}
	}
	var out struct {
		JWT string `json:"jwt"`
	}
	if err := c.do(ctx, http.MethodPost, path, body, &out); err != nil {
		return "", err
	}
	if out.JWT == "" {
		return "", fmt.Errorf("clerkauth: Backend API POST %s: answer has no jwt", path)
	}
	return out.JWT, nil
}

// pathSegment validates and escapes one path segment of a request.
func pathSegment(what, s string) (string, error) {
	if s == "" || s == "." || s == ".." {
		return "", fmt.Errorf("clerkauth: invalid %s %q", what, s)
	}
	return url.PathEscape(s), nil
}

// do sends one Backend API request and decodes the JSON answer into out
// (unless out is nil). path is relative to the API URL and already escaped,
// for example "/v1/users/user_123"; body, when not nil, is sent as JSON. A
// status of 400 or more is an [*APIError]. GET is retried on 429, 502, 503
// and 504, POST only on 429 (Clerk did not process it), at most 3 attempts
// in all, with capped exponential backoff and jitter that honours
// Retry-After; the caller's ctx bounds everything.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	return c.doAs(ctx, credSecret, method, path, body, out)
}

// credential names which key a request is sent with; only send turns it
// into the key itself.
type credential uint8

const (
	credNone    credential = iota // a public endpoint (a custom JWKSURL)
	credSecret                    // the instance's secret key
	credMachine                   // MachineSecretKey, else the secret key (M2M verification)
)

// bearer returns the key of cred; "" for credNone or when not configured.
func (c *Client) bearer(cred credential) string {
	switch cred {
	case credSecret:
		return c.creds.secret
	case credMachine:
		return c.creds.machineSecret
	}
	return ""
}

// doAs is do with another credential (the machine secret key for M2M
// token verification).
func (c *Client) doAs(ctx context.Context, cred credential, method, path string, body, out any) error {
	if c.bearer(cred) == "" {
		return ErrNoSecretKey
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("clerkauth: encoding the body of %s %s: %w", method, path, err)
		}
	}
	for attempt := 1; ; attempt++ {
		_, raw, apiErr, err := c.sendAttempt(ctx, cred, method, path, payload, attempt)
		if err != nil {
			return err
		}
		if apiErr == nil {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("clerkauth: Backend API %s %s: decoding the answer: %w", method, path, err)
			}
			return nil
		}
		again, err := c.retry.Wait(ctx, attempt, method, apiErr.StatusCode, apiErr.RetryAfter)
		if err != nil {
			return fmt.Errorf("clerkauth: Backend API %s %s: %w (after HTTP %d)", method, path, err, apiErr.StatusCode)
		}
		if !again {
			return apiErr
		}
	}
}

// send makes one attempt; it is the only code that puts a key on the wire.
// path is relative to the API URL ("/v1/users/user_123"), or an absolute
// URL for a public endpoint (a custom JWKSURL, sent with credNone). It
// returns the body of a 2xx answer, or the APIError of a status >= 400, or
// err for anything else (network, context, oversized answer).
func (c *Client) send(ctx context.Context, cred credential, method, path string, payload []byte) (raw []byte, apiErr *APIError, err error) {
	_, raw, apiErr, err = c.sendAttempt(ctx, cred, method, path, payload, 1)
	return raw, apiErr, err
}

// sendAttempt is send, for the attempt-th attempt of a call (counted from
// 1, for the Observer), also returning the answer's status (0 for none).
func (c *Client) sendAttempt(ctx context.Context, cred credential, method, path string, payload []byte, attempt int) (status int, raw []byte, apiErr *APIError, err error) {
	target := path
	if strings.HasPrefix(path, "/") {
		target = c.apiURL + path
	}
	start := c.now()
	status, h, raw, err := backend.Send(ctx, c.http, backend.Request{Method: method, URL: target,
		Bearer: c.bearer(cred), APIVersion: c.apiVersion, UserAgent: userAgent, Body: payload})
	c.observeRequest(ctx, method, path, attempt, status, err, start)
	switch {
	case err != nil:
		return 0, nil, nil, fmt.Errorf("clerkauth: Backend API %s %s: %w", method, path, err)
	case status >= 400:
		return status, nil, c.apiError(method, path, status, h, raw, payload), nil
	}
	return status, raw, nil, nil
}

// apiError builds the APIError of an answer with a status >= 400. payload
// is the request's JSON body, whose strings (the token being verified) are
// redacted like the keys.
func (c *Client) apiError(method, path string, status int, h http.Header, raw, payload []byte) *APIError {
	e := &APIError{
		Method:     method,
		Path:       path,
		StatusCode: status,
		TraceID:    h.Get("Clerk-Trace-Id"),
		RetryAfter: retry.ParseRetryAfter(h.Get("Retry-After"), c.now()),
	}
	// A server that echoes the request must not leak a key or the token
	// being verified: redact them from everything the answer put in the
	// error, in the encodings an echo may use.
	scrub := redact.New(c.creds.secret, c.creds.machineSecret, payload)
	e.TraceID = scrub(e.TraceID)
	var doc struct {
		Errors  []APIErrorDetail `json:"errors"`
		TraceID string           `json:"clerk_trace_id"`
	}
	if json.Unmarshal(raw, &doc) == nil && len(doc.Errors) > 0 {
		for i := range doc.Errors {
			d := &doc.Errors[i]
			d.Code, d.Message, d.LongMessage = scrub(d.Code), scrub(d.Message), scrub(d.LongMessage)
			if d.Meta != nil {
				d.Meta = redact.JSON(d.Meta, scrub)
			}
		}
		e.Errors = doc.Errors
		if doc.TraceID != "" {
			e.TraceID = scrub(doc.TraceID)
		}
		return e
	}
	body := scrub(string(raw))
	if len(body) > maxErrorBodyInMessage {
		body = body[:maxErrorBodyInMessage]
	}
	e.Body = body
	return e
}
