package login

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// CONFIGURE_TOTP: Keycloak's login-config-totp page. It shows a fresh
// secret as a QR code (or, with mode=manual, as a key to type with the
// policy's parameters) and stores an OTP credential once the user enters a
// valid code from the app (otp.Setup). A refused code shows the page again
// with the same secret, so the app already set up still matches. The code
// and the secret are never logged.
func init() {
	registerActionPage(otp.RequiredAction, actionPage{Challenge: configTOTPPage, Process: configureTOTP})
}

// totpForm is what the setup page carries from one attempt to the next.
type totpForm struct {
	secret, label, mode string
	// field is the field a refusal is about.
	field string
}

func configTOTPPage(a *actionRun, msg *ui.Message) (bool, error) {
	return true, showConfigTOTP(a, totpForm{mode: a.r.URL.Query().Get("mode")}, msg)
}

// showConfigTOTP renders the setup page; f.secret "" draws a new secret.
func showConfigTOTP(a *actionRun, f totpForm, msg *ui.Message) error {
	if f.secret == "" {
		f.secret = otp.NewSecret()
	}
	pol := a.Realm.OTP()
	creds, err := a.h.Store.ListCredentials(a.r.Context(), a.User.ID)
	if err != nil {
		return err
	}
	png, err := otp.QRCode(otp.KeyURI(a.Realm, a.User, f.secret))
	if err != nil {
		return err
	}
	p := a.page("loginTotpTitle")
	// The page links to itself in the other mode: a GET of the login's
	// current step, which draws a new secret (nothing was scanned yet).
	self := a.h.actionURL(a.r, a.Realm, a.ID, *a.State)
	typ := otp.TOTP
	if pol.Type == otp.HOTP {
		typ = otp.HOTP
	}
	p.TOTP = &ui.TOTPSetup{Secret: f.secret, ManualKey: otp.ManualKey(f.secret),
		QRCode: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Manual: f.mode == "manual", ManualURL: self + "&mode=manual", BarcodeURL: self,
		Type: typ, Algorithm: otp.URIAlgorithm(pol.Algorithm), Digits: pol.Digits, Period: pol.Period, Counter: pol.InitialCounter,
		Apps:          pol.SupportedApplications(),
		Label:         f.label,
		LabelRequired: slices.ContainsFunc(creds, func(c user.Credential) bool { return c.Type == otp.Type }),
		Field:         f.field}
	if !a.Initiated || a.Enforced {
		p.Message = &ui.Message{Type: "warning", Text: p.T("configureTotpMessage")}
	}
	if msg != nil {
		p.Message = msg
	}
	a.render(http.StatusOK, "login-config-totp.html", p)
	return nil
}

func configureTOTP(a *actionRun) (actionResult, error) {
	f := totpForm{secret: posted(a.r, "totpSecret"), label: posted(a.r, "userLabel"), mode: posted(a.r, "mode")}
	_, err := otp.Setup(a.r.Context(), a.h.Store, a.Realm, a.User, f.secret, posted(a.r, "totp"), f.label, a.h.Now())
	var se *otp.SetupError
	if errors.As(err, &se) {
		f.field = se.Field
		locale := a.h.page(a.r, &a.Realm, "", a.State.Req.UILocales).Lang
		return actionShown, showConfigTOTP(a, f, &ui.Message{Type: "error", Text: ui.Text(locale, se.Key)})
	}
	if err != nil {
		return actionShown, err
	}
	a.h.recorder().Record(a.r.Context(), a.Realm, events.Event{Type: events.UpdateTOTP, ClientID: a.Client.ClientID, UserID: a.User.ID,
		IPAddress: clientIP(a.r), Details: map[string]string{events.DetailUsername: a.User.Username, events.DetailCredentialType: otp.Type}})
	return actionDone, nil
}
