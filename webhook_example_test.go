package clerkauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// A handler for Clerk's webhooks, fed a delivery signed by a local
// stand-in for Clerk (clerktest); in production the secret comes from
// $CLERK_WEBHOOK_SIGNING_SECRET.
func ExampleVerifyWebhook() {
	srv := clerktest.NewServer()
	defer srv.Close()
	secret := srv.WebhookSecret() // "" in production: $CLERK_WEBHOOK_SIGNING_SECRET

	webhooks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := clerkauth.VerifyWebhook(r, secret)
		if err != nil {
			http.Error(w, "invalid webhook", http.StatusBadRequest)
			return
		}
		if ev.Type == "user.created" {
			var u clerkauth.User // a user.* event's data is a user
			if err := json.Unmarshal(ev.Data, &u); err != nil {
				http.Error(w, "bad user", http.StatusBadRequest)
				return
			}
			fmt.Println(ev.Type, u.ID, u.PrimaryEmail())
		}
		w.WriteHeader(http.StatusNoContent)
	})

	req := srv.WebhookRequest("/webhooks/clerk", "user.created", clerktest.User{ID: "user_123", Email: "ada@example.com"})
	rec := httptest.NewRecorder()
	webhooks.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	forged := httptest.NewRequest(http.MethodPost, "/webhooks/clerk", strings.NewReader(`{"type":"user.created"}`))
	rec = httptest.NewRecorder()
	webhooks.ServeHTTP(rec, forged)
	fmt.Println(rec.Code)
	// Output:
	// user.created user_123 ada@example.com
	// 204
	// 400
}

// WebhookHandler answers for you: 204 when the function returns nil, 500
// (Clerk retries) when it fails, 401 for an unverified request.
func ExampleWebhookHandler() {
	srv := clerktest.NewServer()
	defer srv.Close()

	h, err := clerkauth.WebhookHandler(srv.WebhookSecret(), func(ctx context.Context, ev *clerkauth.WebhookEvent) error {
		fmt.Println("handling", ev.Type, string(ev.Data))
		return nil
	})
	if err != nil {
		log.Fatal(err) // no secret configured
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/clerk", h)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, srv.WebhookRequest("/webhooks/clerk", "session.ended", map[string]string{"id": "sess_1", "user_id": "user_123"}))
	fmt.Println(rec.Code)

	unsigned := srv.WebhookRequest("/webhooks/clerk", "session.ended", nil)
	unsigned.Header.Del("svix-signature")
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, unsigned)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// handling session.ended {"id":"sess_1","user_id":"user_123"}
	// 204
	// 401 webhook not verified
}
