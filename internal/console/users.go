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

// Users: search, creation, and a user's tabs (details, credentials, role
// mapping, groups, sessions, consents).

type userRow struct {
	ID, Username, Email, FirstName, LastName string
	Enabled, EmailVerified                   bool
	Created                                  int64
	ServiceAccount                           string
}

func userRowOf(u rep.User) userRow {
	return userRow{ID: u.ID, Username: u.Username, Email: str(u.Email), FirstName: str(u.FirstName), LastName: str(u.LastName),
		Enabled: boolean(u.Enabled), EmailVerified: boolean(u.EmailVerified), Created: u.CreatedTimestamp,
		ServiceAccount: u.ServiceAccountClientID}
}

type userListData struct {
	paging
	Rows     []userRow
	Editable bool
}

func (h *Handler) userList(q *rq) error {
	v := q.view("Users", "users", "list")
	v.Tabs = q.usersTabs("list")
	d := &userListData{paging: newPaging(q), Editable: q.perms.can("manage-users")}
	v.Data = d
	qs := url.Values{"first": {strconv.Itoa(d.First)}, "max": {strconv.Itoa(pageSize + 1)}, "briefRepresentation": {"true"}}
	if d.Search != "" {
		qs.Set("search", d.Search)
	}
	var us []rep.User
	if err := q.get(q.adminPath("/users?"+qs.Encode()), &us); err != nil {
		return err
	}
	for _, u := range us[:d.window(len(us))] {
		d.Rows = append(d.Rows, userRowOf(u))
	}
	return q.render(http.StatusOK, "users.html", v)
}

// requiredActions are the actions the details form offers, in Keycloak's
// words.
var requiredActions = []option{
	{Value: "CONFIGURE_TOTP", Label: "Configure OTP"},
	{Value: "TERMS_AND_CONDITIONS", Label: "Terms and Conditions"},
	{Value: "UPDATE_PASSWORD", Label: "Update Password"},
	{Value: "UPDATE_PROFILE", Label: "Update Profile"},
	{Value: "VERIFY_EMAIL", Label: "Verify Email"},
}

// userForm is a user's details as the forms show them.
type userForm struct {
	userRow
	Actions  []option
	Editable bool
	// Fields are the user profile's attributes beyond the root ones, shown
	// on the create form; Required marks the root ones it requires.
	Fields   []attrField
	Required map[string]bool
	// Impersonate: the administrator holds the impersonation role.
	Impersonate bool
	// Federation is the user storage provider the user was imported from.
	Federation *federationLink
}

// federationLink is a federated user's provider: its id, and its name and
// page when the administrator may view the realm's providers.
type federationLink struct{ ID, Name, URL string }

// federationOf is the provider user u is linked to, or nil.
func (q *rq) federationOf(u rep.User) *federationLink {
	if u.FederationLink == "" {
		return nil
	}
	l := &federationLink{ID: u.FederationLink, Name: u.FederationLink}
	var named struct{ Name string }
	if q.get(q.adminPath("/user-storage/"+seg(u.FederationLink)+"/name"), &named) == nil && named.Name != "" {
		l.Name = named.Name
	}
	if q.perms.can("view-realm") {
		l.URL = q.fedURL("/ldap/" + seg(u.FederationLink))
	}
	return l
}

func (q *rq) readUserForm(f *userForm) (rep.User, error) {
	f.Username, f.Email, f.FirstName, f.LastName = q.form("username"), q.form("email"), q.form("firstName"), q.form("lastName")
	f.Enabled, f.EmailVerified = q.checked("enabled"), q.checked("emailVerified")
	chosen := q.r.PostForm["requiredActions"]
	actions := []string{}
	f.Actions = slices.Clone(requiredActions)
	for i := range f.Actions {
		f.Actions[i].Selected = slices.Contains(chosen, f.Actions[i].Value)
		if f.Actions[i].Selected {
			actions = append(actions, f.Actions[i].Value)
		}
	}
	x := rep.User{Username: f.Username, Email: &f.Email, FirstName: &f.FirstName, LastName: &f.LastName,
		Enabled: &f.Enabled, EmailVerified: &f.EmailVerified, RequiredActions: actions}
	if f.Username == "" {
		return x, &fieldError{"username", "Enter a username."}
	}
	return x, nil
}

// userError puts the API's user errors next to their fields.
func userError(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		switch {
		case strings.Contains(ae.Message, "same username"), strings.HasPrefix(ae.Message, "User name"):
			ae.Field = "username"
		case strings.Contains(ae.Message, "same email"):
			ae.Field = "email"
		}
	}
	return err
}

func (h *Handler) userCreate(q *rq) error {
	v := q.view("Create user", "users", "")
	v.Back = &link{"Users", q.realmURL("/users")}
	f := &userForm{userRow: userRow{Enabled: true}, Actions: requiredActions, Editable: q.perms.can("manage-users")}
	v.Data = f
	// The user profile's attributes, as Keycloak's create form shows them:
	// each with its required mark, and the API's message under it when the
	// profile refuses a value.
	pf, err := q.profileFields(nil)
	if err != nil {
		return err
	}
	f.Fields, f.Required = pf.Fields, pf.RootRequired
	if !q.post() {
		return q.render(http.StatusOK, "user.html", v)
	}
	x, err := q.readUserForm(f)
	if attrs := q.readProfileFields(f.Fields); len(attrs) > 0 {
		x.Attributes = attrs
	}
	if err == nil {
		var loc string
		if loc, err = q.api(http.MethodPost, q.adminPath("/users"), x, nil); err == nil {
			return q.redirect(q.realmURL("/users/"+seg(lastSegment(loc))), "created")
		}
	}
	status, err := failed(v, userError(err))
	if err != nil {
		return err
	}
	markFields(v, f.Fields)
	return q.render(status, "user.html", v)
}

func (q *rq) loadUser() (rep.User, error) {
	var u rep.User
	err := q.get(q.adminPath("/users/"+seg(q.r.PathValue("id"))), &u)
	return u, err
}

// userView starts a page of a user's tabs.
func (q *rq) userView(u rep.User, tab string) *view {
	v := q.view("User", "users", tab)
	v.Heading = u.Username
	v.Back = &link{"Users", q.realmURL("/users")}
	v.Tabs = tabs(q.realmURL("/users/"+seg(u.ID)), tab, "details", "", "Details", "attributes", "/attributes", "Attributes",
		"credentials", "/credentials", "Credentials",
		"role-mapping", "/role-mapping", "Role mapping", "groups", "/groups", "Groups", "sessions", "/sessions", "Sessions",
		"consents", "/consents", "Consents", "identity-provider-links", "/identity-provider-links", "Identity provider links")
	return v
}

func (h *Handler) userDetails(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	v := q.userView(u, "details")
	f := &userForm{userRow: userRowOf(u), Editable: q.perms.can("manage-users"), Impersonate: q.perms.can("impersonation"),
		Federation: q.federationOf(u)}
	// The profile's other attributes are edited on the Attributes tab; here
	// only the root fields' required marks.
	pf, err := q.profileFields(u.Attributes)
	if err != nil {
		return err
	}
	f.Required = pf.RootRequired
	f.Actions = slices.Clone(requiredActions)
	for i := range f.Actions {
		f.Actions[i].Selected = slices.Contains(u.RequiredActions, f.Actions[i].Value)
	}
	v.Data = f
	if !q.post() {
		return q.render(http.StatusOK, "user.html", v)
	}
	x, err := q.readUserForm(f)
	f.ID, f.Created = u.ID, u.CreatedTimestamp
	if err == nil {
		if _, err = q.api(http.MethodPut, q.adminPath("/users/"+seg(u.ID)), x, nil); err == nil {
			return q.redirect(q.realmURL("/users/"+seg(u.ID)), "saved")
		}
	}
	return q.refused(v, "user.html", userError(err))
}

func (h *Handler) userDelete(q *rq) error {
	if _, err := q.api(http.MethodDelete, q.adminPath("/users/"+seg(q.r.PathValue("id"))), nil, nil); err != nil {
		return err
	}
	return q.redirect(q.realmURL("/users"), "deleted")
}

type credentialRow struct {
	ID, Type, Label string
	Created         int64
}

type userCredentialsData struct {
	Credentials []credentialRow
	Temporary   bool
	Editable    bool
	Action      string
}

// userCredentials lists a user's credentials, sets a password (temporary or
// not) and deletes credentials.
func (h *Handler) userCredentials(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	base := q.adminPath("/users/" + seg(u.ID))
	action := q.realmURL("/users/" + seg(u.ID) + "/credentials")
	v := q.userView(u, "credentials")
	d := &userCredentialsData{Temporary: true, Editable: q.perms.can("manage-users"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		switch q.form("action") {
		case "password":
			d.Temporary = q.checked("temporary")
			pw, confirm := q.r.PostForm.Get("password"), q.r.PostForm.Get("passwordConfirm")
			switch {
			case pw == "":
				err = &fieldError{"password", "Enter a password."}
			case pw != confirm:
				err = &fieldError{"passwordConfirm", "The passwords do not match."}
			default:
				body := map[string]any{"type": "password", "value": pw, "temporary": d.Temporary}
				if _, err = q.api(http.MethodPut, base+"/reset-password", body, nil); err == nil {
					return q.redirect(action, "password")
				}
				var ae *apiError
				if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
					ae.Field = "password"
				}
			}
		case "delete":
			if _, err = q.api(http.MethodDelete, base+"/credentials/"+seg(q.form("credential")), nil, nil); err == nil {
				return q.redirect(action, "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var cs []rep.Credential
	if err := q.get(base+"/credentials", &cs); err != nil {
		return err
	}
	for _, c := range cs {
		d.Credentials = append(d.Credentials, credentialRow{ID: c.ID, Type: c.Type, Label: c.UserLabel, Created: c.CreatedDate})
	}
	return q.render(status, "user-credentials.html", v)
}

func (h *Handler) userRoleMapping(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	return h.roleMapping(q, q.userView(u, "role-mapping"), "/users/"+seg(u.ID), q.realmURL("/users/"+seg(u.ID)+"/role-mapping"))
}

type userGroupsData struct {
	Groups    []groupRow
	Available []groupRow
	Editable  bool
	Action    string
}

// maxGroupsListed bounds the groups offered to join, which are gathered
// level by level.
const maxGroupsListed = 500

// allGroups lists the realm's groups with their paths, top level first.
func (q *rq) allGroups() ([]groupRow, error) {
	var top []rep.Group
	if err := q.get(q.adminPath("/groups?briefRepresentation=true"), &top); err != nil {
		return nil, err
	}
	out := groupRows(top)
	for i := 0; i < len(out) && len(out) < maxGroupsListed; i++ {
		if out[i].SubGroups == 0 {
			continue
		}
		var kids []rep.Group
		if err := q.get(q.adminPath("/groups/"+seg(out[i].ID)+"/children?briefRepresentation=true"), &kids); err != nil {
			return nil, err
		}
		out = append(out, groupRows(kids)...)
	}
	slices.SortFunc(out, func(a, b groupRow) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// userGroups lists a user's groups, joins and leaves them.
func (h *Handler) userGroups(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	base := q.adminPath("/users/" + seg(u.ID) + "/groups")
	action := q.realmURL("/users/" + seg(u.ID) + "/groups")
	v := q.userView(u, "groups")
	d := &userGroupsData{Editable: q.perms.can("manage-users"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		g := q.form("group")
		switch q.form("action") {
		case "join":
			if _, err = q.api(http.MethodPut, base+"/"+seg(g), nil, nil); err == nil {
				return q.redirect(action, "joined")
			}
		case "leave":
			if _, err = q.api(http.MethodDelete, base+"/"+seg(g), nil, nil); err == nil {
				return q.redirect(action, "left")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var gs []rep.Group
	if err := q.get(base, &gs); err != nil {
		return err
	}
	d.Groups = groupRows(gs)
	slices.SortFunc(d.Groups, func(a, b groupRow) int { return strings.Compare(a.Path, b.Path) })
	if d.Editable && q.perms.can("query-groups") {
		all, err := q.allGroups()
		if err != nil {
			return err
		}
		member := map[string]bool{}
		for _, g := range d.Groups {
			member[g.ID] = true
		}
		for _, g := range all {
			if !member[g.ID] {
				d.Available = append(d.Available, g)
			}
		}
	}
	return q.render(status, "user-groups.html", v)
}

// consent is the admin API's UserConsentRepresentation.
type consent struct {
	ClientID            string              `json:"clientId"`
	GrantedClientScopes []string            `json:"grantedClientScopes"`
	CreatedDate         *int64              `json:"createdDate"`
	LastUpdatedDate     *int64              `json:"lastUpdatedDate"`
	AdditionalGrants    []map[string]string `json:"additionalGrants"`
}

type consentRow struct {
	Client           string
	Scopes           []string
	Offline          bool
	Created, Updated int64
}

type userSessionsData struct {
	sessionsData
	UserID string
}

// offlineClients are the clients (internal ids) the user holds offline
// tokens of, from the consents listing, which names them as "Offline Token"
// grants.
func offlineClients(cs []consent) []string {
	var out []string
	for _, c := range cs {
		for _, g := range c.AdditionalGrants {
			if g["key"] == "Offline Token" && g["client"] != "" {
				out = append(out, g["client"])
			}
		}
	}
	return out
}

// userSessions lists the user's online and offline sessions, and signs
// them out one by one or all at once.
func (h *Handler) userSessions(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	base := q.adminPath("/users/" + seg(u.ID))
	action := q.realmURL("/users/" + seg(u.ID) + "/sessions")
	v := q.userView(u, "sessions")
	d := &userSessionsData{sessionsData: sessionsData{CanEnd: q.perms.can("manage-users"), Action: action, All: true}, UserID: u.ID}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		if status, err = q.sessionAction(v, action, base+"/logout"); status == 0 || err != nil {
			return err
		}
	}
	var ss []sessionListing
	if err := q.get(base+"/sessions", &ss); err != nil {
		return err
	}
	for _, s := range ss {
		d.Sessions = append(d.Sessions, s.row(false))
	}
	var cs []consent
	if err := q.get(base+"/consents", &cs); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, client := range offlineClients(cs) {
		var off []sessionListing
		if err := q.get(base+"/offline-sessions/"+seg(client), &off); err != nil {
			return err
		}
		for _, s := range off {
			if !seen[s.ID] {
				seen[s.ID] = true
				d.Sessions = append(d.Sessions, s.row(true))
			}
		}
	}
	return q.render(status, "sessions.html", v)
}

// sessionAction ends one session (action "end", with the session's id and
// whether it is offline) or, with action "all", every session at allPath
// (a user's logout, or the realm's logout-all). It redirects to back on
// success (status 0) or records the refusal on v.
func (q *rq) sessionAction(v *view, back, allPath string) (int, error) {
	var err error
	switch q.form("action") {
	case "end":
		p := q.adminPath("/sessions/" + seg(q.form("session")))
		if q.form("offline") == "true" {
			p += "?isOffline=true"
		}
		if _, err = q.api(http.MethodDelete, p, nil, nil); err == nil {
			return 0, q.redirect(back, "signed-out")
		}
	case "all":
		if _, err = q.api(http.MethodPost, allPath, nil, nil); err == nil {
			return 0, q.redirect(back, "signed-out")
		}
	default:
		return 0, errPage(http.StatusBadRequest, "Unknown action.")
	}
	return failed(v, err)
}

type consentsData struct {
	Consents []consentRow
	Editable bool
	Action   string
}

// userConsents lists the applications the user consented to or holds
// offline tokens of, and revokes them: consent and offline tokens go
// together, as in Keycloak.
func (h *Handler) userConsents(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	base := q.adminPath("/users/" + seg(u.ID) + "/consents")
	action := q.realmURL("/users/" + seg(u.ID) + "/consents")
	v := q.userView(u, "consents")
	d := &consentsData{Editable: q.perms.can("manage-users"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		if q.form("action") != "revoke" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if _, err = q.api(http.MethodDelete, base+"/"+seg(q.form("client")), nil, nil); err == nil {
			return q.redirect(action, "revoked")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var cs []consent
	if err := q.get(base, &cs); err != nil {
		return err
	}
	for _, c := range cs {
		row := consentRow{Client: c.ClientID, Scopes: c.GrantedClientScopes}
		if c.CreatedDate != nil {
			row.Created = *c.CreatedDate
		}
		if c.LastUpdatedDate != nil {
			row.Updated = *c.LastUpdatedDate
		}
		row.Offline = len(offlineClients([]consent{c})) > 0
		d.Consents = append(d.Consents, row)
	}
	slices.SortFunc(d.Consents, func(a, b consentRow) int { return strings.Compare(a.Client, b.Client) })
	return q.render(status, "user-consents.html", v)
}
