package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// CleanupInterval is how often expired sessions are removed. Expiry is
// enforced on every request anyway; the loop only reclaims space.
const CleanupInterval = time.Minute

// Cleanup removes expired sessions and revocation records of every realm
// every interval until ctx ends. Every node may run it: the deletes are
// idempotent, so two nodes doing it at once only repeat work.
func Cleanup(ctx context.Context, db *store.DB, log *slog.Logger, now func() time.Time, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			CleanupOnce(ctx, db, log, now())
		}
	}
}

// CleanupOnce runs one pass of Cleanup.
func CleanupOnce(ctx context.Context, db *store.DB, log *slog.Logger, now time.Time) {
	realms, err := db.ListRealms(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.WarnContext(ctx, "session cleanup: list realms", "err", err)
		}
		return
	}
	if err := db.Optimize(ctx); err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "planner statistics", "err", err)
	}
	if err := db.DeleteExpiredLogins(ctx, now.Unix()); err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "login cleanup", "err", err)
	}
	for _, r := range realms {
		if err := db.DeleteExpiredEvents(ctx, r, now.UnixMilli()); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "event cleanup", "realm", r.Name, "err", err)
		}
		n, err := db.DeleteExpiredSessions(ctx, r, now.Unix())
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "session cleanup", "realm", r.Name, "err", err)
			}
			continue
		}
		if n > 0 {
			log.DebugContext(ctx, "expired sessions removed", "realm", r.Name, "count", n)
		}
	}
}
