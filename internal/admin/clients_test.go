package admin_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// crgEnv is a realm for the client, role and group tests, with a
// realm-admin token.
type crgEnv struct {
	t     *testing.T
	s     *testServer
	realm realm.Realm
	tok   string
}

func newCRGEnv(t *testing.T, s *testServer, name string) *crgEnv {
	t.Helper()
	r := s.newRealm(name)
	return &crgEnv{t: t, s: s, realm: r, tok: s.realmAdmin(r, "boss", provision.RealmAdmin)}
}

func (e *crgEnv) ctx() context.Context { return context.Background() }

func (e *crgEnv) path(p string) string { return "/admin/realms/" + e.realm.Name + p }

// want calls the admin API and checks the status and, unless wantBody is
// empty, the exact body. It returns the headers and body.
func (e *crgEnv) want(method, p, tok string, body any, status int, wantBody string) (http.Header, string) {
	e.t.Helper()
	st, h, b := e.s.do(method, e.path(p), tok, body)
	if st != status || wantBody != "" && strings.TrimSpace(string(b)) != wantBody {
		e.t.Fatalf("%s %s: got %d %s, want %d %s", method, p, st, b, status, wantBody)
	}
	return h, string(b)
}

// create POSTs to p, expects 201 with a Location under p, and returns the new id.
func (e *crgEnv) create(p string, body any) string {
	e.t.Helper()
	h, _ := e.want("POST", p, e.tok, body, 201, "")
	loc := h.Get("Location")
	prefix := e.s.URL + e.path(p) + "/"
	if !strings.HasPrefix(loc, prefix) || strings.Contains(strings.TrimPrefix(loc, prefix), "/") {
		e.t.Fatalf("POST %s: Location %q is not under %q", p, loc, prefix)
	}
	return strings.TrimPrefix(loc, prefix)
}

// obj GETs p as the realm admin and decodes it.
func (e *crgEnv) obj(p string) map[string]any {
	e.t.Helper()
	var v map[string]any
	e.s.get(e.path(p), e.tok, &v)
	return v
}

func (e *crgEnv) list(p, tok string) []map[string]any {
	e.t.Helper()
	var v []map[string]any
	e.s.get(e.path(p), tok, &v)
	return v
}

func crgField(xs []map[string]any, key string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, fmt.Sprint(x[key]))
	}
	return out
}

func crgStrs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// snapshot is everything the client, role and group endpoints can change, so
// a refused call can be shown to have changed nothing.
func (e *crgEnv) snapshot() string {
	e.t.Helper()
	db, ctx, id := e.s.DB, e.ctx(), e.realm.ID
	cs, err1 := db.ListClients(ctx, id)
	rs, err2 := db.ListAllRoles(ctx, id)
	graph, err3 := db.CompositeGraph(ctx, id)
	gs, err4 := db.ListGroups(ctx, id)
	links, err5 := db.RealmScopeLinks(ctx, id)
	us, err6 := db.ListUsers(ctx, id, 0, -1)
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	var members []string
	for _, g := range gs {
		ms, _ := db.ListGroupMembers(ctx, id, g.ID, 0, -1)
		for _, m := range ms {
			members = append(members, g.ID+"/"+m.ID)
		}
	}
	return fmt.Sprintf("%+v\n%+v\n%v\n%+v\n%v\n%+v\n%v", cs, rs, graph, gs, links, us, members)
}

// forbiddenWrites sends each request with tok and expects Keycloak's 403,
// then that nothing in the realm changed.
func (e *crgEnv) forbiddenWrites(tok string, calls []struct {
	method, path string
	body         any
}) {
	e.t.Helper()
	before := e.snapshot()
	for _, c := range calls {
		e.want(c.method, c.path, tok, c.body, 403, `{"error":"HTTP 403 Forbidden"}`)
	}
	if after := e.snapshot(); after != before {
		e.t.Fatalf("a refused call changed the realm:\nbefore %s\nafter  %s", before, after)
	}
}

type crgCall = struct {
	method, path string
	body         any
}

// tokenRequest posts to the realm's token endpoint with HTTP Basic client
// authentication when secret is not empty.
func (e *crgEnv) tokenRequest(clientID, secret string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.s.URL+"/realms/"+e.realm.Name+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret))))
	} else {
		form.Set("client_id", clientID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// mkUser stores an enabled user with password "pw-<username>".
func (e *crgEnv) mkUser(username string) user.User {
	e.t.Helper()
	u := user.User{ID: store.NewID(), RealmID: e.realm.ID, Username: username, Enabled: true, CreatedTimestamp: time.Now().UnixMilli()}
	if err := e.s.DB.CreateUser(e.ctx(), u); err != nil {
		e.t.Fatal(err)
	}
	cred, _ := user.NewPasswordCredential(store.NewID(), u.ID, "pw-"+username, time.Now().UnixMilli(), user.HashPolicy{})
	if err := e.s.DB.CreateCredential(e.ctx(), cred); err != nil {
		e.t.Fatal(err)
	}
	if e.realm.DefaultRoleID != "" {
		e.s.DB.AddUserRoles(e.ctx(), u.ID, e.realm.DefaultRoleID)
	}
	return u
}

func (e *crgEnv) realmManagement() string {
	e.t.Helper()
	rm, err := e.s.DB.GetClientByClientID(e.ctx(), e.realm.ID, provision.RealmManagement)
	if err != nil {
		e.t.Fatal(err)
	}
	return rm.ID
}

func (e *crgEnv) adminRole(name string) role.Role {
	e.t.Helper()
	r, err := e.s.DB.GetClientRole(e.ctx(), e.realm.ID, e.realmManagement(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// realmDefaultScopeNames lists the realm's default (or optional) scopes for
// new clients by name.
// realmDefaultScopeNames names the realm's default (or optional) scopes a
// new client of protocol openid-connect takes: those of that protocol.
func (e *crgEnv) realmDefaultScopeNames(dflt bool) []string {
	e.t.Helper()
	links, err := e.s.DB.ClientScopeLinks(e.ctx(), e.realm.ID, store.RealmDefaults)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Default == dflt {
			s, _ := e.s.DB.GetClientScope(e.ctx(), e.realm.ID, l.ScopeID)
			if s.Protocol == "openid-connect" {
				out = append(out, s.Name)
			}
		}
	}
	return out
}

var crgGeneratedSecret = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

func TestClientsCreateWithKeycloakDefaults(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")

		// A public client.
		id := e.create("/clients", map[string]any{"clientId": "web", "publicClient": true})
		c := e.obj("/clients/" + id)
		for k, want := range map[string]any{"id": id, "clientId": "web", "publicClient": true, "bearerOnly": false,
			"standardFlowEnabled": true, "directAccessGrantsEnabled": true, "implicitFlowEnabled": false,
			"frontchannelLogout": false, "enabled": true, "protocol": "openid-connect", "fullScopeAllowed": true,
			"clientAuthenticatorType": "client-secret", "serviceAccountsEnabled": false} {
			if c[k] != want {
				t.Errorf("%s: got %v, want %v", k, c[k], want)
			}
		}
		if _, ok := c["secret"]; ok {
			t.Errorf("public client has a secret: %v", c["secret"])
		}
		if got := crgStrs(c["defaultClientScopes"]); !slices.Equal(got, e.realmDefaultScopeNames(true)) || !slices.Contains(got, "profile") {
			t.Errorf("default scopes %v, want the realm's %v", got, e.realmDefaultScopeNames(true))
		}
		if got := crgStrs(c["optionalClientScopes"]); !slices.Equal(got, e.realmDefaultScopeNames(false)) || !slices.Contains(got, "offline_access") {
			t.Errorf("optional scopes %v, want the realm's %v", got, e.realmDefaultScopeNames(false))
		}
		if got := c["access"]; fmt.Sprint(got) != "map[configure:true manage:true view:true]" {
			t.Errorf("access: %v", got)
		}

		// Confidential without a secret: one is generated; rootUrl seeds
		// redirect URIs, web origins and the admin URL; a service account
		// user exists with the service_account scope linked.
		id = e.create("/clients", map[string]any{"clientId": "api", "publicClient": false, "serviceAccountsEnabled": true,
			"rootUrl": "https://app.example.com/base"})
		c = e.obj("/clients/" + id)
		if !crgGeneratedSecret.MatchString(fmt.Sprint(c["secret"])) {
			t.Errorf("generated secret %q is not 32 alphanumerics", c["secret"])
		}
		if got := crgStrs(c["redirectUris"]); !slices.Equal(got, []string{"https://app.example.com/base/*"}) {
			t.Errorf("redirectUris: %v", got)
		}
		if got := crgStrs(c["webOrigins"]); !slices.Equal(got, []string{"https://app.example.com"}) {
			t.Errorf("webOrigins: %v", got)
		}
		if c["adminUrl"] != "https://app.example.com/base" {
			t.Errorf("adminUrl: %v", c["adminUrl"])
		}
		if !slices.Contains(crgStrs(c["defaultClientScopes"]), "service_account") {
			t.Errorf("service_account scope not linked: %v", c["defaultClientScopes"])
		}
		sa := e.obj("/clients/" + id + "/service-account-user")
		if sa["username"] != "service-account-api" || sa["enabled"] != true {
			t.Errorf("service account user: %v", sa)
		}
		if _, ok := sa["credentials"]; ok {
			t.Errorf("user representation carries credentials: %v", sa)
		}

		// Named scopes replace the realm defaults; unknown names are skipped.
		id = e.create("/clients", map[string]any{"clientId": "narrow", "publicClient": false, "secret": "given-secret",
			"defaultClientScopes": []string{"profile", "no-such-scope"}, "optionalClientScopes": []string{}})
		c = e.obj("/clients/" + id)
		if got := crgStrs(c["defaultClientScopes"]); !slices.Equal(got, []string{"profile"}) {
			t.Errorf("named default scopes: %v", got)
		}
		if got := c["optionalClientScopes"]; fmt.Sprint(got) != "[]" {
			t.Errorf("named optional scopes: %v", got)
		}
		if c["secret"] != "given-secret" {
			t.Errorf("given secret replaced: %v", c["secret"])
		}
		var linked []map[string]any
		s.get(e.path("/clients/"+id+"/default-client-scopes"), e.tok, &linked)
		if len(linked) != 1 || linked[0]["name"] != "profile" || len(linked[0]) != 2 || linked[0]["id"] == "" {
			t.Errorf("default-client-scopes: %v", linked)
		}

		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "web"}, 409, `{"errorMessage":"Client web already exists"}`)
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "  "}, 400, `{"errorMessage":"Client id is missing"}`)
		e.want("POST", "/clients", e.tok, `{"clientId":`, 400, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`)
	})
}

// Regression (issue 13): a client created without publicClient came out
// public with no secret, where Keycloak makes it confidential with a
// generated one; a payload with id and name but no clientId (Terraform's
// Keycloak provider sends one) was refused; attributes sent as "" were
// stored, where Keycloak removes them.
func TestClientsCreateLikeKeycloak(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "tf")

		id := e.create("/clients", map[string]any{"clientId": "backend"})
		c := e.obj("/clients/" + id)
		if c["publicClient"] != false || c["bearerOnly"] != false || !crgGeneratedSecret.MatchString(fmt.Sprint(c["secret"])) {
			t.Errorf("client without publicClient: publicClient %v, bearerOnly %v, secret %q; want confidential with a generated secret",
				c["publicClient"], c["bearerOnly"], c["secret"])
		}

		id = e.create("/clients", map[string]any{"clientId": "spa", "protocol": "openid-connect"})
		c = e.obj("/clients/" + id)
		if c["publicClient"] != true || c["secret"] != nil && c["secret"] != "" {
			t.Errorf("client naming its protocol but not publicClient: publicClient %v, secret %q; want public, no secret",
				c["publicClient"], c["secret"])
		}

		const given = "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
		id = e.create("/clients", map[string]any{"id": given, "name": "terraform-setup"})
		if id != given {
			t.Errorf("Location id %q, want the given %q", id, given)
		}
		c = e.obj("/clients/" + id)
		if c["clientId"] != given || c["name"] != "terraform-setup" {
			t.Errorf("client without clientId: clientId %v, name %v; want the id as clientId", c["clientId"], c["name"])
		}
		var found []map[string]any
		s.get(e.path("/clients?clientId="+given), e.tok, &found)
		if len(found) != 1 || found[0]["id"] != given {
			t.Errorf("GET /clients?clientId=<id>: %v", found)
		}

		id = e.create("/clients", map[string]any{"clientId": "attrs", "attributes": map[string]string{
			"pkce.code.challenge.method": "", "post.logout.redirect.uris": "+", "login_theme": " "}})
		c = e.obj("/clients/" + id)
		attrs, _ := c["attributes"].(map[string]any)
		if _, ok := attrs["pkce.code.challenge.method"]; ok || attrs["post.logout.redirect.uris"] != "+" {
			t.Errorf("attributes after create: %v", attrs)
		}
		if _, ok := attrs["login_theme"]; ok {
			t.Errorf("a blank attribute was stored: %v", attrs)
		}
		c["attributes"] = map[string]string{"post.logout.redirect.uris": ""}
		e.want("PUT", "/clients/"+id, e.tok, c, 204, "")
		c = e.obj("/clients/" + id)
		if attrs, _ := c["attributes"].(map[string]any); attrs["post.logout.redirect.uris"] != nil {
			t.Errorf("an attribute updated to \"\" was kept: %v", attrs)
		}
	})
}

// SECURITY.md M5: javascript: and data: redirect URIs are refused, in any
// case, on create and update, and nothing is stored.
func TestClientsRefuseScriptRedirectURIs(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		before := e.snapshot()
		for _, uri := range []string{"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>"} {
			e.want("POST", "/clients", e.tok, map[string]any{"clientId": "evil", "redirectUris": []string{"https://ok.example/cb", uri}},
				400, `{"error":"invalid_input","error_description":"A redirect URI uses an illegal scheme"}`)
		}
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "evil", "rootUrl": "javascript:alert(1)//"},
			400, `{"error":"invalid_input","error_description":"Root URL uses an illegal scheme"}`)
		e.want("POST", "/clients", e.tok, map[string]any{"clientId": "evil", "redirectUris": []string{"https://ok.example/cb#frag"}},
			400, `{"error":"invalid_input","error_description":"Redirect URIs must not contain an URI fragment"}`)
		if after := e.snapshot(); after != before {
			t.Fatal("a refused create stored something")
		}

		id := e.create("/clients", map[string]any{"clientId": "app", "redirectUris": []string{"https://ok.example/cb"}})
		before = e.snapshot()
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"redirectUris": []string{"javascript:alert(1)"}},
			400, `{"error":"invalid_input","error_description":"A redirect URI uses an illegal scheme"}`)
		if after := e.snapshot(); after != before {
			t.Fatal("a refused update was stored")
		}
	})
}

func TestClientsReadUpdateDelete(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "web", "publicClient": true, "redirectUris": []string{"https://web.example/cb"},
			"attributes": map[string]string{"pkce.code.challenge.method": "S256"}})
		e.create("/clients", map[string]any{"clientId": "webhooks"})
		e.create("/clients", map[string]any{"clientId": "api"})

		// Lists: exact clientId, substring search, paging.
		if got := crgField(e.list("/clients?clientId=web", e.tok), "clientId"); !slices.Equal(got, []string{"web"}) {
			t.Errorf("exact clientId: %v", got)
		}
		if got := crgField(e.list("/clients?clientId=WEB&search=true", e.tok), "clientId"); !slices.Equal(got, []string{"web", "webhooks"}) {
			t.Errorf("search: %v", got)
		}
		if got := e.list("/clients?clientId=nope", e.tok); len(got) != 0 {
			t.Errorf("unknown clientId: %v", got)
		}
		all := e.list("/clients", e.tok)
		if paged := e.list("/clients?first=1&max=2", e.tok); len(paged) != 2 || paged[0]["clientId"] != all[1]["clientId"] {
			t.Errorf("page: %v of %v", crgField(paged, "clientId"), crgField(all, "clientId"))
		}

		// A partial update keeps what the body does not name.
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"description": "The web app"}, 204, "")
		c := e.obj("/clients/" + id)
		if c["description"] != "The web app" || fmt.Sprint(c["redirectUris"]) != "[https://web.example/cb]" ||
			c["publicClient"] != true || fmt.Sprint(c["attributes"]) != "map[pkce.code.challenge.method:S256]" {
			t.Fatalf("after partial update: %v", c)
		}

		// Turning service accounts on creates the user; made confidential,
		// the client gets a secret.
		e.want("GET", "/clients/"+id+"/service-account-user", e.tok, nil, 400,
			`{"error":"Service account not enabled for the client 'web'"}`)
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"publicClient": false, "serviceAccountsEnabled": true}, 204, "")
		if _, err := s.DB.GetServiceAccount(e.ctx(), e.realm.ID, id); err != nil {
			t.Fatalf("no service account user after turning service accounts on: %v", err)
		}
		c = e.obj("/clients/" + id)
		if !crgGeneratedSecret.MatchString(fmt.Sprint(c["secret"])) {
			t.Fatalf("confidential client without a secret: %v", c["secret"])
		}
		sa := e.obj("/clients/" + id + "/service-account-user")
		if sa["username"] != "service-account-web" {
			t.Fatalf("service account: %v", sa)
		}
		// Renaming the client renames its service account.
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"clientId": "portal"}, 204, "")
		if sa = e.obj("/clients/" + id + "/service-account-user"); sa["username"] != "service-account-portal" {
			t.Fatalf("service account after rename: %v", sa)
		}
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"clientId": "api"}, 409, `{"errorMessage":"Client already exists"}`)
		// Turning them off removes the user.
		e.want("PUT", "/clients/"+id, e.tok, map[string]any{"serviceAccountsEnabled": false}, 204, "")
		if _, err := s.DB.GetServiceAccount(e.ctx(), e.realm.ID, id); err == nil {
			t.Fatal("service account user left behind")
		}

		e.want("DELETE", "/clients/"+id, e.tok, nil, 204, "")
		for _, c := range []crgCall{{"GET", "/clients/" + id, nil}, {"PUT", "/clients/" + id, map[string]any{}},
			{"DELETE", "/clients/" + id, nil}, {"GET", "/clients/" + id + "/client-secret", nil},
			{"POST", "/clients/" + id + "/client-secret", nil}, {"GET", "/clients/" + id + "/default-client-scopes", nil},
			{"GET", "/clients/" + id + "/user-sessions", nil}, {"GET", "/clients/" + id + "/session-count", nil},
			{"GET", "/clients/" + id + "/protocol-mappers/models", nil}, {"GET", "/clients/" + id + "/roles", nil},
			{"GET", "/clients/" + id + "/service-account-user", nil}} {
			e.want(c.method, c.path, e.tok, c.body, 404, `{"error":"Could not find client"}`)
		}
	})
}

// SECURITY.md M8: the secret is on the dedicated endpoint for manage-clients
// admins only; a view-clients admin sees clients without it.
func TestClientsSecretOnlyForManagers(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "api", "publicClient": false, "secret": "top-secret-value"})
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients")
		manager := s.realmAdmin(e.realm, "manager", "manage-clients")

		_, body := e.want("GET", "/clients/"+id, viewer, nil, 200, "")
		_, list := e.want("GET", "/clients", viewer, nil, 200, "")
		_, one := e.want("GET", "/clients?clientId=api", viewer, nil, 200, "")
		for _, b := range []string{body, list, one} {
			if strings.Contains(b, "top-secret-value") || strings.Contains(b, `"secret"`) {
				t.Fatalf("view-clients admin sees the secret: %s", b)
			}
		}
		var c map[string]any
		json.Unmarshal([]byte(body), &c)
		if fmt.Sprint(c["access"]) != "map[configure:false manage:false view:true]" {
			t.Errorf("viewer's access: %v", c["access"])
		}
		e.want("GET", "/clients/"+id+"/client-secret", viewer, nil, 403, `{"error":"HTTP 403 Forbidden"}`)

		e.want("GET", "/clients/"+id+"/client-secret", manager, nil, 200, `{"type":"secret","value":"top-secret-value"}`)
		if _, b := e.want("GET", "/clients/"+id, manager, nil, 200, ""); !strings.Contains(b, `"secret":"top-secret-value"`) {
			t.Errorf("manage-clients admin does not see the secret: %s", b)
		}

		// query-clients alone lists only the clients it may view: none,
		// without fine-grained permissions. Keycloak's getClients has a
		// brief {id, clientId, description} branch for the others, but it
		// asks the same canView(client) as the full one, so it never
		// answers; Gatehouse lists what Keycloak lists.
		querier := s.realmAdmin(e.realm, "querier", "query-clients")
		if got := e.list("/clients?clientId=api", querier); len(got) != 0 {
			t.Errorf("query-clients view: %v", got)
		}
		if got := e.list("/clients?viewableOnly=true", querier); len(got) != 0 {
			t.Errorf("viewableOnly for query-clients: %v", got)
		}
		e.want("GET", "/clients/"+id, querier, nil, 403, `{"error":"HTTP 403 Forbidden"}`)
	})
}

func TestClientsRegeneratedSecretReplacesTheOld(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "svc", "publicClient": false, "serviceAccountsEnabled": true})
		var old map[string]string
		s.get(e.path("/clients/"+id+"/client-secret"), e.tok, &old)
		grant := url.Values{"grant_type": {"client_credentials"}}
		if st, body := e.tokenRequest("svc", old["value"], grant); st != 200 {
			t.Fatalf("client_credentials with the generated secret: %d %v", st, body)
		}

		_, b := e.want("POST", "/clients/"+id+"/client-secret", e.tok, nil, 200, "")
		var fresh map[string]string
		json.Unmarshal([]byte(b), &fresh)
		if fresh["type"] != "secret" || !crgGeneratedSecret.MatchString(fresh["value"]) || fresh["value"] == old["value"] {
			t.Fatalf("regenerated: %v (old %v)", fresh, old)
		}
		var now map[string]string
		s.get(e.path("/clients/"+id+"/client-secret"), e.tok, &now)
		if now["value"] != fresh["value"] {
			t.Fatalf("GET after regenerate: %v, want %v", now, fresh)
		}
		if st, body := e.tokenRequest("svc", old["value"], grant); st != 401 || body["error"] != "invalid_client" {
			t.Fatalf("the old secret still works: %d %v", st, body)
		}
		if st, body := e.tokenRequest("svc", fresh["value"], grant); st != 200 {
			t.Fatalf("the new secret does not work: %d %v", st, body)
		}
	})
}

// SECURITY.md M2 for clients: a view-clients admin is refused every write,
// and the refused calls change nothing.
func TestClientsViewerCannotWrite(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "app", "publicClient": false})
		mid := e.create("/clients/"+id+"/protocol-mappers/models", map[string]any{"name": "aud", "protocolMapper": "oidc-audience-mapper",
			"config": map[string]string{"included.client.audience": "app", "access.token.claim": "true"}})
		e.create("/clients/"+id+"/roles", map[string]any{"name": "reader"})
		profile, _ := s.DB.GetClientScopeByName(e.ctx(), e.realm.ID, "profile")
		viewer := s.realmAdmin(e.realm, "viewer", "view-clients", "view-realm", "view-users")
		c := "/clients/" + id
		e.forbiddenWrites(viewer, []crgCall{
			{"POST", "/clients", map[string]any{"clientId": "new"}},
			{"PUT", c, map[string]any{"description": "x"}},
			{"DELETE", c, nil},
			{"POST", c + "/client-secret", nil},
			{"PUT", c + "/default-client-scopes/" + profile.ID, nil},
			{"DELETE", c + "/default-client-scopes/" + profile.ID, nil},
			{"PUT", c + "/optional-client-scopes/" + profile.ID, nil},
			{"DELETE", c + "/optional-client-scopes/" + profile.ID, nil},
			{"POST", c + "/protocol-mappers/models", map[string]any{"name": "m", "protocolMapper": "oidc-audience-mapper"}},
			{"POST", c + "/protocol-mappers/add-models", []map[string]any{{"name": "m", "protocolMapper": "oidc-audience-mapper"}}},
			{"PUT", c + "/protocol-mappers/models/" + mid, map[string]any{"name": "aud", "protocolMapper": "oidc-audience-mapper"}},
			{"DELETE", c + "/protocol-mappers/models/" + mid, nil},
			{"POST", c + "/roles", map[string]any{"name": "writer"}},
			{"PUT", c + "/roles/reader", map[string]any{"name": "r2"}},
			{"DELETE", c + "/roles/reader", nil},
			{"POST", c + "/roles/reader/composites", []map[string]any{{"name": "offline_access"}}},
		})
		// Reading is allowed.
		e.want("GET", c, viewer, nil, 200, "")
		e.want("GET", c+"/protocol-mappers/models/"+mid, viewer, nil, 200, "")
	})
}

// Only a whole-realm administrator may change or replace realm-management,
// whose role names grant admin rights (CVE-2026-9796).
func TestClientsAdminClientIsProtected(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		manager := s.realmAdmin(e.realm, "manager", "manage-clients")
		app := e.create("/clients", map[string]any{"clientId": "app"})
		rm := e.realmManagement()
		e.forbiddenWrites(manager, []crgCall{
			{"PUT", "/clients/" + rm, map[string]any{"clientId": "old-management"}},
			{"DELETE", "/clients/" + rm, nil},
			{"PUT", "/clients/" + app, map[string]any{"clientId": provision.RealmManagement}},
			{"POST", "/clients", map[string]any{"clientId": provision.RealmManagement}},
		})
		e.want("PUT", "/clients/"+app, manager, map[string]any{"description": "ordinary clients stay manageable"}, 204, "")
	})
}

func TestClientsScopeLinksAndMappers(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "app", "defaultClientScopes": []string{}, "optionalClientScopes": []string{}})
		c := "/clients/" + id
		email, _ := s.DB.GetClientScopeByName(e.ctx(), e.realm.ID, "email")
		phone, _ := s.DB.GetClientScopeByName(e.ctx(), e.realm.ID, "phone")

		e.want("PUT", c+"/default-client-scopes/"+email.ID, e.tok, nil, 204, "")
		e.want("PUT", c+"/optional-client-scopes/"+phone.ID, e.tok, nil, 204, "")
		e.want("GET", c+"/default-client-scopes", e.tok, nil, 200, `[{"id":"`+email.ID+`","name":"email"}]`)
		e.want("GET", c+"/optional-client-scopes", e.tok, nil, 200, `[{"id":"`+phone.ID+`","name":"phone"}]`)
		// Linking the other way moves the scope.
		e.want("PUT", c+"/optional-client-scopes/"+email.ID, e.tok, nil, 204, "")
		e.want("GET", c+"/default-client-scopes", e.tok, nil, 200, `[]`)
		e.want("DELETE", c+"/optional-client-scopes/"+email.ID, e.tok, nil, 204, "")
		e.want("DELETE", c+"/optional-client-scopes/"+email.ID, e.tok, nil, 204, "")
		e.want("GET", c+"/optional-client-scopes", e.tok, nil, 200, `[{"id":"`+phone.ID+`","name":"phone"}]`)
		e.want("PUT", c+"/default-client-scopes/nope", e.tok, nil, 404, `{"error":"Client scope not found"}`)

		mapper := map[string]any{"name": "audience", "protocolMapper": "oidc-audience-mapper",
			"config": map[string]string{"included.client.audience": "api", "access.token.claim": "true"}}
		mid := e.create(c+"/protocol-mappers/models", mapper)
		got := e.obj(c + "/protocol-mappers/models/" + mid)
		if got["id"] != mid || got["name"] != "audience" || got["protocol"] != "openid-connect" || got["consentRequired"] != false {
			t.Fatalf("mapper: %v", got)
		}
		e.want("POST", c+"/protocol-mappers/models", e.tok, mapper, 409, `{"errorMessage":"Protocol mapper exists with same name"}`)
		e.want("POST", c+"/protocol-mappers/add-models", e.tok, []map[string]any{
			{"name": "given", "protocolMapper": "oidc-usermodel-property-mapper", "config": map[string]string{"user.attribute": "firstName", "claim.name": "given"}},
			{"name": "audience", "protocolMapper": "oidc-audience-mapper"},
		}, 409, `{"errorMessage":"Protocol mapper exists with same name"}`)
		if ms := e.list(c+"/protocol-mappers/models", e.tok); len(ms) != 1 {
			t.Fatalf("add-models is all or nothing: %v", ms)
		}
		e.want("POST", c+"/protocol-mappers/add-models", e.tok, []map[string]any{
			{"name": "given", "protocolMapper": "oidc-usermodel-property-mapper", "config": map[string]string{"user.attribute": "firstName", "claim.name": "given"}},
		}, 204, "")
		mapper["config"] = map[string]string{"included.client.audience": "other"}
		e.want("PUT", c+"/protocol-mappers/models/"+mid, e.tok, mapper, 204, "")
		ms := e.list(c+"/protocol-mappers/models", e.tok)
		if len(ms) != 2 || ms[0]["id"] != mid || fmt.Sprint(ms[0]["config"]) != "map[included.client.audience:other]" {
			t.Fatalf("after update: %v", ms)
		}
		e.want("PUT", c+"/protocol-mappers/models/"+mid, e.tok, map[string]any{"name": "given", "protocolMapper": "oidc-audience-mapper"},
			409, `{"errorMessage":"Protocol mapper exists with same name"}`)
		e.want("DELETE", c+"/protocol-mappers/models/"+mid, e.tok, nil, 204, "")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			e.want(m, c+"/protocol-mappers/models/"+mid, e.tok, mapper, 404, `{"error":"Model not found"}`)
		}
		if got := crgField(e.list(c+"/protocol-mappers/protocol/openid-connect", e.tok), "name"); !slices.Equal(got, []string{"given"}) {
			t.Fatalf("by protocol: %v", got)
		}
	})
}

func TestClientsSessions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "app", "publicClient": false, "secret": "app-secret"})
		other := e.create("/clients", map[string]any{"clientId": "other"})
		alice, bob := e.mkUser("alice"), e.mkUser("bob")
		password := func(u user.User, scope string) {
			t.Helper()
			form := url.Values{"grant_type": {"password"}, "username": {u.Username}, "password": {"pw-" + u.Username}, "scope": {scope}}
			if st, body := e.tokenRequest("app", "app-secret", form); st != 200 {
				t.Fatalf("login %s: %d %v", u.Username, st, body)
			}
		}
		password(alice, "openid")
		password(bob, "openid")
		password(alice, "openid")
		password(alice, "openid offline_access")

		e.want("GET", "/clients/"+id+"/session-count", e.tok, nil, 200, `{"count":3}`)
		e.want("GET", "/clients/"+id+"/offline-session-count", e.tok, nil, 200, `{"count":1}`)
		e.want("GET", "/clients/"+other+"/session-count", e.tok, nil, 200, `{"count":0}`)

		ss := e.list("/clients/"+id+"/user-sessions", e.tok)
		if len(ss) != 3 {
			t.Fatalf("user-sessions: %v", ss)
		}
		keys := []string{"clients", "id", "ipAddress", "lastAccess", "rememberMe", "start", "transientUser", "userId", "username"}
		for _, x := range ss {
			var got []string
			for k := range x {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, keys) {
				t.Fatalf("session fields %v, want %v", got, keys)
			}
			if fmt.Sprint(x["clients"]) != "map["+id+":app]" || x["transientUser"] != false {
				t.Fatalf("session: %v", x)
			}
			if start := x["start"].(float64); start < float64(time.Now().Add(-time.Minute).UnixMilli()) {
				t.Fatalf("start is not epoch milliseconds: %v", x["start"])
			}
		}
		names := crgField(ss, "username")
		slices.Sort(names)
		if !slices.Equal(names, []string{"alice", "alice", "bob"}) {
			t.Fatalf("usernames: %v", names)
		}
		if page := e.list("/clients/"+id+"/user-sessions?first=1&max=1", e.tok); len(page) != 1 || page[0]["id"] != ss[1]["id"] {
			t.Fatalf("page: %v", page)
		}
		off := e.list("/clients/"+id+"/offline-sessions", e.tok)
		if len(off) != 1 || off[0]["username"] != "alice" || off[0]["userId"] != alice.ID ||
			off[0]["lastAccess"].(float64) < off[0]["start"].(float64) {
			t.Fatalf("offline-sessions: %v", off)
		}
		e.want("GET", "/clients/"+id+"/user-sessions?first=-1", e.tok, nil, 400, `{"errorMessage":"Invalid value for first"}`)
	})
}

func TestClientsDeleteRemovesRolesAndSessions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "acme")
		id := e.create("/clients", map[string]any{"clientId": "app", "publicClient": false, "secret": "app-secret", "serviceAccountsEnabled": true})
		e.create("/clients/"+id+"/roles", map[string]any{"name": "reader"})
		u := e.mkUser("alice")
		form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-alice"}, "scope": {"openid offline_access"}}
		if st, body := e.tokenRequest("app", "app-secret", form); st != 200 {
			t.Fatalf("login: %d %v", st, body)
		}
		if n, _ := s.DB.CountClientSessions(e.ctx(), id, true); n != 1 {
			t.Fatalf("offline sessions before: %d", n)
		}

		e.want("DELETE", "/clients/"+id, e.tok, nil, 204, "")
		roles, _ := s.DB.ListAllRoles(e.ctx(), e.realm.ID)
		for _, r := range roles {
			if r.ClientID == id {
				t.Fatalf("role %s of the deleted client is left", r.Name)
			}
		}
		for _, offline := range []bool{false, true} {
			if n, _ := s.DB.CountClientSessions(e.ctx(), id, offline); n != 0 {
				t.Fatalf("client sessions (offline %v) left: %d", offline, n)
			}
		}
		if _, err := s.DB.GetServiceAccount(e.ctx(), e.realm.ID, id); err == nil {
			t.Fatal("service account left")
		}
		if _, err := s.DB.GetUser(e.ctx(), e.realm.ID, u.ID); err != nil {
			t.Fatalf("the user went with the client: %v", err)
		}
	})
}
