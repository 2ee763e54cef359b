package rep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// Default groups, the realm's own texts and the user profile travel through
// an export and an import unchanged; a profile the admin API would refuse
// is refused on import too, with its place in the file.
func TestRealmExtrasRoundTrip(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		up := `{"attributes":[{"name":"username","multivalued":false},{"name":"email","multivalued":false},` +
			`{"name":"badge","validations":{"pattern":{"pattern":"^B[0-9]+$"}},"multivalued":false}],"unmanagedAttributePolicy":"ENABLED"}`
		doc := map[string]any{
			"realm": "extras", "enabled": true,
			"groups":            []any{map[string]any{"name": "staff", "subGroups": []any{map[string]any{"name": "ops"}}}},
			"defaultGroups":     []string{"/staff/ops"},
			"localizationTexts": map[string]map[string]string{"en": {"loginAccountTitle": "Hello"}},
			"components": map[string]any{"org.keycloak.userprofile.UserProfileProvider": []any{map[string]any{
				"name": "declarative-user-profile", "providerId": "declarative-user-profile",
				"config": map[string][]string{"kc.user.profile.config": {up}}}}},
		}
		data, _ := json.Marshal(doc)
		a := server(t, open)
		if _, _, err := rep.ImportFile(ctx, a, data, rep.ImportOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		rl, err := a.GetRealmByName(ctx, "extras")
		if err != nil {
			t.Fatal(err)
		}
		if len(rl.DefaultGroupIDs) != 1 || rl.Localization["en"]["loginAccountTitle"] != "Hello" || !bytes.Contains(rl.UserProfile, []byte("badge")) {
			t.Fatalf("imported: %v %v %s", rl.DefaultGroupIDs, rl.Localization, rl.UserProfile)
		}
		first, err := rep.Export(ctx, a, "extras")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"defaultGroups": [`, `"/staff/ops"`, `"loginAccountTitle": "Hello"`, `"kc.user.profile.config"`, `badge`} {
			if !bytes.Contains(first, []byte(want)) {
				t.Errorf("export lacks %s", want)
			}
		}
		b := server(t, open)
		if _, _, err := rep.ImportFile(ctx, b, first, rep.ImportOptions{Now: now}); err != nil {
			t.Fatalf("re-import: %v", err)
		}
		second, _ := rep.Export(ctx, b, "extras")
		if !bytes.Equal(first, second) {
			t.Errorf("export, import, export differs:\n%s\n---\n%s", first, second)
		}

		// Refused: an unknown default group, a profile naming an unknown validator.
		for name, edit := range map[string]func(map[string]any){
			"unknown default group": func(d map[string]any) { d["defaultGroups"] = []string{"/nobody"} },
			"bad profile": func(d map[string]any) {
				d["components"] = map[string]any{"org.keycloak.userprofile.UserProfileProvider": []any{map[string]any{
					"name": "p", "providerId": "declarative-user-profile",
					"config": map[string][]string{"kc.user.profile.config": {`{"attributes":[{"name":"username"},{"name":"email"},{"name":"x","validations":{"nope":{}}}]}`}}}}}
			},
		} {
			d := map[string]any{}
			for k, v := range doc {
				d[k] = v
			}
			d["realm"] = "refused"
			edit(d)
			data, _ := json.Marshal(d)
			_, _, err := rep.ImportFile(ctx, a, data, rep.ImportOptions{Now: now})
			var ie *rep.ImportError
			if !errors.As(err, &ie) {
				t.Errorf("%s: %v", name, err)
			}
			if _, err := a.GetRealmByName(ctx, "refused"); err == nil {
				t.Errorf("%s: the realm was created", name)
			}
		}
	})
}
