package flow

// Kinds of provider an execution names.
const (
	KindAuthenticator = "authenticator" // a step of a basic flow
	KindClient        = "client"        // a step of a client flow
	KindForm          = "form"          // the page of a form flow
	KindFormAction    = "form-action"   // a step of a form flow
)

// Provider describes an authenticator id as the admin API lists it: its
// display name, what it does, the requirements it may have and, when it
// is configurable, the settings its config holds.
type Provider struct {
	ID           string
	Kind         string
	DisplayName  string
	Description  string
	Configurable bool
	Choices      []string
	Properties   []Property
}

// Property is one setting of an authenticator config.
type Property struct {
	Name, Label, HelpText, Type string
	Default                     any
	Options                     []string
}

var (
	anyChoice       = []string{Required, Alternative, Disabled}
	requiredOrOff   = []string{Required, Disabled}
	alternativeOnly = []string{Alternative, Required, Disabled}
)

// Providers are the authenticators the built-in flows name and those
// Gatehouse runs. The admin API offers only the runnable ones for new
// executions; the others are described so that imported and built-in
// flows naming them can be shown.
var Providers = []Provider{
	{ID: "auth-cookie", Kind: KindAuthenticator, DisplayName: "Cookie", Description: "Signs the user in from the SSO session cookie of an earlier login.", Choices: []string{Required, Alternative, Disabled}},
	{ID: "auth-spnego", Kind: KindAuthenticator, DisplayName: "Kerberos", Description: "Signs the user in with a Kerberos ticket (SPNEGO).", Choices: []string{Disabled, Alternative, Required}},
	{ID: "identity-provider-redirector", Kind: KindAuthenticator, DisplayName: "Identity Provider Redirector", Description: "Sends the user to the identity provider named by kc_idp_hint or by its config.", Configurable: true, Choices: anyChoice,
		Properties: []Property{{Name: "defaultProvider", Label: "Default Identity Provider", HelpText: "Alias of the identity provider to send the user to.", Type: "String"}}},
	{ID: "auth-username-password-form", Kind: KindAuthenticator, DisplayName: "Username Password Form", Description: "Asks for the username (or email) and password on one page.", Choices: []string{Required}},
	{ID: "auth-username-form", Kind: KindAuthenticator, DisplayName: "Username Form", Description: "Asks for the username (or email) alone; a later step checks the credential.", Choices: []string{Required}},
	{ID: "auth-password-form", Kind: KindAuthenticator, DisplayName: "Password Form", Description: "Asks for the password of the user an earlier step identified.", Choices: anyChoice},
	{ID: "conditional-user-role", Kind: KindAuthenticator, DisplayName: "Condition - user role", Description: "True when the user has the given role (or, negated, lacks it).", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{
			{Name: "condUserRole", Label: "User role", HelpText: "The role, as a realm role name or clientId.roleName.", Type: "Role"},
			{Name: "negate", Label: "Negate output", HelpText: "True when the user lacks the role.", Type: "boolean", Default: false},
		}},
	{ID: "conditional-level-of-authentication", Kind: KindAuthenticator, DisplayName: "Condition - Level of Authentication", Description: "True when the login asks for the given level of authentication.", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{
			{Name: "loa-condition-level", Label: "Level of Authentication (LoA)", HelpText: "The level this sub-flow gives.", Type: "int"},
			{Name: "loa-max-age", Label: "Max Age", HelpText: "Seconds the level stays valid in the SSO session.", Type: "int", Default: 36000},
		}},
	{ID: "deny-access-authenticator", Kind: KindAuthenticator, DisplayName: "Deny access", Description: "Refuses the login, with the configured message.", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{{Name: "denyErrorMessage", Label: "Error message", HelpText: "The message the user sees.", Type: "String"}}},
	{ID: "allow-access-authenticator", Kind: KindAuthenticator, DisplayName: "Allow access", Description: "Lets the login through.", Choices: requiredOrOff},
	{ID: "user-session-limits", Kind: KindAuthenticator, DisplayName: "User session count limiter", Description: "Limits how many sessions a user may have in the realm and per client.", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{
			{Name: "userRealmLimit", Label: "Maximum concurrent sessions for each user within this realm", HelpText: "0 for no limit.", Type: "int", Default: 3},
			{Name: "userClientLimit", Label: "Maximum concurrent sessions for each user per client", HelpText: "0 for no limit.", Type: "int", Default: 0},
			{Name: "behavior", Label: "Behavior when user session limit is exceeded", HelpText: "Refuse the new session, or end the oldest.", Type: "List", Default: "Deny new session", Options: []string{"Deny new session", "Terminate oldest session"}},
			{Name: "errorMessage", Label: "Optional custom error message", HelpText: "The message shown when a new session is refused.", Type: "String"},
		}},
	{ID: "auth-otp-form", Kind: KindAuthenticator, DisplayName: "OTP Form", Description: "Asks for a one-time code from the user's authenticator application.", Choices: anyChoice},
	{ID: "conditional-user-configured", Kind: KindAuthenticator, DisplayName: "Condition - user configured", Description: "True when the user has set up the other steps of the sub-flow.", Choices: requiredOrOff},
	{ID: "conditional-credential", Kind: KindAuthenticator, DisplayName: "Condition - credential", Description: "True when the user did, or did not, already use one of the given credential types in this login.", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{
			{Name: "credentials", Label: "Credentials", HelpText: "Credential types the condition looks for.", Type: "MultivaluedList", Options: []string{"password", "otp", "webauthn", "webauthn-passwordless", "recovery-authn-codes"}},
			{Name: "included", Label: "Included", HelpText: "On: true when one of them was used. Off: true when none was.", Type: "boolean", Default: false},
		}},
	{ID: "webauthn-authenticator", Kind: KindAuthenticator, DisplayName: "WebAuthn Authenticator", Description: "Asks for a security key or passkey as a second factor.", Choices: anyChoice},
	{ID: "webauthn-authenticator-passwordless", Kind: KindAuthenticator, DisplayName: "WebAuthn Passwordless Authenticator", Description: "Logs the user in with a passkey, without a password; the passkey names the user when no earlier step did.", Choices: anyChoice},
	{ID: "auth-recovery-authn-code-form", Kind: KindAuthenticator, DisplayName: "Recovery Authentication Code Form", Description: "Asks for one of the user's recovery codes.", Choices: anyChoice},
	{ID: "direct-grant-validate-username", Kind: KindAuthenticator, DisplayName: "Username Validation", Description: "Checks the username of a password grant and that the user may log in.", Choices: []string{Required}},
	{ID: "direct-grant-validate-password", Kind: KindAuthenticator, DisplayName: "Password", Description: "Checks the password of a password grant.", Choices: requiredOrOff},
	{ID: "direct-grant-validate-otp", Kind: KindAuthenticator, DisplayName: "OTP", Description: "Checks the one-time code of a password grant.", Choices: requiredOrOff},
	{ID: "reset-credentials-choose-user", Kind: KindAuthenticator, DisplayName: "Choose User", Description: "Asks for the username or email of the account whose credentials are reset.", Choices: []string{Required}},
	{ID: "reset-credential-email", Kind: KindAuthenticator, DisplayName: "Send Reset Email", Description: "Sends the user an email with a link that continues the reset.", Choices: requiredOrOff},
	{ID: "reset-password", Kind: KindAuthenticator, DisplayName: "Reset Password", Description: "Has the user choose a new password.", Choices: requiredOrOff},
	{ID: "reset-otp", Kind: KindAuthenticator, DisplayName: "Reset OTP", Description: "Removes the user's OTP credentials so that a new one is set up.", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{{Name: "action_on_otp_reset_flag", Label: "Action on OTP reset", HelpText: "Whether none, one (the user picks it) or all OTP credentials of the user are removed; a new one is always set up.", Type: "List", Default: "Remove none", Options: []string{"Remove none", "Remove one", "Remove all"}}}},
	{ID: "docker-http-basic-authenticator", Kind: KindAuthenticator, DisplayName: "Docker Authenticator", Description: "HTTP Basic authentication for the Docker registry protocol.", Choices: []string{Required}},
	{ID: "http-basic-authenticator", Kind: KindAuthenticator, DisplayName: "HTTP Basic Authentication", Description: "Checks a username and password from the Authorization header.", Choices: anyChoice},
	{ID: "idp-review-profile", Kind: KindAuthenticator, DisplayName: "Review Profile", Description: "Lets the user review the profile brought by an identity provider.", Configurable: true, Choices: requiredOrOff,
		Properties: []Property{{Name: "update.profile.on.first.login", Label: "Update profile on first login", HelpText: "When the user reviews the profile: always (on), when something is missing (missing), or never (off).", Type: "List", Default: "missing", Options: []string{"on", "missing", "off"}}}},
	{ID: "idp-create-user-if-unique", Kind: KindAuthenticator, DisplayName: "Create User If Unique", Description: "Creates the user unless one with the same username or email exists.", Configurable: true, Choices: anyChoice,
		Properties: []Property{{Name: "require.password.update.after.registration", Label: "Require password update after registration", HelpText: "Whether the new user must set a password.", Type: "boolean", Default: false}}},
	{ID: "idp-confirm-link", Kind: KindAuthenticator, DisplayName: "Confirm link existing account", Description: "Asks the user to confirm linking to the existing account.", Choices: anyChoice},
	{ID: "idp-email-verification", Kind: KindAuthenticator, DisplayName: "Verify existing account by Email", Description: "Confirms the existing account through a link sent by email.", Choices: anyChoice},
	{ID: "idp-username-password-form", Kind: KindAuthenticator, DisplayName: "Username Password Form for identity provider reauthentication", Description: "Has the user log in to the existing account to link it.", Choices: []string{Required}},
	{ID: "registration-page-form", Kind: KindForm, DisplayName: "Registration Page", Description: "The registration page; its form actions run when it is submitted.", Choices: requiredOrOff},
	{ID: "registration-user-creation", Kind: KindFormAction, DisplayName: "Registration User Profile Creation", Description: "Checks the profile attributes entered and creates the user.", Choices: requiredOrOff},
	{ID: "registration-password-action", Kind: KindFormAction, DisplayName: "Password Validation", Description: "Checks that the passwords match and meet the realm's password policy.", Choices: requiredOrOff},
	{ID: "registration-recaptcha-action", Kind: KindFormAction, DisplayName: "reCAPTCHA", Description: "Adds a reCAPTCHA to the registration page.", Configurable: true, Choices: requiredOrOff},
	{ID: "registration-terms-and-conditions", Kind: KindFormAction, DisplayName: "Terms and conditions", Description: "Asks the user to accept the terms and conditions.", Choices: requiredOrOff},
	{ID: "client-secret", Kind: KindClient, DisplayName: "Client Id and Secret", Description: "Authenticates the client by its secret, in the Authorization header or the form.", Choices: alternativeOnly},
	{ID: "client-jwt", Kind: KindClient, DisplayName: "Signed Jwt", Description: "Authenticates the client by a JWT signed with its private key.", Choices: alternativeOnly},
	{ID: "client-secret-jwt", Kind: KindClient, DisplayName: "Signed Jwt with Client Secret", Description: "Authenticates the client by a JWT signed with its secret.", Choices: alternativeOnly},
	{ID: "client-x509", Kind: KindClient, DisplayName: "X509 Certificate", Description: "Authenticates the client by its TLS client certificate.", Choices: alternativeOnly},
}

// ProviderByID returns the provider with the given id.
func ProviderByID(id string) (Provider, bool) {
	for _, p := range Providers {
		if p.ID == id {
			return p, true
		}
	}
	return Provider{}, false
}
