// Package flow is the realm's authentication model as Keycloak has it:
// flows of executions, authenticator configs, required actions, and the
// bindings that say which flow serves the browser login, the password grant,
// registration, reset credentials and the rest.
//
// A realm's whole model is one Config, stored as one document per realm
// (store.GetAuthConfig / store.UpdateAuthConfig) in Keycloak's representation,
// so an imported realm's flows are kept as they came and exported as they are.
package flow

// Requirements of an execution.
const (
	Required    = "REQUIRED"
	Alternative = "ALTERNATIVE"
	Conditional = "CONDITIONAL"
	Disabled    = "DISABLED"
)

// Flow provider ids: a basic flow runs its executions; a form flow renders
// one page whose form actions (registration's user creation, password
// validation…) all run on its submission.
const (
	BasicFlow = "basic-flow"
	FormFlow  = "form-flow"
	// ClientFlow is the provider id of client-authentication flows.
	ClientFlow = "client-flow"
)

// Config is a realm's whole authentication model.
type Config struct {
	Flows           []Flow                `json:"authenticationFlows"`
	Configs         []AuthenticatorConfig `json:"authenticatorConfig"`
	RequiredActions []RequiredAction      `json:"requiredActions"`
	Bindings        Bindings              `json:"bindings"`
}

// Bindings name (by alias) the top-level flow of each purpose.
type Bindings struct {
	Browser              string `json:"browserFlow"`
	Registration         string `json:"registrationFlow"`
	DirectGrant          string `json:"directGrantFlow"`
	ResetCredentials     string `json:"resetCredentialsFlow"`
	ClientAuthentication string `json:"clientAuthenticationFlow"`
	Docker               string `json:"dockerAuthenticationFlow"`
	FirstBrokerLogin     string `json:"firstBrokerLoginFlow"`
}

// Flow is Keycloak's AuthenticationFlowRepresentation.
type Flow struct {
	ID          string      `json:"id"`
	Alias       string      `json:"alias"`
	Description string      `json:"description"`
	ProviderID  string      `json:"providerId"`
	TopLevel    bool        `json:"topLevel"`
	BuiltIn     bool        `json:"builtIn"`
	Executions  []Execution `json:"authenticationExecutions"`
}

// Execution is one step of a flow: an authenticator, or a sub-flow named by
// FlowAlias. ID is Gatehouse's own (Keycloak's export has none); the admin
// API addresses executions by it.
type Execution struct {
	ID                  string `json:"id,omitempty"`
	AuthenticatorConfig string `json:"authenticatorConfig,omitempty"` // config alias
	Authenticator       string `json:"authenticator,omitempty"`
	AuthenticatorFlow   bool   `json:"authenticatorFlow"`
	Requirement         string `json:"requirement"`
	Priority            int    `json:"priority"`
	FlowAlias           string `json:"flowAlias,omitempty"`
	UserSetupAllowed    bool   `json:"userSetupAllowed"`
}

// AuthenticatorConfig is Keycloak's AuthenticatorConfigRepresentation.
type AuthenticatorConfig struct {
	ID     string            `json:"id"`
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

// FlowByAlias returns the flow with the given alias.
func (c Config) FlowByAlias(alias string) (Flow, bool) {
	for _, f := range c.Flows {
		if f.Alias == alias {
			return f, true
		}
	}
	return Flow{}, false
}

// FlowByID returns the flow with the given id.
func (c Config) FlowByID(id string) (Flow, bool) {
	for _, f := range c.Flows {
		if f.ID == id {
			return f, true
		}
	}
	return Flow{}, false
}

// ConfigByAlias returns the authenticator config with the given alias.
func (c Config) ConfigByAlias(alias string) (AuthenticatorConfig, bool) {
	for _, a := range c.Configs {
		if a.Alias == alias {
			return a, true
		}
	}
	return AuthenticatorConfig{}, false
}

// RequiredActionByAlias returns the required action with the given alias.
func (c Config) RequiredActionByAlias(alias string) (RequiredAction, bool) {
	for _, a := range c.RequiredActions {
		if a.Alias == alias {
			return a, true
		}
	}
	return RequiredAction{}, false
}

// Runs reports whether some top-level flow of c runs an authenticator
// whose id matches: an execution that is not DISABLED, in a flow that is
// not effectively disabled (itself or through a parent's DISABLED
// execution). This is Keycloak's rule for which credential types the
// account console offers.
func (c Config) Runs(match func(id string) bool) bool {
	seen := map[string]bool{}
	var walk func(f Flow) bool
	walk = func(f Flow) bool {
		if seen[f.Alias] {
			return false
		}
		seen[f.Alias] = true
		for _, e := range f.Executions {
			if e.Requirement == Disabled {
				continue
			}
			if e.AuthenticatorFlow {
				if sub, ok := c.FlowByAlias(e.FlowAlias); ok && walk(sub) {
					return true
				}
				continue
			}
			if match(e.Authenticator) {
				return true
			}
		}
		return false
	}
	for _, f := range c.Flows {
		if f.TopLevel && walk(f) {
			return true
		}
	}
	return false
}
