// Package jwks reads a JSON Web Key Set for verifying RS256 tokens (RSA
// signing keys of at least 2048 bits, with their kid and declared alg).
// It knows no clerkauth types.
package jwks

import (
	"crypto/rsa"
	"encoding/json"
	"errors"

	"github.com/MicahParks/jwkset"
)

const (
	// MaxKeys bounds the keys (and the unusable kids) read from one set.
	MaxKeys = 64
	// MaxKidLen bounds a kid.
	MaxKidLen = 256
)

// Key is one usable verification key.
type Key struct {
	Kid string
	Pub *rsa.PublicKey
	Alg string // the alg the key declares; "" allows RS256 only
}

// Set is what Parse keeps of a JWKS.
type Set struct {
	Keys []Key
	// Unusable holds the kids the JWKS named with no usable key.
	Unusable map[string]bool
	// Skipped counts the keys left out.
	Skipped int
}

// Parse parses a JWKS and keeps the RSA signing keys of at least 2048
// bits (at most MaxKeys); one bad key does not sink the others, and the
// kids of the unusable ones are remembered. It fails when no key is
// usable.
func Parse(body []byte) (*Set, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("not a JSON Web Key Set")
	}
	set := &Set{}
	seen := make(map[string]bool, len(doc.Keys))
	for i, raw := range doc.Keys {
		if i >= MaxKeys {
			set.Skipped += len(doc.Keys) - i
			break
		}
		k, ok := parseKey(raw)
		if !ok || seen[k.Kid] {
			set.Skipped++
			var named struct {
				Kid string `json:"kid"`
			}
			if json.Unmarshal(raw, &named) == nil && named.Kid != "" && len(named.Kid) <= MaxKidLen {
				if set.Unusable == nil {
					set.Unusable = make(map[string]bool)
				}
				set.Unusable[named.Kid] = true
			}
			continue
		}
		seen[k.Kid] = true
		set.Keys = append(set.Keys, k)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("no usable RSA signing key of at least 2048 bits")
	}
	return set, nil
}

func parseKey(raw json.RawMessage) (Key, bool) {
	jwk, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return Key{}, false
	}
	m := jwk.Marshal()
	pub, ok := jwk.Key().(*rsa.PublicKey)
	if !ok || m.KID == "" || len(m.KID) > MaxKidLen || pub.N.BitLen() < 2048 {
		return Key{}, false
	}
	if m.USE != "" && m.USE != jwkset.UseSig {
		return Key{}, false
	}
	switch m.ALG {
	case "", jwkset.AlgRS256, jwkset.AlgRS384, jwkset.AlgRS512:
	default:
		return Key{}, false
	}
	return Key{Kid: m.KID, Pub: pub, Alg: string(m.ALG)}, true
}
