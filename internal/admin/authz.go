package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The authorization services of a client: its resource server's settings,
// resources, scopes, policies and permissions, under
// /admin/realms/{realm}/clients/{id}/authz/resource-server. Evaluation
// and permission tickets are served beside these, in their own files.

// authzBase is the path of a client's resource server.
const authzBase = "/admin/realms/{realm}/clients/{id}/authz/resource-server"

type authzAPI struct{}

func (h *Handler) authzRoutes(mux Mux) {
	var a authzAPI
	const b = authzBase
	h.handle(mux, "GET "+b, "", a.view(a.getServer))
	h.handle(mux, "PUT "+b, "", a.manage(a.putServer))
	h.handle(mux, "POST "+b+"/import", "", a.manage(a.importSettings))
	h.handle(mux, "GET "+b+"/settings", "", a.manage(a.exportSettings))
	h.authzResourceRoutes(mux, a)
	h.authzPolicyRoutes(mux, a)
}

// authzReq is one call on a resource server: the client, its server, and
// (loaded on first use) what it holds and the realm's directory.
type authzReq struct {
	*Request
	client client.Client
	server authz.ResourceServer
	ix     *authz.Index
	dir    authz.Directory
}

// Who may see and change authorization settings: the realm-management
// roles for authorization, or those for clients, as Keycloak decides
// while fine-grained admin permissions are off.
func canViewAuthz(rq *Request) bool {
	return rq.Can("view-authorization") || rq.Can("view-clients")
}

func canManageAuthz(rq *Request) bool {
	return rq.Can("manage-authorization") || rq.Can("manage-clients")
}

func (a authzAPI) view(fn func(z *authzReq) error) endpoint { return a.with(canViewAuthz, fn) }

// manage also keeps the realm's admin client to whole-realm administrators:
// its policies are the fine-grained admin permissions (package adminperm),
// and whoever writes them decides who administers users and groups, as
// whoever changes that client decides who is an administrator
// (reservedClientID). Keycloak lets manage-clients write them.
func (a authzAPI) manage(fn func(z *authzReq) error) endpoint {
	return a.with(canManageAuthz, func(z *authzReq) error {
		if reservedClientID(z.Realm, z.client.ClientID) && !wholeRealmAdmin(z.Request) {
			return errForbidden
		}
		return fn(z)
	})
}

// errNoResourceServer is a client without authorization services.
var errNoResourceServer = &web.Error{Status: http.StatusNotFound, Body: map[string]string{"error": "HTTP 404 Not Found"}}

// errNotFoundBare is the bodiless 404 of a missing resource, scope or policy.
var errNotFoundBare = &web.Error{Status: http.StatusNotFound}

func (authzAPI) with(allowed func(*Request) bool, fn func(z *authzReq) error) endpoint {
	return func(rq *Request) error {
		if !allowed(rq) {
			return errForbidden
		}
		c, err := clientsAPI{}.load(rq)
		if err != nil {
			return err
		}
		s, err := rq.h.Store.GetResourceServer(rq.R.Context(), rq.Realm.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return errNoResourceServer
		}
		if err != nil {
			return err
		}
		return fn(&authzReq{Request: rq, client: c, server: s})
	}
}

// index is the server's model, read once per request.
func (z *authzReq) index() (*authz.Index, error) {
	if z.ix != nil {
		return z.ix, nil
	}
	m, err := z.h.Store.LoadAuthzModel(z.R.Context(), z.Realm.ID, z.server.ID)
	if err != nil {
		return nil, err
	}
	z.ix = authz.NewIndex(m)
	return z.ix, nil
}

func (z *authzReq) directory() (authz.Directory, error) {
	if z.dir != nil {
		return z.dir, nil
	}
	d, err := z.h.Store.AuthzDirectory(z.R.Context(), z.Realm.ID)
	if err != nil {
		return nil, err
	}
	z.dir = d
	return d, nil
}

// authzError turns a refusal of the model or the store into the admin
// API's answer.
func authzError(err error) error {
	var ae *authz.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return badRequest(ae.Msg)
	case errors.Is(err, store.ErrScopeInUse):
		return badRequest("Scopes can not be removed while associated with resources.")
	case errors.Is(err, store.ErrNotFound):
		return errNotFoundBare
	}
	return err
}

// serverRep is the resource server as GET shows it: id and clientId are
// the client's internal id, name its clientId.
func serverRep(c client.Client, s authz.ResourceServer) authz.ServerRep {
	return authz.ServerRep{ID: s.ID, ClientID: c.ID, Name: c.ClientID, AllowRemoteResourceManagement: s.AllowRemoteResourceManagement,
		PolicyEnforcementMode: s.PolicyEnforcementMode, DecisionStrategy: s.DecisionStrategy, AuthorizationSchema: s.AuthorizationSchema,
		Resources: []authz.ResourceRep{}, Policies: []authz.PolicyRep{}, Scopes: []authz.ScopeRep{}}
}

func (authzAPI) getServer(z *authzReq) error { return z.JSON(serverRep(z.client, z.server)) }

// putServer is PUT .../resource-server: the enforcement mode, decision
// strategy and remote resource management; the schema is kept.
func (authzAPI) putServer(z *authzReq) error {
	var x authz.ServerRep
	if err := z.decode(&x); err != nil {
		return err
	}
	s := z.server
	s.AllowRemoteResourceManagement, s.PolicyEnforcementMode, s.DecisionStrategy = x.AllowRemoteResourceManagement, x.PolicyEnforcementMode, x.DecisionStrategy
	if s.DecisionStrategy == "" {
		s.DecisionStrategy = authz.Unanimous
	}
	if err := authz.ValidateServer(s); err != nil {
		return authzError(err)
	}
	if err := z.h.Store.PutResourceServer(z.R.Context(), s); err != nil {
		return err
	}
	return z.NoContent()
}

// exportSettings is GET .../settings: everything the server holds, by
// name, as a realm export carries it in the client's authorizationSettings.
func (authzAPI) exportSettings(z *authzReq) error {
	ix, err := z.index()
	if err != nil {
		return err
	}
	dir, err := z.directory()
	if err != nil {
		return err
	}
	return z.JSON(rep.ExportAuthz(z.server, ix, dir))
}

// importSettings is POST .../import: the settings replace the server's;
// scopes, resources and policies are created, or updated when one of the
// same name exists. Everything lands or nothing does.
func (authzAPI) importSettings(z *authzReq) error {
	var x authz.ServerRep
	if err := z.decode(&x); err != nil {
		return err
	}
	err := z.h.Store.InTx(z.R.Context(), func(tx *store.DB) error {
		dir, err := tx.AuthzDirectory(z.R.Context(), z.Realm.ID)
		if err != nil {
			return err
		}
		return rep.ImportAuthz(z.R.Context(), tx, z.server, x, dir)
	})
	if err != nil {
		return authzError(err)
	}
	return z.NoContent()
}

// isResourceServer reports whether the client with internal id is a
// resource server, from one read of the realm's servers per request.
func (rq *Request) isResourceServer(id string) bool {
	if rq.resourceServers == nil {
		rq.resourceServers = map[string]bool{}
		ids, err := rq.h.Store.ListResourceServers(rq.R.Context(), rq.Realm.ID)
		if err != nil {
			rq.h.Log.WarnContext(rq.R.Context(), "list resource servers", "err", err)
		}
		for _, s := range ids {
			rq.resourceServers[s] = true
		}
	}
	return rq.resourceServers[id]
}

// setupAuthz applies a client representation's authorizationServicesEnabled
// (true makes the client a resource server; false removes its server with
// all it holds) and authorizationSettings, inside the transaction that
// stores the client. c is updated when service accounts had to be turned on.
// With defaults, a new resource server starts with the default resource,
// policy and permission (turning authorization on); without (a partial
// import), it starts empty and the settings given fill it.
func (rq *Request) setupAuthz(ctx context.Context, tx *store.DB, c *client.Client, x rep.Client, defaults bool) error {
	if x.AuthorizationServicesEnabled == nil {
		return nil
	}
	if !*x.AuthorizationServicesEnabled {
		err := tx.DeleteResourceServer(ctx, rq.Realm.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if !c.ServiceAccountsEnabled && rq.Caller != nil {
		// The service account that comes with it holds roles too.
		if err := rq.requireServiceAccount(ctx); err != nil {
			return err
		}
	}
	enable := provision.ImportAuthorization
	if defaults {
		enable = provision.EnableAuthorization
	}
	if adminperm.IsManagementClient(rq.Realm, c.ClientID) {
		// The realm's admin client holds the fine-grained admin
		// permissions: a resource server of its own kind, bearer-only and
		// without a service account.
		enable = func(ctx context.Context, tx *store.DB, c *client.Client, _ time.Time) error {
			return adminperm.EnsureServer(ctx, tx, c.RealmID, c.ID)
		}
	}
	if err := enable(ctx, tx, c, rq.Now()); err != nil {
		if errors.Is(err, provision.ErrPublicResourceServer) {
			return badRequest(err.Error())
		}
		return err
	}
	if x.AuthorizationSettings == nil {
		return nil
	}
	s, err := tx.GetResourceServer(ctx, rq.Realm.ID, c.ID)
	if err != nil {
		return err
	}
	dir, err := tx.AuthzDirectory(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	return authzError(rep.ImportAuthz(ctx, tx, s, *x.AuthorizationSettings, dir))
}
