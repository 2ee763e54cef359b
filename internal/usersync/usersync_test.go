package usersync_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/userstorage"
	"github.com/gatehouse-iam/gatehouse/internal/usersync"
	"github.com/gatehouse-iam/gatehouse/internal/usersync/synctest"
)

var ouSeq atomic.Int64

// setup makes a realm with an LDAP provider over a unit of n fresh users,
// its default mappers included, and returns the realm and provider id.
func setup(t *testing.T, db *store.DB, d *ldaptest.Server, n int, extra map[string]string) (realm.Realm, string, string) {
	t.Helper()
	ctx := context.Background()
	rl := realm.New(store.NewID(), fmt.Sprintf("r%d", ouSeq.Add(1)))
	if err := provision.NewRealm(ctx, db, rl, time.Now()); err != nil {
		t.Fatal(err)
	}
	rl, _ = db.GetRealm(ctx, rl.ID)
	prefix := fmt.Sprintf("u%dx%d", os.Getpid()%1000, ouSeq.Add(1))
	ou := synctest.AddOU(t, d, "ou-"+prefix, prefix, n)
	cfg := map[string][]string{"connectionUrl": {d.URL}, "bindDn": {ldaptest.BindDN}, "bindCredential": {ldaptest.BindPW},
		"usersDn": {ou}, "editMode": {"READ_ONLY"}, "vendor": {"other"}, "usernameLDAPAttribute": {"uid"}, "rdnLDAPAttribute": {"uid"},
		"uuidLDAPAttribute": {"entryUUID"}}
	for k, v := range extra {
		cfg[k] = []string{v}
	}
	p := store.Component{ID: store.NewID(), RealmID: rl.ID, ParentID: rl.ID, Name: "corp", ProviderID: ldap.ProviderID, ProviderType: ldap.ProviderType, Config: cfg}
	parsed, err := userstorage.CheckProvider(p.ProviderID, p.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateComponent(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, m := range userstorage.DefaultMappers(p, parsed) {
		if err := db.CreateComponent(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return rl, p.ID, prefix
}

// Two nodes tick at once over a provider due for its periodic full sync:
// exactly one runs it, and neither runs it again before the period has
// passed; after it has, one of them does.
func TestPeriodicSyncOneNodeAtATime(t *testing.T) {
	d := ldaptest.Start(t)
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		rl, id, prefix := setup(t, db, d, 5, map[string]string{"fullSyncPeriod": "2", "changedSyncPeriod": "-1"})
		nodes := []*usersync.Syncer{{DB: db, Node: "node-a"}, {DB: db, Node: "node-b"}}
		tickAll := func() int {
			var wg sync.WaitGroup
			ran := make([]int, len(nodes))
			for i, n := range nodes {
				wg.Add(1)
				go func() { defer wg.Done(); ran[i] = n.Tick(ctx) }()
			}
			wg.Wait()
			return ran[0] + ran[1]
		}
		if ran := tickAll(); ran != 1 {
			t.Fatalf("first tick of two nodes ran %d syncs, want 1", ran)
		}
		if _, err := db.GetUserByUsername(ctx, rl.ID, synctest.UID(prefix, 4)); err != nil {
			t.Fatalf("periodic sync did not import: %v", err)
		}
		st, _ := db.GetSyncState(ctx, id)
		if st.LastFullSync == 0 || st.LeaseUntil != 0 {
			t.Errorf("after the sync: %+v (last sync stored, lease released)", st)
		}
		if ran := tickAll(); ran != 0 {
			t.Errorf("a sync ran again before its period: %d", ran)
		}
		time.Sleep(2100 * time.Millisecond)
		if ran := tickAll(); ran != 1 {
			t.Errorf("after the period, %d syncs ran, want 1", ran)
		}
		// A live lease held elsewhere keeps both nodes out.
		time.Sleep(2100 * time.Millisecond)
		now := time.Now()
		if ok, _ := db.AcquireSyncLease(ctx, rl.ID, id, "node-c", now.UnixMilli(), now.Add(time.Minute).UnixMilli()); !ok {
			t.Fatal("node-c could not take the lease")
		}
		if ran := tickAll(); ran != 0 {
			t.Errorf("%d syncs ran while node-c held the lease", ran)
		}
	})
}

// syncUsersCount is how many users TestFullSyncLarge syncs: a few hundred
// in CI, 10000 for the figure reported with the work
// (GATEHOUSE_SYNC_USERS=10000).
func syncUsersCount(t *testing.T) int {
	if v := os.Getenv("GATEHOUSE_SYNC_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("GATEHOUSE_SYNC_USERS=%q", v)
		}
		return n
	}
	return 300
}

// A full sync of many directory users imports them all, in pages, and
// reports its duration and the test process's peak heap and RSS.
func TestFullSyncLarge(t *testing.T) {
	d := ldaptest.Start(t)
	n := syncUsersCount(t)
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		rl, id, prefix := setup(t, db, d, n, map[string]string{"batchSizeForSync": "500"})
		runtime.GC()
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		s := &usersync.Syncer{DB: db, Node: "bench"}
		start := time.Now()
		res, err := s.Sync(ctx, rl, id, true)
		elapsed := time.Since(start)
		close(stop)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != n || res.Failed != 0 {
			t.Fatalf("full sync of %d: %+v", n, res)
		}
		count, err := db.CountUsers(ctx, rl.ID)
		if err != nil || count != n {
			t.Errorf("users in the realm: %d %v", count, err)
		}
		if _, err := db.GetUserByUsername(ctx, rl.ID, synctest.UID(prefix, n-1)); err != nil {
			t.Errorf("last user: %v", err)
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		t.Logf("full sync of %d users on %s: %v (%.0f users/s), peak heap in use %.1f MiB, peak RSS of the test process %.1f MiB",
			n, db.Dialect(), elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(peak.Load())/(1<<20), float64(ru.Maxrss)/1024)
	})
}
