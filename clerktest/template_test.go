package clerktest

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzTemplateShortcodes: rendering any template string never panics,
// gives JSON-encodable values, leaves text without "{{" as it is, and
// gives text for anything but a single whole shortcode.
func FuzzTemplateShortcodes(f *testing.F) {
	for _, s := range []string{
		"plain", "{{user.id}}", "{{user.first_name}} {{user.last_name}}", "{{user.public_metadata.a.b}}",
		"{{user.email_verified || user.phone_number_verified}}", "{{ user.public_metadata.age || 30 }}",
		"{{user.full_name || 'Awesome User'}}", "{{org.role}}", "{{", "}}{{", "{{}}", "{{'}}", "a{{user.id",
		"{{user.unsafe_metadata}} x", "{{1e400}}", "{{\"12\"}}", "{{||}}", "{{ | }}",
	} {
		f.Add(s)
	}
	user := User{ID: "user_1", FirstName: "Ada", Email: "ada@example.com",
		PublicMetadata: map[string]any{"a": map[string]any{"b": []any{1, "x"}}, "age": 0},
		UnsafeMetadata: map[string]any{"k": nil}}
	tcs := []templateContext{
		{userID: "user_1", user: &user, session: map[string]any{"o": map[string]any{"id": "org_1", "slg": "acme", "rol": "admin"}}},
		{userID: "user_2", session: map[string]any{}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tc := range tcs {
			v := tc.renderString(s)
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("%q renders %#v, not JSON: %v", s, v, err)
			}
			whole := strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1
			if !strings.Contains(s, "{{") && v != s {
				t.Fatalf("%q without shortcodes renders %#v", s, v)
			}
			if _, isText := v.(string); !whole && !isText {
				t.Fatalf("%q is not one whole shortcode but renders %#v", s, v)
			}
		}
	})
}
