package demo

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBaseURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"[::]:8080", "http://localhost:8080"},
		{"0.0.0.0:8080", "http://localhost:8080"},
		{":8080", "http://localhost:8080"},
		{"127.0.0.1:54321", "http://127.0.0.1:54321"},
		{"[::1]:80", "http://[::1]:80"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := BaseURL(tt.addr); got != tt.want {
				t.Errorf("BaseURL(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	t.Run("real instance", func(t *testing.T) {
		env := map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "CLERK_AUTHORIZED_PARTIES": " https://a.example, ,https://b.example"}
		c := Configure(func(k string) string { return env[k] })
		defer c.Close()
		if c.Embedded != nil || c.Options.SecretKey != "sk_test_x" ||
			strings.Join(c.Options.AuthorizedParties, " ") != "https://a.example https://b.example" {
			t.Errorf("Configure = %+v", c)
		}
		var out strings.Builder
		c.PrintCurl(&out, "http://localhost:8080")
		if out.Len() != 0 {
			t.Errorf("PrintCurl for a real instance printed %q", out.String())
		}
	})
	t.Run("embedded", func(t *testing.T) {
		c := Configure(func(string) string { return "" })
		defer c.Close()
		if c.Embedded == nil || c.Options.SecretKey != c.Embedded.SecretKey() {
			t.Fatalf("Configure without keys: no embedded instance")
		}
		var out strings.Builder
		c.PrintCurl(&out, "http://localhost:8080")
		if n := strings.Count(out.String(), "\ncurl -i "); n != len(Routes) {
			t.Errorf("%d curl commands, want %d:\n%s", n, len(Routes), out.String())
		}
		if strings.Contains(out.String(), c.Embedded.SecretKey()) {
			t.Error("PrintCurl printed the secret key")
		}
	})
}

func TestConfigureWebhookSecret(t *testing.T) {
	realCfg := Configure(func(k string) string {
		return map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_c2VjcmV0"}[k]
	})
	defer realCfg.Close()
	embedded := Configure(func(string) string { return "" })
	defer embedded.Close()
	if realCfg.WebhookSecret != "whsec_c2VjcmV0" || embedded.WebhookSecret != embedded.Embedded.WebhookSecret() {
		t.Errorf("webhook secrets %q, %q", realCfg.WebhookSecret, embedded.WebhookSecret)
	}
}

// Without a usable secret the route refuses every delivery and says why;
// the secret itself is never logged.
func TestWebhooksNotConfigured(t *testing.T) {
	tests := []struct {
		secret   string
		wantCode int
	}{
		{"", http.StatusNotImplemented},
		{"whsec_not*base64", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			var logs strings.Builder
			h := Webhooks(tt.secret, slog.New(slog.NewTextHandler(&logs, nil)))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader("{}")))
			if w.Code != tt.wantCode {
				t.Errorf("%d %s, want %d", w.Code, w.Body, tt.wantCode)
			}
			if tt.secret != "" && strings.Contains(logs.String(), "not*base64") {
				t.Errorf("logs contain the secret: %s", logs.String())
			}
		})
	}
}
