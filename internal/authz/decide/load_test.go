package decide_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The identity of a user acting through a client without full scope: the roles its token would
// carry, the stored roles for fetchRoles, groups with their ancestors, client scopes asked for.
func TestLoadIdentity(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := open(t)
		now := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		rl := realm.New(store.NewID(), "shop")
		must(provision.NewRealm(ctx, db, rl, now))
		rl, _ = db.GetRealm(ctx, rl.ID)
		app := client.New(store.NewID(), rl.ID, "app")
		app.FullScopeAllowed = false
		must(db.CreateClient(ctx, app))
		newRole := func(name string) string {
			r := role.Role{ID: store.NewID(), RealmID: rl.ID, Name: name}
			must(db.CreateRole(ctx, r))
			return r.ID
		}
		reader, writer, auditor := newRole("reader"), newRole("writer"), newRole("auditor")
		must(db.AddComposites(ctx, writer, auditor))
		must(db.AddScopeMappings(ctx, store.ScopeOwner{ID: app.ID}, reader))
		extra := client.Scope{ID: store.NewID(), RealmID: rl.ID, Name: "extra", Protocol: "openid-connect"}
		must(db.CreateClientScope(ctx, extra))
		must(db.LinkClientScope(ctx, rl.ID, app.ID, extra.ID, false))
		staff := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: "staff"}
		ops := role.Group{ID: store.NewID(), RealmID: rl.ID, ParentID: staff.ID, Name: "ops"}
		must(db.CreateGroup(ctx, staff))
		must(db.CreateGroup(ctx, ops))
		u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Enabled: true, CreatedTimestamp: now.UnixMilli()}
		must(db.CreateUser(ctx, u))
		must(db.AddUserRoles(ctx, u.ID, reader, writer))
		must(db.AddGroupMember(ctx, ops.ID, u.ID))

		id, err := decide.LoadIdentity(ctx, db, decide.Subject{Realm: rl, Client: app, User: u, Scope: "extra bogus", Now: now,
			Attributes: map[string][]string{"env": {"prod"}}})
		must(err)
		if !id.RoleIDs[reader] || id.RoleIDs[writer] || id.RoleIDs[auditor] {
			t.Errorf("token roles %v: only reader is in the client's scope", id.RoleIDs)
		}
		if !id.StoredRoleIDs[reader] || !id.StoredRoleIDs[writer] || !id.StoredRoleIDs[auditor] {
			t.Errorf("stored roles %v: reader, writer and its composite auditor", id.StoredRoleIDs)
		}
		if !reflect.DeepEqual(id.GroupIDs, map[string]bool{ops.ID: true}) || !id.InheritedGroupIDs[staff.ID] ||
			!reflect.DeepEqual(id.GroupPaths, []string{"/staff/ops"}) {
			t.Errorf("groups %v %v %v", id.GroupIDs, id.InheritedGroupIDs, id.GroupPaths)
		}
		if !id.ClientScopeIDs[extra.ID] {
			t.Errorf("client scopes %v: extra was asked for", id.ClientScopeIDs)
		}
		if id.UserID != u.ID || id.ClientID != app.ID || id.Attributes["kc.client.id"][0] != "app" ||
			id.Attributes["kc.realm.name"][0] != "shop" || id.Attributes["env"][0] != "prod" {
			t.Errorf("identity %+v", id)
		}

		// The engine of the client's resource server, read back from the store, decides with it.
		must(db.PutResourceServer(ctx, authz.ResourceServer{ID: app.ID, RealmID: rl.ID, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous}))
		res, err := db.CreateResource(ctx, authz.Resource{ServerID: app.ID, Name: "Ledger", Owner: app.ID})
		must(err)
		for _, fetch := range []string{"true", "false"} {
			p, err := db.CreatePolicy(ctx, authz.Policy{ServerID: app.ID, Name: "auditors " + fetch, Type: "role", Logic: authz.Positive, DecisionStrategy: authz.Unanimous,
				Config: map[string]string{"roles": fmt.Sprintf(`[{"id":%q,"required":false}]`, auditor), "fetchRoles": fetch}})
			must(err)
			_, err = db.CreatePolicy(ctx, authz.Policy{ServerID: app.ID, Name: "ledger " + fetch, Type: "resource", Logic: authz.Positive, DecisionStrategy: authz.Unanimous,
				PolicyIDs: []string{p.ID}, ResourceIDs: []string{res.ID}, Config: map[string]string{}})
			must(err)
		}
		e, err := decide.LoadEngine(ctx, db, rl.ID, app.ID)
		must(err)
		r := e.Explain(id, []decide.Requested{{ResourceID: res.ID}})
		effects := map[string]string{}
		for _, pr := range r.Policies {
			for _, p := range e.Model().Policies {
				if p.ID == pr.PolicyID {
					effects[p.Name] = pr.Effect
				}
			}
		}
		want := map[string]string{"ledger true": decide.Permit, "ledger false": decide.Deny}
		if !reflect.DeepEqual(effects, want) || !r.Denied {
			t.Errorf("effects %v (denied %v), want %v and denied under UNANIMOUS", effects, r.Denied, want)
		}
		// Requests of one configuration version share the compiled engine; a change compiles anew.
		e1, err := decide.LoadEngine(store.WithConfigView(ctx), db, rl.ID, app.ID)
		must(err)
		e2, err := decide.LoadEngine(store.WithConfigView(ctx), db, rl.ID, app.ID)
		must(err)
		if e1 != e2 {
			t.Error("the same configuration version compiled twice")
		}
		if e3, _ := decide.LoadEngine(ctx, db, rl.ID, app.ID); e3 == e1 {
			t.Error("a model read without a view reused a cached engine")
		}
		ledgers, err := db.ListPolicies(ctx, app.ID, store.PolicyFilter{Name: "ledger false", ExactName: true, Max: -1})
		must(err)
		_, err = db.UpdatePolicy(ctx, app.ID, ledgers[0].ID, func(p *authz.Policy) error { p.PolicyIDs = nil; return nil })
		must(err)
		e4, err := decide.LoadEngine(store.WithConfigView(ctx), db, rl.ID, app.ID)
		must(err)
		if e4 == e1 || e4.Evaluate(id, []decide.Requested{{ResourceID: res.ID}}).Denied {
			t.Error("a policy change was not seen: the permission left without policies should no longer deny")
		}
		if _, err := decide.LoadEngine(ctx, db, rl.ID, "no-such-client"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown resource server: %v", err)
		}
	})
}
