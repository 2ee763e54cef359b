package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/device"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// Clients: the list, creation, and a client's tabs (settings, credentials,
// client scopes, roles, sessions, service account roles).

// pageSize is how many rows a list shows at a time.
const pageSize = 20

// paging is the position of a list page.
type paging struct {
	Search      string
	First       int
	Prev, Next  int
	HasPrev     bool
	HasNext     bool
	SearchParam string // the query parameter that holds Search
}

// newPaging reads first and search from the query.
func newPaging(q *rq) paging {
	p := paging{Search: strings.TrimSpace(q.r.URL.Query().Get("search"))}
	if n, err := strconv.Atoi(q.r.URL.Query().Get("first")); err == nil && n > 0 {
		p.First = n
	}
	return p
}

// window fetches one row more than it shows to learn whether there is a
// next page; it trims rows to the page.
func (p *paging) window(n int) int {
	p.HasPrev = p.First > 0
	p.Prev = max(p.First-pageSize, 0)
	p.HasNext = n > pageSize
	p.Next = p.First + pageSize
	return min(n, pageSize)
}

// accessType is Keycloak's access type of a client, from its two flags.
func accessType(x rep.Client) string {
	switch {
	case boolean(x.BearerOnly):
		return "bearer-only"
	case boolean(x.PublicClient):
		return "public"
	}
	return "confidential"
}

var accessTypes = []option{
	{Value: "confidential", Label: "Confidential (client authentication with a secret)"},
	{Value: "public", Label: "Public (no client authentication: browser and native apps)"},
	{Value: "bearer-only", Label: "Bearer-only (only accepts tokens; never logs users in)"},
}

type clientRow struct {
	ID, ClientID, Name, Description, Access string
	Type                                    string // OpenID Connect or SAML
	Enabled                                 bool
}

type clientListData struct {
	paging
	Rows []clientRow
}

func (h *Handler) clientList(q *rq) error {
	v := q.view("Clients", "clients", "")
	d := &clientListData{paging: newPaging(q)}
	v.Data = d
	v.Tabs = q.clientsTabs("list")
	qs := url.Values{"first": {strconv.Itoa(d.First)}, "max": {strconv.Itoa(pageSize + 1)}}
	if d.Search != "" {
		qs.Set("clientId", d.Search)
		qs.Set("search", "true")
	}
	var xs []rep.Client
	if err := q.get(q.adminPath("/clients?"+qs.Encode()), &xs); err != nil {
		return err
	}
	for _, x := range xs[:d.window(len(xs))] {
		row := clientRow{ID: x.ID, ClientID: x.ClientID, Name: str(x.Name), Description: str(x.Description), Enabled: boolean(x.Enabled),
			Type: "OpenID Connect"}
		if x.Enabled != nil {
			row.Access = accessType(x)
		}
		if isSAML(x) {
			// Access types are OpenID Connect's.
			row.Type, row.Access = "SAML", ""
		}
		d.Rows = append(d.Rows, row)
	}
	return q.render(http.StatusOK, "clients.html", v)
}

// clientForm is a client's settings as the forms show them.
type clientForm struct {
	ID, ClientID, Name, Description string
	AccessTypes                     []option
	Enabled, ConsentRequired        bool
	Standard, Implicit, Direct      bool
	// TokenExchange is the standard.token.exchange.enabled attribute,
	// shown on an existing client's settings.
	TokenExchange bool
	// Authorization is the client's authorization services switch, shown
	// on an existing confidential client's settings.
	Authorization, Confidential   bool
	Device                        bool
	ServiceAccounts, FrontChannel bool
	DPoP                          bool // require DPoP-bound tokens
	RootURL, BaseURL, AdminURL    string
	RedirectURIs, WebOrigins      []string
	PostLogoutURIs                []string
	// Logout settings (client attributes).
	FrontChannelURL, BackChannelURL         string
	FrontChannelSession, BackChannelSession bool
	BackChannelRevokeOffline                bool
	Editable                                bool
	Builtin                                 bool
	// Protocols is the creation form's client type choice.
	Protocols []option
}

// attrStandardTokenExchange is the client's "Standard Token Exchange" switch.
const attrStandardTokenExchange = "standard.token.exchange.enabled"

func clientFormOf(x rep.Client) clientForm {
	f := clientForm{ID: x.ID, ClientID: x.ClientID, Name: str(x.Name), Description: str(x.Description),
		AccessTypes: selectOptions(accessTypes, accessType(x)), Enabled: boolean(x.Enabled), ConsentRequired: boolean(x.ConsentRequired),
		Standard: boolean(x.StandardFlowEnabled), Implicit: boolean(x.ImplicitFlowEnabled), Direct: boolean(x.DirectAccessGrantsEnabled),
		ServiceAccounts: boolean(x.ServiceAccountsEnabled), FrontChannel: boolean(x.FrontchannelLogout),
		Device:  x.Attributes[device.AttrEnabled] == "true",
		RootURL: str(x.RootURL), BaseURL: str(x.BaseURL), AdminURL: str(x.AdminURL),
		RedirectURIs: x.RedirectURIs, WebOrigins: x.WebOrigins}
	if p := x.Attributes["post.logout.redirect.uris"]; p != "" {
		f.PostLogoutURIs = strings.Split(p, "##")
	}
	f.DPoP = x.Attributes[token.AttrDPoPBound] == "true"
	f.TokenExchange = x.Attributes[attrStandardTokenExchange] == "true"
	f.Authorization, f.Confidential = boolean(x.AuthorizationServicesEnabled), accessType(x) == "confidential"
	f.FrontChannelURL, f.BackChannelURL = x.Attributes["frontchannel.logout.url"], x.Attributes["backchannel.logout.url"]
	f.FrontChannelSession = x.Attributes["frontchannel.logout.session.required"] == "true"
	f.BackChannelSession = x.Attributes["backchannel.logout.session.required"] == "true"
	f.BackChannelRevokeOffline = x.Attributes["backchannel.logout.revoke.offline.tokens"] == "true"
	return f
}

// readClientForm reads the client form back, and the partial
// representation it stands for.
func (q *rq) readClientForm(f *clientForm) (rep.Client, error) {
	f.ClientID, f.Name, f.Description = q.form("clientId"), q.form("name"), q.form("description")
	access := q.form("accessType")
	f.AccessTypes = selectOptions(accessTypes, access)
	f.Enabled, f.ConsentRequired = q.checked("enabled"), q.checked("consentRequired")
	f.Standard, f.Implicit, f.Direct = q.checked("standardFlowEnabled"), q.checked("implicitFlowEnabled"), q.checked("directAccessGrantsEnabled")
	f.ServiceAccounts, f.FrontChannel = q.checked("serviceAccountsEnabled"), q.checked("frontchannelLogout")
	f.Device = q.checked("oauth2DeviceAuthorizationGrantEnabled")
	f.RootURL, f.BaseURL, f.AdminURL = q.form("rootUrl"), q.form("baseUrl"), q.form("adminUrl")
	f.RedirectURIs, f.WebOrigins = lines(q.r.PostForm.Get("redirectUris")), lines(q.r.PostForm.Get("webOrigins"))
	f.PostLogoutURIs = lines(q.r.PostForm.Get("postLogoutRedirectUris"))
	x := rep.Client{ClientID: f.ClientID, Name: &f.Name, Description: &f.Description,
		Enabled: &f.Enabled, ConsentRequired: &f.ConsentRequired,
		StandardFlowEnabled: &f.Standard, ImplicitFlowEnabled: &f.Implicit, DirectAccessGrantsEnabled: &f.Direct,
		FrontchannelLogout: &f.FrontChannel, RedirectURIs: f.RedirectURIs, WebOrigins: f.WebOrigins}
	// The creation form has fewer fields than the settings: a field it does
	// not show is left out, so the API's creation defaults apply (a root
	// URL seeds the admin URL).
	x.RootURL, x.BaseURL, x.AdminURL = q.present("rootUrl"), q.present("baseUrl"), q.present("adminUrl")
	x.Attributes = map[string]string{device.AttrEnabled: strconv.FormatBool(f.Device)}
	if q.r.PostForm.Has("postLogoutRedirectUris") { // the settings form, not the creation form
		f.DPoP = q.checked("dpopBound")
		x.Attributes["post.logout.redirect.uris"] = strings.Join(f.PostLogoutURIs, "##")
		x.Attributes[token.AttrDPoPBound] = strconv.FormatBool(f.DPoP)
	}
	if f.ID != "" { // the settings form shows the switch; the creation form does not
		f.TokenExchange = q.checked("standardTokenExchange")
		if x.Attributes == nil {
			x.Attributes = map[string]string{}
		}
		x.Attributes[attrStandardTokenExchange] = strconv.FormatBool(f.TokenExchange)
	}
	// The logout settings are on the settings form only: the URL fields
	// tell it was posted (an unchecked box sends nothing).
	if q.r.PostForm.Has("backchannelLogoutUrl") {
		f.FrontChannelURL, f.BackChannelURL = q.form("frontchannelLogoutUrl"), q.form("backchannelLogoutUrl")
		f.FrontChannelSession, f.BackChannelSession = q.checked("frontchannelLogoutSessionRequired"), q.checked("backchannelLogoutSessionRequired")
		f.BackChannelRevokeOffline = q.checked("backchannelLogoutRevokeOfflineTokens")
		if x.Attributes == nil {
			x.Attributes = map[string]string{}
		}
		x.Attributes["frontchannel.logout.url"] = f.FrontChannelURL
		x.Attributes["backchannel.logout.url"] = f.BackChannelURL
		x.Attributes["frontchannel.logout.session.required"] = strconv.FormatBool(f.FrontChannelSession)
		x.Attributes["backchannel.logout.session.required"] = strconv.FormatBool(f.BackChannelSession)
		x.Attributes["backchannel.logout.revoke.offline.tokens"] = strconv.FormatBool(f.BackChannelRevokeOffline)
	}
	switch access {
	case "public":
		x.PublicClient, x.BearerOnly = ptr(true), ptr(false)
		f.ServiceAccounts = false
	case "confidential":
		x.PublicClient, x.BearerOnly = ptr(false), ptr(false)
	case "bearer-only":
		x.PublicClient, x.BearerOnly = ptr(false), ptr(true)
		f.ServiceAccounts = false
	default:
		return x, &fieldError{"accessType", "Choose an access type."}
	}
	// Authorization services need the client's service account (its
	// token is the protection API's PAT), so the switch turns it on, as
	// Keycloak's console does.
	if f.ID != "" && access == "confidential" {
		f.Authorization = q.checked("authorizationServicesEnabled")
		x.AuthorizationServicesEnabled = &f.Authorization
		if f.Authorization {
			f.ServiceAccounts = true
		}
	}
	x.ServiceAccountsEnabled = &f.ServiceAccounts
	if f.ClientID == "" {
		return x, &fieldError{"clientId", "Enter a client ID."}
	}
	return x, nil
}

func (h *Handler) clientCreate(q *rq) error {
	v := q.view("Create client", "clients", "")
	v.Back = &link{"Clients", q.realmURL("/clients")}
	f := &clientForm{AccessTypes: selectOptions(accessTypes, "public"), Enabled: true, Standard: true, Direct: true,
		RedirectURIs: []string{}, WebOrigins: []string{}, Editable: q.perms.can("manage-clients"),
		Protocols: selectOptions(clientProtocols, "openid-connect")}
	v.Data = f
	if !q.post() {
		return q.render(http.StatusOK, "client.html", v)
	}
	if q.form("protocol") == "saml" {
		return h.samlCreate(q, v, f)
	}
	x, err := q.readClientForm(f)
	if err != nil {
		return q.refused(v, "client.html", err)
	}
	x.Protocol = ptr("openid-connect")
	loc, err := q.api(http.MethodPost, q.adminPath("/clients"), x, nil)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			ae.Field = "clientId"
		}
		return q.refused(v, "client.html", err)
	}
	return q.redirect(q.realmURL("/clients/"+seg(lastSegment(loc))), "created")
}

// loadClient reads the client in the path.
func (q *rq) loadClient() (rep.Client, error) {
	var x rep.Client
	err := q.get(q.adminPath("/clients/"+seg(q.r.PathValue("id"))), &x)
	return x, err
}

// clientView starts a page of a client's tabs.
func (q *rq) clientView(x rep.Client, tab string) *view {
	v := q.view("Client", "clients", tab)
	v.Heading = x.ClientID
	v.Back = &link{"Clients", q.realmURL("/clients")}
	base := q.realmURL("/clients/" + seg(x.ID))
	triples := []string{"settings", "", "Settings"}
	if isSAML(x) {
		triples := []string{"settings", "", "Settings", "keys", "/keys", "Keys", "client-scopes", "/client-scopes", "Client scopes",
			"mappers", "/mappers", "Dedicated mappers", "scope", "/scope", "Dedicated scope", "roles", "/roles", "Roles", "sessions", "/sessions", "Sessions"}
		if clientPermissionsShown(q, x) {
			triples = append(triples, "permissions", "/permissions", "Permissions")
		}
		v.Tabs = tabs(base, tab, triples...)
		return v
	}
	if accessType(x) == "confidential" && q.perms.can("manage-clients") {
		triples = append(triples, "credentials", "/credentials", "Credentials")
	}
	triples = append(triples, "client-scopes", "/client-scopes", "Client scopes", "mappers", "/mappers", "Dedicated mappers", "scope", "/scope", "Dedicated scope",
		"evaluate", "/evaluate", "Evaluate", "roles", "/roles", "Roles", "sessions", "/sessions", "Sessions")
	if clientPermissionsShown(q, x) {
		triples = append(triples, "permissions", "/permissions", "Permissions")
	}
	triples = append(triples, "advanced", "/advanced", "Advanced")
	if boolean(x.ServiceAccountsEnabled) {
		triples = append(triples, "service-account", "/service-account", "Service account roles")
	}
	if boolean(x.AuthorizationServicesEnabled) {
		triples = append(triples, "authorization", "/authorization", "Authorization")
	}
	v.Tabs = tabs(base, tab, triples...)
	return v
}

func (h *Handler) clientSettings(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	if isSAML(x) {
		return h.samlClientSettings(q, x)
	}
	v := q.clientView(x, "settings")
	f := clientFormOf(x)
	f.Editable = q.perms.can("manage-clients")
	v.Data = &f
	if !q.post() {
		return q.render(http.StatusOK, "client.html", v)
	}
	body, err := q.readClientForm(&f)
	if err != nil {
		return q.refused(v, "client.html", err)
	}
	if _, err := q.api(http.MethodPut, q.adminPath("/clients/"+seg(x.ID)), body, nil); err != nil {
		return q.refused(v, "client.html", err)
	}
	return q.redirect(q.realmURL("/clients/"+seg(x.ID)), "saved")
}

func (h *Handler) clientDelete(q *rq) error {
	if _, err := q.api(http.MethodDelete, q.adminPath("/clients/"+seg(q.r.PathValue("id"))), nil, nil); err != nil {
		return err
	}
	return q.redirect(q.realmURL("/clients"), "deleted")
}

type credentialsData struct {
	Secret  string
	Created string
}

// clientCredentials shows the secret of a confidential client and
// regenerates it.
func (h *Handler) clientCredentials(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	base := "/clients/" + seg(x.ID)
	if q.post() {
		if _, err := q.api(http.MethodPost, q.adminPath(base+"/client-secret"), nil, nil); err != nil {
			return err
		}
		return q.redirect(q.realmURL(base+"/credentials"), "regenerated")
	}
	v := q.clientView(x, "credentials")
	var secret struct {
		Value string `json:"value"`
	}
	if err := q.get(q.adminPath(base+"/client-secret"), &secret); err != nil {
		return err
	}
	d := &credentialsData{Secret: secret.Value}
	if t, err := strconv.ParseInt(x.Attributes["client.secret.creation.time"], 10, 64); err == nil {
		d.Created = formatDate(t * 1000)
	}
	v.Data = d
	return q.render(http.StatusOK, "client-credentials.html", v)
}

type scopeLink struct{ ID, Name, Kind string }

type clientScopesData struct {
	Linked    []scopeLink
	Available []scopeLink
	Editable  bool
	// Dedicated names the client's own mappers and scope as one more row
	// (<clientId>-dedicated), linked to its Dedicated mappers tab.
	Dedicated, DedicatedURL string
}

// clientScopesTab lists the client's default and optional client scopes,
// links more and removes them.
func (h *Handler) clientScopesTab(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	base := "/clients/" + seg(x.ID)
	if q.post() {
		id := q.form("scope")
		switch q.form("action") {
		case "add":
			kind := "default"
			if q.form("kind") == "optional" {
				kind = "optional"
			}
			_, err = q.api(http.MethodPut, q.adminPath(base+"/"+kind+"-client-scopes/"+seg(id)), nil, nil)
		case "remove":
			_, err = q.api(http.MethodDelete, q.adminPath(base+"/default-client-scopes/"+seg(id)), nil, nil)
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if err != nil {
			return err
		}
		notice := "assigned"
		if q.form("action") == "remove" {
			notice = "removed"
		}
		return q.redirect(q.realmURL(base+"/client-scopes"), notice)
	}
	v := q.clientView(x, "client-scopes")
	d := &clientScopesData{Editable: q.perms.can("manage-clients"), Dedicated: x.ClientID + "-dedicated",
		DedicatedURL: q.realmURL(base + "/mappers")}
	v.Data = d
	linked := map[string]bool{}
	for _, kind := range []string{"default", "optional"} {
		var ls []scopeLink
		if err := q.get(q.adminPath(base+"/"+kind+"-client-scopes"), &ls); err != nil {
			return err
		}
		for _, l := range ls {
			l.Kind = kind
			d.Linked = append(d.Linked, l)
			linked[l.ID] = true
		}
	}
	slices.SortFunc(d.Linked, func(a, b scopeLink) int { return strings.Compare(a.Name, b.Name) })
	var all []rep.ClientScope
	if err := q.get(q.adminPath("/client-scopes"), &all); err != nil {
		return err
	}
	for _, s := range all {
		if !linked[s.ID] && (s.Protocol == "" || s.Protocol == str(x.Protocol) || x.Protocol == nil) {
			d.Available = append(d.Available, scopeLink{ID: s.ID, Name: s.Name})
		}
	}
	slices.SortFunc(d.Available, func(a, b scopeLink) int { return strings.Compare(a.Name, b.Name) })
	return q.render(http.StatusOK, "client-scopes-tab.html", v)
}

type roleRow struct {
	ID, Name, Description, Client, ClientID string
	Composite                               bool
}

type rolesData struct {
	// RoleURL, followed by a role's escaped name, is the role's page.
	RoleURL  string
	Roles    []roleRow
	Editable bool
	Name     string // the create form's values after a refusal
	Desc     string
	Action   string
}

// clientRoles lists, creates and deletes the client's roles.
func (h *Handler) clientRoles(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	base := "/clients/" + seg(x.ID) + "/roles"
	v := q.clientView(x, "roles")
	d := &rolesData{Editable: q.perms.can("manage-clients"), Action: q.realmURL(base)}
	if q.perms.can("view-clients") { // the roles' Permissions tabs
		d.RoleURL = q.realmURL(base) + "/"
	}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		d.Name, d.Desc = q.form("name"), q.form("description")
		if status, err = h.roleAction(q, base, d.Name, d.Desc, v); status == 0 || err != nil {
			return err
		}
	}
	var rs []rep.Role
	if err := q.get(q.adminPath(base), &rs); err != nil {
		return err
	}
	for _, r := range rs {
		d.Roles = append(d.Roles, roleRow{ID: r.ID, Name: r.Name, Description: r.Description, Composite: r.Composite})
	}
	return q.render(status, "client-roles.html", v)
}

// roleAction creates or deletes a role of the container at base (an admin
// path: "/roles" or "/clients/{id}/roles"). It redirects on success
// (status 0) or records the refusal on v.
func (h *Handler) roleAction(q *rq, base, name, desc string, v *view) (int, error) {
	var err error
	switch q.form("action") {
	case "create":
		if name == "" {
			err = &fieldError{"name", "Enter a role name."}
		} else if _, err = q.api(http.MethodPost, q.adminPath(base), rep.Role{Name: name, Description: desc}, nil); err == nil {
			return 0, q.redirect(q.realmURL(base), "created")
		}
	case "delete":
		if _, err = q.api(http.MethodDelete, q.adminPath(base+"/"+seg(q.form("role"))), nil, nil); err == nil {
			return 0, q.redirect(q.realmURL(base), "deleted")
		}
	default:
		return 0, errPage(http.StatusBadRequest, "Unknown action.")
	}
	return failed(v, err)
}

// sessionRow is a user session as the session tables show it.
type sessionRow struct {
	ID, Username, UserID, IPAddress string
	Start, LastAccess               int64
	Clients                         []string
	Offline                         bool
}

type sessionListing struct {
	ID         string            `json:"id"`
	Username   string            `json:"username"`
	UserID     string            `json:"userId"`
	IPAddress  string            `json:"ipAddress"`
	Start      int64             `json:"start"`
	LastAccess int64             `json:"lastAccess"`
	Clients    map[string]string `json:"clients"`
}

func (s sessionListing) row(offline bool) sessionRow {
	r := sessionRow{ID: s.ID, Username: s.Username, UserID: s.UserID, IPAddress: s.IPAddress, Start: s.Start,
		LastAccess: s.LastAccess, Offline: offline}
	for _, c := range s.Clients {
		r.Clients = append(r.Clients, c)
	}
	slices.Sort(r.Clients)
	return r
}

type sessionsData struct {
	Sessions []sessionRow
	CanEnd   bool
	Action   string // where sign-out buttons post
	All      bool   // offer to sign out everyone
}

// clientSessions lists the client's online and offline sessions.
func (h *Handler) clientSessions(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	v := q.clientView(x, "sessions")
	d := &sessionsData{CanEnd: q.perms.can("manage-users"), Action: q.realmURL("/sessions")}
	v.Data = d
	for _, kind := range []string{"user-sessions", "offline-sessions"} {
		var ss []sessionListing
		if err := q.get(q.adminPath("/clients/"+seg(x.ID)+"/"+kind), &ss); err != nil {
			return err
		}
		for _, s := range ss {
			d.Sessions = append(d.Sessions, s.row(kind == "offline-sessions"))
		}
	}
	return q.render(http.StatusOK, "sessions.html", v)
}

// clientServiceAccount shows and changes the roles of the client's service
// account user.
// clientScope is the client's dedicated scope: its full scope switch and
// its role scope mappings.
func (h *Handler) clientScope(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	path := "/clients/" + seg(x.ID)
	return h.scopeMapping(q, q.clientView(x, "scope"), path, q.realmURL(path+"/scope"), true)
}

func (h *Handler) clientServiceAccount(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	var sa rep.User
	if err := q.get(q.adminPath("/clients/"+seg(x.ID)+"/service-account-user"), &sa); err != nil {
		return err
	}
	v := q.clientView(x, "service-account")
	return h.roleMapping(q, v, "/users/"+seg(sa.ID), q.realmURL("/clients/"+seg(x.ID)+"/service-account"))
}
