package console

import (
	"errors"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The realm list, realm creation and the realm settings tabs.

// realmsPage lists the realms the administrator administers. A realm's own
// administrator, who has one realm and cannot create any, goes straight to it.
// landing is the console's address: as in Keycloak, it opens the realm the
// administrator signed in to, at its first section, with the realm picker
// in the header. An administrator who may not see that realm gets the list
// of the realms they may see.
func (h *Handler) landing(q *rq) error {
	v := q.view("Realms", "realms", "")
	if slices.Contains(v.Realms, q.login.Name) {
		return q.redirect(v.Console+"/"+seg(q.login.Name)+"/", "")
	}
	return h.realmsPage(q)
}

// realmsPage lists the realms the administrator may see.
func (h *Handler) realmsPage(q *rq) error {
	v := q.view("Realms", "realms", "")
	v.CanCreateRealm = q.canCreateRealm()
	if len(v.Realms) == 1 && !v.CanCreateRealm {
		return q.redirect(v.Console+"/"+seg(v.Realms[0])+"/", "")
	}
	return q.render(http.StatusOK, "realms.html", v)
}

// createRealmData is the realm creation form.
type createRealmData struct {
	Name, DisplayName string
	Enabled           bool
}

func (h *Handler) createRealm(q *rq) error {
	v := q.view("Create realm", "realms", "")
	v.CanCreateRealm = q.canCreateRealm()
	d := createRealmData{Enabled: true}
	v.Data = &d
	if !q.post() {
		return q.render(http.StatusOK, "create-realm.html", v)
	}
	d = createRealmData{Name: q.form("realm"), DisplayName: q.form("displayName"), Enabled: q.checked("enabled")}
	if d.Name == "" {
		return q.refused(v, "create-realm.html", &fieldError{"realm", "Enter a name for the realm."})
	}
	x := rep.Realm{Realm: d.Name, Enabled: &d.Enabled}
	if d.DisplayName != "" {
		x.DisplayName = &d.DisplayName
	}
	_, err := q.api(http.MethodPost, "/admin/realms", x, nil)
	var ae *apiError
	if errors.As(err, &ae) {
		ae.Field = "realm"
		if ae.Status == http.StatusConflict {
			ae.Message = "A realm named " + d.Name + " already exists."
		}
	}
	if err != nil {
		return q.refused(v, "create-realm.html", err)
	}
	return q.redirect(v.Console+"/"+seg(d.Name)+"/realm-settings", "created")
}

// A realm settings tab: its title, its settings, and where it posts.
type realmTab struct {
	tab, title, path string
	specs            []spec
	// options fills the choices of selects that depend on the realm.
	options func(q *rq, specs []spec) []spec
	// nav and tabs place a tab of realm settings shown in another section
	// (Authentication's policies); "" means the realm settings' own.
	nav  string
	tabs func(current string) []tabLink
}

var (
	generalTab = realmTab{tab: "general", title: "General", path: "/realm-settings", specs: []spec{
		{Kind: kindText, Name: "displayName", Label: "Display name"},
		{Kind: kindBool, Name: "enabled", Label: "Enabled", Help: "Users and clients can only access a realm if it is enabled."},
		{Kind: kindSelect, Name: "sslRequired", Label: "Require SSL", Help: "Is HTTPS required? 'None' means HTTPS is not required for any client IP address. 'External requests' means localhost and private IP addresses can access without HTTPS. 'All requests' means HTTPS is required for all IP addresses.",
			Options: []option{{Value: "none", Label: "None"}, {Value: "external", Label: "External requests"}, {Value: "all", Label: "All requests"}}},
		{Kind: kindBool, Name: "userManagedAccessAllowed", Label: "User-managed access", Help: "If enabled, users are allowed to manage their resources and permissions using the Account Console."},
	}}
	loginTab = realmTab{tab: "login", title: "Login", path: "/realm-settings/login", specs: []spec{
		{Kind: kindSection, Label: "Login screen customization"},
		{Kind: kindBool, Name: "registrationAllowed", Label: "User registration", Help: "Enable/disable the registration page. A link for registration will show on the login page too."},
		{Kind: kindBool, Name: "resetPasswordAllowed", Label: "Forgot password", Help: "Show a link on the login page for the user to click on when they have forgotten their credentials."},
		{Kind: kindBool, Name: "rememberMe", Label: "Remember me", Help: "Show checkbox on the login page to allow the user to remain logged in between browser restarts until the session expires."},
		{Kind: kindSection, Label: "Email settings"},
		{Kind: kindBool, Name: "registrationEmailAsUsername", Label: "Email as username", Help: "Allow users to set email as username."},
		{Kind: kindBool, Name: "loginWithEmailAllowed", Label: "Login with email", Help: "Allow users to log in with their email address."},
		{Kind: kindBool, Name: "duplicateEmailsAllowed", Label: "Duplicate emails", Help: "Allow multiple users to have the same email address."},
		{Kind: kindBool, Name: "verifyEmail", Label: "Verify email", Help: "Require user to verify their email address after initial login or after address changes are submitted."},
		{Kind: kindSection, Label: "User info settings"},
		{Kind: kindBool, Name: "editUsernameAllowed", Label: "Edit username", Help: "Allow the user to edit their username."},
	}}
	tokensTab = realmTab{tab: "tokens", title: "Tokens", path: "/realm-settings/tokens", specs: []spec{
		{Kind: kindSection, Label: "General"},
		{Kind: kindSelect, Name: "defaultSignatureAlgorithm", Label: "Default signature algorithm", Help: "Default algorithm used to sign tokens for the realm."},
		{Kind: kindSection, Label: "Refresh tokens"},
		{Kind: kindBool, Name: "revokeRefreshToken", Label: "Revoke refresh token", Help: "If enabled, a refresh token can only be used up to 'Refresh token max reuse' times and is revoked when a different token is used. Otherwise, refresh tokens are not revoked when used and can be used multiple times."},
		{Kind: kindNumber, Name: "refreshTokenMaxReuse", Label: "Refresh token max reuse", Help: "Maximum number of times a refresh token can be reused. When a different token is used, revocation is immediate."},
		{Kind: kindSection, Label: "Access tokens"},
		{Kind: kindDuration, Name: "accessTokenLifespan", Label: "Access token lifespan", Help: "Max time before an access token is expired. This value is recommended to be short relative to the SSO timeout."},
		{Kind: kindDuration, Name: "accessTokenLifespanForImplicitFlow", Label: "Access token lifespan for implicit flow", Help: "Max time before an access token issued during the OpenID Connect implicit flow is expired."},
		{Kind: kindDuration, Name: "accessCodeLifespan", Label: "Client login timeout", Help: "Max time a client has to finish the access token protocol. This should normally be 1 minute."},
		{Kind: kindDuration, Name: "oauth2DeviceCodeLifespan", Label: "OAuth 2.0 Device Code Lifespan", Help: "Max time before the device code and user code are expired. This value needs to be a long enough lifetime to be usable (allowing the user to retrieve their secondary device, navigate to the verification URI, login, etc.), but should be sufficiently short to limit the usability of a code obtained for phishing."},
		{Kind: kindNumber, Name: "oauth2DevicePollingInterval", Label: "OAuth 2.0 Device Polling Interval", Help: "The minimum amount of time in seconds that the client should wait between polling requests to the token endpoint."},
		{Kind: kindSection, Label: "Login timeouts"},
		{Kind: kindDuration, Name: "accessCodeLifespanLogin", Label: "Login timeout", Help: "Max time a user has to complete a login. This is recommended to be relatively long, such as 30 minutes or more."},
		{Kind: kindDuration, Name: "accessCodeLifespanUserAction", Label: "Login action timeout", Help: "Max time a user has to complete login related actions like update password or configure totp. This is recommended to be relatively long, such as 5 minutes or more."},
		{Kind: kindSection, Label: "Action tokens"},
		{Kind: kindDuration, Name: "actionTokenGeneratedByUserLifespan", Label: "User-initiated action lifespan", Help: "Maximum time before an action permit sent by a user (such as a forgot password e-mail) is expired."},
		{Kind: kindDuration, Name: "actionTokenGeneratedByAdminLifespan", Label: "Default admin-initiated action lifespan", Help: "Maximum time before an action permit sent to a user by administrator is expired."},
	}, options: signatureAlgorithms}
	sessionsTab = realmTab{tab: "sessions", title: "Sessions", path: "/realm-settings/sessions", specs: []spec{
		{Kind: kindSection, Label: "SSO session settings"},
		{Kind: kindDuration, Name: "ssoSessionIdleTimeout", Label: "SSO session idle", Help: "Time a session is allowed to be idle before it expires. Tokens and browser sessions are invalidated when a session is expired."},
		{Kind: kindDuration, Name: "ssoSessionMaxLifespan", Label: "SSO session max", Help: "Max time before a session is expired. Tokens and browser sessions are invalidated when a session is expired."},
		{Kind: kindDuration, Name: "ssoSessionIdleTimeoutRememberMe", Label: "SSO session idle remember me", Help: "Time a remember me session is allowed to be idle before it expires. If set to 0, the SSO session idle value is used."},
		{Kind: kindDuration, Name: "ssoSessionMaxLifespanRememberMe", Label: "SSO session max remember me", Help: "Max time before a session is expired when a user has set the remember me option. If set to 0, the SSO session max value is used."},
		{Kind: kindSection, Label: "Client session settings"},
		{Kind: kindDuration, Name: "clientSessionIdleTimeout", Label: "Client session idle", Help: "Time a client session is allowed to be idle before it expires. If set to 0, the SSO session idle value is used."},
		{Kind: kindDuration, Name: "clientSessionMaxLifespan", Label: "Client session max", Help: "Max time before a client session is expired. If set to 0, the SSO session max value is used."},
		{Kind: kindSection, Label: "Offline session settings"},
		{Kind: kindDuration, Name: "offlineSessionIdleTimeout", Label: "Offline session idle", Help: "Time an offline session is allowed to be idle before it expires. You need to use offline token to refresh at least once within this period; otherwise offline session will expire."},
		{Kind: kindBool, Name: "offlineSessionMaxLifespanEnabled", Label: "Offline session max limited", Help: "Enable offline session max."},
		{Kind: kindDuration, Name: "offlineSessionMaxLifespan", Label: "Offline session max", Help: "Max time before an offline session is expired regardless of activity, when 'Offline session max limited' is on."},
		{Kind: kindDuration, Name: "clientOfflineSessionIdleTimeout", Label: "Client offline session idle", Help: "Time a client offline session is allowed to be idle before it expires. If set to 0, the offline session idle value is used."},
		{Kind: kindDuration, Name: "clientOfflineSessionMaxLifespan", Label: "Client offline session max", Help: "Max time before a client offline session is expired. If set to 0, the offline session max value is used."},
	}}
)

// signatureAlgorithms offers every algorithm realm keys sign with, HMAC
// ones included (Gatehouse verifies its own HMAC access tokens): a realm
// without a key for the one chosen gets a fallback key when it first signs
// with it.
func signatureAlgorithms(q *rq, specs []spec) []spec {
	algs := slices.Clone(keys.SignatureAlgorithms)
	slices.Sort(algs)
	out := slices.Clone(specs)
	for i := range out {
		if out[i].Name == "defaultSignatureAlgorithm" {
			out[i].Options = nil
			for _, a := range algs {
				out[i].Options = append(out[i].Options, option{Value: a, Label: a})
			}
		}
	}
	return out
}

func (h *Handler) realmGeneral(q *rq) error  { return h.realmTab(q, generalTab) }
func (h *Handler) realmLogin(q *rq) error    { return h.realmTab(q, loginTab) }
func (h *Handler) realmTokens(q *rq) error   { return h.realmTab(q, tokensTab) }
func (h *Handler) realmSessions(q *rq) error { return h.realmTab(q, sessionsTab) }

// realmData is a realm settings tab's data.
type realmData struct {
	settingsData
	Deletable bool // the general tab offers to delete the realm
	// Endpoints are the realm's metadata documents the general tab links:
	// OpenID Connect discovery and the SAML IdP descriptor.
	Endpoints []link
}

// realmTab shows a realm settings tab and saves it with a partial PUT of
// the realm: only the tab's fields are sent.
func (h *Handler) realmTab(q *rq, t realmTab) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Realm settings", "realm-settings", t.tab)
	v.Tabs = q.realmTabs(t.tab)
	if t.nav != "" {
		v = q.view("Authentication", t.nav, t.tab)
		v.Tabs = t.tabs(t.tab)
	}
	specs := t.specs
	if t.options != nil {
		specs = t.options(q, specs)
	}
	d := &realmData{settingsData: settingsData{Action: q.realmURL(t.path), Editable: q.perms.can("manage-realm")},
		Deletable: t.tab == "general" && q.perms.can("manage-realm") && q.target != realm.MasterName}
	if t.tab == "general" {
		realmPath := basePath(q.h.URLs, q.r) + "/realms/" + url.PathEscape(q.target)
		d.Endpoints = []link{{"OpenID Endpoint Configuration", realmPath + "/.well-known/openid-configuration"},
			{"SAML 2.0 Identity Provider Metadata", realmPath + "/protocol/saml/descriptor"}}
	}
	v.Data = d
	if q.post() {
		var body map[string]any
		var ok bool
		d.Settings, body, ok = fromForm(specs, q)
		if !ok {
			v.Error = "Please correct the fields marked below."
			return q.render(http.StatusBadRequest, "realm-settings.html", v)
		}
		if _, err := q.api(http.MethodPut, q.adminPath(""), body, nil); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				markError(d.Settings, ae.Message)
			}
			return q.refused(v, "realm-settings.html", err)
		}
		return q.redirect(q.realmURL(t.path), "saved")
	}
	var values map[string]any
	if err := q.get(q.adminPath(""), &values); err != nil {
		return err
	}
	d.Settings = fromJSON(specs, values)
	return q.render(http.StatusOK, "realm-settings.html", v)
}

// realmTabs are the tabs of the realm settings.
func (q *rq) realmTabs(current string) []tabLink {
	return tabs(q.realmURL("/realm-settings"), current, "general", "", "General", "login", "/login", "Login",
		"tokens", "/tokens", "Tokens", "sessions", "/sessions", "Sessions", "keys", "/keys", "Keys",
		"localization", "/localization", "Localization", "user-profile", "/user-profile", "User profile",
		"client-policies", "/client-policies", "Client policies", "events", "/events", "Events")
}

// deleteRealm deletes the realm and everything in it.
func (h *Handler) deleteRealm(q *rq) error {
	if _, err := q.api(http.MethodDelete, q.adminPath(""), nil, nil); err != nil {
		return err
	}
	return q.redirect(q.h.consolePath(q.r, q.login.Name)+"/", "deleted")
}
