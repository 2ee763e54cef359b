package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// newRoleRealm stores realm "r" with client "app", and returns them with a
// function that stores a role of the realm (clientID "") or of a client.
func newRoleRealm(t *testing.T, db *store.DB) (realm.Realm, client.Client, func(clientID, name string) role.Role) {
	t.Helper()
	ctx := context.Background()
	r := realm.New(store.NewID(), "r")
	if err := db.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	app := client.New(store.NewID(), r.ID, "app")
	if err := db.CreateClient(ctx, app); err != nil {
		t.Fatal(err)
	}
	return r, app, func(clientID, name string) role.Role {
		t.Helper()
		ro := role.Role{ID: store.NewID(), RealmID: r.ID, ClientID: clientID, Name: name}
		if err := db.CreateRole(ctx, ro); err != nil {
			t.Fatal(err)
		}
		return ro
	}
}

// EffectiveRoles must answer exactly what EffectiveRoleIDs answers: direct
// roles, group and ancestor-group roles, composites, cycles included.
func TestEffectiveRolesMatchesExpansion(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, app, mk := newRoleRealm(t, db)
		direct, viaComposite, viaCycle := mk("", "direct"), mk("", "composite-child"), mk(app.ID, "cycle-child")
		fromParent, fromChild, unrelated := mk("", "from-parent"), mk(app.ID, "from-child"), mk("", "unrelated")
		db.AddComposites(ctx, direct.ID, viaComposite.ID)
		db.AddComposites(ctx, viaComposite.ID, viaCycle.ID)
		db.AddComposites(ctx, viaCycle.ID, direct.ID) // cycle
		parent := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "p"}
		child := role.Group{ID: store.NewID(), RealmID: r.ID, ParentID: parent.ID, Name: "c"}
		db.CreateGroup(ctx, parent)
		db.CreateGroup(ctx, child)
		db.AddGroupRoles(ctx, parent.ID, fromParent.ID)
		db.AddGroupRoles(ctx, child.ID, fromChild.ID)
		u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "u"}
		db.CreateUser(ctx, u)
		db.AddUserRoles(ctx, u.ID, direct.ID)
		db.AddGroupMember(ctx, child.ID, u.ID)

		refs, err := db.EffectiveRoles(ctx, r.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ref := range refs {
			got = append(got, ref.ID)
			if ref.ClientID == app.ID && ref.ClientClientID != "app" {
				t.Errorf("client role %s without its clientId", ref.Name)
			}
		}
		want, _ := db.EffectiveRoleIDs(ctx, r.ID, u.ID)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || len(got) != 5 || slices.Contains(got, unrelated.ID) {
			t.Fatalf("effective roles: got %v, expansion says %v", got, want)
		}

		// Through the node's cache (a protocol request's view) the answer
		// is the same, order and names included; the user's own rows are
		// read fresh, the configuration when its version moves.
		cachedSame := func(label string) {
			t.Helper()
			fresh, err := db.EffectiveRoles(ctx, r.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			viewed, err := db.EffectiveRoles(store.WithConfigView(ctx), r.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fresh, viewed) {
				t.Fatalf("%s: cached effective roles %+v, the database says %+v", label, viewed, fresh)
			}
		}
		cachedSame("as set up")
		db.AddUserRoles(ctx, u.ID, unrelated.ID) // data: no version change
		cachedSame("after a direct mapping")
		grand := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "g"}
		db.CreateGroup(ctx, grand)
		db.AddGroupMember(ctx, grand.ID, u.ID)
		cachedSame("after joining a group")
		late := mk(app.ID, "late")
		db.AddGroupRoles(ctx, grand.ID, late.ID) // configuration
		db.AddComposites(ctx, late.ID, fromParent.ID)
		cachedSame("after a group role and a composite")
		if refs, _ := db.EffectiveRoles(store.WithConfigView(ctx), r.ID, u.ID); len(refs) != 7 {
			t.Fatalf("effective roles after the changes: %+v", refs)
		}

		db.LinkClientScope(ctx, r.ID, app.ID, mkScope(t, db, r.ID, "b").ID, true)
		db.LinkClientScope(ctx, r.ID, app.ID, mkScope(t, db, r.ID, "a").ID, false)
		ls, err := db.ClientScopesOf(ctx, r.ID, app.ID)
		if err != nil || len(ls) != 2 || ls[0].Scope.Name != "a" || ls[0].Default || !ls[1].Default ||
			ls[1].Scope.ProtocolMappers[0].Name != "m" {
			t.Fatalf("scopes of client: %+v %v", ls, err)
		}
	})
}

func mkScope(t *testing.T, db *store.DB, realmID, name string) client.Scope {
	s := client.Scope{ID: store.NewID(), RealmID: realmID, Name: name, Protocol: "openid-connect",
		ProtocolMappers: []client.ProtocolMapper{{ID: store.NewID(), Name: "m", ProtocolMapper: "oidc-sub-mapper"}}}
	if err := db.CreateClientScope(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A request that checked a token has its user's role mappings and groups
// from the same query (SessionTokenState), and EffectiveRoles uses them
// instead of reading them again; a write the request makes drops them, so
// a role or group it grants is seen by its next EffectiveRoles.
func TestEffectiveRolesAfterTheTokenCheck(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, app, mk := newRoleRealm(t, db)
		first, second, viaGroup := mk("", "first"), mk("", "second"), mk("", "via-group")
		g := role.Group{ID: store.NewID(), RealmID: r.ID, Name: "g"}
		db.CreateGroup(ctx, g)
		db.AddGroupRoles(ctx, g.ID, viaGroup.ID)
		// u is app's service account too, for the client credentials grant.
		u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "u", Enabled: true, ServiceAccountClientID: app.ID}
		db.CreateUser(ctx, u)
		db.AddUserRoles(ctx, u.ID, first.ID)
		us := session.UserSession{ID: store.NewID(), RealmID: r.ID, UserID: u.ID, Started: 1, LastRefresh: 1}
		cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: app.ID, Started: 1, Timestamp: 1}
		if err := db.CreateUserSession(ctx, us); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateClientSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
		names := func(ctx context.Context) []string {
			t.Helper()
			refs, err := db.EffectiveRoles(ctx, r.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, ref := range refs {
				out = append(out, ref.Name)
			}
			slices.Sort(out)
			return out
		}
		var mappingReads atomic.Int64
		db.TraceStatements(func(q string, _ []any) {
			if strings.HasPrefix(strings.TrimSpace(q), "SELECT 0, role_id FROM user_roles") {
				mappingReads.Add(1)
			}
		})
		t.Cleanup(func() { db.TraceStatements(nil) })
		req := store.WithConfigView(ctx)
		for name, check := range map[string]func() error{
			"session": func() error { _, err := db.SessionTokenState(req, r.ID, "", us.ID, app.ID); return err },
			"user":    func() error { _, err := db.UserTokenState(req, r.ID, "", u.ID); return err },
			"service account": func() error {
				sa, err := db.GetServiceAccount(req, r.ID, app.ID)
				if err == nil && sa.ID != u.ID {
					t.Fatalf("service account of app: %s, want %s", sa.ID, u.ID)
				}
				return err
			},
		} {
			req = store.WithConfigView(ctx)
			if err := check(); err != nil {
				t.Fatalf("%s token state: %v", name, err)
			}
			if got := names(req); !slices.Equal(got, []string{"first"}) {
				t.Fatalf("%s: after the token check: %v, want [first]", name, got)
			}
			if n := mappingReads.Swap(0); n != 0 {
				t.Fatalf("%s: the mappings were read again %d times", name, n)
			}
		}
		if err := db.AddUserRoles(req, u.ID, second.ID); err != nil {
			t.Fatal(err)
		}
		if got := names(req); !slices.Equal(got, []string{"first", "second"}) {
			t.Fatalf("after granting a role in the same request: %v, want [first second]", got)
		}
		if _, err := db.UserTokenState(req, r.ID, "", u.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.AddGroupMember(req, g.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if got := names(req); !slices.Equal(got, []string{"first", "second", "via-group"}) {
			t.Fatalf("after joining a group in the same request: %v, want [first second via-group]", got)
		}
		if got := names(ctx); !slices.Equal(got, []string{"first", "second", "via-group"}) {
			t.Fatalf("without a view: %v", got)
		}
	})
}

// A service account read inside a transaction leaves its mappings out of
// the request's view: the transaction may have written them and then be
// rolled back, and the request's next EffectiveRoles must not see a role
// that was never granted.
func TestServiceAccountMappingsReadInRolledBackTx(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, app, mk := newRoleRealm(t, db)
		first, second := mk("", "first"), mk("", "second")
		u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "sa", Enabled: true, ServiceAccountClientID: app.ID}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := db.AddUserRoles(ctx, u.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		req := store.WithConfigView(ctx)
		if _, err := db.GetServiceAccount(req, r.ID, app.ID); err != nil {
			t.Fatal(err)
		}
		rollBack := errors.New("roll back")
		err := db.InTx(req, func(tx *store.DB) error {
			if err := tx.AddUserRoles(req, u.ID, second.ID); err != nil {
				return err
			}
			sa, err := tx.GetServiceAccount(req, r.ID, app.ID)
			if err != nil {
				return err
			}
			if sa.ID != u.ID {
				t.Errorf("service account in the transaction: %s, want %s", sa.ID, u.ID)
			}
			return rollBack
		})
		if err != rollBack {
			t.Fatalf("transaction: %v", err)
		}
		refs, err := db.EffectiveRoles(req, r.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ref := range refs {
			names = append(names, ref.Name)
		}
		if !slices.Equal(names, []string{"first"}) {
			t.Fatalf("after the rollback: %v, want [first]", names)
		}
	})
}

// The mappings read with the token's state are ids joined in one column;
// an id with whitespace in it (an import may bring one) must not be read
// back as two ids, one of which could name another role.
func TestEffectiveRolesAfterTheTokenCheckIdsWithSpaces(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := context.Background()
		r, _, _ := newRoleRealm(t, db)
		for _, ro := range []role.Role{
			{ID: "r1 admin", RealmID: r.ID, Name: "odd"},
			{ID: "admin", RealmID: r.ID, Name: "admin"},
			{ID: "r1", RealmID: r.ID, Name: "r1"},
		} {
			if err := db.CreateRole(ctx, ro); err != nil {
				t.Fatal(err)
			}
		}
		u := user.User{ID: store.NewID(), RealmID: r.ID, Username: "u", Enabled: true}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := db.AddUserRoles(ctx, u.ID, "r1 admin"); err != nil {
			t.Fatal(err)
		}
		req := store.WithConfigView(ctx)
		if _, err := db.UserTokenState(req, r.ID, "", u.ID); err != nil {
			t.Fatal(err)
		}
		refs, err := db.EffectiveRoles(req, r.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ref := range refs {
			got = append(got, ref.Name)
		}
		if !slices.Equal(got, []string{"odd"}) {
			t.Fatalf("after the token check: %v, want [odd]", got)
		}
	})
}
