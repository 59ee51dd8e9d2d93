// Package redact removes secrets from text a server sent back (an error
// body that echoes the request), in every encoding an echo may use. It
// knows no clerkauth types.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// New returns a func that replaces, in a text a server sent back,
// the keys and every string of the request's JSON body (the token being
// verified), raw or in the encodings an echo may use (JSON escapes,
// percent-encoding, base64).
func New(secret, machineSecret string, payload []byte) func(string) string {
	var pairs []string
	add := func(v, label string) {
		if len(v) < 8 {
			return
		}
		forms := []string{v, url.QueryEscape(v), url.PathEscape(v),
			base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
		if j, err := json.Marshal(v); err == nil {
			q := string(j[1 : len(j)-1])
			forms = append(forms, q, strings.ReplaceAll(q, "/", `\/`))
		}
		var lower, upper strings.Builder // every character \u-escaped
		for _, r := range v {
			fmt.Fprintf(&lower, `\u%04x`, r)
			fmt.Fprintf(&upper, `\u%04X`, r)
		}
		forms = append(forms, lower.String(), upper.String())
		for _, f := range forms {
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
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
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
