package browser_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Fine-grained admin permissions from the console: the administrator turns
// on the permissions of group staff, follows the tab's link to its
// manage-members permission in the realm-management client's Authorization
// tab, and attaches a group policy for the helpdesk group. Then helen of
// helpdesk, who holds no admin role, reads alice (a member of staff)
// through the admin API, and still not bob, who is in no group.
func TestFineGrainedPermissionsConsole(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	bob := s.addBob(t)
	bg := context.Background()
	alice, err := s.db.GetUserByUsername(bg, s.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	staff := role.Group{ID: store.NewID(), RealmID: s.realm.ID, Name: "staff"}
	helpdesk := role.Group{ID: store.NewID(), RealmID: s.realm.ID, Name: "helpdesk"}
	for _, g := range []role.Group{staff, helpdesk} {
		if err := s.db.CreateGroup(bg, g); err != nil {
			t.Fatal(err)
		}
	}
	helen := s.addUser(t, user.User{Username: "helen"}, "helen-browser-pw")
	if err := s.db.AddGroupMember(bg, helpdesk.ID, helen.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.db.AddGroupMember(bg, staff.ID, alice.ID); err != nil {
		t.Fatal(err)
	}
	rm, err := s.db.GetClientByClientID(bg, s.realm.ID, provision.RealmManagement)
	if err != nil {
		t.Fatal(err)
	}

	// helen's calls to the admin API, with a token of the realm's admin-cli.
	readUser := func(id string) int {
		t.Helper()
		tok := postToken(t, s.issuer()+"/protocol/openid-connect/token", url.Values{"grant_type": {"password"},
			"client_id": {"admin-cli"}, "username": {"helen"}, "password": {"helen-browser-pw"}})
		req, _ := http.NewRequest(http.MethodGet, s.gh.URL+"/admin/realms/"+realmName+"/users/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusOK {
			var u struct{ Username string }
			if err := json.NewDecoder(res.Body).Decode(&u); err != nil || u.Username == "" {
				t.Errorf("user %s: %v %+v", id, err, u)
			}
		}
		return res.StatusCode
	}
	if got := readUser(alice.ID); got != http.StatusForbidden {
		t.Fatalf("helen reads alice before any permission: %d", got)
	}

	c := &consoleBrowser{t: t, ctx: ctx, base: s.gh.URL, db: s.db}
	press := func(id string) { // a button or link, once it can be used
		t.Helper()
		c.mark()
		do(t, ctx, "press #"+id, chromedp.WaitEnabled(chromedp.ID(id)), chromedp.Click(chromedp.ID(id)))
		c.loaded()
	}
	const realmPages = "/admin/master/console/" + realmName
	c.open("/admin/master/console/")
	signIn(t, ctx, "admin", "admin-pw")
	c.waitFor("nav-realm-settings")

	// The group's Permissions tab: off, then on with its permission list.
	c.open(realmPages + "/groups/" + staff.ID)
	press("tab-permissions")
	if got := c.text("permissions-state"); !strings.Contains(got, "Off") {
		t.Fatalf("state before: %q", got)
	}
	c.shot("console-permissions-off")
	press("permissions-switch")
	c.notice("Your changes have been saved.")
	if got := c.text("permissions-state"); !strings.Contains(got, "On") {
		t.Fatalf("state after: %q", got)
	}
	for _, scope := range []string{"view", "manage", "view-members", "manage-members", "manage-membership"} {
		if !c.exists("permission-" + scope) {
			t.Errorf("no permission %s in\n%s", scope, c.text("permissions"))
		}
	}
	c.shot("console-permissions-on")

	// Its link opens the manage-members permission in realm-management's
	// Authorization tab.
	press("permission-manage-members")
	permission := c.location()
	if want := realmPages + "/clients/" + rm.ID + "/authorization/permissions/scope/"; !strings.Contains(permission, want) {
		t.Fatalf("the link went to %s, not below %s", permission, want)
	}
	if got := c.value("f-name"); got != "manage.members.permission.group."+staff.ID {
		t.Fatalf("permission %q", got)
	}

	// A group policy for helpdesk, attached to the permission.
	c.open(realmPages + "/clients/" + rm.ID + "/authorization/policies/new/group")
	c.set("f-name", "helpdesk staff")
	c.set("f-groups", "/helpdesk")
	press("save")
	c.notice("Created.")
	c.open(strings.TrimPrefix(permission, s.gh.URL))
	c.selectByText("f-policies", "helpdesk staff")
	c.shot("console-permissions-manage-members")
	press("save")
	c.notice("Your changes have been saved.")

	// helen now reads staff's members through the admin API, and no one else.
	if got := readUser(alice.ID); got != http.StatusOK {
		t.Errorf("helen reads alice, a member of staff: %d", got)
	}
	if got := readUser(bob.ID); got != http.StatusForbidden {
		t.Errorf("helen reads bob, in no group: %d", got)
	}
}
