package server_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// The grant's permission_resource_format=uri names resources by URI, with
// permission_resource_matching_uri=true by URI pattern; and
// response_permissions_limit caps how many resources one RPT carries.
func TestUMAGrantURIsAndLimit(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		e := newUMAEnv(t, []*store.DB{open(t)})
		ctx := context.Background()
		photo, _ := e.registerPhoto(e.pat(0)) // URI pattern /photos/*, view for viewers
		album, err := e.gc(0).CreateResourceClient(ctx, e.pat(0), umaRealm, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("album"), URIs: &[]string{"/albums/{id}", "/album-index"},
			ResourceScopes: &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.CreatePolicy(ctx, authz.Policy{ServerID: e.photoz.ID, Name: "view albums", Type: "resource", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Config: map[string]string{}, ResourceIDs: []string{*album.ID}, PolicyIDs: []string{e.viewers.ID}}); err != nil {
			t.Fatal(err)
		}
		alice := e.userToken(0, "alice")
		granted := func(body map[string]any) []string {
			var out []string
			list, _ := body["permissions"].([]any)
			for _, p := range list {
				out = append(out, p.(map[string]any)["rsid"].(string))
			}
			return out
		}
		rptIDs := func(form url.Values) (int, []string, map[string]any) {
			t.Helper()
			st, body := e.umaForm(alice, form)
			if st != 200 {
				return st, nil, body
			}
			auth, _ := claimsOf(t, body["access_token"].(string))["authorization"].(map[string]any)
			return st, granted(auth), body
		}

		for _, c := range []struct {
			name       string
			permission string
			matching   string
			want       string // resource id, or "" for the refusal
		}{
			{"exact URI", "/album-index#view", "", *album.ID},
			{"pattern URI without matching", "/albums/7#view", "", ""},
			{"pattern URI with matching", "/albums/7#view", "true", *album.ID},
			{"wildcard pattern with matching", "/photos/2024/1.jpg#view", "true", *photo.ID},
			{"no resource at the URI", "/nothing#view", "true", ""},
		} {
			form := url.Values{"audience": {"photoz"}, "permission": {c.permission}, "permission_resource_format": {"uri"}}
			if c.matching != "" {
				form.Set("permission_resource_matching_uri", c.matching)
			}
			st, ids, body := rptIDs(form)
			if c.want == "" {
				if st != 400 || body["error"] != "invalid_resource" {
					t.Errorf("%s: %d %v, want 400 invalid_resource", c.name, st, body)
				}
				continue
			}
			if st != 200 || len(ids) != 1 || ids[0] != c.want {
				t.Errorf("%s: %d %v %v, want %s", c.name, st, ids, body, c.want)
			}
		}
		// Without the format, the same string is a resource name or id.
		if st, body := e.umaForm(alice, url.Values{"audience": {"photoz"}, "permission": {"/album-index#view"}}); st != 400 || body["error"] != "invalid_resource" {
			t.Errorf("a URI read as an id: %d %v", st, body)
		}

		both := url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#view", *photo.ID + "#view"}}
		if st, ids, body := rptIDs(cloneValues(both)); st != 200 || len(ids) != 2 {
			t.Fatalf("two resources: %d %v %v", st, ids, body)
		}
		limited := cloneValues(both)
		limited.Set("response_permissions_limit", "1")
		if st, ids, body := rptIDs(limited); st != 200 || len(ids) != 1 || ids[0] != *album.ID {
			t.Errorf("limit 1: %d %v %v, want only the first asked", st, ids, body)
		}
		for _, bad := range []string{"0", "-1", "x"} {
			f := cloneValues(both)
			f.Set("response_permissions_limit", bad)
			if st, body := e.umaForm(alice, f); st != 400 || body["error"] != "invalid_request" {
				t.Errorf("limit %q: %d %v", bad, st, body)
			}
		}
	})
}

// A group policy with groupsClaim reads the groups from the requesting
// party's token (here the group paths a group membership mapper puts in
// "groups") instead of the stored memberships.
func TestUMAGroupsClaimPolicy(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		e := newUMAEnv(t, []*store.DB{open(t)})
		ctx := context.Background()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		staff := role.Group{ID: store.NewID(), RealmID: e.rl.ID, Name: "staff", Attributes: map[string][]string{}}
		must(e.db.CreateGroup(ctx, staff))
		photographers := role.Group{ID: store.NewID(), RealmID: e.rl.ID, ParentID: staff.ID, Name: "photographers", Attributes: map[string][]string{}}
		must(e.db.CreateGroup(ctx, photographers))
		must(e.db.AddGroupMember(ctx, photographers.ID, e.alice))
		poster, err := e.gc(0).CreateResourceClient(ctx, e.pat(0), umaRealm, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("poster"), ResourceScopes: &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("print")}},
		})
		must(err)
		policy, err := e.db.CreatePolicy(ctx, authz.Policy{ServerID: e.photoz.ID, Name: "staff by claim", Type: "group", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Config: map[string]string{"groups": `[{"id":"` + staff.ID + `","extendChildren":true}]`, "groupsClaim": "groups"}})
		must(err)
		_, err = e.db.CreatePolicy(ctx, authz.Policy{ServerID: e.photoz.ID, Name: "staff print", Type: "resource", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Config: map[string]string{}, ResourceIDs: []string{*poster.ID}, PolicyIDs: []string{policy.ID}})
		must(err)
		ask := url.Values{"audience": {"photoz"}, "permission": {*poster.ID + "#print"}, "response_mode": {"decision"}}

		// Without the claim in alice's token, her stored membership does not count.
		if st, body := e.umaForm(e.userToken(0, "alice"), cloneValues(ask)); st != 403 {
			t.Fatalf("without a groups claim: %d %v", st, body)
		}
		app, err := e.db.GetClientByClientID(ctx, e.rl.ID, "app")
		must(err)
		must(e.db.UpdateClient(ctx, e.rl.ID, app.ID, func(c *client.Client) error {
			c.ProtocolMappers = append(c.ProtocolMappers, client.ProtocolMapper{ID: store.NewID(), Name: "groups", Protocol: "openid-connect",
				ProtocolMapper: "oidc-group-membership-mapper", Config: map[string]string{"claim.name": "groups", "full.path": "true", "access.token.claim": "true"}})
			return nil
		}))
		tok := e.userToken(0, "alice")
		if st, body := e.umaForm(tok, cloneValues(ask)); st != 200 || body["result"] != true {
			t.Fatalf("with /staff/photographers in the token: %d %v (token claims %v)", st, body, claimsOf(t, tok))
		}
		if st, body := e.umaForm(e.userToken(0, "bob"), cloneValues(ask)); st != 403 {
			t.Fatalf("bob, in no group: %d %v", st, body)
		}
	})
}
