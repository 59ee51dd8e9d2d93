package clerkauth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The recognizable secrets of TestSecretsNeverLeak.
const (
	leakSecret = "sk_test_SECRETMARKER0123456789abcdef"
	leakMarker = "SECRETMARKER"
	leakUser   = "user_TOKENMARKER"
)

// hLockedBuffer is a bytes.Buffer safe for the concurrent writes of slog.
type hLockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *hLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *hLockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hLeakChecker collects every text the library produced and checks that
// none holds the secret key or a token.
type hLeakChecker struct {
	t       *testing.T
	secrets []string // the secret key and its marker; tokens are added
}

func (lc *hLeakChecker) addToken(tok string) {
	lc.secrets = append(lc.secrets, tok)
	// Each segment long enough to be recognizable is a secret too: a
	// signature or a payload alone is as bad as the whole token.
	for _, seg := range strings.Split(tok, ".") {
		if len(seg) >= 24 {
			lc.secrets = append(lc.secrets, seg)
		}
	}
}

func (lc *hLeakChecker) check(where, text string) {
	lc.t.Helper()
	for _, s := range lc.secrets {
		if s != "" && strings.Contains(text, s) {
			lc.t.Errorf("%s contains a secret (%d-byte string starting %.12q)", where, len(s), s)
		}
	}
}

// checkRequest runs r through Authenticate and RequireAuth and checks the
// error string and the whole response.
func (lc *hLeakChecker) checkRequest(name string, m *Middleware, r *http.Request) {
	lc.t.Helper()
	_, err := m.Authenticate(r)
	if err == nil {
		lc.t.Errorf("%s: accepted", name)
		return
	}
	lc.check(name+": error", err.Error())
	lc.check(name+": error %+v", fmt.Sprintf("%+v %#v", err, err))
	rec := httptest.NewRecorder()
	m.RequireAuth(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		lc.t.Errorf("%s: handler ran", name)
	})).ServeHTTP(rec, r)
	var hdr strings.Builder
	rec.Header().Write(&hdr)
	lc.check(name+": response headers", hdr.String())
	lc.check(name+": response body", rec.Body.String())
}

// TestSecretsNeverLeak runs every failure path with a recognizable secret
// key and token and checks that neither appears in an error string, a log
// line (slog at Debug level) or a response.
func TestSecretsNeverLeak(t *testing.T) {
	logs := &hLockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	lc := &hLeakChecker{t: t, secrets: []string{leakSecret, leakMarker}}
	good := hkeyN(0, "ins_good")
	now := time.Now()
	user := `"sub":"` + leakUser + `"`
	tok := func(k hkey, alg, header, payload string) string {
		s := hSignRaw(t, k, alg, []byte(header), []byte(payload), nil)
		lc.addToken(s)
		return s
	}
	payload := func(extra string) string {
		return fmt.Sprintf(`{%s,"exp":%d,"iat":%d%s}`, user, now.Unix()+60, now.Unix()-1, extra)
	}
	validTok := tok(good, "RS256", string(hStdHeader(good.kid)), payload(""))
	withTok := func(tk string) *http.Request { return hBearer(tk) }

	t.Run("key server failures", func(t *testing.T) {
		lc.t = t
		echo := func(status int) http.HandlerFunc {
			// A hostile or broken server echoing the credentials back.
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Echo", r.Header.Get("Authorization"))
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"errors":[{"code":"clerk_key_invalid","message":"bad key %s"}]}`, r.Header.Get("Authorization"))
			}
		}
		noAuth := hNewJWKSServer(t, nil)
		noAuth.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				t.Error("the secret key was sent to another host after a redirect")
			}
			w.Write([]byte(`{"keys":[]}`))
		})
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(noAuth.URL, "http://"))
		refused, _ := net.Listen("tcp", "127.0.0.1:0")
		refusedURL := "http://" + refused.Addr().String()
		refused.Close()
		cases := []struct {
			name    string
			handler http.HandlerFunc
			url     string
		}{
			{"401 echoing the key", echo(401), ""},
			{"500 echoing the key", echo(500), ""},
			{"200 invalid JSON echoing the key", echo(200), ""},
			{"hang past the timeout", func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
			}, ""},
			{"redirect to another host", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://localhost:"+port+"/v1/jwks?from="+r.Header.Get("Authorization")[:0], http.StatusFound)
			}, ""},
			{"connection refused", nil, refusedURL},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				lc.t = t
				url := tc.url
				if url == "" {
					srv := hNewJWKSServer(t, nil)
					srv.setHandler(tc.handler)
					url = srv.URL
				}
				m := hNewTestMW(t, Options{
					SecretKey: leakSecret, APIURL: url, Logger: logger,
					KeyWaitTimeout: 300 * time.Millisecond, JWKSCooldown: 20 * time.Millisecond,
					HTTPClient: &http.Client{Timeout: 200 * time.Millisecond},
				})
				lc.checkRequest("valid token", m, withTok(validTok))
				time.Sleep(30 * time.Millisecond)
				lc.checkRequest("valid token again", m, withTok(validTok))
				m.Close()
			})
		}
	})

	t.Run("token failures", func(t *testing.T) {
		lc.t = t
		jwks := hNewJWKSServer(t, hJwksOf(good))
		m := hNewTestMW(t, Options{
			SecretKey: leakSecret, APIURL: jwks.URL, Logger: logger,
			Issuer: "https://clerk.example.com", AuthorizedParties: []string{"https://app.example.com"},
			KeyWaitTimeout: time.Second, JWKSCooldown: 20 * time.Millisecond,
		})
		h := string(hStdHeader(good.kid))
		iss := `,"iss":"https://clerk.example.com"`
		azp := `,"azp":"https://app.example.com"`
		forger := hkeyN(1, good.kid)
		gh, gp, gs := hSegments(tok(good, "RS256", h, payload(iss+azp)))
		bad := map[string]string{
			"expired":        tok(good, "RS256", h, fmt.Sprintf(`{%s,"exp":%d%s%s}`, user, now.Unix()-60, iss, azp)),
			"forged":         tok(forger, "RS256", h, payload(iss+azp)),
			"alg none":       tok(good, "RS256", `{"alg":"none","kid":"ins_good"}`, payload(iss+azp)),
			"HS256":          tok(good, "HS256", `{"alg":"HS256","kid":"ins_good"}`, payload(iss+azp)),
			"unknown kid":    tok(forger, "RS256", `{"alg":"RS256","kid":"ins_`+leakMarker+`"}`, payload(iss+azp)),
			"kid is a token": tok(forger, "RS256", `{"alg":"RS256","kid":"`+validTok[:200]+`"}`, payload(iss+azp)),
			"no azp":         tok(good, "RS256", h, payload(iss)),
			"wrong iss":      tok(good, "RS256", h, payload(azp+`,"iss":"https://`+leakMarker+`.evil.com"`)),
			"pending":        tok(good, "RS256", h, payload(iss+azp+`,"sts":"pending"`)),
			"not yet valid":  tok(good, "RS256", h, payload(iss+azp+fmt.Sprintf(`,"nbf":%d`, now.Unix()+600))),
			"machine":        tok(good, "RS256", h, strings.Replace(payload(iss+azp), leakUser, "mch_"+leakMarker, 1)),
			"duplicate exp":  tok(good, "RS256", h, payload(iss+azp+`,"exp":1`)),
			"bad payload":    tok(good, "RS256", h, `["`+leakMarker+`"]`),
			"tampered":       gh + "." + hB64.EncodeToString([]byte(payload(`,"admin":true`))) + "." + gs,
			"bit flipped":    gh + "." + gp + "." + hFlipBit(gs, 9),
			"four segments":  gh + "." + gp + "." + gs + "." + gs,
			"whitespace":     gh + "." + gp + " " + gs,
			"huge":           gh + "." + strings.Repeat(gp, 30) + "." + gs,
		}
		for name, tk := range bad {
			lc.addToken(tk)
			lc.checkRequest(name, m, withTok(tk))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Cookie", "__session="+tk+"; __client_uat=1")
			lc.checkRequest(name+" in cookie", m, r)
			_, err := m.AuthenticateToken(t.Context(), tk)
			if err == nil {
				t.Errorf("%s: accepted", name)
				continue
			}
			lc.check(name+": AuthenticateToken error", err.Error())
		}
		cookieOnly := httptest.NewRequest(http.MethodGet, "/", nil)
		cookieOnly.Header.Set("Cookie", "__session="+validTok+"; __client_uat=0")
		lc.checkRequest("uat 0", m, cookieOnly)
		later := httptest.NewRequest(http.MethodGet, "/", nil)
		later.Header.Set("Cookie", fmt.Sprintf("__session=%s; __client_uat=%d", validTok, now.Unix()+1))
		lc.checkRequest("iat before uat", m, later)
		two := httptest.NewRequest(http.MethodGet, "/", nil)
		two.Header.Add("Authorization", "Bearer "+validTok)
		two.Header.Add("Authorization", "Bearer "+validTok)
		lc.checkRequest("two Authorization headers", m, two)
	})

	t.Run("configuration errors", func(t *testing.T) {
		lc.t = t
		bad := []Options{
			{SecretKey: "sk_bad_" + leakMarker},
			{SecretKey: leakMarker},
			{SecretKey: leakSecret, APIURL: "http://api.example.com"},
			{SecretKey: leakSecret, APIURL: "https://user:" + leakSecret + "@api.example.com"},
			{SecretKey: leakSecret, APIURL: "https://api.example.com/?key=" + leakSecret},
			{SecretKey: leakSecret, JWKSURL: "https://clerk.example.com/.well-known/jwks.json?secret=" + leakSecret},
			{SecretKey: leakSecret, JWKSURL: "https://x:" + leakSecret + "@clerk.example.com/jwks"},
			{SecretKey: leakSecret, APIURL: "%zz" + leakSecret},
			{SecretKey: leakSecret, PublishableKey: "pk_test_" + leakMarker + "!!"},
			{SecretKey: leakSecret, JWTKey: "MII" + leakMarker},
			{SecretKey: leakSecret, JWKSCooldown: -1},
		}
		for i, o := range bad {
			o.Logger = logger
			m, err := New(o)
			if err == nil {
				m.Close()
				t.Errorf("options #%d accepted", i)
				continue
			}
			lc.check(fmt.Sprintf("New error #%d", i), err.Error())
		}
	})

	lc.t = t
	if logs.String() == "" {
		t.Fatal("nothing was logged: the log check proves nothing")
	}
	for i, line := range strings.Split(logs.String(), "\n") {
		lc.check(fmt.Sprintf("log line %d", i+1), line)
	}
}

// TestAuthPrintsNoToken logs and prints a signed-in Auth every usual way
// and checks that its token never appears.
func TestAuthPrintsNoToken(t *testing.T) {
	k := hkeyN(0, "ins_good")
	now := time.Now()
	m := hNewTestMW(t, Options{JWTKey: hPemOf(k), Now: hFixedClock(now)})
	tok := hGoodToken(t, k, now)
	a, err := m.AuthenticateToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	lc := &hLeakChecker{t: t}
	lc.addToken(tok)
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("request", "auth", a, "value", *a)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("request", "auth", a, "value", *a)
	for verb, out := range map[string]string{
		"%v": fmt.Sprintf("%v", a), "%+v": fmt.Sprintf("%+v", a), "%#v": fmt.Sprintf("%#v", a),
		"%v value": fmt.Sprintf("%v", *a), "%+v value": fmt.Sprintf("%+v", *a),
		"slog text": text.String(), "slog JSON": js.String(),
	} {
		lc.check(verb, out)
		if !strings.Contains(out, "user_123") {
			t.Errorf("%s: %q does not name the user", verb, out)
		}
	}
}

// TestAPIErrorRedactsKeysAndToken: a Backend API that echoes the secret
// key and the token being verified in its error answer, raw, JSON-escaped
// (\u and \/ forms), percent-encoded (upper or lower case, or every byte),
// base64 (standard or URL alphabet, padded or not), hex (either case),
// HTML numeric entities (decimal or hex), or base64 of the whole request
// body, in every field of Clerk's error JSON or in a plain body, yields an
// error whose text and fields (%+v, %#v) hold neither.
func TestAPIErrorRedactsKeysAndToken(t *testing.T) {
	const secret = "sk_test_ECHOSECRET/abc+def=="
	tok := "ak_ECHOTOKEN/0123456789+abcdef=="
	each := func(v, format string) string {
		out := ""
		for _, r := range v {
			out += fmt.Sprintf(format, r)
		}
		return out
	}
	lowerPct := func(p string) string {
		return regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(p, strings.ToLower)
	}
	forms := func(v string) []string {
		b := []byte(v)
		return []string{v, strings.NewReplacer("/", `\/`).Replace(v), each(v, `\u%04x`),
			url.QueryEscape(v), lowerPct(url.QueryEscape(v)), lowerPct(url.PathEscape(v)), each(v, "%%%02x"), each(v, "%%%02X"),
			base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
			base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
			hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			each(v, "&#%d;"), each(v, "&#x%x;"), each(v, "&#x%X;"), each(v, "&#X%X;"), each(v, "&#x%04x;"), each(v, "&#%05d;"),
		}
	}
	// The token's form stands for the whole request body in these: base64
	// of the JSON the client sent.
	body64 := []byte(`{"secret":"` + tok + `"}`)
	bodyForms := []string{base64.StdEncoding.EncodeToString(body64), base64.RawStdEncoding.EncodeToString(body64),
		base64.URLEncoding.EncodeToString(body64), base64.RawURLEncoding.EncodeToString(body64)}
	for i, body := range []func(v string) string{
		func(v string) string {
			return `{"errors":[{"code":"c` + v + `","message":"m ` + v + `","long_message":"l ` + v + `","meta":{"x":"` + v + `"}}],"clerk_trace_id":"` + v + `"}`
		},
		func(v string) string { return "plain text echo " + v },
	} {
		for j, secretForm := range forms(secret) {
			tokForm := forms(tok)[j] + " " + bodyForms[j%len(bodyForms)]
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Clerk-Trace-Id", secretForm)
				w.WriteHeader(http.StatusUnprocessableEntity)
				io.WriteString(w, body(secretForm)+" "+body(tokForm))
			}))
			c := newClient(&config{secretKey: secret, apiURL: srv.URL, apiVersion: "v", httpClient: srv.Client(), now: time.Now})
			err := c.doAs(t.Context(), credSecret, http.MethodPost, "/api_keys/verify", map[string]string{"secret": tok}, nil)
			srv.Close()
			if err == nil {
				t.Fatal("no error")
			}
			for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, s := range append(append(forms(secret), forms(tok)...), bodyForms...) {
					if strings.Contains(out, s) {
						t.Errorf("body %d, form %d: error shows %q: %s", i, j, s, out)
					}
				}
			}
		}
	}
}
