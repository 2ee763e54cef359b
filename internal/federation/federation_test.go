package federation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/ldap/ldaptest"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// setup is realm "fed" with one ldap provider (and its default mappers)
// stored directly, over the test directory.
func setup(t *testing.T, db *store.DB, edit map[string]string) (realm.Realm, federation.Provider) {
	t.Helper()
	ctx := t.Context()
	s := ldaptest.Start(t)
	rl := realm.New(store.NewID(), "fed")
	if err := provision.NewRealm(ctx, db, rl, now); err != nil {
		t.Fatal(err)
	}
	rl, _ = db.GetRealm(ctx, rl.ID)
	cfg := map[string][]string{"editMode": {"WRITABLE"}, "connectionUrl": {s.URL}, "bindDn": {ldaptest.BindDN},
		"bindCredential": {ldaptest.BindPW}, "usersDn": {ldaptest.PeopleDN}}
	for k, v := range edit {
		cfg[k] = []string{v}
	}
	c := store.Component{ID: store.NewID(), RealmID: rl.ID, ParentID: rl.ID, Name: "ldap", ProviderID: ldap.ProviderID,
		ProviderType: ldap.ProviderType, Config: cfg}
	if err := db.CreateComponent(ctx, c); err != nil {
		t.Fatal(err)
	}
	parsed, err := ldap.Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ldap.DefaultMappers(parsed) {
		if err := db.CreateComponent(ctx, store.Component{ID: store.NewID(), RealmID: rl.ID, ParentID: c.ID, Name: m.Name,
			ProviderID: m.ProviderID, ProviderType: ldap.MapperProviderType, Config: m.Config}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := federation.Providers(ctx, db, rl.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("providers: %v %v", ps, err)
	}
	return rl, ps[0]
}

func TestImportEntry(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := t.Context()
		rl, p := setup(t, db, nil)
		if len(p.Mappers) == 0 || p.Mappers[0].Name != "username" {
			t.Fatalf("mappers %+v", p.Mappers)
		}
		u, err := federation.Lookup(ctx, db, rl, "jbrown", now)
		if err != nil {
			t.Fatal(err)
		}
		if u.FederationLink != p.ID() || u.FirstName != "Jbrown" || u.LastName != "Tester" || !federation.Imported(u) {
			t.Errorf("imported %+v", u)
		}
		roles, _ := db.ListUserRoles(ctx, u.ID)
		if len(roles) != 1 || roles[0].ID != rl.DefaultRoleID {
			t.Errorf("a new user gets the default roles: %+v", roles)
		}
		// The bind decides; nothing stored.
		if ok, err := federation.CheckPassword(ctx, p, u, ldaptest.Users["jbrown"]); !ok || err != nil {
			t.Errorf("right password: %v %v", ok, err)
		}
		if ok, err := federation.CheckPassword(ctx, p, u, "wrong"); ok || err != nil {
			t.Errorf("wrong password: %v %v", ok, err)
		}
		// Refresh keeps the id.
		again, err := federation.Refresh(ctx, db, rl, u, now)
		if err != nil || again.ID != u.ID {
			t.Errorf("refresh: %v %+v", err, again)
		}
		// A local user of the same name is never taken over.
		local := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "bwong", Enabled: true, CreatedTimestamp: now.UnixMilli()}
		if err := db.CreateUser(ctx, local); err != nil {
			t.Fatal(err)
		}
		if _, err := federation.Lookup(ctx, db, rl, "bwong", now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("local namesake: %v", err)
		}
		if got, _ := db.GetUser(ctx, rl.ID, local.ID); got.FederationLink != "" {
			t.Error("local user linked")
		}
		// Unknown: not found, nothing created.
		if _, err := federation.Lookup(ctx, db, rl, "nobody", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
	})
}

func TestOutageIsUnavailable(t *testing.T) {
	db := storetest.Open(t)
	rl, p := setup(t, db, map[string]string{"connectionUrl": ldaptest.DeadURL(t)})
	_, err := federation.Lookup(t.Context(), db, rl, "user1", now)
	var ue *federation.UnavailableError
	if !errors.As(err, &ue) || !ue.Unavailable() {
		t.Fatalf("lookup during an outage: %v", err)
	}
	u := user.User{RealmID: rl.ID, Username: "user1", FederationLink: p.ID(),
		Attributes: map[string][]string{federation.AttrLDAPEntryDN: {ldaptest.UserDN("user1")}}}
	if ok, err := federation.CheckPassword(t.Context(), p, u, "password"); ok || !errors.As(err, &ue) {
		t.Fatalf("bind during an outage must be an outage, not a wrong password: %v %v", ok, err)
	}
	if _, err := federation.WritePassword(t.Context(), p, u, "new-password"); !errors.As(err, &ue) {
		t.Fatalf("write during an outage: %v", err)
	}
}
