package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Impersonating a user of the administrator's own realm ends the
// administrator's session there (sameRealm): the console drops its cookie
// with it rather than keep one naming a dead session, and the browser
// lands in the user's account console.
func TestConsoleImpersonateSameRealm(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		master := e.realm("master")
		u := e.addUser(master, "hank", "hank-pw")
		b := e.browser()
		b.signIn("/admin/master/console/", "admin", "admin-pw")
		base := "/admin/master/console/master"
		p := b.get(base + "/users/" + u.ID)
		if !strings.Contains(p.body, `id="impersonate"`) {
			t.Fatalf("no impersonate button: %d %s", p.status, p.body)
		}
		r := b.submit(p, base+"/users/"+u.ID+"/impersonate", url.Values{})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != e.srv.URL+"/realms/master/account" {
			t.Fatalf("impersonate: %d %q %s", r.status, r.header.Get("Location"), r.body)
		}
		dropped := false
		for _, c := range r.header.Values("Set-Cookie") {
			dropped = dropped || strings.HasPrefix(c, "GATEHOUSE_CONSOLE=;") && strings.Contains(c, "Max-Age=0")
		}
		if !dropped {
			t.Errorf("the console kept its cookie: %v", r.header.Values("Set-Cookie"))
		}
		admin, err := e.db.GetUserByUsername(context.Background(), master.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if ss, _ := e.db.ListUserSessions(context.Background(), master.ID, admin.ID, false); len(ss) != 0 {
			t.Errorf("the administrator's session survived: %d", len(ss))
		}
	})
}

// A client scope's Mappers tab adds the server's predefined mappers as they
// are: the two impersonator mappers, which no built-in scope carries, put
// the impersonator's id and username into tokens.
func TestConsoleAddPredefinedMappers(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, web.URLs{}, open)
		ctx := context.Background()
		b := e.browser()
		b.signIn("/admin/master/console/", "admin", "admin-pw")
		base := "/admin/master/console/demo"
		r := b.submit(b.get(base+"/client-scopes/new"), base+"/client-scopes/new",
			url.Values{"name": {"impersonation"}, "protocol": {"openid-connect"}, "type": {"none"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("create scope: %d %s", r.status, r.body)
		}
		loc := strings.SplitN(r.header.Get("Location"), "?", 2)[0]
		scope := loc[strings.LastIndexByte(loc, '/')+1:]
		p := b.get(base + "/client-scopes/" + scope + "/mappers")
		if p.status != 200 || !strings.Contains(p.body, `value="impersonator id"`) || !strings.Contains(p.body, `value="impersonator username"`) {
			t.Fatalf("mappers tab offers no impersonator mappers: %d %s", p.status, p.body)
		}
		if r := b.submit(p, base+"/client-scopes/"+scope+"/mappers", url.Values{"action": {"add-predefined"}}); r.status != 400 ||
			fieldError(r.body, "e-predefined") == "" {
			t.Errorf("nothing chosen: %d", r.status)
		}
		r = b.submit(p, base+"/client-scopes/"+scope+"/mappers", url.Values{"action": {"add-predefined"},
			"predefined": {"impersonator id", "impersonator username"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("add predefined: %d %s", r.status, r.body)
		}
		sc, err := e.db.GetClientScope(ctx, e.demo.ID, scope)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range sc.ProtocolMappers {
			if m.ProtocolMapper == "oidc-usersessionmodel-note-mapper" {
				got[m.Config["claim.name"]] = m.Config["user.session.note"]
			}
		}
		if len(sc.ProtocolMappers) != 2 || got["impersonator.id"] != "IMPERSONATOR_ID" || got["impersonator.username"] != "IMPERSONATOR_USERNAME" {
			t.Errorf("stored mappers: %+v", sc.ProtocolMappers)
		}
	})
}
