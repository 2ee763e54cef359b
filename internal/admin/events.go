package admin

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Events: the realm's login events and admin events with Keycloak's filters
// and paging, clearing them, and the realm's event settings. Reading needs
// view-events; clearing and changing the settings manage-events.
func (h *Handler) eventRoutes(mux Mux) {
	const one = "/admin/realms/{realm}"
	h.handle(mux, "GET "+one+"/events", "view-events", h.listEvents)
	h.handle(mux, "DELETE "+one+"/events", "manage-events", h.clearEvents)
	h.handle(mux, "GET "+one+"/admin-events", "view-events", h.listAdminEvents)
	h.handle(mux, "DELETE "+one+"/admin-events", "manage-events", h.clearAdminEvents)
	h.handle(mux, "GET "+one+"/events/config", "view-events", h.getEventsConfig)
	h.handle(mux, "PUT "+one+"/events/config", "manage-events", h.updateEventsConfig)
}

// listEvents answers GET /events: type (repeated), client (client_id),
// user (user id), ipAddress, dateFrom, dateTo, first, max and direction.
func (h *Handler) listEvents(rq *Request) error {
	q := rq.R.URL.Query()
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	from, to, asc, err := timeFilters(q)
	if err != nil {
		return err
	}
	es, err := h.Store.ListEvents(rq.R.Context(), rq.Realm.ID, store.EventQuery{
		Types: q["type"], ClientID: q.Get("client"), UserID: q.Get("user"), IPAddress: q.Get("ipAddress"),
		From: from, To: to, First: first, Max: max, Ascending: asc,
	})
	if err != nil {
		return err
	}
	out := make([]rep.Event, len(es))
	for i, e := range es {
		out[i] = rep.EventFromDomain(e)
	}
	return rq.JSON(out)
}

// listAdminEvents answers GET /admin-events: operationTypes and
// resourceTypes (repeated), resourcePath ("*" wildcards), authRealm,
// authClient, authUser, authIpAddress, dateFrom, dateTo, first, max and
// direction.
func (h *Handler) listAdminEvents(rq *Request) error {
	q := rq.R.URL.Query()
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	from, to, asc, err := timeFilters(q)
	if err != nil {
		return err
	}
	es, err := h.Store.ListAdminEvents(rq.R.Context(), rq.Realm.ID, store.AdminEventQuery{
		OperationTypes: q["operationTypes"], ResourceTypes: q["resourceTypes"], ResourcePath: q.Get("resourcePath"),
		AuthRealmID: q.Get("authRealm"), AuthClientID: q.Get("authClient"), AuthUserID: q.Get("authUser"),
		AuthIPAddress: q.Get("authIpAddress"), From: from, To: to, First: first, Max: max, Ascending: asc,
	})
	if err != nil {
		return err
	}
	out := make([]rep.AdminEvent, len(es))
	for i, e := range es {
		out[i] = rep.AdminEventFromDomain(e)
	}
	return rq.JSON(out)
}

func (h *Handler) clearEvents(rq *Request) error {
	if err := h.Store.DeleteEvents(rq.R.Context(), rq.Realm.ID); err != nil {
		return err
	}
	return rq.NoContent()
}

func (h *Handler) clearAdminEvents(rq *Request) error {
	if err := h.Store.DeleteAdminEvents(rq.R.Context(), rq.Realm.ID); err != nil {
		return err
	}
	return rq.NoContent()
}

func (h *Handler) getEventsConfig(rq *Request) error { return rq.JSON(rep.EventsConfigOf(rq.Realm)) }

// updateEventsConfig answers PUT /events/config; fields left out keep
// their value.
func (h *Handler) updateEventsConfig(rq *Request) error {
	var x rep.EventsConfig
	if err := rq.decode(&x); err != nil {
		return err
	}
	if x.EventsExpiration != nil && *x.EventsExpiration < 0 {
		return badRequest("eventsExpiration must not be negative")
	}
	err := h.Store.UpdateRealm(rq.R.Context(), rq.Realm.ID, func(r *realm.Realm) error {
		x.ApplyTo(r)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errRealmNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// timeFilters reads dateFrom, dateTo and direction. A date is yyyy-MM-dd
// (UTC) or epoch milliseconds, and both ends are inclusive: dateTo of a day
// takes in the whole day. Results are newest first unless direction=asc.
func timeFilters(q url.Values) (from, to int64, asc bool, err error) {
	if v := q.Get("dateFrom"); v != "" {
		if from, err = parseDate(v, false); err != nil {
			return 0, 0, false, badRequest("Invalid value for 'Date(From)', expected format is yyyy-MM-dd")
		}
	}
	if v := q.Get("dateTo"); v != "" {
		if to, err = parseDate(v, true); err != nil {
			return 0, 0, false, badRequest("Invalid value for 'Date(To)', expected format is yyyy-MM-dd")
		}
	}
	switch q.Get("direction") {
	case "", "desc":
	case "asc":
		asc = true
	default:
		return 0, 0, false, badRequest("Invalid value for direction, expected asc or desc")
	}
	return from, to, asc, nil
}

func parseDate(v string, endOfDay bool) (int64, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return 0, err
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1).Add(-time.Millisecond)
	}
	return d.UnixMilli(), nil
}

// recorder is where this package's events go.
func (h *Handler) recorder() events.Recorder {
	return events.Recorder{Store: h.Store, Now: h.Now, Log: h.Log}
}

// grantRevoked records the login event REVOKE_GRANT of an administrator
// taking a user's consent to a client (clientID is the OAuth client_id).
func (rq *Request) grantRevoked(userID, clientID string) {
	rq.h.recorder().Record(rq.R.Context(), rq.Realm, events.Event{Type: events.RevokeGrant, ClientID: clientID,
		UserID: userID, IPAddress: remoteIP(rq.R), Details: map[string]string{events.DetailRevokedClient: clientID}})
}

// withAdminEvent runs fn and, when it changed something in a realm that
// keeps admin events, records what: the operation and resource type from
// the route, the resource path from the URL (from Location for a create,
// which names the new resource), who did it, and with details on, the
// request body with its secrets masked (package events). Only writes that
// succeed are recorded; reads never are.
func (h *Handler) withAdminEvent(rq *Request, fn endpoint) error {
	rl := rq.Realm
	if rl.ID == "" {
		return fn(rq)
	}
	route := routeOf(rq.R.Pattern)
	op, typ, ok := adminOperation(rq.R.Method, route)
	// Updating the realm or its event settings may turn admin events on;
	// Keycloak records that change when the old or the new settings ask.
	mayEnable := rq.R.Method == http.MethodPut && (route == "" || route == "/events/config")
	if !ok || (!rl.AdminEventsEnabled && !mayEnable) {
		return fn(rq)
	}
	ctx := rq.R.Context()
	if typ == events.ResourceRealmRole && strings.HasPrefix(route, "/roles-by-id/") {
		if ro, err := h.Store.GetRole(ctx, rl.ID, rq.R.PathValue("roleID")); err == nil && ro.ClientID != "" {
			typ = events.ResourceClientRole
		}
	}
	var body []byte
	if (rl.AdminEventsDetails || mayEnable) && rq.R.Body != nil {
		body = captureBody(rq.R)
	}
	sw := &web.StatusWriter{ResponseWriter: rq.W}
	rq.W = sw
	if err := fn(rq); err != nil {
		return err
	}
	if sw.Status() < 200 || sw.Status() > 299 {
		return nil
	}
	if mayEnable {
		after, err := h.Store.GetRealm(ctx, rl.ID)
		if err != nil {
			return nil
		}
		after.AdminEventsEnabled = after.AdminEventsEnabled || rl.AdminEventsEnabled
		after.AdminEventsDetails = after.AdminEventsDetails || rl.AdminEventsDetails
		rl = after
	}
	path := resourcePath(rq.R.URL.Path)
	if loc := sw.Header().Get("Location"); sw.Status() == http.StatusCreated && loc != "" {
		if u, err := url.Parse(loc); err == nil {
			path = resourcePath(u.Path)
		}
	}
	e := events.AdminEvent{
		AuthRealmID: rq.Caller.Realm.ID, AuthClientID: rq.Caller.Token.Client.ID, AuthUserID: rq.Caller.Token.User.ID,
		AuthIPAddress: remoteIP(rq.R), OperationType: op, ResourceType: typ, ResourcePath: path,
	}
	h.recorder().RecordAdmin(ctx, rl, e, body)
	return nil
}

// captureBody reads the request body for the representation and puts it
// back for the endpoint, unchanged: the endpoint's own size limit and error
// still apply to the whole.
func captureBody(r *http.Request) []byte {
	b, err := io.ReadAll(io.LimitReader(r.Body, events.MaxRepresentation+1))
	rest := r.Body
	if err != nil {
		rest = io.NopCloser(errReader{err})
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), r.Body}
	if err != nil {
		return nil
	}
	return b
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// routeOf is a route pattern's path below /admin/realms/{realm}, without the
// method and the trailing-slash variant: "/users/{id}/reset-password".
func routeOf(pattern string) string {
	_, p, _ := strings.Cut(pattern, " ")
	p = strings.TrimSuffix(p, "/{$}")
	rest, ok := strings.CutPrefix(p, "/admin/realms/{realm}")
	if !ok {
		return p
	}
	return rest
}

// adminOperation maps a write to Keycloak's operation and resource type.
// ok is false for calls that change nothing Keycloak records (reads, the
// partial export, clearing events) and for deleting the realm itself, whose
// events go with it.
func adminOperation(method, route string) (op, typ string, ok bool) {
	switch method {
	case http.MethodPost:
		op = events.OpCreate
	case http.MethodPut:
		op = events.OpUpdate
	case http.MethodDelete:
		op = events.OpDelete
	default:
		return "", "", false
	}
	// Adding a link (a group member, a scope to a client) is a PUT that
	// creates the link.
	link := func() string {
		if method == http.MethodPut {
			return events.OpCreate
		}
		return op
	}
	has := func(s string) bool { return strings.Contains(route, s) }
	switch {
	case route == "":
		if method == http.MethodDelete {
			return "", "", false
		}
		return op, events.ResourceRealm, true
	case route == "/events" || route == "/admin-events" || route == "/partial-export":
		return "", "", false
	case route == "/events/config":
		return events.OpUpdate, events.ResourceRealm, true
	case route == "/partialImport" || route == "/logout-all" || route == "/push-revocation":
		return events.OpAction, events.ResourceRealm, true
	case strings.HasPrefix(route, "/default-default-client-scopes/") || strings.HasPrefix(route, "/default-optional-client-scopes/"):
		return link(), events.ResourceRealm, true
	case strings.HasPrefix(route, "/attack-detection/"):
		return op, events.ResourceUserLoginFailure, true
	case strings.HasPrefix(route, "/sessions/"):
		return op, events.ResourceUserSession, true
	case has("/role-mappings/realm"):
		return op, events.ResourceRealmRoleMapping, true
	case has("/role-mappings/clients/"):
		return op, events.ResourceClientRoleMapping, true
	case has("/scope-mappings/realm"):
		return op, events.ResourceRealmScopeMapping, true
	case has("/scope-mappings/clients/"):
		return op, events.ResourceClientScopeMapping, true
	case has("/protocol-mappers/"):
		return op, events.ResourceProtocolMapper, true
	case route == "/users/{id}/impersonation":
		// Recorded as the user's login event IMPERSONATE instead.
		return "", "", false
	case strings.HasPrefix(route, "/users/{id}/federated-identity/"):
		return op, events.ResourceUser, true
	case strings.HasPrefix(route, "/identity-provider/import-config"):
		return "", "", false
	case strings.HasPrefix(route, "/identity-provider/") && has("/mappers"):
		return op, events.ResourceIdentityProviderMapper, true
	case strings.HasPrefix(route, "/identity-provider/"):
		return op, events.ResourceIdentityProvider, true
	case strings.HasPrefix(route, "/users/{id}/groups/"):
		return link(), events.ResourceGroupMembership, true
	case strings.HasPrefix(route, "/users/{id}/"):
		// reset-password, credentials, consents, logout, e-mails.
		return events.OpAction, events.ResourceUser, true
	case strings.HasPrefix(route, "/users"):
		return op, events.ResourceUser, true
	case strings.HasPrefix(route, "/clients/{id}/authz/resource-server"):
		return authzOperation(op, route)
	case strings.HasPrefix(route, "/clients/{id}/roles"):
		return op, events.ResourceClientRole, true
	case strings.HasSuffix(route, "/client-secret"):
		return events.OpAction, events.ResourceClient, true
	case has("/default-client-scopes/") || has("/optional-client-scopes/"):
		return link(), events.ResourceClientScopeClientMapping, true
	case strings.HasPrefix(route, "/clients"):
		return op, events.ResourceClient, true
	case strings.HasPrefix(route, "/client-scopes"):
		return op, events.ResourceClientScope, true
	case strings.HasPrefix(route, "/groups"):
		return op, events.ResourceGroup, true
	case strings.HasPrefix(route, "/roles"): // roles and roles-by-id
		return op, events.ResourceRealmRole, true
	case strings.HasPrefix(route, "/authentication/"):
		return authOperation(op, route)
	}
	return op, events.ResourceRealm, true
}

// authzOperation names the admin events of the authorization services
// API: importing settings updates the resource server; evaluating a policy
// changes nothing.
func authzOperation(op, route string) (string, string, bool) {
	has := func(s string) bool { return strings.Contains(route, s) }
	switch {
	case strings.HasSuffix(route, "/evaluate"):
		return "", "", false
	case has("/resource-server/resource"):
		return op, events.ResourceAuthzResource, true
	case has("/resource-server/scope"):
		return op, events.ResourceAuthzScope, true
	case has("/resource-server/policy") || has("/resource-server/permission"):
		return op, events.ResourceAuthzPolicy, true
	case strings.HasSuffix(route, "/import"):
		return events.OpUpdate, events.ResourceAuthzResourceServer, true
	}
	return op, events.ResourceAuthzResourceServer, true
}

// authOperation names the admin events of the authentication API as
// Keycloak records them: moving a step or a required action is an update.
func authOperation(op, route string) (string, string, bool) {
	if strings.HasSuffix(route, "-priority") {
		op = events.OpUpdate
	}
	has := func(s string) bool { return strings.Contains(route, s) }
	switch {
	case has("/executions/flow"):
		return op, events.ResourceAuthExecutionFlow, true
	case has("/executions"):
		return op, events.ResourceAuthExecution, true
	case has("/config/"):
		return op, events.ResourceAuthenticatorConfig, true
	case has("required-action"):
		return op, events.ResourceRequiredAction, true
	}
	return op, events.ResourceAuthFlow, true
}

// resourcePath is a URL path relative to its realm, as Keycloak records it:
// "/admin/realms/demo/users/42/" gives "users/42".
func resourcePath(p string) string {
	_, rest, ok := strings.Cut(p, "/admin/realms/")
	if !ok {
		return ""
	}
	_, rest, _ = strings.Cut(rest, "/") // the realm's name
	return strings.Trim(rest, "/")
}

// remoteIP is the caller's address as the connection shows it.
func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
