package clerktest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/instance"
)

// The Frontend API: what clerk-js and the browser talk to. The server
// plays it on its own origin (URL), so that a real browser can sign in and
// go through Clerk's handshake offline:
//
//	GET  /sign-in?redirect_url=...      a minimal hosted sign-in page: the registered users
//	POST /sign-in                       signs the chosen user in, then the handshake below
//	POST /sign-out?redirect_url=...     signs the client out, then the handshake below
//	GET  /v1/client/handshake?...       Clerk's handshake: reads the server's own __client
//	                                    cookie (or the dev-browser token), mints a session
//	                                    token and sends the browser back to redirect_url
//	                                    with __clerk_handshake_nonce (format=nonce) or a
//	                                    signed __clerk_handshake token (format=token)
//
// and the Backend API endpoints the middleware calls for page loads:
//
//	GET  /v1/clients/handshake_payload?nonce=...  {"directives": [Set-Cookie strings]}
//	POST /v1/sessions/{sid}/refresh               {"object": "cookies", "cookies": [...]}

// fapiClient is a browser's client on the Frontend API: signed in to one
// session, or signed out.
type fapiClient struct {
	id      string
	sid     string    // "" when signed out
	uat     time.Time // last sign-in or sign-out
	refresh string    // the session's refresh token
}

// cookieClient is the Frontend API's own cookie (on its origin).
const cookieClient = "__client"

func (s *Server) fapiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sign-in", s.serveSignInPage)
	mux.HandleFunc("POST /sign-in", s.serveSignIn)
	mux.HandleFunc("POST /sign-out", s.serveSignOut)
	mux.HandleFunc("GET /v1/client/handshake", s.serveHandshake)
	mux.HandleFunc("GET /v1/clients/handshake_payload", s.backend(s.serveHandshakePayload))
	mux.HandleFunc("POST /v1/sessions/{sid}/refresh", s.backend(s.serveRefresh))
}

// SignInURL returns the hosted sign-in page, which lists the users added
// with [Server.AddUser]; choosing one signs the browser in and sends it
// back to the page's redirect_url query parameter through the handshake.
func (s *Server) SignInURL() string { return s.URL + "/sign-in" }

// SignIn signs in a browser's client without the sign-in page and returns
// the Frontend API cookie to send to /v1/client/handshake (a test that
// drives the handshake with an http.Client and a cookie jar can set it on
// URL). The session token lifetime is the server's (see
// [WithSessionTokenLifetime]).
func (s *Server) SignIn(userID string) *http.Cookie {
	cl := s.signIn(nil, userID)
	return &http.Cookie{Name: cookieClient, Value: cl.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// signIn signs cl (a new client when nil) in to a new session of userID.
func (s *Server) signIn(cl *fapiClient, userID string) *fapiClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl == nil {
		cl = &fapiClient{id: newID("client")}
		s.clients[cl.id] = cl
	}
	cl.sid = newID("sess")
	cl.uat = time.Now()
	cl.refresh = "rt_" + rand.Text()
	s.sessions[cl.sid] = session{userID: userID}
	return cl
}

// client finds the browser's client: the __client cookie, else the
// dev-browser token; nil when neither is known.
func (s *Server) client(r *http.Request, devBrowser string) *fapiClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(cookieClient); err == nil {
		if cl := s.clients[c.Value]; cl != nil {
			return cl
		}
	}
	if devBrowser != "" {
		return s.clients[s.devBrowsers[devBrowser]]
	}
	return nil
}

// redirectTarget validates a redirect_url: an absolute http(s) URL.
func redirectTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("redirect_url must be an absolute http(s) URL")
	}
	return u, nil
}

var signInPage = template.Must(template.New("sign-in").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in (clerktest)</title></head>
<body>
<h1>Sign in</h1>
<p>clerktest plays the Clerk instance: choose a user.</p>
{{range .Users}}<form method="post" action="/sign-in">
<input type="hidden" name="redirect_url" value="{{$.Redirect}}">
<input type="hidden" name="user_id" value="{{.ID}}">
<button type="submit" id="{{.ID}}">{{.Name}} ({{.ID}})</button>
</form>
{{else}}<p>No users: add some with Server.AddUser.</p>{{end}}
</body></html>
`))

func (s *Server) serveSignInPage(w http.ResponseWriter, r *http.Request) {
	redirect := r.URL.Query().Get("redirect_url")
	if redirect != "" {
		if _, err := redirectTarget(redirect); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	type entry struct{ ID, Name string }
	var users []entry
	s.mu.Lock()
	for id, u := range s.users {
		name := strings.TrimSpace(u.FirstName + " " + u.LastName)
		if name == "" {
			name = cmpOr(u.Username, id)
		}
		users = append(users, entry{id, name})
	}
	s.mu.Unlock()
	slices.SortFunc(users, func(a, b entry) int { return strings.Compare(a.ID, b.ID) })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = signInPage.Execute(w, struct {
		Users    []entry
		Redirect string
	}{users, redirect})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	userID, redirect := r.PostForm.Get("user_id"), r.PostForm.Get("redirect_url")
	s.mu.Lock()
	_, known := s.users[userID]
	s.mu.Unlock()
	if !known {
		http.Error(w, "unknown user", http.StatusBadRequest)
		return
	}
	if _, err := redirectTarget(redirect); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cl := s.signIn(s.client(r, ""), userID)
	http.SetCookie(w, &http.Cookie{Name: cookieClient, Value: cl.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.toHandshake(w, r, redirect)
}

func (s *Server) serveSignOut(w http.ResponseWriter, r *http.Request) {
	redirect := r.URL.Query().Get("redirect_url")
	if _, err := redirectTarget(redirect); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if cl := s.client(r, ""); cl != nil {
		s.mu.Lock()
		cl.sid, cl.refresh, cl.uat = "", "", time.Now()
		s.mu.Unlock()
	}
	s.toHandshake(w, r, redirect)
}

// toHandshake sends the browser through the handshake, which sets the
// application's cookies on its own origin.
func (s *Server) toHandshake(w http.ResponseWriter, r *http.Request, redirect string) {
	q := url.Values{"redirect_url": {redirect}, "format": {"nonce"}}
	http.Redirect(w, r, "/v1/client/handshake?"+q.Encode(), http.StatusSeeOther)
}

// serveHandshake is Clerk's GET /v1/client/handshake.
func (s *Server) serveHandshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target, err := redirectTarget(q.Get("redirect_url"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "form_param_value_invalid", "redirect_url is invalid", err.Error())
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "token"
	}
	if format != "nonce" && format != "token" {
		writeError(w, http.StatusBadRequest, "form_param_value_invalid", "format is invalid", "format must be nonce or token")
		return
	}
	devBrowser := q.Get("__clerk_db_jwt")
	if s.production {
		devBrowser = ""
	}
	cl := s.client(r, devBrowser)
	s.mu.Lock()
	if cl == nil {
		cl = &fapiClient{id: newID("client")}
		s.clients[cl.id] = cl
	}
	if !s.production {
		if devBrowser == "" || s.devBrowsers[devBrowser] != cl.id && s.devBrowsers[devBrowser] != "" {
			devBrowser = "dvb_" + rand.Text()
		}
		s.devBrowsers[devBrowser] = cl.id
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieClient, Value: cl.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})

	azp := target.Scheme + "://" + target.Host
	directives := s.directives(cl, devBrowser, azp)
	back := target.Query()
	if format == "nonce" {
		nonce := "nonce_" + rand.Text()
		s.mu.Lock()
		s.nonces[nonce] = directives
		s.mu.Unlock()
		back.Set("__clerk_handshake_nonce", nonce)
	} else {
		claims := map[string]any{"handshake": directives, "iat": time.Now().Unix()}
		back.Set("__clerk_handshake", s.Sign(map[string]any{"alg": "RS256", "kid": s.KeyID(), "typ": "JWT"}, claims))
	}
	target.RawQuery = back.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target.String(), http.StatusTemporaryRedirect)
}

// directives are the Set-Cookie strings the handshake gives the
// application: __session, __client_uat and the dev-browser cookie, each
// also with the instance's suffix, and __refresh_<sfx> when refresh
// cookies are on; a signed-out client gets them cleared.
func (s *Server) directives(cl *fapiClient, devBrowser, azp string) []string {
	sfx := "_" + instance.CookieSuffix(s.publishableKey)
	s.mu.Lock()
	sid, uat, refresh := cl.sid, cl.uat, cl.refresh
	s.mu.Unlock()
	const attrs = "; Path=/; SameSite=Lax"
	var d []string
	add := func(name, value, extra string) {
		d = append(d, name+"="+value+attrs+extra, name+sfx+"="+value+attrs+extra)
	}
	if sid == "" {
		add(cookieSession, "", "; Max-Age=0")
		add(cookieClientUAT, "0", "; Max-Age=31536000")
	} else {
		tok := s.mintSessionToken(sid, azp)
		add(cookieSession, tok, "")
		add(cookieClientUAT, strconv.FormatInt(uat.Unix(), 10), "; Max-Age=31536000")
		if s.refreshCookies {
			d = append(d, "__refresh"+sfx+"="+refresh+attrs+"; HttpOnly")
		}
	}
	if devBrowser != "" {
		add(cookieDevBrowser, devBrowser, "; Max-Age=31536000")
	}
	return d
}

// mintSessionToken mints a fresh session token of sid, for azp, with the
// server's token lifetime.
func (s *Server) mintSessionToken(sid, azp string) string {
	s.mu.Lock()
	sess := s.sessions[sid]
	lifetime := s.lifetime
	s.mu.Unlock()
	if sess.token == "" {
		return s.SessionToken(sess.userID, WithSessionID(sid), WithAzp(azp), WithLifetime(lifetime))
	}
	secs := int64(lifetime / time.Second)
	tok := s.refreshSessionToken(sess.token, &secs)
	claims := tokenClaims(tok)
	claims["azp"] = azp
	tok = s.Sign(s.header(CategorySession), claims)
	s.rememberSession(sid, sess.userID, tok)
	return tok
}

// serveHandshakePayload is Clerk's GET /v1/clients/handshake_payload.
func (s *Server) serveHandshakePayload(w http.ResponseWriter, r *http.Request) {
	nonce := r.URL.Query().Get("nonce")
	s.mu.Lock()
	directives, ok := s.nonces[nonce]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "resource_not_found", "not found", "No handshake payload for this nonce.")
		return
	}
	b, _ := json.Marshal(map[string]any{"directives": directives})
	writeJSON(w, http.StatusOK, b)
}

// serveRefresh is Clerk's POST /v1/sessions/{sid}/refresh with format
// cookie: the expired session token and the refresh token of a live
// session give new session cookies.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("sid")
	var body struct {
		Format        string `json:"format"`
		ExpiredToken  string `json:"expired_token"`
		RefreshToken  string `json:"refresh_token"`
		RequestOrigin string `json:"request_origin"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "form_param_format_invalid", "is invalid", "The request body is not valid JSON.")
		return
	}
	var cl *fapiClient
	s.mu.Lock()
	for _, c := range s.clients {
		if c.sid == sid && c.refresh != "" && c.refresh == body.RefreshToken {
			cl = c
		}
	}
	s.mu.Unlock()
	claims := tokenClaims(body.ExpiredToken)
	if cl == nil || claims["sid"] != sid {
		writeError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request",
			"The refresh token or the expired session token does not belong to an active session.")
		return
	}
	azp := body.RequestOrigin
	if azp == "" {
		azp = DefaultAuthorizedParty
	}
	tok := s.mintSessionToken(sid, azp)
	sfx := "_" + instance.CookieSuffix(s.publishableKey)
	uat := strconv.FormatInt(cl.uat.Unix(), 10)
	cookies := []string{
		cookieSession + "=" + tok + "; Path=/; SameSite=Lax",
		cookieSession + sfx + "=" + tok + "; Path=/; SameSite=Lax",
		cookieClientUAT + "=" + uat + "; Path=/; Max-Age=31536000; SameSite=Lax",
		cookieClientUAT + sfx + "=" + uat + "; Path=/; Max-Age=31536000; SameSite=Lax",
	}
	b, _ := json.Marshal(map[string]any{"object": "cookies", "cookies": cookies})
	writeJSON(w, http.StatusOK, b)
}

// RefreshCookie returns the __refresh_<sfx> cookie clerk-js's handshake
// leaves in a browser signed in to the session of sessionToken (a token
// this server minted), so that a test can send an expired token with it
// and see the middleware refresh the session through POST
// /v1/sessions/{sid}/refresh. The session gets a Frontend API client if it
// had none.
func (s *Server) RefreshCookie(sessionToken string) *http.Cookie {
	sid, _ := tokenClaims(sessionToken)["sid"].(string)
	sub, _ := tokenClaims(sessionToken)["sub"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	var cl *fapiClient
	for _, c := range s.clients {
		if c.sid == sid {
			cl = c
		}
	}
	if cl == nil {
		cl = &fapiClient{id: newID("client"), sid: sid, uat: time.Now(), refresh: "rt_" + rand.Text()}
		s.clients[cl.id] = cl
		if _, ok := s.sessions[sid]; !ok {
			s.sessions[sid] = session{userID: sub}
		}
	}
	return &http.Cookie{Name: "__refresh_" + instance.CookieSuffix(s.publishableKey), Value: cl.refresh}
}
