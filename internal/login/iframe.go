package login

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// The pages below are made to be framed by applications on other origins,
// so unlike the login pages they carry no frame-ancestors or X-Frame-Options.
// Each allows its one inline script by hash, and nothing else.

// loginStatusIframe serves the check_session_iframe keycloak-js embeds to
// notice a logout in another tab (see static/login-status-iframe.js).
func (h *Handler) loginStatusIframe(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.loadRealm(r); err != nil {
		return err
	}
	return h.framedPage(w, r, "login-status-iframe.html", "login-status-iframe.js", "; connect-src 'self'", ui.Page{})
}

// loginStatusInit answers the iframe's check that an application origin may
// ask about sessions for a client: 204 when origin is one of the client's
// web origins (or the server's own), 403 otherwise (Keycloak's answers).
func (h *Handler) loginStatusInit(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	forbidden := func() error { w.WriteHeader(http.StatusForbidden); return nil }
	if err != nil || len(q["client_id"]) != 1 || len(q["origin"]) != 1 {
		return forbidden()
	}
	c, err := h.Store.GetClientByClientID(r.Context(), rl.ID, q.Get("client_id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return forbidden()
	}
	if err != nil {
		return err
	}
	origin := q.Get("origin")
	// The server's own origin may ask as well, as in Keycloak.
	base := h.URLs.Base(r)
	allowed := append(c.AllowedOrigins(base), client.Origin(base))
	if origin == "" || (!slices.Contains(allowed, "*") && !slices.Contains(allowed, origin)) {
		return forbidden()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// thirdPartyStep1 starts keycloak-js's third-party-cookie check: it sets a
// test cookie and sends the frame on to step 2, which reports whether the
// cookie came back.
func (h *Handler) thirdPartyStep1(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	noStore(w)
	h.setCookie(w, r, rl, cookie3PCheck, "supported", 60, true)
	redirect(w, "step2.html")
	return nil
}

// thirdPartyStep2 posts "supported" or "unsupported" to the framing page.
func (h *Handler) thirdPartyStep2(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	result := "unsupported"
	if c, err := r.Cookie(cookie3PCheck); err == nil && c.Value == "supported" {
		result = "supported"
		h.setCookie(w, r, rl, cookie3PCheck, "", -1, true)
	}
	return h.framedPage(w, r, "3p-cookies-step2.html", "3p-cookies-step2.js", "", ui.Page{Result: result})
}

// framedPage writes a standalone page meant for an iframe.
func (h *Handler) framedPage(w http.ResponseWriter, r *http.Request, name, script, extraCSP string, p ui.Page) error {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src "+h.ui().ScriptSource(script)+extraCSP+"; base-uri 'none'")
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	noStore(w)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	return h.ui().Render(w, name, p.WithLocale("en"))
}
