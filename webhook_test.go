package clerkauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/clerkauth/clerkauth/internal/stdwebhooks"
)

// The example of Svix's and Standard Webhooks' documentation: this secret
// signs this body, sent as this id at this time, to this signature.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// testWebhookSign is the test's own signer ("v1," + base64 HMAC-SHA256 of
// "id.ts.body"), checked against the published vector below.
func testWebhookSign(t testing.TB, secret, id, ts, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, id+"."+ts+"."+body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func webhookRequest(id, ts, sig, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/clerk", strings.NewReader(body))
	for name, v := range map[string]string{"svix-id": id, "svix-timestamp": ts, "svix-signature": sig} {
		if v != "" {
			r.Header.Set(name, v)
		}
	}
	return r
}

func TestWebhookVector(t *testing.T) {
	if got := testWebhookSign(t, vectorSecret, vectorID, strconv.Itoa(vectorTS), vectorBody); got != vectorSig {
		t.Fatalf("test signer: %s, want %s", got, vectorSig)
	}
	key, err := webhookKey(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := verifyWebhook(webhookRequest(vectorID, strconv.Itoa(vectorTS), vectorSig, vectorBody), key, time.Unix(vectorTS, 0))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != vectorID || ev.Object != "event" || ev.Type != "" {
		t.Errorf("event %+v", ev)
	}
}

func TestVerifyWebhook(t *testing.T) {
	const (
		secret = vectorSecret
		id     = "msg_2abc"
		body   = `{"data":{"id":"user_1","object":"user"},"event_attributes":{"http_request":{"client_ip":"192.0.2.1"}},"instance_id":"ins_1","object":"event","timestamp":1700000000123,"type":"user.created"}`
	)
	now := time.Unix(1700000000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := testWebhookSign(t, secret, id, ts, body)
	otherSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret of 24 b.."))
	otherSig := testWebhookSign(t, otherSecret, id, ts, body)
	at := func(d int64) (string, string) { // a timestamp d seconds from now, and its signature
		s := strconv.FormatInt(now.Unix()+d, 10)
		return s, testWebhookSign(t, secret, id, s, body)
	}
	signedBody := func(b string) (string, string) { return b, testWebhookSign(t, secret, id, ts, b) }

	tests := []struct {
		name            string
		id, ts, sig     string
		body            string
		wantErr         error  // nil: accepted
		wantMsg         string // in the error
		contentLength   int64  // set when not 0
		wantBodyRestore bool
	}{
		{name: "valid", id: id, ts: ts, sig: sig, body: body},
		{name: "headers with spaces", id: " " + id + "\t", ts: " " + ts + " ", sig: "  " + sig + " ", body: body},
		{name: "rotation, second entry", id: id, ts: ts, sig: otherSig + " " + sig, body: body},
		{name: "rotation, first entry", id: id, ts: ts, sig: sig + " " + otherSig, body: body},
		{name: "double space between entries", id: id, ts: ts, sig: otherSig + "  " + sig, body: body},
		{name: "text after a second comma", id: id, ts: ts, sig: sig + ",extra", body: body},
		{name: "wrong secret", id: id, ts: ts, sig: otherSig, body: body, wantErr: ErrWebhookUnverified, wantMsg: "no matching signature"},
		{name: "tampered body", id: id, ts: ts, sig: sig, body: strings.Replace(body, "user_1", "user_2", 1), wantErr: ErrWebhookUnverified},
		{name: "body with a trailing newline", id: id, ts: ts, sig: sig, body: body + "\n", wantErr: ErrWebhookUnverified},
		{name: "other id", id: "msg_other", ts: ts, sig: sig, body: body, wantErr: ErrWebhookUnverified},
		{name: "other version", id: id, ts: ts, sig: "v2," + strings.TrimPrefix(sig, "v1,"), body: body, wantErr: ErrWebhookUnverified},
		{name: "no version", id: id, ts: ts, sig: strings.TrimPrefix(sig, "v1,"), body: body, wantErr: ErrWebhookUnverified},
		{name: "entries joined by a comma", id: id, ts: ts, sig: otherSig + "," + sig, body: body, wantErr: ErrWebhookUnverified},
		{name: "signature truncated", id: id, ts: ts, sig: sig[:len(sig)-1], body: body, wantErr: ErrWebhookUnverified},
		{name: "signature of another timestamp", id: id, ts: strconv.FormatInt(now.Unix()+1, 10), sig: sig, body: body, wantErr: ErrWebhookUnverified},
		{name: "missing all headers", body: body, wantErr: ErrWebhookUnverified, wantMsg: "missing required webhook headers: svix-id, svix-timestamp, svix-signature"},
		{name: "missing svix-id", ts: ts, sig: sig, body: body, wantErr: ErrWebhookUnverified, wantMsg: "missing required webhook headers: svix-id"},
		{name: "blank svix-timestamp", id: id, ts: "  ", sig: sig, body: body, wantErr: ErrWebhookUnverified, wantMsg: "missing required webhook headers: svix-timestamp"},
		{name: "missing svix-signature", id: id, ts: ts, body: body, wantErr: ErrWebhookUnverified, wantMsg: "headers: svix-signature"},
		{name: "non-numeric timestamp", id: id, ts: "yesterday", sig: sig, body: body, wantErr: ErrWebhookUnverified, wantMsg: "not Unix seconds"},
		{name: "timestamp with a suffix", id: id, ts: ts + "x", sig: sig, body: body, wantErr: ErrWebhookUnverified, wantMsg: "not Unix seconds"},
		{name: "timestamp with a plus and zeros, signed as the number", id: id, ts: "+00" + ts, sig: sig, body: body},
		{name: "timestamp in milliseconds", id: id, ts: ts + "000", sig: sig, body: body, wantErr: ErrWebhookUnverified, wantMsg: "too new"},
		{name: "timestamp overflows", id: id, ts: "99999999999999999999", sig: sig, body: body, wantErr: ErrWebhookUnverified},
		{name: "5 minutes old", body: body, wantErr: nil},
		{name: "5 minutes and 1 s old", body: body, wantErr: ErrWebhookUnverified, wantMsg: "too old"},
		{name: "5 minutes ahead", body: body, wantErr: nil},
		{name: "5 minutes and 1 s ahead", body: body, wantErr: ErrWebhookUnverified, wantMsg: "too new"},
		{name: "signed, not JSON", wantErr: ErrWebhookPayload, wantMsg: "not a JSON event object"},
		{name: "signed, JSON null", wantErr: ErrWebhookPayload},
		{name: "signed, JSON array", wantErr: ErrWebhookPayload},
		{name: "signed, empty", wantErr: ErrWebhookPayload},
		{name: "signed, type not a string", wantErr: ErrWebhookPayload},
		{name: "signed, Content-Length over 1 MiB", contentLength: stdwebhooks.MaxBody + 1, wantErr: ErrWebhookPayload, wantMsg: "larger than 1 MiB"},
		{name: "unsigned, not JSON", id: id, ts: ts, sig: sig, body: "not json", wantErr: ErrWebhookUnverified},
	}
	key, err := webhookKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		switch tt.name {
		case "5 minutes old":
			tt.id = id
			tt.ts, tt.sig = at(-300)
		case "5 minutes and 1 s old":
			tt.id = id
			tt.ts, tt.sig = at(-301)
		case "5 minutes ahead":
			tt.id = id
			tt.ts, tt.sig = at(300)
		case "5 minutes and 1 s ahead":
			tt.id = id
			tt.ts, tt.sig = at(301)
		case "signed, not JSON", "signed, Content-Length over 1 MiB":
			tt.id, tt.ts = id, ts
			tt.body, tt.sig = signedBody("not json")
		case "signed, JSON null":
			tt.id, tt.ts = id, ts
			tt.body, tt.sig = signedBody(" null")
		case "signed, JSON array":
			tt.id, tt.ts = id, ts
			tt.body, tt.sig = signedBody(`[{"type":"user.created"}]`)
		case "signed, empty":
			tt.id, tt.ts = id, ts
			tt.body, tt.sig = signedBody("")
		case "signed, type not a string":
			tt.id, tt.ts = id, ts
			tt.body, tt.sig = signedBody(`{"type":5}`)
		}
		t.Run(tt.name, func(t *testing.T) {
			r := webhookRequest(tt.id, tt.ts, tt.sig, tt.body)
			if tt.contentLength != 0 {
				r.ContentLength = tt.contentLength
			}
			ev, err := verifyWebhook(r, key, now)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if ev.ID != id || ev.Type != "user.created" || ev.Object != "event" || ev.InstanceID != "ins_1" ||
					!ev.Timestamp.Equal(time.UnixMilli(1700000000123)) ||
					string(ev.Data) != `{"id":"user_1","object":"user"}` ||
					string(ev.EventAttributes) != `{"http_request":{"client_ip":"192.0.2.1"}}` {
					t.Errorf("event %+v", ev)
				}
			} else {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if ev != nil {
					t.Errorf("event %+v with an error", ev)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q lacks %q", err, tt.wantMsg)
				}
				if strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) {
					t.Errorf("error %q contains the secret", err)
				}
			}
		})
	}
}

// The body is read with a limit, not whole, and given back to the caller.
func TestVerifyWebhookBody(t *testing.T) {
	key, _ := webhookKey(vectorSecret)
	now := time.Unix(vectorTS, 0)

	t.Run("restored", func(t *testing.T) {
		r := webhookRequest(vectorID, strconv.Itoa(vectorTS), vectorSig, vectorBody)
		if _, err := verifyWebhook(r, key, now); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(r.Body); err != nil || string(b) != vectorBody {
			t.Errorf("body after VerifyWebhook: %q, %v", b, err)
		}
	})
	t.Run("endless body, no Content-Length", func(t *testing.T) {
		src := &countingReader{}
		r := webhookRequest(vectorID, strconv.Itoa(vectorTS), vectorSig, "")
		r.Body, r.ContentLength = io.NopCloser(src), -1
		_, err := verifyWebhook(r, key, now)
		if !errors.Is(err, ErrWebhookPayload) || !strings.Contains(err.Error(), "1 MiB") {
			t.Fatalf("error %v", err)
		}
		if src.n > stdwebhooks.MaxBody+1 {
			t.Errorf("read %d bytes, want at most %d", src.n, stdwebhooks.MaxBody+1)
		}
	})
	t.Run("exactly 1 MiB is read", func(t *testing.T) {
		body := `{"type":"x","data":"` + strings.Repeat("a", stdwebhooks.MaxBody-len(`{"type":"x","data":""}`)) + `"}`
		ts := strconv.Itoa(vectorTS)
		r := webhookRequest(vectorID, ts, testWebhookSign(t, vectorSecret, vectorID, ts, body), body)
		if ev, err := verifyWebhook(r, key, now); err != nil || ev.Type != "x" {
			t.Fatalf("%d bytes: %v", len(body), err)
		}
	})
	t.Run("headers checked before the body is read", func(t *testing.T) {
		src := &countingReader{}
		r := webhookRequest(vectorID, "1", vectorSig, "")
		r.Body = io.NopCloser(src)
		if _, err := verifyWebhook(r, key, now); !errors.Is(err, ErrWebhookUnverified) || src.n != 0 {
			t.Errorf("error %v after reading %d bytes", err, src.n)
		}
	})
	t.Run("read error", func(t *testing.T) {
		r := webhookRequest(vectorID, strconv.Itoa(vectorTS), vectorSig, "")
		r.Body = io.NopCloser(iotest.ErrReader(errors.New("connection reset")))
		if _, err := verifyWebhook(r, key, now); !errors.Is(err, ErrWebhookPayload) || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("error %v", err)
		}
	})
}

// countingReader is an endless body of 'a's that counts what was read.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	c.n += len(p)
	return len(p), nil
}

func TestWebhookSecret(t *testing.T) {
	secretB64 := strings.TrimPrefix(vectorSecret, "whsec_")
	tests := []struct {
		name, secret, env string
		wantErr           bool
		wantMsg           string
	}{
		{name: "given", secret: vectorSecret},
		{name: "without prefix", secret: secretB64},
		{name: "with spaces", secret: " " + vectorSecret + "\n"},
		{name: "from the environment", env: vectorSecret},
		{name: "given wins over the environment", secret: vectorSecret, env: "whsec_!!!"},
		{name: "none", wantErr: true, wantMsg: "$CLERK_WEBHOOK_SIGNING_SECRET is not set"},
		{name: "not base64", secret: "whsec_" + secretB64 + "!", wantErr: true, wantMsg: "CLERK_WEBHOOK_SIGNING_SECRET"},
		{name: "bad in the environment", env: "whsec_" + secretB64[1:], wantErr: true, wantMsg: "not \"whsec_\" followed by base64"},
		{name: "prefix only", secret: "whsec_", wantErr: true},
		{name: "a Clerk secret key", secret: "sk_test_" + secretB64, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(webhookSecretEnv, tt.env)
			r := webhookRequest(vectorID, strconv.FormatInt(time.Now().Unix(), 10), "v1,x", vectorBody)
			_, err := VerifyWebhook(r, tt.secret)
			if !tt.wantErr {
				if !errors.Is(err, ErrWebhookUnverified) { // the key decoded, the signature is wrong
					t.Fatalf("error %v, want ErrWebhookUnverified", err)
				}
				return
			}
			if err == nil || errors.Is(err, ErrWebhookUnverified) || errors.Is(err, ErrWebhookPayload) ||
				!strings.Contains(err.Error(), "signing secret") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %v, want a configuration error with %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), secretB64[2:12]) {
				t.Errorf("error %q contains the secret", err)
			}
			if _, herr := WebhookHandler(tt.secret, nil); herr == nil || herr.Error() != err.Error() {
				t.Errorf("WebhookHandler: error %v", herr)
			}
		})
	}
}

// TestWebhookEventUser: a user.* event's Data decodes into a User with
// json.Unmarshal (User reads Clerk's JSON itself, times in milliseconds).
func TestWebhookEventUser(t *testing.T) {
	ev := &WebhookEvent{Type: "user.created", Data: []byte(`{"id":"user_1","object":"user","first_name":"Ada",
		"primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","email_address":"ada@example.com"}],
		"created_at":1700000000123,"updated_at":1700000000123,"last_sign_in_at":null}`)}
	var u User
	if err := json.Unmarshal(ev.Data, &u); err != nil {
		t.Fatal(err)
	}
	if u.ID != "user_1" || u.FirstName != "Ada" || u.PrimaryEmail() != "ada@example.com" || !u.CreatedAt.Equal(time.UnixMilli(1700000000123)) {
		t.Errorf("user %+v", u)
	}
	deleted := &WebhookEvent{Type: "user.deleted", Data: []byte(`{"deleted":true,"id":"user_1","object":"user"}`)}
	var d User
	if err := json.Unmarshal(deleted.Data, &d); err != nil || d.ID != "user_1" {
		t.Errorf("user.deleted: %+v, %v", d, err)
	}
}

func TestWebhookHandler(t *testing.T) {
	var got []string
	fail := false
	h, err := WebhookHandler(vectorSecret, func(ctx context.Context, ev *WebhookEvent) error {
		got = append(got, ev.ID+" "+ev.Type)
		if fail {
			return errors.New("database down")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sign := func(b string) string { return testWebhookSign(t, vectorSecret, "msg_1", ts, b) }
	event := `{"type":"user.created","data":{"id":"user_1"}}`
	big := strings.Repeat(" ", stdwebhooks.MaxBody) + event
	tests := []struct {
		name, sig, body string
		fail            bool
		wantCode        int
		wantCalls       int
	}{
		{name: "verified", sig: sign(event), body: event, wantCode: 204, wantCalls: 1},
		{name: "handler error", sig: sign(event), body: event, fail: true, wantCode: 500, wantCalls: 1},
		{name: "unsigned", body: event, wantCode: 401},
		{name: "tampered", sig: sign(event), body: event + " ", wantCode: 401},
		{name: "not JSON", sig: sign("{"), body: "{", wantCode: 400},
		{name: "too large", sig: sign(big), body: big, wantCode: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fail = nil, tt.fail
			w := httptest.NewRecorder()
			h.ServeHTTP(w, webhookRequest("msg_1", ts, tt.sig, tt.body))
			if w.Code != tt.wantCode || len(got) != tt.wantCalls {
				t.Fatalf("%d %q after %d calls, want %d after %d", w.Code, w.Body, len(got), tt.wantCode, tt.wantCalls)
			}
			if tt.wantCalls == 1 && got[0] != "msg_1 user.created" {
				t.Errorf("handled %q", got)
			}
		})
	}
}

func BenchmarkVerifyWebhook(b *testing.B) {
	body := `{"data":{"id":"user_1","object":"user","first_name":"Ada","email_addresses":[]},"object":"event","type":"user.created","timestamp":1614265330000,"instance_id":"ins_1"}`
	ts := strconv.Itoa(vectorTS)
	sig := testWebhookSign(b, vectorSecret, vectorID, ts, body)
	key, _ := webhookKey(vectorSecret)
	now := time.Unix(vectorTS, 0)
	r := webhookRequest(vectorID, ts, sig, body)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(strings.NewReader(body))
		if _, err := verifyWebhook(r, key, now); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerifyWebhook: whatever the three headers and the body, verification
// never panics, accepts only a body whose signature entries include the
// real HMAC of the trimmed id and timestamp and the exact body, and never
// puts the secret in an error.
func FuzzVerifyWebhook(f *testing.F) {
	ts := strconv.Itoa(vectorTS)
	event := `{"type":"user.created","data":{"id":"user_1"},"object":"event","timestamp":1614265330000}`
	f.Add(vectorID, ts, vectorSig, vectorBody)
	f.Add(vectorID, ts, testWebhookSign(f, vectorSecret, vectorID, ts, event), event)
	f.Add(" "+vectorID, ts+" ", "v2,x "+vectorSig+",y", vectorBody)
	f.Add(vectorID, ts, "v1,"+strings.Repeat("A", 43)+"=", vectorBody)
	f.Add("", "", "", "")
	f.Add(vectorID, "-1", vectorSig, "null")
	f.Add(vectorID, "+1614265330", vectorSig, vectorBody)
	key, err := webhookKey(vectorSecret)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(vectorTS, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header["Svix-Id"] = []string{id}
		r.Header["Svix-Timestamp"] = []string{ts}
		r.Header["Svix-Signature"] = []string{sig}
		ev, err := verifyWebhook(r, key, now)
		if err != nil {
			if ev != nil {
				t.Fatal("an event with an error")
			}
			if !errors.Is(err, ErrWebhookUnverified) && !errors.Is(err, ErrWebhookPayload) {
				t.Fatalf("error of no kind: %v", err)
			}
			if strings.Contains(err.Error(), strings.TrimPrefix(vectorSecret, "whsec_")) {
				t.Fatalf("error %q contains the secret", err)
			}
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil {
			t.Fatalf("accepted timestamp %q", ts)
		}
		want := testWebhookSign(t, vectorSecret, strings.TrimSpace(id), strconv.FormatInt(n, 10), body)
		found := false
		for _, e := range strings.Split(strings.TrimSpace(sig), " ") {
			found = found || e == want || strings.HasPrefix(e, want+",")
		}
		if !found {
			t.Fatalf("accepted id %q ts %q sig %q body %q; the signature is %s", id, ts, sig, body, want)
		}
		if ev.ID != strings.TrimSpace(id) {
			t.Fatalf("event id %q from header %q", ev.ID, id)
		}
		if b, _ := io.ReadAll(r.Body); string(b) != body {
			t.Fatalf("body not restored")
		}
	})
}
