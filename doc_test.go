package clerkauth

import (
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

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

// A docSnippet is one ```go block of a Markdown page.
type docSnippet struct {
	where string // file:line of the block
	code  string
}

// docSnippets returns the ```go blocks of README.md and docs/*.md.
func docSnippets(t *testing.T) []docSnippet {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []docSnippet
	for _, page := range append([]string{"README.md"}, pages...) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		var cur []string
		start, in := 0, false
		for i, l := range strings.Split(string(b), "\n") {
			switch {
			case !in && strings.TrimSpace(l) == "```go":
				in, start, cur = true, i+1, nil
			case in && strings.TrimSpace(l) == "```":
				in = false
				out = append(out, docSnippet{fmt.Sprintf("%s:%d", page, start), strings.Join(cur, "\n")})
			case in:
				cur = append(cur, l)
			}
		}
		if in {
			t.Errorf("%s: a ```go block from line %d is not closed", page, start)
		}
	}
	return out
}

// snippetImports maps the package names doc snippets use to their import
// paths; a snippet that starts with "package" gives its own imports.
var snippetImports = map[string]string{
	"clerkauth": "github.com/clerkauth/clerkauth", "clerktest": "github.com/clerkauth/clerkauth/clerktest",
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "json": "encoding/json",
	"log": "log", "slog": "log/slog", "os": "os", "strings": "strings", "time": "time",
	"http": "net/http", "httptest": "net/http/httptest", "testing": "testing",
	"chi": "github.com/go-chi/chi/v5", "gin": "github.com/gin-gonic/gin",
	"clerk": "github.com/clerk/clerk-sdk-go/v2", "clerkhttp": "github.com/clerk/clerk-sdk-go/v2/http",
	"organization": "github.com/clerk/clerk-sdk-go/v2/organization", "user": "github.com/clerk/clerk-sdk-go/v2/user",
}

// snippetModules: a snippet importing one of these builds in that nested
// module (which requires it); every other snippet in this one.
var snippetModules = map[string]string{
	"github.com/go-chi/": "examples/chi", "github.com/gin-gonic/": "examples/gin",
	"github.com/clerk/clerk-sdk-go/": "migration",
}

// snippetPreamble declares what fragments use without declaring it: the
// names the prose around them gives (mw, r, auth, your handlers).
const snippetPreamble = `var (
	w                                                                        http.ResponseWriter
	r                                                                        *http.Request
	mw                                                                       *clerkauth.Middleware
	auth                                                                     *clerkauth.Auth
	ctx                                                                      context.Context
	mux                                                                      *http.ServeMux
	opts                                                                     clerkauth.Options
	publicHandler, privateHandler, meHandler, reportsHandler, invoicesHandler http.Handler
	public, protected                                                        http.HandlerFunc
)
`

// snippetProgram turns a snippet into a main package: a whole file stays
// as it is; a fragment's top-level declarations (lines at column 0 from
// func, type, var or const to their closing brace) stay at the top level
// and its statements go into a block of a function, with imports for the
// package names it uses.
func snippetProgram(code string) (src string, imports []string) {
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		for _, l := range strings.Split(code, "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, `"`) || strings.HasPrefix(l, "import \"") {
				if _, path, ok := strings.Cut(l, `"`); ok {
					path, _, _ = strings.Cut(path, `"`)
					imports = append(imports, path)
				}
			}
		}
		return code, imports
	}
	var decls, stmts []string
	inDecl := false
	for _, l := range strings.Split(code, "\n") {
		top := false
		for _, kw := range []string{"func ", "type ", "var ", "const "} {
			top = top || strings.HasPrefix(l, kw)
		}
		switch {
		case inDecl:
			decls = append(decls, l)
			inDecl = l != "}" && l != ")"
		case top:
			decls = append(decls, l)
			inDecl = strings.HasSuffix(l, "{") || strings.HasSuffix(l, "(")
		default:
			stmts = append(stmts, l)
		}
	}
	used := map[string]bool{"github.com/clerkauth/clerkauth": true, "context": true, "net/http": true} // the preamble's
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	prev := ""
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && snippetImports[prev] != "" {
			used[snippetImports[prev]] = true
		}
		prev = ""
		if tok == token.IDENT {
			prev = lit
		}
	}
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for path := range used {
		imports = append(imports, path)
	}
	slices.Sort(imports)
	for _, path := range imports {
		name := ""
		for n, p := range snippetImports {
			if p == path && !strings.HasSuffix(path, "/"+n) && path != n {
				name = n + " "
			}
		}
		fmt.Fprintf(&b, "\t%s%q\n", name, path)
	}
	b.WriteString(")\n\n" + snippetPreamble + "\n" + strings.Join(decls, "\n") + "\n\n")
	body := "func snippet() {\n{\n" + strings.Join(stmts, "\n") + "\n}\n}\n"
	if !slices.ContainsFunc(decls, func(l string) bool { return strings.HasPrefix(l, "func main(") }) {
		body += "\nfunc main() {}\n"
	}
	b.WriteString(body)
	return b.String(), imports
}

// TestDocsSnippetsCompile builds every ```go block of README.md and
// docs/*.md, each as a program of its own, in the module that has its
// imports (examples/chi for chi, examples/gin for gin, migration for
// clerk-sdk-go). A fragment may leave variables and imports unused (it
// shows a step, not a program); any other compile error fails.
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	snippets := docSnippets(t)
	if len(snippets) < 10 {
		t.Fatalf("found %d Go snippets in README.md and docs/, want at least 10", len(snippets))
	}
	type built struct {
		docSnippet
		dir, src string
	}
	byModule := map[string][]built{}
	for _, sn := range snippets {
		src, imports := snippetProgram(sn.code)
		mod := "."
		for _, path := range imports {
			for prefix, m := range snippetModules {
				if strings.HasPrefix(path, prefix) {
					if mod != "." && mod != m {
						t.Errorf("%s: imports of two modules, %s and %s", sn.where, mod, m)
					}
					mod = m
				}
			}
		}
		byModule[mod] = append(byModule[mod], built{docSnippet: sn, src: src})
	}
	for mod, list := range byModule {
		tmp, err := os.MkdirTemp(mod, "docsnippets")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		for i := range list {
			list[i].dir = filepath.Join(tmp, fmt.Sprintf("s%02d", i))
			if err := os.MkdirAll(list[i].dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(list[i].dir, "main.go"), []byte(list[i].src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// With two packages or more, go build compiles and discards: no
		// linking, and no executable of a lone main package left in the
		// module. So there is always one more, empty package.
		if err := os.MkdirAll(filepath.Join(tmp, "zz"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "zz", "zz.go"), []byte("package zz\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(goBin, "build", "-gcflags=-e", "./"+filepath.Base(tmp)+"/...")
		cmd.Dir = mod
		out, _ := cmd.CombinedOutput()
		failed := map[int][]string{}
		for _, l := range strings.Split(string(out), "\n") {
			if l == "" || strings.HasPrefix(l, "#") || strings.Contains(l, "declared and not used") || strings.Contains(l, "imported and not used") {
				continue
			}
			i := -1
			if _, rest, ok := strings.Cut(l, filepath.Base(tmp)+"/s"); ok && len(rest) >= 2 {
				fmt.Sscanf(rest[:2], "%d", &i)
			}
			failed[i] = append(failed[i], l)
		}
		for i, lines := range failed {
			if i < 0 || i >= len(list) {
				t.Errorf("module %s: go build: %s", mod, strings.Join(lines, "\n"))
				continue
			}
			t.Errorf("%s: the snippet does not compile (module %s):\n%s\n--- as built:\n%s", list[i].where, mod, strings.Join(lines, "\n"), list[i].src)
		}
	}
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
