package jws

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"

	"github.com/clerkauth/clerkauth/internal/jsonobj"
	"github.com/golang-jwt/jwt/v5"
)

// Header is the JOSE header. jku, x5u, jwk and x5c are deliberately
// absent: keys come only from the verifier's configured source. Cat is
// Clerk's token category.
type Header struct {
	Alg     string
	Kid     string
	Typ     string
	Cat     string
	HasTyp  bool
	HasCat  bool
	HasCrit bool
}

// ErrHeader is a header that is not a JSON object, or whose alg, kid, typ
// or cat is not a string (or null).
var ErrHeader = errors.New("jws: invalid header")

// ReadHeader reads the JOSE header members of the JSON object raw into h:
// alg, kid, typ and cat are strings (typ null is read as the typ "null",
// which is not "JWT", as Clerk reads it; the others' null is absent);
// crit is noted. The error is ErrHeader or one of jsonobj's ErrDuplicate
// and ErrTooDeep.
func ReadHeader(raw string, h *Header) error {
	var buf [16]jsonobj.Member
	members, err := jsonobj.Members(raw, buf[:])
	switch err {
	case nil:
	case jsonobj.ErrDuplicate, jsonobj.ErrTooDeep:
		return err
	default:
		return ErrHeader
	}
	for _, m := range members {
		switch name := m.Name; name {
		case "alg", "kid", "typ", "cat":
			s, isNull, ok := jsonobj.String(m)
			if !ok {
				return ErrHeader
			}
			switch {
			case name == "typ":
				h.Typ, h.HasTyp = s, true
				if isNull {
					h.Typ = "null"
				}
			case isNull:
			case name == "alg":
				h.Alg = s
			case name == "kid":
				h.Kid = s
			case name == "cat":
				h.Cat, h.HasCat = s, true
			}
		case "crit":
			h.HasCrit = true
		}
	}
	return nil
}

// VerifyRSA checks sig over the signing input with pub. For RS256 it
// hashes input from a stack buffer: golang-jwt's Verify copies the whole
// input into a new []byte first, an allocation of about 1 KB per token.
func VerifyRSA(method *jwt.SigningMethodRSA, input string, sig []byte, pub *rsa.PublicKey) error {
	if method.Hash != crypto.SHA256 {
		return method.Verify(input, sig, pub)
	}
	h := sha256.New()
	var buf [512]byte
	for len(input) > 0 {
		n := copy(buf[:], input)
		h.Write(buf[:n])
		input = input[n:]
	}
	var sum [sha256.Size]byte
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h.Sum(sum[:0]), sig)
}
