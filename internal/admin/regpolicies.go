package admin

import (
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/regpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Client registration policies are components of the realm (package
// regpolicy) kept in its settings; the components API lists and changes
// them beside the key providers.

func (h *Handler) regPolicyRoutes(mux Mux) {
	h.handle(mux, "GET /admin/realms/{realm}/client-registration-policy/providers", "view-realm", func(rq *Request) error {
		return rq.JSON(regpolicy.Providers())
	})
}

func policyComponent(r realm.Realm, p realm.RegistrationPolicy) componentRep {
	cfg := p.Config
	if cfg == nil {
		cfg = map[string][]string{}
	}
	return componentRep{ID: p.ID, Name: p.Name, ProviderID: p.ProviderID, ProviderType: regpolicy.ProviderType,
		ParentID: r.ID, SubType: p.SubType, Config: cfg}
}

// listPolicies answers the realm's policies that the list query selects.
func listPolicies(rq *Request) []componentRep {
	q := rq.R.URL.Query()
	out := []componentRep{}
	if t := q.Get("type"); t != "" && t != regpolicy.ProviderType {
		return out
	}
	for _, p := range regpolicy.Of(rq.Realm) {
		if n := q.Get("name"); n != "" && n != p.Name {
			continue
		}
		out = append(out, policyComponent(rq.Realm, p))
	}
	return out
}

// findPolicy returns the index of the policy with the path's id, or -1.
func findPolicy(ps []realm.RegistrationPolicy, id string) int {
	return slices.IndexFunc(ps, func(p realm.RegistrationPolicy) bool { return p.ID == id })
}

func checkPolicy(p realm.RegistrationPolicy) error {
	if err := regpolicy.Validate(p); err != nil {
		return badRequest(err.Error())
	}
	return nil
}

// editPolicies changes the realm's policies under its row lock.
func (h *Handler) editPolicies(rq *Request, edit func([]realm.RegistrationPolicy) ([]realm.RegistrationPolicy, error)) error {
	return h.Store.UpdateRealm(rq.R.Context(), rq.Realm.ID, func(r *realm.Realm) error {
		ps, err := edit(slices.Clone(regpolicy.Of(*r)))
		if err != nil {
			return err
		}
		r.RegistrationPolicies = ps
		return nil
	})
}

func (h *Handler) createPolicy(rq *Request, in componentRep) error {
	p := realm.RegistrationPolicy{ID: store.NewID(), Name: in.Name, ProviderID: in.ProviderID, SubType: in.SubType, Config: in.Config}
	if p.Name == "" {
		p.Name = p.ProviderID
	}
	if err := checkPolicy(p); err != nil {
		return err
	}
	err := h.editPolicies(rq, func(ps []realm.RegistrationPolicy) ([]realm.RegistrationPolicy, error) {
		return append(ps, p), nil
	})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/components/" + p.ID))
}

// withPolicy runs edit over the realm's policies and the index of the one
// with the path's id, under the realm's row lock; it answers false when no
// policy has that id (the id may be a key's).
func (h *Handler) withPolicy(rq *Request, edit func(ps []realm.RegistrationPolicy, i int) ([]realm.RegistrationPolicy, error)) (bool, error) {
	id := rq.R.PathValue("id")
	if findPolicy(regpolicy.Of(rq.Realm), id) < 0 {
		return false, nil
	}
	return true, h.editPolicies(rq, func(ps []realm.RegistrationPolicy) ([]realm.RegistrationPolicy, error) {
		i := findPolicy(ps, id)
		if i < 0 {
			return nil, errComponentNotFound
		}
		return edit(ps, i)
	})
}

func (h *Handler) updatePolicy(rq *Request, in componentRep) (bool, error) {
	return h.withPolicy(rq, func(ps []realm.RegistrationPolicy, i int) ([]realm.RegistrationPolicy, error) {
		p := ps[i]
		if in.ProviderID != "" && in.ProviderID != p.ProviderID {
			return nil, badRequest("The providerId of a component cannot change")
		}
		if in.Name != "" {
			p.Name = in.Name
		}
		if in.SubType != "" {
			p.SubType = in.SubType
		}
		if in.Config != nil {
			p.Config = in.Config
		}
		if err := checkPolicy(p); err != nil {
			return nil, err
		}
		ps[i] = p
		return ps, nil
	})
}

func (h *Handler) deletePolicy(rq *Request) (bool, error) {
	return h.withPolicy(rq, func(ps []realm.RegistrationPolicy, i int) ([]realm.RegistrationPolicy, error) {
		return slices.Delete(ps, i, i+1), nil
	})
}

// policySubType is which of the realm's policies govern the call: a
// user's token or an initial access token is authenticated, no token
// anonymous, and a registration access token as the client was registered.
func (c *regCall) policySubType() string {
	switch {
	case c.caller, c.tok.Typ == token.TypeInitialAccess:
		return regpolicy.Authenticated
	case c.tok.Typ == token.TypeRegistrationAccess:
		if a, _ := c.tok.Raw["registration_auth"].(string); a == regpolicy.Anonymous {
			return regpolicy.Anonymous
		}
		return regpolicy.Authenticated
	}
	return regpolicy.Anonymous
}

// checkPolicies runs the realm's registration policies of sub over the
// call: x is the client sent (nil to read or delete), cur the client
// before an update, read or delete (nil to register). A client being
// registered is then shaped by the policies (consent required, no full
// scope, disabled).
func (h *Handler) checkPolicies(c *regCall, sub string, x *rep.Client, cur *client.Client) error {
	ctx := c.rq.R.Context()
	ps := regpolicy.Of(c.rq.Realm)
	call := regpolicy.Call{SubType: sub, RemoteIP: web.ClientIP(c.rq.R), Update: cur != nil}
	if x != nil {
		call.Client = policyClient(*x)
		if cur == nil {
			cs, err := h.Store.ListClients(ctx, c.rq.Realm.ID)
			if err != nil {
				return err
			}
			call.ClientCount = len(cs)
		} else {
			was := *cur
			call.Was = func() (bool, bool, bool) { return was.ConsentRequired, was.FullScopeAllowed, was.Enabled }
		}
		names, err := realmScopeNames(ctx, h.Store, c.rq.Realm.ID)
		if err != nil {
			return err
		}
		call.RealmScopes = names
	}
	if err := regpolicy.Check(ps, call); err != nil {
		return regForbidden(err.Error())
	}
	if x != nil && cur == nil {
		consent, noFull, disabled := regpolicy.Shape(ps, sub)
		if consent {
			x.ConsentRequired = new(true)
		}
		if noFull {
			x.FullScopeAllowed = new(false)
		}
		if disabled {
			x.Enabled = new(false)
		}
	}
	return nil
}

func policyClient(x rep.Client) *regpolicy.Client {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	pc := &regpolicy.Client{RootURL: deref(x.RootURL), BaseURL: deref(x.BaseURL), AdminURL: deref(x.AdminURL),
		RedirectURIs: x.RedirectURIs, ConsentRequired: x.ConsentRequired, FullScopeAllowed: x.FullScopeAllowed, Enabled: x.Enabled}
	for _, m := range x.ProtocolMappers {
		pc.MapperTypes = append(pc.MapperTypes, m.ProtocolMapper)
	}
	pc.Scopes = append(slices.Clone(x.DefaultClientScopes), x.OptionalClientScopes...)
	return pc
}

// realmScopeNames are the names of the realm's default and optional
// client scopes.
func realmScopeNames(ctx context.Context, db *store.DB, realmID string) ([]string, error) {
	links, err := db.ClientScopeLinks(ctx, realmID, store.RealmDefaults)
	if err != nil {
		return nil, err
	}
	scopes, err := db.ListClientScopes(ctx, realmID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range links {
		for _, s := range scopes {
			if s.ID == l.ScopeID {
				out = append(out, s.Name)
			}
		}
	}
	return out, nil
}
