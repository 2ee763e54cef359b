// Package authflow runs a realm's authentication flows with Keycloak's
// semantics: it walks the flow bound to the browser login or the password
// grant (or a client's override), decides REQUIRED, ALTERNATIVE,
// CONDITIONAL and DISABLED executions, evaluates the conditions of
// conditional sub-flows, and calls the authenticators that executions name.
//
// An authenticator is registered under Keycloak's provider id (Register);
// a flow naming an id nobody registered is refused when the walk starts,
// never skipped. The walk's progress (which executions succeeded, the user
// identified so far, the execution whose page is shown) is a State the
// caller stores in the authentication session in the database, so a login
// started on one node can finish on another.
//
// The package decides; it never writes HTTP. A challenge is a Page the
// caller renders (package login) or an OAuth error the caller writes
// (package oidc, for the password grant).
package authflow

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Authenticator is one kind of step of a flow, Keycloak's Authenticator.
// Implementations are stateless values: everything a login carries lives
// in the Context and its State.
type Authenticator interface {
	// Authenticate decides (c.Success, c.Attempted, c.Failure) or asks the
	// user (c.Challenge with the page to show).
	Authenticate(c *Context) error
	// Action handles the POST of the page this authenticator's challenge
	// showed (c.Form holds it), and decides or challenges again.
	Action(c *Context) error
	// RequiresUser says the step needs the user identified by an earlier
	// one (a password form after a username form, an OTP form).
	RequiresUser() bool
	// ConfiguredFor says whether the user can pass this step (has an OTP
	// credential...). Asked only when RequiresUser.
	ConfiguredFor(c *Context, u user.User) (bool, error)
	// SetRequiredActions adds to the user the required action that sets
	// the step up (CONFIGURE_TOTP...), when the user is not configured for
	// a REQUIRED step and the authenticator allows user setup.
	SetRequiredActions(c *Context, u user.User) error
}

// UserSetup is implemented by authenticators whose missing configuration
// the user may set up during the login (Keycloak's isUserSetupAllowed): a
// REQUIRED execution the user is not configured for then adds a required
// action instead of failing.
type UserSetup interface {
	UserSetupAllowed() bool
}

// Condition is implemented by the conditional authenticators
// (conditional-user-role...). They never run as steps: a CONDITIONAL
// sub-flow applies only when all its enabled conditions match.
type Condition interface {
	Match(c *Context) (bool, error)
}

// ParentFlowCallback is implemented by conditions that record something
// when the sub-flow they guard succeeds (the level of authentication).
type ParentFlowCallback interface {
	OnParentFlowSuccess(c *Context) error
}

// FormAction is one part of a form-flow page (registration's user
// creation, password, terms...): every action fills the page, validates
// the posted form, and once all validated, applies it in order.
type FormAction interface {
	// BuildPage adds the action's part to the page.
	BuildPage(c *Context, p *ui.Page)
	// Validate checks the posted form; field errors re-show the page.
	Validate(c *Context) ([]FieldError, error)
	// Success applies the form (creates the user...); it may set the user.
	Success(c *Context) error
	RequiresUser() bool
}

// FormAuthenticator renders the page of a form flow (registration-page-form).
type FormAuthenticator interface {
	Render(c *Context, errs []FieldError) Page
}

// FormGate is implemented by form actions that can refuse to show the
// form at all (a reCAPTCHA Gatehouse cannot call): the login ends with the
// Error instead.
type FormGate interface {
	Gate(c *Context) *Error
}

// FieldErrors is what a form action's Success returns when applying the
// form finds fields refused after all (a username taken meanwhile): the
// page is shown again with them, and no later action is applied.
type FieldErrors []FieldError

func (FieldErrors) Error() string { return "form fields refused" }

// FieldError is a form field refused by a form action; Key is the message.
type FieldError struct {
	Field string
	Key   string
	Args  []string
}

var (
	regMu       sync.RWMutex
	registry    = map[string]Authenticator{}
	formActions = map[string]FormAction{}
	formAuths   = map[string]FormAuthenticator{}
)

// Register makes an authenticator available to flows under Keycloak's
// provider id. Registering an id twice is a programming error.
func Register(id string, a Authenticator) { register(registry, "authenticator", id, a) }

// RegisterFormAction makes a form action (registration-user-creation...)
// available to form flows.
func RegisterFormAction(id string, a FormAction) { register(formActions, "form action", id, a) }

// RegisterFormAuthenticator makes the authenticator of a form flow's page
// (registration-page-form) available.
func RegisterFormAuthenticator(id string, a FormAuthenticator) {
	register(formAuths, "form authenticator", id, a)
}

func register[T any](m map[string]T, kind, id string, a T) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := m[id]; dup {
		panic("authflow: " + kind + " registered twice: " + id)
	}
	m[id] = a
}

// Lookup returns the authenticator registered under id.
func Lookup(id string) (Authenticator, bool) { return lookup(registry, id) }

func lookupFormAction(id string) (FormAction, bool) { return lookup(formActions, id) }

func lookupFormAuthenticator(id string) (FormAuthenticator, bool) { return lookup(formAuths, id) }

func lookup[T any](m map[string]T, id string) (T, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	a, ok := m[id]
	return a, ok
}

// IDs lists every runnable provider id (authenticators, form actions and
// form authenticators), sorted.
func IDs() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var ids []string
	for id := range registry {
		ids = append(ids, id)
	}
	for id := range formActions {
		ids = append(ids, id)
	}
	for id := range formAuths {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return slices.Compact(ids)
}

// Kind is what a flow authenticates for.
type Kind int

const (
	// Browser is the login pages: challenges are pages.
	Browser Kind = iota
	// DirectGrant is the token endpoint's password grant: the credentials
	// are in the request, and a challenge is an error.
	DirectGrant
	// Registration and ResetCredentials are the pages of those bindings;
	// clients cannot override them.
	Registration
	ResetCredentials
	// FirstBrokerLogin is the flow a login through an identity provider
	// walks when the upstream account is linked to no local user yet (and
	// the post broker login flow): the identity provider names the flow.
	FirstBrokerLogin
)

// Request is what the login was asked with.
type Request struct {
	Kind      Kind
	IP        string
	LoginHint string
	// IDPHint is kc_idp_hint.
	IDPHint string
	// Reauthenticate is set when the client forces a new authentication
	// (prompt=login, an auth_time older than max_age): an SSO session may
	// name the user but does not log in.
	Reauthenticate bool
	// PromptNone: no page may be shown.
	PromptNone bool
	// SSO is the user session the browser's identity cookie names (nil
	// when none is valid).
	SSO *SSO
	// RequestedLoA is the level of authentication the client asked for
	// (acr_values, the claims parameter, the client's default), NoLoA when
	// none; ForceLoA is set when it was essential.
	RequestedLoA int
	ForceLoA     bool
	// Origin is the scheme and host the login pages are served at, the
	// origin a browser's WebAuthn answer must name.
	Origin string
}

// SSO is the browser's single sign-on session and its user.
type SSO struct {
	Session session.UserSession
	User    user.User
}

// Page is a challenge shown to the user: a template of the login theme
// and what to put in it. The caller builds the base page (realm, locale,
// the form's action URL, CSRF token) and then applies Fill.
type Page struct {
	Template string // "login.html"
	Title    string // message key
	Status   int    // 0 is 200
	// Error and Info are message keys shown at the top of the page.
	Error     string
	ErrorArgs []string
	Info      string
	// FieldError marks the form's fields invalid (aria-invalid).
	FieldError bool
	Username   string
	// Fill adds what only this page shows.
	Fill func(p *ui.Page)
	// IdentityProvider, instead of a page, sends the browser to the
	// identity provider with this alias (identity-provider-redirector).
	IdentityProvider string
}

// OAuthError is how a password-grant failure is answered.
type OAuthError struct {
	Status      int
	Code        string
	Description string
}

// Error is a failed step: what the event records, what the page says, and
// what the password grant answers.
type Error struct {
	// Event is Keycloak's event error ("invalid_user_credentials",
	// "user_not_found", "user_disabled", "access_denied"...).
	Event string
	// Key is the message the error page or the form shows; Status the
	// error page's HTTP status (0: 400).
	Key    string
	Status int
	// OAuth is the password grant's answer.
	OAuth OAuthError
	// Username is the name the user typed; UserID the user it named.
	Username string
	UserID   string
	// Detail goes to the log only.
	Detail string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Event + ": " + e.Detail
	}
	return e.Event
}

// Context is what an authenticator sees and how it answers.
type Context struct {
	context.Context
	Store  *store.DB
	Log    *slog.Logger
	Hashes *authn.HashGate
	Now    time.Time
	Realm  realm.Realm
	Client client.Client
	Req    Request
	// Form is the posted page (Action) or the token request (direct grant).
	Form url.Values
	// State is the flow's progress, stored with the login.
	State *State

	// Model, TopFlow and Execution place the step; Config is its
	// authenticator config (nil when none).
	Model     flow.Config
	TopFlow   flow.Flow
	Flow      flow.Flow
	Execution flow.Execution
	Config    map[string]string

	// User is the user identified so far, nil before.
	User *user.User

	res result
}

type resultKind int

const (
	undecided resultKind = iota
	resSuccess
	resAttempted
	resChallenge
	resFailure
	resReset
)

type result struct {
	kind resultKind
	page *Page
	err  *Error
}

// Success ends the step successfully.
func (c *Context) Success() { c.res = result{kind: resSuccess} }

// Attempted ends the step without deciding: an ALTERNATIVE that could not
// apply (no SSO cookie, no identity provider hinted).
func (c *Context) Attempted() { c.res = result{kind: resAttempted} }

// Challenge shows p and waits for its POST (Action).
func (c *Context) Challenge(p Page) { c.res = result{kind: resChallenge, page: &p} }

// Failure fails the step. With a page (a wrong password) the page is shown
// again and the step waits for another POST; without one the login ends
// with e.
func (c *Context) Failure(e *Error, p *Page) { c.res = result{kind: resFailure, page: p, err: e} }

// ResetFlow starts the login again from the first step (forgetting the
// user identified so far).
func (c *Context) ResetFlow() { c.res = result{kind: resReset} }

// SetUser records the user the step identified.
func (c *Context) SetUser(u user.User) {
	c.User = &u
	c.State.UserID = u.ID
}

// Note returns a note an earlier step left in the login (Keycloak's auth
// notes).
func (c *Context) Note(key string) string { return c.State.Notes[key] }

// SetNote stores a note with the login.
func (c *Context) SetNote(key, value string) {
	if c.State.Notes == nil {
		c.State.Notes = map[string]string{}
	}
	if value == "" {
		delete(c.State.Notes, key)
		return
	}
	c.State.Notes[key] = value
}

// Status of an execution in a login, Keycloak's ExecutionStatus.
type Status string

const (
	StatusSuccess       Status = "SUCCESS"
	StatusFailed        Status = "FAILED"
	StatusSetupRequired Status = "SETUP_REQUIRED"
	StatusAttempted     Status = "ATTEMPTED"
	StatusSkipped       Status = "SKIPPED"
	StatusChallenged    Status = "CHALLENGED"
)

// State is a login's progress through its flow. It is plain data, stored
// as JSON with the authentication session.
type State struct {
	// FlowID is the top-level flow being walked (its id, or its alias
	// when it has none).
	FlowID string `json:"flow_id,omitempty"`
	// Executions holds the status of each execution decided so far.
	Executions map[string]Status `json:"executions,omitempty"`
	// Current is the execution whose page is shown: a POST goes to it.
	Current string `json:"current,omitempty"`
	// UserID is the user identified so far.
	UserID string `json:"user_id,omitempty"`
	// SSOSession is the user session the auth-cookie step reused.
	SSOSession string `json:"sso_session,omitempty"`
	// Level is the level of authentication reached in this login
	// (NoLoA before any); Levels the levels reached in this and earlier
	// logins of the SSO session, with when (epoch seconds).
	Level  int           `json:"level"`
	Levels map[int]int64 `json:"levels,omitempty"`
	// Credentials are the credential types the login passed.
	Credentials []string `json:"credentials,omitempty"`
	// Notes are the steps' notes (Keycloak's auth notes).
	Notes map[string]string `json:"notes,omitempty"`
}

// NewState starts the progress of a login through the flow top.
func NewState(top flow.Flow) State {
	return State{FlowID: flowKey(top), Level: NoLoA}
}

func flowKey(f flow.Flow) string {
	if f.ID != "" {
		return f.ID
	}
	return f.Alias
}

// ExecutionKey is how an execution is named in a State and in the
// "execution" parameter of a page's POST: its id, or (for flows imported
// without ids) its flow's alias and its place in it.
func ExecutionKey(f flow.Flow, i int) string {
	if id := f.Executions[i].ID; id != "" {
		return id
	}
	return fmt.Sprintf("%s#%d", f.Alias, i)
}
