// Package login is the front channel: the authorization endpoint, the login,
// required-action and consent pages, the SSO cookies, RP-initiated logout,
// and the iframes keycloak-js loads. It hands the token endpoint (package
// oidc) what a login produced only through the store: an authorization code
// stored with store.CreateAuthCode whose data is a CodeData.
//
// Every page is server-rendered HTML (package ui) that works without
// JavaScript. Errors are HTML pages too, never JSON: a browser shows them.
package login

import (
	"errors"
	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"github.com/gatehouse-iam/gatehouse/internal/sso"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Handler serves the front-channel endpoints of every realm.
type Handler struct {
	Store *store.DB
	URLs  web.URLs
	Log   *slog.Logger
	Now   func() time.Time
	// Hashes bounds the password checks running at once; nil means the
	// node's default gate.
	Hashes *authn.HashGate
	// Keys finds the keys clients sign with (their jwks.url fetched
	// through the outbound client); nil fetches with the outbound defaults.
	Keys *clientkeys.Loader
	// Outbound fetches request objects from registered request_uri
	// values; nil means the outbound defaults (public addresses only).
	Outbound *outbound.Client
	// UI renders the pages; nil means the embedded theme.
	UI *ui.UI
	// Mail sends the action links (password reset, email verification);
	// nil sends with the defaults.
	Mail *mail.Mailer
}

// Register lists the routes this package serves. POST .../logout belongs to
// package oidc (the refresh-token logout); it sends browsers to the GET.
func (h *Handler) Register(mux *http.ServeMux) {
	const p = "/realms/{realm}/protocol/openid-connect/"
	mux.Handle("GET "+p+"auth", h.handle(h.authorize))
	mux.Handle("POST "+p+"auth", h.handle(h.authorize))
	const a = "/realms/{realm}/login-actions/"
	mux.Handle("POST "+a+"authenticate", h.handle(h.authenticate))
	mux.Handle("GET "+a+"restart", h.handle(h.restart))
	mux.Handle("POST "+a+"required-action", h.handle(h.requiredAction))
	mux.Handle("POST "+a+"consent", h.handle(h.consent))
	mux.Handle("GET "+a+"{action}", h.handle(h.showStep))
	mux.Handle("GET "+a+"action-token", h.handle(h.actionToken))
	mux.Handle("POST "+a+"action-token", h.handle(h.actionToken))
	mux.Handle("GET "+a+"reset-credentials", h.handle(h.resetCredentials))
	mux.Handle("POST "+a+"reset-credentials", h.handle(h.resetCredentials))
	mux.Handle("GET "+a+"registration", h.handle(h.register))
	mux.Handle("POST "+a+"registration", h.handle(h.register))
	h.registerBroker(mux)
	mux.Handle("GET "+p+"logout", h.handle(h.logout))
	mux.Handle("POST "+p+"logout/logout-confirm", h.handle(h.logoutConfirm))
	mux.Handle("GET "+p+"login-status-iframe.html", h.handle(h.loginStatusIframe))
	mux.Handle("GET "+p+"login-status-iframe.html/init", h.handle(h.loginStatusInit))
	mux.Handle("GET "+p+"3p-cookies/step1.html", h.handle(h.thirdPartyStep1))
	mux.Handle("GET "+p+"3p-cookies/step2.html", h.handle(h.thirdPartyStep2))
	const s = "/realms/{realm}/protocol/saml"
	mux.Handle("GET "+s, h.handle(h.samlEndpoint))
	mux.Handle("POST "+s, h.handle(h.samlEndpoint))
	mux.Handle("GET "+s+"/descriptor", h.handle(h.samlDescriptor))
	mux.Handle("GET "+s+"/clients/{client}", h.handle(h.samlIdPInitiated))
	mux.Handle("GET /realms/{realm}/device", h.handle(h.deviceVerify))
	mux.Handle("POST /realms/{realm}/device", h.handle(h.deviceVerify))
	mux.Handle("GET /realms/{realm}/device/status", h.handle(h.deviceStatusPage))
}

func (h *Handler) ui() *ui.UI {
	if h.UI != nil {
		return h.UI
	}
	return ui.Default()
}

func (h *Handler) now() int64 { return h.Now().Unix() }

// pageError is a failure shown to the user as an error page. Key and Args
// are a message; Realm, when known, gives the page its header and locale.
type pageError struct {
	Status int
	Key    string
	Args   []string
	Realm  *realm.Realm
	Err    error // for the log only
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}

func (e *pageError) Unwrap() error { return e.Err }

func errPage(status int, rl *realm.Realm, key string, args ...string) *pageError {
	return &pageError{Status: status, Key: key, Args: args, Realm: rl}
}

// handle adapts a handler that returns errors: a *pageError becomes an
// error page with its status; an overload (a database away, every password
// hash slot taken) a 503 page with Retry-After, as web.Handle answers it;
// anything else is logged and answered with a 500 page that reveals nothing.
func (h *Handler) handle(fn web.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		var down interface{ Unavailable() bool }
		if errors.As(err, &down) && down.Unavailable() {
			h.Log.WarnContext(r.Context(), "service unavailable", "pattern", r.Pattern, "err", err)
			w.Header().Set("Retry-After", "1")
			key := "temporarilyUnavailableMessage"
			var fed *federation.UnavailableError
			if errors.As(err, &fed) {
				// A user storage provider that cannot be reached: the
				// message its users know from Keycloak.
				key = "unexpectedErrorHandlingRequestMessage"
			}
			h.renderMessage(w, r, nil, http.StatusServiceUnavailable, "errorTitle", "error", key)
			return
		}
		var pe *pageError
		if !errors.As(err, &pe) {
			h.Log.ErrorContext(r.Context(), "request failed", "pattern", r.Pattern, "err", err)
			pe = errPage(http.StatusInternalServerError, nil, "internalServerError")
		} else if pe.Err != nil {
			h.Log.DebugContext(r.Context(), "login refused", "pattern", r.Pattern, "reason", pe.Key, "err", pe.Err)
		}
		h.renderMessage(w, r, pe.Realm, pe.Status, "errorTitle", "error", pe.Key, pe.Args...)
	})
}

// renderMessage shows a page holding only a message.
func (h *Handler) renderMessage(w http.ResponseWriter, r *http.Request, rl *realm.Realm, status int, title, kind, key string, args ...string) {
	p := h.page(r, rl, title, "")
	p.Message = &ui.Message{Type: kind, Text: p.T(key, args...)}
	h.render(w, r, rl, status, "message.html", p)
}

// page starts the data of a page in the request's locale.
func (h *Handler) page(r *http.Request, rl *realm.Realm, title, uiLocales string) ui.Page {
	p := ui.Page{Title: title, Resources: h.resources(r), Realm: "Gatehouse"}
	locale := "en"
	if rl != nil {
		p.Realm = displayName(*rl)
		locale = pickLocale(*rl, r, uiLocales)
	}
	p = p.WithLocale(locale)
	if rl != nil {
		p = p.WithTexts(rl.Localization)
	}
	return p
}

// pickLocale applies Keycloak's rule: with internationalization off a realm
// speaks its default locale (English unless set); with it on, the request's
// ui_locales, then Accept-Language, choose among the supported locales.
func pickLocale(rl realm.Realm, r *http.Request, uiLocales string) string {
	if !rl.InternationalizationEnabled {
		return ui.PickLocale(ui.Locales(), "", "", rl.DefaultLocale)
	}
	supported := rl.SupportedLocales
	if len(supported) == 0 {
		supported = ui.Locales()
	}
	if uiLocales == "" {
		uiLocales = r.URL.Query().Get("ui_locales")
	}
	return ui.PickLocale(supported, uiLocales, r.Header.Get("Accept-Language"), rl.DefaultLocale)
}

// displayName is the realm's name as its pages show it. displayNameHtml is
// not rendered: it is HTML written by an administrator, and the page shows
// text only.
func displayName(rl realm.Realm) string {
	if rl.DisplayName != "" {
		return rl.DisplayName
	}
	return rl.Name
}

// render writes a page of the login theme with the security headers every
// such page carries.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, rl *realm.Realm, status int, name string, p ui.Page) {
	pageHeaders(w, rl, "")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := h.ui().Render(w, name, p); err != nil {
		h.Log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
	}
}

// baseCSP is the policy of every login page; a realm's own policy
// (browserSecurityHeaders.contentSecurityPolicy) is sent as a second header,
// and a browser enforces both, so a realm can tighten it but not loosen it.
// Images may also be data: URLs, which is how the authenticator setup page
// shows its QR code without a second request carrying the secret.
const baseCSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'; object-src 'none'; base-uri 'none'"

// pageHeaders sets the security headers of a page: the realm's
// browserSecurityHeaders (Keycloak's defaults when unset) under our baseline.
// script is the CSP source of the page's one inline script, if any.
func pageHeaders(w http.ResponseWriter, rl *realm.Realm, script string) {
	hdr := w.Header()
	sec := realm.DefaultSecurityHeaders()
	if rl != nil && rl.BrowserSecurityHeaders != nil {
		for k, v := range rl.BrowserSecurityHeaders {
			sec[k] = v
		}
	}
	csp := baseCSP
	if script != "" {
		csp += "; script-src " + script
	}
	hdr.Set("Content-Security-Policy", csp)
	if v := strings.TrimSpace(sec["contentSecurityPolicy"]); v != "" {
		hdr.Add("Content-Security-Policy", v)
	}
	if v := strings.TrimSpace(sec["contentSecurityPolicyReportOnly"]); v != "" {
		hdr.Set("Content-Security-Policy-Report-Only", v)
	}
	hdr.Set("X-Frame-Options", headerOr(sec["xFrameOptions"], "SAMEORIGIN"))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", headerOr(sec["referrerPolicy"], "no-referrer"))
	hdr.Set("X-Robots-Tag", headerOr(sec["xRobotsTag"], "none"))
	if v := strings.TrimSpace(sec["strictTransportSecurity"]); v != "" {
		hdr.Set("Strict-Transport-Security", v) // browsers heed it over HTTPS only
	}
	noStore(w)
}

func headerOr(v, dflt string) string {
	if v = strings.TrimSpace(v); v == "" || strings.ContainsAny(v, "\r\n") {
		return dflt
	}
	return v
}

// noStore keeps pages that carry per-login tokens out of every cache.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, must-revalidate, max-age=0")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Expires", "0")
}

// resources is the URL path of the theme's static files.
func (h *Handler) resources(r *http.Request) string {
	return basePath(h.URLs, r) + "/resources/" + h.ui().Version()
}

// basePath is the path part of the server's public base URL ("" or "/auth").
func basePath(u web.URLs, r *http.Request) string { return sso.BasePath(u, r) }

// loadRealm finds the realm named in the path; an unknown or disabled realm
// is a 404 page.
func (h *Handler) loadRealm(r *http.Request) (realm.Realm, error) {
	rl, err := h.Store.GetRealmByName(r.Context(), r.PathValue("realm"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !rl.Enabled) {
		return realm.Realm{}, errPage(http.StatusNotFound, nil, "realmNotFoundMessage")
	}
	return rl, err
}

// clientIP is the caller's address as the connection shows it.
func clientIP(r *http.Request) string { return web.ClientIP(r) }
