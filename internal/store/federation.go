package store

import "context"

// DeleteFederatedUsers deletes the realm's users imported from the user
// storage provider with id link (federation_link), with everything they
// hold, and returns how many there were.
func (s *DB) DeleteFederatedUsers(ctx context.Context, realmID, link string) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM users WHERE realm_id = $1 AND federation_link = $2`, realmID, link)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UnlinkFederatedUsers makes the realm's users imported from provider link
// local users: their federation link is cleared, the rest kept.
func (s *DB) UnlinkFederatedUsers(ctx context.Context, realmID, link string) (int64, error) {
	res, err := s.exec(ctx, `UPDATE users SET federation_link = '' WHERE realm_id = $1 AND federation_link = $2`, realmID, link)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
