// Package browsertest drives a real headless Chromium through the
// examples/pages application, with its embedded clerktest instance as the
// Clerk instance: the sign-in page, Clerk's handshake after the session
// token expires, the sign-in redirect of a protected page, the 403 page,
// and htmx sent to sign in. It lives in its own module, for chromedp.
//
// It needs a Chromium: $CHROMIUM, else chromium, chromium-browser,
// google-chrome or google-chrome-stable on $PATH. Without one the tests
// skip, unless $BROWSERTEST_REQUIRED is set (CI sets it), when they fail.
package browsertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// tokenLifetime is the session token life of the app under test: short,
// so that a test outlives a token in seconds.
const tokenLifetime = "2s"

// chromium finds the browser, or skips (fails under $BROWSERTEST_REQUIRED).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BROWSERTEST_REQUIRED") != "" {
		t.Fatal("no Chromium found ($CHROMIUM, chromium, chromium-browser, google-chrome) and $BROWSERTEST_REQUIRED is set")
	}
	t.Skip("no Chromium found: set $CHROMIUM or install chromium")
	return ""
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// app is a running examples/pages program.
type app struct {
	URL  string // the application, http://127.0.0.1:port
	IdP  string // its embedded Clerk instance
	logs *strings.Builder
}

// startApp builds examples/pages once and runs it on a free loopback port
// with args; it is stopped (SIGINT, as Ctrl-C) when the test ends.
func startApp(t *testing.T, args ...string) *app {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "browsertest")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "pages")
		build := exec.Command("go", "build", "-o", binary, "./examples/pages")
		build.Dir = ".." // the library's module: this checkout
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build examples/pages: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	cmd := exec.Command(binary, append([]string{"-addr", "127.0.0.1:0", "-token-lifetime", tokenLifetime}, args...)...)
	cmd.Env = append(os.Environ(), "CLERK_SECRET_KEY=", "ADDR=")
	a := &app{logs: &strings.Builder{}}
	var logMu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return a.logs.Write(p)
	})
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("examples/pages logs:\n%s", a.logs.String())
			logMu.Unlock()
		}
	})
	open := regexp.MustCompile(`^Open (http://\S+)/ in a browser\.$`)
	idp := regexp.MustCompile(`embedded Clerk instance runs at (http://[^;\s]+);`)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := open.FindStringSubmatch(sc.Text()); m != nil {
			a.URL = m[1]
		}
		if m := idp.FindStringSubmatch(sc.Text()); m != nil {
			a.IdP = m[1]
		}
		if strings.HasPrefix(sc.Text(), "Session tokens live") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if a.URL == "" || a.IdP == "" {
		t.Fatalf("examples/pages printed no URL (app %q, instance %q)", a.URL, a.IdP)
	}
	return a
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// hop is a document response the browser received: a redirect or a page.
type hop struct {
	URL      string
	Status   int64
	Location string
}

// tab is a fresh browser (its own profile: no cookies) recording every
// document response.
type tab struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	hops []hop
}

func newTab(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	tb := &tab{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if r := ev.RedirectResponse; r != nil && ev.Type == network.ResourceTypeDocument {
				tb.record(hop{r.URL, r.Status, headerValue(r.Headers, "Location")})
			}
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				tb.record(hop{ev.Response.URL, ev.Response.Status, ""})
			}
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return tb
}

func headerValue(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

func (tb *tab) record(h hop) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.hops = append(tb.hops, h)
}

// take returns the hops recorded since the last take.
func (tb *tab) take() []hop {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	h := tb.hops
	tb.hops = nil
	return h
}

// run runs the steps, bounded by 30 s.
func (tb *tab) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		tb.t.Fatalf("%s: %v (at %s; hops %+v)", what, err, loc, tb.take())
	}
}

// location is the page's URL now.
func (tb *tab) location() *url.URL {
	tb.t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.t.Fatal(err)
	}
	return u
}

// text is the text of the element sel (CSS), once visible.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	tb.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// cookies are the browser's cookies for the app.
func (tb *tab) cookies(a *app) []*network.Cookie {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{a.URL + "/"}})
	if err != nil {
		tb.t.Fatal(err)
	}
	return res.Cookies
}

// signInAs waits for the instance's sign-in page and chooses user on it.
func (tb *tab) signInAs(a *app, user string) {
	tb.t.Helper()
	tb.run("sign-in page", chromedp.WaitVisible(chromedp.CSS("#"+user)))
	if loc := tb.location(); !strings.HasPrefix(loc.String(), a.IdP+"/sign-in") {
		tb.t.Fatalf("not on the sign-in page: %s", loc)
	}
	tb.run("choose "+user, chromedp.Click(chromedp.CSS("#"+user)))
}

// sessionExpiry is the exp of the browser's __session cookie for the app.
func (tb *tab) sessionExpiry(a *app) time.Time {
	tb.t.Helper()
	for _, c := range tb.cookies(a) {
		if c.Name == "__session" {
			return tokenExpiry(tb.t, c.Value)
		}
	}
	tb.t.Fatal("no __session cookie")
	return time.Time{}
}

func tokenExpiry(t *testing.T, tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("__session is not a JWT")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Exp == 0 {
		t.Fatalf("__session has no exp: %v", err)
	}
	return time.Unix(c.Exp, 0)
}

// waitExpired polls the application until it judges the token tok
// expired (an API request with it gets 401 with an expired reason): the
// browser's token has then outlived its life, clock skew included.
func waitExpired(t *testing.T, a *app, cookieHeader string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/api/me", nil)
		req.Header.Set("Cookie", cookieHeader)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && strings.Contains(resp.Header.Get("X-Clerk-Auth-Reason"), "expired") {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("the session token never expired")
}

// cookieHeader is the Cookie header the browser sends to the app.
func (tb *tab) cookieHeader(a *app) string {
	tb.t.Helper()
	var parts []string
	for _, c := range tb.cookies(a) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// noSignedOutPage fails when a hop is a signed-out answer: the sign-in
// page, a redirect to it, or a 401/403.
func noSignedOutPage(t *testing.T, hops []hop) {
	t.Helper()
	for _, h := range hops {
		if h.Status == 401 || h.Status == 403 || strings.Contains(h.URL, "/sign-in") || strings.Contains(h.Location, "/sign-in") {
			t.Fatalf("a signed-out answer on the way: %+v in %+v", h, hops)
		}
	}
}

// A signed-out /dashboard lands on the sign-in page and comes back after
// signing in; past the token's life a reload stays signed in, through
// Clerk's handshake, with no signed-out page in between. On a development
// instance (the development browser's cookie) and a production one.
func TestSessionOutlivesItsToken(t *testing.T) {
	for _, inst := range []struct {
		name string
		args []string
	}{{"development", nil}, {"production", []string{"-production"}}} {
		t.Run(inst.name, func(t *testing.T) {
			a := startApp(t, inst.args...)
			tb := newTab(t)
			tb.run("open /dashboard", chromedp.Navigate(a.URL+"/dashboard"))
			tb.signInAs(a, "user_admin")
			if got := tb.text("#user-id"); got != "user_admin" {
				t.Fatalf("after signing in: user %q", got)
			}
			if loc := tb.location(); loc.Path != "/dashboard" || !strings.HasPrefix(loc.String(), a.URL) {
				t.Fatalf("not back at /dashboard: %s", loc)
			}
			first := tb.sessionExpiry(a)
			if inst.name == "development" {
				if !strings.Contains(tb.cookieHeader(a), "__clerk_db_jwt=") {
					t.Fatal("no dev-browser cookie on a development instance")
				}
			} else if strings.Contains(tb.cookieHeader(a), "__clerk_db_jwt") {
				t.Fatal("a dev-browser cookie on a production instance")
			}

			waitExpired(t, a, tb.cookieHeader(a))
			tb.take()
			tb.run("reload", chromedp.Reload())
			if got := tb.text("#user-id"); got != "user_admin" {
				t.Fatalf("after the reload: user %q", got)
			}
			hops := tb.take()
			noSignedOutPage(t, hops)
			handshake := false
			for _, h := range hops {
				handshake = handshake || strings.HasPrefix(h.Location, a.IdP+"/v1/client/handshake")
			}
			if !handshake {
				t.Fatalf("the reload did not go through the handshake: %+v", hops)
			}
			if next := tb.sessionExpiry(a); !next.After(first) {
				t.Fatalf("the handshake set no fresh token: exp %v, before %v", next, first)
			}
		})
	}
}

// /org/settings without the permission shows the 403 page.
func TestForbiddenPage(t *testing.T) {
	a := startApp(t)
	tb := newTab(t)
	tb.run("open /org/settings", chromedp.Navigate(a.URL+"/org/settings"))
	tb.signInAs(a, "user_member")
	if got := tb.text("#status"); !strings.Contains(got, "needs the permission org:settings:manage") {
		t.Fatalf("not the 403 page: %q", got)
	}
	hops := tb.take()
	if last := hops[len(hops)-1]; last.Status != 403 || !strings.HasPrefix(last.URL, a.URL+"/org/settings") {
		t.Fatalf("last document response %+v", last)
	}
}

// An htmx fragment request when signed out navigates to the sign-in page,
// which brings the user back to the page.
func TestHTMXSignedOut(t *testing.T) {
	a := startApp(t)
	tb := newTab(t)
	tb.run("open /", chromedp.Navigate(a.URL+"/"))
	if got := tb.text("#status"); !strings.Contains(got, "You are signed out") {
		t.Fatalf("home: %q", got)
	}
	tb.run("load the fragment", chromedp.Click(chromedp.CSS("#load-me")))
	tb.signInAs(a, "user_admin")
	if got := tb.text("#user-id"); got != "user_admin" {
		t.Fatalf("after signing in: user %q", got)
	}
	if loc := tb.location(); loc.Path != "/" || !strings.HasPrefix(loc.String(), a.URL) {
		t.Fatalf("not back home: %s", loc)
	}
	tb.run("load the fragment", chromedp.Click(chromedp.CSS("#load-me")))
	if got := tb.text("#me-fragment"); !strings.HasPrefix(got, "User user_admin, organization org_acme") {
		t.Fatalf("fragment: %q", got)
	}
}
