package login

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// actionUpdatePassword is the required action that sets a new password.
const actionUpdatePassword = authn.ActionUpdatePassword

// proceed takes a login whose user is known to its next step: required
// actions, then consent, then the code. id is the login in progress ("" when
// an SSO session made a stored one unnecessary so far).
func (h *Handler) proceed(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, u user.User) error {
	if st.Email != nil {
		done, err := h.emailStep(w, r, rl, c, id, &st, u)
		if done {
			return err
		}
		st.Email = nil
	}
	if shown, err := h.requiredActions(w, r, rl, c, id, &st, &u); shown || err != nil {
		return err
	}
	if device := st.Req.DeviceUserCode != ""; c.ConsentRequired || device {
		scopes, err := h.consentScopes(r.Context(), rl, c, u.ID, st.Req)
		if err != nil {
			return err
		}
		if len(scopes) > 0 || device {
			if hasPrompt(st.Req, "none") {
				return h.redirectError(w, r, rl, st.Req, "consent_required", "")
			}
			st.Step = stepConsent
			return h.enterStep(w, r, rl, c, id, st, u)
		}
	}
	return h.issue(w, r, rl, c, id, st, u)
}

// needsAction explains that the account needs a required action this server
// has no page for; the login stops there.
func (h *Handler) needsAction(w http.ResponseWriter, r *http.Request, rl realm.Realm, st loginState, actions []string) error {
	p := h.page(r, &rl, "accountNeedsActionTitle", st.Req.UILocales)
	names := ""
	for i, a := range actions {
		if i > 0 {
			names += ", "
		}
		names += p.T("requiredAction." + a)
	}
	p.Message = &ui.Message{Type: "warning", Text: p.T("accountNeedsActionMessage", names)}
	h.render(w, r, &rl, http.StatusForbidden, "message.html", p)
	return nil
}

// enterStep stores the login at its new step and shows the step's page.
func (h *Handler) enterStep(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, u user.User) error {
	id, st, err := h.enter(w, r, rl, id, st)
	if err != nil {
		return err
	}
	return h.showStepPage(w, r, rl, c, id, st, u, nil)
}

// showStepPage renders the page of the login's current step, with msg (an
// error of the last attempt) when not nil.
func (h *Handler) showStepPage(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, u user.User, msg *ui.Message) error {
	switch st.Step {
	case stepRequiredAction:
		run, page, err := h.currentAction(w, r, rl, c, id, &st, u)
		if err != nil {
			return err
		}
		if shown, err := page.Challenge(run, msg); shown || err != nil {
			return err
		}
		st.Skipped = append(st.Skipped, st.Action)
		return h.proceed(w, r, rl, c, id, st, u)
	case stepResetPassword:
		return h.showSideFlowPage(w, r, rl, c, id, st, resetFlow)
	case stepFirstBroker:
		return h.showFirstBrokerPage(w, r, rl, c, id, st)
	case stepRegister:
		return h.showSideFlowPage(w, r, rl, c, id, st, registrationFlow)
	case stepConsent:
		scopes, err := h.consentScopes(r.Context(), rl, c, u.ID, st.Req)
		if err != nil {
			return err
		}
		p := h.page(r, &rl, "oauthGrantTitle", st.Req.UILocales)
		p.Action, p.CSRF = h.actionURL(r, rl, id, st), st.CSRF
		p.Client = clientName(p.Lang, c)
		p.TitleArgs = []string{p.Client}
		for _, s := range scopes {
			text := s.Attributes["consent.screen.text"]
			if text == "" {
				text = s.Name
			}
			p.Scopes = append(p.Scopes, ui.Resolve(p.Lang, text))
		}
		p.Message = msg
		h.render(w, r, &rl, http.StatusOK, "consent.html", p)
		return nil
	default:
		return h.showFlowPage(w, r, rl, c, id, st)
	}
}

// clientName is how pages name a client: its name (which may be a message
// reference such as "${client_account}") or its clientId.
func clientName(locale string, c client.Client) string {
	if c.Name != "" {
		return ui.Resolve(locale, c.Name)
	}
	return c.ClientID
}

// loginRequest loads what every login-actions POST needs: the realm, the
// parameters, the login in progress (bound to this browser and tab) and a
// matching CSRF token, and the login's client.
func (h *Handler) loginRequest(w http.ResponseWriter, r *http.Request, csrf bool) (realm.Realm, params, string, loginState, client.Client, error) {
	var (
		st loginState
		c  client.Client
	)
	rl, err := h.loadRealm(r)
	if err != nil {
		return rl, nil, "", st, c, err
	}
	p, err := readParams(w, r, &rl)
	if err != nil {
		return rl, nil, "", st, c, err
	}
	id, st, err := h.loadState(r, rl, p)
	if err != nil {
		return rl, p, "", st, c, err
	}
	if csrf {
		if err := checkCSRF(rl, p, st); err != nil {
			return rl, p, "", st, c, err
		}
	}
	if l, ok := chosenLocale(rl, p); ok && st.Logout == nil && l != st.Locale {
		// The user picked a language on the pages: they speak it from now
		// on, and update_user_locale makes it the user's own at the end.
		st.Locale, st.Req.UILocales = l, l
		if _, err := h.saveState(r, rl, id, st); err != nil {
			return rl, p, "", st, c, err
		}
	}
	if st.Logout != nil {
		return rl, p, id, st, c, nil
	}
	c, err = h.Store.GetClient(r.Context(), rl.ID, st.Client)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return rl, p, "", st, c, errPage(http.StatusBadRequest, &rl, "clientDisabledMessage")
	}
	return rl, p, id, st, c, err
}

// loginUser loads the user a login has identified, who must still exist
// and be enabled.
func (h *Handler) loginUser(r *http.Request, rl realm.Realm, st loginState) (user.User, error) {
	u, err := h.Store.GetUser(r.Context(), rl.ID, st.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.Enabled) {
		return u, errPage(http.StatusBadRequest, &rl, "expiredCodeMessage")
	}
	return u, err
}

// showStep serves GET /login-actions/{action}: the current page of a login
// in progress, for a browser that reloads or comes back to it.
func (h *Handler) showStep(w http.ResponseWriter, r *http.Request) error {
	rl, _, id, st, c, err := h.loginRequest(w, r, false)
	if err != nil {
		return err
	}
	if st.Logout != nil {
		return h.showLogoutConfirm(w, r, rl, id, st)
	}
	// "Back to login" from the forgot-password or registration page.
	if r.PathValue("action") == stepAction[stepLogin] && (st.Step == stepResetPassword || st.Step == stepRegister) {
		st.Step = stepLogin
		if _, err := h.saveState(r, rl, id, st); err != nil {
			return err
		}
	}
	var u user.User
	if st.Step != stepLogin && st.Step != stepResetPassword && st.Step != stepRegister && st.Step != stepFirstBroker {
		if u, err = h.loginUser(r, rl, st); err != nil {
			return err
		}
	}
	return h.showStepPage(w, r, rl, c, id, st, u, nil)
}

// consent serves the consent page's POST: Accept stores the grant and
// finishes the login; Decline sends access_denied to the client.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) error {
	rl, p, id, st, c, err := h.loginRequest(w, r, true)
	if err != nil {
		return err
	}
	if st.Step != stepConsent {
		return h.showStep(w, r)
	}
	u, err := h.loginUser(r, rl, st)
	if err != nil {
		return err
	}
	if p.has("cancel") {
		if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
			return err
		}
		h.consentDenied(r, rl, c, st, u)
		return h.redirectError(w, r, rl, st.Req, "access_denied", "")
	}
	if !p.has("accept") {
		return h.showStepPage(w, r, rl, c, id, st, u, nil)
	}
	scopes, err := h.consentScopes(r.Context(), rl, c, u.ID, st.Req)
	if err != nil {
		return err
	}
	ids := make([]string, len(scopes))
	for i, s := range scopes {
		ids[i] = s.ID
	}
	if len(ids) > 0 {
		if err := h.Store.GrantConsent(r.Context(), u.ID, c.ID, ids, h.Now().UnixMilli()); err != nil {
			return err
		}
	}
	return h.issue(w, r, rl, c, id, st, u)
}
