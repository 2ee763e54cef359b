// Package idp is the model of identity brokering: the upstream identity
// providers a realm lets its users sign in with, the mappers that turn what
// an upstream says into local roles, groups and attributes, and the links
// between local users and their upstream accounts (federated identities).
//
// It knows which provider kinds exist, the fixed endpoints of the social
// ones, which configuration keys hold secrets and how a provider, a mapper
// or a link must look to be stored. It does no I/O.
package idp

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// Sync modes: when a returning user's local data is refreshed from the
// upstream. IMPORT copies it at the first login only, FORCE at every login,
// LEGACY keeps each mapper's own behaviour (a provider without a sync mode
// is LEGACY).
const (
	SyncImport = "IMPORT"
	SyncLegacy = "LEGACY"
	SyncForce  = "FORCE"
)

// Configuration keys the broker reads. Config is open (any key is stored
// as given); these are the ones with a meaning.
const (
	ConfigClientID              = "clientId"
	ConfigClientSecret          = "clientSecret"
	ConfigClientAuthMethod      = "clientAuthMethod"
	ConfigAuthorizationURL      = "authorizationUrl"
	ConfigTokenURL              = "tokenUrl"
	ConfigUserInfoURL           = "userInfoUrl"
	ConfigLogoutURL             = "logoutUrl"
	ConfigJWKSURL               = "jwksUrl"
	ConfigIssuer                = "issuer"
	ConfigDefaultScope          = "defaultScope"
	ConfigValidateSignature     = "validateSignature"
	ConfigUseJWKSURL            = "useJwksUrl"
	ConfigPKCEEnabled           = "pkceEnabled"
	ConfigPKCEMethod            = "pkceMethod"
	ConfigMetadataDescriptorURL = "metadataDescriptorUrl"
	// legacyHideOnLogin is the configuration key older exports carry
	// instead of the hideOnLogin field.
	legacyHideOnLogin = "hideOnLoginPage"
	// configSyncMode is where the representation carries SyncMode.
	configSyncMode = "syncMode"
)

// Provider is an identity provider instance of a realm.
type Provider struct {
	InternalID  string
	Alias       string // unique in the realm; the broker URLs name it
	DisplayName string
	ProviderID  string // a Kind's ID: oidc, keycloak-oidc, google, ...
	Enabled     bool
	TrustEmail  bool
	// StoreToken keeps the upstream's tokens on the federated identity,
	// readable through the broker's token endpoint.
	StoreToken bool
	// AddReadTokenRoleOnCreate grants users created through this provider
	// the broker client's read-token role.
	AddReadTokenRoleOnCreate bool
	LinkOnly                 bool // only for linking an existing account, never to sign in
	HideOnLogin              bool
	// Flow aliases; an empty first broker login flow means the realm's
	// bound one, an empty post broker login flow means none.
	FirstBrokerLoginFlowAlias string
	PostBrokerLoginFlowAlias  string
	// SyncMode is SyncImport, SyncLegacy or SyncForce; "" is LEGACY (see
	// EffectiveSyncMode). Config never holds it.
	SyncMode string
	Config   map[string]string
}

// EffectiveSyncMode is the provider's sync mode, LEGACY when unset.
func (p Provider) EffectiveSyncMode() string {
	if p.SyncMode == "" {
		return SyncLegacy
	}
	return p.SyncMode
}

// New returns a provider with the defaults of a new one: enabled, with
// an empty configuration.
func New(alias, providerID string) Provider {
	return Provider{Alias: alias, ProviderID: providerID, Enabled: true, Config: map[string]string{}}
}

// Normalize moves what older representations keep in the configuration to
// its field (syncMode, hideOnLoginPage) and drops empty configuration
// values, so a stored provider has one place for each setting.
func (p *Provider) Normalize() {
	if p.Config == nil {
		p.Config = map[string]string{}
	}
	if v, ok := p.Config[configSyncMode]; ok {
		if p.SyncMode == "" {
			p.SyncMode = v
		}
		delete(p.Config, configSyncMode)
	}
	if v, ok := p.Config[legacyHideOnLogin]; ok {
		p.HideOnLogin = p.HideOnLogin || v == "true"
		delete(p.Config, legacyHideOnLogin)
	}
	for k, v := range p.Config {
		if strings.TrimSpace(v) == "" {
			delete(p.Config, k)
		}
	}
}

// ValidationError is a provider, mapper or link the model refuses; its
// message is fit to show to an administrator.
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return e.Message }

func invalid(msg string) error { return &ValidationError{Message: msg} }

// Invalid returns a ValidationError, for checks that need more than the
// model (a flow or a role that must exist).
func Invalid(msg string) error { return invalid(msg) }

// IsValidationError reports whether err is (or wraps) a ValidationError.
func IsValidationError(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}

// reservedChars may not appear in an alias: it is a path segment of the
// broker URLs and an HTML attribute on the login page.
var reservedChars = regexp.MustCompile(`[<>{}"/]`)

// CheckAlias checks an alias is fit to name a provider.
func CheckAlias(alias string) error {
	if strings.TrimSpace(alias) == "" {
		return invalid("Identity provider alias is missing")
	}
	if strings.ContainsFunc(alias, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' }) {
		return invalid("Empty Space not allowed.")
	}
	if m := reservedChars.FindString(alias); m != "" {
		return invalid("Character '" + m + "' not allowed.")
	}
	if len(alias) > 255 {
		return invalid("Identity provider alias is longer than 255 characters")
	}
	return nil
}

// Validate checks a provider may be stored: its alias, a known provider
// kind, a known sync mode, and URLs that are http or https (https only
// when sslRequired says so for the URL's host; pass nil to skip that).
func (p Provider) Validate(secureRequired func(host string) bool) error {
	if err := CheckAlias(p.Alias); err != nil {
		return err
	}
	k, ok := Kinds[p.ProviderID]
	if !ok {
		return invalid("Invalid identity provider id [" + p.ProviderID + "]")
	}
	switch p.SyncMode {
	case "", SyncImport, SyncLegacy, SyncForce:
	default:
		return invalid("Invalid sync mode [" + p.SyncMode + "]")
	}
	if len(p.DisplayName) > 255 {
		return invalid("Display name is longer than 255 characters")
	}
	if k.OIDC {
		for _, key := range []string{ConfigAuthorizationURL, ConfigTokenURL, ConfigUserInfoURL, ConfigJWKSURL, ConfigLogoutURL} {
			if err := checkURL(p.Config[key], urlName[key], secureRequired); err != nil {
				return err
			}
		}
		if m := p.Config[ConfigClientAuthMethod]; m != "" && !ClientAuthMethods[m] {
			return invalid("Invalid client authentication method [" + m + "]")
		}
	}
	if k.SAML {
		return validateSAML(p.Config, secureRequired)
	}
	return nil
}

// ClientAuthMethods are the ways the broker may authenticate to an OIDC
// provider's token endpoint.
var ClientAuthMethods = map[string]bool{
	"client_secret_post":  true,
	"client_secret_basic": true,
	"client_secret_jwt":   true,
	"private_key_jwt":     true,
}

// urlName is how an error message names each URL setting.
var urlName = map[string]string{
	ConfigAuthorizationURL: "authorization_url",
	ConfigTokenURL:         "token_url",
	ConfigUserInfoURL:      "userinfo_url",
	ConfigJWKSURL:          "jwks_url",
	ConfigLogoutURL:        "logout_url",
}

func checkURL(raw, name string, secureRequired func(string) bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return invalid("The url [" + name + "] is malformed")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if secureRequired != nil && secureRequired(u.Hostname()) {
			return invalid("The url [" + name + "] requires secure connections")
		}
	default:
		return invalid("Invalid protocol/scheme for url [" + name + "]")
	}
	return nil
}

// IsSecretKey reports whether a configuration key holds a secret, which
// is masked wherever a provider is handed out.
func IsSecretKey(key string) bool { return secretKeys[key] }

var secretKeys = map[string]bool{ConfigClientSecret: true}

// Masked returns a copy of config with each secret that is set replaced by
// secret.Mask. A vault reference (${vault.x}) is no secret and stays.
func Masked(config map[string]string) map[string]string {
	out := make(map[string]string, len(config))
	for k, v := range config {
		if secretKeys[k] && v != "" && !strings.HasPrefix(v, "${vault.") {
			v = secret.Mask
		}
		out[k] = v
	}
	return out
}

// KeepMaskedSecrets puts back into config, for each secret key that holds
// secret.Mask, the value stored before: an update that sends back what it
// read changes no secret.
func KeepMaskedSecrets(config, stored map[string]string) {
	for k, v := range config {
		if secretKeys[k] && v == secret.Mask {
			if old, ok := stored[k]; ok {
				config[k] = old
			} else {
				delete(config, k)
			}
		}
	}
}

// Mapper turns what an upstream says about a user into local data.
type Mapper struct {
	ID                     string
	Name                   string // unique among the provider's mappers
	IdentityProviderAlias  string
	IdentityProviderMapper string // a MapperType's ID
	Config                 map[string]string
}

// Validate checks a mapper may be stored.
func (m Mapper) Validate() error {
	if strings.TrimSpace(m.Name) == "" {
		return invalid("Identity provider mapper name is missing")
	}
	if len(m.Name) > 255 {
		return invalid("Identity provider mapper name is longer than 255 characters")
	}
	if m.IdentityProviderAlias == "" {
		return invalid("Identity provider alias is missing")
	}
	if m.IdentityProviderMapper == "" {
		return invalid("Identity provider mapper type is missing")
	}
	return nil
}

// FederatedIdentity links a local user to an account at a provider.
type FederatedIdentity struct {
	UserID            string
	Alias             string // the provider's alias
	FederatedUserID   string // the upstream's subject
	FederatedUsername string
	// Token is what the upstream's token endpoint answered, kept when
	// the provider stores tokens ("" otherwise). It is a secret.
	Token string
}

// Validate checks a link may be stored.
func (f FederatedIdentity) Validate() error {
	if f.UserID == "" || f.Alias == "" {
		return invalid("Federated identity needs a user and an identity provider")
	}
	if f.FederatedUserID == "" {
		return invalid("Federated identity needs the user's id at the identity provider")
	}
	return nil
}
