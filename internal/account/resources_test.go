package account_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// umaSetup makes ldap-app a resource server with scopes view and edit, a
// resource "album" owned by user1 and one the server owns, and a user
// carol; it returns the album's id.
func umaSetup(t *testing.T, e *env) (album string) {
	t.Helper()
	ctx := context.Background()
	app, err := e.db.GetClientByClientID(ctx, e.realm.ID, "ldap-app")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutResourceServer(ctx, authz.ResourceServer{ID: app.ID, RealmID: e.realm.ID, PolicyEnforcementMode: authz.Enforcing,
		DecisionStrategy: authz.Unanimous}); err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, name := range []string{"view", "edit"} {
		s, err := e.db.CreateScope(ctx, authz.Scope{ServerID: app.ID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		scopes = append(scopes, s.ID)
	}
	r, err := e.db.CreateResource(ctx, authz.Resource{ServerID: app.ID, Name: "album", DisplayName: "Holiday album", URIs: []string{"/album/1"},
		ScopeIDs: scopes, Owner: user1ID, OwnerManagedAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateResource(ctx, authz.Resource{ServerID: app.ID, Name: "server-owned", ScopeIDs: scopes, Owner: app.ID}); err != nil {
		t.Fatal(err)
	}
	e.newUser("carol", "manage-account", "view-profile")
	return r.ID
}

// pendingRequest stores carol's request for scope of the album, as the
// uma-ticket grant's submit_request does.
func pendingRequest(t *testing.T, e *env, album, scope string) {
	t.Helper()
	ctx := context.Background()
	res, srv := findResource(t, e, album)
	carol, err := e.db.GetUserByUsername(ctx, e.realm.ID, "carol")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := e.db.ListScopes(ctx, srv, store.ScopeFilter{Name: scope, ExactName: true})
	if err != nil || len(ss) != 1 {
		t.Fatalf("scope %s: %v %v", scope, ss, err)
	}
	if err := e.db.CreatePermissionTicket(ctx, store.PermissionTicket{ID: store.NewID(), RealmID: e.realm.ID, ServerID: srv,
		ResourceID: res.ID, ScopeID: ss[0].ID, Owner: res.Owner, Requester: carol.ID, CreatedTimestamp: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
}

func findResource(t *testing.T, e *env, id string) (authz.Resource, string) {
	t.Helper()
	ctx := context.Background()
	ids, err := e.db.ListResourceServers(ctx, e.realm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range ids {
		if r, err := e.db.GetResource(ctx, srv, id); err == nil {
			return r, srv
		}
	}
	t.Fatalf("no resource %s", id)
	return authz.Resource{}, ""
}

// umaDecision asks the token endpoint whether the holder of token is
// granted permission (resource#scope) at ldap-app.
func umaDecision(t *testing.T, e *env, token, permission string) bool {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url("/protocol/openid-connect/token"), strings.NewReader(url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:uma-ticket"}, "audience": {"ldap-app"},
		"permission": {permission}, "response_mode": {"decision"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Result bool   `json:"result"`
		Error  string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK && body.Error != "access_denied" {
		t.Fatalf("uma decision for %s: %d %+v", permission, resp.StatusCode, body)
	}
	return resp.StatusCode == http.StatusOK && body.Result
}

type resourceJSON struct {
	ID     string `json:"_id"`
	Name   string `json:"name"`
	Scopes []struct {
		Name string `json:"name"`
	} `json:"scopes"`
	Client struct {
		ClientID string `json:"clientId"`
	} `json:"client"`
	Permissions []permissionJSON `json:"permissions"`
}

type permissionJSON struct {
	Username string   `json:"username"`
	Email    string   `json:"email"`
	Scopes   []string `json:"scopes"`
}

func scopeNames(r resourceJSON) string {
	var out []string
	for _, s := range r.Scopes {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

// The account API of user-managed access, as Keycloak's account console
// calls it: the owner lists their resources, shares one with carol by
// username and scope, sees who holds it; carol sees it shared with her;
// a pending request is approved, then the share revoked. Bad requests
// change nothing.
func TestResourcesAPI(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open)
		album := umaSetup(t, e)
		owner := e.login("user1", "password", "openid")["access_token"].(string)
		carol := e.login("carol", "pw-carol", "openid")["access_token"].(string)

		var mine []resourceJSON
		mine = nil
		e.get("/account/resources", owner, &mine)
		if len(mine) != 1 || mine[0].ID != album || mine[0].Name != "album" || mine[0].Client.ClientID != "ldap-app" || scopeNames(mine[0]) != "view,edit" {
			t.Fatalf("my resources: %+v", mine)
		}
		mine = nil
		e.get("/account/resources?name=ALB", owner, &mine)
		if len(mine) != 1 {
			t.Errorf("search by name: %+v", mine)
		}
		mine = nil
		e.get("/account/resources?name=nothing", owner, &mine)
		if len(mine) != 0 {
			t.Errorf("search for nothing: %+v", mine)
		}
		var one resourceJSON
		e.get("/account/resources/"+album, owner, &one)
		if one.ID != album {
			t.Errorf("one resource: %+v", one)
		}
		if st, _, b := e.call("GET", "/account/resources/"+album, carol, nil); st != http.StatusBadRequest || !strings.Contains(string(b), `"invalid_resource"`) {
			t.Errorf("someone else's resource: %d %s", st, b)
		}
		if st, _, b := e.call("GET", "/account/resources/no-such-id", owner, nil); st != http.StatusNotFound || !strings.Contains(string(b), `"resource_not_found"`) {
			t.Errorf("unknown resource: %d %s", st, b)
		}
		if st, _, _ := e.call("GET", "/account/resources", "", nil); st != http.StatusUnauthorized {
			t.Errorf("no token: %d", st)
		}

		// Bad shares change nothing: no list, an unknown user, an unknown
		// scope, the owner themselves; one bad entry refuses them all.
		perms := "/account/resources/" + album + "/permissions"
		for name, body := range map[string]any{
			"empty list":    []any{},
			"unknown user":  []map[string]any{{"username": "carol", "scopes": []string{"view"}}, {"username": "nobody", "scopes": []string{"view"}}},
			"unknown scope": []map[string]any{{"username": "carol", "scopes": []string{"fly"}}},
			"the owner":     []map[string]any{{"username": "user1", "scopes": []string{"view"}}},
		} {
			if st, _, b := e.call("PUT", perms, owner, body); st != http.StatusBadRequest || !strings.Contains(string(b), `"invalid_permissions"`) {
				t.Errorf("%s: %d %s", name, st, b)
			}
		}
		var holders []permissionJSON
		holders = nil
		e.get(perms, owner, &holders)
		if len(holders) != 0 {
			t.Fatalf("a refused share was stored: %+v", holders)
		}
		if st, _, _ := e.call("PUT", perms, carol, []map[string]any{{"username": "carol", "scopes": []string{"view"}}}); st != http.StatusBadRequest {
			t.Errorf("carol shared the owner's resource with herself: %d", st)
		}

		// Share view with carol.
		if st, _, b := e.call("PUT", perms, owner, []map[string]any{{"username": "carol", "scopes": []string{"view"}}}); st != http.StatusNoContent {
			t.Fatalf("share: %d %s", st, b)
		}
		holders = nil
		e.get(perms, owner, &holders)
		if len(holders) != 1 || holders[0].Username != "carol" || holders[0].Email != "carol@example.com" || strings.Join(holders[0].Scopes, ",") != "view" {
			t.Errorf("holders: %+v", holders)
		}
		// The share counts where it matters: carol's uma-ticket grant.
		if !umaDecision(t, e, carol, album+"#view") || umaDecision(t, e, carol, album+"#edit") {
			t.Error("after sharing view, carol's decisions are not view granted and edit refused")
		}
		var shared []resourceJSON
		shared = nil
		e.get("/account/resources/shared-with-me", carol, &shared)
		if len(shared) != 1 || shared[0].ID != album || scopeNames(shared[0]) != "view" {
			t.Errorf("shared with carol: %+v", shared)
		}
		shared = nil
		e.get("/account/resources/shared-with-me", owner, &shared)
		if len(shared) != 0 {
			t.Errorf("shared with the owner: %+v", shared)
		}
		shared = nil
		e.get("/account/resources/shared-with-others", owner, &shared)
		if len(shared) != 1 || len(shared[0].Permissions) != 1 || shared[0].Permissions[0].Username != "carol" {
			t.Errorf("shared with others: %+v", shared)
		}

		// carol asks for edit too; the owner sees the request and approves.
		pendingRequest(t, e, album, "edit")
		var pending []resourceJSON
		pending = nil
		e.get("/account/resources/pending-requests", carol, &pending)
		if len(pending) != 1 || pending[0].ID != album || scopeNames(pending[0]) != "edit" {
			t.Errorf("carol's pending requests: %+v", pending)
		}
		holders = nil
		e.get(perms+"/requests", owner, &holders)
		if len(holders) != 1 || holders[0].Username != "carol" || strings.Join(holders[0].Scopes, ",") != "edit" {
			t.Errorf("requests: %+v", holders)
		}
		if st, _, b := e.call("PUT", perms, owner, []map[string]any{{"username": "carol", "scopes": []string{"view", "edit"}}}); st != http.StatusNoContent {
			t.Fatalf("approve: %d %s", st, b)
		}
		holders = nil
		e.get(perms+"/requests", owner, &holders)
		if len(holders) != 0 {
			t.Errorf("requests after approval: %+v", holders)
		}
		shared = nil
		e.get("/account/resources/shared-with-me", carol, &shared)
		if len(shared) != 1 || scopeNames(shared[0]) != "view,edit" {
			t.Errorf("shared with carol after approval: %+v", shared)
		}

		// Revoke everything.
		if st, _, b := e.call("PUT", perms, owner, []map[string]any{{"username": "carol", "scopes": []string{}}}); st != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", st, b)
		}
		shared = nil
		e.get("/account/resources/shared-with-me", carol, &shared)
		if len(shared) != 0 {
			t.Errorf("shared with carol after revocation: %+v", shared)
		}
		if umaDecision(t, e, carol, album+"#view") {
			t.Error("carol is still granted view after the revocation")
		}
		// The API also answers at /account/v1.
		var v1 []resourceJSON
		e.get("/account/v1/resources", owner, &v1)
		if len(v1) != 1 {
			t.Errorf("v1: %+v", v1)
		}
	})
}

// The console's Resources page: the owner shares the album with carol by
// username and scope, carol finds it shared with her; a request of carol
// is approved, another denied; the owner revokes the share.
func TestConsoleResources(t *testing.T) {
	e := newEnv(t)
	album := umaSetup(t, e)
	owner := e.browser()
	csrf := owner.signIn("user1", "password")
	const page = "/realms/" + realmName + "/account/resources"

	// A realm that does not allow user-managed access offers no Resources
	// page: no link to it, the page is not found and its forms do nothing.
	resp, body := owner.do("GET", "/realms/"+realmName+"/account/", nil)
	if resp.StatusCode != 200 || strings.Contains(body, `id="nav-resources"`) {
		t.Fatalf("personal info with user-managed access off: %d, Resources link shown: %v", resp.StatusCode, strings.Contains(body, `id="nav-resources"`))
	}
	if resp, body := owner.do("GET", page, nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "does not let users manage their resources") {
		t.Fatalf("resources page with user-managed access off: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := owner.post("resources/share", csrf, url.Values{"resource": {album}, "username": {"carol"}, "scope.view": {"on"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("share with user-managed access off: %d", resp.StatusCode)
	}
	var perms []permissionJSON
	e.get("/account/resources/"+album+"/permissions", e.login("user1", "password", "openid")["access_token"].(string), &perms)
	if len(perms) != 0 {
		t.Fatalf("a refused share was stored: %+v", perms)
	}
	e.updateRealm(func(r *realm.Realm) { r.UserManagedAccessAllowed = true })
	_, body = owner.do("GET", "/realms/"+realmName+"/account/", nil)
	if !strings.Contains(body, `id="nav-resources"`) {
		t.Fatalf("no Resources link with user-managed access on")
	}

	resp, body = owner.do("GET", page, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="resource-`+album+`"`) || !strings.Contains(body, "Holiday album") ||
		strings.Contains(body, "server-owned") {
		t.Fatalf("resources page: %d\n%s", resp.StatusCode, body)
	}
	// The API's JSON at the same address for a JSON client.
	if st, _, b := e.call("GET", "/account/resources", e.login("user1", "password", "openid")["access_token"].(string), nil); st != 200 || !json.Valid(b) {
		t.Errorf("API at the page's address: %d %s", st, b)
	}

	share := url.Values{"resource": {album}, "username": {"carol"}, "scope.view": {"on"}}
	resp, body = owner.post("resources/share", csrf, share)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/account/resources?done=shared") {
		t.Fatalf("share: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = owner.do("GET", page+"?done=shared", nil)
	if !strings.Contains(body, `data-username="carol"`) || !strings.Contains(body, "The resource was shared.") {
		t.Errorf("the page does not show the share:\n%s", body)
	}
	for name, form := range map[string]url.Values{
		"unknown user": {"resource": {album}, "username": {"nobody"}, "scope.view": {"on"}},
		"no scope":     {"resource": {album}, "username": {"carol"}},
		"yourself":     {"resource": {album}, "username": {"user1"}, "scope.view": {"on"}},
		"not yours":    {"resource": {"no-such-id"}, "username": {"carol"}, "scope.view": {"on"}},
	} {
		if resp, _ := owner.post("resources/share", csrf, form); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	if resp, _ := owner.post("resources/share", "wrong", share); resp.StatusCode != http.StatusForbidden {
		t.Errorf("share without the CSRF token: %d", resp.StatusCode)
	}

	cb := e.browser()
	cb.signIn("carol", "pw-carol")
	_, body = cb.do("GET", page, nil)
	if !strings.Contains(body, `id="shared-`+album+`"`) || !strings.Contains(body, `class="granted-scopes">view</dd>`) {
		t.Errorf("carol's page does not show the album shared with her:\n%s", body)
	}

	// Requests: edit approved.
	pendingRequest(t, e, album, "edit")
	_, body = owner.do("GET", page, nil)
	if !strings.Contains(body, `class="request" data-username="carol"`) {
		t.Fatalf("the owner does not see carol's request:\n%s", body)
	}
	if resp, _ := owner.post("resources/approve", csrf, url.Values{"resource": {album}, "username": {"carol"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	_, body = cb.do("GET", page, nil)
	if !strings.Contains(body, `class="granted-scopes">view, edit</dd>`) {
		t.Errorf("after approval carol holds:\n%s", body)
	}
	// Revoke: nothing shared with carol any more; then a request denied
	// leaves nothing either.
	if resp, _ := owner.post("resources/revoke", csrf, url.Values{"resource": {album}, "username": {"carol"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	pendingRequest(t, e, album, "view")
	if resp, _ := owner.post("resources/deny", csrf, url.Values{"resource": {album}, "username": {"carol"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deny: %d", resp.StatusCode)
	}
	_, body = cb.do("GET", page, nil)
	if !strings.Contains(body, `id="nothing-shared"`) || strings.Contains(body, `id="my-requests"`) {
		t.Errorf("after revoke and deny carol's page:\n%s", body)
	}
}
