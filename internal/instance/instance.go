// Package instance reads what identifies a Clerk instance: its publishable
// key (the Frontend API host and the cookie suffix derived from it), its
// PEM public key, and the Backend API's address and URL rules, with the
// library's version it reports there. It knows no clerkauth types; the
// library, clerktest and the CLI share it.
package instance

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Version is this library's version, sent in the User-Agent of every
// Backend API request (clerkauth-go/<Version>) and printed by the CLI. It
// is the latest release of CHANGELOG.md (TestVersionMatchesChangelog).
const Version = "0.1.0"

// DefaultAPIURL is the Backend API base URL of every production instance.
const DefaultAPIURL = "https://api.clerk.com"

// ParsePEMKey parses the instance's PEM public key as the Clerk dashboard
// shows it, with or without the BEGIN/END lines. It accepts PKIX and PKCS #1
// RSA public keys of at least 2048 bits.
func ParsePEMKey(text string) (*rsa.PublicKey, error) {
	text = strings.TrimSpace(text)
	// Environment variables often carry the newlines escaped.
	text = strings.ReplaceAll(text, `\n`, "\n")
	var der []byte
	if strings.HasPrefix(text, "-----BEGIN") {
		block, rest := pem.Decode([]byte(text))
		if block == nil {
			return nil, errors.New("not a PEM block")
		}
		if len(strings.TrimSpace(string(rest))) != 0 {
			return nil, errors.New("trailing data after the PEM block")
		}
		der = block.Bytes
	} else {
		compact := strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\n', '\r', '\t':
				return -1
			}
			return r
		}, text)
		var err error
		der, err = base64.StdEncoding.DecodeString(compact)
		if err != nil {
			return nil, errors.New("neither a PEM block nor base64 DER")
		}
	}
	var pub any
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		pk1, err1 := x509.ParsePKCS1PublicKey(der)
		if err1 != nil {
			return nil, errors.New("not an RSA public key (PKIX or PKCS #1)")
		}
		pub = pk1
	}
	rsaKey, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not RSA", pub)
	}
	if rsaKey.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key is %d bits; at least 2048 are required", rsaKey.N.BitLen())
	}
	return rsaKey, nil
}

// FrontendAPIHost decodes a publishable key (pk_test_... or
// pk_live_...) and returns the instance's Frontend API host, for example
// "clerk.example.com".
func FrontendAPIHost(pk string) (host string, err error) {
	var enc string
	switch {
	case strings.HasPrefix(pk, "pk_test_"):
		enc = pk[len("pk_test_"):]
	case strings.HasPrefix(pk, "pk_live_"):
		enc = pk[len("pk_live_"):]
	default:
		return "", errors.New("publishable key must start with pk_test_ or pk_live_")
	}
	if len(enc) > 1024 {
		return "", errors.New("publishable key too long")
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(enc)
	}
	if err != nil {
		return "", errors.New("publishable key is not base64")
	}
	s := string(raw)
	if !strings.HasSuffix(s, "$") {
		return "", errors.New("publishable key does not decode to a host ending in $")
	}
	host = s[:len(s)-1]
	if host == "" || len(host) > 253 {
		return "", errors.New("publishable key decodes to an empty or overlong host")
	}
	for i := 0; i < len(host); i++ {
		ch := host[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-' || ch == ':') {
			return "", errors.New("publishable key decodes to an invalid host")
		}
	}
	return host, nil
}

// CookieSuffix returns the suffix Clerk appends to the names of its
// cookies for an instance (__session_<sfx>, __client_uat_<sfx>): the first
// 8 characters of base64url(SHA-1(publishable key)).
func CookieSuffix(publishableKey string) string {
	sum := sha1.Sum([]byte(publishableKey))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:8]
}

// CheckURL accepts https URLs, and http only for loopback hosts. Its
// errors name the URL by scheme and host only: a rejected URL may carry a
// secret in its credentials or query.
func CheckURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("clerkauth: %s is not a valid URL", field)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("clerkauth: %s %q must be an absolute URL without query or credentials", field, u.Scheme+"://"+u.Host)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("clerkauth: %s %q must use https (http is allowed only for loopback addresses)", field, u.Scheme+"://"+u.Host)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
