package flow_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
)

// diff returns "" when want and got marshal to the same JSON, and both
// documents otherwise.
func diff(t *testing.T, want, got any) string {
	t.Helper()
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(w) == string(g) {
		return ""
	}
	wl, gl := strings.Split(string(w), "\n"), strings.Split(string(g), "\n")
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n want " + wl[i] + "\n got  " + gl[i]
		}
	}
	return "lengths differ: " + strconv.Itoa(len(wl)) + " vs " + strconv.Itoa(len(gl)) + " lines"
}

// kc26Export is a realm exported by Keycloak 26.5.5 right after it created
// it (test/exports holds the real exports).
const kc26Export = "../../test/exports/testdata/adorsys__keycloak-config-cli__exported-master-26.5.5.json"

func TestDefaultsAreKeycloak26sBuiltInModel(t *testing.T) {
	data, err := os.ReadFile(kc26Export)
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		flow.Config
		flow.Bindings
	}
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	want := x.Config
	want.Bindings = x.Bindings
	for i := range want.Flows {
		want.Flows[i].ID = ""
	}
	for i := range want.Configs {
		want.Configs[i].ID = ""
	}
	if diff := diff(t, want, flow.Defaults()); diff != "" {
		t.Errorf("Defaults() differs from Keycloak 26's export (-keycloak +defaults):\n%s", diff)
	}
}

func TestDefaultsAreBindable(t *testing.T) {
	d := flow.Defaults()
	if err := flow.Validate(d); err != nil {
		t.Fatal(err)
	}
	if bad := flow.NotRunnable(d); len(bad) != 0 {
		t.Errorf("built-in bindings not runnable: %v", bad)
	}
	for _, alias := range []string{flow.BrowserFlow, flow.DirectGrantFlow, flow.RegistrationFlow, flow.ResetCredentialsFlow, flow.ClientsFlow} {
		if err := flow.CheckBindable(d, alias); err != nil {
			t.Errorf("%s: %v", alias, err)
		}
	}
}

func TestAssignIDsGivesEveryPartAnID(t *testing.T) {
	d := flow.Defaults()
	n := 0
	d.AssignIDs(func() string { n++; return "id-" + strconv.Itoa(n) })
	seen := map[string]bool{}
	check := func(what, id string) {
		if id == "" || seen[id] {
			t.Errorf("%s: id %q missing or repeated", what, id)
		}
		seen[id] = true
	}
	for _, f := range d.Flows {
		check(f.Alias, f.ID)
		for _, e := range f.Executions {
			check(f.Alias+" execution", e.ID)
		}
	}
	for _, c := range d.Configs {
		check(c.Alias, c.ID)
	}
	before := n
	d.AssignIDs(func() string { n++; return "again" })
	if n != before {
		t.Errorf("AssignIDs replaced ids that were set")
	}
}

func TestValidate(t *testing.T) {
	edit := func(f func(c *flow.Config)) flow.Config {
		c := flow.Defaults()
		f(&c)
		return c
	}
	cases := []struct {
		name string
		c    flow.Config
		want string
	}{
		{"duplicate alias", edit(func(c *flow.Config) { c.Flows = append(c.Flows, c.Flows[0]) }), "already exists"},
		{"unknown sub-flow", edit(func(c *flow.Config) { c.Flows[0].Executions[1].FlowAlias = "nope" }), "sub-flow nope does not exist"},
		{"unknown config", edit(func(c *flow.Config) { c.Flows[1].Executions[1].AuthenticatorConfig = "nope" }), "config nope does not exist"},
		{"unknown requirement", edit(func(c *flow.Config) { c.Flows[1].Executions[0].Requirement = "SOMETIMES" }), "requirement"},
		{"binding to a missing flow", edit(func(c *flow.Config) { c.Bindings.Browser = "nope" }), "browserFlow nope does not exist"},
		{"binding to a sub-flow", edit(func(c *flow.Config) { c.Bindings.Browser = "forms" }), "not a top-level flow"},
		{"flow containing itself", edit(func(c *flow.Config) {
			c.Flows[0].Executions = append(c.Flows[0].Executions, flow.Execution{AuthenticatorFlow: true, FlowAlias: c.Flows[0].Alias, Requirement: flow.Alternative})
		}), "contains itself"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := flow.Validate(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckBindableNamesTheAuthenticatorNotRun(t *testing.T) {
	c := flow.Defaults()
	// Turning on recovery codes in the browser flow's 2FA step makes the
	// browser flow name an authenticator Gatehouse does not run.
	for i, f := range c.Flows {
		if f.Alias == "Browser - Conditional 2FA" {
			c.Flows[i].Executions[4].Requirement = flow.Alternative
		}
	}
	err := flow.CheckBindable(c, flow.BrowserFlow)
	if err == nil || !strings.Contains(err.Error(), "auth-recovery-authn-code-form") {
		t.Fatalf("CheckBindable = %v, want it to name auth-recovery-authn-code-form", err)
	}
	if got := flow.NotRunnable(c); got["browserFlow"] == "" || len(got) != 1 {
		t.Errorf("NotRunnable = %v, want only browserFlow", got)
	}
	// The docker flow is never run by Gatehouse, so its authenticator does
	// not make the realm's model unrunnable; binding it for a login does.
	if err := flow.CheckBindable(c, flow.DockerAuthFlow); err == nil {
		t.Errorf("docker auth bindable for a login")
	}
}

func TestUpgradeOptional(t *testing.T) {
	c := flow.Config{Flows: []flow.Flow{{Alias: "direct grant", ProviderID: flow.BasicFlow, TopLevel: true, BuiltIn: true, Executions: []flow.Execution{
		{Authenticator: "direct-grant-validate-password", Requirement: flow.Required, Priority: 20},
		{Authenticator: "direct-grant-validate-otp", Requirement: "OPTIONAL", Priority: 30},
	}}}}
	flow.UpgradeOptional(&c)
	want := []flow.Flow{
		{Alias: "direct grant", ProviderID: flow.BasicFlow, TopLevel: true, BuiltIn: true, Executions: []flow.Execution{
			{Authenticator: "direct-grant-validate-password", Requirement: flow.Required, Priority: 20},
			{AuthenticatorFlow: true, FlowAlias: "direct grant - direct-grant-validate-otp - Conditional", Requirement: flow.Conditional, Priority: 30},
		}},
		{Alias: "direct grant - direct-grant-validate-otp - Conditional", ProviderID: flow.BasicFlow, BuiltIn: true,
			Description: "Flow to determine if the direct-grant-validate-otp authenticator should be used or not.",
			Executions: []flow.Execution{
				{Authenticator: "conditional-user-configured", Requirement: flow.Required, Priority: 10},
				{Authenticator: "direct-grant-validate-otp", Requirement: flow.Required, Priority: 20},
			}},
	}
	if diff := diff(t, want, c.Flows); diff != "" {
		t.Error(diff)
	}
	if err := flow.Validate(c); err != nil {
		t.Error(err)
	}
}

func TestUpgradeDropsTheRegistrationProfileStep(t *testing.T) {
	c := flow.Defaults()
	for i, f := range c.Flows {
		if f.Alias == flow.RegistrationFormFlow {
			c.Flows[i].Executions = append(c.Flows[i].Executions, flow.Execution{Authenticator: "registration-profile-action", Requirement: flow.Required, Priority: 40})
		}
	}
	if err := flow.CheckBindable(c, flow.RegistrationFlow); err == nil {
		t.Fatal("registration-profile-action counted as runnable")
	}
	flow.Upgrade(&c)
	if diff := diff(t, flow.Defaults(), c); diff != "" {
		t.Error(diff)
	}
}

func TestEveryRunnableAndBuiltInAuthenticatorIsDescribed(t *testing.T) {
	ids := map[string]bool{}
	for id := range flow.Runnable {
		ids[id] = true
	}
	for _, f := range flow.Defaults().Flows {
		for _, e := range f.Executions {
			if e.Authenticator != "" {
				ids[e.Authenticator] = true
			}
		}
	}
	for id := range ids {
		p, ok := flow.ProviderByID(id)
		if !ok || p.DisplayName == "" || len(p.Choices) == 0 {
			t.Errorf("authenticator %s has no description", id)
		}
		if p.Configurable != (len(p.Properties) > 0) && id != "registration-recaptcha-action" {
			t.Errorf("authenticator %s: configurable %v with %d properties", id, p.Configurable, len(p.Properties))
		}
	}
}
