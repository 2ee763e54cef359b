package storetest

import (
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func ticketTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"permission tickets: create, filters, grant, delete; one per requester, resource and scope", testTickets},
		{"permission tickets go with their resource and requester; their policy is let go", testTicketCascade},
	}
}

type ticketFixture struct {
	authzFixture
	res          authz.Resource
	view, delete authz.Scope
	owner, alice string
}

func mkTicketFixture(t *testing.T, db *store.DB, name string) ticketFixture {
	t.Helper()
	f := ticketFixture{authzFixture: mkAuthz(t, db, name)}
	f.owner = mkUser(t, db, f.realmID, "owner").ID
	f.alice = mkUser(t, db, f.realmID, "alice").ID
	f.view, f.delete = mkScope(t, db, f.serverID, "view"), mkScope(t, db, f.serverID, "delete")
	res, err := db.CreateResource(ctx(), authz.Resource{ServerID: f.serverID, Name: "photo", Owner: f.owner, OwnerManagedAccess: true,
		ScopeIDs: []string{f.view.ID, f.delete.ID}})
	if err != nil {
		t.Fatal(err)
	}
	f.res = res
	return f
}

func (f ticketFixture) ticket(scopeID string, created int64) store.PermissionTicket {
	return store.PermissionTicket{ID: store.NewID(), RealmID: f.realmID, ServerID: f.serverID, ResourceID: f.res.ID, ScopeID: scopeID,
		Owner: f.owner, Requester: f.alice, CreatedTimestamp: created}
}

func testTickets(t *testing.T, db *store.DB) {
	f := mkTicketFixture(t, db, "tickets")
	view, del, whole := f.ticket(f.view.ID, 1000), f.ticket(f.delete.ID, 2000), f.ticket("", 3000)
	for _, tk := range []store.PermissionTicket{view, del, whole} {
		if err := db.CreatePermissionTicket(ctx(), tk); err != nil {
			t.Fatalf("create %+v: %v", tk, err)
		}
	}
	// A second ticket for the same scope, or for the whole resource again,
	// is a conflict on both databases (NULL scopes included).
	for _, dup := range []store.PermissionTicket{f.ticket(f.view.ID, 4000), f.ticket("", 4000)} {
		if err := db.CreatePermissionTicket(ctx(), dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate ticket (scope %q): %v, want ErrConflict", dup.ScopeID, err)
		}
	}
	got, err := db.GetPermissionTicket(ctx(), f.serverID, view.ID)
	if err != nil || got != view {
		t.Errorf("get = %+v, %v; want %+v", got, err, view)
	}
	if _, err := db.GetPermissionTicket(ctx(), "other-server", view.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another server reads it: %v", err)
	}
	list := func(f store.TicketFilter) []string {
		t.Helper()
		ts, err := db.ListPermissionTickets(ctx(), view.RealmID, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range ts {
			ids = append(ids, x.ID)
		}
		return ids
	}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		f    store.TicketFilter
		want []string
	}{
		{"all, oldest first", store.TicketFilter{}, []string{view.ID, del.ID, whole.ID}},
		{"by scope", store.TicketFilter{ScopeID: f.delete.ID}, []string{del.ID}},
		{"whole resource", store.TicketFilter{NoScope: true}, []string{whole.ID}},
		{"by owner and requester", store.TicketFilter{ServerID: f.serverID, Owner: f.owner, Requester: f.alice, ResourceID: f.res.ID}, []string{view.ID, del.ID, whole.ID}},
		{"someone else's", store.TicketFilter{Requester: f.owner}, nil},
		{"granted: none yet", store.TicketFilter{Granted: &yes}, nil},
		{"pending", store.TicketFilter{Granted: &no}, []string{view.ID, del.ID, whole.ID}},
		{"paged", store.TicketFilter{First: 1, Max: 1}, []string{del.ID}},
	} {
		if got := list(tc.f); !equalStrings(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	p := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "uma-1", Type: "uma", ResourceIDs: []string{f.res.ID}, Config: map[string]string{}})
	up, err := db.UpdatePermissionTicket(ctx(), f.serverID, view.ID, func(old store.PermissionTicket) (store.PermissionTicket, error) {
		old.GrantedTimestamp, old.PolicyID = 5000, p.ID
		old.Requester = "someone-else" // not changeable
		return old, nil
	})
	if err != nil || !up.Granted() || up.PolicyID != p.ID || up.Requester != f.alice {
		t.Errorf("update = %+v, %v", up, err)
	}
	if got := list(store.TicketFilter{Granted: &yes}); !equalStrings(got, []string{view.ID}) {
		t.Errorf("granted after update: %v", got)
	}
	if got := list(store.TicketFilter{WithPolicy: true}); !equalStrings(got, []string{view.ID}) {
		t.Errorf("with policy: %v", got)
	}
	if err := db.DeletePermissionTicket(ctx(), f.serverID, del.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeletePermissionTicket(ctx(), f.serverID, del.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := db.UpdatePermissionTicket(ctx(), f.serverID, del.ID, func(o store.PermissionTicket) (store.PermissionTicket, error) { return o, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a deleted ticket: %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testTicketCascade(t *testing.T, db *store.DB) {
	f := mkTicketFixture(t, db, "tickets-cascade")
	p := mkPolicy(t, db, authz.Policy{ServerID: f.serverID, Name: "uma-1", Type: "uma", ResourceIDs: []string{f.res.ID}, Config: map[string]string{}})
	view, del, whole := f.ticket(f.view.ID, 1), f.ticket(f.delete.ID, 2), f.ticket("", 3)
	view.PolicyID, view.GrantedTimestamp = p.ID, 10
	for _, tk := range []store.PermissionTicket{view, del, whole} {
		if err := db.CreatePermissionTicket(ctx(), tk); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		ts, err := db.ListPermissionTickets(ctx(), f.realmID, store.TicketFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	if err := db.DeletePolicy(ctx(), f.serverID, p.ID); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetPermissionTicket(ctx(), f.serverID, view.ID)
	if err != nil || got.PolicyID != "" || !got.Granted() {
		t.Errorf("after its policy is deleted: %+v, %v", got, err)
	}
	if err := db.DeleteResource(ctx(), f.serverID, f.res.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("%d tickets outlive their resource", n)
	}
	// A requester's tickets go with the requester.
	g := mkTicketFixture(t, db, "tickets-requester")
	if err := db.CreatePermissionTicket(ctx(), g.ticket(g.view.ID, 1)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx(), g.realmID, g.alice); err != nil {
		t.Fatal(err)
	}
	ts, err := db.ListPermissionTickets(ctx(), g.realmID, store.TicketFilter{})
	if err != nil || len(ts) != 0 {
		t.Errorf("tickets of a deleted requester: %v, %v", ts, err)
	}
	// A ticket for a missing resource is refused.
	bad := g.ticket(g.view.ID, 2)
	bad.ResourceID, bad.Requester = "no-such-resource", g.owner
	if err := db.CreatePermissionTicket(ctx(), bad); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ticket for a missing resource: %v", err)
	}
}
