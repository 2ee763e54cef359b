package login

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The CONFIGURE_TOTP required action: Keycloak's login-config-totp page,
// which shows a fresh secret as a QR code (or, with mode=manual, as a key
// to type) and stores an OTP credential once the user enters a valid code
// from the app (package otp's Setup).

// totpForm is what the setup page carries from one attempt to the next.
type totpForm struct {
	secret, label, mode string
	// field is the field a refusal is about.
	field string
}

// configTOTPPage builds the setup page for u. f.secret "" draws a new
// secret; action is where the form posts, and f.mode "manual" shows the
// key instead of the QR code. The page links to itself in the other mode
// through modeURL.
func (h *Handler) configTOTPPage(r *http.Request, rl realm.Realm, u user.User, action, csrf, uiLocales string, f totpForm,
	modeURL func(mode string) string, msg *ui.Message) (ui.Page, error) {
	if f.secret == "" {
		f.secret = otp.NewSecret()
	}
	pol := rl.OTP()
	creds, err := h.Store.ListCredentials(r.Context(), u.ID)
	if err != nil {
		return ui.Page{}, err
	}
	has := slices.ContainsFunc(creds, func(c user.Credential) bool { return c.Type == otp.Type })
	png, err := otp.QRCode(otp.KeyURI(rl, u, f.secret))
	if err != nil {
		return ui.Page{}, err
	}
	p := h.page(r, &rl, "loginTotpTitle", uiLocales)
	p.Action, p.CSRF, p.Username = action, csrf, u.Username
	p.TOTP = &ui.TOTPSetup{Secret: f.secret, ManualKey: otp.ManualKey(f.secret),
		QRCode: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Manual: f.mode == "manual", ManualURL: modeURL("manual"), BarcodeURL: modeURL(""),
		Type: pol.Type, Algorithm: otp.URIAlgorithm(pol.Algorithm), Digits: pol.Digits, Period: pol.Period, Counter: pol.InitialCounter,
		Apps: pol.SupportedApplications(), Label: f.label, LabelRequired: has, Field: f.field}
	if p.TOTP.Type != otp.HOTP {
		p.TOTP.Type = otp.TOTP
	}
	p.Message = msg
	if msg == nil {
		p.Message = &ui.Message{Type: "warning", Text: p.T("configureTotpMessage")}
	}
	return p, nil
}

// showConfigTOTP renders the setup page of a login at stepConfigureTOTP.
func (h *Handler) showConfigTOTP(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState, u user.User, f totpForm, msg *ui.Message) error {
	action := h.actionURL(r, rl, id, st)
	modeURL := func(mode string) string {
		if mode == "" {
			return action
		}
		return action + "&mode=" + urlQueryEscape(mode)
	}
	if f.mode == "" {
		f.mode = r.URL.Query().Get("mode")
	}
	p, err := h.configTOTPPage(r, rl, u, action, st.CSRF, st.Req.UILocales, f, modeURL, msg)
	if err != nil {
		return err
	}
	h.render(w, r, &rl, http.StatusOK, "login-config-totp.html", p)
	return nil
}

// configureTOTP serves the setup page's POST: on a valid code the
// credential is stored and CONFIGURE_TOTP cleared in one transaction, and
// the login goes on; otherwise the page comes back with the same secret
// and Keycloak's message. The code and the secret are never logged.
func (h *Handler) configureTOTP(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, u user.User) error {
	f := totpForm{secret: posted(r, "totpSecret"), label: posted(r, "userLabel"), mode: posted(r, "mode")}
	err := h.Store.InTx(r.Context(), func(tx *store.DB) error {
		if _, err := otp.Setup(r.Context(), tx, rl, u, f.secret, posted(r, "totp"), f.label, h.Now()); err != nil {
			return err
		}
		return tx.UpdateUser(r.Context(), rl.ID, u.ID, func(x *user.User) error {
			x.RequiredActions = slices.DeleteFunc(x.RequiredActions, func(a string) bool { return a == otp.RequiredAction })
			return nil
		})
	})
	var se *otp.SetupError
	if errors.As(err, &se) {
		f.field = se.Field
		locale := h.page(r, &rl, "", st.Req.UILocales).Lang
		return h.showConfigTOTP(w, r, rl, id, st, u, f, &ui.Message{Type: "error", Text: ui.Text(locale, se.Key)})
	}
	if err != nil {
		return err
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.UpdateTOTP, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: u.Username, events.DetailCredentialType: otp.Type}})
	if u, err = h.loginUser(r, rl, st); err != nil {
		return err
	}
	return h.proceed(w, r, rl, c, id, st, u)
}
