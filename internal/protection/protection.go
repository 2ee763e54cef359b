// Package protection serves the protection API of authorization services
// under /realms/{realm}/authz/protection: the resource registration
// endpoint (resource_set), the permission endpoint that issues permission
// tickets, the permission tickets of user-managed access, and the policies
// resource owners attach to their resources (uma-policy).
//
// A caller presents an access token of the resource server's client: the
// server's own service account token (a PAT, which must hold the client's
// uma_protection role where Keycloak asks for it), or a resource owner's
// token issued to that client. The token's azp names the resource server.
package protection

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Handler serves the protection API of every realm.
type Handler struct {
	Store *store.DB
	URLs  web.URLs
	Log   *slog.Logger
	Now   func() time.Time
}

// Register lists the routes this package serves.
func (h *Handler) Register(mux *http.ServeMux) {
	const p = "/realms/{realm}/authz/protection/"
	mux.Handle("POST "+p+"resource_set", web.Handle(h.Log, h.createResource))
	mux.Handle("GET "+p+"resource_set", web.Handle(h.Log, h.findResources))
	mux.Handle("GET "+p+"resource_set/{id}", web.Handle(h.Log, h.getResource))
	mux.Handle("PUT "+p+"resource_set/{id}", web.Handle(h.Log, h.updateResource))
	mux.Handle("DELETE "+p+"resource_set/{id}", web.Handle(h.Log, h.deleteResource))
	mux.Handle("POST "+p+"permission", web.Handle(h.Log, h.permission))
	mux.Handle("POST "+p+"permission/ticket", web.Handle(h.Log, h.createTicket))
	mux.Handle("GET "+p+"permission/ticket", web.Handle(h.Log, h.findTickets))
	mux.Handle("PUT "+p+"permission/ticket", web.Handle(h.Log, h.updateTicket))
	mux.Handle("DELETE "+p+"permission/ticket/{id}", web.Handle(h.Log, h.deleteTicket))
	mux.Handle("GET "+p+"uma-policy", web.Handle(h.Log, h.findUMAPolicies))
	mux.Handle("POST "+p+"uma-policy/{id}", web.Handle(h.Log, h.createUMAPolicy))
	mux.Handle("GET "+p+"uma-policy/{id}", web.Handle(h.Log, h.getUMAPolicy))
	mux.Handle("PUT "+p+"uma-policy/{id}", web.Handle(h.Log, h.updateUMAPolicy))
	mux.Handle("DELETE "+p+"uma-policy/{id}", web.Handle(h.Log, h.deleteUMAPolicy))
}

// errorBody is the error shape of the protection API.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func fail(status int, code, desc string) *web.Error {
	return &web.Error{Status: status, Code: web.Code(code), Body: errorBody{Error: code, Description: desc}}
}

var (
	errNoToken      = fail(http.StatusForbidden, "invalid_bearer_token", "Could not obtain bearer access_token from request.")
	errNoProtection = fail(http.StatusForbidden, "invalid_scope", "Requires uma_protection scope.")
	errRemote       = fail(http.StatusBadRequest, "not_supported", "Remote management is disabled.")
	errNotFound     = &web.Error{Status: http.StatusNotFound}
	errRealm        = &web.Error{Status: http.StatusNotFound, Body: map[string]string{"error": "Realm does not exist"}}
)

// caller is who called the protection API and for which resource server.
type caller struct {
	realm  realm.Realm
	token  bearer.Token
	client client.Client // the resource server's client
	server authz.ResourceServer
	// id is the identity resources name as owner: the user's id, or the
	// server's id when its own service account calls (isServer).
	id       string
	isServer bool
}

// authenticate checks the request's access token and finds its resource
// server. protection demands the client's uma_protection role in the token.
func (h *Handler) authenticate(r *http.Request, protection bool) (caller, error) {
	ctx := r.Context()
	rl, err := h.Store.GetRealmByName(ctx, r.PathValue("realm"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !rl.Enabled) {
		return caller{}, errRealm
	}
	if err != nil {
		return caller{}, err
	}
	pt := bearer.FromRequest(r)
	if pt.Raw == "" {
		return caller{}, errNoToken
	}
	t, err := bearer.ValidateRequest(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), r, h.URLs.RequestURL(r), pt, h.Now())
	if errors.Is(err, bearer.ErrInvalid) {
		return caller{}, errNoToken
	}
	if err != nil {
		return caller{}, err
	}
	c := t.Client
	rs, err := h.Store.GetResourceServer(ctx, rl.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return caller{}, fail(http.StatusForbidden, "invalid_clientId", "Client application ["+c.ClientID+"] is not registered as a resource server.")
	}
	if err != nil {
		return caller{}, err
	}
	if protection && !hasClientRole(t, c.ClientID, "uma_protection") {
		return caller{}, errNoProtection
	}
	out := caller{realm: rl, token: t, client: c, server: rs, id: t.User.ID}
	if t.User.ServiceAccountClientID == c.ID {
		out.id, out.isServer = c.ID, true
	}
	return out, nil
}

// hasClientRole reports whether the token carries a role of a client in its
// resource_access claim, as the roles a PAT was issued with decide.
func hasClientRole(t bearer.Token, clientID, role string) bool {
	ra, _ := t.Claims.Raw["resource_access"].(map[string]any)
	entry, _ := ra[clientID].(map[string]any)
	roles, _ := entry["roles"].([]any)
	return slices.ContainsFunc(roles, func(v any) bool { return v == role })
}

// maxJSONBytes bounds a request body.
const maxJSONBytes = 1 << 20

// decodeJSON reads a bounded JSON body into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err != nil {
		return fail(http.StatusRequestEntityTooLarge, "invalid_request", "Request body too large")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fail(http.StatusBadRequest, "invalid_request", "Failed to parse representation")
	}
	return nil
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
