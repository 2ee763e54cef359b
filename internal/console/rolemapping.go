package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The role mapping tab of users, groups and service accounts, and the scope
// tab of clients and client scopes: the roles mapped directly, the
// effective realm roles, and forms that assign and remove roles through
// .../role-mappings or .../scope-mappings.

type roleMappingData struct {
	Action string
	// Scope is true on a scope tab, which speaks of what tokens may carry.
	Scope bool
	// FullScope is a client's "full scope allowed" switch, nil elsewhere.
	FullScope   *bool
	FullScopeOn bool
	Direct      []roleRow
	Effective   []string // effective realm roles, composites and groups expanded
	// Available realm roles to assign, and the client roles of the chosen
	// client.
	AvailableRealm  []roleRow
	Clients         []option
	ChosenClient    string
	AvailableClient []roleRow
	Editable        bool
}

type mappings struct {
	RealmMappings  []rep.Role `json:"realmMappings"`
	ClientMappings map[string]struct {
		ID       string     `json:"id"`
		Client   string     `json:"client"`
		Mappings []rep.Role `json:"mappings"`
	} `json:"clientMappings"`
}

// mappingTab says whose role mappings a tab shows and who may change them.
type mappingTab struct {
	api    string // admin API path of the mappings
	manage string // the permission that changes them
	scope  bool   // scope mappings: a client's roles are named by name
	// client is the admin API path of a client whose full scope switch the
	// tab shows; "" elsewhere.
	client string
}

// roleMapping serves the role mapping tab of the user or group at holder
// (an admin API path below the realm, "/users/{id}"); action is the page's
// own URL.
func (h *Handler) roleMapping(q *rq, v *view, holder, action string) error {
	return h.mappingTab(q, v, mappingTab{api: q.adminPath(holder + "/role-mappings"), manage: "manage-users"}, action)
}

// scopeMapping serves the scope tab of the client or client scope at
// holder ("/clients/{id}", "/client-scopes/{id}").
func (h *Handler) scopeMapping(q *rq, v *view, holder, action string, client bool) error {
	t := mappingTab{api: q.adminPath(holder + "/scope-mappings"), manage: "manage-clients", scope: true}
	if client {
		t.client = q.adminPath(holder)
	}
	return h.mappingTab(q, v, t, action)
}

func (h *Handler) mappingTab(q *rq, v *view, t mappingTab, action string) error {
	base := t.api
	status := http.StatusOK
	if q.post() {
		var err error
		notice := "assigned"
		path := base + "/realm"
		c := q.form("client")
		if c != "" {
			path = base + "/clients/" + seg(c)
		}
		var body []rep.Role
		for _, id := range q.r.PostForm["role"] {
			body = append(body, rep.Role{ID: id})
		}
		if t.scope && c != "" && len(body) > 0 {
			// A client's roles are named by name in scope mappings.
			var roles []rep.Role
			if err := q.get(q.adminPath("/clients/"+seg(c)+"/roles"), &roles); err != nil {
				return err
			}
			for i := range body {
				for _, r := range roles {
					if r.ID == body[i].ID {
						body[i].Name = r.Name
					}
				}
			}
		}
		switch q.form("action") {
		case "full-scope":
			if t.client == "" {
				return errPage(http.StatusBadRequest, "Unknown action.")
			}
			var x map[string]any
			if err = q.get(t.client, &x); err != nil {
				return err
			}
			x["fullScopeAllowed"] = q.form("full-scope") == "on"
			notice = "saved"
			_, err = q.api(http.MethodPut, t.client, x, nil)
		case "assign":
			if len(body) == 0 {
				return q.redirect(action, "")
			}
			_, err = q.api(http.MethodPost, path, body, nil)
		case "remove":
			notice = "removed"
			_, err = q.api(http.MethodDelete, path, body, nil)
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if err == nil {
			return q.redirect(action, notice)
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	d := &roleMappingData{Action: action, Scope: t.scope, Editable: q.perms.can(t.manage), ChosenClient: q.r.URL.Query().Get("client")}
	v.Data = d
	if t.client != "" {
		var x rep.Client
		if err := q.get(t.client, &x); err != nil {
			return err
		}
		full := x.FullScopeAllowed == nil || *x.FullScopeAllowed
		d.FullScope, d.FullScopeOn = &full, full
	}
	var m mappings
	if err := q.get(base, &m); err != nil {
		return err
	}
	for _, r := range m.RealmMappings {
		d.Direct = append(d.Direct, roleRow{ID: r.ID, Name: r.Name, Description: r.Description, Composite: r.Composite})
	}
	for _, c := range m.ClientMappings {
		for _, r := range c.Mappings {
			d.Direct = append(d.Direct, roleRow{ID: r.ID, Name: r.Name, Description: r.Description, Client: c.Client, ClientID: c.ID, Composite: r.Composite})
		}
	}
	slices.SortFunc(d.Direct, func(a, b roleRow) int {
		if c := strings.Compare(a.Client, b.Client); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var eff []rep.Role
	if err := q.get(base+"/realm/composite", &eff); err != nil {
		return err
	}
	for _, r := range eff {
		d.Effective = append(d.Effective, r.Name)
	}
	slices.Sort(d.Effective)
	if d.Editable {
		var avail []rep.Role
		if err := q.get(base+"/realm/available", &avail); err != nil {
			return err
		}
		for _, r := range avail {
			d.AvailableRealm = append(d.AvailableRealm, roleRow{ID: r.ID, Name: r.Name, Description: r.Description})
		}
		slices.SortFunc(d.AvailableRealm, func(a, b roleRow) int { return strings.Compare(a.Name, b.Name) })
		// Client roles are chosen client by client; an administrator who
		// may not list clients assigns realm roles only.
		var cs []rep.Client
		if q.get(q.adminPath("/clients"), &cs) == nil {
			for _, c := range cs {
				d.Clients = append(d.Clients, option{Value: c.ID, Label: c.ClientID, Selected: c.ID == d.ChosenClient})
			}
			slices.SortFunc(d.Clients, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
		}
		if d.ChosenClient != "" {
			var avail []rep.Role
			if err := q.get(base+"/clients/"+seg(d.ChosenClient)+"/available", &avail); err != nil {
				return err
			}
			for _, r := range avail {
				d.AvailableClient = append(d.AvailableClient, roleRow{ID: r.ID, Name: r.Name, Description: r.Description})
			}
			slices.SortFunc(d.AvailableClient, func(a, b roleRow) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	return q.render(status, "role-mapping.html", v)
}
