package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/backchannel"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// logoutRequest is a validated RP-initiated logout.
type logoutRequest struct {
	ClientID   string `json:"client_id,omitempty"`
	RedirectTo string `json:"redirect_to,omitempty"` // checked post_logout_redirect_uri
	State      string `json:"state,omitempty"`
	// Session is the sid of the id_token_hint: the session to end.
	Session   string `json:"session,omitempty"`
	UILocales string `json:"ui_locales,omitempty"`
}

// logout serves GET .../logout, OpenID Connect RP-Initiated Logout 1.0 as
// Keycloak 26 implements it. Every parameter is checked before anything
// ends: a bad hint or redirect URI is an error page and the session lives
// on. With a valid id_token_hint the session ends at once; without one the
// user confirms on a page, since a GET anyone can link to must not log a
// user out (the form is CSRF-protected).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	p, err := readParams(w, r, &rl)
	if err != nil {
		return err
	}
	if p.has("redirect_uri") {
		// Removed in Keycloak 26 in favour of post_logout_redirect_uri.
		return errPage(http.StatusBadRequest, &rl, "invalidParameterMessage", "redirect_uri")
	}
	hint, clientID, postLogout := p.get("id_token_hint"), p.get("client_id"), p.get("post_logout_redirect_uri")
	if p.has("post_logout_redirect_uri") && hint == "" && clientID == "" {
		return errPage(http.StatusBadRequest, &rl, "missingParameterMessage", "id_token_hint")
	}
	lr := logoutRequest{ClientID: clientID, State: p.get("state"), UILocales: p.get("ui_locales")}
	confirm, forced := true, false
	var c *client.Client
	if clientID != "" {
		found, err := h.Store.GetClientByClientID(ctx, rl.ID, clientID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			forced = true
		case err != nil:
			return err
		default:
			c = &found
		}
	}
	if hint != "" {
		idt, err := h.verifyIDTokenHint(r, rl, hint)
		if err != nil {
			return &pageError{Status: http.StatusBadRequest, Key: "invalidParameterMessage", Args: []string{"id_token_hint"}, Realm: &rl, Err: err}
		}
		lr.Session = idt.Sid
		switch {
		case clientID == "" && idt.Azp != "":
			found, err := h.Store.GetClientByClientID(ctx, rl.ID, idt.Azp)
			if err == nil {
				c, confirm, lr.ClientID = &found, false, found.ClientID
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		case clientID != "" && idt.Azp != "":
			if idt.Azp != clientID {
				return &pageError{Status: http.StatusBadRequest, Key: "invalidParameterMessage", Args: []string{"id_token_hint"},
					Realm: &rl, Err: errors.New("client_id differs from the hint's azp")}
			}
			confirm = false
		}
	}
	if postLogout != "" {
		if c == nil {
			return errPage(http.StatusBadRequest, &rl, "invalidRedirectUriMessage")
		}
		target, ok := c.PostLogoutRules(h.URLs.Base(r)).Match(postLogout)
		if !ok {
			return &pageError{Status: http.StatusBadRequest, Key: "invalidRedirectUriMessage", Realm: &rl,
				Err: errors.New("post_logout_redirect_uri not registered for " + c.ClientID)}
		}
		lr.RedirectTo = target
	}
	sso, hasSSO, err := h.ssoSession(ctx, r, rl)
	if err != nil {
		return err
	}
	switch {
	case hasSSO && lr.Session != "" && lr.Session != sso.us.ID:
		// The hint names another session than this browser's: ask.
		forced = true
	case !hasSSO && hint == "" && c != nil && lr.RedirectTo != "":
		// Nothing to end and a checked place to go: no need to ask.
		confirm = false
	}
	if confirm || forced {
		st := loginState{Step: stepLogoutConfirm, Logout: &lr}
		id, st, err := h.enter(w, r, rl, "", st)
		if err != nil {
			return err
		}
		return h.showLogoutConfirm(w, r, rl, id, st)
	}
	return h.endSession(w, r, rl, lr)
}

// verifyIDTokenHint checks an ID token of this realm: signature with the
// realm's key (expired tokens are fine, as in Keycloak), type and issuer.
func (h *Handler) verifyIDTokenHint(r *http.Request, rl realm.Realm, raw string) (token.Parsed, error) {
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return token.Parsed{}, err
	}
	claims, err := token.VerifySigned(raw, ks)
	if err != nil {
		return token.Parsed{}, err
	}
	p, err := token.Parse(claims)
	if err != nil {
		return token.Parsed{}, err
	}
	if p.Typ != token.TypeID || p.Iss != h.URLs.RealmURL(r, rl.Name) {
		return token.Parsed{}, errors.New("not an ID token of this realm")
	}
	return p, nil
}

// showLogoutConfirm renders the "Do you want to log out?" page.
func (h *Handler) showLogoutConfirm(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState) error {
	p := h.page(r, &rl, "logoutConfirmTitle", st.Logout.UILocales)
	p.Action = basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/protocol/openid-connect/logout/logout-confirm?session_code=" +
		urlQueryEscape(id) + "&tab_id=" + urlQueryEscape(st.TabID)
	if st.Logout.ClientID != "" {
		p.Action += "&client_id=" + urlQueryEscape(st.Logout.ClientID)
	}
	p.CSRF = st.CSRF
	h.render(w, r, &rl, http.StatusOK, "logout-confirm.html", p)
	return nil
}

// logoutConfirm serves the confirmation form's POST.
func (h *Handler) logoutConfirm(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	p, err := readParams(w, r, &rl)
	if err != nil {
		return err
	}
	id, st, err := h.loadState(r, rl, p)
	if err == nil {
		err = checkCSRF(rl, p, st)
	}
	if err == nil && (st.Logout == nil || st.Step != stepLogoutConfirm || !p.has("confirmLogout") ||
		p.get("client_id") != st.Logout.ClientID) {
		err = errors.New("not a logout confirmation")
	}
	if err != nil {
		return &pageError{Status: http.StatusBadRequest, Key: "failedLogout", Realm: &rl, Err: err}
	}
	if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
		return err
	}
	return h.endSession(w, r, rl, *st.Logout)
}

// endSession ends the SSO session (the hint's, else the browser's) with its
// client sessions; offline sessions are separate and stay. Clients with
// front-channel logout get their logout URL loaded in the browser first;
// then the browser goes to the checked post-logout URI with the state, or
// sees "You are logged out".
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, rl realm.Realm, lr logoutRequest) error {
	ctx := r.Context()
	sso, hasSSO, err := h.ssoSession(ctx, r, rl)
	if err != nil {
		return err
	}
	sid := lr.Session
	if sid == "" && hasSSO {
		sid = sso.us.ID
	}
	var frontChannel []ui.FrontChannelApp
	var samlClients []samlParticipant
	if sid != "" {
		us, err := h.Store.GetUserSession(ctx, rl.ID, sid)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case !us.Offline:
			if frontChannel, err = h.frontChannelApps(ctx, r, rl, sid); err != nil {
				return err
			}
			if samlClients, err = h.samlParticipants(ctx, r, rl, sid, ""); err != nil {
				return err
			}
			if err := h.Store.DeleteUserSession(backchannel.WithBrowserLogout(ctx), rl.ID, sid); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			h.Log.InfoContext(ctx, "logout", "realm", rl.Name, "client", lr.ClientID, "session", sid)
			h.loggedOut(r, rl, lr, us)
		}
	}
	if !hasSSO || sso.us.ID == sid {
		h.expireSSOCookies(w, r, rl)
	}
	loc := lr.RedirectTo
	if loc != "" && lr.State != "" {
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		loc += sep + "state=" + urlQueryEscape(lr.State)
	}
	if len(samlClients) > 0 {
		// The session's SAML clients are logged out through the browser
		// first (saml_logout.go), then the front channel, then loc.
		return h.samlLogoutStart(w, r, rl, samlLogout{Pending: samlClients, FrontChannel: frontChannel, Then: loc,
			UILocales: lr.UILocales})
	}
	if len(frontChannel) > 0 {
		h.renderFrontChannelLogout(w, r, rl, frontChannel, loc, lr.UILocales)
		return nil
	}
	if loc != "" {
		noStore(w)
		redirect(w, loc)
		return nil
	}
	p := h.page(r, &rl, "successLogout", lr.UILocales)
	p.Message = &ui.Message{Type: "success", Text: p.T("successLogout")}
	h.render(w, r, &rl, http.StatusOK, "message.html", p)
	return nil
}
