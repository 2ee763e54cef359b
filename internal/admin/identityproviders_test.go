package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/server"
)

const idpBase = "/admin/realms/idp/identity-provider"

func corpProvider() map[string]any {
	return map[string]any{"alias": "corp", "displayName": "Corporate", "providerId": "oidc", "trustEmail": true,
		"firstBrokerLoginFlowAlias": "first broker login",
		"config": map[string]string{"clientId": "gh", "clientSecret": "s3cret-value", "syncMode": "FORCE",
			"authorizationUrl": "https://up.example/auth", "tokenUrl": "https://up.example/token", "clientAuthMethod": "client_secret_post"}}
}

// TestIdentityProviderInstances: create, read (secret masked), list (search,
// brief), update (the mask keeps the secret, the alias cannot change),
// refusals that store nothing, and delete.
func TestIdentityProviderInstances(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		rid := s.newRealm("idp").ID
		tok := s.adminToken()
		st, h, b := s.do("POST", idpBase+"/instances", tok, corpProvider())
		if st != 201 || !strings.HasSuffix(h.Get("Location"), idpBase+"/instances/corp") {
			t.Fatalf("create: %d %s %s", st, h.Get("Location"), b)
		}
		var got map[string]any
		s.get(idpBase+"/instances/corp", tok, &got)
		cfg := got["config"].(map[string]any)
		if cfg["clientSecret"] != "**********" || cfg["clientId"] != "gh" || cfg["syncMode"] != "FORCE" ||
			got["enabled"] != true || got["trustEmail"] != true || got["providerId"] != "oidc" || got["internalId"] == "" ||
			got["firstBrokerLoginFlowAlias"] != "first broker login" || got["hideOnLogin"] != false {
			t.Fatalf("read: %v", got)
		}
		if strings.Contains(string(mustJSON(t, got)), "s3cret-value") {
			t.Fatal("secret in the representation")
		}
		// By internal id too.
		var byID map[string]any
		s.get(idpBase+"/instances/"+got["internalId"].(string), tok, &byID)
		if byID["alias"] != "corp" {
			t.Errorf("by internal id: %v", byID)
		}
		for _, p := range []map[string]any{
			{"alias": "github", "providerId": "github", "config": map[string]string{"clientId": "x", "clientSecret": "y"}},
			{"alias": "google-work", "providerId": "google", "enabled": false, "hideOnLogin": true},
		} {
			if st, _, b := s.do("POST", idpBase+"/instances", tok, p); st != 201 {
				t.Fatalf("create %v: %d %s", p["alias"], st, b)
			}
		}
		var list []map[string]any
		s.get(idpBase+"/instances", tok, &list)
		if len(list) != 3 || list[0]["alias"] != "corp" || list[1]["alias"] != "github" || list[1]["config"].(map[string]any)["clientSecret"] != "**********" {
			t.Fatalf("list: %v", list)
		}
		s.get(idpBase+"/instances?search=g&briefRepresentation=true", tok, &list)
		if len(list) != 2 || len(list[0]["config"].(map[string]any)) != 0 {
			t.Errorf("search g, brief: %v", list)
		}
		s.get(idpBase+"/instances?search=*work*", tok, &list)
		if len(list) != 1 || list[0]["alias"] != "google-work" || list[0]["enabled"] != false || list[0]["hideOnLogin"] != true {
			t.Errorf("search *work*: %v", list)
		}
		s.get(idpBase+"/instances?first=1&max=1", tok, &list)
		if len(list) != 1 || list[0]["alias"] != "github" {
			t.Errorf("page: %v", list)
		}

		// Refusals, each with Keycloak's body; none stores anything.
		before := s.providerCount(t)
		for name, c := range map[string]struct {
			body   any
			status int
			want   string
		}{
			"duplicate alias":  {corpProvider(), 409, `{"errorMessage":"Identity Provider corp already exists"}`},
			"unknown provider": {map[string]any{"alias": "x", "providerId": "nope"}, 400, `{"errorMessage":"Invalid identity provider id [nope]"}`},
			"space in alias":   {map[string]any{"alias": "a b", "providerId": "oidc"}, 400, `{"errorMessage":"Empty Space not allowed."}`},
			"slash in alias":   {map[string]any{"alias": "a/b", "providerId": "oidc"}, 400, `{"errorMessage":"Character '/' not allowed."}`},
			"unknown flow": {map[string]any{"alias": "x", "providerId": "oidc", "firstBrokerLoginFlowAlias": "nope"}, 400,
				`{"errorMessage":"No available authentication flow with alias: nope"}`},
			"bad url scheme": {map[string]any{"alias": "x", "providerId": "oidc", "config": map[string]string{"tokenUrl": "javascript:alert(1)"}}, 400,
				`{"errorMessage":"The url [token_url] is malformed"}`},
			"http outside": {map[string]any{"alias": "x", "providerId": "oidc", "config": map[string]string{"userInfoUrl": "http://up.example/u"}}, 400,
				`{"errorMessage":"The url [userinfo_url] requires secure connections"}`},
			"sync mode": {map[string]any{"alias": "x", "providerId": "oidc", "config": map[string]string{"syncMode": "SOMETIMES"}}, 400,
				`{"errorMessage":"Invalid sync mode [SOMETIMES]"}`},
			"not json": {"{", 400, `{"error":"invalid_request","error_description":"Cannot parse the JSON"}`},
		} {
			st, _, b := s.do("POST", idpBase+"/instances", tok, c.body)
			if st != c.status || string(b) != c.want {
				t.Errorf("%s: %d %s, want %d %s", name, st, b, c.status, c.want)
			}
		}
		if after := s.providerCount(t); after != before {
			t.Errorf("refused creates stored providers: %d → %d", before, after)
		}

		// Update: the mask keeps the secret; a new secret replaces it.
		got["displayName"] = "Corp SSO"
		got["hideOnLogin"] = true
		if st, _, b := s.do("PUT", idpBase+"/instances/corp", tok, got); st != 204 {
			t.Fatalf("update: %d %s", st, b)
		}
		p, err := s.DB.GetIdentityProvider(context.Background(), rid, "corp")
		if err != nil || p.Config["clientSecret"] != "s3cret-value" || p.DisplayName != "Corp SSO" || !p.HideOnLogin || p.SyncMode != "FORCE" {
			t.Fatalf("after update with the mask: %+v %v", p, err)
		}
		got["config"].(map[string]any)["clientSecret"] = "rotated"
		s.do("PUT", idpBase+"/instances/corp", tok, got)
		if p, _ := s.DB.GetIdentityProvider(context.Background(), rid, "corp"); p.Config["clientSecret"] != "rotated" {
			t.Errorf("new secret not stored")
		}
		renamed := map[string]any{"alias": "corp2", "providerId": "oidc"}
		if st, _, b := s.do("PUT", idpBase+"/instances/corp", tok, renamed); st != 400 || string(b) != `{"errorMessage":"Identity Provider alias cannot be changed"}` {
			t.Errorf("rename: %d %s", st, b)
		}
		bad := map[string]any{"alias": "corp", "providerId": "oidc", "config": map[string]string{"tokenUrl": "ftp://x/y"}}
		if st, _, b := s.do("PUT", idpBase+"/instances/corp", tok, bad); st != 400 || string(b) != `{"errorMessage":"Invalid protocol/scheme for url [token_url]"}` {
			t.Errorf("bad update: %d %s", st, b)
		}
		if p, _ := s.DB.GetIdentityProvider(context.Background(), rid, "corp"); p.Config["tokenUrl"] != "https://up.example/token" {
			t.Errorf("refused update changed the provider: %v", p.Config)
		}
		var perm map[string]any
		s.get(idpBase+"/instances/corp/management/permissions", tok, &perm)
		if perm["enabled"] != false {
			t.Errorf("management permissions: %v", perm)
		}
		if st, _, b := s.do("PUT", idpBase+"/instances/corp/management/permissions", tok, map[string]any{"enabled": true}); st != 200 || !strings.Contains(string(b), `"token-exchange":`) {
			t.Errorf("enable management permissions: %d %s", st, b)
		}
		if st, _, b := s.do("PUT", idpBase+"/instances/corp/management/permissions", tok, map[string]any{"enabled": false}); st != 200 || string(b) != `{"enabled":false}` {
			t.Errorf("disable management permissions: %d %s", st, b)
		}
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			if st, _, b := s.do(m, idpBase+"/instances/nope", tok, map[string]any{"alias": "nope", "providerId": "oidc"}); st != 404 {
				t.Errorf("%s missing: %d %s", m, st, b)
			}
		}
		if st, _, _ := s.do("DELETE", idpBase+"/instances/google-work", tok, nil); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		if st, _, _ := s.do("GET", idpBase+"/instances/google-work", tok, nil); st != 404 {
			t.Errorf("deleted provider still read: %d", st)
		}
	})
}

func realmID(t *testing.T, s *testServer, name string) string {
	r, err := s.DB.GetRealmByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (s *testServer) providerCount(t *testing.T) int {
	ps, err := s.DB.ListIdentityProviders(context.Background(), realmID(t, s, "idp"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

// TestIdentityProviderMappers: mapper types per provider kind, mapper
// CRUD, refusals that store nothing, and a provider's delete taking its
// mappers and its users' links.
func TestIdentityProviderMappers(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		rid := s.newRealm("idp").ID
		tok := s.adminToken()
		for _, p := range []map[string]any{corpProvider(), {"alias": "github", "providerId": "github"}} {
			if st, _, b := s.do("POST", idpBase+"/instances", tok, p); st != 201 {
				t.Fatalf("create: %d %s", st, b)
			}
		}
		if st, _, b := s.do("POST", "/admin/realms/idp/roles", tok, map[string]any{"name": "partner"}); st != 201 {
			t.Fatalf("role: %d %s", st, b)
		}
		if st, _, b := s.do("POST", "/admin/realms/idp/groups", tok, map[string]any{"name": "partners"}); st != 201 {
			t.Fatalf("group: %d %s", st, b)
		}
		var types map[string]struct {
			ID, Name, Category string
			Properties         []struct {
				Name, Type   string
				DefaultValue any
				Options      []string
			}
		}
		s.get(idpBase+"/instances/corp/mapper-types", tok, &types)
		if len(types) != 7 {
			t.Fatalf("oidc mapper types: %d %v", len(types), types)
		}
		ut := types["oidc-username-idp-mapper"]
		if ut.Name != "Username Template Importer" || len(ut.Properties) != 2 || ut.Properties[1].Name != "target" ||
			strings.Join(ut.Properties[1].Options, ",") != "LOCAL,BROKER_ID,BROKER_USERNAME" || ut.Properties[0].DefaultValue != "${ALIAS}.${CLAIM.preferred_username}" {
			t.Errorf("username template type: %+v", ut)
		}
		if r := types["oidc-advanced-role-idp-mapper"]; r.Category != "Role Importer" || r.Properties[0].Type != "Map" || r.Properties[2].Type != "Role" {
			t.Errorf("advanced claim to role: %+v", r)
		}
		types = nil
		s.get(idpBase+"/instances/github/mapper-types", tok, &types)
		if len(types) != 4 || types["oidc-user-attribute-idp-mapper"].ID != "" {
			t.Errorf("github mapper types: %v", types)
		}
		var kind map[string]string
		s.get(idpBase+"/providers/github", tok, &kind)
		if kind["id"] != "github" || kind["name"] != "GitHub" {
			t.Errorf("providers/github: %v", kind)
		}
		if st, _, _ := s.do("GET", idpBase+"/providers/nope", tok, nil); st != 400 {
			t.Errorf("providers/nope: %d", st)
		}

		mappers := idpBase + "/instances/corp/mappers"
		role := map[string]any{"name": "partner role", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper",
			"config": map[string]string{"role": "partner", "syncMode": "INHERIT"}}
		st, h, b := s.do("POST", mappers, tok, role)
		if st != 201 || !strings.Contains(h.Get("Location"), mappers+"/") {
			t.Fatalf("create mapper: %d %s", st, b)
		}
		id := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		for _, m := range []map[string]any{
			{"name": "group", "identityProviderMapper": "oidc-advanced-group-idp-mapper",
				"config": map[string]string{"claims": `[{"key":"dept","value":"sales"}]`, "are.claim.values.regex": "false", "group": "/partners"}},
			{"name": "email", "identityProviderMapper": "oidc-user-attribute-idp-mapper", "config": map[string]string{"claim": "email", "user.attribute": "email"}},
			{"name": "username", "identityProviderMapper": "oidc-username-idp-mapper", "config": map[string]string{"template": "${CLAIM.email}", "target": "LOCAL"}},
		} {
			if st, _, b := s.do("POST", mappers, tok, m); st != 201 {
				t.Fatalf("create %v: %d %s", m["name"], st, b)
			}
		}
		var got map[string]any
		s.get(mappers+"/"+id, tok, &got)
		if got["name"] != "partner role" || got["identityProviderAlias"] != "corp" || got["config"].(map[string]any)["role"] != "partner" {
			t.Fatalf("read mapper: %v", got)
		}
		before, _ := s.DB.ListRealmIdentityProviderMappers(context.Background(), rid)
		for name, c := range map[string]struct {
			body   map[string]any
			status int
			want   string
		}{
			"duplicate name": {role, 400, `{"errorMessage":"Failed to add mapper 'partner role' to identity provider [oidc]."}`},
			"unknown role": {map[string]any{"name": "r2", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper", "config": map[string]string{"role": "nope"}}, 400,
				`{"errorMessage":"Role nope not found"}`},
			"unknown group": {map[string]any{"name": "g2", "identityProviderMapper": "oidc-hardcoded-group-idp-mapper", "config": map[string]string{"group": "/nope"}}, 400,
				`{"errorMessage":"Group /nope not found"}`},
			"unknown type": {map[string]any{"name": "t", "identityProviderMapper": "script-mapper"}, 400,
				`{"errorMessage":"Mapper type [script-mapper] is not supported by identity provider [oidc]"}`},
			"bad claims": {map[string]any{"name": "c", "identityProviderMapper": "oidc-advanced-role-idp-mapper", "config": map[string]string{"claims": "{", "role": "partner"}}, 400,
				`{"errorMessage":"Claims must be a JSON list of key and value pairs"}`},
			"no name": {map[string]any{"identityProviderMapper": "hardcoded-attribute-idp-mapper", "config": map[string]string{"attribute": "a"}}, 400,
				`{"errorMessage":"Identity provider mapper name is missing"}`},
		} {
			st, _, b := s.do("POST", mappers, tok, c.body)
			if st != c.status || string(b) != c.want {
				t.Errorf("%s: %d %s, want %d %s", name, st, b, c.status, c.want)
			}
		}
		if after, _ := s.DB.ListRealmIdentityProviderMappers(context.Background(), rid); len(after) != len(before) {
			t.Errorf("refused mappers stored: %d → %d", len(before), len(after))
		}
		// A claim mapper on a social provider is refused.
		if st, _, b := s.do("POST", idpBase+"/instances/github/mappers", tok, map[string]any{"name": "e", "identityProviderMapper": "oidc-user-attribute-idp-mapper",
			"config": map[string]string{"claim": "email", "user.attribute": "email"}}); st != 400 {
			t.Errorf("claim mapper on github: %d %s", st, b)
		}
		got["config"].(map[string]any)["role"] = "offline_access"
		got["identityProviderAlias"] = "github" // the path's provider wins
		if st, _, b := s.do("PUT", mappers+"/"+id, tok, got); st != 204 {
			t.Fatalf("update mapper: %d %s", st, b)
		}
		s.get(mappers+"/"+id, tok, &got)
		if got["config"].(map[string]any)["role"] != "offline_access" || got["identityProviderAlias"] != "corp" {
			t.Errorf("after update: %v", got)
		}
		got["name"] = "email"
		if st, _, b := s.do("PUT", mappers+"/"+id, tok, got); st != 409 {
			t.Errorf("rename onto a sibling: %d %s", st, b)
		}
		if st, _, _ := s.do("GET", idpBase+"/instances/github/mappers/"+id, tok, nil); st != 404 {
			t.Errorf("mapper read through another provider: %d", st)
		}
		var list []map[string]any
		s.get(mappers, tok, &list)
		if len(list) != 4 || list[0]["name"] != "email" {
			t.Errorf("list: %v", list)
		}
		if st, _, _ := s.do("DELETE", mappers+"/"+id, tok, nil); st != 204 {
			t.Errorf("delete mapper: %d", st)
		}
		if st, _, b := s.do("DELETE", mappers+"/"+id, tok, nil); st != 404 || string(b) != `{"error":"Model not found"}` {
			t.Errorf("delete missing mapper: %d %s", st, b)
		}

		// Users' links.
		uid := s.createUser(t, tok, "alice")
		links := "/admin/realms/idp/users/" + uid + "/federated-identity"
		if st, _, b := s.do("POST", links+"/corp", tok, map[string]any{"identityProvider": "other", "userId": "up-1", "userName": "alice@up"}); st != 204 {
			t.Fatalf("link: %d %s", st, b)
		}
		if st, _, b := s.do("POST", links+"/corp", tok, map[string]any{"userId": "up-2"}); st != 409 || string(b) != `{"errorMessage":"User is already linked with provider"}` {
			t.Errorf("second link: %d %s", st, b)
		}
		bob := s.createUser(t, tok, "bob")
		if st, _, b := s.do("POST", "/admin/realms/idp/users/"+bob+"/federated-identity/corp", tok, map[string]any{"userId": "up-1"}); st != 409 {
			t.Errorf("account linked twice: %d %s", st, b)
		}
		if st, _, b := s.do("POST", links+"/nope", tok, map[string]any{"userId": "x"}); st != 404 {
			t.Errorf("link to a missing provider: %d %s", st, b)
		}
		if st, _, b := s.do("POST", links+"/github", tok, map[string]any{}); st != 400 {
			t.Errorf("link without an upstream id: %d %s", st, b)
		}
		s.do("POST", links+"/github", tok, map[string]any{"userId": "gh-7", "userName": "alice-gh"})
		var fed []map[string]any
		s.get(links, tok, &fed)
		if len(fed) != 2 || fed[0]["identityProvider"] != "corp" || fed[0]["userId"] != "up-1" || fed[0]["userName"] != "alice@up" {
			t.Fatalf("links: %v", fed)
		}
		if st, _, _ := s.do("DELETE", links+"/github", tok, nil); st != 204 {
			t.Errorf("unlink: %d", st)
		}
		if st, _, b := s.do("DELETE", links+"/github", tok, nil); st != 404 || string(b) != `{"error":"Link not found"}` {
			t.Errorf("unlink again: %d %s", st, b)
		}

		// Deleting the provider takes its mappers and its links.
		if st, _, _ := s.do("DELETE", idpBase+"/instances/corp", tok, nil); st != 204 {
			t.Fatal("delete provider")
		}
		if ms, _ := s.DB.ListRealmIdentityProviderMappers(context.Background(), rid); len(ms) != 0 {
			t.Errorf("mappers outlived their provider: %v", ms)
		}
		s.get(links, tok, &fed)
		if len(fed) != 0 {
			t.Errorf("links outlived their provider: %v", fed)
		}
		if _, err := s.DB.FindUserByFederatedIdentity(context.Background(), rid, "corp", "up-1"); err == nil {
			t.Error("link still found")
		}
	})
}

func (s *testServer) createUser(t *testing.T, tok, username string) string {
	st, h, b := s.do("POST", "/admin/realms/idp/users", tok, map[string]any{"username": username, "enabled": true})
	if st != 201 {
		t.Fatalf("create user: %d %s", st, b)
	}
	loc := h.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

// TestIdentityProviderPermissions: reading takes view-identity-providers or
// view-realm, writing manage-identity-providers; a role mapper can only
// grant what its author may grant.
func TestIdentityProviderPermissions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		r := s.newRealm("idp")
		tok := s.adminToken()
		s.do("POST", idpBase+"/instances", tok, corpProvider())
		viewer := s.realmAdmin(r, "viewer", "view-identity-providers")
		realmViewer := s.realmAdmin(r, "realmviewer", "view-realm")
		users := s.realmAdmin(r, "users", "manage-users")
		manager := s.realmAdmin(r, "manager", "manage-identity-providers")
		for _, c := range []struct {
			tok, method, path string
			body              any
			want              int
		}{
			{viewer, "GET", idpBase + "/instances/corp", nil, 200},
			{realmViewer, "GET", idpBase + "/instances", nil, 200},
			{users, "GET", idpBase + "/instances", nil, 403},
			{users, "GET", idpBase + "/instances/corp/mappers", nil, 403},
			{viewer, "POST", idpBase + "/instances", map[string]any{"alias": "x", "providerId": "github"}, 403},
			{viewer, "DELETE", idpBase + "/instances/corp", nil, 403},
			{realmViewer, "PUT", idpBase + "/instances/corp", corpProvider(), 403},
			{manager, "POST", idpBase + "/instances", map[string]any{"alias": "x", "providerId": "github"}, 201},
			// realm-admin through a hardcoded role mapper: refused to one
			// who cannot grant it.
			{manager, "POST", idpBase + "/instances/corp/mappers", map[string]any{"name": "esc", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper",
				"config": map[string]string{"role": "realm-management.realm-admin"}}, 403},
			{tok, "POST", idpBase + "/instances/corp/mappers", map[string]any{"name": "esc", "identityProviderMapper": "oidc-hardcoded-role-idp-mapper",
				"config": map[string]string{"role": "realm-management.realm-admin"}}, 201},
		} {
			if st, _, b := s.do(c.method, c.path, c.tok, c.body); st != c.want {
				t.Errorf("%s %s: %d %s, want %d", c.method, c.path, st, b, c.want)
			}
		}
		// Every realm has the broker client with its read-token role, which
		// providers with addReadTokenRoleOnCreate grant.
		var cs []map[string]any
		s.get("/admin/realms/idp/clients?clientId=broker", tok, &cs)
		if len(cs) != 1 {
			t.Fatalf("broker client: %v", cs)
		}
		var roles []map[string]any
		s.get("/admin/realms/idp/clients/"+cs[0]["id"].(string)+"/roles", tok, &roles)
		if len(roles) != 1 || roles[0]["name"] != "read-token" {
			t.Errorf("broker roles: %v", roles)
		}
		// A realm whose broker client was deleted gets it back, with
		// read-token, when a provider stores tokens.
		if st, _, b := s.do("DELETE", "/admin/realms/idp/clients/"+cs[0]["id"].(string), tok, nil); st != 204 {
			t.Fatalf("delete broker: %d %s", st, b)
		}
		if st, _, b := s.do("POST", idpBase+"/instances", tok, map[string]any{"alias": "tokens", "providerId": "github", "storeToken": true}); st != 201 {
			t.Fatalf("create storing tokens: %d %s", st, b)
		}
		cs = nil
		s.get("/admin/realms/idp/clients?clientId=broker", tok, &cs)
		if len(cs) != 1 {
			t.Fatalf("broker client not restored: %v", cs)
		}
		roles = nil
		s.get("/admin/realms/idp/clients/"+cs[0]["id"].(string)+"/roles", tok, &roles)
		if len(roles) != 1 || roles[0]["name"] != "read-token" {
			t.Errorf("restored broker roles: %v", roles)
		}
	})
}

// TestIdentityProviderImportConfig: a discovery document read from an
// uploaded file or fetched from a URL through the outbound client, which
// refuses loopback unless the server allows private addresses.
func TestIdentityProviderImportConfig(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("idp")
		tok := s.adminToken()
		discovery := `{"issuer":"https://up.example/realms/u","authorization_endpoint":"https://up.example/auth",
			"token_endpoint":"https://up.example/token","userinfo_endpoint":"https://up.example/userinfo",
			"end_session_endpoint":"https://up.example/logout","jwks_uri":"https://up.example/certs"}`
		var fetched int
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetched++
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, discovery)
		}))
		defer up.Close()

		st, b := s.upload(t, tok, "oidc", discovery)
		var cfg map[string]string
		json.Unmarshal(b, &cfg)
		if st != 200 || cfg["authorizationUrl"] != "https://up.example/auth" || cfg["tokenUrl"] != "https://up.example/token" ||
			cfg["userInfoUrl"] != "https://up.example/userinfo" || cfg["logoutUrl"] != "https://up.example/logout" ||
			cfg["issuer"] != "https://up.example/realms/u" || cfg["jwksUrl"] != "https://up.example/certs" ||
			cfg["useJwksUrl"] != "true" || cfg["validateSignature"] != "true" || cfg["syncMode"] != "LEGACY" {
			t.Fatalf("file import: %d %s", st, b)
		}
		if st, b := s.upload(t, tok, "oidc", "not json"); st != 400 || !strings.Contains(string(b), "errorMessage") {
			t.Errorf("bad file: %d %s", st, b)
		}
		if st, b := s.upload(t, tok, "", discovery); st != 400 {
			t.Errorf("no providerId: %d %s", st, b)
		}

		// Loopback is refused by default, and nothing is fetched.
		from := map[string]any{"providerId": "oidc", "fromUrl": up.URL + "/.well-known/openid-configuration"}
		st, _, b = s.do("POST", idpBase+"/import-config", tok, from)
		if st != 400 || string(b) != `{"errorMessage":"The address of the discovery URL is not allowed"}` || fetched != 0 {
			t.Errorf("loopback: %d %s (fetched %d)", st, b, fetched)
		}
		for _, u := range []string{"file:///etc/passwd", "http://169.254.169.254/latest/meta-data"} {
			if st, _, b := s.do("POST", idpBase+"/import-config", tok, map[string]any{"providerId": "oidc", "fromUrl": u}); st != 400 {
				t.Errorf("%s: %d %s", u, st, b)
			}
		}
		if st, _, b := s.do("POST", idpBase+"/import-config", tok, map[string]any{"providerId": "oidc"}); st != 400 || string(b) != `{"error":"HTTP 400 Bad Request"}` {
			t.Errorf("no fromUrl: %d %s", st, b)
		}
		// A server started with --outbound-allow-private fetches it.
		private := httptest.NewServer(server.New(server.Options{Store: s.DB, Outbound: outbound.New(outbound.Options{AllowPrivate: true})}))
		defer private.Close()
		ps := &testServer{t: t, URL: private.URL, DB: s.DB, Log: s.Log}
		st, _, b = ps.do("POST", idpBase+"/import-config", ps.adminToken(), from)
		cfg = nil
		json.Unmarshal(b, &cfg)
		if st != 200 || fetched != 1 || cfg["tokenUrl"] != "https://up.example/token" || cfg["metadataDescriptorUrl"] != from["fromUrl"] {
			t.Fatalf("allowed fetch: %d %s", st, b)
		}
		if ps, _ := s.DB.ListIdentityProviders(context.Background(), realmID(t, s, "idp")); len(ps) != 0 {
			t.Errorf("import-config stored a provider: %v", ps)
		}
	})
}

// upload posts a discovery document as Keycloak's admin console does.
func (s *testServer) upload(t *testing.T, tok, providerID, doc string) (int, []byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if providerID != "" {
		mw.WriteField("providerId", providerID)
	}
	fw, _ := mw.CreateFormFile("file", "openid-configuration.json")
	io.WriteString(fw, doc)
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+idpBase+"/import-config", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestIdentityProviderExportEventsServerInfo: the partial export carries
// providers with their secrets masked, admin events record provider and
// mapper changes without the secret, and serverinfo names the kinds.
func TestIdentityProviderExportEventsServerInfo(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("idp")
		tok := s.adminToken()
		if st, _, b := s.do("PUT", "/admin/realms/idp/events/config", tok, map[string]any{"adminEventsEnabled": true, "adminEventsDetailsEnabled": true}); st != 204 {
			t.Fatalf("events config: %d %s", st, b)
		}
		s.do("POST", idpBase+"/instances", tok, corpProvider())
		s.do("POST", idpBase+"/instances/corp/mappers", tok, map[string]any{"name": "e", "identityProviderMapper": "hardcoded-attribute-idp-mapper",
			"config": map[string]string{"attribute": "source", "attribute.value": "corp"}})
		st, _, b := s.do("POST", "/admin/realms/idp/partial-export", tok, nil)
		if st != 200 || strings.Contains(string(b), "s3cret-value") {
			t.Fatalf("partial export: %d (secret present: %v)", st, strings.Contains(string(b), "s3cret-value"))
		}
		var x struct {
			IdentityProviders       []map[string]any `json:"identityProviders"`
			IdentityProviderMappers []map[string]any `json:"identityProviderMappers"`
		}
		json.Unmarshal(b, &x)
		if len(x.IdentityProviders) != 1 || x.IdentityProviders[0]["config"].(map[string]any)["clientSecret"] != "**********" || len(x.IdentityProviderMappers) != 1 {
			t.Errorf("partial export: %s", b)
		}
		var evs []map[string]any
		s.get("/admin/realms/idp/admin-events", tok, &evs)
		types := map[string]bool{}
		for _, e := range evs {
			types[e["resourceType"].(string)+" "+e["operationType"].(string)] = true
			if strings.Contains(fmt_(e), "s3cret-value") {
				t.Errorf("admin event holds the secret: %v", e)
			}
		}
		if !types["IDENTITY_PROVIDER CREATE"] || !types["IDENTITY_PROVIDER_MAPPER CREATE"] {
			t.Errorf("admin events: %v", types)
		}
		var info struct {
			SocialProviders   []map[string]string `json:"socialProviders"`
			IdentityProviders []map[string]string `json:"identityProviders"`
		}
		s.get("/admin/serverinfo", tok, &info)
		ids := func(l []map[string]string) string {
			var out []string
			for _, p := range l {
				out = append(out, p["id"])
			}
			return strings.Join(out, ",")
		}
		if ids(info.IdentityProviders) != "keycloak-oidc,oidc,saml" || ids(info.SocialProviders) != "facebook,github,gitlab,google,linkedin-openid-connect,microsoft" {
			t.Errorf("serverinfo kinds: %v / %v", ids(info.IdentityProviders), ids(info.SocialProviders))
		}
	})
}

func fmt_(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestIdentityProviderPartialImport: providers and mappers through partial
// import, with FAIL (409, nothing written), SKIP and OVERWRITE (the mask
// keeps the secret, links and mappers stay).
func TestIdentityProviderPartialImport(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		rid := s.newRealm("idp").ID
		tok := s.adminToken()
		s.do("POST", idpBase+"/instances", tok, corpProvider())
		uid := s.createUser(t, tok, "alice")
		s.do("POST", "/admin/realms/idp/users/"+uid+"/federated-identity/corp", tok, map[string]any{"userId": "up-1"})
		body := func(mode string) map[string]any {
			p := corpProvider()
			p["displayName"] = "Imported"
			p["config"].(map[string]string)["clientSecret"] = "**********"
			return map[string]any{"ifResourceExists": mode,
				"identityProviders": []any{p, map[string]any{"alias": "gh", "providerId": "github"}},
				"identityProviderMappers": []any{map[string]any{"name": "src", "identityProviderAlias": "gh",
					"identityProviderMapper": "hardcoded-attribute-idp-mapper", "config": map[string]string{"attribute": "source", "attribute.value": "gh"}}}}
		}
		st, _, b := s.do("POST", "/admin/realms/idp/partialImport", tok, body("FAIL"))
		if st != 409 || string(b) != `{"errorMessage":"Identity Provider 'corp' already exists."}` {
			t.Fatalf("FAIL: %d %s", st, b)
		}
		if n := s.providerCount(t); n != 1 {
			t.Fatalf("a failed partial import stored providers: %d", n)
		}
		st, _, b = s.do("POST", "/admin/realms/idp/partialImport", tok, body("SKIP"))
		if st != 200 || !strings.Contains(string(b), `"added":2`) || !strings.Contains(string(b), `"skipped":1`) {
			t.Fatalf("SKIP: %d %s", st, b)
		}
		st, _, b = s.do("POST", "/admin/realms/idp/partialImport", tok, body("OVERWRITE"))
		if st != 200 || !strings.Contains(string(b), `"overwritten":3`) {
			t.Fatalf("OVERWRITE: %d %s", st, b)
		}
		p, _ := s.DB.GetIdentityProvider(context.Background(), rid, "corp")
		if p.DisplayName != "Imported" || p.Config["clientSecret"] != "s3cret-value" {
			t.Errorf("overwritten provider: %+v", p)
		}
		if u, err := s.DB.FindUserByFederatedIdentity(context.Background(), rid, "corp", "up-1"); err != nil || u.ID != uid {
			t.Errorf("link lost in the overwrite: %v", err)
		}
		if ms, _ := s.DB.ListIdentityProviderMappers(context.Background(), rid, "gh"); len(ms) != 1 || ms[0].Config["attribute.value"] != "gh" {
			t.Errorf("mappers: %v", ms)
		}
	})
}
