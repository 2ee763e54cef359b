package broker_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

func claims(t *testing.T, s string) broker.Claims {
	t.Helper()
	var c broker.Claims
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUsernameTemplate(t *testing.T) {
	id := broker.Identity{ID: "sub-1", Username: "Ann", Claims: claims(t, `{"email":"Ann@Corp.example","org":{"unit":"R&D"}}`)}
	ms := []idp.Mapper{{IdentityProviderMapper: idp.MapperUsernameTemplate,
		Config: map[string]string{"template": "${ALIAS}.${CLAIM.email | lowercase}.${CLAIM.org.unit}", "target": "LOCAL"}}}
	broker.ApplyUsernameTemplate("corp", ms, &id)
	if id.Username != "corp.ann@corp.example.R&D" || id.ID != "sub-1" {
		t.Fatalf("identity = %+v", id)
	}
	ms[0].Config["target"] = "BROKER_ID"
	broker.ApplyUsernameTemplate("corp", ms, &id)
	if id.ID != "corp.ann@corp.example.R&D" {
		t.Fatalf("BROKER_ID target: %+v", id)
	}
}

// The mappers at the first login (import) and at later logins, by sync
// mode, against a real store on both databases.
func TestMappers(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := open(t)
		now := time.Now()
		rl := realm.New(store.NewID(), "m")
		if err := provision.NewRealm(ctx, db, rl, now); err != nil {
			t.Fatal(err)
		}
		mkRole := func(clientID, name string) role.Role {
			r := role.Role{ID: store.NewID(), RealmID: rl.ID, ClientID: clientID, Name: name}
			if err := db.CreateRole(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		app := client.New(store.NewID(), rl.ID, "app.v2")
		if err := provision.CreateClient(ctx, db, app, now); err != nil {
			t.Fatal(err)
		}
		fixed, admin, clientRole := mkRole("", "fixed"), mkRole("", "corp-admin"), mkRole(app.ID, "editor")
		parent := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: "partners"}
		child := role.Group{ID: store.NewID(), RealmID: rl.ID, Name: "eu", ParentID: parent.ID}
		for _, g := range []role.Group{parent, child} {
			if err := db.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "ann", Enabled: true}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		m := func(name, typ string, cfg map[string]string) idp.Mapper {
			return idp.Mapper{Name: name, IdentityProviderAlias: "corp", IdentityProviderMapper: typ, Config: cfg}
		}
		mappers := []idp.Mapper{
			m("fixed", idp.MapperHardcodedRole, map[string]string{"role": "fixed"}),
			m("client role", idp.MapperHardcodedRole, map[string]string{"role": "app.v2.editor", "syncMode": "IMPORT"}),
			m("tier", idp.MapperHardcodedAttribute, map[string]string{"attribute": "tier", "attribute.value": "gold"}),
			m("group", idp.MapperHardcodedGroup, map[string]string{"group": "/partners/eu"}),
			m("dept", idp.MapperAttributeImporter, map[string]string{"claim": "dept", "user.attribute": "department"}),
			m("surname", idp.MapperAttributeImporter, map[string]string{"claim": "family_name", "user.attribute": "lastName"}),
			m("admins", idp.MapperAdvancedClaimRole, map[string]string{"claims": `[{"key":"groups","value":"adm.*"}]`,
				"are.claim.values.regex": "true", "role": "corp-admin"}),
			m("eu", idp.MapperAdvancedClaimGroup, map[string]string{"claims": `[{"key":"region","value":"eu"}]`, "group": "partners"}),
		}
		mapping := broker.Mapping{Store: db, RealmID: rl.ID, Provider: idp.Provider{Alias: "corp", SyncMode: idp.SyncForce}, Mappers: mappers}
		roleIDs := func() []string {
			refs, err := db.EffectiveRoles(ctx, rl.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range refs {
				ids = append(ids, r.ID)
			}
			return ids
		}
		groups := func() []string {
			gs, err := db.ListUserGroups(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range gs {
				ids = append(ids, g.ID)
			}
			return ids
		}

		first := broker.Identity{ID: "s", Claims: claims(t, `{"dept":"R&D","family_name":"Upstream","groups":["users","admins"],"region":"eu"}`)}
		if err := mapping.Apply(ctx, broker.PhaseImport, &u, first); err != nil {
			t.Fatal(err)
		}
		got, _ := db.GetUser(ctx, rl.ID, u.ID)
		rs := roleIDs()
		if !slices.Contains(rs, fixed.ID) || !slices.Contains(rs, clientRole.ID) || !slices.Contains(rs, admin.ID) {
			t.Errorf("import: roles %v lack fixed, app.v2.editor or corp-admin", rs)
		}
		if g := groups(); !slices.Contains(g, child.ID) || !slices.Contains(g, parent.ID) {
			t.Errorf("import: groups %v", g)
		}
		if got.Attributes["tier"][0] != "gold" || got.Attributes["department"][0] != "R&D" || got.LastName != "Upstream" {
			t.Errorf("import: user %+v", got)
		}

		// FORCE: a later login without the claims takes the claim-based
		// role and group away and refreshes attributes; the IMPORT mapper's
		// role stays (it is never looked at again).
		later := broker.Identity{ID: "s", Claims: claims(t, `{"dept":"Sales","family_name":"Upstream","groups":["users"]}`)}
		if err := mapping.Apply(ctx, broker.PhaseUpdate, &u, later); err != nil {
			t.Fatal(err)
		}
		got, _ = db.GetUser(ctx, rl.ID, u.ID)
		rs = roleIDs()
		if slices.Contains(rs, admin.ID) || !slices.Contains(rs, clientRole.ID) || !slices.Contains(rs, fixed.ID) {
			t.Errorf("force update: roles %v", rs)
		}
		if g := groups(); slices.Contains(g, parent.ID) || !slices.Contains(g, child.ID) {
			t.Errorf("force update: groups %v", g)
		}
		if got.Attributes["department"][0] != "Sales" {
			t.Errorf("force update: department %v", got.Attributes["department"])
		}

		// IMPORT: later logins change nothing.
		mapping.Provider.SyncMode = idp.SyncImport
		if err := mapping.Apply(ctx, broker.PhaseUpdate, &u, first); err != nil {
			t.Fatal(err)
		}
		got, _ = db.GetUser(ctx, rl.ID, u.ID)
		if got.Attributes["department"][0] != "Sales" || slices.Contains(roleIDs(), admin.ID) {
			t.Errorf("import mode updated the user: %v", got.Attributes)
		}

		// LEGACY: claim-based grants are not given again, attributes follow.
		mapping.Provider.SyncMode = idp.SyncLegacy
		if err := mapping.Apply(ctx, broker.PhaseUpdate, &u, first); err != nil {
			t.Fatal(err)
		}
		got, _ = db.GetUser(ctx, rl.ID, u.ID)
		if slices.Contains(roleIDs(), admin.ID) || got.Attributes["department"][0] != "R&D" {
			t.Errorf("legacy update: roles %v attrs %v", roleIDs(), got.Attributes)
		}
	})
}
