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
	pf, err := q.profileFields(u.Attributes)
	if err != nil {
		return err
	}
	d.Fields = pf.Fields
	managed := pf.Managed
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
	attrs := q.readProfileFields(d.Fields)
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
	markFields(v, d.Fields)
	return q.render(status, "user-attributes.html", v)
}

// profileForm is what the user forms take from the realm's user profile.
type profileForm struct {
	// Fields are the profile's attributes beyond the root ones, in the
	// profile's order, valued from the user's attributes.
	Fields []attrField
	// Managed names every attribute the profile declares.
	Managed map[string]bool
	// RootRequired names the root attributes the profile requires of an
	// administrator.
	RootRequired map[string]bool
}

// profileFields reads the realm's user profile (the admin API's metadata,
// so the API's own rules decide what is required and read-only) for a user
// whose attributes are attrs.
func (q *rq) profileFields(attrs map[string][]string) (profileForm, error) {
	var md profileMetadata
	if err := q.get(q.adminPath("/users/profile/metadata"), &md); err != nil {
		return profileForm{}, err
	}
	pf := profileForm{Managed: map[string]bool{}, RootRequired: map[string]bool{}}
	for _, a := range md.Attributes {
		pf.Managed[a.Name] = true
		if slices.Contains(rootAttributes, a.Name) {
			pf.RootRequired[a.Name] = a.Required
			continue
		}
		f := attrField{Name: a.Name, Label: ui.Resolve("en", a.DisplayName), ReadOnly: a.ReadOnly, Required: a.Required}
		if vs := attrs[a.Name]; len(vs) > 0 {
			f.Value = vs[0]
		}
		pf.Fields = append(pf.Fields, f)
	}
	return pf, nil
}

// readProfileFields takes the posted values of fields (attr.<name>), keeps
// them in fields for the page shown again, and returns the non-empty ones
// as attributes. A read-only field keeps its value.
func (q *rq) readProfileFields(fields []attrField) map[string][]string {
	attrs := map[string][]string{}
	for i, f := range fields {
		val := f.Value
		if !f.ReadOnly {
			val = strings.TrimSpace(q.form("attr." + f.Name))
			fields[i].Value = val
		}
		if val != "" {
			attrs[f.Name] = []string{val}
		}
	}
	return attrs
}

// markFields puts the API's message for each field under it.
func markFields(v *view, fields []attrField) {
	for i := range fields {
		fields[i].Error = v.FieldError(fields[i].Name)
	}
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
		SameRealm bool   `json:"sameRealm"`
		Redirect  string `json:"redirect"`
	}
	if err := json.Unmarshal(res.body.Bytes(), &out); err != nil || out.Redirect == "" {
		return errPage(http.StatusBadGateway, "The impersonation did not say where to go.")
	}
	if out.SameRealm {
		// The administrator's own session in the realm has ended with the
		// impersonation; the console's cookie would only name a dead one.
		q.h.setCookie(q.w, q.r, q.login, cookieSession, "", -1)
	}
	for _, c := range res.header.Values("Set-Cookie") {
		q.w.Header().Add("Set-Cookie", c)
	}
	return q.redirect(out.Redirect, "")
}
