package clerkauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/clerkauth/clerkauth/internal/stdwebhooks"
)

// Webhook verification follows the Standard Webhooks scheme Clerk sends
// its webhooks with (through Svix), as @clerk/backend's verifyWebhook and
// the standardwebhooks npm package do: internal/stdwebhooks checks the
// signature (crypto/hmac: see docs/webhooks.md for why no library);
// this file decodes Clerk's event.

// Sentinel errors of [VerifyWebhook]: every error it returns for a
// request wraps exactly one of them (a bad signing secret is a plain
// error: a fault of the configuration, reported by [WebhookHandler] when
// it is built).
var (
	// ErrWebhookUnverified: the request is not a webhook signed with the
	// secret: a missing svix-* header, a malformed timestamp, a timestamp
	// more than 5 minutes away from now, or no matching signature.
	ErrWebhookUnverified = stdwebhooks.ErrUnverified
	// ErrWebhookPayload: the body could not be read, is larger than 1 MiB,
	// or (signature valid) is not a JSON object.
	ErrWebhookPayload = stdwebhooks.ErrPayload
)

const webhookSecretEnv = "CLERK_WEBHOOK_SIGNING_SECRET"

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
		case errors.Is(err, stdwebhooks.ErrTooLarge):
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
	key, ok := stdwebhooks.DecodeSecret(secret)
	if !ok {
		return nil, fmt.Errorf(`clerkauth: webhook signing secret: not "whsec_" followed by base64 (the secret from the Clerk dashboard, as in $%s)`, webhookSecretEnv)
	}
	return key, nil
}

// verifyWebhook is VerifyWebhook with a decoded key and the time to check
// the timestamp against.
func verifyWebhook(r *http.Request, key []byte, now time.Time) (*WebhookEvent, error) {
	id, body, err := stdwebhooks.Verify(r, key, now)
	if err != nil {
		return nil, err
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
