package admin_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

type execInfo struct {
	ID                   string   `json:"id"`
	Requirement          string   `json:"requirement"`
	DisplayName          string   `json:"displayName"`
	Alias                string   `json:"alias"`
	RequirementChoices   []string `json:"requirementChoices"`
	Configurable         bool     `json:"configurable"`
	AuthenticationFlow   *bool    `json:"authenticationFlow"`
	ProviderID           string   `json:"providerId"`
	AuthenticationConfig string   `json:"authenticationConfig"`
	FlowID               string   `json:"flowId"`
	Level                int      `json:"level"`
	Index                int      `json:"index"`
	Priority             int      `json:"priority"`
}

type flowRep struct {
	ID         string `json:"id"`
	Alias      string `json:"alias"`
	TopLevel   bool   `json:"topLevel"`
	BuiltIn    bool   `json:"builtIn"`
	ProviderID string `json:"providerId"`
}

// wantError checks a refusal's status and that its body carries msg.
func wantError(t *testing.T, what string, st int, body []byte, status int, msg string) {
	t.Helper()
	if st != status || !strings.Contains(string(body), msg) {
		t.Fatalf("%s: %d %s, want %d with %q", what, st, body, status, msg)
	}
}

func TestAuthenticationFlowsAPI(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("auth")
		tok := s.adminToken()
		const a = "/admin/realms/auth/authentication"

		// A new realm has Keycloak's built-in top-level flows, saml ecp
		// left out of the list as Keycloak does.
		var flows []flowRep
		s.get(a+"/flows", tok, &flows)
		var aliases []string
		for _, f := range flows {
			aliases = append(aliases, f.Alias)
			if !f.TopLevel || !f.BuiltIn || f.ID == "" {
				t.Errorf("flow %+v", f)
			}
		}
		if want := []string{"browser", "clients", "direct grant", "docker auth", "first broker login", "registration", "reset credentials"}; !slices.Equal(aliases, want) {
			t.Fatalf("flows %v, want %v", aliases, want)
		}
		browserID := flows[0].ID
		var one flowRep
		s.get(a+"/flows/"+browserID, tok, &one)
		if one.Alias != "browser" {
			t.Fatalf("GET flow by id: %+v", one)
		}
		st, _, b := s.do("GET", a+"/flows/nope", tok, nil)
		wantError(t, "unknown flow", st, b, 404, "Could not find flow with id")

		// The browser flow's executions, depth first with levels.
		var execs []execInfo
		s.get(a+"/flows/browser/executions", tok, &execs)
		var got []string
		for _, e := range execs {
			got = append(got, strings.Repeat(">", e.Level)+e.DisplayName+":"+e.Requirement)
		}
		want := []string{"Cookie:ALTERNATIVE", "Kerberos:DISABLED", "Identity Provider Redirector:ALTERNATIVE", "forms:ALTERNATIVE",
			">Username Password Form:REQUIRED", ">Browser - Conditional 2FA:CONDITIONAL", ">>Condition - user configured:REQUIRED",
			">>Condition - credential:REQUIRED", ">>OTP Form:ALTERNATIVE", ">>WebAuthn Authenticator:DISABLED", ">>Recovery Authentication Code Form:DISABLED"}
		if !slices.Equal(got, want) {
			t.Fatalf("browser executions:\n got %v\nwant %v", got, want)
		}
		forms := execs[3]
		if forms.AuthenticationFlow == nil || !*forms.AuthenticationFlow || forms.FlowID == "" || forms.Index != 3 || forms.Priority != 30 ||
			!slices.Equal(forms.RequirementChoices, []string{"REQUIRED", "ALTERNATIVE", "DISABLED", "CONDITIONAL"}) {
			t.Errorf("forms sub-flow: %+v", forms)
		}
		cred := execs[7]
		if !cred.Configurable || cred.Alias != "browser-conditional-credential" || cred.AuthenticationConfig == "" || cred.AuthenticationFlow != nil {
			t.Errorf("conditional-credential: %+v", cred)
		}
		var cfg map[string]any
		s.get(a+"/config/"+cred.AuthenticationConfig, tok, &cfg)
		if cfg["alias"] != "browser-conditional-credential" {
			t.Errorf("config: %v", cfg)
		}

		// Built-in flows keep their shape.
		st, _, b = s.do("POST", a+"/flows/browser/executions/execution", tok, map[string]string{"provider": "auth-otp-form"})
		wantError(t, "add to built-in", st, b, 400, "It is illegal to add execution to a built in flow")
		st, _, b = s.do("DELETE", a+"/flows/"+browserID, tok, nil)
		wantError(t, "delete built-in", st, b, 400, "Can't delete built in flow")
		st, _, b = s.do("DELETE", a+"/executions/"+execs[0].ID, tok, nil)
		wantError(t, "remove from built-in", st, b, 400, "It is illegal to remove execution from a built in flow")
		st, _, b = s.do("POST", a+"/executions/"+execs[1].ID+"/raise-priority", tok, nil)
		wantError(t, "move in built-in", st, b, 400, "It is illegal to modify execution in a built in flow")

		// A copy is not built in, with its own sub-flows and configs.
		st, _, b = s.do("POST", a+"/flows/browser/copy", tok, map[string]string{"newName": "mine"})
		if st != 201 {
			t.Fatalf("copy: %d %s", st, b)
		}
		st, _, b = s.do("POST", a+"/flows/browser/copy", tok, map[string]string{"newName": "mine"})
		wantError(t, "copy onto an existing alias", st, b, 409, "New flow alias name already exists")
		var mine []execInfo
		s.get(a+"/flows/mine/executions", tok, &mine)
		if len(mine) != len(execs) || mine[3].DisplayName != "mine forms" || mine[5].DisplayName != "mine Browser - Conditional 2FA" ||
			mine[7].Alias != "mine browser-conditional-credential" || mine[7].AuthenticationConfig == cred.AuthenticationConfig {
			t.Fatalf("copy's executions: %+v", mine)
		}

		// Steps are added, moved and removed in a flow that is not built in.
		st, _, b = s.do("POST", a+"/flows/mine/executions/execution", tok, map[string]string{"provider": "auth-recovery-authn-code-form"})
		wantError(t, "authenticator not run", st, b, 400, "auth-recovery-authn-code-form")
		st, _, b = s.do("POST", a+"/flows/mine/executions/execution", tok, map[string]string{"provider": "nope"})
		wantError(t, "unknown provider", st, b, 400, "No authentication provider found for id: nope")
		st, h, b := s.do("POST", a+"/flows/mine/executions/execution", tok, map[string]string{"provider": "auth-otp-form"})
		if st != 201 {
			t.Fatalf("add execution: %d %s", st, b)
		}
		newID := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		var ex map[string]any
		s.get(a+"/executions/"+newID, tok, &ex)
		if ex["authenticator"] != "auth-otp-form" || ex["requirement"] != "DISABLED" || ex["priority"] != float64(31) {
			t.Errorf("new execution: %v", ex)
		}
		if st, _, b := s.do("POST", a+"/executions/"+newID+"/raise-priority", tok, nil); st != 204 {
			t.Fatalf("raise: %d %s", st, b)
		}
		s.get(a+"/flows/mine/executions", tok, &mine)
		if mine[3].ID != newID || mine[4].DisplayName != "mine forms" {
			t.Fatalf("after raise: %v %v", mine[3].DisplayName, mine[4].DisplayName)
		}
		if st, _, b := s.do("POST", a+"/executions/"+newID+"/lower-priority", tok, nil); st != 204 {
			t.Fatalf("lower: %d %s", st, b)
		}
		if st, _, b := s.do("DELETE", a+"/executions/"+newID, tok, nil); st != 204 {
			t.Fatalf("delete execution: %d %s", st, b)
		}
		st, _, b = s.do("GET", a+"/executions/"+newID, tok, nil)
		wantError(t, "deleted execution", st, b, 404, "Illegal execution")

		// A sub-flow, and a config on one of its steps.
		st, h, b = s.do("POST", a+"/flows/mine/executions/flow", tok, map[string]string{"alias": "extra", "type": "basic-flow", "description": "more"})
		if st != 201 || !strings.Contains(h.Get("Location"), "/authentication/flows/") {
			t.Fatalf("add sub-flow: %d %s %v", st, b, h)
		}
		st, h, b = s.do("POST", a+"/flows/extra/executions/execution", tok, map[string]string{"provider": "identity-provider-redirector"})
		if st != 201 {
			t.Fatalf("add to sub-flow: %d %s", st, b)
		}
		redirector := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		st, h, b = s.do("POST", a+"/executions/"+redirector+"/config", tok, map[string]any{"alias": "idp", "config": map[string]string{"defaultProvider": "corp"}})
		if st != 201 {
			t.Fatalf("config: %d %s", st, b)
		}
		cfgURL := h.Get("Location")[strings.Index(h.Get("Location"), "/admin/"):]
		if st, _, b := s.do("PUT", cfgURL, tok, map[string]any{"alias": "idp2", "config": map[string]string{"defaultProvider": "other"}}); st != 204 {
			t.Fatalf("update config: %d %s", st, b)
		}
		s.get(a+"/flows/mine/executions", tok, &mine)
		i := slices.IndexFunc(mine, func(e execInfo) bool { return e.ID == redirector })
		if i < 0 || mine[i].Alias != "idp2" || mine[i].Level != 1 {
			t.Fatalf("step with config: %+v", mine)
		}
		if st, _, b := s.do("DELETE", cfgURL, tok, nil); st != 204 {
			t.Fatalf("delete config: %d %s", st, b)
		}
		st, _, b = s.do("GET", cfgURL, tok, nil)
		wantError(t, "deleted config", st, b, 404, "Could not find authenticator config")

		// Binding: the realm binds the copy for the browser; a change that
		// leaves it naming an authenticator Gatehouse does not run is refused.
		if st, _, b := s.do("PUT", "/admin/realms/auth", tok, map[string]any{"browserFlow": "mine"}); st != 204 {
			t.Fatalf("bind: %d %s", st, b)
		}
		var rl map[string]any
		s.get("/admin/realms/auth", tok, &rl)
		if rl["browserFlow"] != "mine" || rl["directGrantFlow"] != "direct grant" || rl["firstBrokerLoginFlow"] != "first broker login" {
			t.Fatalf("realm bindings: %v %v", rl["browserFlow"], rl["directGrantFlow"])
		}
		recovery := mine[slices.IndexFunc(mine, func(e execInfo) bool { return e.ProviderID == "auth-recovery-authn-code-form" })]
		recovery.Requirement = "ALTERNATIVE"
		st, _, b = s.do("PUT", a+"/flows/mine/executions", tok, recovery)
		wantError(t, "bound flow made unrunnable", st, b, 400, "auth-recovery-authn-code-form")
		// The same change in an unbound copy is taken, and binding it then is refused.
		s.do("POST", a+"/flows/browser/copy", tok, map[string]string{"newName": "passkeys"})
		var pk []execInfo
		s.get(a+"/flows/passkeys/executions", tok, &pk)
		w := pk[slices.IndexFunc(pk, func(e execInfo) bool { return e.ProviderID == "auth-recovery-authn-code-form" })]
		w.Requirement = "ALTERNATIVE"
		if st, _, b := s.do("PUT", a+"/flows/passkeys/executions", tok, w); st != 202 {
			t.Fatalf("requirement change: %d %s", st, b)
		}
		st, _, b = s.do("PUT", "/admin/realms/auth", tok, map[string]any{"browserFlow": "passkeys"})
		wantError(t, "bind an unrunnable flow", st, b, 400, "uses authenticator auth-recovery-authn-code-form, which Gatehouse does not run")
		st, _, b = s.do("PUT", "/admin/realms/auth", tok, map[string]any{"directGrantFlow": "nope"})
		wantError(t, "bind a missing flow", st, b, 400, "Flow nope does not exist")
		var passkeys flowRep
		for _, f := range listFlows(t, s, tok) {
			if f.Alias == "passkeys" {
				passkeys = f
			}
		}
		st, _, b = s.do("POST", "/admin/realms/auth/clients", tok, map[string]any{"clientId": "web", "authenticationFlowBindingOverrides": map[string]string{"browser": passkeys.ID}})
		wantError(t, "client override to an unrunnable flow", st, b, 400, "auth-recovery-authn-code-form")
		st, _, b = s.do("POST", "/admin/realms/auth/clients", tok, map[string]any{"clientId": "web", "authenticationFlowBindingOverrides": map[string]string{"browser": "nope"}})
		wantError(t, "client override to no flow", st, b, 400, "does not exist")
		var mineFlow flowRep
		for _, f := range listFlows(t, s, tok) {
			if f.Alias == "mine" {
				mineFlow = f
			}
		}
		if st, _, b := s.do("POST", "/admin/realms/auth/clients", tok, map[string]any{"clientId": "web", "authenticationFlowBindingOverrides": map[string]string{"direct_grant": mineFlow.ID}}); st != 201 {
			t.Fatalf("client override: %d %s", st, b)
		}

		// A bound flow is in use; renaming it carries the binding along.
		st, _, b = s.do("DELETE", a+"/flows/"+mineFlow.ID, tok, nil)
		wantError(t, "delete a bound flow", st, b, 400, "currently in use")
		st, _, b = s.do("PUT", a+"/flows/"+mineFlow.ID, tok, map[string]any{"alias": "renamed", "description": "d"})
		if st != 202 {
			t.Fatalf("rename: %d %s", st, b)
		}
		s.get("/admin/realms/auth", tok, &rl)
		if rl["browserFlow"] != "renamed" {
			t.Errorf("binding after rename: %v", rl["browserFlow"])
		}
		st, _, b = s.do("PUT", a+"/flows/"+mineFlow.ID, tok, map[string]any{"alias": "browser"})
		wantError(t, "rename onto an existing alias", st, b, 409, "Flow alias name already exists")
		st, _, b = s.do("POST", a+"/flows", tok, map[string]any{"alias": "browser", "providerId": "basic-flow", "topLevel": true})
		wantError(t, "create an existing alias", st, b, 409, "Flow browser already exists")
		st, h, b = s.do("POST", a+"/flows", tok, map[string]any{"alias": "empty", "providerId": "basic-flow", "topLevel": true, "builtIn": true})
		if st != 201 {
			t.Fatalf("create flow: %d %s", st, b)
		}
		emptyID := h.Get("Location")[strings.LastIndex(h.Get("Location"), "/")+1:]
		s.get(a+"/flows/"+emptyID, tok, &one)
		if one.Alias != "empty" || one.BuiltIn {
			t.Errorf("created flow: %+v", one)
		}
		if st, _, b := s.do("DELETE", a+"/flows/"+emptyID, tok, nil); st != 204 {
			t.Fatalf("delete flow: %d %s", st, b)
		}
		if st, _, b := s.do("DELETE", a+"/flows/"+passkeys.ID, tok, nil); st != 204 {
			t.Fatalf("delete copy: %d %s", st, b)
		}
		st, _, b = s.do("GET", a+"/flows/passkeys/executions", tok, nil)
		if st != 404 {
			t.Fatalf("deleted copy's executions: %d %s", st, b)
		}
		var all []execInfo
		s.get(a+"/flows/renamed/executions", tok, &all) // its sub-flows untouched by the other deletion
		if len(all) != 13 {                             // the 11 copied, the sub-flow "extra" and its step
			t.Errorf("renamed flow has %d steps", len(all))
		}
	})
}

func listFlows(t *testing.T, s *testServer, tok string) []flowRep {
	t.Helper()
	var out []flowRep
	s.get("/admin/realms/auth/authentication/flows", tok, &out)
	return out
}

func TestRequiredActionsAPI(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("ra")
		tok := s.adminToken()
		const a = "/admin/realms/ra/authentication"
		type action struct {
			Alias      string            `json:"alias"`
			Name       string            `json:"name"`
			ProviderID string            `json:"providerId"`
			Enabled    bool              `json:"enabled"`
			Priority   int               `json:"priority"`
			Config     map[string]string `json:"config"`
		}
		list := func() []string {
			var as []action
			s.get(a+"/required-actions", tok, &as)
			var out []string
			for _, x := range as {
				out = append(out, x.Alias)
			}
			return out
		}
		got := list()
		want := []string{"CONFIGURE_TOTP", "TERMS_AND_CONDITIONS", "UPDATE_PASSWORD", "UPDATE_PROFILE", "VERIFY_EMAIL", "delete_account", "UPDATE_EMAIL",
			"webauthn-register", "webauthn-register-passwordless", "VERIFY_PROFILE", "delete_credential", "idp_link", "CONFIGURE_RECOVERY_AUTHN_CODES", "update_user_locale"}
		if !slices.Equal(got, want) {
			t.Fatalf("required actions %v", got)
		}
		var one action
		s.get(a+"/required-actions/TERMS_AND_CONDITIONS", tok, &one)
		if one.Enabled || one.Name != "Terms and Conditions" || one.Priority != 20 || one.Config == nil {
			t.Errorf("TERMS_AND_CONDITIONS: %+v", one)
		}
		one.Enabled = true
		if st, _, b := s.do("PUT", a+"/required-actions/TERMS_AND_CONDITIONS", tok, one); st != 204 {
			t.Fatalf("update: %d %s", st, b)
		}
		s.get(a+"/required-actions/TERMS_AND_CONDITIONS", tok, &one)
		if !one.Enabled {
			t.Errorf("not enabled")
		}
		if st, _, b := s.do("POST", a+"/required-actions/TERMS_AND_CONDITIONS/raise-priority", tok, nil); st != 204 {
			t.Fatalf("raise: %d %s", st, b)
		}
		if got := list(); got[0] != "TERMS_AND_CONDITIONS" || got[1] != "CONFIGURE_TOTP" {
			t.Errorf("after raise: %v", got[:3])
		}
		s.do("POST", a+"/required-actions/TERMS_AND_CONDITIONS/lower-priority", tok, nil)
		if got := list(); !slices.Equal(got, want) {
			t.Errorf("after lower: %v", got)
		}

		// Configurable actions take the maximum authentication age.
		var desc map[string][]map[string]any
		s.get(a+"/required-actions/UPDATE_PASSWORD/config-description", tok, &desc)
		if len(desc["properties"]) != 1 || desc["properties"][0]["name"] != "max_auth_age" {
			t.Errorf("config description: %v", desc)
		}
		if st, _, b := s.do("PUT", a+"/required-actions/UPDATE_PASSWORD/config", tok, map[string]any{"config": map[string]string{"max_auth_age": "60"}}); st != 204 {
			t.Fatalf("config: %d %s", st, b)
		}
		var cfg map[string]map[string]string
		s.get(a+"/required-actions/UPDATE_PASSWORD/config", tok, &cfg)
		if cfg["config"]["max_auth_age"] != "60" {
			t.Errorf("config: %v", cfg)
		}
		st, _, b := s.do("GET", a+"/required-actions/VERIFY_EMAIL/config", tok, nil)
		wantError(t, "config of an action without settings", st, b, 400, "not configurable")

		// Unregister, see it offered, register it again at the end.
		if st, _, b := s.do("DELETE", a+"/required-actions/delete_account", tok, nil); st != 204 {
			t.Fatalf("delete: %d %s", st, b)
		}
		st, _, b = s.do("GET", a+"/required-actions/delete_account", tok, nil)
		wantError(t, "deleted action", st, b, 404, "Failed to find required action")
		var unreg []map[string]string
		s.get(a+"/unregistered-required-actions", tok, &unreg)
		if len(unreg) != 1 || unreg[0]["providerId"] != "delete_account" || unreg[0]["name"] != "Delete Account" {
			t.Fatalf("unregistered: %v", unreg)
		}
		st, _, b = s.do("POST", a+"/register-required-action", tok, map[string]string{"providerId": "nope", "name": "x"})
		wantError(t, "register unknown", st, b, 400, "Required Action Provider with given providerId not found")
		if st, _, b := s.do("POST", a+"/register-required-action", tok, map[string]string{"providerId": "delete_account", "name": "Delete Account"}); st != 204 {
			t.Fatalf("register: %d %s", st, b)
		}
		s.get(a+"/required-actions/delete_account", tok, &one)
		if !one.Enabled || one.Priority != 1001 || list()[len(want)-1] != "delete_account" {
			t.Errorf("registered: %+v", one)
		}
	})
}

func TestAuthenticationProvidersAndPermissions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		r := s.newRealm("prov")
		tok := s.adminToken()
		const a = "/admin/realms/prov/authentication"
		var ps []map[string]string
		s.get(a+"/authenticator-providers", tok, &ps)
		ids := map[string]bool{}
		for _, p := range ps {
			ids[p["id"]] = p["displayName"] != ""
		}
		if !ids["auth-otp-form"] || !ids["auth-cookie"] || len(ids) == 0 {
			t.Errorf("authenticator providers: %v", ps)
		}
		if _, listed := ids["auth-recovery-authn-code-form"]; listed {
			t.Errorf("an authenticator Gatehouse does not run is offered")
		}
		s.get(a+"/client-authenticator-providers", tok, &ps)
		if len(ps) != 4 || ps[0]["id"] != "client-secret" {
			t.Errorf("client authenticators: %v", ps)
		}
		s.get(a+"/form-providers", tok, &ps)
		if len(ps) != 1 || ps[0]["id"] != "registration-page-form" {
			t.Errorf("form providers: %v", ps)
		}
		s.get(a+"/form-action-providers", tok, &ps)
		if len(ps) != 4 {
			t.Errorf("form actions: %v", ps)
		}
		var desc struct {
			Name       string           `json:"name"`
			ProviderID string           `json:"providerId"`
			Properties []map[string]any `json:"properties"`
		}
		s.get(a+"/config-description/idp-review-profile", tok, &desc)
		if desc.ProviderID != "idp-review-profile" || len(desc.Properties) != 1 || desc.Properties[0]["defaultValue"] != "missing" {
			t.Errorf("config description: %+v", desc)
		}
		st, _, b := s.do("GET", a+"/config-description/nope", tok, nil)
		wantError(t, "unknown provider", st, b, 404, "Could not find authenticator provider")
		var per map[string][]any
		s.get(a+"/per-client-config-description", tok, &per)
		if _, ok := per["client-jwt"]; !ok {
			t.Errorf("per-client config description: %v", per)
		}

		// view-realm reads the model; changing it takes manage-realm.
		viewer := s.realmAdmin(r, "viewer", "view-realm")
		var flows []map[string]any
		s.get(a+"/flows", viewer, &flows)
		if st, _, _ := s.do("POST", a+"/flows/browser/copy", viewer, map[string]string{"newName": "x"}); st != http.StatusForbidden {
			t.Errorf("copy without manage-realm: %d", st)
		}
		nobody := s.realmAdmin(r, "nobody", "view-users")
		if st, _, _ := s.do("GET", a+"/flows", nobody, nil); st != http.StatusForbidden {
			t.Errorf("flows without view-realm: %d", st)
		}

		// Changes are admin events of Keycloak's resource types.
		if st, _, b := s.do("PUT", "/admin/realms/prov", tok, map[string]any{"adminEventsEnabled": true}); st != 204 {
			t.Fatalf("enable admin events: %d %s", st, b)
		}
		s.do("POST", a+"/flows/browser/copy", tok, map[string]string{"newName": "evt"})
		s.do("POST", a+"/flows/evt/executions/execution", tok, map[string]string{"provider": "auth-otp-form"})
		s.do("POST", a+"/required-actions/VERIFY_EMAIL/raise-priority", tok, nil)
		var evs []map[string]any
		s.get("/admin/realms/prov/admin-events", tok, &evs)
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e["operationType"].(string)+" "+e["resourceType"].(string))
		}
		for _, k := range []string{"CREATE AUTH_FLOW", "CREATE AUTH_EXECUTION", "UPDATE REQUIRED_ACTION"} {
			if !slices.Contains(kinds, k) {
				t.Errorf("admin events %v lack %s", kinds, k)
			}
		}
		b, _ = json.Marshal(evs)
		if !strings.Contains(string(b), `"resourcePath":"authentication/flows/browser/copy"`) {
			t.Errorf("resource paths: %s", b)
		}
	})
}

// Listing the executions of, or copying, a flow the realm does not have is
// answered 404 with an empty body, as Keycloak does.
func TestAuthenticationUnknownFlowEmpty404(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		s.newRealm("unknownflow")
		tok := s.adminToken()
		const a = "/admin/realms/unknownflow/authentication"
		if st, _, b := s.do("GET", a+"/flows/nope/executions", tok, nil); st != 404 || len(b) != 0 {
			t.Errorf("executions of an unknown flow: %d %q", st, b)
		}
		if st, _, b := s.do("POST", a+"/flows/nope/copy", tok, map[string]string{"newName": "fresh"}); st != 404 || len(b) != 0 {
			t.Errorf("copy of an unknown flow: %d %q", st, b)
		}
		var flows []flowRep
		s.get(a+"/flows", tok, &flows)
		for _, f := range flows {
			if f.Alias == "fresh" {
				t.Errorf("a refused copy stored flow %+v", f)
			}
		}
	})
}
