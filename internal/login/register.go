package login

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Self-registration walks the realm's bound registration flow (by default
// Keycloak's "registration", whose "registration form" form flow is one
// page) with package authflow. Its parts are registered here:
//
//   - registration-page-form renders the page with the values typed so far
//     (never the passwords) and each field's error;
//   - registration-user-creation checks the user profile's rules and
//     creates the user (rep.CreateUser: the duplicate checks of every user
//     creation), with the password and the terms' acceptance the form's
//     other actions validated, in one write;
//   - registration-password-action checks the passwords match and meet the
//     realm's policy (authn.CheckNewPassword);
//   - registration-terms-and-conditions asks the terms to be accepted;
//   - registration-recaptcha-action is nothing while it has no
//     configuration; configured, the page is refused, since Gatehouse does
//     not call Google's service.
//
// A registered user is signed in, and with the realm's verifyEmail on,
// first asked to verify the address.

// Provider ids of the registration flow.
const (
	authRegistrationPage = "registration-page-form"
	authRegistrationUser = "registration-user-creation"
	authRegistrationPass = "registration-password-action"
	authRecaptcha        = "registration-recaptcha-action"
	authTerms            = "registration-terms-and-conditions"
)

func init() {
	authflow.RegisterFormAuthenticator(authRegistrationPage, registrationPage{})
	authflow.RegisterFormAction(authRegistrationUser, registrationUser{})
	authflow.RegisterFormAction(authRegistrationPass, registrationPassword{})
	authflow.RegisterFormAction(authTerms, registrationTerms{})
	authflow.RegisterFormAction(authRecaptcha, registrationRecaptcha{})
}

// registrationValues are the profile fields posted, trimmed; the email is
// the username when the realm says so.
func registrationValues(c *authflow.Context) map[string]string {
	form := map[string]string{}
	for _, k := range []string{"firstName", "lastName", "email", "username"} {
		form[k] = strings.TrimSpace(c.Form.Get(k))
	}
	if c.Realm.RegistrationEmailAsUsername {
		form["username"] = form["email"]
	}
	return form
}

// formEnables says whether the form flow of c enables the action id.
func formEnables(c *authflow.Context, id string) bool {
	for _, e := range c.Flow.Executions {
		if e.Authenticator == id && e.Requirement != "" && e.Requirement != flow.Disabled {
			return true
		}
	}
	return false
}

// registrationEventError is Keycloak's REGISTER_ERROR error for refused
// fields.
func registrationEventError(errs []authflow.FieldError) string {
	for _, fe := range errs {
		switch fe.Key {
		case "emailExistsMessage":
			return "email_in_use"
		case "usernameExistsMessage":
			return "username_in_use"
		}
	}
	return "invalid_registration"
}

type registrationPage struct{}

func (registrationPage) Render(c *authflow.Context, errs []authflow.FieldError) authflow.Page {
	run := runOf(c)
	form := registrationValues(c)
	if len(errs) > 0 {
		run.h.registerFailed(run.r, c.Realm, run.client, *run.st, form, registrationEventError(errs))
	}
	return authflow.Page{Template: "register.html", Title: "registerTitle", Fill: func(p *ui.Page) {
		back := *run.st
		back.Step = stepLogin
		p.ContinueTo = run.h.loginActionURL(run.r, c.Realm, stepAction[stepLogin], run.id, back)
		fieldErrs := map[string]string{}
		for _, fe := range errs {
			args := make([]string, len(fe.Args))
			for i, a := range fe.Args {
				args[i] = ui.Resolve(p.Lang, a)
			}
			if fe.Field == "" {
				p.Message = &ui.Message{Type: "error", Text: p.T(fe.Key, args...)}
				continue
			}
			if _, dup := fieldErrs[fe.Field]; !dup {
				fieldErrs[fe.Field] = p.T(fe.Key, args...)
			}
		}
		fields := []ui.Field{
			{Name: "firstName", Label: "firstName", Type: "text", Autocomplete: "given-name"},
			{Name: "lastName", Label: "lastName", Type: "text", Autocomplete: "family-name"},
			{Name: "email", Label: "email", Type: "email", Autocomplete: "email"},
		}
		if !c.Realm.RegistrationEmailAsUsername {
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
	}}
}

// formPart holds what the registration form's actions share.
type formPart struct{}

func (formPart) BuildPage(*authflow.Context, *ui.Page)                     {}
func (formPart) Validate(*authflow.Context) ([]authflow.FieldError, error) { return nil, nil }
func (formPart) Success(*authflow.Context) error                           { return nil }
func (formPart) RequiresUser() bool                                        { return false }

type registrationUser struct{ formPart }

func (registrationUser) Validate(c *authflow.Context) ([]authflow.FieldError, error) {
	form := registrationValues(c)
	cfg := profile.Load(c.Realm.UserProfile)
	values := profile.Values(nil, form["username"], form["email"], form["firstName"], form["lastName"])
	errs := cfg.Validate(profile.Account(true), nil, values)
	if errs == nil {
		return nil, nil
	}
	var out []authflow.FieldError
	for _, fe := range errs.List {
		field := fe.Field
		if field == "username" && c.Realm.RegistrationEmailAsUsername {
			field = "email"
		}
		out = append(out, authflow.FieldError{Field: field, Key: fe.Message, Args: fe.Params})
	}
	return out, nil
}

// Success creates the user, with the password and the terms' acceptance
// when the form enables those actions (they validated them), in one write.
func (registrationUser) Success(c *authflow.Context) error {
	run := runOf(c)
	form := registrationValues(c)
	x := rep.User{Username: form["username"], Enabled: ptr(true)}
	if formEnables(c, authRegistrationPass) {
		x.Credentials = []rep.Credential{{Type: user.CredentialPassword, Value: c.Form.Get("password")}}
	}
	for k, dst := range map[string]**string{"firstName": &x.FirstName, "lastName": &x.LastName, "email": &x.Email} {
		if v := form[k]; v != "" {
			*dst = ptr(v)
		}
	}
	if formEnables(c, authTerms) {
		x.Attributes = map[string][]string{termsAttribute: {strconv.FormatInt(c.Now.Unix(), 10)}}
	}
	if c.Realm.VerifyEmail && form["email"] != "" {
		x.RequiredActions = []string{actionVerifyEmail}
	}
	// A provider that syncs registrations gets the entry first; the user
	// stored here is linked to it and its password goes to the directory.
	var password string
	linked, err := federation.Register(c, c.Store, c.Realm, user.User{RealmID: c.Realm.ID, Username: form["username"], Email: form["email"],
		FirstName: form["firstName"], LastName: form["lastName"]}, c.Now)
	if errors.Is(err, store.ErrConflict) {
		return authflow.FieldErrors{{Field: "username", Key: "usernameExistsMessage"}}
	}
	if err != nil {
		return err
	}
	var u user.User
	if linked.FederationLink != "" {
		// The provider's import stored the user; add what the form gives
		// beyond the entry. The password goes to the directory.
		err = c.Store.UpdateUser(c, c.Realm.ID, linked.ID, func(cur *user.User) error {
			for _, a := range x.RequiredActions {
				if !slices.Contains(cur.RequiredActions, a) {
					cur.RequiredActions = append(cur.RequiredActions, a)
				}
			}
			for k, v := range x.Attributes {
				if cur.Attributes == nil {
					cur.Attributes = map[string][]string{}
				}
				cur.Attributes[k] = v
			}
			return nil
		})
		if err == nil {
			u, err = c.Store.GetUser(c, c.Realm.ID, linked.ID)
		}
		if len(x.Credentials) > 0 {
			password = x.Credentials[0].Value
		}
		if err != nil {
			if derr := federation.Unregister(c, c.Store, linked); derr != nil {
				c.Log.WarnContext(c, "registration: directory entry left behind", "realm", c.Realm.Name, "err", derr)
			}
			return err
		}
	} else {
		u, err = rep.CreateUser(c, c.Store, c.Realm.ID, x, rep.UserOptions{Source: rep.FromAdmin, Now: c.Now})
	}
	if err == nil && password != "" {
		if err = authn.SetPassword(c, c.Store, c.Realm, u, password, false, c.Now); err != nil {
			if derr := federation.Unregister(c, c.Store, u); derr != nil {
				c.Log.WarnContext(c, "registration: directory entry left behind", "realm", c.Realm.Name, "err", derr)
			}
			return err
		}
	}
	var ue *rep.UserError
	if errors.As(err, &ue) {
		key, field := "invalidRegistrationMessage", ue.Field
		switch {
		case ue.Conflict && ue.Field == "email", ue.Conflict && ue.Field == "username" && c.Realm.RegistrationEmailAsUsername:
			key, field = "emailExistsMessage", "email"
		case ue.Conflict && ue.Field == "username":
			key = "usernameExistsMessage"
		}
		return authflow.FieldErrors{{Field: field, Key: key}}
	}
	if err != nil {
		return err
	}
	run.h.recorder().Record(c, c.Realm, events.Event{Type: events.Register, ClientID: run.client.ClientID, UserID: u.ID,
		IPAddress: clientIP(run.r), Details: registerDetails(*run.st, u.Username, u.Email)})
	c.SetUser(u)
	return nil
}

type registrationPassword struct{ formPart }

func (registrationPassword) Validate(c *authflow.Context) ([]authflow.FieldError, error) {
	pw, confirm := c.Form.Get("password"), c.Form.Get("password-confirm")
	switch {
	case pw == "":
		return []authflow.FieldError{{Field: "password", Key: "missingPasswordMessage"}}, nil
	case pw != confirm:
		return []authflow.FieldError{{Field: "password-confirm", Key: "notMatchPasswordMessage"}}, nil
	}
	form := registrationValues(c)
	probe := user.User{RealmID: c.Realm.ID, Username: strings.ToLower(form["username"]), Email: strings.ToLower(form["email"]),
		FirstName: form["firstName"], LastName: form["lastName"]}
	var pe *user.PolicyError
	if err := authn.CheckNewPassword(c, c.Store, c.Realm, probe, pw); errors.As(err, &pe) {
		return []authflow.FieldError{{Field: "password", Key: pe.Key, Args: pe.Params}}, nil
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}

type registrationTerms struct{ formPart }

func (registrationTerms) BuildPage(_ *authflow.Context, p *ui.Page) { p.ShowTerms = true }

func (registrationTerms) Validate(c *authflow.Context) ([]authflow.FieldError, error) {
	if c.Form.Get("termsAccepted") != "on" {
		return []authflow.FieldError{{Key: "termsAcceptanceRequired"}}, nil
	}
	return nil, nil
}

type registrationRecaptcha struct{ formPart }

func (registrationRecaptcha) Gate(c *authflow.Context) *authflow.Error {
	if c.Execution.AuthenticatorConfig == "" {
		return nil
	}
	return &authflow.Error{Event: "invalid_registration", Key: "recaptchaNotConfigured", Status: http.StatusBadRequest}
}

func ptr[T any](v T) *T { return &v }

// registrationFlow is the registration page's flow.
var registrationFlow = sideFlow{step: stepRegister, kind: authflow.Registration, refused: "registrationNotAllowedMessage",
	allowed: func(rl realm.Realm) bool { return rl.RegistrationAllowed },
	state:   func(st *loginState) **authflow.State { return &st.Register }}

// register serves GET and POST /login-actions/registration.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	return h.serveSideFlow(w, r, registrationFlow)
}

// registerURL is the login page's "register" link for the login id.
func (h *Handler) registerURL(r *http.Request, rl realm.Realm, id string, st loginState) string {
	return h.loginActionURL(r, rl, stepAction[stepRegister], id, st)
}

// registrationOutcome answers where the walk of the registration flow
// stopped: its page, an error page, or, the user created, the rest of the
// login.
func (h *Handler) registrationOutcome(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	out authflow.Outcome, err error) error {
	if errors.Is(err, authflow.ErrFlowConfig) {
		return h.flowConfigError(r, rl, c, err)
	}
	if err != nil {
		return err
	}
	switch {
	case out.Challenge != nil:
		st.Step = stepRegister
		if id, st, err = h.enter(w, r, rl, id, st); err != nil {
			return err
		}
		return h.renderChallenge(w, r, rl, id, st, out.Challenge, nil)
	case out.Failure != nil:
		status := out.Failure.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return &pageError{Status: status, Key: out.Failure.Key, Realm: &rl, Err: out.Failure}
	}
	u := out.User
	st.UserID, st.AuthTime, st.SSOSession, st.Register = u.ID, h.now(), "", nil
	return h.proceed(w, r, rl, c, id, st, u)
}

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
