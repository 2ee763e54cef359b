package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

type scopeData struct {
	Description     string                  `json:"description,omitempty"`
	Protocol        string                  `json:"protocol"`
	Attributes      map[string]string       `json:"attributes"`
	ProtocolMappers []client.ProtocolMapper `json:"protocolMappers"`
}

const scopeCols = `id, realm_id, name, data`

func scanScope(sc interface{ Scan(...any) error }) (client.Scope, error) {
	var (
		c    client.Scope
		data string
		d    scopeData
	)
	if err := sc.Scan(&c.ID, &c.RealmID, &c.Name, &data); err != nil {
		return client.Scope{}, mapErr(err)
	}
	if err := fromJSON(data, &d); err != nil {
		return client.Scope{}, err
	}
	c.Description, c.Protocol, c.Attributes, c.ProtocolMappers = d.Description, d.Protocol, d.Attributes, d.ProtocolMappers
	return c, nil
}

func encodeScope(c client.Scope) string {
	return toJSON(scopeData{Description: c.Description, Protocol: c.Protocol, Attributes: c.Attributes, ProtocolMappers: c.ProtocolMappers})
}

// CreateClientScope stores a new client scope; its name is unique in the realm.
func (s *DB) CreateClientScope(ctx context.Context, c client.Scope) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, `INSERT INTO client_scopes (`+scopeCols+`) VALUES ($1, $2, $3, $4)`,
		c.ID, c.RealmID, c.Name, encodeScope(c)); err != nil {
		return fmt.Errorf("create client scope %q: %w", c.Name, err)
	}
	return nil
}

// GetClientScope loads a client scope by id.
func (s *DB) GetClientScope(ctx context.Context, realmID, id string) (client.Scope, error) {
	return scanScope(s.queryRow(ctx, `SELECT `+scopeCols+` FROM client_scopes WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// GetClientScopeByName loads a client scope by name, as the scope parameter names it.
func (s *DB) GetClientScopeByName(ctx context.Context, realmID, name string) (client.Scope, error) {
	return scanScope(s.queryRow(ctx, `SELECT `+scopeCols+` FROM client_scopes WHERE realm_id = $1 AND name = $2`, realmID, name))
}

// ListClientScopes returns the realm's client scopes ordered by name.
func (s *DB) ListClientScopes(ctx context.Context, realmID string) ([]client.Scope, error) {
	return cachedSlice(ctx, s, func(sn *snapshot) *memo[string, []client.Scope] { return &sn.realmScopes }, realmID, func() ([]client.Scope, error) {
		return s.listClientScopes(ctx, realmID)
	})
}

func (s *DB) listClientScopes(ctx context.Context, realmID string) ([]client.Scope, error) {
	rows, err := s.query(ctx, `SELECT `+scopeCols+` FROM client_scopes WHERE realm_id = $1 ORDER BY name`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []client.Scope
	for rows.Next() {
		c, err := scanScope(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateClientScope applies edit to the stored scope inside one transaction.
func (s *DB) UpdateClientScope(ctx context.Context, realmID, id string, edit func(*client.Scope) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		c, err := scanScope(tx.queryRow(ctx, `SELECT `+scopeCols+` FROM client_scopes WHERE realm_id = $1 AND id = $2`+tx.forUpdate(), realmID, id))
		if err != nil {
			return err
		}
		if err := edit(&c); err != nil {
			return err
		}
		c.ID, c.RealmID = id, realmID
		if err := c.Validate(); err != nil {
			return err
		}
		return oneRow(tx.exec(ctx, `UPDATE client_scopes SET name = $3, data = $4 WHERE realm_id = $1 AND id = $2`,
			realmID, id, c.Name, encodeScope(c)))
	})
}

// DeleteClientScope removes a scope and every link to it, and the scope
// from client scope policies (see dropPolicyRefs).
func (s *DB) DeleteClientScope(ctx context.Context, realmID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		if err := oneRow(tx.exec(ctx, `DELETE FROM client_scopes WHERE realm_id = $1 AND id = $2`, realmID, id)); err != nil {
			return err
		}
		return tx.dropPolicyRefs(ctx, realmID, "client-scope", id)
	})
}

// RealmDefaults is the clientID under which a realm's default scopes for new
// clients are linked.
const RealmDefaults = ""

// LinkClientScope links a scope to a client (or, with clientID RealmDefaults,
// to the realm's defaults) as default or optional, replacing an earlier link.
func (s *DB) LinkClientScope(ctx context.Context, realmID, clientID, scopeID string, isDefault bool) error {
	_, err := s.exec(ctx, `INSERT INTO client_scope_links (realm_id, client_id, scope_id, is_default) VALUES ($1, $2, $3, $4)
		ON CONFLICT (realm_id, client_id, scope_id) DO UPDATE SET is_default = excluded.is_default`,
		realmID, clientID, scopeID, isDefault)
	return err
}

// UnlinkClientScope removes a link; a missing link is ErrNotFound.
func (s *DB) UnlinkClientScope(ctx context.Context, realmID, clientID, scopeID string) error {
	return oneRow(s.exec(ctx, `DELETE FROM client_scope_links WHERE realm_id = $1 AND client_id = $2 AND scope_id = $3`,
		realmID, clientID, scopeID))
}

// ClientScopeLinks lists the scopes linked to a client (or the realm defaults),
// in scope-name order.
func (s *DB) ClientScopeLinks(ctx context.Context, realmID, clientID string) ([]client.ScopeLink, error) {
	rows, err := s.query(ctx, `SELECT l.scope_id, l.is_default FROM client_scope_links l
		JOIN client_scopes c ON c.id = l.scope_id
		WHERE l.realm_id = $1 AND l.client_id = $2 ORDER BY c.name`, realmID, clientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []client.ScopeLink
	for rows.Next() {
		var l client.ScopeLink
		if err := rows.Scan(&l.ScopeID, &l.Default); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
