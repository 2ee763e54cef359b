package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

const realmCols = `id, name, enabled, settings`

func scanRealm(sc interface{ Scan(...any) error }) (realm.Realm, error) {
	var (
		r        realm.Realm
		settings string
	)
	if err := sc.Scan(&r.ID, &r.Name, &r.Enabled, &settings); err != nil {
		return realm.Realm{}, mapErr(err)
	}
	if err := fromJSON(settings, &r); err != nil {
		return realm.Realm{}, err
	}
	return r, nil
}

// CreateRealm stores a new realm. A realm of the same id or name is ErrConflict.
func (s *DB) CreateRealm(ctx context.Context, r realm.Realm) error {
	if err := r.Validate(); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO realms (id, name, enabled, settings) VALUES ($1, $2, $3, $4)`,
		r.ID, r.Name, r.Enabled, toJSON(r))
	if err != nil {
		return fmt.Errorf("create realm %q: %w", r.Name, err)
	}
	return nil
}

// GetRealm loads a realm by id.
func (s *DB) GetRealm(ctx context.Context, id string) (realm.Realm, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[string, realm.Realm] { return &sn.realmByID }, id, func() (realm.Realm, error) {
		return scanRealm(s.queryRow(ctx, `SELECT `+realmCols+` FROM realms WHERE id = $1`, id))
	})
}

// GetRealmByName loads a realm by its name, the {realm} of every URL.
func (s *DB) GetRealmByName(ctx context.Context, name string) (realm.Realm, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[string, realm.Realm] { return &sn.realmByName }, name, func() (realm.Realm, error) {
		return scanRealm(s.queryRow(ctx, `SELECT `+realmCols+` FROM realms WHERE name = $1`, name))
	})
}

// ListRealms returns every realm, by name.
func (s *DB) ListRealms(ctx context.Context) ([]realm.Realm, error) {
	rows, err := s.query(ctx, `SELECT `+realmCols+` FROM realms ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []realm.Realm
	for rows.Next() {
		r, err := scanRealm(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateRealm applies edit to the stored realm inside one transaction. The id
// cannot change; a rename to an existing name is ErrConflict.
func (s *DB) UpdateRealm(ctx context.Context, id string, edit func(*realm.Realm) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		r, err := scanRealm(tx.queryRow(ctx, `SELECT `+realmCols+` FROM realms WHERE id = $1`+tx.forUpdate(), id))
		if err != nil {
			return err
		}
		if err := edit(&r); err != nil {
			return err
		}
		r.ID = id
		if err := r.Validate(); err != nil {
			return err
		}
		return oneRow(tx.exec(ctx, `UPDATE realms SET name = $2, enabled = $3, settings = $4 WHERE id = $1`,
			id, r.Name, r.Enabled, toJSON(r)))
	})
}

// DeleteRealm removes a realm and, through the schema's cascades, everything in it.
func (s *DB) DeleteRealm(ctx context.Context, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM realms WHERE id = $1`, id))
}

// forUpdate locks the selected row on PostgreSQL; SQLite's IMMEDIATE
// transactions already hold the database write lock.
func (s *DB) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
