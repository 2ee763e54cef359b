package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// adminAPI calls the admin REST API as the master realm's admin (a token
// from admin-cli's password grant) and returns the status and body.
func adminAPI(t *testing.T, e *env, method, path string, body any) (int, string) {
	t.Helper()
	res, err := http.PostForm(e.srv.URL+"/realms/master/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

func storedProfile(t *testing.T, e *env) profile.Config {
	t.Helper()
	return profile.Load(e.realm("demo").UserProfile)
}

// The User profile editor: an attribute group and an attribute with a
// pattern validator made through the forms, the validator then refusing a
// user's value on the admin API; the API's refusal of a bad document shown
// on the form; deleting the attribute and the group.
func TestUserProfileEditor(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		home := b.signIn("/admin/master/console/", "admin", "admin-pw")
		up := "/admin/master/console/demo/realm-settings/user-profile"

		for _, path := range []string{up, up + "/groups", up + "/json", up + "/attribute", up + "/attribute?name=email", up + "/group"} {
			if p := b.get(path); p.status != http.StatusOK || !strings.Contains(p.body, "User profile") {
				t.Fatalf("%s: %d %s", path, p.status, p.body)
			}
		}

		if p := b.get(up + "/attribute?name=nope"); p.status != http.StatusNotFound {
			t.Errorf("unknown attribute: %d", p.status)
		}
		// A group.
		p := b.submit(home, up+"/group", url.Values{"name": {"work"}, "displayHeader": {"Work"}, "displayDescription": {"About the job"},
			"annotations": {"collapsed=true"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create group: %d %s", p.status, p.body)
		}
		cfg := storedProfile(t, e)
		if len(cfg.Groups) == 0 || cfg.Groups[len(cfg.Groups)-1].DisplayHeader != "Work" || cfg.Groups[len(cfg.Groups)-1].Annotations["collapsed"] != "true" {
			t.Fatalf("stored groups: %+v", cfg.Groups)
		}
		if p := b.get(up + "/groups"); !strings.Contains(p.body, "About the job") {
			t.Errorf("group not listed: %s", p.body)
		}
		if p := b.submit(home, up+"/group?name=work", url.Values{"displayHeader": {"Job"}, "displayDescription": {""}}); p.status != http.StatusSeeOther {
			t.Fatalf("edit group: %d %s", p.status, p.body)
		}
		if g := storedProfile(t, e).Groups; g[len(g)-1].DisplayHeader != "Job" || g[len(g)-1].Annotations != nil {
			t.Errorf("edited group: %+v", g)
		}

		// An attribute whose pattern the profile cannot compile: the API's
		// message on the form, nothing stored.
		form := url.Values{"name": {"employeeCode"}, "displayName": {"Employee code"}, "group": {"work"}, "viewAdmin": {"on"},
			"editAdmin": {"on"}, "newValidator": {"pattern"}, "newValidatorConfig": {"pattern=(\nerror-message=Digits only, please"}}
		p = b.submit(home, up+"/attribute", form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Invalid validator configuration for attribute &#39;employeeCode&#39;") {
			t.Fatalf("bad pattern: %d %s", p.status, p.body)
		}
		if _, ok := storedProfile(t, e).Attribute("employeeCode"); ok {
			t.Fatal("refused attribute stored")
		}
		// A line the form cannot read: at its field.
		form.Set("annotations", "no equals sign")
		p = b.submit(home, up+"/attribute", form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-annotations"`) {
			t.Fatalf("bad annotation: %d %s", p.status, p.body)
		}
		form.Set("annotations", "inputType=text")
		form.Set("newValidatorConfig", "pattern=^[0-9]+$\nerror-message=Digits only, please")
		if p = b.submit(home, up+"/attribute", form); p.status != http.StatusSeeOther {
			t.Fatalf("create attribute: %d %s", p.status, p.body)
		}
		a, ok := storedProfile(t, e).Attribute("employeeCode")
		if !ok || a.Group != "work" || a.Validations["pattern"]["pattern"] != "^[0-9]+$" || a.Annotations["inputType"] != "text" ||
			a.Permissions == nil || len(a.Permissions.View) != 1 || a.Required != nil {
			t.Fatalf("stored attribute: %+v", a)
		}
		p = b.get(up + "/attribute?name=employeeCode")
		if !strings.Contains(p.body, `name="validator.0.name" value="pattern"`) || !strings.Contains(p.body, "error-message=Digits only, please") {
			t.Errorf("attribute form: %s", p.body)
		}

		// The validator answers the admin API.
		u := e.addUser(e.demo, "frank", "frank-pw")
		status, body := adminAPI(t, e, http.MethodPut, "/admin/realms/demo/users/"+u.ID,
			map[string]any{"attributes": map[string][]string{"employeeCode": {"12ab"}}})
		if status != http.StatusBadRequest || !strings.Contains(body, "Digits only, please") {
			t.Errorf("user update with a bad value: %d %s", status, body)
		}
		if status, body := adminAPI(t, e, http.MethodPut, "/admin/realms/demo/users/"+u.ID,
			map[string]any{"attributes": map[string][]string{"employeeCode": {"1234"}}}); status != http.StatusNoContent {
			t.Errorf("user update with a good value: %d %s", status, body)
		}

		// Required for users when a scope is asked; a validator removed.
		form = url.Values{"displayName": {"Employee code"}, "group": {"work"}, "viewAdmin": {"on"}, "viewUser": {"on"}, "editAdmin": {"on"},
			"required": {"on"}, "requiredFor": {"user"}, "requiredWhen": {"scopes"}, "requiredScopes": {"profile work"},
			"validator.0.name": {"pattern"}, "validator.0.config": {"pattern=^[0-9]+$"}, "validator.0.remove": {"on"},
			"newValidator": {"length"}, "newValidatorConfig": {"max=8"}}
		if p = b.submit(home, up+"/attribute?name=employeeCode", form); p.status != http.StatusSeeOther {
			t.Fatalf("edit attribute: %d %s", p.status, p.body)
		}
		a, _ = storedProfile(t, e).Attribute("employeeCode")
		if a.Required == nil || strings.Join(a.Required.Roles, ",") != "user" || strings.Join(a.Required.Scopes, ",") != "profile,work" ||
			a.Validations["pattern"] != nil || a.Validations["length"]["max"] != "8" || len(a.Permissions.View) != 2 {
			t.Errorf("edited attribute: %+v", a)
		}

		// The group cannot go while an attribute names it.
		p = b.submit(home, up+"/groups", url.Values{"action": {"delete"}, "name": {"work"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "references unknown group") {
			t.Errorf("delete a group in use: %d %s", p.status, p.body)
		}
		if p = b.submit(home, up, url.Values{"action": {"delete"}, "name": {"employeeCode"}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete attribute: %d %s", p.status, p.body)
		}
		if _, ok := storedProfile(t, e).Attribute("employeeCode"); ok {
			t.Error("attribute not deleted")
		}
		if p = b.submit(home, up+"/groups", url.Values{"action": {"delete"}, "name": {"work"}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete group: %d %s", p.status, p.body)
		}
		for _, g := range storedProfile(t, e).Groups {
			if g.Name == "work" {
				t.Error("group not deleted")
			}
		}
		// username cannot go: the profile's own rule, at the top.
		p = b.submit(home, up, url.Values{"action": {"delete"}, "name": {"username"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "can not be removed") {
			t.Errorf("delete username: %d %s", p.status, p.body)
		}
	})
}

// A view-only administrator sees the dedicated mappers and the User profile
// tabs without a button that writes, and the API refuses what they post.
func TestViewOnlyMappersAndProfile(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		admin := e.browser()
		home := admin.signIn("/admin/master/console/", "admin", "admin-pw")
		if p := admin.submit(home, "/admin/master/console/demo/clients/new", url.Values{"clientId": {"app"}, "accessType": {"public"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create client: %d", p.status)
		}
		app := e.clientUUID("demo", "app")
		mappers := "/admin/master/console/demo/clients/" + app + "/mappers"
		if p := admin.submit(home, mappers, url.Values{"action": {"create"}, "type": {"oidc-hardcoded-claim-mapper"}, "name": {"tenant"},
			"claim.name": {"tenant"}, "claim.value": {"acme"}, "jsonType.label": {"String"}}); p.status != http.StatusSeeOther {
			t.Fatalf("add mapper: %d %s", p.status, p.body)
		}
		if p := admin.submit(home, "/admin/master/console/demo/realm-settings/user-profile/group", url.Values{"name": {"work"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create group: %d %s", p.status, p.body)
		}
		before := string(e.realm("demo").UserProfile)

		e.addUser(e.demo, "viewer", "viewer-pw", "view-realm", "view-users", "view-clients")
		b := e.browser()
		vhome := b.signIn("/admin/demo/console/", "viewer", "viewer-pw")
		v := "/admin/demo/console/demo"
		up := v + "/realm-settings/user-profile"
		for _, path := range []string{"/clients/" + app + "/mappers", "/clients/" + app + "/mappers?type=oidc-hardcoded-claim-mapper",
			"/realm-settings/user-profile", "/realm-settings/user-profile/groups", "/realm-settings/user-profile/json",
			"/realm-settings/user-profile/attribute?name=email", "/realm-settings/user-profile/group?name=work"} {
			p := b.get(v + path)
			if p.status != http.StatusOK {
				t.Errorf("%s: %d", path, p.status)
				continue
			}
			for _, btn := range submitButton.FindAllString(p.body, -1) {
				if !strings.Contains(btn, `id="sign-out"`) {
					t.Errorf("%s offers %s", path, btn)
				}
			}
		}
		if p := b.get(v + "/clients/" + app + "/mappers"); !strings.Contains(p.body, "tenant") {
			t.Error("the viewer does not see the mapper")
		}

		posts := []struct {
			path string
			form url.Values
		}{
			{v + "/clients/" + app + "/mappers", url.Values{"action": {"create"}, "type": {"oidc-hardcoded-claim-mapper"}, "name": {"x"}, "claim.name": {"x"}, "jsonType.label": {"String"}}},
			{v + "/clients/" + app + "/mappers", url.Values{"action": {"add-predefined"}, "predefined": {"birthdate"}}},
			{up + "/attribute", url.Values{"name": {"code"}, "viewAdmin": {"on"}}},
			{up + "/group", url.Values{"name": {"other"}}},
			{up + "/groups", url.Values{"action": {"delete"}, "name": {"work"}}},
			{up + "/json", url.Values{"profile": {`{"attributes":[{"name":"username"},{"name":"email"}]}`}}},
		}
		for _, x := range posts {
			if p := b.submit(vhome, x.path, x.form); p.status != http.StatusForbidden {
				t.Errorf("viewer POST %s: %d", x.path, p.status)
			}
		}
		c, _ := e.db.GetClient(context.Background(), e.demo.ID, app)
		if len(c.ProtocolMappers) != 1 {
			t.Errorf("viewer changed the mappers: %+v", c.ProtocolMappers)
		}
		if after := string(e.realm("demo").UserProfile); after != before {
			t.Errorf("viewer changed the profile: %s", after)
		}
	})
}
