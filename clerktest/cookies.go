package clerktest

import (
	"net/http"

	"github.com/clerkauth/clerkauth/internal/instance"
)

// Names of the cookies clerk-js sets in a browser.
const (
	cookieSession    = "__session"
	cookieClientUAT  = "__client_uat"
	cookieDevBrowser = "__clerk_db_jwt"
)

// SessionCookies returns the cookies a browser signed in to this
// development (pk_test) instance sends to a same-origin backend for token,
// as clerk-js writes them: __session and __client_uat (set to the token's
// iat, the client's last sign-in), the same pair suffixed with the
// instance's cookie suffix (__session_<sfx>, __client_uat_<sfx>, where
// <sfx> is derived from [Server.PublishableKey] as Clerk does), and the
// dev-browser cookies __clerk_db_jwt and __clerk_db_jwt_<sfx>, whose
// absence makes Clerk's own SDK sign a cookie request to a development
// instance out (a production instance, see [WithProductionInstance], has
// none). Add them to a request with AddCookie.
//
// The package-level [SessionCookies] sends only the unsuffixed pair, as
// an older clerk-js did.
func (s *Server) SessionCookies(token string) []*http.Cookie {
	base := SessionCookies(token) // __session, __client_uat
	sfx := "_" + instance.CookieSuffix(s.publishableKey)
	uat := base[1].Value
	cookies := []*http.Cookie{
		{Name: cookieSession, Value: token},
		{Name: cookieSession + sfx, Value: token},
		{Name: cookieClientUAT, Value: uat},
		{Name: cookieClientUAT + sfx, Value: uat},
	}
	if s.production { // no development browser (WithProductionInstance)
		return cookies
	}
	return append(cookies,
		&http.Cookie{Name: cookieDevBrowser, Value: s.devBrowser},
		&http.Cookie{Name: cookieDevBrowser + sfx, Value: s.devBrowser})
}
