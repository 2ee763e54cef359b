package uma_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Granting tickets builds the "uma" permission that carries them into
// evaluation; withdrawing them shrinks it, then removes it with its user
// policy. On both databases.
func TestGrantAndRevoke(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		rl := realm.New(store.NewID(), "tickets")
		if err := db.CreateRealm(ctx, rl); err != nil {
			t.Fatal(err)
		}
		c := client.New(store.NewID(), rl.ID, "rs")
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := db.PutResourceServer(ctx, authz.ResourceServer{ID: c.ID, RealmID: rl.ID, PolicyEnforcementMode: authz.Enforcing, DecisionStrategy: authz.Unanimous}); err != nil {
			t.Fatal(err)
		}
		var users []string
		for _, n := range []string{"owner", "bob"} {
			u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: n, Enabled: true}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		var scopes []string
		for _, n := range []string{"view", "share"} {
			s, err := db.CreateScope(ctx, authz.Scope{ServerID: c.ID, Name: n})
			if err != nil {
				t.Fatal(err)
			}
			scopes = append(scopes, s.ID)
		}
		res, err := db.CreateResource(ctx, authz.Resource{ServerID: c.ID, Name: "album", Owner: users[0], OwnerManagedAccess: true, ScopeIDs: scopes})
		if err != nil {
			t.Fatal(err)
		}
		tickets := make([]store.PermissionTicket, 2)
		for i, s := range scopes {
			tickets[i] = store.PermissionTicket{ID: store.NewID(), RealmID: rl.ID, ServerID: c.ID, ResourceID: res.ID, ScopeID: s,
				Owner: users[0], Requester: users[1], CreatedTimestamp: 1}
			if err := db.CreatePermissionTicket(ctx, tickets[i]); err != nil {
				t.Fatal(err)
			}
		}
		grant := func(tk store.PermissionTicket) store.PermissionTicket {
			var out store.PermissionTicket
			if err := db.InTx(ctx, func(tx *store.DB) error {
				var err error
				out, err = uma.Grant(ctx, tx, tk, 5000)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		a, b := grant(tickets[0]), grant(tickets[1])
		if !a.Granted() || a.PolicyID == "" || b.PolicyID != a.PolicyID {
			t.Fatalf("granted tickets: %+v %+v", a, b)
		}
		m, err := db.LoadAuthzModel(ctx, rl.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Policies, func(p authz.Policy) bool { return p.ID == a.PolicyID })
		if i < 0 || m.Policies[i].Type != "uma" || !slices.Equal(m.Policies[i].ScopeIDs, scopes) || len(m.Policies[i].PolicyIDs) != 1 ||
			m.Policies[i].Owner != users[0] || !slices.Equal(m.Policies[i].ResourceIDs, []string{res.ID}) {
			t.Fatalf("permission of the grants: %+v", m.Policies)
		}
		userPolicy := m.Policies[i].PolicyIDs[0]
		revoke := func(tk store.PermissionTicket) {
			if err := db.InTx(ctx, func(tx *store.DB) error { return uma.Revoke(ctx, tx, tk) }); err != nil {
				t.Fatal(err)
			}
		}
		revoke(a)
		p, err := db.GetPolicy(ctx, c.ID, a.PolicyID)
		if err != nil || !slices.Equal(p.ScopeIDs, scopes[1:]) {
			t.Fatalf("permission after withdrawing view: %+v %v", p, err)
		}
		revoke(b)
		for _, id := range []string{a.PolicyID, userPolicy} {
			if _, err := db.GetPolicy(ctx, c.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("policy %s outlives the last grant: %v", id, err)
			}
		}
		if left, err := db.ListPermissionTickets(ctx, rl.ID, store.TicketFilter{}); err != nil || len(left) != 0 {
			t.Errorf("tickets left: %v %v", left, err)
		}
	})
}
