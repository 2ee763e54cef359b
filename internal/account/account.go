// Package account is the user's self-service: Keycloak's account REST API
// under /realms/{realm}/account/ (bearer tokens, JSON, Keycloak's paths and
// representations) and the account console at the same address, a set of
// server-rendered pages a person uses with a browser: personal info, signing
// in (password change), device activity, linked accounts, applications and
// resources (user-managed access: sharing with other users).
//
// Keycloak serves its single-page console at GET /realms/{realm}/account/
// and the REST API below it; which one answers depends on the request. Here
// a request with an Authorization header, or one that does not accept HTML,
// gets the API; a browser gets the console.
//
// Both act on exactly one user, the caller: the user behind the bearer token
// or behind the browser's SSO session. No identifier in a request ever picks
// another user; a session or grant of someone else is "not found".
package account

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Handler serves the account API and console of every realm.
type Handler struct {
	Store *store.DB
	URLs  web.URLs
	Log   *slog.Logger
	Now   func() time.Time
	// Hashes bounds the password checks running at once; nil means the
	// node's default gate.
	Hashes *authn.HashGate
	// Next answers an API request for a path the account API does not
	// serve (the server's 404 or 405); nil answers 404.
	Next http.Handler
}

// The account client's roles (Keycloak's AccountRoles).
const (
	roleManageAccount    = "manage-account"
	roleViewProfile      = "view-profile"
	roleViewApplications = "view-applications"
	roleManageConsent    = "manage-consent"
)

// Who may do what, as Keycloak's AccountRestService and SessionResource
// require it: any one of the roles listed suffices.
var (
	canViewProfile      = []string{roleManageAccount, roleViewProfile}
	canManageAccount    = []string{roleManageAccount}
	canViewApplications = []string{roleManageAccount, roleViewApplications}
	canManageConsent    = []string{roleManageAccount, roleManageConsent}
)

// Built-in clients the account pages rely on.
const (
	accountClientID        = "account"
	accountConsoleClientID = "account-console"
)

// Register lists the routes. The API answers under /account/ and under the
// versioned alias /account/v1/; the console only under /account/.
func (h *Handler) Register(mux *http.ServeMux) {
	const a = "/realms/{realm}/account"
	for _, base := range []string{a, a + "/v1"} {
		mux.Handle("POST "+base+"/{$}", h.api(canManageAccount, h.updateAccount))
		mux.Handle("GET "+base+"/credentials", h.api(canViewProfile, h.credentials))
		mux.Handle("DELETE "+base+"/credentials/{id}", h.api(canManageAccount, h.deleteCredential))
		mux.Handle("GET "+base+"/sessions", h.api(canViewProfile, h.listSessions))
		mux.Handle("GET "+base+"/sessions/devices", h.api(canViewProfile, h.listDevices))
		mux.Handle("DELETE "+base+"/sessions", h.api(canManageAccount, h.deleteSessions))
		mux.Handle("DELETE "+base+"/sessions/{id}", h.api(canManageAccount, h.deleteSession))
		mux.Handle("DELETE "+base+"/applications/{clientId}/consent", h.api(canManageConsent, h.revokeConsent))
		mux.Handle("GET "+base+"/linked-accounts", h.api(canViewProfile, h.listLinkedAccounts))
		mux.Handle("GET "+base+"/linked-accounts/{alias}", h.api(canManageAccount, h.linkAccountURI))
		mux.Handle("DELETE "+base+"/linked-accounts/{alias}", h.api(canManageAccount, h.unlinkAccount))
		// A browser below /account/resources/ (Keycloak's console has
		// pages there) gets the Resources page.
		view := func(fn apiFunc) http.Handler {
			if base == a {
				return h.either(h.api(canViewProfile, fn), http.HandlerFunc(h.redirectToResources))
			}
			return h.api(canViewProfile, fn)
		}
		mux.Handle("GET "+base+"/resources/shared-with-me", view(h.sharedWithMe))
		mux.Handle("GET "+base+"/resources/shared-with-others", view(h.sharedWithOthers))
		mux.Handle("GET "+base+"/resources/pending-requests", view(h.pendingRequests))
		mux.Handle("GET "+base+"/resources/{id}", view(h.getResource))
		mux.Handle("GET "+base+"/resources/{id}/permissions", view(h.resourcePermissions))
		mux.Handle("PUT "+base+"/resources/{id}/permissions", h.api(canManageAccount, h.updatePermissions))
		mux.Handle("GET "+base+"/resources/{id}/permissions/requests", view(h.permissionRequests))
		mux.HandleFunc("OPTIONS "+base+"/{rest...}", preflight)
	}
	mux.Handle("GET "+a+"/v1/resources", h.api(canViewProfile, h.listResources))
	mux.Handle("GET "+a+"/resources", h.either(h.api(canViewProfile, h.listResources), h.page(sectionResources)))
	mux.Handle("GET "+a+"/v1/{$}", h.api(canViewProfile, h.getAccount))
	mux.Handle("GET "+a+"/v1/applications", h.api(canViewApplications, h.listApplications))
	// The realm document's account-service URL has no trailing slash.
	mux.Handle("GET "+a, h.either(h.api(canViewProfile, h.getAccount), http.HandlerFunc(h.redirectToConsole)))
	mux.Handle("POST "+a, h.api(canManageAccount, h.updateAccount))
	mux.HandleFunc("OPTIONS "+a, preflight)
	mux.Handle("GET "+a+"/{$}", h.either(h.api(canViewProfile, h.getAccount), h.page(sectionPersonalInfo)))
	mux.Handle("GET "+a+"/applications", h.either(h.api(canViewApplications, h.listApplications), h.page(sectionApplications)))
	mux.Handle("GET "+a+"/account-security/signing-in", h.page(sectionSigningIn))
	mux.Handle("GET "+a+"/account-security/device-activity", h.page(sectionDeviceActivity))
	mux.Handle("GET "+a+"/account-security/linked-accounts", h.page(sectionLinkedAccounts))
	mux.Handle("GET "+a+"/account-security", http.HandlerFunc(h.redirectToSigningIn))
	// Keycloak's console has pages we do not (groups…): a browser that follows a link to one lands on the nearest
	// page we have rather than on an API error.
	mux.Handle("GET "+a+"/{rest...}", h.either(h.next(), http.HandlerFunc(h.redirectToNearest)))

	const c = a + "/console/"
	mux.Handle("POST "+c+"personal-info", h.form(canManageAccount, h.savePersonalInfo))
	mux.Handle("POST "+c+"password", h.form(canManageAccount, h.changePassword))
	mux.Handle("POST "+c+"sessions/sign-out", h.form(canManageAccount, h.signOutSession))
	mux.Handle("POST "+c+"sessions/sign-out-others", h.form(canManageAccount, h.signOutOthers))
	mux.Handle("POST "+c+"applications/remove-access", h.form(canManageConsent, h.removeAccess))
	mux.Handle("POST "+c+"linked-accounts/unlink", h.form(canManageAccount, h.unlinkForm))
	for _, action := range []string{"share", "revoke", "approve", "deny"} {
		mux.Handle("POST "+c+"resources/"+action, h.form(canManageAccount, h.resourceForm(action)))
	}
}

// either sends API calls to api and browsers to console, on paths where
// Keycloak serves both (its console is a single-page app at the same URLs).
func (h *Handler) either(api, console http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept, Authorization")
		if wantsAPI(r) {
			api.ServeHTTP(w, r)
			return
		}
		console.ServeHTTP(w, r)
	})
}

// wantsAPI decides who is asking, as Keycloak's account loader does: a
// request whose Accept names application/json, or whose body is JSON, is
// for the API; any other (a browser's text/html, */*, or no Accept at all)
// gets the console. A bearer token also means the API: no browser sends
// one on a page load, and an API client that forgets its Accept header
// should not get a page.
func wantsAPI(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && ct == "application/json" {
		return true
	}
	for _, accept := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(accept, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
				return true
			}
		}
	}
	return false
}

// next is Next, or a plain 404.
func (h *Handler) next() http.Handler {
	if h.Next != nil {
		return h.Next
	}
	return http.NotFoundHandler()
}

// redirectToNearest sends a browser on a console path we have no page for
// to the nearest page: the signing-in page for Keycloak's other security
// pages, the personal info page for the rest (groups, and whatever a
// later console adds).
func (h *Handler) redirectToNearest(w http.ResponseWriter, r *http.Request) {
	base := h.consoleBase(r, r.PathValue("realm"))
	if strings.HasPrefix(r.PathValue("rest"), "account-security/") {
		http.Redirect(w, r, base+"/account-security/signing-in", http.StatusFound)
		return
	}
	http.Redirect(w, r, base+"/", http.StatusFound)
}

func (h *Handler) redirectToConsole(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, h.consoleBase(r, r.PathValue("realm"))+"/", http.StatusFound)
}

func (h *Handler) redirectToResources(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, h.consoleBase(r, r.PathValue("realm"))+"/resources", http.StatusFound)
}

func (h *Handler) redirectToSigningIn(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, h.consoleBase(r, r.PathValue("realm"))+"/account-security/signing-in", http.StatusFound)
}

// loadRealm finds the realm in the path; unknown and disabled realms are
// store.ErrNotFound.
func (h *Handler) loadRealm(r *http.Request) (realm.Realm, error) {
	rl, err := h.Store.GetRealmByName(r.Context(), r.PathValue("realm"))
	if err == nil && !rl.Enabled {
		err = store.ErrNotFound
	}
	return rl, err
}

// basePath is the path part of the server's public base URL ("" or "/auth").
func (h *Handler) basePath(r *http.Request) string {
	b, err := url.Parse(h.URLs.Base(r))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(b.EscapedPath(), "/")
}

// consoleBase is the console's path for realm name, without a trailing slash.
func (h *Handler) consoleBase(r *http.Request, name string) string {
	return h.basePath(r) + "/realms/" + url.PathEscape(name) + "/account"
}

// serverOrigin is scheme://host[:port] of the server's public URL: the
// console's own origin.
func (h *Handler) serverOrigin(r *http.Request) string { return client.Origin(h.URLs.Base(r)) }

func (h *Handler) nowS() int64 { return h.Now().Unix() }

// holdsAny reports whether held names one of want.
func holdsAny(held map[string]bool, want []string) bool {
	for _, w := range want {
		if held[w] {
			return true
		}
	}
	return false
}

var errNotMine = errors.New("not the caller's")
