package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// clientData is the stored JSON of a client: everything except the columns.
type clientData struct {
	Name                      string                  `json:"name,omitempty"`
	Description               string                  `json:"description,omitempty"`
	Enabled                   bool                    `json:"enabled"`
	AlwaysDisplayInConsole    bool                    `json:"alwaysDisplayInConsole"`
	ClientAuthenticatorType   string                  `json:"clientAuthenticatorType"`
	Secret                    string                  `json:"secret,omitempty"`
	RegistrationAccessToken   string                  `json:"registrationAccessToken,omitempty"`
	RootURL                   string                  `json:"rootUrl,omitempty"`
	BaseURL                   string                  `json:"baseUrl,omitempty"`
	AdminURL                  string                  `json:"adminUrl,omitempty"`
	RedirectURIs              []string                `json:"redirectUris"`
	WebOrigins                []string                `json:"webOrigins"`
	NotBefore                 int64                   `json:"notBefore"`
	BearerOnly                bool                    `json:"bearerOnly"`
	ConsentRequired           bool                    `json:"consentRequired"`
	StandardFlowEnabled       bool                    `json:"standardFlowEnabled"`
	ImplicitFlowEnabled       bool                    `json:"implicitFlowEnabled"`
	DirectAccessGrantsEnabled bool                    `json:"directAccessGrantsEnabled"`
	ServiceAccountsEnabled    bool                    `json:"serviceAccountsEnabled"`
	PublicClient              bool                    `json:"publicClient"`
	FrontchannelLogout        bool                    `json:"frontchannelLogout"`
	Protocol                  string                  `json:"protocol"`
	Attributes                map[string]string       `json:"attributes"`
	AuthFlowOverrides         map[string]string       `json:"authenticationFlowBindingOverrides"`
	FullScopeAllowed          bool                    `json:"fullScopeAllowed"`
	NodeReRegistrationTimeout int                     `json:"nodeReRegistrationTimeout"`
	RegisteredNodes           map[string]int64        `json:"registeredNodes,omitempty"`
	SurrogateAuthRequired     bool                    `json:"surrogateAuthRequired"`
	ProtocolMappers           []client.ProtocolMapper `json:"protocolMappers"`
}

func encodeClient(c client.Client) string {
	return toJSON(clientData{
		Name: c.Name, Description: c.Description, Enabled: c.Enabled,
		AlwaysDisplayInConsole: c.AlwaysDisplayInConsole, ClientAuthenticatorType: c.ClientAuthenticatorType,
		Secret: c.Secret, RegistrationAccessToken: c.RegistrationAccessToken,
		RootURL: c.RootURL, BaseURL: c.BaseURL, AdminURL: c.AdminURL,
		RedirectURIs: c.RedirectURIs, WebOrigins: c.WebOrigins, NotBefore: c.NotBefore,
		BearerOnly: c.BearerOnly, ConsentRequired: c.ConsentRequired,
		StandardFlowEnabled: c.StandardFlowEnabled, ImplicitFlowEnabled: c.ImplicitFlowEnabled,
		DirectAccessGrantsEnabled: c.DirectAccessGrantsEnabled, ServiceAccountsEnabled: c.ServiceAccountsEnabled,
		PublicClient: c.PublicClient, FrontchannelLogout: c.FrontchannelLogout, Protocol: c.Protocol,
		Attributes: c.Attributes, AuthFlowOverrides: c.AuthFlowOverrides, FullScopeAllowed: c.FullScopeAllowed,
		NodeReRegistrationTimeout: c.NodeReRegistrationTimeout, RegisteredNodes: c.RegisteredNodes,
		SurrogateAuthRequired: c.SurrogateAuthRequired,
		ProtocolMappers:       c.ProtocolMappers,
	})
}

func scanClient(sc interface{ Scan(...any) error }) (client.Client, error) {
	var (
		c    client.Client
		data string
		d    clientData
	)
	if err := sc.Scan(&c.ID, &c.RealmID, &c.ClientID, &data); err != nil {
		return client.Client{}, mapErr(err)
	}
	if err := fromJSON(data, &d); err != nil {
		return client.Client{}, err
	}
	c.Name, c.Description, c.Enabled = d.Name, d.Description, d.Enabled
	c.AlwaysDisplayInConsole, c.ClientAuthenticatorType = d.AlwaysDisplayInConsole, d.ClientAuthenticatorType
	c.Secret, c.RegistrationAccessToken = d.Secret, d.RegistrationAccessToken
	c.RootURL, c.BaseURL, c.AdminURL = d.RootURL, d.BaseURL, d.AdminURL
	c.RedirectURIs, c.WebOrigins, c.NotBefore = d.RedirectURIs, d.WebOrigins, d.NotBefore
	c.BearerOnly, c.ConsentRequired = d.BearerOnly, d.ConsentRequired
	c.StandardFlowEnabled, c.ImplicitFlowEnabled = d.StandardFlowEnabled, d.ImplicitFlowEnabled
	c.DirectAccessGrantsEnabled, c.ServiceAccountsEnabled = d.DirectAccessGrantsEnabled, d.ServiceAccountsEnabled
	c.PublicClient, c.FrontchannelLogout, c.Protocol = d.PublicClient, d.FrontchannelLogout, d.Protocol
	c.Attributes, c.AuthFlowOverrides, c.FullScopeAllowed = d.Attributes, d.AuthFlowOverrides, d.FullScopeAllowed
	c.NodeReRegistrationTimeout, c.SurrogateAuthRequired = d.NodeReRegistrationTimeout, d.SurrogateAuthRequired
	c.ProtocolMappers, c.RegisteredNodes = d.ProtocolMappers, d.RegisteredNodes
	return c, nil
}

const clientCols = `id, realm_id, client_id, data`

// CreateClient stores a new client. A clientId already used in the realm is ErrConflict.
func (s *DB) CreateClient(ctx context.Context, c client.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO clients (`+clientCols+`) VALUES ($1, $2, $3, $4)`,
		c.ID, c.RealmID, c.ClientID, encodeClient(c))
	if err != nil {
		return fmt.Errorf("create client %q: %w", c.ClientID, err)
	}
	return nil
}

// GetClient loads a client by its internal id.
func (s *DB) GetClient(ctx context.Context, realmID, id string) (client.Client, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[[2]string, client.Client] { return &sn.clientByID }, [2]string{realmID, id}, func() (client.Client, error) {
		return scanClient(s.queryRow(ctx, `SELECT `+clientCols+` FROM clients WHERE realm_id = $1 AND id = $2`, realmID, id))
	})
}

// GetClientByClientID loads a client by its clientId, as OAuth requests name it.
func (s *DB) GetClientByClientID(ctx context.Context, realmID, clientID string) (client.Client, error) {
	return cached(ctx, s, func(sn *snapshot) *memo[[2]string, client.Client] { return &sn.clientByCID }, [2]string{realmID, clientID}, func() (client.Client, error) {
		return scanClient(s.queryRow(ctx, `SELECT `+clientCols+` FROM clients WHERE realm_id = $1 AND client_id = $2`, realmID, clientID))
	})
}

// ListClients returns the realm's clients ordered by clientId.
func (s *DB) ListClients(ctx context.Context, realmID string) ([]client.Client, error) {
	rows, err := s.query(ctx, `SELECT `+clientCols+` FROM clients WHERE realm_id = $1 ORDER BY client_id`, realmID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []client.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateClient applies edit to the stored client inside one transaction.
func (s *DB) UpdateClient(ctx context.Context, realmID, id string, edit func(*client.Client) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		c, err := scanClient(tx.queryRow(ctx, `SELECT `+clientCols+` FROM clients WHERE realm_id = $1 AND id = $2`+tx.forUpdate(), realmID, id))
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
		return oneRow(tx.exec(ctx, `UPDATE clients SET client_id = $3, data = $4 WHERE realm_id = $1 AND id = $2`,
			realmID, id, c.ClientID, encodeClient(c)))
	})
}

// DeleteClient removes a client with its roles, scope links, service
// account and resource server (by cascade), and the client from client
// policies of other resource servers (see dropPolicyRefs).
func (s *DB) DeleteClient(ctx context.Context, realmID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		if err := oneRow(tx.exec(ctx, `DELETE FROM clients WHERE realm_id = $1 AND id = $2`, realmID, id)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM roles WHERE realm_id = $1 AND client_id = $2`, realmID, id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM client_scope_links WHERE realm_id = $1 AND client_id = $2`, realmID, id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM users WHERE realm_id = $1 AND service_account_of = $2`, realmID, id); err != nil {
			return err
		}
		return tx.dropPolicyRefs(ctx, realmID, "client", id)
	})
}
