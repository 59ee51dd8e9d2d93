package clerktest

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// reservedTemplateClaims are the default claims of a JWT-template token,
// which Clerk does not let a template set.
var reservedTemplateClaims = [...]string{"azp", "exp", "iat", "iss", "jti", "nbf", "sub"}

// templateClockSkew is the allowed clock skew of Clerk's JWT templates by
// default: nbf = iat - 5s.
const templateClockSkew = 5

// templateToken mints a JWT-template token for the session: the default
// claims, then the template's claims with their shortcodes resolved, with
// the template category. user is nil when the session's user was not
// added with AddUser.
func (s *Server) templateToken(sess session, user *User, custom map[string]any, expiresIn *int64) string {
	lifetime := DefaultTokenLifetime
	if expiresIn != nil {
		lifetime = secondsDuration(*expiresIn)
	}
	claims := s.baseClaims(sess.userID, time.Time{}, lifetime, time.Time{}, nil)
	claims["nbf"] = claims["iat"].(int64) - templateClockSkew
	if len(custom) > 0 {
		tc := templateContext{userID: sess.userID, user: user, session: tokenClaims(sess.token)}
		for k, v := range normalizeJSON(custom).(map[string]any) {
			claims[k] = tc.render(v)
		}
	}
	return s.Sign(s.header(CategoryTemplate), claims)
}

// normalizeJSON returns v as encoding/json decodes it (map[string]any,
// []any, json.Number, ...), so that templates and metadata given as any Go
// value are walked alike. It panics when v cannot be encoded.
func normalizeJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic("clerktest: encoding template claims: " + err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		panic("clerktest: decoding template claims: " + err.Error())
	}
	return out
}

// templateContext is what shortcodes are resolved from.
type templateContext struct {
	userID  string
	user    *User          // nil: not added with AddUser
	session map[string]any // claims of the session's last token
}

// render resolves the shortcodes in a template value, at any depth.
func (tc templateContext) render(v any) any {
	switch v := v.(type) {
	case string:
		return tc.renderString(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = tc.render(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = tc.render(e)
		}
		return out
	}
	return v
}

// renderString resolves a string: exactly one shortcode keeps the type of
// its value; shortcodes inside longer text are interpolated as text.
func (tc templateContext) renderString(s string) any {
	if !strings.Contains(s, "{{") {
		return s
	}
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
		return tc.eval(s[2 : len(s)-2])
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(templateText(tc.eval(s[i+2 : i+j])))
		s = s[i+j+2:]
	}
	b.WriteString(s)
	return b.String()
}

// templateText is the text form of a value interpolated into a string.
func templateText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// eval evaluates "a || b || 'literal'": the first operand that is neither
// null nor false, else the last operand.
func (tc templateContext) eval(expr string) any {
	ops := strings.Split(expr, "||")
	var v any
	for _, op := range ops {
		v = tc.operand(strings.TrimSpace(op))
		if v != nil && v != false {
			return v
		}
	}
	return v
}

// operand evaluates a literal ('text', a number, true, false) or a
// shortcode; unknown shortcodes are null.
func (tc templateContext) operand(op string) any {
	switch {
	case len(op) >= 2 && op[0] == '\'' && op[len(op)-1] == '\'':
		return op[1 : len(op)-1]
	case op == "true":
		return true
	case op == "false":
		return false
	}
	var n json.Number
	if json.Unmarshal([]byte(op), &n) == nil {
		return n
	}
	path := strings.Split(op, ".")
	switch path[0] {
	case "user":
		if len(path) > 1 {
			return tc.userValue(path[1], path[2:])
		}
	case "org":
		if len(path) == 2 {
			return tc.orgValue(path[1])
		}
	}
	return nil
}

// userValue resolves user.<field>[.path...].
func (tc templateContext) userValue(field string, path []string) any {
	if field == "id" && len(path) == 0 {
		return tc.userID
	}
	if tc.user == nil {
		return nil
	}
	u := tc.user
	j := u.clerkJSON()
	if len(path) > 0 {
		if field != "public_metadata" && field != "unsafe_metadata" {
			return nil
		}
		v := normalizeJSON(j[field])
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		}
		return v
	}
	switch field {
	case "first_name", "last_name", "username", "image_url", "has_image", "external_id",
		"two_factor_enabled", "public_metadata", "unsafe_metadata":
		return normalizeJSON(j[field])
	case "full_name":
		if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
			return n
		}
	case "primary_email_address":
		if u.Email != "" {
			return u.Email
		}
	case "primary_phone_address":
		if u.Phone != "" {
			return u.Phone
		}
	case "email_verified":
		return u.Email != ""
	case "phone_number_verified":
		return u.Phone != ""
	case "created_at", "updated_at":
		if ms, ok := j[field].(int64); ok {
			return ms / 1000 // Clerk's templates give Unix seconds
		}
	}
	return nil
}

// orgValue resolves org.<field> from the session's active organization
// (v2 "o" claim or v1 org_* claims).
func (tc templateContext) orgValue(field string) any {
	org := map[string]any{}
	if o, ok := tc.session["o"].(map[string]any); ok {
		org["id"], org["slug"] = o["id"], o["slg"]
		if r, ok := o["rol"].(string); ok {
			org["role"] = "org:" + strings.TrimPrefix(r, "org:")
		}
	} else {
		org["id"], org["slug"], org["role"] = tc.session["org_id"], tc.session["org_slug"], tc.session["org_role"]
	}
	if id, _ := org["id"].(string); id == "" {
		return nil
	}
	return org[field]
}
