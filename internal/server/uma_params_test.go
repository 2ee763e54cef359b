package server_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
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
