package clerkauth

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/clerkauth/clerkauth/internal/doccheck"
	"github.com/clerkauth/clerkauth/internal/instance"
)

// TestDocSnippetCompiles builds the net/http snippet of the package doc as
// a program of its own, so that the landing page never shows code that
// does not compile.
func TestDocSnippetCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var body []string
	for _, l := range strings.Split(string(src), "\n") {
		if code, ok := strings.CutPrefix(l, "//\t"); ok {
			body = append(body, code)
		} else if len(body) > 0 {
			break // the first snippet only
		}
	}
	if len(body) < 8 || len(body) > 12 {
		t.Fatalf("the package doc's first snippet has %d lines, want about 10", len(body))
	}
	prog := "package main\n\nimport (\n\t\"fmt\"\n\t\"log\"\n\t\"net/http\"\n\n\t\"github.com/clerkauth/clerkauth\"\n)\n\nfunc main() {\n" +
		strings.Join(body, "\n") + "\n}\n"
	dir, err := os.MkdirTemp(".", "docsnippet")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goBin, "vet", "./"+filepath.Base(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("the package doc's snippet does not compile: %v\n%s\n%s", err, out, prog)
	}
}

// TestDocsSnippetsCompile builds the Go snippets of README.md and
// docs/*.md that need only this module; examples/chi, examples/gin and
// migration build theirs in their own tests. No snippet is left to none.
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	snippets, err := doccheck.Snippets(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(snippets) < 10 {
		t.Fatalf("found %d Go snippets in README.md and docs/, want at least 10", len(snippets))
	}
	for _, sn := range snippets {
		if m := sn.Module(); !slices.Contains([]string{".", "examples/chi", "examples/gin", "migration", "redisstore", "otelclerk", "examples/prometheus"}, m) {
			t.Errorf("%s: builds in module %q, which has no test building it", sn.Where, m)
		}
	}
	doccheck.Build(t, ".", ".")
}

// TestVersionMatchesChangelog: the version the library reports (the
// User-Agent of every Backend API call, the CLI's version) is the latest
// release of CHANGELOG.md, and README names it.
func TestVersionMatchesChangelog(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	latest := ""
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "## ["); ok && !strings.HasPrefix(v, "Unreleased") {
			latest, _, _ = strings.Cut(v, "]")
			break
		}
	}
	if latest != instance.Version {
		t.Errorf("CHANGELOG.md's latest release is %q, the library reports %q (internal/instance.Version)", latest, instance.Version)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "v"+instance.Version+" ") {
		t.Errorf("README.md does not name v%s", instance.Version)
	}
}

// TestDocsLinks: every relative link of README.md, CHANGELOG.md and
// docs/*.md names a file of the repository, and every #anchor a heading of
// its page (as GitHub spells anchors), so moving a section never leaves a
// link dangling.
func TestDocsLinks(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "README.md", "CHANGELOG.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	anchors := func(page string) map[string]bool {
		b, err := os.ReadFile(page)
		if err != nil {
			return nil
		}
		out := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "#") {
				continue
			}
			h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
			var a strings.Builder
			for _, r := range h {
				switch {
				case r == ' ':
					a.WriteRune('-')
				case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
					a.WriteRune(r)
				}
			}
			out[a.String()] = true
		}
		return out
	}
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: link %q: no such file %s", page, target, path)
					continue
				}
			}
			if anchor != "" && !anchors(path)[anchor] {
				t.Errorf("%s: link %q: no heading #%s in %s", page, target, anchor, path)
			}
		}
	}
}
