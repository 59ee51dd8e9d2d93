package clerkauth

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Organization syncing (Clerk's organizationSyncOptions,
// organizationMatcher.ts): a page load whose path names an organization
// (by id or slug) that is not the session's active one is sent through
// the handshake with organization_id, so that the Frontend API activates
// it; a personal-account path deactivates the organization. Patterns are
// path-to-regexp 6 patterns, as in Clerk, compiled once by New.

// OrganizationSyncOptions are the URL path patterns that activate an
// organization on page loads (Clerk's organizationSyncOptions).
type OrganizationSyncOptions struct {
	// OrganizationPatterns are paths naming an organization by a :id or
	// :slug parameter, for example "/orgs/:slug" and "/orgs/:slug/(.*)".
	// They take precedence over PersonalAccountPatterns. Default: none.
	OrganizationPatterns []string
	// PersonalAccountPatterns are paths where no organization is active,
	// for example "/me" and "/me/(.*)". Default: none.
	PersonalAccountPatterns []string
}

// orgMatcher is one compiled list of patterns.
type orgMatcher struct {
	re   *regexp.Regexp
	keys []ptKey // one per capture group
}

// orgTarget is what a path asks to activate.
type orgTarget struct {
	personal bool
	id, slug string
}

// compileOrgSync compiles the options; nil when there are no patterns.
func compileOrgSync(o *OrganizationSyncOptions) (org, personal *orgMatcher, err error) {
	if o == nil {
		return nil, nil, nil
	}
	if org, err = compilePatterns(o.OrganizationPatterns); err != nil {
		return nil, nil, fmt.Errorf("clerkauth: OrganizationSyncOptions.OrganizationPatterns: %w", err)
	}
	if personal, err = compilePatterns(o.PersonalAccountPatterns); err != nil {
		return nil, nil, fmt.Errorf("clerkauth: OrganizationSyncOptions.PersonalAccountPatterns: %w", err)
	}
	return org, personal, nil
}

// findOrgTarget is Clerk's OrganizationMatcher.findTarget for a path.
func (c *config) findOrgTarget(path string) (orgTarget, bool) {
	if m := c.orgPatterns; m != nil {
		if params, ok := m.match(path); ok {
			if id := params["id"]; id != "" {
				return orgTarget{id: id}, true
			}
			if slug := params["slug"]; slug != "" {
				return orgTarget{slug: slug}, true
			}
		}
	}
	if m := c.personalPatterns; m != nil {
		if _, ok := m.match(path); ok {
			return orgTarget{personal: true}, true
		}
	}
	return orgTarget{}, false
}

// queryValue is the organization_id parameter of the handshake for t.
func (t orgTarget) queryValue() string {
	if t.slug != "" {
		return t.slug
	}
	return t.id
}

// orgSync is Clerk's handleMaybeOrganizationSyncHandshake for a signed-in
// page load: nil unless the path asks for another organization than the
// session's active one and a handshake can be made.
func (m *Middleware) orgSync(p *pageReq, a *Auth) *pageState {
	t, ok := m.c.cfg.findOrgTarget(p.url.path)
	if !ok {
		return nil
	}
	must := t.personal && a.OrgID != "" ||
		t.slug != "" && t.slug != a.OrgSlug ||
		t.id != "" && t.id != a.OrgID
	if !must || p.loop >= 3 {
		return nil
	}
	st := m.handshakeStatus(p, reasonActiveOrgMismatch, nil, "")
	if st.err == nil || st.err.Kind != ErrHandshake {
		return nil // not a page load: served signed in, as Clerk does
	}
	return st
}

const reasonActiveOrgMismatch = "active-organization-mismatch"

// match runs the patterns on a path; params are the named parameters
// (a repeated one joined with ",", as String(array) in JavaScript).
func (om *orgMatcher) match(path string) (map[string]string, bool) {
	idx := om.re.FindStringSubmatchIndex(path)
	if idx == nil {
		return nil, false
	}
	params := map[string]string{}
	for i, k := range om.keys {
		s, e := idx[2*(i+1)], idx[2*(i+1)+1]
		if s < 0 {
			continue
		}
		v := path[s:e]
		if k.repeat {
			v = strings.Join(strings.Split(v, k.prefix+k.suffix), ",")
		}
		params[k.name] = v
	}
	return params, true
}

// A port of path-to-regexp 6 (the version Clerk bundles) to RE2: the
// lexer, the parser and tokensToRegexp with Clerk's options (sensitive
// false, strict false, end true, delimiters "/#?"). Patterns that need a
// look-ahead (a parameter right after text with no delimiter, such as
// "/:a-:b") or a custom group RE2 cannot compile are refused by New.

type ptLex struct {
	kind  string // MODIFIER, ESCAPED_CHAR, OPEN, CLOSE, NAME, PATTERN, CHAR, END
	value string
}

func ptLexer(s string) ([]ptLex, error) {
	var out []ptLex
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '*' || c == '+' || c == '?':
			out = append(out, ptLex{"MODIFIER", s[i : i+1]})
			i++
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("a trailing backslash")
			}
			out = append(out, ptLex{"ESCAPED_CHAR", s[i+1 : i+2]})
			i += 2
		case c == '{':
			out = append(out, ptLex{"OPEN", "{"})
			i++
		case c == '}':
			out = append(out, ptLex{"CLOSE", "}"})
			i++
		case c == ':':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] == '_') {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("missing parameter name at %d", i)
			}
			out = append(out, ptLex{"NAME", s[i+1 : j]})
			i = j
		case c == '(':
			depth, j := 1, i+1
			var pat strings.Builder
			if j < len(s) && s[j] == '?' {
				return nil, fmt.Errorf("pattern cannot start with \"?\" at %d", j)
			}
			for j < len(s) {
				if s[j] == '\\' {
					if j+1 >= len(s) {
						return nil, errors.New("a trailing backslash")
					}
					pat.WriteString(s[j : j+2])
					j += 2
					continue
				}
				if s[j] == ')' {
					depth--
					if depth == 0 {
						j++
						break
					}
				} else if s[j] == '(' {
					depth++
					if j+1 >= len(s) || s[j+1] != '?' {
						return nil, fmt.Errorf("capturing groups are not allowed at %d", j)
					}
				}
				pat.WriteByte(s[j])
				j++
			}
			if depth != 0 {
				return nil, fmt.Errorf("unbalanced pattern at %d", i)
			}
			if pat.Len() == 0 {
				return nil, fmt.Errorf("missing pattern at %d", i)
			}
			out = append(out, ptLex{"PATTERN", pat.String()})
			i = j
		default:
			out = append(out, ptLex{"CHAR", s[i : i+1]})
			i++
		}
	}
	return append(out, ptLex{"END", ""}), nil
}

// ptKey is a parameter of a parsed pattern.
type ptKey struct {
	name           string
	prefix, suffix string
	pattern        string
	modifier       string
	repeat         bool
	isText         bool // a plain text token (name holds the text)
}

const ptDelims = "/#?"

func ptEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`.+*?=^!:${}()[]|/\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ptParse(s string) ([]ptKey, error) {
	toks, err := ptLexer(s)
	if err != nil {
		return nil, err
	}
	var out []ptKey
	i, unnamed := 0, 0
	path := ""
	try := func(kind string) (string, bool) {
		if i < len(toks) && toks[i].kind == kind {
			i++
			return toks[i-1].value, true
		}
		return "", false
	}
	must := func(kind string) error {
		if _, ok := try(kind); !ok {
			return fmt.Errorf("unexpected %s, expected %s", toks[i].kind, kind)
		}
		return nil
	}
	text := func() string {
		var b strings.Builder
		for {
			v, ok := try("CHAR")
			if !ok {
				v, ok = try("ESCAPED_CHAR")
			}
			if !ok {
				return b.String()
			}
			b.WriteString(v)
		}
	}
	defaultPattern := func(prefix string) (string, error) {
		var last *ptKey
		if len(out) > 0 {
			last = &out[len(out)-1]
		}
		e := prefix
		if e == "" && last != nil && last.isText {
			e = last.name
		}
		if last != nil && e == "" {
			return "", fmt.Errorf("must have text between two parameters, missing text after %q", last.name)
		}
		if e == "" || strings.ContainsAny(e, ptDelims) {
			return `[^\/#\?]+?`, nil
		}
		return "", fmt.Errorf("a parameter after %q needs a look-ahead, which is not supported", e)
	}
	for i < len(toks) {
		char, hasChar := try("CHAR")
		name, hasName := try("NAME")
		pattern, hasPattern := try("PATTERN")
		if hasName || hasPattern {
			prefix := char
			if !hasChar || !strings.Contains("./", prefix) {
				path += prefix
				prefix = ""
			}
			if path != "" {
				out = append(out, ptKey{isText: true, name: path})
				path = ""
			}
			k := ptKey{name: name, prefix: prefix, pattern: pattern}
			if !hasName {
				k.name = fmt.Sprint(unnamed)
				unnamed++
			}
			if !hasPattern {
				if k.pattern, err = defaultPattern(prefix); err != nil {
					return nil, err
				}
			}
			k.modifier, _ = try("MODIFIER")
			out = append(out, k)
			continue
		}
		if hasChar {
			path += char
			continue
		}
		if v, ok := try("ESCAPED_CHAR"); ok {
			path += v
			continue
		}
		if path != "" {
			out = append(out, ptKey{isText: true, name: path})
			path = ""
		}
		if _, ok := try("OPEN"); ok {
			prefix := text()
			name, _ := try("NAME")
			pattern, _ := try("PATTERN")
			suffix := text()
			if err := must("CLOSE"); err != nil {
				return nil, err
			}
			k := ptKey{name: name, prefix: prefix, suffix: suffix, pattern: pattern}
			if name == "" && pattern != "" {
				k.name = fmt.Sprint(unnamed)
				unnamed++
			}
			if name != "" && pattern == "" {
				if k.pattern, err = defaultPattern(prefix); err != nil {
					return nil, err
				}
			}
			k.modifier, _ = try("MODIFIER")
			out = append(out, k)
			continue
		}
		if err := must("END"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ptSource is tokensToRegexp's source for one pattern; keys gets its
// capture groups.
func ptSource(s string, keys *[]ptKey) (string, error) {
	toks, err := ptParse(s)
	if err != nil {
		return "", err
	}
	route := "^"
	for _, t := range toks {
		if t.isText {
			route += ptEscape(t.name)
			continue
		}
		prefix, suffix := ptEscape(t.prefix), ptEscape(t.suffix)
		switch {
		case t.pattern == "":
			route += "(?:" + prefix + suffix + ")" + t.modifier
		case prefix != "" || suffix != "":
			*keys = append(*keys, t)
			if t.modifier == "+" || t.modifier == "*" {
				(*keys)[len(*keys)-1].repeat = true
				opt := ""
				if t.modifier == "*" {
					opt = "?"
				}
				route += "(?:" + prefix + "((?:" + t.pattern + ")(?:" + suffix + prefix + "(?:" + t.pattern + "))*)" + suffix + ")" + opt
			} else {
				route += "(?:" + prefix + "(" + t.pattern + ")" + suffix + ")" + t.modifier
			}
		default:
			if t.modifier == "+" || t.modifier == "*" {
				return "", fmt.Errorf("can not repeat %q without a prefix and suffix", t.name)
			}
			*keys = append(*keys, t)
			route += "(" + t.pattern + ")" + t.modifier
		}
	}
	return route + `[\/#\?]?$`, nil
}

// compilePatterns compiles a list of patterns into one case-insensitive
// regular expression, as path-to-regexp does for an array.
func compilePatterns(patterns []string) (*orgMatcher, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	om := &orgMatcher{}
	sources := make([]string, len(patterns))
	for i, p := range patterns {
		src, err := ptSource(p, &om.keys)
		if err != nil {
			return nil, fmt.Errorf("invalid pattern %q: %w", p, err)
		}
		sources[i] = src
	}
	re, err := regexp.Compile("(?i)(?:" + strings.Join(sources, "|") + ")")
	if err != nil {
		return nil, fmt.Errorf("invalid patterns %q: %w", patterns, err)
	}
	if re.NumSubexp() != len(om.keys) {
		return nil, fmt.Errorf("invalid patterns %q: a custom group holds a capturing group", patterns)
	}
	om.re = re
	return om, nil
}
