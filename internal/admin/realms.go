package admin

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/userstorage"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Realms: list, create, read, update and delete, partial import and export,
// logout-all, push-revocation, keys, the realm's default client scopes for
// new clients, and attack detection. Permissions are Keycloak's: the realm
// settings need view-realm / manage-realm, logging everyone out manage-users,
// the default client scopes the clients permissions, attack detection the
// users permissions.
func (h *Handler) realmRoutes(mux Mux) {
	h.handle(mux, "GET /admin/realms", "", h.listRealms)
	h.handle(mux, "POST /admin/realms", "", h.createRealm)

	const one = "/admin/realms/{realm}"
	// Any admin permission over the realm reads at least its name.
	h.handle(mux, "GET "+one, "", h.getRealm)
	h.handle(mux, "PUT "+one, "manage-realm", h.updateRealm)
	h.handle(mux, "DELETE "+one, "manage-realm", h.deleteRealm)
	h.handle(mux, "POST "+one+"/partialImport", "manage-realm", h.partialImport)
	h.handle(mux, "POST "+one+"/partial-export", "manage-realm", h.partialExport)
	h.handle(mux, "POST "+one+"/logout-all", "manage-users", h.logoutAll)
	h.handle(mux, "POST "+one+"/push-revocation", "manage-realm", h.pushRevocation)
	h.handle(mux, "GET "+one+"/keys", "view-realm", h.realmKeys)

	for _, l := range []struct {
		path string
		dflt bool
	}{{"/default-default-client-scopes", true}, {"/default-optional-client-scopes", false}} {
		h.handle(mux, "GET "+one+l.path, "view-clients", h.listRealmDefaultScopes(l.dflt))
		h.handle(mux, "PUT "+one+l.path+"/{clientScopeId}", "manage-clients", h.addRealmDefaultScope(l.dflt))
		// Keycloak's DELETE ignores which of the two lists its path names.
		h.handle(mux, "DELETE "+one+l.path+"/{clientScopeId}", "manage-clients", h.removeRealmDefaultScope)
	}

	// Brute-force detection's record of a user, and clearing it, which ends
	// a temporary lockout (a permanent one ends when the user is enabled).
	const bf = one + "/attack-detection/brute-force/users"
	h.handle(mux, "GET "+bf+"/{userId}", "view-users@login-failure.view", func(rq *Request) error {
		s, err := authn.Checker{Store: rq.h.Store, Log: rq.h.Log}.Status(rq.R.Context(), rq.Realm, rq.R.PathValue("userId"), rq.Now())
		if err != nil {
			return err
		}
		return rq.JSON(map[string]any{
			"disabled": s.Disabled, "numFailures": s.NumFailures, "numTemporaryLockouts": s.NumTemporaryLockouts,
			"lastFailure": s.LastFailure, "lastIPFailure": s.LastIPFailure, "failedLoginNotBefore": s.FailedLoginNotBefore,
		})
	})
	h.handle(mux, "DELETE "+bf+"/{userId}", "manage-users@login-failure.manage", func(rq *Request) error {
		if err := rq.h.Store.DeleteLoginFailure(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("userId")); err != nil {
			return err
		}
		return rq.NoContent()
	})
	h.handle(mux, "DELETE "+bf, "manage-users", func(rq *Request) error {
		if err := rq.h.Store.DeleteLoginFailures(rq.R.Context(), rq.Realm.ID); err != nil {
			return err
		}
		return rq.NoContent()
	})
}

// Keycloak's answers for realms.
var (
	errRealmExists       = conflict("Conflict detected. See logs for details")
	errRealmNameTaken    = conflict("Realm with same name exists")
	errRealmNameEmpty    = badRequest("Realm name cannot be empty")
	errMasterRename      = badRequest("Can't rename master realm")
	errMasterRemove      = badRequest("Can't remove master realm")
	errRealmScopeMissing = notFound("Client scope not found")
	// Keycloak answers this one in the RFC 6749 shape, not with errorMessage.
	errRealmScopeLinked = &web.Error{Status: http.StatusConflict, Body: map[string]string{"error": "conflict", "error_description": "Duplicate resource error"}}
)

// realmAccess is a realm and the admin permissions the caller holds over it.
type realmAccess struct {
	realm realm.Realm
	perms map[string]bool
}

// realmsAdministered returns the realms the caller holds any admin
// permission over, in name order. A master administrator's permissions sit
// on one "<realm>-realm" client per realm in master, so they are read with
// two queries however many realms exist; anyone else administers at most
// their own realm.
func (h *Handler) realmsAdministered(ctx context.Context, c *Caller) ([]realmAccess, error) {
	if !c.Master {
		perms, err := h.adminPerms(ctx, c, c.Realm)
		if err != nil || len(perms) == 0 {
			return nil, err
		}
		return []realmAccess{{c.Realm, perms}}, nil
	}
	realms, err := h.Store.ListRealms(ctx)
	if err != nil {
		return nil, err
	}
	clients, err := h.Store.ListClients(ctx, c.Realm.ID)
	if err != nil {
		return nil, err
	}
	roles, err := h.Store.ListAllRoles(ctx, c.Realm.ID)
	if err != nil {
		return nil, err
	}
	held := map[string]map[string]bool{} // client internal id → role names the caller holds
	for _, r := range roles {
		if r.ClientID != "" && c.roleIDs[r.ID] {
			if held[r.ClientID] == nil {
				held[r.ClientID] = map[string]bool{}
			}
			held[r.ClientID][r.Name] = true
		}
	}
	adminClient := map[string]string{} // clientId → internal id
	for _, cl := range clients {
		adminClient[cl.ClientID] = cl.ID
	}
	var out []realmAccess
	for _, r := range realms {
		if id, ok := adminClient[provision.MasterAdminClient(r.Name)]; ok && len(held[id]) > 0 {
			out = append(out, realmAccess{r, held[id]})
		}
	}
	return out, nil
}

// smtpSecrets are the smtpServer settings a realm representation masks.
var smtpSecrets = []string{"password", "authTokenClientSecret"}

// keepSMTPSecrets puts the stored secret back wherever settings carry the
// mask, as long as settings still name the stored server (same host, port,
// user and authentication): a mask never carries a stored secret to another
// server, the administrator must type it again.
func keepSMTPSecrets(settings, stored map[string]string) error {
	for _, k := range smtpSecrets {
		if settings[k] != secret.Mask {
			continue
		}
		for _, f := range []string{"host", "port", "user", "auth"} {
			if settings[f] != stored[f] {
				return badRequest("The SMTP password is required when the host, port, user or authentication change")
			}
		}
		settings[k] = stored[k]
	}
	return nil
}

// realmRep is the realm's settings as GET answers them, with the stored
// default role and the SMTP secrets masked, as Keycloak does: an admin who
// may read the settings may not read the mail password.
func realmRep(ctx context.Context, db *store.DB, r realm.Realm) (rep.Realm, error) {
	x := rep.RealmFromDomain(r)
	auth, err := db.GetAuthConfig(ctx, r.ID)
	if err != nil {
		return rep.Realm{}, err
	}
	x.SetBindings(auth.Bindings)
	for _, k := range smtpSecrets {
		if x.SMTPServer[k] != "" {
			x.SMTPServer[k] = secret.Mask
		}
	}
	if r.DefaultRoleID != "" {
		ro, err := db.GetRole(ctx, r.ID, r.DefaultRoleID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return rep.Realm{}, err
		}
		if err == nil {
			d := rep.RoleFromDomain(ro, true)
			d.Attributes = nil // Keycloak's brief role representation
			x.DefaultRole = &d
		}
	}
	return x, nil
}

// briefRealm is Keycloak's brief RealmRepresentation.
func briefRealm(r realm.Realm) rep.Realm {
	full := rep.RealmFromDomain(r)
	return rep.Realm{ID: full.ID, Realm: full.Realm, DisplayName: full.DisplayName,
		DisplayNameHTML: full.DisplayNameHTML, Enabled: full.Enabled}
}

// listRealms lists the realms the caller administers: the settings where
// the caller may view them, only the name where it holds some other admin
// permission, as Keycloak does.
func (h *Handler) listRealms(rq *Request) error {
	ctx := rq.R.Context()
	visible, err := h.realmsAdministered(ctx, rq.Caller)
	if err != nil {
		return err
	}
	brief := rq.Bool("briefRepresentation", false)
	out := []rep.Realm{}
	for _, v := range visible {
		switch {
		case !role.Permits(v.perms, "view-realm"):
			out = append(out, rep.Realm{Realm: v.realm.Name})
		case brief:
			out = append(out, briefRealm(v.realm))
		default:
			x, err := realmRep(ctx, h.Store, v.realm)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
	}
	return rq.JSON(out)
}

// mayCreateRealm: only master's users holding create-realm (which master's
// admin role includes) create realms.
func (h *Handler) mayCreateRealm(ctx context.Context, c *Caller) (bool, error) {
	if !c.Master {
		return false, nil
	}
	r, err := h.Store.GetRealmRole(ctx, c.Realm.ID, provision.CreateRealmRole)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && c.roleIDs[r.ID], err
}

// createRealm creates a realm from a full RealmRepresentation, nested
// clients, roles, groups, users and client scopes included, exactly as a
// realm import does, in one transaction. A creator who is not a master
// administrator receives every admin role over the new realm, as in
// Keycloak, so that they can manage what they made.
func (h *Handler) createRealm(rq *Request) error {
	ctx := rq.R.Context()
	ok, err := h.mayCreateRealm(ctx, rq.Caller)
	if err != nil {
		return err
	}
	if !ok {
		return errForbidden
	}
	var x rep.Realm
	if _, err := rq.decodeRealmFile(&x, "create realm"); err != nil {
		return err
	}
	if x.Realm == "" {
		return errRealmNameEmpty
	}
	if err := checkPolicyString(x.PasswordPolicy); err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		if _, err := rep.Import(ctx, tx, x, rep.ImportOptions{Now: rq.Now(), Log: h.Log}); err != nil {
			return err
		}
		if rq.Caller.hasMasterAdmin {
			return nil
		}
		return grantRealmAdminRoles(ctx, tx, rq.Caller, x.Realm)
	})
	var ie *rep.ImportError
	switch {
	case errors.Is(err, rep.ErrRealmExists):
		h.Log.InfoContext(ctx, "create realm: conflict", "realm", x.Realm, "err", err)
		return errRealmExists
	case errors.As(err, &ie) && ie.Conflict:
		return errorMessage(http.StatusConflict, ie.Error())
	case errors.As(err, &ie):
		return badRequest(ie.Error())
	case err != nil:
		return err
	}
	return rq.Created(h.URLs.Base(rq.R) + "/admin/realms/" + x.Realm)
}

// grantRealmAdminRoles gives the caller every role of the master client
// that administers realmName.
func grantRealmAdminRoles(ctx context.Context, tx *store.DB, c *Caller, realmName string) error {
	cl, err := tx.GetClientByClientID(ctx, c.Realm.ID, provision.MasterAdminClient(realmName))
	if err != nil {
		return err
	}
	roles, err := tx.ListClientRoles(ctx, c.Realm.ID, cl.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	return tx.AddUserRoles(ctx, c.Token.User.ID, ids...)
}

func (h *Handler) getRealm(rq *Request) error {
	if !rq.Can("view-realm") {
		return rq.JSON(rep.Realm{Realm: rq.Realm.Name})
	}
	x, err := realmRep(rq.R.Context(), h.Store, rq.Realm)
	if err != nil {
		return err
	}
	return rq.JSON(x)
}

// updateRealm is Keycloak's partial update: only the settings present in the
// body change; users, clients and other nested lists are ignored. A new name
// renames the realm, and with it the master client that administers it and
// the built-in clients' URLs, in the same transaction.
func (h *Handler) updateRealm(rq *Request) error {
	var x rep.Realm
	if err := rq.decode(&x); err != nil {
		return err
	}
	old := rq.Realm
	if old.Name == realm.MasterName && x.Realm != "" && x.Realm != realm.MasterName {
		return errMasterRename
	}
	if x.AccessCodeLifespanLogin != nil && x.AccessCodeLifespanUserAction != nil &&
		(*x.AccessCodeLifespanLogin < 1 || *x.AccessCodeLifespanUserAction < 1) {
		return badRequest("AccessCodeLifespanLogin or AccessCodeLifespanUserAction cannot be 0")
	}
	if err := checkPolicyString(x.PasswordPolicy); err != nil {
		return err
	}
	ctx := rq.R.Context()
	err := h.Store.InTx(ctx, func(tx *store.DB) error {
		err := tx.UpdateRealm(ctx, old.ID, func(r *realm.Realm) error {
			// A masked SMTP secret, as GET shows it, keeps the stored one.
			if err := keepSMTPSecrets(x.SMTPServer, r.SMTPServer); err != nil {
				return err
			}
			if err := x.ClientPoliciesError(*r); err != nil {
				return badRequest(err.Error())
			}
			x.ApplyTo(r)
			if err := r.Validate(); err != nil {
				return badRequest(err.Error())
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := bindFlows(ctx, tx, old.ID, x); err != nil {
			return err
		}
		if x.Realm == "" || x.Realm == old.Name {
			return nil
		}
		return renameRealmClients(ctx, tx, old, x.Realm)
	})
	var we *web.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, store.ErrConflict):
		return errRealmNameTaken
	case errors.Is(err, store.ErrNotFound):
		return errRealmNotFound
	case err != nil:
		return err
	}
	return rq.NoContent()
}

// bindFlows applies the flow bindings the body names. A binding that
// changes must name a top-level flow and, for the bindings Gatehouse runs
// at login (browser, registration, direct grant, reset credentials), one
// whose steps Gatehouse runs: otherwise 400 naming the authenticator.
func bindFlows(ctx context.Context, tx *store.DB, realmID string, x rep.Realm) error {
	if x.BrowserFlow == nil && x.RegistrationFlow == nil && x.DirectGrantFlow == nil && x.ResetCredentialsFlow == nil &&
		x.ClientAuthenticationFlow == nil && x.DockerAuthenticationFlow == nil && x.FirstBrokerLoginFlow == nil {
		return nil
	}
	return tx.UpdateAuthConfig(ctx, realmID, func(c *flow.Config) error {
		before := c.Bindings
		x.ApplyBindings(&c.Bindings)
		was := before.Refs()
		for i, b := range c.Bindings.Refs() {
			alias := *b.Alias
			if alias == *was[i].Alias {
				continue
			}
			f, ok := c.FlowByAlias(alias)
			if !ok || !f.TopLevel {
				return badRequest("Flow " + alias + " does not exist")
			}
			if flow.Served(b.Name) {
				if err := flow.CheckBindable(*c, alias); err != nil {
					return badRequest(err.Error())
				}
			}
		}
		return nil
	})
}

// renameRealmClients follows a realm rename as Keycloak's renameRealm does:
// master's "<old>-realm" client becomes "<new>-realm" (without it, master's
// administrators would lose the realm), and the built-in clients' URLs that
// carry the realm name move with it.
func renameRealmClients(ctx context.Context, tx *store.DB, old realm.Realm, newName string) error {
	master, err := tx.GetRealmByName(ctx, realm.MasterName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil {
		c, err := tx.GetClientByClientID(ctx, master.ID, provision.MasterAdminClient(old.Name))
		if err == nil {
			err = tx.UpdateClient(ctx, master.ID, c.ID, func(c *client.Client) error {
				c.ClientID, c.Name = provision.MasterAdminClient(newName), newName+" Realm"
				return nil
			})
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	for clientID, prefix := range map[string]string{
		provision.SecurityAdminConsole: "/admin/",
		provision.Account:              "/realms/",
		provision.AccountConsole:       "/realms/",
	} {
		from, to := prefix+old.Name+"/", prefix+newName+"/"
		c, err := tx.GetClientByClientID(ctx, old.ID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		err = tx.UpdateClient(ctx, old.ID, c.ID, func(c *client.Client) error {
			c.BaseURL = strings.Replace(c.BaseURL, from, to, 1)
			uris := make([]string, len(c.RedirectURIs))
			for i, u := range c.RedirectURIs {
				uris[i] = strings.Replace(u, from, to, 1)
			}
			c.RedirectURIs = uris
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteRealm removes the realm, everything in it (the schema cascades) and
// the master client that administered it. The master realm stays.
func (h *Handler) deleteRealm(rq *Request) error {
	if rq.Realm.Name == realm.MasterName {
		return errMasterRemove
	}
	ctx := rq.R.Context()
	err := h.Store.InTx(ctx, func(tx *store.DB) error {
		master, err := tx.GetRealmByName(ctx, realm.MasterName)
		if err == nil {
			c, err := tx.GetClientByClientID(ctx, master.ID, provision.MasterAdminClient(rq.Realm.Name))
			if err == nil {
				err = adminperm.DeleteClient(ctx, tx, master.ID, c.ID)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.DeleteRealm(ctx, rq.Realm.ID)
	})
	if errors.Is(err, store.ErrNotFound) {
		return errRealmNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// globalRequestResult is Keycloak's GlobalRequestResult: the management
// URLs of clients that were, or could not be, told about a logout or a
// revocation. Gatehouse sends no such messages to clients yet, so every
// enabled client with an admin URL is reported as a failed request and an
// empty result is {}.
type globalRequestResult struct {
	SuccessRequests []string `json:"successRequests,omitempty"`
	FailedRequests  []string `json:"failedRequests,omitempty"`
}

func unnotifiedClients(cs []client.Client) globalRequestResult {
	var res globalRequestResult
	for _, c := range cs {
		if !c.Enabled || c.AdminURL == "" {
			continue
		}
		u := c.AdminURL
		if strings.HasPrefix(u, "/") && c.RootURL != "" {
			u = strings.TrimSuffix(c.RootURL, "/") + u
		}
		res.FailedRequests = append(res.FailedRequests, u)
	}
	return res
}

// logoutAll ends every online session of the realm and, as Keycloak does,
// sets the realm's not-before to now, so that every token issued before
// (offline tokens included) is refused.
func (h *Handler) logoutAll(rq *Request) error {
	ctx := rq.R.Context()
	var cs []client.Client
	err := h.Store.InTx(ctx, func(tx *store.DB) error {
		if _, err := tx.DeleteRealmSessions(ctx, rq.Realm.ID, false); err != nil {
			return err
		}
		now := rq.Now().Unix()
		if err := tx.UpdateRealm(ctx, rq.Realm.ID, func(r *realm.Realm) error { r.NotBefore = now; return nil }); err != nil {
			return err
		}
		var err error
		cs, err = tx.ListClients(ctx, rq.Realm.ID)
		return err
	})
	if err != nil {
		return err
	}
	return rq.JSON(unnotifiedClients(cs))
}

// pushRevocation is Keycloak's: it pushes the realm's existing not-before
// to clients that have an admin URL and changes nothing in the realm (an
// admin sets notBefore with PUT first). Gatehouse pushes to no client yet.
func (h *Handler) pushRevocation(rq *Request) error {
	cs, err := h.Store.ListClients(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	return rq.JSON(unnotifiedClients(cs))
}

// keyMetadata is Keycloak's KeysMetadataRepresentation.KeyMetadataRepresentation.
type keyMetadata struct {
	ProviderID       string `json:"providerId"`
	ProviderPriority int64  `json:"providerPriority"`
	Kid              string `json:"kid"`
	Status           string `json:"status"`
	Type             string `json:"type"`
	Algorithm        string `json:"algorithm"`
	PublicKey        string `json:"publicKey,omitempty"`
	Certificate      string `json:"certificate,omitempty"`
	Use              string `json:"use"`
	ValidTo          *int64 `json:"validTo,omitempty"`
}

// realmKeys lists the realm's keys with their public halves only: the
// active kid per algorithm, and every key with its status.
func (h *Handler) realmKeys(rq *Request) error {
	ks, err := h.Store.ListKeys(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	out := struct {
		Active map[string]string `json:"active"`
		Keys   []keyMetadata     `json:"keys"`
	}{Active: map[string]string{}, Keys: []keyMetadata{}}
	for _, k := range ks {
		m := keyMetadata{ProviderID: k.ID, ProviderPriority: k.Priority, Kid: k.Kid, Algorithm: k.Algorithm,
			Use: strings.ToUpper(k.Use), Status: "DISABLED", Type: k.Type()}
		switch {
		case k.Enabled && k.Active:
			m.Status = "ACTIVE"
		case k.Enabled:
			m.Status = "PASSIVE"
		}
		if !k.Secret() {
			if m.PublicKey, err = k.PublicKeyBase64(); err != nil {
				return err
			}
			m.Certificate = k.CertificateBase64()
			if cert, err := x509.ParseCertificate(k.Certificate); err == nil {
				ms := cert.NotAfter.UnixMilli()
				m.ValidTo = &ms
			}
		}
		if _, seen := out.Active[k.Algorithm]; !seen {
			if a, ok := keys.Active(ks, k.Algorithm); ok {
				out.Active[k.Algorithm] = a.Kid
			}
		}
		out.Keys = append(out.Keys, m)
	}
	return rq.JSON(out)
}

// realmScopeBrief is how Keycloak lists the realm's default client scopes.
type realmScopeBrief struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Protocol string `json:"protocol,omitempty"`
}

func (h *Handler) listRealmDefaultScopes(dflt bool) endpoint {
	return func(rq *Request) error {
		ctx := rq.R.Context()
		links, err := h.Store.ClientScopeLinks(ctx, rq.Realm.ID, store.RealmDefaults)
		if err != nil {
			return err
		}
		scopes, err := h.Store.ListClientScopes(ctx, rq.Realm.ID)
		if err != nil {
			return err
		}
		byID := make(map[string]client.Scope, len(scopes))
		for _, s := range scopes {
			byID[s.ID] = s
		}
		out := []realmScopeBrief{}
		for _, l := range links {
			if s, ok := byID[l.ScopeID]; ok && l.Default == dflt {
				out = append(out, realmScopeBrief{s.ID, s.Name, s.Protocol})
			}
		}
		return rq.JSON(out)
	}
}

func (h *Handler) realmScope(rq *Request) (client.Scope, error) {
	s, err := h.Store.GetClientScope(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("clientScopeId"))
	if errors.Is(err, store.ErrNotFound) {
		return s, errRealmScopeMissing
	}
	return s, err
}

// addRealmDefaultScope makes a scope a default (or optional) scope of new
// clients. A scope already in either list is 409, as in Keycloak: moving
// it takes a DELETE first.
func (h *Handler) addRealmDefaultScope(dflt bool) endpoint {
	return func(rq *Request) error {
		s, err := h.realmScope(rq)
		if err != nil {
			return err
		}
		err = h.Store.AddClientScopeLink(rq.R.Context(), rq.Realm.ID, store.RealmDefaults, s.ID, dflt)
		if errors.Is(err, store.ErrConflict) {
			return errRealmScopeLinked
		}
		if err != nil {
			return err
		}
		return rq.NoContent()
	}
}

func (h *Handler) removeRealmDefaultScope(rq *Request) error {
	s, err := h.realmScope(rq)
	if err != nil {
		return err
	}
	err = h.Store.UnlinkClientScope(rq.R.Context(), rq.Realm.ID, store.RealmDefaults, s.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return rq.NoContent()
}

// partialExport is Keycloak's partial export: the realm's settings and
// client scopes, its clients (with their service account users, without role
// mappings unless groups and roles are asked for too) when exportClients,
// its roles and groups when exportGroupsAndRoles; never users, credentials
// or keys, and every secret masked.
func (h *Handler) partialExport(rq *Request) error {
	withClients, withRoles := rq.Bool("exportClients", false), rq.Bool("exportGroupsAndRoles", false)
	if withRoles {
		if err := rq.Require("query-groups"); err != nil {
			return err
		}
	}
	if withClients {
		if err := rq.Require("view-clients"); err != nil {
			return err
		}
	}
	data, err := rep.Export(rq.R.Context(), h.Store, rq.Realm.Name)
	if err != nil {
		return err
	}
	var x rep.Realm
	if err := json.Unmarshal(data, &x); err != nil {
		return err
	}
	// Realm keys never leave the server this way; the user profile and
	// the client registration policies, which hold no secret, do.
	kept := map[string][]rep.Component{}
	for _, t := range []string{rep.UserProfileProvider, regpolicy.ProviderType} {
		if cs := x.Components[t]; cs != nil {
			kept[t] = cs
		}
	}
	// User storage providers do too, their bind credential masked.
	for _, c := range x.Components[ldap.ProviderType] {
		c.Config = userstorage.Mask(ldap.ProviderType, c.Config)
		kept[ldap.ProviderType] = append(kept[ldap.ProviderType], c)
	}
	x.Components = nil
	if len(kept) > 0 {
		x.Components = kept
	}
	for _, k := range smtpSecrets {
		if x.SMTPServer[k] != "" {
			x.SMTPServer[k] = secret.Mask
		}
	}
	for i := range x.IdentityProviders {
		x.IdentityProviders[i] = x.IdentityProviders[i].Masked()
	}
	var users []rep.User
	if withClients {
		for _, u := range x.Users {
			if u.ServiceAccountClientID == "" {
				continue
			}
			u.Credentials = nil
			if !withRoles {
				u.RealmRoles, u.ClientRoles, u.Groups = nil, nil, nil
			}
			users = append(users, u)
		}
		for i := range x.Clients {
			maskClientSecrets(&x.Clients[i])
		}
	} else {
		x.Clients = nil
	}
	x.Users = users
	if !withRoles {
		x.Roles, x.Groups = nil, nil
	}
	return rq.JSON(x)
}

// partialImportRep is Keycloak's PartialImportRepresentation. Members
// other than these are ignored like every unknown member of a realm file:
// the realm's components (its user profile
// among them) and localizationTexts, which Keycloak's partial import does
// not read either. Each lands in the answer's warnings.
type partialImportRep struct {
	IfResourceExists        string                       `json:"ifResourceExists"`
	Users                   []rep.User                   `json:"users"`
	Clients                 []rep.Client                 `json:"clients"`
	Groups                  []rep.Group                  `json:"groups"`
	Roles                   *rep.Roles                   `json:"roles"`
	IdentityProviders       []rep.IdentityProvider       `json:"identityProviders"`
	IdentityProviderMappers []rep.IdentityProviderMapper `json:"identityProviderMappers"`
}

// importResult is Keycloak's PartialImportResult.
type importResult struct {
	Action       string `json:"action"`
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
	ID           string `json:"id"`
}

// importResults is Keycloak's PartialImportResults.
type importResults struct {
	Added       int            `json:"added"`
	Overwritten int            `json:"overwritten"`
	Skipped     int            `json:"skipped"`
	Results     []importResult `json:"results"`
	// Warnings names, by JSON path, each member of the body that was not
	// imported ("$.authenticationFlows"); absent when there is none.
	Warnings []string `json:"warnings,omitempty"`
}

// partialImport adds clients, roles, groups and users to the realm in one
// transaction: everything is written or nothing is. For a resource that
// exists, ifResourceExists decides: FAIL (the default) refuses the whole
// import with 409, SKIP leaves it, OVERWRITE replaces it.
//
// Keycloak checked only manage-realm here (CVE-2026-11577: an admin could
// import a user holding realm-admin). Gatehouse also asks for the
// permission each kind of resource needs elsewhere (manage-users for users
// and groups, manage-clients for clients and client roles), and refuses with
// 403 any role the caller could not grant by hand: mapped to an imported
// user or group, reached through a group an imported user joins, or made a
// composite of an imported role. Admin clients and admin roles (realm-
// management's, master's "<realm>-realm" clients') are never overwritten,
// since that would change who counts as an administrator; OVERWRITE reports
// them SKIPPED.
func (h *Handler) partialImport(rq *Request) error {
	var x partialImportRep
	ignored, err := rq.decodeRealmFile(&x, "partial import")
	if err != nil {
		return err
	}
	switch x.IfResourceExists {
	case "":
		x.IfResourceExists = "FAIL"
	case "FAIL", "SKIP", "OVERWRITE":
	default:
		return errBadJSON // Keycloak fails to read the enum
	}
	if len(x.Users) > 0 || len(x.Groups) > 0 {
		if err := rq.Require("manage-users"); err != nil {
			return err
		}
	}
	if len(x.Clients) > 0 || (x.Roles != nil && len(x.Roles.Client) > 0) {
		if err := rq.Require("manage-clients"); err != nil {
			return err
		}
	}
	if len(x.IdentityProviders) > 0 || len(x.IdentityProviderMappers) > 0 {
		if err := rq.Require("manage-identity-providers"); err != nil {
			return err
		}
	}
	ctx := rq.R.Context()
	var res importResults
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		res = importResults{Results: []importResult{}, Warnings: ignored} // PostgreSQL may run this twice
		r, err := tx.GetRealm(ctx, rq.Realm.ID)
		if errors.Is(err, store.ErrNotFound) {
			return errRealmNotFound // deleted since the request began
		}
		if err != nil {
			return err
		}
		// The caller's grant checks must see this transaction's writes.
		txh := *h
		txh.Store = tx
		txrq := *rq
		txrq.h = &txh
		pi := &partialImporter{rq: &txrq, tx: tx, realm: r, x: x, res: &res}
		for _, step := range []func(context.Context) error{pi.clients, pi.roles, pi.groups, pi.identityProviders, pi.users, pi.serviceAccounts, pi.authz} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.JSON(res)
}

// partialImporter runs one partial import inside its transaction.
type partialImporter struct {
	rq    *Request // bound to tx
	tx    *store.DB
	realm realm.Realm
	x     partialImportRep
	res   *importResults

	touched []client.Client // clients created or overwritten
}

func (pi *partialImporter) result(action, typ, name, id string) {
	switch action {
	case "ADDED":
		pi.res.Added++
	case "OVERWRITTEN":
		pi.res.Overwritten++
	case "SKIPPED":
		pi.res.Skipped++
	}
	pi.res.Results = append(pi.res.Results, importResult{action, typ, name, id})
}

// exists applies ifResourceExists to a resource that exists: whether to
// overwrite it, or the 409 that FAIL answers.
func (pi *partialImporter) exists(msg string) (overwrite bool, err error) {
	switch pi.x.IfResourceExists {
	case "SKIP":
		return false, nil
	case "OVERWRITE":
		return true, nil
	}
	return false, errorMessage(http.StatusConflict, msg)
}

// buildClient turns an imported client into the stored one with id: new
// mapper ids, and a confidential client without a secret (or with the mask a
// partial export writes) keeps keep's secret or gets a new one; a masked
// attribute keeps its value in keepAttrs or is left out.
func (pi *partialImporter) buildClient(xc rep.Client, id, keep string, keepAttrs map[string]string) (client.Client, error) {
	c := xc.ToDomain(pi.realm.ID)
	c.ID = id
	c.Attributes = rep.KeepMaskedAttributes(c.Attributes, keepAttrs)
	for i := range c.ProtocolMappers {
		c.ProtocolMappers[i].ID = store.NewID()
	}
	if c.Confidential() && (c.Secret == "" || c.Secret == secret.Mask) {
		c.Secret = keep
		if c.Secret == "" {
			c.Secret = rand.Text()
		}
	}
	if err := c.Validate(); err != nil {
		return client.Client{}, badRequest(err.Error())
	}
	if err := validateSAML(c); err != nil {
		return client.Client{}, err
	}
	return c, nil
}

// linkScopes links the client scopes xc names, or, when it names none and
// inherit is set, the realm's defaults for new clients.
func (pi *partialImporter) linkScopes(ctx context.Context, xc rep.Client, clientID string, inherit bool) error {
	tx, realmID := pi.tx, pi.realm.ID
	if xc.DefaultClientScopes == nil && xc.OptionalClientScopes == nil {
		if !inherit {
			return nil
		}
		links, err := tx.ClientScopeLinks(ctx, realmID, store.RealmDefaults)
		if err != nil {
			return err
		}
		for _, l := range links {
			if err := tx.LinkClientScope(ctx, realmID, clientID, l.ScopeID, l.Default); err != nil {
				return err
			}
		}
		return nil
	}
	old, err := tx.ClientScopeLinks(ctx, realmID, clientID)
	if err != nil {
		return err
	}
	for _, l := range old {
		if err := tx.UnlinkClientScope(ctx, realmID, clientID, l.ScopeID); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		names []string
		dflt  bool
	}{{xc.DefaultClientScopes, true}, {xc.OptionalClientScopes, false}} {
		for _, name := range l.names {
			s, err := tx.GetClientScopeByName(ctx, realmID, name)
			if errors.Is(err, store.ErrNotFound) {
				continue // Keycloak drops scope names it does not know
			}
			if err != nil {
				return err
			}
			if err := tx.LinkClientScope(ctx, realmID, clientID, s.ID, l.dflt); err != nil {
				return err
			}
		}
	}
	return nil
}

// clients imports clients. OVERWRITE keeps the client's id, roles, role
// mappings and sessions and replaces its settings; the scope links change
// only when the file names them.
func (pi *partialImporter) clients(ctx context.Context) error {
	tx, realmID := pi.tx, pi.realm.ID
	for _, xc := range pi.x.Clients {
		if strings.TrimSpace(xc.ClientID) == "" {
			return badRequest("clientId is missing")
		}
		existing, err := tx.GetClientByClientID(ctx, realmID, xc.ClientID)
		switch {
		case err == nil:
			overwrite, err := pi.exists("Client id '" + xc.ClientID + "' already exists")
			if err != nil {
				return err
			}
			if !overwrite || reservedClientID(pi.realm, existing.ClientID) {
				pi.result("SKIPPED", "CLIENT", xc.ClientID, existing.ID)
				continue
			}
			if err := pi.rq.requireClientTakeover(ctx, existing.ID); err != nil {
				return err
			}
			keep := ""
			if existing.Confidential() {
				keep = existing.Secret
			}
			c, err := pi.buildClient(xc, existing.ID, keep, existing.Attributes)
			if err != nil {
				return err
			}
			if err := tx.UpdateClient(ctx, realmID, c.ID, func(cur *client.Client) error { *cur = c; return nil }); err != nil {
				return err
			}
			if err := pi.linkScopes(ctx, xc, c.ID, false); err != nil {
				return err
			}
			pi.touched = append(pi.touched, c)
			pi.result("OVERWRITTEN", "CLIENT", c.ClientID, c.ID)
		case errors.Is(err, store.ErrNotFound):
			c, err := pi.buildClient(xc, store.NewID(), "", nil)
			if err != nil {
				return err
			}
			if err := tx.CreateClient(ctx, c); err != nil {
				return err
			}
			if err := pi.linkScopes(ctx, xc, c.ID, true); err != nil {
				return err
			}
			pi.touched = append(pi.touched, c)
			pi.result("ADDED", "CLIENT", c.ClientID, c.ID)
		default:
			return err
		}
	}
	return nil
}

// pendingRole is an imported role whose composites are set once every
// imported role exists.
type pendingRole struct {
	id        string
	x         rep.Role
	kids, old []string // composites to set, and those it had
}

// importRole imports one realm role (clientID "") or client role. OVERWRITE
// keeps the role's id and mappings and replaces description, attributes and
// composites.
func (pi *partialImporter) importRole(ctx context.Context, xr rep.Role, c client.Client) (*pendingRole, error) {
	tx, realmID := pi.tx, pi.realm.ID
	typ, name, msg := "REALM_ROLE", xr.Name, "Realm role '"+xr.Name+"' already exists."
	var (
		existing role.Role
		err      error
	)
	if c.ID == "" {
		if xr.Name == "" {
			return nil, badRequest("Realm role to import does not have a name")
		}
		existing, err = tx.GetRealmRole(ctx, realmID, xr.Name)
	} else {
		if xr.Name == "" {
			return nil, badRequest("Client role to import does not have a name")
		}
		typ, name = "CLIENT_ROLE", c.ClientID+"-->"+xr.Name
		msg = "Client role '" + xr.Name + "' for client '" + c.ClientID + "' already exists."
		existing, err = tx.GetClientRole(ctx, realmID, c.ID, xr.Name)
	}
	switch {
	case err == nil:
		overwrite, err := pi.exists(msg)
		if err != nil {
			return nil, err
		}
		admin := false
		if overwrite {
			if admin, err = pi.rq.h.isAdminRole(ctx, existing); err != nil {
				return nil, err
			}
		}
		if !overwrite || admin {
			pi.result("SKIPPED", typ, name, existing.ID)
			return nil, nil
		}
		err = tx.UpdateRole(ctx, realmID, existing.ID, func(r *role.Role) error {
			r.Description, r.Attributes = xr.Description, xr.ToDomain(realmID, c.ID).Attributes
			return nil
		})
		if err != nil {
			return nil, err
		}
		pi.result("OVERWRITTEN", typ, name, existing.ID)
		return &pendingRole{id: existing.ID, x: xr}, nil
	case errors.Is(err, store.ErrNotFound):
		r := xr.ToDomain(realmID, c.ID)
		r.ID = store.NewID()
		if err := r.Validate(); err != nil {
			return nil, badRequest(err.Error())
		}
		if err := tx.CreateRole(ctx, r); err != nil {
			return nil, err
		}
		pi.result("ADDED", typ, name, r.ID)
		return &pendingRole{id: r.ID, x: xr}, nil
	}
	return nil, err
}

// roles imports realm and client roles, then sets the composites of every
// role it wrote, and checks the caller may grant each composite's children:
// a composite is a grant to everyone who holds the parent.
func (pi *partialImporter) roles(ctx context.Context) error {
	if pi.x.Roles == nil {
		return nil
	}
	tx, realmID := pi.tx, pi.realm.ID
	var pending []*pendingRole
	for _, xr := range pi.x.Roles.Realm {
		p, err := pi.importRole(ctx, xr, client.Client{})
		if err != nil {
			return err
		}
		if p != nil {
			pending = append(pending, p)
		}
	}
	for _, clientID := range slices.Sorted(maps.Keys(pi.x.Roles.Client)) {
		c, err := tx.GetClientByClientID(ctx, realmID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return errorMessage(http.StatusPreconditionFailed, "Can not import client roles for nonexistent client named "+clientID)
		}
		if err != nil {
			return err
		}
		for _, xr := range pi.x.Roles.Client[clientID] {
			p, err := pi.importRole(ctx, xr, c)
			if err != nil {
				return err
			}
			if p != nil {
				pending = append(pending, p)
			}
		}
	}
	var granted, withdrawn []string
	for _, p := range pending {
		var kids []string
		if cs := p.x.Composites; cs != nil {
			for _, name := range cs.Realm {
				r, err := tx.GetRealmRole(ctx, realmID, name)
				if errors.Is(err, store.ErrNotFound) {
					return badRequest("Unable to find composite realm role: " + name)
				}
				if err != nil {
					return err
				}
				kids = append(kids, r.ID)
			}
			for _, clientID := range slices.Sorted(maps.Keys(cs.Client)) {
				c, err := tx.GetClientByClientID(ctx, realmID, clientID)
				if errors.Is(err, store.ErrNotFound) {
					return badRequest("Unable to find client for composite role: " + clientID)
				}
				if err != nil {
					return err
				}
				for _, name := range cs.Client[clientID] {
					r, err := tx.GetClientRole(ctx, realmID, c.ID, name)
					if errors.Is(err, store.ErrNotFound) {
						return badRequest("Unable to find composite client role: " + name)
					}
					if err != nil {
						return err
					}
					kids = append(kids, r.ID)
				}
			}
		}
		old, err := tx.ListComposites(ctx, p.id)
		if err != nil {
			return err
		}
		for _, o := range old {
			if !slices.Contains(kids, o.ID) {
				withdrawn = append(withdrawn, o.ID)
			}
		}
		p.kids, p.old = kids, idsOfImportedRoles(old)
		granted = append(granted, kids...)
	}
	// What the overwritten roles stop implying is judged by the composites
	// as they were; what they newly imply, by the composites as written.
	pi.rq.compositesChanged()
	if err := pi.rq.requireConfer(ctx, withdrawn...); err != nil {
		return err
	}
	for _, p := range pending {
		if err := tx.RemoveComposites(ctx, p.id, p.old...); err != nil {
			return err
		}
		if err := tx.AddComposites(ctx, p.id, p.kids...); err != nil {
			return err
		}
	}
	pi.rq.compositesChanged()
	return pi.rq.requireConfer(ctx, granted...)
}

func idsOfImportedRoles(rs []role.Role) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// mappedRoles resolves role names as users and groups carry them: realm
// role names, and client role names by clientId.
func (pi *partialImporter) mappedRoles(ctx context.Context, realmRoles []string, clientRoles map[string][]string) ([]string, error) {
	tx, realmID := pi.tx, pi.realm.ID
	var ids []string
	for _, name := range realmRoles {
		r, err := tx.GetRealmRole(ctx, realmID, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, badRequest("Realm role '" + name + "' does not exist")
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, r.ID)
	}
	for _, clientID := range slices.Sorted(maps.Keys(clientRoles)) {
		c, err := tx.GetClientByClientID(ctx, realmID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, badRequest("Client '" + clientID + "' does not exist")
		}
		if err != nil {
			return nil, err
		}
		for _, name := range clientRoles[clientID] {
			r, err := tx.GetClientRole(ctx, realmID, c.ID, name)
			if errors.Is(err, store.ErrNotFound) {
				return nil, badRequest("Client role '" + name + "' of client '" + clientID + "' does not exist")
			}
			if err != nil {
				return nil, err
			}
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// groups imports top-level groups with their subgroups and role mappings.
// OVERWRITE replaces the whole subtree, memberships included, as Keycloak
// does.
func (pi *partialImporter) groups(ctx context.Context) error {
	tx, realmID := pi.tx, pi.realm.ID
	all, err := tx.ListGroups(ctx, realmID)
	if err != nil {
		return err
	}
	top := map[string]string{} // name → id
	for _, g := range all {
		if g.ParentID == "" {
			top[g.Name] = g.ID
		}
	}
	for _, xg := range pi.x.Groups {
		if xg.Name == "" {
			return badRequest("Group name is missing")
		}
		path := role.GroupPath("", xg.Name)
		action := "ADDED"
		if id, ok := top[xg.Name]; ok {
			overwrite, err := pi.exists("Group '" + path + "' already exists")
			if err != nil {
				return err
			}
			if !overwrite {
				pi.result("SKIPPED", "GROUP", xg.Name, id)
				continue
			}
			if err := adminperm.DeleteGroup(ctx, tx, realmID, id); err != nil {
				return err
			}
			action = "OVERWRITTEN"
		}
		id, err := pi.createGroup(ctx, xg, "")
		if err != nil {
			return err
		}
		top[xg.Name] = id
		pi.result(action, "GROUP", xg.Name, id)
	}
	return nil
}

// identityProviders imports providers (by alias; overwriting one keeps its
// mappers, its users' links and, where the file has the mask, its secret)
// and then mappers (by provider and name), checked as the admin API checks
// them.
func (pi *partialImporter) identityProviders(ctx context.Context) error {
	tx, realmID := pi.tx, pi.realm.ID
	for _, xp := range pi.x.IdentityProviders {
		p := xp.ToDomain()
		old, err := tx.GetIdentityProvider(ctx, realmID, p.Alias)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		p.InternalID = ""
		if exists {
			p.InternalID = old.InternalID
			idp.KeepMaskedSecrets(p.Config, old.Config)
		}
		if err := pi.rq.h.checkIdentityProvider(pi.rq, p); err != nil {
			return err
		}
		if !exists {
			created, err := tx.CreateIdentityProvider(ctx, realmID, p)
			if err != nil {
				return err
			}
			pi.result("ADDED", "IDP", p.Alias, created.InternalID)
			continue
		}
		overwrite, err := pi.exists("Identity Provider '" + p.Alias + "' already exists.")
		if err != nil {
			return err
		}
		if !overwrite {
			pi.result("SKIPPED", "IDP", p.Alias, old.InternalID)
			continue
		}
		if err := tx.UpdateIdentityProvider(ctx, realmID, p.Alias, func(s *idp.Provider) error { *s = p; return nil }); err != nil {
			return err
		}
		pi.result("OVERWRITTEN", "IDP", p.Alias, old.InternalID)
	}
	for _, xm := range pi.x.IdentityProviderMappers {
		m := xm.ToDomain()
		p, err := tx.GetIdentityProvider(ctx, realmID, m.IdentityProviderAlias)
		if errors.Is(err, store.ErrNotFound) {
			return badRequest("Identity provider " + m.IdentityProviderAlias + " not found")
		}
		if err != nil {
			return err
		}
		if err := pi.rq.h.checkIdentityProviderMapper(pi.rq, p, m); err != nil {
			return err
		}
		name := m.IdentityProviderAlias + "/" + m.Name
		cur, err := tx.ListIdentityProviderMappers(ctx, realmID, p.Alias)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cur, func(c idp.Mapper) bool { return c.Name == m.Name })
		if i < 0 {
			m.ID = store.NewID()
			if _, err := tx.CreateIdentityProviderMapper(ctx, realmID, m); err != nil {
				return err
			}
			pi.result("ADDED", "IDP_MAPPER", name, m.ID)
			continue
		}
		overwrite, err := pi.exists("Identity Provider Mapper '" + name + "' already exists.")
		if err != nil {
			return err
		}
		if !overwrite {
			pi.result("SKIPPED", "IDP_MAPPER", name, cur[i].ID)
			continue
		}
		if err := tx.UpdateIdentityProviderMapper(ctx, realmID, cur[i].ID, func(s *idp.Mapper) error { *s = m; return nil }); err != nil {
			return err
		}
		pi.result("OVERWRITTEN", "IDP_MAPPER", name, cur[i].ID)
	}
	return nil
}

func (pi *partialImporter) createGroup(ctx context.Context, xg rep.Group, parentID string) (string, error) {
	g := xg.ToDomain(pi.realm.ID, parentID)
	g.ID = store.NewID()
	if err := g.Validate(); err != nil {
		return "", badRequest(err.Error())
	}
	if err := pi.tx.CreateGroup(ctx, g); err != nil {
		if errors.Is(err, store.ErrConflict) && parentID == "" {
			return "", conflict("Top level group named '%s' already exists.", g.Name)
		}
		if errors.Is(err, store.ErrConflict) {
			return "", conflict("Sibling group named '%s' already exists.", g.Name)
		}
		return "", err
	}
	ids, err := pi.mappedRoles(ctx, xg.RealmRoles, xg.ClientRoles)
	if err != nil {
		return "", err
	}
	if err := pi.rq.requireConfer(ctx, ids...); err != nil {
		return "", err
	}
	if err := pi.tx.AddGroupRoles(ctx, g.ID, ids...); err != nil {
		return "", err
	}
	for _, sub := range xg.SubGroups {
		if _, err := pi.createGroup(ctx, sub, g.ID); err != nil {
			return "", err
		}
	}
	return g.ID, nil
}

// users imports users with their credentials, role mappings and groups.
// OVERWRITE deletes the existing user and creates the imported one, with
// the id the file gives or a new one, as Keycloak does.
func (pi *partialImporter) users(ctx context.Context) error {
	tx, realmID := pi.tx, pi.realm.ID
	for _, xu := range pi.x.Users {
		name := strings.ToLower(strings.TrimSpace(xu.Username))
		if name == "" {
			return badRequest("User name is missing")
		}
		email := ""
		if xu.Email != nil {
			email = *xu.Email
		}
		existing, err := tx.GetUserByUsername(ctx, realmID, name)
		if errors.Is(err, store.ErrNotFound) && email != "" && !pi.realm.DuplicateEmailsAllowed {
			existing, err = tx.GetUserByEmail(ctx, realmID, email)
		}
		action := "ADDED"
		switch {
		case err == nil:
			msg := "User with user name " + name + " already exists."
			if email != "" && pi.realm.DuplicateEmailsAllowed {
				msg = "User with user name " + name + " or with email " + email + " already exists."
			}
			overwrite, err := pi.exists(msg)
			if err != nil {
				return err
			}
			if !overwrite {
				pi.result("SKIPPED", "USER", name, existing.ID)
				continue
			}
			if err := tx.DeleteUser(ctx, realmID, existing.ID); err != nil {
				return err
			}
			action = "OVERWRITTEN"
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		id, err := pi.createUser(ctx, xu)
		if err != nil {
			return err
		}
		pi.result(action, "USER", name, id)
	}
	return nil
}

// createUser creates an imported user through rep.CreateUser, as Keycloak's
// import does (no default role), asking the caller's grant for every role
// the user receives directly or through its groups.
func (pi *partialImporter) createUser(ctx context.Context, xu rep.User) (string, error) {
	u, err := rep.CreateUser(ctx, pi.tx, pi.realm.ID, xu, rep.UserOptions{
		Source: rep.FromImport,
		Now:    pi.rq.Now(),
		Grant:  func(roleIDs []string) error { return pi.rq.requireConfer(ctx, roleIDs...) },
	})
	if err != nil {
		return "", userError(err)
	}
	return u.ID, nil
}

// serviceAccounts gives every imported client with service accounts on the
// service account user the file did not carry.
func (pi *partialImporter) serviceAccounts(ctx context.Context) error {
	for _, c := range pi.touched {
		if c.ServiceAccountsEnabled {
			if err := pi.rq.requireServiceAccount(ctx); err != nil {
				return err
			}
			if err := provision.EnsureServiceAccount(ctx, pi.tx, c, pi.rq.Now()); err != nil {
				return err
			}
		}
	}
	return nil
}

// authz applies the imported clients' authorizationServicesEnabled and
// authorizationSettings, once the users their policies name exist.
func (pi *partialImporter) authz(ctx context.Context) error {
	for _, c := range pi.touched {
		for _, xc := range pi.x.Clients {
			if xc.ClientID == c.ClientID {
				if err := pi.rq.setupAuthz(ctx, pi.tx, &c, xc, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkPolicyString refuses a password policy Gatehouse cannot enforce
// before it is stored, with Keycloak's message, so no later password
// change fails on it.
func checkPolicyString(p *string) error {
	if p == nil || *p == "" {
		return nil
	}
	if err := user.ValidatePolicyString(*p); err != nil {
		return badRequest(err.Error())
	}
	return nil
}
