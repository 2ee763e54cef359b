package store_test

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Both(t, storetest.Run)
}

// Both dialects must hold the same migration versions: a version present in
// one folder only means the two schemas have drifted.
func TestMigrationsMatch(t *testing.T) {
	names := func(dir string) []string {
		es, err := fs.ReadDir(store.Migrations(), "migrations/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	lite, pg := names("sqlite"), names("postgres")
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("migration folders differ: sqlite %v, postgres %v", lite, pg)
	}
}
