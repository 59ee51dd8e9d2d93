// Package redact removes secrets from text a server sent back (an error
// body that echoes the request), in every encoding an echo may use. It
// knows no clerkauth types.
package redact

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
)

// New returns a func that replaces, in a text a server sent back,
// the keys and every string of the request's JSON body (the token being
// verified), raw or in the encodings an echo may use: JSON escapes,
// percent-encoding (either case of hex digit, or every byte escaped),
// base64 (standard or URL alphabet, padded or not), hex (either case),
// HTML numeric entities (decimal or hex); and base64 of the whole body.
// What still holds a key or the token once HTML entities and percent
// escapes are decoded (a form not listed, such as entities with leading
// zeros) is withheld as a whole.
func New(secret, machineSecret string, payload []byte) func(string) string {
	var pairs, raw []string
	add := func(v, label string) {
		if len(v) < 8 {
			return
		}
		raw = append(raw, v)
		for _, f := range forms(v) {
			pairs = append(pairs, f, label)
		}
	}
	add(secret, "[secret key]")
	add(machineSecret, "[secret key]")
	var body map[string]any
	if json.Unmarshal(payload, &body) == nil {
		for _, v := range body {
			if s, ok := v.(string); ok {
				add(s, "[token]")
			}
		}
		if len(body) > 0 {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				pairs = append(pairs, enc.EncodeToString(payload), "[request body]")
			}
		}
	}
	r := strings.NewReplacer(pairs...)
	return func(text string) string {
		out := r.Replace(text)
		if stillHolds(out, raw) {
			return "[withheld: the answer echoed a secret key or the token]"
		}
		return out
	}
}

// forms are the encodings of v an echo may use, longest first where one
// is a prefix of another (the padded base64 before the unpadded one).
func forms(v string) []string {
	b := []byte(v)
	out := []string{v,
		base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		html.EscapeString(v),
	}
	for _, p := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		out = append(out, p, lowerEscapes(p))
	}
	var pctU, pctL, decE, hexL, hexU, hexX strings.Builder // every byte or character escaped
	for _, c := range b {
		fmt.Fprintf(&pctU, "%%%02X", c)
		fmt.Fprintf(&pctL, "%%%02x", c)
	}
	for _, r := range v {
		fmt.Fprintf(&decE, "&#%d;", r)
		fmt.Fprintf(&hexL, "&#x%x;", r)
		fmt.Fprintf(&hexU, "&#x%X;", r)
		fmt.Fprintf(&hexX, "&#X%X;", r)
	}
	out = append(out, pctU.String(), pctL.String(), decE.String(), hexL.String(), hexU.String(), hexX.String())
	if j, err := json.Marshal(v); err == nil {
		q := string(j[1 : len(j)-1])
		out = append(out, q, strings.ReplaceAll(q, "/", `\/`))
	}
	var lower, upper strings.Builder // every character \u-escaped
	for _, r := range v {
		fmt.Fprintf(&lower, `\u%04x`, r)
		fmt.Fprintf(&upper, `\u%04X`, r)
	}
	return append(out, lower.String(), upper.String())
}

// lowerEscapes writes the hex digits of p's percent escapes in lower case.
func lowerEscapes(p string) string {
	b := []byte(p)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// pct decodes every valid %XX escape of s (either case) and keeps the
// rest as it is.
func pct(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				b = append(b, v[0])
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// stillHolds reports whether text, as it is or with its HTML entities and
// percent escapes decoded (in either order), holds one of vals raw or in
// hex of either case.
func stillHolds(text string, vals []string) bool {
	if len(vals) == 0 {
		return false
	}
	views := []string{text, html.UnescapeString(text), pct(text), pct(html.UnescapeString(text)), html.UnescapeString(pct(text))}
	for _, view := range views {
		lower := strings.ToLower(view)
		for _, v := range vals {
			if strings.Contains(view, v) || strings.Contains(lower, hex.EncodeToString([]byte(v))) {
				return true
			}
		}
	}
	return false
}

// JSON redacts every string of a JSON value after decoding it, so
// no escape hides a key; the text form is redacted too.
func JSON(raw json.RawMessage, redact func(string) string) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return json.RawMessage(strconv.Quote(redact(string(raw))))
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return redact(x)
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[redact(k)] = walk(e)
			}
			return out
		}
		return v
	}
	b, err := json.Marshal(walk(v))
	if err != nil {
		return nil
	}
	return b
}

// URLError drops the URL from a *url.Error (it is logged apart) and
// keeps the cause.
func URLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
