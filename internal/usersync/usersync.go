// Package usersync synchronises a realm's users with its LDAP user storage
// providers: a full sync reads every directory user, a changed-users sync
// those created or modified since the last sync, and each entry becomes a
// local user through federation.ImportEntry, the one path that writes a
// federated user. Syncs run when an administrator asks and, for providers
// with fullSyncPeriod or changedSyncPeriod set, periodically.
//
// One node at a time: a sync of a provider first takes the provider's lease
// in the database (store.AcquireSyncLease), a row with a holder and an
// expiry that the running node renews page by page. Another node, or an
// administrator's request on another node, finds the lease held and is
// told the sync was ignored, as Keycloak reports a sync already running
// elsewhere in its cluster. A node that dies holding the lease loses it
// when it expires.
package usersync

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Result is Keycloak's SynchronizationResult.
type Result struct {
	Ignored bool   `json:"ignored"`
	Added   int    `json:"added"`
	Updated int    `json:"updated"`
	Removed int    `json:"removed"`
	Failed  int    `json:"failed"`
	Status  string `json:"status"`
}

// finish fills Status from the counts, in the words administrators know.
func (r *Result) finish() {
	if r.Ignored {
		r.Status = "Synchronization ignored as it's already in progress"
		return
	}
	r.Status = fmt.Sprintf("%d imported users, %d updated users", r.Added, r.Updated)
	if r.Removed > 0 {
		r.Status += fmt.Sprintf(", %d removed users", r.Removed)
	}
	if r.Failed > 0 {
		r.Status += fmt.Sprintf(", %d users failed sync! See server log for more details", r.Failed)
	}
}

// LeaseTime is how long a lease lasts without renewal; a running sync
// renews it after every page, so only a node that stopped loses it.
const LeaseTime = 2 * time.Minute

// Syncer runs syncs for one node.
type Syncer struct {
	DB  *store.DB
	Log *slog.Logger
	Now func() time.Time
	// Node names this node as a lease holder; every node needs its own.
	Node string
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Syncer) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// ErrNotProvider is an id that names no user storage provider of the realm.
var ErrNotProvider = errors.New("not a user storage provider")

// Sync runs a full (or changed-users) sync of provider id of realm rl now,
// unless another holder has the provider's lease: then the result is
// Ignored. A directory that cannot be reached, or a provider that cannot
// be read, is an error and changes nothing; an entry that cannot be
// imported counts as failed and the sync goes on.
func (s *Syncer) Sync(ctx context.Context, rl realm.Realm, id string, full bool) (Result, error) {
	c, err := s.DB.GetComponent(ctx, rl.ID, id)
	if err != nil {
		return Result{}, err
	}
	if c.ProviderType != ldap.ProviderType {
		return Result{}, ErrNotProvider
	}
	return s.syncLeased(ctx, rl, c, full, false)
}

// syncLeased takes the lease and syncs. With periodic set, it first checks
// again, under the lease, that the period has passed: a node that took the
// lease just after another finished must not sync a second time.
func (s *Syncer) syncLeased(ctx context.Context, rl realm.Realm, c store.Component, full, periodic bool) (Result, error) {
	start := s.now()
	ok, err := s.DB.AcquireSyncLease(ctx, rl.ID, c.ID, s.Node, start.UnixMilli(), start.Add(LeaseTime).UnixMilli())
	if err != nil {
		return Result{}, err
	}
	if !ok {
		r := Result{Ignored: true}
		r.finish()
		return r, nil
	}
	defer func() {
		// A sync that ends (or fails) frees the provider for the next one
		// at once, on whichever node; the lease would expire anyway.
		if err := s.DB.ReleaseSyncLease(context.WithoutCancel(ctx), c.ID, s.Node); err != nil {
			s.log().Warn("user sync: release lease", "realm", rl.Name, "provider", c.Name, "err", err)
		}
	}()
	st, err := s.DB.GetSyncState(ctx, c.ID)
	if err != nil {
		return Result{}, err
	}
	if periodic && !due(c, st, full, start) {
		r := Result{Ignored: true}
		r.finish()
		return r, nil
	}
	p, err := federation.Load(ctx, s.DB, c)
	if err != nil {
		return Result{}, err
	}
	if !p.Config.Enabled || !p.Config.ImportEnabled {
		// Nothing is imported from a disabled provider or one serving
		// users without import.
		r := Result{Ignored: true}
		r.finish()
		return r, nil
	}
	var since time.Time
	if !full && st.LastChangedSync > 0 {
		since = time.UnixMilli(st.LastChangedSync)
	}
	r, err := s.run(ctx, rl, p, since, start)
	if err != nil {
		return r, err
	}
	// The next changed-users sync starts from when this one started, so
	// an edit made while it ran is picked up.
	if err := s.DB.RecordSync(ctx, rl.ID, c.ID, full || since.IsZero(), start.UnixMilli()); err != nil {
		return r, err
	}
	return r, nil
}

// run imports every directory user changed since (all when zero).
func (s *Syncer) run(ctx context.Context, rl realm.Realm, p federation.Provider, since, start time.Time) (Result, error) {
	var r Result
	client, err := federation.Dial(ctx, p)
	if err != nil {
		return r, err
	}
	defer client.Close()
	lg := s.log().With("realm", rl.Name, "provider", p.Component.Name)
	err = client.EachUser(ctx, since, func(page []ldap.Entry) error {
		for _, e := range page {
			u, err := federation.ImportEntry(ctx, s.DB, rl, p, client, e, start)
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var unavailable *federation.UnavailableError
				if errors.As(err, &unavailable) {
					return err
				}
				r.Failed++
				lg.Warn("user sync: entry not imported", "dn", e.DN, "err", err)
			case u.CreatedTimestamp == start.UnixMilli():
				r.Added++
			default:
				r.Updated++
			}
		}
		now := s.now()
		ok, err := s.DB.AcquireSyncLease(ctx, rl.ID, p.ID(), s.Node, now.UnixMilli(), now.Add(LeaseTime).UnixMilli())
		if err == nil && !ok {
			err = errors.New("the sync lease was lost to another node")
		}
		return err
	})
	r.finish()
	if err != nil {
		lg.Warn("user sync stopped", "err", err, "added", r.Added, "updated", r.Updated, "failed", r.Failed)
		return r, err
	}
	lg.Info("user sync done", "full", since.IsZero(), "added", r.Added, "updated", r.Updated, "failed", r.Failed,
		"ms", s.now().Sub(start).Milliseconds())
	return r, nil
}

// due reports whether provider c's periodic full (or changed-users) sync
// should run at now.
func due(c store.Component, st store.SyncState, full bool, now time.Time) bool {
	cfg, err := ldap.Parse(c.Config)
	if err != nil {
		return false
	}
	period, last := cfg.ChangedSyncPeriod, st.LastChangedSync
	if full {
		period, last = cfg.FullSyncPeriod, st.LastFullSync
	}
	if period <= 0 {
		return false
	}
	return now.UnixMilli()-last >= int64(period)*1000
}

// Tick runs every periodic sync that is due, each under its lease, and
// returns how many ran. Every node calls it; the lease and the check of
// the last sync under it make each due sync run once.
func (s *Syncer) Tick(ctx context.Context) int {
	cs, err := s.DB.ListComponentsOfType(ctx, ldap.ProviderType)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("periodic user sync: list providers", "err", err)
		}
		return 0
	}
	ran := 0
	for _, c := range cs {
		st, err := s.DB.GetSyncState(ctx, c.ID)
		if err != nil {
			continue
		}
		now := s.now()
		for _, full := range []bool{true, false} {
			if !due(c, st, full, now) {
				continue
			}
			rl, err := s.DB.GetRealm(ctx, c.RealmID)
			if err != nil {
				break
			}
			r, err := s.syncLeased(ctx, rl, c, full, true)
			if err != nil {
				if ctx.Err() == nil {
					s.log().Warn("periodic user sync failed", "realm", rl.Name, "provider", c.Name, "full", full, "err", err)
				}
				break
			}
			if !r.Ignored {
				ran++
			}
			// A full sync covers the changed-users one.
			break
		}
	}
	return ran
}

// Run calls Tick every interval until ctx ends.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick(ctx)
		}
	}
}

// ThisNode names this process as a lease holder: the host and a random
// part, so two processes on one host are two holders.
var ThisNode = func() string {
	h, _ := os.Hostname()
	return h + "-" + rand.Text()[:8]
}()
