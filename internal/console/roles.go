package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// Realm roles: the list, creation, and a role's details with its
// composites (the roles it includes) and the users who hold it directly.

func (h *Handler) roleList(q *rq) error {
	v := q.view("Realm roles", "roles", "")
	d := &rolesData{Editable: q.perms.can("manage-realm"), Action: q.realmURL("/roles"), RoleURL: q.realmURL("/roles/")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		d.Name, d.Desc = q.form("name"), q.form("description")
		if status, err = h.roleAction(q, "/roles", d.Name, d.Desc, v); status == 0 || err != nil {
			return err
		}
	}
	var rs []rep.Role
	if err := q.get(q.adminPath("/roles"), &rs); err != nil {
		return err
	}
	for _, r := range rs {
		d.Roles = append(d.Roles, roleRow{ID: r.ID, Name: r.Name, Description: r.Description, Composite: r.Composite})
	}
	slices.SortFunc(d.Roles, func(a, b roleRow) int { return strings.Compare(a.Name, b.Name) })
	return q.render(status, "roles.html", v)
}

type roleDetailsData struct {
	Role            roleRow
	Description     string
	Attributes      string // key=value lines
	Composites      []roleRow
	AvailableRealm  []roleRow
	Clients         []option
	ChosenClient    string
	AvailableClient []roleRow
	Users           []string
	Editable        bool
	Action          string
	Default         bool // the realm's default roles: cannot be deleted
}

// roleDetails shows a realm role, saves its description, adds and removes
// composites, and deletes it.
func (h *Handler) roleDetails(q *rq) error {
	name := q.r.PathValue("name")
	base := q.adminPath("/roles/" + seg(name))
	action := q.realmURL("/roles/" + seg(name))
	var r rep.Role
	if err := q.get(base, &r); err != nil {
		return err
	}
	v := q.roleView(r, "details")
	d := &roleDetailsData{Role: roleRow{ID: r.ID, Name: r.Name, Composite: r.Composite}, Description: r.Description,
		Attributes: attributesText(r.Attributes), Editable: q.perms.can("manage-realm"), Action: action, ChosenClient: q.r.URL.Query().Get("client"),
		Default: strings.HasPrefix(r.Name, "default-roles-")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		var body []rep.Role
		for _, id := range q.r.PostForm["role"] {
			body = append(body, rep.Role{ID: id})
		}
		switch q.form("action") {
		case "save":
			d.Description, d.Attributes = q.form("description"), q.r.PostForm.Get("attributes")
			var attrs map[string][]string
			if attrs, err = parseAttributes("attributes", d.Attributes); err == nil {
				if _, err = q.api(http.MethodPut, base, rep.Role{Name: r.Name, Description: d.Description, Attributes: attrs}, nil); err == nil {
					return q.redirect(action, "saved")
				}
			}
		case "add":
			if len(body) == 0 {
				return q.redirect(action, "")
			}
			if _, err = q.api(http.MethodPost, base+"/composites", body, nil); err == nil {
				return q.redirect(action, "assigned")
			}
		case "remove":
			if _, err = q.api(http.MethodDelete, base+"/composites", body, nil); err == nil {
				return q.redirect(action, "removed")
			}
		case "delete":
			if _, err = q.api(http.MethodDelete, base, nil, nil); err == nil {
				return q.redirect(q.realmURL("/roles"), "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var kids []rep.Role
	if err := q.get(base+"/composites", &kids); err != nil {
		return err
	}
	clientIDs := map[string]string{}
	var cs []rep.Client
	if q.get(q.adminPath("/clients"), &cs) == nil {
		for _, c := range cs {
			clientIDs[c.ID] = c.ClientID
			d.Clients = append(d.Clients, option{Value: c.ID, Label: c.ClientID, Selected: c.ID == d.ChosenClient})
		}
		slices.SortFunc(d.Clients, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	}
	has := map[string]bool{r.ID: true}
	for _, k := range kids {
		has[k.ID] = true
		row := roleRow{ID: k.ID, Name: k.Name, Description: k.Description}
		if k.ClientRole {
			row.Client = clientIDs[k.ContainerID]
		}
		d.Composites = append(d.Composites, row)
	}
	slices.SortFunc(d.Composites, func(a, b roleRow) int {
		return strings.Compare(a.Client+"\x00"+a.Name, b.Client+"\x00"+b.Name)
	})
	if d.Editable {
		var all []rep.Role
		if err := q.get(q.adminPath("/roles"), &all); err != nil {
			return err
		}
		for _, x := range all {
			if !has[x.ID] {
				d.AvailableRealm = append(d.AvailableRealm, roleRow{ID: x.ID, Name: x.Name})
			}
		}
		slices.SortFunc(d.AvailableRealm, func(a, b roleRow) int { return strings.Compare(a.Name, b.Name) })
		if d.ChosenClient != "" {
			var crs []rep.Role
			if err := q.get(q.adminPath("/clients/"+seg(d.ChosenClient)+"/roles"), &crs); err != nil {
				return err
			}
			for _, x := range crs {
				if !has[x.ID] {
					d.AvailableClient = append(d.AvailableClient, roleRow{ID: x.ID, Name: x.Name})
				}
			}
		}
	}
	if q.perms.can("query-users") {
		var us []rep.User
		if q.get(base+"/users", &us) == nil {
			for _, u := range us {
				d.Users = append(d.Users, u.Username)
			}
		}
	}
	return q.render(status, "role.html", v)
}
