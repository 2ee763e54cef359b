package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// addBob gives the demo realm a user bob with the default roles.
func (s *stack) addBob(t *testing.T) user.User {
	t.Helper()
	return s.addUser(t, user.User{Username: "bob", Email: "bob@example.com", FirstName: "Bob", LastName: "Builder",
		EmailVerified: true}, "bob-browser-pw")
}

// addUser gives the demo realm an enabled user u with the default roles
// and a password.
func (s *stack) addUser(t *testing.T, u user.User, password string) user.User {
	t.Helper()
	ctx := context.Background()
	u.ID, u.RealmID, u.Enabled, u.CreatedTimestamp = store.NewID(), s.realm.ID, true, time.Now().UnixMilli()
	if err := s.db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.db.AddUserRoles(ctx, u.ID, s.realm.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), u.ID, password, time.Now().UnixMilli(), user.HashPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	return u
}

// The admin console's Authorization tab: the administrator turns
// authorization services on for app-one, creates a scope, a resource, a
// role policy and a resource permission, and evaluates: alice, who holds
// the role, is granted the resource (PERMIT), bob is not (DENY). Every
// step is a page of the console in chromium.
func TestAuthorizationConsole(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.addBob(t)
	c := &consoleBrowser{t: t, ctx: ctx, base: s.gh.URL, db: s.db}
	bg := context.Background()
	app, err := s.db.GetClientByClientID(bg, s.realm.ID, "app-one")
	if err != nil {
		t.Fatal(err)
	}
	const realmPages = "/admin/master/console/" + realmName
	c.open("/admin/master/console/")
	signIn(t, ctx, "admin", "admin-pw")
	c.waitFor("nav-realm-settings")

	// A realm role, held by alice.
	c.open(realmPages + "/roles")
	c.set("f-name", "photographer")
	c.submit("create-role")
	c.notice("Created.")
	ro, err := s.db.GetRealmRole(bg, s.realm.ID, "photographer")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.db.GetUserByUsername(bg, s.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.AddUserRoles(bg, alice.ID, ro.ID); err != nil {
		t.Fatal(err)
	}

	// The client's Authorization switch brings the tab.
	client := realmPages + "/clients/" + app.ID
	c.open(client)
	c.check("f-authorizationServicesEnabled", true)
	c.submit("save")
	c.notice("Your changes have been saved.")
	c.click("tab-authorization")
	c.waitFor("authz-settings-form")
	if got := c.value("f-policyEnforcementMode"); got != "ENFORCING" {
		t.Errorf("enforcement mode %q", got)
	}
	c.shot("console-authz-settings")

	// A scope and a resource holding it.
	c.click("authz-scopes")
	c.click("create-scope")
	c.set("f-name", "view")
	c.submit("save")
	c.notice("Created.")
	c.click("authz-resources")
	c.click("create-resource")
	c.set("f-name", "photo")
	c.set("f-type", "urn:app-one:resources:photo")
	c.set("f-uris", "/photos/*")
	c.selectByText("f-scopes", "view")
	c.shot("console-authz-resource")
	c.submit("save")
	c.notice("Created.")
	c.click("authz-resources")
	c.waitFor("resources")
	if !strings.Contains(c.text("resources"), "photo") {
		t.Fatalf("resource list: %s", c.text("resources"))
	}
	c.shot("console-authz-resources")

	// A role policy on photographer.
	authz := client + "/authorization"
	c.open(authz + "/policies/new/role")
	c.set("f-name", "photographers")
	do(t, ctx, "choose the role", chromedp.Evaluate[chromedp.Void](`document.querySelector('input[aria-label="Select photographer"]').checked = true`))
	c.shot("console-authz-role-policy")
	c.submit("save")
	c.notice("Created.")

	// A resource permission: photo, decided by the role policy.
	c.open(authz + "/permissions/new/resource")
	c.set("f-name", "photo access")
	c.selectByText("f-resources", "photo")
	c.selectByText("f-policies", "photographers")
	c.submit("save")
	c.notice("Created.")
	c.click("authz-permissions")
	c.waitFor("permissions")
	c.shot("console-authz-permissions")

	// Evaluate: alice is granted photo, bob is not.
	for _, want := range []struct{ user, status string }{{"alice", "PERMIT"}, {"bob", "DENY"}} {
		c.click("authz-evaluate")
		c.waitFor("authz-evaluate-form")
		c.selectByText("f-clientId", "app-one")
		c.set("f-user", want.user)
		c.selectByText("f-resources", "photo")
		c.submit("evaluate")
		c.waitFor("evaluation-results")
		if got := c.text("overall-status"); got != want.status {
			t.Errorf("%s: %s\n%s", want.user, got, pageText(t, ctx))
		}
		if row := c.text("evaluation-results"); !strings.Contains(row, "photo access") || !strings.Contains(row, want.status) {
			t.Errorf("%s's results lack the permission's outcome:\n%s", want.user, row)
		}
		c.shot("console-authz-evaluate-" + want.user)
	}

	// Export: the settings as JSON, with the permission.
	c.click("authz-export")
	c.waitFor("export-json")
	if got := c.text("export-json"); !strings.Contains(got, `"photo access"`) {
		t.Errorf("export: %s", got)
	}
}

// The account console's Resources page: alice shares her album with bob
// by username and scope; bob, in his own browser, finds it under "Shared
// with me"; alice revokes it and it is gone from bob's page.
func TestAccountResourceSharing(t *testing.T) {
	ctx := newChromium(t)
	s := newStack(t)
	s.addBob(t)
	bg := context.Background()
	app, err := s.db.GetClientByClientID(bg, s.realm.ID, "app-one")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.db.GetUserByUsername(bg, s.realm.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// The realm lets users manage their resources (realm setting
	// userManagedAccessAllowed): without it there is no Resources page.
	if err := s.db.UpdateRealm(bg, s.realm.ID, func(r *realm.Realm) error { r.UserManagedAccessAllowed = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.db.PutResourceServer(bg, authz.ResourceServer{ID: app.ID, RealmID: s.realm.ID, PolicyEnforcementMode: authz.Enforcing,
		DecisionStrategy: authz.Unanimous}); err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, name := range []string{"view", "edit"} {
		sc, err := s.db.CreateScope(bg, authz.Scope{ServerID: app.ID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		scopes = append(scopes, sc.ID)
	}
	album, err := s.db.CreateResource(bg, authz.Resource{ServerID: app.ID, Name: "album", DisplayName: "Holiday album",
		ScopeIDs: scopes, Owner: alice.ID, OwnerManagedAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	page := s.gh.URL + "/realms/" + realmName + "/account/resources"

	do(t, ctx, "open the resources page", chromedp.Navigate(page))
	signIn(t, ctx, "alice", alicePassword)
	do(t, ctx, "alice's resources", chromedp.WaitVisible(chromedp.ID("resource-"+album.ID)))
	screenshot(t, ctx, "account-resources")
	do(t, ctx, "share with bob",
		chromedp.SendKeys(chromedp.ID("share-user-"+album.ID), "bob"),
		chromedp.Click(chromedp.ID("share-"+album.ID+"-view")),
		chromedp.Click(chromedp.ID("share-"+album.ID)),
		chromedp.WaitVisible(chromedp.ID("alert")))
	if got := text(t, ctx, "alert"); got != "The resource was shared." {
		t.Fatalf("after sharing: %q\n%s", got, pageText(t, ctx))
	}
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.holder[data-username="bob"] .holder-scopes') || {}).innerText || ""`)); got != "view" {
		t.Errorf("alice's page shows bob holding %q:\n%s", got, pageText(t, ctx))
	}
	screenshot(t, ctx, "account-resources-shared")

	bobCtx := newChromium(t)
	do(t, bobCtx, "bob opens the resources page", chromedp.Navigate(page))
	signIn(t, bobCtx, "bob", "bob-browser-pw")
	do(t, bobCtx, "shared with bob", chromedp.WaitVisible(chromedp.ID("shared-"+album.ID)))
	if got := text(t, bobCtx, "shared-"+album.ID); !strings.Contains(got, "Holiday album") || !strings.Contains(got, "view") || strings.Contains(got, "edit") {
		t.Errorf("bob's shared resource: %q", got)
	}
	screenshot(t, bobCtx, "account-resources-shared-with-me")

	// alice revokes; bob's page has nothing shared any more.
	do(t, ctx, "revoke",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('button[aria-label="Stop sharing Holiday album with bob"]').click()`))
	waitText(t, ctx, "alert", "The access was revoked.")
	do(t, bobCtx, "bob reloads", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("nothing-shared")))
}

// waitText waits for the element with the given id to show want (the page
// after a form may take a moment to replace the one before).
func waitText(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById(`+quoteJS(id)+`) || {}).innerText || ""`))
		if strings.TrimSpace(got) == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("#%s shows %q, want %q\n%s", id, got, want, pageText(t, ctx))
}
