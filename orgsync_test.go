package clerkauth

import (
	"maps"
	"strings"
	"testing"
)

// TestPathPatterns compares the path-to-regexp port with the answers of
// @clerk/shared 3.x's match (path-to-regexp 6), run on the same inputs.
func TestPathPatterns(t *testing.T) {
	cases := []struct {
		patterns []string
		path     string
		params   map[string]string // nil: no match
	}{
		{[]string{"/orgs/:slug", "/orgs/:slug/(.*)"}, "/orgs/acme", map[string]string{"slug": "acme"}},
		{[]string{"/orgs/:slug", "/orgs/:slug/(.*)"}, "/orgs/acme/", map[string]string{"slug": "acme"}},
		{[]string{"/orgs/:slug", "/orgs/:slug/(.*)"}, "/ORGS/Acme/settings/x", map[string]string{"0": "settings/x", "slug": "Acme"}},
		{[]string{"/orgs/:slug", "/orgs/:slug/(.*)"}, "/orgs", nil},
		{[]string{"/orgs/:slug", "/orgs/:slug/(.*)"}, "/orgs/acme%20x/y", map[string]string{"0": "y", "slug": "acme%20x"}},
		{[]string{"/orgs/:slug", "/orgs/:slug/(.*)"}, "/orgsx/acme", nil},
		{[]string{"/o/:id"}, "/o/org_1", map[string]string{"id": "org_1"}},
		{[]string{"/o/:id"}, "/o/org_1/x", nil},
		{[]string{"/o/:id"}, "/o/org_1#x", nil},
		{[]string{"/me", "/me/(.*)"}, "/me", map[string]string{}},
		{[]string{"/me", "/me/(.*)"}, "/me/", map[string]string{}},
		{[]string{"/me", "/me/(.*)"}, "/me/a/b", map[string]string{"0": "a/b"}},
		{[]string{"/me", "/me/(.*)"}, "/mex", nil},
		{[]string{"/team/:slug+"}, "/team/a/b/c", map[string]string{"slug": "a,b,c"}},
		{[]string{"/team/:slug+"}, "/team", nil},
		{[]string{"/team{/:slug}?"}, "/team", map[string]string{}},
		{[]string{"/team{/:slug}?"}, "/team/x", map[string]string{"slug": "x"}},
		{[]string{"/a/:slug.html"}, "/a/x.html", map[string]string{"slug": "x"}},
		{[]string{"/a/:slug.html"}, "/a/x.y.html", map[string]string{"slug": "x.y"}},
		{[]string{`/files/(\d+)`}, "/files/12", map[string]string{"0": "12"}},
		{[]string{`/files/(\d+)`}, "/files/ab", nil},
	}
	for _, tc := range cases {
		m, err := compilePatterns(tc.patterns)
		if err != nil {
			t.Fatalf("%q: %v", tc.patterns, err)
		}
		params, ok := m.match(tc.path)
		if ok != (tc.params != nil) || ok && !maps.Equal(params, tc.params) {
			t.Errorf("%q on %s: %v %v, want %v", tc.patterns, tc.path, params, ok, tc.params)
		}
	}
	// Refused as by path-to-regexp, and the look-ahead RE2 lacks.
	for _, bad := range []string{"/:a:b", "/(", "/((x))", "/:a-:b", "/x/(?=y)"} {
		if _, err := compilePatterns([]string{bad}); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

// FuzzPathPattern: compiling any pattern and matching any path never
// panics.
func FuzzPathPattern(f *testing.F) {
	for _, p := range []string{"/orgs/:slug/(.*)", "/team{/:slug}?", "/team/:slug+", "/a\\:b/:c*", "/(\\d+)"} {
		f.Add(p, "/orgs/acme/x")
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		m, err := compilePatterns([]string{pattern})
		if err != nil || m == nil {
			return
		}
		if params, ok := m.match(path); ok {
			for _, v := range params {
				if !strings.Contains(path, strings.Split(v, ",")[0]) {
					t.Fatalf("param %q not in %q", v, path)
				}
			}
		}
	})
}
