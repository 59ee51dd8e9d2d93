package clerkauth

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
