package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const idpsPath = "/admin/master/console/demo/identity-providers"

func (e *env) provider(alias string) (idp.Provider, error) {
	return e.db.GetIdentityProvider(context.Background(), e.demo.ID, alias)
}

// The identity providers section: adding a social and an OpenID Connect
// provider, the settings form with its secret kept when left empty, the
// discovery import refused for a loopback address, enabling, disabling and
// deleting, and what a view-only administrator sees. On both databases.
func TestIdentityProvidersSection(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		b := e.browser()
		b.signIn(masterConsole, "admin", "admin-pw")

		p := b.get(idpsPath)
		if p.status != 200 || !strings.Contains(p.body, `id="no-providers"`) || !strings.Contains(p.body, `id="nav-identity-providers"`) {
			t.Fatalf("empty list: %d %s", p.status, p.body)
		}
		for _, id := range []string{"oidc", "keycloak-oidc", "google", "github", "gitlab", "microsoft", "facebook", "linkedin-openid-connect"} {
			if !strings.Contains(p.body, `id="add-`+id+`"`) {
				t.Errorf("no way to add %s", id)
			}
		}

		// A social provider: its form has the client fields and GitHub's own.
		add := idpsPath + "/github/add"
		p = b.get(add)
		for _, w := range []string{`name="config.clientId"`, `name="config.clientSecret" autocomplete="new-password"`, `name="config.baseUrl"`,
			`name="storeToken"`, `name="trustEmail"`, `name="hideOnLogin"`, `name="config.syncMode"`, `name="firstBrokerLoginFlowAlias"`,
			`<option value="first broker login">`, `value="/realms/demo/broker/github/endpoint"`} {
			if !strings.Contains(p.body, w) && !strings.Contains(p.body, strings.Replace(w, `value="/realms`, `value="`+e.srv.URL+`/realms`, 1)) {
				t.Errorf("github form lacks %s", w)
			}
		}
		p = b.submit(p, add, url.Values{"action": {"save"}, "alias": {"github"}, "config.clientId": {"gh-client"},
			"config.clientSecret": {"gh-secret-1"}, "config.guiOrder": {"3"}, "config.syncMode": {"IMPORT"}, "trustEmail": {"on"},
			"config.showInAccountConsole": {"ALWAYS"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != idpsPath+"/github/github/settings?notice=created" {
			t.Fatalf("add github: %d %q %s", p.status, p.header.Get("Location"), p.body)
		}
		gh, err := e.provider("github")
		if err != nil || !gh.Enabled || !gh.TrustEmail || gh.Config["clientSecret"] != "gh-secret-1" || gh.Config["guiOrder"] != "3" ||
			gh.EffectiveSyncMode() != "IMPORT" {
			t.Fatalf("stored github: %v %+v", err, gh)
		}

		// The settings page shows the redirect URI, never the secret; saving
		// with the secret left empty keeps it.
		settings := idpsPath + "/github/github/settings"
		p = b.follow(p)
		if !strings.Contains(p.body, e.srv.URL+"/realms/demo/broker/github/endpoint") || strings.Contains(p.body, "gh-secret-1") ||
			!strings.Contains(p.body, `id="f-alias" name="alias" value="github" readonly`) || !strings.Contains(p.body, "Created.") {
			t.Errorf("settings page: %s", p.body)
		}
		p = b.submit(p, settings, url.Values{"action": {"save"}, "config.clientId": {"gh-client-2"}, "config.clientSecret": {""},
			"hideOnLogin": {"on"}, "config.syncMode": {"FORCE"}, "config.showInAccountConsole": {"WHEN_LINKED"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save github: %d %s", p.status, p.body)
		}
		gh, _ = e.provider("github")
		if gh.Config["clientId"] != "gh-client-2" || gh.Config["clientSecret"] != "gh-secret-1" || !gh.HideOnLogin || gh.TrustEmail ||
			gh.EffectiveSyncMode() != "FORCE" || gh.Config["showInAccountConsole"] != "WHEN_LINKED" {
			t.Errorf("github after save: %+v", gh)
		}
		// A new secret replaces the old one.
		p = b.submit(b.get(settings), settings, url.Values{"action": {"save"}, "config.clientId": {"gh-client-2"}, "config.clientSecret": {"gh-secret-2"},
			"hideOnLogin": {"on"}, "config.syncMode": {"FORCE"}, "config.showInAccountConsole": {"WHEN_LINKED"}})
		if gh, _ = e.provider("github"); p.status != http.StatusSeeOther || gh.Config["clientSecret"] != "gh-secret-2" {
			t.Errorf("new secret: %d %q", p.status, gh.Config["clientSecret"])
		}

		// An OpenID Connect provider: the discovery import is the API's,
		// which refuses a loopback address; the refusal is shown next to
		// the field, and nothing is stored.
		addOIDC := idpsPath + "/oidc/add"
		p = b.get(addOIDC)
		for _, w := range []string{`id="f-discoveryEndpoint"`, `id="import-discovery"`, `name="config.authorizationUrl"`, `name="config.tokenUrl"`,
			`name="config.clientAuthMethod"`, `<option value="private_key_jwt"`, `name="config.pkceEnabled" value="on" checked`,
			`<option value="S256" selected>`, `name="config.validateSignature" value="on" checked`, `name="config.useJwksUrl" value="on" checked`,
			`name="config.jwksUrl"`, `name="config.prompt"`, `name="config.defaultScope"`, `name="config.isAccessTokenJWT"`, `name="displayName"`} {
			if !strings.Contains(p.body, w) {
				t.Errorf("oidc form lacks %s", w)
			}
		}
		p = b.submit(p, addOIDC, url.Values{"action": {"import"}, "alias": {"corp"}, "discoveryEndpoint": {e.srv.URL + "/realms/master/.well-known/openid-configuration"}})
		if p.status < 400 || !strings.Contains(p.body, `id="e-discoveryEndpoint"`) || !strings.Contains(p.body, `value="corp"`) {
			t.Errorf("import from loopback: %d %s", p.status, p.body)
		}
		if _, err := e.provider("corp"); err == nil {
			t.Error("the import stored a provider")
		}
		// The discovery document pasted instead: the form comes back filled
		// from it, nothing stored yet.
		doc := b.get("/realms/demo/.well-known/openid-configuration")
		if doc.status != 200 {
			t.Fatalf("discovery document: %d", doc.status)
		}
		p = b.submit(p, addOIDC, url.Values{"action": {"import"}, "alias": {"upstream"}, "discoveryDocument": {doc.body}})
		issuer := e.srv.URL + "/realms/demo"
		for _, w := range []string{`name="config.authorizationUrl" value="` + issuer + `/protocol/openid-connect/auth"`,
			`name="config.tokenUrl" value="` + issuer + `/protocol/openid-connect/token"`,
			`name="config.jwksUrl" value="` + issuer + `/protocol/openid-connect/certs"`,
			`name="config.issuer" value="` + issuer + `"`, `value="upstream"`, "The provider&#39;s metadata was imported."} {
			if !strings.Contains(p.body, w) {
				t.Errorf("after import, the form lacks %s", w)
			}
		}
		if p.status != 200 {
			t.Errorf("import: %d %s", p.status, p.body)
		}
		if _, err := e.provider("upstream"); err == nil {
			t.Error("the import stored a provider")
		}
		// A document that is none is the API's refusal, next to the field.
		if p := b.submit(p, addOIDC, url.Values{"action": {"import"}, "alias": {"upstream"}, "discoveryDocument": {"not json"}}); p.status != 400 ||
			!strings.Contains(p.body, `id="e-discoveryDocument"`) {
			t.Errorf("bad document: %d %s", p.status, p.body)
		}
		// An alias already taken: the API's refusal, shown above the form,
		// and nothing stored.
		p = b.submit(p, addOIDC, url.Values{"action": {"save"}, "alias": {"github"}, "config.clientId": {"corp-client"},
			"config.authorizationUrl": {"https://idp.example.com/auth"}, "config.tokenUrl": {"https://idp.example.com/token"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, `id="form-error"`) || !strings.Contains(p.body, `value="corp-client"`) {
			t.Errorf("taken alias: %d %s", p.status, p.body)
		}
		if gh, _ := e.provider("github"); gh.ProviderID != "github" || gh.Config["clientId"] != "gh-client-2" {
			t.Errorf("github after a refused add: %+v", gh)
		}
		p = b.submit(p, addOIDC, url.Values{"action": {"save"}, "alias": {"corp"}, "displayName": {"Corporate login"},
			"config.authorizationUrl": {"https://idp.example.com/auth"}, "config.tokenUrl": {"https://idp.example.com/token"},
			"config.jwksUrl": {"https://idp.example.com/jwks"}, "config.validateSignature": {"on"}, "config.useJwksUrl": {"on"},
			"config.pkceEnabled": {"on"}, "config.pkceMethod": {"S256"}, "config.clientAuthMethod": {"client_secret_basic"},
			"config.clientId": {"corp-client"}, "config.clientSecret": {"corp-secret"}, "config.prompt": {"login"},
			"config.defaultScope": {"openid email"}, "config.sendIdTokenOnLogout": {"on"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("add corp: %d %s", p.status, p.body)
		}
		corp, err := e.provider("corp")
		if err != nil || corp.DisplayName != "Corporate login" || corp.Config["clientAuthMethod"] != "client_secret_basic" ||
			corp.Config["pkceMethod"] != "S256" || corp.Config["prompt"] != "login" || corp.Config["validateSignature"] != "true" ||
			corp.Config["clientSecret"] != "corp-secret" {
			t.Errorf("stored corp: %v %+v", err, corp)
		}

		// The list, then disable, enable and delete.
		p = b.get(idpsPath)
		if !strings.Contains(p.body, `id="idp-corp"`) || !strings.Contains(p.body, "Corporate login") || !strings.Contains(p.body, `id="idp-github"`) ||
			!strings.Contains(p.body, "Hidden on login") {
			t.Errorf("list: %s", p.body)
		}
		if p = b.submit(p, idpsPath, url.Values{"action": {"disable"}, "alias": {"corp"}}); p.status != http.StatusSeeOther {
			t.Fatalf("disable: %d %s", p.status, p.body)
		}
		if corp, _ = e.provider("corp"); corp.Enabled || corp.Config["clientSecret"] != "corp-secret" {
			t.Errorf("after disable: %+v", corp)
		}
		p = b.get(idpsPath + "/oidc/corp/settings")
		if !strings.Contains(p.body, `id="provider-disabled"`) {
			t.Errorf("settings of a disabled provider: %s", p.body)
		}
		if p = b.submit(p, idpsPath+"/oidc/corp/settings", url.Values{"action": {"enable"}}); p.status != http.StatusSeeOther {
			t.Fatalf("enable: %d", p.status)
		}
		if corp, _ = e.provider("corp"); !corp.Enabled {
			t.Error("not enabled")
		}
		// A provider of another type at the path is not found.
		if p = b.get(idpsPath + "/github/corp/settings"); p.status != http.StatusNotFound {
			t.Errorf("wrong type in path: %d", p.status)
		}
		if p = b.submit(b.get(idpsPath), idpsPath, url.Values{"action": {"delete"}, "alias": {"corp"}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.status, p.body)
		}
		if _, err := e.provider("corp"); err == nil {
			t.Error("corp not deleted")
		}

		// A view-only administrator sees the section and no button; a
		// forged post is the API's 403.
		e.addUser(e.demo, "idp-viewer", "viewer-pw", "view-identity-providers")
		v := e.browser()
		v.signIn("/admin/demo/console/", "idp-viewer", "viewer-pw")
		const own = "/admin/demo/console/demo/identity-providers"
		p = v.get(own)
		if p.status != 200 || !strings.Contains(p.body, `id="idp-github"`) || strings.Contains(p.body, `id="add-provider"`) ||
			strings.Contains(p.body, `id="delete-github"`) {
			t.Errorf("viewer list: %d %s", p.status, p.body)
		}
		p = v.get(own + "/github/github/settings")
		if p.status != 200 || !strings.Contains(p.body, "<fieldset disabled>") || strings.Contains(p.body, `id="save-provider"`) {
			t.Errorf("viewer settings: %d %s", p.status, p.body)
		}
		if p = v.submit(p, own+"/github/github/settings", url.Values{"action": {"delete"}}); p.status != http.StatusForbidden {
			t.Errorf("viewer delete: %d", p.status)
		}
		if p = v.get(own + "/github/add"); p.status != http.StatusForbidden {
			t.Errorf("viewer add page: %d", p.status)
		}
		if _, err := e.provider("github"); err != nil {
			t.Errorf("github after the viewer: %v", err)
		}
	})
}

var mapperLink = regexp.MustCompile(`<a href="([^"]*/mappers/[^"/]+)">`)

// The mappers tab: each of the seven mapper types can be added with its
// own fields (the advanced claim mappers' claims as name=value lines),
// edited and deleted.
func TestIdentityProviderMappersTab(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := idp.New("corp", "oidc")
	p.Config = map[string]string{"authorizationUrl": "https://idp.example.com/auth", "tokenUrl": "https://idp.example.com/token", "clientId": "c"}
	if _, err := e.db.CreateIdentityProvider(ctx, e.demo.ID, p); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateGroup(ctx, role.Group{ID: store.NewID(), RealmID: e.demo.ID, Name: "staff"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	tab := idpsPath + "/oidc/corp/mappers"
	pg := b.get(tab)
	if pg.status != 200 || !strings.Contains(pg.body, `id="no-mappers"`) || !strings.Contains(pg.body, `id="tab-mappers"`) {
		t.Fatalf("mappers tab: %d %s", pg.status, pg.body)
	}
	pg = b.get(tab + "/create")
	types := map[string]url.Values{
		"oidc-hardcoded-role-idp-mapper":  {"role": {"offline_access"}},
		"hardcoded-attribute-idp-mapper":  {"attribute": {"department"}, "attribute.value": {"sales"}},
		"oidc-hardcoded-group-idp-mapper": {"group": {"/staff"}},
		"oidc-user-attribute-idp-mapper":  {"claim": {"email"}, "user.attribute": {"email"}},
		"oidc-username-idp-mapper":        {"template": {"${CLAIM.preferred_username}"}, "target": {"LOCAL"}},
		"oidc-advanced-role-idp-mapper":   {"claims": {"department = sales\ngroups=admins"}, "are.claim.values.regex": {"on"}, "role": {"offline_access"}},
		"oidc-advanced-group-idp-mapper":  {"claims": {"team=blue"}, "group": {"/staff"}},
	}
	for id := range types {
		if !strings.Contains(pg.body, `<option value="`+id+`">`) {
			t.Errorf("type %s not offered: %s", id, pg.body)
		}
	}
	for id, form := range types {
		f := b.get(tab + "/create?type=" + url.QueryEscape(id))
		if f.status != 200 || !strings.Contains(f.body, `id="mapper-form"`) || !strings.Contains(f.body, `name="syncMode"`) {
			t.Fatalf("%s form: %d %s", id, f.status, f.body)
		}
		form.Set("name", id+"-m")
		form.Set("action", "save")
		form.Set("syncMode", "INHERIT")
		r := b.submit(f, tab+"/create?type="+url.QueryEscape(id), form)
		if r.status != http.StatusSeeOther {
			t.Fatalf("add %s: %d %s", id, r.status, r.body)
		}
	}
	ms, err := e.db.ListIdentityProviderMappers(ctx, e.demo.ID, "corp")
	if err != nil || len(ms) != len(types) {
		t.Fatalf("mappers stored: %v %d", err, len(ms))
	}
	var adv idp.Mapper
	for _, m := range ms {
		if m.IdentityProviderMapper == "oidc-advanced-role-idp-mapper" {
			adv = m
		}
		if m.Config["syncMode"] != "INHERIT" {
			t.Errorf("%s: sync mode %q", m.Name, m.Config["syncMode"])
		}
	}
	if adv.Config["claims"] != `[{"key":"department","value":"sales"},{"key":"groups","value":"admins"}]` || adv.Config["are.claim.values.regex"] != "true" ||
		adv.Config["role"] != "offline_access" {
		t.Errorf("advanced role mapper: %+v", adv.Config)
	}

	// Edit: the claims come back as lines; a line without "=" is refused.
	one := tab + "/" + adv.ID
	pg = b.get(one)
	if !strings.Contains(pg.body, "department=sales\ngroups=admins") || !strings.Contains(pg.body, `id="f-name" name="name" value="oidc-advanced-role-idp-mapper-m" readonly`) {
		t.Errorf("edit page: %s", pg.body)
	}
	r := b.submit(pg, one, url.Values{"action": {"save"}, "claims": {"just-a-name"}, "role": {"offline_access"}, "syncMode": {"FORCE"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Enter one pair per line, as name=value.") {
		t.Errorf("bad claims: %d %s", r.status, r.body)
	}
	r = b.submit(pg, one, url.Values{"action": {"save"}, "claims": {"department=it"}, "role": {"uma_authorization"}, "syncMode": {"FORCE"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save mapper: %d %s", r.status, r.body)
	}
	got, _ := e.db.GetIdentityProviderMapper(ctx, e.demo.ID, adv.ID)
	if got.Config["claims"] != `[{"key":"department","value":"it"}]` || got.Config["role"] != "uma_authorization" ||
		got.Config["are.claim.values.regex"] != "false" || got.Config["syncMode"] != "FORCE" {
		t.Errorf("after edit: %+v", got.Config)
	}

	// The list links each mapper, and deletes them.
	pg = b.get(tab)
	if n := len(mapperLink.FindAllString(pg.body, -1)); n != len(types) {
		t.Errorf("%d mappers listed", n)
	}
	if r := b.submit(pg, tab, url.Values{"action": {"delete"}, "id": {adv.ID}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete from list: %d", r.status)
	}
	other := ms[0]
	if other.ID == adv.ID {
		other = ms[1]
	}
	if r := b.submit(b.get(tab+"/"+other.ID), tab+"/"+other.ID, url.Values{"action": {"delete"}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete from its page: %d", r.status)
	}
	if left, _ := e.db.ListIdentityProviderMappers(ctx, e.demo.ID, "corp"); len(left) != len(types)-2 {
		t.Errorf("%d mappers left", len(left))
	}
}

// The user's "Identity provider links" tab links an account by hand and
// unlinks it, through the admin API.
func TestUserIdentityProviderLinksTab(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, alias := range []string{"github", "google"} {
		p := idp.New(alias, alias)
		p.Config = map[string]string{"clientId": "c", "clientSecret": "s"}
		if _, err := e.db.CreateIdentityProvider(ctx, e.demo.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	u := e.addUser(e.demo, "alice", "alice-pw")
	b := e.browser()
	b.signIn(masterConsole, "admin", "admin-pw")
	tab := "/admin/master/console/demo/users/" + u.ID + "/identity-provider-links"
	p := b.get(tab)
	if p.status != 200 || !strings.Contains(p.body, `id="no-links"`) || !strings.Contains(p.body, `id="available-github"`) ||
		!strings.Contains(p.body, `id="tab-identity-provider-links"`) {
		t.Fatalf("tab: %d %s", p.status, p.body)
	}
	if r := b.submit(p, tab, url.Values{"action": {"link"}, "provider": {"github"}, "userId": {""}, "userName": {"octo"}}); r.status != http.StatusBadRequest ||
		!strings.Contains(r.body, "Enter the user&#39;s ID at the identity provider.") {
		t.Errorf("link without user id: %d", r.status)
	}
	r := b.submit(p, tab, url.Values{"action": {"link"}, "provider": {"github"}, "userId": {"gh-42"}, "userName": {"octo"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	f, err := e.db.GetFederatedIdentity(ctx, e.demo.ID, u.ID, "github")
	if err != nil || f.FederatedUserID != "gh-42" || f.FederatedUsername != "octo" {
		t.Fatalf("link stored: %v %+v", err, f)
	}
	p = b.follow(r)
	if !strings.Contains(p.body, `id="link-github"`) || !strings.Contains(p.body, "gh-42") || strings.Contains(p.body, `id="available-github"`) ||
		!strings.Contains(p.body, `id="available-google"`) {
		t.Errorf("after link: %s", p.body)
	}
	// Another user cannot take the same upstream account.
	bob := e.addUser(e.demo, "bob", "bob-pw")
	bobTab := "/admin/master/console/demo/users/" + bob.ID + "/identity-provider-links"
	if r := b.submit(b.get(bobTab), bobTab, url.Values{"action": {"link"}, "provider": {"github"}, "userId": {"gh-42"}, "userName": {"octo"}}); r.status != http.StatusConflict ||
		!strings.Contains(r.body, `id="form-error"`) {
		t.Errorf("second link of the same account: %d %s", r.status, r.body)
	}
	if r := b.submit(p, tab, url.Values{"action": {"unlink"}, "provider": {"github"}}); r.status != http.StatusSeeOther {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	if _, err := e.db.GetFederatedIdentity(ctx, e.demo.ID, u.ID, "github"); err == nil {
		t.Error("still linked")
	}
}
