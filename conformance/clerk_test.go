package conformance

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// hasQ is one has() question, in Clerk's parameter shape.
type hasQ struct {
	Role           string `json:"role,omitempty"`
	Permission     string `json:"permission,omitempty"`
	Feature        string `json:"feature,omitempty"`
	Plan           string `json:"plan,omitempty"`
	Reverification string `json:"reverification,omitempty"`
}

// tcase is one request, as both sides read it.
type tcase struct {
	ID                string   `json:"id"`
	PK                string   `json:"pk"`
	NowMs             int64    `json:"nowMs"`
	Authorization     *string  `json:"authorization,omitempty"`
	Cookie            string   `json:"cookie,omitempty"`
	AuthorizedParties []string `json:"authorizedParties,omitempty"`
	Accepts           string   `json:"accepts,omitempty"`
	Has               []hasQ   `json:"has,omitempty"`
}

// answer is one side's decision, normalized for comparison.
type answer struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Reason   *string   `json:"reason"`
	SignedIn bool      `json:"signedIn"`
	Auth     clerkAuth `json:"auth"`
	Has      []any     `json:"has"`
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
	{"D1-expired-reason", regexp.MustCompile(`^((hdr|cookie)/v[12]/(time/exp-\d+|exp/(zero|num|neg|float))` + azp +
		`|cookie/(live|test)/(s=exp|s=[a-z]+,u=[a-z0-9]+,ss=exp),[^ ]*|clerktest/(hdr|cookie)/expired)` +
		` reason: clerk="session-token-expired-refresh-[a-z-]+" ours="token-expired"$`)},
	{"D2-bearer-case", regexp.MustCompile(`^header/lower-bearer verdict: clerk=false ours=true$`)},
	{"D3-cookie-reason-order", regexp.MustCompile(`^cookie/((live|test)/s=exp,u=mid,[^ ]*|v[12]/iat/(empty|null|true)` + azp + `)` +
		` reason: clerk="session-token-iat-before-client-uat" ours="(token-expired|token-verification-failed)"$`)},
	{"D4-dev-browser", regexp.MustCompile(`^(cookie/test/[^ ]*,nodb|clerktest/cookie-nodb/[a-z-]+)` +
		` (verdict: clerk=false ours=true|reason: clerk="dev-browser-missing" ours="[a-z-]+"|sessionStatus: clerk="" ours="pending")$`)},
	{"D5-foreign-cookie", regexp.MustCompile(`^cookie/((live|test)/s=foreign,[^ ]*|v[12]/iss/[a-z]+` + azp + `)` +
		` reason: clerk="session-token-and-uat-missing" ours="(token-invalid-issuer|token-verification-failed|session-token-but-no-client-uat)"$`)},
	{"D6-issuer", regexp.MustCompile(src + `v[12]/iss/[a-z]+` + azp + signedOut)},
	// D7: stricter on input Clerk never mints.
	{"D7-never-minted", regexp.MustCompile(src + `(jwthdr/crit|v[12]/sub/empty|json/dup-(top|nested)|json/nesting(-arr)?-128|json/(exp|nbf|iat)-beyond-float64)` + azp + signedOut)},
	{"D7-never-minted", regexp.MustCompile(src + `(v[12]/(sid|azp)|v1/org_(id|role|slug)|v2/(sts|pla))/` + wrongScalar + azp + signedOut)},
	{"D7-never-minted", regexp.MustCompile(src + `(v2/o\.(id|rol|slg)/(num|obj)|v2/fea/zero|v[12]/act/[34]|v[12]/fva/(6|` + wrongList[1:] + `|v1/org_permissions/` + wrongList + `)` + azp + signedOut)},
	// Clerk throws (authenticateRequest: unexpected-error on the cookie
	// path; the header path's exception reaches the caller).
	{"D7-never-minted", regexp.MustCompile(src + `v2/(fea/(str|bigstr|num|neg|float|true|obj|arr)|fpm/5|o\.(per|fpm)/(num|obj))` + azp +
		` reason: clerk="(throws: [^"]+|unexpected-error)" ours="token-verification-failed"$`)},
	{"D8-pending", regexp.MustCompile(`^((hdr|cookie)/v[12]/sts/pending` + azp + `|clerktest/(hdr|cookie)/pending) reason: clerk="" ours="session-pending"$`)},
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

// TestDivergencesInDocs: every allowed divergence is a row of docs/behaviour.md's
// "Differences from Clerk" table.
func TestDivergencesInDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/behaviour.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Differences from Clerk")
	if !ok {
		t.Fatal(`docs/behaviour.md has no "## Differences from Clerk" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, d := range divergences {
		if !strings.Contains(sec, "| "+d.ID+" |") {
			t.Errorf("divergence %s is not a row of the Differences from Clerk table in docs/behaviour.md", d.ID)
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

	g := &gen{key: key}
	g.all(t)
	cases := g.cases

	in, _ := json.Marshal(map[string]any{"pem": pemKey, "cases": cases})
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
	used := make([]int, len(allowed))
	mws := map[string]*clerkauth.Middleware{}
	counts := map[string]int{}
	var unexplained, explained []string
	for _, c := range cases {
		ours := decide(t, mws, pemKey, c)
		diffs := compare(c, clerk[c.ID], ours)
		caseGroups := map[string]bool{}
		for _, d := range diffs {
			i := explain(d, allowed)
			if i < 0 {
				unexplained = append(unexplained, d)
				continue
			}
			used[i]++
			explained = append(explained, allowed[i].ID+" "+d)
			caseGroups[allowed[i].ID] = true
		}
		for g := range caseGroups {
			counts[g]++
		}
	}
	var groups []string
	for g, n := range counts {
		groups = append(groups, fmt.Sprintf("%s=%d", g, n))
	}
	sort.Strings(groups)
	t.Logf("CONFORMANCE: %d cases compared, %d unexplained differences; allowed (cases per group): %s",
		len(cases), len(unexplained), strings.Join(groups, " "))
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

// decide runs clerkauth on c through a real middleware's Handler.
func decide(t *testing.T, mws map[string]*clerkauth.Middleware, pemKey string, c tcase) answer {
	t.Helper()
	k := c.PK + "|" + strings.Join(c.AuthorizedParties, ",") + "|" + c.Accepts + "|" + fmt.Sprint(c.NowMs)
	m := mws[k]
	if m == nil {
		opts := clerkauth.Options{JWTKey: pemKey, PublishableKey: c.PK, AuthorizedParties: c.AuthorizedParties,
			Now: func() time.Time { return time.UnixMilli(c.NowMs) }, TokenCacheSize: -1}
		if c.Accepts == "any" {
			opts.AcceptsToken = []string{clerkauth.TokenTypeAny}
			opts.SecretKey = "sk_test_conformance"
			opts.APIURL = "http://127.0.0.1:1" // JWT machine tokens verify locally; nothing is fetched
		}
		var err error
		if m, err = clerkauth.New(opts); err != nil {
			t.Fatalf("%s: New: %v", c.ID, err)
		}
		t.Cleanup(func() { m.Close() })
		mws[k] = m
	}
	r := httptest.NewRequest("GET", "https://api.example.com/conformance", nil)
	if c.Authorization != nil {
		r.Header.Set("Authorization", *c.Authorization)
	}
	if c.Cookie != "" {
		r.Header.Set("Cookie", c.Cookie)
	}
	var a *clerkauth.Auth
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { a = clerkauth.GetAuth(r) })).
		ServeHTTP(httptest.NewRecorder(), r)
	ans := answer{ID: c.ID, SignedIn: a.IsSignedIn()}
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
	}
	for _, q := range c.Has {
		ch := clerkauth.Check{Role: q.Role, Permission: q.Permission, Feature: q.Feature, Plan: q.Plan}
		if q.Reverification != "" {
			ch.Reverification = clerkauth.Reverify(q.Reverification)
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
