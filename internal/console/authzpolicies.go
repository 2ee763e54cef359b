package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The Policies and Permissions sections of a client's Authorization tab.
// A permission is a policy of type "resource" or "scope"; each type has its
// own representation (RolePolicyRepresentation, UserPolicyRepresentation…)
// read and written at .../policy/{type}/{id} and .../permission/{type}/{id}.

// policyTypes are the policy types the console creates, in Keycloak's
// order, with their labels. JavaScript policies are not among them: the
// server refuses to create them.
var policyTypes = []option{
	{Value: "aggregate", Label: "Aggregated"},
	{Value: "client", Label: "Client"},
	{Value: "client-scope", Label: "Client scope"},
	{Value: "group", Label: "Group"},
	{Value: "regex", Label: "Regex"},
	{Value: "role", Label: "Role"},
	{Value: "time", Label: "Time"},
	{Value: "user", Label: "User"},
}

var permissionTypes = []option{
	{Value: "resource", Label: "Resource-based"},
	{Value: "scope", Label: "Scope-based"},
}

// typeLabel is the label of a policy or permission type.
func typeLabel(t string) string {
	for _, o := range slices.Concat(policyTypes, permissionTypes) {
		if o.Value == t {
			return o.Label
		}
	}
	return t
}

// policyRow is a policy or permission as Keycloak's PolicyRepresentation
// lists it.
type policyRow struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	Type             string `json:"type"`
	Logic            string `json:"logic"`
	DecisionStrategy string `json:"decisionStrategy"`
}

// TypeLabel is the row's type as the list shows it.
func (p policyRow) TypeLabel() string { return typeLabel(p.Type) }

// Known reports whether the console has a form for the row's type (a
// user-managed permission, type "uma", is the resource owner's to change).
func (p policyRow) Known() bool {
	return validOption(policyTypes, p.Type) || validOption(permissionTypes, p.Type)
}

type authzPoliciesData struct {
	authzPage
	paging
	Permissions bool // the Permissions section, not Policies
	Types       []option
	Rows        []policyRow
}

func (h *Handler) authzPolicies(q *rq) error    { return h.policyList(q, false) }
func (h *Handler) authzPermissions(q *rq) error { return h.policyList(q, true) }

// policyList lists the policies (or permissions), searched by name, and
// deletes one.
func (h *Handler) policyList(q *rq, permissions bool) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	section := "policies"
	if permissions {
		section = "permissions"
	}
	v, p := q.authzView(x, section)
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if _, err := q.api(http.MethodDelete, q.authzAPI(x, "/policy/"+seg(q.form("id"))), nil, nil); err != nil {
			return err
		}
		return q.redirect(p.Base+"/"+section, "deleted")
	}
	d := &authzPoliciesData{authzPage: p, paging: newPaging(q), Permissions: permissions, Types: policyTypes}
	v.Data = d
	qs := url.Values{"first": {strconv.Itoa(d.First)}, "max": {strconv.Itoa(pageSize + 1)}}
	if d.Search != "" {
		qs.Set("name", d.Search)
	}
	path := "/permission?"
	if permissions {
		d.Types = permissionTypes
	} else {
		path = "/policy?"
		qs.Set("permission", "false")
	}
	var rows []policyRow
	if err := q.get(q.authzAPI(x, path+qs.Encode()), &rows); err != nil {
		return err
	}
	d.Rows = rows[:d.window(len(rows))]
	return q.render(http.StatusOK, "authz-policies.html", v)
}

// pick is one row of a table of choices with a "required" switch (roles,
// client scopes).
type pick struct {
	ID, Label      string
	Use, Required  bool
	RequiredToggle bool // the row has a "required" switch
}

// timeField is one field of a time policy.
type timeField struct{ Name, Label, Help, Value string }

// timeFields are a time policy's fields, as TimePolicyRepresentation names
// them.
var timeFields = []timeField{
	{Name: "notBefore", Label: "Start time", Help: "Not before this moment, as yyyy-MM-dd HH:mm:ss."},
	{Name: "notOnOrAfter", Label: "Expire time", Help: "Not on or after this moment, as yyyy-MM-dd HH:mm:ss."},
	{Name: "dayMonth", Label: "Day of month"}, {Name: "dayMonthEnd", Label: "Day of month (to)"},
	{Name: "month", Label: "Month"}, {Name: "monthEnd", Label: "Month (to)"},
	{Name: "year", Label: "Year"}, {Name: "yearEnd", Label: "Year (to)"},
	{Name: "hour", Label: "Hour"}, {Name: "hourEnd", Label: "Hour (to)"},
	{Name: "minute", Label: "Minute"}, {Name: "minuteEnd", Label: "Minute (to)"},
}

// policyForm is a policy or permission of any type as its form shows it;
// the template shows the fields of Type.
type policyForm struct {
	authzPage
	Permission        bool
	Type, TypeLabel   string
	ID                string
	Name, Description string
	Logics            []option
	Strategies        []option

	Roles        []pick // role
	FetchRoles   bool
	ClientScopes []pick          // client-scope
	Users        []string        // user: usernames
	Groups       []string        // group: paths
	Extended     map[string]bool // group: the paths whose subgroups' members match too
	Extend       bool            // group: groups added now extend to their children
	GroupsClaim  string
	Clients      []option    // client
	Time         []timeField // time
	Policies     []option    // aggregate, permissions
	TargetClaim  string      // regex
	Pattern      string
	ContextAttrs bool
	ResourceType string   // resource permission: applies to every resource of this type
	ByType       bool     // resource permission: by type rather than by resources
	Resources    []option // permissions
	Scopes       []option // scope permission
}

func (h *Handler) authzPolicy(q *rq) error     { return h.policyPage(q, false) }
func (h *Handler) authzPermission(q *rq) error { return h.policyPage(q, true) }

// policyPage creates (path .../new/{type}) or edits (.../{type}/{pid}) a
// policy or permission.
func (h *Handler) policyPage(q *rq, permission bool) error {
	x, err := q.authzClient()
	if err != nil {
		return err
	}
	section, types, api := "policies", policyTypes, "/policy/"
	if permission {
		section, types, api = "permissions", permissionTypes, "/permission/"
	}
	typ, id := q.r.PathValue("type"), q.r.PathValue("pid")
	if !validOption(types, typ) {
		return errPage(http.StatusNotFound, "The console has no such page.")
	}
	v, p := q.authzView(x, section)
	kind := "policy"
	v.Back = &link{"Policies", p.Base + "/" + section}
	if permission {
		kind, v.Back.Label = "permission", "Permissions"
	}
	f := &policyForm{authzPage: p, Permission: permission, Type: typ, TypeLabel: typeLabel(typ), ID: id}
	v.Data = f
	cur := map[string]any{"logic": "POSITIVE", "decisionStrategy": "UNANIMOUS"}
	if id != "" {
		if err := q.get(q.authzAPI(x, api+seg(typ)+"/"+seg(id)), &cur); err != nil {
			return err
		}
		if err := q.associations(x, id, cur); err != nil {
			return err
		}
	}
	if err := q.fillPolicyForm(x, f, cur); err != nil {
		return err
	}
	v.Heading = firstOf(f.Name, "Create "+strings.ToLower(f.TypeLabel)+" "+kind)
	if !q.post() {
		return q.render(http.StatusOK, "authz-policy.html", v)
	}
	// The form is shown again with what was sent, whatever the outcome.
	body, rerr := q.readPolicyForm(f)
	if err := q.fillPolicyForm(x, f, body); err != nil {
		return err
	}
	if _, ok := body["users"]; !ok && f.Type == "user" {
		f.Users = lines(q.r.PostForm.Get("users"))
	}
	if _, ok := body["groups"]; !ok && f.Type == "group" {
		f.Groups, f.Extend = lines(q.r.PostForm.Get("groups")), q.checked("extendChildren")
		f.Extended = map[string]bool{}
		for _, path := range f.Groups {
			f.Extended[path] = groupExtended(q.r.PostForm, path)
		}
	}
	if rerr != nil {
		return q.refused(v, "authz-policy.html", rerr)
	}
	if f.Name == "" {
		return q.refused(v, "authz-policy.html", &fieldError{"name", "Enter a name."})
	}
	if id == "" {
		var created struct {
			ID string `json:"id"`
		}
		if _, err := q.api(http.MethodPost, q.authzAPI(x, api+seg(typ)), body, &created); err != nil {
			return q.refused(v, "authz-policy.html", conflictOn(err, "name"))
		}
		return q.redirect(p.Base+"/"+section+"/"+seg(typ)+"/"+seg(created.ID), "created")
	}
	body["id"] = id
	if _, err := q.api(http.MethodPut, q.authzAPI(x, api+seg(typ)+"/"+seg(id)), body, nil); err != nil {
		return q.refused(v, "authz-policy.html", conflictOn(err, "name"))
	}
	return q.redirect(p.Base+"/"+section+"/"+seg(typ)+"/"+seg(id), "saved")
}

// associations completes a typed representation with the policies,
// resources and scopes associated with it, from their own endpoints, where
// the representation does not carry them.
func (q *rq) associations(x rep.Client, id string, cur map[string]any) error {
	base := "/policy/" + seg(id)
	for _, a := range []struct{ field, path, key string }{
		{"policies", "/associatedPolicies", "id"}, {"resources", "/resources", "_id"}, {"scopes", "/scopes", "id"},
	} {
		if _, ok := cur[a.field]; ok {
			continue
		}
		var list []map[string]any
		if err := q.get(q.authzAPI(x, base+a.path), &list); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				continue
			}
			return err
		}
		ids := []any{}
		for _, m := range list {
			if s, ok := m[a.key].(string); ok {
				ids = append(ids, s)
			} else if s, ok := m["id"].(string); ok {
				ids = append(ids, s)
			}
		}
		cur[a.field] = ids
	}
	return nil
}

// jsonStrings reads a list of strings, as decoded from JSON or as the form
// built it.
func jsonStrings(v any) []string {
	if s, ok := v.([]string); ok {
		return s
	}
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// jsonRefs reads a list of {"id", "required"|"extendChildren"} objects.
func jsonRefs(v any, flag string) map[string]bool {
	list, _ := v.([]any)
	out := map[string]bool{}
	for _, x := range list {
		m, _ := x.(map[string]any)
		if id, ok := m["id"].(string); ok {
			on, _ := m[flag].(bool)
			out[id] = on
		}
	}
	return out
}

// fillPolicyForm shows the typed representation cur on f, with the
// choices each field offers.
func (q *rq) fillPolicyForm(x rep.Client, f *policyForm, cur map[string]any) error {
	f.Name, _ = cur["name"].(string)
	f.Description, _ = cur["description"].(string)
	logic, _ := cur["logic"].(string)
	strategy, _ := cur["decisionStrategy"].(string)
	f.Logics, f.Strategies = selectOptions(logics, logic), selectOptions(decisionStrategies, strategy)
	switch f.Type {
	case "role":
		chosen := jsonRefs(cur["roles"], "required")
		f.FetchRoles, _ = cur["fetchRoles"].(bool)
		roles, err := q.allRoles()
		if err != nil {
			return err
		}
		for _, r := range roles {
			req, use := chosen[r.ID]
			f.Roles = append(f.Roles, pick{ID: r.ID, Label: r.Label, Use: use, Required: req, RequiredToggle: true})
		}
	case "client-scope":
		chosen := jsonRefs(cur["clientScopes"], "required")
		var all []rep.ClientScope
		if err := q.get(q.adminPath("/client-scopes"), &all); err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b rep.ClientScope) int { return strings.Compare(a.Name, b.Name) })
		for _, s := range all {
			req, use := chosen[s.ID]
			f.ClientScopes = append(f.ClientScopes, pick{ID: s.ID, Label: s.Name, Use: use, Required: req, RequiredToggle: true})
		}
	case "user":
		f.Users = nil
		for _, id := range jsonStrings(cur["users"]) {
			var u rep.User
			if err := q.get(q.adminPath("/users/"+seg(id)), &u); err != nil {
				var ae *apiError
				if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
					continue // a user deleted since
				}
				return err
			}
			f.Users = append(f.Users, u.Username)
		}
	case "group":
		f.Groups, f.Extend, f.Extended = nil, false, map[string]bool{}
		f.GroupsClaim, _ = cur["groupsClaim"].(string)
		list, _ := cur["groups"].([]any)
		for _, g := range list {
			m, _ := g.(map[string]any)
			path, _ := m["path"].(string)
			if id, _ := m["id"].(string); path == "" && id != "" {
				var gr struct {
					Path string `json:"path"`
				}
				if err := q.get(q.adminPath("/groups/"+seg(id)), &gr); err != nil {
					return err
				}
				path = gr.Path
			}
			f.Extended[path], _ = m["extendChildren"].(bool)
			f.Groups = append(f.Groups, path)
		}
	case "client":
		chosen := jsonStrings(cur["clients"])
		var cs []rep.Client
		if err := q.get(q.adminPath("/clients"), &cs); err != nil {
			return err
		}
		f.Clients = nil
		for _, c := range cs {
			f.Clients = append(f.Clients, option{Value: c.ID, Label: c.ClientID, Selected: slices.Contains(chosen, c.ID)})
		}
	case "time":
		f.Time = slices.Clone(timeFields)
		for i := range f.Time {
			f.Time[i].Value = jsonText(cur[f.Time[i].Name])
		}
	case "regex":
		f.TargetClaim, _ = cur["targetClaim"].(string)
		f.Pattern, _ = cur["pattern"].(string)
		f.ContextAttrs, _ = cur["targetContextAttributes"].(bool)
	}
	if f.Type == "aggregate" || f.Permission {
		chosen := jsonStrings(cur["policies"])
		var ps []policyRow
		if err := q.get(q.authzAPI(x, "/policy?permission=false"), &ps); err != nil {
			return err
		}
		f.Policies = nil
		for _, p := range ps {
			if p.ID != f.ID {
				f.Policies = append(f.Policies, option{Value: p.ID, Label: p.Name, Selected: slices.Contains(chosen, p.ID)})
			}
		}
	}
	if f.Permission {
		chosen := jsonStrings(cur["resources"])
		var rs []authzResource
		if err := q.get(q.authzAPI(x, "/resource?deep=false"), &rs); err != nil {
			return err
		}
		f.Resources = nil
		for _, r := range rs {
			f.Resources = append(f.Resources, option{Value: r.ID, Label: firstOf(r.DisplayName, r.Name), Selected: slices.Contains(chosen, r.ID)})
		}
		f.ResourceType, _ = cur["resourceType"].(string)
		f.ByType = f.ResourceType != ""
	}
	if f.Type == "scope" {
		chosen := jsonStrings(cur["scopes"])
		var ss []authzScope
		if err := q.get(q.authzAPI(x, "/scope"), &ss); err != nil {
			return err
		}
		f.Scopes = nil
		for _, s := range ss {
			f.Scopes = append(f.Scopes, option{Value: s.ID, Label: firstOf(s.DisplayName, s.Name), Selected: slices.Contains(chosen, s.ID)})
		}
	}
	return nil
}

// jsonText is a JSON string or number as text.
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

type roleChoice struct{ ID, Label string }

// allRoles lists the realm's roles and every client's roles, realm roles
// first, client roles labelled "client role".
func (q *rq) allRoles() ([]roleChoice, error) {
	var realmRoles []rep.Role
	if err := q.get(q.adminPath("/roles"), &realmRoles); err != nil {
		return nil, err
	}
	slices.SortFunc(realmRoles, func(a, b rep.Role) int { return strings.Compare(a.Name, b.Name) })
	out := make([]roleChoice, 0, len(realmRoles))
	for _, r := range realmRoles {
		out = append(out, roleChoice{ID: r.ID, Label: r.Name})
	}
	var cs []rep.Client
	if err := q.get(q.adminPath("/clients"), &cs); err != nil {
		return nil, err
	}
	slices.SortFunc(cs, func(a, b rep.Client) int { return strings.Compare(a.ClientID, b.ClientID) })
	for _, c := range cs {
		var rs []rep.Role
		if err := q.get(q.adminPath("/clients/"+seg(c.ID)+"/roles"), &rs); err != nil {
			return nil, err
		}
		slices.SortFunc(rs, func(a, b rep.Role) int { return strings.Compare(a.Name, b.Name) })
		for _, r := range rs {
			out = append(out, roleChoice{ID: r.ID, Label: c.ClientID + " " + r.Name})
		}
	}
	return out, nil
}

// readPolicyForm reads the form back as the typed representation to send.
func (q *rq) readPolicyForm(f *policyForm) (map[string]any, error) {
	body := map[string]any{"name": q.form("name"), "description": q.form("description"), "type": f.Type}
	if f.Permission || f.Type == "aggregate" {
		strategy := q.form("decisionStrategy")
		if !validOption(decisionStrategies, strategy) {
			return body, &fieldError{"decisionStrategy", "Choose a decision strategy."}
		}
		body["decisionStrategy"] = strategy
		body["policies"] = nonNil(q.r.PostForm["policies"])
	}
	if f.Permission {
		body["logic"] = "POSITIVE"
	} else {
		logic := q.form("logic")
		if !validOption(logics, logic) {
			return body, &fieldError{"logic", "Choose a logic."}
		}
		body["logic"] = logic
	}
	switch f.Type {
	case "role", "client-scope":
		field := map[string]string{"role": "roles", "client-scope": "clientScopes"}[f.Type]
		refs := []any{}
		for _, id := range q.r.PostForm["use"] {
			refs = append(refs, map[string]any{"id": id, "required": slices.Contains(q.r.PostForm["required"], id)})
		}
		body[field] = refs
		if f.Type == "role" {
			body["fetchRoles"] = q.checked("fetchRoles")
		}
	case "user":
		ids := []string{}
		for _, name := range lines(q.r.PostForm.Get("users")) {
			var us []rep.User
			if err := q.get(q.adminPath("/users?exact=true&username="+url.QueryEscape(name)), &us); err != nil {
				return body, err
			}
			if len(us) == 0 {
				return body, &fieldError{"users", "No user named " + name + "."}
			}
			ids = append(ids, us[0].ID)
		}
		body["users"] = ids
	case "group":
		groups := []any{}
		for _, path := range lines(q.r.PostForm.Get("groups")) {
			var g struct {
				ID   string `json:"id"`
				Path string `json:"path"`
			}
			if err := q.get(q.adminPath("/group-by-path/"+groupPathSegments(path)), &g); err != nil {
				var ae *apiError
				if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
					return body, &fieldError{"groups", "No group at " + path + "."}
				}
				return body, err
			}
			groups = append(groups, map[string]any{"id": g.ID, "path": g.Path, "extendChildren": groupExtended(q.r.PostForm, path)})
		}
		body["groups"] = groups
		body["groupsClaim"] = q.form("groupsClaim")
	case "client":
		body["clients"] = nonNil(q.r.PostForm["clients"])
	case "time":
		for _, t := range timeFields {
			if s := q.form(t.Name); s != "" {
				body[t.Name] = s
			}
		}
	case "regex":
		body["targetClaim"], body["pattern"] = q.form("targetClaim"), q.form("pattern")
		body["targetContextAttributes"] = q.checked("targetContextAttributes")
	case "resource":
		if q.checked("applyToResourceType") {
			rt := q.form("resourceType")
			if rt == "" {
				return body, &fieldError{"resourceType", "Enter the resource type."}
			}
			body["resourceType"], body["resources"] = rt, []string{}
		} else {
			body["resources"] = nonNil(q.r.PostForm["resources"])
		}
	case "scope":
		body["resources"] = nonNil(q.r.PostForm["resources"])
		body["scopes"] = nonNil(q.r.PostForm["scopes"])
	}
	return body, nil
}

// groupPathSegments escapes a group path ("/a/b") for .../group-by-path/.
func groupPathSegments(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// nonNil sends an empty list rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// groupExtended reads whether a group policy's group extends to its
// children: each group the form listed has its own switch ("extend", the
// group's path as value, beside a "listed" field naming it); a group added
// in the text box takes the "extendChildren" switch for groups added now.
func groupExtended(form url.Values, path string) bool {
	if slices.Contains(form["listed"], path) {
		return slices.Contains(form["extend"], path)
	}
	return form.Get("extendChildren") == "on"
}
