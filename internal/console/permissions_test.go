package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// permissionRow is a row of a Permissions tab's table: the editor's URL,
// the scope and its description.
var permissionRow = regexp.MustCompile(`<tr><td><a href="([^"]+)" id="permission-([^"]+)">[^<]+</a></td><td>([^<]*)</td></tr>`)

// The Permissions tab of every kind of object: the object's page links it,
// it starts off, its switch turns the object's fine-grained permissions on,
// the table then lists one permission per scope, each with a description
// and a link that opens that permission in the realm-management client's
// Authorization tab, and the switch turns them off again. On both
// databases.
func TestPermissionsTabs(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		ctx := context.Background()
		b := e.browser()
		home := b.signIn(masterConsole, "admin", "admin-pw")
		r := "/admin/master/console/demo"

		group := location(t, b.submit(home, r+"/groups", url.Values{"name": {"staff"}}), "create group")
		client := location(t, b.submit(home, r+"/clients/new", url.Values{"clientId": {"photos"}, "accessType": {"confidential"},
			"standardFlowEnabled": {"on"}}), "create client")
		location(t, b.submit(home, r+"/roles", url.Values{"action": {"create"}, "name": {"photographer"}}), "create role")
		location(t, b.submit(home, client+"/roles", url.Values{"action": {"create"}, "name": {"editor"}}), "create client role")
		location(t, b.submit(home, r+"/identity-providers/github/add", url.Values{"action": {"save"}, "alias": {"github"},
			"config.clientId": {"gh"}, "config.clientSecret": {"gh-secret"}, "config.syncMode": {"IMPORT"}}), "add github")
		rm, err := e.db.GetClientByClientID(ctx, e.demo.ID, provision.RealmManagement)
		if err != nil {
			t.Fatal(err)
		}
		editor := r + "/clients/" + rm.ID + "/authorization/permissions/scope/"
		last := func(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }
		realmRole, err := e.db.GetRealmRole(ctx, e.demo.ID, "photographer")
		if err != nil {
			t.Fatal(err)
		}
		clientRole, err := e.db.GetClientRole(ctx, e.demo.ID, last(client), "editor")
		if err != nil {
			t.Fatal(err)
		}
		github, err := e.provider("github")
		if err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			name      string
			from, tab string // the page that links the tab, and the tab
			kind, id  string // the object, as package adminperm names it
			scopes    []string
		}{
			{"users", r + "/users", r + "/users/permissions", adminperm.Users, "",
				[]string{"impersonate", "manage", "manage-group-membership", "map-roles", "user-impersonated", "view"}},
			{"group", group, group + "/permissions", adminperm.Group, last(group),
				[]string{"manage", "manage-members", "manage-membership", "view", "view-members"}},
			{"client", client, client + "/permissions", adminperm.Client, last(client),
				[]string{"configure", "manage", "map-roles", "map-roles-client-scope", "map-roles-composite", "token-exchange", "view"}},
			{"realm role", r + "/roles/photographer", r + "/roles/photographer/permissions", adminperm.Role, realmRole.ID,
				[]string{"map-role", "map-role-client-scope", "map-role-composite"}},
			{"client role", client + "/roles", client + "/roles/editor/permissions", adminperm.Role, clientRole.ID,
				[]string{"map-role", "map-role-client-scope", "map-role-composite"}},
			{"identity provider", r + "/identity-providers/github/github/settings", r + "/identity-providers/github/github/permissions",
				adminperm.IdentityProvider, github.InternalID, []string{"token-exchange"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				if p := b.get(c.from); !strings.Contains(p.body, `href="`+c.tab+`"`) {
					t.Fatalf("%s does not link its Permissions tab %s:\n%s", c.from, c.tab, p.body)
				}
				p := b.get(c.tab)
				if p.status != http.StatusOK || !strings.Contains(p.body, "Permissions enabled: <strong>Off</strong>") ||
					!strings.Contains(p.body, `name="enabled" value="true"`) || strings.Contains(p.body, `id="permissions"`) {
					t.Fatalf("tab while off: %d\n%s", p.status, p.body)
				}
				if !strings.Contains(p.body, `id="tab-permissions" aria-current="page"`) {
					t.Errorf("the tab is not marked current:\n%s", p.body)
				}
				p = b.submit(p, c.tab, url.Values{"enabled": {"true"}})
				if location(t, p, "turn on") != c.tab {
					t.Fatalf("turn on went to %s", p.header.Get("Location"))
				}
				p = b.get(c.tab)
				if !strings.Contains(p.body, "Permissions enabled: <strong>On</strong>") || !strings.Contains(p.body, `name="enabled" value="false"`) {
					t.Fatalf("tab while on:\n%s", p.body)
				}
				ref, err := adminperm.Get(ctx, e.db, e.demo.ID, c.kind, c.id)
				if err != nil || !ref.Enabled {
					t.Fatalf("stored: %v %+v", err, ref)
				}
				var scopes []string
				for _, m := range permissionRow.FindAllStringSubmatch(p.body, -1) {
					link, scope, desc := html.UnescapeString(m[1]), m[2], m[3]
					scopes = append(scopes, scope)
					if strings.TrimSpace(desc) == "" {
						t.Errorf("scope %s has no description", scope)
					}
					if link != editor+ref.ScopePermissions[scope] {
						t.Errorf("scope %s links %s, not its permission in the realm-management client's editor %s%s", scope, link,
							editor, ref.ScopePermissions[scope])
						continue
					}
					// The link opens the scope's permission in the editor.
					if pg := b.get(link); pg.status != http.StatusOK || !strings.Contains(pg.body, ".permission.") {
						t.Errorf("permission of %s: %d\n%s", scope, pg.status, pg.body)
					}
				}
				if !slices.Equal(scopes, c.scopes) {
					t.Errorf("scopes %v, want %v", scopes, c.scopes)
				}
				location(t, b.submit(p, c.tab, url.Values{"enabled": {"false"}}), "turn off")
				if p = b.get(c.tab); !strings.Contains(p.body, "Permissions enabled: <strong>Off</strong>") || strings.Contains(p.body, `id="permissions"`) {
					t.Errorf("tab after turning off:\n%s", p.body)
				}
			})
		}

		// The realm-management client, bearer-only, shows its Authorization
		// tab once it holds a resource server.
		location(t, b.submit(home, group+"/permissions", url.Values{"enabled": {"true"}}), "turn on again")
		rmPage := b.get(r + "/clients/" + rm.ID)
		if !strings.Contains(rmPage.body, `id="tab-authorization"`) {
			t.Fatalf("realm-management has no Authorization tab:\n%s", rmPage.body)
		}
		if strings.Contains(rmPage.body, `id="tab-permissions"`) {
			t.Error("realm-management, which holds the permissions, has a Permissions tab of its own")
		}
		if p := b.get(r + "/clients/" + rm.ID + "/authorization/permissions"); p.status != http.StatusOK ||
			!strings.Contains(p.body, ".permission.group."+last(group)) {
			t.Errorf("realm-management's permissions: %d\n%s", p.status, p.body)
		}

		if p := b.submit(home, group+"/permissions", url.Values{"enabled": {"maybe"}}); p.status != http.StatusBadRequest {
			t.Errorf("a switch to neither on nor off: %d", p.status)
		}
	})
}

// An administrator who may see users but not manage them sees a group's
// Permissions tab without its switch, and the API refuses the switch sent
// anyway; without view-realm the Users page has no Permissions tab and its
// address is refused.
func TestPermissionsTabViewOnly(t *testing.T) {
	e := newEnv(t)
	e.addUser(e.demo, "viewer", "viewer-pw", "view-users", "query-users", "query-groups")
	admin := e.browser()
	home := admin.signIn(masterConsole, "admin", "admin-pw")
	group := location(t, admin.submit(home, "/admin/master/console/demo/groups", url.Values{"name": {"staff"}}), "create group")
	id := group[strings.LastIndexByte(group, '/')+1:]

	b := e.browser()
	own := "/admin/demo/console/demo"
	b.signIn("/admin/demo/console/", "viewer", "viewer-pw")
	p := b.get(own + "/groups/" + id)
	if !strings.Contains(p.body, `id="tab-permissions"`) {
		t.Fatalf("no Permissions tab for a viewer of users:\n%s", p.body)
	}
	p = b.get(own + "/groups/" + id + "/permissions")
	if p.status != http.StatusOK || strings.Contains(p.body, `id="permissions-switch"`) {
		t.Fatalf("view-only tab: %d\n%s", p.status, p.body)
	}
	if p = b.submit(p, own+"/groups/"+id+"/permissions", url.Values{"enabled": {"true"}}); p.status != http.StatusForbidden ||
		!strings.Contains(p.body, "You do not have permission to do this.") {
		t.Errorf("switch sent by a viewer: %d\n%s", p.status, p.body)
	}

	if p = b.get(own + "/users"); p.status != http.StatusOK || strings.Contains(p.body, `id="tab-permissions"`) {
		t.Errorf("users list of an administrator without view-realm: %d\n%s", p.status, p.body)
	}
	if p = b.get(own + "/users/permissions"); p.status != http.StatusForbidden {
		t.Errorf("users permissions without view-realm: %d", p.status)
	}
}

// In the master realm the permissions live in master's own admin client,
// master-realm: the tab links there.
func TestPermissionsTabMaster(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/master"
	group := location(t, b.submit(home, r+"/groups", url.Values{"name": {"operators"}}), "create group")
	location(t, b.submit(home, group+"/permissions", url.Values{"enabled": {"true"}}), "turn on")
	mc := e.clientUUID("master", provision.MasterAdminClient("master"))
	p := b.get(group + "/permissions")
	rows := permissionRow.FindAllStringSubmatch(p.body, -1)
	if len(rows) != 5 || !strings.Contains(p.body, "<strong>master-realm</strong>") {
		t.Fatalf("master's group permissions:\n%s", p.body)
	}
	for _, m := range rows {
		if want := r + "/clients/" + mc + "/authorization/permissions/scope/"; !strings.HasPrefix(html.UnescapeString(m[1]), want) {
			t.Errorf("scope %s links %s, not below %s", m[2], m[1], want)
		}
	}
}
