package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// TestAuthzDefaults turns authorization services on, when a client is
// created and when one is updated, and finds the resource server's
// defaults: a Default Resource for "/*" of the client's default type, the
// Default Policy (the built-in grant) and the Default Permission on that
// type applying it, so that any user of the realm is permitted the
// resource. A script policy still cannot be created through the API, not
// even with the default grant's code.
func TestAuthzDefaults(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := t.Context()
		gc := gocloak.NewClient(s.URL)
		tok := s.adminToken()
		s.newRealm("shop")
		const realmName = "shop"
		userID, err := gc.CreateUser(ctx, tok, realmName, gocloak.User{Username: gocloak.StringP("dora"), Enabled: gocloak.BoolP(true)})
		if err != nil {
			t.Fatal(err)
		}

		created, err := gc.CreateClient(ctx, tok, realmName, gocloak.Client{
			ClientID: gocloak.StringP("orders"), PublicClient: gocloak.BoolP(false), Secret: gocloak.StringP("s3cret"),
			AuthorizationServicesEnabled: gocloak.BoolP(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		updated, err := gc.CreateClient(ctx, tok, realmName, gocloak.Client{
			ClientID: gocloak.StringP("invoices"), PublicClient: gocloak.BoolP(false), Secret: gocloak.StringP("s3cret"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gc.GetResourceServer(ctx, tok, realmName, updated); err == nil {
			t.Fatal("a client without authorization services has a resource server")
		}
		c, err := gc.GetClient(ctx, tok, realmName, updated)
		if err != nil {
			t.Fatal(err)
		}
		c.AuthorizationServicesEnabled = gocloak.BoolP(true)
		if err := gc.UpdateClient(ctx, tok, realmName, *c); err != nil {
			t.Fatal(err)
		}

		for id, clientID := range map[string]string{created: "orders", updated: "invoices"} {
			rs, err := gc.GetResources(ctx, tok, realmName, id, gocloak.GetResourceParams{})
			if err != nil || len(rs) != 1 {
				t.Fatalf("%s: resources %d %v", clientID, len(rs), err)
			}
			r := rs[0]
			if gocloak.PString(r.Name) != "Default Resource" || gocloak.PString(r.Type) != "urn:"+clientID+":resources:default" ||
				r.URIs == nil || len(*r.URIs) != 1 || (*r.URIs)[0] != "/*" {
				t.Errorf("%s: default resource %+v", clientID, r)
			}
			pols, err := gc.GetPolicies(ctx, tok, realmName, id, gocloak.GetPolicyParams{Permission: gocloak.BoolP(false)})
			if err != nil || len(pols) != 1 {
				t.Fatalf("%s: policies %d %v", clientID, len(pols), err)
			}
			p := pols[0]
			if gocloak.PString(p.Name) != "Default Policy" || gocloak.PString(p.Type) != "js" || p.Logic == nil || *p.Logic != *gocloak.POSITIVE ||
				p.DecisionStrategy == nil || *p.DecisionStrategy != *gocloak.AFFIRMATIVE || gocloak.PString(p.Description) != "A policy that grants access only for users within this realm" ||
				p.Config == nil || (*p.Config)["code"] != authz.DefaultGrantScript {
				t.Errorf("%s: default policy %+v config %v", clientID, p, p.Config)
			}
			perms, err := gc.GetPermissions(ctx, tok, realmName, id, gocloak.GetPermissionParams{})
			if err != nil || len(perms) != 1 {
				t.Fatalf("%s: permissions %d %v", clientID, len(perms), err)
			}
			perm := perms[0]
			if gocloak.PString(perm.Name) != "Default Permission" || gocloak.PString(perm.Type) != "resource" ||
				perm.DecisionStrategy == nil || *perm.DecisionStrategy != *gocloak.UNANIMOUS ||
				gocloak.PString(perm.Description) != "A permission that applies to the default resource type" {
				t.Errorf("%s: default permission %+v", clientID, perm)
			}
			path := "/admin/realms/shop/clients/" + id + "/authz/resource-server"
			var typed struct {
				ResourceType string `json:"resourceType"`
			}
			if st, _, b := s.do("GET", path+"/permission/resource/"+gocloak.PString(perm.ID), tok, nil); st != 200 ||
				json.Unmarshal(b, &typed) != nil || typed.ResourceType != "urn:"+clientID+":resources:default" {
				t.Errorf("%s: default permission's resource type: %d %s", clientID, st, b)
			}
			applied, err := gc.GetAuthorizationPolicyAssociatedPolicies(ctx, tok, realmName, id, gocloak.PString(perm.ID))
			if err != nil || len(applied) != 1 || gocloak.PString(applied[0].Name) != "Default Policy" {
				t.Errorf("%s: default permission applies %d %v", clientID, len(applied), err)
			}

			a := s.evaluate(t, path+"/policy/evaluate", tok, map[string]any{
				"userId": userID, "resources": []any{map[string]any{"_id": gocloak.PString(r.ID)}}})
			if a.Status != "PERMIT" || len(a.Results) != 1 || a.Results[0].Status != "PERMIT" ||
				len(a.RPT.Authorization.Permissions) != 1 || a.RPT.Authorization.Permissions[0].RSName != "Default Resource" {
				t.Errorf("%s: evaluate %+v", clientID, a)
			}

			// The Default Policy can be renamed, its code not changed.
			pp := path + "/policy/" + gocloak.PString(p.ID)
			if st, _, b := s.do("PUT", pp, tok, map[string]any{"name": "Anyone", "type": "js", "logic": "POSITIVE",
				"decisionStrategy": "AFFIRMATIVE", "config": map[string]string{"code": authz.DefaultGrantScript}}); st != http.StatusCreated {
				t.Errorf("%s: rename the default policy: %d %s", clientID, st, b)
			}
			if st, _, b := s.do("PUT", pp, tok, map[string]any{"name": "Anyone", "type": "js", "logic": "POSITIVE",
				"decisionStrategy": "AFFIRMATIVE", "config": map[string]string{"code": "$evaluation.deny();"}}); st != http.StatusBadRequest ||
				!strings.Contains(string(b), "Script upload is disabled") {
				t.Errorf("%s: change the default policy's code: %d %s", clientID, st, b)
			}
			if got, err := gc.GetPolicy(ctx, tok, realmName, id, gocloak.PString(p.ID)); err != nil || gocloak.PString(got.Name) != "Anyone" ||
				(*got.Config)["code"] != authz.DefaultGrantScript {
				t.Errorf("%s: default policy after updates: %+v %v", clientID, got, err)
			}

			// The API refuses scripts, the default grant too.
			for _, body := range []map[string]any{
				{"name": "grant", "type": "js", "code": authz.DefaultGrantScript},
				{"name": "grant", "type": "js", "config": map[string]string{"code": "$evaluation.grant();"}},
				{"name": "deny", "type": "js", "code": "$evaluation.deny();"},
			} {
				for _, at := range []string{"/policy", "/policy/js"} {
					st, _, b := s.do("POST", path+at, tok, body)
					if st != http.StatusBadRequest || !strings.Contains(string(b), "Script upload is disabled") {
						t.Errorf("%s: POST %s %v: %d %s", clientID, at, body["name"], st, b)
					}
				}
			}
		}

		// Turning it on again keeps what the server holds.
		c.Description = gocloak.StringP("again")
		if err := gc.UpdateClient(ctx, tok, realmName, *c); err != nil {
			t.Fatal(err)
		}
		if rs, _ := gc.GetResources(ctx, tok, realmName, updated, gocloak.GetResourceParams{}); len(rs) != 1 {
			t.Errorf("resources after a second enable: %d", len(rs))
		}
	})
}
