package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/admin"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const forbiddenBody = `{"error":"HTTP 403 Forbidden"}`

// escEnv is a realm "esc" where realm-admin is reachable in every way a
// role can be: directly, through the realm role "power" (a composite of
// realm-admin), and through the group "admins" (realm-admin and power
// mapped, with the subgroup "inner"). "vic" holds realm-admin each way.
// "mallory" administers users, clients and the realm but is no
// realm-admin; she is a member of the plain group "mine".
type escEnv struct {
	t       *testing.T
	s       *testServer
	realm   realm.Realm
	tok     string // mallory's
	ids     map[string]string
	adminID string // realm-management's realm-admin
}

func newEscEnv(t *testing.T, s *testServer) *escEnv {
	t.Helper()
	ctx := context.Background()
	r := s.newRealm("esc")
	e := &escEnv{t: t, s: s, realm: r, ids: map[string]string{}}
	e.tok = s.realmAdmin(r, "mallory", "manage-users", "manage-clients", "manage-realm", "manage-identity-providers")
	s.realmAdmin(r, "vic", provision.RealmAdmin)
	rm, err := s.DB.GetClientByClientID(ctx, r.ID, provision.RealmManagement)
	e.must(err)
	ra, err := s.DB.GetClientRole(ctx, r.ID, rm.ID, provision.RealmAdmin)
	e.must(err)
	e.adminID, e.ids["rm"] = ra.ID, rm.ID
	newRole := func(name, clientID string, kids ...string) string {
		ro := role.Role{ID: store.NewID(), RealmID: r.ID, ClientID: clientID, Name: name, Attributes: map[string][]string{}}
		e.must(s.DB.CreateRole(ctx, ro))
		e.must(s.DB.AddComposites(ctx, ro.ID, kids...))
		e.ids[name] = ro.ID
		return ro.ID
	}
	newGroup := func(name, parent string, roles ...string) string {
		g := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: parent, Name: name, Attributes: map[string][]string{}}
		e.must(s.DB.CreateGroup(ctx, g))
		e.must(s.DB.AddGroupRoles(ctx, g.ID, roles...))
		e.ids[name] = g.ID
		return g.ID
	}
	power := newRole("power", "", ra.ID)
	newRole("plain", "")
	admins := newGroup("admins", "", ra.ID, power)
	newGroup("inner", admins)
	newGroup("mine", "")

	// An ordinary client "app" with a role holding realm-admin and a plain one.
	st, h, b := s.do("POST", "/admin/realms/esc/clients", s.adminToken(), map[string]any{"clientId": "app"})
	if st != 201 {
		t.Fatalf("create app: %d %s", st, b)
	}
	app := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
	e.ids["app"] = app
	newRole("app-power", app, ra.ID)
	newRole("app-plain", app)

	for _, name := range []string{"vic", "mallory"} {
		u, err := s.DB.GetUserByUsername(ctx, r.ID, name)
		e.must(err)
		e.ids[name] = u.ID
	}
	e.must(s.DB.AddUserRoles(ctx, e.ids["vic"], power))
	e.must(s.DB.AddGroupMember(ctx, admins, e.ids["vic"]))
	e.must(s.DB.AddGroupMember(ctx, e.ids["inner"], e.ids["vic"]))
	e.must(s.DB.AddGroupMember(ctx, e.ids["mine"], e.ids["mallory"]))

	// An LDAP provider, with a harmless mapper, whose mappers could hand
	// out roles to every user it imports.
	e.ids["ldap"] = s.createComponent("esc", s.adminToken(), ldapProvider("corp", "ldap://127.0.0.1:1", "pw"))
	e.ids["plain-mapper"] = s.createComponent("esc", s.adminToken(),
		ldapMapper(e.ids["ldap"], "hardcoded-ldap-role-mapper", map[string][]string{"role": {"plain"}}))
	// An identity provider "up" with a hardcoded role mapper granting plain.
	if st, _, b := s.do("POST", "/admin/realms/esc/identity-provider/instances", s.adminToken(), map[string]any{"alias": "up", "providerId": "oidc"}); st != 201 {
		t.Fatalf("create up: %d %s", st, b)
	}
	st, h, b = s.do("POST", "/admin/realms/esc/identity-provider/instances/up/mappers", s.adminToken(),
		map[string]any{"name": "plain", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": map[string]string{"role": "plain"}})
	if st != 201 {
		t.Fatalf("create mapper: %d %s", st, b)
	}
	e.ids["upmapper"] = h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
	return e
}

func (e *escEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// snapshot is everything that decides who holds which role in the realm:
// each user's effective roles, the composite edges, the group tree and the
// groups' mappings.
func (e *escEnv) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	db := e.s.DB
	var lines []string
	us, err := db.SearchUsers(ctx, e.realm.ID, store.UserQuery{IncludeServiceAccounts: true}, 0, -1)
	e.must(err)
	for _, u := range us {
		ids, err := db.EffectiveRoleIDs(ctx, e.realm.ID, u.ID)
		e.must(err)
		slices.Sort(ids)
		lines = append(lines, fmt.Sprintf("user %s %v", u.Username, ids))
	}
	graph, err := db.CompositeGraph(ctx, e.realm.ID)
	e.must(err)
	for p, kids := range graph {
		kids = slices.Clone(kids)
		slices.Sort(kids)
		lines = append(lines, fmt.Sprintf("composite %s %v", p, kids))
	}
	gs, err := db.ListGroups(ctx, e.realm.ID)
	e.must(err)
	for _, g := range gs {
		rs, err := db.ListGroupRoles(ctx, g.ID)
		e.must(err)
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		slices.Sort(ids)
		lines = append(lines, fmt.Sprintf("group %s parent=%s %v", g.Name, g.ParentID, ids))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// holdsRealmAdmin reports whether username holds realm-admin effectively.
func (e *escEnv) holdsRealmAdmin(username string) bool {
	e.t.Helper()
	u, err := e.s.DB.GetUserByUsername(context.Background(), e.realm.ID, username)
	e.must(err)
	ids, err := e.s.DB.EffectiveRoleIDs(context.Background(), e.realm.ID, u.ID)
	e.must(err)
	return slices.Contains(ids, e.adminID)
}

// Regression: issue 12 hole 1. A manage-users admin joined a group of her
// own, moved it under a group carrying realm-admin, and held realm-admin.
func TestGroupMoveDoesNotEscalate(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newEscEnv(t, s)
		tok := s.realmAdmin(e.realm, "usermgr", "manage-users")
		path := func(p string) string { return "/admin/realms/esc" + p }
		st, h, b := s.do("POST", path("/groups"), tok, map[string]any{"name": "mine2"})
		if st != 201 {
			t.Fatalf("create group: %d %s", st, b)
		}
		mine := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		if st, _, b := s.do("PUT", path("/users/"+userID(e, "usermgr")+"/groups/"+mine), tok, nil); st != 204 {
			t.Fatalf("join: %d %s", st, b)
		}
		before := e.snapshot()
		st, _, b = s.do("POST", path("/groups/"+e.ids["admins"]+"/children"), tok, map[string]any{"id": mine, "name": "mine2"})
		if st != 403 || string(b) != forbiddenBody {
			t.Fatalf("move under admins: %d %s, want 403", st, b)
		}
		if e.holdsRealmAdmin("usermgr") || e.snapshot() != before {
			t.Fatal("the refused move changed who holds what")
		}
	})
}

func userID(e *escEnv, name string) string {
	e.t.Helper()
	u, err := e.s.DB.GetUserByUsername(context.Background(), e.realm.ID, name)
	e.must(err)
	return u.ID
}

// escalationRow is one attempt, through one route, to change who holds
// realm-admin, by a caller who does not hold it.
type escalationRow struct {
	route string // the pattern as the admin Handler registers it
	name  string
	path  string // under /admin/realms/esc, or absolute when it starts with /admin/
	body  any
}

// noRoleEffect lists the mutating routes that cannot change which roles
// anyone holds, each with the reason; coveredElsewhere those whose role
// effect needs a fixture of its own, with the test that drives it. Every
// other mutating route needs a row in escalationRows.
var noRoleEffect = map[string]string{
	"POST /admin/realms/{realm}/clients/{id}/authz/resource-server/policy/evaluate":                        "evaluating policies stores nothing",
	"POST /admin/realms/{realm}/clients/{id}/authz/resource-server/permission/evaluate":                    "evaluating policies stores nothing",
	"POST /admin/realms/{realm}/authentication/flows":                                                      "authentication flows and required actions hold no role mappings",
	"PUT /admin/realms/{realm}/authentication/flows/{id}":                                                  "authentication flows and required actions hold no role mappings",
	"DELETE /admin/realms/{realm}/authentication/flows/{id}":                                               "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/flows/{id}/copy":                                            "authentication flows and required actions hold no role mappings",
	"PUT /admin/realms/{realm}/authentication/flows/{id}/executions":                                       "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/flows/{id}/executions/execution":                            "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/flows/{id}/executions/flow":                                 "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/executions":                                                 "authentication flows and required actions hold no role mappings",
	"DELETE /admin/realms/{realm}/authentication/executions/{id}":                                          "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/executions/{id}/raise-priority":                             "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/executions/{id}/lower-priority":                             "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/executions/{id}/config":                                     "authentication flows and required actions hold no role mappings",
	"PUT /admin/realms/{realm}/authentication/config/{configId}":                                           "authentication flows and required actions hold no role mappings",
	"DELETE /admin/realms/{realm}/authentication/config/{configId}":                                        "authentication flows and required actions hold no role mappings",
	"PUT /admin/realms/{realm}/authentication/required-actions/{alias}":                                    "authentication flows and required actions hold no role mappings",
	"DELETE /admin/realms/{realm}/authentication/required-actions/{alias}":                                 "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/required-actions/{alias}/raise-priority":                    "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/required-actions/{alias}/lower-priority":                    "authentication flows and required actions hold no role mappings",
	"PUT /admin/realms/{realm}/authentication/required-actions/{alias}/config":                             "authentication flows and required actions hold no role mappings",
	"DELETE /admin/realms/{realm}/authentication/required-actions/{alias}/config":                          "authentication flows and required actions hold no role mappings",
	"POST /admin/realms/{realm}/authentication/register-required-action":                                   "authentication flows and required actions hold no role mappings",
	"PUT /admin/realms/{realm}":                                                                            "realm settings; defaultRole and nested lists are ignored",
	"DELETE /admin/realms/{realm}":                                                                         "removes the realm and everyone in it",
	"POST /admin/realms/{realm}/partial-export":                                                            "reads only",
	"POST /admin/realms/{realm}/logout-all":                                                                "sessions",
	"POST /admin/realms/{realm}/push-revocation":                                                           "sessions",
	"POST /admin/realms/{realm}/testSMTPConnection":                                                        "sends a test mail; stores nothing",
	"PUT /admin/realms/{realm}/default-default-client-scopes/{clientScopeId}":                              "client scopes carry mappers, not roles",
	"DELETE /admin/realms/{realm}/default-default-client-scopes/{clientScopeId}":                           "client scopes",
	"PUT /admin/realms/{realm}/default-optional-client-scopes/{clientScopeId}":                             "client scopes",
	"DELETE /admin/realms/{realm}/default-optional-client-scopes/{clientScopeId}":                          "client scopes",
	"DELETE /admin/realms/{realm}/attack-detection/brute-force/users/{userId}":                             "lockout",
	"DELETE /admin/realms/{realm}/attack-detection/brute-force/users":                                      "lockout",
	"DELETE /admin/realms/{realm}/clients/{id}":                                                            "removes the client, its roles and service account: nobody gains",
	"PUT /admin/realms/{realm}/clients/{id}/default-client-scopes/{scopeId}":                               "client scopes",
	"DELETE /admin/realms/{realm}/clients/{id}/default-client-scopes/{scopeId}":                            "client scopes",
	"PUT /admin/realms/{realm}/clients/{id}/optional-client-scopes/{scopeId}":                              "client scopes",
	"DELETE /admin/realms/{realm}/clients/{id}/optional-client-scopes/{scopeId}":                           "client scopes",
	"POST /admin/realms/{realm}/clients/{id}/protocol-mappers/models":                                      "token claims; admin rights are read from the store, never from claims",
	"POST /admin/realms/{realm}/clients/{id}/protocol-mappers/add-models":                                  "token claims",
	"PUT /admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mid}":                                 "token claims",
	"DELETE /admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mid}":                              "token claims",
	"POST /admin/realms/{realm}/client-scopes":                                                             "client scopes",
	"PUT /admin/realms/{realm}/client-scopes/{id}":                                                         "client scopes",
	"DELETE /admin/realms/{realm}/client-scopes/{id}":                                                      "client scopes",
	"POST /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models":                                "token claims",
	"POST /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/add-models":                            "token claims",
	"PUT /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapperId}":                      "token claims",
	"DELETE /admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapperId}":                   "token claims",
	"PUT /admin/realms/{realm}/roles/{roleName}":                                                           "name and attributes; holdings are by id, admin roles are guarded by name",
	"DELETE /admin/realms/{realm}/roles/{roleName}":                                                        "removing a role grants nothing",
	"PUT /admin/realms/{realm}/clients/{id}/roles/{roleName}":                                              "as PUT roles/{roleName}",
	"DELETE /admin/realms/{realm}/clients/{id}/roles/{roleName}":                                           "removing a role grants nothing",
	"PUT /admin/realms/{realm}/roles-by-id/{roleID}":                                                       "as PUT roles/{roleName}",
	"DELETE /admin/realms/{realm}/roles-by-id/{roleID}":                                                    "removing a role grants nothing",
	"PUT /admin/realms/{realm}/groups/{id}":                                                                "name and attributes; subgroups and roles in the body are ignored",
	"DELETE /admin/realms/{realm}/groups/{id}":                                                             "removing a group grants nothing",
	"PUT /admin/realms/{realm}/users/{id}":                                                                 "groups and roles in the body are ignored (credentials: TestTakeoverGuard)",
	"DELETE /admin/realms/{realm}/users/{id}":                                                              "removing a user grants nothing",
	"PUT /admin/realms/{realm}/users/{id}/reset-password":                                                  "credentials: TestTakeoverGuard",
	"DELETE /admin/realms/{realm}/users/{id}/credentials/{credentialId}":                                   "credentials: TestTakeoverGuard",
	"DELETE /admin/realms/{realm}/users/{id}/consents/{client}":                                            "consents",
	"POST /admin/realms/{realm}/users/{id}/logout":                                                         "sessions",
	"PUT /admin/realms/{realm}/users/{id}/execute-actions-email":                                           "email",
	"PUT /admin/realms/{realm}/users/{id}/send-verify-email":                                               "email",
	"POST /admin/realms/{realm}/clients/{id}/client-secret":                                                "credentials: TestTakeoverGuard",
	"DELETE /admin/realms/{realm}/sessions/{session}":                                                      "sessions",
	"DELETE /admin/realms/{realm}/events":                                                                  "events",
	"DELETE /admin/realms/{realm}/admin-events":                                                            "events",
	"PUT /admin/realms/{realm}/events/config":                                                              "events",
	"POST /admin/realms/{realm}/components":                                                                "keys; LDAP mappers: see escalationRows",
	"PUT /admin/realms/{realm}/components/{id}":                                                            "keys; LDAP mappers: see escalationRows",
	"POST /admin/realms/{realm}/testLDAPConnection":                                                        "reads a directory, stores nothing",
	"POST /admin/realms/{realm}/ldap-server-capabilities":                                                  "reads a directory, stores nothing",
	"POST /admin/realms/{realm}/user-storage/{id}/remove-imported-users":                                   "removing users grants nothing",
	"POST /admin/realms/{realm}/user-storage/{id}/unlink-users":                                            "unlinked users keep what they hold, nothing more",
	"POST /admin/realms/{realm}/user-storage/{id}/sync":                                                    "applies the provider's mappers, each checked with requireConfer when it was configured",
	"POST /admin/realms/{realm}/user-storage/{parentId}/mappers/{id}/sync":                                 "applies a mapper checked with requireConfer when it was configured",
	"DELETE /admin/realms/{realm}/components/{id}":                                                         "keys",
	"POST /admin/realms/{realm}/clients/{id}/scope-mappings/realm":                                         "scope mappings narrow what tokens carry; admin rights are read from the store",
	"POST /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}":                              "scope mappings narrow what tokens carry; admin rights are read from the store",
	"DELETE /admin/realms/{realm}/clients/{id}/scope-mappings/realm":                                       "scope mappings narrow what tokens carry; admin rights are read from the store",
	"DELETE /admin/realms/{realm}/clients/{id}/scope-mappings/clients/{client}":                            "scope mappings narrow what tokens carry; admin rights are read from the store",
	"POST /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm":                                   "scope mappings narrow what tokens carry; admin rights are read from the store",
	"POST /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}":                        "scope mappings narrow what tokens carry; admin rights are read from the store",
	"DELETE /admin/realms/{realm}/client-scopes/{id}/scope-mappings/realm":                                 "scope mappings narrow what tokens carry; admin rights are read from the store",
	"DELETE /admin/realms/{realm}/client-scopes/{id}/scope-mappings/clients/{client}":                      "scope mappings narrow what tokens carry; admin rights are read from the store",
	"POST /admin/realms/{realm}/clients":                                                                   "service account's default role: TestDefaultRoleGuard",
	"PUT /admin/realms/{realm}/clients/{id}":                                                               "service account's default role: TestDefaultRoleGuard",
	"DELETE /admin/realms/{realm}/default-groups/{groupId}":                                                "new users join one group fewer",
	"PUT /admin/realms/{realm}/localization/{locale}/{key}":                                                "page texts",
	"DELETE /admin/realms/{realm}/localization/{locale}/{key}":                                             "page texts",
	"PUT /admin/realms/{realm}/users/profile":                                                              "the user profile: attribute rules, not roles",
	"PUT /admin/realms/{realm}/users/{id}/disable-credential-types":                                        "credentials: TestTakeoverGuard",
	"PUT /admin/realms/{realm}/users/{id}/remove-totp":                                                     "credentials: TestTakeoverGuard",
	"PUT /admin/realms/{realm}/users-management-permissions":                                               "always off",
	"POST /admin/realms/{realm}/users/{id}/impersonation":                                                  "a session as the user: TestTakeoverGuard",
	"PUT /admin/realms/{realm}/users/{id}/credentials/{credentialId}/userLabel":                            "a credential's label",
	"POST /admin/realms/{realm}/users/{id}/credentials/{credentialId}/moveToFirst":                         "the order of credentials",
	"POST /admin/realms/{realm}/users/{id}/credentials/{credentialId}/moveAfter/{newPreviousCredentialId}": "the order of credentials",
	"DELETE /admin/realms/{realm}/clients/{id}/client-secret/rotated":                                      "credentials: TestTakeoverGuard",
	"POST /admin/realms/{realm}/clients/{id}/registration-access-token":                                    "credentials: TestTakeoverGuard; a service account's default roles: TestDefaultRoleGuard",
	"POST /admin/realms/{realm}/clients-initial-access":                                                    "a service account's default roles: TestDefaultRoleGuard",
	"DELETE /admin/realms/{realm}/clients-initial-access/{id}":                                             "ends a registration right",
	"POST /admin/realms/{realm}/clients/{id}/certificates/{attr}/generate":                                 "credentials: TestTakeoverGuard",
	"POST /admin/realms/{realm}/clients/{id}/certificates/{attr}/upload":                                   "credentials: TestTakeoverGuard",
	"POST /admin/realms/{realm}/clients/{id}/certificates/{attr}/upload-certificate":                       "credentials: TestTakeoverGuard",
	"POST /admin/realms/{realm}/clients/{id}/certificates/{attr}/generate-and-download":                    "credentials: TestTakeoverGuard",
	"POST /admin/realms/{realm}/clients/{id}/certificates/{attr}/download":                                 "reads only",
	"POST /admin/realms/{realm}/clients/{id}/push-revocation":                                              "sessions",
	"POST /admin/realms/{realm}/clients/{id}/nodes":                                                        "cluster nodes: TestTakeoverGuard",
	"DELETE /admin/realms/{realm}/clients/{id}/nodes/{node}":                                               "cluster nodes: TestTakeoverGuard",
	"PUT /admin/realms/{realm}/clients/{id}/management/permissions":                                        "a switch: mapping roles with it still passes requireConfer (TestFGAPMapRole)",
	"PUT /admin/realms/{realm}/client-policies/profiles":                                                   "client policies restrict clients, grant nothing",
	"PUT /admin/realms/{realm}/client-policies/policies":                                                   "client policies restrict clients, grant nothing",
	"PUT /admin/realms/{realm}/roles-by-id/{roleID}/management/permissions":                                "a switch: mapping roles with it still passes requireConfer (TestFGAPMapRole)",
	"PUT /admin/realms/{realm}/roles/{roleName}/management/permissions":                                    "a switch: mapping roles with it still passes requireConfer (TestFGAPMapRole)",
	"PUT /admin/realms/{realm}/clients/{id}/roles/{roleName}/management/permissions":                       "a switch: mapping roles with it still passes requireConfer (TestFGAPMapRole)",
	"PUT /admin/realms/{realm}/groups/{id}/management/permissions":                                         "a switch: joining, role mapping and moves still pass requireConfer (TestFGAPGroupMembership)",
	"POST /admin/realms/{realm}/clear-realm-cache":                                                         "nothing is cached",
	"POST /admin/realms/{realm}/clear-user-cache":                                                          "nothing is cached",
	"POST /admin/realms/{realm}/clear-keys-cache":                                                          "nothing is cached",
	"POST /admin/realms/{realm}/clear-crl-cache":                                                           "nothing is cached",
	"PUT /admin/realms/{realm}/identity-provider/instances/{alias}/management/permissions":                 "a switch whose only scope, token-exchange, decides nothing yet",
	"POST /admin/realms/{realm}/identity-provider/import-config":                                           "reads a discovery document, stores nothing",
	"POST /admin/realms/{realm}/client-description-converter":                                              "reads a client description, stores nothing",
	"POST /admin/realms/{realm}/identity-provider/instances":                                               "identity providers hold no roles; their mappers have rows",
	"PUT /admin/realms/{realm}/identity-provider/instances/{alias}":                                        "identity providers hold no roles; their mappers have rows",
	"DELETE /admin/realms/{realm}/identity-provider/instances/{alias}":                                     "removing a provider and its mappers grants nothing",
	"DELETE /admin/realms/{realm}/identity-provider/instances/{alias}/mappers/{id}":                        "removing a mapper grants nothing",
	"POST /admin/realms/{realm}/users/{id}/federated-identity/{provider}":                                  "a sign-in as the user: TestTakeoverGuard",
	"DELETE /admin/realms/{realm}/users/{id}/federated-identity/{provider}":                                "a link to an upstream account holds no roles",
}

func escalationRows(e *escEnv) []escalationRow {
	id := e.ids
	realmAdmin := map[string]any{"id": e.adminID, "name": provision.RealmAdmin}
	power := map[string]any{"name": "power"}
	const rm = "/admin/realms/{realm}"
	const mappers = "/identity-provider/instances/up/mappers"
	hardcoded := func(role string) map[string]any {
		return map[string]any{"name": "esc", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": map[string]string{"role": role}}
	}
	return []escalationRow{
		{"POST " + rm + "/identity-provider/instances/{alias}/mappers", "hardcoded realm-admin for whoever signs in", mappers, hardcoded("realm-management.realm-admin")},
		{"POST " + rm + "/identity-provider/instances/{alias}/mappers", "hardcoded power", mappers, hardcoded("power")},
		{"POST " + rm + "/identity-provider/instances/{alias}/mappers", "hardcoded group admins", mappers,
			map[string]any{"name": "esc", "identityProviderMapper": "oidc-hardcoded-group-idp-mapper", "config": map[string]string{"group": "/admins"}}},
		{"PUT " + rm + "/identity-provider/instances/{alias}/mappers/{id}", "plain mapper turned to realm-admin", mappers + "/" + id["upmapper"],
			map[string]any{"name": "plain", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": map[string]string{"role": "realm-management.realm-admin"}}},
		{"POST " + rm + "/partialImport", "identity provider mapper granting realm-admin", "/partialImport",
			map[string]any{"identityProviderMappers": []any{map[string]any{"name": "esc", "identityProviderAlias": "up",
				"identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": map[string]string{"role": "realm-management.realm-admin"}}}}},
		{"POST /admin/realms", "a realm whose users hold its realm-admin", "/admin/realms",
			map[string]any{"realm": "esc2", "users": []any{map[string]any{"username": "x", "clientRoles": map[string][]string{"realm-management": {"realm-admin"}}}}}},
		{"POST " + rm + "/users/{id}/role-mappings/realm", "map power to self", "/users/" + id["mallory"] + "/role-mappings/realm", []any{power}},
		{"DELETE " + rm + "/users/{id}/role-mappings/realm", "unmap power from vic", "/users/" + id["vic"] + "/role-mappings/realm", []any{power}},
		{"POST " + rm + "/users/{id}/role-mappings/clients/{client}", "map realm-admin to self", "/users/" + id["mallory"] + "/role-mappings/clients/" + id["rm"], []any{realmAdmin}},
		{"DELETE " + rm + "/users/{id}/role-mappings/clients/{client}", "unmap realm-admin from vic", "/users/" + id["vic"] + "/role-mappings/clients/" + id["rm"], []any{realmAdmin}},
		{"POST " + rm + "/users/{id}/role-mappings/clients/{client}", "map app-power to self", "/users/" + id["mallory"] + "/role-mappings/clients/" + id["app"], []any{map[string]any{"name": "app-power"}}},
		{"POST " + rm + "/groups/{id}/role-mappings/realm", "map power to mine", "/groups/" + id["mine"] + "/role-mappings/realm", []any{power}},
		{"DELETE " + rm + "/groups/{id}/role-mappings/realm", "unmap power from admins", "/groups/" + id["admins"] + "/role-mappings/realm", []any{power}},
		{"POST " + rm + "/groups/{id}/role-mappings/clients/{client}", "map realm-admin to mine", "/groups/" + id["mine"] + "/role-mappings/clients/" + id["rm"], []any{realmAdmin}},
		{"DELETE " + rm + "/groups/{id}/role-mappings/clients/{client}", "unmap realm-admin from admins", "/groups/" + id["admins"] + "/role-mappings/clients/" + id["rm"], []any{realmAdmin}},
		{"PUT " + rm + "/default-groups/{groupId}", "make inner (inherits admins) a default group", "/default-groups/" + id["inner"], nil},
		{"PUT " + rm + "/users/{id}/groups/{groupId}", "join admins", "/users/" + id["mallory"] + "/groups/" + id["admins"], nil},
		{"PUT " + rm + "/users/{id}/groups/{groupId}", "join inner (inherits admins)", "/users/" + id["mallory"] + "/groups/" + id["inner"], nil},
		{"DELETE " + rm + "/users/{id}/groups/{groupId}", "take vic out of admins", "/users/" + id["vic"] + "/groups/" + id["admins"], nil},
		{"POST " + rm + "/groups/{id}/children", "move mine under admins", "/groups/" + id["admins"] + "/children", map[string]any{"id": id["mine"], "name": "mine"}},
		{"POST " + rm + "/groups/{id}/children", "move mine under inner", "/groups/" + id["inner"] + "/children", map[string]any{"id": id["mine"], "name": "mine"}},
		{"POST " + rm + "/groups", "move inner out of admins to the top", "/groups", map[string]any{"id": id["inner"], "name": "inner"}},
		{"POST " + rm + "/groups/{id}/children", "move inner out of admins under mine", "/groups/" + id["mine"] + "/children", map[string]any{"id": id["inner"], "name": "inner"}},
		{"POST " + rm + "/users", "a user in admins", "/users", map[string]any{"username": "mal2", "groups": []string{"/admins"}}},
		{"POST " + rm + "/users", "a user in admins/inner", "/users", map[string]any{"username": "mal3", "groups": []string{"/admins/inner"}}},
		{"POST " + rm + "/users", "a user with power", "/users", map[string]any{"username": "mal4", "realmRoles": []string{"power"}}},
		{"POST " + rm + "/users", "a user with realm-admin", "/users", map[string]any{"username": "mal5", "clientRoles": map[string][]string{"realm-management": {"realm-admin"}}}},
		{"POST " + rm + "/roles", "a realm role composed of realm-admin", "/roles",
			map[string]any{"name": "sneaky", "composite": true, "composites": map[string]any{"client": map[string][]string{"realm-management": {"realm-admin"}}}}},
		{"POST " + rm + "/roles/{roleName}/composites", "realm-admin into default-roles-esc", "/roles/default-roles-esc/composites", []any{realmAdmin}},
		{"POST " + rm + "/roles/{roleName}/composites", "power into plain", "/roles/plain/composites", []any{map[string]any{"id": id["power"]}}},
		{"DELETE " + rm + "/roles/{roleName}/composites", "realm-admin out of power", "/roles/power/composites", []any{realmAdmin}},
		{"POST " + rm + "/clients/{id}/roles", "a client role composed of realm-admin", "/clients/" + id["app"] + "/roles",
			map[string]any{"name": "sneaky", "composite": true, "composites": map[string]any{"client": map[string][]string{"realm-management": {"realm-admin"}}}}},
		{"POST " + rm + "/clients/{id}/roles/{roleName}/composites", "realm-admin into app-plain", "/clients/" + id["app"] + "/roles/app-plain/composites", []any{realmAdmin}},
		{"DELETE " + rm + "/clients/{id}/roles/{roleName}/composites", "realm-admin out of app-power", "/clients/" + id["app"] + "/roles/app-power/composites", []any{realmAdmin}},
		{"POST " + rm + "/roles-by-id/{roleID}/composites", "power into plain by id", "/roles-by-id/" + id["plain"] + "/composites", []any{map[string]any{"id": id["power"]}}},
		{"DELETE " + rm + "/roles-by-id/{roleID}/composites", "realm-admin out of power by id", "/roles-by-id/" + id["power"] + "/composites", []any{realmAdmin}},
		{"POST " + rm + "/components", "an LDAP mapper giving realm-admin to every imported user", "/components",
			ldapMapper(id["ldap"], "hardcoded-ldap-role-mapper", map[string][]string{"role": {"realm-management.realm-admin"}})},
		{"POST " + rm + "/components", "an LDAP mapper giving power", "/components",
			ldapMapper(id["ldap"], "hardcoded-ldap-role-mapper", map[string][]string{"role": {"power"}})},
		{"POST " + rm + "/components", "an LDAP mapper putting every imported user in admins/inner", "/components",
			ldapMapper(id["ldap"], "hardcoded-ldap-group-mapper", map[string][]string{"group": {"/admins/inner"}})},
		{"POST " + rm + "/components", "LDAP groups mapped onto the realm's groups, admins among them", "/components",
			ldapMapper(id["ldap"], "group-ldap-mapper", map[string][]string{"groups.dn": {"ou=Groups,dc=x"}, "groups.path": {"/"}})},
		{"POST " + rm + "/components", "LDAP roles mapped onto realm-management's roles", "/components",
			ldapMapper(id["ldap"], "role-ldap-mapper", map[string][]string{"roles.dn": {"ou=Roles,dc=x"}, "use.realm.roles.mapping": {"false"}, "client.id": {"realm-management"}})},
		{"PUT " + rm + "/components/{id}", "a harmless LDAP role mapper turned into one giving realm-admin", "/components/" + id["plain-mapper"],
			ldapMapper(id["ldap"], "hardcoded-ldap-role-mapper", map[string][]string{"role": {"realm-management.realm-admin"}})},
		{"POST " + rm + "/partialImport", "a user with power", "/partialImport",
			map[string]any{"users": []any{map[string]any{"username": "p1", "realmRoles": []string{"power"}}}}},
		{"POST " + rm + "/partialImport", "a user in admins", "/partialImport",
			map[string]any{"users": []any{map[string]any{"username": "p2", "groups": []string{"/admins"}}}}},
		{"POST " + rm + "/partialImport", "a group with realm-admin", "/partialImport",
			map[string]any{"groups": []any{map[string]any{"name": "g1", "clientRoles": map[string][]string{"realm-management": {"realm-admin"}}}}}},
		{"POST " + rm + "/partialImport", "plain overwritten to compose power", "/partialImport",
			map[string]any{"ifResourceExists": "OVERWRITE", "roles": map[string]any{"realm": []any{map[string]any{"name": "plain", "composite": true, "composites": map[string]any{"realm": []string{"power"}}}}}}},
		{"POST " + rm + "/partialImport", "power overwritten without realm-admin", "/partialImport",
			map[string]any{"ifResourceExists": "OVERWRITE", "roles": map[string]any{"realm": []any{map[string]any{"name": "power"}}}}},
	}
}

// TestEscalationRoutes drives every admin route that can change which
// roles someone holds with a caller who may manage users, clients and the
// realm but is no realm-admin: each attempt on realm-admin is 403 and
// changes nothing. The list of routes comes from the Handler itself, so a
// new mutating route fails here until it has a row or a stated reason.
func TestEscalationRoutes(t *testing.T) {
	h := &admin.Handler{Now: time.Now}
	h.Register(http.NewServeMux())
	both(t, func(t *testing.T, s *testServer) {
		e := newEscEnv(t, s)
		rows := escalationRows(e)
		covered := map[string]bool{}
		for _, r := range rows {
			covered[r.route] = true
		}
		for _, route := range h.Routes() {
			if strings.HasPrefix(route, "GET ") || covered[route] || noRoleEffect[route] != "" {
				continue
			}
			t.Errorf("route %s has no row in escalationRows and no reason in noRoleEffect", route)
		}
		for route := range covered {
			if !slices.Contains(h.Routes(), route) {
				t.Errorf("row for unknown route %s", route)
			}
		}
		before := e.snapshot()
		for _, r := range rows {
			path := r.path
			if !strings.HasPrefix(path, "/admin/") {
				path = "/admin/realms/esc" + path
			}
			method, _, _ := strings.Cut(r.route, " ")
			st, _, b := s.do(method, path, e.tok, r.body)
			if st != 403 || string(b) != forbiddenBody {
				t.Errorf("%s (%s): %d %s, want 403", r.route, r.name, st, b)
			}
			if after := e.snapshot(); after != before {
				t.Fatalf("%s (%s) changed role holdings:\nbefore\n%s\nafter\n%s", r.route, r.name, before, after)
			}
		}
		if !e.holdsRealmAdmin("vic") || e.holdsRealmAdmin("mallory") {
			t.Fatal("realm-admin moved")
		}
	})
}

// credentialIDs lists a user's credentials, to see that nothing replaced them.
func (e *escEnv) credentialIDs(username string) string {
	e.t.Helper()
	cs, err := e.s.DB.ListCredentials(context.Background(), userID(e, username))
	e.must(err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID+c.SecretData)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// newClient creates a client as master's admin and returns its id.
func (e *escEnv) newClient(body map[string]any) string {
	e.t.Helper()
	st, h, b := e.s.do("POST", "/admin/realms/esc/clients", e.s.adminToken(), body)
	if st != 201 {
		e.t.Fatalf("create client: %d %s", st, b)
	}
	return h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
}

// Gatehouse goes past Keycloak here (README): taking over a principal that
// holds an admin role the caller lacks is another way to that role.
func TestTakeoverGuard(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newEscEnv(t, s)
		users := s.realmAdmin(e.realm, "usermgr", "manage-users")
		clients := s.realmAdmin(e.realm, "climgr", "manage-clients")
		s.realmAdmin(e.realm, "plainuser")
		p := func(x string) string { return "/admin/realms/esc" + x }
		refused := func(method, path, tok string, body any) {
			t.Helper()
			if st, _, b := s.do(method, p(path), tok, body); st != 403 || string(b) != forbiddenBody {
				t.Errorf("%s %s: %d %s, want 403", method, path, st, b)
			}
		}

		before := e.credentialIDs("vic")
		vic := e.ids["vic"]
		refused("PUT", "/users/"+vic+"/reset-password", users, map[string]any{"value": "Taken-0ver!", "temporary": false})
		refused("PUT", "/users/"+vic, users, map[string]any{"credentials": []any{map[string]any{"type": "password", "value": "Taken-0ver!"}}})
		refused("PUT", "/users/"+vic, users, map[string]any{"email": "mallory@example.com"})
		cs, _ := s.DB.ListCredentials(context.Background(), vic)
		refused("DELETE", "/users/"+vic+"/credentials/"+cs[0].ID, users, nil)
		refused("PUT", "/users/"+vic+"/disable-credential-types", users, []string{"otp"})
		refused("PUT", "/users/"+vic+"/remove-totp", users, nil)
		// Linking an upstream account one controls to vic would log one in as vic.
		refused("POST", "/users/"+vic+"/federated-identity/upstream", users, map[string]any{"userId": "mallory-upstream", "userName": "mallory"})
		if links, _ := s.DB.ListFederatedIdentities(context.Background(), e.realm.ID, vic); len(links) != 0 {
			t.Errorf("a refused link was stored: %v", links)
		}
		imp := s.realmAdmin(e.realm, "impmgr", "impersonation", "view-users")
		had, _ := s.DB.ListUserSessions(context.Background(), e.realm.ID, vic, false)
		refused("POST", "/users/"+vic+"/impersonation", imp, nil)
		if ss, _ := s.DB.ListUserSessions(context.Background(), e.realm.ID, vic, false); len(ss) != len(had) {
			t.Errorf("impersonation refused but a session was made: %v", ss)
		}
		if st, _, b := s.do("POST", p("/users/"+userID(e, "plainuser")+"/impersonation"), imp, nil); st != 200 {
			t.Errorf("impersonate a plain user: %d %s", st, b)
		}
		if e.credentialIDs("vic") != before {
			t.Error("vic's credentials changed")
		}
		// The same calls on a user holding no admin role work.
		plain := userID(e, "plainuser")
		if st, _, b := s.do("PUT", p("/users/"+plain+"/reset-password"), users, map[string]any{"value": "Fresh-pass-1"}); st != 204 {
			t.Errorf("reset plain user's password: %d %s", st, b)
		}
		if st, _, b := s.do("PUT", p("/users/"+plain), users, map[string]any{"email": "plain@example.com"}); st != 204 {
			t.Errorf("update plain user: %d %s", st, b)
		}
		// Nor may a realm-admin be reset by a caller holding less.
		if st, _, b := s.do("PUT", p("/users/"+plain+"/reset-password"), e.tok, map[string]any{"value": "Fresh-pass-2"}); st != 204 {
			t.Errorf("mallory resets plain user: %d %s", st, b)
		}

		// A client whose service account holds realm-admin.
		svc := e.newClient(map[string]any{"clientId": "svc", "publicClient": false, "serviceAccountsEnabled": true})
		var sa struct{ ID string }
		s.get(p("/clients/"+svc+"/service-account-user"), s.adminToken(), &sa)
		if st, _, b := s.do("POST", p("/users/"+sa.ID+"/role-mappings/clients/"+e.ids["rm"]), s.adminToken(),
			[]any{map[string]any{"id": e.adminID, "name": provision.RealmAdmin}}); st != 204 {
			t.Fatalf("map realm-admin to svc: %d %s", st, b)
		}
		c, err := s.DB.GetClient(context.Background(), e.realm.ID, svc)
		e.must(err)
		refused("GET", "/clients/"+svc+"/client-secret", clients, nil)
		refused("POST", "/clients/"+svc+"/client-secret", clients, nil)
		refused("PUT", "/clients/"+svc, clients, map[string]any{"secret": "known-secret"})
		refused("GET", "/clients/"+svc+"/client-secret/rotated", clients, nil)
		refused("DELETE", "/clients/"+svc+"/client-secret/rotated", clients, nil)
		refused("POST", "/clients/"+svc+"/registration-access-token", clients, nil)
		refused("GET", "/clients/"+svc+"/installation/providers/keycloak-oidc-keycloak-json", clients, nil)
		refused("POST", "/clients/"+svc+"/certificates/jwt.credential/generate", clients, nil)
		refused("POST", "/clients/"+svc+"/certificates/jwt.credential/upload-certificate", clients, nil)
		refused("POST", "/clients/"+svc+"/certificates/jwt.credential/generate-and-download", clients,
			map[string]any{"keyPassword": "k", "storePassword": "s"})
		refused("POST", "/clients/"+svc+"/nodes", clients, map[string]string{"node": "n1"})
		refused("POST", "/partialImport", e.tok, map[string]any{"ifResourceExists": "OVERWRITE",
			"clients": []any{map[string]any{"clientId": "svc", "publicClient": false, "secret": "known-secret", "serviceAccountsEnabled": true}}})
		if after, _ := s.DB.GetClient(context.Background(), e.realm.ID, svc); after.Secret != c.Secret {
			t.Error("svc's secret changed")
		}
		// A confidential client whose service account holds nothing special.
		other := e.newClient(map[string]any{"clientId": "svc-plain", "publicClient": false, "serviceAccountsEnabled": true})
		if st, _, b := s.do("GET", p("/clients/"+other+"/client-secret"), clients, nil); st != 200 {
			t.Errorf("secret of svc-plain: %d %s", st, b)
		}
		// Whoever holds realm-admin may still do all of it.
		boss := s.realmAdmin(e.realm, "boss", provision.RealmAdmin)
		if st, _, b := s.do("GET", p("/clients/"+svc+"/client-secret"), boss, nil); st != 200 {
			t.Errorf("realm-admin reads svc's secret: %d %s", st, b)
		}
		if st, _, b := s.do("PUT", p("/users/"+vic+"/reset-password"), boss, map[string]any{"value": "Boss-set-1"}); st != 204 {
			t.Errorf("realm-admin resets vic: %d %s", st, b)
		}
	})
}

// With realm-admin in the realm's default role, every new principal would
// receive it: creating users or service accounts becomes a grant of it.
func TestDefaultRoleGuard(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newEscEnv(t, s)
		users := s.realmAdmin(e.realm, "usermgr", "manage-users")
		clients := s.realmAdmin(e.realm, "climgr", "manage-clients")
		p := func(x string) string { return "/admin/realms/esc" + x }
		if st, _, b := s.do("POST", p("/roles/default-roles-esc/composites"), s.adminToken(),
			[]any{map[string]any{"id": e.adminID}}); st != 204 {
			t.Fatalf("realm-admin into the default role: %d %s", st, b)
		}
		before := e.snapshot()
		for _, c := range []struct {
			method, path, tok string
			body              any
		}{
			{"POST", "/users", users, map[string]any{"username": "newbie"}},
			{"POST", "/clients", clients, map[string]any{"clientId": "svc3", "publicClient": false, "serviceAccountsEnabled": true}},
			{"PUT", "/clients/" + e.ids["app"], clients, map[string]any{"publicClient": false, "serviceAccountsEnabled": true}},
			// Either token lets its holder give a client a service account.
			{"POST", "/clients-initial-access", clients, map[string]any{"count": 1}},
			{"POST", "/clients/" + e.ids["app"] + "/registration-access-token", clients, nil},
			{"POST", "/partialImport", e.tok, map[string]any{"clients": []any{map[string]any{"clientId": "svc4", "publicClient": false, "serviceAccountsEnabled": true}}}},
		} {
			if st, _, b := s.do(c.method, p(c.path), c.tok, c.body); st != 403 || string(b) != forbiddenBody {
				t.Errorf("%s %s: %d %s, want 403", c.method, c.path, st, b)
			}
			if e.snapshot() != before {
				t.Fatalf("%s %s changed role holdings", c.method, c.path)
			}
		}
	})
}

// Regression: the guard recognised master's "<realm>-realm" clients by
// their bearerOnly flag, which a master admin with manage-clients can turn
// off; authorization finds them by name, so after the switch their roles
// were ordinary roles to the guard while still administering the realm.
func TestAdminClientFlagDoesNotDisarmGuard(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		master, err := s.DB.GetRealmByName(ctx, "master")
		if err != nil {
			t.Fatal(err)
		}
		mr, err := s.DB.GetClientByClientID(ctx, master.ID, provision.MasterAdminClient("master"))
		if err != nil {
			t.Fatal(err)
		}
		u := user.User{ID: store.NewID(), RealmID: master.ID, Username: "lesser", Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
		if err := s.DB.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		cred, _ := user.NewPasswordCredential(store.NewID(), u.ID, "pw-lesser", time.Now().UnixMilli(), user.HashPolicy{})
		if err := s.DB.CreateCredential(ctx, cred); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"manage-clients", "manage-users"} {
			ro, err := s.DB.GetClientRole(ctx, master.ID, mr.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.DB.AddUserRoles(ctx, u.ID, ro.ID); err != nil {
				t.Fatal(err)
			}
		}
		tok := s.token("master", "admin-cli", "lesser", "pw-lesser")
		st, _, b := s.do("PUT", "/admin/realms/master/clients/"+mr.ID, tok, map[string]any{"clientId": mr.ClientID, "bearerOnly": false})
		t.Logf("switching bearerOnly off: %d %s", st, b)
		target, err := s.DB.GetClientRole(ctx, master.ID, mr.ID, "manage-realm")
		if err != nil {
			t.Fatal(err)
		}
		st, _, b = s.do("POST", "/admin/realms/master/users/"+u.ID+"/role-mappings/clients/"+mr.ID, tok,
			[]map[string]any{{"id": target.ID, "name": target.Name}})
		if st != 403 {
			t.Fatalf("granting itself master-realm's manage-realm: %d %s, want 403", st, b)
		}
		ids, err := s.DB.EffectiveRoleIDs(ctx, master.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, target.ID) {
			t.Fatal("the lesser admin holds manage-realm")
		}
	})
}

// ldapMapper is an LDAP mapper body under provider parent.
func ldapMapper(parent, providerID string, cfg map[string][]string) map[string]any {
	return map[string]any{"name": providerID, "providerId": providerID, "providerType": "org.keycloak.storage.ldap.mappers.LDAPStorageMapper",
		"parentId": parent, "config": cfg}
}
