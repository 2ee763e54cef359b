package role

import (
	"maps"
	"slices"
	"testing"
)

func TestScopePermitted(t *testing.T) {
	held := map[string]bool{"a": true}
	for _, tc := range []struct {
		name  string
		reach []string
		want  bool
	}{
		{"a scope without mappings applies to everyone", nil, true},
		{"a scope reaching a held role applies", []string{"x", "a"}, true},
		{"a scope reaching no held role does not apply", []string{"x", "y"}, false},
	} {
		if got := ScopePermitted(tc.reach, held); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func TestInScope(t *testing.T) {
	held := map[string]bool{"a": true, "b": true, "c": true}
	keys := func(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
	if got := keys(InScope(held, true, nil)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("full scope keeps every held role: %v", got)
	}
	if got := keys(InScope(held, false, []string{"a", "z"}, []string{"c"})); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("client and scope reach, held roles only: %v", got)
	}
	if got := keys(InScope(held, false, nil)); len(got) != 0 {
		t.Errorf("nothing reached, nothing carried: %v", got)
	}
}
