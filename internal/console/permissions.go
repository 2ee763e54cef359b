package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The Permissions tab of fine-grained admin permissions, on the Users
// list (the realm's users as a whole), a group, a client, a role and an
// identity provider. It shows the "Permissions enabled" switch of the
// object's management/permissions endpoint and, when on, the object's scope
// permissions, each linked to its editor on the Authorization tab of the
// realm's management client, which is the resource server that holds them.
// Who may act is the admin API's business: the page only sends the switch.

// permissionKind is one kind of object with a Permissions tab.
type permissionKind struct {
	// Noun names the object in the page's sentences ("this group").
	Noun string
	// Scopes says what each scope's permission decides, by scope name.
	Scopes map[string]string
}

// permissionKinds are the objects with a Permissions tab, keyed as the
// admin console names them.
var permissionKinds = map[string]permissionKind{
	"users": {Noun: "the users of this realm", Scopes: map[string]string{
		"view":                    "Decides who may see every user of the realm.",
		"manage":                  "Decides who may change, and act on, every user of the realm.",
		"map-roles":               "Decides who may change the role mappings of any user; each role must also be one they may map.",
		"manage-group-membership": "Decides who may put any user into groups and take them out; each group must also allow it.",
		"impersonate":             "Decides who may sign in as another user of the realm.",
		"user-impersonated":       "Decides which users may be impersonated: a user it denies cannot be, by anyone.",
	}},
	"groups": {Noun: "this group", Scopes: map[string]string{
		"view":              "Decides who may see this group.",
		"manage":            "Decides who may change this group: its settings, child groups and role mappings.",
		"view-members":      "Decides who may see the users who belong to this group or to its child groups.",
		"manage-members":    "Decides who may change, and act on, the users who belong to this group or to its child groups.",
		"manage-membership": "Decides who may add users to this group and remove them from it.",
	}},
	"clients": {Noun: "this client", Scopes: map[string]string{
		"view":                   "Decides who may see this client.",
		"manage":                 "Decides who may change this client in every respect.",
		"configure":              "Decides who may change this client's settings, but not its client scopes, mappers or scope.",
		"map-roles":              "Decides who may give this client's roles to users and groups.",
		"map-roles-client-scope": "Decides who may add this client's roles to the scope of clients and client scopes.",
		"map-roles-composite":    "Decides who may add this client's roles to composite roles.",
		"token-exchange":         "Decides which clients may exchange their tokens for tokens meant for this client.",
	}},
	"roles": {Noun: "this role", Scopes: map[string]string{
		"map-role":              "Decides who may give this role to users and groups.",
		"map-role-client-scope": "Decides who may add this role to the scope of a client or client scope.",
		"map-role-composite":    "Decides who may add this role to a composite role.",
	}},
	"identityProviders": {Noun: "this identity provider", Scopes: map[string]string{
		"token-exchange": "Decides which clients may exchange tokens for tokens of this identity provider.",
	}},
}

// permissionReference is the admin API's ManagementPermissionReference.
type permissionReference struct {
	Enabled          bool              `json:"enabled"`
	Resource         string            `json:"resource,omitempty"`
	ScopePermissions map[string]string `json:"scopePermissions,omitempty"`
}

// permissionRow is one scope permission of the tab's table.
type permissionRow struct {
	Scope, Description string
	URL                string // its editor, when the administrator may open it
}

type permissionsData struct {
	Noun     string
	Enabled  bool
	Editable bool
	Action   string
	Server   string // clientId of the management client
	Rows     []permissionRow
}

// permissionsTab is the Permissions tab of the object whose reference the
// admin API serves at apiPath: it turns the object's
// permissions on or off (editable: the administrator holds the role the API
// asks for) and lists them. v already holds the page's tabs.
func (q *rq) permissionsTab(v *view, kind, apiPath string, editable bool) error {
	k := permissionKinds[kind]
	d := &permissionsData{Noun: k.Noun, Editable: editable, Action: q.r.URL.EscapedPath()}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		on := q.form("enabled")
		if on != "true" && on != "false" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		_, err := q.api(http.MethodPut, apiPath, map[string]bool{"enabled": on == "true"}, nil)
		if err == nil {
			return q.redirect(d.Action, "saved")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var ref permissionReference
	if err := q.get(apiPath, &ref); err != nil {
		return err
	}
	d.Enabled = ref.Enabled
	if !ref.Enabled {
		return q.render(status, "permissions.html", v)
	}
	// The editor is the management client's Authorization tab.
	editor := ""
	if mc := q.managementClient(); mc.ID != "" {
		d.Server = mc.ClientID
		editor = q.realmURL("/clients/" + seg(mc.ID) + "/authorization/permissions/scope/")
	}
	for scope, pid := range ref.ScopePermissions {
		row := permissionRow{Scope: scope, Description: k.Scopes[scope]}
		if editor != "" {
			row.URL = editor + seg(pid)
		}
		d.Rows = append(d.Rows, row)
	}
	slices.SortFunc(d.Rows, func(a, b permissionRow) int { return strings.Compare(a.Scope, b.Scope) })
	return q.render(status, "permissions.html", v)
}

// managementClient is the realm's client whose resource server holds its
// fine-grained admin permissions, as the admin API reads it, or a zero
// client when the administrator may not read it: the permissions' names
// then stay unlinked.
func (q *rq) managementClient() rep.Client {
	var x rep.Client
	c, err := adminperm.ManagementClient(q.r.Context(), q.h.Store, q.realm)
	if err != nil {
		return x
	}
	if q.get(q.adminPath("/clients/"+seg(c.ID)), &x) != nil {
		return rep.Client{}
	}
	return x
}

// usersPermissions is the Users list's Permissions tab: the realm's users
// as a whole.
func (h *Handler) usersPermissions(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the users' permissions.")
	}
	v := q.view("Users", "users", "permissions")
	v.Tabs = q.usersTabs("permissions")
	return q.permissionsTab(v, "users", q.adminPath("/users-management-permissions"), q.perms.can("manage-realm"))
}

// usersTabs are the tabs of the Users page: the list, and the realm's
// users permissions for who may see them.
func (q *rq) usersTabs(tab string) []tabLink {
	if !q.perms.can("view-realm") {
		return nil
	}
	return tabs(q.realmURL("/users"), tab, "list", "", "User list", "permissions", "/permissions", "Permissions")
}

// groupPermissions is a group's Permissions tab.
func (h *Handler) groupPermissions(q *rq) error {
	id := q.r.PathValue("id")
	var g rep.Group
	if err := q.get(q.adminPath("/groups/"+seg(id)), &g); err != nil {
		return err
	}
	v := q.groupView(g, "permissions")
	return q.permissionsTab(v, "groups", q.adminPath("/groups/"+seg(g.ID)+"/management/permissions"), q.perms.can("manage-users"))
}

// clientPermissions is a client's Permissions tab.
func (h *Handler) clientPermissions(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	if !clientPermissionsShown(q, x) {
		return errPage(http.StatusNotFound, "The console has no such page.")
	}
	v := q.clientView(x, "permissions")
	return q.permissionsTab(v, "clients", q.adminPath("/clients/"+seg(x.ID)+"/management/permissions"), true)
}

// clientPermissionsShown: a client's Permissions tab is for those who may
// manage the client, as the API requires to change its permissions. The
// management client, which holds every permission, has none of its own.
func clientPermissionsShown(q *rq, x rep.Client) bool {
	return (q.perms.can("manage-clients") || x.Access["manage"]) && !adminperm.IsManagementClient(q.realm, x.ClientID)
}

// rolePermissions is a realm role's Permissions tab.
func (h *Handler) rolePermissions(q *rq) error {
	name := q.r.PathValue("name")
	var r rep.Role
	if err := q.get(q.adminPath("/roles/"+seg(name)), &r); err != nil {
		return err
	}
	v := q.roleView(r, "permissions")
	return q.permissionsTab(v, "roles", q.adminPath("/roles-by-id/"+seg(r.ID)+"/management/permissions"), q.perms.can("manage-realm"))
}

// roleView starts a page of a realm role's tabs.
func (q *rq) roleView(r rep.Role, tab string) *view {
	v := q.view("Realm role", "roles", tab)
	v.Heading = r.Name
	v.Back = &link{"Realm roles", q.realmURL("/roles")}
	if q.perms.can("view-realm") {
		v.Tabs = tabs(q.realmURL("/roles/"+seg(r.Name)), tab, "details", "", "Details", "permissions", "/permissions", "Permissions")
	}
	return v
}

// clientRolePermissions is a client role's Permissions tab.
func (h *Handler) clientRolePermissions(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	var r rep.Role
	if err := q.get(q.adminPath("/clients/"+seg(x.ID)+"/roles/"+seg(q.r.PathValue("name"))), &r); err != nil {
		return err
	}
	v := q.view("Client role", "clients", "permissions")
	v.Heading = r.Name
	v.Back = &link{x.ClientID + " roles", q.realmURL("/clients/" + seg(x.ID) + "/roles")}
	v.Tabs = tabs(q.realmURL("/clients/"+seg(x.ID)+"/roles/"+seg(r.Name)), "permissions", "permissions", "/permissions", "Permissions")
	return q.permissionsTab(v, "roles", q.adminPath("/roles-by-id/"+seg(r.ID)+"/management/permissions"), q.perms.can("manage-clients"))
}

// idpPermissions is an identity provider's Permissions tab.
func (h *Handler) idpPermissions(q *rq) error {
	x, t, err := q.idpLoad()
	if err != nil {
		return err
	}
	v := q.idpView(x, t, "permissions")
	return q.permissionsTab(v, "identityProviders", q.idpPath(x.Alias)+"/management/permissions",
		q.perms.can("manage-identity-providers"))
}
