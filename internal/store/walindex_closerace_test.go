//go:build unix

package store_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// A request still running when the node closes (a handler left behind by a
// shutdown that timed out) gets an error, never a fault on unmapped memory.
func TestSQLiteCloseDuringRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	a, err := store.Open(t.Context(), store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	rl, _ := realmWithClient(t, a, "closerace", func(*client.Client) {})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for j := 0; j < 20000; j++ {
				if _, err := a.GetClientByClientID(store.WithConfigView(t.Context()), rl.ID, "app"); err != nil {
					return
				}
			}
		}()
	}
	close(start)
	a.Close()
	wg.Wait()
}
