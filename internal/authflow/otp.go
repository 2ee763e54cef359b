package authflow

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The one-time-password steps and the condition on the credentials used,
// Keycloak's ids and config names.
const (
	OTPForm             = "auth-otp-form"
	DirectGrantOTP      = "direct-grant-validate-otp"
	ConditionCredential = "conditional-credential"
	ConfigCredentials   = "credentials"
	ConfigIncluded      = "included"
	TemplateLoginOTP    = "login-otp.html"
)

func init() {
	Register(OTPForm, otpForm{})
	Register(DirectGrantOTP, validateOTP{})
	Register(ConditionCredential, credentialCondition{})
}

// usedCredential records that the login passed a credential of type typ
// (what conditional-credential looks at).
func usedCredential(c *Context, typ string) {
	if !slices.Contains(c.State.Credentials, typ) {
		c.State.Credentials = append(c.State.Credentials, typ)
	}
}

// checkOTP is otp.Check with the client's address for brute-force
// detection's failure record.
func checkOTP(c *Context, code string) (bool, error) {
	return otp.Check(authn.WithClientIP(c, c.Req.IP), c.Store, c.Realm, *c.User, code, c.Now)
}

// otpForm asks the identified user for a code of their authenticator app.
// A user without one, on a REQUIRED step, is sent to set one up
// (CONFIGURE_TOTP).
type otpForm struct{}

func (otpForm) Authenticate(c *Context) error {
	c.Challenge(Page{Template: TemplateLoginOTP, Title: "loginTotpTitle", Username: c.User.Username})
	return nil
}

func (otpForm) Action(c *Context) error {
	code := strings.TrimSpace(c.Form.Get("otp"))
	if code == "" {
		return otpForm{}.Authenticate(c)
	}
	ok, err := checkOTP(c, code)
	if err != nil {
		return err
	}
	if !ok {
		c.Failure(&Error{Event: "invalid_user_credentials", Key: "invalidTotpMessage", UserID: c.User.ID, Username: c.User.Username},
			&Page{Template: TemplateLoginOTP, Title: "loginTotpTitle", Error: "invalidTotpMessage", FieldError: true, Username: c.User.Username})
		return nil
	}
	usedCredential(c, otp.Type)
	c.Success()
	return nil
}

func (otpForm) RequiresUser() bool     { return true }
func (otpForm) UserSetupAllowed() bool { return true }

// ConfiguredFor: the user has an OTP credential.
func (otpForm) ConfiguredFor(c *Context, u user.User) (bool, error) {
	return HasCredential(c, u, otp.Type)
}

// SetRequiredActions asks the user to set up an authenticator app.
func (otpForm) SetRequiredActions(c *Context, u user.User) error {
	return addRequiredAction(c, u, otp.RequiredAction)
}

// addRequiredAction adds action to u's required actions, once.
func addRequiredAction(c *Context, u user.User, action string) error {
	err := c.Store.UpdateUser(c, c.Realm.ID, u.ID, func(x *user.User) error {
		if !slices.Contains(x.RequiredActions, action) {
			x.RequiredActions = append(x.RequiredActions, action)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.User != nil && c.User.ID == u.ID && !slices.Contains(c.User.RequiredActions, action) {
		c.User.RequiredActions = append(c.User.RequiredActions, action)
	}
	return nil
}

// validateOTP checks the otp (or totp) parameter of a password grant.
type validateOTP struct{}

func (validateOTP) Authenticate(c *Context) error {
	code := c.Form.Get("otp")
	if code == "" {
		code = c.Form.Get("totp")
	}
	ok := false
	if code != "" {
		var err error
		if ok, err = checkOTP(c, code); err != nil {
			return err
		}
	}
	if !ok {
		c.Failure(&Error{Event: "invalid_user_credentials", Key: "invalidTotpMessage", UserID: c.User.ID, Username: c.User.Username,
			OAuth: OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"}}, nil)
		return nil
	}
	usedCredential(c, otp.Type)
	c.Success()
	return nil
}

func (validateOTP) Action(c *Context) error { return validateOTP{}.Authenticate(c) }
func (validateOTP) RequiresUser() bool      { return true }

// ConfiguredFor: the user has an OTP credential.
func (validateOTP) ConfiguredFor(c *Context, u user.User) (bool, error) {
	return HasCredential(c, u, otp.Type)
}
func (validateOTP) SetRequiredActions(*Context, user.User) error { return nil }

// credentialCondition matches when the login has (included=true) or has
// not (the default) already passed one of the credential types listed in
// "credentials": the built-in 2FA sub-flow asks no OTP after a passkey.
type credentialCondition struct{ condition }

func (credentialCondition) RequiresUser() bool { return false }

func (credentialCondition) Match(c *Context) (bool, error) {
	used := false
	for _, t := range strings.Split(c.Config[ConfigCredentials], "##") {
		if t = strings.TrimSpace(t); t != "" && slices.Contains(c.State.Credentials, t) {
			used = true
		}
	}
	return used == (c.Config[ConfigIncluded] == "true"), nil
}
