package exports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// samlClientsOf are the file realm's SAML clients (and applications, as
// exports before Keycloak 4 call them).
func samlClientsOf(r map[string]any) []map[string]any {
	var out []map[string]any
	for _, key := range []string{"clients", "applications"} {
		for _, c := range list(r[key]) {
			if m := c.(map[string]any); m["protocol"] == "saml" {
				out = append(out, m)
			}
		}
	}
	return out
}

// checkSAML compares the realm's SAML clients with the file's, in the store
// and in an export of the realm: each keeps its protocol, every attribute
// and every protocol mapper with its configuration. A realm with SAML
// clients serves its IdP descriptor, signed by the realm's keys.
func checkSAML(t *testing.T, db *store.DB, base, realmName string, r map[string]any) {
	t.Helper()
	want := samlClientsOf(r)
	if len(want) == 0 {
		return
	}
	ctx := context.Background()
	data, err := rep.Export(ctx, db, realmName)
	if err != nil {
		t.Fatal(err)
	}
	var out rep.Realm
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	exported := map[string]rep.Client{}
	for _, c := range out.Clients {
		exported[c.ClientID] = c
	}
	rm, err := db.GetRealmByName(ctx, realmName)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range want {
		id := fmt.Sprint(m["clientId"])
		if id == "<nil>" {
			id = fmt.Sprint(m["name"]) // an application of an old export
		}
		stored, err := db.GetClientByClientID(ctx, rm.ID, id)
		if err != nil {
			t.Errorf("realm %s lacks SAML client %s: %v", realmName, id, err)
			continue
		}
		x, ok := exported[id]
		if !ok || x.Protocol == nil || *x.Protocol != "saml" || stored.Protocol != "saml" {
			t.Errorf("SAML client %s of %s: stored protocol %q, exported %v", id, realmName, stored.Protocol, x.Protocol)
			continue
		}
		attrs, _ := m["attributes"].(map[string]any)
		for k, v := range attrs {
			if w := fmt.Sprint(v); stored.Attributes[k] != w || x.Attributes[k] != w {
				t.Errorf("SAML client %s of %s: attribute %s stored %q, exported %q, file %q", id, realmName, k, stored.Attributes[k], x.Attributes[k], w)
			}
		}
		if err := saml.ValidateClient(stored); err != nil {
			t.Errorf("SAML client %s of %s does not validate: %v", id, realmName, err)
		}
		if _, err := saml.Settings(stored); err != nil {
			t.Errorf("SAML client %s of %s: settings: %v", id, realmName, err)
		}
		got := map[string]rep.ProtocolMapper{}
		for _, pm := range x.ProtocolMappers {
			got[pm.Name] = pm
		}
		for _, pm := range list(m["protocolMappers"]) {
			pmm := pm.(map[string]any)
			name := fmt.Sprint(pmm["name"])
			g, ok := got[name]
			if !ok || g.ProtocolMapper != pmm["protocolMapper"] {
				t.Errorf("SAML client %s of %s: mapper %s exported as %+v, file %v", id, realmName, name, g, pmm)
				continue
			}
			cfg := map[string]string{}
			for k, v := range pmm["config"].(map[string]any) {
				cfg[k] = fmt.Sprint(v)
			}
			if !maps.Equal(cfg, g.Config) {
				t.Errorf("SAML client %s of %s: mapper %s config %v, file %v", id, realmName, name, g.Config, cfg)
			}
		}
		if names, ok := m["defaultClientScopes"]; ok {
			for _, n := range list(names) {
				if !slices.Contains(x.DefaultClientScopes, n.(string)) && slices.ContainsFunc(out.ClientScopes, func(s rep.ClientScope) bool { return s.Name == n }) {
					t.Errorf("SAML client %s of %s: default scope %v lost (exported %v)", id, realmName, n, x.DefaultClientScopes)
				}
			}
		}
	}
	checkDescriptor(t, base, realmName)
}

// checkDescriptor fetches the realm's SAML IdP descriptor and reads it as
// an SP would.
func checkDescriptor(t *testing.T, base, realmName string) {
	t.Helper()
	res, err := http.Get(base + "/realms/" + url.PathEscape(realmName) + "/protocol/saml/descriptor")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Errorf("realm %s descriptor: %d %s", realmName, res.StatusCode, body)
		return
	}
	md, err := saml.ParseIdPMetadata(body)
	if err != nil {
		t.Errorf("realm %s descriptor does not parse: %v", realmName, err)
		return
	}
	realmURL := base + "/realms/" + url.PathEscape(realmName)
	if md.EntityID != realmURL || md.SSO[saml.BindingPOST] != realmURL+"/protocol/saml" || len(md.SigningCerts) == 0 {
		t.Errorf("realm %s descriptor: entity %s, SSO %v, %d signing certificates", realmName, md.EntityID, md.SSO, len(md.SigningCerts))
	}
}
