package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// F2 and F3: with refresh token rotation on, one refresh token is honoured
// maxReuse+1 times, never more, however many nodes race for it; the reuse
// count lives in the database (store.UpdateClientSession deciding with
// session.DecideRefresh). Every node reads the
// realm on each request, so the test changes maxReuse between runs through
// the store.
func TestF2F3RefreshReuseAcrossNodes(t *testing.T) {
	requirePostgres(t)
	b := newBackend(t, store.Postgres, realmSettings{revokeRefreshToken: true})
	nodes := []*node{startNode(t, "a", b), startNode(t, "b", b)}
	fx := loadFixture(t, b.db)
	setReuse := func(n int) {
		if err := b.db.UpdateRealm(context.Background(), fx.realmID, func(r *realm.Realm) error {
			r.RevokeRefreshToken, r.RefreshTokenMaxReuse = true, n
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		maxReuse, trials int
	}{{0, 30}, {1, 15}, {3, 15}} {
		t.Run(fmt.Sprintf("maxReuse %d: %d×20 concurrent refreshes give exactly %d × 200 each", tc.maxReuse, tc.trials, tc.maxReuse+1), func(t *testing.T) {
			setReuse(tc.maxReuse)
			const conc = 20
			began := time.Now()
			extra, short := 0, 0
			for trial := range tc.trials {
				rt := fx.refreshToken(t, nodes[trial%2])
				replies := race(conc, func(i int) reply { return nodes[(trial+i)%2].refresh(rt) })
				wins, newest := 0, ""
				for _, r := range replies {
					switch {
					case r.status == http.StatusOK:
						wins++
						newest = r.str("refresh_token")
					case r.status != http.StatusBadRequest || r.str("error") != "invalid_grant":
						t.Errorf("trial %d: %v, want 200 or 400 invalid_grant", trial, r)
					}
				}
				switch {
				case wins > tc.maxReuse+1:
					extra++
					t.Errorf("trial %d: %d successes, want exactly %d", trial, wins, tc.maxReuse+1)
				case wins < tc.maxReuse+1:
					short++
					t.Errorf("trial %d: %d successes, want exactly %d", trial, wins, tc.maxReuse+1)
				}
				// The requests over the limit were reuse: the family is dead
				// on every node, the winners' new tokens included (KC).
				if newest != "" {
					if r := nodes[(trial+1)%2].refresh(newest); r.status != http.StatusBadRequest {
						t.Errorf("trial %d: a winner's new refresh token after the reuse: %v, want 400", trial, r)
					}
				}
			}
			t.Logf("maxReuse %d: %d trials × %d concurrent refreshes over 2 nodes in %s: %d trials over the limit, %d under it",
				tc.maxReuse, tc.trials, conc, time.Since(began).Round(time.Millisecond), extra, short)
		})
	}
}
