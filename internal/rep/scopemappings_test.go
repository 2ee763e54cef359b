package rep_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// scopeMappingFacts flattens a realm file's scopeMappings and
// clientScopeMappings into "owner → role" facts, where owner is
// "client:<clientId>" or "scope:<name>" and role is "<name>" for a realm
// role or "<clientId>/<name>" for a client role.
func scopeMappingFacts(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	var x struct {
		ScopeMappings       []rep.ScopeMapping            `json:"scopeMappings"`
		ClientScopeMappings map[string][]rep.ScopeMapping `json:"clientScopeMappings"`
	}
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	owner := func(m rep.ScopeMapping) string {
		if m.Client != "" {
			return "client:" + m.Client
		}
		return "scope:" + m.ClientScope
	}
	out := map[string]bool{}
	for _, m := range x.ScopeMappings {
		for _, r := range m.Roles {
			out[owner(m)+" → "+r] = true
		}
	}
	for cid, ms := range x.ClientScopeMappings {
		for _, m := range ms {
			for _, r := range m.Roles {
				out[owner(m)+" → "+cid+"/"+r] = true
			}
		}
	}
	return out
}

// TestScopeMappingsRoundTrip imports real realm files whose scope
// mappings cover each shape (a client scope mapped to a realm role, a
// client mapped to a realm role and to another client's roles) and exports
// each: every mapping of the file comes
// back, and only the built-ins Gatehouse creates bring mappings of their
// own. Importing the export again gives the same mappings.
func TestScopeMappingsRoundTrip(t *testing.T) {
	files := []string{
		"Nerzal__gocloak__gocloak-realm.json",                 // a client scope → a realm role; account-console → account roles
		"oauth2-proxy__oauth2-proxy__oauth2-proxy-realm.json", // the same as Keycloak 2x exported it
		"keycloak__keycloak__examples-kerberosrealm.json",     // a client → a realm role
	}
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := server(t, open)
		for _, file := range files {
			data, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			want := scopeMappingFacts(t, data)
			if len(want) == 0 {
				t.Fatalf("%s: no scope mappings in the fixture", file)
			}
			name, _, err := rep.ImportFile(ctx, db, data, rep.ImportOptions{Now: now})
			if err != nil {
				t.Fatalf("import %s: %v", file, err)
			}
			out, err := rep.Export(ctx, db, name)
			if err != nil {
				t.Fatal(err)
			}
			got := scopeMappingFacts(t, out)
			for f := range want {
				if !got[f] {
					t.Errorf("%s: scope mapping %s lost on the way through", file, f)
				}
			}
			for f := range got {
				if !want[f] && !builtinMapping[f] {
					t.Errorf("%s: scope mapping %s appeared from nowhere", file, f)
				}
			}

			// The export imports into another server with the same mappings.
			db2 := server(t, open)
			if _, _, err := rep.ImportFile(ctx, db2, out, rep.ImportOptions{Now: now}); err != nil {
				t.Fatalf("import the export of %s: %v", file, err)
			}
			out2, err := rep.Export(ctx, db2, name)
			if err != nil {
				t.Fatal(err)
			}
			if got2 := scopeMappingFacts(t, out2); !mapsEqual(got, got2) {
				t.Errorf("%s: second round trip changed the mappings:\nfirst  %v\nsecond %v", file, keys(got), keys(got2))
			}
		}
	})
}

// builtinMapping is what Gatehouse maps for the built-in clients and
// scopes it creates when a file lacks them, as Keycloak does.
var builtinMapping = map[string]bool{
	"client:account-console → account/manage-account": true,
	"client:account-console → account/view-groups":    true,
	"scope:offline_access → offline_access":           true,
}

func mapsEqual(a, b map[string]bool) bool { return slices.Equal(keys(a), keys(b)) }

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A file's scope mappings may name roles it never declares (Keycloak
// creates them) and may use the pre-Keycloak-4 applicationScopeMappings;
// a mapping naming an unknown client or scope fails with its JSON path and
// leaves no realm behind.
func TestScopeMappingsImportEdges(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := server(t, open)
		file := `{"realm": "legacy", "clients": [{"clientId": "app", "fullScopeAllowed": false}, {"clientId": "api"}],
			"roles": {"realm": [{"name": "user"}]},
			"scopeMappings": [{"client": "app", "roles": ["user", " undeclared "]}],
			"applicationScopeMappings": {"api": [{"client": "app", "roles": ["read"]}]}}`
		if _, _, err := rep.ImportFile(ctx, db, []byte(file), rep.ImportOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		rl, _ := db.GetRealmByName(ctx, "legacy")
		app, _ := db.GetClientByClientID(ctx, rl.ID, "app")
		got, err := db.ScopeMappings(ctx, rl.ID, store.ScopeOwner{ID: app.ID})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
		}
		// Realm roles first (by name), then api's read.
		if !slices.Equal(names, []string{"undeclared", "user", "read"}) {
			t.Fatalf("app's scope mappings: %v", names)
		}

		for _, tc := range []struct{ mappings, path string }{
			{`"scopeMappings": [{"client": "nope", "roles": ["user"]}]`, "$.scopeMappings[0].client"},
			{`"scopeMappings": [{"clientScope": "nope", "roles": ["user"]}]`, "$.scopeMappings[0].clientScope"},
			{`"scopeMappings": [{"roles": ["user"]}]`, "$.scopeMappings[0]"},
			{`"scopeMappings": [{"client": "app", "roles": [" "]}]`, "$.scopeMappings[0].roles[0]"},
			{`"clientScopeMappings": {"nope": [{"client": "app", "roles": ["x"]}]}`, "$.clientScopeMappings.nope"},
		} {
			bad := `{"realm": "bad", "clients": [{"clientId": "app"}], ` + tc.mappings + `}`
			_, _, err := rep.ImportFile(ctx, db, []byte(bad), rep.ImportOptions{Now: now})
			var ie *rep.ImportError
			if !errors.As(err, &ie) || ie.Path != tc.path {
				t.Errorf("%s: got %v, want an error at %s", tc.mappings, err, tc.path)
			}
			if _, err := db.GetRealmByName(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: a failed import left the realm behind", tc.mappings)
			}
		}
	})
}
