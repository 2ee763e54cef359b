package console

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// clientPoliciesData is Realm settings → Client policies: the realm's
// profiles and policies as JSON, as Keycloak's console offers them in its
// JSON editor.
type clientPoliciesData struct {
	Profiles, Policies string
	Editable           bool
	Action             string
}

// realmClientPolicies shows and saves the realm's client profiles and
// policies. The admin API refuses an executor or condition Gatehouse does
// not run, and the page shows why.
func (h *Handler) realmClientPolicies(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Realm settings", "realm-settings", "client-policies")
	v.Tabs = q.realmTabs("client-policies")
	d := &clientPoliciesData{Editable: q.perms.can("manage-realm"), Action: q.realmURL("/realm-settings/client-policies")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		which := q.form("document")
		text := q.r.PostForm.Get(which)
		var doc any
		var err error
		switch {
		case which != "profiles" && which != "policies":
			return errPage(http.StatusBadRequest, "Unknown document.")
		case json.Unmarshal([]byte(text), &doc) != nil:
			err = &fieldError{which, "This is not valid JSON."}
		default:
			if _, err = q.api(http.MethodPut, q.adminPath("/client-policies/"+which), doc, nil); err == nil {
				return q.redirect(d.Action, "saved")
			}
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
		// Keep what the administrator wrote in the refused editor.
		if which == "profiles" {
			d.Profiles = text
		} else {
			d.Policies = text
		}
	}
	for _, doc := range []struct {
		name string
		dst  *string
	}{{"profiles", &d.Profiles}, {"policies", &d.Policies}} {
		if *doc.dst != "" {
			continue
		}
		var raw json.RawMessage
		if err := q.get(q.adminPath("/client-policies/"+doc.name), &raw); err != nil {
			return err
		}
		var pretty bytes.Buffer
		json.Indent(&pretty, raw, "", "  ")
		*doc.dst = pretty.String()
	}
	return q.render(status, "client-policies.html", v)
}
