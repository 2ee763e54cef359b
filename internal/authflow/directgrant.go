package authflow

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The password grant's authenticators, Keycloak's ids. They read the token
// request and answer with the token endpoint's errors.
const (
	DirectGrantUsername = "direct-grant-validate-username"
	DirectGrantPassword = "direct-grant-validate-password"
)

func init() {
	Register(DirectGrantUsername, validateUsername{})
	Register(DirectGrantPassword, validatePassword{})
}

var errInvalidGrantCredentials = OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"}

// validateUsername identifies the user named by the username parameter
// (or an email where the realm allows it). An unknown user costs a
// password verification, as a wrong password does, so response times do
// not tell them apart.
type validateUsername struct{}

func (validateUsername) Authenticate(c *Context) error {
	username := strings.TrimSpace(c.Form.Get("username"))
	if username == "" {
		c.Failure(&Error{Event: "user_not_found", Key: "missingUsernameMessage",
			OAuth: OAuthError{http.StatusUnauthorized, "invalid_request", "Missing parameter: username"}}, nil)
		return nil
	}
	unknown := func() error {
		authn.SpendVerification(c.Form.Get("password"))
		c.Failure(&Error{Event: "user_not_found", Key: "invalidUserMessage", Username: username, OAuth: errInvalidGrantCredentials}, nil)
		return nil
	}
	if !wellFormedUsername(username) {
		return unknown()
	}
	u, err := c.checker().FindUser(c, c.Realm, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != "") {
		return unknown()
	}
	if err != nil {
		return err
	}
	c.SetUser(u)
	c.Success()
	return nil
}

func (validateUsername) Action(c *Context) error                         { return validateUsername{}.Authenticate(c) }
func (validateUsername) RequiresUser() bool                              { return false }
func (validateUsername) ConfiguredFor(*Context, user.User) (bool, error) { return true, nil }
func (validateUsername) SetRequiredActions(*Context, user.User) error    { return nil }

// validatePassword checks the password parameter with brute-force
// detection. A disabled user learns it only with the right password.
type validatePassword struct{}

func (validatePassword) Authenticate(c *Context) error {
	password := c.Form.Get("password")
	fail := func(e *Error) error {
		e.Username, e.UserID = c.User.Username, c.User.ID
		c.Failure(e, nil)
		return nil
	}
	if !wellFormedPassword(password) {
		authn.SpendVerification(password)
		return fail(&Error{Event: "invalid_user_credentials", Key: "invalidUserMessage", OAuth: errInvalidGrantCredentials})
	}
	u, outcome, err := c.checker().CheckUser(c, c.Realm, *c.User, password, c.Req.IP, c.Now)
	if err != nil {
		return err
	}
	switch outcome {
	case authn.Disabled:
		return fail(&Error{Event: "user_disabled", Key: "accountDisabledMessage",
			OAuth: OAuthError{http.StatusBadRequest, "invalid_grant", "Account disabled"}})
	case authn.OK:
		c.SetUser(u)
		usedCredential(c, user.CredentialPassword)
		c.Success()
		return nil
	}
	return fail(&Error{Event: "invalid_user_credentials", Key: "invalidUserMessage", OAuth: errInvalidGrantCredentials})
}

func (validatePassword) Action(c *Context) error { return validatePassword{}.Authenticate(c) }
func (validatePassword) RequiresUser() bool      { return true }

// ConfiguredFor is true even without a password: a user without one is
// refused like a wrong password, at the cost of a verification.
func (validatePassword) ConfiguredFor(*Context, user.User) (bool, error) { return true, nil }
func (validatePassword) SetRequiredActions(*Context, user.User) error    { return nil }
