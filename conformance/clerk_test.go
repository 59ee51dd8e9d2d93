package conformance

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clerkauth/clerkauth"
)

// The side-by-side suite: every case is one request (headers and cookies,
// tokens signed with one test RSA key, a frozen clock, an instance and
// authorized parties), decided by clerkauth here and by Clerk's
// authenticateRequest in node (clerk/run.mjs). Their verdicts, reasons,
// Auth fields and has() answers must agree, except where a difference is
// allowed: a deliberate divergence listed in docs/behaviour.md's "Differences from
// Clerk" (divergences below) or a pending one in pending.txt that another
// branch is closing.

// Instances: pk_live and pk_test for clerk.example.com.
const (
	pkLive  = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"
	pkTest  = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
	issuer  = "https://clerk.example.com"
	appAzp  = "https://app.example.com"
	nowUnix = 1_750_000_000
)

// hasQ is one has() question, in Clerk's parameter shape. Reverification
// is a preset name (string) or a custom level (revQ).
type hasQ struct {
	Role           string `json:"role,omitempty"`
	Permission     string `json:"permission,omitempty"`
	Feature        string `json:"feature,omitempty"`
	Plan           string `json:"plan,omitempty"`
	Reverification any    `json:"reverification,omitempty"`
}

// revQ is a custom reverification: {level, afterMinutes}.
type revQ struct {
	Level        string  `json:"level"`
	AfterMinutes float64 `json:"afterMinutes"`
}

// tcase is one request, as both sides read it. Both send exactly the
// headers given (Authorization, Cookie and Headers), with the method and
// URL given (default GET https://api.example.com/conformance).
type tcase struct {
	ID                string            `json:"id"`
	PK                string            `json:"pk"`
	NowMs             int64             `json:"nowMs"`
	Method            string            `json:"method,omitempty"`
	URL               string            `json:"url,omitempty"`
	Headers           map[string]string `json:"headers,omitempty"`
	Authorization     *string           `json:"authorization,omitempty"`
	Cookie            string            `json:"cookie,omitempty"`
	AuthorizedParties []string          `json:"authorizedParties,omitempty"`
	// Accepts is one token type (Clerk's acceptsToken as a string),
	// AcceptsList several (Clerk's array form); neither: session tokens.
	Accepts       string   `json:"accepts,omitempty"`
	AcceptsList   []string `json:"acceptsList,omitempty"`
	AcceptPending bool     `json:"acceptPending,omitempty"`
	Has           []hasQ   `json:"has,omitempty"`
	// Page-load cases (PageLoad) also compare the state (signed-in,
	// signed-out, handshake) and its Location, Set-Cookie and
	// Cache-Control, with the deployment's options on both sides.
	PageLoad    bool   `json:"pageLoad,omitempty"`
	SignInURL   string `json:"signInUrl,omitempty"`
	SignUpURL   string `json:"signUpUrl,omitempty"`
	ProxyURL    string `json:"proxyUrl,omitempty"`
	Domain      string `json:"domain,omitempty"`
	IsSatellite bool   `json:"isSatellite,omitempty"`
	// OrgSync is organizationSyncOptions / Options.OrganizationSyncOptions.
	OrgSync *orgSync `json:"organizationSyncOptions,omitempty"`
}

// orgSync is Clerk's organizationSyncOptions.
type orgSync struct {
	OrganizationPatterns    []string `json:"organizationPatterns,omitempty"`
	PersonalAccountPatterns []string `json:"personalAccountPatterns,omitempty"`
}

// forNode is c with its header values as node's HTTP server presents
// them: one JavaScript character per byte (latin1), so that bytes that are
// not UTF-8 reach Clerk as they reach clerkauth.
func (c tcase) forNode() tcase {
	latin1 := func(s string) string {
		r := make([]rune, len(s))
		for i := 0; i < len(s); i++ {
			r[i] = rune(s[i])
		}
		return string(r)
	}
	if c.Authorization != nil {
		c.Authorization = ptr(latin1(*c.Authorization))
	}
	c.Cookie = latin1(c.Cookie)
	if c.Headers != nil {
		h := map[string]string{}
		for k, v := range c.Headers {
			h[k] = latin1(v)
		}
		c.Headers = h
	}
	return c
}

// answer is one side's decision, normalized for comparison.
type answer struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// The state's response headers (page-load cases).
	Location     *string   `json:"location"`
	SetCookie    []string  `json:"setCookie"`
	CacheControl *string   `json:"cacheControl"`
	CORS         []any     `json:"cors"` // Access-Control-Allow-Origin and -Credentials (a resolved handshake)
	Reason       *string   `json:"reason"`
	SignedIn     bool      `json:"signedIn"`
	Auth         clerkAuth `json:"auth"`
	Has          []any     `json:"has"`
}

type clerkAuth struct {
	UserID                any             `json:"userId"`
	SessionID             any             `json:"sessionId"`
	SessionStatus         any             `json:"sessionStatus"`
	OrgID                 any             `json:"orgId"`
	OrgRole               any             `json:"orgRole"`
	OrgSlug               any             `json:"orgSlug"`
	OrgPermissions        any             `json:"orgPermissions"`
	FactorVerificationAge any             `json:"factorVerificationAge"`
	Actor                 json.RawMessage `json:"actor"`
	TokenType             any             `json:"tokenType"`
	Subject               any             `json:"subject"`
	// Machine holds the members a machine token's auth object has (id,
	// subject, name, scopes, claims, userId, orgId, machineId, clientId:
	// each type has its own set).
	Machine map[string]any `json:"machine,omitempty"`
}

// divergence is an allowed difference: ID (a row of docs/behaviour.md's "Differences
// from Clerk"), and a pattern over the difference lines it explains. Each
// pattern names the cases (by their id) and the field and values it
// allows, so that a regression elsewhere is not tolerated; each must
// explain at least one difference (TestAgainstClerk).
type divergence struct {
	ID      string
	Pattern *regexp.Regexp
}

// Case ids are "<source>/<case>" with source hdr or cookie, and "+azp"
// when authorized parties are configured.
const (
	src = `^(hdr|cookie)/`
	azp = `(\+azp)?`
	// wrongScalar are the corpus values that are not strings.
	wrongScalar = `(num|neg|zero|float|true|obj|arr)`
	// wrongList are the corpus values that are not arrays of the
	// expected type.
	wrongList = `(str|empty|bigstr|num|neg|zero|float|true|obj|arr)`
	// signedOut is a verdict where Clerk signs in and clerkauth does not.
	signedOut = ` verdict: clerk=true ours=false$`
)

// divergences are the deliberate differences from Clerk. Each ID must be a
// row of the table in docs/behaviour.md (TestDivergencesInDocs); an ID may have several
// patterns.
var divergences = []divergence{
	{"D2-bearer-case", regexp.MustCompile(`^header/lower-bearer verdict: clerk=false ours=true$`)},
	{"D6-issuer", regexp.MustCompile(src + `v[12]/iss/[a-z]+` + azp + signedOut)},
	// The instance's issuer in another case, or without https://: Clerk's
	// cookie-pair choice counts it as the instance's, and Clerk checks no iss.
	{"D6-issuer", regexp.MustCompile(`^cookie/iss-choice/valid/[^ ]+` + signedOut)},
	// D7: stricter on input Clerk never mints.
	{"D7-never-minted", regexp.MustCompile(src + `(jwthdr/crit|v[12]/sub/empty|json/dup-(top|nested)|json/nesting(-arr)?-128|json/(exp|nbf|iat)-beyond-float64)` + azp + signedOut)},
	{"D7-never-minted", regexp.MustCompile(src + `(v[12]/(sid|azp)|v1/org_(id|role|slug)|v2/(sts|pla))/` + wrongScalar + azp + signedOut)},
	{"D7-never-minted", regexp.MustCompile(src + `(v2/o\.(id|rol|slg)/(num|obj)|v2/fea/zero|v[12]/act/[34]|v[12]/fva/(6|` + wrongList[1:] + `|v1/org_permissions/` + wrongList + `)` + azp + signedOut)},
	// Clerk throws (authenticateRequest: unexpected-error on the cookie
	// path; the header path's exception reaches the caller).
	{"D7-never-minted", regexp.MustCompile(src + `v2/(fea/(str|bigstr|num|neg|float|true|obj|arr)|fpm/5|o\.(per|fpm)/(num|obj))` + azp +
		` reason: clerk="(throws: [^"]+|unexpected-error)" ours="token-verification-failed"$`)},
	// Machine JWT members of a type Clerk never mints: a jti or client_id
	// that is not a string (Clerk copies it), scopes/scope not a string
	// (Clerk throws), aud (M2M) or scp (OAuth) a string (Clerk's scopes is
	// that string; clerkauth's a list of one).
	{"D7-never-minted", regexp.MustCompile(`^mfields/(m2m-jwt/[^ ]*/jti-num|oauth-jwt/[^ ]*/client_id-n),(any|m2m|oauth)` + signedOut)},
	{"D7-never-minted", regexp.MustCompile(`^mfields/(m2m-jwt/[^ ]*/scopes-(arr|num)|oauth-jwt/[^ ]*/scope-num),(any|m2m|oauth)` +
		` reason: clerk="throws: [^"]+" ours="token-verification-failed"$`)},
	{"D7-never-minted", regexp.MustCompile(`^mfields/(m2m-jwt/[^ ]*/aud-str|oauth-jwt/[^ ]*/scp-str),(any|m2m|oauth)` +
		` machine\.scopes: clerk="[a-z_]+" ours=\["[a-z_]+"\]$`)},
	{"D9-machine-answers", regexp.MustCompile(`^mfields/answer/(ak|mt|oat)/(403|422|429|500|not-json)` +
		` reason: clerk="unexpected-error" ours="(secret-key-invalid|token-invalid|backend-api-unavailable)"$`)},
	{"D9-machine-answers", regexp.MustCompile(`^mfields/answer/(ak|mt|oat)/(revoked|expired|expiration-past) verdict: clerk=true ours=false$`)},
	{"D8-pending", regexp.MustCompile(`^((hdr|cookie)/v[12]/sts/pending` + azp + `|clerktest/(hdr|cookie)/pending` +
		`|pageload/(live|test)/(pending|expired\+rt-pend|nonce-pending/(cookie|query))/[^ ]*) reason: clerk="" ours="session-pending"$`)},
	// An expired header token with another session's token in the cookie
	// and a refresh cookie: Clerk refreshes the cookie's session (its
	// unverified token), clerkauth the header's (verified) one (P1).
	{"P1-refresh-token", regexp.MustCompile(`^pageload/(live|test)/hdr-expired\+cookie-other-(expired|valid)\+rt/(doc|fetch) ` +
		`(sessionId: clerk="sess_other" ours="sess_2abc"|userId: clerk="user_other" ours="user_2abc"|set-cookie: clerk=\["__session=[^"]+", ?.*)$`)},
	// Clerk throws (the request fails) where clerkauth answers: a
	// development handshake token that does not verify (P2), a development
	// primary's __clerk_redirect_url that is not a URL (P3).
	{"P2-handshake-throws", regexp.MustCompile(`^pageload/test/hstoken-(forged|malformed|cat-m2m)/(cookie|query)/[a-z]+ ` +
		`(status: clerk="error" ours="signed-out"|reason: clerk="throws: Clerk: Handshake token verification failed[^"]*" ours="session-token-and-uat-missing")$`)},
	{"P3-bad-redirect-url", regexp.MustCompile(`^pageload/test/sync-bad/[^ ]+ (status: clerk="error" ours="[a-z-]+"|reason: clerk="throws: Invalid URL" ours="[a-z-]*"|` +
		`verdict: clerk=false ours=true|set-cookie: clerk=\[\] ours=.*|location: clerk=null ours=.*|cache-control: clerk=null ours="no-store")$`)},
}

// noHandshakeDivergences are allowed, besides divergences, in the pass
// that decides the session suite once more with Options.DisableHandshake:
// requests judged as API requests, without the page-load flows.
const noHandshakePass = "nohandshake"

var noHandshakeDivergences = []divergence{
	{"D1-expired-reason", regexp.MustCompile(`^((hdr|cookie)/(v[12]/(time/exp-\d+|exp/(zero|num|neg|float))` + azp + `|clock/\+\d+)` +
		`|cookie/(live|test)/(s=exp|s=[a-z]+,u=[a-z0-9]+,ss=exp),[^ ]*|clerktest/(hdr|cookie)/expired)` +
		` reason: clerk="session-token-expired-refresh-[a-z-]+" ours="token-expired"$`)},
	{"D3-cookie-reason-order", regexp.MustCompile(`^cookie/((live|test)/s=exp,u=mid,[^ ]*|v[12]/iat/(empty|null|true)` + azp + `)` +
		` reason: clerk="session-token-iat-before-client-uat" ours="(token-expired|token-verification-failed)"$`)},
	{"D4-dev-browser", regexp.MustCompile(`^(cookie/test/[^ ]*,nodb|clerktest/cookie-nodb/[a-z-]+)` +
		` (verdict: clerk=false ours=true|reason: clerk="dev-browser-missing" ours="[a-z-]+"|sessionStatus: clerk="" ours="pending")$`)},
	{"D5-foreign-cookie", regexp.MustCompile(`^cookie/((live|test)/s=foreign,[^ ]*|v[12]/iss/[a-z]+` + azp + `)` +
		` reason: clerk="session-token-and-uat-missing" ours="(token-invalid-issuer|token-verification-failed|session-token-but-no-client-uat)"$`)},
}

func loadPending(t *testing.T) []divergence {
	t.Helper()
	b, err := os.ReadFile("pending.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []divergence
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		group, rest, ok := strings.Cut(line, " ")
		pat, _, ok2 := strings.Cut(strings.TrimSpace(rest), " | ")
		if !ok || !ok2 {
			t.Fatalf("pending.txt: want `group regexp | explanation`: %q", line)
		}
		out = append(out, divergence{group, regexp.MustCompile(pat)})
	}
	return out
}

// TestDivergencesInDocs: every allowed divergence is a row of a
// "Differences from Clerk" table of docs/behaviour.md (or of another page
// of docs/, or README), or a row proposed in proposed-divergences.md,
// waiting to move there.
func TestDivergencesInDocs(t *testing.T) {
	var rows string
	docs, _ := filepath.Glob("../docs/*.md")
	for _, path := range append([]string{"../README.md"}, docs...) {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if _, sec, ok := strings.Cut(string(b), "## Differences from Clerk"); ok {
			sec, _, _ = strings.Cut(sec, "\n## ")
			rows += sec
		}
	}
	if rows == "" {
		t.Fatal(`neither README nor docs/*.md has a "## Differences from Clerk" section`)
	}
	proposed, err := os.ReadFile("proposed-divergences.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range append(append([]divergence(nil), divergences...), noHandshakeDivergences...) {
		inREADME := strings.Contains(rows, "| "+d.ID+" |")
		inProposed := strings.Contains(string(proposed), "| "+d.ID+" |")
		switch {
		case inREADME && inProposed:
			t.Errorf("divergence %s is in a table of docs/ now: remove its row from proposed-divergences.md", d.ID)
		case !inREADME && !inProposed:
			t.Errorf("divergence %s is not a row of a Differences from Clerk table (docs/behaviour.md) nor of proposed-divergences.md", d.ID)
		}
	}
}

func TestAgainstClerk(t *testing.T) {
	dir, err := filepath.Abs("clerk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: run conformance/run.sh (installs node and npm, runs npm ci in conformance/clerk, then go test)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@clerk", "backend")); err != nil {
		t.Skip("@clerk/backend not installed: run `npm ci` in conformance/clerk, or conformance/run.sh")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))

	api := newMockAPI()
	defer api.Close()
	g := &gen{key: key, api: api}
	g.all(t)
	cases := g.cases

	nodeCases := make([]tcase, len(cases))
	for i, c := range cases {
		nodeCases[i] = c.forNode()
	}
	in, _ := json.Marshal(map[string]any{"pem": pemKey, "apiUrl": api.URL, "cases": nodeCases})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // hang detector only
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "run.mjs"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s", err, stderr.String())
	}
	if path := os.Getenv("CONFORMANCE_DUMP"); path != "" { // Clerk's raw answers, for debugging
		os.WriteFile(path, out, 0o644)
	}
	clerk := map[string]answer{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a answer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("run.mjs answer %q: %v", sc.Text(), err)
		}
		clerk[a.ID] = a
	}
	if len(clerk) != len(cases) {
		t.Fatalf("run.mjs answered %d of %d cases", len(clerk), len(cases))
	}

	pending := loadPending(t)
	allowed := append(append([]divergence(nil), divergences...), pending...)
	nBase := len(allowed) // the entries every pass allows; then those of the DisableHandshake pass
	allowed = append(allowed, noHandshakeDivergences...)
	used := make([]int, len(allowed))
	stats := map[string]*suiteStats{}
	for _, c := range cases {
		st := stats[suiteOf(c.ID)]
		if st == nil {
			st = &suiteStats{groups: map[string]int{}}
			stats[suiteOf(c.ID)] = st
		}
		st.cases++
		if clerk[c.ID].SignedIn {
			st.signedIn++
		}
	}
	var unexplained, explained []string
	// Three passes over every case: the verified-token cache off, then on
	// (the default) twice, the second time answering from what the first
	// cached (a middleware per configuration, its clock set per case, so
	// that an entry cached at one time is served at another).
	// A fourth pass decides the session suite with the page-load flows
	// off (Options.DisableHandshake), where the API-middleware rows apply.
	passes := []struct {
		name string
		env  *goEnv
	}{{"nocache", nil}, {"cache-cold", nil}, {"cache-warm", nil}, {noHandshakePass, nil}}
	cacheEnv := newGoEnv(t, pemKey, api.URL, true)
	passes[0].env = newGoEnv(t, pemKey, api.URL, false)
	passes[1].env, passes[2].env = cacheEnv, cacheEnv
	passes[3].env = newGoEnv(t, pemKey, api.URL, false)
	passes[3].env.noHandshake = true
	noHS := &suiteStats{groups: map[string]int{}}
	for _, p := range passes {
		ok := allowed[:nBase]
		if p.name == noHandshakePass {
			ok = allowed
		}
		for _, c := range cases {
			st := stats[suiteOf(c.ID)]
			if p.name == noHandshakePass {
				if suiteOf(c.ID) != "session" {
					continue
				}
				st = noHS
				st.cases++
			}
			ours := p.env.decide(t, c)
			diffs := compare(c, clerk[c.ID], ours)
			caseGroups := map[string]bool{}
			for _, d := range diffs {
				i := explain(d, ok)
				if i < 0 {
					unexplained = append(unexplained, p.name+": "+d)
					st.unexplained++
					continue
				}
				used[i]++
				if p.name == "nocache" || p.name == noHandshakePass {
					explained = append(explained, p.name+" "+allowed[i].ID+" "+d)
					caseGroups[allowed[i].ID] = true
				}
			}
			for g := range caseGroups {
				st.groups[g]++
			}
		}
	}
	for _, name := range sortedKeys(stats) {
		st := stats[name]
		var groups []string
		for _, g := range sortedKeys(st.groups) {
			groups = append(groups, fmt.Sprintf("%s=%d", g, st.groups[g]))
		}
		t.Logf("CONFORMANCE: clerk/%s: %d cases compared (%d signed in by Clerk; each decided 3 times: cache off, cache cold, cache warm), "+
			"%d unexplained differences; allowed (cases per group): %s",
			name, st.cases, st.signedIn, st.unexplained, strings.Join(groups, " "))
	}
	var groups []string
	for _, g := range sortedKeys(noHS.groups) {
		groups = append(groups, fmt.Sprintf("%s=%d", g, noHS.groups[g]))
	}
	t.Logf("CONFORMANCE: clerk/session with DisableHandshake: %d cases compared, %d unexplained differences; allowed (cases per group): %s",
		noHS.cases, noHS.unexplained, strings.Join(groups, " "))
	if path := os.Getenv("CONFORMANCE_ALLOWED"); path != "" {
		sort.Strings(explained)
		os.WriteFile(path, []byte(strings.Join(explained, "\n")+"\n"), 0o644)
	}
	// A pattern that explains nothing is dead: remove it (or the case
	// that should exercise it went missing).
	for i, n := range used {
		if n == 0 {
			t.Errorf("allow-list entry %s %q explains no difference: remove it", allowed[i].ID, allowed[i].Pattern)
		}
	}
	if len(unexplained) > 0 {
		sort.Strings(unexplained)
		if path := os.Getenv("CONFORMANCE_DIFFS"); path != "" {
			os.WriteFile(path, []byte(strings.Join(unexplained, "\n")+"\n"), 0o644)
		}
		if len(unexplained) > 60 {
			unexplained = append(unexplained[:60], fmt.Sprintf("... and %d more", len(unexplained)-60))
		}
		t.Errorf("differences from Clerk not in the table of docs/behaviour.md nor pending.txt:\n%s", strings.Join(unexplained, "\n"))
	}
}

// suiteStats counts one suite's cases: compared, signed in by Clerk,
// unexplained differences, and cases per allowed group.
type suiteStats struct {
	cases, signedIn, unexplained int
	groups                       map[string]int
}

// suiteOf names the suite of a case by its id: page-load flows, machine
// tokens (their types, routes and fields), and the session-token requests
// of API calls.
func suiteOf(id string) string {
	switch {
	case strings.HasPrefix(id, "pageload/"):
		return "page-load"
	case strings.HasPrefix(id, "machine/"), strings.HasPrefix(id, "mfields/"), strings.HasPrefix(id, "route/"):
		return "machine"
	}
	return "session"
}

// explain returns the index of the first entry of allowed whose pattern
// matches the difference line d, or -1.
func explain(d string, allowed []divergence) int {
	for i, dv := range allowed {
		if dv.Pattern.MatchString(d) {
			return i
		}
	}
	return -1
}

// goEnv decides cases with clerkauth: one middleware per configuration
// (instance, authorized parties, accepted types, pending sessions), all
// verifying with the PEM key and calling the mock Backend API for opaque
// machine tokens. With cache, the middlewares keep their default
// verified-token and machine-token caches, and their clock is set per case.
type goEnv struct {
	pemKey, apiURL string
	cache          bool
	noHandshake    bool // Options.DisableHandshake
	mws            map[string]*clerkauth.Middleware
	nowMs          int64 // the clock of the middlewares with cache
}

func newGoEnv(t *testing.T, pemKey, apiURL string, cache bool) *goEnv {
	e := &goEnv{pemKey: pemKey, apiURL: apiURL, cache: cache, mws: map[string]*clerkauth.Middleware{}}
	t.Cleanup(func() {
		for _, m := range e.mws {
			m.Close()
		}
	})
	return e
}

// decide runs clerkauth on c through a real middleware's Handler.
func (e *goEnv) decide(t *testing.T, c tcase) answer {
	t.Helper()
	types := c.AcceptsList
	if c.Accepts != "" {
		types = []string{c.Accepts}
	}
	k := strings.Join([]string{c.PK, strings.Join(c.AuthorizedParties, ","), strings.Join(types, ","), fmt.Sprint(c.AcceptPending),
		c.SignInURL, c.SignUpURL, c.ProxyURL, c.Domain, fmt.Sprint(c.IsSatellite), js(c.OrgSync)}, "|")
	if !e.cache {
		k += "|" + fmt.Sprint(c.NowMs)
	}
	e.nowMs = c.NowMs
	m := e.mws[k]
	if m == nil {
		opts := clerkauth.Options{JWTKey: e.pemKey, PublishableKey: c.PK, AuthorizedParties: c.AuthorizedParties,
			SecretKey: "sk_test_conformance", APIURL: e.apiURL, AcceptPendingSessions: c.AcceptPending,
			AcceptsToken: types, Getenv: func(string) string { return "" },
			SignInURL: c.SignInURL, SignUpURL: c.SignUpURL, ProxyURL: c.ProxyURL, Domain: c.Domain, IsSatellite: c.IsSatellite,
			DisableHandshake: e.noHandshake}
		if c.OrgSync != nil {
			opts.OrganizationSyncOptions = &clerkauth.OrganizationSyncOptions{OrganizationPatterns: c.OrgSync.OrganizationPatterns,
				PersonalAccountPatterns: c.OrgSync.PersonalAccountPatterns}
		}
		if e.cache {
			opts.Now = func() time.Time { return time.UnixMilli(e.nowMs) }
		} else {
			nowMs := c.NowMs
			opts.Now = func() time.Time { return time.UnixMilli(nowMs) }
			opts.TokenCacheSize, opts.MachineTokenCacheTTL = -1, -1
		}
		var err error
		if m, err = clerkauth.New(opts); err != nil {
			t.Fatalf("%s: New: %v", c.ID, err)
		}
		e.mws[k] = m
	}
	method := cmp.Or(c.Method, "GET")
	r := httptest.NewRequest(method, cmp.Or(c.URL, "https://api.example.com/conformance"), nil)
	for name, v := range c.Headers {
		r.Header.Set(name, v)
	}
	if c.Authorization != nil {
		r.Header.Set("Authorization", *c.Authorization)
	}
	if c.Cookie != "" {
		r.Header.Set("Cookie", c.Cookie)
	}
	var a *clerkauth.Auth
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { a = clerkauth.GetAuth(r) })).
		ServeHTTP(rec, r)
	ans := answer{ID: c.ID}
	if a == nil {
		// Handler answered itself (a 307): the Auth is what
		// AuthenticateResponse, which writes the same response, returns.
		r2 := r.Clone(r.Context())
		a, _ = m.AuthenticateResponse(httptest.NewRecorder(), r2)
		if rec.Code != http.StatusTemporaryRedirect {
			ans.Status = fmt.Sprintf("Handler answered %d without calling next", rec.Code)
		}
	}
	ans.SignedIn = a.IsSignedIn()
	if ans.Status == "" {
		switch err := a.Err(); {
		case err == nil, errors.Is(err, clerkauth.ErrSessionPending):
			// Clerk's state is signed-in; its toAuth() signs a pending
			// session out, as clerkauth does (unless accepted).
			ans.Status = "signed-in"
		case errors.Is(err, clerkauth.ErrHandshake):
			ans.Status = "handshake"
		default:
			ans.Status = "signed-out"
		}
	}
	if v := rec.Header().Get("Location"); v != "" {
		ans.Location = &v
	}
	if v := rec.Header().Get("Cache-Control"); v != "" {
		ans.CacheControl = &v
	}
	ans.SetCookie = rec.Header().Values("Set-Cookie")
	ans.CORS = []any{nil, nil}
	for i, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"} {
		if v := rec.Header().Get(name); v != "" {
			ans.CORS[i] = v
		}
	}
	if reason := a.Reason(); reason != "" {
		ans.Reason = &reason
	}
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	ans.Auth = clerkAuth{UserID: str(a.UserID), SessionID: str(a.SessionID), SessionStatus: str(a.SessionStatus),
		OrgID: str(a.OrgID), OrgRole: str(a.OrgRole), OrgSlug: str(a.OrgSlug), OrgPermissions: nonNil(a.OrgPermissions),
		FactorVerificationAge: a.FactorVerificationAge, TokenType: str(a.TokenType)}
	if a.Actor != nil { // the members the token holds, as Clerk copies act
		act := map[string]string{}
		for k, v := range map[string]string{"sub": a.Actor.Subject, "iss": a.Actor.Issuer, "sid": a.Actor.SessionID} {
			if v != "" {
				act[k] = v
			}
		}
		ans.Auth.Actor, _ = json.Marshal(act)
	}
	if a.Machine != nil {
		ans.Auth.Subject = str(a.Machine.Subject)
		ans.Auth.Machine = machineFields(a)
	}
	for _, q := range c.Has {
		ch := clerkauth.Check{Role: q.Role, Permission: q.Permission, Feature: q.Feature, Plan: q.Plan}
		switch r := q.Reverification.(type) {
		case string:
			ch.Reverification = clerkauth.Reverify(r)
		case revQ:
			ch.Reverification = clerkauth.Reverification{Level: r.Level, AfterMinutes: r.AfterMinutes}
		}
		ans.Has = append(ans.Has, a.Has(ch))
	}
	return ans
}

// compare lists the differences between Clerk's answer and ours, one line
// each: "<case id> <field>: clerk=<v> ours=<v>".
func compare(c tcase, cl, ours answer) []string {
	var d []string
	add := func(field string, a, b any) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			d = append(d, fmt.Sprintf("%s %s: clerk=%s ours=%s", c.ID, field, ja, jb))
		}
	}
	if c.PageLoad {
		add("status", cl.Status, ours.Status)
		add("location", parseLocation(cl.Location), parseLocation(ours.Location))
		add("set-cookie", nonNil(cl.SetCookie), nonNil(ours.SetCookie))
		add("cache-control", cl.CacheControl, ours.CacheControl)
		if cl.CORS == nil { // Clerk threw: no state, no headers
			cl.CORS = []any{nil, nil}
		}
		add("cors", cl.CORS, ours.CORS)
		if cl.Status != "signed-in" || ours.Status != "signed-in" {
			cr, or := "", ""
			if cl.Reason != nil {
				cr = *cl.Reason
			}
			if ours.Reason != nil {
				or = *ours.Reason
			}
			add("reason", cr, or)
		}
	}
	if cl.SignedIn != ours.SignedIn {
		add("verdict", cl.SignedIn, ours.SignedIn)
		return d
	}
	if !cl.SignedIn {
		cr, or := "", ""
		if cl.Reason != nil {
			cr = *cl.Reason
		}
		if ours.Reason != nil {
			or = *ours.Reason
		}
		add("reason", cr, or)
		add("sessionStatus", deref(cl.Auth.SessionStatus), deref(ours.Auth.SessionStatus))
		return d
	}
	a, b := cl.Auth, ours.Auth
	add("tokenType", deref(a.TokenType), deref(b.TokenType))
	if deref(a.TokenType) == any(clerkauth.TokenTypeSession) {
		add("userId", deref(a.UserID), deref(b.UserID))
		add("sessionId", deref(a.SessionID), deref(b.SessionID))
		add("sessionStatus", deref(a.SessionStatus), deref(b.SessionStatus))
		add("orgId", deref(a.OrgID), deref(b.OrgID))
		add("orgRole", deref(a.OrgRole), deref(b.OrgRole))
		add("orgSlug", deref(a.OrgSlug), deref(b.OrgSlug))
		add("orgPermissions", emptyNil(a.OrgPermissions), emptyNil(b.OrgPermissions))
		add("factorVerificationAge", a.FactorVerificationAge, b.FactorVerificationAge)
		add("actor", actorOf(a.Actor), actorOf(b.Actor))
	} else {
		add("subject", deref(a.Subject), deref(b.Subject))
		keys := map[string]bool{}
		for k := range a.Machine {
			keys[k] = true
		}
		for k := range b.Machine {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			cv, ov := a.Machine[k], b.Machine[k]
			if k == "scopes" {
				cv, ov = emptyNil(cv), emptyNil(ov)
			} else {
				cv, ov = deref(cv), deref(ov)
			}
			add("machine."+k, cv, ov)
		}
	}
	for i := range c.Has {
		var cv, ov any
		if i < len(cl.Has) {
			cv = cl.Has[i]
		}
		if i < len(ours.Has) {
			ov = ours.Has[i]
		}
		qj, _ := json.Marshal(c.Has[i])
		add("has"+string(qj), cv, ov)
	}
	return d
}

// machineFields are the members of a's machine token that Clerk's auth
// object of its type has (authObjects.ts authenticatedMachineObject), read
// from clerkauth's Auth: an API key's userId and orgId by the subject's
// prefix, an M2M token's machineId and an OAuth token's userId from the
// subject.
func machineFields(a *clerkauth.Auth) map[string]any {
	m := a.Machine
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var claims any
	if len(m.Claims) > 0 {
		if err := json.Unmarshal(m.Claims, &claims); err != nil {
			claims = "invalid JSON: " + string(m.Claims)
		}
	}
	var scopes any
	if m.Scopes != nil {
		scopes = m.Scopes
	}
	f := map[string]any{"id": str(m.ID), "subject": str(m.Subject), "scopes": scopes}
	switch a.TokenType {
	case clerkauth.TokenTypeAPIKey:
		f["name"], f["claims"], f["userId"], f["orgId"] = str(m.Name), claims, str(a.UserID), str(a.OrgID)
	case clerkauth.TokenTypeM2M:
		f["claims"], f["machineId"] = claims, str(m.MachineID)
	case clerkauth.TokenTypeOAuth:
		f["userId"], f["clientId"] = str(a.UserID), str(m.ClientID)
	}
	return f
}

// parseLocation is a Location header as its parts: scheme, host, path,
// and every query parameter (sorted, repeated ones kept), the
// redirect_url and __clerk_redirect_url parameters themselves parsed the
// same way; nil when there is none.
func parseLocation(loc *string) any {
	if loc == nil {
		return nil
	}
	u, err := url.Parse(*loc)
	if err != nil {
		return "unparsable: " + *loc
	}
	params := map[string]any{}
	for k, vs := range u.Query() {
		var out []any
		for _, v := range vs {
			if k == "redirect_url" || k == "__clerk_redirect_url" {
				out = append(out, parseLocation(&v))
			} else {
				out = append(out, v)
			}
		}
		params[k] = out
	}
	return map[string]any{"scheme": u.Scheme, "host": u.Host, "path": u.EscapedPath(), "query": params, "fragment": u.Fragment,
		"user": u.User.String()}
}

// deref treats null and "" alike (clerkauth has no null strings).
func deref(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// emptyNil treats an absent list and an empty one alike.
func emptyNil(v any) any {
	switch x := v.(type) {
	case []string:
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// actorOf keeps the actor members clerkauth exposes (sub, iss, sid).
func actorOf(raw json.RawMessage) map[string]any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil
	}
	out := map[string]any{}
	for _, k := range []string{"sub", "iss", "sid"} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// sign signs a JWT with a raw JSON header and payload, so that odd JSON
// reaches both verifiers byte for byte.
func sign(key *rsa.PrivateKey, header, payload string) string {
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	h := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
