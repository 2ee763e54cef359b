// Package rep holds Keycloak's JSON representations (the admin REST API's and
// realm export's wire format) and their mapping to and from the domain types.
//
// Conventions, all taken from Keycloak so that its clients and export files
// work unchanged:
//
//   - Keycloak serialises with Jackson's NON_NULL: a null field is absent, but
//     an empty list is [] and an empty map is {}. Slices and maps here carry
//     `omitzero`, so nil is absent and empty is emitted; scalars that may be
//     null in Keycloak are pointers with `omitempty`.
//   - On input a pointer distinguishes "absent" from the zero value: an absent
//     setting keeps the domain's value (on create, Keycloak's default), which
//     is how Keycloak's own update and import code treats nulls.
//   - A realm file is read as leniently as Keycloak reads it, and members
//     with no field here (authenticationFlows…) are reported by JSON path
//     rather than stored (see lenient.go).
//   - Output is deterministic: lists whose order carries no meaning are sorted.
package rep

import (
	"maps"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Realm is Keycloak's RealmRepresentation: a realm's settings and, in an
// export, everything the realm holds. Field order follows Keycloak's export.
type Realm struct {
	ID                                  string  `json:"id,omitempty"`
	Realm                               string  `json:"realm,omitempty"`
	DisplayName                         *string `json:"displayName,omitempty"`
	DisplayNameHTML                     *string `json:"displayNameHtml,omitempty"`
	NotBefore                           *int64  `json:"notBefore,omitempty"`
	DefaultSignatureAlgorithm           *string `json:"defaultSignatureAlgorithm,omitempty"`
	RevokeRefreshToken                  *bool   `json:"revokeRefreshToken,omitempty"`
	RefreshTokenMaxReuse                *int    `json:"refreshTokenMaxReuse,omitempty"`
	AccessTokenLifespan                 *int    `json:"accessTokenLifespan,omitempty"`
	AccessTokenLifespanForImplicitFlow  *int    `json:"accessTokenLifespanForImplicitFlow,omitempty"`
	SSOSessionIdleTimeout               *int    `json:"ssoSessionIdleTimeout,omitempty"`
	SSOSessionMaxLifespan               *int    `json:"ssoSessionMaxLifespan,omitempty"`
	SSOSessionIdleTimeoutRememberMe     *int    `json:"ssoSessionIdleTimeoutRememberMe,omitempty"`
	SSOSessionMaxLifespanRememberMe     *int    `json:"ssoSessionMaxLifespanRememberMe,omitempty"`
	OfflineSessionIdleTimeout           *int    `json:"offlineSessionIdleTimeout,omitempty"`
	OfflineSessionMaxLifespanEnabled    *bool   `json:"offlineSessionMaxLifespanEnabled,omitempty"`
	OfflineSessionMaxLifespan           *int    `json:"offlineSessionMaxLifespan,omitempty"`
	ClientSessionIdleTimeout            *int    `json:"clientSessionIdleTimeout,omitempty"`
	ClientSessionMaxLifespan            *int    `json:"clientSessionMaxLifespan,omitempty"`
	ClientOfflineSessionIdleTimeout     *int    `json:"clientOfflineSessionIdleTimeout,omitempty"`
	ClientOfflineSessionMaxLifespan     *int    `json:"clientOfflineSessionMaxLifespan,omitempty"`
	AccessCodeLifespan                  *int    `json:"accessCodeLifespan,omitempty"`
	AccessCodeLifespanUserAction        *int    `json:"accessCodeLifespanUserAction,omitempty"`
	AccessCodeLifespanLogin             *int    `json:"accessCodeLifespanLogin,omitempty"`
	ActionTokenGeneratedByAdminLifespan *int    `json:"actionTokenGeneratedByAdminLifespan,omitempty"`
	ActionTokenGeneratedByUserLifespan  *int    `json:"actionTokenGeneratedByUserLifespan,omitempty"`
	OAuth2DeviceCodeLifespan            *int    `json:"oauth2DeviceCodeLifespan,omitempty"`
	OAuth2DevicePollingInterval         *int    `json:"oauth2DevicePollingInterval,omitempty"`
	Enabled                             *bool   `json:"enabled,omitempty"`
	SSLRequired                         *string `json:"sslRequired,omitempty"`
	RegistrationAllowed                 *bool   `json:"registrationAllowed,omitempty"`
	RegistrationEmailAsUsername         *bool   `json:"registrationEmailAsUsername,omitempty"`
	RememberMe                          *bool   `json:"rememberMe,omitempty"`
	VerifyEmail                         *bool   `json:"verifyEmail,omitempty"`
	LoginWithEmailAllowed               *bool   `json:"loginWithEmailAllowed,omitempty"`
	DuplicateEmailsAllowed              *bool   `json:"duplicateEmailsAllowed,omitempty"`
	ResetPasswordAllowed                *bool   `json:"resetPasswordAllowed,omitempty"`
	EditUsernameAllowed                 *bool   `json:"editUsernameAllowed,omitempty"`
	UserManagedAccessAllowed            *bool   `json:"userManagedAccessAllowed,omitempty"`
	BruteForceProtected                 *bool   `json:"bruteForceProtected,omitempty"`
	PermanentLockout                    *bool   `json:"permanentLockout,omitempty"`
	MaxTemporaryLockouts                *int    `json:"maxTemporaryLockouts,omitempty"`
	BruteForceStrategy                  *string `json:"bruteForceStrategy,omitempty"`
	MaxFailureWaitSeconds               *int    `json:"maxFailureWaitSeconds,omitempty"`
	MinimumQuickLoginWaitSeconds        *int    `json:"minimumQuickLoginWaitSeconds,omitempty"`
	WaitIncrementSeconds                *int    `json:"waitIncrementSeconds,omitempty"`
	QuickLoginCheckMilliSeconds         *int64  `json:"quickLoginCheckMilliSeconds,omitempty"`
	MaxDeltaTimeSeconds                 *int    `json:"maxDeltaTimeSeconds,omitempty"`
	FailureFactor                       *int    `json:"failureFactor,omitempty"`

	Roles               *Roles   `json:"roles,omitempty"`
	Groups              []Group  `json:"groups,omitzero"`
	DefaultRole         *Role    `json:"defaultRole,omitempty"`
	RequiredCredentials []string `json:"requiredCredentials,omitzero"`
	PasswordPolicy      *string  `json:"passwordPolicy,omitempty"`
	RealmPolicies

	Users []User `json:"users,omitzero"`
	// Identity providers and their mappers (each naming its provider).
	IdentityProviders           []IdentityProvider       `json:"identityProviders,omitzero"`
	IdentityProviderMappers     []IdentityProviderMapper `json:"identityProviderMappers,omitzero"`
	Clients                     []Client                 `json:"clients,omitzero"`
	ClientScopes                []ClientScope            `json:"clientScopes,omitzero"`
	DefaultDefaultClientScopes  []string                 `json:"defaultDefaultClientScopes,omitzero"`
	DefaultOptionalClientScopes []string                 `json:"defaultOptionalClientScopes,omitzero"`

	// Role scope mappings: realm roles by client or client scope, and each
	// client's roles under its clientId. applicationScopeMappings is the
	// name files from before Keycloak 4 give clientScopeMappings.
	ScopeMappings            []ScopeMapping            `json:"scopeMappings,omitzero"`
	ClientScopeMappings      map[string][]ScopeMapping `json:"clientScopeMappings,omitzero"`
	ApplicationScopeMappings map[string][]ScopeMapping `json:"applicationScopeMappings,omitzero"`

	BrowserSecurityHeaders map[string]string `json:"browserSecurityHeaders,omitzero"`
	SMTPServer             map[string]string `json:"smtpServer,omitzero"`
	LoginTheme             *string           `json:"loginTheme,omitempty"`
	AccountTheme           *string           `json:"accountTheme,omitempty"`
	AdminTheme             *string           `json:"adminTheme,omitempty"`
	EmailTheme             *string           `json:"emailTheme,omitempty"`

	EventsEnabled             *bool    `json:"eventsEnabled,omitempty"`
	EventsExpiration          *int64   `json:"eventsExpiration,omitempty"`
	EventsListeners           []string `json:"eventsListeners,omitzero"`
	EnabledEventTypes         []string `json:"enabledEventTypes,omitzero"`
	AdminEventsEnabled        *bool    `json:"adminEventsEnabled,omitempty"`
	AdminEventsDetailsEnabled *bool    `json:"adminEventsDetailsEnabled,omitempty"`

	// Components are read for key providers, the user profile, client
	// registration policies and user storage (LDAP) providers with their
	// mappers; other component types are reported as not stored.
	Components map[string][]Component `json:"components,omitzero" stored:"org.keycloak.keys.KeyProvider,org.keycloak.userprofile.UserProfileProvider,org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy,org.keycloak.storage.UserStorageProvider"`

	// PrivateKey, PublicKey and Certificate are the realm key of files
	// written before key providers existed (Keycloak 1 to 3); they import
	// as an "rsa" key provider and are never exported.
	PrivateKey  string `json:"privateKey,omitempty"`
	PublicKey   string `json:"publicKey,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	// DefaultGroups are the paths of the groups new users join.
	DefaultGroups []string `json:"defaultGroups,omitzero"`
	// LocalizationTexts are the realm's own texts: locale → key → text.
	LocalizationTexts map[string]map[string]string `json:"localizationTexts,omitzero"`

	InternationalizationEnabled *bool    `json:"internationalizationEnabled,omitempty"`
	SupportedLocales            []string `json:"supportedLocales,omitzero"`
	DefaultLocale               *string  `json:"defaultLocale,omitempty"`

	// The authentication model (authflows.go): flows, authenticator
	// configs, required actions and the flow bound to each purpose.
	AuthenticationFlows      []AuthenticationFlow  `json:"authenticationFlows,omitzero"`
	AuthenticatorConfig      []AuthenticatorConfig `json:"authenticatorConfig,omitzero"`
	RequiredActions          []RequiredAction      `json:"requiredActions,omitzero"`
	BrowserFlow              *string               `json:"browserFlow,omitempty"`
	RegistrationFlow         *string               `json:"registrationFlow,omitempty"`
	DirectGrantFlow          *string               `json:"directGrantFlow,omitempty"`
	ResetCredentialsFlow     *string               `json:"resetCredentialsFlow,omitempty"`
	ClientAuthenticationFlow *string               `json:"clientAuthenticationFlow,omitempty"`
	DockerAuthenticationFlow *string               `json:"dockerAuthenticationFlow,omitempty"`
	FirstBrokerLoginFlow     *string               `json:"firstBrokerLoginFlow,omitempty"`

	Attributes      map[string]string `json:"attributes,omitzero"`
	KeycloakVersion string            `json:"keycloakVersion,omitempty"`

	// Input only, from exports older than Keycloak 13 (DefaultRoles: the
	// names of the realm's default roles) and 4 (applications and OAuth
	// clients, which became clients); see upgradeLegacy.
	DefaultRoles []string `json:"defaultRoles,omitzero"`
	Applications []Client `json:"applications,omitzero"`
	OAuthClients []Client `json:"oauthClients,omitzero"`
	// ClientTemplates, before Keycloak 4, are imported as client scopes.
	ClientTemplates []ClientScope `json:"clientTemplates,omitzero"`
}

// Roles is the "roles" member of a realm export: realm roles, and client
// roles keyed by the owning client's clientId (not its internal id).
type Roles struct {
	Realm  []Role            `json:"realm,omitzero"`
	Client map[string][]Role `json:"client,omitzero"`
	// Application is Client's name before Keycloak 4 (input only).
	Application map[string][]Role `json:"application,omitzero"`
}

// Component is Keycloak's ComponentExportRepresentation: a configured
// provider (key provider, user storage…). Config values are lists because
// Keycloak's MultivaluedHashMap serialises that way even for single values.
type Component struct {
	ID            string                 `json:"id,omitempty"`
	Name          string                 `json:"name"`
	ProviderID    string                 `json:"providerId"`
	SubType       string                 `json:"subType,omitempty"`
	SubComponents map[string][]Component `json:"subComponents,omitzero"`
	Config        map[string][]string    `json:"config,omitzero"`
}

// PasswordCredential is the only value of requiredCredentials Keycloak writes
// for a realm; it is the default when an import leaves the field out.
const PasswordCredential = "password"

// RealmFromDomain returns the realm's settings. The nested lists (roles,
// groups, users, clients, client scopes, components) and keycloakVersion are
// left empty: filling them needs the store, so the exporter does it.
//
// DefaultRole carries only what the realm itself knows (the role's id and its
// conventional name); a caller holding the stored role should replace it.
func RealmFromDomain(r realm.Realm) Realm {
	x := Realm{
		ID:                                  r.ID,
		Realm:                               r.Name,
		RealmPolicies:                       realmPoliciesFromDomain(r),
		DisplayName:                         optional(r.DisplayName),
		DisplayNameHTML:                     optional(r.DisplayNameHTML),
		NotBefore:                           &r.NotBefore,
		DefaultSignatureAlgorithm:           &r.DefaultSignatureAlgorithm,
		RevokeRefreshToken:                  &r.RevokeRefreshToken,
		RefreshTokenMaxReuse:                &r.RefreshTokenMaxReuse,
		AccessTokenLifespan:                 &r.AccessTokenLifespan,
		AccessTokenLifespanForImplicitFlow:  &r.AccessTokenLifespanForImplicitFlow,
		SSOSessionIdleTimeout:               &r.SSOSessionIdleTimeout,
		SSOSessionMaxLifespan:               &r.SSOSessionMaxLifespan,
		SSOSessionIdleTimeoutRememberMe:     &r.SSOSessionIdleTimeoutRememberMe,
		SSOSessionMaxLifespanRememberMe:     &r.SSOSessionMaxLifespanRememberMe,
		OfflineSessionIdleTimeout:           &r.OfflineSessionIdleTimeout,
		OfflineSessionMaxLifespanEnabled:    &r.OfflineSessionMaxLifespanEnabled,
		OfflineSessionMaxLifespan:           &r.OfflineSessionMaxLifespan,
		ClientSessionIdleTimeout:            &r.ClientSessionIdleTimeout,
		ClientSessionMaxLifespan:            &r.ClientSessionMaxLifespan,
		ClientOfflineSessionIdleTimeout:     &r.ClientOfflineSessionIdleTimeout,
		ClientOfflineSessionMaxLifespan:     &r.ClientOfflineSessionMaxLifespan,
		AccessCodeLifespan:                  &r.AccessCodeLifespan,
		AccessCodeLifespanUserAction:        &r.AccessCodeLifespanUserAction,
		AccessCodeLifespanLogin:             &r.AccessCodeLifespanLogin,
		ActionTokenGeneratedByAdminLifespan: &r.ActionTokenGeneratedByAdminLifespan,
		ActionTokenGeneratedByUserLifespan:  &r.ActionTokenGeneratedByUserLifespan,
		OAuth2DeviceCodeLifespan:            &r.OAuth2DeviceCodeLifespan,
		OAuth2DevicePollingInterval:         &r.OAuth2DevicePollingInterval,
		Enabled:                             &r.Enabled,
		SSLRequired:                         &r.SSLRequired,
		RegistrationAllowed:                 &r.RegistrationAllowed,
		RegistrationEmailAsUsername:         &r.RegistrationEmailAsUsername,
		RememberMe:                          &r.RememberMe,
		VerifyEmail:                         &r.VerifyEmail,
		LoginWithEmailAllowed:               &r.LoginWithEmailAllowed,
		DuplicateEmailsAllowed:              &r.DuplicateEmailsAllowed,
		ResetPasswordAllowed:                &r.ResetPasswordAllowed,
		EditUsernameAllowed:                 &r.EditUsernameAllowed,
		UserManagedAccessAllowed:            &r.UserManagedAccessAllowed,
		BruteForceProtected:                 &r.BruteForceProtected,
		PermanentLockout:                    &r.PermanentLockout,
		MaxTemporaryLockouts:                &r.MaxTemporaryLockouts,
		BruteForceStrategy:                  &r.BruteForceStrategy,
		MaxFailureWaitSeconds:               &r.MaxFailureWaitSeconds,
		MinimumQuickLoginWaitSeconds:        &r.MinimumQuickLoginWaitSeconds,
		WaitIncrementSeconds:                &r.WaitIncrementSeconds,
		QuickLoginCheckMilliSeconds:         &r.QuickLoginCheckMilliSeconds,
		MaxDeltaTimeSeconds:                 &r.MaxDeltaTimeSeconds,
		FailureFactor:                       &r.FailureFactor,

		RequiredCredentials: []string{PasswordCredential},
		PasswordPolicy:      optional(r.PasswordPolicy),

		BrowserSecurityHeaders: cloneMap(r.BrowserSecurityHeaders),
		SMTPServer:             cloneMap(r.SMTPServer),
		LoginTheme:             optional(r.LoginTheme),
		AccountTheme:           optional(r.AccountTheme),
		AdminTheme:             optional(r.AdminTheme),
		EmailTheme:             optional(r.EmailTheme),

		EventsEnabled:             &r.EventsEnabled,
		EventsListeners:           cloneList(r.EventsListeners),
		EnabledEventTypes:         cloneList(r.EnabledEventTypes),
		AdminEventsEnabled:        &r.AdminEventsEnabled,
		AdminEventsDetailsEnabled: &r.AdminEventsDetails,

		InternationalizationEnabled: &r.InternationalizationEnabled,
		SupportedLocales:            cloneList(r.SupportedLocales),
		DefaultLocale:               optional(r.DefaultLocale),

		Attributes: cloneMap(r.Attributes),
	}
	if r.EventsExpiration != 0 {
		x.EventsExpiration = &r.EventsExpiration
	}
	if r.DefaultRoleID != "" {
		x.DefaultRole = &Role{
			ID:          r.DefaultRoleID,
			Name:        realm.DefaultRoleName(r.Name),
			Composite:   true,
			ContainerID: r.ID,
			Attributes:  map[string][]string{},
		}
	}
	return x
}

// ApplyTo copies every setting present in x onto r; absent settings keep r's
// value. Start from realm.New to get Keycloak's defaults for a new realm, or
// from the stored realm for an update (Keycloak's PUT is a partial update).
//
// The name is copied when present (Keycloak renames a realm this way); the id
// never is, since ids are chosen once by the caller. Nested lists, defaultRole
// and components are not settings and are left to the importer. The domain
// does not tell an empty list or map from a missing one (its storage drops
// both), so an empty one in x becomes nil.
func (x Realm) ApplyTo(r *realm.Realm) {
	if x.Realm != "" {
		r.Name = x.Realm
	}
	x.RealmPolicies.applyTo(r)
	set(&r.DisplayName, x.DisplayName)
	set(&r.DisplayNameHTML, x.DisplayNameHTML)
	set(&r.NotBefore, x.NotBefore)
	set(&r.DefaultSignatureAlgorithm, x.DefaultSignatureAlgorithm)
	set(&r.RevokeRefreshToken, x.RevokeRefreshToken)
	set(&r.RefreshTokenMaxReuse, x.RefreshTokenMaxReuse)
	set(&r.AccessTokenLifespan, x.AccessTokenLifespan)
	set(&r.AccessTokenLifespanForImplicitFlow, x.AccessTokenLifespanForImplicitFlow)
	set(&r.SSOSessionIdleTimeout, x.SSOSessionIdleTimeout)
	set(&r.SSOSessionMaxLifespan, x.SSOSessionMaxLifespan)
	set(&r.SSOSessionIdleTimeoutRememberMe, x.SSOSessionIdleTimeoutRememberMe)
	set(&r.SSOSessionMaxLifespanRememberMe, x.SSOSessionMaxLifespanRememberMe)
	set(&r.OfflineSessionIdleTimeout, x.OfflineSessionIdleTimeout)
	set(&r.OfflineSessionMaxLifespanEnabled, x.OfflineSessionMaxLifespanEnabled)
	set(&r.OfflineSessionMaxLifespan, x.OfflineSessionMaxLifespan)
	set(&r.ClientSessionIdleTimeout, x.ClientSessionIdleTimeout)
	set(&r.ClientSessionMaxLifespan, x.ClientSessionMaxLifespan)
	set(&r.ClientOfflineSessionIdleTimeout, x.ClientOfflineSessionIdleTimeout)
	set(&r.ClientOfflineSessionMaxLifespan, x.ClientOfflineSessionMaxLifespan)
	set(&r.AccessCodeLifespan, x.AccessCodeLifespan)
	set(&r.AccessCodeLifespanUserAction, x.AccessCodeLifespanUserAction)
	set(&r.AccessCodeLifespanLogin, x.AccessCodeLifespanLogin)
	set(&r.ActionTokenGeneratedByAdminLifespan, x.ActionTokenGeneratedByAdminLifespan)
	set(&r.ActionTokenGeneratedByUserLifespan, x.ActionTokenGeneratedByUserLifespan)
	set(&r.OAuth2DeviceCodeLifespan, x.OAuth2DeviceCodeLifespan)
	set(&r.OAuth2DevicePollingInterval, x.OAuth2DevicePollingInterval)
	set(&r.Enabled, x.Enabled)
	set(&r.SSLRequired, x.SSLRequired)
	set(&r.RegistrationAllowed, x.RegistrationAllowed)
	set(&r.RegistrationEmailAsUsername, x.RegistrationEmailAsUsername)
	set(&r.RememberMe, x.RememberMe)
	set(&r.VerifyEmail, x.VerifyEmail)
	set(&r.LoginWithEmailAllowed, x.LoginWithEmailAllowed)
	set(&r.DuplicateEmailsAllowed, x.DuplicateEmailsAllowed)
	set(&r.ResetPasswordAllowed, x.ResetPasswordAllowed)
	set(&r.EditUsernameAllowed, x.EditUsernameAllowed)
	set(&r.UserManagedAccessAllowed, x.UserManagedAccessAllowed)
	set(&r.BruteForceProtected, x.BruteForceProtected)
	set(&r.PermanentLockout, x.PermanentLockout)
	set(&r.MaxTemporaryLockouts, x.MaxTemporaryLockouts)
	set(&r.BruteForceStrategy, x.BruteForceStrategy)
	set(&r.MaxFailureWaitSeconds, x.MaxFailureWaitSeconds)
	set(&r.MinimumQuickLoginWaitSeconds, x.MinimumQuickLoginWaitSeconds)
	set(&r.WaitIncrementSeconds, x.WaitIncrementSeconds)
	set(&r.QuickLoginCheckMilliSeconds, x.QuickLoginCheckMilliSeconds)
	set(&r.MaxDeltaTimeSeconds, x.MaxDeltaTimeSeconds)
	set(&r.FailureFactor, x.FailureFactor)
	set(&r.PasswordPolicy, x.PasswordPolicy)

	if x.BrowserSecurityHeaders != nil {
		r.BrowserSecurityHeaders = nilIfEmpty(x.BrowserSecurityHeaders)
	}
	if x.SMTPServer != nil {
		r.SMTPServer = nilIfEmpty(x.SMTPServer)
	}
	set(&r.LoginTheme, x.LoginTheme)
	set(&r.AccountTheme, x.AccountTheme)
	set(&r.AdminTheme, x.AdminTheme)
	set(&r.EmailTheme, x.EmailTheme)

	set(&r.EventsEnabled, x.EventsEnabled)
	set(&r.EventsExpiration, x.EventsExpiration)
	if x.EventsListeners != nil {
		r.EventsListeners = nilIfNone(x.EventsListeners)
	}
	if x.EnabledEventTypes != nil {
		r.EnabledEventTypes = nilIfNone(x.EnabledEventTypes)
	}
	set(&r.AdminEventsEnabled, x.AdminEventsEnabled)
	set(&r.AdminEventsDetails, x.AdminEventsDetailsEnabled)

	set(&r.InternationalizationEnabled, x.InternationalizationEnabled)
	if x.SupportedLocales != nil {
		r.SupportedLocales = nilIfNone(x.SupportedLocales)
	}
	set(&r.DefaultLocale, x.DefaultLocale)

	if x.Attributes != nil {
		r.Attributes = nilIfEmpty(x.Attributes)
	}
}

// set copies *src onto *dst when the representation carried a value.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// optional returns nil for "", which Keycloak holds as null and omits.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// value dereferences an optional string, nil reading as "".
func value(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cloneList copies s, turning nil into an empty list for output.
func cloneList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// cloneMap copies m, turning nil into an empty map for output.
func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return maps.Clone(m)
}

// nilIfNone copies s for the domain, where an empty list is kept as nil.
func nilIfNone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// nilIfEmpty copies m for the domain, where an empty map is kept as nil.
func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// cloneMulti deep-copies a multi-valued map (attributes), nil giving an
// empty map.
func cloneMulti(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}
