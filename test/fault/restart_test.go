package fault_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// F4 (CVE-2026-9802): a rotated-out refresh token stays refused after the
// node restarts, whether it stopped cleanly or was killed: "used" lives in
// the database, never in process memory or process start time.
func TestF4RotatedTokenRefusedAfterRestart(t *testing.T) {
	forBackends(t, func(t *testing.T, kind store.Dialect) {
		b := newBackend(t, kind, realmSettings{revokeRefreshToken: true})
		n := startNode(t, "a", b)
		fx := loadFixture(t, b.db)
		for _, how := range []string{"SIGTERM", "SIGKILL"} {
			t.Run("after "+how, func(t *testing.T) {
				old := fx.refreshToken(t, n)
				r := n.refresh(old)
				if r.status != http.StatusOK {
					t.Fatalf("rotate: %v", r)
				}
				current := r.str("refresh_token")
				if how == "SIGTERM" {
					n.stop(t)
				} else {
					n.kill() // right after the 200: the rotation must already be committed
				}
				n.start(t)
				t.Logf("%s: ready %s after restart", kind, n.readyIn.Round(100_000))

				// The current token still works: the restart lost nothing.
				r = n.refresh(current)
				if r.status != http.StatusOK {
					t.Fatalf("current refresh token after the restart: %v", r)
				}
				newest := r.str("refresh_token")
				// Both superseded tokens are refused, and presenting one
				// ends the family (T19), so the newest dies too.
				for _, rt := range []string{old, current, newest} {
					if r := n.refresh(rt); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
						t.Fatalf("rotated token after the restart: %v, want 400 invalid_grant", r)
					}
				}
			})
		}
	})
}
