package role_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/role"
)

func TestSubtree(t *testing.T) {
	gs := []role.Group{
		{ID: "staff"}, {ID: "ops", ParentID: "staff"}, {ID: "night", ParentID: "ops"},
		{ID: "contractors"},
		// A parent cycle the store never holds is cut, not followed forever.
		{ID: "a", ParentID: "b"}, {ID: "b", ParentID: "a"},
	}
	for _, tc := range []struct {
		root string
		want []string
	}{
		{"staff", []string{"staff", "ops", "night"}},
		{"ops", []string{"ops", "night"}},
		{"contractors", []string{"contractors"}},
		{"a", []string{"a", "b"}},
		{"unknown", []string{"unknown"}},
	} {
		if got := role.Subtree(gs, tc.root); !slices.Equal(got, tc.want) {
			t.Errorf("Subtree(%s) = %v, want %v", tc.root, got, tc.want)
		}
	}
}
