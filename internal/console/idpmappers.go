package console

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"slices"
	"strconv"
	"strings"
)

// The mappers tab of an identity provider: what a login through the
// provider writes into the user (roles, groups, attributes, the username).
// The form of each mapper type is built from the properties the admin API
// lists for it (.../mapper-types), so the console knows no mapper of its
// own.

// idpMapperRep is the admin API's IdentityProviderMapperRepresentation.
type idpMapperRep = rep.IdentityProviderMapper

// mapperSyncModes are the sync modes a mapper may override its provider's
// with.
var mapperSyncModes = []option{{Value: "INHERIT", Label: "Inherit"}, {Value: "IMPORT", Label: "Import"},
	{Value: "LEGACY", Label: "Legacy"}, {Value: "FORCE", Label: "Force"}}

// mapperTypes reads the mapper types the provider offers, sorted by name.
func (q *rq) mapperTypes(alias string) (map[string]mapperType, []mapperType, error) {
	m := map[string]mapperType{}
	if err := q.get(q.idpPath(alias)+"/mapper-types", &m); err != nil {
		return nil, nil, err
	}
	list := make([]mapperType, 0, len(m))
	for id, t := range m {
		if t.ID == "" {
			t.ID = id
			m[id] = t
		}
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b mapperType) int { return strings.Compare(a.Name, b.Name) })
	return m, list, nil
}

// idpMapperRow is one mapper of the list.
type idpMapperRow struct {
	rep.IdentityProviderMapper
	TypeName string
	URL      string
}

type idpMappersPage struct {
	Rows     []idpMapperRow
	Add      string
	Action   string
	Editable bool
}

// idpMappers lists a provider's mappers and deletes them.
func (h *Handler) idpMappers(q *rq) error {
	x, t, err := q.idpLoad()
	if err != nil {
		return err
	}
	v := q.idpView(x, t, "mappers")
	action := q.idpURL(x, "mappers")
	d := &idpMappersPage{Add: action + "/create", Action: action, Editable: q.perms.can("manage-identity-providers")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		if q.form("action") != "delete" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		_, err := q.api(http.MethodDelete, q.idpPath(x.Alias)+"/mappers/"+seg(q.form("id")), nil, nil)
		if err == nil {
			return q.redirect(action, "deleted")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	types, _, err := q.mapperTypes(x.Alias)
	if err != nil {
		return err
	}
	var ms []idpMapperRep
	if err := q.get(q.idpPath(x.Alias)+"/mappers", &ms); err != nil {
		return err
	}
	for _, m := range ms {
		name := types[m.IdentityProviderMapper].Name
		if name == "" {
			name = m.IdentityProviderMapper
		}
		d.Rows = append(d.Rows, idpMapperRow{IdentityProviderMapper: m, TypeName: name, URL: action + "/" + seg(m.ID)})
	}
	slices.SortFunc(d.Rows, func(a, b idpMapperRow) int { return strings.Compare(a.Name, b.Name) })
	return q.render(status, "identity-provider-mappers.html", v)
}

type idpMapperPage struct {
	New      bool
	Action   string
	Back     string
	Types    []option // to choose from, before a type is chosen
	Type     mapperType
	Name     string
	SyncMode []option
	Fields   []setting
	Editable bool
}

// idpMapper adds a mapper (.../mappers/create?type=…: first the type, then
// its form) or shows, saves and deletes one (.../mappers/{id}).
func (h *Handler) idpMapper(q *rq) error {
	x, t, err := q.idpLoad()
	if err != nil {
		return err
	}
	id := q.r.PathValue("id")
	fresh := id == ""
	if fresh && !q.perms.can("manage-identity-providers") {
		return errPage(http.StatusForbidden, "You do not have permission to manage identity providers.")
	}
	types, list, err := q.mapperTypes(x.Alias)
	if err != nil {
		return err
	}
	back := q.idpURL(x, "mappers")
	v := q.idpView(x, t, "mappers")
	v.Back = &link{"Mappers", back}
	d := &idpMapperPage{New: fresh, Back: back, Action: q.r.URL.RequestURI(), Editable: q.perms.can("manage-identity-providers")}
	v.Data = d
	m := idpMapperRep{IdentityProviderAlias: x.Alias, Config: map[string]string{}}
	if fresh {
		v.Heading = "Add identity provider mapper"
		m.IdentityProviderMapper = q.r.URL.Query().Get("type")
		if m.IdentityProviderMapper == "" {
			for _, mt := range list {
				d.Types = append(d.Types, option{Value: mt.ID, Label: mt.Name})
			}
			return q.render(http.StatusOK, "identity-provider-mapper.html", v)
		}
	} else if err := q.get(q.idpPath(x.Alias)+"/mappers/"+seg(id), &m); err != nil {
		return err
	} else {
		v.Heading = m.Name
		if m.Config == nil {
			m.Config = map[string]string{}
		}
	}
	mt, ok := types[m.IdentityProviderMapper]
	if !ok {
		return errPage(http.StatusNotFound, "Unknown mapper type.")
	}
	d.Type = mt
	show := func(status int) error {
		d.Name = m.Name
		mode := m.Config["syncMode"]
		if mode == "" {
			mode = "INHERIT"
		}
		d.SyncMode = selectOptions(mapperSyncModes, mode)
		if d.Fields == nil {
			d.Fields = mapperFieldsOf(mt, m.Config)
		}
		return q.render(status, "identity-provider-mapper.html", v)
	}
	if !q.post() {
		if fresh {
			d.Fields = mapperFields(mt)
		}
		return show(http.StatusOK)
	}
	var perr error
	switch q.form("action") {
	case "delete":
		if fresh {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if _, perr = q.api(http.MethodDelete, q.idpPath(x.Alias)+"/mappers/"+seg(id), nil, nil); perr == nil {
			return q.redirect(back, "deleted")
		}
	case "", "save":
		if fresh {
			m.Name = q.form("name")
		}
		fields, cfg, ok := fromForm(mapperSpecs(mt), q)
		d.Fields = fields
		for k, val := range cfg {
			switch x := val.(type) {
			case bool:
				m.Config[k] = strconv.FormatBool(x)
			case string:
				if x == "" {
					delete(m.Config, k)
				} else {
					m.Config[k] = x
				}
			}
		}
		if s := q.form("syncMode"); s != "" {
			m.Config["syncMode"] = s
		}
		switch {
		case !ok:
			v.Error = "Please correct the fields marked below."
			return show(http.StatusBadRequest)
		case fresh && m.Name == "":
			perr = &fieldError{"name", "Enter a name."}
		default:
			if fresh {
				var loc string
				if loc, perr = q.api(http.MethodPost, q.idpPath(x.Alias)+"/mappers", m, nil); perr == nil {
					to := back
					if loc != "" {
						to = back + "/" + seg(lastSegment(loc))
					}
					return q.redirect(to, "created")
				}
			} else if _, perr = q.api(http.MethodPut, q.idpPath(x.Alias)+"/mappers/"+seg(id), m, nil); perr == nil {
				return q.redirect(back+"/"+seg(id), "saved")
			}
		}
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	status, err := failed(v, perr)
	if err != nil {
		return err
	}
	// The API names the configuration field it refused.
	for i := range d.Fields {
		if msg := v.FieldError(d.Fields[i].Name); msg != "" {
			d.Fields[i].Error = msg
		}
	}
	return show(status)
}
