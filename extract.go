package clerkauth

import (
	"net/http"
	"strings"

	"github.com/clerkauth/clerkauth/internal/claims"
	"github.com/clerkauth/clerkauth/internal/cookie"
	"github.com/clerkauth/clerkauth/internal/jsonobj"
	"github.com/clerkauth/clerkauth/internal/jws"
)

// Where a session token comes from, read as Clerk's authenticateRequest
// reads it (authenticateContext.ts): the Authorization header when it holds
// a token, else the __session cookie under the __client_uat rules, choosing
// between the suffixed and unsuffixed cookie pairs as usesSuffixedCookies
// does. The common requests (a bearer token; cookies with the suffixed and
// unsuffixed pairs equal, or only one pair) are decided without allocating.

// extract finds the session token: the Authorization header first (a
// header holding a token means cookies are not read), else the cookies.
// uat is 0 for a header token and positive for a cookie token.
func (c *core) extract(r *http.Request) (tok string, uat int64, err *AuthError) {
	if h := r.Header["Authorization"]; len(h) > 0 {
		if len(h) > 1 {
			return "", 0, errTwoAuthorization
		}
		if tok, ok := headerToken(h[0]); ok {
			if tok == "" {
				return "", 0, errBearerEmpty
			}
			return tok, 0, nil
		}
		// Another scheme (Basic ...) is not a token: Clerk reads the cookies.
	}
	return c.fromCookies(r.Header["Cookie"])
}

// headerToken reads an Authorization value as Clerk's
// parseAuthorizationHeader: split at single spaces, a value with no space is
// the token itself (a bare token), "Bearer <tok>" gives the second piece,
// any other scheme gives no token (ok false). One difference, kept on
// purpose: the scheme "bearer" is matched case-insensitively (RFC 7235).
// An empty second piece ("Bearer  x") makes the scheme word the token, as in
// Clerk, which is then reported as an empty bearer token.
func headerToken(v string) (tok string, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	scheme, rest, found := strings.Cut(v, " ")
	if !found {
		if strings.EqualFold(v, "bearer") {
			return "", true
		}
		return v, true // a bare token (Clerk's SEC-340 case)
	}
	tok, _, _ = strings.Cut(rest, " ")
	if tok == "" {
		if strings.EqualFold(scheme, "bearer") {
			return "", true
		}
		return scheme, true
	}
	if strings.EqualFold(scheme, "bearer") {
		return tok, true
	}
	return "", false
}

// fromCookies reads the session token and __client_uat from the cookies.
func (c *core) fromCookies(lines []string) (tok string, uat int64, err *AuthError) {
	sfx := c.cfg.cookieSuffix
	j := cookie.Read(lines, sfx)
	session, clientUAT := j.Session, j.UAT
	if sfx != "" && c.usesSuffixedCookies(&j, false) {
		session, clientUAT = j.SfxSession, j.SfxUAT
	}
	uat = cookie.ParseIntJS(clientUAT)
	switch {
	case session == "" && uat == 0:
		return "", 0, errNoToken
	case session == "":
		return "", 0, errUATButNoToken
	case uat == 0:
		return "", 0, errTokenButNoUAT
	case uat < 0:
		// Clerk counts any non-zero uat as a signed-in client; a negative
		// one is older than every real token.
		uat = 1
	}
	return session, uat, nil
}

// usesSuffixedCookies is Clerk's rule for choosing the instance's suffixed
// pair (__session_<sfx>, __client_uat_<sfx>) over the unsuffixed one,
// checked in Clerk's order. It decodes the unverified tokens' iss, iat and
// exp only when the two pairs disagree; clerk-js writes the same values to
// both, and then the choice does not matter.
//
// Unless exact, two shortcuts skip the decoding. One differs from Clerk
// in its reason only: an unsuffixed token from another instance with no
// suffixed cookies at all is verified (and fails on its issuer or
// signature) where Clerk reads the absent suffixed pair
// (session-token-and-uat-missing). The page-load flows, which report
// which pair was read (suffixed_cookies), ask for the exact answer.
func (c *core) usesSuffixedCookies(j *cookie.Jar, exact bool) bool {
	if !exact && j.SfxSession == "" && j.SfxUAT == "" {
		return false
	}
	if !exact && j.Session == j.SfxSession && j.UAT == j.SfxUAT {
		return false // the same pair either way
	}
	if exact && j.Session != "" {
		// The page-load flows ask on every request: take iss from the
		// verified-token cache, else read it without decoding the whole
		// token when it is a plain string.
		iss, hasIss, ok := "", false, false
		if c.cache != nil {
			if v := c.cache.Get(j.Session); v != nil {
				iss, ok = v.auth.Issuer, true
				hasIss = iss != ""
			}
		}
		if !ok {
			iss, hasIss, ok = fastIss(j.Session)
		}
		if ok {
			if !hasIss {
				return false
			}
			if !c.belongsToInstance(iss) {
				return true
			}
			if j.SfxSession == "" && j.SfxUAT == "" {
				return false
			}
			if j.Session == j.SfxSession && j.UAT == j.SfxUAT {
				// Clerk's remaining rules compare the two pairs: equal
				// pairs fail them all but the last two.
				return !(j.SfxUAT == "" && j.SfxSession != "")
			}
		}
	}
	un, sf := claims.DecodeUnverified(j.Session), claims.DecodeUnverified(j.SfxSession)
	if j.Session != "" {
		if !un.HasIss {
			return false // malformed: the unsuffixed pair signs it out
		}
		if !c.belongsToInstance(un.Iss) {
			return true
		}
	}
	if exact && j.SfxSession == "" && j.SfxUAT == "" {
		return false
	}
	if j.SfxUAT != "0" && j.UAT != "0" && un.Iat > sf.Iat {
		return false // an older clerk-js wrote only the unsuffixed pair
	}
	if j.SfxUAT == "0" && j.UAT != "0" {
		return false
	}
	if strings.HasPrefix(c.cfg.publishableKey, "pk_test_") && j.SfxUAT != "0" && j.UAT == "0" &&
		sf.HasExp && sf.Exp <= float64(c.cfg.now().Unix()) {
		return false // development: clerk-js may not update the suffixed uat
	}
	if j.SfxUAT == "" && j.SfxSession != "" {
		return false
	}
	return true
}

// belongsToInstance is Clerk's tokenBelongsToInstance: iss, with every
// http:// or https:// removed (any case), equals the Frontend API host of
// the deployment's tokens (a production satellite's clerk.<Domain>).
func (c *core) belongsToInstance(iss any) bool {
	s, ok := iss.(string)
	if !ok || c.cfg.originalFAPI == "" {
		return false
	}
	for _, p := range []string{"https://", "http://"} {
		for {
			i := cookie.IndexFold(s, p)
			if i < 0 {
				break
			}
			s = s[:i] + s[i+len(p):]
		}
	}
	return s == c.cfg.originalFAPI
}

// fastIss reads a token's iss as Clerk's decodeJwt would (header and
// payload JSON objects), when the payload is small and iss is absent, null
// or a string; ok is false otherwise, and the caller decodes in full.
func fastIss(tok string) (iss string, hasIss, ok bool) {
	dot1, dot2, aerr := splitToken(tok)
	if aerr != nil {
		return "", false, false
	}
	var hbuf [512]byte
	var members [32]jsonobj.Member
	h, okh := jws.Decode(tok[:dot1], hbuf[:])
	if !okh || !jsonobj.StartsObject(h) {
		return "", false, false
	}
	if _, err := jsonobj.Members(string(h), members[:0]); err != nil {
		return "", false, false
	}
	var pbuf [2048]byte
	p, okp := jws.Decode(tok[dot1+1:dot2], pbuf[:])
	if !okp || len(p) > len(pbuf) || !jsonobj.StartsObject(p) {
		return "", false, false
	}
	ms, err := jsonobj.Members(string(p), members[:0])
	if err != nil {
		return "", false, false
	}
	for _, m := range ms {
		if m.Name == "iss" {
			s, isNull, isString := jsonobj.String(m)
			if !isString {
				return "", false, false
			}
			return s, !isNull && s != "", true
		}
	}
	return "", false, true
}
