package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The Clients section's client registration tab lists, edits, adds and
// deletes the realm's registration policies, and its initial access token
// tab creates and deletes tokens, through the admin API.
func TestClientRegistrationPages(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		ctx := context.Background()
		policies := func() []realm.RegistrationPolicy {
			t.Helper()
			r, err := e.db.GetRealm(ctx, e.demo.ID)
			if err != nil {
				t.Fatal(err)
			}
			return r.RegistrationPolicies
		}
		byName := func(name string) realm.RegistrationPolicy {
			for _, p := range policies() {
				if p.Name == name {
					return p
				}
			}
			t.Fatalf("no policy %q", name)
			return realm.RegistrationPolicy{}
		}
		b := e.browser()
		b.signIn(masterConsole, "admin", "admin-pw")
		path := "/admin/master/console/demo/client-registration"
		p := b.get(path)
		if p.status != http.StatusOK || !strings.Contains(p.body, "Trusted Hosts") || !strings.Contains(p.body, `id="authenticated-policies"`) ||
			!strings.Contains(p.body, "Client registration") {
			t.Fatalf("registration page: %d %s", p.status, p.body)
		}

		th := byName("Trusted Hosts")
		one := path + "/" + th.ID
		p = b.get(one)
		if p.status != http.StatusOK || !strings.Contains(p.body, "host-sending-registration-request-must-match") {
			t.Fatalf("policy page: %d %s", p.status, p.body)
		}
		// Turning both checks off is refused by the API and shown.
		if p := b.submit(p, one, url.Values{"name": {"Trusted Hosts"}, "cfg-trusted-hosts": {""}}); p.status != http.StatusBadRequest {
			t.Errorf("both checks off: %d", p.status)
		}
		p = b.submit(p, one, url.Values{"name": {"Trusted Hosts"}, "cfg-trusted-hosts": {"app.example\n*.corp.example\n"},
			"cfg-host-sending-registration-request-must-match": {"on"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save policy: %d %s", p.status, p.body)
		}
		got := byName("Trusted Hosts").Config
		if !slices.Equal(got["trusted-hosts"], []string{"app.example", "*.corp.example"}) || got["client-uris-must-match"][0] != "false" ||
			got["host-sending-registration-request-must-match"][0] != "true" {
			t.Errorf("saved config %v", got)
		}

		p = b.get(path)
		p = b.submit(p, path, url.Values{"action": {"add"}, "subType": {"authenticated"}, "providerId": {"client-disabled"}, "name": {"Off"}})
		if p.status != http.StatusSeeOther || byName("Off").SubType != "authenticated" {
			t.Fatalf("add policy: %d", p.status)
		}
		p = b.get(path)
		p = b.submit(p, path, url.Values{"action": {"delete"}, "id": {byName("Off").ID}})
		if p.status != http.StatusSeeOther || len(policies()) != 10 {
			t.Errorf("delete policy: %d, %d left", p.status, len(policies()))
		}

		ia := "/admin/master/console/demo/initial-access-tokens"
		p = b.get(ia)
		if p.status != http.StatusOK || !strings.Contains(p.body, "No initial access tokens.") {
			t.Fatalf("initial access page: %d %s", p.status, p.body)
		}
		if p := b.submit(p, ia, url.Values{"action": {"create"}, "expiration": {"60"}, "count": {"0"}}); p.status != http.StatusBadRequest {
			t.Errorf("count 0: %d", p.status)
		}
		p = b.submit(p, ia, url.Values{"action": {"create"}, "expiration": {"60"}, "count": {"2"}})
		if p.status != http.StatusOK || !strings.Contains(p.body, `id="new-token"`) {
			t.Fatalf("create token: %d %s", p.status, p.body)
		}
		list, err := e.db.ListInitialAccess(ctx, e.demo.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("tokens %v %v", list, err)
		}
		p = b.submit(p, ia, url.Values{"action": {"delete"}, "id": {list[0].ID}})
		if list, _ := e.db.ListInitialAccess(ctx, e.demo.ID); p.status != http.StatusSeeOther || len(list) != 0 {
			t.Errorf("delete token: %d, %d left", p.status, len(list))
		}
	})
}
