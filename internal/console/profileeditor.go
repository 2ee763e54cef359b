package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/profile"
)

// The realm's User profile tabs: Attributes, Attributes group and the JSON
// editor. Every form reads the whole profile from the admin API, changes
// one attribute or group, and puts the whole document back, so the API (and
// the profile package behind it) decides what is valid; its refusal is shown
// above the form.

// profileTabs are the User profile page's own tabs.
func (q *rq) profileTabs(current string) []tabLink {
	return tabs(q.realmURL("/realm-settings/user-profile"), current,
		"attributes", "", "Attributes", "groups", "/groups", "Attributes group", "json", "/json", "JSON editor")
}

// profileView starts a page of the User profile tab.
func (q *rq) profileView(tab string) (*view, error) {
	if !q.perms.can("view-realm") && !q.perms.can("view-users") {
		return nil, errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Realm settings", "realm-settings", "user-profile")
	v.Tabs = q.realmTabs("user-profile")
	return v, nil
}

// loadProfile reads the realm's user profile through the admin API.
func (q *rq) loadProfile() (profile.Config, json.RawMessage, error) {
	var raw json.RawMessage
	if err := q.get(q.adminPath("/users/profile"), &raw); err != nil {
		return profile.Config{}, nil, err
	}
	var cfg profile.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return profile.Config{}, nil, err
	}
	return cfg, raw, nil
}

// saveProfile puts the whole document back.
func (q *rq) saveProfile(cfg profile.Config) error {
	_, err := q.api(http.MethodPut, q.adminPath("/users/profile"), cfg, nil)
	return err
}

type profileAttrRow struct {
	Name, DisplayName, Group string
	Required, Multivalued    bool
}

type profileGroupRow struct {
	Name, DisplayHeader, DisplayDescription string
}

type userProfileData struct {
	Tab        string
	SubTabs    []tabLink
	JSON       string
	Attributes []profileAttrRow
	Groups     []profileGroupRow
	Editable   bool
	Action     string
	// Edit is the address of the attribute or group form.
	Edit string
}

// realmUserProfile is the Attributes tab: the profile's attributes, each
// with its form, and delete. A posted "profile" is the JSON editor's
// document, as the tab took it before it had sub-tabs.
func (h *Handler) realmUserProfile(q *rq) error {
	if q.post() && q.r.PostForm.Has("profile") {
		return h.userProfileJSON(q)
	}
	return h.profileList(q, "attributes")
}

// userProfileGroups is the Attributes group tab.
func (h *Handler) userProfileGroups(q *rq) error { return h.profileList(q, "groups") }

// profileList shows the attributes or the groups, and deletes one.
func (h *Handler) profileList(q *rq, tab string) error {
	v, err := q.profileView(tab)
	if err != nil {
		return err
	}
	base := q.realmURL("/realm-settings/user-profile")
	d := &userProfileData{Tab: tab, SubTabs: q.profileTabs(tab), Editable: q.perms.can("manage-realm"), Action: base}
	d.Edit = base + "/attribute"
	if tab == "groups" {
		d.Action, d.Edit = base+"/groups", base+"/group"
	}
	v.Data = d
	cfg, _, err := q.loadProfile()
	if err != nil {
		return err
	}
	status := http.StatusOK
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		name := q.form("name")
		next := cfg
		if tab == "groups" {
			next.Groups = slices.DeleteFunc(slices.Clone(cfg.Groups), func(g profile.Group) bool { return g.Name == name })
		} else {
			next.Attributes = slices.DeleteFunc(slices.Clone(cfg.Attributes), func(a profile.Attribute) bool { return a.Name == name })
		}
		err := q.saveProfile(next)
		if err == nil {
			return q.redirect(d.Action, "deleted")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	for _, a := range cfg.Attributes {
		d.Attributes = append(d.Attributes, profileAttrRow{Name: a.Name, DisplayName: a.DisplayName, Group: a.Group,
			Required: a.Required != nil, Multivalued: a.Multivalued})
	}
	for _, g := range cfg.Groups {
		d.Groups = append(d.Groups, profileGroupRow{Name: g.Name, DisplayHeader: g.DisplayHeader, DisplayDescription: g.DisplayDescription})
	}
	return q.render(status, "realm-user-profile.html", v)
}

// userProfileJSON is the JSON editor: the whole profile as the API has it.
func (h *Handler) userProfileJSON(q *rq) error {
	v, err := q.profileView("json")
	if err != nil {
		return err
	}
	action := q.realmURL("/realm-settings/user-profile/json")
	d := &userProfileData{Tab: "json", SubTabs: q.profileTabs("json"), Editable: q.perms.can("manage-realm"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		d.JSON = q.r.PostForm.Get("profile")
		err := q.apiRaw(http.MethodPut, q.adminPath("/users/profile"), "application/json", []byte(d.JSON))
		if err == nil {
			return q.redirect(action, "saved")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
		return q.render(status, "realm-user-profile.html", v)
	}
	_, raw, err := q.loadProfile()
	if err != nil {
		return err
	}
	d.JSON = prettyJSON(string(raw))
	return q.render(status, "realm-user-profile.html", v)
}

// validatorRow is one validator of the attribute form, its configuration
// as key=value lines.
type validatorRow struct {
	Index        int
	Name, Config string
}

// attrForm is an attribute of the profile as its form shows it.
type attrForm struct {
	New                                      bool
	Name, DisplayName                        string
	Groups                                   []option
	Multivalued, Required                    bool
	RequiredFor, RequiredWhen                []option
	RequiredScopes                           string
	ViewAdmin, ViewUser, EditAdmin, EditUser bool
	Validators                               []validatorRow
	ValidatorTypes                           []option
	NewValidatorConfig                       string
	Annotations                              string
	Editable                                 bool
	Action                                   string
}

var (
	requiredFor  = []option{{Value: "both", Label: "Both users and admins"}, {Value: "user", Label: "Only users"}, {Value: "admin", Label: "Only admins"}}
	requiredWhen = []option{{Value: "always", Label: "Always"}, {Value: "scopes", Label: "Scopes are requested"}}
)

func (f *attrForm) fill(cfg profile.Config, a profile.Attribute, newValidator string) {
	f.Name, f.DisplayName, f.Multivalued = a.Name, a.DisplayName, a.Multivalued
	f.Groups = []option{{Value: "", Label: "None", Selected: a.Group == ""}}
	for _, g := range cfg.Groups {
		f.Groups = append(f.Groups, option{Value: g.Name, Label: g.Name, Selected: g.Name == a.Group})
	}
	who, when := "both", "always"
	if r := a.Required; r != nil {
		f.Required = true
		if len(r.Roles) == 1 {
			who = r.Roles[0]
		}
		if len(r.Scopes) > 0 {
			when, f.RequiredScopes = "scopes", strings.Join(r.Scopes, " ")
		}
	}
	f.RequiredFor, f.RequiredWhen = selectOptions(requiredFor, who), selectOptions(requiredWhen, when)
	if p := a.Permissions; p != nil {
		f.ViewAdmin, f.ViewUser = slices.Contains(p.View, profile.RoleAdmin), slices.Contains(p.View, profile.RoleUser)
		f.EditAdmin, f.EditUser = slices.Contains(p.Edit, profile.RoleAdmin), slices.Contains(p.Edit, profile.RoleUser)
	}
	names := make([]string, 0, len(a.Validations))
	for n := range a.Validations {
		names = append(names, n)
	}
	slices.Sort(names)
	f.Validators = nil
	for i, n := range names {
		f.Validators = append(f.Validators, validatorRow{Index: i, Name: n, Config: keyValues(a.Validations[n])})
	}
	f.ValidatorTypes = []option{{Value: "", Label: "None", Selected: newValidator == ""}}
	for _, n := range profile.Validators {
		f.ValidatorTypes = append(f.ValidatorTypes, option{Value: n, Label: n, Selected: n == newValidator})
	}
	f.Annotations = keyValues(a.Annotations)
}

// keyValues writes a configuration as key=value lines; values that are not
// strings as JSON.
func keyValues(m map[string]any) string {
	var out []string
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		out = append(out, k+"="+s)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// readKeyValues reads key=value lines; a value written as a JSON list or
// object is that list or object.
func readKeyValues(field, s string) (map[string]any, error) {
	out := map[string]any{}
	for _, l := range lines(s) {
		k, v, ok := strings.Cut(l, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, &fieldError{field, "Write each setting as key=value."}
		}
		v = strings.TrimSpace(v)
		var x any = v
		if strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{") {
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				return nil, &fieldError{field, "The value of " + k + " is not valid JSON."}
			}
		}
		out[k] = x
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// readAttrForm changes a (the attribute as stored, or a new one) by the
// posted form, keeping what the form does not show (its selector).
func (q *rq) readAttrForm(f *attrForm, a profile.Attribute) (profile.Attribute, error) {
	if f.New {
		a.Name = q.form("name")
	}
	a.DisplayName, a.Multivalued, a.Group = q.form("displayName"), q.checked("multivalued"), q.form("group")
	a.Required = nil
	if q.checked("required") {
		r := &profile.Required{}
		switch q.form("requiredFor") {
		case "user", "admin":
			r.Roles = []string{q.form("requiredFor")}
		default:
			r.Roles = []string{profile.RoleAdmin, profile.RoleUser}
		}
		if q.form("requiredWhen") == "scopes" {
			r.Scopes = strings.Fields(q.form("requiredScopes"))
		}
		a.Required = r
	}
	p := &profile.Permissions{View: []string{}, Edit: []string{}}
	for _, x := range []struct {
		field, role string
		list        *[]string
	}{{"viewAdmin", profile.RoleAdmin, &p.View}, {"viewUser", profile.RoleUser, &p.View},
		{"editAdmin", profile.RoleAdmin, &p.Edit}, {"editUser", profile.RoleUser, &p.Edit}} {
		if q.checked(x.field) {
			*x.list = append(*x.list, x.role)
		}
	}
	a.Permissions = p
	a.Validations = map[string]map[string]any{}
	for i := 0; q.r.PostForm.Has(validatorField(i, "name")); i++ {
		if q.checked(validatorField(i, "remove")) {
			continue
		}
		cfg, err := readKeyValues("validators", q.r.PostForm.Get(validatorField(i, "config")))
		if err != nil {
			return a, err
		}
		if cfg == nil {
			cfg = map[string]any{}
		}
		a.Validations[q.form(validatorField(i, "name"))] = cfg
	}
	if n := q.form("newValidator"); n != "" {
		cfg, err := readKeyValues("newValidatorConfig", q.r.PostForm.Get("newValidatorConfig"))
		if err != nil {
			return a, err
		}
		if cfg == nil {
			cfg = map[string]any{}
		}
		a.Validations[n] = cfg
	}
	if len(a.Validations) == 0 {
		a.Validations = nil
	}
	ann, err := readKeyValues("annotations", q.r.PostForm.Get("annotations"))
	if err != nil {
		return a, err
	}
	a.Annotations = ann
	if a.Name == "" {
		return a, &fieldError{"name", "Enter a name."}
	}
	return a, nil
}

func validatorField(i int, part string) string {
	return "validator." + strconv.Itoa(i) + "." + part
}

// profileEntry finds the attribute or group the page's ?name= names in
// list and puts it in *x: its index, or -1 for a new one (no name), and the
// form's action. It heads the page with the name, or with heading.
func profileEntry[T any](q *rq, v *view, list []T, x *T, nameOf func(T) string, action, heading string) (int, string, error) {
	name := q.r.URL.Query().Get("name")
	if name == "" {
		v.Heading = heading
		return -1, action, nil
	}
	i := slices.IndexFunc(list, func(e T) bool { return nameOf(e) == name })
	if i < 0 {
		return -1, "", errPage(http.StatusNotFound, "The user profile has no such entry.")
	}
	*x, v.Heading = list[i], name
	return i, action + "?name=" + url.QueryEscape(name), nil
}

// putEntry is list with x added (i < 0) or in place of entry i.
func putEntry[T any](list []T, i int, x T) []T {
	if i < 0 {
		return append(slices.Clone(list), x)
	}
	list = slices.Clone(list)
	list[i] = x
	return list
}

// userProfileAttribute is the form of one attribute (?name=), or of a new
// one (no name).
func (h *Handler) userProfileAttribute(q *rq) error {
	v, err := q.profileView("attributes")
	if err != nil {
		return err
	}
	base := q.realmURL("/realm-settings/user-profile")
	v.Back = &link{"User profile", base}
	cfg, _, err := q.loadProfile()
	if err != nil {
		return err
	}
	a := profile.Attribute{Permissions: &profile.Permissions{View: []string{profile.RoleAdmin, profile.RoleUser}, Edit: []string{profile.RoleAdmin}}}
	i, action, err := profileEntry(q, v, cfg.Attributes, &a, func(a profile.Attribute) string { return a.Name }, base+"/attribute", "Create attribute")
	if err != nil {
		return err
	}
	f := &attrForm{New: i < 0, Editable: q.perms.can("manage-realm"), Action: action}
	v.Data = f
	f.fill(cfg, a, "")
	if !q.post() {
		return q.render(http.StatusOK, "user-profile-attribute.html", v)
	}
	next, err := q.readAttrForm(f, a)
	if err == nil {
		cfg.Attributes = putEntry(cfg.Attributes, i, next)
		if err = q.saveProfile(cfg); err == nil {
			return q.redirect(base, map[bool]string{true: "created", false: "saved"}[f.New])
		}
	}
	// Shown again as posted.
	f.fill(cfg, next, q.form("newValidator"))
	f.Name = next.Name
	f.NewValidatorConfig = q.r.PostForm.Get("newValidatorConfig")
	f.Annotations = q.r.PostForm.Get("annotations")
	return q.refused(v, "user-profile-attribute.html", err)
}

// groupForm is an attribute group as its form shows it.
type groupForm struct {
	New                                                  bool
	Name, DisplayHeader, DisplayDescription, Annotations string
	Editable                                             bool
	Action                                               string
}

// userProfileGroup is the form of one attribute group (?name=), or of a new
// one.
func (h *Handler) userProfileGroup(q *rq) error {
	v, err := q.profileView("groups")
	if err != nil {
		return err
	}
	base := q.realmURL("/realm-settings/user-profile")
	v.Back = &link{"Attributes group", base + "/groups"}
	cfg, _, err := q.loadProfile()
	if err != nil {
		return err
	}
	var g profile.Group
	i, action, err := profileEntry(q, v, cfg.Groups, &g, func(g profile.Group) string { return g.Name }, base+"/group", "Create attributes group")
	if err != nil {
		return err
	}
	f := &groupForm{New: i < 0, Editable: q.perms.can("manage-realm"), Action: action}
	v.Data = f
	f.Name, f.DisplayHeader, f.DisplayDescription, f.Annotations = g.Name, g.DisplayHeader, g.DisplayDescription, keyValues(g.Annotations)
	if !q.post() {
		return q.render(http.StatusOK, "user-profile-group.html", v)
	}
	if f.New {
		g.Name = q.form("name")
	}
	g.DisplayHeader, g.DisplayDescription = q.form("displayHeader"), q.form("displayDescription")
	f.Name, f.DisplayHeader, f.DisplayDescription, f.Annotations = g.Name, g.DisplayHeader, g.DisplayDescription, q.r.PostForm.Get("annotations")
	g.Annotations, err = readKeyValues("annotations", f.Annotations)
	if err == nil && g.Name == "" {
		err = &fieldError{"name", "Enter a name."}
	}
	if err == nil {
		cfg.Groups = putEntry(cfg.Groups, i, g)
		if err = q.saveProfile(cfg); err == nil {
			return q.redirect(base+"/groups", map[bool]string{true: "created", false: "saved"}[f.New])
		}
	}
	return q.refused(v, "user-profile-group.html", err)
}
