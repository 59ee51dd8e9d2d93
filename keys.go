package clerkauth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/clerkauth/clerkauth/internal/jwks"
	"github.com/clerkauth/clerkauth/internal/keyring"
)

const (
	maxKeys        = jwks.MaxKeys
	maxKidLen      = jwks.MaxKidLen
	failureBackoff = keyring.FailureBackoff
)

// verifyKey is one usable verification key.
type verifyKey struct {
	kid string
	pub *rsa.PublicKey
	alg string // the alg the key declares; "" allows RS256 only
}

// keySet is a snapshot of the JWKS keys, replaced whole on refresh.
type keySet = keyring.Set[*verifyKey]

// keys finds the key for a token: the single PEM key, or the remote JWKS,
// whose download and refresh policy is the keyring's (see its package
// doc).
type keys struct {
	static *verifyKey
	remote *keyring.Ring[*verifyKey]
}

// lookup returns the key for kid, fetching the JWKS when needed.
func (k *keys) lookup(ctx context.Context, kid string) (*verifyKey, *AuthError) {
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
func (k *keys) current(key *verifyKey, now time.Time) bool {
	if k.static != nil {
		return key == k.static
	}
	return k.remote.Current(key.kid, key, now)
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
func newRemoteKeys(c *config, client *Client) *keyring.Ring[*verifyKey] {
	url, cred := c.jwksURL, credNone
	if c.jwksSendSecret {
		url, cred = jwksPath, credSecret
	}
	return keyring.New(keyring.Options[*verifyKey]{
		Fetch: func(ctx context.Context) (map[string]*verifyKey, map[string]bool, error) {
			set, skipped, err := fetchJWKS(ctx, client, cred, url)
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
		MaxKidLen:   maxKidLen,
		MaxUnusable: maxKeys,
	})
}

// fetchJWKS downloads and parses the JWKS through the Backend API request
// path (Client.send: headers, credentials, redaction, 1 MiB cap), one
// attempt: the keyring decides when to try again.
func fetchJWKS(ctx context.Context, client *Client, cred credential, url string) (*keySet, int, *AuthError) {
	fail := func(reason, detail string, err error) (*keySet, int, *AuthError) {
		return nil, 0, &AuthError{Reason: reason, Kind: ErrKeysUnavailable, Detail: detail, Err: err}
	}
	body, apiErr, err := client.send(ctx, cred, http.MethodGet, url, nil)
	switch {
	case err != nil:
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS request failed", err)
	case apiErr != nil && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
		return fail(ReasonSecretKeyInvalid, fmt.Sprintf("the JWKS endpoint refused the secret key (HTTP %d)", apiErr.StatusCode), nil)
	case apiErr != nil:
		return fail(ReasonJWKRemoteFailedToLoad, fmt.Sprintf("JWKS endpoint answered HTTP %d", apiErr.StatusCode), nil)
	}
	set, skipped, err := parseJWKS(body)
	if err != nil {
		return fail(ReasonJWKRemoteFailedToLoad, "JWKS unusable", err)
	}
	return set, skipped, nil
}

// parseJWKS parses a JWKS (see [jwks.Parse]) into a key set.
func parseJWKS(body []byte) (set *keySet, skipped int, err error) {
	parsed, err := jwks.Parse(body)
	if err != nil {
		return nil, 0, err
	}
	byKid := make(map[string]*verifyKey, len(parsed.Keys))
	for _, k := range parsed.Keys {
		byKid[k.Kid] = &verifyKey{kid: k.Kid, pub: k.Pub, alg: k.Alg}
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
		return key.pub, nil
	}
}
