package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// userRoutes serves Keycloak's UsersResource and UserResource. query-users
// lists and counts, view-users reads one user, manage-users writes; without
// those roles, the realm's fine-grained admin permissions may grant a user
// (fgap.go), and listings show only the users the caller may view.
func (h *Handler) userRoutes(mux Mux) {
	var a userAPI
	const base = "/admin/realms/{realm}/users"
	const (
		view   = "view-users@user.view"
		manage = "manage-users@user.manage"
	)
	h.handle(mux, "GET "+base, "query-users@users.view", a.list)
	h.handle(mux, "GET "+base+"/count", "query-users@users.view", a.count)
	h.handle(mux, "POST "+base, "manage-users@users.create", a.create)
	h.handle(mux, "GET "+base+"/{id}", view, a.get)
	h.handle(mux, "PUT "+base+"/{id}", manage, a.update)
	h.handle(mux, "DELETE "+base+"/{id}", manage, a.delete)
	h.handle(mux, "PUT "+base+"/{id}/reset-password", manage, a.resetPassword)
	h.handle(mux, "GET "+base+"/{id}/credentials", view, a.credentials)
	h.handle(mux, "DELETE "+base+"/{id}/credentials/{credentialId}", manage, a.deleteCredential)
	h.handle(mux, "GET "+base+"/{id}/configured-user-storage-credential-types", view, a.storageCredentialTypes)
	h.handle(mux, "GET "+base+"/{id}/groups", view, a.groups)
	h.handle(mux, "GET "+base+"/{id}/groups/count", view, a.groupCount)
	h.handle(mux, "PUT "+base+"/{id}/groups/{groupId}", "manage-users@user.group-membership", a.joinGroup)
	h.handle(mux, "DELETE "+base+"/{id}/groups/{groupId}", "manage-users@user.group-membership", a.leaveGroup)
	h.handle(mux, "GET "+base+"/{id}/sessions", view, a.sessions)
	h.handle(mux, "GET "+base+"/{id}/offline-sessions/{clientUuid}", view, a.offlineSessions)
	h.handle(mux, "GET "+base+"/{id}/consents", view, a.consents)
	h.handle(mux, "DELETE "+base+"/{id}/consents/{client}", manage, a.revokeConsent)
	h.handle(mux, "POST "+base+"/{id}/logout", manage, a.logout)
	h.handle(mux, "PUT "+base+"/{id}/execute-actions-email", manage, a.executeActionsEmail)
	h.handle(mux, "PUT "+base+"/{id}/send-verify-email", manage, a.sendVerifyEmail)
	h.roleMappingRoutes(mux)
	h.userProfileRoutes(mux)
	h.userCredentialRoutes(mux)
	h.impersonationRoutes(mux)
}

type userAPI struct{}

// load reads the user in the path; Keycloak answers an unknown id with 404
// {"error":"User not found"}.
func (userAPI) load(rq *Request) (user.User, error) {
	u, err := rq.h.Store.GetUser(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return user.User{}, notFound("User not found")
	}
	return u, err
}

// represent is the user as the admin API shows it. A representation never
// carries credentials (SECURITY.md M8): they have their own endpoint, which
// leaves secretData out too.
func (userAPI) represent(ctx context.Context, rq *Request, u user.User, brief, totp bool) (rep.User, error) {
	var x rep.User
	if brief {
		x = rep.User{ID: u.ID, Username: u.Username, FirstName: nonEmpty(u.FirstName), LastName: nonEmpty(u.LastName),
			Email: nonEmpty(u.Email), EmailVerified: &u.EmailVerified, CreatedTimestamp: u.CreatedTimestamp,
			Enabled: &u.Enabled, FederationLink: u.FederationLink}
	} else {
		x = rep.UserFromDomain(u)
		// Only what the realm's user profile lets administrators see.
		x.Attributes = userProfile(rq.Realm).Visible(profile.Admin, u.Attributes)
		x.Totp = totp
		if totp {
			// The OTP provider's type is the one a user's credentials
			// make disableable (PUT disable-credential-types).
			x.DisableableCredentialTypes = []string{otp.Type}
		}
		if u.ServiceAccountClientID != "" {
			c, err := rq.h.Store.GetClient(ctx, rq.Realm.ID, u.ServiceAccountClientID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return rep.User{}, err
			}
			x.ServiceAccountClientID = c.ClientID
		}
	}
	access, err := rq.userAccess(u)
	if err != nil {
		return rep.User{}, err
	}
	x.Access = access
	return x, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// query reads the search parameters of GET /users and /users/count.
// Keycloak ignores every other filter when "search" is given, and lists
// service accounts only when a field filter is used.
func (userAPI) query(rq *Request) store.UserQuery {
	v := rq.R.URL.Query()
	str := func(name string) *string {
		if !v.Has(name) {
			return nil
		}
		s := v.Get(name)
		return &s
	}
	boolean := func(name string) *bool {
		if !v.Has(name) {
			return nil
		}
		b := strings.EqualFold(v.Get(name), "true")
		return &b
	}
	if v.Has("search") {
		return store.UserQuery{Search: strings.TrimSpace(v.Get("search")), Enabled: boolean("enabled")}
	}
	q := store.UserQuery{
		Username: str("username"), Email: str("email"), FirstName: str("firstName"), LastName: str("lastName"),
		Exact: boolean("exact"), Enabled: boolean("enabled"), EmailVerified: boolean("emailVerified"),
	}
	// q's keys share Keycloak's search map with the filters above, so
	// "q=email:x" filters on the email like email=x does.
	for k, val := range searchQueryFields(v.Get("q")) {
		switch k {
		case "username":
			q.Username = &val
		case "email":
			q.Email = &val
		case "firstName":
			q.FirstName = &val
		case "lastName":
			q.LastName = &val
		default:
			if q.Attributes == nil {
				q.Attributes = map[string]string{}
			}
			q.Attributes[k] = val
		}
	}
	q.IncludeServiceAccounts = q.Username != nil || q.Email != nil || q.FirstName != nil || q.LastName != nil ||
		q.Exact != nil || q.Enabled != nil || q.EmailVerified != nil || len(q.Attributes) > 0 ||
		v.Has("idpAlias") || v.Has("idpUserId")
	return q
}

// searchQueryRe is Keycloak's SearchQueryUtils pattern for q: key:value
// pairs separated by blanks, either side optionally in double quotes with
// backslash escapes.
var searchQueryRe = regexp.MustCompile(`\s*(?:([^"][^: ]+)|"((?:\\.|[^"])+)"):(?:([^"][^ ]*)|"((?:\\.|[^"])+)")\s*`)

var escapedCharRe = regexp.MustCompile(`\\(.)`)

func searchQueryFields(q string) map[string]string {
	out := map[string]string{}
	for _, m := range searchQueryRe.FindAllStringSubmatch(q, -1) {
		name, value := m[1], m[3]
		if name == "" {
			name = escapedCharRe.ReplaceAllString(m[2], "$1")
		}
		if value == "" {
			value = escapedCharRe.ReplaceAllString(m[4], "$1")
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return out
}

// searchByID is Keycloak's "search=id:<uuid>".
func searchByID(rq *Request) (string, bool) {
	s := rq.R.URL.Query().Get("search")
	id, ok := strings.CutPrefix(s, "id:")
	return strings.TrimSpace(id), ok && rq.R.URL.Query().Has("search")
}

// list answers GET /users.
func (a userAPI) list(rq *Request) error {
	ctx := rq.R.Context()
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	var us []user.User
	if id, ok := searchByID(rq); ok {
		u, err := rq.h.Store.GetUser(ctx, rq.Realm.ID, id)
		if err == nil {
			us = []user.User{u}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if us, err = a.viewable(rq, us); err != nil {
			return err
		}
	} else {
		q, err := a.visibleQuery(rq)
		if err != nil {
			return err
		}
		a.searchFederated(rq, q, first+max)
		if us, err = rq.h.Store.SearchUsers(ctx, rq.Realm.ID, q, first, max); err != nil {
			return err
		}
	}
	brief := rq.Bool("briefRepresentation", false)
	totp := map[string]bool{}
	if !brief && len(us) > 0 {
		ids := make([]string, len(us))
		for i, u := range us {
			ids[i] = u.ID
		}
		if totp, err = rq.h.Store.UsersWithCredentialType(ctx, ids, otp.Type); err != nil {
			return err
		}
	}
	out := make([]rep.User, 0, len(us))
	for _, u := range us {
		x, err := a.represent(ctx, rq, u, brief, totp[u.ID])
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}

// searchFederated imports the users of the realm's user storage providers
// that match a search by text, username, email or names (up to limit of
// each), so that the search of local users that follows lists them. A
// provider that cannot be asked is logged and the search goes on with the
// users already here.
func (a userAPI) searchFederated(rq *Request, q store.UserQuery, limit int) {
	s := ldap.UserSearch{Words: strings.Fields(q.Search), Fields: map[string]string{}, Exact: q.Exact != nil && *q.Exact}
	for k, v := range map[string]*string{"username": q.Username, "email": q.Email, "firstName": q.FirstName, "lastName": q.LastName} {
		if v != nil && *v != "" {
			s.Fields[k] = *v
		}
	}
	if len(s.Words) == 0 && len(s.Fields) == 0 {
		return
	}
	if limit <= 0 || limit > maxFederatedSearch {
		limit = maxFederatedSearch
	}
	ctx := rq.R.Context()
	if err := federation.Search(ctx, rq.h.Store, rq.Realm, s, limit, rq.Now()); err != nil {
		rq.h.Log.WarnContext(ctx, "user storage search failed, listing local users only", "realm", rq.Realm.Name, "err", err)
	}
}

// maxFederatedSearch caps how many users one search imports from a
// provider.
const maxFederatedSearch = 1000

// count answers GET /users/count with a bare number.
func (a userAPI) count(rq *Request) error {
	ctx := rq.R.Context()
	if id, ok := searchByID(rq); ok {
		u, err := rq.h.Store.GetUser(ctx, rq.Realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return rq.JSON(0)
		}
		if err != nil {
			return err
		}
		us, err := a.viewable(rq, []user.User{u})
		if err != nil {
			return err
		}
		return rq.JSON(len(us))
	}
	q, err := a.visibleQuery(rq)
	if err != nil {
		return err
	}
	n, err := rq.h.Store.CountUsersMatching(ctx, rq.Realm.ID, q)
	if err != nil {
		return err
	}
	return rq.JSON(n)
}

// visibleQuery is the search of GET /users and /users/count, limited, for
// a caller who may not view every user, to the members of the groups whose
// members the caller may view (Keycloak's filter), in the store's query so
// that pages and counts stay right.
func (a userAPI) visibleQuery(rq *Request) (store.UserQuery, error) {
	q := a.query(rq)
	groups, all, err := rq.visibleMemberGroups()
	if err != nil || all {
		return q, err
	}
	q.InGroups = groups
	return q, nil
}

// viewable keeps the users of us the caller may view.
func (userAPI) viewable(rq *Request, us []user.User) ([]user.User, error) {
	return keep(us, rq.canViewUser)
}

// get answers GET /users/{id}.
func (a userAPI) get(rq *Request) error {
	ctx := rq.R.Context()
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	totp, err := rq.h.Store.UsersWithCredentialType(ctx, []string{u.ID}, otp.Type)
	if err != nil {
		return err
	}
	x, err := a.represent(ctx, rq, u, false, totp[u.ID])
	if err != nil {
		return err
	}
	return rq.JSON(x)
}

// Limits on a user's attributes. Keycloak stores values up to 255
// characters inline and longer ones aside; without a bound, one admin call
// could grow a user by megabytes, and every token carrying attributes with it
// (SECURITY.md M6).
const (
	maxUserAttributes     = 1000
	maxAttributeNameLen   = 255
	maxAttributeValueLen  = 8 << 10
	maxAttributeValueList = 1000
)

func checkUserAttributes(attrs map[string][]string) error {
	if len(attrs) > maxUserAttributes {
		return badRequest(fmt.Sprintf("Too many attributes: at most %d are allowed", maxUserAttributes))
	}
	for name, vs := range attrs {
		if name == "" || utf8.RuneCountInString(name) > maxAttributeNameLen {
			return badRequest(fmt.Sprintf("Attribute name must be 1 to %d characters", maxAttributeNameLen))
		}
		if len(vs) > maxAttributeValueList {
			return badRequest(fmt.Sprintf("Attribute %s has more than %d values", name, maxAttributeValueList))
		}
		for _, v := range vs {
			if len(v) > maxAttributeValueLen {
				return badRequest(fmt.Sprintf("Attribute %s has a value longer than %d bytes", name, maxAttributeValueLen))
			}
		}
	}
	return nil
}

// knownRequiredActions are the required actions Keycloak 26 ships. As in
// Keycloak, a user representation naming any other is not an error: the
// name is dropped (an unknown action would otherwise lock the user out).
var knownRequiredActions = []string{
	"CONFIGURE_TOTP", "TERMS_AND_CONDITIONS", "UPDATE_PASSWORD", "UPDATE_PROFILE", "VERIFY_EMAIL",
	"VERIFY_PROFILE", "UPDATE_EMAIL", "CONFIGURE_RECOVERY_AUTHN_CODES", "webauthn-register",
	"webauthn-register-passwordless", "delete_account", "delete_credential", "update_user_locale", "idp_link",
}

func knownActions(actions []string) []string {
	out := []string{}
	for _, a := range actions {
		if slices.Contains(knownRequiredActions, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

const updatePassword = "UPDATE_PASSWORD"

// checkEmail refuses what cannot be an address, with Keycloak's user
// profile error.
func checkEmail(email string) error {
	if email == "" {
		return nil
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(email, " \t\r\n") || strings.Contains(domain, "@") {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]any{
			"field": "email", "errorMessage": "invalidEmailMessage", "params": []string{"email", email}}}
	}
	return nil
}

// passwordCredentials turns the credentials of a user representation into
// stored ones (rep.UserCredentials, as POST /users does): a plain value is
// checked against the realm's password policy and hashed; temporary reports
// that it adds UPDATE_PASSWORD to u's required actions.
func passwordCredentials(rq *Request, u user.User, xs []rep.Credential) (creds []user.Credential, temporary bool, err error) {
	had := slices.Contains(u.RequiredActions, updatePassword)
	// A new password for an existing user is checked against its history
	// too, which only authn knows how to read.
	for _, xc := range xs {
		if xc.Value != "" {
			if err := authn.CheckNewPassword(rq.R.Context(), rq.h.Store, rq.Realm, u, xc.Value); err != nil {
				return nil, false, policyRefusal(err)
			}
		}
	}
	creds, err = rep.UserCredentials(rq.Realm, &u, xs, rq.Now(), rep.FromAdmin)
	if err != nil {
		return nil, false, userError(err)
	}
	return creds, !had && slices.Contains(u.RequiredActions, updatePassword), nil
}

// userError answers a representation rep.CreateUser or rep.UserCredentials
// refused as Keycloak's admin API does: 409 for a clash with a stored user,
// the password policy's own body for a weak password, otherwise 400.
func userError(err error) error {
	var ue *rep.UserError
	if !errors.As(err, &ue) {
		return err
	}
	var pe *user.PolicyError
	switch {
	case errors.As(err, &pe):
		return policyRefusal(err)
	case ue.Conflict:
		return errorMessage(http.StatusConflict, ue.Msg)
	}
	return badRequest(ue.Msg)
}

// create answers POST /users through rep.CreateUser, as Keycloak's
// UsersResource.createUser: the realm's default role is granted, and
// everything (the user, its password, groups and roles) is written in one
// transaction after every check has passed. The user profile's rules
// (registrationEmailAsUsername, known required actions, the email's shape,
// attribute limits) apply here and not to imports, as in Keycloak.
func (a userAPI) create(rq *Request) error {
	ctx := rq.R.Context()
	var x rep.User
	if err := rq.decode(&x); err != nil {
		return err
	}
	if x.ID != "" && !uuidRe.MatchString(x.ID) {
		return badRequest("Invalid user ID")
	}
	if !rq.Can("manage-users") && (len(x.RealmRoles) > 0 || len(x.ClientRoles) > 0) {
		// Allowed by fine-grained permissions (users.create): roles are for
		// the role-mapping calls, which check each role. Groups were
		// checked by the rule.
		return errForbidden
	}
	if rq.Realm.RegistrationEmailAsUsername {
		x.Username = ""
		if x.Email != nil {
			x.Username = *x.Email
		}
	}
	x.RequiredActions = knownActions(x.RequiredActions)
	if x.Email != nil {
		if err := checkEmail(strings.ToLower(strings.TrimSpace(*x.Email))); err != nil {
			return err
		}
	}
	if err := checkUserAttributes(x.Attributes); err != nil {
		return err
	}
	// The realm's user profile: attributes it does not let administrators
	// edit are dropped, and the rest is validated as a new user.
	cfg := userProfile(rq.Realm)
	x.Attributes = cfg.Merge(profile.Admin, nil, x.Attributes)
	// A missing username keeps CreateUser's own answer.
	var cand user.User
	x.ApplyTo(&cand)
	cand.Normalize()
	if cand.Username != "" {
		if err := checkProfile(cfg, profile.Admin, nil, cand); err != nil {
			return err
		}
	}
	// A user is linked to a user storage provider only by that provider's
	// import (or a realm import): a link given here would make password
	// writes and lookups follow a directory entry the caller picked.
	x.FederationLink = ""
	u, err := rep.CreateUser(ctx, rq.h.Store, rq.Realm.ID, x, rep.UserOptions{
		Source: rep.FromAdmin,
		Now:    rq.Now(),
		// What the new user receives through its groups counts as granted
		// by the caller, like the roles named directly.
		Grant: func(roleIDs []string) error { return rq.requireConfer(ctx, roleIDs...) },
	})
	if err != nil {
		return userError(err)
	}
	return rq.Created(rq.URL("/users/" + u.ID))
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// update answers PUT /users/{id}: the fields present replace the stored
// ones (rep.User.ApplyTo); groups and roles in the body are ignored, as in
// Keycloak; a password in "credentials" replaces the user's password.
func (a userAPI) update(rq *Request) error {
	ctx := rq.R.Context()
	db := rq.h.Store
	old, err := a.load(rq)
	if err != nil {
		return err
	}
	var x rep.User
	if err := rq.decode(&x); err != nil {
		return err
	}
	cfg := userProfile(rq.Realm)
	pctx := profile.Admin
	if pctx.Storage, err = federation.ProfileStorage(ctx, db, old); err != nil {
		return err
	}
	if x.Attributes != nil {
		x.Attributes = cfg.Merge(pctx, old.Attributes, x.Attributes)
	}
	next := old
	x.ApplyTo(&next)
	if len(x.Credentials) > 0 || next.Email != old.Email {
		if err := rq.requireTakeover(ctx, old.ID); err != nil {
			return err
		}
	}
	if x.RequiredActions != nil {
		next.RequiredActions = knownActions(x.RequiredActions)
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return badRequest(err.Error())
	}
	if next.Username != old.Username {
		if other, err := db.GetUserByUsername(ctx, rq.Realm.ID, next.Username); err == nil && other.ID != old.ID {
			return conflict("User exists with same username")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if next.Email != "" && next.Email != old.Email && !rq.Realm.DuplicateEmailsAllowed {
		other, err := db.GetUserByEmail(ctx, rq.Realm.ID, next.Email)
		if err == nil && other.ID != old.ID || errors.Is(err, store.ErrConflict) {
			return conflict("User exists with same email")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := checkEmail(next.Email); err != nil {
		return err
	}
	if err := checkUserAttributes(next.Attributes); err != nil {
		return err
	}
	if err := checkProfile(cfg, pctx, &old, next); err != nil {
		return err
	}
	creds, temporary, err := passwordCredentials(rq, next, x.Credentials)
	if err != nil {
		return err
	}
	// A WRITABLE directory gets the change first: what it refuses is not
	// stored here either.
	if err := federation.WriteProfile(ctx, db, old, next); err != nil {
		return directoryRefusal(err)
	}
	err = db.InTx(ctx, func(tx *store.DB) error {
		if err := tx.UpdateUser(ctx, rq.Realm.ID, old.ID, func(u *user.User) error {
			x.ApplyTo(u)
			if x.RequiredActions != nil {
				u.RequiredActions = next.RequiredActions
			}
			if temporary && !slices.Contains(u.RequiredActions, updatePassword) {
				u.RequiredActions = append(u.RequiredActions, updatePassword)
			}
			return nil
		}); err != nil {
			return err
		}
		// Re-enabling a user clears its brute-force record, as Keycloak does.
		if x.Enabled != nil && *x.Enabled {
			if err := authn.Unlock(ctx, tx, rq.Realm, old, rq.Now()); err != nil {
				return err
			}
		}
		for _, c := range creds {
			if err := tx.ReplacePasswordKeepHistory(ctx, c, user.PolicyHistoryRetention(rq.Realm.PasswordPolicy)); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return conflict("User exists with same username or email")
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("User not found")
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// delete answers DELETE /users/{id}; the store removes the user's
// credentials, mappings, memberships, sessions and consents with it.
func (userAPI) delete(rq *Request) error {
	err := rq.h.Store.DeleteUser(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("User not found")
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// resetPassword answers PUT /users/{id}/reset-password. The new password is
// checked against the realm's password policy first: a refused one leaves
// the old password working (SECURITY.md M9). The password is never logged
// and never part of an error.
func (a userAPI) resetPassword(rq *Request) error {
	ctx := rq.R.Context()
	db := rq.h.Store
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	var body struct {
		Value     *string `json:"value"`
		Temporary *bool   `json:"temporary"`
	}
	if err := rq.decode(&body); err != nil {
		return err
	}
	if err := rq.requireTakeover(ctx, u.ID); err != nil {
		return err
	}
	if body.Value == nil {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "No password provided"}}
	}
	if strings.TrimSpace(*body.Value) == "" {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "Empty password not allowed"}}
	}
	temporary := body.Temporary != nil && *body.Temporary
	if err := authn.SetPassword(ctx, db, rq.Realm, u, *body.Value, temporary, rq.Now()); err != nil {
		return policyRefusal(err)
	}
	return rq.NoContent()
}

// credentials answers GET /users/{id}/credentials: Keycloak's
// CredentialRepresentation with secretData blanked (SECURITY.md M8).
func (a userAPI) credentials(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	cs, err := rq.h.Store.ListCredentials(rq.R.Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]rep.Credential, 0, len(cs))
	for _, c := range cs {
		x := rep.CredentialFromDomain(c)
		x.SecretData, x.Priority = "", 0
		out = append(out, x)
	}
	return rq.JSON(out)
}

// deleteCredential answers DELETE /users/{id}/credentials/{credentialId}.
func (a userAPI) deleteCredential(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	if err := rq.requireTakeover(rq.R.Context(), u.ID); err != nil {
		return err
	}
	err = rq.h.Store.DeleteCredential(rq.R.Context(), u.ID, rq.R.PathValue("credentialId"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Credential not found")
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// storageCredentialTypes is always empty: no user comes from a user storage
// (LDAP, Kerberos) provider.
func (a userAPI) storageCredentialTypes(rq *Request) error {
	if _, err := a.load(rq); err != nil {
		return err
	}
	return rq.JSON([]string{})
}

// memberships returns the user's groups whose name contains search
// (ignoring case), ordered by name, with every group's path.
func (a userAPI) memberships(rq *Request, u user.User) ([]role.Group, map[string]string, error) {
	ctx := rq.R.Context()
	gs, err := rq.h.Store.ListUserGroups(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if q := rq.R.URL.Query(); q.Has("search") {
		s := strings.ToLower(q.Get("search"))
		gs = slices.DeleteFunc(gs, func(g role.Group) bool { return !strings.Contains(strings.ToLower(g.Name), s) })
	}
	all, err := rq.h.Store.ListGroups(ctx, rq.Realm.ID)
	if err != nil {
		return nil, nil, err
	}
	return gs, role.GroupPaths(all), nil
}

// groups answers GET /users/{id}/groups. Without max Keycloak lists every
// group; briefRepresentation (default true) leaves out attributes and roles.
func (a userAPI) groups(rq *Request) error {
	ctx := rq.R.Context()
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	if !rq.R.URL.Query().Has("max") {
		max = -1
	}
	gs, paths, err := a.memberships(rq, u)
	if err != nil {
		return err
	}
	gs = gs[min(first, len(gs)):]
	if max >= 0 {
		gs = gs[:min(max, len(gs))]
	}
	brief := rq.Bool("briefRepresentation", true)
	var cat *roleCatalog
	if !brief {
		if cat, err = loadRoleCatalog(ctx, rq); err != nil {
			return err
		}
	}
	out := make([]rep.Group, 0, len(gs))
	for _, g := range gs {
		x := rep.GroupFromDomain(g, paths[g.ID])
		if brief {
			x.Attributes, x.RealmRoles, x.ClientRoles = nil, nil, nil
		} else {
			rs, err := rq.h.Store.ListGroupRoles(ctx, g.ID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.ClientID == "" {
					x.RealmRoles = append(x.RealmRoles, r.Name)
				} else if c, ok := cat.clients[r.ClientID]; ok {
					x.ClientRoles[c.ClientID] = append(x.ClientRoles[c.ClientID], r.Name)
				}
			}
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}

// groupCount answers GET /users/{id}/groups/count with {"count": n}.
func (a userAPI) groupCount(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	gs, _, err := a.memberships(rq, u)
	if err != nil {
		return err
	}
	return rq.JSON(map[string]int{"count": len(gs)})
}

// membership loads the user and the group of a join or leave, and refuses
// the call unless the caller may grant every role membership carries: the
// group's and its ancestors' (SECURITY.md M3: a group is another path to
// realm-admin).
func (a userAPI) membership(rq *Request) (user.User, role.Group, error) {
	ctx := rq.R.Context()
	u, err := a.load(rq)
	if err != nil {
		return user.User{}, role.Group{}, err
	}
	g, err := rq.h.Store.GetGroup(ctx, rq.Realm.ID, rq.R.PathValue("groupId"))
	if errors.Is(err, store.ErrNotFound) {
		return user.User{}, role.Group{}, notFound("Group not found")
	}
	if err != nil {
		return user.User{}, role.Group{}, err
	}
	ids, err := groupChainRoleIDs(ctx, rq.h.Store, rq.Realm.ID, g.ID)
	if err != nil {
		return user.User{}, role.Group{}, err
	}
	if err := rq.requireConfer(ctx, ids...); err != nil {
		return user.User{}, role.Group{}, err
	}
	return u, g, nil
}

// joinGroup answers PUT /users/{id}/groups/{groupId}; joining twice is fine.
func (a userAPI) joinGroup(rq *Request) error {
	u, g, err := a.membership(rq)
	if err != nil {
		return err
	}
	if err := rq.h.Store.AddGroupMember(rq.R.Context(), g.ID, u.ID); err != nil {
		return err
	}
	return rq.NoContent()
}

// leaveGroup answers DELETE /users/{id}/groups/{groupId}; leaving a group
// the user is not in is fine, as in Keycloak.
func (a userAPI) leaveGroup(rq *Request) error {
	u, g, err := a.membership(rq)
	if err != nil {
		return err
	}
	if err := rq.h.Store.RemoveGroupMember(rq.R.Context(), g.ID, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return rq.NoContent()
}

// userSessionRepresentation is Keycloak's UserSessionRepresentation: times
// in epoch milliseconds, clients keyed by internal id.
type userSessionRepresentation struct {
	ID            string            `json:"id"`
	Username      string            `json:"username"`
	UserID        string            `json:"userId"`
	IPAddress     string            `json:"ipAddress"`
	Start         int64             `json:"start"`
	LastAccess    int64             `json:"lastAccess"`
	RememberMe    bool              `json:"rememberMe"`
	Clients       map[string]string `json:"clients"`
	TransientUser bool              `json:"transientUser"`
}

// userSessions lists the user's online or offline sessions. With onlyClient
// set, only sessions that client takes part in are listed and lastAccess is
// that client's last token, as Keycloak's offline-sessions endpoint does.
func (a userAPI) userSessions(rq *Request, u user.User, offline bool, onlyClient string) ([]userSessionRepresentation, error) {
	ctx := rq.R.Context()
	db := rq.h.Store
	ss, err := db.ListUserSessions(ctx, rq.Realm.ID, u.ID, offline)
	if err != nil {
		return nil, err
	}
	clientIDs := map[string]string{}
	out := []userSessionRepresentation{}
	for _, s := range ss {
		cs, err := db.ListClientSessions(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		x := userSessionRepresentation{ID: s.ID, Username: u.Username, UserID: u.ID, IPAddress: s.IPAddress,
			Start: s.Started * 1000, LastAccess: s.LastRefresh * 1000, RememberMe: s.RememberMe, Clients: map[string]string{}}
		found := onlyClient == ""
		for _, c := range cs {
			name, ok := clientIDs[c.ClientID]
			if !ok {
				cl, err := db.GetClient(ctx, rq.Realm.ID, c.ClientID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				name = cl.ClientID
				clientIDs[c.ClientID] = name
			}
			x.Clients[c.ClientID] = name
			if c.ClientID == onlyClient {
				found = true
				x.LastAccess = c.Timestamp * 1000
			}
		}
		if found {
			out = append(out, x)
		}
	}
	return out, nil
}

// sessions answers GET /users/{id}/sessions: the online sessions.
func (a userAPI) sessions(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	out, err := a.userSessions(rq, u, false, "")
	if err != nil {
		return err
	}
	return rq.JSON(out)
}

// offlineSessions answers GET /users/{id}/offline-sessions/{clientUuid}.
func (a userAPI) offlineSessions(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("clientUuid"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Client not found")
	}
	if err != nil {
		return err
	}
	out, err := a.userSessions(rq, u, true, c.ID)
	if err != nil {
		return err
	}
	return rq.JSON(out)
}

// userConsentRepresentation is one entry of GET /users/{id}/consents, in
// the shape UserResource.getConsents builds: a client the user consented to,
// or holds an offline token for, or both. additionalGrants' "client" is the
// client's internal id, as in Keycloak.
type userConsentRepresentation struct {
	ClientID            string              `json:"clientId"`
	GrantedClientScopes []string            `json:"grantedClientScopes"`
	CreatedDate         *int64              `json:"createdDate"`
	LastUpdatedDate     *int64              `json:"lastUpdatedDate"`
	AdditionalGrants    []map[string]string `json:"additionalGrants"`
}

// consents answers GET /users/{id}/consents.
func (a userAPI) consents(rq *Request) error {
	ctx := rq.R.Context()
	db := rq.h.Store
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	// Clients holding an offline token, in the order the sessions began.
	var offline []string
	ss, err := db.ListUserSessions(ctx, rq.Realm.ID, u.ID, true)
	if err != nil {
		return err
	}
	for _, s := range ss {
		cs, err := db.ListClientSessions(ctx, s.ID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Offline && !slices.Contains(offline, c.ClientID) {
				offline = append(offline, c.ClientID)
			}
		}
	}
	offlineGrant := func(clientID string) []map[string]string {
		if !slices.Contains(offline, clientID) {
			return []map[string]string{}
		}
		return []map[string]string{{"client": clientID, "key": "Offline Token"}}
	}
	consents, err := db.ListConsents(ctx, u.ID)
	if err != nil {
		return err
	}
	out := []userConsentRepresentation{}
	consented := map[string]bool{}
	for _, c := range consents {
		cl, err := db.GetClient(ctx, rq.Realm.ID, c.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		consented[c.ClientID] = true
		scopes := []string{}
		for _, id := range c.ScopeIDs {
			s, err := db.GetClientScope(ctx, rq.Realm.ID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			scopes = append(scopes, s.Name)
		}
		created, updated := c.CreatedAt, c.UpdatedAt
		out = append(out, userConsentRepresentation{ClientID: cl.ClientID, GrantedClientScopes: scopes,
			CreatedDate: &created, LastUpdatedDate: &updated, AdditionalGrants: offlineGrant(c.ClientID)})
	}
	for _, id := range offline {
		if consented[id] {
			continue
		}
		cl, err := db.GetClient(ctx, rq.Realm.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		out = append(out, userConsentRepresentation{ClientID: cl.ClientID, GrantedClientScopes: []string{},
			AdditionalGrants: offlineGrant(id)})
	}
	return rq.JSON(out)
}

// revokeConsent answers DELETE /users/{id}/consents/{client}, where client
// is the OAuth client_id: the consent and the user's offline sessions of the
// client go in one transaction (story 1's administrator revocation), after
// which the client's offline tokens are refused. As in Keycloak, revoking a
// consent also ends the client's part of the user's online sessions.
func (a userAPI) revokeConsent(rq *Request) error {
	ctx := rq.R.Context()
	db := rq.h.Store
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	c, err := db.GetClientByClientID(ctx, rq.Realm.ID, rq.R.PathValue("client"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Client not found")
	}
	if err != nil {
		return err
	}
	var found bool
	err = db.InTx(ctx, func(tx *store.DB) error {
		_, err := tx.GetConsent(ctx, u.ID, c.ID)
		hadConsent := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if found, err = tx.RevokeGrant(ctx, rq.Realm.ID, u.ID, c.ID); err != nil || !hadConsent {
			return err
		}
		online, err := tx.ListUserSessions(ctx, rq.Realm.ID, u.ID, false)
		if err != nil {
			return err
		}
		for _, s := range online {
			if err := tx.DeleteClientSession(ctx, s.ID, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return notFound("Consent nor offline token not found")
	}
	rq.grantRevoked(u.ID, c.ClientID)
	return rq.NoContent()
}

// logout answers POST /users/{id}/logout: the user's tokens issued until now
// stop working (notBefore, as Keycloak sets it) and every session ends.
//
// Keycloak ends the online sessions and leaves the offline ones stored,
// though the notBefore makes their tokens stale. Gatehouse deletes the
// offline sessions too: a signed-out user then has no grant that a consent
// list would still show but no token could use, and a token issued within
// the same second as the logout (which notBefore, in whole seconds, lets
// through) is refused as well.
func (a userAPI) logout(rq *Request) error {
	ctx := rq.R.Context()
	db := rq.h.Store
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	now := rq.Now().Unix()
	err = db.InTx(ctx, func(tx *store.DB) error {
		if err := tx.UpdateUser(ctx, rq.Realm.ID, u.ID, func(x *user.User) error {
			x.NotBefore = max(x.NotBefore, now)
			return nil
		}); err != nil {
			return err
		}
		for _, offline := range []bool{false, true} {
			if _, err := tx.DeleteUserSessions(ctx, rq.Realm.ID, u.ID, offline); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// emailParams are an action email's checked query parameters.
type emailParams struct {
	clientID    string
	redirectURI string
	lifespan    int
}

// sendEmailChecks are Keycloak's checks before an action email is sent,
// with its messages: the user has an address and is enabled, the client
// (the account client unless client_id names one) exists and is enabled,
// and redirect_uri is one of its valid redirect URIs (the rule the login
// page applies, package client).
func (a userAPI) sendEmailChecks(rq *Request, u user.User) (emailParams, error) {
	q := rq.R.URL.Query()
	out := emailParams{clientID: "account", redirectURI: q.Get("redirect_uri"), lifespan: rq.Realm.ActionTokenGeneratedByAdminLifespan}
	if u.Email == "" {
		return out, badRequest("User email missing")
	}
	if !u.Enabled {
		return out, badRequest("User is disabled")
	}
	if q.Has("redirect_uri") && !q.Has("client_id") {
		return out, badRequest("Client id missing")
	}
	if q.Has("client_id") {
		out.clientID = q.Get("client_id")
	}
	c, err := rq.h.Store.GetClientByClientID(rq.R.Context(), rq.Realm.ID, out.clientID)
	if errors.Is(err, store.ErrNotFound) {
		return out, badRequest("Client doesn't exist")
	}
	if err != nil {
		return out, err
	}
	if !c.Enabled {
		return out, badRequest("Client is not enabled")
	}
	if q.Has("redirect_uri") {
		uri, ok := c.RedirectRules(rq.h.URLs.Base(rq.R)).Match(out.redirectURI)
		if !ok {
			return out, badRequest("Invalid redirect uri.")
		}
		out.redirectURI = uri
	}
	if v := q.Get("lifespan"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return out, badRequest("Invalid lifespan")
		}
		out.lifespan = n
	}
	return out, nil
}

// actionToken is the token of an action email the administrator sends.
func (a userAPI) actionToken(rq *Request, u user.User, typ string, p emailParams) token.Action {
	now := rq.Now().Unix()
	return token.Action{Type: typ, UserID: u.ID, Issuer: rq.h.URLs.RealmURL(rq.R, rq.Realm.Name), ClientID: p.clientID,
		ID: token.NewJTI(), IssuedAt: now, Expires: now + int64(p.lifespan), Email: u.Email, RedirectURI: p.redirectURI}
}

// executeActionsEmail answers PUT /users/{id}/execute-actions-email: it
// mails the user a link (an execute-actions token, the realm's admin
// lifespan unless lifespan says otherwise) to the pages of the actions.
// A mail the server could not send is Keycloak's 500 with the cause.
func (a userAPI) executeActionsEmail(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	var actions []string
	if rq.R.ContentLength != 0 {
		if err := rq.decode(&actions); err != nil {
			return err
		}
	}
	p, err := a.sendEmailChecks(rq, u)
	if err != nil {
		return err
	}
	for _, x := range actions {
		if !slices.Contains(knownRequiredActions, x) {
			return badRequest("Provided invalid required actions")
		}
	}
	tok := a.actionToken(rq, u, token.ActionExecuteActions, p)
	tok.Actions = actions
	if err := rq.h.mailer().SendAction(rq.R.Context(), rq.Realm, u, tok, mail.KindExecuteActions, ""); err != nil {
		rq.h.Log.WarnContext(rq.R.Context(), "execute actions email not sent", "realm", rq.Realm.Name, "user", u.ID, "err", err)
		return errorMessage(http.StatusInternalServerError, "Failed to send execute actions email: "+err.Error())
	}
	return rq.NoContent()
}

// sendVerifyEmail answers PUT /users/{id}/send-verify-email, likewise with
// a verify-email token bound to the user's current address.
func (a userAPI) sendVerifyEmail(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	p, err := a.sendEmailChecks(rq, u)
	if err != nil {
		return err
	}
	tok := a.actionToken(rq, u, token.ActionVerifyEmail, p)
	if err := rq.h.mailer().SendAction(rq.R.Context(), rq.Realm, u, tok, mail.KindVerifyEmail, ""); err != nil {
		rq.h.Log.WarnContext(rq.R.Context(), "verify email not sent", "realm", rq.Realm.Name, "user", u.ID, "err", err)
		return errorMessage(http.StatusInternalServerError, "Failed to send verify email")
	}
	return rq.NoContent()
}

// directoryRefusal answers a change the user's directory refused (a
// schema or constraint violation) with its message; an outage and other
// errors pass through.
func directoryRefusal(err error) error {
	var re *federation.PasswordRejectedError
	if errors.As(err, &re) {
		return errorMessage(http.StatusBadRequest, re.Msg)
	}
	return err
}

// policyRefusal answers a new password the realm's policy refuses
// (authn.CheckNewPassword) as Keycloak does: the message key as "error" and
// the English message as "error_description" (UserResource.resetPassword,
// PasswordPolicyNotMetException). A user storage provider that keeps its
// passwords read-only refuses with the reset's own message. Other errors
// pass through.
func policyRefusal(err error) error {
	if errors.Is(err, federation.ErrReadOnly) {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "Can't reset password as account is read only"}}
	}
	var pe *user.PolicyError
	if errors.As(err, &pe) {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": pe.Key, "error_description": pe.Message}}
	}
	return err
}
