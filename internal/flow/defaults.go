package flow

// Aliases of the built-in top-level flows, bound by default.
const (
	BrowserFlow          = "browser"
	DirectGrantFlow      = "direct grant"
	RegistrationFlow     = "registration"
	RegistrationFormFlow = "registration form"
	ResetCredentialsFlow = "reset credentials"
	ClientsFlow          = "clients"
	FirstBrokerLoginFlow = "first broker login"
	DockerAuthFlow       = "docker auth"
	SAMLECPFlow          = "saml ecp"
)

// Defaults returns the built-in authentication model every new realm gets,
// as a fresh Keycloak 26 realm exports it: the flows (built in, so they can
// be copied but not edited or deleted), the authenticator configs they
// name, the required actions and the bindings. Ids are left empty; a realm
// gets fresh ones when it is created (AssignIDs).
//
// The organization steps Keycloak 26 adds to the browser and first broker
// login flows of realms with organizations are not part of it: Gatehouse
// realms have no organizations, and Keycloak leaves them out the same way
// where organizations do not apply (the master realm, the feature off).
func Defaults() Config {
	return Config{
		Flows: []Flow{
			builtIn("Account verification options", "Method with which to verify the existing account", false,
				auth("idp-email-verification", Alternative, 10),
				sub("Verify Existing Account by Re-authentication", Alternative, 20)),
			builtIn("Browser - Conditional 2FA", "Flow to determine if any 2FA is required for the authentication", false,
				auth("conditional-user-configured", Required, 10),
				withConfig(auth("conditional-credential", Required, 20), "browser-conditional-credential"),
				auth("auth-otp-form", Alternative, 30),
				auth("webauthn-authenticator", Disabled, 40),
				auth("auth-recovery-authn-code-form", Disabled, 50)),
			builtIn("Direct Grant - Conditional OTP", "Flow to determine if the OTP is required for the authentication", false,
				auth("conditional-user-configured", Required, 10),
				auth("direct-grant-validate-otp", Required, 20)),
			builtIn("First broker login - Conditional 2FA", "Flow to determine if any 2FA is required for the authentication", false,
				auth("conditional-user-configured", Required, 10),
				withConfig(auth("conditional-credential", Required, 20), "first-broker-login-conditional-credential"),
				auth("auth-otp-form", Alternative, 30),
				auth("webauthn-authenticator", Disabled, 40),
				auth("auth-recovery-authn-code-form", Disabled, 50)),
			builtIn("Handle Existing Account", "Handle what to do if there is existing account with same email/username like authenticated identity provider", false,
				auth("idp-confirm-link", Required, 10),
				sub("Account verification options", Required, 20)),
			builtIn("Reset - Conditional OTP", "Flow to determine if the OTP should be reset or not. Set to REQUIRED to force.", false,
				auth("conditional-user-configured", Required, 10),
				auth("reset-otp", Required, 20)),
			builtIn("User creation or linking", "Flow for the existing/non-existing user alternatives", false,
				withConfig(auth("idp-create-user-if-unique", Alternative, 10), "create unique user config"),
				sub("Handle Existing Account", Alternative, 20)),
			builtIn("Verify Existing Account by Re-authentication", "Reauthentication of existing account", false,
				auth("idp-username-password-form", Required, 10),
				sub("First broker login - Conditional 2FA", Conditional, 20)),
			builtIn(BrowserFlow, "Browser based authentication", true,
				auth("auth-cookie", Alternative, 10),
				auth("auth-spnego", Disabled, 20),
				auth("identity-provider-redirector", Alternative, 25),
				sub("forms", Alternative, 30)),
			clientFlow(ClientsFlow, "Base authentication for clients",
				auth("client-secret", Alternative, 10),
				auth("client-jwt", Alternative, 20),
				auth("client-secret-jwt", Alternative, 30),
				auth("client-x509", Alternative, 40)),
			builtIn(DirectGrantFlow, "OpenID Connect Resource Owner Grant", true,
				auth("direct-grant-validate-username", Required, 10),
				auth("direct-grant-validate-password", Required, 20),
				sub("Direct Grant - Conditional OTP", Conditional, 30)),
			builtIn(DockerAuthFlow, "Used by Docker clients to authenticate against the IDP", true,
				auth("docker-http-basic-authenticator", Required, 10)),
			builtIn(FirstBrokerLoginFlow, "Actions taken after first broker login with identity provider account, which is not yet linked to any Keycloak account", true,
				withConfig(auth("idp-review-profile", Required, 10), "review profile config"),
				sub("User creation or linking", Required, 20)),
			builtIn("forms", "Username, password, otp and other auth forms.", false,
				auth("auth-username-password-form", Required, 10),
				sub("Browser - Conditional 2FA", Conditional, 20)),
			builtIn(RegistrationFlow, "Registration flow", true,
				// Keycloak names the form flow's page authenticator on the
				// execution that holds the form flow.
				Execution{Authenticator: "registration-page-form", AuthenticatorFlow: true, Requirement: Required,
					Priority: 10, FlowAlias: RegistrationFormFlow}),
			formFlow(RegistrationFormFlow, "Registration form",
				auth("registration-user-creation", Required, 20),
				auth("registration-password-action", Required, 50),
				auth("registration-recaptcha-action", Disabled, 60),
				auth("registration-terms-and-conditions", Disabled, 70)),
			builtIn(ResetCredentialsFlow, "Reset credentials for a user if they forgot their password or something", true,
				auth("reset-credentials-choose-user", Required, 10),
				auth("reset-credential-email", Required, 20),
				auth("reset-password", Required, 30),
				sub("Reset - Conditional OTP", Conditional, 40)),
			builtIn(SAMLECPFlow, "SAML ECP Profile Authentication Flow", true,
				auth("http-basic-authenticator", Required, 10)),
		},
		Configs: []AuthenticatorConfig{
			{Alias: "browser-conditional-credential", Config: map[string]string{"credentials": "webauthn-passwordless"}},
			{Alias: "create unique user config", Config: map[string]string{"require.password.update.after.registration": "false"}},
			{Alias: "first-broker-login-conditional-credential", Config: map[string]string{"credentials": "webauthn-passwordless"}},
			{Alias: "review profile config", Config: map[string]string{"update.profile.on.first.login": "missing"}},
		},
		RequiredActions: DefaultRequiredActions(),
		Bindings: Bindings{
			Browser:              BrowserFlow,
			Registration:         RegistrationFlow,
			DirectGrant:          DirectGrantFlow,
			ResetCredentials:     ResetCredentialsFlow,
			ClientAuthentication: ClientsFlow,
			Docker:               DockerAuthFlow,
			FirstBrokerLogin:     FirstBrokerLoginFlow,
		},
	}
}

// DefaultRequiredActions returns the required actions Keycloak 26 registers
// in a new realm, in priority order.
func DefaultRequiredActions() []RequiredAction {
	ra := func(alias, name string, enabled bool, priority int) RequiredAction {
		return RequiredAction{Alias: alias, Name: name, ProviderID: alias, Enabled: enabled, Priority: priority, Config: map[string]string{}}
	}
	return []RequiredAction{
		ra("CONFIGURE_TOTP", "Configure OTP", true, 10),
		ra("TERMS_AND_CONDITIONS", "Terms and Conditions", false, 20),
		ra("UPDATE_PASSWORD", "Update Password", true, 30),
		ra("UPDATE_PROFILE", "Update Profile", true, 40),
		ra("VERIFY_EMAIL", "Verify Email", true, 50),
		ra("delete_account", "Delete Account", false, 60),
		ra("UPDATE_EMAIL", "Update Email", false, 70),
		ra("webauthn-register", "Webauthn Register", true, 80),
		ra("webauthn-register-passwordless", "Webauthn Register Passwordless", true, 90),
		ra("VERIFY_PROFILE", "Verify Profile", true, 100),
		ra("delete_credential", "Delete Credential", true, 110),
		ra("idp_link", "Linking Identity Provider", true, 120),
		ra("CONFIGURE_RECOVERY_AUTHN_CODES", "Recovery Authentication Codes", true, 130),
		ra("update_user_locale", "Update User Locale", true, 1000),
	}
}

func builtIn(alias, description string, topLevel bool, execs ...Execution) Flow {
	return Flow{Alias: alias, Description: description, ProviderID: BasicFlow, TopLevel: topLevel, BuiltIn: true, Executions: execs}
}

func clientFlow(alias, description string, execs ...Execution) Flow {
	f := builtIn(alias, description, true, execs...)
	f.ProviderID = ClientFlow
	return f
}

func formFlow(alias, description string, execs ...Execution) Flow {
	f := builtIn(alias, description, false, execs...)
	f.ProviderID = FormFlow
	return f
}

func auth(authenticator, requirement string, priority int) Execution {
	return Execution{Authenticator: authenticator, Requirement: requirement, Priority: priority}
}

func sub(flowAlias, requirement string, priority int) Execution {
	return Execution{AuthenticatorFlow: true, Requirement: requirement, Priority: priority, FlowAlias: flowAlias}
}

func withConfig(e Execution, configAlias string) Execution {
	e.AuthenticatorConfig = configAlias
	return e
}

// AssignIDs gives every flow, authenticator config and execution that has
// no id one from newID, so that the admin API can address them.
func (c *Config) AssignIDs(newID func() string) {
	for i := range c.Flows {
		f := &c.Flows[i]
		if f.ID == "" {
			f.ID = newID()
		}
		for j := range f.Executions {
			if f.Executions[j].ID == "" {
				f.Executions[j].ID = newID()
			}
		}
	}
	for i := range c.Configs {
		if c.Configs[i].ID == "" {
			c.Configs[i].ID = newID()
		}
	}
}

// AddBuiltIn adds the flow alias of the built-in model from, with the
// sub-flows and authenticator configs it names, to c; parts whose alias c
// already has are left as c has them.
func AddBuiltIn(c *Config, from Config, alias string) {
	if _, ok := c.FlowByAlias(alias); ok {
		return
	}
	f, ok := from.FlowByAlias(alias)
	if !ok {
		return
	}
	c.Flows = append(c.Flows, f)
	for _, e := range f.Executions {
		if e.AuthenticatorConfig != "" {
			if _, ok := c.ConfigByAlias(e.AuthenticatorConfig); !ok {
				if a, ok := from.ConfigByAlias(e.AuthenticatorConfig); ok {
					c.Configs = append(c.Configs, a)
				}
			}
		}
		if e.AuthenticatorFlow {
			AddBuiltIn(c, from, e.FlowAlias)
		}
	}
}

// AddMissing adds to c the top-level flows and required actions of the
// built-in model from that c lacks, as Keycloak's migrations add those
// introduced after a realm file was written.
func AddMissing(c *Config, from Config) {
	for _, f := range from.Flows {
		if f.TopLevel {
			AddBuiltIn(c, from, f.Alias)
		}
	}
	for _, a := range from.RequiredActions {
		if _, ok := c.RequiredActionByAlias(a.Alias); !ok {
			c.RequiredActions = append(c.RequiredActions, a)
		}
	}
}
