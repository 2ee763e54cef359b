package rep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// kc26Realm is a realm as Keycloak 26.5.5 exports it.
const kc26Realm = "../../test/exports/testdata/adorsys__keycloak-config-cli__exported-master-26.5.5.json"

var authMembers = []string{"authenticationFlows", "authenticatorConfig", "requiredActions", "browserFlow", "registrationFlow",
	"directGrantFlow", "resetCredentialsFlow", "clientAuthenticationFlow", "dockerAuthenticationFlow", "firstBrokerLoginFlow"}

// authDoc is a small realm file carrying the authentication members of a
// real Keycloak 26 export, changed by edit.
func authDoc(t *testing.T, name string, edit func(doc map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(kc26Realm)
	if err != nil {
		t.Fatal(err)
	}
	var full map[string]any
	if err := json.Unmarshal(data, &full); err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{"realm": name, "enabled": true}
	for _, k := range authMembers {
		doc[k] = full[k]
	}
	if edit != nil {
		edit(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exportedAuth returns the authentication members of an export as JSON.
func exportedAuth(t *testing.T, export []byte) map[string]json.RawMessage {
	t.Helper()
	var x map[string]json.RawMessage
	if err := json.Unmarshal(export, &x); err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for _, k := range authMembers {
		out[k] = x[k]
	}
	return out
}

func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

func TestAuthFlowsImportAndExportAsKeycloakWritesThem(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		a := server(t, open)
		custom := map[string]any{"id": "0f0f0f0f-0000-4000-8000-000000000001", "alias": "copy of browser", "description": "", "providerId": "basic-flow",
			"topLevel": true, "builtIn": false, "authenticationExecutions": []any{
				map[string]any{"authenticator": "auth-cookie", "authenticatorFlow": false, "requirement": "ALTERNATIVE", "priority": 10, "autheticatorFlow": false, "userSetupAllowed": false},
				map[string]any{"authenticator": "auth-username-password-form", "authenticatorFlow": false, "requirement": "ALTERNATIVE", "priority": 20, "autheticatorFlow": false, "userSetupAllowed": false},
			}}
		in := authDoc(t, "flows", func(doc map[string]any) {
			doc["authenticationFlows"] = append(doc["authenticationFlows"].([]any), custom)
			doc["clients"] = []any{map[string]any{"clientId": "app", "authenticationFlowBindingOverrides": map[string]any{"browser": custom["id"]}}}
		})
		done, err := rep.ImportRealms(ctx, a, in, rep.ImportOptions{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range done[0].Ignored {
			for _, k := range authMembers {
				if strings.HasPrefix(p, "$."+k) {
					t.Errorf("reported as not stored: %s", p)
				}
			}
		}
		if len(done[0].NotRunnable) != 0 {
			t.Errorf("Keycloak's own flows reported not runnable: %v", done[0].NotRunnable)
		}
		first, err := rep.Export(ctx, a, "flows")
		if err != nil {
			t.Fatal(err)
		}
		// The export carries the file's model as Keycloak wrote it: same
		// flows (sorted by alias, with the misspelt autheticatorFlow), same
		// configs, required actions and bindings.
		var want map[string]any
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatal(err)
		}
		got := exportedAuth(t, first)
		for _, k := range authMembers {
			w := want[k]
			if k == "authenticationFlows" {
				fl := w.([]any)
				// Keycloak sorts by alias; the custom flow sorts after "clients".
				w = append(append(append([]any{}, fl[:10]...), custom), fl[10:len(fl)-1]...)
				custom["description"] = nil // "" is written as absent
				delete(custom, "description")
			}
			if canonical(t, w) != canonical(t, got[k]) {
				t.Errorf("%s differs from the imported file:\n got %s\nwant %s", k, got[k], canonical(t, w))
			}
		}
		if !bytes.Contains(first, []byte(`"authenticationFlowBindingOverrides": {
        "browser": "0f0f0f0f-0000-4000-8000-000000000001"
      }`)) {
			t.Errorf("client override not exported")
		}
		if bytes.Contains(first, []byte(`"authenticationExecutions": [
        {
          "id"`)) {
			t.Errorf("execution ids exported; Keycloak's export has none")
		}

		b := server(t, open)
		if _, _, err := rep.ImportFile(ctx, b, first, rep.ImportOptions{Now: now}); err != nil {
			t.Fatalf("re-import: %v", err)
		}
		second, err := rep.Export(ctx, b, "flows")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("export → import → export differs:\n%s", firstDiff(first, second))
		}
		r, _ := b.GetRealmByName(ctx, "flows")
		c, err := b.GetAuthConfig(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.Flows {
			for _, e := range f.Executions {
				if e.ID == "" {
					t.Fatalf("imported execution of %s has no id", f.Alias)
				}
			}
		}
	})
}

func TestImportWithoutFlowsGetsTheBuiltInModel(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := server(t, open)
		if _, _, err := rep.ImportFile(ctx, db, []byte(`{"realm":"plain"}`), rep.ImportOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		r, _ := db.GetRealmByName(ctx, "plain")
		c, err := db.GetAuthConfig(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := flow.Defaults()
		if len(c.Flows) != len(d.Flows) || c.Bindings != d.Bindings || len(c.RequiredActions) != len(d.RequiredActions) || c.Flows[0].ID == "" {
			t.Fatalf("model of a file without flows: %d flows, bindings %+v", len(c.Flows), c.Bindings)
		}
	})
}

func TestImportKeepsAFlowGatehouseDoesNotRunAndReportsIt(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := server(t, open)
		in := authDoc(t, "webauthn", func(doc map[string]any) {
			doc["authenticationFlows"] = append(doc["authenticationFlows"].([]any), map[string]any{
				"alias": "passkeys", "providerId": "basic-flow", "topLevel": true, "builtIn": false,
				"authenticationExecutions": []any{map[string]any{"authenticator": "auth-recovery-authn-code-form", "requirement": "REQUIRED", "priority": 10}},
			})
			doc["browserFlow"] = "passkeys"
		})
		done, err := rep.ImportRealms(ctx, db, in, rep.ImportOptions{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		why := done[0].NotRunnable["browserFlow"]
		if !strings.Contains(why, "auth-recovery-authn-code-form") || len(done[0].NotRunnable) != 1 {
			t.Fatalf("NotRunnable = %v", done[0].NotRunnable)
		}
		r, _ := db.GetRealmByName(ctx, "webauthn")
		c, _ := db.GetAuthConfig(ctx, r.ID)
		if c.Bindings.Browser != "passkeys" {
			t.Errorf("browser binding not kept: %q", c.Bindings.Browser)
		}
	})
}

func TestImportRefusesAFlowModelThatDoesNotHoldTogether(t *testing.T) {
	cases := []struct {
		name, path, msg string
		edit            func(doc map[string]any)
	}{
		{"sub-flow alias that resolves to nothing", "$.authenticationFlows", "sub-flow nope does not exist", func(doc map[string]any) {
			doc["authenticationFlows"] = append(doc["authenticationFlows"].([]any), map[string]any{"alias": "x", "topLevel": true,
				"authenticationExecutions": []any{map[string]any{"authenticatorFlow": true, "flowAlias": "nope", "requirement": "REQUIRED", "priority": 10}}})
		}},
		{"config alias that resolves to nothing", "$.authenticationFlows", "config nope does not exist", func(doc map[string]any) {
			doc["authenticationFlows"] = append(doc["authenticationFlows"].([]any), map[string]any{"alias": "x", "topLevel": true,
				"authenticationExecutions": []any{map[string]any{"authenticator": "auth-cookie", "authenticatorConfig": "nope", "requirement": "REQUIRED", "priority": 10}}})
		}},
		{"binding to a flow that is not there", "$.authenticationFlows", "browserFlow mine does not exist", func(doc map[string]any) {
			doc["browserFlow"] = "mine"
		}},
		{"client override naming no flow", `$.clients[0].authenticationFlowBindingOverrides["browser"]`, "does not exist", func(doc map[string]any) {
			doc["clients"] = []any{map[string]any{"clientId": "app", "authenticationFlowBindingOverrides": map[string]any{"browser": "nope"}}}
		}},
	}
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := server(t, open)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := rep.ImportFile(context.Background(), db, authDoc(t, "bad", tc.edit), rep.ImportOptions{Now: now})
				var ie *rep.ImportError
				if !errors.As(err, &ie) || ie.Path != tc.path || !strings.Contains(ie.Msg, tc.msg) {
					t.Fatalf("got %v, want %s: ...%s", err, tc.path, tc.msg)
				}
				if _, err := db.GetRealmByName(context.Background(), "bad"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("realm half-imported: %v", err)
				}
			})
		}
	})
}
