package profile

import (
	"slices"
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	for _, tc := range []struct {
		name  string
		id    string
		cfg   map[string]any
		value string
		want  string
	}{
		{"length between", "length", map[string]any{"min": 2.0, "max": 4.0}, "abcde", "error-invalid-length"},
		{"length trims", "length", map[string]any{"max": 3.0}, " abc ", ""},
		{"length only min", "length", map[string]any{"min": 3.0}, "ab", "error-invalid-length-too-short"},
		{"length only max", "length", map[string]any{"max": 1.0}, "ab", "error-invalid-length-too-long"},
		{"pattern whole value", "pattern", map[string]any{"pattern": "[0-9]+"}, "12a", "error-pattern-no-match"},
		{"pattern match", "pattern", map[string]any{"pattern": "[0-9]+"}, "123", ""},
		{"pattern own message", "pattern", map[string]any{"pattern": "x", "error-message": "mine"}, "y", "mine"},
		{"email", "email", nil, "a@b", ""},
		{"not email", "email", nil, "a.b", "error-invalid-email"},
		{"email with IP literal", "email", nil, "a@[192.0.2.1]", ""},
		{"email with unicode label", "email", nil, "ä@bücher.example", ""},
		{"email label of 63", "email", nil, "a@" + strings.Repeat("b", 63) + ".example", ""},
		{"email label of 64", "email", nil, "a@" + strings.Repeat("b", 64) + ".example", "error-invalid-email"},
		{"email label ending in hyphen", "email", nil, "a@b-.example", "error-invalid-email"},
		{"email local with two dots", "email", nil, "a..b@c", "error-invalid-email"},
		{"options", "options", map[string]any{"options": []any{"a", "b"}}, "c", "error-invalid-value"},
		{"integer", "integer", nil, "1.5", "error-invalid-number"},
		{"integer range", "integer", map[string]any{"min": "1", "max": "3"}, "4", "error-number-out-of-range"},
		{"integer too small", "integer", map[string]any{"min": 5.0}, "4", "error-number-out-of-range-too-small"},
		{"double too big", "double", map[string]any{"max": 1.5}, "1.6", "error-number-out-of-range-too-big"},
		{"double", "double", nil, "1e3", ""},
		{"uri", "uri", nil, "https://example.org/a", ""},
		{"uri scheme", "uri", nil, "javascript:alert(1)", "error-invalid-uri-scheme"},
		{"uri relative", "uri", nil, "/a/b", "error-invalid-uri"},
		{"uri fragment", "uri", map[string]any{"allowFragment": false}, "https://x.org/#f", "error-invalid-uri-fragment"},
		{"person name", "person-name-prohibited-characters", nil, "Ann<script>", "error-person-name-invalid-character"},
		{"username chars", "username-prohibited-characters", nil, "a b", "error-username-invalid-character"},
		{"homograph", "up-username-not-idn-homograph", nil, "pаypal", "error-username-invalid-character"},
	} {
		got, _ := check(tc.id, tc.cfg, "attr", tc.value)
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown validator": `{"attributes":[{"name":"username"},{"name":"email"},{"name":"a","validations":{"x":{}}}]}`,
		"lookbehind":        `{"attributes":[{"name":"username"},{"name":"email"},{"name":"a","validations":{"pattern":{"pattern":"(?<=x)"}}}]}`,
		"min above max":     `{"attributes":[{"name":"username"},{"name":"email"},{"name":"a","validations":{"length":{"min":5,"max":2}}}]}`,
		"unknown group":     `{"attributes":[{"name":"username"},{"name":"email"},{"name":"a","group":"g"}]}`,
		"bad name":          `{"attributes":[{"name":"username"},{"name":"email"},{"name":"a b"}]}`,
		"no username":       `{"attributes":[{"name":"email"}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Parse([]byte(`{"attributes":[{"name":"username"},{"name":"email"}]}`)); err != nil {
		t.Errorf("minimal: %v", err)
	}
}

// Who sees and edits what, and what an update keeps.
func TestPermissionsAndMerge(t *testing.T) {
	c := Default()
	c.UnmanagedAttributePolicy = ""
	c.Attributes = append(c.Attributes,
		Attribute{Name: "mine", Permissions: &Permissions{View: []string{"admin", "user"}, Edit: []string{"user"}}},
		Attribute{Name: "theirs", Permissions: &Permissions{View: []string{"admin"}, Edit: []string{"admin"}}},
		Attribute{Name: "shown", Permissions: &Permissions{View: []string{"user", "admin"}, Edit: []string{"admin"}}})
	user := Account(false)
	old := map[string][]string{"mine": {"1"}, "theirs": {"2"}, "shown": {"3"}, "loose": {"4"}}
	vis := c.Visible(user, old)
	if _, ok := vis["theirs"]; ok || len(vis) != 2 {
		t.Errorf("user sees %v", vis)
	}
	if c.CanEdit(user, "username") || !c.CanEdit(Account(true), "username") {
		t.Error("username editing must follow the realm")
	}
	got := c.Merge(user, old, map[string][]string{"mine": {"9"}, "theirs": {"x"}, "loose": {"y"}})
	want := map[string][]string{"mine": {"9"}, "theirs": {"2"}, "shown": {"3"}, "loose": {"4"}}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("merge %s = %v, want %v", k, got[k], v)
		}
	}
	// A visible read-only attribute sent changed is refused, not dropped.
	next := c.Merge(user, old, map[string][]string{"mine": {"1"}, "shown": {"changed"}})
	errs := c.Validate(user, Values(old, "u1", "u@x.org", "U", "One"), Values(next, "u1", "u@x.org", "U", "One"))
	if errs == nil || errs.List[0].Field != "shown" || errs.List[0].Message != "updateReadOnlyAttributesRejectedMessage" {
		t.Errorf("read-only change: %+v", errs)
	}
	// Required of users, not of administrators.
	if e := c.Validate(user, nil, Values(nil, "uu1", "", "U", "One")); e == nil || e.List[0].Message != "missingEmailMessage" {
		t.Errorf("email required of users: %+v", e)
	}
	if e := c.Validate(Admin, nil, Values(nil, "uu1", "", "", "")); e != nil {
		t.Errorf("admin context: %+v", e)
	}
}
