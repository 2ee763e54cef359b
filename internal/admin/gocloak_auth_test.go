package admin_test

import (
	"slices"
	"testing"

	"github.com/Nerzal/gocloak/v13"
)

// TestGocloakAuthentication manages flows and required actions with
// gocloak, as a provisioning script would: copy the browser flow, add a
// sub-flow and a step, switch a requirement, bind it, and manage required
// actions.
func TestGocloakAuthentication(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := t.Context()
		s.newRealm("gc-auth")
		gc := gocloak.NewClient(s.URL)
		admin, err := gc.LoginAdmin(ctx, "admin", "admin-pw", "master")
		if err != nil {
			t.Fatal(err)
		}
		tok, realm := admin.AccessToken, "gc-auth"

		flows, err := gc.GetAuthenticationFlows(ctx, tok, realm)
		if err != nil || len(flows) != 7 {
			t.Fatalf("GetAuthenticationFlows: %d %v", len(flows), err)
		}
		err = gc.CreateAuthenticationFlow(ctx, tok, realm, gocloak.AuthenticationFlowRepresentation{
			Alias: gocloak.StringP("scripted"), Description: gocloak.StringP("by a script"),
			ProviderID: gocloak.StringP("basic-flow"), TopLevel: gocloak.BoolP(true), BuiltIn: gocloak.BoolP(false),
		})
		if err != nil {
			t.Fatalf("CreateAuthenticationFlow: %v", err)
		}
		err = gc.CreateAuthenticationExecution(ctx, tok, realm, "scripted", gocloak.CreateAuthenticationExecutionRepresentation{Provider: gocloak.StringP("auth-cookie")})
		if err != nil {
			t.Fatalf("CreateAuthenticationExecution: %v", err)
		}
		err = gc.CreateAuthenticationExecutionFlow(ctx, tok, realm, "scripted", gocloak.CreateAuthenticationExecutionFlowRepresentation{
			Alias: gocloak.StringP("scripted forms"), Type: gocloak.StringP("basic-flow"), Provider: gocloak.StringP("registration-page-form"), Description: gocloak.StringP("forms")})
		if err != nil {
			t.Fatalf("CreateAuthenticationExecutionFlow: %v", err)
		}
		if err := gc.CreateAuthenticationExecution(ctx, tok, realm, "scripted forms", gocloak.CreateAuthenticationExecutionRepresentation{Provider: gocloak.StringP("auth-username-password-form")}); err != nil {
			t.Fatalf("CreateAuthenticationExecution in sub-flow: %v", err)
		}
		execs, err := gc.GetAuthenticationExecutions(ctx, tok, realm, "scripted")
		if err != nil || len(execs) != 3 {
			t.Fatalf("GetAuthenticationExecutions: %d %v", len(execs), err)
		}
		// Turn every step on: the cookie and the forms sub-flow as alternatives.
		for _, e := range execs[:2] {
			e.Requirement = gocloak.StringP("ALTERNATIVE")
			if err := gc.UpdateAuthenticationExecution(ctx, tok, realm, "scripted", *e); err != nil {
				t.Fatalf("UpdateAuthenticationExecution %s: %v", gocloak.PString(e.DisplayName), err)
			}
		}
		execs, _ = gc.GetAuthenticationExecutions(ctx, tok, realm, "scripted")
		var got []string
		for _, e := range execs {
			got = append(got, gocloak.PString(e.DisplayName)+":"+gocloak.PString(e.Requirement))
		}
		if want := []string{"Cookie:ALTERNATIVE", "scripted forms:ALTERNATIVE", "Username Password Form:REQUIRED"}; !slices.Equal(got, want) {
			t.Fatalf("executions %v, want %v", got, want)
		}
		// Bind it for the browser and read the binding back.
		if err := gc.UpdateRealm(ctx, tok, gocloak.RealmRepresentation{Realm: gocloak.StringP(realm), BrowserFlow: gocloak.StringP("scripted")}); err != nil {
			t.Fatalf("UpdateRealm browserFlow: %v", err)
		}
		rl, err := gc.GetRealm(ctx, tok, realm)
		if err != nil || gocloak.PString(rl.BrowserFlow) != "scripted" {
			t.Fatalf("GetRealm browserFlow %q %v", gocloak.PString(rl.BrowserFlow), err)
		}
		if err := gc.DeleteAuthenticationExecution(ctx, tok, realm, gocloak.PString(execs[0].ID)); err != nil {
			t.Fatalf("DeleteAuthenticationExecution: %v", err)
		}

		// Required actions.
		ras, err := gc.GetRequiredActions(ctx, tok, realm)
		if err != nil || len(ras) != 14 {
			t.Fatalf("GetRequiredActions: %d %v", len(ras), err)
		}
		terms, err := gc.GetRequiredAction(ctx, tok, realm, "TERMS_AND_CONDITIONS")
		if err != nil || gocloak.PBool(terms.Enabled) {
			t.Fatalf("GetRequiredAction: %+v %v", terms, err)
		}
		terms.Enabled = gocloak.BoolP(true)
		if err := gc.UpdateRequiredAction(ctx, tok, realm, *terms); err != nil {
			t.Fatalf("UpdateRequiredAction: %v", err)
		}
		if err := gc.DeleteRequiredAction(ctx, tok, realm, "delete_account"); err != nil {
			t.Fatalf("DeleteRequiredAction: %v", err)
		}
		err = gc.RegisterRequiredAction(ctx, tok, realm, gocloak.RequiredActionProviderRepresentation{ProviderID: gocloak.StringP("delete_account"), Name: gocloak.StringP("Delete Account")})
		if err != nil {
			t.Fatalf("RegisterRequiredAction: %v", err)
		}
		ras, _ = gc.GetRequiredActions(ctx, tok, realm)
		if len(ras) != 14 || gocloak.PString(ras[len(ras)-1].Alias) != "delete_account" {
			t.Errorf("required actions after re-registering: %d", len(ras))
		}
		terms, _ = gc.GetRequiredAction(ctx, tok, realm, "TERMS_AND_CONDITIONS")
		if !gocloak.PBool(terms.Enabled) {
			t.Errorf("TERMS_AND_CONDITIONS not enabled")
		}
		// A flow in use stays; once unbound it goes.
		err = gc.DeleteAuthenticationFlow(ctx, tok, realm, flowID(t, gc, tok, realm, "scripted"))
		wantAPIError(t, "DeleteAuthenticationFlow of a bound flow", err, 400)
		if err := gc.UpdateRealm(ctx, tok, gocloak.RealmRepresentation{Realm: gocloak.StringP(realm), BrowserFlow: gocloak.StringP("browser")}); err != nil {
			t.Fatal(err)
		}
		if err := gc.DeleteAuthenticationFlow(ctx, tok, realm, flowID(t, gc, tok, realm, "scripted")); err != nil {
			t.Fatalf("DeleteAuthenticationFlow: %v", err)
		}
	})
}

func flowID(t *testing.T, gc *gocloak.GoCloak, tok, realm, alias string) string {
	t.Helper()
	flows, err := gc.GetAuthenticationFlows(t.Context(), tok, realm)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flows {
		if gocloak.PString(f.Alias) == alias {
			return gocloak.PString(f.ID)
		}
	}
	t.Fatalf("no flow %s", alias)
	return ""
}
