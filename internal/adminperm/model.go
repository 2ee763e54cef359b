// Package adminperm owns a realm's fine-grained admin permissions, in the
// first model Keycloak shipped (its "management/permissions" endpoints):
// the realm's admin client (realm-management, or "master-realm" in master)
// is a resource server; turning permissions on for the users of the realm,
// a group, a role, a client or an identity provider gives that object a
// resource and one scope permission per action, which start without a
// policy and so grant nothing; an administrator attaches policies through
// the authorization API of the admin client. A Checker answers, for one
// admin call, what those permissions grant the caller.
//
// The rules that combine these answers with the admin roles (a caller who
// holds view-users needs no permission to view a user) live with the admin
// API; this package only models and evaluates the permissions.
//
// Keycloak 26.2's second model (admin permissions on a realm client of
// their own, with resource types) is not built.
package adminperm

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Kinds of object that carry fine-grained admin permissions.
const (
	Users            = "users" // every user of the realm at once
	Group            = "group"
	Role             = "role"
	Client           = "client"
	IdentityProvider = "idp"
)

// Scope names, as the permissions and the admin API's
// ManagementPermissionReference use them.
const (
	View                  = "view"
	Manage                = "manage"
	MapRoles              = "map-roles"
	ManageGroupMembership = "manage-group-membership"
	Impersonate           = "impersonate"
	UserImpersonated      = "user-impersonated"
	ViewMembers           = "view-members"
	ManageMembers         = "manage-members"
	ManageMembership      = "manage-membership"
	MapRole               = "map-role"
	MapRoleClientScope    = "map-role-client-scope"
	MapRoleComposite      = "map-role-composite"
	Configure             = "configure"
	MapRolesClientScope   = "map-roles-client-scope"
	MapRolesComposite     = "map-roles-composite"
	TokenExchange         = "token-exchange"
)

// Reference is Keycloak's ManagementPermissionReference: whether an
// object's permissions are on, its resource's id, and each scope's
// permission id. Off is {"enabled":false}.
type Reference struct {
	Enabled          bool              `json:"enabled"`
	Resource         string            `json:"resource,omitempty"`
	ScopePermissions map[string]string `json:"scopePermissions,omitempty"`
}

// kind is how one kind of object is laid out on the resource server. The
// names are Keycloak's, so an exported realm reads the same in either
// server and the admin console finds the permissions it links to.
type kind struct {
	typ      string   // the resource's type ("" for Users)
	prefix   string   // resource name = prefix + object id
	scopes   []string // the resource's scopes, in the reference's order
	perm     func(scope, id string) string
	strategy string // the decision strategy of a new permission
}

var kinds = map[string]kind{
	Users: {prefix: "Users", scopes: []string{View, Manage, MapRoles, ManageGroupMembership, Impersonate, UserImpersonated},
		perm: func(scope, _ string) string {
			if scope == Impersonate {
				return "admin-impersonating.permission.users"
			}
			return scope + ".permission.users"
		}, strategy: authz.Unanimous},
	Group: {typ: "Group", prefix: "group.resource.", scopes: []string{View, Manage, ViewMembers, ManageMembers, ManageMembership},
		perm: func(scope, id string) string {
			// view-members is "view.members.permission.group.<id>".
			name := map[string]string{ViewMembers: "view.members", ManageMembers: "manage.members", ManageMembership: "manage.membership"}[scope]
			if name == "" {
				name = scope
			}
			return name + ".permission.group." + id
		}, strategy: authz.Unanimous},
	Role: {typ: "Role", prefix: "role.resource.", scopes: []string{MapRole, MapRoleClientScope, MapRoleComposite},
		perm: func(scope, id string) string { return scope + ".permission." + id }, strategy: authz.Affirmative},
	Client: {typ: "Client", prefix: "client.resource.", scopes: []string{View, Manage, Configure, MapRoles, MapRolesClientScope, MapRolesComposite, TokenExchange},
		perm: func(scope, id string) string { return scope + ".permission.client." + id }, strategy: authz.Unanimous},
	IdentityProvider: {typ: "IdentityProvider", prefix: "idp.resource.", scopes: []string{TokenExchange},
		perm: func(scope, id string) string { return scope + ".permission.idp." + id }, strategy: authz.Unanimous},
}

func kindOf(name string) (kind, error) {
	k, ok := kinds[name]
	if !ok {
		return kind{}, fmt.Errorf("adminperm: unknown kind %q", name)
	}
	return k, nil
}

func (k kind) resourceName(id string) string {
	if k.typ == "" {
		return k.prefix
	}
	return k.prefix + id
}

// ResourceName is the name of the resource that holds an object's
// permissions ("Users", "group.resource.<id>", ...).
func ResourceName(kindName, objectID string) (string, error) {
	k, err := kindOf(kindName)
	if err != nil {
		return "", err
	}
	return k.resourceName(objectID), nil
}

// ManagementClient is the realm's admin client, whose resource server
// holds the realm's fine-grained admin permissions: "master-realm" in the
// master realm, realm-management in every other.
func ManagementClient(ctx context.Context, db *store.DB, rl realm.Realm) (client.Client, error) {
	id := provision.RealmManagement
	if rl.Name == realm.MasterName {
		id = provision.MasterAdminClient(realm.MasterName)
	}
	return db.GetClientByClientID(ctx, rl.ID, id)
}

// IsManagementClient reports whether clientID names the client whose
// resource server holds realm rl's admin permissions.
func IsManagementClient(rl realm.Realm, clientID string) bool {
	if rl.Name == realm.MasterName {
		return clientID == provision.MasterAdminClient(realm.MasterName)
	}
	return clientID == provision.RealmManagement
}

// ServerSettings are those of the resource server the admin client gets
// when permissions are first turned on: enforcing, unanimous, and no
// remote resource management (nothing but this package writes resources
// there). The client gets no service account: it is never a client that
// acts.
func ServerSettings(realmID, clientID string) authz.ResourceServer {
	return authz.ResourceServer{ID: clientID, RealmID: realmID, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous}
}

// EnsureServer makes the realm's admin client (clientID, its internal id)
// a resource server with ServerSettings, unless it is one: as turning
// permissions on does, and as an import or a client update asking for
// authorization services on that client does.
func EnsureServer(ctx context.Context, tx *store.DB, realmID, clientID string) error {
	_, err := tx.GetResourceServer(ctx, realmID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return tx.PutResourceServer(ctx, ServerSettings(realmID, clientID))
	}
	return err
}

// server returns the realm's admin resource server, ok false when there is none.
func server(ctx context.Context, db *store.DB, realmID string) (authz.ResourceServer, bool, error) {
	rl, err := db.GetRealm(ctx, realmID)
	if err != nil {
		return authz.ResourceServer{}, false, err
	}
	c, err := ManagementClient(ctx, db, rl)
	if errors.Is(err, store.ErrNotFound) {
		return authz.ResourceServer{}, false, nil
	}
	if err != nil {
		return authz.ResourceServer{}, false, err
	}
	s, err := db.GetResourceServer(ctx, realmID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return authz.ResourceServer{ID: c.ID, RealmID: realmID}, false, nil
	}
	return s, err == nil, err
}

// findResource returns the server-owned resource named name.
func findResource(ctx context.Context, db *store.DB, s authz.ResourceServer, name string) (authz.Resource, bool, error) {
	rs, err := db.ListResources(ctx, s.ID, store.ResourceFilter{Name: name, ExactName: true})
	if err != nil {
		return authz.Resource{}, false, err
	}
	for _, r := range rs {
		if r.Owner == "" || r.Owner == s.ID {
			return r, true, nil
		}
	}
	return authz.Resource{}, false, nil
}

func findPolicy(ctx context.Context, db *store.DB, serverID, name string) (authz.Policy, bool, error) {
	ps, err := db.ListPolicies(ctx, serverID, store.PolicyFilter{Name: name, ExactName: true})
	if err != nil || len(ps) == 0 {
		return authz.Policy{}, false, err
	}
	return ps[0], true, nil
}

// Get answers whether an object's permissions are on, with the ids of its
// resource and of the permission of each scope. Users count as on while
// both the "Users" resource and its manage permission exist, as Keycloak
// decides; other objects while their resource exists (a role: while its
// map-role permission exists). A permission an administrator deleted is
// left out of ScopePermissions; Set with enabled true brings it back.
func Get(ctx context.Context, db *store.DB, realmID, kindName, objectID string) (Reference, error) {
	k, err := kindOf(kindName)
	if err != nil {
		return Reference{}, err
	}
	s, ok, err := server(ctx, db, realmID)
	if err != nil || !ok {
		return Reference{}, err
	}
	res, ok, err := findResource(ctx, db, s, k.resourceName(objectID))
	if err != nil || !ok {
		return Reference{}, err
	}
	ref := Reference{Enabled: true, Resource: res.ID, ScopePermissions: map[string]string{}}
	for _, sc := range k.scopes {
		p, ok, err := findPolicy(ctx, db, s.ID, k.perm(sc, objectID))
		if err != nil {
			return Reference{}, err
		}
		if ok {
			ref.ScopePermissions[sc] = p.ID
		}
	}
	switch kindName {
	case Users:
		if ref.ScopePermissions[Manage] == "" {
			return Reference{}, nil
		}
	case Role:
		if ref.ScopePermissions[MapRole] == "" {
			return Reference{}, nil
		}
	}
	return ref, nil
}

// Set turns an object's permissions on or off in one transaction and
// answers as Get does afterwards. On creates what is missing: the admin
// client's resource server, the scopes by name, the object's resource with
// its scopes, and a scope permission per scope without any policy. Off
// deletes the object's permissions and resource; the scopes and the server
// stay, as other objects may use them.
func Set(ctx context.Context, db *store.DB, realmID, kindName, objectID string, enabled bool) (Reference, error) {
	k, err := kindOf(kindName)
	if err != nil {
		return Reference{}, err
	}
	var ref Reference
	err = db.InTx(ctx, func(tx *store.DB) error {
		if !enabled {
			return forget(ctx, tx, realmID, k, objectID)
		}
		if err := enable(ctx, tx, realmID, k, objectID); err != nil {
			return err
		}
		ref, err = Get(ctx, tx, realmID, kindName, objectID)
		return err
	})
	return ref, err
}

// Forget removes what an object's permissions left on the resource server
// when the object is deleted. tx should be the transaction deleting it.
func Forget(ctx context.Context, tx *store.DB, realmID, kindName, objectID string) error {
	k, err := kindOf(kindName)
	if err != nil {
		return err
	}
	return tx.InTx(ctx, func(tx *store.DB) error { return forget(ctx, tx, realmID, k, objectID) })
}

func enable(ctx context.Context, tx *store.DB, realmID string, k kind, objectID string) error {
	s, ok, err := server(ctx, tx, realmID)
	if err != nil {
		return err
	}
	if s.ID == "" {
		return fmt.Errorf("adminperm: realm %s has no admin client: %w", realmID, store.ErrNotFound)
	}
	if !ok {
		if err := EnsureServer(ctx, tx, realmID, s.ID); err != nil {
			return err
		}
	}
	scopeIDs := make([]string, len(k.scopes))
	for i, name := range k.scopes {
		scs, err := tx.ListScopes(ctx, s.ID, store.ScopeFilter{Name: name, ExactName: true})
		if err != nil {
			return err
		}
		if len(scs) > 0 {
			scopeIDs[i] = scs[0].ID
			continue
		}
		sc, err := tx.CreateScope(ctx, authz.Scope{ServerID: s.ID, Name: name})
		if err != nil {
			return err
		}
		scopeIDs[i] = sc.ID
	}
	res, ok, err := findResource(ctx, tx, s, k.resourceName(objectID))
	if err != nil {
		return err
	}
	if !ok {
		res, err = tx.CreateResource(ctx, authz.Resource{ServerID: s.ID, Name: k.resourceName(objectID), Type: k.typ,
			Owner: s.ID, ScopeIDs: scopeIDs})
		if err != nil {
			return err
		}
	}
	for i, sc := range k.scopes {
		name := k.perm(sc, objectID)
		if _, ok, err := findPolicy(ctx, tx, s.ID, name); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		if _, err := tx.CreatePolicy(ctx, authz.Policy{ServerID: s.ID, Name: name, Type: "scope", Logic: authz.Positive,
			DecisionStrategy: k.strategy, Config: map[string]string{}, ResourceIDs: []string{res.ID}, ScopeIDs: []string{scopeIDs[i]}}); err != nil {
			return err
		}
	}
	return nil
}

func forget(ctx context.Context, tx *store.DB, realmID string, k kind, objectID string) error {
	s, ok, err := server(ctx, tx, realmID)
	if err != nil || !ok {
		return err
	}
	for _, sc := range k.scopes {
		p, ok, err := findPolicy(ctx, tx, s.ID, k.perm(sc, objectID))
		if err != nil {
			return err
		}
		if ok {
			if err := tx.DeletePolicy(ctx, s.ID, p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	res, ok, err := findResource(ctx, tx, s, k.resourceName(objectID))
	if err != nil || !ok {
		return err
	}
	if err := tx.DeleteResource(ctx, s.ID, res.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
