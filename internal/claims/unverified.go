package claims

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Unverified is what Clerk's decodeJwt reads from a token before any
// verification, for choosing a cookie pair only; nothing here is trusted.
type Unverified struct {
	Iss    any
	HasIss bool    // iss is truthy in JavaScript's sense
	Iat    float64 // 0 when absent or not a number (Clerk: iat || 0)
	Exp    float64
	HasExp bool
}

// DecodeUnverified reads tok as Clerk's decodeJwt does, for choosing a
// cookie pair; the zero value when tok is not a JWT with JSON objects.
func DecodeUnverified(tok string) (u Unverified) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return u
	}
	var hdr, claims map[string]any
	if json.Unmarshal(looseBase64(parts[0]), &hdr) != nil || hdr == nil ||
		json.Unmarshal(looseBase64(parts[1]), &claims) != nil || claims == nil {
		return u
	}
	u.Iss = claims["iss"]
	switch v := u.Iss.(type) {
	case string:
		u.HasIss = v != ""
	case float64:
		u.HasIss = v != 0
	case bool:
		u.HasIss = v
	case nil:
	default:
		u.HasIss = true // objects and arrays are truthy
	}
	if v, ok := claims["iat"].(float64); ok {
		u.Iat = v
	}
	u.Exp, u.HasExp = claims["exp"].(float64)
	return u
}

// looseBase64 decodes base64url with or without padding; nil on error.
func looseBase64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil
	}
	return b
}
