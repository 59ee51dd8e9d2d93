package clerkauth

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkauth/clerkauth/internal/claims"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/clerkauth/clerkauth/internal/jsonobj"
	"github.com/clerkauth/clerkauth/internal/jwks"
	"github.com/clerkauth/clerkauth/internal/jws"
	"github.com/clerkauth/clerkauth/internal/keyring"
	"github.com/clerkauth/clerkauth/internal/machinetoken"
	"github.com/golang-jwt/jwt/v5"
)

// Header "cat" values: the token categories Clerk puts in its JWTs.
const (
	catSessionToken = "cl_B7d4PD111AAA"
	catJWTTemplate  = "cl_B7d4PD222AAA"
	catM2MToken     = "cl_B7d4PD333AAA"
	catIgnore       = "cl_I7d4PD111III" // stamped on every class by some instances
)

// jwtClass is what the header says a JWT is.
type jwtClass uint8

const (
	classSessionOrM2M jwtClass = iota // decided by sub (mch_ is M2M)
	classM2M                          // cat cl_B7d4PD333AAA
	classOAuth                        // typ at+jwt
)

// maxTokenSize is the largest token looked at, in bytes; a Clerk session
// token is about 1 KiB. Larger tokens are refused before any decoding.
const maxTokenSize = claims.MaxTokenSize

// verified is what verifying a token produced: everything the hot path
// needs to re-check on a cache hit without touching the token again.
type verified struct {
	auth   *Auth     // signed-in Auth, shared; copied per request
	key    *jwks.Key // the key that verified the signature
	exp    int64     // Unix seconds
	nbf    int64     // Unix seconds; valid when hasNbf
	iat    int64     // Unix seconds; valid when hasIat
	hasNbf bool
	hasIat bool
	nbfBad bool // nbf present but not a number: rejected after exp, as Clerk
	iatBad bool // the same for iat
}

// splitToken checks the size and the shape of a compact JWS (see
// [jws.Split]) and returns the positions of its two dots.
func splitToken(tok string) (dot1, dot2 int, err *AuthError) {
	if len(tok) > maxTokenSize {
		return 0, 0, errTooLarge
	}
	dot1, dot2, ok := jws.Split(tok)
	if !ok {
		return 0, 0, errMalformed
	}
	return dot1, dot2, nil
}

// parseHeader decodes and checks the JOSE header, in Clerk's order: JSON
// object, typ, cat, crit. The algorithm is checked against the key later.
func parseHeader(seg string) (jws.Header, jwtClass, *AuthError) {
	var h jws.Header
	class := classSessionOrM2M
	var buf [256]byte
	raw, ok := jws.Decode(seg, buf[:])
	if !ok {
		return h, class, errBadHeader
	}
	switch err := jws.ReadHeader(string(raw), &h); err {
	case nil:
	case jsonobj.ErrDuplicate:
		return h, class, errHeaderDuplicate
	case jsonobj.ErrTooDeep:
		return h, class, errHeaderTooDeep
	default:
		return h, class, errBadHeader
	}
	if h.HasTyp {
		switch h.Typ {
		case "JWT":
		case "at+jwt", "application/at+jwt":
			class = classOAuth
		default:
			return h, class, errTyp
		}
	}
	if h.HasCat && class != classOAuth {
		switch h.Cat {
		case catSessionToken, catIgnore:
		case catM2MToken:
			class = classM2M
		default: // JWT templates and anything unknown
			return h, class, errCat
		}
	}
	if h.HasCrit {
		return h, class, errCrit
	}
	return h, class, nil
}

// signingMethod returns the golang-jwt method for alg, or nil when alg is
// not accepted with key: RS256 always, RS384/RS512 only with a key that
// declares that algorithm.
func signingMethod(alg string, key *jwks.Key) *jwt.SigningMethodRSA {
	switch {
	case alg == "RS256" && (key == nil || key.Alg == "" || key.Alg == "RS256"):
		return jwt.SigningMethodRS256
	case key != nil && alg == key.Alg && alg == "RS384":
		return jwt.SigningMethodRS384
	case key != nil && alg == key.Alg && alg == "RS512":
		return jwt.SigningMethodRS512
	}
	return nil
}

// checkSignature checks the RSA signature of tok, a JWT whose second dot
// is at dot2, with the instance's key named kid, and returns that key. alg
// (the header's) must be one the key may sign with.
func (k *keys) checkSignature(ctx context.Context, tok string, dot2 int, alg, kid string) (*jwks.Key, *AuthError) {
	key, aerr := k.lookup(ctx, kid)
	if aerr != nil {
		return nil, aerr
	}
	method := signingMethod(alg, key)
	if method == nil {
		return nil, errAlg
	}
	var sigBuf [512]byte
	sig, ok := jws.Decode(tok[dot2+1:], sigBuf[:])
	if !ok || jws.VerifyRSA(method, tok[:dot2], sig, key.Pub) != nil {
		return nil, errSignature
	}
	return key, nil
}

// verify checks a JWT from scratch: shape, header, key, signature, then
// the claims (decoded only after the signature holds). It verifies session
// tokens and JWT-format machine tokens (M2M, OAuth); whether the type is
// accepted, and the time checks, are left to the caller, which repeats them
// on cache hits.
func (c *core) verify(ctx context.Context, tok string) (*verified, *AuthError) {
	dot1, dot2, aerr := splitToken(tok)
	if aerr != nil {
		return nil, aerr
	}
	h, class, aerr := parseHeader(tok[:dot1])
	if aerr == errCat || aerr == errTyp || aerr == nil && class != classSessionOrM2M {
		// Clerk routes a JWT by its (unverified) subject before anything
		// else: an mch_ subject goes to its M2M verifier, which refuses any
		// cat but the M2M one (token-invalid) and any typ but JWT
		// (token-verification-failed), OAuth's at+jwt included; any other
		// subject with the M2M cat is not a machine token, and not a
		// session token either (token-type-mismatch).
		mch := machinetoken.SubIsMachine(tok[dot1+1 : dot2])
		switch {
		case mch && h.HasCat && h.Cat != catM2MToken:
			return nil, errM2MCat
		case mch && h.HasTyp && h.Typ != "JWT":
			return nil, errM2MTyp
		case !mch && class == classM2M:
			return nil, errCat
		}
	}
	if aerr != nil {
		return nil, aerr
	}
	if h.Alg != "RS256" && h.Alg != "RS384" && h.Alg != "RS512" {
		return nil, errAlg
	}
	key, aerr := c.keys.checkSignature(ctx, tok, dot2, h.Alg, h.Kid)
	if aerr != nil {
		return nil, aerr
	}

	// The signature holds: the payload is the instance's own. It is
	// decoded on the stack and copied once into the string that the
	// claims' strings are substrings of.
	var payloadBuf [2048]byte
	raw, ok := jws.Decode(tok[dot1+1:dot2], payloadBuf[:])
	if !ok || !jsonobj.StartsObject(raw) {
		return nil, errBadPayload
	}
	payload := string(raw)
	var claims claims.Session
	if aerr := readSessionClaims(payload, &claims); aerr != nil {
		return nil, aerr
	}
	var v *verified
	if class == classSessionOrM2M && !strings.HasPrefix(claims.Sub, "mch_") {
		v, aerr = c.checkClaims(&claims, key)
	} else {
		if class == classSessionOrM2M && h.HasCat {
			return nil, errM2MCat // an mch_ subject with a session cat
		}
		kind := TokenTypeM2M
		if class == classOAuth {
			kind = TokenTypeOAuth
		}
		v, aerr = c.checkMachineClaims(kind, []byte(payload), &claims, key)
	}
	if aerr != nil {
		return nil, aerr
	}
	v.auth.setToken(tok)
	return v, nil
}

// errM2MCat and errM2MTyp: a JWT with an mch_ subject is an M2M token only
// if its cat is the M2M one or absent, and its typ JWT or absent (Clerk:
// jwt/verifyMachineJwt.ts verifyM2MJwt, then verifyJwt's header type).
var (
	errM2MCat = authErr(ErrTokenInvalid, ReasonTokenInvalid, "M2M token with another category (header cat)")
	errM2MTyp = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, "M2M token with a type other than JWT (header typ)")
)

// newVerified is the record of a token verified with key: the time
// claims that are checked again on every cache hit. Its Auth is the
// caller's to set.
func newVerified(claims *claims.Session, key *jwks.Key) verified {
	return verified{
		key: key,
		exp: claims.Exp.Sec,
		nbf: claims.Nbf.Sec, hasNbf: claims.Nbf.Set, nbfBad: claims.Nbf.Bad,
		iat: claims.Iat.Sec, hasIat: claims.Iat.Set, iatBad: claims.Iat.Bad,
	}
}

// checkClaims applies the session-token claim checks that do not depend
// on the time.
func (c *core) checkClaims(claims *claims.Session, key *jwks.Key) (*verified, *AuthError) {
	// Clerk's order: sub, azp, iss, exp; nbf and iat come after the expiry
	// (checkTime), because an expired token is token-expired whatever its
	// nbf holds.
	if claims.Sub == "" {
		return nil, errSub
	}
	if len(c.cfg.authorizedParties) > 0 && (claims.AzpBad || claims.Azp == "" || !slices.Contains(c.cfg.authorizedParties, claims.Azp)) {
		return nil, errAzp
	}
	if claims.AzpBad {
		return nil, claimTypeErr("azp")
	}
	if !c.cfg.issuerOK(claims.Iss) {
		return nil, errIss
	}
	if claims.Exp.Bad {
		return nil, errExpType
	}
	if !claims.Exp.Set {
		return nil, errExpMissing
	}
	// One allocation for the record and its Auth.
	both := &struct {
		v verified
		a Auth
	}{v: newVerified(claims, key)}
	v := &both.v
	if aerr := fillAuth(&both.a, claims, v.exp, v.iat); aerr != nil {
		return nil, aerr
	}
	v.auth = &both.a
	v.auth.origin = c
	return v, nil
}

// The time failures of JWT-format machine tokens carry Clerk's reason for
// them, token-verification-failed (verifyMachineJwt wraps every verifyJwt
// error in that code); the kind still says what failed.
var (
	errMachineJWTExpired   = authErr(ErrTokenExpired, ReasonTokenVerificationFailed, "machine token expired")
	errMachineJWTNotActive = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, "nbf is in the future")
	errMachineJWTIATFuture = authErr(ErrTokenInvalid, ReasonTokenVerificationFailed, "iat is in the future")
)

// checkTime applies exp, nbf and iat with the configured skew, in Clerk's
// order. It runs on every request, cached or not.
func (v *verified) checkTime(now time.Time, skew time.Duration) *AuthError {
	// Claims are clamped to ±2^33 s, so nanoseconds cannot overflow.
	n, s := now.UnixNano(), int64(skew)
	errs := &machineJWTTimeErrs
	if v.auth.TokenType == TokenTypeSession {
		errs = &sessionTimeErrs
	}
	switch {
	case v.exp*1e9 <= n-s:
		return errs.expired
	case v.nbfBad:
		return errNbfType
	case v.hasNbf && v.nbf*1e9 > n+s:
		return errs.notActive
	case v.iatBad:
		return errIatType
	case v.hasIat && v.iat*1e9 > n+s:
		return errs.iatFuture
	}
	return nil
}

// timeErrs are the errors of the time checks of one class of token.
type timeErrs struct{ expired, notActive, iatFuture *AuthError }

var (
	sessionTimeErrs    = timeErrs{errExpired, errSessionNbf, errSessionIATFuture}
	machineJWTTimeErrs = timeErrs{errMachineJWTExpired, errMachineJWTNotActive, errMachineJWTIATFuture}
)

// Keys: the instance's JWKS through the Backend API, or the PEM key.

// keySet is a snapshot of the JWKS keys (each one usable, see
// [jwks.Key]), replaced whole on refresh.
type keySet = keyring.Set[*jwks.Key]

// keys finds the key for a token: the single PEM key, or the remote JWKS,
// whose download and refresh policy is the keyring's (see its package
// doc).
type keys struct {
	static *jwks.Key
	remote *keyring.Ring[*jwks.Key]
}

// lookup returns the key for kid, fetching the JWKS when needed.
func (k *keys) lookup(ctx context.Context, kid string) (*jwks.Key, *AuthError) {
	if k.static != nil {
		return k.static, nil
	}
	key, err := k.remote.Lookup(ctx, kid)
	if err == nil {
		return key, nil
	}
	var aerr *AuthError
	switch {
	case errors.As(err, &aerr): // the download's own error
		return nil, aerr
	case err == keyring.ErrKidMismatch:
		return nil, errKidMismatch
	case err == keyring.ErrRefreshRefused:
		return nil, errKidRefreshRefused
	case err == keyring.ErrClosed:
		return nil, errKeysClosed
	case err == keyring.ErrTimeout:
		return nil, errKeyWait
	}
	return nil, &AuthError{Reason: ReasonJWKRemoteFailedToLoad, Kind: ErrKeysUnavailable,
		Detail: "request ended while waiting for keys", Err: err}
}

// current reports whether key is still the key for kid, without fetching;
// it starts a background refresh when one is due at now.
func (k *keys) current(key *jwks.Key, now time.Time) bool {
	if k.static != nil {
		return key == k.static
	}
	return k.remote.Current(key.Kid, key, now)
}

func (k *keys) close() {
	if k.remote != nil {
		k.remote.Close()
	}
}

var (
	errKeysClosed = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad, "middleware closed")
	errKeyWait    = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad, "timed out waiting for the JWKS")
	// errKidRefreshRefused: the kid is unknown and the cooldown refused the
	// download that would tell whether the keys rotated. Not the client's
	// fault as far as we know: 503, never a 401 that signs a user out.
	errKidRefreshRefused = authErr(ErrKeysUnavailable, ReasonJWKRemoteFailedToLoad,
		"unknown kid; the JWKS was refreshed for another unknown kid within the cooldown")
)

// jwksPath is the Backend API's JWKS endpoint.
const jwksPath = "/v1/jwks"

// newRemoteKeys returns the keyring of the configured JWKS: the Backend
// API's own endpoint (a path of the API URL, sent with the secret key) or
// a public JWKSURL (sent with no key).
func newRemoteKeys(c *config, client *Client) *keyring.Ring[*jwks.Key] {
	url, cred := c.jwksURL, credNone
	if c.jwksSendSecret {
		url, cred = jwksPath, credSecret
	}
	return keyring.New(keyring.Options[*jwks.Key]{
		Fetch: func(ctx context.Context) (map[string]*jwks.Key, map[string]bool, error) {
			start := c.now()
			set, skipped, status, err := fetchJWKS(ctx, client, cred, url)
			if c.observer.KeyDownload != nil {
				e := KeyDownloadEvent{StatusCode: status, Duration: c.now().Sub(start)}
				if err != nil {
					e.Reason = err.Reason
				} else {
					e.Keys = len(set.ByKid)
				}
				c.observer.KeyDownload(e)
			}
			if err != nil {
				return nil, nil, err
			}
			if skipped > 0 {
				c.logger.Debug("clerkauth: skipped unusable keys in the JWKS", "skipped", skipped, "usable", len(set.ByKid))
			}
			return set.ByKid, set.Unusable, nil
		},
		Failed: func(err error, hadKeys bool) {
			aerr := err.(*AuthError)
			if hadKeys {
				c.logger.Warn("clerkauth: JWKS refresh failed; keeping the last good keys",
					"reason", aerr.Reason, "error", aerr.Error(), "url", url)
				return
			}
			c.logger.Warn("clerkauth: JWKS download failed and no keys were ever loaded; "+
				"requests needing a key get 503 until a download succeeds",
				"reason", aerr.Reason, "error", aerr.Error(), "url", url)
		},
		Now:         c.now,
		Interval:    c.refreshInterval,
		Cooldown:    c.cooldown,
		Wait:        c.keyWait,
		MaxKidLen:   jwks.MaxKidLen,
		MaxUnusable: jwks.MaxKeys,
	})
}

// fetchJWKS downloads and parses the JWKS through the Backend API request
// path (Client.send: headers, credentials, redaction, 1 MiB cap), one
// attempt: the keyring decides when to try again.
func fetchJWKS(ctx context.Context, client *Client, cred credential, url string) (set *keySet, skipped, status int, aerr *AuthError) {
	fail := func(reason, detail string, err error) (*keySet, int, int, *AuthError) {
		return nil, 0, status, &AuthError{Reason: reason, Kind: ErrKeysUnavailable, Detail: detail, Err: err}
	}
	status, body, apiErr, err := client.sendAttempt(ctx, cred, http.MethodGet, url, nil, 1)
	switch {
	case err != nil:
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS request failed", err)
	case apiErr != nil && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
		return fail(ReasonSecretKeyInvalid, fmt.Sprintf("the JWKS endpoint refused the secret key (HTTP %d)", apiErr.StatusCode), nil)
	case apiErr != nil:
		return fail(ReasonJWKRemoteFailedToLoad, fmt.Sprintf("JWKS endpoint answered HTTP %d", apiErr.StatusCode), nil)
	}
	set, skipped, err = parseJWKS(body)
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS unusable", err)
	}
	return set, skipped, status, nil
}

// parseJWKS parses a JWKS (see [jwks.Parse]) into a key set.
func parseJWKS(body []byte) (set *keySet, skipped int, err error) {
	parsed, err := jwks.Parse(body)
	if err != nil {
		return nil, 0, err
	}
	byKid := make(map[string]*jwks.Key, len(parsed.Keys))
	for i := range parsed.Keys {
		byKid[parsed.Keys[i].Kid] = &parsed.Keys[i]
	}
	return &keySet{ByKid: byKid, Unusable: parsed.Unusable}, parsed.Skipped, nil
}

// jwtKeyfunc adapts the keys to golang-jwt, deciding as the middleware
// does: the same lookup (the first download awaited, bounded by
// KeyWaitTimeout; an unknown kid refreshed through the same single flight
// and cooldown) and exactly the algorithms the middleware accepts (RS256,
// or RS384/RS512 with a key that declares it).
func (k *keys) jwtKeyfunc() jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if h, _ := t.Header["alg"].(string); h != alg || alg != "RS256" && alg != "RS384" && alg != "RS512" {
			return nil, errAlg
		}
		kid, ok := t.Header["kid"].(string)
		if !ok && k.static == nil {
			return nil, errKidMismatch
		}
		key, aerr := k.lookup(context.Background(), kid)
		if aerr != nil {
			return nil, aerr
		}
		if signingMethod(alg, key) == nil {
			return nil, errAlg
		}
		return key.Pub, nil
	}
}
