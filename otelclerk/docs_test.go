package otelclerk_test

import (
	"testing"

	"github.com/clerkauth/clerkauth/internal/doccheck"
)

// TestDocsSnippetsCompile builds the Go snippets of README.md and docs/
// that need this module's dependencies.
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	doccheck.Build(t, "..", "otelclerk")
}
