package flow

import (
	"fmt"
	"slices"
)

// Runnable is the set of authenticator ids Gatehouse's flow engine runs in
// user authentication flows (browser, direct grant, registration, reset
// credentials). It is the one list: the engine registers an implementation
// for each id here and for no other, and a flow naming any other id in an
// execution that is not DISABLED cannot be bound (CheckBindable).
var Runnable = map[string]bool{
	"auth-cookie":                         true,
	"identity-provider-redirector":        true,
	"idp-review-profile":                  true,
	"idp-create-user-if-unique":           true,
	"idp-confirm-link":                    true,
	"idp-email-verification":              true, // mails the existing account a link; attempted without mail settings
	"idp-username-password-form":          true,
	"auth-username-password-form":         true,
	"auth-username-form":                  true,
	"auth-password-form":                  true,
	"conditional-user-role":               true,
	"conditional-level-of-authentication": true,
	"deny-access-authenticator":           true,
	"allow-access-authenticator":          true,
	"user-session-limits":                 true,
	"conditional-user-configured":         true,
	"conditional-credential":              true,
	"auth-otp-form":                       true,
	"direct-grant-validate-username":      true,
	"direct-grant-validate-password":      true,
	"direct-grant-validate-otp":           true,
	"registration-page-form":              true,
	"registration-user-creation":          true,
	"registration-password-action":        true,
	"registration-recaptcha-action":       true, // a configured one is refused: Gatehouse does not call the service
	"registration-terms-and-conditions":   true,
	"reset-credentials-choose-user":       true,
	"reset-credential-email":              true,
	"reset-password":                      true,
	"reset-otp":                           true,
	"webauthn-authenticator":              true,
	"webauthn-authenticator-passwordless": true,
}

// Requirements lists the requirement values an execution may have.
var Requirements = []string{Required, Alternative, Disabled, Conditional}

// Error is a flow model that is not well formed or cannot be bound. Msg is
// written for the administrator, as Keycloak's errorMessage.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Validate checks that c holds together: flow aliases are unique and not
// empty, every execution's requirement is known, every sub-flow alias and
// every authenticator config alias resolves, no flow contains itself, and
// every binding names a top-level flow. It says nothing about whether
// Gatehouse runs the authenticators (CheckBindable does).
func Validate(c Config) error {
	seen := map[string]bool{}
	for _, f := range c.Flows {
		if f.Alias == "" {
			return errorf("Flow alias is missing")
		}
		if seen[f.Alias] {
			return errorf("Flow %s already exists", f.Alias)
		}
		seen[f.Alias] = true
	}
	configs := map[string]bool{}
	for _, a := range c.Configs {
		configs[a.Alias] = true
	}
	for _, f := range c.Flows {
		for _, e := range f.Executions {
			if !slices.Contains(Requirements, e.Requirement) {
				return errorf("Flow %s: requirement %q is not one of %v", f.Alias, e.Requirement, Requirements)
			}
			if e.AuthenticatorFlow {
				if _, ok := c.FlowByAlias(e.FlowAlias); !ok {
					return errorf("Flow %s: sub-flow %s does not exist", f.Alias, e.FlowAlias)
				}
			} else if e.Authenticator == "" {
				return errorf("Flow %s: an execution names no authenticator", f.Alias)
			}
			if e.AuthenticatorConfig != "" && !configs[e.AuthenticatorConfig] {
				return errorf("Flow %s: authenticator config %s does not exist", f.Alias, e.AuthenticatorConfig)
			}
		}
	}
	for _, f := range c.Flows {
		if cycle(c, f.Alias, nil) {
			return errorf("Flow %s contains itself", f.Alias)
		}
	}
	for _, b := range c.Bindings.Refs() {
		if *b.Alias == "" {
			continue
		}
		f, ok := c.FlowByAlias(*b.Alias)
		if !ok {
			return errorf("%s %s does not exist", b.Name, *b.Alias)
		}
		if !f.TopLevel {
			return errorf("%s %s is not a top-level flow", b.Name, *b.Alias)
		}
	}
	return nil
}

func cycle(c Config, alias string, path []string) bool {
	if slices.Contains(path, alias) {
		return true
	}
	f, _ := c.FlowByAlias(alias)
	for _, e := range f.Executions {
		if e.AuthenticatorFlow && cycle(c, e.FlowAlias, append(path, alias)) {
			return true
		}
	}
	return false
}

// BindingRef is one binding of a realm: its name in Keycloak's realm
// representation (browserFlow…), the alias it holds, and the built-in flow
// it names by default.
type BindingRef struct {
	Name    string
	Alias   *string
	Default string
}

// Refs returns the realm's seven bindings, in Keycloak's order.
func (b *Bindings) Refs() []BindingRef {
	return []BindingRef{
		{"browserFlow", &b.Browser, BrowserFlow}, {"registrationFlow", &b.Registration, RegistrationFlow},
		{"directGrantFlow", &b.DirectGrant, DirectGrantFlow}, {"resetCredentialsFlow", &b.ResetCredentials, ResetCredentialsFlow},
		{"clientAuthenticationFlow", &b.ClientAuthentication, ClientsFlow},
		{"dockerAuthenticationFlow", &b.Docker, DockerAuthFlow}, {"firstBrokerLoginFlow", &b.FirstBrokerLogin, FirstBrokerLoginFlow},
	}
}

// Binds reports whether some binding names the flow alias.
func (b Bindings) Binds(alias string) bool {
	for _, r := range b.Refs() {
		if *r.Alias == alias {
			return true
		}
	}
	return false
}

// CheckBindable says whether the top-level flow alias can serve a login: it
// exists, is a top-level flow, and every execution reachable from it that
// is not DISABLED names an authenticator Gatehouse runs (Runnable). The
// error names the first that is not. A client-flow is only checked for its
// shape: the token endpoint authenticates a client by the client's own
// authenticator type, not by walking the realm's client flow.
func CheckBindable(c Config, alias string) error {
	f, ok := c.FlowByAlias(alias)
	if !ok {
		return errorf("Flow %s does not exist", alias)
	}
	if !f.TopLevel {
		return errorf("Flow %s is not a top-level flow", alias)
	}
	if f.ProviderID == ClientFlow {
		return checkRunnable(c, f, nil, nil)
	}
	return checkRunnable(c, f, Runnable, nil)
}

func checkRunnable(c Config, f Flow, runs map[string]bool, path []string) error {
	if slices.Contains(path, f.Alias) {
		return errorf("Flow %s contains itself", f.Alias)
	}
	path = append(path, f.Alias)
	for _, e := range f.Executions {
		if e.Requirement == Disabled {
			continue
		}
		// A form flow's execution names the page's authenticator too.
		if runs != nil && e.Authenticator != "" && !runs[e.Authenticator] {
			return errorf("Flow %s uses authenticator %s, which Gatehouse does not run", path[0], e.Authenticator)
		}
		if !e.AuthenticatorFlow {
			continue
		}
		sub, ok := c.FlowByAlias(e.FlowAlias)
		if !ok {
			return errorf("Flow %s: sub-flow %s does not exist", f.Alias, e.FlowAlias)
		}
		if err := checkRunnable(c, sub, runs, path); err != nil {
			return err
		}
	}
	return nil
}

// NotRunnable returns, for each binding Gatehouse serves with its flow
// engine (browser, registration, direct grant, reset credentials), the
// reason its flow cannot run, by binding name. An import keeps such a realm as it came and reports these;
// a login through such a binding fails with this reason rather than
// skipping the step.
func NotRunnable(c Config) map[string]string {
	out := map[string]string{}
	for _, b := range c.Bindings.Refs() {
		if *b.Alias == "" || !Served(b.Name) {
			continue
		}
		if err := CheckBindable(c, *b.Alias); err != nil {
			out[b.Name] = err.Error()
		}
	}
	return out
}

// Served reports whether Gatehouse's flow engine runs the flow of the named
// binding (browserFlow…). The docker and first broker login flows are kept
// and exported but no endpoint runs them; client authentication follows
// each client's authenticator type.
func Served(binding string) bool {
	switch binding {
	case "browserFlow", "registrationFlow", "directGrantFlow", "resetCredentialsFlow":
		return true
	}
	return false
}

// Upgrade brings a model written by an older Keycloak to Keycloak 26's
// shape, as Keycloak's import does: OPTIONAL executions (before Keycloak 8)
// become conditional sub-flows (UpgradeOptional), and the registration
// form's "registration-profile-action" step, whose work the user creation
// step took over in Keycloak 24, is removed.
func Upgrade(c *Config) {
	UpgradeOptional(c)
	for i := range c.Flows {
		c.Flows[i].Executions = slices.DeleteFunc(c.Flows[i].Executions, func(e Execution) bool {
			return !e.AuthenticatorFlow && e.Authenticator == "registration-profile-action"
		})
	}
}

// UpgradeOptional rewrites the OPTIONAL executions of files written before
// Keycloak 8 as Keycloak's import does: each becomes a CONDITIONAL sub-flow
// "<flow> - <authenticator> - Conditional" that runs the authenticator when
// the user has it configured.
func UpgradeOptional(c *Config) {
	var added []Flow
	for i := range c.Flows {
		f := &c.Flows[i]
		for j, e := range f.Executions {
			if e.Requirement != "OPTIONAL" {
				continue
			}
			alias := f.Alias + " - " + e.Authenticator + " - Conditional"
			inner := e
			inner.Requirement, inner.Priority, inner.ID = Required, 20, ""
			added = append(added, Flow{
				Alias:       alias,
				Description: "Flow to determine if the " + e.Authenticator + " authenticator should be used or not.",
				ProviderID:  BasicFlow, BuiltIn: f.BuiltIn,
				Executions: []Execution{auth("conditional-user-configured", Required, 10), inner},
			})
			f.Executions[j] = Execution{AuthenticatorFlow: true, Requirement: Conditional, Priority: e.Priority, FlowAlias: alias}
		}
	}
	c.Flows = append(c.Flows, added...)
}
