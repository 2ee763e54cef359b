package console_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// accessClaims signs username in to client clientID of realm demo with the
// password grant and returns the access token's claims.
func accessClaims(t *testing.T, e *env, clientID, username, password string) map[string]any {
	t.Helper()
	res, err := http.PostForm(e.srv.URL+"/realms/demo/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"}, "client_id": {clientID}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("password grant: %d %v", res.StatusCode, err)
	}
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q", tok.AccessToken)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	decode(t, string(b), &claims)
	return claims
}

func mapperNamed(c client.Client, name string) (client.ProtocolMapper, bool) {
	for _, m := range c.ProtocolMappers {
		if m.Name == name {
			return m, true
		}
	}
	return client.ProtocolMapper{}, false
}

// A client's dedicated mappers: added by configuration (a refusal for a
// missing required setting shown at its field), edited, predefined ones
// added, deleted, and the mapper's claim seen in a real access token.
func TestClientDedicatedMappers(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		ctx := context.Background()
		b := e.browser()
		home := b.signIn("/admin/master/console/", "admin", "admin-pw")
		r := "/admin/master/console/demo"
		p := b.submit(home, r+"/clients/new", url.Values{"clientId": {"app"}, "accessType": {"public"}, "enabled": {"on"},
			"directAccessGrantsEnabled": {"on"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create client: %d %s", p.status, p.body)
		}
		app := e.clientUUID("demo", "app")
		e.addUser(e.demo, "alice", "alice-pw")
		page := r + "/clients/" + app + "/mappers"

		p = b.get(r + "/clients/" + app)
		if !strings.Contains(p.body, `href="`+page+`"`) {
			t.Errorf("no Dedicated mappers tab on the client: %s", p.body)
		}
		p = b.get(r + "/clients/" + app + "/client-scopes")
		if !strings.Contains(p.body, `<a href="`+page+`" id="dedicated-scope">app-dedicated</a>`) {
			t.Errorf("no app-dedicated row on the Client scopes tab: %s", p.body)
		}
		p = b.get(page + "?type=oidc-hardcoded-claim-mapper")
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="claim.name"`) {
			t.Fatalf("mapper form: %d %s", p.status, p.body)
		}

		// Missing Token Claim Name: refused by the API, shown at the field, nothing stored.
		form := url.Values{"action": {"create"}, "type": {"oidc-hardcoded-claim-mapper"}, "name": {"tenant"},
			"claim.value": {"acme"}, "jsonType.label": {"String"}, "access.token.claim": {"on"}}
		p = b.submit(home, page, form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="e-claim.name"`) || !strings.Contains(p.body, "is required for a") {
			t.Fatalf("missing claim name: %d %s", p.status, p.body)
		}
		if c, _ := e.db.GetClient(ctx, e.demo.ID, app); len(c.ProtocolMappers) != 0 {
			t.Fatalf("refused mapper stored: %+v", c.ProtocolMappers)
		}

		form.Set("claim.name", "tenant")
		if p = b.submit(home, page, form); p.status != http.StatusSeeOther {
			t.Fatalf("add mapper: %d %s", p.status, p.body)
		}
		c, _ := e.db.GetClient(ctx, e.demo.ID, app)
		m, ok := mapperNamed(c, "tenant")
		if !ok || m.Config["claim.value"] != "acme" {
			t.Fatalf("mapper: %+v", c.ProtocolMappers)
		}
		if got := accessClaims(t, e, "app", "alice", "alice-pw")["tenant"]; got != "acme" {
			t.Errorf("tenant claim %v, want acme", got)
		}
		if p := b.get(page); !strings.Contains(p.body, "claim.value = acme") {
			t.Errorf("mapper not listed: %s", p.body)
		}

		// Edit.
		p = b.get(page + "?mapper=" + m.ID)
		if p.status != http.StatusOK || !strings.Contains(p.body, `value="acme"`) || !strings.Contains(p.body, `name="action" value="update"`) {
			t.Fatalf("edit form: %d %s", p.status, p.body)
		}
		form.Set("action", "update")
		form.Set("mapper", m.ID)
		form.Set("claim.value", "beta")
		if p = b.submit(home, page, form); p.status != http.StatusSeeOther {
			t.Fatalf("update mapper: %d %s", p.status, p.body)
		}
		if got := accessClaims(t, e, "app", "alice", "alice-pw")["tenant"]; got != "beta" {
			t.Errorf("tenant claim after edit %v, want beta", got)
		}

		// Predefined.
		if p = b.submit(home, page, url.Values{"action": {"add-predefined"}, "predefined": {"birthdate"}}); p.status != http.StatusSeeOther {
			t.Fatalf("add predefined: %d %s", p.status, p.body)
		}
		c, _ = e.db.GetClient(ctx, e.demo.ID, app)
		if bd, ok := mapperNamed(c, "birthdate"); !ok || bd.Config["user.attribute"] != "birthdate" {
			t.Errorf("predefined mapper: %+v", c.ProtocolMappers)
		}

		// Delete.
		if p = b.submit(home, page, url.Values{"action": {"delete"}, "mapper": {m.ID}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete mapper: %d %s", p.status, p.body)
		}
		c, _ = e.db.GetClient(ctx, e.demo.ID, app)
		if _, ok := mapperNamed(c, "tenant"); ok || len(c.ProtocolMappers) != 1 {
			t.Errorf("after delete: %+v", c.ProtocolMappers)
		}
		if _, ok := accessClaims(t, e, "app", "alice", "alice-pw")["tenant"]; ok {
			t.Error("deleted mapper still in the token")
		}
	})
}
