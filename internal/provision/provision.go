// Package provision owns what a realm contains from birth, as Keycloak sets it
// up: the built-in client scopes and their mappers, the built-in clients, the
// default role, the admin roles on realm-management (or, for the master realm,
// on one "<realm>-realm" client per realm), the realm keys, and the bootstrap
// administrator. Every step is idempotent, so import can fill in whatever a
// realm file leaves out.
package provision

import (
	"context"
	"errors"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Admin role names, in Keycloak's order, held by realm-management in each
// realm and by "<realm>-realm" in the master realm.
var AdminRoles = []string{
	"create-client", "impersonation", "manage-authorization", "manage-clients", "manage-events",
	"manage-identity-providers", "manage-realm", "manage-users", "query-clients", "query-groups",
	"query-realms", "query-users", "view-authorization", "view-clients", "view-events",
	"view-identity-providers", "view-realm", "view-users",
}

// adminComposites are the admin roles that imply others.
var adminComposites = map[string][]string{
	"view-clients": {"query-clients"},
	"view-users":   {"query-users", "query-groups"},
}

// Built-in client ids.
const (
	RealmManagement      = "realm-management"
	Account              = "account"
	AccountConsole       = "account-console"
	AdminCLI             = "admin-cli"
	Broker               = "broker"
	SecurityAdminConsole = "security-admin-console"
	RealmAdmin           = role.RealmAdmin
	MasterAdminRole      = "admin"
	CreateRealmRole      = "create-realm"
	OfflineAccessRole    = "offline_access"
	UMAAuthorizationRole = "uma_authorization"
)

// MasterAdminClient names the master-realm client holding the admin roles of realmName.
func MasterAdminClient(realmName string) string { return realmName + "-realm" }

// NewRealm creates a realm with everything Keycloak puts in a new one.
func NewRealm(ctx context.Context, db *store.DB, r realm.Realm, now time.Time) error {
	if r.RegistrationPolicies == nil {
		r.RegistrationPolicies = regpolicy.Defaults()
	}
	return db.InTx(ctx, func(tx *store.DB) error {
		if err := tx.CreateRealm(ctx, r); err != nil {
			return err
		}
		if err := DefaultScopes(ctx, tx, r.ID); err != nil {
			return err
		}
		if err := Complete(ctx, tx, r.ID, now); err != nil {
			return err
		}
		return MapOfflineScope(ctx, tx, r.ID)
	})
}

// MapOfflineScope maps the realm's offline_access client scope to the realm
// role of that name, as Keycloak does in a new realm: the scope then applies
// only to users who may have offline tokens, and brings that role into the
// tokens of clients without full scope. It is for a realm whose built-in
// scopes were just created (DefaultScopes), once its roles exist.
func MapOfflineScope(ctx context.Context, tx *store.DB, realmID string) error {
	sc, err := tx.GetClientScopeByName(ctx, realmID, OfflineAccessRole)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ro, err := tx.GetRealmRole(ctx, realmID, OfflineAccessRole)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.AddScopeMappings(ctx, store.ScopeOwner{ClientScope: true, ID: sc.ID}, ro.ID)
}

// DefaultScopes creates the built-in client scopes and makes them the realm's
// defaults for new clients. Scopes whose names exist are left alone.
func DefaultScopes(ctx context.Context, tx *store.DB, realmID string) error {
	for _, b := range builtinScopes(realmID) {
		id := b.scope.ID
		existing, err := tx.GetClientScopeByName(ctx, realmID, b.scope.Name)
		switch {
		case err == nil:
			id = existing.ID
		case errors.Is(err, store.ErrNotFound):
			if err := tx.CreateClientScope(ctx, b.scope); err != nil {
				return err
			}
		default:
			return err
		}
		if b.link {
			if err := tx.LinkClientScope(ctx, realmID, store.RealmDefaults, id, b.dflt); err != nil {
				return err
			}
		}
	}
	return nil
}

// Complete adds whatever built-in part of a realm is missing: roles, default
// role, built-in clients, admin roles, authentication flows, keys. It never changes what exists.
func Complete(ctx context.Context, tx *store.DB, realmID string, now time.Time) error {
	r, err := tx.GetRealm(ctx, realmID)
	if err != nil {
		return err
	}
	offline, err := EnsureRealmRole(ctx, tx, realmID, OfflineAccessRole, "${role_offline-access}")
	if err != nil {
		return err
	}
	uma, err := EnsureRealmRole(ctx, tx, realmID, UMAAuthorizationRole, "${role_uma_authorization}")
	if err != nil {
		return err
	}

	accountRoles, err := builtinClients(ctx, tx, r, now)
	if err != nil {
		return err
	}

	// The default role every new user receives.
	if r.DefaultRoleID == "" {
		def, err := EnsureRealmRole(ctx, tx, realmID, realm.DefaultRoleName(r.Name), "${role_default-roles}")
		if err != nil {
			return err
		}
		if err := tx.AddComposites(ctx, def.ID, offline.ID, uma.ID, accountRoles["view-profile"], accountRoles["manage-account"]); err != nil {
			return err
		}
		if err := tx.UpdateRealm(ctx, realmID, func(x *realm.Realm) error { x.DefaultRoleID = def.ID; return nil }); err != nil {
			return err
		}
	}

	if err := masterAdminRoles(ctx, tx, r, now); err != nil {
		return err
	}
	if err := AuthFlows(ctx, tx, realmID); err != nil {
		return err
	}
	return ensureKeys(ctx, tx, r, now)
}

// AuthFlows gives a realm that has no authentication model Keycloak's
// built-in one (flows, authenticator configs, required actions, bindings),
// with fresh ids for every flow, execution and config.
func AuthFlows(ctx context.Context, tx *store.DB, realmID string) error {
	c := flow.Defaults()
	c.AssignIDs(store.NewID)
	_, err := tx.InitAuthConfig(ctx, realmID, c)
	return err
}

// BuiltinClients creates whichever of Keycloak's built-in clients (account,
// account-console, admin-cli, broker, security-admin-console and, outside
// master, realm-management) the realm lacks, with their roles.
func BuiltinClients(ctx context.Context, tx *store.DB, realmID string, now time.Time) error {
	r, err := tx.GetRealm(ctx, realmID)
	if err != nil {
		return err
	}
	_, err = builtinClients(ctx, tx, r, now)
	return err
}

// ReadTokenRole is the broker client's role that lets a user read the
// tokens an identity provider gave at login (storeToken).
const ReadTokenRole = "read-token"

// EnsureBroker gives realm realmID the broker client with its read-token
// role where either is missing, as identity providers that store tokens
// need them, and returns both.
func EnsureBroker(ctx context.Context, tx *store.DB, realmID string, now time.Time) (client.Client, role.Role, error) {
	r, err := tx.GetRealm(ctx, realmID)
	if err != nil {
		return client.Client{}, role.Role{}, err
	}
	return ensureBroker(ctx, tx, r, now)
}

func ensureBroker(ctx context.Context, tx *store.DB, r realm.Realm, now time.Time) (client.Client, role.Role, error) {
	cl, err := ensureClient(ctx, tx, r, brokerClient(r), now)
	if err != nil {
		return client.Client{}, role.Role{}, err
	}
	ro, err := EnsureClientRole(ctx, tx, r.ID, cl.ID, ReadTokenRole, "${role_read-token}")
	return cl, ro, err
}

// builtinClients returns the ids of the account client's roles by name.
func builtinClients(ctx context.Context, tx *store.DB, r realm.Realm, now time.Time) (map[string]string, error) {
	realmID := r.ID
	account, err := ensureClient(ctx, tx, r, accountClient(r), now)
	if err != nil {
		return nil, err
	}
	accountRoles := map[string]string{}
	for _, name := range []string{"view-profile", "manage-account", "manage-account-links", "view-applications",
		"view-consent", "manage-consent", "delete-account", "view-groups"} {
		ro, err := EnsureClientRole(ctx, tx, realmID, account.ID, name, "${role_"+name+"}")
		if err != nil {
			return nil, err
		}
		accountRoles[name] = ro.ID
	}
	if err := tx.AddComposites(ctx, accountRoles["manage-account"], accountRoles["manage-account-links"]); err != nil {
		return nil, err
	}
	if err := tx.AddComposites(ctx, accountRoles["manage-consent"], accountRoles["view-consent"]); err != nil {
		return nil, err
	}
	if _, _, err := ensureBroker(ctx, tx, r, now); err != nil {
		return nil, err
	}
	for _, c := range []client.Client{accountConsoleClient(r), adminCLIClient(r), securityAdminConsoleClient(r)} {
		cl, err := ensureClient(ctx, tx, r, c, now)
		if err != nil {
			return nil, err
		}
		// The account console has no full scope: a new one carries the
		// account roles its pages need.
		if cl.ClientID == AccountConsole && cl.ID == c.ID {
			if err := tx.AddScopeMappings(ctx, store.ScopeOwner{ID: cl.ID}, accountRoles["manage-account"], accountRoles["view-groups"]); err != nil {
				return nil, err
			}
		}
	}

	if r.Name != realm.MasterName {
		rm, err := ensureClient(ctx, tx, r, bearerOnly(r, RealmManagement, "${client_realm-management}"), now)
		if err != nil {
			return nil, err
		}
		if err := adminClientRoles(ctx, tx, r.ID, rm.ID, true); err != nil {
			return nil, err
		}
	}
	return accountRoles, nil
}

// masterAdminRoles lets master's administrators manage realm r: when a master
// realm exists, a "<r>-realm" client in master holds r's admin roles, and the
// master "admin" role includes them.
func masterAdminRoles(ctx context.Context, tx *store.DB, r realm.Realm, now time.Time) error {
	master, err := tx.GetRealmByName(ctx, realm.MasterName)
	if errors.Is(err, store.ErrNotFound) {
		return nil // realms created before master get theirs when master is made
	}
	if err != nil {
		return err
	}
	if r.Name == realm.MasterName {
		if _, err := EnsureRealmRole(ctx, tx, master.ID, CreateRealmRole, "${role_create-realm}"); err != nil {
			return err
		}
		if _, err := EnsureRealmRole(ctx, tx, master.ID, MasterAdminRole, "${role_admin}"); err != nil {
			return err
		}
		// Master administers every realm that exists, itself included.
		all, err := tx.ListRealms(ctx)
		if err != nil {
			return err
		}
		for _, other := range all {
			if err := masterAdminClient(ctx, tx, master, other.Name, now); err != nil {
				return err
			}
		}
		return nil
	}
	return masterAdminClient(ctx, tx, master, r.Name, now)
}

func masterAdminClient(ctx context.Context, tx *store.DB, master realm.Realm, realmName string, now time.Time) error {
	c := bearerOnly(master, MasterAdminClient(realmName), realmName+" Realm")
	cl, err := ensureClient(ctx, tx, master, c, now)
	if err != nil {
		return err
	}
	if err := adminClientRoles(ctx, tx, master.ID, cl.ID, false); err != nil {
		return err
	}
	admin, err := EnsureRealmRole(ctx, tx, master.ID, MasterAdminRole, "${role_admin}")
	if err != nil {
		return err
	}
	roles, err := tx.ListClientRoles(ctx, master.ID, cl.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(roles))
	for i, ro := range roles {
		ids[i] = ro.ID
	}
	if err := tx.AddComposites(ctx, admin.ID, ids...); err != nil {
		return err
	}
	if realmName == realm.MasterName {
		// Master's administrators may also create realms.
		createRealm, err := EnsureRealmRole(ctx, tx, master.ID, CreateRealmRole, "${role_create-realm}")
		if err != nil {
			return err
		}
		return tx.AddComposites(ctx, admin.ID, createRealm.ID)
	}
	return nil
}

// adminClientRoles gives the client every admin role, and realm-admin (a
// composite of all of them) when withRealmAdmin.
func adminClientRoles(ctx context.Context, tx *store.DB, realmID, clientID string, withRealmAdmin bool) error {
	ids := map[string]string{}
	for _, name := range AdminRoles {
		ro, err := EnsureClientRole(ctx, tx, realmID, clientID, name, "${role_"+name+"}")
		if err != nil {
			return err
		}
		ids[name] = ro.ID
	}
	for parent, kids := range adminComposites {
		for _, k := range kids {
			if err := tx.AddComposites(ctx, ids[parent], ids[k]); err != nil {
				return err
			}
		}
	}
	if !withRealmAdmin {
		return nil
	}
	ra, err := EnsureClientRole(ctx, tx, realmID, clientID, RealmAdmin, "${role_realm-admin}")
	if err != nil {
		return err
	}
	all := make([]string, 0, len(ids))
	for _, name := range AdminRoles {
		all = append(all, ids[name])
	}
	return tx.AddComposites(ctx, ra.ID, all...)
}

// ensureKeys gives a realm without keys Keycloak's default key providers
// (keys.Defaults). A realm with any key keeps what it has: one imported
// with an ES256 key alone signs with it, and an algorithm it lacks gets a
// fallback key when a token first needs it (SigningKey).
func ensureKeys(ctx context.Context, tx *store.DB, r realm.Realm, now time.Time) error {
	ks, err := tx.ListKeys(ctx, r.ID)
	if err != nil || len(ks) > 0 {
		return err
	}
	defaults, err := keys.Defaults(r.Name, now)
	if err != nil {
		return err
	}
	for _, k := range defaults {
		k.RealmID = r.ID
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// EnsureRealmRole returns the realm role name, creating it (with desc) when
// the realm lacks it.
func EnsureRealmRole(ctx context.Context, tx *store.DB, realmID, name, desc string) (role.Role, error) {
	ro, err := tx.GetRealmRole(ctx, realmID, name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return ro, err
	}
	ro = role.Role{ID: store.NewID(), RealmID: realmID, Name: name, Description: desc, Attributes: map[string][]string{}}
	return ro, tx.CreateRole(ctx, ro)
}

// EnsureClientRole returns the role name of the client with internal id
// clientID, creating it (with desc) when the client lacks it.
func EnsureClientRole(ctx context.Context, tx *store.DB, realmID, clientID, name, desc string) (role.Role, error) {
	ro, err := tx.GetClientRole(ctx, realmID, clientID, name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return ro, err
	}
	ro = role.Role{ID: store.NewID(), RealmID: realmID, ClientID: clientID, Name: name, Description: desc, Attributes: map[string][]string{}}
	return ro, tx.CreateRole(ctx, ro)
}

// ensureClient creates c unless a client with its clientId exists, and links
// the realm's default scopes to a new client.
func ensureClient(ctx context.Context, tx *store.DB, r realm.Realm, c client.Client, now time.Time) (client.Client, error) {
	existing, err := tx.GetClientByClientID(ctx, r.ID, c.ClientID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return existing, err
	}
	if err := CreateClient(ctx, tx, c, now); err != nil {
		return client.Client{}, err
	}
	return c, nil
}

// CreateClient stores a new client, links the realm's default client scopes
// to it as Keycloak does for a client created without explicit scopes, and
// creates its service account user when service accounts are enabled.
func CreateClient(ctx context.Context, tx *store.DB, c client.Client, now time.Time) error {
	return tx.InTx(ctx, func(tx *store.DB) error {
		if err := tx.CreateClient(ctx, c); err != nil {
			return err
		}
		links, err := tx.ClientScopeLinks(ctx, c.RealmID, store.RealmDefaults)
		if err != nil {
			return err
		}
		for _, l := range links {
			if err := tx.LinkClientScope(ctx, c.RealmID, c.ID, l.ScopeID, l.Default); err != nil {
				return err
			}
		}
		if c.ServiceAccountsEnabled {
			return EnsureServiceAccount(ctx, tx, c, now)
		}
		return nil
	})
}

// EnsureServiceAccount creates the service account user of a client
// ("service-account-<clientId>") holding the realm's default role, and links
// the service_account scope, unless they exist.
func EnsureServiceAccount(ctx context.Context, tx *store.DB, c client.Client, now time.Time) error {
	if _, err := tx.GetServiceAccount(ctx, c.RealmID, c.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	u := user.User{ID: store.NewID(), RealmID: c.RealmID, Username: user.ServiceAccountPrefix + c.ClientID,
		Enabled: true, CreatedTimestamp: now.UnixMilli(), ServiceAccountClientID: c.ID}
	if err := tx.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("service account of %q: %w", c.ClientID, err)
	}
	r, err := tx.GetRealm(ctx, c.RealmID)
	if err != nil {
		return err
	}
	if r.DefaultRoleID != "" {
		if err := tx.AddUserRoles(ctx, u.ID, r.DefaultRoleID); err != nil {
			return err
		}
	}
	if sa, err := tx.GetClientScopeByName(ctx, c.RealmID, "service_account"); err == nil {
		return tx.LinkClientScope(ctx, c.RealmID, c.ID, sa.ID, true)
	}
	return nil
}

// Master makes sure the master realm exists, complete, and that every other
// realm has its admin client there. When the master realm has no users and a
// bootstrap password is given, it creates the bootstrap administrator with the
// admin role. It reports whether it created the administrator.
func Master(ctx context.Context, db *store.DB, adminUser, adminPassword string, now time.Time) (bool, error) {
	created := false
	err := db.InTx(ctx, func(tx *store.DB) error {
		// Nodes started together on an empty database each run this; one
		// at a time, the first creates and the others find it done.
		if err := tx.Serialize(ctx, "bootstrap"); err != nil {
			return err
		}
		m, err := tx.GetRealmByName(ctx, realm.MasterName)
		fresh := errors.Is(err, store.ErrNotFound)
		if fresh {
			m = realm.New(store.NewID(), realm.MasterName)
			m.DisplayName = "Keycloak"
			m.DisplayNameHTML = `<div class="kc-logo-text"><span>Keycloak</span></div>`
			m.AccessTokenLifespan = 60
			m.RegistrationPolicies = regpolicy.Defaults()
			if err := tx.CreateRealm(ctx, m); err != nil {
				return err
			}
			if err := DefaultScopes(ctx, tx, m.ID); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := Complete(ctx, tx, m.ID, now); err != nil {
			return err
		}
		if fresh {
			if err := MapOfflineScope(ctx, tx, m.ID); err != nil {
				return err
			}
		}
		if adminPassword == "" {
			return nil
		}
		n, err := tx.CountUsers(ctx, m.ID)
		if err != nil || n > 0 {
			return err
		}
		if adminUser == "" {
			adminUser = "admin"
		}
		m, err = tx.GetRealm(ctx, m.ID)
		if err != nil {
			return err
		}
		u := user.User{ID: store.NewID(), RealmID: m.ID, Username: adminUser, Enabled: true,
			CreatedTimestamp: now.UnixMilli(), Attributes: map[string][]string{"is_temporary_admin": {"true"}}}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		cred, err := user.NewPasswordCredential(store.NewID(), u.ID, adminPassword, now.UnixMilli(), user.ParseHashPolicy(m.PasswordPolicy))
		if err != nil {
			return err
		}
		if err := tx.CreateCredential(ctx, cred); err != nil {
			return err
		}
		admin, err := tx.GetRealmRole(ctx, m.ID, MasterAdminRole)
		if err != nil {
			return err
		}
		created = true
		return tx.AddUserRoles(ctx, u.ID, admin.ID, m.DefaultRoleID)
	})
	return created, err
}

// ErrPublicResourceServer refuses authorization services to a public or
// bearer-only client: a resource server authenticates with its own
// credentials at the protection API.
var ErrPublicResourceServer = errors.New("Only confidential clients are allowed to set authorization settings")

// EnableAuthorization makes c a resource server, as turning on
// authorizationServicesEnabled does: service accounts on (and its user),
// the client role uma_protection held by that user, and the resource
// server with authz.DefaultServer's settings unless it has one. c is
// updated in place when its service accounts were off.
func EnableAuthorization(ctx context.Context, tx *store.DB, c *client.Client, now time.Time) error {
	if !c.Confidential() {
		return ErrPublicResourceServer
	}
	return tx.InTx(ctx, func(tx *store.DB) error {
		if !c.ServiceAccountsEnabled {
			if err := tx.UpdateClient(ctx, c.RealmID, c.ID, func(old *client.Client) error {
				old.ServiceAccountsEnabled = true
				return nil
			}); err != nil {
				return err
			}
			c.ServiceAccountsEnabled = true
		}
		if err := EnsureServiceAccount(ctx, tx, *c, now); err != nil {
			return err
		}
		uma, err := EnsureClientRole(ctx, tx, c.RealmID, c.ID, authz.UMAProtection, "${role_uma_protection}")
		if err != nil {
			return err
		}
		sa, err := tx.GetServiceAccount(ctx, c.RealmID, c.ID)
		if err != nil {
			return err
		}
		if err := tx.AddUserRoles(ctx, sa.ID, uma.ID); err != nil {
			return err
		}
		if _, err := tx.GetResourceServer(ctx, c.RealmID, c.ID); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.PutResourceServer(ctx, authz.DefaultServer(c.RealmID, c.ID))
	})
}
