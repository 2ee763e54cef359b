package admin_test

import (
	"net/http"
	"testing"

	"github.com/Nerzal/gocloak/v13"
)

// gocloak's calls for default groups, group-by-path and a user's
// credentials.
func TestGocloakDefaultGroupsAndCredentials(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := t.Context()
		gc := gocloak.NewClient(s.URL)
		e := newUsersEnv(t, s, "gc")
		tok := e.tok
		team, err := gc.CreateGroup(ctx, tok, "gc", gocloak.Group{Name: gocloak.StringP("team")})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := gc.CreateChildGroup(ctx, tok, "gc", team, gocloak.Group{Name: gocloak.StringP("sub")})
		if err != nil {
			t.Fatal(err)
		}
		if err := gc.AddDefaultGroup(ctx, tok, "gc", sub); err != nil {
			t.Fatalf("AddDefaultGroup: %v", err)
		}
		dg, err := gc.GetDefaultGroups(ctx, tok, "gc")
		if err != nil || len(dg) != 1 || gocloak.PString(dg[0].Path) != "/team/sub" {
			t.Fatalf("GetDefaultGroups: %v %v", dg, err)
		}
		wantAPIError(t, "AddDefaultGroup unknown", gc.AddDefaultGroup(ctx, tok, "gc", "nope"), http.StatusNotFound)
		if err := gc.RemoveDefaultGroup(ctx, tok, "gc", sub); err != nil {
			t.Fatalf("RemoveDefaultGroup: %v", err)
		}
		for _, p := range []string{"/team/sub", "team/sub"} {
			g, err := gc.GetGroupByPath(ctx, tok, "gc", p)
			if err != nil || gocloak.PString(g.ID) != sub {
				t.Errorf("GetGroupByPath(%q): %v %v", p, g, err)
			}
		}
		_, err = gc.GetGroupByPath(ctx, tok, "gc", "/team/nope")
		wantAPIError(t, "GetGroupByPath unknown", err, http.StatusNotFound)

		uid, err := gc.CreateUser(ctx, tok, "gc", gocloak.User{Username: gocloak.StringP("gina"), Enabled: gocloak.BoolP(true)})
		if err != nil {
			t.Fatal(err)
		}
		if err := gc.SetPassword(ctx, tok, uid, "gc", "Gina-pw-1", false); err != nil {
			t.Fatal(err)
		}
		creds, err := gc.GetCredentials(ctx, tok, "gc", uid)
		if err != nil || len(creds) != 1 {
			t.Fatalf("GetCredentials: %v %v", creds, err)
		}
		cid := gocloak.PString(creds[0].ID)
		if err := gc.UpdateCredentialUserLabel(ctx, tok, "gc", uid, cid, "laptop"); err != nil {
			t.Fatalf("UpdateCredentialUserLabel: %v", err)
		}
		if creds, _ = gc.GetCredentials(ctx, tok, "gc", uid); gocloak.PString(creds[0].UserLabel) != "laptop" {
			t.Errorf("label: %q", gocloak.PString(creds[0].UserLabel))
		}
		if err := gc.MoveCredentialToFirst(ctx, tok, "gc", uid, cid); err != nil {
			t.Errorf("MoveCredentialToFirst: %v", err)
		}
		wantAPIError(t, "MoveCredentialBehind unknown", gc.MoveCredentialBehind(ctx, tok, "gc", uid, cid, "nope"), http.StatusNotFound)
		if err := gc.DisableAllCredentialsByType(ctx, tok, "gc", uid, []string{"otp"}); err != nil {
			t.Errorf("DisableAllCredentialsByType: %v", err)
		}
		if creds, _ = gc.GetCredentials(ctx, tok, "gc", uid); len(creds) != 1 {
			t.Errorf("the password went: %v", creds)
		}
	})
}
