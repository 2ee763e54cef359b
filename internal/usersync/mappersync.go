package usersync

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ErrDirection is a mapper sync in a direction Gatehouse does not run.
var ErrDirection = errors.New("only the directory-to-Gatehouse sync of group and role mappers is available")

// SyncMapper brings a group mapper's groups (or a role mapper's roles)
// from the directory into the realm through federation.SyncMapper, which
// names and creates them as a user's import does: every group or role
// the mapper finds exists afterwards, the new ones counted as added and
// those already there as updated. Memberships are not touched here: each
// user's come with the user's import.
func (s *Syncer) SyncMapper(ctx context.Context, rl realm.Realm, provider, m store.Component, fedToLocal bool) (Result, error) {
	var r Result
	if !fedToLocal {
		return r, ErrDirection
	}
	if m.ProviderID != ldap.MapperGroup && m.ProviderID != ldap.MapperRole {
		r.Ignored = true
		r.finish()
		return r, nil
	}
	p, err := federation.Load(ctx, s.DB, provider)
	if err != nil {
		return r, err
	}
	client, err := federation.Dial(ctx, p)
	if err != nil {
		return r, err
	}
	defer client.Close()
	spec := ldap.MapperSpec{ID: m.ID, Name: m.Name, ProviderID: m.ProviderID, Config: m.Config}
	r.Added, r.Updated, err = federation.SyncMapper(ctx, s.DB, rl, p, client, spec)
	r.finish()
	return r, err
}
