package authflow

import (
	"errors"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
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
	p := Page{Template: TemplateWebAuthn, Title: a.title()}
	if c.User != nil {
		p.Username = c.User.Username
	}
	cer, err := webauthn.BeginLogin(c, c.Store, c.Realm, a.typ, c.Req.Origin, c.User)
	var we *webauthn.Error
	if errors.As(err, &we) {
		// No ceremony can start here (the address names no relying
		// party): the page says so and offers no button.
		username, userID := p.Username, ""
		if c.User != nil {
			userID = c.User.ID
		}
		p.Error = we.Key
		c.Failure(&Error{Event: we.Event, Key: we.Key, Detail: we.Detail, Username: username, UserID: userID}, &p)
		return nil
	}
	if err != nil {
		return err
	}
	c.SetNote(noteWebAuthn, cer.State)
	p.Fill = func(p *ui.Page) {
		p.WebAuthn = &ui.WebAuthnCeremony{Mode: "get", Options: cer.Options, Passwordless: a.typ == webauthn.TypePasswordless}
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
	u, _, err := webauthn.FinishLogin(authn.WithClientIP(c, c.Req.IP), c.Store, c.Realm, a.typ, c.Req.Origin, c.User, state,
		c.Form.Get("webauthnResponse"), c.Now)
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

// noteConditional holds the passkey assertion a login form offers through
// the browser's autofill (conditional mediation); it is used once.
const noteConditional = "webauthn-conditional-ceremony"

// passkeysOffered reports whether a login form offers passkeys through
// autofill: the realm's passwordless policy enables passkeys, and the user
// is not known yet or has a passkey.
func passkeysOffered(c *Context) bool {
	if !c.Realm.WebAuthnPasswordless().PasskeysEnabled {
		return false
	}
	if c.User == nil {
		return true
	}
	ok, err := HasCredential(c, *c.User, webauthn.TypePasswordless)
	return err == nil && ok
}

// loggedInWithPasskey reports whether this login already passed a passkey
// offered on a login form, so that the password form has nothing to ask.
func loggedInWithPasskey(c *Context) bool {
	return c.Realm.WebAuthnPasswordless().PasskeysEnabled && slices.Contains(c.State.Credentials, webauthn.TypePasswordless)
}

// offerPasskey adds to p, a login form, a passkey assertion the browser
// offers through the username (or password) field's autofill. Where none
// can run (passkeys off, an address that names no relying party) the form
// is shown without one.
func offerPasskey(c *Context, p *Page) {
	c.SetNote(noteConditional, "")
	if !passkeysOffered(c) {
		return
	}
	cer, err := webauthn.BeginConditionalLogin(c.Realm, c.Req.Origin)
	if err != nil {
		// The password still works: the form goes without the offer.
		c.Log.InfoContext(c, "passkeys not offered on the login form", "realm", c.Realm.Name, "err", err)
		return
	}
	c.SetNote(noteConditional, cer.State)
	fill := p.Fill
	p.Fill = func(up *ui.Page) {
		if fill != nil {
			fill(up)
		}
		up.WebAuthn = &ui.WebAuthnCeremony{Mode: "conditional", Options: cer.Options, Passwordless: true}
	}
}

// passkeyAnswered reports whether a login form's POST is the answer of the
// passkey it offered rather than a username or password.
func passkeyAnswered(c *Context) bool {
	return passkeysOffered(c) && (c.Form.Get("webauthnResponse") != "" || c.Form.Get("error") != "")
}

// passkeyAction logs in with the passkey a login form offered: the
// passwordless policy's check, under brute-force detection. A refused
// answer shows the form (page) again with the error and a new offer.
func passkeyAction(c *Context, page Page) error {
	state := c.Note(noteConditional)
	// The challenge answers once.
	c.SetNote(noteConditional, "")
	username, userID := "", ""
	if c.User != nil {
		username, userID = c.User.Username, c.User.ID
	}
	refused := func(e *Error) error {
		metrics.Login(c.Realm.Name, false)
		page.Error = e.Key
		offerPasskey(c, &page)
		c.Failure(e, &page)
		return nil
	}
	if msg := c.Form.Get("error"); msg != "" {
		return refused(&Error{Event: "not_allowed", Key: "webauthn-error-api-get", Username: username, UserID: userID,
			Detail: "browser: " + truncate(msg, 200)})
	}
	u, _, err := webauthn.FinishLogin(authn.WithClientIP(c, c.Req.IP), c.Store, c.Realm, webauthn.TypePasswordless, c.Req.Origin, c.User,
		state, c.Form.Get("webauthnResponse"), c.Now)
	var we *webauthn.Error
	if errors.As(err, &we) {
		if u.ID != "" {
			username, userID = u.Username, u.ID
		}
		return refused(&Error{Event: we.Event, Key: we.Key, Username: username, UserID: userID, Detail: we.Detail})
	}
	if err != nil {
		return err
	}
	metrics.Login(c.Realm.Name, true)
	if c.User == nil {
		c.SetUser(u)
	}
	usedCredential(c, webauthn.TypePasswordless)
	c.SetNote(NoteAttemptedUsername, "")
	c.Success()
	return nil
}
