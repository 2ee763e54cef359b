package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// "Forgot password": Keycloak's reset-credentials flow. The page asks for a
// username or email (reset-credentials-choose-user); a known, enabled user
// with an address is mailed a reset-credentials link (reset-credential-email);
// the link opens the new-password page (reset-password), whose password goes
// through the realm's policy and history like every other (authn.SetPassword).
// The answer is the same whether or not the account exists, and the mail
// leaves in the background, so neither the page nor its timing tells.

// resetURL is the login page's "forgot password" link for the login id.
func (h *Handler) resetURL(r *http.Request, rl realm.Realm, id string, st loginState) string {
	st.Step = stepResetPassword
	return h.actionURL(r, rl, id, st)
}

// resetCredentials serves GET and POST /login-actions/reset-credentials.
func (h *Handler) resetCredentials(w http.ResponseWriter, r *http.Request) error {
	post := r.Method == http.MethodPost
	rl, _, id, st, c, err := h.loginRequest(w, r, post)
	if err != nil {
		return err
	}
	if !rl.ResetPasswordAllowed {
		return errPage(http.StatusBadRequest, &rl, "resetCredentialNotAllowedMessage")
	}
	if st.Logout != nil || (st.Step != stepLogin && st.Step != stepResetPassword) {
		return h.showStep(w, r)
	}
	if st.Step != stepResetPassword {
		st.Step = stepResetPassword
		if _, err := h.saveState(r, rl, id, st); err != nil {
			return err
		}
	}
	if !post {
		return h.showResetPage(w, r, rl, id, st, "", nil)
	}
	locale := h.page(r, &rl, "", st.Req.UILocales).Lang
	name := strings.TrimSpace(posted(r, "username"))
	if name == "" {
		return h.showResetPage(w, r, rl, id, st, "", &ui.Message{Type: "error", Text: ui.Text(locale, "missingUsernameMessage")})
	}
	u, err := authn.Checker{Store: h.Store, Log: h.Log}.FindUser(r.Context(), rl, name)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != ""):
		h.resetRefused(r, rl, c, name, "", "user_not_found")
	case err != nil:
		return err
	case !u.Enabled:
		h.resetRefused(r, rl, c, name, u.ID, "user_disabled")
	case u.Email == "":
		h.resetRefused(r, rl, c, name, u.ID, "invalid_email")
	default:
		h.sendLink(r, rl, c, id, st, u, token.ActionResetCredentials)
	}
	// Back to the sign-in form, with the same words for everyone.
	st.Step = stepLogin
	if _, err := h.saveState(r, rl, id, st); err != nil {
		return err
	}
	st.Flash = &ui.Message{Type: "success", Text: ui.Text(locale, "emailSentMessage")}
	return h.showFlowPage(w, r, rl, c, id, st)
}

// resetRefused records SEND_RESET_PASSWORD_ERROR: the administrator learns
// why no mail left; the user is told nothing different.
func (h *Handler) resetRefused(r *http.Request, rl realm.Realm, c client.Client, name, userID, code string) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.SendResetPasswordError, ClientID: c.ClientID, UserID: userID,
		IPAddress: clientIP(r), Error: code, Details: map[string]string{events.DetailUsername: name}})
}

// showResetPage renders the "forgot password" form.
func (h *Handler) showResetPage(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState, username string, msg *ui.Message) error {
	p := h.page(r, &rl, "emailForgotTitle", st.Req.UILocales)
	st.Step = stepResetPassword
	p.Action, p.CSRF, p.Username = h.actionURL(r, rl, id, st), st.CSRF, username
	p.UsernameLabel = "usernameOrEmail"
	st.Step = stepLogin
	p.ContinueTo = h.actionURL(r, rl, id, st)
	p.Message = msg
	if msg != nil && msg.Type == "error" {
		p.FieldError = true
	}
	h.render(w, r, &rl, http.StatusOK, "login-reset-password.html", p)
	return nil
}
