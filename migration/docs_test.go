package migration

import (
	"testing"

	"github.com/clerkauth/clerkauth/internal/doccheck"
)

// TestDocsSnippetsCompile builds the Go snippets of README.md and docs/
// that use clerk-sdk-go (the migration guide's "before" code, and the
// README's clerk-sdk-go-alongside lines).
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	doccheck.Build(t, "..", "migration")
}
