// Package realm owns the Realm aggregate: its identity and every token, session,
// login and brute-force setting, with Keycloak's defaults.
//
// JSON tags are the storage names of the settings (the store keeps a realm's
// settings as one JSON document); they match Keycloak's representation names so
// that the stored form stays readable, but the Keycloak wire format lives in rep.
package realm

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Realm is a tenant: its users, clients, roles and keys are separate from every
// other realm's.
type Realm struct {
	ID          string `json:"-"`
	Name        string `json:"-"`
	Enabled     bool   `json:"-"`
	DisplayName string `json:"displayName,omitempty"`
	// DisplayNameHTML is rendered on the login page; admins set it.
	DisplayNameHTML string `json:"displayNameHtml,omitempty"`

	SSLRequired string `json:"sslRequired"`

	// Login settings.
	RegistrationAllowed         bool `json:"registrationAllowed"`
	RegistrationEmailAsUsername bool `json:"registrationEmailAsUsername"`
	RememberMe                  bool `json:"rememberMe"`
	VerifyEmail                 bool `json:"verifyEmail"`
	LoginWithEmailAllowed       bool `json:"loginWithEmailAllowed"`
	DuplicateEmailsAllowed      bool `json:"duplicateEmailsAllowed"`
	ResetPasswordAllowed        bool `json:"resetPasswordAllowed"`
	EditUsernameAllowed         bool `json:"editUsernameAllowed"`
	// UserManagedAccessAllowed lets users manage their resources and
	// share them: the account console shows its Resources page.
	UserManagedAccessAllowed bool `json:"userManagedAccessAllowed"`

	// Token settings, in seconds.
	DefaultSignatureAlgorithm           string `json:"defaultSignatureAlgorithm"`
	RevokeRefreshToken                  bool   `json:"revokeRefreshToken"`
	RefreshTokenMaxReuse                int    `json:"refreshTokenMaxReuse"`
	AccessTokenLifespan                 int    `json:"accessTokenLifespan"`
	AccessTokenLifespanForImplicitFlow  int    `json:"accessTokenLifespanForImplicitFlow"`
	AccessCodeLifespan                  int    `json:"accessCodeLifespan"`
	AccessCodeLifespanUserAction        int    `json:"accessCodeLifespanUserAction"`
	AccessCodeLifespanLogin             int    `json:"accessCodeLifespanLogin"`
	ActionTokenGeneratedByAdminLifespan int    `json:"actionTokenGeneratedByAdminLifespan"`
	ActionTokenGeneratedByUserLifespan  int    `json:"actionTokenGeneratedByUserLifespan"`
	OAuth2DeviceCodeLifespan            int    `json:"oauth2DeviceCodeLifespan"`
	OAuth2DevicePollingInterval         int    `json:"oauth2DevicePollingInterval"`

	// Session settings, in seconds.
	SSOSessionIdleTimeout            int  `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan            int  `json:"ssoSessionMaxLifespan"`
	SSOSessionIdleTimeoutRememberMe  int  `json:"ssoSessionIdleTimeoutRememberMe"`
	SSOSessionMaxLifespanRememberMe  int  `json:"ssoSessionMaxLifespanRememberMe"`
	OfflineSessionIdleTimeout        int  `json:"offlineSessionIdleTimeout"`
	OfflineSessionMaxLifespanEnabled bool `json:"offlineSessionMaxLifespanEnabled"`
	OfflineSessionMaxLifespan        int  `json:"offlineSessionMaxLifespan"`
	ClientSessionIdleTimeout         int  `json:"clientSessionIdleTimeout"`
	ClientSessionMaxLifespan         int  `json:"clientSessionMaxLifespan"`
	ClientOfflineSessionIdleTimeout  int  `json:"clientOfflineSessionIdleTimeout"`
	ClientOfflineSessionMaxLifespan  int  `json:"clientOfflineSessionMaxLifespan"`

	// NotBefore (epoch seconds) invalidates every token issued before it.
	NotBefore int64 `json:"notBefore"`

	// Brute-force detection.
	BruteForceProtected          bool   `json:"bruteForceProtected"`
	PermanentLockout             bool   `json:"permanentLockout"`
	MaxTemporaryLockouts         int    `json:"maxTemporaryLockouts"`
	BruteForceStrategy           string `json:"bruteForceStrategy"`
	MaxFailureWaitSeconds        int    `json:"maxFailureWaitSeconds"`
	MinimumQuickLoginWaitSeconds int    `json:"minimumQuickLoginWaitSeconds"`
	WaitIncrementSeconds         int    `json:"waitIncrementSeconds"`
	QuickLoginCheckMilliSeconds  int64  `json:"quickLoginCheckMilliSeconds"`
	MaxDeltaTimeSeconds          int    `json:"maxDeltaTimeSeconds"`
	FailureFactor                int    `json:"failureFactor"`

	// PasswordPolicy is Keycloak's policy string, e.g. "length(8) and digits(1)".
	PasswordPolicy string `json:"passwordPolicy,omitempty"`

	// DefaultRoleID is the composite role every new user receives
	// (default-roles-<realm>).
	DefaultRoleID string `json:"defaultRoleId,omitempty"`

	InternationalizationEnabled bool     `json:"internationalizationEnabled"`
	SupportedLocales            []string `json:"supportedLocales,omitempty"`
	DefaultLocale               string   `json:"defaultLocale,omitempty"`

	// OTPPolicy, WebAuthnPolicy and WebAuthnPasswordlessPolicy are nil
	// until an administrator sets them; OTP, WebAuthn and
	// WebAuthnPasswordless give the defaults then.
	OTPPolicy                  *OTPPolicy      `json:"otpPolicy,omitempty"`
	WebAuthnPolicy             *WebAuthnPolicy `json:"webAuthnPolicy,omitempty"`
	WebAuthnPasswordlessPolicy *WebAuthnPolicy `json:"webAuthnPasswordlessPolicy,omitempty"`

	// ClientProfiles and ClientPolicies are the realm's client policy
	// documents as JSON text (package clientpolicy reads them), validated
	// when written.
	ClientProfiles string `json:"clientProfiles,omitempty"`
	ClientPolicies string `json:"clientPolicies,omitempty"`

	LoginTheme   string `json:"loginTheme,omitempty"`
	AccountTheme string `json:"accountTheme,omitempty"`
	AdminTheme   string `json:"adminTheme,omitempty"`
	EmailTheme   string `json:"emailTheme,omitempty"`

	EventsEnabled      bool     `json:"eventsEnabled"`
	EventsExpiration   int64    `json:"eventsExpiration,omitempty"`
	EventsListeners    []string `json:"eventsListeners,omitempty"`
	EnabledEventTypes  []string `json:"enabledEventTypes,omitempty"`
	AdminEventsEnabled bool     `json:"adminEventsEnabled"`
	AdminEventsDetails bool     `json:"adminEventsDetailsEnabled"`

	SMTPServer             map[string]string `json:"smtpServer,omitempty"`
	BrowserSecurityHeaders map[string]string `json:"browserSecurityHeaders,omitempty"`
	Attributes             map[string]string `json:"attributes,omitempty"`

	// UserProfile is the declarative user profile, Keycloak's UPConfig
	// document as package profile parsed it; empty means the default.
	UserProfile json.RawMessage `json:"userProfile,omitempty"`
	// DefaultGroupIDs are the groups every new user joins.
	DefaultGroupIDs []string `json:"defaultGroupIds,omitempty"`
	// RegistrationPolicies are the realm's client registration policies
	// (package regpolicy enforces them); nil, for a realm stored before
	// they existed, means the default set.
	RegistrationPolicies []RegistrationPolicy `json:"registrationPolicies"`
	// Localization holds the realm's own texts: locale → message key →
	// text. They override the built-in catalogue on the realm's pages.
	Localization map[string]map[string]string `json:"localization,omitempty"`
}

// New returns a realm with Keycloak 26's defaults for every setting.
func New(id, name string) Realm {
	return Realm{
		ID:                                  id,
		Name:                                name,
		Enabled:                             true,
		SSLRequired:                         "external",
		LoginWithEmailAllowed:               true,
		DefaultSignatureAlgorithm:           "RS256",
		AccessTokenLifespan:                 300,
		AccessTokenLifespanForImplicitFlow:  900,
		AccessCodeLifespan:                  60,
		AccessCodeLifespanUserAction:        300,
		AccessCodeLifespanLogin:             1800,
		ActionTokenGeneratedByAdminLifespan: 43200,
		ActionTokenGeneratedByUserLifespan:  300,
		OAuth2DeviceCodeLifespan:            600,
		OAuth2DevicePollingInterval:         5,
		SSOSessionIdleTimeout:               1800,
		SSOSessionMaxLifespan:               36000,
		OfflineSessionIdleTimeout:           2592000,
		OfflineSessionMaxLifespan:           5184000,
		BruteForceStrategy:                  "MULTIPLE",
		MaxFailureWaitSeconds:               900,
		MinimumQuickLoginWaitSeconds:        60,
		WaitIncrementSeconds:                60,
		QuickLoginCheckMilliSeconds:         1000,
		MaxDeltaTimeSeconds:                 43200,
		FailureFactor:                       30,
		BrowserSecurityHeaders:              DefaultSecurityHeaders(),
	}
}

// DefaultSecurityHeaders are the headers Keycloak sends on its pages by default.
func DefaultSecurityHeaders() map[string]string {
	return map[string]string{
		"contentSecurityPolicyReportOnly": "",
		"xContentTypeOptions":             "nosniff",
		"referrerPolicy":                  "no-referrer",
		"xRobotsTag":                      "none",
		"xFrameOptions":                   "SAMEORIGIN",
		"contentSecurityPolicy":           "frame-src 'self'; frame-ancestors 'self'; object-src 'none';",
		"strictTransportSecurity":         "max-age=31536000; includeSubDomains",
	}
}

// DefaultRoleName is the name of the realm's default composite role:
// default-roles- and the realm name in lower case, as Keycloak names it
// (realm "Demo" has "default-roles-demo").
func DefaultRoleName(realmName string) string { return "default-roles-" + strings.ToLower(realmName) }

// MasterName is the realm that holds the server's administrators.
const MasterName = "master"

// nameRe limits realm names to what is safe in a URL path segment and a
// file name: Keycloak allows more, but every realm in the wild fits this.
//
// Compiled on first use: the counted repetition makes a program of some
// 250 instructions that a node serving tokens never runs.
var nameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`) })

// Validate checks the invariants a stored realm must keep.
func (r Realm) Validate() error {
	if r.Name == "" {
		return errors.New("realm name is missing")
	}
	if !nameRe().MatchString(r.Name) {
		return errors.New("realm name may contain only letters, digits, '.', '_' and '-'")
	}
	switch r.SSLRequired {
	case "none", "external", "all":
	default:
		return errors.New("sslRequired must be one of none, external, all")
	}
	for _, v := range []struct {
		name string
		val  int
	}{
		{"accessTokenLifespan", r.AccessTokenLifespan},
		{"accessCodeLifespan", r.AccessCodeLifespan},
		{"ssoSessionIdleTimeout", r.SSOSessionIdleTimeout},
		{"ssoSessionMaxLifespan", r.SSOSessionMaxLifespan},
		{"offlineSessionIdleTimeout", r.OfflineSessionIdleTimeout},
		{"offlineSessionMaxLifespan", r.OfflineSessionMaxLifespan},
		{"refreshTokenMaxReuse", r.RefreshTokenMaxReuse},
		{"failureFactor", r.FailureFactor},
	} {
		if v.val < 0 {
			return errors.New(v.name + " must not be negative")
		}
	}
	switch r.BruteForceStrategy {
	case "MULTIPLE", "LINEAR":
	default:
		return errors.New("bruteForceStrategy must be MULTIPLE or LINEAR")
	}
	if a := r.DefaultSignatureAlgorithm; a != "" && !keys.Signs(a) {
		return fmt.Errorf("defaultSignatureAlgorithm %q is not a signature algorithm realm keys sign with: use one of %s",
			a, strings.Join(keys.SignatureAlgorithms, ", "))
	}
	return nil
}

// RegistrationPolicy is one client registration policy component: a
// provider (trusted-hosts, max-clients, …) applied to anonymous or
// authenticated registrations with its settings.
type RegistrationPolicy struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	ProviderID string              `json:"providerId"`
	SubType    string              `json:"subType"`
	Config     map[string][]string `json:"config,omitempty"`
}
