package store

import "context"

// Queries the admin API's realm, client scope and session endpoints need
// beyond the aggregates' own CRUD.

// DeleteRealmSessions ends every session of a realm of one kind, online or
// offline, with their client sessions, and returns how many ended: the admin
// "log out all" of a realm.
func (s *DB) DeleteRealmSessions(ctx context.Context, realmID string, offline bool) (int64, error) {
	return s.endSessions(ctx, `realm_id = $1 AND offline = $2`, realmID, offline)
}

// DeleteUserSessionOfKind ends one session if it is of the given kind (an
// online session is not found when the caller asked for an offline one, and
// the other way round). A missing session is ErrNotFound. One statement, so
// the check and the delete cannot be split by a concurrent refresh.
func (s *DB) DeleteUserSessionOfKind(ctx context.Context, realmID, id string, offline bool) error {
	return oneEnded(s.endSessions(ctx, `realm_id = $1 AND id = $2 AND offline = $3`, realmID, id, offline))
}

// AddClientScopeLink links a scope to a client (or, with clientID
// RealmDefaults, to the realm's defaults for new clients) as default or
// optional. Unlike LinkClientScope it never moves an existing link: a scope
// already linked, as default or optional, is ErrConflict. The insert either
// wins or does nothing, so the answer is right under concurrency and the
// caller's transaction is never aborted by a constraint violation.
func (s *DB) AddClientScopeLink(ctx context.Context, realmID, clientID, scopeID string, isDefault bool) error {
	r, err := s.exec(ctx, `INSERT INTO client_scope_links (realm_id, client_id, scope_id, is_default) VALUES ($1, $2, $3, $4)
		ON CONFLICT (realm_id, client_id, scope_id) DO NOTHING`, realmID, clientID, scopeID, isDefault)
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrConflict
	}
	return nil
}
