package rep

import (
	"cmp"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// OpenIDConnect is the protocol Keycloak assumes when a client or client
// scope names none.
const OpenIDConnect = "openid-connect"

// Client is Keycloak's ClientRepresentation. ID is the internal id (a UUID in
// URLs); ClientID is the OAuth client_id.
type Client struct {
	ID                                 string            `json:"id,omitempty"`
	ClientID                           string            `json:"clientId,omitempty"`
	Name                               *string           `json:"name,omitempty"`
	Description                        *string           `json:"description,omitempty"`
	RootURL                            *string           `json:"rootUrl,omitempty"`
	AdminURL                           *string           `json:"adminUrl,omitempty"`
	BaseURL                            *string           `json:"baseUrl,omitempty"`
	SurrogateAuthRequired              *bool             `json:"surrogateAuthRequired,omitempty"`
	Enabled                            *bool             `json:"enabled,omitempty"`
	AlwaysDisplayInConsole             *bool             `json:"alwaysDisplayInConsole,omitempty"`
	ClientAuthenticatorType            *string           `json:"clientAuthenticatorType,omitempty"`
	Secret                             *string           `json:"secret,omitempty"`
	RegistrationAccessToken            *string           `json:"registrationAccessToken,omitempty"`
	RedirectURIs                       []string          `json:"redirectUris,omitzero"`
	WebOrigins                         []string          `json:"webOrigins,omitzero"`
	NotBefore                          *int64            `json:"notBefore,omitempty"`
	BearerOnly                         *bool             `json:"bearerOnly,omitempty"`
	ConsentRequired                    *bool             `json:"consentRequired,omitempty"`
	StandardFlowEnabled                *bool             `json:"standardFlowEnabled,omitempty"`
	ImplicitFlowEnabled                *bool             `json:"implicitFlowEnabled,omitempty"`
	DirectAccessGrantsEnabled          *bool             `json:"directAccessGrantsEnabled,omitempty"`
	ServiceAccountsEnabled             *bool             `json:"serviceAccountsEnabled,omitempty"`
	PublicClient                       *bool             `json:"publicClient,omitempty"`
	FrontchannelLogout                 *bool             `json:"frontchannelLogout,omitempty"`
	Protocol                           *string           `json:"protocol,omitempty"`
	Attributes                         map[string]string `json:"attributes,omitzero"`
	AuthenticationFlowBindingOverrides map[string]string `json:"authenticationFlowBindingOverrides,omitzero"`
	FullScopeAllowed                   *bool             `json:"fullScopeAllowed,omitempty"`
	NodeReRegistrationTimeout          *int              `json:"nodeReRegistrationTimeout,omitempty"`
	RegisteredNodes                    map[string]int64  `json:"registeredNodes,omitempty"`
	ProtocolMappers                    []ProtocolMapper  `json:"protocolMappers,omitzero"`
	// DefaultClientScopes and OptionalClientScopes hold client scope names;
	// the links live in the store, so callers fill them.
	DefaultClientScopes  []string `json:"defaultClientScopes,omitzero"`
	OptionalClientScopes []string `json:"optionalClientScopes,omitzero"`
	// ClientTemplate, input only from exports older than Keycloak 4, names
	// a client template, imported as one of the client's default scopes.
	ClientTemplate string `json:"clientTemplate,omitzero"`
	// Access is output only: what the calling admin may do with the client.
	Access map[string]bool `json:"access,omitzero"`

	// AuthorizationServicesEnabled makes the client a resource server (with
	// the uma_protection role, as Keycloak gives it); the admin API and
	// exports show it true for one. AuthorizationSettings are its
	// resources, scopes and policies, in an export, a realm file or a
	// client create.
	AuthorizationServicesEnabled *bool            `json:"authorizationServicesEnabled,omitempty"`
	AuthorizationSettings        *authz.ServerRep `json:"authorizationSettings,omitempty"`
	// DefaultRoles (input only, exports older than Keycloak 13) names client
	// roles that are part of the realm's default role.
	DefaultRoles []string `json:"defaultRoles,omitzero"`
}

// ClientFromDomain returns the client as Keycloak shows it. Client scope names
// and access are left for the caller. Protocol mappers are sorted by name and
// omitted when there are none, as Keycloak does.
func ClientFromDomain(c client.Client) Client {
	return Client{
		ID:                                 c.ID,
		ClientID:                           c.ClientID,
		Name:                               optional(c.Name),
		Description:                        optional(c.Description),
		RootURL:                            optional(c.RootURL),
		AdminURL:                           optional(c.AdminURL),
		BaseURL:                            optional(c.BaseURL),
		SurrogateAuthRequired:              &c.SurrogateAuthRequired,
		Enabled:                            &c.Enabled,
		AlwaysDisplayInConsole:             &c.AlwaysDisplayInConsole,
		ClientAuthenticatorType:            optional(c.ClientAuthenticatorType),
		Secret:                             optional(c.Secret),
		RegistrationAccessToken:            optional(c.RegistrationAccessToken),
		RedirectURIs:                       cloneList(c.RedirectURIs),
		WebOrigins:                         cloneList(c.WebOrigins),
		NotBefore:                          &c.NotBefore,
		BearerOnly:                         &c.BearerOnly,
		ConsentRequired:                    &c.ConsentRequired,
		StandardFlowEnabled:                &c.StandardFlowEnabled,
		ImplicitFlowEnabled:                &c.ImplicitFlowEnabled,
		DirectAccessGrantsEnabled:          &c.DirectAccessGrantsEnabled,
		ServiceAccountsEnabled:             &c.ServiceAccountsEnabled,
		PublicClient:                       &c.PublicClient,
		FrontchannelLogout:                 &c.FrontchannelLogout,
		Protocol:                           optional(c.Protocol),
		Attributes:                         cloneMap(c.Attributes),
		AuthenticationFlowBindingOverrides: cloneMap(c.AuthFlowOverrides),
		FullScopeAllowed:                   &c.FullScopeAllowed,
		NodeReRegistrationTimeout:          &c.NodeReRegistrationTimeout,
		RegisteredNodes:                    maps.Clone(c.RegisteredNodes),
		ProtocolMappers:                    mappersFromDomain(c.ProtocolMappers),
	}
}

// ToDomain returns a new client in realmID built from x, the way Keycloak's
// import creates one: absent fields take Keycloak's model defaults (enabled,
// standard flow, front-channel logout, openid-connect, client-secret
// authentication, nodeReRegistrationTimeout -1), fullScopeAllowed defaults
// to the opposite of consentRequired, and nil lists become empty.
//
// The admin API's create adds further defaults that are not applied here
// because import does not apply them (Keycloak's OIDC protocol factory, run
// only for admin creates): directAccessGrantsEnabled defaults to true,
// frontchannelLogout to false, a confidential client without a secret gets a
// generated one, and rootUrl seeds redirectUris and webOrigins.
func (x Client) ToDomain(realmID string) client.Client {
	c := client.New(x.ID, realmID, x.ClientID)
	x.ApplyTo(&c)
	if x.FullScopeAllowed == nil {
		c.FullScopeAllowed = !c.ConsentRequired
	}
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	if c.WebOrigins == nil {
		c.WebOrigins = []string{}
	}
	if c.ProtocolMappers == nil {
		c.ProtocolMappers = []client.ProtocolMapper{}
	}
	return c
}

// ApplyTo copies the fields present in x onto c, with the semantics of
// Keycloak's client update (a partial update):
//   - attributes are merged key by key, and one given as "" (or blank) is
//     removed; an authentication flow override
//     with an empty value removes that override;
//   - redirectUris, webOrigins and protocolMappers, when present, replace
//     the old lists; a mapper without an id keeps the id of the old mapper
//     with the same protocol and name, so its identity survives a PUT;
//   - a mapper without a protocol takes the client's;
//   - a public or bearer-only client keeps no secret.
//
// The id never changes; clientId does when present.
func (x Client) ApplyTo(c *client.Client) {
	if x.ClientID != "" {
		c.ClientID = x.ClientID
	}
	set(&c.Name, x.Name)
	set(&c.Description, x.Description)
	set(&c.RootURL, x.RootURL)
	set(&c.AdminURL, x.AdminURL)
	set(&c.BaseURL, x.BaseURL)
	set(&c.SurrogateAuthRequired, x.SurrogateAuthRequired)
	set(&c.Enabled, x.Enabled)
	set(&c.AlwaysDisplayInConsole, x.AlwaysDisplayInConsole)
	set(&c.ClientAuthenticatorType, x.ClientAuthenticatorType)
	set(&c.Secret, x.Secret)
	set(&c.RegistrationAccessToken, x.RegistrationAccessToken)
	if x.RedirectURIs != nil {
		c.RedirectURIs = slices.Clone(x.RedirectURIs)
	}
	if x.WebOrigins != nil {
		c.WebOrigins = slices.Clone(x.WebOrigins)
	}
	set(&c.NotBefore, x.NotBefore)
	set(&c.BearerOnly, x.BearerOnly)
	set(&c.ConsentRequired, x.ConsentRequired)
	set(&c.StandardFlowEnabled, x.StandardFlowEnabled)
	set(&c.ImplicitFlowEnabled, x.ImplicitFlowEnabled)
	set(&c.DirectAccessGrantsEnabled, x.DirectAccessGrantsEnabled)
	set(&c.ServiceAccountsEnabled, x.ServiceAccountsEnabled)
	set(&c.PublicClient, x.PublicClient)
	set(&c.FrontchannelLogout, x.FrontchannelLogout)
	set(&c.Protocol, x.Protocol)
	if len(x.Attributes) > 0 {
		// Clone first: c may share its map with the caller's stored copy.
		c.Attributes = maps.Clone(c.Attributes)
		if c.Attributes == nil {
			c.Attributes = make(map[string]string, len(x.Attributes))
		}
		for k, v := range x.Attributes {
			// Keycloak removes an attribute given as "" (or blanks).
			if strings.TrimSpace(v) == "" {
				delete(c.Attributes, k)
			} else {
				c.Attributes[k] = v
			}
		}
	}
	if len(x.AuthenticationFlowBindingOverrides) > 0 {
		c.AuthFlowOverrides = maps.Clone(c.AuthFlowOverrides)
		if c.AuthFlowOverrides == nil {
			c.AuthFlowOverrides = map[string]string{}
		}
		for k, v := range x.AuthenticationFlowBindingOverrides {
			if strings.TrimSpace(v) == "" {
				delete(c.AuthFlowOverrides, k)
			} else {
				c.AuthFlowOverrides[k] = v
			}
		}
		if len(c.AuthFlowOverrides) == 0 {
			c.AuthFlowOverrides = nil
		}
	}
	set(&c.FullScopeAllowed, x.FullScopeAllowed)
	set(&c.NodeReRegistrationTimeout, x.NodeReRegistrationTimeout)
	if x.RegisteredNodes != nil {
		c.RegisteredNodes = maps.Clone(x.RegisteredNodes)
	}
	if x.ProtocolMappers != nil {
		c.ProtocolMappers = mappersToDomain(x.ProtocolMappers, c.ProtocolMappers, c.Protocol)
	}
	if c.PublicClient || c.BearerOnly {
		c.Secret = ""
	}
}

// ProtocolMapper is Keycloak's ProtocolMapperRepresentation.
type ProtocolMapper struct {
	ID             string `json:"id,omitempty"`
	Name           string `json:"name"`
	Protocol       string `json:"protocol"`
	ProtocolMapper string `json:"protocolMapper"`
	// ConsentRequired is deprecated in Keycloak and always false, but still
	// written, so clients that read it find it.
	ConsentRequired bool              `json:"consentRequired"`
	Config          map[string]string `json:"config,omitzero"`
}

// MapperFromDomain returns the mapper as Keycloak shows it.
func MapperFromDomain(m client.ProtocolMapper) ProtocolMapper {
	return ProtocolMapper{
		ID:             m.ID,
		Name:           m.Name,
		Protocol:       m.Protocol,
		ProtocolMapper: m.ProtocolMapper,
		Config:         cloneMap(m.Config),
	}
}

// ToDomain returns the domain mapper; its Config is never nil.
func (x ProtocolMapper) ToDomain() client.ProtocolMapper {
	return client.ProtocolMapper{
		ID:             x.ID,
		Name:           x.Name,
		Protocol:       x.Protocol,
		ProtocolMapper: x.ProtocolMapper,
		Config:         cloneMap(x.Config),
	}
}

// mappersFromDomain sorts by name (Keycloak keeps mappers in a set, so order
// carries no meaning) and returns nil for none, which Keycloak omits.
func mappersFromDomain(ms []client.ProtocolMapper) []ProtocolMapper {
	if len(ms) == 0 {
		return nil
	}
	out := make([]ProtocolMapper, len(ms))
	for i, m := range ms {
		out[i] = MapperFromDomain(m)
	}
	slices.SortStableFunc(out, func(a, b ProtocolMapper) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Protocol, b.Protocol), strings.Compare(a.ID, b.ID))
	})
	return out
}

// mappersToDomain converts xs, reusing the ids of old mappers matched by
// protocol and name and filling a missing protocol with the owner's.
func mappersToDomain(xs []ProtocolMapper, old []client.ProtocolMapper, protocol string) []client.ProtocolMapper {
	type key struct{ protocol, name string }
	ids := make(map[key]string, len(old))
	for _, m := range old {
		ids[key{m.Protocol, m.Name}] = m.ID
	}
	out := make([]client.ProtocolMapper, len(xs))
	for i, x := range xs {
		m := x.ToDomain()
		if m.Protocol == "" {
			m.Protocol = protocol
		}
		if m.ID == "" {
			m.ID = ids[key{m.Protocol, m.Name}]
		}
		out[i] = m
	}
	return out
}

// ClientScope is Keycloak's ClientScopeRepresentation.
type ClientScope struct {
	ID              string            `json:"id,omitempty"`
	Name            string            `json:"name"`
	Description     string            `json:"description,omitempty"`
	Protocol        string            `json:"protocol,omitempty"`
	Attributes      map[string]string `json:"attributes,omitzero"`
	ProtocolMappers []ProtocolMapper  `json:"protocolMappers,omitzero"`
}

// ScopeFromDomain returns the client scope as Keycloak shows it, mappers
// sorted by name and omitted when there are none.
func ScopeFromDomain(s client.Scope) ClientScope {
	return ClientScope{
		ID:              s.ID,
		Name:            s.Name,
		Description:     s.Description,
		Protocol:        s.Protocol,
		Attributes:      cloneMap(s.Attributes),
		ProtocolMappers: mappersFromDomain(s.ProtocolMappers),
	}
}

// ToDomain returns the client scope in realmID. A missing protocol is
// openid-connect; nil attributes and mappers become empty.
func (x ClientScope) ToDomain(realmID string) client.Scope {
	s := client.Scope{
		ID:          x.ID,
		RealmID:     realmID,
		Name:        x.Name,
		Description: x.Description,
		Protocol:    cmp.Or(x.Protocol, OpenIDConnect),
		Attributes:  cloneMap(x.Attributes),
	}
	s.ProtocolMappers = mappersToDomain(x.ProtocolMappers, nil, s.Protocol)
	return s
}
