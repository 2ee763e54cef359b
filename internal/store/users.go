package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const userCols = `id, realm_id, username, email, first_name, last_name, enabled, email_verified, created_at,
	service_account_of, federation_link, not_before, attributes, required_actions`

func scanUser(sc interface{ Scan(...any) error }) (user.User, error) {
	var u user.User
	if err := scanInto(sc, userPlan(&u)); err != nil {
		return user.User{}, err
	}
	return u, nil
}

// userPlan reads the columns of userCols into u.
func userPlan(u *user.User) scanPlan {
	var attrs, actions string
	return scanPlan{
		dest: []any{&u.ID, &u.RealmID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Enabled,
			&u.EmailVerified, &u.CreatedTimestamp, &u.ServiceAccountClientID, &u.FederationLink, &u.NotBefore,
			&attrs, &actions},
		finish: func() error {
			if err := fromJSON(attrs, &u.Attributes); err != nil {
				return err
			}
			return fromJSON(actions, &u.RequiredActions)
		},
	}
}

func (s *DB) users(ctx context.Context, q string, args ...any) ([]user.User, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []user.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func userArgs(u user.User) []any {
	return []any{u.ID, u.RealmID, u.Username, u.Email, u.FirstName, u.LastName, u.Enabled, u.EmailVerified,
		u.CreatedTimestamp, u.ServiceAccountClientID, u.FederationLink, u.NotBefore,
		toJSON(nonNilAttrs(u.Attributes)), toJSON(nonNilStrings(u.RequiredActions))}
}

// CreateUser stores a new user. Username (case-insensitive) is unique in the realm.
func (s *DB) CreateUser(ctx context.Context, u user.User) error {
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	if err := s.CreateUsers(ctx, u); err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// CreateUsers stores new users, each checked as CreateUser checks one, in
// as few statements as the engines allow. Run it inside InTx for all or
// none: outside, each statement of a large batch commits on its own.
func (s *DB) CreateUsers(ctx context.Context, us ...user.User) error {
	rows := make([][]any, len(us))
	var attrs [][]any
	for i, u := range us {
		u.Normalize()
		if err := u.Validate(); err != nil {
			return err
		}
		rows[i] = userArgs(u)
		attrs = appendAttributeRows(attrs, u)
	}
	return s.InTx(ctx, func(tx *DB) error {
		if err := tx.insertRows(ctx, `INSERT INTO users (`+userCols+`)`, "", rows); err != nil {
			return err
		}
		return tx.insertRows(ctx, `INSERT INTO user_attributes (user_id, realm_id, name, value)`, "", attrs)
	})
}

// attributeValueLen is how many characters of an attribute value
// user_attributes keeps (its migration says why).
const attributeValueLen = 255

// attributeKey is the form of an attribute value that user_attributes
// holds and the attribute search looks up: lower case, cut to
// attributeValueLen characters.
func attributeKey(v string) string {
	v = strings.ToLower(v)
	n := 0
	for i := range v {
		if n == attributeValueLen {
			return v[:i]
		}
		n++
	}
	return v
}

// appendAttributeRows appends u's user_attributes rows to rows.
func appendAttributeRows(rows [][]any, u user.User) [][]any {
	for name, vs := range u.Attributes {
		for _, v := range vs {
			rows = append(rows, []any{u.ID, u.RealmID, name, attributeKey(v)})
		}
	}
	return rows
}

// GetUser loads a user by id.
func (s *DB) GetUser(ctx context.Context, realmID, id string) (user.User, error) {
	return scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE realm_id = $1 AND id = $2`, realmID, id))
}

// GetUserByUsername loads a user by username, ignoring case.
func (s *DB) GetUserByUsername(ctx context.Context, realmID, username string) (user.User, error) {
	return scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE realm_id = $1 AND username = $2`,
		realmID, strings.ToLower(strings.TrimSpace(username))))
}

// GetUserByEmail loads the user with this email, ignoring case. When several
// users share it (realms with duplicate emails allowed) it is ErrConflict.
func (s *DB) GetUserByEmail(ctx context.Context, realmID, email string) (user.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return user.User{}, ErrNotFound
	}
	us, err := s.users(ctx, `SELECT `+userCols+` FROM users WHERE realm_id = $1 AND email = $2 LIMIT 2`, realmID, email)
	if err != nil {
		return user.User{}, err
	}
	switch len(us) {
	case 0:
		return user.User{}, ErrNotFound
	case 1:
		return us[0], nil
	}
	return user.User{}, fmt.Errorf("%w: several users have this email", ErrConflict)
}

// GetServiceAccount loads the service account user of a client.
//
// The user's role mappings and groups are read in the same query and kept
// for the rest of the request (keepMappingsInView), so the client
// credentials grant's role resolution needs no query of its own for them.
// Not inside a transaction: the view outlives it, and mappings it wrote
// and then rolled back must not be kept.
func (s *DB) GetServiceAccount(ctx context.Context, realmID, clientID string) (user.User, error) {
	if s.inTx {
		return scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE realm_id = $1 AND service_account_of = $2`, realmID, clientID))
	}
	var (
		u             user.User
		roles, groups sql.NullString
	)
	err := scanInto(s.hotRow(ctx, serviceAccountQuery, realmID, clientID), userPlan(&u),
		scanPlan{dest: []any{&roles, &groups}})
	if err != nil {
		return user.User{}, err
	}
	keepMappingsInView(ctx, u.ID, roles.String, groups.String)
	return u, nil
}

var serviceAccountQuery = `SELECT ` + qualify("u", userCols) + `, ` + mappingCols + `
	FROM users u WHERE u.realm_id = $1 AND u.service_account_of = $2`

// ListUsers returns a page of the realm's users ordered by username.
// max < 0 means no limit.
func (s *DB) ListUsers(ctx context.Context, realmID string, first, max int) ([]user.User, error) {
	if max < 0 {
		max = math.MaxInt32
	}
	return s.users(ctx, `SELECT `+userCols+` FROM users WHERE realm_id = $1 ORDER BY username LIMIT $2 OFFSET $3`, realmID, max, first)
}

// CountUsers returns how many users the realm has.
func (s *DB) CountUsers(ctx context.Context, realmID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE realm_id = $1`, realmID).Scan(&n)
	return n, mapErr(err)
}

// UpdateUser applies edit to a stored user inside one transaction.
func (s *DB) UpdateUser(ctx context.Context, realmID, id string, edit func(*user.User) error) error {
	return s.InTx(ctx, func(tx *DB) error {
		u, err := scanUser(tx.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE realm_id = $1 AND id = $2`+tx.forUpdate(), realmID, id))
		if err != nil {
			return err
		}
		if err := edit(&u); err != nil {
			return err
		}
		u.ID, u.RealmID = id, realmID
		u.Normalize()
		if err := u.Validate(); err != nil {
			return err
		}
		if err := oneRow(tx.exec(ctx, `UPDATE users SET username = $3, email = $4, first_name = $5, last_name = $6,
			enabled = $7, email_verified = $8, created_at = $9, service_account_of = $10, federation_link = $11,
			not_before = $12, attributes = $13, required_actions = $14 WHERE id = $1 AND realm_id = $2`, userArgs(u)...)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM user_attributes WHERE user_id = $1`, id); err != nil {
			return err
		}
		return tx.insertRows(ctx, `INSERT INTO user_attributes (user_id, realm_id, name, value)`, "", appendAttributeRows(nil, u))
	})
}

// DeleteUser removes a user with credentials, role mappings and
// memberships, the resources the user owns at resource servers, and the
// user from user policies (see dropPolicyRefs).
func (s *DB) DeleteUser(ctx context.Context, realmID, id string) error {
	return s.InTx(ctx, func(tx *DB) error {
		if err := oneRow(tx.exec(ctx, `DELETE FROM users WHERE realm_id = $1 AND id = $2`, realmID, id)); err != nil {
			return err
		}
		if err := tx.dropUserResources(ctx, realmID, id); err != nil {
			return err
		}
		return tx.dropPolicyRefs(ctx, realmID, "user", id)
	})
}

// CreateCredential stores a credential of a user.
func (s *DB) CreateCredential(ctx context.Context, c user.Credential) error {
	return s.CreateCredentials(ctx, c)
}

// CreateCredentials stores credentials, in as few statements as the
// engines allow (see CreateUsers).
func (s *DB) CreateCredentials(ctx context.Context, cs ...user.Credential) error {
	rows := make([][]any, len(cs))
	for i, c := range cs {
		rows[i] = []any{c.ID, c.UserID, c.Type, c.UserLabel, c.CreatedDate, c.SecretData, c.CredentialData, c.Priority}
	}
	return s.insertRows(ctx, `INSERT INTO credentials (id, user_id, type, user_label, created_at, secret_data, credential_data, priority)`, "", rows)
}

// ListCredentials returns a user's credentials by priority.
func (s *DB) ListCredentials(ctx context.Context, userID string) ([]user.Credential, error) {
	rows, err := s.query(ctx, `SELECT id, user_id, type, user_label, created_at, secret_data, credential_data, priority
		FROM credentials WHERE user_id = $1 ORDER BY priority, created_at, id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []user.Credential
	for rows.Next() {
		var c user.Credential
		if err := rows.Scan(&c.ID, &c.UserID, &c.Type, &c.UserLabel, &c.CreatedDate, &c.SecretData, &c.CredentialData, &c.Priority); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReplacePassword stores c as the user's only password credential, in one
// transaction, so a user is never left with zero or two passwords.
func (s *DB) ReplacePassword(ctx context.Context, c user.Credential) error {
	return s.InTx(ctx, func(tx *DB) error {
		if _, err := tx.exec(ctx, `DELETE FROM credentials WHERE user_id = $1 AND type = $2`, c.UserID, user.CredentialPassword); err != nil {
			return err
		}
		return tx.CreateCredential(ctx, c)
	})
}

// UpdateCredentialSecret rewrites a credential's stored secret (a re-hash),
// only if it still holds oldSecret: a concurrent password change wins.
func (s *DB) UpdateCredentialSecret(ctx context.Context, id, oldSecret, secretData, credentialData string) error {
	return oneRow(s.exec(ctx, `UPDATE credentials SET secret_data = $3, credential_data = $4 WHERE id = $1 AND secret_data = $2`,
		id, oldSecret, secretData, credentialData))
}

// DeleteCredential removes one credential of a user.
func (s *DB) DeleteCredential(ctx context.Context, userID, id string) error {
	return oneRow(s.exec(ctx, `DELETE FROM credentials WHERE user_id = $1 AND id = $2`, userID, id))
}

// AddUserRoles maps roles to a user directly; existing mappings are kept.
func (s *DB) AddUserRoles(ctx context.Context, userID string, roleIDs ...string) error {
	ms := make([]UserRole, len(roleIDs))
	for i, r := range roleIDs {
		ms[i] = UserRole{UserID: userID, RoleID: r}
	}
	return s.MapUserRoles(ctx, ms...)
}

// UserRole is one role mapped directly to one user.
type UserRole struct{ UserID, RoleID string }

// MapUserRoles maps roles to users directly, in as few statements as the
// engines allow (see CreateUsers); existing mappings are kept.
func (s *DB) MapUserRoles(ctx context.Context, ms ...UserRole) error {
	rows := make([][]any, len(ms))
	for i, m := range ms {
		rows[i] = []any{m.UserID, m.RoleID}
	}
	return s.insertRows(ctx, `INSERT INTO user_roles (user_id, role_id)`, ` ON CONFLICT DO NOTHING`, rows)
}

// AddUserRolesFrom maps roles to a user on behalf of source (a user
// storage provider's id); a mapping the user already holds keeps its
// origin, so a role granted here is never counted as the provider's.
func (s *DB) AddUserRolesFrom(ctx context.Context, userID, source string, roleIDs ...string) error {
	rows := make([][]any, len(roleIDs))
	for i, r := range roleIDs {
		rows[i] = []any{userID, r, source}
	}
	return s.insertRows(ctx, `INSERT INTO user_roles (user_id, role_id, source)`, ` ON CONFLICT DO NOTHING`, rows)
}

// UserRoleIDsFrom returns the ids of the roles source mapped to a user
// (AddUserRolesFrom).
func (s *DB) UserRoleIDsFrom(ctx context.Context, userID, source string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT role_id FROM user_roles WHERE user_id = $1 AND source = $2`, userID, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RemoveUserRoles unmaps roles from a user.
func (s *DB) RemoveUserRoles(ctx context.Context, userID string, roleIDs ...string) error {
	return s.InTx(ctx, func(tx *DB) error {
		for _, r := range roleIDs {
			if _, err := tx.exec(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2`, userID, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListUserRoles returns the roles mapped directly to a user.
func (s *DB) ListUserRoles(ctx context.Context, userID string) ([]role.Role, error) {
	return s.roles(ctx, `SELECT r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes FROM roles r
		JOIN user_roles u ON u.role_id = r.id WHERE u.user_id = $1 ORDER BY r.client_id, r.name`, userID)
}

// EffectiveRoleIDs returns the ids of every role a user holds: direct
// mappings, mappings of their groups and the groups' ancestors, expanded
// through composites (see EffectiveRoles, which answers it in one query).
func (s *DB) EffectiveRoleIDs(ctx context.Context, realmID, userID string) ([]string, error) {
	refs, err := s.EffectiveRoles(ctx, realmID, userID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return ids, nil
}

func nonNilAttrs(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
