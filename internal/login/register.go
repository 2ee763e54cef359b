package login

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Self-registration: Keycloak's registration flow, whose "registration
// form" (registration-page-form) runs registration-user-creation (the
// user profile's rules and the duplicate checks of user creation,
// rep.CreateUser), registration-password-action (the realm's password
// policy, authn.CheckNewPassword), and, when enabled,
// registration-terms-and-conditions. registration-recaptcha-action is a
// no-op while it has no configuration; configured, it is refused plainly,
// since Gatehouse does not call Google's service. A registered user is
// signed in, and with the realm's verifyEmail on, first asked to verify
// the address.

// Authenticators of the registration form.
const (
	authRecaptcha = "registration-recaptcha-action"
	authTerms     = "registration-terms-and-conditions"
)

// registerURL is the login page's "register" link for the login id.
func (h *Handler) registerURL(r *http.Request, rl realm.Realm, id string, st loginState) string {
	st.Step = stepRegister
	return h.actionURL(r, rl, id, st)
}

// registrationForm says which optional parts of the registration form are
// on: the terms to accept, and a configured reCAPTCHA.
func (h *Handler) registrationForm(ctx context.Context, rl realm.Realm) (terms, recaptcha bool, err error) {
	cfg, err := h.Store.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return false, false, err
	}
	alias := cfg.Bindings.Registration
	if alias == "" {
		alias = "registration"
	}
	seen := map[string]bool{}
	var walk func(alias string)
	walk = func(alias string) {
		if seen[alias] {
			return
		}
		seen[alias] = true
		for _, f := range cfg.Flows {
			if f.Alias != alias {
				continue
			}
			for _, e := range f.Executions {
				enabled := e.Requirement != "" && e.Requirement != flow.Disabled
				switch {
				case e.AuthenticatorFlow && enabled:
					walk(e.FlowAlias)
				case e.Authenticator == authTerms && enabled:
					terms = true
				case e.Authenticator == authRecaptcha && enabled && e.AuthenticatorConfig != "":
					recaptcha = true
				}
			}
		}
	}
	walk(alias)
	return terms, recaptcha, nil
}

// register serves GET and POST /login-actions/registration.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	post := r.Method == http.MethodPost
	rl, _, id, st, c, err := h.loginRequest(w, r, post)
	if err != nil {
		return err
	}
	if !rl.RegistrationAllowed {
		return errPage(http.StatusBadRequest, &rl, "registrationNotAllowedMessage")
	}
	if st.Logout != nil || (st.Step != stepLogin && st.Step != stepRegister) {
		return h.showStep(w, r)
	}
	terms, recaptcha, err := h.registrationForm(r.Context(), rl)
	if err != nil {
		return err
	}
	if recaptcha {
		return errPage(http.StatusBadRequest, &rl, "recaptchaNotConfigured")
	}
	if st.Step != stepRegister {
		st.Step = stepRegister
		if _, err := h.saveState(r, rl, id, st); err != nil {
			return err
		}
	}
	if !post {
		return h.showRegisterPage(w, r, rl, id, st, nil, nil)
	}
	form := map[string]string{}
	for _, k := range []string{"firstName", "lastName", "email", "username"} {
		form[k] = strings.TrimSpace(posted(r, k))
	}
	if rl.RegistrationEmailAsUsername {
		form["username"] = form["email"]
	}
	locale := h.page(r, &rl, "", st.Req.UILocales).Lang
	fieldErrs := map[string]string{}
	cfg := profile.Load(rl.UserProfile)
	values := profile.Values(nil, form["username"], form["email"], form["firstName"], form["lastName"])
	if errs := cfg.Validate(profile.Account(true), nil, values); errs != nil {
		for _, fe := range errs.List {
			field := fe.Field
			if field == "username" && rl.RegistrationEmailAsUsername {
				field = "email"
			}
			if _, dup := fieldErrs[field]; dup {
				continue
			}
			args := make([]string, len(fe.Params))
			for i, p := range fe.Params {
				args[i] = ui.Resolve(locale, p)
			}
			fieldErrs[field] = ui.Text(locale, fe.Message, args...)
		}
	}
	pw, confirm := posted(r, "password"), posted(r, "password-confirm")
	switch {
	case pw == "":
		fieldErrs["password"] = ui.Text(locale, "missingPasswordMessage")
	case pw != confirm:
		fieldErrs["password-confirm"] = ui.Text(locale, "notMatchPasswordMessage")
	default:
		probe := user.User{ID: "", RealmID: rl.ID, Username: strings.ToLower(form["username"]), Email: strings.ToLower(form["email"]),
			FirstName: form["firstName"], LastName: form["lastName"]}
		var pe *user.PolicyError
		if err := authn.CheckNewPassword(r.Context(), h.Store, rl, probe, pw); errors.As(err, &pe) {
			fieldErrs["password"] = ui.Text(locale, pe.Key, pe.Params...)
		} else if err != nil {
			return err
		}
	}
	var msg *ui.Message
	if terms && posted(r, "termsAccepted") != "on" {
		msg = &ui.Message{Type: "error", Text: ui.Text(locale, "termsAcceptanceRequired")}
	}
	if len(fieldErrs) > 0 || msg != nil {
		h.registerFailed(r, rl, c, st, form, "invalid_registration")
		return h.showRegisterPage(w, r, rl, id, st, form, fieldErrs, msg)
	}
	x := rep.User{Username: form["username"], Enabled: ptr(true), Credentials: []rep.Credential{{Type: user.CredentialPassword, Value: pw}}}
	for k, dst := range map[string]**string{"firstName": &x.FirstName, "lastName": &x.LastName, "email": &x.Email} {
		if v := form[k]; v != "" {
			*dst = ptr(v)
		}
	}
	if terms {
		x.Attributes = map[string][]string{termsAttribute: {strconv.FormatInt(h.now(), 10)}}
	}
	if rl.VerifyEmail && form["email"] != "" {
		x.RequiredActions = []string{actionVerifyEmail}
	}
	u, err := rep.CreateUser(r.Context(), h.Store, rl.ID, x, rep.UserOptions{Source: rep.FromAdmin, Now: h.Now()})
	var ue *rep.UserError
	if errors.As(err, &ue) {
		key, field := "invalidRegistrationMessage", ue.Field
		switch {
		case ue.Conflict && ue.Field == "email", ue.Conflict && ue.Field == "username" && rl.RegistrationEmailAsUsername:
			key, field = "emailExistsMessage", "email"
		case ue.Conflict && ue.Field == "username":
			key = "usernameExistsMessage"
		}
		h.registerFailed(r, rl, c, st, form, map[string]string{"emailExistsMessage": "email_in_use", "usernameExistsMessage": "username_in_use"}[key])
		return h.showRegisterPage(w, r, rl, id, st, form, map[string]string{field: ui.Text(locale, key)})
	}
	if err != nil {
		return err
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.Register, ClientID: c.ClientID, UserID: u.ID, IPAddress: clientIP(r),
		Details: registerDetails(st, u.Username, u.Email)})
	st.UserID, st.AuthTime, st.SSOSession = u.ID, h.now(), ""
	return h.proceed(w, r, rl, c, id, st, u)
}

func ptr[T any](v T) *T { return &v }

// registerDetails are Keycloak's details of REGISTER events.
func registerDetails(st loginState, username, email string) map[string]string {
	d := loginDetails(st)
	d[events.DetailUsername], d[events.DetailEmail], d[events.DetailRegisterMethod] = username, email, "form"
	return d
}

// registerFailed records REGISTER_ERROR with Keycloak's error code.
func (h *Handler) registerFailed(r *http.Request, rl realm.Realm, c client.Client, st loginState, form map[string]string, code string) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.RegisterError, ClientID: c.ClientID, IPAddress: clientIP(r),
		Error: code, Details: registerDetails(st, form["username"], form["email"])})
}

// showRegisterPage renders the registration form with the values typed so
// far (never the passwords) and the errors of each field.
func (h *Handler) showRegisterPage(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState, form, fieldErrs map[string]string, msg ...*ui.Message) error {
	terms, _, err := h.registrationForm(r.Context(), rl)
	if err != nil {
		return err
	}
	p := h.page(r, &rl, "registerTitle", st.Req.UILocales)
	st.Step = stepRegister
	p.Action, p.CSRF = h.actionURL(r, rl, id, st), st.CSRF
	st.Step = stepLogin
	p.ContinueTo = h.actionURL(r, rl, id, st)
	p.ShowTerms = terms
	fields := []ui.Field{
		{Name: "firstName", Label: "firstName", Type: "text", Autocomplete: "given-name"},
		{Name: "lastName", Label: "lastName", Type: "text", Autocomplete: "family-name"},
		{Name: "email", Label: "email", Type: "email", Autocomplete: "email"},
	}
	if !rl.RegistrationEmailAsUsername {
		fields = append(fields, ui.Field{Name: "username", Label: "username", Type: "text", Autocomplete: "username"})
	}
	fields = append(fields,
		ui.Field{Name: "password", Label: "password", Type: "password", Autocomplete: "new-password"},
		ui.Field{Name: "password-confirm", Label: "passwordConfirm", Type: "password", Autocomplete: "new-password"})
	for i := range fields {
		fields[i].Label = p.T(fields[i].Label)
		if fields[i].Type != "password" {
			fields[i].Value = form[fields[i].Name]
		}
		fields[i].Error = fieldErrs[fields[i].Name]
	}
	p.Fields = fields
	if len(msg) > 0 {
		p.Message = msg[0]
	}
	h.render(w, r, &rl, http.StatusOK, "register.html", p)
	return nil
}
