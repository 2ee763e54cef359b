package admin

import (
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Client scopes and their protocol mappers, under
// /admin/realms/{realm}/client-scopes.
//
// The order of checks is Keycloak 26's, as measured on a live server: any
// clients permission lets a caller in (query-clients, view-clients,
// manage-clients), then an unknown scope is 404, and only then does the
// operation's own permission decide (view-clients to read, manage-clients to
// write). A caller with query-clients alone lists no scopes.
func (h *Handler) clientScopeRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/client-scopes"
	h.handle(mux, "GET "+base, "query-clients", h.listClientScopes)
	h.handle(mux, "POST "+base, "manage-clients", h.createClientScope)
	h.handle(mux, "GET "+base+"/{id}", "query-clients", h.getClientScope)
	h.handle(mux, "PUT "+base+"/{id}", "query-clients", h.updateClientScope)
	h.handle(mux, "DELETE "+base+"/{id}", "query-clients", h.deleteClientScope)

	const mappers = base + "/{id}/protocol-mappers"
	h.handle(mux, "GET "+mappers+"/models", "query-clients", h.listScopeMappers)
	h.handle(mux, "GET "+mappers+"/protocol/{protocol}", "query-clients", h.listScopeMappers)
	h.handle(mux, "POST "+mappers+"/models", "query-clients", h.createScopeMapper)
	h.handle(mux, "POST "+mappers+"/add-models", "query-clients", h.addScopeMappers)
	h.handle(mux, "GET "+mappers+"/models/{mapperId}", "query-clients", h.getScopeMapper)
	h.handle(mux, "PUT "+mappers+"/models/{mapperId}", "query-clients", h.updateScopeMapper)
	h.handle(mux, "DELETE "+mappers+"/models/{mapperId}", "query-clients", h.deleteScopeMapper)
}

// Keycloak's answers for client scopes.
var (
	errScopeNotFound       = notFound("Could not find client scope")
	errScopeMapperNotFound = notFound("Model not found")
	errScopeMapperExists   = errorMessage(http.StatusConflict, "Protocol mapper exists with same name")
	errScopeProtocol       = badRequest("Unexpected protocol")
)

// scopeNameRe is Keycloak's ClientScopeResource pattern: printable ASCII
// without space, '"' or '\', since the name travels inside the
// space-separated scope parameter and the quoted scope claim.
var scopeNameRe = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

func checkScopeName(name string) error {
	if !scopeNameRe.MatchString(name) {
		return badRequest(`Unexpected name "` + name + `" for ClientScope`)
	}
	return nil
}

func checkScopeProtocol(p string) error {
	if p != rep.OpenIDConnect && p != "saml" {
		return errScopeProtocol
	}
	return nil
}

func scopeExists(name string) error {
	return conflict("Client Scope %s already exists", name)
}

func (h *Handler) listClientScopes(rq *Request) error {
	out := []rep.ClientScope{}
	if !rq.Can("view-clients") {
		return rq.JSON(out) // query-clients alone: Keycloak answers an empty list
	}
	scopes, err := h.Store.ListClientScopes(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	for _, s := range scopes {
		out = append(out, rep.ScopeFromDomain(s))
	}
	return rq.JSON(out)
}

func (h *Handler) createClientScope(rq *Request) error {
	var x rep.ClientScope
	if err := rq.decode(&x); err != nil {
		return err
	}
	if err := checkScopeName(x.Name); err != nil {
		return err
	}
	if err := checkScopeProtocol(x.Protocol); err != nil {
		return err
	}
	s := x.ToDomain(rq.Realm.ID)
	if s.ID == "" {
		s.ID = store.NewID()
	}
	names := map[string]bool{}
	for i := range s.ProtocolMappers {
		m := &s.ProtocolMappers[i]
		if err := checkProtocolMapper(m, s.Protocol); err != nil {
			return err
		}
		if names[m.Name] {
			return errScopeMapperExists
		}
		names[m.Name] = true
		m.ID = store.NewID() // ids are the server's, as for every created object
	}
	if err := s.Validate(); err != nil {
		return badRequest(err.Error())
	}
	if err := h.Store.CreateClientScope(rq.R.Context(), s); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return scopeExists(s.Name)
		}
		return err
	}
	return rq.Created(rq.URL("/client-scopes/" + s.ID))
}

// loadScope is the common start of every /client-scopes/{id} call: the scope
// must exist (404), then the caller needs perm (403).
func (h *Handler) loadScope(rq *Request, perm string) (client.Scope, error) {
	s, err := h.Store.GetClientScope(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return client.Scope{}, errScopeNotFound
	}
	if err != nil {
		return client.Scope{}, err
	}
	return s, rq.Require(perm)
}

func (h *Handler) getClientScope(rq *Request) error {
	s, err := h.loadScope(rq, "view-clients")
	if err != nil {
		return err
	}
	return rq.JSON(rep.ScopeFromDomain(s))
}

// scopeUpdate is a ClientScopeRepresentation as PUT reads it: Keycloak
// changes only the fields present, merges attributes key by key (a null
// value removes the key) and leaves protocol mappers to their own endpoints.
type scopeUpdate struct {
	Name        *string            `json:"name"`
	Description *string            `json:"description"`
	Protocol    *string            `json:"protocol"`
	Attributes  map[string]*string `json:"attributes"`
}

func (h *Handler) updateClientScope(rq *Request) error {
	s, err := h.loadScope(rq, "manage-clients")
	if err != nil {
		return err
	}
	var x scopeUpdate
	if err := rq.decode(&x); err != nil {
		return err
	}
	if x.Name != nil {
		if err := checkScopeName(*x.Name); err != nil {
			return err
		}
	}
	if x.Protocol != nil {
		if err := checkScopeProtocol(*x.Protocol); err != nil {
			return err
		}
	}
	err = h.Store.UpdateClientScope(rq.R.Context(), rq.Realm.ID, s.ID, func(s *client.Scope) error {
		setIfPresent(&s.Name, x.Name)
		setIfPresent(&s.Description, x.Description)
		setIfPresent(&s.Protocol, x.Protocol)
		if len(x.Attributes) > 0 {
			attrs := maps.Clone(s.Attributes)
			if attrs == nil {
				attrs = map[string]string{}
			}
			for k, v := range x.Attributes {
				if v == nil {
					delete(attrs, k)
				} else {
					attrs[k] = *v
				}
			}
			s.Attributes = attrs
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrConflict) && x.Name != nil:
		return scopeExists(*x.Name)
	case errors.Is(err, store.ErrNotFound):
		return errScopeNotFound
	case err != nil:
		return err
	}
	return rq.NoContent()
}

func (h *Handler) deleteClientScope(rq *Request) error {
	s, err := h.loadScope(rq, "manage-clients")
	if err != nil {
		return err
	}
	// The schema removes the scope's links to clients and realm defaults.
	if err := h.Store.DeleteClientScope(rq.R.Context(), rq.Realm.ID, s.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errScopeNotFound
		}
		return err
	}
	return rq.NoContent()
}

func (h *Handler) listScopeMappers(rq *Request) error {
	s, err := h.loadScope(rq, "view-clients")
	if err != nil {
		return err
	}
	protocol := rq.R.PathValue("protocol")
	out := []rep.ProtocolMapper{}
	for _, m := range s.ProtocolMappers {
		if protocol == "" || m.Protocol == protocol {
			out = append(out, rep.MapperFromDomain(m))
		}
	}
	return rq.JSON(out)
}

// storeScopeMappers stores new mappers on the scope in one transaction: every one
// is checked, and a name already on the scope (or twice in xs) is a 409.
func (h *Handler) storeScopeMappers(rq *Request, scopeID string, xs []rep.ProtocolMapper) ([]string, error) {
	var ids []string
	err := h.Store.UpdateClientScope(rq.R.Context(), rq.Realm.ID, scopeID, func(s *client.Scope) error {
		ids = ids[:0]
		for _, x := range xs {
			m := x.ToDomain()
			if err := checkProtocolMapper(&m, s.Protocol); err != nil {
				return err
			}
			if slices.ContainsFunc(s.ProtocolMappers, func(o client.ProtocolMapper) bool { return o.Name == m.Name }) {
				return errScopeMapperExists
			}
			m.ID = store.NewID()
			s.ProtocolMappers = append(s.ProtocolMappers, m)
			ids = append(ids, m.ID)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errScopeNotFound
	}
	return ids, err
}

func (h *Handler) createScopeMapper(rq *Request) error {
	s, err := h.loadScope(rq, "manage-clients")
	if err != nil {
		return err
	}
	var x rep.ProtocolMapper
	if err := rq.decode(&x); err != nil {
		return err
	}
	ids, err := h.storeScopeMappers(rq, s.ID, []rep.ProtocolMapper{x})
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/client-scopes/" + s.ID + "/protocol-mappers/models/" + ids[0]))
}

func (h *Handler) addScopeMappers(rq *Request) error {
	s, err := h.loadScope(rq, "manage-clients")
	if err != nil {
		return err
	}
	var xs []rep.ProtocolMapper
	if err := rq.decode(&xs); err != nil {
		return err
	}
	if _, err := h.storeScopeMappers(rq, s.ID, xs); err != nil {
		return err
	}
	return rq.NoContent()
}

func scopeMapperIndex(ms []client.ProtocolMapper, id string) int {
	return slices.IndexFunc(ms, func(m client.ProtocolMapper) bool { return m.ID == id })
}

func (h *Handler) getScopeMapper(rq *Request) error {
	s, err := h.loadScope(rq, "view-clients")
	if err != nil {
		return err
	}
	i := scopeMapperIndex(s.ProtocolMappers, rq.R.PathValue("mapperId"))
	if i < 0 {
		return errScopeMapperNotFound
	}
	return rq.JSON(rep.MapperFromDomain(s.ProtocolMappers[i]))
}

// updateScopeMapper replaces a mapper's type and configuration. Its name,
// like its id, stays: Keycloak's update does not rename a mapper.
func (h *Handler) updateScopeMapper(rq *Request) error {
	s, err := h.loadScope(rq, "manage-clients")
	if err != nil {
		return err
	}
	var x rep.ProtocolMapper
	if err := rq.decode(&x); err != nil {
		return err
	}
	id := rq.R.PathValue("mapperId")
	err = h.Store.UpdateClientScope(rq.R.Context(), rq.Realm.ID, s.ID, func(s *client.Scope) error {
		i := scopeMapperIndex(s.ProtocolMappers, id)
		if i < 0 {
			return errScopeMapperNotFound
		}
		m := s.ProtocolMappers[i]
		if x.ProtocolMapper != "" {
			m.ProtocolMapper = x.ProtocolMapper
		}
		m.Config = x.ToDomain().Config
		if err := checkProtocolMapper(&m, s.Protocol); err != nil {
			return err
		}
		s.ProtocolMappers = slices.Clone(s.ProtocolMappers)
		s.ProtocolMappers[i] = m
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errScopeNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

func (h *Handler) deleteScopeMapper(rq *Request) error {
	s, err := h.loadScope(rq, "manage-clients")
	if err != nil {
		return err
	}
	id := rq.R.PathValue("mapperId")
	err = h.Store.UpdateClientScope(rq.R.Context(), rq.Realm.ID, s.ID, func(s *client.Scope) error {
		i := scopeMapperIndex(s.ProtocolMappers, id)
		if i < 0 {
			return errScopeMapperNotFound
		}
		s.ProtocolMappers = slices.Delete(slices.Clone(s.ProtocolMappers), i, i+1)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errScopeNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// setIfPresent copies *src onto *dst when the request carried a value.
func setIfPresent[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}
