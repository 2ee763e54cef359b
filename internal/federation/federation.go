// Package federation joins a realm's user storage providers (LDAP, through
// package ldap) to Gatehouse's users. It owns the rules of a federated user:
// which providers a realm consults and in what order, how a directory entry
// becomes a local user (ImportEntry, the one path that creates or refreshes
// one), how its password is checked (a bind, never a stored hash) and
// changed (written to the directory, refused, or kept here, by edit mode).
// authn calls it for logins and password changes, the admin API and the
// periodic sync for imports; it imports no HTTP package.
package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Attributes every federated user carries: the entry's stable id and DN.
const (
	AttrLDAPID      = "LDAP_ID"
	AttrLDAPEntryDN = "LDAP_ENTRY_DN"
)

// Provider is one ldap user storage provider of a realm, parsed.
type Provider struct {
	Component store.Component
	Config    ldap.Config
	Mappers   []ldap.MapperSpec
}

// ID is the component id, which federated users name in federationLink.
func (p Provider) ID() string { return p.Component.ID }

// UnavailableError is a provider that could not be reached. It answers
// like a database that is away (503 with Retry-After, nothing decided):
// never a 500, never counted as a wrong password.
type UnavailableError struct {
	Provider string
	Err      error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("user storage provider %s unavailable: %v", e.Provider, e.Err)
}
func (e *UnavailableError) Unwrap() error     { return e.Err }
func (e *UnavailableError) Unavailable() bool { return true }

// ErrReadOnly is a change refused because the user's provider is READ_ONLY.
var ErrReadOnly = errors.New("federated storage is not writable")

// PasswordRejectedError is a new password the directory refused; Msg is
// what the user and the administrator are shown.
type PasswordRejectedError struct {
	Msg string
	Err error
}

func (e *PasswordRejectedError) Error() string { return e.Msg }
func (e *PasswordRejectedError) Unwrap() error { return e.Err }

// wrap turns an outage of p into an *UnavailableError.
func wrap(p Provider, err error) error {
	if errors.Is(err, ldap.ErrUnreachable) {
		return &UnavailableError{Provider: p.Component.Name, Err: err}
	}
	return err
}

// Load parses a provider component and its mappers.
func Load(ctx context.Context, db *store.DB, c store.Component) (Provider, error) {
	cfg, err := ldap.Parse(c.Config)
	if err != nil {
		return Provider{}, fmt.Errorf("provider %s: %w", c.Name, err)
	}
	ms, err := db.ListComponents(ctx, c.RealmID, ldap.MapperProviderType, c.ID)
	if err != nil {
		return Provider{}, err
	}
	p := Provider{Component: c, Config: cfg}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	for _, m := range ms {
		p.Mappers = append(p.Mappers, ldap.MapperSpec{ID: m.ID, Name: m.Name, ProviderID: m.ProviderID, Config: m.Config})
	}
	// The username mapper named "username" decides the username when
	// several map it (AD's "username-cn" writes cn on registration only).
	slices.SortStableFunc(p.Mappers, func(a, b ldap.MapperSpec) int {
		rank := func(m ldap.MapperSpec) int {
			if m.Name == "username" {
				return 0
			}
			return 1
		}
		return rank(a) - rank(b)
	})
	return p, nil
}

// Providers returns the realm's enabled ldap providers, by priority then
// name. A provider whose config no longer parses is skipped.
func Providers(ctx context.Context, db *store.DB, realmID string) ([]Provider, error) {
	cs, err := db.ListComponents(ctx, realmID, ldap.ProviderType, "")
	if err != nil {
		return nil, err
	}
	var out []Provider
	for _, c := range cs {
		if c.ProviderID != ldap.ProviderID {
			continue
		}
		p, err := Load(ctx, db, c)
		if err != nil || !p.Config.Enabled {
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Config.Priority != out[j].Config.Priority {
			return out[i].Config.Priority < out[j].Config.Priority
		}
		return out[i].Component.Name < out[j].Component.Name
	})
	return out, nil
}

// ProviderOf returns the provider a federated user is linked to, enabled
// or not; store.ErrNotFound when it is gone.
func ProviderOf(ctx context.Context, db *store.DB, u user.User) (Provider, error) {
	c, err := db.GetComponent(ctx, u.RealmID, u.FederationLink)
	if err != nil {
		return Provider{}, err
	}
	return Load(ctx, db, c)
}

// Dial connects to p's directory as its bindDn.
func Dial(ctx context.Context, p Provider) (*ldap.Client, error) {
	c, err := ldap.Dial(ctx, p.Config)
	return c, wrap(p, err)
}

// StorageID is the id of a user served by provider p without an import:
// the provider and the entry's stable id, so it is the same on every node
// and after every lookup.
func StorageID(providerID, ldapID string) string { return "f:" + providerID + ":" + ldapID }

// Imported reports whether u is a lasting import (as opposed to a user
// served from a provider with importEnabled off, whose id is a StorageID).
func Imported(u user.User) bool { return u.FederationLink != "" && !strings.HasPrefix(u.ID, "f:") }

// Lookup finds a login name in the realm's providers, by username and
// then, when the realm allows it and the name looks like one, by email,
// and imports what it finds (ImportEntry). store.ErrNotFound when no
// provider has it; an *UnavailableError when a provider that might have
// it cannot be asked.
func Lookup(ctx context.Context, db *store.DB, rl realm.Realm, name string, now time.Time) (user.User, error) {
	ps, err := Providers(ctx, db, rl.ID)
	if err != nil || len(ps) == 0 {
		return user.User{}, errors.Join(err, store.ErrNotFound)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return user.User{}, store.ErrNotFound
	}
	byEmail := rl.LoginWithEmailAllowed && strings.Contains(name, "@")
	for _, p := range ps {
		u, err := lookupIn(ctx, db, rl, p, name, byEmail, now)
		if errors.Is(err, ldap.ErrNotFound) {
			continue
		}
		if errors.Is(err, ldap.ErrAmbiguous) {
			// A name the directory holds twice identifies nobody; no
			// other provider answers for it either.
			return user.User{}, store.ErrNotFound
		}
		return u, err
	}
	return user.User{}, store.ErrNotFound
}

func lookupIn(ctx context.Context, db *store.DB, rl realm.Realm, p Provider, name string, byEmail bool, now time.Time) (user.User, error) {
	c, err := Dial(ctx, p)
	if err != nil {
		return user.User{}, err
	}
	defer c.Close()
	e, err := c.FindByUsername(ctx, name)
	if errors.Is(err, ldap.ErrNotFound) && byEmail {
		e, err = c.FindByEmail(ctx, p.Mappers, name)
	}
	if err != nil {
		return user.User{}, wrap(p, err)
	}
	return ImportEntry(ctx, db, rl, p, c, e, now)
}

// Refresh re-reads a federated user from its provider and brings the local
// user up to date (ImportEntry). store.ErrNotFound when the provider or the
// entry is gone; a disabled provider serves its users disabled, as
// nothing can vouch for them.
func Refresh(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, now time.Time) (user.User, error) {
	p, err := ProviderOf(ctx, db, u)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return user.User{}, store.ErrNotFound
		}
		return user.User{}, err
	}
	if !p.Config.Enabled {
		u.Enabled = false
		return u, nil
	}
	c, err := Dial(ctx, p)
	if err != nil {
		return user.User{}, err
	}
	defer c.Close()
	e, err := findEntry(ctx, c, u)
	if errors.Is(err, ldap.ErrNotFound) {
		return user.User{}, store.ErrNotFound
	}
	if err != nil {
		return user.User{}, wrap(p, err)
	}
	if p.Config.EditMode == ldap.Unsynced && Imported(u) {
		// Changes made here win until the next sync: only check that the
		// entry still exists.
		return u, nil
	}
	return ImportEntry(ctx, db, rl, p, c, e, now)
}

// findEntry reads u's entry by its stable id, or by username for a user
// imported before the id was known.
func findEntry(ctx context.Context, c *ldap.Client, u user.User) (ldap.Entry, error) {
	if id := first(u.Attributes[AttrLDAPID]); id != "" {
		return c.FindByUUID(ctx, id)
	}
	return c.FindByUsername(ctx, u.Username)
}

func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

// ImportEntry creates or refreshes the local user of a directory entry:
// the mappers' projection (username, email, names, enabled, attributes,
// required actions), federationLink, LDAP_ID and LDAP_ENTRY_DN, and the
// roles and groups the mappers give, taking away those the directory took
// away. With importEnabled off the user is kept under its StorageID and
// refreshed on every lookup. A local user of the same username that is not
// linked to p is never taken over (store.ErrConflict). It is the one path
// by which a directory entry becomes a user: logins and syncs both call it.
// c is a connection to p's directory, used by the group and role mappers.
func ImportEntry(ctx context.Context, db *store.DB, rl realm.Realm, p Provider, c *ldap.Client, e ldap.Entry, now time.Time) (user.User, error) {
	proj, err := ldap.Project(ctx, c, p.Config, p.Mappers, e)
	if err != nil {
		return user.User{}, wrap(p, err)
	}
	if proj.Username == "" || e.UUID == "" {
		return user.User{}, fmt.Errorf("entry %s has no %s or %s", e.DN, p.Config.UsernameAttribute, p.Config.UUIDAttribute)
	}
	var out user.User
	err = db.InTx(ctx, func(tx *store.DB) error {
		cur, err := tx.GetUserByUsername(ctx, rl.ID, proj.Username)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur = user.User{ID: store.NewID(), RealmID: rl.ID, CreatedTimestamp: now.UnixMilli(), FederationLink: p.ID(), Enabled: true}
			if !p.Config.ImportEnabled {
				cur.ID = StorageID(p.ID(), e.UUID)
			}
			apply(&cur, proj, e, true)
			if err := tx.CreateUser(ctx, cur); err != nil {
				return err
			}
			// A new user gets the realm's default roles, wherever it
			// comes from.
			if rl.DefaultRoleID != "" {
				if err := tx.AddUserRoles(ctx, cur.ID, rl.DefaultRoleID); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		case cur.FederationLink != p.ID():
			return fmt.Errorf("%w: user %q exists and is not linked to provider %s", store.ErrConflict, proj.Username, p.Component.Name)
		default:
			if id := first(cur.Attributes[AttrLDAPID]); id != "" && id != e.UUID {
				return fmt.Errorf("%w: user %q is linked to another directory entry", store.ErrConflict, proj.Username)
			}
			if err := tx.UpdateUser(ctx, rl.ID, cur.ID, func(x *user.User) error { apply(x, proj, e, false); return nil }); err != nil {
				return err
			}
			if cur, err = tx.GetUser(ctx, rl.ID, cur.ID); err != nil {
				return err
			}
		}
		if err := syncRoles(ctx, tx, rl, cur, proj); err != nil {
			return err
		}
		if err := syncGroups(ctx, tx, rl, cur, proj); err != nil {
			return err
		}
		out = cur
		return nil
	})
	return out, err
}

// apply writes a projection onto a local user (new: being created),
// keeping what the directory does not decide (other attributes, pending
// required actions). Whether the user is enabled is decided here: a new
// user takes the projection's state; afterwards only a directory that
// disables the account (the MSAD mapper) changes it, so a refresh at login
// never undoes an administrator's disable or a permanent lockout. Likewise
// emailVerified follows the provider's trustEmail only for a new user or
// an address the directory changed: a verification made here survives.
func apply(u *user.User, p ldap.Projection, e ldap.Entry, new bool) {
	if new || !strings.EqualFold(u.Email, p.Email) {
		u.EmailVerified = p.EmailVerified
	}
	u.Username = p.Username
	u.Email = p.Email
	u.FirstName = p.FirstName
	u.LastName = p.LastName
	if new || !p.Enabled {
		u.Enabled = p.Enabled
	}
	if u.Attributes == nil {
		u.Attributes = map[string][]string{}
	}
	for k, v := range p.Attributes {
		u.Attributes[k] = slices.Clone(v)
	}
	u.Attributes[AttrLDAPID] = []string{e.UUID}
	u.Attributes[AttrLDAPEntryDN] = []string{e.DN}
	for _, a := range p.RequiredActions {
		if !slices.Contains(u.RequiredActions, a) {
			u.RequiredActions = append(u.RequiredActions, a)
		}
	}
}

// resolveRole finds (or, for the role mapper's roles, creates) a role.
func resolveRole(ctx context.Context, tx *store.DB, rl realm.Realm, ref ldap.RoleRef, create bool) (role.Role, bool, error) {
	if ref.Qualified != "" {
		// "clientId.role" names a client's role when such a client
		// exists; anything else a realm role.
		if i := strings.LastIndex(ref.Qualified, "."); i > 0 {
			if cl, err := tx.GetClientByClientID(ctx, rl.ID, ref.Qualified[:i]); err == nil {
				r, err := tx.GetClientRole(ctx, rl.ID, cl.ID, ref.Qualified[i+1:])
				return r, err == nil, ignoreNotFound(err)
			}
		}
		r, err := tx.GetRealmRole(ctx, rl.ID, ref.Qualified)
		return r, err == nil, ignoreNotFound(err)
	}
	clientID := ""
	var (
		r   role.Role
		err error
	)
	if ref.ClientID != "" {
		cl, cerr := tx.GetClientByClientID(ctx, rl.ID, ref.ClientID)
		if cerr != nil {
			return role.Role{}, false, ignoreNotFound(cerr)
		}
		clientID = cl.ID
		r, err = tx.GetClientRole(ctx, rl.ID, cl.ID, ref.Name)
	} else {
		r, err = tx.GetRealmRole(ctx, rl.ID, ref.Name)
	}
	if errors.Is(err, store.ErrNotFound) && create {
		r = role.Role{ID: store.NewID(), RealmID: rl.ID, ClientID: clientID, Name: ref.Name}
		if err := tx.CreateRole(ctx, r); err != nil {
			return role.Role{}, false, err
		}
		return r, true, nil
	}
	return r, err == nil, ignoreNotFound(err)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func syncRoles(ctx context.Context, tx *store.DB, rl realm.Realm, u user.User, p ldap.Projection) error {
	if len(p.Roles) == 0 && len(p.ManagedRoles) == 0 {
		return nil
	}
	have, err := tx.ListUserRoles(ctx, u.ID)
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, r := range have {
		has[r.ID] = true
	}
	want := map[string]bool{}
	var add []string
	for _, ref := range p.Roles {
		r, ok, err := resolveRole(ctx, tx, rl, ref, ref.Qualified == "")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		want[r.ID] = true
		if !has[r.ID] {
			add = append(add, r.ID)
			has[r.ID] = true
		}
	}
	if len(add) > 0 {
		if err := tx.AddUserRolesFrom(ctx, u.ID, u.FederationLink, add...); err != nil {
			return err
		}
	}
	// Only the mappings the provider granted are its to take back: a role
	// granted here stays, whatever the directory says.
	granted, err := tx.UserRoleIDsFrom(ctx, u.ID, u.FederationLink)
	if err != nil {
		return err
	}
	var remove []string
	for _, ref := range p.ManagedRoles {
		r, ok, err := resolveRole(ctx, tx, rl, ref, false)
		if err != nil {
			return err
		}
		if ok && !want[r.ID] && slices.Contains(granted, r.ID) {
			remove = append(remove, r.ID)
		}
	}
	if len(remove) > 0 {
		return tx.RemoveUserRoles(ctx, u.ID, remove...)
	}
	return nil
}

// groupByPath finds the group at path ("/a/b"), creating the missing
// ones along it when create is set.
func groupByPath(ctx context.Context, tx *store.DB, rl realm.Realm, all *[]role.Group, path string, create bool) (role.Group, bool, error) {
	parent := ""
	var g role.Group
	for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
		if name == "" {
			continue
		}
		found := false
		for _, x := range *all {
			if x.ParentID == parent && x.Name == name {
				g, found = x, true
				break
			}
		}
		if !found {
			if !create {
				return role.Group{}, false, nil
			}
			g = role.Group{ID: store.NewID(), RealmID: rl.ID, ParentID: parent, Name: name}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return role.Group{}, false, err
			}
			*all = append(*all, g)
		}
		parent = g.ID
	}
	return g, g.ID != "", nil
}

func syncGroups(ctx context.Context, tx *store.DB, rl realm.Realm, u user.User, p ldap.Projection) error {
	if len(p.Groups) == 0 && len(p.ManagedGroups) == 0 {
		return nil
	}
	all, err := tx.ListGroups(ctx, rl.ID)
	if err != nil {
		return err
	}
	mine, err := tx.ListUserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	member := map[string]bool{}
	for _, g := range mine {
		member[g.ID] = true
	}
	want := map[string]bool{}
	var add []store.GroupMember
	for _, path := range p.Groups {
		g, ok, err := groupByPath(ctx, tx, rl, &all, path, true)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		want[g.ID] = true
		if !member[g.ID] {
			add = append(add, store.GroupMember{GroupID: g.ID, UserID: u.ID})
			member[g.ID] = true
		}
	}
	if len(add) > 0 {
		if err := tx.AddGroupMembers(ctx, add...); err != nil {
			return err
		}
	}
	for _, path := range p.ManagedGroups {
		g, ok, err := groupByPath(ctx, tx, rl, &all, path, false)
		if err != nil {
			return err
		}
		if ok && !want[g.ID] && member[g.ID] {
			if err := tx.RemoveGroupMember(ctx, g.ID, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}
