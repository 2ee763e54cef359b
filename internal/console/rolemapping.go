package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The role mapping tab of users, groups and service accounts: the roles
// mapped directly, the effective realm roles, and forms that assign and
// remove roles through .../role-mappings.

type roleMappingData struct {
	Action    string
	Direct    []roleRow
	Effective []string // effective realm roles, composites and groups expanded
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

// roleMapping serves the role mapping tab of the user or group at holder
// (an admin API path below the realm, "/users/{id}"); action is the page's
// own URL.
func (h *Handler) roleMapping(q *rq, v *view, holder, action string) error {
	base := q.adminPath(holder + "/role-mappings")
	status := http.StatusOK
	if q.post() {
		var err error
		notice := "assigned"
		path := base + "/realm"
		if c := q.form("client"); c != "" {
			path = base + "/clients/" + seg(c)
		}
		var body []rep.Role
		for _, id := range q.r.PostForm["role"] {
			body = append(body, rep.Role{ID: id})
		}
		switch q.form("action") {
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
	d := &roleMappingData{Action: action, Editable: q.perms.can("manage-users"), ChosenClient: q.r.URL.Query().Get("client")}
	v.Data = d
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
