package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/gatehouse-iam/gatehouse/internal/admin"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The authorization services routes hold resources, scopes and policies:
// none of them maps a role to anyone.
func init() {
	h := &admin.Handler{Now: time.Now}
	h.Register(http.NewServeMux())
	for _, r := range h.Routes() {
		if strings.Contains(r, "/authz/resource-server") && !strings.HasPrefix(r, "GET ") {
			noRoleEffect[r] = "authorization services hold resources, scopes and policies, never role mappings"
		}
	}
}

// TestAuthzGocloak drives a client's authorization services with every
// authorization admin call of github.com/Nerzal/gocloak/v13: turning them on
// with the client, scopes, resources, policies of each type gocloak knows,
// resource and scope permissions, their associations, and deletion.
func TestAuthzGocloak(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := t.Context()
		gc := gocloak.NewClient(s.URL)
		tok := s.adminToken()
		rl := s.newRealm("photos")
		const realmName = "photos"

		// Authorization services come on with the client: a resource
		// server, the uma_protection role, held by its service account.
		clientID, err := gc.CreateClient(ctx, tok, realmName, gocloak.Client{
			ClientID: gocloak.StringP("album-api"), PublicClient: gocloak.BoolP(false), Secret: gocloak.StringP("s3cret"),
			AuthorizationServicesEnabled: gocloak.BoolP(true),
		})
		if err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		c, err := gc.GetClient(ctx, tok, realmName, clientID)
		if err != nil {
			t.Fatal(err)
		}
		if !gocloak.PBool(c.AuthorizationServicesEnabled) || !gocloak.PBool(c.ServiceAccountsEnabled) {
			t.Errorf("client: authorizationServicesEnabled %v, serviceAccountsEnabled %v", gocloak.PBool(c.AuthorizationServicesEnabled), gocloak.PBool(c.ServiceAccountsEnabled))
		}
		sa, err := gc.GetClientServiceAccount(ctx, tok, realmName, clientID)
		if err != nil {
			t.Fatal(err)
		}
		saRoles, err := gc.GetClientRolesByUserID(ctx, tok, realmName, clientID, gocloak.PString(sa.ID))
		if err != nil || !slices.Contains(roleNames(saRoles), "uma_protection") {
			t.Errorf("service account's roles of the client: %v %v", roleNames(saRoles), err)
		}
		settings, err := gc.GetResourceServer(ctx, tok, realmName, clientID)
		if err != nil {
			t.Fatalf("GetResourceServer: %v", err)
		}
		if gocloak.PString((*string)(settings.PolicyEnforcementMode)) != "ENFORCING" || !gocloak.PBool(settings.AllowRemoteResourceManagement) ||
			gocloak.PString((*string)(settings.DecisionStrategy)) != "UNANIMOUS" {
			t.Errorf("new resource server settings: %+v", settings)
		}
		if settings.Resources == nil || len(*settings.Resources) != 0 || len(*settings.Policies) != 0 {
			t.Errorf("a new resource server holds something: %d resources, %d policies", len(*settings.Resources), len(*settings.Policies))
		}

		// Scopes.
		view, err := gc.CreateScope(ctx, tok, realmName, clientID, gocloak.ScopeRepresentation{Name: gocloak.StringP("view"), DisplayName: gocloak.StringP("View")})
		if err != nil {
			t.Fatalf("CreateScope: %v", err)
		}
		del, err := gc.CreateScope(ctx, tok, realmName, clientID, gocloak.ScopeRepresentation{Name: gocloak.StringP("delete")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = gc.CreateScope(ctx, tok, realmName, clientID, gocloak.ScopeRepresentation{Name: gocloak.StringP("view")})
		wantAPIError(t, "CreateScope twice", err, http.StatusConflict)
		del.IconURI = gocloak.StringP("https://icons.example/del.png")
		if err := gc.UpdateScope(ctx, tok, realmName, clientID, *del); err != nil {
			t.Fatalf("UpdateScope: %v", err)
		}
		got, err := gc.GetScope(ctx, tok, realmName, clientID, gocloak.PString(del.ID))
		if err != nil || gocloak.PString(got.IconURI) != "https://icons.example/del.png" {
			t.Errorf("GetScope after update: %+v %v", got, err)
		}
		scopes, err := gc.GetScopes(ctx, tok, realmName, clientID, gocloak.GetScopeParams{Name: gocloak.StringP("vie")})
		if err != nil || len(scopes) != 1 || gocloak.PString(scopes[0].ID) != gocloak.PString(view.ID) {
			t.Errorf("GetScopes(name=vie): %d %v", len(scopes), err)
		}

		// Resources: one of the server, one of a user; scopes by name,
		// a new one created on the way.
		alice := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Enabled: true}
		if err := s.DB.CreateUser(ctx, alice); err != nil {
			t.Fatal(err)
		}
		album, err := gc.CreateResource(ctx, tok, realmName, clientID, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("Album"), Type: gocloak.StringP("urn:album-api:resources:album"), URIs: &[]string{"/album/*"},
			Scopes:     &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}, {Name: gocloak.StringP("delete")}},
			Attributes: &map[string][]string{"region": {"eu"}}, OwnerManagedAccess: gocloak.BoolP(true),
		})
		if err != nil {
			t.Fatalf("CreateResource: %v", err)
		}
		if gocloak.PString(album.ID) == "" || album.Owner == nil || gocloak.PString(album.Owner.Name) != "album-api" {
			t.Errorf("CreateResource answered %+v", album)
		}
		alicePhoto, err := gc.CreateResource(ctx, tok, realmName, clientID, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("Alice's photo"), Type: gocloak.StringP("urn:album-api:resources:album"),
			Owner:  &gocloak.ResourceOwnerRepresentation{Name: gocloak.StringP("alice")},
			Scopes: &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("share")}},
		})
		if err != nil {
			t.Fatalf("CreateResource owned by alice: %v", err)
		}
		_, err = gc.CreateResource(ctx, tok, realmName, clientID, gocloak.ResourceRepresentation{Name: gocloak.StringP("Album")})
		wantAPIError(t, "CreateResource twice", err, http.StatusConflict)
		if _, err := gc.GetScopes(ctx, tok, realmName, clientID, gocloak.GetScopeParams{Name: gocloak.StringP("share")}); err != nil {
			t.Error(err)
		}
		res, err := gc.GetResource(ctx, tok, realmName, clientID, gocloak.PString(album.ID))
		if err != nil {
			t.Fatalf("GetResource: %v", err)
		}
		if res.Scopes == nil || len(*res.Scopes) != 2 || !slices.Equal(*res.URIs, []string{"/album/*"}) || (*res.Attributes)["region"][0] != "eu" ||
			!gocloak.PBool(res.OwnerManagedAccess) {
			t.Errorf("GetResource: %+v", res)
		}
		for _, c := range []struct {
			name   string
			params gocloak.GetResourceParams
			want   []string
		}{
			{"all", gocloak.GetResourceParams{}, []string{"Album", "Alice's photo"}},
			{"name", gocloak.GetResourceParams{Name: gocloak.StringP("alb")}, []string{"Album"}},
			{"owner by username", gocloak.GetResourceParams{Owner: gocloak.StringP("alice")}, []string{"Alice's photo"}},
			{"owner by clientId", gocloak.GetResourceParams{Owner: gocloak.StringP("album-api")}, []string{"Album"}},
			{"uri", gocloak.GetResourceParams{URI: gocloak.StringP("/album/*")}, []string{"Album"}},
			{"type", gocloak.GetResourceParams{Type: gocloak.StringP("urn:album-api:resources:album")}, []string{"Album", "Alice's photo"}},
			{"scope", gocloak.GetResourceParams{Scope: gocloak.StringP("share")}, []string{"Alice's photo"}},
			{"first and max", gocloak.GetResourceParams{First: gocloak.IntP(1), Max: gocloak.IntP(1)}, []string{"Alice's photo"}},
		} {
			rs, err := gc.GetResources(ctx, tok, realmName, clientID, c.params)
			if err != nil {
				t.Fatalf("GetResources %s: %v", c.name, err)
			}
			var names []string
			for _, r := range rs {
				names = append(names, gocloak.PString(r.Name))
			}
			if !slices.Equal(names, c.want) {
				t.Errorf("GetResources %s: %v, want %v", c.name, names, c.want)
			}
		}
		res.DisplayName = gocloak.StringP("The album")
		res.Scopes = &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}}
		if err := gc.UpdateResource(ctx, tok, realmName, clientID, *res); err != nil {
			t.Fatalf("UpdateResource: %v", err)
		}
		if res, _ = gc.GetResource(ctx, tok, realmName, clientID, gocloak.PString(album.ID)); gocloak.PString(res.DisplayName) != "The album" || len(*res.Scopes) != 1 {
			t.Errorf("resource after update: %+v", res)
		}

		// Policies of each type gocloak represents.
		readers := role.Role{ID: store.NewID(), RealmID: rl.ID, Name: "readers"}
		if err := s.DB.CreateRole(ctx, readers); err != nil {
			t.Fatal(err)
		}
		staff := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: "staff"}
		if err := s.DB.CreateGroup(ctx, staff); err != nil {
			t.Fatal(err)
		}
		pol := func(p gocloak.PolicyRepresentation) *gocloak.PolicyRepresentation {
			t.Helper()
			got, err := gc.CreatePolicy(ctx, tok, realmName, clientID, p)
			if err != nil {
				t.Fatalf("CreatePolicy %s: %v", gocloak.PString(p.Name), err)
			}
			if gocloak.PString(got.ID) == "" {
				t.Fatalf("CreatePolicy %s answered no id", gocloak.PString(p.Name))
			}
			return got
		}
		rolePol := pol(gocloak.PolicyRepresentation{Name: gocloak.StringP("readers only"), Type: gocloak.StringP("role"),
			RolePolicyRepresentation: gocloak.RolePolicyRepresentation{Roles: &[]gocloak.RoleDefinition{{ID: gocloak.StringP("readers")}}}})
		userPol := pol(gocloak.PolicyRepresentation{Name: gocloak.StringP("alice"), Type: gocloak.StringP("user"), Description: gocloak.StringP("only alice"),
			UserPolicyRepresentation: gocloak.UserPolicyRepresentation{Users: &[]string{"alice"}}})
		pol(gocloak.PolicyRepresentation{Name: gocloak.StringP("staff"), Type: gocloak.StringP("group"),
			GroupPolicyRepresentation: gocloak.GroupPolicyRepresentation{Groups: &[]gocloak.GroupDefinition{{Path: gocloak.StringP("/staff"), ExtendChildren: gocloak.BoolP(true)}}}})
		pol(gocloak.PolicyRepresentation{Name: gocloak.StringP("the api"), Type: gocloak.StringP("client"),
			ClientPolicyRepresentation: gocloak.ClientPolicyRepresentation{Clients: &[]string{"album-api"}}})
		timePol := pol(gocloak.PolicyRepresentation{Name: gocloak.StringP("office hours"), Type: gocloak.StringP("time"), Logic: gocloak.NEGATIVE,
			TimePolicyRepresentation: gocloak.TimePolicyRepresentation{Hour: gocloak.StringP("9"), HourEnd: gocloak.StringP("17")}})
		agg := pol(gocloak.PolicyRepresentation{Name: gocloak.StringP("readers or alice"), Type: gocloak.StringP("aggregate"), DecisionStrategy: gocloak.AFFIRMATIVE,
			// gocloak's top-level policies hide AggregatedPolicyRepresentation's.
			Policies: &[]string{"readers only", "alice"}})
		_, err = gc.CreatePolicy(ctx, tok, realmName, clientID, gocloak.PolicyRepresentation{Name: gocloak.StringP("alice"), Type: gocloak.StringP("user"),
			UserPolicyRepresentation: gocloak.UserPolicyRepresentation{Users: &[]string{"alice"}}})
		wantAPIError(t, "CreatePolicy with a taken name", err, http.StatusConflict)
		_, err = gc.CreatePolicy(ctx, tok, realmName, clientID, gocloak.PolicyRepresentation{Name: gocloak.StringP("script"), Type: gocloak.StringP("js"),
			JSPolicyRepresentation: gocloak.JSPolicyRepresentation{Code: gocloak.StringP("$evaluation.grant();")}})
		wantAPIError(t, "CreatePolicy js", err, http.StatusBadRequest)
		_, err = gc.CreatePolicy(ctx, tok, realmName, clientID, gocloak.PolicyRepresentation{Name: gocloak.StringP("nobody"), Type: gocloak.StringP("user"),
			UserPolicyRepresentation: gocloak.UserPolicyRepresentation{Users: &[]string{"nobody-such"}}})
		wantAPIError(t, "CreatePolicy naming a missing user", err, http.StatusBadRequest)

		stored, err := gc.GetPolicy(ctx, tok, realmName, clientID, gocloak.PString(rolePol.ID))
		if err != nil {
			t.Fatalf("GetPolicy: %v", err)
		}
		if cfg := *stored.Config; cfg["roles"] != `[{"id":"`+readers.ID+`","required":false}]` {
			t.Errorf("role policy config: %v", cfg)
		}
		policies, err := gc.GetPolicies(ctx, tok, realmName, clientID, gocloak.GetPolicyParams{Permission: gocloak.BoolP(false)})
		if err != nil || len(policies) != 6 {
			t.Errorf("GetPolicies(permission=false): %d %v", len(policies), err)
		}
		if ps, _ := gc.GetPolicies(ctx, tok, realmName, clientID, gocloak.GetPolicyParams{Type: gocloak.StringP("time")}); len(ps) != 1 || gocloak.PString(ps[0].ID) != gocloak.PString(timePol.ID) {
			t.Errorf("GetPolicies(type=time): %d", len(ps))
		}
		if ps, _ := gc.GetPolicies(ctx, tok, realmName, clientID, gocloak.GetPolicyParams{Name: gocloak.StringP("ALI"), Max: gocloak.IntP(1)}); len(ps) != 1 {
			t.Errorf("GetPolicies(name=ALI): %d", len(ps))
		}
		assoc, err := gc.GetAuthorizationPolicyAssociatedPolicies(ctx, tok, realmName, clientID, gocloak.PString(agg.ID))
		if err != nil || len(assoc) != 2 {
			t.Errorf("GetAuthorizationPolicyAssociatedPolicies: %d %v", len(assoc), err)
		}
		userPol.Description = gocloak.StringP("alice, really")
		userPol.Users = &[]string{alice.ID}
		if err := gc.UpdatePolicy(ctx, tok, realmName, clientID, *userPol); err != nil {
			t.Fatalf("UpdatePolicy: %v", err)
		}
		if p, _ := gc.GetPolicy(ctx, tok, realmName, clientID, gocloak.PString(userPol.ID)); gocloak.PString(p.Description) != "alice, really" {
			t.Errorf("policy after update: %+v", p)
		}

		// Permissions.
		resPerm, err := gc.CreatePermission(ctx, tok, realmName, clientID, gocloak.PermissionRepresentation{
			Name: gocloak.StringP("album access"), Type: gocloak.StringP("resource"),
			Resources: &[]string{gocloak.PString(album.ID)}, Policies: &[]string{gocloak.PString(agg.ID)},
		})
		if err != nil {
			t.Fatalf("CreatePermission resource: %v", err)
		}
		scopePerm, err := gc.CreatePermission(ctx, tok, realmName, clientID, gocloak.PermissionRepresentation{
			Name: gocloak.StringP("delete albums"), Type: gocloak.StringP("scope"), DecisionStrategy: gocloak.UNANIMOUS,
			Resources: &[]string{gocloak.PString(album.ID)}, Scopes: &[]string{gocloak.PString(del.ID)}, Policies: &[]string{"readers only", "office hours"},
		})
		if err != nil {
			t.Fatalf("CreatePermission scope: %v", err)
		}
		typedPerm, err := gc.CreatePermission(ctx, tok, realmName, clientID, gocloak.PermissionRepresentation{
			Name: gocloak.StringP("all albums"), Type: gocloak.StringP("resource"), ResourceType: gocloak.StringP("urn:album-api:resources:album"),
			Policies: &[]string{"alice"},
		})
		if err != nil {
			t.Fatalf("CreatePermission by resource type: %v", err)
		}
		perms, err := gc.GetPermissions(ctx, tok, realmName, clientID, gocloak.GetPermissionParams{})
		if err != nil || len(perms) != 3 {
			t.Errorf("GetPermissions: %d %v", len(perms), err)
		}
		if ps, _ := gc.GetPermissions(ctx, tok, realmName, clientID, gocloak.GetPermissionParams{Scope: gocloak.StringP("delete")}); len(ps) != 1 || gocloak.PString(ps[0].ID) != gocloak.PString(scopePerm.ID) {
			t.Errorf("GetPermissions(scope=delete): %d", len(ps))
		}
		if ps, _ := gc.GetPermissions(ctx, tok, realmName, clientID, gocloak.GetPermissionParams{Resource: gocloak.StringP("Album")}); len(ps) != 2 {
			t.Errorf("GetPermissions(resource=Album): %d", len(ps))
		}
		perm, err := gc.GetPermission(ctx, tok, realmName, clientID, gocloak.PString(typedPerm.ID))
		if err != nil || gocloak.PString(perm.Name) != "all albums" {
			t.Errorf("GetPermission: %+v %v", perm, err)
		}
		pres, err := gc.GetPermissionResources(ctx, tok, realmName, clientID, gocloak.PString(resPerm.ID))
		if err != nil || len(pres) != 1 || gocloak.PString(pres[0].ResourceID) != gocloak.PString(album.ID) {
			t.Errorf("GetPermissionResources: %+v %v", pres, err)
		}
		pscopes, err := gc.GetPermissionScopes(ctx, tok, realmName, clientID, gocloak.PString(scopePerm.ID))
		if err != nil || len(pscopes) != 1 || gocloak.PString(pscopes[0].ScopeName) != "delete" {
			t.Errorf("GetPermissionScopes: %+v %v", pscopes, err)
		}
		polRes, err := gc.GetAuthorizationPolicyResources(ctx, tok, realmName, clientID, gocloak.PString(scopePerm.ID))
		if err != nil || len(polRes) != 1 || gocloak.PString(polRes[0].Name) != "Album" {
			t.Errorf("GetAuthorizationPolicyResources: %+v %v", polRes, err)
		}
		polScopes, err := gc.GetAuthorizationPolicyScopes(ctx, tok, realmName, clientID, gocloak.PString(scopePerm.ID))
		if err != nil || len(polScopes) != 1 || gocloak.PString(polScopes[0].ID) != gocloak.PString(del.ID) {
			t.Errorf("GetAuthorizationPolicyScopes: %+v %v", polScopes, err)
		}
		dep, err := gc.GetDependentPermissions(ctx, tok, realmName, clientID, gocloak.PString(rolePol.ID))
		if err != nil {
			t.Fatal(err)
		}
		var depNames []string
		for _, d := range dep {
			depNames = append(depNames, gocloak.PString(d.Name))
		}
		slices.Sort(depNames)
		if !slices.Equal(depNames, []string{"delete albums", "readers or alice"}) {
			t.Errorf("GetDependentPermissions: %v", depNames)
		}
		sp, err := gc.GetPermissionScope(ctx, tok, realmName, clientID, gocloak.PString(scopePerm.ID))
		if err != nil || gocloak.PString(sp.Name) != "delete albums" {
			t.Errorf("GetPermissionScope: %+v %v", sp, err)
		}
		sp.Description = gocloak.StringP("only readers, out of hours")
		if err := gc.UpdatePermissionScope(ctx, tok, realmName, clientID, gocloak.PString(scopePerm.ID), *sp); err != nil {
			t.Fatalf("UpdatePermissionScope: %v", err)
		}
		resPerm.DecisionStrategy = gocloak.AFFIRMATIVE
		resPerm.Policies = &[]string{gocloak.PString(userPol.ID)}
		if err := gc.UpdatePermission(ctx, tok, realmName, clientID, *resPerm); err != nil {
			t.Fatalf("UpdatePermission: %v", err)
		}
		m, err := s.DB.LoadAuthzModel(context.Background(), rl.ID, clientID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Policies {
			switch p.Name {
			case "album access":
				if p.DecisionStrategy != "AFFIRMATIVE" || !slices.Equal(p.PolicyIDs, []string{gocloak.PString(userPol.ID)}) ||
					!slices.Equal(p.ResourceIDs, []string{gocloak.PString(album.ID)}) {
					t.Errorf("stored resource permission: %+v", p)
				}
			case "delete albums":
				if p.Description != "only readers, out of hours" || len(p.PolicyIDs) != 2 || !slices.Equal(p.ScopeIDs, []string{gocloak.PString(del.ID)}) {
					t.Errorf("stored scope permission: %+v", p)
				}
			case "all albums":
				if p.Config["defaultResourceType"] != "urn:album-api:resources:album" {
					t.Errorf("stored typed permission: %+v", p)
				}
			case "office hours":
				if p.Logic != "NEGATIVE" || p.Config["hour"] != "9" || p.Config["hourEnd"] != "17" {
					t.Errorf("stored time policy: %+v", p)
				}
			case "staff":
				if p.Config["groups"] != `[{"id":"`+staff.ID+`","extendChildren":true}]` {
					t.Errorf("stored group policy: %+v", p.Config)
				}
			case "the api":
				if p.Config["clients"] != `["`+clientID+`"]` {
					t.Errorf("stored client policy: %+v", p.Config)
				}
			}
		}

		// Deletion.
		if err := gc.DeletePermission(ctx, tok, realmName, clientID, gocloak.PString(typedPerm.ID)); err != nil {
			t.Fatalf("DeletePermission: %v", err)
		}
		_, err = gc.GetPermission(ctx, tok, realmName, clientID, gocloak.PString(typedPerm.ID))
		wantAPIError(t, "GetPermission after delete", err, http.StatusNotFound)
		if err := gc.DeletePolicy(ctx, tok, realmName, clientID, gocloak.PString(timePol.ID)); err != nil {
			t.Fatalf("DeletePolicy: %v", err)
		}
		if err := gc.DeleteScope(ctx, tok, realmName, clientID, gocloak.PString(view.ID)); err == nil {
			t.Error("DeleteScope of a scope a resource holds succeeded")
		}
		if err := gc.DeleteResource(ctx, tok, realmName, clientID, gocloak.PString(alicePhoto.ID)); err != nil {
			t.Fatalf("DeleteResource: %v", err)
		}
		if err := gc.DeleteResource(ctx, tok, realmName, clientID, gocloak.PString(album.ID)); err != nil {
			t.Fatal(err)
		}
		if err := gc.DeleteScope(ctx, tok, realmName, clientID, gocloak.PString(view.ID)); err != nil {
			t.Errorf("DeleteScope of a free scope: %v", err)
		}
		rs, err := gc.GetResources(ctx, tok, realmName, clientID, gocloak.GetResourceParams{})
		if err != nil || len(rs) != 0 {
			t.Errorf("resources left: %d %v", len(rs), err)
		}

		// Turning authorization services off removes the server.
		c.AuthorizationServicesEnabled = gocloak.BoolP(false)
		if err := gc.UpdateClient(ctx, tok, realmName, *c); err != nil {
			t.Fatal(err)
		}
		_, err = gc.GetResourceServer(ctx, tok, realmName, clientID)
		wantAPIError(t, "GetResourceServer after turning authorization off", err, http.StatusNotFound)
		if _, err := s.DB.LoadAuthzModel(context.Background(), rl.ID, clientID); err == nil {
			t.Error("the resource server outlived authorizationServicesEnabled=false")
		}
	})
}
