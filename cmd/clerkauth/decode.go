package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	clerkclaims "github.com/clerkauth/clerkauth/internal/claims"
)

// Header cat values of Clerk's tokens.
const (
	catSession  = "cl_B7d4PD111AAA"
	catSession2 = "cl_I7d4PD111III"
	catTemplate = "cl_B7d4PD222AAA"
)

// decoded is a JWT split and decoded, not verified.
type decoded struct {
	headerJSON, claimsJSON []byte
	header, claims         map[string]any
}

// decodeToken decodes the header and claims of a compact JWT.
func decodeToken(tok string) (*decoded, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %d dot-separated parts, want 3", len(parts))
	}
	d := &decoded{}
	var err error
	if d.headerJSON, d.header, err = decodeSegment(parts[0]); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if d.claimsJSON, d.claims, err = decodeSegment(parts[1]); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return d, nil
}

func decodeSegment(seg string) ([]byte, map[string]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil, nil, errors.New("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, nil, errors.New("not a JSON object")
	}
	return raw, m, nil
}

func (c *cli) decodeCmd(args []string) int {
	fs := c.flagSet("decode")
	if code, ok := c.parseFlags(fs, args); !ok {
		return code
	}
	tok, _, err := c.readToken(fs.Args())
	if err == nil && tok == "" {
		err = errors.New("the Cookie header has no __session cookie")
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "clerkauth decode: %v\n", err)
		return exitUsage
	}
	d, err := decodeToken(tok)
	if err != nil {
		fmt.Fprintf(c.stderr, "clerkauth decode: %v\n", err)
		return exitFail
	}
	w := c.stdout
	fmt.Fprintln(w, "NOT VERIFIED: this shows what the token says, not that it is genuine.")
	fmt.Fprintln(w, `Run "clerkauth verify" to check its signature and claims.`)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Header")
	writeIndented(w, d.headerJSON)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Claims")
	writeIndented(w, d.claimsJSON)
	fmt.Fprintln(w)
	c.writeTimes(w, d.claims)
	fmt.Fprintln(w)
	writeSummary(w, d)
	return exitOK
}

func writeIndented(w io.Writer, raw []byte) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	w.Write(buf.Bytes())
}

// writeTimes prints iat, nbf and exp in RFC 3339 and relative to now.
func (c *cli) writeTimes(w io.Writer, claims map[string]any) {
	now := c.now()
	fmt.Fprintln(w, "Times")
	for _, name := range []string{"iat", "nbf", "exp"} {
		v, present := claims[name]
		if !present {
			fmt.Fprintf(w, "  %s  (absent)\n", name)
			continue
		}
		t, ok := numericDate(v)
		if !ok {
			fmt.Fprintf(w, "  %s  %v (not a number)\n", name, v)
			continue
		}
		fmt.Fprintf(w, "  %s  %s  %s\n", name, t.UTC().Format(time.RFC3339), describeTime(name, t, now))
	}
	iat, ok1 := numericDate(claims["iat"])
	exp, ok2 := numericDate(claims["exp"])
	if ok1 && ok2 {
		fmt.Fprintf(w, "  lifetime %s\n", exp.Sub(iat))
	}
}

// describeTime says how t relates to now for the claim name.
func describeTime(name string, t, now time.Time) string {
	d := t.Sub(now)
	switch name {
	case "exp":
		if d > 0 {
			return "expires in " + human(d)
		}
		return "expired " + human(-d) + " ago"
	case "nbf":
		if d > 0 {
			return "NOT VALID YET: valid in " + human(d)
		}
		return "valid since " + human(-d) + " ago"
	default:
		if d > 0 {
			return "issued " + human(d) + " IN THE FUTURE (clock skew?)"
		}
		return "issued " + human(-d) + " ago"
	}
}

// human renders a non-negative duration coarsely: 42s, 3m, 5h, 12d.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// numericDate converts a NumericDate claim to a time.
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// tokenKind names the kind of token from its header and claims, as the
// middleware would classify it.
func tokenKind(d *decoded) (kind string, session bool) {
	typ, _ := d.header["typ"].(string)
	cat, hasCat := d.header["cat"].(string)
	sub, _ := d.claims["sub"].(string)
	switch {
	case hasCat && cat == catTemplate:
		return "JWT template token (cat " + cat + "): not a session token; the middleware rejects it", false
	case typ == "at+jwt" || typ == "application/at+jwt":
		return "OAuth access token (typ " + typ + "): a machine token, not a session token", false
	case strings.HasPrefix(sub, "mch_"):
		return "M2M token (sub " + sub + "): a machine token, not a session token", false
	case hasCat && cat != catSession && cat != catSession2:
		return "unknown token category (cat " + cat + "): not a Clerk session token", false
	}
	v := "v1"
	if claimsV2(d.claims) {
		v = "v2"
	}
	return "Clerk session token (claims " + v + ")", true
}

// writeSummary prints what the middleware would make of the claims.
func writeSummary(w io.Writer, d *decoded) {
	kind, _ := tokenKind(d)
	fmt.Fprintln(w, kind)
	str := func(name string) string { s, _ := d.claims[name].(string); return s }
	alg, _ := d.header["alg"].(string)
	if alg != "RS256" {
		line(w, "alg", fmt.Sprintf("%q: Clerk signs with RS256; the middleware rejects this", alg))
	}
	line(w, "user", str("sub"))
	status := str("sts")
	if status == "" && str("sid") != "" {
		status = "active"
	}
	if status != "" {
		line(w, "session", strings.TrimSpace(str("sid")+" ("+status+")"))
	}
	o := orgOf(d.claims)
	if o.id != "" || o.slug != "" || o.role != "" || len(o.perms) > 0 {
		id := o.id
		if id == "" {
			id = "(no org id: Has answers no role or permission)"
		}
		line(w, "org", strings.Join(nonEmpty(id, o.slug, o.role), "  "))
		line(w, "permissions", strings.Join(o.perms, ", "))
	}
	line(w, "features", str("fea"))
	line(w, "plans", str("pla"))
	if act, ok := d.claims["act"].(map[string]any); ok {
		s, _ := act["sub"].(string)
		line(w, "actor", s+" (impersonation)")
	}
	if fva, ok := d.claims["fva"].([]any); ok && len(fva) == 2 {
		line(w, "factor age", fmt.Sprintf("first %s, second %s", factorAge(fva[0]), factorAge(fva[1])))
	}
	line(w, "azp", str("azp"))
	line(w, "iss", str("iss"))
	kid, _ := d.header["kid"].(string)
	line(w, "kid", kid)
}

func factorAge(v any) string {
	n, ok := v.(json.Number)
	if !ok {
		return "?"
	}
	if n.String() == "-1" {
		return "never"
	}
	return n.String() + "m ago"
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type orgInfo struct {
	id, slug, role string
	perms          []string
}

// claimsV2 reports whether the claims are v2, as the middleware (and
// Clerk: switch (claims.v) case 2) decides: "v" is the number 2. Anything
// else, "2" as a string included, is v1, whatever "o" holds.
func claimsV2(claims map[string]any) bool {
	n, ok := claims["v"].(json.Number)
	if !ok {
		return false
	}
	f, err := n.Float64()
	return err == nil && f == 2
}

// orgOf reads the active organization as the middleware does: from v2
// claims (an "o" object; orgRole "org:" + rol, as it is) or v1 claims
// (org_*; the other version's claims are ignored). Slug, role and
// permissions are read even without an org id, as Clerk exposes them.
func orgOf(claims map[string]any) orgInfo {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	if claimsV2(claims) {
		o, ok := claims["o"].(map[string]any)
		if !ok {
			return orgInfo{}
		}
		info := orgInfo{id: str(o, "id"), slug: str(o, "slg")}
		if r := str(o, "rol"); r != "" {
			info.role = "org:" + r
		}
		info.perms = clerkclaims.OrgPermissions(str(claims, "fea"), str(o, "per"), str(o, "fpm"))
		return info
	}
	info := orgInfo{id: str(claims, "org_id"), slug: str(claims, "org_slug"), role: str(claims, "org_role")}
	if ps, ok := claims["org_permissions"].([]any); ok {
		for _, p := range ps {
			if s, ok := p.(string); ok {
				info.perms = append(info.perms, s)
			}
		}
	}
	return info
}
