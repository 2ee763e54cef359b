package rep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A realm file's LDAP provider imports with its id, its settings (the bind
// credential as written) and the mappers it lists, and no others; a
// kerberos provider is reported and left out. The export holds the same
// provider and mappers, and importing it gives the same export again. A
// provider whose settings cannot run refuses the whole file, naming its
// path, and leaves nothing behind.
func TestUserStorageRoundTrip(t *testing.T) {
	provider := func(cfg map[string][]string) map[string]any {
		return map[string]any{
			"id": "3f9a1e7c-0000-4000-8000-00000000ld01", "name": "corp", "providerId": "ldap",
			"config": cfg,
			"subComponents": map[string]any{ldap.MapperProviderType: []any{
				map[string]any{"id": "3f9a1e7c-0000-4000-8000-00000000ld02", "name": "username", "providerId": ldap.MapperUserAttribute,
					"config": map[string][]string{"user.model.attribute": {"username"}, "ldap.attribute": {"uid"}}},
				// A default mapper given only in part takes the rest from the default.
				map[string]any{"name": "last name", "providerId": ldap.MapperUserAttribute,
					"config": map[string][]string{"user.model.attribute": {"lastName"}, "read.only": {"false"}}},
				map[string]any{"name": "groups", "providerId": ldap.MapperGroup,
					"config": map[string][]string{"groups.dn": {"ou=Groups,dc=example,dc=org"}, "mode": {"READ_ONLY"}}},
			}},
		}
	}
	good := map[string][]string{"connectionUrl": {"ldap://127.0.0.1:389"}, "bindDn": {"cn=admin,dc=example,dc=org"},
		"bindCredential": {"s3cret"}, "usersDn": {"ou=People,dc=example,dc=org"}, "editMode": {"READ_ONLY"}, "vendor": {"other"}}
	file, _ := json.Marshal(map[string]any{"realm": "fedrt", "enabled": true, "components": map[string]any{
		ldap.ProviderType: []any{provider(good), map[string]any{"name": "krb", "providerId": "kerberos", "config": map[string][]string{}}},
	}})
	badCfg := map[string][]string{"connectionUrl": {"ldap://127.0.0.1:389"}, "editMode": {"UNSYNCED"}, "importEnabled": {"false"}}
	bad, _ := json.Marshal(map[string]any{"realm": "fedbad", "enabled": true, "components": map[string]any{ldap.ProviderType: []any{provider(badCfg)}}})

	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		var logs bytes.Buffer
		a := server(t, open)
		if _, _, err := rep.ImportFile(ctx, a, file, rep.ImportOptions{Now: now, Log: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), `user storage provider \"kerberos\" is not supported`) {
			t.Errorf("kerberos provider not reported: %s", logs.String())
		}
		r, _ := a.GetRealmByName(ctx, "fedrt")
		p, err := a.GetComponent(ctx, r.ID, "3f9a1e7c-0000-4000-8000-00000000ld01")
		if err != nil || p.ParentID != r.ID || p.Config["bindCredential"][0] != "s3cret" {
			t.Fatalf("provider: %+v %v", p, err)
		}
		ms, _ := a.ListComponents(ctx, r.ID, ldap.MapperProviderType, p.ID)
		var names []string
		for _, m := range ms {
			names = append(names, m.Name)
			if m.Name == "last name" && (m.Config["ldap.attribute"][0] != "sn" || m.Config["read.only"][0] != "false") {
				t.Errorf("partial default mapper: %v", m.Config)
			}
		}
		if !slices.Equal(names, []string{"groups", "last name", "username"}) {
			t.Errorf("mappers: %v", names)
		}

		first, err := rep.Export(ctx, a, "fedrt")
		if err != nil {
			t.Fatal(err)
		}
		var x rep.Realm
		json.Unmarshal(first, &x)
		if cs := x.Components[ldap.ProviderType]; len(cs) != 1 || cs[0].ID != p.ID || len(cs[0].SubComponents[ldap.MapperProviderType]) != 3 ||
			cs[0].Config["bindCredential"][0] != "s3cret" {
			t.Fatalf("exported providers: %+v", cs)
		}
		b := server(t, open)
		if _, _, err := rep.ImportFile(ctx, b, first, rep.ImportOptions{Now: now.Add(time.Hour)}); err != nil {
			t.Fatalf("re-import: %v", err)
		}
		second, _ := rep.Export(ctx, b, "fedrt")
		if !bytes.Equal(first, second) {
			t.Fatalf("export → import → export differs:\n%s", firstDiff(first, second))
		}

		_, _, err = rep.ImportFile(ctx, a, bad, rep.ImportOptions{Now: now})
		var ie *rep.ImportError
		if !errors.As(err, &ie) || ie.Path != `$.components["org.keycloak.storage.UserStorageProvider"][0]` ||
			!strings.Contains(err.Error(), "Can not disable Importing users when LDAP provider mode is UNSYNCED") {
			t.Errorf("bad provider: %v", err)
		}
		if _, err := a.GetRealmByName(ctx, "fedbad"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused file left its realm: %v", err)
		}
	})
}
