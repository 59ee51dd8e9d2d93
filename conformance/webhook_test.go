package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
	"github.com/clerkauth/clerkauth/clerktest"
)

// svixDir holds the pinned npm packages: @clerk/backend (its
// verifyWebhook) and standardwebhooks (the signer it verifies with).
const svixDir = "svix"

// nodeWebhooks runs svix/webhooks.mjs on reqs and decodes its answers
// into answers (a pointer to a slice).
func nodeWebhooks(t *testing.T, reqs any, answers any) {
	t.Helper()
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "webhooks.mjs")
	cmd.Dir = svixDir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node webhooks.mjs: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, answers); err != nil {
		t.Fatalf("node webhooks.mjs answered %q: %v", out, err)
	}
}

func requireNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: run conformance/run.sh (installs node, npm ci, runs this test)")
	}
	if _, err := os.Stat(filepath.Join(svixDir, "node_modules", "@clerk", "backend")); err != nil {
		t.Skip("conformance/svix/node_modules missing: run conformance/run.sh (or npm ci in conformance/svix)")
	}
}

// TestWebhookConformance delivers the same webhooks to clerkauth's
// VerifyWebhook and to Clerk's own verifyWebhook (@clerk/backend, on the
// standardwebhooks npm package), signed by the other side: each request
// Go verifies was signed by the npm package, each request node verifies
// was signed by clerktest. Both must accept and reject the same ones, and
// agree on the event.
func TestWebhookConformance(t *testing.T) {
	requireNode(t)
	srv := clerktest.New(t)
	other := clerktest.New(t)
	secret, wrongSecret := srv.WebhookSecret(), other.WebhookSecret()
	now := time.Now().Unix()
	user := clerktest.User{ID: "user_1", FirstName: "Zoë ✓", Email: "zoe@example.com", PublicMetadata: map[string]any{"plan": "pro"}}
	event := string(clerktest.WebhookEvent("user.created", user, time.UnixMilli(1700000000123)))

	tests := []webhookCase{
		{name: "valid", wantOK: true},
		{name: "one minute old", signTS: now - 60, wantOK: true},
		{name: "one minute ahead", signTS: now + 60, wantOK: true},
		{name: "ten minutes old", signTS: now - 600},
		{name: "ten minutes ahead", signTS: now + 600},
		{name: "tampered body", sendBody: ptr(strings.Replace(event, "user_1", "user_2", 1))},
		{name: "body with a trailing newline", sendBody: ptr(event + "\n")},
		{name: "wrong secret", sigs: []webhookSig{{wrongSecret, ""}}},
		{name: "rotated secrets, new one second", sigs: []webhookSig{{wrongSecret, ""}, {secret, ""}}, wantOK: true},
		{name: "rotated secrets, new one first", sigs: []webhookSig{{secret, ""}, {wrongSecret, ""}}, wantOK: true},
		{name: "rotated secrets, neither", sigs: []webhookSig{{wrongSecret, ""}, {wrongSecret, "msg_other"}}},
		{name: "signature of another id", sigs: []webhookSig{{secret, "msg_other"}}},
		{name: "whitespace around headers", header: func(h http.Header) {
			for k := range h {
				h.Set(k, " \t"+h.Get(k)+"  ")
			}
		}, wantOK: true},
		{name: "version v2 only", header: func(h http.Header) {
			h.Set("svix-signature", strings.Replace(h.Get("svix-signature"), "v1,", "v2,", 1))
		}},
		{name: "v2 entry then v1", header: func(h http.Header) {
			h.Set("svix-signature", "v2,abc "+h.Get("svix-signature"))
		}, wantOK: true},
		{name: "timestamp with a plus and zeros", header: func(h http.Header) {
			h.Set("svix-timestamp", "+00"+h.Get("svix-timestamp"))
		}, wantOK: true},
		{name: "timestamp not a number", ts: "soon"},
		{name: "missing svix-id", header: func(h http.Header) { h.Del("svix-id") }, wantErrIn: "missing required webhook headers: svix-id"},
		{name: "missing svix-timestamp and svix-signature", header: func(h http.Header) {
			h.Del("svix-timestamp")
			h.Set("svix-signature", "   ")
		}, wantErrIn: "missing required webhook headers: svix-timestamp, svix-signature"},
		{name: "signed, not JSON", body: "not json"},
	}

	type nodeReq struct {
		Op      string            `json:"op"`
		Secret  string            `json:"secret"`
		ID      string            `json:"id,omitempty"`
		TS      int64             `json:"ts,omitempty"`
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers,omitempty"`
		Now     int64             `json:"now,omitempty"`
	}
	// Fill in the defaults, and ask node for its signatures.
	var signReqs []nodeReq
	for i := range tests {
		tt := &tests[i]
		if tt.id == "" {
			tt.id = "msg_" + strconv.Itoa(i)
		}
		if tt.signTS == 0 {
			tt.signTS = now
		}
		if tt.ts == "" {
			tt.ts = strconv.FormatInt(tt.signTS, 10)
		}
		if tt.body == "" {
			tt.body = event
		}
		if tt.sigs == nil {
			tt.sigs = []webhookSig{{secret, ""}}
		}
		for j, s := range tt.sigs {
			if s.id == "" {
				tt.sigs[j].id = tt.id
			}
			signReqs = append(signReqs, nodeReq{Op: "sign", Secret: tt.sigs[j].secret, ID: tt.sigs[j].id, TS: tt.signTS, Body: tt.body})
		}
	}
	var nodeSigs []struct{ Sig string }
	nodeWebhooks(t, signReqs, &nodeSigs)
	if len(nodeSigs) != len(signReqs) {
		t.Fatalf("%d signatures for %d requests", len(nodeSigs), len(signReqs))
	}

	// headers builds the request headers of tt from its signature entries.
	headers := func(tt *webhookCase, entries []string) http.Header {
		h := http.Header{}
		h.Set("svix-id", tt.id)
		h.Set("svix-timestamp", tt.ts)
		h.Set("svix-signature", strings.Join(entries, " "))
		if tt.header != nil {
			tt.header(h)
		}
		return h
	}

	var verifyReqs []nodeReq
	type goResult struct {
		ev  *clerkauth.WebhookEvent
		err error
	}
	var goResults []goResult
	n := 0
	for i := range tests {
		tt := &tests[i]
		var fromNode, fromGo []string
		for _, s := range tt.sigs {
			fromNode = append(fromNode, nodeSigs[n].Sig)
			n++
			sig, err := clerktest.SignWebhook(s.secret, s.id, time.Unix(tt.signTS, 0), []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			fromGo = append(fromGo, sig)
		}
		if !reflect.DeepEqual(fromNode, fromGo) {
			t.Errorf("%s: standardwebhooks signs %q, clerktest %q", tt.name, fromNode, fromGo)
		}
		sent := tt.body
		if tt.sendBody != nil {
			sent = *tt.sendBody
		}
		// Go verifies what node signed.
		req := httptest.NewRequest(http.MethodPost, "/webhooks/clerk", strings.NewReader(sent))
		req.Header = headers(tt, fromNode)
		ev, err := clerkauth.VerifyWebhook(req, secret)
		goResults = append(goResults, goResult{ev, err})
		// Node verifies what Go signed.
		h := map[string]string{}
		for k := range headers(tt, fromGo) {
			h[strings.ToLower(k)] = headers(tt, fromGo).Get(k)
		}
		verifyReqs = append(verifyReqs, nodeReq{Op: "verify", Secret: secret, Headers: h, Body: sent, Now: now})
	}
	var nodeResults []struct {
		OK    bool
		Error string
		Event map[string]any
	}
	nodeWebhooks(t, verifyReqs, &nodeResults)
	defer func() {
		okCount := 0
		for _, tt := range tests {
			if tt.wantOK {
				okCount++
			}
		}
		status := "all agree"
		if t.Failed() {
			status = "DIFFERENCES (see above)"
		}
		t.Logf("CONFORMANCE: svix/webhooks: %d deliveries (%d valid), %d signatures, each side verifying the other's: %s",
			len(tests), okCount, len(signReqs), status)
	}()

	for i := range tests {
		tt := &tests[i]
		t.Run(tt.name, func(t *testing.T) {
			g, js := goResults[i], nodeResults[i]
			if (g.err == nil) != tt.wantOK || js.OK != tt.wantOK {
				t.Fatalf("clerkauth: %v; Clerk's verifyWebhook: ok %v %s; want ok %v", g.err, js.OK, js.Error, tt.wantOK)
			}
			if !tt.wantOK {
				if !errors.Is(g.err, clerkauth.ErrWebhookUnverified) && !errors.Is(g.err, clerkauth.ErrWebhookPayload) {
					t.Errorf("clerkauth error %v of no kind", g.err)
				}
				want := strings.ToLower(tt.wantErrIn)
				if !strings.Contains(strings.ToLower(g.err.Error()), want) || !strings.Contains(strings.ToLower(js.Error), want) {
					t.Errorf("errors %q and %q, want both to say %q", g.err, js.Error, tt.wantErrIn)
				}
				t.Logf("clerkauth: %v; Clerk: %s", g.err, js.Error)
				return
			}
			// The same event on both sides.
			ev := g.ev
			data := map[string]any{}
			if err := json.Unmarshal(ev.Data, &data); err != nil {
				t.Fatal(err)
			}
			attrs := map[string]any{}
			if err := json.Unmarshal(ev.EventAttributes, &attrs); err != nil {
				t.Fatal(err)
			}
			got := map[string]any{"type": ev.Type, "object": ev.Object, "instance_id": ev.InstanceID,
				"timestamp": float64(ev.Timestamp.UnixMilli()), "data": data, "event_attributes": attrs}
			if !reflect.DeepEqual(got, js.Event) {
				t.Errorf("clerkauth event %v\nClerk's event     %v", got, js.Event)
			}
			if ev.ID != strings.TrimSpace(tt.id) {
				t.Errorf("ID %q, want %q", ev.ID, tt.id)
			}
		})
	}
}

// webhookCase is one delivery of TestWebhookConformance.
type webhookCase struct {
	name     string
	id       string
	ts       string              // svix-timestamp as sent
	signTS   int64               // the timestamp signed
	sigs     []webhookSig        // the entries of svix-signature, in order
	body     string              // the body signed
	sendBody *string             // the body sent, when not body
	header   func(h http.Header) // last changes to the headers
	wantOK   bool
	// wantErrIn is in both errors (case aside) when not wantOK.
	wantErrIn string
}

// webhookSig is one signature entry: the secret and the id it signs with
// (the case's id when "").
type webhookSig struct{ secret, id string }

func ptr[T any](v T) *T { return &v }
