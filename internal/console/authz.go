package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The client's Authorization tab (authorization services), shown for a
// client with authorizationServicesEnabled: its sections Settings,
// Resources, Scopes, Policies, Permissions, Evaluate and Export, each a
// page over the admin API under
// /admin/realms/{realm}/clients/{id}/authz/resource-server, with Keycloak's
// representations (ResourceServerRepresentation, ResourceRepresentation
// with "_id" and "icon_uri", ScopeRepresentation, the typed policy
// representations).

// authzResource is Keycloak's ResourceRepresentation as the pages use it.
type authzResource struct {
	ID                 string              `json:"_id,omitempty"`
	Name               string              `json:"name"`
	DisplayName        string              `json:"displayName,omitempty"`
	Type               string              `json:"type,omitempty"`
	IconURI            string              `json:"icon_uri,omitempty"`
	URIs               []string            `json:"uris"`
	Scopes             []authzScope        `json:"scopes"`
	Owner              *resourceOwner      `json:"owner,omitempty"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess"`
	Attributes         map[string][]string `json:"attributes,omitempty"`
}

// resourceOwner is the owner of a resource: the resource server's client
// or a user ({"id","name"}).
type resourceOwner struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// UnmarshalJSON accepts the owner as an object or as a bare id, both of
// which appear in Keycloak's representations.
func (o *resourceOwner) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		o.ID = s
		return nil
	}
	type plain resourceOwner
	return json.Unmarshal(b, (*plain)(o))
}

// authzScope is Keycloak's ScopeRepresentation.
type authzScope struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	IconURI     string `json:"iconUri,omitempty"`
}

// ScopeNames lists a resource's scopes by name.
func (r authzResource) ScopeNames() string {
	names := make([]string, 0, len(r.Scopes))
	for _, s := range r.Scopes {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// authzTabs are the sections of the Authorization tab: id, path below
// .../authorization, label.
var authzTabs = []string{
	"settings", "", "Settings",
	"resources", "/resources", "Resources",
	"scopes", "/scopes", "Authorization scopes",
	"policies", "/policies", "Policies",
	"permissions", "/permissions", "Permissions",
	"evaluate", "/evaluate", "Evaluate",
	"export", "/export", "Export",
}

// authzPage is what every page of the Authorization tab holds besides its
// own data: the section links and the console URL of the tab.
type authzPage struct {
	Sections []tabLink
	Base     string // console URL path of the client's Authorization tab
	Editable bool
}

// authzClient loads the client in the path for a page of its
// Authorization tab; a client without authorization services has no such
// tab.
func (q *rq) authzClient() (rep.Client, error) {
	x, err := q.loadClient()
	if err != nil {
		return x, err
	}
	if !boolean(x.AuthorizationServicesEnabled) {
		return x, errPage(http.StatusNotFound, "Authorization services are not enabled for this client.")
	}
	return x, nil
}

// authzView starts a page of the client's Authorization tab in section sub.
func (q *rq) authzView(x rep.Client, sub string) (*view, authzPage) {
	v := q.clientView(x, "authorization")
	base := q.realmURL("/clients/" + seg(x.ID) + "/authorization")
	// The admin API lets either role change a client's authorization.
	editable := q.perms.can("manage-authorization") || q.perms.can("manage-clients")
	return v, authzPage{Sections: tabs(base, sub, authzTabs...), Base: base, Editable: editable}
}

// authzAPI is the admin API path of the client's resource server.
func (q *rq) authzAPI(x rep.Client, p string) string {
	return q.adminPath("/clients/" + seg(x.ID) + "/authz/resource-server" + p)
}

var (
	enforcementModes = []option{
		{Value: "ENFORCING", Label: "Enforcing (requests are denied when no policy is associated with a resource)"},
		{Value: "PERMISSIVE", Label: "Permissive (requests are allowed when no policy is associated with a resource)"},
		{Value: "DISABLED", Label: "Disabled (every request is allowed)"},
	}
	decisionStrategies = []option{
		{Value: "UNANIMOUS", Label: "Unanimous"},
		{Value: "AFFIRMATIVE", Label: "Affirmative"},
		{Value: "CONSENSUS", Label: "Consensus"},
	}
	logics = []option{{Value: "POSITIVE", Label: "Positive"}, {Value: "NEGATIVE", Label: "Negative"}}
)

// validOption reports whether value is one of opts.
func validOption(opts []option, value string) bool {
	return slices.ContainsFunc(opts, func(o option) bool { return o.Value == value })
}

type authzSettingsData struct {
	authzPage
	Modes, Strategies []option
	RemoteManagement  bool
}

// authzSettings shows and saves the resource server's settings: policy
// enforcement mode, decision strategy and remote resource management. The
// representation is read, changed in those three fields and put back, so
// that whatever else it holds stays as it is.
func (h *Handler) authzSettings(q *rq) error {
	x, v, d, rs, err := q.authzSettingsPage()
	if err != nil {
		return err
	}
	mode, strategy, remote := q.form("policyEnforcementMode"), q.form("decisionStrategy"), q.checked("allowRemoteResourceManagement")
	if !q.post() {
		return q.render(http.StatusOK, "authz-settings.html", v)
	}
	d.Modes, d.Strategies, d.RemoteManagement = selectOptions(enforcementModes, mode), selectOptions(decisionStrategies, strategy), remote
	if !validOption(enforcementModes, mode) {
		return q.refused(v, "authz-settings.html", &fieldError{"policyEnforcementMode", "Choose a policy enforcement mode."})
	}
	if !validOption(decisionStrategies, strategy) {
		return q.refused(v, "authz-settings.html", &fieldError{"decisionStrategy", "Choose a decision strategy."})
	}
	rs["policyEnforcementMode"], rs["decisionStrategy"], rs["allowRemoteResourceManagement"] = mode, strategy, remote
	if _, err := q.api(http.MethodPut, q.authzAPI(x, ""), rs, nil); err != nil {
		return q.refused(v, "authz-settings.html", err)
	}
	return q.redirect(d.Base, "saved")
}

// authzSettingsPage reads the resource server's representation and fills
// the Settings section with it, for the section and for its Import.
func (q *rq) authzSettingsPage() (rep.Client, *view, *authzSettingsData, map[string]any, error) {
	x, err := q.authzClient()
	if err != nil {
		return x, nil, nil, nil, err
	}
	v, p := q.authzView(x, "settings")
	var rs map[string]any
	if err := q.get(q.authzAPI(x, ""), &rs); err != nil {
		return x, nil, nil, nil, err
	}
	mode, _ := rs["policyEnforcementMode"].(string)
	strategy, _ := rs["decisionStrategy"].(string)
	remote, _ := rs["allowRemoteResourceManagement"].(bool)
	d := &authzSettingsData{authzPage: p, Modes: selectOptions(enforcementModes, mode),
		Strategies: selectOptions(decisionStrategies, strategy), RemoteManagement: remote}
	v.Data = d
	return x, v, d, rs, nil
}

// authzImport is the Settings section's Import: an uploaded file of
// resource server settings (an export of this or another server) goes to
// the admin API's import, which adds its scopes, resources and policies.
func (h *Handler) authzImport(q *rq) error {
	x, v, d, _, err := q.authzSettingsPage()
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := uploadedJSON(q, &doc, "The file is not a resource server's JSON settings."); err != nil {
		return q.refused(v, "authz-settings.html", err)
	}
	if _, err := q.api(http.MethodPost, q.authzAPI(x, "/import"), doc, nil); err != nil {
		return q.refused(v, "authz-settings.html", err)
	}
	return q.redirect(d.Base, "imported")
}

type authzResourcesData struct {
	authzPage
	paging
	Rows []authzResource
}

// authzResources lists the resource server's resources (searched by
// name), and deletes one.
func (h *Handler) authzResources(q *rq) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	v, p := q.authzView(x, "resources")
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if _, err := q.api(http.MethodDelete, q.authzAPI(x, "/resource/"+seg(q.form("id"))), nil, nil); err != nil {
			return err
		}
		return q.redirect(p.Base+"/resources", "deleted")
	}
	d := &authzResourcesData{authzPage: p, paging: newPaging(q)}
	v.Data = d
	qs := url.Values{"first": {strconv.Itoa(d.First)}, "max": {strconv.Itoa(pageSize + 1)}, "deep": {"true"}}
	if d.Search != "" {
		qs.Set("name", d.Search)
	}
	var rs []authzResource
	if err := q.get(q.authzAPI(x, "/resource?"+qs.Encode()), &rs); err != nil {
		return err
	}
	d.Rows = rs[:d.window(len(rs))]
	return q.render(http.StatusOK, "authz-resources.html", v)
}

// resourceForm is a resource as its form shows it.
type resourceForm struct {
	authzPage
	ID, Name, DisplayName, Type, IconURI string
	URIs                                 []string
	Scopes                               []option // every scope of the server, the resource's selected
	OwnerManagedAccess                   bool
	Owner                                string
	Attributes                           string // name=value lines
}

// authzResource creates (id "new") or edits a resource.
func (h *Handler) authzResource(q *rq) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	v, p := q.authzView(x, "resources")
	v.Back = &link{"Resources", p.Base + "/resources"}
	id := q.r.PathValue("rid")
	f := &resourceForm{authzPage: p}
	v.Data = f
	var all []authzScope
	if err := q.get(q.authzAPI(x, "/scope"), &all); err != nil {
		return err
	}
	var chosen []string
	if id != "new" {
		var res authzResource
		if err := q.get(q.authzAPI(x, "/resource/"+seg(id)), &res); err != nil {
			return err
		}
		// The resource's scopes come with it, or from their own endpoint.
		if res.Scopes == nil {
			if err := q.get(q.authzAPI(x, "/resource/"+seg(id)+"/scopes"), &res.Scopes); err != nil {
				return err
			}
		}
		f.ID, f.Name, f.DisplayName, f.Type, f.IconURI, f.URIs = res.ID, res.Name, res.DisplayName, res.Type, res.IconURI, res.URIs
		f.OwnerManagedAccess, f.Attributes = res.OwnerManagedAccess, attributesText(res.Attributes)
		if res.Owner != nil {
			f.Owner = firstOf(res.Owner.Name, res.Owner.ID)
		}
		for _, s := range res.Scopes {
			chosen = append(chosen, s.Name)
		}
	}
	if q.post() {
		f.Name, f.DisplayName, f.Type, f.IconURI = q.form("name"), q.form("displayName"), q.form("type"), q.form("icon_uri")
		f.URIs, f.OwnerManagedAccess, f.Attributes = lines(q.r.PostForm.Get("uris")), q.checked("ownerManagedAccess"), q.r.PostForm.Get("attributes")
		chosen = q.r.PostForm["scopes"]
	}
	f.Scopes = scopeOptions(all, chosen)
	if !q.post() {
		v.Heading = firstOf(f.Name, "Create resource")
		return q.render(http.StatusOK, "authz-resource.html", v)
	}
	v.Heading = firstOf(f.Name, "Create resource")
	attrs, err := parseAttributes("attributes", f.Attributes)
	if err != nil {
		return q.refused(v, "authz-resource.html", err)
	}
	if f.Name == "" {
		return q.refused(v, "authz-resource.html", &fieldError{"name", "Enter a name."})
	}
	body := authzResource{Name: f.Name, DisplayName: f.DisplayName, Type: f.Type, IconURI: f.IconURI, URIs: f.URIs,
		OwnerManagedAccess: f.OwnerManagedAccess, Attributes: attrs, Scopes: []authzScope{}}
	for _, name := range chosen {
		body.Scopes = append(body.Scopes, authzScope{Name: name})
	}
	if id == "new" {
		var created authzResource
		if _, err := q.api(http.MethodPost, q.authzAPI(x, "/resource"), body, &created); err != nil {
			return q.refused(v, "authz-resource.html", conflictOn(err, "name"))
		}
		return q.redirect(p.Base+"/resources/"+seg(created.ID), "created")
	}
	body.ID = id
	if _, err := q.api(http.MethodPut, q.authzAPI(x, "/resource/"+seg(id)), body, nil); err != nil {
		return q.refused(v, "authz-resource.html", conflictOn(err, "name"))
	}
	return q.redirect(p.Base+"/resources/"+seg(id), "saved")
}

// conflictOn marks an API's 409 as the error of form field name.
func conflictOn(err error, name string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		ae.Field = name
	}
	return err
}

// firstOf is the first of its arguments that is not empty.
func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// scopeOptions are the server's scopes as a multiple select, those named
// in chosen selected.
func scopeOptions(all []authzScope, chosen []string) []option {
	out := make([]option, 0, len(all))
	for _, s := range all {
		out = append(out, option{Value: s.Name, Label: firstOf(s.DisplayName, s.Name), Selected: slices.Contains(chosen, s.Name)})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

type authzScopesData struct {
	authzPage
	paging
	Rows []authzScope
}

// authzScopes lists the authorization scopes (searched by name), deletes
// one.
func (h *Handler) authzScopes(q *rq) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	v, p := q.authzView(x, "scopes")
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if _, err := q.api(http.MethodDelete, q.authzAPI(x, "/scope/"+seg(q.form("id"))), nil, nil); err != nil {
			return err
		}
		return q.redirect(p.Base+"/scopes", "deleted")
	}
	d := &authzScopesData{authzPage: p, paging: newPaging(q)}
	v.Data = d
	qs := url.Values{"first": {strconv.Itoa(d.First)}, "max": {strconv.Itoa(pageSize + 1)}, "deep": {"false"}}
	if d.Search != "" {
		qs.Set("name", d.Search)
	}
	var ss []authzScope
	if err := q.get(q.authzAPI(x, "/scope?"+qs.Encode()), &ss); err != nil {
		return err
	}
	d.Rows = ss[:d.window(len(ss))]
	return q.render(http.StatusOK, "authz-scopes.html", v)
}

type authzScopeForm struct {
	authzPage
	authzScope
}

// authzScope creates (id "new") or edits an authorization scope.
func (h *Handler) authzScope(q *rq) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	v, p := q.authzView(x, "scopes")
	v.Back = &link{"Authorization scopes", p.Base + "/scopes"}
	id := q.r.PathValue("sid")
	f := &authzScopeForm{authzPage: p}
	v.Data = f
	if id != "new" {
		if err := q.get(q.authzAPI(x, "/scope/"+seg(id)), &f.authzScope); err != nil {
			return err
		}
	}
	v.Heading = firstOf(f.Name, "Create authorization scope")
	if !q.post() {
		return q.render(http.StatusOK, "authz-scope.html", v)
	}
	f.Name, f.DisplayName, f.IconURI = q.form("name"), q.form("displayName"), q.form("iconUri")
	if f.Name == "" {
		return q.refused(v, "authz-scope.html", &fieldError{"name", "Enter a name."})
	}
	body := authzScope{Name: f.Name, DisplayName: f.DisplayName, IconURI: f.IconURI}
	if id == "new" {
		var created authzScope
		if _, err := q.api(http.MethodPost, q.authzAPI(x, "/scope"), body, &created); err != nil {
			return q.refused(v, "authz-scope.html", conflictOn(err, "name"))
		}
		return q.redirect(p.Base+"/scopes/"+seg(created.ID), "created")
	}
	body.ID = id
	if _, err := q.api(http.MethodPut, q.authzAPI(x, "/scope/"+seg(id)), body, nil); err != nil {
		return q.refused(v, "authz-scope.html", conflictOn(err, "name"))
	}
	return q.redirect(p.Base+"/scopes/"+seg(id), "saved")
}

type authzExportData struct {
	authzPage
	JSON string
}

// authzExport shows the resource server's settings as the admin API
// exports them, and downloads them (?download) as a file, as Keycloak's
// Export tab does.
func (h *Handler) authzExport(q *rq) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	res, err := h.call(q.r, http.MethodGet, q.authzAPI(x, "/settings"), q.sess.Access, "", nil)
	if err != nil {
		return err
	}
	if res.status != http.StatusOK {
		return readError(res)
	}
	if q.r.URL.Query().Has("download") {
		return q.download(x.ClientID+"-authz-config.json", "application/json", res.body.Bytes())
	}
	v, p := q.authzView(x, "export")
	// Indented in the API's own order, which a map would lose.
	var out bytes.Buffer
	if json.Indent(&out, res.body.Bytes(), "", "  ") != nil {
		out.Reset()
		out.Write(res.body.Bytes())
	}
	d := &authzExportData{authzPage: p, JSON: out.String()}
	v.Data = d
	return q.render(http.StatusOK, "authz-export.html", v)
}
