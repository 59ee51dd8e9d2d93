package clerktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WebhookInstanceID is the instance_id of the webhook events a Server
// builds.
const WebhookInstanceID = "ins_clerktest"

// newWebhookSecret returns a fresh signing secret in the dashboard's form:
// "whsec_" and base64 of 24 random bytes.
func newWebhookSecret() string {
	key := make([]byte, 24)
	rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// WebhookSecret returns the instance's webhook signing secret, whsec_...
// (random per server): what clerkauth.VerifyWebhook takes, or
// $CLERK_WEBHOOK_SIGNING_SECRET.
func (s *Server) WebhookSecret() string { return s.webhookSecret }

// SignWebhook returns the Standard Webhooks signature entry "v1,<base64>"
// of body, sent as message id at timestamp, under secret ("whsec_" and
// base64, as [Server.WebhookSecret] returns it). Join several entries with
// a space for the svix-signature header of a secret rotation.
func SignWebhook(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return "", errors.New(`clerktest: SignWebhook: secret is not "whsec_" followed by base64`)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// WebhookHeaders returns the svix-id, svix-timestamp and svix-signature
// headers with which Clerk would deliver body, signed with the instance's
// secret. id "" means a fresh "msg_..." id.
func (s *Server) WebhookHeaders(id string, timestamp time.Time, body []byte) http.Header {
	if id == "" {
		id = "msg_" + rand.Text()
	}
	sig, err := SignWebhook(s.webhookSecret, id, timestamp, body)
	if err != nil {
		panic(err) // the server's own secret is well formed
	}
	h := make(http.Header)
	h.Set("svix-id", id)
	h.Set("svix-timestamp", strconv.FormatInt(timestamp.Unix(), 10))
	h.Set("svix-signature", sig)
	return h
}

// WebhookEvent returns the JSON body Clerk sends for an event: type
// eventType, object "event", the data, instance_id [WebhookInstanceID],
// the timestamp in Unix milliseconds and event_attributes. A [User] (or
// *User) as data is sent in Clerk's user shape; anything else as
// encoding/json marshals it.
func WebhookEvent(eventType string, data any, timestamp time.Time) []byte {
	switch u := data.(type) {
	case User:
		data = u.clerkJSON()
	case *User:
		data = u.clerkJSON()
	}
	b, err := json.Marshal(map[string]any{
		"type":        eventType,
		"object":      "event",
		"data":        data,
		"instance_id": WebhookInstanceID,
		"timestamp":   timestamp.UnixMilli(),
		"event_attributes": map[string]any{
			"http_request": map[string]any{"client_ip": "192.0.2.1", "user_agent": "clerktest"},
		},
	})
	if err != nil {
		panic("clerktest: WebhookEvent: " + err.Error())
	}
	return b
}

// WebhookRequest returns a POST to url of the event (see
// [WebhookEvent]) signed now with the instance's secret, as Clerk delivers
// it. Send it with an http.Client, or serve it to a handler directly.
func (s *Server) WebhookRequest(url, eventType string, data any) *http.Request {
	now := time.Now()
	body := WebhookEvent(eventType, data, now)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic("clerktest: WebhookRequest: " + err.Error())
	}
	req.Header = s.WebhookHeaders("", now, body)
	req.Header.Set("Content-Type", "application/json")
	return req
}
