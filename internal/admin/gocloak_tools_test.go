package admin_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/Nerzal/gocloak/v13"
)

// gocloak's calls for server info, client secrets and management
// permissions, as a Go service or tool makes them.
func TestGocloakClientTools(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := t.Context()
		gc := gocloak.NewClient(s.URL)
		admin, err := gc.LoginAdmin(ctx, "admin", "admin-pw", "master")
		if err != nil {
			t.Fatalf("LoginAdmin: %v", err)
		}
		tok := admin.AccessToken

		info, err := gc.GetServerInfo(ctx, tok)
		if err != nil {
			t.Fatalf("GetServerInfo: %v", err)
		}
		var policies []string
		for _, p := range info.PasswordPolicies {
			policies = append(policies, p.ID)
		}
		if !slices.Contains(policies, "upperCase") || info.Themes == nil || len(info.Themes.Login) != 3 {
			t.Errorf("server info: policies %v themes %+v", policies, info.Themes)
		}

		s.newRealm("gct")
		id, err := gc.CreateClient(ctx, tok, "gct", gocloak.Client{ClientID: gocloak.StringP("svc"), PublicClient: gocloak.BoolP(false),
			Secret: gocloak.StringP("svc-secret")})
		if err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		perm, err := gc.GetClientManagementPermissions(ctx, tok, "gct", id)
		if err != nil || perm.Enabled == nil || *perm.Enabled {
			t.Fatalf("GetClientManagementPermissions: %+v %v", perm, err)
		}
		on, err := gc.UpdateClientManagementPermissions(ctx, tok, "gct", id, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(true)})
		if err != nil || on.Enabled == nil || !*on.Enabled || on.Resource == nil || on.ScopePermissions == nil || (*on.ScopePermissions)["manage"] == "" {
			t.Fatalf("enable client permissions: %+v %v", on, err)
		}
		if got, err := gc.GetClientManagementPermissions(ctx, tok, "gct", id); err != nil || gocloak.PString(got.Resource) != *on.Resource {
			t.Fatalf("client permissions read back: %+v %v", got, err)
		}
		off, err := gc.UpdateClientManagementPermissions(ctx, tok, "gct", id, gocloak.ManagementPermissionRepresentation{Enabled: gocloak.BoolP(false)})
		if err != nil || off.Enabled == nil || *off.Enabled {
			t.Fatalf("disable client permissions: %+v %v", off, err)
		}
		gid, err := gc.CreateGroup(ctx, tok, "gct", gocloak.Group{Name: gocloak.StringP("g")})
		if err != nil {
			t.Fatalf("CreateGroup: %v", err)
		}
		if gp, err := gc.GetGroupManagementPermissions(ctx, tok, "gct", gid); err != nil || gp.Enabled == nil || *gp.Enabled {
			t.Fatalf("GetGroupManagementPermissions: %+v %v", gp, err)
		}
		_, err = gc.GetClientManagementPermissions(ctx, tok, "gct", "nope")
		wantAPIError(t, "permissions of a missing client", err, http.StatusNotFound)
	})
}
