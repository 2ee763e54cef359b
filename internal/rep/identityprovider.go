package rep

import (
	"maps"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
)

// IdentityProvider is Keycloak's IdentityProviderRepresentation. Enabled
// is a pointer because a representation without it means enabled. The
// sync mode travels in config ("syncMode"), as in Keycloak.
type IdentityProvider struct {
	Alias                     string            `json:"alias"`
	DisplayName               string            `json:"displayName,omitempty"`
	InternalID                string            `json:"internalId,omitempty"`
	ProviderID                string            `json:"providerId"`
	Enabled                   *bool             `json:"enabled,omitempty"`
	TrustEmail                bool              `json:"trustEmail"`
	StoreToken                bool              `json:"storeToken"`
	AddReadTokenRoleOnCreate  bool              `json:"addReadTokenRoleOnCreate"`
	LinkOnly                  bool              `json:"linkOnly"`
	HideOnLogin               bool              `json:"hideOnLogin"`
	FirstBrokerLoginFlowAlias string            `json:"firstBrokerLoginFlowAlias,omitempty"`
	PostBrokerLoginFlowAlias  string            `json:"postBrokerLoginFlowAlias,omitempty"`
	Config                    map[string]string `json:"config"`
}

// IdentityProviderFromDomain returns the provider as it is stored, secrets
// included: callers that hand it out mask it (Masked).
func IdentityProviderFromDomain(p idp.Provider) IdentityProvider {
	cfg := maps.Clone(p.Config)
	if cfg == nil {
		cfg = map[string]string{}
	}
	if p.SyncMode != "" {
		cfg["syncMode"] = p.SyncMode
	}
	enabled := p.Enabled
	return IdentityProvider{Alias: p.Alias, DisplayName: p.DisplayName, InternalID: p.InternalID, ProviderID: p.ProviderID,
		Enabled: &enabled, TrustEmail: p.TrustEmail, StoreToken: p.StoreToken, AddReadTokenRoleOnCreate: p.AddReadTokenRoleOnCreate,
		LinkOnly: p.LinkOnly, HideOnLogin: p.HideOnLogin, FirstBrokerLoginFlowAlias: p.FirstBrokerLoginFlowAlias,
		PostBrokerLoginFlowAlias: p.PostBrokerLoginFlowAlias, Config: cfg}
}

// Masked returns x with its secrets replaced by the mask.
func (x IdentityProvider) Masked() IdentityProvider {
	x.Config = idp.Masked(x.Config)
	return x
}

// Brief is the list's brief representation: the provider without its
// configuration.
func (x IdentityProvider) Brief() IdentityProvider {
	x.Config = map[string]string{}
	return x
}

// ToDomain returns the provider x describes, normalized (see
// idp.Provider.Normalize); it is not validated.
func (x IdentityProvider) ToDomain() idp.Provider {
	p := idp.Provider{InternalID: x.InternalID, Alias: x.Alias, DisplayName: x.DisplayName, ProviderID: x.ProviderID,
		Enabled: x.Enabled == nil || *x.Enabled, TrustEmail: x.TrustEmail, StoreToken: x.StoreToken,
		AddReadTokenRoleOnCreate: x.AddReadTokenRoleOnCreate, LinkOnly: x.LinkOnly, HideOnLogin: x.HideOnLogin,
		FirstBrokerLoginFlowAlias: x.FirstBrokerLoginFlowAlias, PostBrokerLoginFlowAlias: x.PostBrokerLoginFlowAlias,
		Config: maps.Clone(x.Config)}
	p.Normalize()
	return p
}

// IdentityProviderMapper is Keycloak's IdentityProviderMapperRepresentation.
type IdentityProviderMapper struct {
	ID                     string            `json:"id,omitempty"`
	Name                   string            `json:"name"`
	IdentityProviderAlias  string            `json:"identityProviderAlias"`
	IdentityProviderMapper string            `json:"identityProviderMapper"`
	Config                 map[string]string `json:"config"`
}

// IdentityProviderMapperFromDomain returns the mapper's representation.
func IdentityProviderMapperFromDomain(m idp.Mapper) IdentityProviderMapper {
	cfg := maps.Clone(m.Config)
	if cfg == nil {
		cfg = map[string]string{}
	}
	return IdentityProviderMapper{ID: m.ID, Name: m.Name, IdentityProviderAlias: m.IdentityProviderAlias,
		IdentityProviderMapper: m.IdentityProviderMapper, Config: cfg}
}

// ToDomain returns the mapper x describes, without its empty config values.
func (x IdentityProviderMapper) ToDomain() idp.Mapper {
	cfg := map[string]string{}
	for k, v := range x.Config {
		if v != "" {
			cfg[k] = v
		}
	}
	return idp.Mapper{ID: x.ID, Name: x.Name, IdentityProviderAlias: x.IdentityProviderAlias,
		IdentityProviderMapper: x.IdentityProviderMapper, Config: cfg}
}

// FederatedIdentity is Keycloak's FederatedIdentityRepresentation: a
// user's link to an account at an identity provider.
type FederatedIdentity struct {
	IdentityProvider string `json:"identityProvider,omitempty"`
	UserID           string `json:"userId,omitempty"`
	UserName         string `json:"userName,omitempty"`
}

// FederatedIdentityFromDomain returns the link's representation; the
// stored token is never part of it.
func FederatedIdentityFromDomain(f idp.FederatedIdentity) FederatedIdentity {
	return FederatedIdentity{IdentityProvider: f.Alias, UserID: f.FederatedUserID, UserName: f.FederatedUsername}
}
