package rep_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// A realm file without client scopes (older than Keycloak 4) gets the
// built-in ones of both protocols, and each client takes the defaults of
// its own protocol.
func TestImportGivesSAMLClientsTheSAMLScopes(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := server(t, open)
		ctx := context.Background()
		file := `{"realm":"old","enabled":true,"clients":[
			{"clientId":"sp","protocol":"saml","attributes":{"saml.client.signature":"false"}},
			{"clientId":"app","protocol":"openid-connect"}]}`
		if _, err := rep.ImportRealms(ctx, db, []byte(file), rep.ImportOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		rl, _ := db.GetRealmByName(ctx, "old")
		names := func(clientID string) []string {
			c, err := db.GetClientByClientID(ctx, rl.ID, clientID)
			if err != nil {
				t.Fatal(err)
			}
			links, _ := db.ClientScopeLinks(ctx, rl.ID, c.ID)
			var out []string
			for _, l := range links {
				s, _ := db.GetClientScope(ctx, rl.ID, l.ScopeID)
				out = append(out, s.Name)
			}
			return out
		}
		if got := names("sp"); !slices.Equal(got, []string{"role_list", "saml_organization"}) {
			t.Errorf("SAML client's scopes %v", got)
		}
		if got := names("app"); slices.Contains(got, "role_list") || !slices.Contains(got, "profile") {
			t.Errorf("OpenID Connect client's scopes %v", got)
		}
	})
}

// A SAML client whose attributes Gatehouse cannot act on is refused with
// the attribute's path, and nothing of the file is stored.
func TestImportRefusesABrokenSAMLClient(t *testing.T) {
	db := server(t, storetest.Open)
	ctx := context.Background()
	file := `{"realm":"bad","enabled":true,"clients":[{"clientId":"sp","protocol":"saml",
		"attributes":{"saml.signing.certificate":"not base64!"}}]}`
	_, err := rep.ImportRealms(ctx, db, []byte(file), rep.ImportOptions{Now: now})
	var ie *rep.ImportError
	if !errors.As(err, &ie) || ie.Path != "$.clients[0].attributes.saml.signing.certificate" {
		t.Fatalf("import: %v", err)
	}
	if _, err := db.GetRealmByName(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused realm was stored: %v", err)
	}
}

// A realm file made from a partial export carries the mask for a private
// key: the client is imported without the key, never with the mask.
func TestImportLeavesOutMaskedClientAttributes(t *testing.T) {
	db := server(t, storetest.Open)
	ctx := context.Background()
	file := `{"realm":"masked","enabled":true,"clients":[{"clientId":"sp","protocol":"saml",
		"attributes":{"saml.signing.private.key":"**********","saml.authnstatement":"true"}}]}`
	if _, err := rep.ImportRealms(ctx, db, []byte(file), rep.ImportOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	rl, _ := db.GetRealmByName(ctx, "masked")
	c, err := db.GetClientByClientID(ctx, rl.ID, "sp")
	if _, ok := c.Attributes["saml.signing.private.key"]; err != nil || ok || c.Attributes["saml.authnstatement"] != "true" {
		t.Errorf("imported attributes: %v %v", c.Attributes, err)
	}
}
