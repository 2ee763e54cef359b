package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// Groups: the top-level list, and a group's child groups, members and role
// mappings.

type groupRow struct {
	ID, Name, Path string
	SubGroups      int64
}

type groupsData struct {
	Groups   []groupRow
	Editable bool
	Name     string
	Action   string
}

func groupRows(gs []rep.Group) []groupRow {
	var out []groupRow
	for _, g := range gs {
		r := groupRow{ID: g.ID, Name: g.Name, Path: g.Path}
		if g.SubGroupCount != nil {
			r.SubGroups = *g.SubGroupCount
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b groupRow) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (h *Handler) groupList(q *rq) error {
	v := q.view("Groups", "groups", "")
	d := &groupsData{Editable: q.perms.can("manage-users"), Action: q.realmURL("/groups")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		d.Name = q.form("name")
		if d.Name == "" {
			err = &fieldError{"name", "Enter a group name."}
		} else {
			var loc string
			if loc, err = q.api(http.MethodPost, q.adminPath("/groups"), rep.Group{Name: d.Name}, nil); err == nil {
				return q.redirect(q.realmURL("/groups/"+seg(lastSegment(loc))), "created")
			}
			markConflict(err, "name")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var gs []rep.Group
	if err := q.get(q.adminPath("/groups?briefRepresentation=true"), &gs); err != nil {
		return err
	}
	d.Groups = groupRows(gs)
	return q.render(status, "groups.html", v)
}

// markConflict puts a 409 (a name already taken) next to field.
func markConflict(err error, field string) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		ae.Field = field
	}
}

type groupData struct {
	Group    groupRow
	Children []groupRow
	Members  []userRow
	Editable bool
	Action   string
	Child    string // the new child's name after a refusal
	Member   string // the username to add after a refusal
	Parent   string // the parent group's id, "" at the top
	// Description and Attributes (key=value lines) as the settings form
	// shows them.
	Description, Attributes string
}

// groupView starts a page of a group's tabs.
func (q *rq) groupView(g rep.Group, tab string) *view {
	v := q.view("Group", "groups", tab)
	v.Heading = g.Path
	v.Back = &link{"Groups", q.realmURL("/groups")}
	if g.ParentID != "" {
		v.Back = &link{"Parent group", q.realmURL("/groups/" + seg(g.ParentID))}
	}
	triples := []string{"members", "", "Child groups and members", "role-mapping", "/role-mapping", "Role mapping"}
	if q.perms.can("view-users") {
		triples = append(triples, "permissions", "/permissions", "Permissions")
	}
	v.Tabs = tabs(q.realmURL("/groups/"+seg(g.ID)), tab, triples...)
	return v
}

// groupDetails shows a group's child groups and members; it creates child
// groups, adds and removes members, renames and deletes the group.
func (h *Handler) groupDetails(q *rq) error {
	id := q.r.PathValue("id")
	base := q.adminPath("/groups/" + seg(id))
	action := q.realmURL("/groups/" + seg(id))
	var g rep.Group
	if err := q.get(base, &g); err != nil {
		return err
	}
	v := q.groupView(g, "members")
	d := &groupData{Group: groupRow{ID: g.ID, Name: g.Name, Path: g.Path}, Editable: q.perms.can("manage-users"),
		Action: action, Parent: g.ParentID, Description: str(g.Description), Attributes: attributesText(g.Attributes)}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		switch q.form("action") {
		case "child":
			d.Child = q.form("name")
			if d.Child == "" {
				err = &fieldError{"name", "Enter a group name."}
			} else if _, err = q.api(http.MethodPost, base+"/children", rep.Group{Name: d.Child}, nil); err == nil {
				return q.redirect(action, "created")
			}
			markConflict(err, "name")
		case "rename":
			name := q.form("groupName")
			d.Description, d.Attributes = q.form("description"), q.r.PostForm.Get("attributes")
			attrs, perr := parseAttributes("attributes", d.Attributes)
			switch {
			case name == "":
				err = &fieldError{"groupName", "Enter a group name."}
			case perr != nil:
				err = perr
			default:
				if _, err = q.api(http.MethodPut, base, rep.Group{Name: name, Description: &d.Description, Attributes: attrs}, nil); err == nil {
					return q.redirect(action, "saved")
				}
			}
			markConflict(err, "groupName")
		case "add-member":
			d.Member = q.form("username")
			var uid string
			if uid, err = q.userIDByName(d.Member); err == nil {
				if _, err = q.api(http.MethodPut, q.adminPath("/users/"+seg(uid)+"/groups/"+seg(id)), nil, nil); err == nil {
					return q.redirect(action, "joined")
				}
			}
		case "remove-member":
			if _, err = q.api(http.MethodDelete, q.adminPath("/users/"+seg(q.form("user"))+"/groups/"+seg(id)), nil, nil); err == nil {
				return q.redirect(action, "left")
			}
		case "delete":
			if _, err = q.api(http.MethodDelete, base, nil, nil); err == nil {
				back := q.realmURL("/groups")
				if g.ParentID != "" {
					back = q.realmURL("/groups/" + seg(g.ParentID))
				}
				return q.redirect(back, "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	var kids []rep.Group
	if err := q.get(base+"/children?briefRepresentation=true", &kids); err != nil {
		return err
	}
	d.Children = groupRows(kids)
	var us []rep.User
	if err := q.get(base+"/members?briefRepresentation=true", &us); err != nil {
		return err
	}
	for _, u := range us {
		d.Members = append(d.Members, userRowOf(u))
	}
	return q.render(status, "group.html", v)
}

// groupRoleMapping is a group's role mapping tab.
func (h *Handler) groupRoleMapping(q *rq) error {
	id := q.r.PathValue("id")
	var g rep.Group
	if err := q.get(q.adminPath("/groups/"+seg(id)), &g); err != nil {
		return err
	}
	return h.roleMapping(q, q.groupView(g, "role-mapping"), "/groups/"+seg(id), q.realmURL("/groups/"+seg(id)+"/role-mapping"))
}

// userIDByName finds a user by exact username.
func (q *rq) userIDByName(name string) (string, error) {
	if name == "" {
		return "", &fieldError{"username", "Enter a username."}
	}
	var us []rep.User
	if err := q.get(q.adminPath("/users?exact=true&briefRepresentation=true&username="+url.QueryEscape(name)), &us); err != nil {
		return "", err
	}
	for _, u := range us {
		if strings.EqualFold(u.Username, name) {
			return u.ID, nil
		}
	}
	return "", &fieldError{"username", "No user has this username."}
}
