package clerkauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Webhook verification follows the Standard Webhooks scheme Clerk sends
// its webhooks with (through Svix), as @clerk/backend's verifyWebhook and
// the standardwebhooks npm package do. It is written here with
// crypto/hmac: see README, "Webhooks", for why no library.

// Sentinel errors of [VerifyWebhook]: every error it returns for a
// request wraps exactly one of them (a bad signing secret is a plain
// error: a fault of the configuration, reported by [WebhookHandler] when
// it is built).
var (
	// ErrWebhookUnverified: the request is not a webhook signed with the
	// secret: a missing svix-* header, a malformed timestamp, a timestamp
	// more than 5 minutes away from now, or no matching signature.
	ErrWebhookUnverified = errors.New("clerkauth: webhook not verified")
	// ErrWebhookPayload: the body could not be read, is larger than 1 MiB,
	// or (signature valid) is not a JSON object.
	ErrWebhookPayload = errors.New("clerkauth: webhook payload invalid")
)

const (
	// webhookMaxBody is the largest body VerifyWebhook reads (1 MiB).
	// Clerk's events are a few KiB.
	webhookMaxBody = 1 << 20
	// webhookTolerance is how far the svix-timestamp may be from now, both
	// ways (Standard Webhooks' default, 5 minutes).
	webhookTolerance = 5 * 60 // seconds
	webhookSecretEnv = "CLERK_WEBHOOK_SIGNING_SECRET"
)

// WebhookEvent is a verified Clerk webhook: the svix-id and the payload
// Clerk sent, in the shape @clerk/backend's verifyWebhook returns.
type WebhookEvent struct {
	// ID is the svix-id header, the same for every retry of a delivery:
	// use it to process each event once.
	ID string
	// Type is the event type: "user.created", "session.ended", ...
	Type string
	// Object is "event".
	Object string
	// InstanceID is the Clerk instance that sent the event (instance_id).
	InstanceID string
	// Timestamp is the payload's timestamp (Unix milliseconds), when the
	// event happened; zero if the payload has none.
	Timestamp time.Time
	// Data is the event's data object, verbatim: a user for user.*, a
	// session for session.*, ...
	Data json.RawMessage
	// EventAttributes is event_attributes verbatim (for example
	// {"http_request":{"client_ip":...,"user_agent":...}}), or nil.
	EventAttributes json.RawMessage
}

// User decodes Data into a [User], for the user.created, user.updated
// and user.deleted events (a deleted user carries only its ID). For any
// other type it returns an error wrapping [ErrWebhookPayload].
func (e *WebhookEvent) User() (*User, error) {
	if !strings.HasPrefix(e.Type, "user.") {
		return nil, fmt.Errorf("%w: event %q does not carry a user", ErrWebhookPayload, e.Type)
	}
	u := new(User)
	if err := json.Unmarshal(e.Data, u); err != nil {
		return nil, fmt.Errorf("%w: data of %s: %v", ErrWebhookPayload, e.Type, err)
	}
	return u, nil
}

// VerifyWebhook reads and verifies r's body as a webhook from Clerk.
// signingSecret "" means $CLERK_WEBHOOK_SIGNING_SECRET; it is the
// "whsec_..." secret of the endpoint in Clerk's dashboard.
//
// The signature (svix-signature: one or more space-separated "v1,<base64>"
// entries, several during a secret rotation) must match an HMAC-SHA256,
// keyed with the secret, of "{svix-id}.{svix-timestamp}.{body}" over the
// exact bytes received; svix-timestamp (Unix seconds) must be within 5
// minutes of now, either way. Header values are trimmed. The body is read
// up to 1 MiB (a larger one is refused without being read whole) only
// after the headers pass, and decoded only after the signature matches.
// r.Body is then replaced by a reader of the same bytes, so a handler may
// read it again.
//
// Every error about the request wraps [ErrWebhookUnverified] (answer 401)
// or [ErrWebhookPayload] (answer 400); a missing or malformed secret is a
// plain error. No error contains the secret.
func VerifyWebhook(r *http.Request, signingSecret string) (*WebhookEvent, error) {
	key, err := webhookKey(signingSecret)
	if err != nil {
		return nil, err
	}
	return verifyWebhook(r, key, time.Now())
}

// WebhookHandler returns a handler that verifies each request with
// [VerifyWebhook] and calls handle with the event. It answers 204 when
// handle returns nil and 500 when it returns an error (Clerk then retries
// the delivery later); it answers 401 to an unverified request, 400 (413
// for a body over 1 MiB) to a bad payload, without calling handle. The
// secret ("" means $CLERK_WEBHOOK_SIGNING_SECRET) is checked here, once:
// a missing or malformed one is an error.
func WebhookHandler(signingSecret string, handle func(ctx context.Context, ev *WebhookEvent) error) (http.Handler, error) {
	key, err := webhookKey(signingSecret)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := verifyWebhook(r, key, time.Now())
		switch {
		case errors.Is(err, errWebhookTooLarge):
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
		case errors.Is(err, ErrWebhookPayload):
			http.Error(w, "webhook payload invalid", http.StatusBadRequest)
		case err != nil:
			http.Error(w, "webhook not verified", http.StatusUnauthorized)
		case handle(r.Context(), ev) != nil:
			http.Error(w, "webhook handler failed", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}), nil
}

// webhookKey resolves and decodes the signing secret. Its errors name the
// variable, never the value.
func webhookKey(secret string) ([]byte, error) {
	if secret == "" {
		secret = os.Getenv(webhookSecretEnv)
		if secret == "" {
			return nil, fmt.Errorf("clerkauth: webhook signing secret: none given and $%s is not set", webhookSecretEnv)
		}
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf(`clerkauth: webhook signing secret: not "whsec_" followed by base64 (the secret from the Clerk dashboard, as in $%s)`, webhookSecretEnv)
	}
	return key, nil
}

var errWebhookTooLarge = fmt.Errorf("%w: body larger than 1 MiB", ErrWebhookPayload)

// verifyWebhook is VerifyWebhook with a decoded key and the time to check
// the timestamp against.
func verifyWebhook(r *http.Request, key []byte, now time.Time) (*WebhookEvent, error) {
	id := strings.TrimSpace(r.Header.Get("svix-id"))
	tsHeader := strings.TrimSpace(r.Header.Get("svix-timestamp"))
	sigHeader := strings.TrimSpace(r.Header.Get("svix-signature"))
	if id == "" || tsHeader == "" || sigHeader == "" {
		var missing []string
		for _, h := range [][2]string{{id, "svix-id"}, {tsHeader, "svix-timestamp"}, {sigHeader, "svix-signature"}} {
			if h[0] == "" {
				missing = append(missing, h[1])
			}
		}
		return nil, fmt.Errorf("%w: missing required webhook headers: %s", ErrWebhookUnverified, strings.Join(missing, ", "))
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: svix-timestamp is not Unix seconds", ErrWebhookUnverified)
	}
	// Whole seconds, as the npm package compares them.
	switch age := now.Unix() - ts; {
	case age > webhookTolerance:
		return nil, fmt.Errorf("%w: timestamp too old (more than 5 minutes)", ErrWebhookUnverified)
	case age < -webhookTolerance:
		return nil, fmt.Errorf("%w: timestamp too new (more than 5 minutes ahead)", ErrWebhookUnverified)
	}

	if r.ContentLength > webhookMaxBody {
		return nil, errWebhookTooLarge
	}
	var body []byte
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, webhookMaxBody+1))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%w: reading the body: %v", ErrWebhookPayload, err)
		}
		if len(body) > webhookMaxBody {
			return nil, errWebhookTooLarge
		}
	}

	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	// The number, not the header's text ("+0017..." signs as "17..."), as
	// the npm package signs it.
	mac.Write(strconv.AppendInt(make([]byte, 0, 20), ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	var want [44]byte // base64 of 32 bytes
	base64.StdEncoding.Encode(want[:], mac.Sum(sum[:0]))
	if !webhookSignatureMatches(sigHeader, want[:]) {
		return nil, fmt.Errorf("%w: no matching signature", ErrWebhookUnverified)
	}

	var p struct {
		Type            string          `json:"type"`
		Object          string          `json:"object"`
		InstanceID      string          `json:"instance_id"`
		Timestamp       int64           `json:"timestamp"`
		Data            json.RawMessage `json:"data"`
		EventAttributes json.RawMessage `json:"event_attributes"`
	}
	// A JSON null would decode into p without an error.
	if err := json.Unmarshal(body, &p); err != nil || bytes.TrimLeft(body, " \t\r\n")[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON event object", ErrWebhookPayload)
	}
	ev := &WebhookEvent{ID: id, Type: p.Type, Object: p.Object, InstanceID: p.InstanceID,
		Data: p.Data, EventAttributes: p.EventAttributes}
	if ev.Object == "" {
		ev.Object = "event"
	}
	if p.Timestamp != 0 {
		ev.Timestamp = time.UnixMilli(p.Timestamp)
	}
	return ev, nil
}

// webhookSignatureMatches reports whether any "v1,<sig>" entry of the
// space-separated header equals want, in constant time for each entry.
// Other versions are ignored. As in the npm package, the signature is the
// text between the first and the second comma.
func webhookSignatureMatches(header string, want []byte) bool {
	ok := false
	for entry := range strings.SplitSeq(header, " ") {
		version, rest, found := strings.Cut(entry, ",")
		if !found || version != "v1" {
			continue
		}
		sig, _, _ := strings.Cut(rest, ",")
		if hmac.Equal([]byte(sig), want) {
			ok = true
		}
	}
	return ok
}
