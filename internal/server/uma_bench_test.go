package server_test

import (
	"net/url"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// BenchmarkUMAGrant is one uma-ticket grant for photo#view over HTTP on
// SQLite: the user's token checked, the model read (from the node's
// configuration cache), the identity built, the permissions evaluated and
// the RPT signed.
func BenchmarkUMAGrant(b *testing.B) {
	e := newUMAEnv(b, []*store.DB{storetest.Open(b)})
	photo, _ := e.registerPhoto(e.pat(0))
	alice := e.userToken(0, "alice")
	for b.Loop() {
		if st, body := e.umaForm(alice, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}}); st != 200 {
			b.Fatalf("grant: %d %v", st, body)
		}
	}
}
