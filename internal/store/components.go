package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Component is a realm component kept in the components table: a user
// storage provider (ParentID the realm's id) or one of its mappers
// (ParentID the provider's id). Config holds the settings as the admin API
// gives them, secrets included; whoever shows them masks them.
type Component struct {
	ID           string
	RealmID      string
	ParentID     string
	Name         string
	ProviderID   string
	ProviderType string
	SubType      string
	Config       map[string][]string
}

const componentCols = `id, realm_id, parent_id, name, provider_id, provider_type, sub_type, config`

func componentArgs(c Component) []any {
	cfg := c.Config
	if cfg == nil {
		cfg = map[string][]string{}
	}
	return []any{c.ID, c.RealmID, c.ParentID, c.Name, c.ProviderID, c.ProviderType, c.SubType, toJSON(cfg)}
}

// ListComponents returns the realm's components of providerType whose
// parent is parentID, "" matching any, ordered by name then id.
func (s *DB) ListComponents(ctx context.Context, realmID, providerType, parentID string) ([]Component, error) {
	all, err := cachedSlice(ctx, s, func(sn *snapshot) *memo[string, []Component] { return &sn.components }, realmID, func() ([]Component, error) {
		return s.listComponents(ctx, realmID)
	})
	if err != nil {
		return nil, err
	}
	var out []Component
	for _, c := range all {
		if (providerType == "" || c.ProviderType == providerType) && (parentID == "" || c.ParentID == parentID) {
			out = append(out, cloneComponent(c))
		}
	}
	return out, nil
}

// cloneComponent copies a component's config, so a caller editing it does
// not write into a snapshot shared by other requests.
func cloneComponent(c Component) Component {
	cfg := make(map[string][]string, len(c.Config))
	for k, v := range c.Config {
		cfg[k] = slices.Clone(v)
	}
	c.Config = cfg
	return c
}

func (s *DB) listComponents(ctx context.Context, realmID string) ([]Component, error) {
	rows, err := s.query(ctx, `SELECT `+componentCols+` FROM components WHERE realm_id = $1 ORDER BY name, id`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Component
	for rows.Next() {
		c, err := scanComponent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanComponent(sc interface{ Scan(...any) error }) (Component, error) {
	var c Component
	var cfg string
	if err := sc.Scan(&c.ID, &c.RealmID, &c.ParentID, &c.Name, &c.ProviderID, &c.ProviderType, &c.SubType, &cfg); err != nil {
		return Component{}, mapErr(err)
	}
	if err := fromJSON(cfg, &c.Config); err != nil {
		return Component{}, err
	}
	if c.Config == nil {
		c.Config = map[string][]string{}
	}
	return c, nil
}

// GetComponent returns one of the realm's components.
func (s *DB) GetComponent(ctx context.Context, realmID, id string) (Component, error) {
	all, err := s.ListComponents(ctx, realmID, "", "")
	if err != nil {
		return Component{}, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
	}
	return Component{}, ErrNotFound
}

// CreateComponent stores a new component; an id already taken is
// ErrConflict, an unknown realm ErrNotFound.
func (s *DB) CreateComponent(ctx context.Context, c Component) error {
	if _, err := s.exec(ctx, `INSERT INTO components (`+componentCols+`) VALUES (`+placeholders(1, 8)+`)`, componentArgs(c)...); err != nil {
		return fmt.Errorf("create component: %w", err)
	}
	return nil
}

// UpdateComponent replaces a component's name, parent, sub type and config;
// its provider id and type stay what they were created with.
func (s *DB) UpdateComponent(ctx context.Context, c Component) error {
	a := componentArgs(c)
	return oneRow(s.exec(ctx, `UPDATE components SET parent_id = $3, name = $4, sub_type = $5, config = $6
		WHERE id = $1 AND realm_id = $2`, a[0], a[1], a[2], a[3], a[6], a[7]))
}

// DeleteComponent removes a component and, in the same transaction, every
// component under it, at any depth.
func (s *DB) DeleteComponent(ctx context.Context, realmID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		all, err := tx.listComponents(ctx, realmID)
		if err != nil {
			return err
		}
		doomed := map[string]bool{id: true}
		for grew := true; grew; {
			grew = false
			for _, c := range all {
				if !doomed[c.ID] && doomed[c.ParentID] {
					doomed[c.ID], grew = true, true
				}
			}
		}
		// Children first, the component itself last, which decides whether
		// there was anything to delete.
		for _, cid := range slices.Sorted(maps.Keys(doomed)) {
			if cid == id {
				continue
			}
			if _, err := tx.exec(ctx, `DELETE FROM components WHERE realm_id = $1 AND id = $2`, realmID, cid); err != nil {
				return err
			}
		}
		return oneRow(tx.exec(ctx, `DELETE FROM components WHERE realm_id = $1 AND id = $2`, realmID, id))
	})
}

// SyncState is what the store keeps about a user storage provider's
// periodic synchronisation (epoch milliseconds, 0 for never).
type SyncState struct {
	ComponentID     string
	Holder          string
	LeaseUntil      int64
	LastFullSync    int64
	LastChangedSync int64
}

// AcquireSyncLease takes, or renews, the lease to synchronise a provider
// for holder until the given time, and reports whether holder now has it.
// Another holder's lease that has not expired at now keeps it. The check
// and the write are one statement, so of two nodes trying at once exactly
// one wins.
func (s *DB) AcquireSyncLease(ctx context.Context, realmID, componentID, holder string, now, until int64) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO sync_state (component_id, realm_id, holder, lease_until, last_full_sync, last_changed_sync)
		VALUES ($1, $2, $3, $4, 0, 0)
		ON CONFLICT (component_id) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
		WHERE sync_state.holder = excluded.holder OR sync_state.lease_until <= $5`, componentID, realmID, holder, until, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseSyncLease gives up holder's lease, if it still has it.
func (s *DB) ReleaseSyncLease(ctx context.Context, componentID, holder string) error {
	_, err := s.exec(ctx, `UPDATE sync_state SET lease_until = 0 WHERE component_id = $1 AND holder = $2`, componentID, holder)
	return err
}

// RecordSync stores when a full (or changed-users) sync of a provider
// finished.
func (s *DB) RecordSync(ctx context.Context, realmID, componentID string, full bool, at int64) error {
	_, err := s.exec(ctx, `INSERT INTO sync_state (component_id, realm_id, holder, lease_until, last_full_sync, last_changed_sync)
		VALUES ($1, $2, '', 0, 0, 0) ON CONFLICT (component_id) DO NOTHING`, componentID, realmID)
	if err != nil {
		return err
	}
	if full {
		// A full sync brings every user up to date: it counts as a changed
		// sync too.
		return oneRow(s.exec(ctx, `UPDATE sync_state SET last_full_sync = $2, last_changed_sync = $2 WHERE component_id = $1`, componentID, at))
	}
	return oneRow(s.exec(ctx, `UPDATE sync_state SET last_changed_sync = $2 WHERE component_id = $1`, componentID, at))
}

// GetSyncState returns a provider's sync state; a provider never synced
// nor leased has the zero state.
func (s *DB) GetSyncState(ctx context.Context, componentID string) (SyncState, error) {
	st := SyncState{ComponentID: componentID}
	err := mapErr(s.queryRow(ctx, `SELECT holder, lease_until, last_full_sync, last_changed_sync FROM sync_state WHERE component_id = $1`, componentID).
		Scan(&st.Holder, &st.LeaseUntil, &st.LastFullSync, &st.LastChangedSync))
	if err == ErrNotFound {
		return st, nil
	}
	return st, err
}

// ListComponentsOfType returns the components of providerType of every
// realm, for work that runs across realms (periodic sync). It reads the
// database, never the cache.
func (s *DB) ListComponentsOfType(ctx context.Context, providerType string) ([]Component, error) {
	rows, err := s.query(ctx, `SELECT `+componentCols+` FROM components WHERE provider_type = $1 ORDER BY realm_id, name, id`, providerType)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Component
	for rows.Next() {
		c, err := scanComponent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
