package demo

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
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

func mustConfigure(t *testing.T, getenv func(string) string) *Config {
	t.Helper()
	c, err := Configure(getenv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConfigureHalfConfigured: a real instance's variable without a key
// (issue 17: CLERK_PUBLISHABLE_KEY=pk_live_... and a misspelt secret key
// name started the demo, printing hour-long tokens) is an error that names
// the variable set and the one missing; no embedded instance starts.
func TestConfigureHalfConfigured(t *testing.T) {
	for _, name := range realInstanceVars {
		env := map[string]string{name: "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "CLERK_SECRET_KEYS": "sk_live_misspelt"}
		c, err := Configure(func(k string) string { return env[k] })
		if err == nil {
			c.Close()
			t.Fatalf("%s set without a key: configured %+v", name, c)
		}
		if !strings.HasPrefix(err.Error(), name+" is set") || !strings.Contains(err.Error(), "CLERK_SECRET_KEY (or CLERK_JWT_KEY) is not") ||
			strings.Contains(err.Error(), "misspelt\"") || strings.Contains(err.Error(), "sk_live_") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if Addr(func(string) string { return "" }) != "127.0.0.1:8080" || Addr(func(string) string { return ":9" }) != ":9" {
		t.Error("the default address is not loopback, or $ADDR is not read")
	}
}

func TestConfigure(t *testing.T) {
	t.Run("real instance", func(t *testing.T) {
		env := map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "CLERK_AUTHORIZED_PARTIES": " https://a.example, ,https://b.example"}
		c := mustConfigure(t, func(k string) string { return env[k] })
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
		c := mustConfigure(t, func(string) string { return "" })
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
		if !strings.Contains(out.String(), VerifyComment+"\ngo run ./cmd/clerkauth verify -jwks-url "+c.Embedded.URL+"/.well-known/jwks.json -azp ") {
			t.Errorf("PrintCurl prints no verify command:\n%s", out.String())
		}
	})
}

// TestVerifyCommand runs the CLI line the examples print, from the
// repository root, and checks that it verifies the printed token.
func TestVerifyCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/clerkauth")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	c := mustConfigure(t, func(string) string { return "" })
	defer c.Close()
	var out strings.Builder
	c.PrintCurl(&out, "http://localhost:8080")
	_, after, ok := strings.Cut(out.String(), VerifyComment+"\n")
	if !ok {
		t.Fatalf("no verify command in:\n%s", out.String())
	}
	args := strings.Fields(strings.TrimSpace(after))
	if len(args) < 3 || args[0] != "go" || args[1] != "run" {
		t.Fatalf("verify command %q", args)
	}
	cmd := exec.Command(goBin, args[1:]...)
	cmd.Dir = filepath.Join("..", "..", "..")
	// Whatever CLERK_* the developer exported: -jwks-url reads none.
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "signed-in") || !strings.Contains(string(got), "user         "+UserID) {
		t.Fatalf("%s: %v\n%s", strings.Join(args[:5], " "), err, got)
	}
}

func TestConfigureWebhookSecret(t *testing.T) {
	realCfg := mustConfigure(t, func(k string) string {
		return map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_c2VjcmV0"}[k]
	})
	defer realCfg.Close()
	embedded := mustConfigure(t, func(string) string { return "" })
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
