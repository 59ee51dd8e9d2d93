// Package stdwebhooks verifies a request signed with the Standard Webhooks
// scheme (the one Svix signs Clerk's webhooks with), as the
// standardwebhooks npm package does, with crypto/hmac. It knows no
// clerkauth types: the library decodes the verified body.
package stdwebhooks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// MaxBody is the largest body Verify reads (1 MiB).
	MaxBody = 1 << 20
	// tolerance is how far the svix-timestamp may be from now, both ways
	// (the scheme's default, 5 minutes), in seconds.
	tolerance = 5 * 60
)

// The kinds of failure; every error of Verify wraps one of them.
var (
	// ErrUnverified: a missing svix-* header, a malformed timestamp, a
	// timestamp more than 5 minutes away from now, or no matching
	// signature.
	ErrUnverified = errors.New("clerkauth: webhook not verified")
	// ErrPayload: the body could not be read or is larger than MaxBody.
	ErrPayload = errors.New("clerkauth: webhook payload invalid")
	// ErrTooLarge is the ErrPayload of a body larger than MaxBody.
	ErrTooLarge = fmt.Errorf("%w: body larger than 1 MiB", ErrPayload)
)

// DecodeSecret decodes a signing secret: "whsec_" (optional) followed by
// base64. ok is false for anything else.
func DecodeSecret(secret string) (key []byte, ok bool) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
	return key, err == nil && len(key) > 0
}

// Verify checks r's svix-id, svix-timestamp and svix-signature headers
// (trimmed) and reads its body: the timestamp (Unix seconds) must be
// within 5 minutes of now, either way, and one "v1,<base64>" entry of the
// signature header must match an HMAC-SHA256, keyed with key, of
// "{svix-id}.{timestamp}.{body}" over the exact bytes received. The body
// is read up to MaxBody only after the headers pass; r.Body is then
// replaced by a reader of the same bytes.
func Verify(r *http.Request, key []byte, now time.Time) (id string, body []byte, err error) {
	id = strings.TrimSpace(r.Header.Get("svix-id"))
	tsHeader := strings.TrimSpace(r.Header.Get("svix-timestamp"))
	sigHeader := strings.TrimSpace(r.Header.Get("svix-signature"))
	if id == "" || tsHeader == "" || sigHeader == "" {
		var missing []string
		for _, h := range [][2]string{{id, "svix-id"}, {tsHeader, "svix-timestamp"}, {sigHeader, "svix-signature"}} {
			if h[0] == "" {
				missing = append(missing, h[1])
			}
		}
		return "", nil, fmt.Errorf("%w: missing required webhook headers: %s", ErrUnverified, strings.Join(missing, ", "))
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return "", nil, fmt.Errorf("%w: svix-timestamp is not Unix seconds", ErrUnverified)
	}
	// Whole seconds, as the npm package compares them.
	switch age := now.Unix() - ts; {
	case age > tolerance:
		return "", nil, fmt.Errorf("%w: timestamp too old (more than 5 minutes)", ErrUnverified)
	case age < -tolerance:
		return "", nil, fmt.Errorf("%w: timestamp too new (more than 5 minutes ahead)", ErrUnverified)
	}

	if r.ContentLength > MaxBody {
		return "", nil, ErrTooLarge
	}
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return "", nil, fmt.Errorf("%w: reading the body: %v", ErrPayload, err)
		}
		if len(body) > MaxBody {
			return "", nil, ErrTooLarge
		}
	}

	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	// The number, not the header's text ("+0017..." signs as "17..."), as
	// the npm package signs it.
	mac.Write(strconv.AppendInt(make([]byte, 0, 20), ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	var want [44]byte // base64 of 32 bytes
	base64.StdEncoding.Encode(want[:], mac.Sum(sum[:0]))
	if !SignatureMatches(sigHeader, want[:]) {
		return "", nil, fmt.Errorf("%w: no matching signature", ErrUnverified)
	}
	return id, body, nil
}

// SignatureMatches reports whether any "v1,<sig>" entry of the
// space-separated header equals want, in constant time for each entry.
// Other versions are ignored. As in the npm package, the signature is the
// text between the first and the second comma.
func SignatureMatches(header string, want []byte) bool {
	ok := false
	for entry := range strings.SplitSeq(header, " ") {
		version, rest, found := strings.Cut(entry, ",")
		if !found || version != "v1" {
			continue
		}
		sig, _, _ := strings.Cut(rest, ",")
		if hmac.Equal([]byte(sig), want) {
			ok = true
		}
	}
	return ok
}
