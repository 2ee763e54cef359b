package account_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// addProviders gives the realm a set of identity providers: corp (OIDC,
// display order 1), github (social, order 2), later (shown once linked),
// hidden (never shown) and off (disabled).
func (e *env) addProviders() {
	e.t.Helper()
	ctx := context.Background()
	mk := func(alias, kind string, edit func(*idp.Provider)) {
		p := idp.New(alias, kind)
		p.Config = map[string]string{"clientId": "c-" + alias, "clientSecret": "s-" + alias}
		if kind == "oidc" {
			p.Config["authorizationUrl"] = "https://idp.example.com/auth"
			p.Config["tokenUrl"] = "https://idp.example.com/token"
		}
		if edit != nil {
			edit(&p)
		}
		if _, err := e.db.CreateIdentityProvider(ctx, e.realm.ID, p); err != nil {
			e.t.Fatalf("provider %s: %v", alias, err)
		}
	}
	mk("corp", "oidc", func(p *idp.Provider) { p.DisplayName = "Corporate"; p.Config["guiOrder"] = "1" })
	mk("github", "github", func(p *idp.Provider) { p.Config["guiOrder"] = "2" })
	mk("later", "oidc", func(p *idp.Provider) { p.Config["showInAccountConsole"] = "WHEN_LINKED" })
	mk("hidden", "oidc", func(p *idp.Provider) { p.Config["showInAccountConsole"] = "NEVER" })
	mk("off", "oidc", func(p *idp.Provider) { p.Enabled = false })
}

func (e *env) link(userID, alias, federatedID, username string) {
	e.t.Helper()
	err := e.db.AddFederatedIdentity(context.Background(), e.realm.ID, idp.FederatedIdentity{UserID: userID, Alias: alias,
		FederatedUserID: federatedID, FederatedUsername: username})
	if err != nil {
		e.t.Fatalf("link %s to %s: %v", userID, alias, err)
	}
}

func (e *env) links(userID string) []string {
	e.t.Helper()
	fs, err := e.db.ListFederatedIdentities(context.Background(), e.realm.ID, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.Alias)
	}
	return out
}

// removePassword leaves u with no password.
func (e *env) removePassword(userID string) {
	e.t.Helper()
	if err := e.db.DeleteCredentialsOfType(context.Background(), userID, user.CredentialPassword); err != nil {
		e.t.Fatal(err)
	}
}

// The account API's linked accounts: Keycloak's representation and order,
// the filters, the link URI bound to the caller's session, and unlinking,
// which refuses the last way to sign in. On both databases.
func TestLinkedAccountsAPI(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open)
		e.updateRealm(func(r *realm.Realm) { r.EventsEnabled = true })
		e.addProviders()
		e.link(user1ID, "github", "gh-1", "octocat")
		e.link(user1ID, "later", "l-1", "later-user")
		tok := e.login("user1", "password", "openid")
		at := tok["access_token"].(string)

		st, _, body := e.call("GET", "/account/linked-accounts", at, nil)
		if st != 200 {
			t.Fatalf("list: %d %s", st, body)
		}
		var all []map[string]any
		json.Unmarshal(body, &all)
		var aliases []string
		for _, a := range all {
			aliases = append(aliases, a["providerAlias"].(string))
			if _, ok := a["guiOrder"]; ok {
				t.Errorf("guiOrder is not part of Keycloak's representation: %v", a)
			}
		}
		if strings.Join(aliases, ",") != "corp,github,later" {
			t.Fatalf("providers listed (by display order, hidden and disabled ones left out): %v\n%s", aliases, body)
		}
		if a := all[1]; a["connected"] != true || a["social"] != true || a["displayName"] != "GitHub" ||
			a["linkedUsername"] != "octocat" || a["providerName"] != "github" {
			t.Errorf("github: %v", a)
		}
		if a := all[0]; a["connected"] != false || a["social"] != false || a["displayName"] != "Corporate" {
			t.Errorf("corp: %v", a)
		} else if _, ok := a["linkedUsername"]; ok {
			t.Errorf("an unlinked provider has a linkedUsername: %v", a)
		}

		names := func(q string) string {
			var as []map[string]any
			e.get("/account/linked-accounts?"+q, at, &as)
			var out []string
			for _, a := range as {
				out = append(out, a["providerAlias"].(string))
			}
			return strings.Join(out, ",")
		}
		for q, want := range map[string]string{
			"linked=true":                 "github,later",
			"linked=false":                "corp",
			"linked=true&search=git":      "github",
			"linked=true&search=*ate*":    "later",
			`linked=true&search="GitHub"`: "github",
			"linked=true&first=1&max=1":   "later",
		} {
			if got := names(q); got != want {
				t.Errorf("%s: %q, want %q", q, got, want)
			}
		}

		// The link URI goes to the broker's link endpoint, bound by its hash
		// to the session the token belongs to.
		redirect := "https://app.example.com/after?x=1"
		var lk struct{ AccountLinkURI, Nonce, Hash string }
		e.get("/account/linked-accounts/corp?providerId=oidc&redirectUri="+url.QueryEscape(redirect), at, &lk)
		u, err := url.Parse(lk.AccountLinkURI)
		if err != nil || u.Scheme+"://"+u.Host+u.Path != e.url("/broker/corp/link") {
			t.Fatalf("accountLinkUri %q", lk.AccountLinkURI)
		}
		q := u.Query()
		sid := tok["session_state"].(string)
		if q.Get("client_id") != "account-console" || q.Get("redirect_uri") != redirect || q.Get("nonce") != lk.Nonce ||
			q.Get("hash") != lk.Hash || lk.Nonce == "" || !idp.LinkHashValid(lk.Hash, lk.Nonce, sid, "account-console", "corp") {
			t.Errorf("link %+v for session %s", lk, sid)
		}
		var again struct{ Nonce string }
		e.get("/account/linked-accounts/corp?redirectUri=x", at, &again)
		if again.Nonce == lk.Nonce {
			t.Error("the nonce is reused")
		}

		refusals := []struct {
			name, method, path string
			status             int
			msg                string
		}{
			{"unknown provider", "GET", "/account/linked-accounts/nope?redirectUri=x", 400, "identityProviderNotFoundMessage"},
			{"unknown provider", "DELETE", "/account/linked-accounts/nope", 400, "identityProviderNotFoundMessage"},
			{"no redirect", "GET", "/account/linked-accounts/corp", 400, "invalidRedirectUriMessage"},
			{"not linked", "DELETE", "/account/linked-accounts/corp", 400, "This identity is not active anymore."},
		}
		for _, c := range refusals {
			st, _, b := e.call(c.method, c.path, at, nil)
			var m map[string]string
			json.Unmarshal(b, &m)
			if st != c.status || m["errorMessage"] != c.msg {
				t.Errorf("%s: %d %s", c.name, st, b)
			}
		}

		// user1 has a password: unlinking github leaves it, and is an event.
		if st, _, b := e.call("DELETE", "/account/linked-accounts/github", at, nil); st != 204 {
			t.Fatalf("unlink: %d %s", st, b)
		}
		if got := e.links(user1ID); len(got) != 1 || got[0] != "later" {
			t.Errorf("links after unlink: %v", got)
		}
		evs, err := e.db.ListEvents(context.Background(), e.realm.ID, store.EventQuery{Types: []string{"REMOVE_FEDERATED_IDENTITY"}, Max: -1})
		if err != nil || len(evs) != 1 || evs[0].Details["identity_provider"] != "github" || evs[0].Details["identity_provider_identity"] != "octocat" {
			t.Errorf("events: %v %+v", err, evs)
		}

		// A user without a password keeps the last link.
		nopw := e.newUser("social-only", "manage-account")
		ntok := e.login("social-only", "pw-social-only", "openid")["access_token"].(string)
		e.removePassword(nopw.ID)
		e.link(nopw.ID, "github", "gh-2", "social")
		e.link(nopw.ID, "corp", "c-2", "social@corp")
		if st, _, b := e.call("DELETE", "/account/linked-accounts/corp", ntok, nil); st != 204 {
			t.Fatalf("unlink one of two: %d %s", st, b)
		}
		st, _, b := e.call("DELETE", "/account/linked-accounts/github", ntok, nil)
		var m map[string]string
		json.Unmarshal(b, &m)
		if st != 400 || m["errorMessage"] != "You can't remove last federated identity as you don't have a password." {
			t.Errorf("unlink the last: %d %s", st, b)
		}
		if got := e.links(nopw.ID); len(got) != 1 {
			t.Errorf("links after refusal: %v", got)
		}

		// Linking and unlinking need manage-account; listing view-profile.
		viewer := e.newUser("viewer", "view-profile")
		vtok := e.login("viewer", "pw-viewer", "openid")["access_token"].(string)
		e.link(viewer.ID, "github", "gh-3", "viewer")
		if st, _, _ := e.call("GET", "/account/linked-accounts", vtok, nil); st != 200 {
			t.Errorf("viewer list: %d", st)
		}
		for _, c := range []struct{ method, path string }{{"DELETE", "/account/linked-accounts/github"}, {"GET", "/account/linked-accounts/github?redirectUri=x"}} {
			if st, _, _ := e.call(c.method, c.path, vtok, nil); st != http.StatusForbidden {
				t.Errorf("viewer %s %s: %d", c.method, c.path, st)
			}
		}
		if got := e.links(viewer.ID); len(got) != 1 {
			t.Errorf("viewer's links: %v", got)
		}
	})
}

var linkHref = regexp.MustCompile(`id="link-corp" href="([^"]+)"`)

// The console's linked accounts page lists the providers, links through
// the broker with a hash bound to the browser's SSO session, and unlinks,
// refusing the last way to sign in.
func TestConsoleLinkedAccounts(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open)
		e.addProviders()
		e.link(user1ID, "github", "gh-1", "octocat")
		b := e.browser()
		b.signIn("user1", "password")
		const path = "/realms/ldap-demo/account/account-security/linked-accounts"
		resp, page := b.do("GET", path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("page: %d\n%s", resp.StatusCode, page)
		}
		for _, w := range []string{`id="nav-linked-accounts"`, "Linked login providers", `id="linked-github"`, "Linked as octocat",
			`id="unlink-github"`, `id="unlinked-corp"`, "Corporate", "Social login"} {
			if !strings.Contains(page, w) {
				t.Errorf("page lacks %q", w)
			}
		}
		for _, no := range []string{`id="unlinked-hidden"`, `id="linked-hidden"`, `id="unlinked-off"`, `id="unlinked-later"`, "s-github"} {
			if strings.Contains(page, no) {
				t.Errorf("page shows %q", no)
			}
		}
		m := linkHref.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no link for corp:\n%s", page)
		}
		u, _ := url.Parse(html.UnescapeString(m[1]))
		q := u.Query()
		ss, err := e.db.ListUserSessions(context.Background(), e.realm.ID, user1ID, false)
		if err != nil || len(ss) != 1 {
			t.Fatalf("sessions: %v %d", err, len(ss))
		}
		if u.Path != "/realms/ldap-demo/broker/corp/link" || q.Get("client_id") != "account-console" ||
			q.Get("redirect_uri") != e.url("/account/account-security/linked-accounts") ||
			!idp.LinkHashValid(q.Get("hash"), q.Get("nonce"), ss[0].ID, "account-console", "corp") {
			t.Errorf("link %s (session %s)", u, ss[0].ID)
		}

		csrf := csrfField.FindStringSubmatch(page)[1]
		resp, _ = b.post("linked-accounts/unlink", csrf, url.Values{"provider": {"github"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/account-security/linked-accounts?done=unlinked") {
			t.Fatalf("unlink: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got := e.links(user1ID); len(got) != 0 {
			t.Errorf("links after unlink: %v", got)
		}
		_, page = b.do("GET", path+"?done=unlinked", nil)
		if !strings.Contains(page, "The account was unlinked.") || !strings.Contains(page, "You have not linked any login provider.") {
			t.Errorf("after unlink:\n%s", page)
		}

		// Without a password, the last link stays, with the reason shown.
		e.link(user1ID, "corp", "c-1", "user1@corp")
		e.removePassword(user1ID)
		resp, page = b.post("linked-accounts/unlink", csrf, url.Values{"provider": {"corp"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "You can&#39;t remove last federated identity as you don&#39;t have a password.") {
			t.Errorf("unlink last: %d\n%s", resp.StatusCode, page)
		}
		if got := e.links(user1ID); len(got) != 1 {
			t.Errorf("links after refusal: %v", got)
		}
		// A forged form (no CSRF token) does nothing.
		if resp, _ := b.post("linked-accounts/unlink", "", url.Values{"provider": {"corp"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("unlink without CSRF: %d", resp.StatusCode)
		}

		// A user who may only view the profile sees the links, no button.
		viewer := e.newUser("viewer", "view-profile")
		e.link(viewer.ID, "github", "gh-3", "viewer-gh")
		vb := e.browser()
		vcsrf := vb.signIn("viewer", "pw-viewer")
		_, page = vb.do("GET", path, nil)
		if !strings.Contains(page, "Linked as viewer-gh") || strings.Contains(page, `id="unlink-github"`) || strings.Contains(page, `id="link-corp"`) {
			t.Errorf("viewer's page:\n%s", page)
		}
		if resp, _ := vb.post("linked-accounts/unlink", vcsrf, url.Values{"provider": {"github"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer unlink: %d", resp.StatusCode)
		}
		if got := e.links(viewer.ID); len(got) != 1 {
			t.Errorf("viewer's links: %v", got)
		}
	})
}
