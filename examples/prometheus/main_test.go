package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth/clerktest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics of base and returns the value of every sample of
// the clerkauth metrics, keyed by name and labels (the otel_scope_*
// labels left out): `name{label="v",...}`, labels sorted.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, f := range families {
		if !strings.HasPrefix(name, "clerkauth_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if !strings.HasPrefix(l.GetName(), "otel_scope_") {
					labels = append(labels, l.GetName()+"="+`"`+l.GetValue()+`"`)
				}
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount()) // the count
			}
		}
	}
	return out
}

// get sends GET base+path with token (none when "") and returns the status.
func get(t *testing.T, base, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// want is what a few requests leave in the metrics: a token verified
// once (the JWKS downloaded first) then served twice from the cache, a
// request without a token on each route (signed out by the cookie rules
// of a production instance, as run's embedded one is).
var want = map[string]float64{
	`clerkauth_authentications_total{clerkauth_cache_hit="false",clerkauth_token_type="session_token",clerkauth_verdict="signed-in"}`:                                          1,
	`clerkauth_authentications_total{clerkauth_cache_hit="true",clerkauth_token_type="session_token",clerkauth_verdict="signed-in"}`:                                           2,
	`clerkauth_authentications_total{clerkauth_cache_hit="false",clerkauth_reason="session-token-and-uat-missing",clerkauth_token_type="none",clerkauth_verdict="signed-out"}`: 2,
	`clerkauth_authentication_duration_seconds{clerkauth_cache_hit="false",clerkauth_token_type="session_token",clerkauth_verdict="signed-in"}`:                                1,
	`clerkauth_jwks_downloads_total{http_response_status_code="200"}`:                                                                                                          1,
	`clerkauth_jwks_download_duration_seconds{http_response_status_code="200"}`:                                                                                                1,
	`clerkauth_jwks_keys{}`: 1,
	`clerkauth_backend_requests_total{clerkauth_backend_attempt="1",clerkauth_backend_endpoint="jwks",http_request_method="GET",http_response_status_code="200"}`:           1,
	`clerkauth_backend_request_duration_seconds{clerkauth_backend_attempt="1",clerkauth_backend_endpoint="jwks",http_request_method="GET",http_response_status_code="200"}`: 1,
	`clerkauth_breaker_open{clerkauth_backend_endpoint="machine.verify"}`:                                                                                                   0,
}

// drive makes the requests of want, checking their answers.
func drive(t *testing.T, base, token string) {
	t.Helper()
	for _, r := range []struct {
		path, token string
		code        int
	}{
		{"/api/protected", token, 200},
		{"/api/protected", token, 200},
		{"/api/public", token, 200},
		{"/api/protected", "", 401},
		{"/api/public", "", 200},
	} {
		if code := get(t, base, r.path, r.token); code != r.code {
			t.Fatalf("GET %s: %d, want %d", r.path, code, r.code)
		}
	}
}

func checkMetrics(t *testing.T, got map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected sample %s = %v", k, got[k])
		}
	}
}

func TestMetrics(t *testing.T) {
	srv := clerktest.New(t, clerktest.WithProductionInstance())
	a, err := newApp(srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ts := httptest.NewServer(a)
	defer ts.Close()
	drive(t, ts.URL, srv.SessionToken("user_1"))
	checkMetrics(t, scrape(t, ts.URL))
}

// TestRun runs the program itself on a loopback port, offline against the
// embedded instance, and follows the instructions it prints.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`curl -i -H 'Authorization: Bearer (\S+)' (http://\S+)/api/protected`)
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no instructions printed; stdout %q stderr %q", stdout.String(), stderr.String())
		}
		m = re.FindStringSubmatch(stdout.String())
	}
	drive(t, m[2], m[1])
	checkMetrics(t, scrape(t, m[2]))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(stderr.String(), m[1]) {
		t.Fatal("the token was logged")
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
