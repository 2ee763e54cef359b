package authflow

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
)

// The page of the security key and passkey steps.
const (
	TemplateWebAuthn = "webauthn-authenticate.html"
	// noteWebAuthn holds the assertion in progress (its challenge); it is
	// used once.
	noteWebAuthn = "webauthn-ceremony"
)

func init() {
	for _, typ := range []string{webauthn.TypeTwoFactor, webauthn.TypePasswordless} {
		Register(webauthn.Authenticator(typ), webAuthnForm{typ: typ})
	}
}

// webAuthnForm asks the browser for an assertion of a credential of typ:
// a security key of the identified user (webauthn), or a passkey
// (webauthn-passwordless) that itself names the user when nobody was
// identified before. A user without one, on a REQUIRED step, is sent to
// register one.
type webAuthnForm struct{ typ string }

func (a webAuthnForm) title() string {
	if a.typ == webauthn.TypePasswordless {
		return "passkey-login-title"
	}
	return "webauthn-login-title"
}

// challenge starts a new assertion and shows its page; e, when set,
// is the refused one before, shown on the page.
func (a webAuthnForm) challenge(c *Context, e *Error) error {
	cer, err := webauthn.BeginLogin(c, c.Store, c.Realm, a.typ, c.Req.Origin, c.User)
	var we *webauthn.Error
	if errors.As(err, &we) {
		c.Failure(&Error{Event: we.Event, Key: we.Key, Detail: we.Detail}, nil)
		return nil
	}
	if err != nil {
		return err
	}
	c.SetNote(noteWebAuthn, cer.State)
	p := Page{Template: TemplateWebAuthn, Title: a.title(), Fill: func(p *ui.Page) {
		p.WebAuthn = &ui.WebAuthnCeremony{Mode: "get", Options: cer.Options, Passwordless: a.typ == webauthn.TypePasswordless}
	}}
	if c.User != nil {
		p.Username = c.User.Username
	}
	if e != nil {
		p.Error, p.FieldError = e.Key, true
		c.Failure(e, &p)
		return nil
	}
	c.Challenge(p)
	return nil
}

func (a webAuthnForm) Authenticate(c *Context) error {
	if c.User != nil && a.typ == webauthn.TypePasswordless {
		// A user identified before (a username form) without a passkey
		// cannot pass this step: the next alternative runs.
		if ok, err := HasCredential(c, *c.User, a.typ); err != nil || !ok {
			c.Attempted()
			return err
		}
	}
	return a.challenge(c, nil)
}

func (a webAuthnForm) Action(c *Context) error {
	state := c.Note(noteWebAuthn)
	// The challenge answers once: a replayed assertion finds none.
	c.SetNote(noteWebAuthn, "")
	username, userID := "", ""
	if c.User != nil {
		username, userID = c.User.Username, c.User.ID
	}
	if c.Form.Get("error") != "" {
		// The browser refused or the user cancelled: Keycloak's
		// webauthn-error-api-get, and a new ceremony.
		return a.challenge(c, &Error{Event: "invalid_user_credentials", Key: "webauthn-error-api-get", Username: username, UserID: userID,
			Detail: "browser: " + truncate(c.Form.Get("error"), 200)})
	}
	u, _, err := webauthn.FinishLogin(c, c.Store, c.Realm, a.typ, c.Req.Origin, c.User, state, c.Form.Get("webauthnResponse"))
	var we *webauthn.Error
	if errors.As(err, &we) {
		if u.ID != "" {
			username, userID = u.Username, u.ID
		}
		return a.challenge(c, &Error{Event: we.Event, Key: we.Key, Username: username, UserID: userID, Detail: we.Detail})
	}
	if err != nil {
		return err
	}
	if c.User == nil {
		c.SetUser(u)
	}
	usedCredential(c, a.typ)
	c.Success()
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// RequiresUser: a security key is a second factor; a passkey identifies
// the user itself.
func (a webAuthnForm) RequiresUser() bool     { return a.typ == webauthn.TypeTwoFactor }
func (a webAuthnForm) UserSetupAllowed() bool { return true }

// ConfiguredFor: the user has a credential of the step's type.
func (a webAuthnForm) ConfiguredFor(c *Context, u user.User) (bool, error) {
	return HasCredential(c, u, a.typ)
}

// SetRequiredActions asks the user to register a security key or passkey.
func (a webAuthnForm) SetRequiredActions(c *Context, u user.User) error {
	return addRequiredAction(c, u, webauthn.RegisterAction(a.typ))
}
