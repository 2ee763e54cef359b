package admin

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// evaluateRoutes serves the client's "Client scopes → Evaluate" tab
// (/clients/{id}/evaluate-scopes): which mappers and roles a token for the
// client would carry for a scope parameter, and example tokens for a user.
// The examples are built by grant and token, the code the token endpoint
// runs, so they show what a real token would contain; nothing is stored.
func (h *Handler) evaluateRoutes(mux Mux) {
	var a clientsAPI
	const ev = "/admin/realms/{realm}/clients/{id}/evaluate-scopes"
	h.handle(mux, "GET "+ev+"/protocol-mappers", clientView, a.evalMappers)
	h.handle(mux, "GET "+ev+"/scope-mappings/{container}/granted", clientView, a.evalRoles(true))
	h.handle(mux, "GET "+ev+"/scope-mappings/{container}/not-granted", clientView, a.evalRoles(false))
	// An example token shows a user's claims: fine-grained permissions on
	// the client alone do not open them.
	h.handle(mux, "GET "+ev+"/generate-example-access-token", "view-clients", a.example(token.TypeBearer))
	h.handle(mux, "GET "+ev+"/generate-example-id-token", "view-clients", a.example(token.TypeID))
	h.handle(mux, "GET "+ev+"/generate-example-userinfo", "view-clients", a.example("userinfo"))
}

// evalScopes resolves the scope parameter as the token endpoint would. A
// scope the client does not have is left out, as Keycloak's evaluation does,
// rather than refused.
func (a clientsAPI) evalScopes(rq *Request, c client.Client) (grant.Scopes, error) {
	s, err := grant.ResolveScopes(rq.R.Context(), rq.h.Store, rq.Realm, c, rq.R.URL.Query().Get("scope"))
	if errors.Is(err, grant.ErrInvalidScope) {
		err = nil
	}
	return s, err
}

// mapperEvaluation is Keycloak's ProtocolMapperEvaluationRepresentation.
type mapperEvaluation struct {
	MapperID       string `json:"mapperId"`
	MapperName     string `json:"mapperName"`
	ContainerID    string `json:"containerId"`
	ContainerName  string `json:"containerName"`
	ContainerType  string `json:"containerType"`
	ProtocolMapper string `json:"protocolMapper"`
}

func (a clientsAPI) evalMappers(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	s, err := a.evalScopes(rq, c)
	if err != nil {
		return err
	}
	protocol := c.Protocol
	if protocol == "" {
		protocol = "openid-connect"
	}
	out := []mapperEvaluation{}
	add := func(ms []client.ProtocolMapper, id, name, typ string) {
		for _, m := range ms {
			if m.Protocol != "" && m.Protocol != protocol {
				continue
			}
			out = append(out, mapperEvaluation{MapperID: m.ID, MapperName: m.Name, ContainerID: id,
				ContainerName: name, ContainerType: typ, ProtocolMapper: m.ProtocolMapper})
		}
	}
	add(c.ProtocolMappers, c.ID, "", "client")
	for _, sc := range s.Scopes {
		add(sc.ProtocolMappers, sc.ID, sc.Name, "client-scope")
	}
	return rq.JSON(out)
}

// evalRoles lists the roles of a container (the realm, named by its name,
// or a client, by its id) that a token for the client may carry (granted)
// or may not (not granted).
func (a clientsAPI) evalRoles(granted bool) endpoint {
	return func(rq *Request) error {
		c, err := a.load(rq)
		if err != nil {
			return err
		}
		ctx := rq.R.Context()
		var roles []role.Role
		container := rq.R.PathValue("container")
		if container == rq.Realm.Name {
			roles, err = rq.h.Store.ListRealmRoles(ctx, rq.Realm.ID)
		} else {
			if _, err := rq.h.Store.GetClient(ctx, rq.Realm.ID, container); errors.Is(err, store.ErrNotFound) {
				return notFound("Role Container not found")
			} else if err != nil {
				return err
			}
			roles, err = rq.h.Store.ListClientRoles(ctx, rq.Realm.ID, container)
		}
		if err != nil {
			return err
		}
		s, err := a.evalScopes(rq, c)
		if err != nil {
			return err
		}
		in, err := grant.InScopeRoles(ctx, rq.h.Store, rq.Realm, c, s, roles)
		if err != nil {
			return err
		}
		graph, err := rq.h.Store.CompositeGraph(ctx, rq.Realm.ID)
		if err != nil {
			return err
		}
		out := []rep.Role{}
		for _, r := range roles {
			if in[r.ID] == granted {
				out = append(out, rep.RoleFromDomain(r, len(graph[r.ID]) > 0))
			}
		}
		return rq.JSON(out)
	}
}

// example builds the claims of an example token of the given type
// (token.TypeBearer, token.TypeID, or "userinfo") for the user named by the
// userId parameter, on a session that exists only for this answer.
func (a clientsAPI) example(kind string) endpoint {
	return func(rq *Request) error {
		c, err := a.load(rq)
		if err != nil {
			return err
		}
		userID := rq.R.URL.Query().Get("userId")
		if userID == "" {
			return notFound("No userId provided")
		}
		ctx := rq.R.Context()
		u, err := rq.h.Store.GetUser(ctx, rq.Realm.ID, userID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("No user found")
		}
		if err != nil {
			return err
		}
		s, err := a.evalScopes(rq, c)
		if err != nil {
			return err
		}
		acc, err := grant.Resolve(ctx, rq.h.Store, rq.Realm, c, u, s)
		if err != nil {
			return err
		}
		now := rq.Now()
		nowS := now.Unix()
		us := session.UserSession{ID: store.NewID(), RealmID: rq.Realm.ID, UserID: u.ID,
			Started: nowS, LastRefresh: nowS, AuthTime: nowS, AuthMethod: "openid-connect",
			IPAddress: remoteIP(rq.R)}
		cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID,
			Started: nowS, Timestamp: nowS, Scope: rq.R.URL.Query().Get("scope")}
		in := token.Input{
			Issuer: rq.h.URLs.RealmURL(rq.R, rq.Realm.Name), Realm: rq.Realm, Client: c, User: u,
			UserSession: us, ClientSession: cs, Scopes: acc.Scopes, RealmRoles: acc.RealmRoles, ClientRoles: acc.ClientRoles,
			Groups: acc.Groups, Now: now, AccessExp: session.AccessExpiry(rq.Realm, c, us, nowS), ACR: "1",
			AllowedOrigins: c.AllowedOrigins(rq.h.URLs.Base(rq.R)),
		}
		switch kind {
		case token.TypeID:
			return rq.JSON(token.ID(in, ""))
		case "userinfo":
			return rq.JSON(token.Userinfo(in))
		}
		return rq.JSON(token.Access(in))
	}
}
