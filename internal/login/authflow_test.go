package login_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Flows built by hand for these tests, as an administrator would through
// the admin console: executions of Keycloak's authenticators.

func step(id, authenticator, requirement string, prio int) flow.Execution {
	return flow.Execution{ID: id, Authenticator: authenticator, Requirement: requirement, Priority: prio}
}

func stepConfig(id, authenticator, requirement string, prio int, config string) flow.Execution {
	e := step(id, authenticator, requirement, prio)
	e.AuthenticatorConfig = config
	return e
}

func subFlow(id, alias, requirement string, prio int) flow.Execution {
	return flow.Execution{ID: id, AuthenticatorFlow: true, FlowAlias: alias, Requirement: requirement, Priority: prio}
}

func topFlow(alias string, execs ...flow.Execution) flow.Flow {
	return flow.Flow{ID: "flow-" + strings.ReplaceAll(alias, " ", "-"), Alias: alias, ProviderID: flow.BasicFlow, TopLevel: true, Executions: execs}
}

func innerFlow(alias string, execs ...flow.Execution) flow.Flow {
	f := topFlow(alias, execs...)
	f.TopLevel = false
	return f
}

// editFlows changes the realm's authentication model in the store.
func (e *env) editFlows(edit func(*flow.Config)) {
	e.t.Helper()
	if err := e.db.UpdateAuthConfig(context.Background(), e.realm.ID, func(c *flow.Config) error { edit(c); return nil }); err != nil {
		e.t.Fatal(err)
	}
}

// bindBrowser adds flows and binds the first as the realm's browser flow.
func (e *env) bindBrowser(flows ...flow.Flow) {
	e.editFlows(func(c *flow.Config) {
		c.Flows = append(c.Flows, flows...)
		c.Bindings.Browser = flows[0].Alias
	})
}

// cookieThenForms is a browser flow like Keycloak's: the SSO cookie, or
// the forms sub-flow.
func cookieThenForms(alias, forms string) flow.Flow {
	return topFlow(alias,
		step(alias+"-cookie", "auth-cookie", flow.Alternative, 10),
		step(alias+"-idp", "identity-provider-redirector", flow.Alternative, 25),
		subFlow(alias+"-forms", forms, flow.Alternative, 30))
}

// postForm submits page's form with fields.
func (e *env) postForm(b *browser, page response, fields map[string]string) response {
	e.t.Helper()
	action, hidden := e.form(page)
	for k, v := range fields {
		hidden.Set(k, v)
	}
	return b.post(action, hidden)
}

// codeOf returns the code of an authorization response and what it holds.
func (e *env) acrOf(res response) string {
	e.t.Helper()
	if res.status != http.StatusFound {
		e.t.Fatalf("want a redirect with a code, got %d %s", res.status, res.body)
	}
	code := res.location(e.t).Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", res.header.Get("Location"))
	}
	_, data := e.codeData(code)
	return data.ACR
}

func (e *env) addRealmRole(name string, users ...string) {
	e.t.Helper()
	ctx := context.Background()
	r := role.Role{ID: store.NewID(), RealmID: e.realm.ID, Name: name}
	if err := e.db.CreateRole(ctx, r); err != nil {
		e.t.Fatal(err)
	}
	for _, u := range users {
		if err := e.db.AddUserRoles(ctx, e.user(u).ID, r.ID); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestFlowDefaultBrowserLogin(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		b := e.browser()
		page := b.get(e.codeRequest(nil))
		if page.status != http.StatusOK || !strings.Contains(page.body, `name="password"`) {
			t.Fatalf("login page: %d %s", page.status, page.body)
		}
		if acr := e.acrOf(e.login(b, page, "alice", alicePassword)); acr != "1" {
			t.Errorf("acr after the form = %q, want 1", acr)
		}
		if acr := e.acrOf(b.get(e.codeRequest(nil))); acr != "0" {
			t.Errorf("acr through the SSO cookie = %q, want 0", acr)
		}
		// No identity providers: a kc_idp_hint steps aside for the form.
		if res := e.browser().get(e.codeRequest(map[string]string{"kc_idp_hint": "google"})); res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) {
			t.Errorf("kc_idp_hint without identity providers: %d %s", res.status, res.body)
		}
	})
}

func TestFlowRequirements(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.bindBrowser(cookieThenForms("custom", "custom forms"), innerFlow("custom forms",
			step("upf", "auth-username-password-form", flow.Required, 10),
			step("again", "auth-password-form", flow.Disabled, 20)))

		// The DISABLED password form is not run: one page.
		b := e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("one page login: %d %s", res.status, res.body)
		}

		// REQUIRED, it asks the password a second time.
		e.editFlows(func(c *flow.Config) {
			for i := range c.Flows {
				if c.Flows[i].Alias == "custom forms" {
					c.Flows[i].Executions[1].Requirement = flow.Required
				}
			}
		})
		b = e.browser()
		res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword)
		if res.status != http.StatusOK || !strings.Contains(res.body, `id="kc-attempted-username">alice<`) || strings.Contains(res.body, `name="username"`) {
			t.Fatalf("second page: %d %s", res.status, res.body)
		}
		if res := e.postForm(b, res, map[string]string{"password": alicePassword}); res.status != http.StatusFound {
			t.Fatalf("two step login: %d %s", res.status, res.body)
		}

		// An ALTERNATIVE beside a REQUIRED one is ignored, as in Keycloak:
		// the deny step never runs.
		e.editFlows(func(c *flow.Config) {
			for i := range c.Flows {
				if c.Flows[i].Alias == "custom forms" {
					c.Flows[i].Executions[1] = step("deny", "deny-access-authenticator", flow.Alternative, 20)
				}
			}
		})
		b = e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("alternative beside required: %d %s", res.status, res.body)
		}
	})
}

func TestFlowUsernameThenPassword(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, func(r *realm.Realm) { r.EventsEnabled = true })
		e.bindBrowser(cookieThenForms("two pages", "two page forms"), innerFlow("two page forms",
			step("uf", "auth-username-form", flow.Required, 10),
			step("pf", "auth-password-form", flow.Required, 20)))

		b := e.browser()
		page := b.get(e.codeRequest(map[string]string{"login_hint": "al"}))
		if page.status != http.StatusOK || !strings.Contains(page.body, `name="username"`) || strings.Contains(page.body, `name="password"`) ||
			!strings.Contains(page.body, `value="al"`) {
			t.Fatalf("username page: %d %s", page.status, page.body)
		}
		action, _ := e.form(page)
		if !strings.Contains(action, "&execution=uf") {
			t.Errorf("form action %s does not name its execution", action)
		}

		res := e.postForm(b, page, map[string]string{"username": "nobody"})
		if res.status != http.StatusOK || !strings.Contains(res.body, "Invalid username.") {
			t.Fatalf("unknown username: %d %s", res.status, res.body)
		}
		res = e.postForm(b, res, map[string]string{"username": "alice"})
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) || !strings.Contains(res.body, `id="reset-login"`) {
			t.Fatalf("password page: %d %s", res.status, res.body)
		}
		wrong := e.postForm(b, res, map[string]string{"password": "wrong"})
		if wrong.status != http.StatusOK || !strings.Contains(wrong.body, "Invalid password.") {
			t.Fatalf("wrong password: %d %s", wrong.status, wrong.body)
		}
		evs := e.takeEvents()
		if len(evs) != 2 || evs[0].Error != "user_not_found" || evs[1].Error != "invalid_user_credentials" || evs[1].UserID != e.user("alice").ID {
			t.Errorf("events: %+v", evs)
		}

		// Restart login: back to the username page, the user forgotten.
		m := strings.Split(strings.Split(wrong.body, `id="reset-login" href="`)[1], `"`)[0]
		restart := b.get(e.srv.URL + strings.ReplaceAll(m, "&amp;", "&"))
		if restart.status != http.StatusOK || !strings.Contains(restart.body, `name="username"`) || strings.Contains(restart.body, `name="password"`) {
			t.Fatalf("restart: %d %s", restart.status, restart.body)
		}
		res = e.postForm(b, restart, map[string]string{"username": "alice"})
		if res = e.postForm(b, res, map[string]string{"password": alicePassword}); res.status != http.StatusFound {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
	})
}

func TestFlowConditionalUserRole(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.addUser("bob", "bob-secret-pw", nil)
		e.addRealmRole("contractor", "bob")
		e.editFlows(func(c *flow.Config) {
			c.Configs = append(c.Configs, flow.AuthenticatorConfig{ID: "cfg-role", Alias: "contractors",
				Config: map[string]string{"condUserRole": "contractor"}})
		})
		// A copy of the browser flow whose conditional sub-flow asks the
		// password again of contractors only.
		e.bindBrowser(cookieThenForms("role browser", "role forms"),
			innerFlow("role forms",
				step("upf", "auth-username-password-form", flow.Required, 10),
				subFlow("extra", "contractor check", flow.Conditional, 20)),
			innerFlow("contractor check",
				stepConfig("cond", "conditional-user-role", flow.Required, 10, "contractors"),
				step("again", "auth-password-form", flow.Required, 20)))

		b := e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusFound {
			t.Fatalf("alice (no role) is not asked more: %d %s", res.status, res.body)
		}
		b = e.browser()
		res := e.login(b, b.get(e.codeRequest(nil)), "bob", "bob-secret-pw")
		if res.status != http.StatusOK || !strings.Contains(res.body, `id="kc-attempted-username">bob<`) {
			t.Fatalf("bob (contractor) gets the sub-flow: %d %s", res.status, res.body)
		}
		if res = e.postForm(b, res, map[string]string{"password": "bob-secret-pw"}); res.status != http.StatusFound {
			t.Fatalf("bob: %d %s", res.status, res.body)
		}

		// negate: the sub-flow applies to everyone without the role.
		e.editFlows(func(c *flow.Config) {
			c.Configs[len(c.Configs)-1].Config["negate"] = "true"
		})
		b = e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "bob", "bob-secret-pw"); res.status != http.StatusFound {
			t.Fatalf("negated: bob passes: %d %s", res.status, res.body)
		}
		b = e.browser()
		if res := e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword); res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) {
			t.Fatalf("negated: alice is asked again: %d %s", res.status, res.body)
		}
	})
}

func TestFlowDenyAccess(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{}, func(r *realm.Realm) { r.EventsEnabled = true })
		e.bindBrowser(topFlow("denied", step("deny", "deny-access-authenticator", flow.Required, 10)))
		b := e.browser()
		res := b.get(e.codeRequest(nil))
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Access denied") {
			t.Fatalf("deny: %d %s", res.status, res.body)
		}
		if evs := e.takeEvents(); len(evs) != 1 || evs[0].Error != "access_denied" {
			t.Errorf("events: %+v", evs)
		}
		// A configured message.
		e.editFlows(func(c *flow.Config) {
			c.Configs = append(c.Configs, flow.AuthenticatorConfig{ID: "cfg-deny", Alias: "deny msg", Config: map[string]string{"denyErrorMessage": "Not today"}})
			for i := range c.Flows {
				if c.Flows[i].Alias == "denied" {
					c.Flows[i].Executions[0].AuthenticatorConfig = "deny msg"
				}
			}
		})
		if res := e.browser().get(e.codeRequest(nil)); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Not today") {
			t.Fatalf("deny with message: %d %s", res.status, res.body)
		}
	})
}

func TestFlowUnknownAuthenticatorRefused(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.bindBrowser(cookieThenForms("broken", "broken forms"), innerFlow("broken forms",
			step("upf", "auth-username-password-form", flow.Required, 10),
			step("x", "no-such-authenticator", flow.Required, 20)))
		res := e.browser().get(e.codeRequest(nil))
		if res.status != http.StatusInternalServerError || !strings.Contains(res.body, "Login is not possible") || strings.Contains(res.body, "no-such-authenticator") {
			t.Fatalf("unknown authenticator: %d %s", res.status, res.body)
		}
		// DISABLED, it is never looked at.
		e.editFlows(func(c *flow.Config) {
			for i := range c.Flows {
				if c.Flows[i].Alias == "broken forms" {
					c.Flows[i].Executions[1].Requirement = flow.Disabled
				}
			}
		})
		if res := e.browser().get(e.codeRequest(nil)); res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) {
			t.Fatalf("disabled unknown authenticator: %d %s", res.status, res.body)
		}
	})
}

func TestFlowClientOverride(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.editFlows(func(c *flow.Config) {
			c.Flows = append(c.Flows, topFlow("kiosk", step("deny", "deny-access-authenticator", flow.Required, 10)))
		})
		e.addClient("kiosk", func(c *client.Client) {
			c.PublicClient = true
			c.RedirectURIs = []string{"https://kiosk.example/cb"}
			c.AuthFlowOverrides = map[string]string{"browser": "flow-kiosk"}
		})
		res := e.browser().get(e.authURL(map[string]string{"client_id": "kiosk", "redirect_uri": "https://kiosk.example/cb", "response_type": "code", "scope": "openid"}))
		if res.status != http.StatusUnauthorized {
			t.Fatalf("kiosk's override: %d %s", res.status, res.body)
		}
		if res := e.browser().get(e.codeRequest(nil)); res.status != http.StatusOK {
			t.Fatalf("app keeps the realm's flow: %d", res.status)
		}
	})
}

func TestFlowStepUpWithACRValues(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		ctx := context.Background()
		app := e.client("app")
		app.Attributes["acr.loa.map"] = `{"silver":1,"gold":2}`
		if err := e.db.UpdateClient(ctx, e.realm.ID, app.ID, func(c *client.Client) error { c.Attributes = app.Attributes; return nil }); err != nil {
			t.Fatal(err)
		}
		e.editFlows(func(c *flow.Config) {
			c.Configs = append(c.Configs,
				flow.AuthenticatorConfig{ID: "cfg-l1", Alias: "level1", Config: map[string]string{"loa-condition-level": "1", "loa-max-age": "36000"}},
				flow.AuthenticatorConfig{ID: "cfg-l2", Alias: "level2", Config: map[string]string{"loa-condition-level": "2", "loa-max-age": "300"}})
		})
		e.bindBrowser(cookieThenForms("stepup", "stepup forms"),
			innerFlow("stepup forms",
				subFlow("l1", "first factor", flow.Conditional, 10),
				subFlow("l2", "second factor", flow.Conditional, 20)),
			innerFlow("first factor",
				stepConfig("c1", "conditional-level-of-authentication", flow.Required, 10, "level1"),
				step("upf", "auth-username-password-form", flow.Required, 20)),
			innerFlow("second factor",
				stepConfig("c2", "conditional-level-of-authentication", flow.Required, 10, "level2"),
				step("pf", "auth-password-form", flow.Required, 20)))

		// Discovery lists the levels the browser flow grants.
		disc, err := http.Get(e.url("/.well-known/openid-configuration"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ACR []string `json:"acr_values_supported"`
		}
		json.NewDecoder(disc.Body).Decode(&doc)
		disc.Body.Close()
		if strings.Join(doc.ACR, " ") != "1 2" {
			t.Errorf("acr_values_supported = %v, want [1 2]", doc.ACR)
		}

		b := e.browser()
		if acr := e.acrOf(e.login(b, b.get(e.codeRequest(nil)), "alice", alicePassword)); acr != "silver" {
			t.Errorf("first login acr = %q, want silver", acr)
		}
		if acr := e.acrOf(b.get(e.codeRequest(map[string]string{"acr_values": "silver"}))); acr != "silver" {
			t.Errorf("SSO at the level reached: acr = %q, want silver", acr)
		}
		// gold: the session's user must pass the second factor.
		res := b.get(e.codeRequest(map[string]string{"acr_values": "gold"}))
		if res.status != http.StatusOK || !strings.Contains(res.body, `id="kc-attempted-username">alice<`) {
			t.Fatalf("step-up page: %d %s", res.status, res.body)
		}
		if acr := e.acrOf(e.postForm(b, res, map[string]string{"password": alicePassword})); acr != "gold" {
			t.Errorf("after step-up acr = %q, want gold", acr)
		}
		if acr := e.acrOf(b.get(e.codeRequest(map[string]string{"acr_values": "gold"}))); acr != "gold" {
			t.Errorf("SSO after step-up: acr = %q, want gold", acr)
		}
		// Tokens, and refreshed tokens, carry the level reached.
		code := b.get(e.codeRequest(map[string]string{"acr_values": "gold"})).location(t).Query().Get("code")
		tokens := e.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"}})
		if acr := claimOf(t, tokens["access_token"], "acr"); acr != "gold" {
			t.Errorf("access token acr = %v, want gold", acr)
		}
		refreshed := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)}})
		if acr := claimOf(t, refreshed["access_token"], "acr"); acr != "gold" {
			t.Errorf("refreshed access token acr = %v, want gold", acr)
		}
		// Past loa-max-age of level 2, gold asks again.
		e.clock.Add(301 * time.Second)
		if res := b.get(e.codeRequest(map[string]string{"acr_values": "gold"})); res.status != http.StatusOK {
			t.Fatalf("level 2 expired: %d %s", res.status, res.body)
		}
		// An essential acr claim a login cannot reach is refused.
		claims, _ := json.Marshal(map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true, "values": []string{"3"}}}})
		res = e.browser().get(e.codeRequest(map[string]string{"claims": string(claims)}))
		res = e.login(e.browser(), res, "alice", alicePassword)
		if res.status == http.StatusFound {
			t.Fatalf("essential level 3 reached nowhere, yet logged in")
		}
	})
}

// TestFlowStateAcrossNodes: a login started on one node finishes on
// another sharing the database; each page may land anywhere.
func TestFlowStateAcrossNodes(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.bindBrowser(cookieThenForms("two pages", "two page forms"), innerFlow("two page forms",
			step("uf", "auth-username-form", flow.Required, 10),
			step("pf", "auth-password-form", flow.Required, 20)))
		other := httptest.NewServer(server.New(server.Options{Store: e.db, Now: e.clock.Now, Log: slog.New(slog.DiscardHandler)}))
		t.Cleanup(other.Close)
		onOther := func(u string) string { return strings.Replace(u, e.srv.URL, other.URL, 1) }

		b := e.browser()
		page := b.get(e.codeRequest(nil))
		action, fields := e.form(page)
		fields.Set("username", "alice")
		res := b.post(onOther(action), fields)
		if res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) {
			t.Fatalf("username on the other node: %d %s", res.status, res.body)
		}
		action, fields = e.form(res)
		fields.Set("password", alicePassword)
		if res := b.post(strings.Replace(action, other.URL, e.srv.URL, 1), fields); res.status != http.StatusFound {
			t.Fatalf("password back on the first node: %d %s", res.status, res.body)
		}
	})
}

func TestDirectGrantFlow(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		ctx := context.Background()
		app := e.client("app")
		if err := e.db.UpdateClient(ctx, e.realm.ID, app.ID, func(c *client.Client) error { c.DirectAccessGrantsEnabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		grant := func(username, password string) (int, map[string]any) {
			form := url.Values{"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {appSecret}, "username": {username}, "password": {password}}
			res, err := http.PostForm(e.url("/protocol/openid-connect/token"), form)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body map[string]any
			json.NewDecoder(res.Body).Decode(&body)
			return res.StatusCode, body
		}
		if code, body := grant("alice", alicePassword); code != http.StatusOK || body["access_token"] == nil {
			t.Fatalf("default direct grant flow: %d %v", code, body)
		}
		if code, body := grant("alice", "wrong"); code != http.StatusUnauthorized || body["error"] != "invalid_grant" || body["error_description"] != "Invalid user credentials" {
			t.Fatalf("wrong password: %d %v", code, body)
		}
		if code, body := grant("", "x"); code != http.StatusUnauthorized || body["error"] != "invalid_request" || body["error_description"] != "Missing parameter: username" {
			t.Fatalf("no username: %d %v", code, body)
		}

		// The client's direct_grant override.
		e.editFlows(func(c *flow.Config) {
			c.Flows = append(c.Flows, topFlow("no grants", step("deny", "deny-access-authenticator", flow.Required, 10)))
		})
		if err := e.db.UpdateClient(ctx, e.realm.ID, app.ID, func(c *client.Client) error {
			c.AuthFlowOverrides = map[string]string{"direct_grant": "flow-no-grants"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if code, body := grant("alice", alicePassword); code != http.StatusUnauthorized || body["error"] != "access_denied" {
			t.Fatalf("override denies: %d %v", code, body)
		}

		// A flow naming an unknown authenticator refuses with a generic
		// error; the authenticator's name is for the log only.
		e.editFlows(func(c *flow.Config) {
			for i := range c.Flows {
				if c.Flows[i].Alias == "no grants" {
					c.Flows[i].Executions[0].Authenticator = "no-such-authenticator"
				}
			}
		})
		code, body := grant("alice", alicePassword)
		if code != http.StatusInternalServerError || body["error"] != "unknown_error" || strings.Contains(fmt.Sprint(body), "no-such-authenticator") {
			t.Fatalf("unknown authenticator: %d %v", code, body)
		}
	})
}

// TestUserSessionLimits: the realm limit with "Terminate oldest session"
// logs the oldest session out; with "Deny new session" the login is
// refused.
func TestUserSessionLimits(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.editFlows(func(c *flow.Config) {
			c.Configs = append(c.Configs, flow.AuthenticatorConfig{ID: "cfg-limit", Alias: "limit",
				Config: map[string]string{"userRealmLimit": "1", "behavior": "Terminate oldest session"}})
		})
		e.bindBrowser(cookieThenForms("limited", "limited forms"), innerFlow("limited forms",
			step("upf", "auth-username-password-form", flow.Required, 10),
			stepConfig("lim", "user-session-limits", flow.Required, 20, "limit")))
		b1 := e.browser()
		first := e.login(b1, b1.get(e.codeRequest(nil)), "alice", alicePassword).location(t).Query().Get("session_state")
		e.clock.Add(time.Second)
		b2 := e.browser()
		second := e.login(b2, b2.get(e.codeRequest(nil)), "alice", alicePassword).location(t).Query().Get("session_state")
		ss := e.sessions("alice")
		if len(ss) != 1 || ss[0].ID != second || first == second {
			t.Fatalf("sessions after the second login: %+v", ss)
		}
		// SSO in the same browser creates no session and is not limited.
		if res := b2.get(e.codeRequest(nil)); res.status != http.StatusFound {
			t.Fatalf("SSO: %d", res.status)
		}
		e.editFlows(func(c *flow.Config) { c.Configs[len(c.Configs)-1].Config["behavior"] = "Deny new session" })
		b3 := e.browser()
		res := e.login(b3, b3.get(e.codeRequest(nil)), "alice", alicePassword)
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "There are too many sessions") {
			t.Fatalf("deny new session: %d %s", res.status, res.body)
		}
	})
}

// tokenRequest posts to the token endpoint as client app.
func (e *env) tokenRequest(form url.Values) map[string]any {
	e.t.Helper()
	form.Set("client_id", "app")
	form.Set("client_secret", appSecret)
	res, err := http.PostForm(e.url("/protocol/openid-connect/token"), form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("token request: %d %v %v", res.StatusCode, body, err)
	}
	return body
}

// claimOf reads a claim of a JWT's payload (the signature is the token
// endpoint's tests' business).
func claimOf(t *testing.T, jwt any, name string) any {
	t.Helper()
	s, _ := jwt.(string)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %v", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims[name]
}

// A browser flow that cannot run shows a generic error page: the flow's
// alias and authenticator names stay in the server's log.
func TestFlowNotRunnablePageIsGeneric(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.bindBrowser(topFlow("secret browser flow", step("x1", "secret-authenticator", flow.Required, 10)))
		page := e.browser().get(e.codeRequest(nil))
		if page.status != http.StatusInternalServerError {
			t.Fatalf("broken browser flow: %d %s", page.status, page.body)
		}
		if strings.Contains(page.body, "secret") {
			t.Errorf("the error page names the flow's parts: %s", page.body)
		}
	})
}
