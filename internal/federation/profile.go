package federation

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ProfileStorage is what u's provider keeps from being edited through the
// user profile (the admin API, the account API and console, the
// update-profile page): every attribute of a READ_ONLY provider, the
// read-only mappers' attributes of a WRITABLE one. A local user, or one
// whose provider is gone, gets the zero Storage.
func ProfileStorage(ctx context.Context, db *store.DB, u user.User) (profile.Storage, error) {
	if u.FederationLink == "" {
		return profile.Storage{}, nil
	}
	p, err := ProviderOf(ctx, db, u)
	if errors.Is(err, store.ErrNotFound) {
		return profile.Storage{}, nil
	}
	if err != nil {
		return profile.Storage{}, err
	}
	all, fixed := ldap.ReadOnlyAttributes(p.Config, p.Mappers)
	return profile.Storage{All: all, Fixed: fixed}, nil
}

// WriteProfile writes a federated user's profile change (before to after,
// already validated against ProfileStorage) to its WRITABLE provider's
// entry through the mappers. It does nothing for a local user or another
// edit mode. A change the directory refuses is a *PasswordRejectedError
// (whose name predates profile writes). Callers write the directory first and store the user after,
// so a refusal by the directory stores nothing.
func WriteProfile(ctx context.Context, db *store.DB, before, after user.User) error {
	if before.FederationLink == "" {
		return nil
	}
	p, err := ProviderOf(ctx, db, before)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Config.EditMode != ldap.Writable {
		return nil
	}
	changes := ldap.ProfileChanges(p.Config, p.Mappers, projection(before), projection(after))
	if len(changes) == 0 {
		return nil
	}
	c, err := Dial(ctx, p)
	if err != nil {
		return err
	}
	defer c.Close()
	e, err := findEntry(ctx, c, before)
	if err != nil {
		return wrap(p, err)
	}
	return refused(p, e.DN, c.Replace(ctx, e.DN, changes))
}

// projection is a user's profile as the mappers see it.
func projection(u user.User) ldap.Projection {
	return ldap.Projection{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Attributes: u.Attributes}
}
