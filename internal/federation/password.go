package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// PasswordSource says where a federated user's password is checked.
type PasswordSource int

const (
	// Directory: the password is checked by a bind as the user.
	Directory PasswordSource = iota
	// Local: an UNSYNCED provider's user whose password was changed here;
	// the stored credential is checked, as for any local user.
	Local
)

// Source tells where u's password lives: the directory, unless u's
// provider is UNSYNCED and a password was set here (hasLocal).
func Source(p Provider, hasLocal bool) PasswordSource {
	if p.Config.EditMode == ldap.Unsynced && hasLocal {
		return Local
	}
	return Directory
}

// CheckPassword checks a federated user's password with a bind as the
// user's entry. The password is never stored. A wrong password is
// (false, nil); a provider that cannot be reached an *UnavailableError,
// which must not count as a failed attempt.
func CheckPassword(ctx context.Context, p Provider, u user.User, password string) (bool, error) {
	if !p.Config.Enabled {
		return false, nil
	}
	dn := first(u.Attributes[AttrLDAPEntryDN])
	err := ldap.Authenticate(ctx, p.Config, dn, password)
	if errors.Is(err, ldap.ErrInvalidCredentials) && dn != "" {
		// The entry may have moved since the import: look it up again
		// by its stable id, and bind there if the DN changed.
		c, derr := Dial(ctx, p)
		if derr != nil {
			return false, derr
		}
		e, ferr := findEntry(ctx, c, u)
		c.Close()
		if ferr != nil || e.DN == dn {
			return false, ignoreLDAPNotFound(p, ferr)
		}
		err = ldap.Authenticate(ctx, p.Config, e.DN, password)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ldap.ErrInvalidCredentials):
		return false, nil
	}
	return false, wrap(p, err)
}

func ignoreLDAPNotFound(p Provider, err error) error {
	if err == nil || errors.Is(err, ldap.ErrNotFound) {
		return nil
	}
	return wrap(p, err)
}

// WritePassword changes a federated user's password where it lives. It
// returns stored=false when the password belongs here (UNSYNCED): the
// caller stores it as for a local user. READ_ONLY refuses (ErrReadOnly);
// WRITABLE writes to the directory, and a refusal there is a
// *PasswordRejectedError naming the entry, as administrators of these
// directories know it.
func WritePassword(ctx context.Context, p Provider, u user.User, password string) (stored bool, err error) {
	switch p.Config.EditMode {
	case ldap.Unsynced:
		return false, nil
	case ldap.Writable:
	default:
		return false, ErrReadOnly
	}
	if !p.Config.Enabled {
		return false, ErrReadOnly
	}
	c, err := Dial(ctx, p)
	if err != nil {
		return false, err
	}
	defer c.Close()
	e, err := findEntry(ctx, c, u)
	if err != nil {
		return false, wrap(p, err)
	}
	if err := refused(p, e.DN, c.SetPassword(ctx, e.DN, password)); err != nil {
		return false, err
	}
	return true, nil
}

// Register creates the directory entry of a user registering in rl when a
// WRITABLE provider syncs registrations, and imports it (ImportEntry): the
// user returned is stored and linked (federationLink set). Without such a
// provider u is returned unchanged and nothing is stored. A username a
// provider already holds is store.ErrConflict. The caller adds what the
// form gives beyond the entry and sets the password through WritePassword;
// if that fails it calls Unregister.
func Register(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, now time.Time) (user.User, error) {
	ps, err := Providers(ctx, db, rl.ID)
	if err != nil {
		return u, err
	}
	// A username a directory already holds is taken, whether or not its
	// user was imported yet (the entry's DN may differ from the one this
	// registration would create).
	if _, err := Lookup(ctx, db, rl, u.Username, now); err == nil {
		return u, fmt.Errorf("%w: username %q exists in a user storage provider", store.ErrConflict, u.Username)
	} else if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	for _, p := range ps {
		if !p.Config.SyncRegistrations || p.Config.EditMode != ldap.Writable {
			continue
		}
		c, err := Dial(ctx, p)
		if err != nil {
			return u, err
		}
		defer c.Close()
		proj := ldap.Projection{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Attributes: u.Attributes}
		dn, attrs := ldap.NewEntry(p.Config, p.Mappers, proj)
		if err := c.Add(ctx, dn, attrs); err != nil {
			var pe *ldap.PolicyError
			if errors.As(err, &pe) {
				return u, fmt.Errorf("%w: %v", store.ErrConflict, err)
			}
			return u, wrap(p, err)
		}
		e, err := c.FindByDN(ctx, dn)
		if err != nil {
			return u, wrap(p, err)
		}
		// The new entry becomes a user the way every entry does, its
		// mappers applied (roles, groups, attributes).
		stored, err := ImportEntry(ctx, db, rl, p, c, e, now)
		if err != nil {
			if derr := c.Delete(ctx, e.DN); derr != nil {
				err = errors.Join(err, wrap(p, derr))
			}
			return u, err
		}
		return stored, nil
	}
	return u, nil
}

// Unregister takes back a registration Register stored: the directory
// entry and the local user.
func Unregister(ctx context.Context, db *store.DB, u user.User) error {
	dn := first(u.Attributes[AttrLDAPEntryDN])
	if u.FederationLink == "" || dn == "" {
		return nil
	}
	p, err := ProviderOf(ctx, db, u)
	if err != nil {
		return err
	}
	c, err := Dial(ctx, p)
	if err != nil {
		return err
	}
	defer c.Close()
	return errors.Join(wrap(p, c.Delete(ctx, dn)), ignoreNotFound(db.DeleteUser(ctx, u.RealmID, u.ID)))
}

// refused classifies the outcome of a change written to entry dn of p's
// directory: a refusal by the directory (policy, schema, rights) is a
// *PasswordRejectedError with the message users and administrators see,
// an outage an *UnavailableError.
func refused(p Provider, dn string, err error) error {
	var pe *ldap.PolicyError
	if errors.As(err, &pe) {
		return &PasswordRejectedError{Msg: "Could not modify attribute for DN [" + dn + "]", Err: err}
	}
	return wrap(p, err)
}
