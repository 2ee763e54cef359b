package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The Evaluate tab shows the mappers a scope brings in and an example
// token; Action → Download adapter config serves the adapter files.
func TestClientEvaluateAndAdapterConfig(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	p := b.submit(home, r+"/clients/new", url.Values{"clientId": {"app"}, "accessType": {"confidential"},
		"standardFlowEnabled": {"on"}, "serviceAccountsEnabled": {"on"}, "redirectUris": {"http://localhost/*"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create client: %d %s", p.status, p.body)
	}
	client := strings.TrimSuffix(p.header.Get("Location"), "?notice=created")

	page := b.get(client + "/evaluate?scope=openid+address")
	if page.status != 200 || !strings.Contains(page.body, `id="evaluated-mappers"`) || !strings.Contains(page.body, "address") {
		t.Fatalf("evaluate tab: %d\n%s", page.status, page.body)
	}
	page = b.get(client + "/evaluate?scope=openid&user=service-account-app&kind=access-token")
	if !strings.Contains(page.body, `id="example-token"`) || !strings.Contains(page.body, "service-account-app") {
		t.Fatalf("example token missing:\n%s", page.body)
	}
	page = b.get(client + "/evaluate?user=nobody")
	if !strings.Contains(page.body, `id="evaluate-error"`) {
		t.Fatalf("unknown user: %s", page.body)
	}

	page = b.get(client)
	if !strings.Contains(page.body, `id="adapter-json"`) {
		t.Fatalf("no download action on the settings page")
	}
	page = b.get(client + "/adapter-config?provider=keycloak-oidc-keycloak-json")
	if page.status != 200 || !strings.Contains(page.header.Get("Content-Disposition"), "keycloak.json") {
		t.Fatalf("adapter config: %d %v", page.status, page.header)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(page.body), &cfg); err != nil || cfg["resource"] != "app" || cfg["realm"] != "demo" {
		t.Fatalf("keycloak.json: %v %s", err, page.body)
	}
	page = b.get(client + "/adapter-config?provider=keycloak-oidc-jboss-subsystem")
	if !strings.Contains(page.body, "<resource>app</resource>") {
		t.Fatalf("subsystem xml: %s", page.body)
	}
}

// Realm settings → Client policies saves the JSON documents through the
// admin API and shows its refusal.
func TestClientPoliciesPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	path := "/admin/master/console/demo/realm-settings/client-policies"
	page := b.get(path)
	if page.status != 200 || !strings.Contains(page.body, `id="profiles"`) || !strings.Contains(page.body, "&#34;profiles&#34;") {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}
	bad := `{"profiles":[{"name":"x","executors":[{"executor":"holder-of-key-enforcer","configuration":{}}]}]}`
	p := b.submit(home, path, url.Values{"document": {"profiles"}, "profiles": {bad}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "executor not supported: holder-of-key-enforcer") {
		t.Fatalf("refused profile: %d\n%s", p.status, p.body)
	}
	p = b.submit(home, path, url.Values{"document": {"profiles"}, "profiles": {"{not json"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "not valid JSON") {
		t.Fatalf("bad json: %d", p.status)
	}
	good := `{"profiles":[{"name":"x","executors":[{"executor":"consent-required","configuration":{"auto-configure":"true"}}]}]}`
	p = b.submit(home, path, url.Values{"document": {"profiles"}, "profiles": {good}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.status, p.body)
	}
	if page = b.get(path); !strings.Contains(page.body, "consent-required") {
		t.Fatalf("saved profile not shown")
	}
}

// Role and group attributes are edited as key=value lines and read back.
func TestRoleAndGroupAttributes(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	if p := b.submit(home, r+"/roles", url.Values{"action": {"create"}, "name": {"reader"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create role: %d", p.status)
	}
	p := b.submit(home, r+"/roles/reader", url.Values{"action": {"save"}, "description": {"reads"}, "attributes": {"team=blue\nteam=green\nlevel=2\n"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save role: %d\n%s", p.status, p.body)
	}
	page := b.get(r + "/roles/reader")
	if !strings.Contains(page.body, "level=2\nteam=blue\nteam=green\n") {
		t.Fatalf("role attributes not shown:\n%s", page.body)
	}
	p = b.submit(home, r+"/roles/reader", url.Values{"action": {"save"}, "attributes": {"no equals sign"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Write each attribute as key=value") {
		t.Fatalf("bad attribute line: %d", p.status)
	}

	p = b.submit(home, r+"/groups", url.Values{"name": {"staff"}})
	group := strings.TrimSuffix(p.header.Get("Location"), "?notice=created")
	p = b.submit(home, group, url.Values{"action": {"rename"}, "groupName": {"staff"}, "description": {"everyone"}, "attributes": {"site=paris"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save group: %d\n%s", p.status, p.body)
	}
	page = b.get(group)
	if !strings.Contains(page.body, "site=paris") || !strings.Contains(page.body, `value="everyone"`) {
		t.Fatalf("group settings not shown:\n%s", page.body)
	}
}

// A mapper is edited in place; one missing a required setting is refused
// with the field named.
func TestMapperEdit(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	p := b.submit(home, r+"/client-scopes/new", url.Values{"name": {"info"}, "protocol": {"openid-connect"}, "type": {"optional"}})
	scope := strings.TrimSuffix(p.header.Get("Location"), "?notice=created")
	mappers := scope + "/mappers"
	p = b.submit(home, mappers, url.Values{"action": {"create"}, "type": {"oidc-usermodel-attribute-mapper"}, "name": {"dept"},
		"user.attribute": {""}, "claim.name": {"dept"}, "jsonType.label": {"String"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-user.attribute"`) || !strings.Contains(p.body, "User Attribute is required") {
		t.Fatalf("missing user.attribute: %d\n%s", p.status, p.body)
	}
	p = b.submit(home, mappers, url.Values{"action": {"create"}, "type": {"oidc-usermodel-attribute-mapper"}, "name": {"dept"},
		"user.attribute": {"department"}, "claim.name": {"dept"}, "jsonType.label": {"String"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create mapper: %d\n%s", p.status, p.body)
	}
	sc, err := e.db.GetClientScopeByName(t.Context(), e.realm("demo").ID, "info")
	if err != nil || len(sc.ProtocolMappers) != 1 {
		t.Fatalf("stored mappers: %v %v", err, sc.ProtocolMappers)
	}
	id := sc.ProtocolMappers[0].ID
	page := b.get(mappers + "?mapper=" + id)
	if !strings.Contains(page.body, "Edit mapper") || !strings.Contains(page.body, `value="department"`) {
		t.Fatalf("edit form:\n%s", page.body)
	}
	p = b.submit(home, mappers, url.Values{"action": {"update"}, "mapper": {id}, "type": {"oidc-usermodel-attribute-mapper"}, "name": {"dept"},
		"user.attribute": {"division"}, "claim.name": {"dept"}, "jsonType.label": {"String"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("update mapper: %d\n%s", p.status, p.body)
	}
	sc, _ = e.db.GetClientScopeByName(t.Context(), e.realm("demo").ID, "info")
	if sc.ProtocolMappers[0].Config["user.attribute"] != "division" || len(sc.ProtocolMappers) != 1 {
		t.Fatalf("updated mapper: %+v", sc.ProtocolMappers)
	}
}
