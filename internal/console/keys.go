package console

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// keysData is the admin API's KeysMetadataRepresentation.
type keysData struct {
	Active map[string]string `json:"active"`
	Keys   []struct {
		ProviderID       string `json:"providerId"`
		ProviderPriority int64  `json:"providerPriority"`
		Kid              string `json:"kid"`
		Status           string `json:"status"`
		Type             string `json:"type"`
		Algorithm        string `json:"algorithm"`
		PublicKey        string `json:"publicKey"`
		Certificate      string `json:"certificate"`
		Use              string `json:"use"`
		ValidTo          int64  `json:"validTo"`
	} `json:"keys"`
}

// keysPage is the keys tab: the realm's keys with the provider of each, the
// providers themselves, and, for administrators who manage the realm, the
// forms that add, rotate, disable and delete them.
type keysPage struct {
	*keysData
	Editable  bool
	Action    string
	Provider  string // the quick add form's values
	Priority  string
	Names     map[string]string // component id → provider name
	Weak      map[string]string // kid → why the key is weak
	Providers []component
	Types     []providerType // what "Add provider" offers
}

// providerType is a key provider the console can add.
type providerType struct{ ID, Description string }

// keyProviderType is the providerType of Keycloak's key provider components.
const keyProviderType = "org.keycloak.keys.KeyProvider"

// component is the part of a ComponentRepresentation the console reads
// and sends: key providers, user storage providers and their mappers.
type component struct {
	ID           string              `json:"id,omitempty"`
	Name         string              `json:"name,omitempty"`
	ProviderID   string              `json:"providerId,omitempty"`
	ProviderType string              `json:"providerType"`
	ParentID     string              `json:"parentId,omitempty"`
	SubType      string              `json:"subType,omitempty"`
	Config       map[string][]string `json:"config"`
}

// Get is a config value, or "".
func (c component) Get(name string) string {
	if v := c.Config[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// generatedProviders are the providers the quick add form offers: those
// that need nothing but a priority.
var generatedProviders = []string{keys.ProviderRSAGenerated, keys.ProviderECDSAGenerated, keys.ProviderEdDSAGenerated,
	keys.ProviderHMACGenerated, keys.ProviderRSAEncGenerated, keys.ProviderAESGenerated}

// realmKeys lists the realm's keys and providers, and adds, rotates
// (active/passive), disables and deletes them through the admin API's
// components endpoints.
func (h *Handler) realmKeys(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Realm settings", "realm-settings", "keys")
	v.Tabs = q.realmTabs("keys")
	action := q.realmURL("/realm-settings/keys")
	d := &keysPage{keysData: &keysData{}, Editable: q.perms.can("manage-realm"), Action: action,
		Provider: keys.ProviderRSAGenerated, Priority: "100"}
	for _, id := range keys.Providers {
		d.Types = append(d.Types, providerType{id, keys.Description[id]})
	}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		one := q.adminPath("/components/" + seg(q.form("key")))
		state := func(name, value string) error {
			_, err := q.api(http.MethodPut, one, component{ProviderType: keyProviderType,
				Config: map[string][]string{name: {value}}}, nil)
			return err
		}
		switch q.form("action") {
		case "add":
			d.Provider, d.Priority = q.form("providerId"), q.form("priority")
			if !slices.Contains(generatedProviders, d.Provider) {
				err = &fieldError{"providerId", "Choose a key provider."}
			} else if _, perr := strconv.ParseInt(d.Priority, 10, 64); perr != nil {
				err = &fieldError{"priority", "Enter a whole number."}
			} else {
				_, err = q.api(http.MethodPost, q.adminPath("/components"), component{Name: d.Provider,
					ProviderID: d.Provider, ProviderType: keyProviderType, Config: map[string][]string{
						"priority": {d.Priority}, "active": {"true"}, "enabled": {"true"}}}, nil)
			}
			if err == nil {
				return q.redirect(action, "created")
			}
		case "passive":
			err = state("active", "false")
		case "active":
			err = state("active", "true")
		case "disable":
			err = state("enabled", "false")
		case "enable":
			err = state("enabled", "true")
		case "delete":
			if _, err = q.api(http.MethodDelete, one, nil, nil); err == nil {
				return q.redirect(action, "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if err == nil {
			return q.redirect(action, "saved")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	if err := q.get(q.adminPath("/keys"), d.keysData); err != nil {
		return err
	}
	if err := q.get(q.adminPath("/components?type="+keyProviderType), &d.Providers); err != nil {
		return err
	}
	d.Names, d.Weak = map[string]string{}, map[string]string{}
	for _, c := range d.Providers {
		d.Names[c.ID] = c.Name
	}
	for _, k := range d.Keys {
		if w := keys.PublicWeakness(k.PublicKey); w != "" {
			d.Weak[k.Kid] = w
		}
	}
	return q.render(status, "realm-keys.html", v)
}

// providerPage is the form of one key provider, new or existing.
type providerPage struct {
	Action   string
	Back     string
	New      bool
	Type     providerType
	Name     string
	Priority string
	Enabled  bool
	Active   bool
	Settings []providerSetting
}

// providerSetting is one provider-specific field with its current value.
type providerSetting struct {
	keys.Setting
	Value string
}

// keyProvider adds a key provider (/keys/providers/new?provider=…) or edits
// one (/keys/providers/{id}): its name, priority, flags and the settings
// of its type. A changed size, curve or key makes a new key.
func (h *Handler) keyProvider(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Key provider", "realm-settings", "keys")
	v.Tabs = q.realmTabs("keys")
	id := q.r.PathValue("id")
	back := q.realmURL("/realm-settings/keys")
	var c component
	if id == "new" {
		c = component{ProviderID: q.r.URL.Query().Get("provider"), Config: map[string][]string{}}
		if !slices.Contains(keys.Providers, c.ProviderID) {
			return errPage(http.StatusNotFound, "Unknown key provider.")
		}
		c.Name = c.ProviderID
		c.Config["priority"], c.Config["enabled"], c.Config["active"] = []string{"0"}, []string{"true"}, []string{"true"}
	} else if err := q.get(q.adminPath("/components/"+seg(id)), &c); err != nil {
		return err
	}
	d := &providerPage{Action: q.r.URL.RequestURI(), Back: back, New: id == "new",
		Type: providerType{c.ProviderID, keys.Description[c.ProviderID]}}
	v.Data = d
	fill := func(c component) {
		d.Name, d.Priority = c.Name, c.Get("priority")
		d.Enabled, d.Active = c.Get("enabled") != "false", c.Get("active") != "false"
		d.Settings = nil
		for _, s := range keys.Settings(c.ProviderID) {
			val := c.Get(s.Name)
			if val == "" || val == secret.Mask {
				val = s.DefaultValue
				if s.Secret {
					val = ""
				}
			}
			d.Settings = append(d.Settings, providerSetting{s, val})
		}
	}
	fill(c)
	if !q.post() {
		return q.render(http.StatusOK, "realm-key-provider.html", v)
	}
	if !q.perms.can("manage-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to manage the realm settings.")
	}
	out := component{Name: q.form("name"), ProviderID: c.ProviderID, ProviderType: keyProviderType, Config: map[string][]string{
		"priority": {q.form("priority")}, "enabled": {strconv.FormatBool(q.checked("enabled"))},
		"active": {strconv.FormatBool(q.checked("active"))}}}
	for _, s := range keys.Settings(c.ProviderID) {
		switch val := q.form(s.Name); {
		case s.Type == "boolean":
			out.Config[s.Name] = []string{strconv.FormatBool(q.checked(s.Name))}
		case s.Secret && val == "" && id != "new":
			// Left empty on an existing provider: keep the stored key.
		case val != "":
			out.Config[s.Name] = []string{val}
		}
	}
	var err error
	if _, perr := strconv.ParseInt(q.form("priority"), 10, 64); perr != nil {
		err = &fieldError{"priority", "Enter a whole number."}
	} else if id == "new" {
		_, err = q.api(http.MethodPost, q.adminPath("/components"), out, nil)
	} else {
		out.ID = c.ID
		_, err = q.api(http.MethodPut, q.adminPath("/components/"+seg(id)), out, nil)
	}
	if err == nil {
		return q.redirect(back, map[bool]string{true: "created", false: "saved"}[id == "new"])
	}
	fill(out)
	return q.refused(v, "realm-key-provider.html", err)
}
