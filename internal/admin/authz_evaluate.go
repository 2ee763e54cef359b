package admin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// authzEvaluateRoutes serves the Authorization tab's "Evaluate": the decision the evaluator
// takes for a user (or the client alone) on some or all resources of a resource server, with
// the effect of every permission and policy involved. It stores nothing.
func (h *Handler) authzEvaluateRoutes(mux Mux) {
	var a authzAPI
	h.handle(mux, "POST "+authzBase+"/policy/evaluate", "", a.view(authzEvaluate))
	h.handle(mux, "POST "+authzBase+"/permission/evaluate", "", a.view(authzEvaluate))
}

// evaluationRequest is Keycloak's PolicyEvaluationRequest.
type evaluationRequest struct {
	Context      map[string]map[string]string `json:"context"`
	Resources    []authz.ResourceRep          `json:"resources"`
	ResourceType string                       `json:"resourceType"`
	ClientID     string                       `json:"clientId"`
	UserID       string                       `json:"userId"`
	RoleIDs      []string                     `json:"roleIds"`
	Entitlements bool                         `json:"entitlements"`
}

// evaluationResponse is Keycloak's PolicyEvaluationResponse.
type evaluationResponse struct {
	Results      []evaluationResult `json:"results"`
	Entitlements bool               `json:"entitlements"`
	Status       string             `json:"status"`
	RPT          map[string]any     `json:"rpt"`
}

type evaluationResult struct {
	Resource      evaluatedResource `json:"resource"`
	Scopes        []authz.ScopeRep  `json:"scopes"`
	Policies      []policyResultRep `json:"policies"`
	Status        string            `json:"status"`
	AllowedScopes []authz.ScopeRep  `json:"allowedScopes"`
}

type evaluatedResource struct {
	ID                 string `json:"_id,omitempty"`
	Name               string `json:"name"`
	OwnerManagedAccess bool   `json:"ownerManagedAccess"`
}

type policyResultRep struct {
	Policy             evaluatedPolicy   `json:"policy"`
	Status             string            `json:"status"`
	AssociatedPolicies []policyResultRep `json:"associatedPolicies"`
	Scopes             []string          `json:"scopes"`
}

type evaluatedPolicy struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	Type             string            `json:"type"`
	Resources        []string          `json:"resources"`
	Scopes           []string          `json:"scopes"`
	Logic            string            `json:"logic"`
	DecisionStrategy string            `json:"decisionStrategy"`
	Config           map[string]string `json:"config"`
}

func authzEvaluate(z *authzReq) error {
	rq, c := z.Request, z.client
	ctx := rq.R.Context()
	db := rq.h.Store
	engine, err := decide.LoadEngine(ctx, db, rq.Realm.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errNoResourceServer
	}
	if err != nil {
		return err
	}
	var in evaluationRequest
	if err := rq.decode(&in); err != nil {
		return err
	}
	acting := c
	if in.ClientID != "" && in.ClientID != c.ID {
		if acting, err = db.GetClient(ctx, rq.Realm.ID, in.ClientID); errors.Is(err, store.ErrNotFound) {
			return badRequest("Client not found")
		} else if err != nil {
			return err
		}
	}
	attrs := map[string][]string{}
	for k, v := range in.Context["attributes"] {
		attrs[k] = strings.Split(v, ",")
	}
	u, found, err := evaluationUser(ctx, db, rq.Realm.ID, acting, in.UserID)
	if err != nil {
		return err
	}
	now := rq.Now()
	var claims map[string]any
	var id decide.Identity
	if found {
		if claims, err = exampleAccessClaims(rq, acting, u); err != nil {
			return err
		}
		id, err = decide.LoadIdentity(ctx, db, decide.Subject{Realm: rq.Realm, Client: acting, User: u, Claims: claims, Attributes: attrs, Now: now})
		if err != nil {
			return err
		}
	} else {
		// Nobody to act for: the client alone, without roles.
		claims = map[string]any{"azp": acting.ClientID, "iss": rq.h.URLs.RealmURL(rq.R, rq.Realm.Name),
			"realm_access": map[string]any{"roles": []string{}}}
		if in.UserID != "" {
			claims["sub"] = in.UserID
		}
		id = decide.Identity{ClientID: acting.ID, RoleIDs: map[string]bool{}, Claims: claims, Now: now,
			Attributes: map[string][]string{"kc.client.id": {acting.ClientID}, "kc.realm.name": {rq.Realm.Name}}}
		for k, v := range attrs {
			id.Attributes[k] = v
		}
	}
	if err := evaluationRoles(ctx, db, rq.Realm.ID, &id, found, u, in.RoleIDs); err != nil {
		return err
	}
	req := evaluationRequested(engine.Model(), in)
	res := engine.Explain(id, req)
	return rq.JSON(evaluationAnswer(engine.Model(), c, claims, res))
}

// evaluationUser finds the user to evaluate for, by id or username; without one, the acting
// client's service account stands in, as for a token the client obtained alone.
func evaluationUser(ctx context.Context, db *store.DB, realmID string, acting client.Client, ref string) (user.User, bool, error) {
	if ref != "" {
		u, err := db.GetUser(ctx, realmID, ref)
		if errors.Is(err, store.ErrNotFound) {
			u, err = db.GetUserByUsername(ctx, realmID, ref)
		}
		if err == nil {
			return u, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return u, false, err
		}
	}
	u, err := db.GetServiceAccount(ctx, realmID, acting.ID)
	if errors.Is(err, store.ErrNotFound) {
		return u, false, nil
	}
	return u, err == nil, err
}

// evaluationRoles adds the roles the evaluation counts besides those of the token: the roles
// the request names (by id, or realm roles by name) or, without any, the user's direct role
// mappings whatever the client's role scope.
func evaluationRoles(ctx context.Context, db *store.DB, realmID string, id *decide.Identity, found bool, u user.User, refs []string) error {
	if id.RoleIDs == nil {
		id.RoleIDs = map[string]bool{}
	}
	if len(refs) == 0 {
		if !found {
			return nil
		}
		direct, err := db.ListUserRoles(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, r := range direct {
			id.RoleIDs[r.ID] = true
		}
		return nil
	}
	for _, ref := range refs {
		r, err := db.GetRole(ctx, realmID, ref)
		if errors.Is(err, store.ErrNotFound) {
			r, err = db.GetRealmRole(ctx, realmID, ref)
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		id.RoleIDs[r.ID] = true
	}
	return nil
}

// exampleAccessClaims are the claims of the access token the acting client would get for the
// user with its default scopes, the RPT the answer shows (see the evaluate-scopes example).
func exampleAccessClaims(rq *Request, c client.Client, u user.User) (map[string]any, error) {
	ctx := rq.R.Context()
	sr, err := grant.ResolveScopes(ctx, rq.h.Store, rq.Realm, c, "")
	if err != nil && !errors.Is(err, grant.ErrInvalidScope) {
		return nil, err
	}
	acc, err := grant.Resolve(ctx, rq.h.Store, rq.Realm, c, u, sr)
	if err != nil {
		return nil, err
	}
	now := rq.Now()
	nowS := now.Unix()
	us := session.UserSession{ID: store.NewID(), RealmID: rq.Realm.ID, UserID: u.ID,
		Started: nowS, LastRefresh: nowS, AuthTime: nowS, AuthMethod: "openid-connect", IPAddress: remoteIP(rq.R)}
	cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID, Started: nowS, Timestamp: nowS}
	claims := token.Access(token.Input{
		Issuer: rq.h.URLs.RealmURL(rq.R, rq.Realm.Name), Realm: rq.Realm, Client: c, User: u,
		UserSession: us, ClientSession: cs, Scopes: acc.Scopes, RealmRoles: acc.RealmRoles, ClientRoles: acc.ClientRoles,
		Groups: acc.Groups, Now: now, AccessExp: session.AccessExpiry(rq.Realm, c, us, nowS), ACR: "1",
		AllowedOrigins: c.AllowedOrigins(rq.h.URLs.Base(rq.R)),
	})
	return claims, nil
}

// evaluationRequested turns the request's resources into the evaluator's: by id, by name (the
// server's resource), by type (every resource of it), or by scopes alone (every resource with
// one of them, or the scopes on no resource when none has them). No resource means all.
func evaluationRequested(m authz.Model, in evaluationRequest) []decide.Requested {
	var out []decide.Requested
	for _, r := range in.Resources {
		var scopes []string
		for _, s := range r.Scopes {
			scopes = append(scopes, s.Name)
		}
		switch {
		case r.ID != "":
			out = append(out, decide.Requested{ResourceID: r.ID, Scopes: scopes})
		case r.Name != "":
			for _, x := range m.Resources {
				if x.Name == r.Name && (x.Owner == m.Server.ID || x.Owner == "") {
					out = append(out, decide.Requested{ResourceID: x.ID, Scopes: scopes})
				}
			}
		case r.Type != "":
			for _, x := range m.Resources {
				if x.Type == r.Type {
					out = append(out, decide.Requested{ResourceID: x.ID, Scopes: scopes})
				}
			}
		case len(scopes) > 0:
			ids := map[string]bool{}
			for _, s := range m.Scopes {
				for _, n := range scopes {
					if s.Name == n {
						ids[s.ID] = true
					}
				}
			}
			matched := false
			for _, x := range m.Resources {
				for _, sid := range x.ScopeIDs {
					if ids[sid] {
						out = append(out, decide.Requested{ResourceID: x.ID, Scopes: scopes})
						matched = true
						break
					}
				}
			}
			if !matched {
				for _, n := range scopes {
					out = append(out, decide.Requested{Scopes: []string{n}})
				}
			}
		}
	}
	if len(in.Resources) > 0 && len(out) == 0 {
		// Resources were named but none exists: nothing to decide (not everything).
		return []decide.Requested{{ResourceID: "\x00none"}}
	}
	return out
}

// evaluationAnswer renders the decision as Keycloak's evaluation response: one result per
// resource with the scopes decided, the permissions and policies with their effects, and the
// RPT the user would receive.
func evaluationAnswer(m authz.Model, c client.Client, claims map[string]any, res decide.Result) evaluationResponse {
	resByID := make(map[string]authz.Resource, len(m.Resources))
	for _, r := range m.Resources {
		resByID[r.ID] = r
	}
	scopeByID := make(map[string]authz.Scope, len(m.Scopes))
	for _, s := range m.Scopes {
		scopeByID[s.ID] = s
	}
	polByID := make(map[string]authz.Policy, len(m.Policies))
	for _, p := range m.Policies {
		polByID[p.ID] = p
	}
	scopeNames := func(ids []string) []string {
		out := []string{}
		for _, id := range ids {
			if s, ok := scopeByID[id]; ok {
				out = append(out, s.Name)
			}
		}
		sort.Strings(out)
		return out
	}
	var policyRep func(pr decide.PolicyResult, r authz.Resource) policyResultRep
	policyRep = func(pr decide.PolicyResult, r authz.Resource) policyResultRep {
		p := polByID[pr.PolicyID]
		ep := evaluatedPolicy{ID: p.ID, Name: p.Name, Description: p.Description, Type: p.Type,
			Resources: []string{}, Scopes: scopeNames(p.ScopeIDs), Logic: authz.Positive,
			DecisionStrategy: p.DecisionStrategy, Config: map[string]string{}}
		if ep.DecisionStrategy == "" {
			ep.DecisionStrategy = authz.Unanimous
		}
		for _, rid := range p.ResourceIDs {
			if x, ok := resByID[rid]; ok {
				ep.Resources = append(ep.Resources, x.Name)
			}
		}
		if p.Type == "resource" {
			// A resource permission is shown with the scopes of the resource it decided.
			ep.Scopes = scopeNames(r.ScopeIDs)
		}
		out := policyResultRep{Policy: ep, Status: pr.Effect, AssociatedPolicies: []policyResultRep{}, Scopes: []string{}}
		if pr.Effect == decide.Deny {
			out.Scopes = ep.Scopes
		}
		for _, a := range pr.Associated {
			out.AssociatedPolicies = append(out.AssociatedPolicies, policyRep(a, r))
		}
		return out
	}
	resp := evaluationResponse{Results: []evaluationResult{}, Status: decide.Permit}
	for _, rr := range res.Resources {
		r := resByID[rr.ResourceID]
		er := evaluationResult{Status: rr.Effect, Scopes: []authz.ScopeRep{}, Policies: []policyResultRep{}, AllowedScopes: []authz.ScopeRep{}}
		var names []string
		for _, sid := range rr.ScopeIDs {
			s := scopeByID[sid]
			er.Scopes = append(er.Scopes, authz.ScopeRep{ID: s.ID, Name: s.Name})
			names = append(names, s.Name)
		}
		list := "[" + strings.Join(names, ", ") + "]"
		switch {
		case rr.ResourceID == "":
			er.Resource = evaluatedResource{Name: "Any Resource with Scopes " + list}
		case len(names) > 0:
			er.Resource = evaluatedResource{ID: r.ID, Name: r.Name + " with scopes " + list}
		default:
			er.Resource = evaluatedResource{ID: r.ID, Name: r.Name}
		}
		if rr.Effect == decide.Permit {
			er.AllowedScopes = er.Scopes
		} else {
			resp.Status = decide.Deny
		}
		for _, pr := range rr.Policies {
			er.Policies = append(er.Policies, policyRep(pr, r))
		}
		resp.Results = append(resp.Results, er)
	}
	sort.SliceStable(resp.Results, func(i, j int) bool { return resp.Results[i].Resource.Name < resp.Results[j].Resource.Name })

	rpt := make(map[string]any, len(claims)+2)
	for k, v := range claims {
		rpt[k] = v
	}
	perms := []map[string]any{}
	for _, p := range res.Permissions {
		e := map[string]any{}
		if p.ResourceID != "" {
			e["rsid"], e["rsname"] = p.ResourceID, p.ResourceName
		}
		if len(p.Scopes) > 0 {
			e["scopes"] = p.Scopes
		}
		perms = append(perms, e)
	}
	rpt["authorization"] = map[string]any{"permissions": perms}
	rpt["aud"] = withAudience(rpt["aud"], c.ClientID)
	resp.RPT = rpt
	return resp
}

// withAudience adds a client to a token's aud claim (a string or a list) unless present.
func withAudience(aud any, clientID string) any {
	switch v := aud.(type) {
	case nil:
		return clientID
	case string:
		if v == clientID || v == "" {
			return clientID
		}
		return []string{v, clientID}
	case []string:
		for _, a := range v {
			if a == clientID {
				return v
			}
		}
		return append(append([]string(nil), v...), clientID)
	default:
		return fmt.Sprint(v)
	}
}
