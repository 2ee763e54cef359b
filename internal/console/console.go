// Package console is the admin console: server-rendered pages under
// /admin/{realm}/console/ (Keycloak's address) for realms, clients, client
// scopes (with a client's authorization services), roles, groups, users,
// user federation, sessions, authentication, identity providers and events.
//
// The console holds no rule of its own about who may do what. It signs the
// administrator in through the realm's login page as the
// security-admin-console client (authorization code flow with PKCE), keeps
// the tokens in an HttpOnly cookie, and does everything, reads and writes,
// by calling the admin REST API with the administrator's access token. So a
// view-only administrator cannot write through the console any more than
// through the API, and every validation error is the API's, shown next to
// the form that caused it. The one thing the console reads from the store
// itself is which admin roles the signed-in user holds, to leave out buttons
// the API would refuse.
//
// The API is called in-process: Handler.API is the server's own mux, and a
// call is an *http.Request served by it, carrying the browser's host and
// forwarded headers so that issuer checks see the same public URL. HTTP
// packages do not import each other; the admin and oidc handlers are
// reached only through that http.Handler.
//
// Every page works without JavaScript; console.js only asks before
// destructive actions.
package console

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Handler serves the admin console. Requests it has no page for go to Next.
//
// The console cannot be one more pattern on the server's mux: any pattern
// for /admin/{realm}/console/ overlaps the admin API's
// /admin/realms/{realm}/... patterns (at /admin/realms/console/...) without
// either being more specific, which http.ServeMux refuses. So the server
// installs the console as its mux's catch-all, in front of the 404/405
// handler, and the console matches its own paths on a mux of its own.
type Handler struct {
	Store *store.DB
	URLs  web.URLs
	Log   *slog.Logger
	Now   func() time.Time
	// API serves the admin REST API and the realms' token endpoints: the
	// server's mux, with paths below the relative path.
	API http.Handler
	// Next answers requests that are not for the console.
	Next http.Handler

	once  sync.Once
	mux   *http.ServeMux
	pages map[string]*template.Template
	err   error
}

func (h *Handler) init() {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	h.pages, h.err = parseTemplates(ui.FS())
	h.mux = http.NewServeMux()
	h.routes(h.mux)
}

// ServeHTTP serves a console page, or hands the request to Next.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	if h.Next != nil {
		h.Next.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// prefix is the path of every console route; {realm} is the realm the
// administrator signs in to (master, or a realm's own administrators).
const prefix = "/admin/{realm}/console"

func (h *Handler) routes(mux *http.ServeMux) {
	// Keycloak sends /admin to the master realm's console.
	toMaster := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.consolePath(r, "master")+"/", http.StatusFound)
	}
	mux.HandleFunc("GET /admin", toMaster)
	mux.HandleFunc("GET /admin/{$}", toMaster)
	mux.HandleFunc("GET "+prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.consolePath(r, r.PathValue("realm"))+"/", http.StatusFound)
	})
	mux.Handle("GET "+prefix+"/callback", h.handle(h.callback))
	mux.Handle("POST "+prefix+"/logout", h.session(h.logout))
	mux.Handle("GET "+prefix+"/{$}", h.session(h.landing))
	mux.Handle("GET "+prefix+"/realms", h.session(h.realmsPage))
	mux.Handle("GET "+prefix+"/create-realm", h.session(h.createRealm))
	mux.Handle("POST "+prefix+"/create-realm", h.session(h.createRealm))

	// The pages of one realm ({target}), as Keycloak's console lays them out.
	page := func(methods, path string, fn func(q *rq) error) {
		for _, m := range strings.Fields(methods) {
			mux.Handle(m+" "+prefix+"/{target}"+path, h.session(h.inRealm(fn)))
		}
	}
	page("GET", "/{$}", h.realmHome)
	page("GET POST", "/realm-settings", h.realmGeneral)
	page("GET POST", "/realm-settings/login", h.realmLogin)
	page("GET POST", "/realm-settings/tokens", h.realmTokens)
	page("GET POST", "/realm-settings/sessions", h.realmSessions)
	page("GET POST", "/realm-settings/keys", h.realmKeys)
	page("GET POST", "/realm-settings/keys/providers/{id}", h.keyProvider)
	page("GET POST", "/realm-settings/client-policies", h.realmClientPolicies)
	page("POST", "/realm-settings/delete", h.deleteRealm)
	page("GET POST", "/realm-settings/localization", h.realmLocalization)
	page("GET POST", "/realm-settings/user-profile", h.realmUserProfile)
	page("GET POST", "/realm-settings/user-profile/groups", h.userProfileGroups)
	page("GET POST", "/realm-settings/user-profile/json", h.userProfileJSON)
	page("GET POST", "/realm-settings/user-profile/attribute", h.userProfileAttribute)
	page("GET POST", "/realm-settings/user-profile/group", h.userProfileGroup)
	page("GET POST", "/realm-settings/events", h.realmEventsConfig)
	page("GET POST", "/realm-settings/partial-export", h.realmPartialExport)
	page("GET POST", "/realm-settings/partial-import", h.realmPartialImport)

	page("GET", "/clients", h.clientList)
	page("GET POST", "/clients/new", h.clientCreate)
	page("GET POST", "/client-registration", h.clientRegistration)
	page("GET POST", "/client-registration/{id}", h.clientRegistrationPolicy)
	page("GET POST", "/initial-access-tokens", h.clientInitialAccess)
	page("GET POST", "/clients/{id}", h.clientSettings)
	page("POST", "/clients/{id}/delete", h.clientDelete)
	page("GET POST", "/clients/{id}/credentials", h.clientCredentials)
	page("GET POST", "/clients/{id}/keys", h.samlKeys)
	page("GET POST", "/clients/{id}/client-scopes", h.clientScopesTab)
	page("GET POST", "/clients/{id}/scope", h.clientScope)
	page("GET POST", "/clients/{id}/mappers", h.clientMappers)
	page("GET POST", "/clients/{id}/roles", h.clientRoles)
	page("GET", "/clients/{id}/sessions", h.clientSessions)
	page("GET", "/clients/{id}/evaluate", h.clientEvaluate)
	page("GET POST", "/clients/{id}/advanced", h.clientAdvanced)
	page("GET", "/clients/{id}/adapter-config", h.clientAdapterConfig)
	page("GET POST", "/clients/{id}/service-account", h.clientServiceAccount)
	page("GET POST", "/clients/{id}/permissions", h.clientPermissions)
	page("GET POST", "/clients/{id}/roles/{name}/permissions", h.clientRolePermissions)
	page("GET POST", "/clients/{id}/authorization", h.authzSettings)
	page("GET POST", "/clients/{id}/authorization/resources", h.authzResources)
	page("GET POST", "/clients/{id}/authorization/resources/{rid}", h.authzResource)
	page("GET POST", "/clients/{id}/authorization/scopes", h.authzScopes)
	page("GET POST", "/clients/{id}/authorization/scopes/{sid}", h.authzScope)
	page("GET POST", "/clients/{id}/authorization/policies", h.authzPolicies)
	page("GET POST", "/clients/{id}/authorization/policies/new/{type}", h.authzPolicy)
	page("GET POST", "/clients/{id}/authorization/policies/{type}/{pid}", h.authzPolicy)
	page("GET POST", "/clients/{id}/authorization/permissions", h.authzPermissions)
	page("GET POST", "/clients/{id}/authorization/permissions/new/{type}", h.authzPermission)
	page("GET POST", "/clients/{id}/authorization/permissions/{type}/{pid}", h.authzPermission)
	page("GET POST", "/clients/{id}/authorization/evaluate", h.authzEvaluate)
	page("GET", "/clients/{id}/authorization/export", h.authzExport)
	page("POST", "/clients/{id}/authorization/import", h.authzImport)

	page("GET", "/client-scopes", h.scopeList)
	page("GET POST", "/client-scopes/new", h.scopeCreate)
	page("GET POST", "/client-scopes/{id}", h.scopeSettings)
	page("POST", "/client-scopes/{id}/delete", h.scopeDelete)
	page("GET POST", "/client-scopes/{id}/mappers", h.scopeMappers)
	page("GET POST", "/client-scopes/{id}/scope", h.scopeScope)

	page("GET POST", "/roles", h.roleList)
	page("GET POST", "/roles/{name}", h.roleDetails)
	page("GET POST", "/roles/{name}/permissions", h.rolePermissions)

	page("GET POST", "/groups", h.groupList)
	page("GET POST", "/groups/{id}", h.groupDetails)
	page("GET POST", "/groups/{id}/role-mapping", h.groupRoleMapping)
	page("GET POST", "/groups/{id}/permissions", h.groupPermissions)

	page("GET", "/users", h.userList)
	page("GET POST", "/users/new", h.userCreate)
	page("GET POST", "/users/permissions", h.usersPermissions)
	page("GET POST", "/users/{id}", h.userDetails)
	page("POST", "/users/{id}/delete", h.userDelete)
	page("GET POST", "/users/{id}/attributes", h.userAttributes)
	page("POST", "/users/{id}/impersonate", h.userImpersonate)
	page("GET POST", "/users/{id}/credentials", h.userCredentials)
	page("GET POST", "/users/{id}/role-mapping", h.userRoleMapping)
	page("GET POST", "/users/{id}/groups", h.userGroups)
	page("GET POST", "/users/{id}/sessions", h.userSessions)
	page("GET POST", "/users/{id}/consents", h.userConsents)
	page("GET POST", "/users/{id}/identity-provider-links", h.userIDPLinks)

	page("GET POST", "/sessions", h.realmSessionsPage)

	page("GET POST", "/authentication", h.authFlows)
	page("GET POST", "/authentication/flows/{alias}", h.authFlow)
	page("GET POST", "/authentication/required-actions", h.authRequiredActions)
	page("GET POST", "/authentication/policies", h.authPolicies)
	page("GET POST", "/authentication/policies/webauthn", h.authWebAuthnPolicy)
	page("GET POST", "/authentication/policies/webauthn-passwordless", h.authWebAuthnPasswordlessPolicy)

	page("GET POST", "/user-federation", h.userFederation)
	page("GET POST", "/user-federation/ldap/{id}", h.ldapProvider)
	page("GET POST", "/user-federation/ldap/{id}/mappers", h.ldapMappers)
	page("GET POST", "/user-federation/ldap/{id}/mappers/{mapper}", h.ldapMapper)

	page("GET POST", "/identity-providers", h.idpList)
	page("GET POST", "/identity-providers/{provider}/add", h.idpCreate)
	page("GET POST", "/identity-providers/{provider}/{alias}/settings", h.idpSettings)
	page("GET POST", "/identity-providers/{provider}/{alias}/mappers", h.idpMappers)
	page("GET POST", "/identity-providers/{provider}/{alias}/permissions", h.idpPermissions)
	page("GET POST", "/identity-providers/{provider}/{alias}/mappers/create", h.idpMapper)
	page("GET POST", "/identity-providers/{provider}/{alias}/mappers/{id}", h.idpMapper)

	page("GET POST", "/events", h.userEvents)
	page("GET POST", "/events/user-events", h.userEvents)
	page("GET POST", "/events/admin-events", h.adminEvents)

	// Keycloak's console has pages we do not (organizations…): a link to one gets a console page saying so,
	// not the API's JSON. /admin/realms/... stays the API's.
	mux.HandleFunc("GET "+prefix+"/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("realm") == "realms" {
			if h.Next != nil {
				h.Next.ServeHTTP(w, r)
			} else {
				http.NotFound(w, r)
			}
			return
		}
		h.session(h.noSuchPage).ServeHTTP(w, r)
	})
}

// noSuchPage answers a console path we have no page for.
func (h *Handler) noSuchPage(*rq) error {
	return errPage(http.StatusNotFound, "The console has no such page.")
}

// realmHome opens a realm at the first section the administrator may see.
func (h *Handler) realmHome(q *rq) error {
	switch {
	case q.perms.can("view-realm"):
		return q.redirect(q.realmURL("/realm-settings"), "")
	case q.perms.can("query-clients"):
		return q.redirect(q.realmURL("/clients"), "")
	case q.perms.can("query-users"):
		return q.redirect(q.realmURL("/users"), "")
	}
	return q.redirect(q.realmURL("/roles"), "")
}

// pageError is a failure shown as a console page with a status.
type pageError struct {
	Status int
	Msg    string
	Err    error // for the log only
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *pageError) Unwrap() error { return e.Err }

func errPage(status int, msg string) *pageError { return &pageError{Status: status, Msg: msg} }

// handle adapts a handler that returns errors: a *pageError or an API error
// becomes an error page with its status, anything else is logged and
// answered with a 500 page that reveals nothing.
func (h *Handler) handle(fn web.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.once.Do(h.init)
		err := fn(w, r)
		if err == nil {
			return
		}
		var pe *pageError
		var ae *apiError
		switch {
		case errors.As(err, &pe):
			if pe.Err != nil {
				h.Log.DebugContext(r.Context(), "console refused", "pattern", r.Pattern, "reason", pe.Msg, "err", pe.Err)
			}
		case errors.As(err, &ae):
			pe = &pageError{Status: ae.Status, Msg: ae.Message}
		default:
			h.Log.ErrorContext(r.Context(), "console request failed", "pattern", r.Pattern, "err", err)
			pe = errPage(http.StatusInternalServerError, "An internal server error has occurred.")
		}
		v := &view{Title: "Error", Console: h.consolePath(r, r.PathValue("realm")), Resources: h.resources(r)}
		v.Data = pe
		h.render(w, r, pe.Status, "error.html", v)
	})
}

// consolePath is the URL path of the console of realm name, without the
// trailing slash ("/auth/admin/master/console").
func (h *Handler) consolePath(r *http.Request, name string) string {
	return basePath(h.URLs, r) + "/admin/" + url.PathEscape(name) + "/console"
}

// resources is the URL path of the theme's static files.
func (h *Handler) resources(r *http.Request) string {
	return basePath(h.URLs, r) + "/resources/" + ui.Default().Version()
}

// basePath is the path part of the server's public base URL ("" or "/auth").
func basePath(u web.URLs, r *http.Request) string {
	b, err := url.Parse(u.Base(r))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(b.EscapedPath(), "/")
}

// csp is the policy of every console page: scripts and styles from the
// theme's files only, no framing (the console changes who may do what, so a
// page under someone else's frame would invite clickjacking), and forms that
// post only back to the console.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; object-src 'none'; base-uri 'none'"

// pageHeaders sets the security headers of a console page.
func pageHeaders(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Robots-Tag", "none")
	hdr.Set("Cache-Control", "no-store, must-revalidate, max-age=0")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Expires", "0")
}
