package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func componentTests() []struct {
	name string
	fn   func(t *testing.T, db *store.DB)
} {
	return []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"components: round trip, list filters, update, delete with sub-components", testComponents},
		{"components: cached reads see writes at once", testComponentsCached},
		{"sync lease: one holder at a time, expiry, last sync times", testSyncLease},
		{"federated users: unlink and delete by provider", testFederatedUsers},
	}
}

const (
	storageType = "org.keycloak.storage.UserStorageProvider"
	mapperType  = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper"
)

func testComponents(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "comps")
	other := mkRealm(t, db, "comps-other")
	p := store.Component{ID: store.NewID(), RealmID: r.ID, ParentID: r.ID, Name: "ldap", ProviderID: "ldap", ProviderType: storageType,
		Config: map[string][]string{"bindCredential": {"s3cret"}, "connectionUrl": {"ldap://a", "ldap://b"}}}
	if err := db.CreateComponent(ctx(), p); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateComponent(ctx(), p); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same id twice: %v", err)
	}
	if err := db.CreateComponent(ctx(), store.Component{ID: store.NewID(), RealmID: "no-such-realm", ProviderType: storageType}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown realm: %v", err)
	}
	m1 := store.Component{ID: store.NewID(), RealmID: r.ID, ParentID: p.ID, Name: "username", ProviderID: "user-attribute-ldap-mapper", ProviderType: mapperType}
	m2 := store.Component{ID: store.NewID(), RealmID: r.ID, ParentID: p.ID, Name: "email", ProviderID: "user-attribute-ldap-mapper", ProviderType: mapperType,
		Config: map[string][]string{"ldap.attribute": {"mail"}}}
	for _, c := range []store.Component{m1, m2} {
		if err := db.CreateComponent(ctx(), c); err != nil {
			t.Fatal(err)
		}
	}
	foreign := store.Component{ID: store.NewID(), RealmID: other.ID, ParentID: other.ID, Name: "ldap", ProviderID: "ldap", ProviderType: storageType}
	if err := db.CreateComponent(ctx(), foreign); err != nil {
		t.Fatal(err)
	}

	got, err := db.GetComponent(ctx(), r.ID, p.ID)
	if err != nil || got.Name != "ldap" || got.ParentID != r.ID || got.Config["bindCredential"][0] != "s3cret" || len(got.Config["connectionUrl"]) != 2 {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := db.GetComponent(ctx(), other.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("component read through another realm: %v", err)
	}
	if got, _ := db.GetComponent(ctx(), r.ID, m1.ID); got.Config == nil {
		t.Errorf("nil config read back as nil map")
	}
	all, _ := db.ListComponents(ctx(), r.ID, "", "")
	mappers, _ := db.ListComponents(ctx(), r.ID, mapperType, p.ID)
	providers, _ := db.ListComponents(ctx(), r.ID, storageType, "")
	byParent, _ := db.ListComponents(ctx(), r.ID, "", r.ID)
	if len(all) != 3 || len(mappers) != 2 || len(providers) != 1 || len(byParent) != 1 {
		t.Fatalf("lists: all %d mappers %d providers %d by realm parent %d", len(all), len(mappers), len(providers), len(byParent))
	}
	if mappers[0].Name != "email" || mappers[1].Name != "username" {
		t.Errorf("mappers not ordered by name: %s, %s", mappers[0].Name, mappers[1].Name)
	}

	// A caller editing what it read changes nothing stored.
	got.Config["bindCredential"][0] = "changed in memory"
	again, _ := db.GetComponent(ctx(), r.ID, p.ID)
	if again.Config["bindCredential"][0] != "s3cret" {
		t.Errorf("read shares memory with the store: %v", again.Config["bindCredential"])
	}

	p.Name, p.ProviderID = "renamed", "other-provider"
	p.Config = map[string][]string{"bindCredential": {"new"}}
	if err := db.UpdateComponent(ctx(), p); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetComponent(ctx(), r.ID, p.ID)
	if got.Name != "renamed" || got.ProviderID != "ldap" || len(got.Config) != 1 || got.Config["bindCredential"][0] != "new" {
		t.Errorf("after update: %+v", got)
	}
	if err := db.UpdateComponent(ctx(), store.Component{ID: store.NewID(), RealmID: r.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing component: %v", err)
	}

	// A mapper's own child goes with it when the provider is deleted.
	grandchild := store.Component{ID: store.NewID(), RealmID: r.ID, ParentID: m1.ID, Name: "x", ProviderID: "x", ProviderType: "x"}
	if err := db.CreateComponent(ctx(), grandchild); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteComponent(ctx(), r.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.ListComponents(ctx(), r.ID, "", ""); len(left) != 0 {
		t.Errorf("left after deleting the provider: %+v", left)
	}
	if err := db.DeleteComponent(ctx(), r.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := db.DeleteComponent(ctx(), r.ID, foreign.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete through another realm: %v", err)
	}
	if left, _ := db.ListComponents(ctx(), other.ID, "", ""); len(left) != 1 {
		t.Errorf("other realm's component touched: %d", len(left))
	}
	if ofType, _ := db.ListComponentsOfType(ctx(), storageType); !slices.ContainsFunc(ofType, func(c store.Component) bool { return c.ID == foreign.ID }) ||
		slices.ContainsFunc(ofType, func(c store.Component) bool { return c.ProviderType != storageType }) {
		t.Errorf("components of a type across realms: %+v", ofType)
	}
	if err := db.DeleteRealm(ctx(), other.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.ListComponents(ctx(), other.ID, "", ""); len(left) != 0 {
		t.Errorf("realm deletion kept its components")
	}
}

func testComponentsCached(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "comps-cache")
	v0, _ := db.ConfigVersion(ctx())
	view := store.WithConfigView(ctx())
	if l, _ := db.ListComponents(view, r.ID, "", ""); len(l) != 0 {
		t.Fatal("fresh realm has components")
	}
	c := store.Component{ID: store.NewID(), RealmID: r.ID, ParentID: r.ID, Name: "ldap", ProviderID: "ldap", ProviderType: storageType}
	if err := db.CreateComponent(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if v1, _ := db.ConfigVersion(ctx()); v1 <= v0 {
		t.Errorf("creating a component did not raise the config version: %d → %d", v0, v1)
	}
	if l, _ := db.ListComponents(store.WithConfigView(ctx()), r.ID, "", ""); len(l) != 1 {
		t.Errorf("a new request's view misses the new component: %d", len(l))
	}
	c.Name = "renamed"
	if err := db.UpdateComponent(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetComponent(store.WithConfigView(ctx()), r.ID, c.ID); got.Name != "renamed" {
		t.Errorf("cached read after update: %q", got.Name)
	}
}

func testSyncLease(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "lease")
	c := store.Component{ID: store.NewID(), RealmID: r.ID, ParentID: r.ID, Name: "ldap", ProviderID: "ldap", ProviderType: storageType}
	if err := db.CreateComponent(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if st, err := db.GetSyncState(ctx(), c.ID); err != nil || st.LastFullSync != 0 || st.Holder != "" {
		t.Fatalf("fresh state: %+v %v", st, err)
	}
	v0, _ := db.ConfigVersion(ctx())
	// Two nodes at once: exactly one gets it.
	var wg sync.WaitGroup
	won := make([]bool, 2)
	for i, node := range []string{"node-a", "node-b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := db.AcquireSyncLease(ctx(), r.ID, c.ID, node, 1000, 2000)
			if err != nil {
				t.Error(err)
			}
			won[i] = ok
		}()
	}
	wg.Wait()
	if won[0] == won[1] {
		t.Fatalf("both or neither node got the lease: %v", won)
	}
	winner, loser := "node-a", "node-b"
	if won[1] {
		winner, loser = loser, winner
	}
	if ok, _ := db.AcquireSyncLease(ctx(), r.ID, c.ID, loser, 1999, 3000); ok {
		t.Errorf("lease taken before it expired")
	}
	if ok, _ := db.AcquireSyncLease(ctx(), r.ID, c.ID, winner, 1999, 3000); !ok {
		t.Errorf("holder could not renew its lease")
	}
	if ok, _ := db.AcquireSyncLease(ctx(), r.ID, c.ID, loser, 3000, 4000); !ok {
		t.Errorf("expired lease not taken over")
	}
	if err := db.ReleaseSyncLease(ctx(), c.ID, winner); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.AcquireSyncLease(ctx(), r.ID, c.ID, winner, 3001, 4000); ok {
		t.Errorf("a node that no longer held it released another's lease")
	}
	if err := db.ReleaseSyncLease(ctx(), c.ID, loser); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.AcquireSyncLease(ctx(), r.ID, c.ID, winner, 3001, 4000); !ok {
		t.Errorf("released lease not taken")
	}
	if err := db.RecordSync(ctx(), r.ID, c.ID, false, 5000); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSync(ctx(), r.ID, c.ID, true, 6000); err != nil {
		t.Fatal(err)
	}
	st, _ := db.GetSyncState(ctx(), c.ID)
	if st.LastFullSync != 6000 || st.LastChangedSync != 6000 || st.Holder != winner {
		t.Errorf("state: %+v", st)
	}
	if v1, _ := db.ConfigVersion(ctx()); v1 != v0 {
		t.Errorf("lease and sync bookkeeping raised the config version: %d → %d", v0, v1)
	}
	if err := db.DeleteComponent(ctx(), r.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.GetSyncState(ctx(), c.ID); st.LastFullSync != 0 {
		t.Errorf("sync state outlived its component")
	}
}

func testFederatedUsers(t *testing.T, db *store.DB) {
	r := mkRealm(t, db, "fedusers")
	other := mkRealm(t, db, "fedusers-other")
	mk := func(realmID, name, link string) user.User {
		u := user.User{ID: store.NewID(), RealmID: realmID, Username: name, Enabled: true, FederationLink: link}
		if err := db.CreateUser(ctx(), u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	a, b := mk(r.ID, "a", "p1"), mk(r.ID, "b", "p1")
	c, local := mk(r.ID, "c", "p2"), mk(r.ID, "local", "")
	foreign := mk(other.ID, "a", "p1")
	if n, err := db.UnlinkFederatedUsers(ctx(), r.ID, "p2"); n != 1 || err != nil {
		t.Fatalf("unlink: %d %v", n, err)
	}
	if u, _ := db.GetUser(ctx(), r.ID, c.ID); u.FederationLink != "" {
		t.Errorf("unlinked user keeps its link")
	}
	if n, err := db.DeleteFederatedUsers(ctx(), r.ID, "p1"); n != 2 || err != nil {
		t.Fatalf("delete: %d %v", n, err)
	}
	for _, u := range []user.User{a, b} {
		if _, err := db.GetUser(ctx(), r.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s kept: %v", u.Username, err)
		}
	}
	for _, u := range []user.User{c, local, foreign} {
		if _, err := db.GetUser(ctx(), u.RealmID, u.ID); err != nil {
			t.Errorf("%s removed: %v", u.Username, err)
		}
	}
}
