package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// providerData is what identity_providers.data holds: the provider's
// settings beside the columns it is looked up by.
type providerData struct {
	DisplayName               string            `json:"displayName,omitempty"`
	ProviderID                string            `json:"providerId"`
	Enabled                   bool              `json:"enabled"`
	TrustEmail                bool              `json:"trustEmail,omitempty"`
	StoreToken                bool              `json:"storeToken,omitempty"`
	AddReadTokenRoleOnCreate  bool              `json:"addReadTokenRoleOnCreate,omitempty"`
	LinkOnly                  bool              `json:"linkOnly,omitempty"`
	HideOnLogin               bool              `json:"hideOnLogin,omitempty"`
	FirstBrokerLoginFlowAlias string            `json:"firstBrokerLoginFlowAlias,omitempty"`
	PostBrokerLoginFlowAlias  string            `json:"postBrokerLoginFlowAlias,omitempty"`
	SyncMode                  string            `json:"syncMode,omitempty"`
	Config                    map[string]string `json:"config"`
}

const providerCols = `id, realm_id, alias, data`

func scanProvider(sc interface{ Scan(...any) error }) (idp.Provider, error) {
	var (
		p       idp.Provider
		realmID string
		data    string
		d       providerData
	)
	if err := sc.Scan(&p.InternalID, &realmID, &p.Alias, &data); err != nil {
		return idp.Provider{}, mapErr(err)
	}
	if err := fromJSON(data, &d); err != nil {
		return idp.Provider{}, err
	}
	p.DisplayName, p.ProviderID, p.Enabled, p.TrustEmail = d.DisplayName, d.ProviderID, d.Enabled, d.TrustEmail
	p.StoreToken, p.AddReadTokenRoleOnCreate, p.LinkOnly, p.HideOnLogin = d.StoreToken, d.AddReadTokenRoleOnCreate, d.LinkOnly, d.HideOnLogin
	p.FirstBrokerLoginFlowAlias, p.PostBrokerLoginFlowAlias, p.SyncMode = d.FirstBrokerLoginFlowAlias, d.PostBrokerLoginFlowAlias, d.SyncMode
	p.Config = d.Config
	if p.Config == nil {
		p.Config = map[string]string{}
	}
	return p, nil
}

func encodeProvider(p idp.Provider) string {
	return toJSON(providerData{DisplayName: p.DisplayName, ProviderID: p.ProviderID, Enabled: p.Enabled,
		TrustEmail: p.TrustEmail, StoreToken: p.StoreToken, AddReadTokenRoleOnCreate: p.AddReadTokenRoleOnCreate,
		LinkOnly: p.LinkOnly, HideOnLogin: p.HideOnLogin, FirstBrokerLoginFlowAlias: p.FirstBrokerLoginFlowAlias,
		PostBrokerLoginFlowAlias: p.PostBrokerLoginFlowAlias, SyncMode: p.SyncMode, Config: nonNilConfig(p.Config)})
}

// ListIdentityProviders returns the realm's identity providers ordered by
// alias. With a config view the slice and the providers' Config maps are
// shared: read them, never change them.
func (s *DB) ListIdentityProviders(ctx context.Context, realmID string) ([]idp.Provider, error) {
	return cachedSlice(ctx, s, func(sn *snapshot) *memo[string, []idp.Provider] { return &sn.providers }, realmID, func() ([]idp.Provider, error) {
		rows, err := s.query(ctx, `SELECT `+providerCols+` FROM identity_providers WHERE realm_id = $1 ORDER BY alias`, realmID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []idp.Provider
		for rows.Next() {
			p, err := scanProvider(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, rows.Err()
	})
}

// GetIdentityProvider loads a provider by alias.
func (s *DB) GetIdentityProvider(ctx context.Context, realmID, alias string) (idp.Provider, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[[2]string, idp.Provider] { return &sn.providerByAlias }, [2]string{realmID, alias}, func() (idp.Provider, error) {
		return scanProvider(s.queryRow(ctx, `SELECT `+providerCols+` FROM identity_providers WHERE realm_id = $1 AND alias = $2`, realmID, alias))
	})
}

// GetIdentityProviderByID loads a provider by internal id.
func (s *DB) GetIdentityProviderByID(ctx context.Context, realmID, id string) (idp.Provider, error) {
	return scanProvider(s.queryRow(ctx, `SELECT `+providerCols+` FROM identity_providers WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// CreateIdentityProvider stores a new provider (given an InternalID, or a
// new one) and returns it as stored. Its alias is unique in the realm
// (ErrConflict).
func (s *DB) CreateIdentityProvider(ctx context.Context, realmID string, p idp.Provider) (idp.Provider, error) {
	p.Normalize()
	if err := p.Validate(nil); err != nil {
		return idp.Provider{}, err
	}
	if p.InternalID == "" {
		p.InternalID = NewID()
	}
	if _, err := s.exec(ctx, `INSERT INTO identity_providers (`+providerCols+`) VALUES ($1, $2, $3, $4)`,
		p.InternalID, realmID, p.Alias, encodeProvider(p)); err != nil {
		return idp.Provider{}, fmt.Errorf("create identity provider %q: %w", p.Alias, err)
	}
	return p, nil
}

// UpdateIdentityProvider applies edit to the stored provider in one
// transaction. Renaming it (a new Alias) keeps its mappers and its users'
// links; the internal id cannot change.
func (s *DB) UpdateIdentityProvider(ctx context.Context, realmID, alias string, edit func(*idp.Provider) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		p, err := scanProvider(tx.queryRow(ctx, `SELECT `+providerCols+` FROM identity_providers WHERE realm_id = $1 AND alias = $2`+tx.forUpdate(), realmID, alias))
		if err != nil {
			return err
		}
		id := p.InternalID
		if err := edit(&p); err != nil {
			return err
		}
		p.InternalID = id
		p.Normalize()
		if err := p.Validate(nil); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE identity_providers SET alias = $3, data = $4 WHERE realm_id = $1 AND id = $2`,
			realmID, id, p.Alias, encodeProvider(p)); err != nil {
			return fmt.Errorf("change identity provider %q: %w", p.Alias, err)
		}
		return nil
	})
}

// DeleteIdentityProvider removes a provider with its mappers and every
// user's link to it.
func (s *DB) DeleteIdentityProvider(ctx context.Context, realmID, alias string) error {
	return oneRow(s.exec(ctx, `DELETE FROM identity_providers WHERE realm_id = $1 AND alias = $2`, realmID, alias))
}

// mapperData is what identity_provider_mappers.data holds.
type mapperData struct {
	Type   string            `json:"identityProviderMapper"`
	Config map[string]string `json:"config"`
}

const mapperSelect = `SELECT m.id, p.alias, m.name, m.data FROM identity_provider_mappers m
	JOIN identity_providers p ON p.id = m.provider_id`

func scanMapper(sc interface{ Scan(...any) error }) (idp.Mapper, error) {
	var (
		m    idp.Mapper
		data string
		d    mapperData
	)
	if err := sc.Scan(&m.ID, &m.IdentityProviderAlias, &m.Name, &data); err != nil {
		return idp.Mapper{}, mapErr(err)
	}
	if err := fromJSON(data, &d); err != nil {
		return idp.Mapper{}, err
	}
	m.IdentityProviderMapper, m.Config = d.Type, d.Config
	if m.Config == nil {
		m.Config = map[string]string{}
	}
	return m, nil
}

func encodeMapper(m idp.Mapper) string {
	return toJSON(mapperData{Type: m.IdentityProviderMapper, Config: nonNilConfig(m.Config)})
}

// ListIdentityProviderMappers returns a provider's mappers ordered by name
// (none for a provider that does not exist). With a config view the result
// is shared: read it, never change it.
func (s *DB) ListIdentityProviderMappers(ctx context.Context, realmID, alias string) ([]idp.Mapper, error) {
	return cachedSlice(ctx, s, func(sn *snapshot) *memo[[2]string, []idp.Mapper] { return &sn.providerMappers }, [2]string{realmID, alias}, func() ([]idp.Mapper, error) {
		return s.mappers(ctx, mapperSelect+` WHERE m.realm_id = $1 AND p.alias = $2 ORDER BY m.name`, realmID, alias)
	})
}

// ListRealmIdentityProviderMappers returns every provider mapper of the
// realm, ordered by provider alias and name.
func (s *DB) ListRealmIdentityProviderMappers(ctx context.Context, realmID string) ([]idp.Mapper, error) {
	return s.mappers(ctx, mapperSelect+` WHERE m.realm_id = $1 ORDER BY p.alias, m.name`, realmID)
}

func (s *DB) mappers(ctx context.Context, q string, args ...any) ([]idp.Mapper, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []idp.Mapper
	for rows.Next() {
		m, err := scanMapper(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// GetIdentityProviderMapper loads a mapper by id.
func (s *DB) GetIdentityProviderMapper(ctx context.Context, realmID, id string) (idp.Mapper, error) {
	return scanMapper(s.queryRow(ctx, mapperSelect+` WHERE m.realm_id = $1 AND m.id = $2`, realmID, id))
}

// CreateIdentityProviderMapper stores a new mapper of the provider its
// IdentityProviderAlias names (ErrNotFound if there is none) and returns it
// as stored. Its name is unique among the provider's mappers (ErrConflict).
func (s *DB) CreateIdentityProviderMapper(ctx context.Context, realmID string, m idp.Mapper) (idp.Mapper, error) {
	if err := m.Validate(); err != nil {
		return idp.Mapper{}, err
	}
	if m.ID == "" {
		m.ID = NewID()
	}
	err := s.InTx(ctx, func(tx *DB) error {
		var pid string
		if err := tx.queryRow(ctx, `SELECT id FROM identity_providers WHERE realm_id = $1 AND alias = $2`, realmID, m.IdentityProviderAlias).Scan(&pid); err != nil {
			return mapErr(err)
		}
		_, err := tx.exec(ctx, `INSERT INTO identity_provider_mappers (id, realm_id, provider_id, name, data) VALUES ($1, $2, $3, $4, $5)`,
			m.ID, realmID, pid, m.Name, encodeMapper(m))
		return err
	})
	if err != nil {
		return idp.Mapper{}, fmt.Errorf("create identity provider mapper %q: %w", m.Name, err)
	}
	return m, nil
}

// UpdateIdentityProviderMapper applies edit to the stored mapper in one
// transaction; its id and provider stay.
func (s *DB) UpdateIdentityProviderMapper(ctx context.Context, realmID, id string, edit func(*idp.Mapper) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		m, err := scanMapper(tx.queryRow(ctx, mapperSelect+` WHERE m.realm_id = $1 AND m.id = $2`+tx.forUpdate(), realmID, id))
		if err != nil {
			return err
		}
		alias := m.IdentityProviderAlias
		if err := edit(&m); err != nil {
			return err
		}
		m.ID, m.IdentityProviderAlias = id, alias
		if err := m.Validate(); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE identity_provider_mappers SET name = $3, data = $4 WHERE realm_id = $1 AND id = $2`,
			realmID, id, m.Name, encodeMapper(m)); err != nil {
			return fmt.Errorf("change identity provider mapper %q: %w", m.Name, err)
		}
		return nil
	})
}

// DeleteIdentityProviderMapper removes a mapper.
func (s *DB) DeleteIdentityProviderMapper(ctx context.Context, realmID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM identity_provider_mappers WHERE realm_id = $1 AND id = $2`, realmID, id))
}

const federatedSelect = `SELECT f.user_id, p.alias, f.federated_user_id, f.federated_username, f.token
	FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id`

func scanFederated(sc interface{ Scan(...any) error }) (idp.FederatedIdentity, error) {
	var f idp.FederatedIdentity
	if err := sc.Scan(&f.UserID, &f.Alias, &f.FederatedUserID, &f.FederatedUsername, &f.Token); err != nil {
		return idp.FederatedIdentity{}, mapErr(err)
	}
	return f, nil
}

// ListFederatedIdentities returns a user's links, ordered by provider alias.
func (s *DB) ListFederatedIdentities(ctx context.Context, realmID, userID string) ([]idp.FederatedIdentity, error) {
	return s.federated(ctx, federatedSelect+` WHERE f.realm_id = $1 AND f.user_id = $2 ORDER BY p.alias`, realmID, userID)
}

// ListRealmFederatedIdentities returns every link of the realm's users,
// ordered by user and provider alias: what an export writes.
func (s *DB) ListRealmFederatedIdentities(ctx context.Context, realmID string) ([]idp.FederatedIdentity, error) {
	return s.federated(ctx, federatedSelect+` WHERE f.realm_id = $1 ORDER BY f.user_id, p.alias`, realmID)
}

func (s *DB) federated(ctx context.Context, q string, args ...any) ([]idp.FederatedIdentity, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []idp.FederatedIdentity
	for rows.Next() {
		f, err := scanFederated(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// GetFederatedIdentity loads a user's link to one provider.
func (s *DB) GetFederatedIdentity(ctx context.Context, realmID, userID, alias string) (idp.FederatedIdentity, error) {
	return scanFederated(s.queryRow(ctx, federatedSelect+` WHERE f.realm_id = $1 AND f.user_id = $2 AND p.alias = $3`, realmID, userID, alias))
}

// FindUserByFederatedIdentity returns the user linked to the account
// federatedUserID at the provider alias.
func (s *DB) FindUserByFederatedIdentity(ctx context.Context, realmID, alias, federatedUserID string) (user.User, error) {
	return scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = (SELECT f.user_id
		FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id
		WHERE f.realm_id = $1 AND p.alias = $2 AND f.federated_user_id = $3)`, realmID, alias, federatedUserID))
}

// AddFederatedIdentity links a user of the realm to an account at a
// provider. ErrNotFound: no such user or provider; ErrConflict: the user
// already has a link to the provider, or the account is linked to another
// user.
func (s *DB) AddFederatedIdentity(ctx context.Context, realmID string, f idp.FederatedIdentity) error {
	if err := f.Validate(); err != nil {
		return err
	}
	err := s.InTx(ctx, func(tx *DB) error {
		var pid, uid string
		if err := tx.queryRow(ctx, `SELECT id FROM identity_providers WHERE realm_id = $1 AND alias = $2`, realmID, f.Alias).Scan(&pid); err != nil {
			return mapErr(err)
		}
		if err := tx.queryRow(ctx, `SELECT id FROM users WHERE realm_id = $1 AND id = $2`, realmID, f.UserID).Scan(&uid); err != nil {
			return mapErr(err)
		}
		_, err := tx.exec(ctx, `INSERT INTO federated_identities (user_id, realm_id, provider_id, federated_user_id, federated_username, token)
			VALUES ($1, $2, $3, $4, $5, $6)`, uid, realmID, pid, f.FederatedUserID, f.FederatedUsername, f.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("link user to identity provider %q: %w", f.Alias, err)
	}
	return nil
}

// RemoveFederatedIdentity removes a user's link to a provider.
func (s *DB) RemoveFederatedIdentity(ctx context.Context, realmID, userID, alias string) error {
	return oneRow(s.exec(ctx, `DELETE FROM federated_identities WHERE realm_id = $1 AND user_id = $2
		AND provider_id = (SELECT id FROM identity_providers WHERE realm_id = $1 AND alias = $3)`, realmID, userID, alias))
}

// UpdateFederatedIdentityToken replaces the tokens stored on a user's link
// (and, when username is not empty, the upstream username it knows).
func (s *DB) UpdateFederatedIdentityToken(ctx context.Context, realmID, userID, alias, token string) error {
	return oneRow(s.exec(ctx, `UPDATE federated_identities SET token = $4 WHERE realm_id = $1 AND user_id = $2
		AND provider_id = (SELECT id FROM identity_providers WHERE realm_id = $1 AND alias = $3)`, realmID, userID, alias, token))
}

func nonNilConfig(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// RoleByRef finds the role an identity provider mapper names: a client role
// as "clientId.roleName" (split at the last dot, when such a client role
// exists) or else a realm role by its whole name.
func (s *DB) RoleByRef(ctx context.Context, realmID, ref string) (role.Role, error) {
	if i := strings.LastIndexByte(ref, '.'); i > 0 {
		if c, err := s.GetClientByClientID(ctx, realmID, ref[:i]); err == nil {
			if r, err := s.GetClientRole(ctx, realmID, c.ID, ref[i+1:]); err == nil {
				return r, nil
			} else if !errors.Is(err, ErrNotFound) {
				return role.Role{}, err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return role.Role{}, err
		}
	}
	return s.GetRealmRole(ctx, realmID, ref)
}

// GroupByPath finds a group by its path ("/parent/child"; a top-level
// group's leading slash may be left out).
func (s *DB) GroupByPath(ctx context.Context, realmID, path string) (role.Group, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	all, err := s.ListGroups(ctx, realmID)
	if err != nil {
		return role.Group{}, err
	}
	for id, p := range role.GroupPaths(all) {
		if p == path {
			for _, g := range all {
				if g.ID == id {
					return g, nil
				}
			}
		}
	}
	return role.Group{}, ErrNotFound
}
