// Package admin is Keycloak's admin REST API under /admin/realms: realms,
// clients, client scopes, roles, groups, users and sessions, with Keycloak's
// paths, representations, status codes, error bodies and permissions.
package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Handler serves the admin REST API.
type Handler struct {
	Store *store.DB
	URLs  web.URLs
	Log   *slog.Logger
	Now   func() time.Time
	// Mail sends action links and test messages; nil sends with defaults.
	Mail *mail.Mailer
	// Outbound fetches what an administrator points at (a discovery
	// document); nil refuses private addresses.
	Outbound *outbound.Client
	// Started is when the server started, for serverinfo's uptime; zero
	// means when Register ran. The server registers the routes on the first
	// admin request, so it sets it.
	Started time.Time

	routes []string // the patterns handle registered, for Routes
}

// mailer is the handler's Mailer, or one sending with the defaults.
func (h *Handler) mailer() *mail.Mailer {
	if h.Mail != nil {
		return h.Mail
	}
	return &mail.Mailer{Store: h.Store, Log: h.Log, Now: h.Now}
}

// Routes returns the patterns Register serves, in registration order
// (without the trailing-slash twin of each). Tests walk it so that a new
// route cannot escape the permission table.
func (h *Handler) Routes() []string { return slices.Clone(h.routes) }

// Mux is where Register puts the routes: an *http.ServeMux, or a recorder
// in tests that list every pattern.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Register lists the routes this package serves; each resource file adds its own.
// The server registers them on the first request that may need them, which
// it tells by the path (server.adminRoute): "/admin/...", the client
// registration API under "/realms/{realm}/clients-registrations", or the
// message bundle "/resources/{realm}/{themeType}/{locale}". A route
// elsewhere fails TestAdminRoutesAreFoundLazily.
func (h *Handler) Register(mux Mux) {
	h.realmRoutes(mux)
	h.clientRoutes(mux)
	h.evaluateRoutes(mux)
	h.authzEvaluateRoutes(mux)
	h.clientToolRoutes(mux)
	h.clientScopeRoutes(mux)
	h.scopeMappingRoutes(mux)
	h.roleRoutes(mux)
	h.groupRoutes(mux)
	h.userRoutes(mux)
	h.mailRoutes(mux)
	h.sessionRoutes(mux)
	h.serverInfoRoutes(mux)
	h.consoleRoutes(mux)
	h.eventRoutes(mux)
	h.componentRoutes(mux)
	h.regPolicyRoutes(mux)
	h.realmGroupRoutes(mux)
	h.localizationRoutes(mux)
	h.permissionRoutes(mux)
	h.clientPolicyRoutes(mux)
	h.initialAccessRoutes(mux)
	h.registrationRoutes(mux)
	h.authenticationRoutes(mux)
	h.userStorageRoutes(mux)
	h.identityProviderRoutes(mux)
	h.clientConverterRoutes(mux)
	h.authzRoutes(mux)
}

// Request is one admin call: the authenticated caller and, for routes under
// /admin/realms/{realm}, the target realm.
type Request struct {
	W      http.ResponseWriter
	R      *http.Request
	Caller *Caller
	Realm  realm.Realm
	h      *Handler
	perms  map[string]bool

	// For requireConfer, loaded on first use: the realm's composite
	// edges, and its decision per role id.
	composites  map[string][]string
	conferrable map[string]bool

	// The realm's resource servers, by client id, loaded on first use.
	resourceServers map[string]bool

	// checker answers the realm's fine-grained admin permissions for the
	// caller, loaded on first use (fgap.go), and userGroups keeps the
	// groups of the users it was asked about.
	checker    *adminperm.Checker
	userGroups map[string][]string

	// The request body, once read: a route's object rule may read it
	// before the endpoint does.
	bodyBytes []byte
}

// Can reports whether the caller holds the admin permission perm over the
// target realm ("view-users", "manage-clients", ...), with Keycloak's
// implications (manage-x implies view-x, view-users implies query-users …).
func (rq *Request) Can(perm string) bool { return role.Permits(rq.perms, perm) }

// Require answers 403 unless the caller holds perm.
func (rq *Request) Require(perm string) error {
	if !rq.Can(perm) {
		return errForbidden
	}
	return nil
}

// endpoint is an admin handler.
type endpoint func(rq *Request) error

// handle registers an endpoint. perm is the permission every call needs
// over the realm in the path ("" for routes without {realm}, which then
// decide themselves); the check happens before the endpoint runs, so a
// refused call changes nothing. perm may name an object rule after "@"
// ("view-users@user.view"): a caller without the role is then let through
// when the realm's fine-grained admin permissions grant it the object in
// the path (fgap.go).
//
// Every route also answers with one trailing slash, as Keycloak's JAX-RS
// matching does: @keycloak/keycloak-admin-client sends its collection calls
// that way ("POST /admin/realms/", "GET /admin/realms/demo/users/?max=5").
func (h *Handler) handle(mux Mux, pattern, perm string, fn endpoint) {
	h.routes = append(h.routes, pattern)
	roleName, rule := splitPerm(perm)
	hd := h.guard(roleName, rule, fn)
	mux.Handle(pattern, hd)
	if !strings.HasSuffix(pattern, "...}") { // a rest wildcard takes the slash itself
		mux.Handle(pattern+"/{$}", hd)
	}
}

// guard authenticates the caller, loads the realm in the path and checks
// perm, then runs fn. The role decides first; rule, when the route has one,
// runs only for a caller without the role.
func (h *Handler) guard(perm string, rule objectRule, fn endpoint) http.Handler {
	return web.Handle(h.Log, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-cache")
		caller, err := h.authenticate(r)
		if err != nil {
			setChallenge(w, err)
			return err
		}
		rq := &Request{W: w, R: r, Caller: caller, h: h}
		if name := r.PathValue("realm"); name != "" {
			rl, err := h.Store.GetRealmByName(r.Context(), name)
			if errors.Is(err, store.ErrNotFound) {
				// A caller who may not see a realm learns nothing about it.
				if !caller.Master && caller.Realm.Name != name {
					return errForbidden
				}
				return errRealmNotFound
			}
			if err != nil {
				return err
			}
			rq.Realm = rl
			if rq.perms, err = h.adminPerms(r.Context(), caller, rl); err != nil {
				return err
			}
			if len(rq.perms) == 0 && rule == nil {
				return errForbidden
			}
			// A route naming a rule and no role (roles by id, whose
			// container is known once loaded) has the rule decide for all.
			if perm == "" && rule != nil || perm != "" && !rq.Can(perm) {
				if rule == nil {
					return errForbidden
				}
				// An administrator of the realm without the role, whom the
				// realm's permissions may still let in for this object.
				if ok, err := rule(rq); err != nil || !ok {
					if err != nil {
						return err
					}
					return errForbidden
				}
			}
		}
		return h.withAdminEvent(rq, fn)
	})
}

// Error bodies, in Keycloak's shapes.
var (
	errUnauthorized  = &web.Error{Status: http.StatusUnauthorized, Body: map[string]string{"error": "HTTP 401 Unauthorized"}}
	errForbidden     = &web.Error{Status: http.StatusForbidden, Body: map[string]string{"error": "HTTP 403 Forbidden"}}
	errRealmNotFound = notFound("Realm not found.")
	errBadJSON       = &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "invalid_request", "error_description": "Cannot parse the JSON"}}
)

// notFound is Keycloak's 404 body for a missing resource ({"error": msg}).
func notFound(msg string) *web.Error {
	return &web.Error{Status: http.StatusNotFound, Body: map[string]string{"error": msg}}
}

// errorMessage is Keycloak's {"errorMessage": msg} body, used for validation
// failures (400) and conflicts (409).
func errorMessage(status int, msg string) *web.Error {
	return &web.Error{Status: status, Body: map[string]string{"errorMessage": msg}}
}

func badRequest(msg string) *web.Error { return errorMessage(http.StatusBadRequest, msg) }

func conflict(format string, args ...any) *web.Error {
	return errorMessage(http.StatusConflict, fmt.Sprintf(format, args...))
}

// maxJSONBody bounds an admin request body (a partial import is the largest).
const maxJSONBody = 16 << 20

// decode reads a JSON request body into v.
func (rq *Request) decode(v any) error {
	b, err := rq.body()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadJSON
	}
	return nil
}

// body reads the request body, at most maxJSONBody, once.
func (rq *Request) body() ([]byte, error) {
	if rq.bodyBytes != nil {
		return rq.bodyBytes, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(rq.W, rq.R.Body, maxJSONBody))
	if err != nil {
		return nil, &web.Error{Status: http.StatusRequestEntityTooLarge, Body: map[string]string{"error": "invalid_request", "error_description": "Request body too large"}}
	}
	if b == nil {
		b = []byte{}
	}
	rq.bodyBytes = b
	return b, nil
}

// decodeRealmFile reads a body in a realm file's format (a realm, a partial
// import) as leniently as a realm file is read, and logs the members that
// are not stored, one record each.
func (rq *Request) decodeRealmFile(v any, what string) (ignored []string, err error) {
	b, err := rq.body()
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		// A file of several realms is for gatehouse import; over HTTP one
		// realm is one request, and Keycloak fails to read an array.
		return nil, errorMessage(http.StatusBadRequest, "unable to read contents from stream")
	}
	ignored, err = rep.DecodeLenient(b, v)
	if err != nil {
		return nil, errBadJSON
	}
	// A body of 16 MiB can name a million members: the log keeps the first
	// maxLoggedIgnored and a count of the rest.
	for i, p := range ignored {
		if i == maxLoggedIgnored {
			rq.h.Log.InfoContext(rq.R.Context(), what+": more members not stored", "count", len(ignored)-i)
			break
		}
		rq.h.Log.InfoContext(rq.R.Context(), what+": member not stored", "path", p)
	}
	return ignored, nil
}

// maxLoggedIgnored bounds the log records one request writes about the
// members of its body that are not stored.
const maxLoggedIgnored = 100

// JSON writes v with status 200.
func (rq *Request) JSON(v any) error { return web.WriteJSON(rq.W, http.StatusOK, v) }

// Created answers 201 with the new resource's Location.
func (rq *Request) Created(location string) error {
	rq.W.Header().Set("Location", location)
	rq.W.WriteHeader(http.StatusCreated)
	return nil
}

// NoContent answers 204.
func (rq *Request) NoContent() error {
	rq.W.WriteHeader(http.StatusNoContent)
	return nil
}

// URL is the admin URL of a path under the target realm, for Location headers.
func (rq *Request) URL(path string) string {
	return rq.h.URLs.Base(rq.R) + "/admin/realms/" + rq.Realm.Name + path
}

// Now is the request's time.
func (rq *Request) Now() time.Time { return rq.h.Now() }

// DefaultMax is Keycloak's page size when a list call gives no max.
const DefaultMax = 100

// Page reads Keycloak's first and max query parameters: negative values
// are refused, an absent max is DefaultMax, and max is capped.
func (rq *Request) Page() (first, max int, err error) {
	q := rq.R.URL.Query()
	first, max = 0, DefaultMax
	if v := q.Get("first"); v != "" {
		if first, err = strconv.Atoi(v); err != nil || first < 0 {
			return 0, 0, badRequest("Invalid value for first")
		}
	}
	if v := q.Get("max"); v != "" {
		if max, err = strconv.Atoi(v); err != nil || max < 0 {
			return 0, 0, badRequest("Invalid value for max")
		}
		max = min(max, 10000)
	}
	return first, max, nil
}

// Bool reads a boolean query parameter.
func (rq *Request) Bool(name string, def bool) bool {
	switch rq.R.URL.Query().Get(name) {
	case "true":
		return true
	case "false":
		return false
	}
	return def
}

// setChallenge answers a token refused for DPoP reasons with its DPoP
// challenge (RFC 9449 §7.1); other refusals keep the bare 401.
func setChallenge(w http.ResponseWriter, err error) {
	if !errors.Is(err, errUnauthorized) {
		return
	}
	if challenge := bearer.DPoPChallenge(err); challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
}
