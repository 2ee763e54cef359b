package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// profileMetadata is the admin API's UserProfileMetadata, as far as the
// console renders it.
type profileMetadata struct {
	Attributes []struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		Required    bool   `json:"required"`
		ReadOnly    bool   `json:"readOnly"`
	} `json:"attributes"`
}

// rootAttributes are edited on the details tab.
var rootAttributes = []string{"username", "email", "firstName", "lastName"}

type attrField struct {
	Name, Label, Value, Error string
	ReadOnly, Required        bool
}

type userAttributesData struct {
	Fields    []attrField
	Unmanaged string // name=value lines
	Editable  bool
	Action    string
}

// userAttributes is the user's Attributes tab: the attributes of the realm's
// user profile as fields, validated by the admin API (its messages shown
// under each field), and the attributes the profile does not name as
// name=value lines, which the API keeps or drops by the profile's policy.
func (h *Handler) userAttributes(q *rq) error {
	u, err := q.loadUser()
	if err != nil {
		return err
	}
	v := q.userView(u, "attributes")
	action := q.realmURL("/users/" + seg(u.ID) + "/attributes")
	d := &userAttributesData{Editable: q.perms.can("manage-users"), Action: action}
	v.Data = d
	var md profileMetadata
	if err := q.get(q.adminPath("/users/profile/metadata"), &md); err != nil {
		return err
	}
	managed := map[string]bool{}
	for _, a := range md.Attributes {
		managed[a.Name] = true
		if slices.Contains(rootAttributes, a.Name) {
			continue
		}
		f := attrField{Name: a.Name, Label: ui.Resolve("en", a.DisplayName), ReadOnly: a.ReadOnly, Required: a.Required}
		if vs := u.Attributes[a.Name]; len(vs) > 0 {
			f.Value = vs[0]
		}
		d.Fields = append(d.Fields, f)
	}
	var un []string
	for k, vs := range u.Attributes {
		if !managed[k] {
			for _, x := range vs {
				un = append(un, k+"="+x)
			}
		}
	}
	slices.Sort(un)
	d.Unmanaged = strings.Join(un, "\n")
	if !q.post() {
		return q.render(http.StatusOK, "user-attributes.html", v)
	}
	attrs := map[string][]string{}
	for i, f := range d.Fields {
		val := f.Value
		if !f.ReadOnly {
			val = strings.TrimSpace(q.form("attr." + f.Name))
			d.Fields[i].Value = val
		}
		if val != "" {
			attrs[f.Name] = []string{val}
		}
	}
	d.Unmanaged = q.form("unmanaged")
	for _, l := range lines(d.Unmanaged) {
		k, val, ok := strings.Cut(l, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return q.refused(v, "user-attributes.html", &fieldError{"unmanaged", "Write each attribute as name=value."})
		}
		attrs[k] = append(attrs[k], strings.TrimSpace(val))
	}
	_, err = q.api(http.MethodPut, q.adminPath("/users/"+seg(u.ID)), map[string]any{"attributes": attrs}, nil)
	if err == nil {
		return q.redirect(action, "saved")
	}
	status, err := failed(v, err)
	if err != nil {
		return err
	}
	for i := range d.Fields {
		d.Fields[i].Error = v.FieldError(d.Fields[i].Name)
	}
	return q.render(status, "user-attributes.html", v)
}

// userImpersonate signs the administrator's browser in as the user through
// the admin API's impersonation, passing on the SSO cookies it sets, and
// sends the browser to the user's account console.
func (h *Handler) userImpersonate(q *rq) error {
	res, err := h.call(q.r, http.MethodPost, q.adminPath("/users/"+seg(q.r.PathValue("id"))+"/impersonation"), q.sess.Access, "", nil)
	if err != nil {
		return err
	}
	if res.status != http.StatusOK {
		return errPage(res.status, readError(res).Message)
	}
	var out struct {
		Redirect string `json:"redirect"`
	}
	if err := json.Unmarshal(res.body.Bytes(), &out); err != nil || out.Redirect == "" {
		return errPage(http.StatusBadGateway, "The impersonation did not say where to go.")
	}
	for _, c := range res.header.Values("Set-Cookie") {
		q.w.Header().Add("Set-Cookie", c)
	}
	return q.redirect(out.Redirect, "")
}
