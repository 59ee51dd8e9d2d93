package clerktest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

func TestSignWebhookVector(t *testing.T) {
	// The example of Svix's and Standard Webhooks' documentation.
	got, err := clerktest.SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Fatalf("SignWebhook = %q, %v; want %q", got, err, want)
	}
	if _, err := clerktest.SignWebhook("whsec_not base64", "msg_1", time.Now(), nil); err == nil || !strings.Contains(err.Error(), "not \"whsec_\" followed by base64") {
		t.Errorf("bad secret: %v", err)
	}
}

func TestWebhookSecret(t *testing.T) {
	a, b := clerktest.New(t), clerktest.New(t)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.WebhookSecret(), "whsec_"))
	if !strings.HasPrefix(a.WebhookSecret(), "whsec_") || err != nil || len(key) != 24 {
		t.Errorf("secret %q: %d bytes, %v", a.WebhookSecret(), len(key), err)
	}
	if a.WebhookSecret() == b.WebhookSecret() {
		t.Error("two servers share a webhook secret")
	}
}

func TestWebhookRequest(t *testing.T) {
	srv := clerktest.New(t)
	before := time.Now().Truncate(time.Millisecond)
	req := srv.WebhookRequest("http://example.com/webhooks/clerk", "user.updated", &clerktest.User{ID: "user_1", FirstName: "Ada", Email: "ada@example.com"})
	after := time.Now()
	if req.Method != http.MethodPost || req.URL.Path != "/webhooks/clerk" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	if id := req.Header.Get("svix-id"); !strings.HasPrefix(id, "msg_") {
		t.Errorf("svix-id %q", id)
	}
	ev, err := clerkauth.VerifyWebhook(req, srv.WebhookSecret())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != "user.updated" || ev.Object != "event" || ev.InstanceID != clerktest.WebhookInstanceID ||
		ev.Timestamp.Before(before) || ev.Timestamp.After(after) || !bytes.Contains(ev.EventAttributes, []byte(`"http_request"`)) {
		t.Errorf("event %+v", ev)
	}
	var u clerkauth.User
	err = json.Unmarshal(ev.Data, &u)
	if err != nil || u.ID != "user_1" || u.FirstName != "Ada" || u.PrimaryEmail() != "ada@example.com" {
		t.Errorf("user %+v, %v", u, err)
	}

	other := clerktest.New(t)
	req = srv.WebhookRequest("http://example.com/", "user.updated", clerktest.User{ID: "user_1"})
	if _, err := clerkauth.VerifyWebhook(req, other.WebhookSecret()); !errors.Is(err, clerkauth.ErrWebhookUnverified) {
		t.Errorf("another instance's secret: %v", err)
	}
}

// During a rotation Clerk signs with both secrets; either verifies.
func TestWebhookHeadersRotation(t *testing.T) {
	oldSrv, newSrv := clerktest.New(t), clerktest.New(t)
	body := clerktest.WebhookEvent("session.created", map[string]string{"id": "sess_1"}, time.Now())
	h := newSrv.WebhookHeaders("msg_rot", time.Now(), body)
	old, err := clerktest.SignWebhook(oldSrv.WebhookSecret(), "msg_rot", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("svix-signature", old+" "+h.Get("svix-signature"))
	for _, secret := range []string{oldSrv.WebhookSecret(), newSrv.WebhookSecret()} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = h.Clone()
		if ev, err := clerkauth.VerifyWebhook(req, secret); err != nil || ev.ID != "msg_rot" {
			t.Errorf("%+v, %v", ev, err)
		}
	}
}

// A test of your own webhook handler: clerktest signs the delivery as
// Clerk would.
func ExampleServer_WebhookRequest() {
	srv := clerktest.NewServer()
	defer srv.Close()

	handler, err := clerkauth.WebhookHandler(srv.WebhookSecret(), func(_ context.Context, ev *clerkauth.WebhookEvent) error {
		var u clerkauth.User
		if err := json.Unmarshal(ev.Data, &u); err != nil {
			return err
		}
		fmt.Println(ev.Type, u.ID, u.FirstName)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, srv.WebhookRequest("/webhooks/clerk", "user.created", clerktest.User{ID: "user_123", FirstName: "Ada"}))
	fmt.Println(rec.Code)
	// Output:
	// user.created user_123 Ada
	// 204
}
