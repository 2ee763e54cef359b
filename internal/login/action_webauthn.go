package login

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
)

// webauthn-register and webauthn-register-passwordless: Keycloak's
// webauthn-register page. It starts a registration ceremony under the
// realm's policy for the type (the challenge is kept with the login in
// the database, so any node can finish it), and stores the credential the
// browser's authenticator answers with once the library has verified it.
// A refused answer shows the page again with a new challenge, records
// CUSTOM_REQUIRED_ACTION_ERROR and stores nothing; a registration records
// CUSTOM_REQUIRED_ACTION, as Keycloak's does.
func init() {
	registerActionPage(webauthn.ActionRegister, actionPage{
		Challenge: func(a *actionRun, msg *ui.Message) (bool, error) {
			return true, showWebAuthnRegister(a, webauthn.TypeTwoFactor, msg)
		},
		Process: func(a *actionRun) (actionResult, error) { return registerWebAuthn(a, webauthn.TypeTwoFactor) },
	})
	registerActionPage(webauthn.ActionRegisterPasswordless, actionPage{
		Challenge: func(a *actionRun, msg *ui.Message) (bool, error) {
			return true, showWebAuthnRegister(a, webauthn.TypePasswordless, msg)
		},
		Process: func(a *actionRun) (actionResult, error) { return registerWebAuthn(a, webauthn.TypePasswordless) },
	})
}

func showWebAuthnRegister(a *actionRun, typ string, msg *ui.Message) error {
	title := "webauthn-registration-title"
	if typ == webauthn.TypePasswordless {
		title = "passkey-registration-title"
	}
	p := a.page(title)
	cer, err := webauthn.BeginRegistration(a.r.Context(), a.h.Store, a.Realm, typ, origin(a.h.URLs.Base(a.r)), a.User)
	var we *webauthn.Error
	if errors.As(err, &we) {
		// No ceremony can start at this address: the page says so and
		// offers no button.
		a.h.Log.WarnContext(a.r.Context(), "webauthn registration unavailable", "realm", a.Realm.Name, "detail", we.Detail)
		p.Message = &ui.Message{Type: "error", Text: p.T(we.Key)}
		a.render(http.StatusOK, "webauthn-register.html", p)
		return nil
	}
	if err != nil {
		return err
	}
	a.State.WebAuthn = cer.State
	if _, err := a.h.saveState(a.r, a.Realm, a.ID, *a.State); err != nil {
		return err
	}
	p.WebAuthn = &ui.WebAuthnCeremony{Mode: "create", Options: cer.Options, Passwordless: typ == webauthn.TypePasswordless}
	p.Message = msg
	a.render(http.StatusOK, "webauthn-register.html", p)
	return nil
}

func registerWebAuthn(a *actionRun, typ string) (actionResult, error) {
	state := a.State.WebAuthn
	// The challenge answers once, whatever the answer.
	a.State.WebAuthn = ""
	details := map[string]string{events.DetailUsername: a.User.Username, events.DetailCredentialType: typ,
		events.DetailCustomAction: webauthn.RegisterAction(typ)}
	refused := func(key, event, detail string) (actionResult, error) {
		a.h.Log.InfoContext(a.r.Context(), "webauthn registration refused", "realm", a.Realm.Name, "user", a.User.ID, "detail", detail)
		a.h.recorder().Record(a.r.Context(), a.Realm, events.Event{Type: events.CustomRequiredActionError, ClientID: a.Client.ClientID,
			UserID: a.User.ID, IPAddress: clientIP(a.r), Error: event, Details: details})
		locale := a.h.page(a.r, &a.Realm, "", a.State.Req.UILocales).Lang
		return actionShown, showWebAuthnRegister(a, typ, &ui.Message{Type: "error", Text: ui.Text(locale, key)})
	}
	if e := posted(a.r, "error"); e != "" {
		return refused("webauthn-error-registration", "invalid_registration", "browser: "+e)
	}
	cred, err := webauthn.FinishRegistration(a.r.Context(), a.h.Store, a.Realm, typ, origin(a.h.URLs.Base(a.r)), a.User,
		state, posted(a.r, "webauthnResponse"), posted(a.r, "authenticatorLabel"), a.h.Now())
	var we *webauthn.Error
	if errors.As(err, &we) {
		return refused(we.Key, we.Event, we.Detail)
	}
	if err != nil {
		return actionShown, err
	}
	details[events.DetailCredentialID] = cred.ID
	a.h.recorder().Record(a.r.Context(), a.Realm, events.Event{Type: events.CustomRequiredAction, ClientID: a.Client.ClientID,
		UserID: a.User.ID, IPAddress: clientIP(a.r), Details: details})
	return actionDone, nil
}
