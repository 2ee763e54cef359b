package login

import (
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// VERIFY_EMAIL: the page says a link was mailed to the user's address and
// offers to send it again; the link (a verify-email action token naming
// this login) marks the address verified and, in this browser, takes the
// login on to the client (actionToken). The realm's verifyEmail setting
// adds the action to users whose address is not verified (authn's trigger).
// An account without an address has nothing to verify: the action does not
// apply to it.
func init() {
	registerActionPage(actionVerifyEmail, actionPage{Challenge: verifyEmailPage, Process: verifyEmailForm})
}

func verifyEmailPage(a *actionRun, msg *ui.Message) (bool, error) {
	if a.User.Email == "" {
		return false, nil
	}
	if !a.State.VerifySent {
		a.State.VerifySent = true
		if _, err := a.h.saveState(a.r, a.Realm, a.ID, *a.State); err != nil {
			return false, err
		}
		a.h.sendLink(a.r, a.Realm, a.Client, a.ID, *a.State, a.User, token.ActionVerifyEmail)
	}
	p := a.page("emailVerifyTitle")
	p.Username = a.User.Email
	p.Message = msg
	a.render(http.StatusOK, "login-verify-email.html", p)
	return true, nil
}

// verifyEmailForm serves the page's POST: the login goes on once the
// address is verified (through the link opened elsewhere); until then the
// page sends the link again when asked.
func verifyEmailForm(a *actionRun) (actionResult, error) {
	u, err := a.h.Store.GetUser(a.r.Context(), a.Realm.ID, a.User.ID)
	if err != nil {
		return actionShown, err
	}
	if u.EmailVerified || !slices.Contains(u.RequiredActions, actionVerifyEmail) {
		return actionDone, nil
	}
	var msg *ui.Message
	if posted(a.r, "resend") != "" {
		a.h.sendLink(a.r, a.Realm, a.Client, a.ID, *a.State, a.User, token.ActionVerifyEmail)
		locale := a.h.page(a.r, &a.Realm, "", a.State.Req.UILocales).Lang
		msg = &ui.Message{Type: "success", Text: ui.Text(locale, "emailSentMessage")}
	}
	_, err = verifyEmailPage(a, msg)
	return actionShown, err
}
