package rep

import (
	"context"
	"errors"
	"maps"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// CheckProvider checks provider p may be stored in realm r, wherever it
// comes from (admin API, import, reconcile): the model's rules with r's
// sslRequired, and the flows it names must be r's. A refusal is an
// idp.ValidationError.
func CheckProvider(ctx context.Context, db *store.DB, r realm.Realm, p idp.Provider) error {
	if err := p.Validate(r.SecureRequired); err != nil {
		return err
	}
	if p.FirstBrokerLoginFlowAlias == "" && p.PostBrokerLoginFlowAlias == "" {
		return nil
	}
	c, err := db.GetAuthConfig(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, a := range []string{p.FirstBrokerLoginFlowAlias, p.PostBrokerLoginFlowAlias} {
		if _, ok := c.FlowByAlias(a); a != "" && !ok {
			return idp.Invalid("No available authentication flow with alias: " + a)
		}
	}
	return nil
}

// CheckProviderMapper checks mapper m fits a provider of kind providerID
// and that the role or group it names exists in the realm. It returns the
// ids of the roles the mapper grants (its role, or its group's roles), for
// the admin API to check the caller may grant them. A refusal is an
// idp.ValidationError.
func CheckProviderMapper(ctx context.Context, db *store.DB, realmID, providerID string, m idp.Mapper) ([]string, error) {
	if err := m.CheckFor(providerID); err != nil {
		return nil, err
	}
	switch m.IdentityProviderMapper {
	case idp.MapperHardcodedRole, idp.MapperAdvancedClaimRole:
		ref := m.Config[idp.MapperConfigRole]
		ro, err := db.RoleByRef(ctx, realmID, ref)
		if errors.Is(err, store.ErrNotFound) {
			return nil, idp.Invalid("Role " + ref + " not found")
		}
		if err != nil {
			return nil, err
		}
		return []string{ro.ID}, nil
	case idp.MapperHardcodedGroup, idp.MapperAdvancedClaimGroup:
		path := m.Config[idp.MapperConfigGroup]
		g, err := db.GroupByPath(ctx, realmID, path)
		if errors.Is(err, store.ErrNotFound) {
			return nil, idp.Invalid("Group " + path + " not found")
		}
		if err != nil {
			return nil, err
		}
		roles, err := db.ListGroupRoles(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		ids := []string{}
		for _, r := range roles {
			ids = append(ids, r.ID)
		}
		return ids, nil
	}
	return nil, nil
}

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
