package adminperm_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOneHomeForDeletions: outside the store and this package, no code
// deletes a group, role, client or identity provider through the store, so
// every deletion forgets its permissions (delete.go).
func TestOneHomeForDeletions(t *testing.T) {
	root := filepath.Join("..", "..")
	call := regexp.MustCompile(`(\w+)\.Delete(Group|Role|Client|IdentityProvider)\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(path)
		if d.IsDir() {
			if strings.HasSuffix(slash, "internal/store") || strings.HasSuffix(slash, "internal/adminperm") || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && d.Name() != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := call.FindStringSubmatch(line); m != nil && m[1] != "adminperm" {
				t.Errorf("%s:%d deletes through the store: use adminperm's Delete functions: %s", slash, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
