package login

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// UPDATE_PASSWORD: the user chooses a new password, under the realm's
// password policy, through authn.SetPassword like every password change.
func init() {
	registerActionPage(actionUpdatePassword, actionPage{Challenge: updatePasswordPage, Process: updatePassword})
}

func updatePasswordPage(a *actionRun, msg *ui.Message) (bool, error) {
	p := a.page("updatePasswordTitle")
	if n := user.PolicyMinLength(a.Realm.PasswordPolicy); n > 0 {
		p.PasswordHint = p.T("passwordMinLengthHint", strconv.Itoa(n))
	}
	if !a.Initiated || a.Enforced {
		p.Message = &ui.Message{Type: "warning", Text: p.T("updatePasswordMessage")}
	}
	if msg != nil {
		p.Message, p.FieldError = msg, true
	}
	a.render(http.StatusOK, "update-password.html", p)
	return true, nil
}

func updatePassword(a *actionRun) (actionResult, error) {
	locale := a.h.page(a.r, &a.Realm, "", a.State.Req.UILocales).Lang
	retry := func(key string, args ...string) (actionResult, error) {
		_, err := updatePasswordPage(a, &ui.Message{Type: "error", Text: ui.Text(locale, key, args...)})
		return actionShown, err
	}
	pw, confirm := posted(a.r, "password-new"), posted(a.r, "password-confirm")
	switch {
	case pw == "":
		return retry("missingPasswordMessage")
	case pw != confirm:
		return retry("notMatchPasswordMessage")
	}
	err := authn.SetPassword(a.r.Context(), a.h.Store, a.Realm, a.User, pw, false, a.h.Now())
	var pe *user.PolicyError
	if errors.As(err, &pe) {
		return retry(pe.Key, pe.Params...)
	}
	if err != nil {
		return actionShown, err
	}
	a.h.passwordUpdated(a.r, a.Realm, a.Client, a.User)
	return actionDone, nil
}
