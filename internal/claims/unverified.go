package claims

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
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
	// IatJS is iat as JavaScript's < operator converts it to a number
	// (null, "" and false are 0, true is 1, "12" is 12); IatJSOK is false
	// when it is absent or converts to NaN (every comparison false).
	IatJS   float64
	IatJSOK bool
	// Sid is the sid claim when it is a non-empty string.
	Sid string
	// OK reports whether tok decoded: three parts, JSON object header
	// and payload.
	OK bool
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
	if v, present := claims["iat"]; present {
		u.IatJS, u.IatJSOK = jsNumber(v)
	}
	u.Sid, _ = claims["sid"].(string)
	u.OK = true
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

// jsNumber converts a JSON value to a number as JavaScript's relational
// operators do; ok is false for NaN.
func jsNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		return jsStringNumber(x)
	case []any:
		switch len(x) {
		case 0:
			return 0, true
		case 1: // String([v]) is String(v)
			switch e := x[0].(type) {
			case nil:
				return 0, true
			case string:
				return jsStringNumber(e)
			case float64:
				return e, true
			}
		}
	}
	return 0, false
}

// jsStringNumber is JavaScript's Number(s) for decimal strings.
func jsStringNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "_xXpPnN") {
		return 0, false
	}
	return f, true
}
