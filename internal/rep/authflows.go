package rep

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
)

// AuthenticationFlow is Keycloak's AuthenticationFlowRepresentation as the
// realm export and the admin API write it.
type AuthenticationFlow struct {
	ID                       string                    `json:"id,omitempty"`
	Alias                    string                    `json:"alias"`
	Description              string                    `json:"description,omitempty"`
	ProviderID               string                    `json:"providerId"`
	TopLevel                 bool                      `json:"topLevel"`
	BuiltIn                  bool                      `json:"builtIn"`
	AuthenticationExecutions []AuthenticationExecution `json:"authenticationExecutions"`
}

// AuthenticationExecution is Keycloak's
// AuthenticationExecutionExportRepresentation. Keycloak writes the
// sub-flow flag twice, once under the misspelt name "autheticatorFlow" its
// older readers expect; either one read as true makes a sub-flow.
type AuthenticationExecution struct {
	AuthenticatorConfig string `json:"authenticatorConfig,omitempty"`
	Authenticator       string `json:"authenticator,omitempty"`
	AuthenticatorFlow   bool   `json:"authenticatorFlow"`
	Requirement         string `json:"requirement"`
	Priority            int    `json:"priority"`
	AutheticatorFlow    bool   `json:"autheticatorFlow"`
	FlowAlias           string `json:"flowAlias,omitempty"`
	UserSetupAllowed    bool   `json:"userSetupAllowed"`
}

// AuthenticatorConfig is Keycloak's AuthenticatorConfigRepresentation.
type AuthenticatorConfig struct {
	ID     string            `json:"id,omitempty"`
	Alias  string            `json:"alias"`
	Config map[string]string `json:"config"`
}

// RequiredAction is Keycloak's RequiredActionProviderRepresentation.
type RequiredAction struct {
	Alias         string            `json:"alias"`
	Name          string            `json:"name"`
	ProviderID    string            `json:"providerId"`
	Enabled       bool              `json:"enabled"`
	DefaultAction bool              `json:"defaultAction"`
	Priority      int               `json:"priority"`
	Config        map[string]string `json:"config"`
}

// FlowFromDomain is the export representation of f: no execution ids, as
// Keycloak exports none, and executions in priority order.
func FlowFromDomain(f flow.Flow) AuthenticationFlow {
	x := AuthenticationFlow{ID: f.ID, Alias: f.Alias, Description: f.Description, ProviderID: f.ProviderID,
		TopLevel: f.TopLevel, BuiltIn: f.BuiltIn, AuthenticationExecutions: []AuthenticationExecution{}}
	execs := slices.Clone(f.Executions)
	slices.SortStableFunc(execs, func(a, b flow.Execution) int { return cmp.Compare(a.Priority, b.Priority) })
	for _, e := range execs {
		x.AuthenticationExecutions = append(x.AuthenticationExecutions, AuthenticationExecution{
			AuthenticatorConfig: e.AuthenticatorConfig, Authenticator: e.Authenticator,
			AuthenticatorFlow: e.AuthenticatorFlow, AutheticatorFlow: e.AuthenticatorFlow,
			Requirement: e.Requirement, Priority: e.Priority, FlowAlias: e.FlowAlias, UserSetupAllowed: e.UserSetupAllowed})
	}
	return x
}

// ToDomain is the flow x describes, its executions without ids.
func (x AuthenticationFlow) ToDomain() flow.Flow {
	f := flow.Flow{ID: x.ID, Alias: x.Alias, Description: x.Description, ProviderID: x.ProviderID,
		TopLevel: x.TopLevel, BuiltIn: x.BuiltIn}
	if f.ProviderID == "" {
		f.ProviderID = flow.BasicFlow
	}
	for _, e := range x.AuthenticationExecutions {
		f.Executions = append(f.Executions, flow.Execution{AuthenticatorConfig: e.AuthenticatorConfig,
			Authenticator: e.Authenticator, AuthenticatorFlow: e.AuthenticatorFlow || e.AutheticatorFlow,
			Requirement: e.Requirement, Priority: e.Priority, FlowAlias: e.FlowAlias, UserSetupAllowed: e.UserSetupAllowed})
	}
	return f
}

// ConfigFromDomain is a's representation; config is {} rather than absent.
func ConfigFromDomain(a flow.AuthenticatorConfig) AuthenticatorConfig {
	return AuthenticatorConfig{ID: a.ID, Alias: a.Alias, Config: nonNilMap(a.Config)}
}

// RequiredActionFromDomain is a's representation; config is {} rather than absent.
func RequiredActionFromDomain(a flow.RequiredAction) RequiredAction {
	return RequiredAction{Alias: a.Alias, Name: a.Name, ProviderID: a.ProviderID, Enabled: a.Enabled,
		DefaultAction: a.DefaultAction, Priority: a.Priority, Config: nonNilMap(a.Config)}
}

// ToDomain is the required action x describes.
func (x RequiredAction) ToDomain() flow.RequiredAction {
	return flow.RequiredAction{Alias: x.Alias, Name: x.Name, ProviderID: x.ProviderID, Enabled: x.Enabled,
		DefaultAction: x.DefaultAction, Priority: x.Priority, Config: nonNilMap(x.Config)}
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// setAuth fills the export's authentication members from c in Keycloak's
// order: flows and configs by alias, required actions by priority then name.
func (x *Realm) setAuth(c flow.Config) {
	flows := slices.Clone(c.Flows)
	slices.SortStableFunc(flows, func(a, b flow.Flow) int { return strings.Compare(a.Alias, b.Alias) })
	x.AuthenticationFlows = []AuthenticationFlow{}
	for _, f := range flows {
		x.AuthenticationFlows = append(x.AuthenticationFlows, FlowFromDomain(f))
	}
	configs := slices.Clone(c.Configs)
	slices.SortStableFunc(configs, func(a, b flow.AuthenticatorConfig) int { return strings.Compare(a.Alias, b.Alias) })
	x.AuthenticatorConfig = []AuthenticatorConfig{}
	for _, a := range configs {
		x.AuthenticatorConfig = append(x.AuthenticatorConfig, ConfigFromDomain(a))
	}
	x.RequiredActions = []RequiredAction{}
	for _, a := range SortedRequiredActions(c.RequiredActions) {
		x.RequiredActions = append(x.RequiredActions, RequiredActionFromDomain(a))
	}
	x.SetBindings(c.Bindings)
}

// bindingFields are the realm representation's binding members, in the
// order of flow.Bindings.Refs.
func (x *Realm) bindingFields() []**string {
	return []**string{&x.BrowserFlow, &x.RegistrationFlow, &x.DirectGrantFlow, &x.ResetCredentialsFlow,
		&x.ClientAuthenticationFlow, &x.DockerAuthenticationFlow, &x.FirstBrokerLoginFlow}
}

// SetBindings sets the realm representation's flow bindings.
func (x *Realm) SetBindings(b flow.Bindings) {
	for i, r := range b.Refs() {
		*x.bindingFields()[i] = optional(*r.Alias)
	}
}

// ApplyBindings changes the bindings x names, leaving the others.
func (x Realm) ApplyBindings(b *flow.Bindings) {
	for i, r := range b.Refs() {
		set(r.Alias, *x.bindingFields()[i])
	}
}

// SortedRequiredActions orders required actions as Keycloak lists them: by
// priority, then by name.
func SortedRequiredActions(as []flow.RequiredAction) []flow.RequiredAction {
	out := slices.Clone(as)
	slices.SortStableFunc(out, func(a, b flow.RequiredAction) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), strings.Compare(a.Name, b.Name))
	})
	return out
}

// authConfig is the authentication model a realm file carries, completed as
// Keycloak's import completes it, and whether the file carries one at all.
// A file older than Keycloak 26 also gets the built-in flows and required
// actions added since it was written (Keycloak's import migrations), and
// steps of older Keycloaks are upgraded (flow.Upgrade). A binding the file
// leaves out names the built-in flow.
func (x Realm) authConfig() (flow.Config, bool, error) {
	if x.AuthenticationFlows == nil && x.RequiredActions == nil && x.AuthenticatorConfig == nil {
		return flow.Config{}, false, nil
	}
	var c flow.Config
	defaults := flow.Defaults()
	if len(x.AuthenticationFlows) == 0 {
		c.Flows, c.Configs = defaults.Flows, defaults.Configs
	}
	for _, xf := range x.AuthenticationFlows {
		c.Flows = append(c.Flows, xf.ToDomain())
	}
	for _, xa := range x.AuthenticatorConfig {
		if _, ok := c.ConfigByAlias(xa.Alias); !ok || xa.Alias == "" {
			c.Configs = append(c.Configs, flow.AuthenticatorConfig{ID: xa.ID, Alias: xa.Alias, Config: nonNilMap(xa.Config)})
		}
	}
	if x.RequiredActions == nil {
		c.RequiredActions = defaults.RequiredActions
	}
	for _, xa := range x.RequiredActions {
		c.RequiredActions = append(c.RequiredActions, xa.ToDomain())
	}
	flow.Upgrade(&c)
	if olderThan(x.KeycloakVersion, 26) {
		flow.AddMissing(&c, defaults)
	}
	c.Bindings = defaults.Bindings
	x.ApplyBindings(&c.Bindings)
	for _, b := range c.Bindings.Refs() {
		// A binding to a built-in flow the file leaves out gets that flow.
		flow.AddBuiltIn(&c, defaults, *b.Alias)
	}
	if err := flow.Validate(c); err != nil {
		return flow.Config{}, true, err
	}
	return c, true, nil
}

// olderThan reports whether a keycloakVersion ("9.0.3", "3.2.0.Final") is
// of a major release before major; an absent version is not.
func olderThan(version string, major int) bool {
	head, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(head)
	return err == nil && n < major
}

// flowIDs maps each flow id of c to its alias, for client overrides.
func flowIDs(c flow.Config) map[string]string {
	out := map[string]string{}
	for _, f := range c.Flows {
		out[f.ID] = f.Alias
	}
	return out
}

// CheckOverrides checks a client's authentication flow binding overrides:
// each names, by id, a top-level flow of c that can serve a login.
// Keycloak's overrides are "browser" and "direct_grant".
func CheckOverrides(c flow.Config, overrides map[string]string) error {
	ids := flowIDs(c)
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		id := overrides[k]
		alias, ok := ids[id]
		if !ok {
			return fmt.Errorf("flow %s for %s does not exist", id, k)
		}
		if err := flow.CheckBindable(c, alias); err != nil {
			return err
		}
	}
	return nil
}
