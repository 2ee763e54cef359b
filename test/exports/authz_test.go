package exports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// TestAuthzSettingsRoundTrip imports each file whose clients carry
// authorizationSettings (with authorizationServicesEnabled) and exports the
// realm: every value the file gives a resource server, its scopes,
// resources and policies comes back, at the same place (a policy's config
// entries compared as the JSON they hold, where the export may add the
// defaults Keycloak writes, such as "required": false). JavaScript
// policies are the exception: import leaves them out and says so. The
// export, imported into an empty server and exported again, gives the same
// bytes.
func TestAuthzSettingsRoundTrip(t *testing.T) {
	files := loadFiles(t)
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		n := 0
		for _, f := range files {
			for _, r := range f.realms {
				if len(authzClients(r)) == 0 {
					continue
				}
				n++
				name := r["realm"].(string)
				t.Run(f.name+"/"+name, func(t *testing.T) {
					roundTrip(t, open, f, r, name)
				})
			}
		}
		if n < 9 {
			t.Errorf("only %d realms carry authorization settings, the test data holds 9", n)
		}
	})
}

// authzClients are a realm's clients with authorizationSettings that import
// takes, by clientId.
func authzClients(r map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, c := range list(r["clients"]) {
		m := c.(map[string]any)
		if s, ok := m["authorizationSettings"].(map[string]any); ok && fmt.Sprint(m["authorizationServicesEnabled"]) == "true" {
			out[m["clientId"].(string)] = s
		}
	}
	return out
}

func roundTrip(t *testing.T, open func(testing.TB) *store.DB, f exportFile, r map[string]any, name string) {
	ctx := context.Background()
	one, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	db := open(t)
	done, err := rep.ImportRealms(ctx, db, one, rep.ImportOptions{Now: time.Now()})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	first, err := rep.Export(ctx, db, name)
	if err != nil {
		t.Fatal(err)
	}
	got := exportedAuthz(t, first)
	for clientID, in := range authzClients(r) {
		out, ok := got[clientID]
		if !ok {
			t.Errorf("client %s: no authorizationSettings in the export", clientID)
			continue
		}
		scripts := map[string]bool{}
		for _, p := range list(in["policies"]) {
			if pm := p.(map[string]any); pm["type"] == "js" {
				scripts[pm["name"].(string)] = true
			}
		}
		if len(scripts) > 0 && !reported(done[0].Ignored, "authorizationSettings.policies") {
			t.Errorf("client %s: JavaScript policies left out without a word: %v", clientID, done[0].Ignored)
		}
		for _, k := range []string{"policyEnforcementMode", "decisionStrategy", "allowRemoteResourceManagement"} {
			if v, ok := in[k]; ok && fmt.Sprint(v) != fmt.Sprint(out[k]) {
				t.Errorf("client %s: %s %v, exported %v", clientID, k, v, out[k])
			}
		}
		// Scopes a resource names are created with it, so the export may
		// list more than the file's scopes: those.
		outScopes := list(out["scopes"])
		named := map[string]bool{}
		for _, s := range list(in["scopes"]) {
			named[fmt.Sprint(s.(map[string]any)["name"])] = true
		}
		for _, r := range list(in["resources"]) {
			for _, s := range list(r.(map[string]any)["scopes"]) {
				if n := fmt.Sprint(s.(map[string]any)["name"]); !named[n] {
					named[n] = true
					outScopes = dropNamed(outScopes, n)
				}
			}
		}
		compareNamed(t, clientID+" scope", list(in["scopes"]), outScopes, nil)
		compareNamed(t, clientID+" resource", list(in["resources"]), list(out["resources"]), nil)
		compareNamed(t, clientID+" policy", list(in["policies"]), list(out["policies"]), scripts)
	}

	// Gatehouse's own export survives a round trip byte for byte.
	db2 := open(t)
	if _, err := rep.ImportRealms(ctx, db2, first, rep.ImportOptions{Now: time.Now()}); err != nil {
		t.Fatalf("import the export: %v", err)
	}
	second, err := rep.Export(ctx, db2, name)
	if err != nil {
		t.Fatal(err)
	}
	again := exportedAuthz(t, second)
	for clientID, a := range got {
		ab, _ := json.MarshalIndent(a, "", "  ")
		bb, _ := json.MarshalIndent(again[clientID], "", "  ")
		if !bytes.Equal(ab, bb) {
			t.Errorf("client %s: authorizationSettings changed through export and import:\nfirst  %s\nsecond %s", clientID, ab, bb)
		}
	}
}

func reported(ignored []string, part string) bool {
	for _, p := range ignored {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

// exportedAuthz reads the authorizationSettings of an export's clients.
func exportedAuthz(t *testing.T, export []byte) map[string]map[string]any {
	t.Helper()
	var x map[string]any
	if err := json.Unmarshal(export, &x); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, c := range list(x["clients"]) {
		m := c.(map[string]any)
		if s, ok := m["authorizationSettings"].(map[string]any); ok {
			out[m["clientId"].(string)] = s
		}
	}
	return out
}

// compareNamed matches the file's objects to the export's by name (and a
// resource's owner) and checks each value the file gives.
func compareNamed(t *testing.T, what string, in, out []any, skip map[string]bool) {
	t.Helper()
	key := func(m map[string]any) string {
		k := fmt.Sprint(m["name"])
		if o, ok := m["owner"].(map[string]any); ok {
			k += "@" + fmt.Sprint(o["name"])
		}
		return k
	}
	byKey := map[string]map[string]any{}
	for _, o := range out {
		byKey[key(o.(map[string]any))] = o.(map[string]any)
	}
	want := 0
	for _, o := range in {
		m := o.(map[string]any)
		if skip[fmt.Sprint(m["name"])] {
			continue
		}
		want++
		got, ok := byKey[key(m)]
		if !ok {
			t.Errorf("%s %s: not in the export", what, key(m))
			continue
		}
		for k, v := range m {
			switch {
			case k == "uri":
				if s, _ := v.(string); s != "" && !sameJSON(got["uris"], []any{s}) {
					t.Errorf("%s %s: uri %v, exported uris %v", what, key(m), v, got["uris"])
				}
			case k == "config":
				cfg, _ := got["config"].(map[string]any)
				for ck, cv := range v.(map[string]any) {
					if !sameConfig(ck, cv, cfg[ck], skip) {
						t.Errorf("%s %s: config %s %v, exported %v", what, key(m), ck, cv, cfg[ck])
					}
				}
			case !sameJSON(v, got[k]) && !(isEmpty(v) && got[k] == nil):
				t.Errorf("%s %s: %s %v, exported %v", what, key(m), k, v, got[k])
			}
		}
	}
	if len(out) != want {
		t.Errorf("%s: the file holds %d, the export %d", what, want, len(out))
	}
}

// sameJSON reports whether the export holds what the file gives: equal
// scalars, lists of the same length holding the same, and objects holding
// at least the file's members.
func sameJSON(in, out any) bool {
	switch v := in.(type) {
	case map[string]any:
		o, ok := out.(map[string]any)
		if !ok {
			return len(v) == 0 && out == nil
		}
		for k, x := range v {
			if !sameJSON(x, o[k]) && !(isEmpty(x) && o[k] == nil) {
				return false
			}
		}
		return true
	case []any:
		o, ok := out.([]any)
		if !ok {
			return len(v) == 0 && out == nil
		}
		if len(v) != len(o) {
			return false
		}
		for i := range v {
			if !sameJSON(v[i], o[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(in, out) || fmt.Sprint(in) == fmt.Sprint(out)
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "[]"
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// sameConfig compares a config entry, reading JSON-holding values as JSON;
// names of left-out JavaScript policies are not expected back.
func sameConfig(key string, in, out any, skip map[string]bool) bool {
	s, _ := in.(string)
	o, _ := out.(string)
	var iv, ov any
	if json.Unmarshal([]byte(s), &iv) != nil {
		return s == o || isEmpty(s) && out == nil
	}
	if key == "applyPolicies" {
		if names, ok := iv.([]any); ok {
			var kept []any
			for _, n := range names {
				if !skip[fmt.Sprint(n)] {
					kept = append(kept, n)
				}
			}
			iv = kept
			if len(kept) == 0 {
				return out == nil
			}
		}
	}
	if json.Unmarshal([]byte(o), &ov) != nil {
		return s == o || isEmpty(s) && out == nil
	}
	return sameJSON(iv, ov)
}

// dropNamed is l without the object named name.
func dropNamed(l []any, name string) []any {
	var out []any
	for _, o := range l {
		if fmt.Sprint(o.(map[string]any)["name"]) != name {
			out = append(out, o)
		}
	}
	return out
}
