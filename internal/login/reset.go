package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// "Forgot password" walks the realm's reset-credentials flow (the binding,
// by default Keycloak's "reset credentials") with package authflow. Its
// authenticators are registered here, where the pages and the mail live:
//
//   - reset-credentials-choose-user asks for a username or email; an
//     unknown or disabled account is recorded (SEND_RESET_PASSWORD_ERROR)
//     and the flow goes on without a user, so the answer is the same;
//   - reset-credential-email mails a known, enabled user with an address a
//     reset-credentials link (after the login is stored) and sends the
//     browser back to the sign-in page with "You should receive an email
//     shortly"; the link, opened, marks the step done and walks on;
//   - reset-password makes the new password a required action of this
//     login (REQUIRED, or CONDITIONAL for a user with a password);
//   - reset-otp (the "Reset - Conditional OTP" sub-flow, which applies to
//     users with an OTP credential unless made REQUIRED) asks for a new
//     authenticator app, first removing the old ones when its config says
//     "Remove all".
//
// The new password goes through the realm's policy and history like every
// other (the UPDATE_PASSWORD required action, authn.SetPassword).

// Provider ids of the reset-credentials flow.
const (
	authChooseUser    = "reset-credentials-choose-user"
	authResetEmail    = "reset-credential-email"
	authResetPassword = "reset-password"
	authResetOTP      = "reset-otp"
)

const (
	// noteResetLinkUsed: the login was continued by the reset mail's link.
	noteResetLinkUsed = "reset.link_used"
	// noteLoginActions are the required actions the flow asked of this
	// login (Keycloak's authentication session required actions), comma
	// separated.
	noteLoginActions = "login.required_actions"
	// templateBackToLogin is the "page" of a step that ends the reset
	// with the sign-in page and a message (Keycloak's fork with a success
	// message).
	templateBackToLogin = "back-to-login"
	// configOTPReset is reset-otp's choice of what happens to the user's
	// existing OTP credentials.
	configOTPReset = "action_on_otp_reset_flag"
	otpRemoveAll   = "Remove all"
	otpRemoveOne   = "Remove one"
)

func init() {
	authflow.Register(authChooseUser, chooseUser{})
	authflow.Register(authResetEmail, resetEmail{})
	authflow.Register(authResetPassword, resetPassword{})
	authflow.Register(authResetOTP, resetOTP{})
}

// pageRun is what the authenticators of the reset and registration pages
// need besides the flow's context: the handler, the request, the login.
type pageRun struct {
	h      *Handler
	r      *http.Request
	client client.Client
	id     string
	st     *loginState
	// send is the user to mail a link to once the login is stored.
	send *user.User
}

type pageRunKey struct{}

func runOf(c *authflow.Context) *pageRun {
	run, _ := c.Value(pageRunKey{}).(*pageRun)
	return run
}

// resetStep holds the answers the reset steps share.
type resetStep struct{}

func (resetStep) RequiresUser() bool                                       { return false }
func (resetStep) ConfiguredFor(*authflow.Context, user.User) (bool, error) { return true, nil }
func (resetStep) SetRequiredActions(*authflow.Context, user.User) error    { return nil }

// addLoginAction asks this login (not the stored user) for required
// action a once the flow is done.
func addLoginAction(c *authflow.Context, a string) {
	have := splitActions(c.Note(noteLoginActions))
	if !slices.Contains(have, a) {
		c.SetNote(noteLoginActions, strings.Join(append(have, a), ","))
	}
}

func splitActions(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

type chooseUser struct{ resetStep }

func (chooseUser) page(c *authflow.Context, errKey string) authflow.Page {
	run := runOf(c)
	return authflow.Page{Template: "login-reset-password.html", Title: "emailForgotTitle", Error: errKey, FieldError: errKey != "",
		Username: c.Form.Get("username"), Fill: func(p *ui.Page) {
			p.UsernameLabel = "usernameOrEmail"
			back := *run.st
			back.Step = stepLogin
			p.ContinueTo = run.h.loginActionURL(run.r, c.Realm, stepAction[stepLogin], run.id, back)
		}}
}

func (s chooseUser) Authenticate(c *authflow.Context) error {
	if c.User != nil {
		// The reset mail's link names the user.
		c.Success()
		return nil
	}
	c.Challenge(s.page(c, ""))
	return nil
}

func (s chooseUser) Action(c *authflow.Context) error {
	name := strings.TrimSpace(c.Form.Get("username"))
	if name == "" {
		c.Challenge(s.page(c, "missingUsernameMessage"))
		return nil
	}
	run := runOf(c)
	u, err := authn.Checker{Store: c.Store, Log: c.Log}.FindUser(c, c.Realm, name)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != ""):
		run.h.resetRefused(run.r, c.Realm, run.client, name, "", "user_not_found")
	case err != nil:
		return err
	case !u.Enabled:
		run.h.resetRefused(run.r, c.Realm, run.client, name, u.ID, "user_disabled")
	default:
		c.SetUser(u)
	}
	c.Success()
	return nil
}

type resetEmail struct{ resetStep }

func (resetEmail) Authenticate(c *authflow.Context) error {
	if c.Note(noteResetLinkUsed) == "true" {
		c.Success()
		return nil
	}
	run := runOf(c)
	switch {
	case c.User == nil:
	case c.User.Email == "":
		run.h.resetRefused(run.r, c.Realm, run.client, c.User.Username, c.User.ID, "invalid_email")
	default:
		u := *c.User
		run.send = &u
	}
	// Back to the sign-in form, with the same words for everyone.
	c.Challenge(authflow.Page{Template: templateBackToLogin, Info: "emailSentMessage"})
	return nil
}

func (s resetEmail) Action(c *authflow.Context) error { return s.Authenticate(c) }

type resetPassword struct{ resetStep }

func (resetPassword) RequiresUser() bool { return true }

func (resetPassword) Authenticate(c *authflow.Context) error {
	add := c.Execution.Requirement == flow.Required
	if c.Execution.Requirement == flow.Conditional {
		var err error
		if add, err = authflow.HasCredential(c, *c.User, user.CredentialPassword); err != nil {
			return err
		}
	}
	if add {
		addLoginAction(c, actionUpdatePassword)
	}
	c.Success()
	return nil
}

func (s resetPassword) Action(c *authflow.Context) error { return s.Authenticate(c) }

// resetOTP asks for a new authenticator app. A user without one is not
// configured for it: the "Reset - Conditional OTP" sub-flow then does not
// apply, and a REQUIRED reset-otp refuses the login (no user setup).
type resetOTP struct{ resetStep }

func (resetOTP) RequiresUser() bool { return true }

func (resetOTP) ConfiguredFor(c *authflow.Context, u user.User) (bool, error) {
	return authflow.HasCredential(c, u, otp.Type)
}

func (s resetOTP) Authenticate(c *authflow.Context) error {
	switch c.Config[configOTPReset] {
	case otpRemoveAll:
		if err := c.Store.DeleteCredentialsOfType(c, c.User.ID, otp.Type); err != nil {
			return err
		}
	case otpRemoveOne:
		// The user picks the one to remove.
		return s.choose(c, "")
	}
	addLoginAction(c, otp.RequiredAction)
	c.Success()
	return nil
}

// choose shows the user's OTP credentials to pick the one to remove.
func (resetOTP) choose(c *authflow.Context, errKey string) error {
	creds, err := otpCredentials(c)
	if err != nil {
		return err
	}
	if len(creds) == 0 {
		addLoginAction(c, otp.RequiredAction)
		c.Success()
		return nil
	}
	c.Challenge(authflow.Page{Template: "login-reset-otp.html", Title: "otp-reset-description", Error: errKey, FieldError: errKey != "",
		Fill: func(p *ui.Page) {
			p.Fields = nil
			for _, cr := range creds {
				label := cr.UserLabel
				if label == "" {
					label = p.T("requiredAction." + otp.RequiredAction)
				}
				p.Fields = append(p.Fields, ui.Field{Name: "selectedCredentialId", Value: cr.ID, Label: label, Type: "radio"})
			}
		}})
	return nil
}

// Action removes the OTP credential the user picked ("Remove one").
func (s resetOTP) Action(c *authflow.Context) error {
	id := c.Form.Get("selectedCredentialId")
	creds, err := otpCredentials(c)
	if err != nil {
		return err
	}
	if id == "" || !slices.ContainsFunc(creds, func(cr user.Credential) bool { return cr.ID == id }) {
		return s.choose(c, "resetOtpMissingIdError")
	}
	if err := c.Store.DeleteCredential(c, c.User.ID, id); err != nil {
		return err
	}
	addLoginAction(c, otp.RequiredAction)
	c.Success()
	return nil
}

// otpCredentials are the user's OTP credentials.
func otpCredentials(c *authflow.Context) ([]user.Credential, error) {
	all, err := c.Store.ListCredentials(c, c.User.ID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(cr user.Credential) bool { return cr.Type != otp.Type }), nil
}

// resetURL is the login page's "forgot password" link for the login id.
func (h *Handler) resetURL(r *http.Request, rl realm.Realm, id string, st loginState) string {
	return h.loginActionURL(r, rl, stepAction[stepResetPassword], id, st)
}

// resetFlow is the "forgot password" page's flow.
var resetFlow = sideFlow{step: stepResetPassword, kind: authflow.ResetCredentials, refused: "resetCredentialNotAllowedMessage",
	allowed: func(rl realm.Realm) bool { return rl.ResetPasswordAllowed },
	state:   func(st *loginState) **authflow.State { return &st.Reset }}

// resetCredentials serves GET and POST /login-actions/reset-credentials.
func (h *Handler) resetCredentials(w http.ResponseWriter, r *http.Request) error {
	return h.serveSideFlow(w, r, resetFlow)
}

// sideFlow is a flow a login leaves the sign-in page for: "forgot
// password" (reset credentials) or registration.
type sideFlow struct {
	step string
	kind authflow.Kind
	// allowed says whether the realm offers the page; refused is the
	// error page's message when it does not.
	allowed func(realm.Realm) bool
	refused string
	// state is the login's progress through the flow.
	state func(*loginState) **authflow.State
}

// sideFlowOutcome answers where a walk of the side flow sf stopped.
func (h *Handler) sideFlowOutcome(sf sideFlow, w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	run *pageRun, out authflow.Outcome, err error) error {
	if sf.kind == authflow.Registration {
		return h.registrationOutcome(w, r, rl, c, id, st, out, err)
	}
	return h.resetOutcome(w, r, rl, c, id, st, run, out, err)
}

// serveSideFlow serves GET (the flow's current page) and POST (that
// page's form) of the side flow sf.
func (h *Handler) serveSideFlow(w http.ResponseWriter, r *http.Request, sf sideFlow) error {
	post := r.Method == http.MethodPost
	rl, p, id, st, c, err := h.loginRequest(w, r, post)
	if err != nil {
		return err
	}
	if !sf.allowed(rl) {
		return errPage(http.StatusBadRequest, &rl, sf.refused)
	}
	if st.Logout != nil || (st.Step != stepLogin && st.Step != sf.step) {
		return h.showStep(w, r)
	}
	if st.Step != sf.step {
		// Entered anew from the sign-in page.
		st.Step, *sf.state(&st) = sf.step, nil
	}
	var form url.Values
	if post {
		form = r.PostForm
	}
	return h.walkSideFlow(w, r, rl, c, id, st, sf, form, p.get("execution"), post)
}

// walkSideFlow walks the side flow sf of the login st: the POST of the
// page of execution when post, else up to the current page.
func (h *Handler) walkSideFlow(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	sf sideFlow, form url.Values, execution string, post bool, prepare ...func(*authflow.Context)) error {
	run := &pageRun{h: h, r: r, client: c, id: id, st: &st}
	fc, err := h.walkContext(context.WithValue(r.Context(), pageRunKey{}, run), r, rl, c, sf.kind, sf.state(&st), form)
	if err != nil {
		return h.sideFlowOutcome(sf, w, r, rl, c, id, st, run, authflow.Outcome{}, err)
	}
	for _, f := range prepare {
		f(fc)
	}
	var out authflow.Outcome
	if post {
		out, err = authflow.Action(fc, execution)
	} else {
		out, err = authflow.Run(fc)
	}
	return h.sideFlowOutcome(sf, w, r, rl, c, id, st, run, out, err)
}

// showSideFlowPage shows the current page of the login's side flow again.
func (h *Handler) showSideFlowPage(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, sf sideFlow) error {
	return h.walkSideFlow(w, r, rl, c, id, st, sf, nil, "", false)
}

// continueReset walks the reset flow of the login st once the reset
// mail's link was opened (st.UserID is the link's user): a new walk that
// knows the user and that the mail step is done.
func (h *Handler) continueReset(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState) error {
	st.Step, st.Reset = stepResetPassword, nil
	return h.walkSideFlow(w, r, rl, c, id, st, resetFlow, nil, "", false, func(fc *authflow.Context) {
		fc.State.UserID = st.UserID
		fc.SetNote(noteResetLinkUsed, "true")
	})
}

// resetOutcome answers where the walk of the reset flow stopped: one of
// its pages, the sign-in page (the mail is on its way), an error page, or,
// the flow done, the rest of the login with the required actions the flow
// asked for (a new password, a new authenticator app).
func (h *Handler) resetOutcome(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	run *pageRun, out authflow.Outcome, err error) error {
	if errors.Is(err, authflow.ErrFlowConfig) {
		return h.flowConfigError(r, rl, c, err)
	}
	if err != nil {
		return err
	}
	switch {
	case out.Challenge != nil && out.Challenge.Template == templateBackToLogin:
		st.Step = stepLogin
		if id, st, err = h.enter(w, r, rl, id, st); err != nil {
			return err
		}
		// The login that asked is stored: the link may continue it.
		if run.send != nil {
			h.sendLink(r, rl, c, id, st, *run.send, token.ActionResetCredentials)
		}
		st.Flash = &ui.Message{Type: "success", Text: ui.Text(h.page(r, &rl, "", st.Req.UILocales).Lang, out.Challenge.Info)}
		return h.showFlowPage(w, r, rl, c, id, st)
	case out.Challenge != nil:
		st.Step = stepResetPassword
		if id, st, err = h.enter(w, r, rl, id, st); err != nil {
			return err
		}
		run.id, run.st = id, &st
		return h.renderChallenge(w, r, rl, id, st, out.Challenge, nil)
	case out.Failure != nil:
		if id != "" {
			if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
				return err
			}
		}
		h.recorder().Record(r.Context(), rl, events.Event{Type: events.ResetPasswordError, ClientID: c.ClientID, UserID: out.Failure.UserID,
			IPAddress: clientIP(r), Error: out.Failure.Event, Details: map[string]string{events.DetailUsername: out.Failure.Username}})
		status := out.Failure.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return &pageError{Status: status, Key: out.Failure.Key, Realm: &rl, Err: out.Failure}
	}
	u := out.User
	st.UserID, st.AuthTime, st.SSOSession = u.ID, h.now(), ""
	if st.Email == nil {
		st.Email = &emailLink{Type: token.ActionResetCredentials}
	}
	st.Email.Actions = splitActions(st.Reset.Notes[noteLoginActions])
	st.Reset = nil
	return h.proceed(w, r, rl, c, id, st, u)
}

// resetRefused records SEND_RESET_PASSWORD_ERROR: the administrator learns
// why no mail left; the user is told nothing different.
func (h *Handler) resetRefused(r *http.Request, rl realm.Realm, c client.Client, name, userID, code string) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.SendResetPasswordError, ClientID: c.ClientID, UserID: userID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: name}, Error: code})
}
