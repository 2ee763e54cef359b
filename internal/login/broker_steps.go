package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The steps of the first broker login flow. They read and edit the
// identity the upstream returned (loginState.Brokered), which the login
// stores between pages.
const (
	authIDPReviewProfile   = "idp-review-profile"
	authIDPCreateUser      = "idp-create-user-if-unique"
	authIDPConfirmLink     = "idp-confirm-link"
	authIDPEmailVerify     = "idp-email-verification"
	authIDPReauthenticate  = "idp-username-password-form"
	templateIDPLinkConfirm = "login-idp-link-confirm.html"
	templateIDPLinkEmail   = "login-idp-link-email.html"

	// Config of idp-review-profile: "on" always shows the page, "missing"
	// when a required attribute is missing, "off" never.
	configUpdateProfileOnFirstLogin = "update.profile.on.first.login"
	// Config of idp-create-user-if-unique.
	configRequirePasswordUpdate = "require.password.update.after.registration"
)

func init() {
	authflow.Register(authIDPReviewProfile, reviewProfile{})
	authflow.Register(authIDPCreateUser, createUserIfUnique{})
	authflow.Register(authIDPConfirmLink, confirmLink{})
	authflow.Register(authIDPEmailVerify, emailVerification{})
	authflow.Register(authIDPReauthenticate, reauthenticate{})
}

// brokerStep holds what the first broker login steps share.
type brokerStep struct{}

func (brokerStep) RequiresUser() bool                                       { return false }
func (brokerStep) ConfiguredFor(*authflow.Context, user.User) (bool, error) { return true, nil }
func (brokerStep) SetRequiredActions(*authflow.Context, user.User) error    { return nil }

// brokered is the identity of the login c walks for, nil outside a
// brokered login (the step then fails: it was put in another flow).
func brokered(c *authflow.Context) *brokeredLogin {
	run := runOf(c)
	if run == nil || run.st.Brokered == nil {
		return nil
	}
	return run.st.Brokered
}

func notBrokered(c *authflow.Context) error {
	c.Failure(&authflow.Error{Event: "invalid_request", Key: "identityProviderUnexpectedErrorMessage",
		Detail: c.Execution.Authenticator + " runs outside a login through an identity provider"}, nil)
	return nil
}

// reviewProfile shows the profile the upstream brought, for the user to
// complete or correct before an account is made or found with it.
type reviewProfile struct{ brokerStep }

func (reviewProfile) Authenticate(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	mode := c.Config[configUpdateProfileOnFirstLogin]
	if mode == "" {
		mode = "missing"
	}
	show := mode == "on" || bl.ReviewAgain
	if mode == "missing" && !show {
		show = reviewErrors(c, bl.Identity.Username, bl.Identity.Email, bl.Identity.FirstName, bl.Identity.LastName) != nil
	}
	if !show {
		c.Success()
		return nil
	}
	c.Challenge(reviewPage(c, bl, nil, nil))
	return nil
}

// reviewErrors checks a profile as the realm's user profile would check
// a new user's.
func reviewErrors(c *authflow.Context, username, email, first, last string) *profile.Errors {
	cfg := profile.Load(c.Realm.UserProfile)
	ctx := profile.Account(true)
	values := profile.Values(nil, username, email, first, last)
	if c.Realm.RegistrationEmailAsUsername {
		delete(values, "username")
	}
	return cfg.Validate(ctx, nil, values)
}

func reviewPage(c *authflow.Context, bl *brokeredLogin, typed map[string]string, pe *profile.Errors) authflow.Page {
	id := bl.Identity
	values := map[string]string{"username": id.Username, "email": id.Email, "firstName": id.FirstName, "lastName": id.LastName}
	for k, v := range typed {
		values[k] = v
	}
	return authflow.Page{Template: "update-profile.html", Title: "loginProfileTitle", Fill: func(p *ui.Page) {
		errs := map[string]string{}
		if pe != nil {
			for _, fe := range pe.List {
				var args []string
				if len(fe.Params) > 0 {
					args = append([]string{ui.Resolve(p.Lang, fe.Params[0])}, fe.Params[1:]...)
				}
				if _, seen := errs[fe.Field]; !seen {
					errs[fe.Field] = p.T(fe.Message, args...)
				}
			}
		}
		cfg := profile.Load(c.Realm.UserProfile)
		for _, m := range cfg.Metadata(profile.Account(true)).Attributes {
			if _, root := values[m.Name]; !root {
				continue // other attributes come from the upstream through mappers
			}
			if m.Name == "username" && c.Realm.RegistrationEmailAsUsername {
				continue
			}
			f := ui.Field{Name: m.Name, Label: ui.Resolve(p.Lang, m.DisplayName), Required: m.Required, Value: values[m.Name], Error: errs[m.Name]}
			if f.Label == "" {
				f.Label = m.Name
			}
			if m.Name == "email" {
				f.Type = "email"
			}
			p.Fields = append(p.Fields, f)
		}
		if len(errs) > 0 {
			for _, m := range []string{"username", "email", "firstName", "lastName"} {
				if e := errs[m]; e != "" {
					p.Message = &ui.Message{Type: "error", Text: e}
					break
				}
			}
		}
	}}
}

func (reviewProfile) Action(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	typed := map[string]string{}
	for _, f := range []string{"username", "email", "firstName", "lastName"} {
		if c.Form.Has(f) {
			typed[f] = strings.TrimSpace(c.Form.Get(f))
		}
	}
	id := bl.Identity
	pick := func(name, old string) string {
		if v, ok := typed[name]; ok {
			return v
		}
		return old
	}
	username, email, first, last := pick("username", id.Username), pick("email", id.Email), pick("firstName", id.FirstName), pick("lastName", id.LastName)
	changed := username != id.Username || !strings.EqualFold(email, id.Email)
	if c.Realm.RegistrationEmailAsUsername {
		username = email
	}
	if pe := reviewErrors(c, username, email, first, last); pe != nil {
		page := reviewPage(c, bl, typed, pe)
		c.Failure(&authflow.Error{Event: "invalid_user_profile", Key: "invalidUserMessage", Detail: "review profile refused"}, &page)
		return nil
	}
	if !strings.EqualFold(email, id.Email) {
		// An address the user typed is not one the upstream vouched for.
		bl.Identity.EmailVerified = false
	}
	bl.Identity.Username, bl.Identity.Email, bl.Identity.FirstName, bl.Identity.LastName = username, email, first, last
	bl.ReviewAgain = false
	bl.ChangedOnReview = bl.ChangedOnReview || changed
	c.Success()
	return nil
}

// createUserIfUnique creates the local user unless one already has the
// upstream's username or email; then the existing one is noted for the
// "handle existing account" steps, and this step is only attempted.
type createUserIfUnique struct{ brokerStep }

func (createUserIfUnique) Authenticate(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	id := bl.Identity
	username := id.Username
	if c.Realm.RegistrationEmailAsUsername && id.Email != "" {
		username = id.Email
	}
	existing, err := duplicate(c, username, id.Email)
	if err != nil {
		return err
	}
	if existing != nil {
		bl.Existing = existing.ID
		c.Attempted()
		return nil
	}
	p, err := c.Store.GetIdentityProvider(c, c.Realm.ID, bl.Alias)
	if err != nil {
		return err
	}
	x := rep.User{Username: username, Enabled: ptr(true)}
	for v, dst := range map[string]**string{id.Email: &x.Email, id.FirstName: &x.FirstName, id.LastName: &x.LastName} {
		if v != "" {
			*dst = ptr(v)
		}
	}
	// The upstream's word on the address counts when the provider is
	// trusted with email (trustEmail).
	if p.TrustEmail && id.Email != "" {
		x.EmailVerified = ptr(true)
	}
	if c.Config[configRequirePasswordUpdate] == "true" {
		x.RequiredActions = append(x.RequiredActions, actionUpdatePassword)
	}
	if c.Realm.VerifyEmail && id.Email != "" && !p.TrustEmail {
		x.RequiredActions = append(x.RequiredActions, actionVerifyEmail)
	}
	u, err := rep.CreateUser(c, c.Store, c.Realm.ID, x, rep.UserOptions{Source: rep.FromAdmin, Now: c.Now})
	var ue *rep.UserError
	if errors.As(err, &ue) && ue.Conflict {
		// Created meanwhile by another login: handle it as existing.
		if existing, derr := duplicate(c, username, id.Email); derr == nil && existing != nil {
			bl.Existing = existing.ID
			c.Attempted()
			return nil
		}
	}
	if err != nil {
		return err
	}
	if p.AddReadTokenRoleOnCreate {
		if err := grantReadToken(c, u.ID); err != nil {
			return err
		}
	}
	bl.Created = true
	c.SetUser(u)
	c.Success()
	return nil
}

func (createUserIfUnique) Action(c *authflow.Context) error {
	return createUserIfUnique{}.Authenticate(c)
}

// duplicate is the user with username, or with email unless the realm
// allows duplicate emails.
func duplicate(c *authflow.Context, username, email string) (*user.User, error) {
	if username != "" {
		u, err := c.Store.GetUserByUsername(c, c.Realm.ID, username)
		if err == nil {
			return &u, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if email != "" && !c.Realm.DuplicateEmailsAllowed {
		u, err := c.Store.GetUserByEmail(c, c.Realm.ID, email)
		if err == nil {
			return &u, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// grantReadToken gives a user the broker client's read-token role.
func grantReadToken(c *authflow.Context, userID string) error {
	bc, err := c.Store.GetClientByClientID(c, c.Realm.ID, "broker")
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	rr, err := c.Store.GetClientRole(c, c.Realm.ID, bc.ID, "read-token")
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.Store.AddUserRoles(c, userID, rr.ID)
}

// existingUser is the account the upstream identity collided with.
func existingUser(c *authflow.Context, bl *brokeredLogin) (user.User, error) {
	if bl.Existing == "" {
		return user.User{}, &authflow.Error{Event: "invalid_request", Key: "identityProviderUnexpectedErrorMessage",
			Detail: "no existing account to link: the flow runs " + c.Execution.Authenticator + " before idp-create-user-if-unique"}
	}
	return c.Store.GetUser(c, c.Realm.ID, bl.Existing)
}

// confirmLink asks whether to link the upstream identity to the account
// that has its username or email, or to review the profile again.
type confirmLink struct{ brokerStep }

func (confirmLink) Authenticate(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	u, err := existingUser(c, bl)
	if err != nil {
		return err
	}
	field, value := "username", u.Username
	if u.Email != "" && strings.EqualFold(u.Email, bl.Identity.Email) {
		field, value = "email", u.Email
	}
	c.Challenge(authflow.Page{Template: templateIDPLinkConfirm, Title: "confirmLinkIdpTitle", Fill: func(p *ui.Page) {
		p.Message = &ui.Message{Type: "warning", Text: p.T("federatedIdentityConfirmLinkMessage", field, value)}
		p.IdentityProvider = bl.Alias
	}})
	return nil
}

func (confirmLink) Action(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	switch c.Form.Get("submitAction") {
	case "linkAccount":
		c.Success()
	case "updateProfile":
		// Back to the profile: another username or email may be free.
		bl.ReviewAgain, bl.Existing = true, ""
		c.ResetFlow()
	default:
		return confirmLink{}.Authenticate(c)
	}
	return nil
}

// emailVerification confirms the existing account by a link mailed to
// it: the login waits on a page (which can send the mail again) until the
// link, followed in this browser, marks the upstream identity confirmed
// (actionToken), and the account is then the login's user. Without mail
// settings, after the user changed the username or email on the review
// page, or when the account has no address, the step is only attempted,
// so the login goes on to its alternative (re-authentication in the
// built-in flow).
type emailVerification struct{ brokerStep }

func (emailVerification) Authenticate(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	if _, err := mail.ParseSettings(c.Realm.SMTPServer); err != nil {
		c.Log.DebugContext(c, "idp-email-verification skipped: the realm cannot send mail", "realm", c.Realm.Name, "err", err)
		c.Attempted()
		return nil
	}
	if bl.ChangedOnReview {
		c.Attempted()
		return nil
	}
	u, err := existingUser(c, bl)
	if err != nil {
		return err
	}
	if bl.LinkVerified != "" && bl.LinkVerified == bl.Identity.Username {
		c.SetUser(u)
		c.Success()
		return nil
	}
	if u.Email == "" {
		c.Attempted()
		return nil
	}
	// A reload shows the page again; only the resend button mails again.
	if bl.LinkMailTo != u.Email {
		bl.LinkMailTo = u.Email
		runOf(c).send = &u
	}
	c.Challenge(authflow.Page{Template: templateIDPLinkEmail, Title: "emailLinkIdpTitle", Fill: func(p *ui.Page) {
		p.TitleArgs = []string{bl.Alias}
		p.IdentityProvider = bl.Alias
		p.Message = &ui.Message{Type: "info", Text: p.T("emailLinkIdp1", bl.Alias, bl.Identity.Username, p.Realm)}
	}})
	return nil
}

// Action sends the mail again.
func (emailVerification) Action(c *authflow.Context) error {
	if bl := brokered(c); bl != nil {
		bl.LinkMailTo = ""
	}
	return emailVerification{}.Authenticate(c)
}

// reauthenticate has the user sign in to the existing account with its
// password, proving it is theirs before the upstream identity is linked.
type reauthenticate struct{ brokerStep }

func (reauthenticate) Authenticate(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	u, err := existingUser(c, bl)
	if err != nil {
		return err
	}
	c.Challenge(reauthPage(bl, u, ""))
	return nil
}

func reauthPage(bl *brokeredLogin, u user.User, errKey string) authflow.Page {
	return authflow.Page{Template: authflow.TemplateLoginPassword, Title: "loginAccountTitle", Username: u.Username, Error: errKey,
		FieldError: errKey != "", Fill: func(p *ui.Page) {
			if errKey == "" {
				p.Message = &ui.Message{Type: "info", Text: p.T("federatedIdentityConfirmReauthenticateMessage", bl.Alias)}
			}
		}}
}

func (reauthenticate) Action(c *authflow.Context) error {
	bl := brokered(c)
	if bl == nil {
		return notBrokered(c)
	}
	u, err := existingUser(c, bl)
	if err != nil {
		return err
	}
	password := c.Form.Get("password")
	fail := func() error {
		metrics.Login(c.Realm.Name, false)
		page := reauthPage(bl, u, "invalidPasswordMessage")
		c.Failure(&authflow.Error{Event: "invalid_user_credentials", Key: "invalidPasswordMessage", Username: u.Username, UserID: u.ID,
			Status: http.StatusUnauthorized}, &page)
		return nil
	}
	if password == "" || len(password) > user.MaxPasswordLength {
		return fail()
	}
	checked, outcome, err := authn.Checker{Store: c.Store, Log: c.Log, Hashes: c.Hashes}.CheckUser(c, c.Realm, u, password, c.Req.IP, c.Now)
	if err != nil {
		return err
	}
	if outcome != authn.OK {
		return fail()
	}
	metrics.Login(c.Realm.Name, true)
	c.SetUser(checked)
	c.Success()
	return nil
}
