package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// The per-node configuration cache.
//
// What it holds: realms, clients, the client scopes linked to each client
// with their decoded mappers, scope reach through the role graph, the
// composite graph, keys and the authentication model, all read through the
// store's own methods. Never users, sessions, codes, revocations or
// counters. Losing it costs one read each.
//
// Why it is never stale: every configuration write raises config_version in
// its own transaction (configversion.go). The cache is used only by
// requests that carry a view (WithConfigView); the first cached read of a
// request reads the version, one indexed single-row SELECT that replaces
// the realm lookup every request made anyway (on PostgreSQL shared with the
// requests asking at the same moment, but always sent after the request
// asked: requestVersion), and the request then reads the snapshot of that
// version and nothing older for the rest of its life. A write committed
// before the request's version read is therefore seen by it, on every
// node, whether or not a notification arrived.
//
// What LISTEN/NOTIFY adds (PostgreSQL): the committing transaction
// notifies every node, which drops its snapshot at once, so memory held for
// an old version is released without waiting for traffic and the next
// request starts from an empty snapshot instead of comparing versions. A
// node that misses the notification (listener down, reconnecting) loses
// nothing: its next request reads the new version and builds a new
// snapshot. SQLite is one node, so the version read alone serves.
//
// Values handed out from a snapshot are shared by concurrent requests:
// callers holding a view treat them as read-only, as the protocol handlers
// do. The admin API reads without a view, from the database.

// configCache is a node's cache: the snapshot of the newest version seen.
type configCache struct {
	current atomic.Pointer[snapshot]
	stop    atomic.Pointer[context.CancelFunc]
	// notified counts the notifications received, for tests.
	notified atomic.Int64
	reads    versionReads
}

func newConfigCache() *configCache { return &configCache{} }

// at returns the snapshot to use for version v.
func (c *configCache) at(v int64) *snapshot {
	for {
		cur := c.current.Load()
		// A newer snapshot than the version this request read is as good:
		// the write that made it committed while the request ran.
		if cur != nil && cur.version >= v {
			return cur
		}
		next := newSnapshot(v)
		if c.current.CompareAndSwap(cur, next) {
			return next
		}
	}
}

// changed drops snapshots older than version v (0: all of them).
func (c *configCache) changed(v int64) {
	for {
		cur := c.current.Load()
		if cur == nil || (v != 0 && cur.version >= v) {
			return
		}
		if c.current.CompareAndSwap(cur, nil) {
			return
		}
	}
}

// view pins one request to one snapshot.
type view struct {
	snap atomic.Pointer[snapshot]
	// mappings are the role mappings and groups of the user whose token
	// the request checked, read in the same query as the token's state.
	// They are data, not configuration: they live only as long as the
	// request, and any write the request makes drops them (forgetMappings).
	mappings atomic.Pointer[userMappingsRead]
}

// userMappingsRead is one user's direct role mappings and group memberships.
type userMappingsRead struct {
	userID        string
	roles, groups []string
}

// keepMappingsInView remembers, for the rest of the request, the user's
// mappings as SessionTokenState read them (mappingCols). When either list
// cannot be split exactly, nothing is kept and EffectiveRoles reads the
// mappings itself.
func keepMappingsInView(ctx context.Context, userID, roles, groups string) {
	if v, ok := ctx.Value(viewKey{}).(*view); ok && v != nil {
		rs, ok1 := splitMappingIDs(roles)
		gs, ok2 := splitMappingIDs(groups)
		if ok1 && ok2 {
			v.mappings.Store(&userMappingsRead{userID: userID, roles: rs, groups: gs})
		}
	}
}

// splitMappingIDs splits one of mappingCols' columns ("" for none, else
// the count of ids, ":", and the ids joined by single spaces). Ids are not
// validated, so one may hold a space (an imported "r1 admin" must not read
// as the roles "r1" and "admin"): the split is trusted only when it gives
// exactly the count of ids the database aggregated, that is when no id
// holds a space.
func splitMappingIDs(col string) ([]string, bool) {
	if col == "" {
		return nil, true
	}
	count, ids, ok := strings.Cut(col, ":")
	n, err := strconv.Atoi(count)
	if !ok || err != nil {
		return nil, false
	}
	out := strings.Split(ids, " ")
	return out, len(out) == n
}

// mappingsInView returns the user's mappings the request has read, or nil.
func mappingsInView(ctx context.Context, userID string) *userMappingsRead {
	if v, ok := ctx.Value(viewKey{}).(*view); ok && v != nil {
		if m := v.mappings.Load(); m != nil && m.userID == userID {
			return m
		}
	}
	return nil
}

// forgetMappings drops the mappings a request has read when statement q,
// which it is about to run, may change them: it writes the mappings, or a
// table whose rows they go with when deleted (users, roles, groups, realms).
func forgetMappings(ctx context.Context, q string) {
	if v, ok := ctx.Value(viewKey{}).(*view); ok && v != nil && v.mappings.Load() != nil && writesMappings(q) {
		v.mappings.Store(nil)
	}
}

// mappingTables are the tables whose writes may change a user's role
// mappings and groups.
var mappingTables = map[string]bool{"user_roles": true, "group_members": true, "users": true, "roles": true,
	"realm_groups": true, "realms": true}

var writesMappingsMemo sync.Map // statement text → bool

func writesMappings(q string) bool {
	if v, ok := writesMappingsMemo.Load(q); ok {
		return v.(bool)
	}
	w := false
	for _, t := range writtenTables(q) {
		// A table named by a variable part of the statement is unknown:
		// it may be one of them.
		if mappingTables[t] || t == "" || strings.Contains(t, "$") {
			w = true
		}
	}
	writesMappingsMemo.Store(q, w)
	return w
}

type viewKey struct{}

// WithConfigView returns a context whose store reads of configuration may
// come from the node's cache, checked against the database's version once
// for the life of the context. Give it to one request at a time: a
// configuration write made with the context unpins it, so the request then
// reads its own write.
func WithConfigView(ctx context.Context) context.Context {
	return context.WithValue(ctx, viewKey{}, &view{})
}

// WithoutConfigView returns a context whose store reads go to the
// database: for work that outlives the request that started it.
func WithoutConfigView(ctx context.Context) context.Context {
	if ctx.Value(viewKey{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, viewKey{}, (*view)(nil))
}

func unpinView(ctx context.Context) {
	if v, ok := ctx.Value(viewKey{}).(*view); ok && v != nil {
		v.snap.Store(nil)
	}
}

// snapshot returns the snapshot this call may read from, or nil when it
// must read the database: inside a transaction (which reads what it is
// about to write) or without a view.
func (s *DB) snapshot(ctx context.Context) (*snapshot, error) {
	if s.inTx || s.cache == nil {
		return nil, nil
	}
	v, _ := ctx.Value(viewKey{}).(*view)
	if v == nil {
		return nil, nil
	}
	if sn := v.snap.Load(); sn != nil {
		return sn, nil
	}
	version, err := s.requestVersion(ctx)
	if err != nil {
		return nil, err
	}
	sn := s.cache.at(version)
	v.snap.Store(sn)
	return sn, nil
}

// maxEntries bounds each of a snapshot's maps: a realm with more clients
// than this still works, the rest being read from the database each time.
const maxEntries = 50000

// memo is one kind of value in a snapshot, by key.
type memo[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// cached returns the value under k, loading it with load on a miss. Errors,
// ErrNotFound included, are not kept: an unknown client_id sent by anyone
// must not fill the node's memory.
func cached[K comparable, V any](ctx context.Context, s *DB, pick func(*snapshot) *memo[K, V], k K, load func() (V, error)) (V, error) {
	sn, err := s.snapshot(ctx)
	if err != nil || sn == nil {
		if err != nil {
			var zero V
			return zero, err
		}
		return load()
	}
	m := pick(sn)
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err = load()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	if m.m == nil {
		m.m = map[K]V{}
	}
	if len(m.m) < maxEntries {
		m.m[k] = v
	}
	m.mu.Unlock()
	return v, nil
}

// cachedSlice is cached for a slice value. The slice is shared by every
// request reading the snapshot, so it is handed out clipped: a caller's
// append copies instead of writing into the shared backing array.
func cachedSlice[K comparable, E any](ctx context.Context, s *DB, pick func(*snapshot) *memo[K, []E], k K, load func() ([]E, error)) ([]E, error) {
	v, err := cached(ctx, s, pick, k, load)
	return slices.Clip(v), err
}

// snapshot is the configuration of one version, filled as requests read it.
type snapshot struct {
	version     int64
	realmByName memo[string, realm.Realm]
	realmByID   memo[string, realm.Realm]
	clientByCID memo[[2]string, client.Client]
	clientByID  memo[[2]string, client.Client]
	scopesOf    memo[[2]string, []LinkedScope]
	scopeReach  memo[reachKey, map[string][]string]
	composites  memo[string, map[string][]string]
	roleDirs    memo[string, *roleDirectory]
	keys        memo[string, []keys.Key]
	components  memo[string, []Component]
	authConfig  memo[string, flow.Config]
	realmScopes memo[string, []client.Scope]
	// identity providers and their mappers
	providers       memo[string, []idp.Provider]
	providerByAlias memo[[2]string, idp.Provider]
	providerMappers memo[[2]string, []idp.Mapper]
	// authorization services: a resource server's whole model
	authzModels memo[[2]string, authz.Model]
}

type reachKey struct {
	realmID, clientID string
	own               bool
}

func newSnapshot(v int64) *snapshot { return &snapshot{version: v} }
