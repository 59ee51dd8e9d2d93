// Package doccheck builds the Go snippets of the repository's Markdown
// pages (README.md and docs/*.md), so that no page shows code that does
// not compile. Each snippet builds in the module that has its imports: the
// library's own, or a nested one (chi, gin, clerk-sdk-go), whose tests call
// [Build] for their share. Only tests use it.
package doccheck

import (
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A Snippet is one ```go block of a Markdown page.
type Snippet struct {
	Where string // page:line of the block, relative to the repository
	Code  string
}

// Snippets returns the ```go blocks of README.md and docs/*.md under root,
// the repository's directory.
func Snippets(root string) ([]Snippet, error) {
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	var out []Snippet
	for _, page := range append([]string{filepath.Join(root, "README.md")}, pages...) {
		b, err := os.ReadFile(page)
		if err != nil {
			return nil, err
		}
		name, _ := filepath.Rel(root, page)
		var cur []string
		start, in := 0, false
		for i, l := range strings.Split(string(b), "\n") {
			switch {
			case !in && strings.TrimSpace(l) == "```go":
				in, start, cur = true, i+1, nil
			case in && strings.TrimSpace(l) == "```":
				in = false
				out = append(out, Snippet{fmt.Sprintf("%s:%d", name, start), strings.Join(cur, "\n")})
			case in:
				cur = append(cur, l)
			}
		}
		if in {
			return nil, fmt.Errorf("%s: the ```go block of line %d is not closed", name, start)
		}
	}
	return out, nil
}

// imports maps the package names snippets use to their import paths; a
// snippet that starts with "package" gives its own imports.
var imports = map[string]string{
	"clerkauth": "github.com/clerkauth/clerkauth", "clerktest": "github.com/clerkauth/clerkauth/clerktest",
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "json": "encoding/json",
	"log": "log", "slog": "log/slog", "os": "os", "strings": "strings", "time": "time",
	"http": "net/http", "httptest": "net/http/httptest", "testing": "testing",
	"chi": "github.com/go-chi/chi/v5", "gin": "github.com/gin-gonic/gin",
	"clerk": "github.com/clerk/clerk-sdk-go/v2", "clerkhttp": "github.com/clerk/clerk-sdk-go/v2/http",
	"organization": "github.com/clerk/clerk-sdk-go/v2/organization", "user": "github.com/clerk/clerk-sdk-go/v2/user",
	"redis": "github.com/redis/go-redis/v9", "redisstore": "github.com/clerkauth/clerkauth/redisstore",
	"otelclerk": "github.com/clerkauth/clerkauth/otelclerk", "prometheus": "github.com/prometheus/client_golang/prometheus",
	"promhttp": "github.com/prometheus/client_golang/prometheus/promhttp", "otelprom": "go.opentelemetry.io/otel/exporters/prometheus",
	"sdkmetric": "go.opentelemetry.io/otel/sdk/metric",
}

// modules: a snippet importing one of these builds in that nested module
// (which requires it); every other one in the library's. The first match
// wins: examples/prometheus also requires otelclerk.
var modules = []struct{ prefix, module string }{
	{"github.com/go-chi/", "examples/chi"},
	{"github.com/gin-gonic/", "examples/gin"},
	{"github.com/clerk/clerk-sdk-go/", "migration"},
	{"github.com/redis/go-redis/", "redisstore"},
	{"github.com/clerkauth/clerkauth/redisstore", "redisstore"},
	{"github.com/prometheus/", "examples/prometheus"},
	{"go.opentelemetry.io/otel/exporters/prometheus", "examples/prometheus"},
	{"github.com/clerkauth/clerkauth/otelclerk", "otelclerk"},
}

// preamble declares what fragments use without declaring it: the names
// the prose around them gives (mw, r, auth, your handlers).
const preamble = `var (
	w                                                                        http.ResponseWriter
	r                                                                        *http.Request
	mw                                                                       *clerkauth.Middleware
	auth                                                                     *clerkauth.Auth
	ctx                                                                      context.Context
	mux                                                                      *http.ServeMux
	opts                                                                     clerkauth.Options
	publicHandler, privateHandler, meHandler, reportsHandler, invoicesHandler http.Handler
	public, protected                                                        http.HandlerFunc
	dashboard, settings, fragment, me                                        http.Handler
	home                                                                     http.HandlerFunc
	addr                                                                     string
	forbiddenPage                                                            func(http.ResponseWriter, *http.Request, error)
)
`

// Module is the directory, relative to the repository, of the module the
// snippet builds in: "." for the library's.
func (s Snippet) Module() string {
	_, paths := s.program()
	for _, m := range modules {
		for _, path := range paths {
			if strings.HasPrefix(path, m.prefix) {
				return m.module
			}
		}
	}
	return "."
}

// program turns the snippet into a main package: a whole file stays as it
// is; a fragment's top-level declarations (lines at column 0 from func,
// type, var or const to their closing brace) stay at the top level and its
// statements go into a block of a function, with imports for the package
// names it uses.
func (s Snippet) program() (src string, paths []string) {
	code := s.Code
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		// A whole file; one that does not parse fails to build.
		if f, err := parser.ParseFile(token.NewFileSet(), "", code, parser.ImportsOnly); err == nil {
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				paths = append(paths, path)
			}
		}
		return code, paths
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
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	prev := ""
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && imports[prev] != "" {
			used[imports[prev]] = true
		}
		prev = ""
		if tok == token.IDENT {
			prev = lit
		}
	}
	for path := range used {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, path := range paths {
		name := ""
		for n, p := range imports {
			if p == path && !strings.HasSuffix(path, "/"+n) && path != n {
				name = n + " "
			}
		}
		fmt.Fprintf(&b, "\t%s%q\n", name, path)
	}
	b.WriteString(")\n\n" + preamble + "\n" + strings.Join(decls, "\n") + "\n\n")
	b.WriteString("func snippet() {\n{\n" + strings.Join(stmts, "\n") + "\n}\n}\n")
	if !slices.ContainsFunc(decls, func(l string) bool { return strings.HasPrefix(l, "func main(") }) {
		b.WriteString("\nfunc main() {}\n")
	}
	return b.String(), paths
}

// Build builds, each as a program of its own, the snippets of the
// repository at root that build in module (a directory relative to root,
// "." for the library's), and fails t for each that does not compile. A
// fragment may leave variables and imports unused (it shows a step, not a
// program); any other compile error fails. It fails t when no snippet
// builds in module, so a test never checks nothing.
func Build(t *testing.T, root, module string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("no go command: ", err)
	}
	all, err := Snippets(root)
	if err != nil {
		t.Fatal(err)
	}
	var list []Snippet
	for _, s := range all {
		if s.Module() == module {
			list = append(list, s)
		}
	}
	if len(list) == 0 {
		t.Fatalf("no Go snippet of README.md or docs/ builds in module %s", module)
	}
	dir := filepath.Join(root, module)
	tmp, err := os.MkdirTemp(dir, "docsnippets")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	srcs := make([]string, len(list))
	write := func(sub, name, src string) {
		if err := os.MkdirAll(filepath.Join(tmp, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, sub, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range list {
		srcs[i], _ = s.program()
		write(fmt.Sprintf("s%02d", i), "main.go", srcs[i])
	}
	// With two packages or more, go build compiles and discards: no
	// linking, and no executable of a lone main package left in the
	// module. So there is always one more, empty package.
	write("zz", "zz.go", "package zz\n")
	cmd := exec.Command(goBin, "build", "-gcflags=-e", "./"+filepath.Base(tmp)+"/...")
	cmd.Dir = dir
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
			t.Errorf("module %s: go build: %s", module, strings.Join(lines, "\n"))
			continue
		}
		t.Errorf("%s: the snippet does not compile (module %s):\n%s\n--- as built:\n%s", list[i].Where, module, strings.Join(lines, "\n"), srcs[i])
	}
}
