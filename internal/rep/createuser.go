package rep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// UserSource names which of Keycloak's two ways of creating a user from a
// representation applies. Keycloak has exactly two, and so does Gatehouse.
type UserSource int

const (
	// FromAdmin is POST /admin/realms/{realm}/users (Keycloak's
	// UsersResource.createUser). Keycloak creates the user with
	// session.users().addUser(realm, username), which grants the realm's
	// default role (default-roles-{realm}). serviceAccountClientId is
	// ignored, as UserResource.updateUserFromRep ignores it. Gatehouse
	// accepts only password credentials here, at most one, and always gives
	// them fresh ids: an admin call does not plant OTP secrets or pick
	// credential ids (Keycloak stores any credential it is given).
	FromAdmin UserSource = iota
	// FromImport is every import: a realm import (gatehouse import,
	// --import-realm, POST /admin/realms), a partial import, and reconcile
	// creating a user. Keycloak's ExportImportManager.createUser calls
	// addUser(realm, id, username, addDefaultRoles=false,
	// addDefaultRequiredActions=false), so an imported user holds exactly
	// the roles the file names; credentials of any type are stored as
	// given, ids included; serviceAccountClientId links the user to the
	// client with that clientId.
	FromImport
)

// UserOptions say how CreateUser creates a user.
type UserOptions struct {
	Source UserSource
	Now    time.Time // creation times; required
	// Grant, when set, is asked before anything is written whether the
	// caller may give the new user the roles it would hold: those the
	// representation maps, those of its groups and their ancestors, and,
	// from the admin API, the realm's default role (which may have been
	// made a composite of an admin role). Its error is returned as is.
	Grant func(roleIDs []string) error
}

// updatePassword is the required action a temporary password adds.
const updatePassword = "UPDATE_PASSWORD"

// UserError is a user representation CreateUser refuses. Field is the
// member at fault as a JSON path below the user ("email",
// "credentials[0].value", "clientRoles.app[1]"); Conflict marks a clash with
// a stored user, which the admin API answers with 409; Msg is Keycloak's
// message where it has one. Err is the cause, such as a *user.PolicyError.
type UserError struct {
	Field    string
	Conflict bool
	Msg      string
	Err      error
}

// Error is the message with its cause; the field is left to the caller,
// which knows where the user stands (a request body, a file's $.users[3]).
func (e *UserError) Error() string {
	if e.Err == nil || e.Err.Error() == e.Msg {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// UserErrorAt places a UserError at the JSON path of the user in a file,
// as an ImportError; other errors are returned as they are.
func UserErrorAt(path string, err error) error {
	var ue *UserError
	if !errors.As(err, &ue) {
		return err
	}
	if ue.Field != "" {
		path += "." + ue.Field
	}
	return &ImportError{Path: path, Msg: ue.Error(), Conflict: ue.Conflict}
}

func userErr(field, format string, args ...any) *UserError {
	return &UserError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func userConflict(field, msg string) *UserError {
	return &UserError{Field: field, Conflict: true, Msg: msg}
}

// CreateUser is the one way a Keycloak user representation becomes a stored
// user in realmID: POST /users, realm import, partial import and reconcile
// all come here. It validates everything first and then writes the user,
// its credentials, role mappings and group memberships in one transaction
// (db's, when db is one already): a refused user leaves nothing behind.
//
// On every path, as in Keycloak:
//   - the username (and email) is kept lower-case; a representation id is
//     kept, a missing one generated; absent booleans are false;
//   - a username already in the realm is a conflict ("User exists with same
//     username"), and so is an email already in the realm unless the realm
//     allows duplicate emails ("User exists with same email"; Keycloak
//     enforces it in its database for imports and checks it for the admin
//     API);
//   - a plain credential value is hashed with the realm's hash policy, a
//     temporary one adds UPDATE_PASSWORD; a stored hash must be one
//     Gatehouse can verify (UserCredentials);
//   - realmRoles, clientRoles (by clientId) and groups (by path) must
//     exist, and opts.Grant may refuse them; an import creates a role the
//     user names that its realm or client lacks, as Keycloak's import does
//     (the client must exist).
//
// Where Keycloak's admin API and its import differ (the default role, the
// service account link, which credentials are accepted), opts.Source says
// which applies; see UserSource. The admin API applies its user-profile
// rules (registrationEmailAsUsername, known required actions, email format,
// attribute limits) to x before calling, as Keycloak's user profile does
// for the admin API only.
func CreateUser(ctx context.Context, db *store.DB, realmID string, x User, opts UserOptions) (user.User, error) {
	if opts.Now.IsZero() {
		return user.User{}, errors.New("create user: UserOptions.Now is required")
	}
	var u user.User
	err := db.InTx(ctx, func(tx *store.DB) error {
		var err error
		u, err = createUser(ctx, tx, realmID, x, opts)
		return err
	})
	if err != nil {
		return user.User{}, err
	}
	return u, nil
}

func createUser(ctx context.Context, tx *store.DB, realmID string, x User, opts UserOptions) (user.User, error) {
	r, err := tx.GetRealm(ctx, realmID)
	if err != nil {
		return user.User{}, fmt.Errorf("create user: load realm: %w", err)
	}
	u := x.ToDomain(realmID)
	if u.ID == "" {
		u.ID = store.NewID()
	}
	if u.CreatedTimestamp == 0 {
		u.CreatedTimestamp = opts.Now.UnixMilli()
	}
	u.Normalize()
	if err := u.Validate(); err != nil {
		return user.User{}, userErr("username", "%v", err)
	}
	if x.ID != "" {
		if _, err := tx.GetUser(ctx, realmID, x.ID); err == nil {
			return user.User{}, userConflict("id", "User with ID already exists")
		} else if !errors.Is(err, store.ErrNotFound) {
			return user.User{}, err
		}
	}
	if _, err := tx.GetUserByUsername(ctx, realmID, u.Username); err == nil {
		return user.User{}, userConflict("username", "User exists with same username")
	} else if !errors.Is(err, store.ErrNotFound) {
		return user.User{}, err
	}
	if u.Email != "" && !r.DuplicateEmailsAllowed {
		if _, err := tx.GetUserByEmail(ctx, realmID, u.Email); err == nil || errors.Is(err, store.ErrConflict) {
			return user.User{}, userConflict("email", "User exists with same email")
		} else if !errors.Is(err, store.ErrNotFound) {
			return user.User{}, err
		}
	}
	if opts.Source == FromImport && x.ServiceAccountClientID != "" {
		c, err := tx.GetClientByClientID(ctx, realmID, x.ServiceAccountClientID)
		if errors.Is(err, store.ErrNotFound) {
			return user.User{}, userErr("serviceAccountClientId", "Client '%s' does not exist", x.ServiceAccountClientID)
		}
		if err != nil {
			return user.User{}, err
		}
		if _, err := tx.GetServiceAccount(ctx, realmID, c.ID); err == nil {
			return user.User{}, userConflict("serviceAccountClientId", "Client '"+c.ClientID+"' already has a service account user")
		} else if !errors.Is(err, store.ErrNotFound) {
			return user.User{}, err
		}
		u.ServiceAccountClientID = c.ID
	}
	creds, err := UserCredentials(r, &u, x.Credentials, opts.Now, opts.Source)
	if err != nil {
		return user.User{}, err
	}
	clientRoles := x.ClientRoles
	if clientRoles == nil {
		clientRoles = x.ApplicationRoles // their name before Keycloak 4
	}
	granted, err := rolesByName(ctx, tx, realmID, x.RealmRoles, clientRoles, opts.Source == FromImport)
	if err != nil {
		return user.User{}, err
	}
	groupIDs, inherited, err := groupsByPath(ctx, tx, realmID, x.Groups, opts.Grant != nil)
	if err != nil {
		return user.User{}, err
	}
	if opts.Source == FromAdmin && len(r.DefaultGroupIDs) > 0 {
		// The realm's default groups, as Keycloak joins them with the
		// default role; their roles count as granted by the caller.
		dids, dinh, err := defaultGroups(ctx, tx, r.ID, r.DefaultGroupIDs, opts.Grant != nil)
		if err != nil {
			return user.User{}, err
		}
		for _, id := range dids {
			if !slices.Contains(groupIDs, id) {
				groupIDs = append(groupIDs, id)
			}
		}
		inherited = append(inherited, dinh...)
	}
	if opts.Grant != nil {
		ids := make([]string, 0, len(granted)+len(inherited)+1)
		for _, gr := range append(slices.Clip(granted), inherited...) {
			ids = append(ids, gr.ID)
		}
		if opts.Source == FromAdmin && r.DefaultRoleID != "" {
			ids = append(ids, r.DefaultRoleID)
		}
		if err := opts.Grant(ids); err != nil {
			return user.User{}, err
		}
	}

	if opts.Source == FromAdmin {
		// The realm's enabled default actions, as Keycloak's addUser adds
		// them to every user it creates outside an import.
		cfg, err := tx.GetAuthConfig(ctx, realmID)
		if err != nil {
			return user.User{}, err
		}
		for _, a := range cfg.RequiredActions {
			if a.Enabled && a.DefaultAction && !slices.Contains(u.RequiredActions, a.Alias) {
				u.RequiredActions = append(slices.Clip(u.RequiredActions), a.Alias)
			}
		}
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// The id is taken in another realm, or a concurrent create won.
			return user.User{}, userConflict("username", "User exists with same username or email")
		}
		return user.User{}, err
	}
	for j, c := range creds {
		if err := tx.CreateCredential(ctx, c); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return user.User{}, userConflict(fmt.Sprintf("credentials[%d].id", j), "Credential id "+c.ID+" is already used")
			}
			return user.User{}, err
		}
	}
	roleIDs := make([]string, 0, len(granted)+1)
	for _, gr := range granted {
		roleIDs = append(roleIDs, gr.ID)
	}
	if opts.Source == FromAdmin && r.DefaultRoleID != "" {
		roleIDs = append(roleIDs, r.DefaultRoleID)
	}
	if err := tx.AddUserRoles(ctx, u.ID, roleIDs...); err != nil {
		return user.User{}, err
	}
	for _, gid := range groupIDs {
		if err := tx.AddGroupMember(ctx, gid, u.ID); err != nil {
			return user.User{}, err
		}
	}
	if opts.Source == FromImport {
		for j, xf := range x.FederatedIdentities {
			field := fmt.Sprintf("federatedIdentities[%d]", j)
			err := tx.AddFederatedIdentity(ctx, realmID, idp.FederatedIdentity{UserID: u.ID, Alias: xf.IdentityProvider,
				FederatedUserID: xf.UserID, FederatedUsername: xf.UserName})
			switch {
			case idp.IsValidationError(err):
				return user.User{}, userErr(field, "%v", err)
			case errors.Is(err, store.ErrNotFound):
				return user.User{}, userErr(field+".identityProvider", "Identity provider %s not found", xf.IdentityProvider)
			case errors.Is(err, store.ErrConflict):
				return user.User{}, userConflict(field, "The "+xf.IdentityProvider+" account "+xf.UserID+" is already linked")
			case err != nil:
				return user.User{}, err
			}
		}
	}
	return u, nil
}

// UserCredentials turns the credentials of a user representation into
// stored credentials of u: the one place a credential enters Gatehouse from
// Keycloak's JSON. A plain value (password type only) is hashed with the
// realm's hash policy, keeping the label and priority; a temporary one adds
// UPDATE_PASSWORD to u's required actions. A stored password hash must be
// within the parameter limits (one absurd to compute would cost the server
// a fortune at each attempt), and, from the admin API, one Gatehouse can
// read; an import keeps an unreadable one as Keycloak does.
//
// FromAdmin takes password credentials only, at most one, with fresh ids;
// FromImport takes any type and keeps the ids the representation gives.
func UserCredentials(r realm.Realm, u *user.User, xs []Credential, now time.Time, src UserSource) ([]user.Credential, error) {
	policy := user.ParseHashPolicy(r.PasswordPolicy)
	var out []user.Credential
	temporary := false
	for j, xc := range xs {
		field := fmt.Sprintf("credentials[%d]", j)
		c := xc.ToDomain(u.ID)
		if c.ID == "" || src == FromAdmin {
			c.ID = store.NewID()
		}
		if c.CreatedDate == 0 {
			c.CreatedDate = now.UnixMilli()
		}
		if src == FromAdmin && c.Type != user.CredentialPassword {
			return nil, userErr(field+".type", "Only password credentials can be set on a user")
		}
		switch {
		case xc.Value != "":
			if c.Type != user.CredentialPassword {
				return nil, userErr(field+".value", "A plain value is only accepted for password credentials")
			}
			if src == FromAdmin {
				if e := user.CheckPolicy(r.PasswordPolicy, xc.Value, *u, nil); e != nil {
					return nil, &UserError{Field: field + ".value", Msg: e.Message, Err: e}
				}
			}
			hashed, err := user.NewPasswordCredential(c.ID, u.ID, xc.Value, c.CreatedDate, policy)
			if err != nil {
				return nil, &UserError{Field: field + ".value", Msg: "Password cannot be stored", Err: err}
			}
			hashed.UserLabel, hashed.Priority = c.UserLabel, c.Priority
			c = hashed
			temporary = temporary || xc.Temporary != nil && *xc.Temporary
		case c.Type == user.CredentialPassword:
			// An import stores a hash that cannot be read as it is, as
			// Keycloak does (its user cannot log in with a password); a
			// hash beyond the cost bounds is refused everywhere.
			if err := user.CheckStoredPassword(c); err != nil && (src != FromImport || errors.Is(err, user.ErrHashLimits)) {
				return nil, &UserError{Field: field, Msg: "Invalid password credential", Err: err}
			}
		}
		out = append(out, c)
	}
	if src == FromAdmin && len(out) > 1 {
		return nil, userErr("credentials", "A user can have only one password")
	}
	if temporary && !slices.Contains(u.RequiredActions, updatePassword) {
		u.RequiredActions = append(slices.Clip(u.RequiredActions), updatePassword)
	}
	return out, nil
}

// rolesByName resolves the realmRoles and clientRoles (by clientId) of a
// user representation, client by client in clientId order. With create, a
// missing role is created rather than refused.
func rolesByName(ctx context.Context, tx *store.DB, realmID string, realmRoles []string, clientRoles map[string][]string, create bool) ([]role.Role, error) {
	var out []role.Role
	for i, name := range realmRoles {
		r, err := tx.GetRealmRole(ctx, realmID, name)
		if create && errors.Is(err, store.ErrNotFound) {
			r, err = provision.EnsureRealmRole(ctx, tx, realmID, name, "")
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, userErr(fmt.Sprintf("realmRoles[%d]", i), "Role %s not found", name)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	for _, clientID := range sortedKeys(clientRoles) {
		c, err := tx.GetClientByClientID(ctx, realmID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, userErr("clientRoles."+clientID, "Client %s not found", clientID)
		}
		if err != nil {
			return nil, err
		}
		for i, name := range clientRoles[clientID] {
			r, err := tx.GetClientRole(ctx, realmID, c.ID, name)
			if create && errors.Is(err, store.ErrNotFound) {
				r, err = provision.EnsureClientRole(ctx, tx, realmID, c.ID, name, "")
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil, userErr(fmt.Sprintf("clientRoles.%s[%d]", clientID, i), "Role %s of client %s not found", name, clientID)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// groupsByPath resolves the groups of a user representation by path
// ("/parent/child"; a top-level group's leading slash may be left out, as
// Keycloak's findGroupByPath allows). With chain set it also returns the
// roles a member receives: each group's and each ancestor's.
func groupsByPath(ctx context.Context, tx *store.DB, realmID string, paths []string, chain bool) (ids []string, inherited []role.Role, err error) {
	if len(paths) == 0 {
		return nil, nil, nil
	}
	all, byID, err := groupsByID(ctx, tx, realmID)
	if err != nil {
		return nil, nil, err
	}
	byPath := make(map[string]string, len(all))
	for id, p := range role.GroupPaths(all) {
		byPath[p] = id
	}
	for i, p := range paths {
		id, ok := byPath[p]
		if !ok && !strings.HasPrefix(p, "/") {
			id, ok = byPath["/"+p]
		}
		if !ok {
			return nil, nil, userErr(fmt.Sprintf("groups[%d]", i), "Group %s not found", p)
		}
		ids = append(ids, id)
		if !chain {
			continue
		}
		rs, err := chainRoles(ctx, tx, byID, id)
		if err != nil {
			return nil, nil, err
		}
		inherited = append(inherited, rs...)
	}
	return ids, inherited, nil
}

// groupsByID lists the realm's groups, and indexes them by id.
func groupsByID(ctx context.Context, tx *store.DB, realmID string) ([]role.Group, map[string]role.Group, error) {
	all, err := tx.ListGroups(ctx, realmID)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]role.Group, len(all))
	for _, g := range all {
		byID[g.ID] = g
	}
	return all, byID, nil
}

// MemberRoles are the roles a member of group id in realmID receives: the
// group's own and each ancestor's.
func MemberRoles(ctx context.Context, tx *store.DB, realmID, id string) ([]role.Role, error) {
	_, byID, err := groupsByID(ctx, tx, realmID)
	if err != nil {
		return nil, err
	}
	return chainRoles(ctx, tx, byID, id)
}

// chainRoles are the roles a member of group id receives: the group's and
// each ancestor's.
func chainRoles(ctx context.Context, tx *store.DB, byID map[string]role.Group, id string) ([]role.Role, error) {
	var out []role.Role
	for gid, seen := id, map[string]bool{}; gid != "" && !seen[gid]; gid = byID[gid].ParentID {
		seen[gid] = true
		rs, err := tx.ListGroupRoles(ctx, gid)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// defaultGroups are the realm's default groups that still exist and, with
// chain set, the roles their members receive.
func defaultGroups(ctx context.Context, tx *store.DB, realmID string, want []string, chain bool) (ids []string, inherited []role.Role, err error) {
	_, byID, err := groupsByID(ctx, tx, realmID)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range want {
		if _, ok := byID[id]; !ok {
			continue // deleted since it was made a default
		}
		ids = append(ids, id)
		if chain {
			rs, err := chainRoles(ctx, tx, byID, id)
			if err != nil {
				return nil, nil, err
			}
			inherited = append(inherited, rs...)
		}
	}
	return ids, inherited, nil
}
