package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The client's Dedicated scope tab switches full scope and assigns scope
// roles; the client scope's Scope tab assigns and removes them.
func TestScopeTabs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	home := b.signIn(masterConsole, "admin", "admin-pw")
	r := "/admin/master/console/demo"
	post := func(path string, form url.Values) {
		t.Helper()
		if p := b.submit(home, r+path, form); p.status != http.StatusSeeOther {
			t.Fatalf("POST %s %v: %d %s", path, form, p.status, p.body)
		}
	}
	reader := role.Role{ID: store.NewID(), RealmID: e.demo.ID, Name: "reader"}
	if err := e.db.CreateRole(ctx, reader); err != nil {
		t.Fatal(err)
	}
	account, _ := e.db.GetClient(ctx, e.demo.ID, e.clientUUID("demo", "account"))
	viewProfile, err := e.db.GetClientRole(ctx, e.demo.ID, account.ID, "view-profile")
	if err != nil {
		t.Fatal(err)
	}
	cli := e.clientUUID("demo", "admin-cli")

	// With full scope the tab says so and offers no roles.
	p := b.get(r + "/clients/" + cli + "/scope")
	if p.status != 200 || !strings.Contains(p.body, `id="full-scope-note"`) || strings.Contains(p.body, `id="assign-realm-roles"`) {
		t.Fatalf("full-scope tab: %d %s", p.status, p.body)
	}
	post("/clients/"+cli+"/scope", url.Values{"action": {"full-scope"}})
	if c, _ := e.db.GetClient(ctx, e.demo.ID, cli); c.FullScopeAllowed {
		t.Fatal("full scope still on")
	}
	p = b.get(r + "/clients/" + cli + "/scope")
	if !strings.Contains(p.body, `id="assign-realm-roles"`) || !strings.Contains(p.body, ">reader<") {
		t.Fatalf("without full scope the tab offers realm roles: %s", p.body)
	}
	post("/clients/"+cli+"/scope", url.Values{"action": {"assign"}, "role": {reader.ID}})
	post("/clients/"+cli+"/scope", url.Values{"action": {"assign"}, "client": {account.ID}, "role": {viewProfile.ID}})
	got, _ := e.db.ScopeMappings(ctx, e.demo.ID, store.ScopeOwner{ID: cli})
	if len(got) != 2 {
		t.Fatalf("admin-cli scope mappings: %v", got)
	}
	p = b.get(r + "/clients/" + cli + "/scope")
	if !strings.Contains(p.body, "view-profile") || !strings.Contains(p.body, "Realm roles in scope") {
		t.Fatalf("the tab lists the assigned roles: %s", p.body)
	}
	post("/clients/"+cli+"/scope", url.Values{"action": {"remove"}, "client": {account.ID}, "role": {viewProfile.ID}})
	if got, _ := e.db.ScopeMappings(ctx, e.demo.ID, store.ScopeOwner{ID: cli}); len(got) != 1 || got[0].Name != "reader" {
		t.Fatalf("after removing view-profile: %v", got)
	}
	post("/clients/"+cli+"/scope", url.Values{"action": {"full-scope"}, "full-scope": {"on"}})
	if c, _ := e.db.GetClient(ctx, e.demo.ID, cli); !c.FullScopeAllowed {
		t.Fatal("full scope not back on")
	}

	// A client scope's Scope tab.
	email, _ := e.db.GetClientScopeByName(ctx, e.demo.ID, "email")
	post("/client-scopes/"+email.ID+"/scope", url.Values{"action": {"assign"}, "role": {reader.ID}})
	owner := store.ScopeOwner{ClientScope: true, ID: email.ID}
	if got, _ := e.db.ScopeMappings(ctx, e.demo.ID, owner); len(got) != 1 || got[0].Name != "reader" {
		t.Fatalf("email's scope mappings: %v", got)
	}
	p = b.get(r + "/client-scopes/" + email.ID + "/scope")
	if p.status != 200 || strings.Contains(p.body, "full-scope") || !strings.Contains(p.body, "reader") {
		t.Fatalf("scope tab: %d %s", p.status, p.body)
	}
	post("/client-scopes/"+email.ID+"/scope", url.Values{"action": {"remove"}, "role": {reader.ID}})
	if got, _ := e.db.ScopeMappings(ctx, e.demo.ID, owner); len(got) != 0 {
		t.Fatalf("after remove: %v", got)
	}
}
