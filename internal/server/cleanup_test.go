package server

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

func TestCleanupRemovesExpiredSessions(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	if _, err := provision.Master(ctx, db, "admin", "pw", start); err != nil {
		t.Fatal(err)
	}
	m, _ := db.GetRealmByName(ctx, realm.MasterName)
	admin, _ := db.GetUserByUsername(ctx, m.ID, "admin")
	us := session.UserSession{ID: store.NewID(), RealmID: m.ID, UserID: admin.ID, Started: start.Unix(), LastRefresh: start.Unix()}
	if err := db.CreateUserSession(ctx, us); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The loop's clock: fake time inside the bubble, offset to the session's.
		base := time.Now()
		now := func() time.Time { return start.Add(time.Since(base)) }
		done := make(chan struct{})
		go func() {
			Cleanup(ctx, db, slog.New(slog.DiscardHandler), now, CleanupInterval)
			close(done)
		}()
		// master's SSO idle timeout is 1800 s: alive after 29 minutes ...
		time.Sleep(29*time.Minute + time.Second)
		synctest.Wait()
		if _, err := db.GetUserSession(ctx, m.ID, us.ID); err != nil {
			t.Fatalf("session removed before its idle timeout: %v", err)
		}
		// ... gone at the first pass after 30 minutes.
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if _, err := db.GetUserSession(ctx, m.ID, us.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session kept: %v", err)
		}
		cancel()
		<-done
	})
}
