package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// Client scopes: the list with the realm's default type of each scope,
// creation, settings, and protocol mappers.

// Realm default types of a client scope, as Keycloak's console names them.
var scopeTypes = []option{{Value: "none", Label: "None"}, {Value: "default", Label: "Default"}, {Value: "optional", Label: "Optional"}}

type scopeRow struct {
	ID, Name, Description, Protocol string
	Types                           []option
}

type scopeListData struct {
	Rows     []scopeRow
	Editable bool
}

// realmScopeTypes maps scope ids to their realm default type.
func (q *rq) realmScopeTypes() (map[string]string, error) {
	types := map[string]string{}
	for _, kind := range []string{"default", "optional"} {
		var ls []scopeLink
		if err := q.get(q.adminPath("/default-"+kind+"-client-scopes"), &ls); err != nil {
			return nil, err
		}
		for _, l := range ls {
			types[l.ID] = kind
		}
	}
	return types, nil
}

// setScopeType makes scope id a default, optional or no default scope of
// the realm's new clients. The API takes a scope in one list at a time, so
// it leaves its list first.
func (q *rq) setScopeType(id, typ string) error {
	if _, err := q.api(http.MethodDelete, q.adminPath("/default-default-client-scopes/"+seg(id)), nil, nil); err != nil {
		return err
	}
	if typ == "default" || typ == "optional" {
		_, err := q.api(http.MethodPut, q.adminPath("/default-"+typ+"-client-scopes/"+seg(id)), nil, nil)
		return err
	}
	return nil
}

func (h *Handler) scopeList(q *rq) error {
	v := q.view("Client scopes", "client-scopes", "")
	d := &scopeListData{Editable: q.perms.can("manage-clients")}
	v.Data = d
	var all []rep.ClientScope
	if err := q.get(q.adminPath("/client-scopes"), &all); err != nil {
		return err
	}
	types, err := q.realmScopeTypes()
	if err != nil {
		return err
	}
	for _, s := range all {
		d.Rows = append(d.Rows, scopeRow{ID: s.ID, Name: s.Name, Description: s.Description, Protocol: s.Protocol,
			Types: selectOptions(scopeTypes, typeOr(types[s.ID]))})
	}
	slices.SortFunc(d.Rows, func(a, b scopeRow) int { return strings.Compare(a.Name, b.Name) })
	return q.render(http.StatusOK, "client-scopes.html", v)
}

func typeOr(t string) string {
	if t == "" {
		return "none"
	}
	return t
}

// scopeForm is a client scope's settings as the forms show them.
type scopeForm struct {
	ID, Name, Description, Protocol string
	Protocols, Types                []option
	ConsentText                     string
	Consent, IncludeInScope         bool
	Editable                        bool
}

var scopeProtocols = []option{{Value: "openid-connect", Label: "OpenID Connect"}, {Value: "saml", Label: "SAML"}}

func (q *rq) readScopeForm(f *scopeForm) (map[string]any, error) {
	f.Name, f.Description, f.Protocol = q.form("name"), q.form("description"), q.form("protocol")
	f.Protocols = selectOptions(scopeProtocols, f.Protocol)
	f.Types = selectOptions(scopeTypes, q.form("type"))
	f.Consent, f.IncludeInScope, f.ConsentText = q.checked("consent"), q.checked("includeInTokenScope"), q.form("consentText")
	if f.Name == "" {
		return nil, &fieldError{"name", "Enter a name."}
	}
	flag := func(b bool) string {
		if b {
			return "true"
		}
		return "false"
	}
	return map[string]any{"name": f.Name, "description": f.Description, "protocol": f.Protocol,
		"attributes": map[string]string{"display.on.consent.screen": flag(f.Consent), "consent.screen.text": f.ConsentText,
			"include.in.token.scope": flag(f.IncludeInScope)}}, nil
}

func (h *Handler) scopeCreate(q *rq) error {
	v := q.view("Create client scope", "client-scopes", "")
	v.Back = &link{"Client scopes", q.realmURL("/client-scopes")}
	f := &scopeForm{Protocol: "openid-connect", Protocols: selectOptions(scopeProtocols, "openid-connect"),
		Types: selectOptions(scopeTypes, "none"), Consent: true, IncludeInScope: true, Editable: q.perms.can("manage-clients")}
	v.Data = f
	if !q.post() {
		return q.render(http.StatusOK, "client-scope.html", v)
	}
	body, err := q.readScopeForm(f)
	if err == nil {
		var loc string
		if loc, err = q.api(http.MethodPost, q.adminPath("/client-scopes"), body, nil); err == nil {
			id := lastSegment(loc)
			if typ := q.form("type"); typ == "default" || typ == "optional" {
				if err := q.setScopeType(id, typ); err != nil {
					return err
				}
			}
			return q.redirect(q.realmURL("/client-scopes/"+seg(id)), "created")
		}
		var ae *apiError
		if errors.As(err, &ae) && (ae.Status == http.StatusConflict || strings.HasPrefix(ae.Message, "Unexpected name")) {
			ae.Field = "name"
		}
	}
	return q.refused(v, "client-scope.html", err)
}

// scopeView starts a page of a client scope's tabs.
func (q *rq) scopeView(s rep.ClientScope, tab string) *view {
	v := q.view("Client scope", "client-scopes", tab)
	v.Heading = s.Name
	v.Back = &link{"Client scopes", q.realmURL("/client-scopes")}
	v.Tabs = tabs(q.realmURL("/client-scopes/"+seg(s.ID)), tab, "settings", "", "Settings", "mappers", "/mappers", "Mappers", "scope", "/scope", "Scope")
	return v
}

// scopeScope is a client scope's Scope tab: its role scope mappings.
func (h *Handler) scopeScope(q *rq) error {
	s, err := q.loadScope()
	if err != nil {
		return err
	}
	path := "/client-scopes/" + seg(s.ID)
	return h.scopeMapping(q, q.scopeView(s, "scope"), path, q.realmURL(path+"/scope"), false)
}

func (q *rq) loadScope() (rep.ClientScope, error) {
	var s rep.ClientScope
	err := q.get(q.adminPath("/client-scopes/"+seg(q.r.PathValue("id"))), &s)
	return s, err
}

func (h *Handler) scopeSettings(q *rq) error {
	s, err := q.loadScope()
	if err != nil {
		return err
	}
	v := q.scopeView(s, "settings")
	types, err := q.realmScopeTypes()
	if err != nil {
		return err
	}
	f := &scopeForm{ID: s.ID, Name: s.Name, Description: s.Description, Protocol: s.Protocol,
		Protocols: selectOptions(scopeProtocols, s.Protocol), Types: selectOptions(scopeTypes, typeOr(types[s.ID])),
		Consent: s.Attributes["display.on.consent.screen"] != "false", ConsentText: s.Attributes["consent.screen.text"],
		IncludeInScope: s.Attributes["include.in.token.scope"] != "false", Editable: q.perms.can("manage-clients")}
	v.Data = f
	if !q.post() {
		return q.render(http.StatusOK, "client-scope.html", v)
	}
	if q.form("action") == "type" {
		if err := q.setScopeType(s.ID, q.form("type")); err != nil {
			return err
		}
		return q.redirect(q.realmURL("/client-scopes"), "saved")
	}
	body, err := q.readScopeForm(f)
	if err == nil {
		if _, err = q.api(http.MethodPut, q.adminPath("/client-scopes/"+seg(s.ID)), body, nil); err == nil {
			if typ := q.form("type"); typ != typeOr(types[s.ID]) {
				if err := q.setScopeType(s.ID, typ); err != nil {
					return err
				}
			}
			return q.redirect(q.realmURL("/client-scopes/"+seg(s.ID)), "saved")
		}
	}
	return q.refused(v, "client-scope.html", err)
}

func (h *Handler) scopeDelete(q *rq) error {
	if _, err := q.api(http.MethodDelete, q.adminPath("/client-scopes/"+seg(q.r.PathValue("id"))), nil, nil); err != nil {
		return err
	}
	return q.redirect(q.realmURL("/client-scopes"), "deleted")
}

// mapperType is a mapper type with its configuration properties: one of
// serverinfo's protocol mapper types, or of an identity provider's
// mapper-types.
type mapperType struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	HelpText   string `json:"helpText"`
	Properties []struct {
		Name         string   `json:"name"`
		Label        string   `json:"label"`
		HelpText     string   `json:"helpText"`
		Type         string   `json:"type"`
		DefaultValue any      `json:"defaultValue"`
		Options      []string `json:"options"`
	} `json:"properties"`
}

type mapperRow struct {
	ID, Name, Type, TypeName string
	Config                   []string
}

type mappersData struct {
	Mappers  []mapperRow
	Types    []option
	Chosen   *mapperType
	Fields   []setting // the new mapper's configuration
	Name     string
	Editable bool
	Action   string
	Intro    string
	// EditID is the mapper being edited; empty when adding one.
	EditID string
	// Predefined are the server's built-in mappers of the scope's protocol
	// (serverinfo's builtinProtocolMappers), by name, that the scope may add
	// as they are ("Add predefined mapper").
	Predefined []option
}

// mapperOwner is what owns a list of protocol mappers: a client scope, or a
// client (its dedicated mappers). One page serves both.
type mapperOwner struct {
	Protocol string
	// API is the owner's admin API path, e.g. /client-scopes/{id}.
	API string
	// Action is the console page's URL.
	Action string
	Intro  string
}

// scopeMappers is a client scope's Mappers tab.
func (h *Handler) scopeMappers(q *rq) error {
	s, err := q.loadScope()
	if err != nil {
		return err
	}
	return h.mappersPage(q, q.scopeView(s, "mappers"), mapperOwner{Protocol: s.Protocol, API: "/client-scopes/" + seg(s.ID),
		Action: q.realmURL("/client-scopes/" + seg(s.ID) + "/mappers"),
		Intro:  "Protocol mappers put user data and roles into the tokens of every client that has this scope."})
}

// clientMappers is a client's dedicated mappers: the protocol mappers the
// client has itself, beside those of its client scopes.
func (h *Handler) clientMappers(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	protocol := "openid-connect"
	if x.Protocol != nil && *x.Protocol != "" {
		protocol = *x.Protocol
	}
	return h.mappersPage(q, q.clientView(x, "mappers"), mapperOwner{Protocol: protocol, API: "/clients/" + seg(x.ID),
		Action: q.realmURL("/clients/" + seg(x.ID) + "/mappers"),
		Intro:  "Dedicated mappers put user data and roles into this client's tokens only, beside the mappers of its client scopes."})
}

// mappersPage lists an owner's protocol mappers, adds one of the types the
// server supports (serverinfo's) or its predefined mappers, edits and
// deletes them, all through the owner's protocol-mapper admin endpoints.
func (h *Handler) mappersPage(q *rq, v *view, o mapperOwner) error {
	var err error
	base := o.API + "/protocol-mappers/models"
	action := o.Action
	d := &mappersData{Editable: q.perms.can("manage-clients"), Action: action, Intro: o.Intro}
	v.Data = d
	var info struct {
		ProtocolMapperTypes map[string][]mapperType         `json:"protocolMapperTypes"`
		Builtin             map[string][]rep.ProtocolMapper `json:"builtinProtocolMappers"`
	}
	if err := q.get("/admin/serverinfo", &info); err != nil {
		return err
	}
	types := info.ProtocolMapperTypes[o.Protocol]
	builtin := info.Builtin[o.Protocol]
	for _, m := range builtin {
		d.Predefined = append(d.Predefined, option{Value: m.Name, Label: m.Name})
	}
	typ := q.r.URL.Query().Get("type")
	if q.post() {
		typ = q.form("type")
	}
	// ?mapper=<id> opens an existing mapper for editing.
	var editing *rep.ProtocolMapper
	if id := q.r.URL.Query().Get("mapper"); id != "" && !q.post() {
		var m rep.ProtocolMapper
		if err := q.get(q.adminPath(base+"/"+seg(id)), &m); err != nil {
			return err
		}
		editing, typ, d.EditID, d.Name = &m, m.ProtocolMapper, m.ID, m.Name
	}
	for i, t := range types {
		d.Types = append(d.Types, option{Value: t.ID, Label: t.Name, Selected: t.ID == typ})
		if t.ID == typ {
			d.Chosen = &types[i]
		}
	}
	if d.Chosen != nil {
		d.Fields = mapperFields(*d.Chosen)
		if editing != nil {
			d.Fields = mapperFieldsOf(*d.Chosen, editing.Config)
		}
	}
	status := http.StatusOK
	if q.post() {
		switch q.form("action") {
		case "add-predefined":
			var add []rep.ProtocolMapper
			for _, m := range builtin {
				if slices.Contains(q.r.PostForm["predefined"], m.Name) {
					add = append(add, m)
				}
			}
			if len(add) == 0 {
				err = &fieldError{"predefined", "Choose at least one mapper."}
			} else if _, err = q.api(http.MethodPost, q.adminPath(o.API+"/protocol-mappers/add-models"), add, nil); err == nil {
				return q.redirect(action, "created")
			}
		case "delete":
			if _, err = q.api(http.MethodDelete, q.adminPath(base+"/"+seg(q.form("mapper"))), nil, nil); err == nil {
				return q.redirect(action, "deleted")
			}
		case "create", "update":
			if d.Chosen == nil {
				return errPage(http.StatusBadRequest, "Choose a mapper type.")
			}
			if q.form("action") == "update" {
				d.EditID = q.form("mapper")
			}
			var cfg map[string]any
			var ok bool
			d.Name = q.form("name")
			d.Fields, cfg, ok = fromForm(mapperSpecs(*d.Chosen), q)
			config := map[string]string{}
			for k, val := range cfg {
				switch x := val.(type) {
				case bool:
					config[k] = map[bool]string{true: "true", false: "false"}[x]
				case string:
					if x != "" {
						config[k] = x
					}
				}
			}
			switch {
			case !ok:
				err = errors.New("invalid")
				v.Error = "Please correct the fields marked below."
				status = http.StatusBadRequest
			case d.Name == "":
				err = &fieldError{"name", "Enter a name."}
			default:
				m := rep.ProtocolMapper{ID: d.EditID, Name: d.Name, Protocol: o.Protocol, ProtocolMapper: d.Chosen.ID, Config: config}
				if d.EditID != "" {
					if _, err = q.api(http.MethodPut, q.adminPath(base+"/"+seg(d.EditID)), m, nil); err == nil {
						return q.redirect(action, "saved")
					}
				} else if _, err = q.api(http.MethodPost, q.adminPath(base), m, nil); err == nil {
					return q.redirect(action, "created")
				}
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status == http.StatusOK {
			if status, err = failed(v, err); err != nil {
				return err
			}
		}
		// The API names the configuration field it refused.
		for i := range d.Fields {
			if msg := v.FieldError(d.Fields[i].Name); msg != "" {
				d.Fields[i].Error = msg
			}
		}
	}
	names := map[string]string{}
	for _, t := range types {
		names[t.ID] = t.Name
	}
	var ms []rep.ProtocolMapper
	if err := q.get(q.adminPath(base), &ms); err != nil {
		return err
	}
	for _, m := range ms {
		row := mapperRow{ID: m.ID, Name: m.Name, Type: m.ProtocolMapper, TypeName: names[m.ProtocolMapper]}
		for k, val := range m.Config {
			row.Config = append(row.Config, k+" = "+val)
		}
		slices.Sort(row.Config)
		d.Mappers = append(d.Mappers, row)
	}
	slices.SortFunc(d.Mappers, func(a, b mapperRow) int { return strings.Compare(a.Name, b.Name) })
	return q.render(status, "client-scope-mappers.html", v)
}

// mapperSpecs turns a mapper type's configuration properties into settings:
// booleans are checkboxes, lists selects, everything else text.
func mapperSpecs(t mapperType) []spec {
	var out []spec
	for _, p := range t.Properties {
		sp := spec{Kind: kindText, Name: p.Name, Label: p.Label, Help: p.HelpText}
		switch p.Type {
		case "boolean":
			sp.Kind = kindBool
		case "Map":
			sp.Kind = kindMap
		case "List":
			sp.Kind = kindSelect
			for _, o := range p.Options {
				sp.Options = append(sp.Options, option{Value: o, Label: o})
			}
		}
		out = append(out, sp)
	}
	return out
}

// mapperFieldsOf are the settings of an existing mapper of type t.
func mapperFieldsOf(t mapperType, config map[string]string) []setting {
	values := map[string]any{}
	for _, p := range t.Properties {
		if v, ok := config[p.Name]; ok {
			if p.Type == "boolean" {
				values[p.Name] = v == "true"
			} else {
				values[p.Name] = v
			}
		}
	}
	return fromJSON(mapperSpecs(t), values)
}

// mapperFields are the settings of a new mapper of type t, with its defaults.
func mapperFields(t mapperType) []setting {
	values := map[string]any{}
	for _, p := range t.Properties {
		switch d := p.DefaultValue.(type) {
		case string:
			if p.Type == "boolean" {
				values[p.Name] = d == "true"
			} else {
				values[p.Name] = d
			}
		case bool:
			values[p.Name] = d
		}
	}
	return fromJSON(mapperSpecs(t), values)
}
