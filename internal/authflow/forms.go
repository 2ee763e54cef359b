package authflow

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The browser's form authenticators, Keycloak's ids.
const (
	UsernamePasswordForm = "auth-username-password-form"
	UsernameForm         = "auth-username-form"
	PasswordForm         = "auth-password-form"
	// NoteRememberMe is set when the user ticked "remember me".
	NoteRememberMe = "remember_me"
	// NoteAttemptedUsername is the username last typed into a form.
	NoteAttemptedUsername = "ATTEMPTED_USERNAME"
)

// Templates of the login theme the form authenticators show.
const (
	TemplateLogin         = "login.html"
	TemplateLoginUsername = "login-username.html"
	TemplateLoginPassword = "login-password.html"
)

func init() {
	Register(UsernamePasswordForm, usernamePasswordForm{})
	Register(UsernameForm, usernameForm{})
	Register(PasswordForm, passwordForm{})
}

// maxUsername bounds the login name; stored usernames are at most 255 bytes.
const maxUsername = 255

// wellFormed refuses malformed login input before anything is looked up
// or hashed.
func wellFormedUsername(s string) bool {
	return s != "" && len(s) <= maxUsername && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func wellFormedPassword(s string) bool {
	return s != "" && len(s) <= user.MaxPasswordLength && utf8.ValidString(s)
}

func (c *Context) checker() authn.Checker {
	return authn.Checker{Store: c.Store, Log: c.Log, Hashes: c.Hashes, Now: func() time.Time { return c.Now }}
}

// rememberMe records the "remember me" box where the realm offers it.
func rememberMe(c *Context) {
	if c.Realm.RememberMe && c.Form.Get("rememberMe") == "on" {
		c.SetNote(NoteRememberMe, "true")
	} else {
		c.SetNote(NoteRememberMe, "")
	}
}

// prefill is the username a form starts with: the user already identified
// (re-authentication, step-up), else the client's login_hint.
func prefill(c *Context) string {
	if c.User != nil {
		return c.User.Username
	}
	if v := c.Note(NoteAttemptedUsername); v != "" {
		return v
	}
	return c.Req.LoginHint
}

// invalidCredentials is the refusal of a login form: the page says the
// same for an unknown user, a wrong password, a locked or disabled user.
func invalidCredentials(username string, u user.User) *Error {
	return &Error{Event: "invalid_user_credentials", Key: "invalidUserMessage", Username: username, UserID: u.ID,
		OAuth: OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"}}
}

// usernamePasswordForm is the classic login page: username (or email)
// and password on one page.
type usernamePasswordForm struct{}

func (usernamePasswordForm) Authenticate(c *Context) error {
	if c.User != nil && loggedInWithPasskey(c) {
		// A passkey offered earlier in the login was the login.
		c.Success()
		return nil
	}
	p := Page{Template: TemplateLogin, Title: "loginAccountTitle", Username: prefill(c)}
	offerPasskey(c, &p)
	c.Challenge(p)
	return nil
}

func (usernamePasswordForm) Action(c *Context) error {
	if passkeyAnswered(c) {
		return passkeyAction(c, Page{Template: TemplateLogin, Title: "loginAccountTitle", FieldError: true, Username: prefill(c)})
	}
	typed := c.Form.Get("username")
	username := strings.TrimSpace(typed)
	password := c.Form.Get("password")
	c.SetNote(NoteAttemptedUsername, username)
	rememberMe(c)
	fail := func(u user.User) error {
		metrics.Login(c.Realm.Name, false)
		// The event and the page keep the name as typed.
		p := Page{Template: TemplateLogin, Title: "loginAccountTitle", Error: "invalidUserMessage", FieldError: true, Username: typed}
		offerPasskey(c, &p)
		c.Failure(invalidCredentials(typed, u), &p)
		return nil
	}
	if !wellFormedUsername(username) || !wellFormedPassword(password) {
		return fail(user.User{})
	}
	var (
		u       user.User
		outcome authn.Outcome
		err     error
	)
	if c.User != nil {
		// Re-authenticating a known user: the name must be theirs.
		found, ferr := c.checker().FindUser(c, c.Realm, username)
		if ferr != nil || found.ID != c.User.ID {
			if ferr != nil && !errors.Is(ferr, store.ErrNotFound) {
				return ferr
			}
			authn.SpendVerification(password)
			return fail(user.User{})
		}
		u, outcome, err = c.checker().CheckUser(c, c.Realm, *c.User, password, c.Req.IP, c.Now)
	} else {
		u, outcome, err = c.checker().Login(c, c.Realm, username, password, c.Req.IP, c.Now)
	}
	if err != nil {
		return err
	}
	if outcome != authn.OK {
		return fail(u)
	}
	metrics.Login(c.Realm.Name, true)
	c.SetUser(u)
	usedCredential(c, user.CredentialPassword)
	c.SetNote(NoteAttemptedUsername, "")
	c.Success()
	return nil
}

func (usernamePasswordForm) RequiresUser() bool { return false }
func (usernamePasswordForm) ConfiguredFor(*Context, user.User) (bool, error) {
	return true, nil
}
func (usernamePasswordForm) SetRequiredActions(*Context, user.User) error { return nil }

// usernameForm asks for the username alone; a password form (or another
// factor) follows. A user already identified skips it.
type usernameForm struct{}

func (usernameForm) Authenticate(c *Context) error {
	if c.User != nil {
		c.Success()
		return nil
	}
	p := Page{Template: TemplateLoginUsername, Title: "loginAccountTitle", Username: prefill(c)}
	offerPasskey(c, &p)
	c.Challenge(p)
	return nil
}

func (usernameForm) Action(c *Context) error {
	if passkeyAnswered(c) {
		return passkeyAction(c, Page{Template: TemplateLoginUsername, Title: "loginAccountTitle", FieldError: true, Username: prefill(c)})
	}
	username := strings.TrimSpace(c.Form.Get("username"))
	c.SetNote(NoteAttemptedUsername, username)
	rememberMe(c)
	refuse := func(e *Error) error {
		p := Page{Template: TemplateLoginUsername, Title: "loginAccountTitle", Error: e.Key, FieldError: true, Username: username}
		offerPasskey(c, &p)
		c.Failure(e, &p)
		return nil
	}
	if !wellFormedUsername(username) {
		return refuse(&Error{Event: "user_not_found", Key: "invalidUsernameMessage", Username: username})
	}
	u, err := c.checker().FindUser(c, c.Realm, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != "") {
		return refuse(&Error{Event: "user_not_found", Key: "invalidUsernameMessage", Username: username})
	}
	if err != nil {
		return err
	}
	if !u.Enabled {
		return refuse(&Error{Event: "user_disabled", Key: "accountDisabledMessage", Username: username, UserID: u.ID})
	}
	c.SetUser(u)
	c.Success()
	return nil
}

func (usernameForm) RequiresUser() bool                              { return false }
func (usernameForm) ConfiguredFor(*Context, user.User) (bool, error) { return true, nil }
func (usernameForm) SetRequiredActions(*Context, user.User) error    { return nil }

// passwordForm asks the identified user's password, with brute-force
// detection as on every password check.
type passwordForm struct{}

func (passwordForm) Authenticate(c *Context) error {
	if loggedInWithPasskey(c) {
		// The passkey the username form offered was the login.
		c.Success()
		return nil
	}
	p := Page{Template: TemplateLoginPassword, Title: "loginAccountTitle", Username: c.User.Username}
	offerPasskey(c, &p)
	c.Challenge(p)
	return nil
}

func (passwordForm) Action(c *Context) error {
	if passkeyAnswered(c) {
		return passkeyAction(c, Page{Template: TemplateLoginPassword, Title: "loginAccountTitle", FieldError: true, Username: c.User.Username})
	}
	password := c.Form.Get("password")
	fail := func() error {
		metrics.Login(c.Realm.Name, false)
		p := Page{Template: TemplateLoginPassword, Title: "loginAccountTitle", Error: "invalidPasswordMessage", FieldError: true, Username: c.User.Username}
		offerPasskey(c, &p)
		c.Failure(&Error{Event: "invalid_user_credentials", Key: "invalidPasswordMessage", Username: c.User.Username, UserID: c.User.ID,
			OAuth: OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"}}, &p)
		return nil
	}
	if !wellFormedPassword(password) {
		return fail()
	}
	u, outcome, err := c.checker().CheckUser(c, c.Realm, *c.User, password, c.Req.IP, c.Now)
	if err != nil {
		return err
	}
	if outcome != authn.OK {
		return fail()
	}
	metrics.Login(c.Realm.Name, true)
	c.SetUser(u)
	usedCredential(c, user.CredentialPassword)
	c.Success()
	return nil
}

func (passwordForm) RequiresUser() bool { return true }

// ConfiguredFor: the user has a password.
func (passwordForm) ConfiguredFor(c *Context, u user.User) (bool, error) {
	return HasCredential(c, u, user.CredentialPassword)
}
func (passwordForm) SetRequiredActions(*Context, user.User) error { return nil }

// HasCredential says whether u has a credential of type typ.
func HasCredential(c *Context, u user.User, typ string) (bool, error) {
	creds, err := c.Store.ListCredentials(c, u.ID)
	if err != nil {
		return false, err
	}
	for _, cr := range creds {
		if cr.Type == typ {
			return true, nil
		}
	}
	return false, nil
}
