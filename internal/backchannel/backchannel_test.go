package backchannel_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/backchannel"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Retries: a 5xx or a failed connection is tried again up to Attempts
// times; a 2xx ends delivery; a 4xx (the RP refused the token) is final.
func TestDeliveryRetries(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := open(t)
		now := time.Now()
		rl := realm.New(store.NewID(), "demo")
		if err := provision.NewRealm(ctx, db, rl, now); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name    string
			answers []int
			calls   int32
		}{
			{"two 503s then 200: three calls", []int{503, 503, 200}, 3},
			{"always 500: Attempts calls", []int{500, 500, 500, 500}, backchannel.Attempts},
			{"400 is final", []int{400, 200}, 1},
			{"204 at once", []int{204}, 1},
		} {
			t.Run(c.name, func(t *testing.T) {
				var n atomic.Int32
				done := make(chan struct{}, 8)
				rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					i := n.Add(1) - 1
					w.WriteHeader(c.answers[min(int(i), len(c.answers)-1)])
					done <- struct{}{}
				}))
				defer rp.Close()
				cl := client.New(store.NewID(), rl.ID, "rp-"+store.NewID()[:8])
				cl.FrontchannelLogout = false
				cl.Attributes[backchannel.AttrURL] = rp.URL
				if err := provision.CreateClient(ctx, db, cl, now); err != nil {
					t.Fatal(err)
				}
				s := backchannel.New(db, outbound.New(outbound.Options{AllowPrivate: true, Timeout: time.Second}),
					slog.New(slog.NewTextHandler(t.Output(), nil)), time.Now, 10*time.Millisecond)
				s.SessionsEnded(backchannel.WithBase(ctx, "https://id.example"),
					[]store.EndedSession{{RealmID: rl.ID, ID: store.NewID(), UserID: store.NewID(), ClientIDs: []string{cl.ID}}})
				for range c.calls {
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						t.Fatalf("only %d calls, want %d", n.Load(), c.calls)
					}
				}
				time.Sleep(200 * time.Millisecond) // room for a call too many
				if got := n.Load(); got != c.calls {
					t.Fatalf("%d calls, want %d", got, c.calls)
				}
			})
		}
	})
}
