package store

import (
	"slices"
	"testing"
)

// The mappings column splits back into the ids only when no id holds the
// separator; otherwise the caller reads the mappings itself.
func TestSplitMappingIDs(t *testing.T) {
	for _, tc := range []struct {
		col  string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"1:a", []string{"a"}, true},
		{"2:a b", []string{"a", "b"}, true},
		{"1:r1 admin", nil, false},
		{"2:r1 admin x", nil, false},
		{"1:a\tb", []string{"a\tb"}, true},
		{"x", nil, false},
	} {
		got, ok := splitMappingIDs(tc.col)
		if ok != tc.ok || (ok && !slices.Equal(got, tc.want)) {
			t.Errorf("splitMappingIDs(%q) = %q, %v; want %q, %v", tc.col, got, ok, tc.want, tc.ok)
		}
	}
}
