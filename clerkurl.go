package clerkauth

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The request URL as Clerk's page-load flows see it (clerkRequest.ts
// deriveUrlFromHeaders), and query strings read and written the way the
// WHATWG URL and URLSearchParams classes of JavaScript do, so that the
// handshake redirect's Location is the one Clerk builds.

// clerkURL is a request URL: scheme and host (lower case, default port
// dropped), the path as received (with the characters a WHATWG URL
// escapes escaped) and the query's name/value pairs.
type clerkURL struct {
	scheme, host string
	path         string
	rawQuery     string // as received, WHATWG-escaped; "" for none
	query        []queryPair
}

// queryPair is one name=value of a query, decoded.
type queryPair struct{ name, value string }

// requestURL derives the URL Clerk sees: the request's own origin unless
// X-Forwarded-Host (first value) and X-Forwarded-Proto (first value) say
// otherwise; an origin they make invalid is ignored, as in Clerk.
func requestURL(r *http.Request) clerkURL {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	own := r.Host
	if !validHost(own) {
		own = "localhost" // net/http's server refuses such a Host; a handler called directly may not
	}
	u := clerkURL{scheme: scheme, host: normHost(scheme, own)}
	host, proto := own, scheme
	if v, ok := firstHeader(r, "X-Forwarded-Host"); ok {
		host = v
	}
	if v, ok := firstHeader(r, "X-Forwarded-Proto"); ok {
		proto = v
	}
	proto = strings.ToLower(proto)
	if validScheme(proto) && validHost(host) {
		u.scheme, u.host = proto, normHost(proto, host)
	}
	path := r.URL.EscapedPath()
	if r.URL.Opaque != "" {
		path = r.URL.Opaque
	}
	if path == "" {
		path = "/"
	}
	u.path = escapeWHATWG(path, false)
	if r.URL.RawQuery != "" {
		u.rawQuery = escapeWHATWG(r.URL.RawQuery, true)
		u.query = parseQuery(r.URL.RawQuery)
	}
	return u
}

// firstHeader is Clerk's getFirstValueFromHeader: the header's value up
// to its first comma, untrimmed; ok is false when the header is absent or
// empty (Headers.get returns null).
func firstHeader(r *http.Request, name string) (string, bool) {
	vs := r.Header.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	v := strings.Join(vs, ", ")
	if v == "" {
		return "", false
	}
	first, _, _ := strings.Cut(v, ",")
	return first, true
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validHost accepts the host[:port] values a WHATWG URL parses.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("#%/<>?@[\\]^|\"`{}", c) >= 0 && !(c == '[' || c == ']') {
			return false
		}
	}
	if strings.ContainsAny(h, "[]") && !ipv6Literal(h) {
		return false // brackets only around a whole IPv6 address: new URL() throws on the rest
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		port := h[i+1:]
		for j := 0; j < len(port); j++ {
			if port[j] < '0' || port[j] > '9' {
				return false
			}
		}
		if n, err := strconv.Atoi(port); port != "" && (err != nil || n > 65535) {
			return false
		}
	}
	return true
}

// ipv6Literal reports whether h is "[address]" or "[address]:port" with
// only hexadecimal digits, colons and dots between the brackets.
func ipv6Literal(h string) bool {
	end := strings.IndexByte(h, ']')
	if len(h) < 3 || h[0] != '[' || end < 2 || strings.IndexByte(h[1:], '[') >= 0 {
		return false
	}
	for _, c := range []byte(h[1:end]) {
		if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' || c == ':' || c == '.') {
			return false
		}
	}
	rest := h[end+1:]
	return rest == "" || rest[0] == ':' && strings.IndexByte(rest, ']') < 0
}

// normHost lower-cases a host and drops the scheme's default port.
func normHost(scheme, h string) string {
	h = strings.ToLower(h)
	h = strings.TrimSuffix(h, ":")
	switch {
	case scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	case scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	}
	return h
}

// origin is scheme://host.
func (u *clerkURL) origin() string { return u.scheme + "://" + u.host }

// href is the URL with its query as received.
func (u *clerkURL) href() string {
	s := u.origin() + u.path
	if u.rawQuery != "" {
		s += "?" + u.rawQuery
	}
	return s
}

// hrefWithout is the URL after URLSearchParams.delete of each name: the
// whole query re-serialized as application/x-www-form-urlencoded, and no
// "?" when nothing is left.
func (u *clerkURL) hrefWithout(names ...string) string {
	var kept []queryPair
	for _, p := range u.query {
		drop := false
		for _, n := range names {
			drop = drop || p.name == n
		}
		if !drop {
			kept = append(kept, p)
		}
	}
	s := u.origin() + u.path
	if q := encodeQuery(kept); q != "" {
		s += "?" + q
	}
	return s
}

// get is URLSearchParams.get: the first value of name.
func (u *clerkURL) get(name string) (string, bool) {
	for _, p := range u.query {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// parseQuery is URLSearchParams' parser: pairs split at '&' and the
// first '=', '+' read as a space, percent-decoded (bad escapes kept,
// invalid UTF-8 replaced).
func parseQuery(q string) []queryPair {
	q = strings.TrimPrefix(q, "?")
	var out []queryPair
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, queryPair{formDecode(name), formDecode(value)})
	}
	return out
}

func formDecode(s string) string {
	if strings.IndexByte(s, '+') < 0 && strings.IndexByte(s, '%') < 0 && utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, hexVal(s[i+1])<<4|hexVal(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// encodeQuery is URLSearchParams' serializer.
func encodeQuery(pairs []queryPair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		formEncode(&b, p.name)
		b.WriteByte('=')
		formEncode(&b, p.value)
	}
	return b.String()
}

// formEncode is the application/x-www-form-urlencoded byte serializer:
// alphanumerics and *-._ kept, space as '+', the rest percent-encoded.
func formEncode(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// escapeWHATWG escapes what a WHATWG URL parser escapes in a path (query
// false) or a query of a special (http/https) URL: controls, space, '"',
// '<', '>', '`' and non-ASCII; '{', '}' in a path; '\” in a query.
func escapeWHATWG(s string, query bool) string {
	need := func(c byte) bool {
		switch {
		case c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>':
			return true
		case query:
			return c == '\''
		}
		return c == '`' || c == '{' || c == '}'
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if need(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; need(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// urlOrigin is the origin of an absolute http(s) URL as the URL class
// gives it (scheme://host, default port dropped), and its host name;
// ok is false when raw is not one. Other schemes have the opaque origin
// "null".
func urlOrigin(raw string) (origin, hostname string, ok bool) {
	raw = strings.TrimSpace(raw)
	scheme, rest, found := strings.Cut(raw, ":")
	scheme = strings.ToLower(scheme)
	if !found || !validScheme(scheme) {
		return "", "", false
	}
	switch scheme {
	case "http", "https", "ws", "wss", "ftp":
	default:
		return "null", "", true
	}
	rest = strings.TrimLeft(rest, "/\\")
	end := strings.IndexAny(rest, "/\\?#")
	if end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if !validHost(rest) {
		return "", "", false
	}
	host := normHost(scheme, rest)
	hostname = host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		hostname = host[:i]
	}
	return scheme + "://" + host, hostname, true
}
