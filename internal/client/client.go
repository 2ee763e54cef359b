// Package client owns OAuth clients and client scopes: their flow switches,
// redirect URIs and web origins (how they match and resolve), secrets,
// attributes and protocol mappers.
package client

import (
	"errors"
	"strings"
)

// Client is an application that asks the realm for tokens.
type Client struct {
	ID                        string
	RealmID                   string
	ClientID                  string
	Name                      string
	Description               string
	Enabled                   bool
	AlwaysDisplayInConsole    bool
	ClientAuthenticatorType   string // "client-secret", "client-jwt", "client-secret-jwt", "client-x509"
	Secret                    string
	RegistrationAccessToken   string
	RootURL                   string
	BaseURL                   string
	AdminURL                  string
	RedirectURIs              []string
	WebOrigins                []string
	NotBefore                 int64
	BearerOnly                bool
	ConsentRequired           bool
	StandardFlowEnabled       bool
	ImplicitFlowEnabled       bool
	DirectAccessGrantsEnabled bool
	ServiceAccountsEnabled    bool
	PublicClient              bool
	FrontchannelLogout        bool
	Protocol                  string
	Attributes                map[string]string
	AuthFlowOverrides         map[string]string
	FullScopeAllowed          bool
	NodeReRegistrationTimeout int
	// RegisteredNodes are the cluster nodes of the application that
	// registered themselves, with when (epoch seconds).
	RegisteredNodes       map[string]int64
	SurrogateAuthRequired bool
	ProtocolMappers       []ProtocolMapper
}

// New returns a confidential OpenID Connect client with Keycloak's defaults.
func New(id, realmID, clientID string) Client {
	return Client{
		ID:                        id,
		RealmID:                   realmID,
		ClientID:                  clientID,
		Enabled:                   true,
		ClientAuthenticatorType:   "client-secret",
		StandardFlowEnabled:       true,
		Protocol:                  "openid-connect",
		FullScopeAllowed:          true,
		FrontchannelLogout:        true,
		NodeReRegistrationTimeout: -1,
		Attributes:                map[string]string{},
	}
}

// Validate checks the invariants of a stored client.
func (c Client) Validate() error {
	if strings.TrimSpace(c.ClientID) == "" {
		return errors.New("clientId is missing")
	}
	if len(c.ClientID) > 255 {
		return errors.New("clientId is longer than 255 characters")
	}
	if c.Protocol != "" && c.Protocol != "openid-connect" && c.Protocol != "saml" {
		return errors.New("protocol must be openid-connect or saml")
	}
	for _, m := range c.ProtocolMappers {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Confidential reports whether the client must authenticate at the token endpoint.
func (c Client) Confidential() bool { return !c.PublicClient && !c.BearerOnly }

// ProtocolMapper turns user, session or constant data into a token claim.
type ProtocolMapper struct {
	ID             string
	Name           string
	Protocol       string
	ProtocolMapper string // mapper type, e.g. "oidc-usermodel-property-mapper"
	Config         map[string]string
}

// Validate checks a mapper has what every mapper needs.
func (m ProtocolMapper) Validate() error {
	if m.Name == "" {
		return errors.New("protocol mapper name is missing")
	}
	if m.ProtocolMapper == "" {
		return errors.New("protocol mapper " + m.Name + " has no type")
	}
	return nil
}

// Scope is a client scope: a named bundle of protocol mappers and role scope
// that clients link as default (always applied) or optional (applied when the
// scope parameter asks for it).
type Scope struct {
	ID              string
	RealmID         string
	Name            string
	Description     string
	Protocol        string
	Attributes      map[string]string
	ProtocolMappers []ProtocolMapper
}

// Validate checks the invariants of a stored client scope. Which names an
// administrator may give a new scope is the admin API's rule
// (checkScopeName); an import keeps a name as the file has it, as a client
// template of an old export ("foo scope").
func (s Scope) Validate() error {
	if s.Name == "" {
		return errors.New("client scope name is missing")
	}
	for _, m := range s.ProtocolMappers {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// protocolOrOIDC is a protocol name with the empty one read as
// openid-connect, as clients and scopes of old exports leave it out.
func protocolOrOIDC(p string) string {
	if p == "" {
		return "openid-connect"
	}
	return p
}

// Takes reports whether the client can link scope s: only a scope of the
// client's own protocol, so a realm default such as SAML's role_list never
// reaches an OpenID Connect client, nor profile a SAML one.
func (c Client) Takes(s Scope) bool {
	return protocolOrOIDC(c.Protocol) == protocolOrOIDC(s.Protocol)
}

// ScopeLink ties a client scope to a client (or, with ClientID empty, to the
// realm's defaults for new clients).
type ScopeLink struct {
	ScopeID string
	Default bool // default scope when true, optional otherwise
}

// ResponseTypes lists the response_type values the authorization endpoint
// serves: the code flow, and the implicit and hybrid ones for a client with
// ImplicitFlowEnabled. Discovery advertises exactly these.
var ResponseTypes = []string{"code", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"}
