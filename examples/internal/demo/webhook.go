package demo

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/clerkauth/clerkauth"
)

// WebhookPath is where every example receives Clerk's webhooks.
const WebhookPath = "/webhooks/clerk"

// WithWebhooks serves POST WebhookPath with [Webhooks] and everything
// else with app. The route sits outside the example's middleware: a
// webhook carries no session, its signature authenticates it.
func WithWebhooks(app http.Handler, secret string, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+WebhookPath, Webhooks(secret, logger))
	mux.Handle("/", app)
	return mux
}

// Webhooks verifies Clerk's webhooks signed with secret (whsec_...) and
// logs each event's type, svix-id and user id: 204 when verified, 401
// unsigned or forged, 400 a bad payload. Without a secret it answers 501.
// The secret is never logged.
func Webhooks(secret string, logger *slog.Logger) http.Handler {
	if secret == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"Webhooks not configured: set CLERK_WEBHOOK_SIGNING_SECRET"}`, http.StatusNotImplemented)
		})
	}
	h, err := clerkauth.WebhookHandler(secret, func(ctx context.Context, ev *clerkauth.WebhookEvent) error {
		logger.InfoContext(ctx, "webhook", "type", ev.Type, "id", ev.ID, "user", webhookUserID(ev))
		return nil
	})
	if err != nil { // a malformed CLERK_WEBHOOK_SIGNING_SECRET (the error does not contain it)
		logger.Error("webhooks disabled", "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"Webhooks misconfigured"}`, http.StatusInternalServerError)
		})
	}
	return h
}

// webhookUserID is the user an event is about: data.id of user.* events,
// data.user_id of the others (session.*), or "".
func webhookUserID(ev *clerkauth.WebhookEvent) string {
	var d struct {
		ID     string `json:"id"`
		UserID string `json:"user_id"`
	}
	json.Unmarshal(ev.Data, &d) // best effort: "" when data has neither
	if strings.HasPrefix(ev.Type, "user.") {
		return d.ID
	}
	return d.UserID
}
