package authflow

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"

	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Outcome is where a walk of the flow stopped.
type Outcome struct {
	// Challenge is the page to show; the login waits for its POST.
	// Failure, when also set, is the failed attempt the page reports.
	Challenge *Page
	// Failure without Challenge: the login failed and ends here.
	Failure *Error
	// Done: the flow succeeded and User is authenticated.
	Done bool
	User user.User
	// SSO is set when the user was authenticated by the SSO session
	// alone (State.SSOSession names it).
	SSO bool
}

// Run walks the flow from the start, skipping the executions already
// decided in c.State: it starts a login, or shows the current page again.
func Run(c *Context) (Outcome, error) {
	return walk(c, "")
}

// Action handles the POST of the page of execution (the "execution"
// parameter): its authenticator's Action decides, then the walk goes on.
// A POST for another execution than the one waiting (a stale tab, the back
// button) only shows the current page again.
func Action(c *Context, execution string) (Outcome, error) {
	if execution == "" || execution != c.State.Current {
		return walk(c, "")
	}
	return walk(c, execution)
}

// Restart forgets everything the login decided, the user included, and
// walks the flow from its first step (the "restart login" link).
func Restart(c *Context) (Outcome, error) {
	reset(c.State)
	c.User = nil
	return walk(c, "")
}

// TryAnotherWay gives up the ALTERNATIVE step whose page is shown, so the
// walk goes on to the next alternative.
func TryAnotherWay(c *Context) (Outcome, error) {
	if cur := c.State.Current; cur != "" {
		setStatus(c.State, cur, StatusAttempted)
		c.State.Current = ""
	}
	return walk(c, "")
}

func reset(st *State) {
	*st = State{FlowID: st.FlowID, Level: NoLoA, Levels: st.Levels}
}

// walker walks one request's worth of the flow.
type walker struct {
	base   *Context
	action string // the execution whose POST is handled, "" for none
	resets int
}

// stop is where the walk stops before the flow is done.
type stop struct {
	page *Page
	fail *Error
}

func walk(c *Context, action string) (Outcome, error) {
	top, ok := c.Model.FlowByID(c.State.FlowID)
	if !ok {
		if top, ok = c.Model.FlowByAlias(c.State.FlowID); !ok {
			return Outcome{}, fmt.Errorf("%w: flow %q of the login no longer exists", ErrFlowConfig, c.State.FlowID)
		}
	}
	if err := Check(c.Model, top); err != nil {
		return Outcome{}, err
	}
	c.TopFlow = top
	if c.State.UserID != "" && (c.User == nil || c.User.ID != c.State.UserID) {
		u, err := c.Store.GetUser(c, c.Realm.ID, c.State.UserID)
		if err != nil {
			// Deleted while logging in: start again.
			reset(c.State)
			c.User = nil
		} else {
			c.User = &u
		}
	}
	w := &walker{base: c, action: action}
	for {
		st, ok, err := w.processFlow(top, 0)
		if errors.Is(err, errReset) {
			w.resets++
			if w.resets > 3 {
				return Outcome{}, fmt.Errorf("%w: flow %q keeps restarting", ErrFlowConfig, top.Alias)
			}
			reset(c.State)
			c.User = nil
			w.action = ""
			continue
		}
		var fe *Error
		if errors.As(err, &fe) {
			return Outcome{Failure: fe}, nil
		}
		if err != nil {
			return Outcome{}, err
		}
		if st != nil {
			return Outcome{Challenge: st.page, Failure: st.fail}, nil
		}
		if !ok {
			return Outcome{Failure: &Error{Event: "invalid_user_credentials", Key: "invalidUserMessage",
				OAuth:  OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"},
				Detail: "no step of flow " + top.Alias + " succeeded"}}, nil
		}
		break
	}
	c.State.Current = ""
	if c.User == nil {
		return Outcome{Failure: &Error{Event: "user_not_found", Key: "invalidUserMessage",
			OAuth:  OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"},
			Detail: "flow " + top.Alias + " succeeded without identifying a user"}}, nil
	}
	if !c.User.Enabled {
		return Outcome{Failure: &Error{Event: "user_disabled", Key: "accountDisabledMessage", UserID: c.User.ID,
			Username: c.User.Username, OAuth: OAuthError{http.StatusBadRequest, "invalid_grant", "Account disabled"}}}, nil
	}
	if err := topFlowSuccess(c); err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return Outcome{Failure: fe}, nil
		}
		return Outcome{}, err
	}
	return Outcome{Done: true, User: *c.User, SSO: c.State.SSOSession != ""}, nil
}

var errReset = errors.New("flow reset")

// sorted returns f's executions with their keys, in priority order (the
// document's order among equal priorities).
func sorted(f flow.Flow) ([]flow.Execution, []string) {
	idx := make([]int, len(f.Executions))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return f.Executions[idx[a]].Priority < f.Executions[idx[b]].Priority })
	execs := make([]flow.Execution, len(idx))
	keys := make([]string, len(idx))
	for i, j := range idx {
		execs[i], keys[i] = f.Executions[j], ExecutionKey(f, j)
	}
	return execs, keys
}

func isCondition(e flow.Execution) bool {
	if e.AuthenticatorFlow {
		return false
	}
	a, ok := Lookup(e.Authenticator)
	if !ok {
		return false
	}
	_, ok = a.(Condition)
	return ok
}

func status(st *State, key string) Status { return st.Executions[key] }

func setStatus(st *State, key string, s Status) {
	if st.Executions == nil {
		st.Executions = map[string]Status{}
	}
	st.Executions[key] = s
}

func processed(s Status) bool {
	return s == StatusSuccess || s == StatusSkipped || s == StatusAttempted || s == StatusSetupRequired
}

func succeeded(st *State, key string) bool {
	s := status(st, key)
	return s == StatusSuccess || s == StatusSetupRequired
}

// processFlow is Keycloak's DefaultAuthenticationFlow.processFlow: the
// REQUIRED and CONDITIONAL executions all must succeed (a CONDITIONAL
// sub-flow whose conditions do not match is left out); when there are
// none, the first ALTERNATIVE to succeed is enough. Alternatives are
// ignored beside required executions, as in Keycloak.
func (w *walker) processFlow(f flow.Flow, depth int) (*stop, bool, error) {
	if depth > maxDepth {
		return nil, false, fmt.Errorf("%w: flow %q nests too deep", ErrFlowConfig, f.Alias)
	}
	st := w.base.State
	execs, keys := sorted(f)
	var req, alt []int
	for i, e := range execs {
		if isCondition(e) {
			continue
		}
		switch e.Requirement {
		case flow.Required, flow.Conditional:
			req = append(req, i)
		case flow.Alternative:
			alt = append(alt, i)
		}
	}
	reqOK, remaining := true, 0
	for _, i := range req {
		e := execs[i]
		if e.Requirement == flow.Conditional {
			off, err := w.conditionalDisabled(f, e, keys[i], depth)
			if err != nil {
				return nil, false, err
			}
			if off {
				continue
			}
		}
		remaining++
		s, err := w.processExecution(f, e, keys[i], depth)
		if err != nil {
			return nil, false, err
		}
		reqOK = reqOK && succeeded(st, keys[i])
		if s != nil {
			return s, false, nil
		}
		if !reqOK {
			break
		}
	}
	var afe *Error
	if remaining == 0 {
		for _, i := range alt {
			if succeeded(st, keys[i]) {
				return nil, true, w.flowSuccess(f, execs, keys)
			}
		}
		for _, i := range alt {
			s, err := w.processExecution(f, execs[i], keys[i], depth)
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					return nil, false, err
				}
				// The user may still pass another alternative.
				if afe == nil {
					afe = fe
				}
				setStatus(st, keys[i], StatusSkipped)
				continue
			}
			if s != nil {
				return s, false, nil
			}
			if succeeded(st, keys[i]) {
				return nil, true, w.flowSuccess(f, execs, keys)
			}
		}
		if afe != nil {
			return nil, false, afe
		}
		return nil, false, nil
	}
	if reqOK {
		return nil, true, w.flowSuccess(f, execs, keys)
	}
	return nil, false, nil
}

// flowSuccess runs the callbacks of f's conditions (the level of
// authentication a sub-flow grants) once f succeeded.
func (w *walker) flowSuccess(f flow.Flow, execs []flow.Execution, keys []string) error {
	for _, e := range execs {
		if e.AuthenticatorFlow || e.Requirement == flow.Disabled {
			continue
		}
		a, ok := Lookup(e.Authenticator)
		if !ok {
			continue
		}
		cb, ok := a.(ParentFlowCallback)
		if !ok {
			continue
		}
		if err := cb.OnParentFlowSuccess(w.stepContext(f, e)); err != nil {
			return err
		}
	}
	return nil
}

// conditionalDisabled says whether the CONDITIONAL execution e is left out:
// a sub-flow applies only when it has enabled conditions and all match; a
// CONDITIONAL authenticator (not a flow) is never run by its own flow.
func (w *walker) conditionalDisabled(parent flow.Flow, e flow.Execution, key string, depth int) (bool, error) {
	if !e.AuthenticatorFlow {
		return true, nil
	}
	st := w.base.State
	switch status(st, key) {
	case StatusSkipped:
		return true, nil
	case StatusSuccess:
		return false, nil
	}
	sub, ok := w.base.Model.FlowByAlias(e.FlowAlias)
	if !ok {
		return false, fmt.Errorf("%w: sub-flow %q does not exist", ErrFlowConfig, e.FlowAlias)
	}
	conds := 0
	for _, ce := range sub.Executions {
		if ce.AuthenticatorFlow || (ce.Requirement != flow.Required && ce.Requirement != flow.Conditional) {
			continue
		}
		a, ok := Lookup(ce.Authenticator)
		if !ok {
			continue
		}
		cond, ok := a.(Condition)
		if !ok {
			continue
		}
		conds++
		c := w.stepContext(sub, ce)
		if a.RequiresUser() && c.User == nil {
			return false, &Error{Event: "user_not_found", Key: "invalidUserMessage",
				OAuth:  OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"},
				Detail: "condition " + ce.Authenticator + " needs a user and none is identified yet"}
		}
		match, err := cond.Match(c)
		if err != nil {
			return false, err
		}
		if !match {
			return true, nil
		}
	}
	return conds == 0, nil
}

// stepContext is the context of execution e of flow f.
func (w *walker) stepContext(f flow.Flow, e flow.Execution) *Context {
	c := *w.base
	c.Flow, c.Execution, c.Config, c.res = f, e, nil, result{}
	if e.AuthenticatorConfig != "" {
		if ac, ok := c.Model.ConfigByAlias(e.AuthenticatorConfig); ok {
			c.Config = ac.Config
		} else {
			for _, x := range c.Model.Configs {
				if x.ID == e.AuthenticatorConfig {
					c.Config = x.Config
				}
			}
		}
	}
	return &c
}

// processExecution runs one execution (Keycloak's
// processSingleFlowExecutionModel). Executions decided earlier in the
// login are not run again. A failure without a page comes back as *Error.
func (w *walker) processExecution(f flow.Flow, e flow.Execution, key string, depth int) (*stop, error) {
	st := w.base.State
	if processed(status(st, key)) {
		return nil, nil
	}
	if e.AuthenticatorFlow {
		sub, ok := w.base.Model.FlowByAlias(e.FlowAlias)
		if !ok {
			return nil, fmt.Errorf("%w: sub-flow %q does not exist", ErrFlowConfig, e.FlowAlias)
		}
		if sub.ProviderID == flow.FormFlow {
			return w.processForm(f, e, sub, key)
		}
		s, ok, err := w.processFlow(sub, depth+1)
		if err != nil || s != nil {
			return s, err
		}
		if ok {
			setStatus(st, key, StatusSuccess)
		}
		return nil, nil
	}
	a, ok := Lookup(e.Authenticator)
	if !ok {
		return nil, fmt.Errorf("%w: unknown authenticator %q", ErrFlowConfig, e.Authenticator)
	}
	c := w.stepContext(f, e)
	if a.RequiresUser() {
		if c.User == nil {
			return nil, &Error{Event: "user_not_found", Key: "invalidUserMessage",
				OAuth:  OAuthError{http.StatusUnauthorized, "invalid_grant", "Invalid user credentials"},
				Detail: "authenticator " + e.Authenticator + " needs a user and none is identified yet"}
		}
		configured, err := a.ConfiguredFor(c, *c.User)
		if err != nil {
			return nil, err
		}
		if !configured {
			switch e.Requirement {
			case flow.Required, flow.Conditional:
				if us, ok := a.(UserSetup); ok && us.UserSetupAllowed() {
					setStatus(st, key, StatusSetupRequired)
					return nil, a.SetRequiredActions(c, *c.User)
				}
				return nil, &Error{Event: "credential_setup_required", Key: "credentialSetupRequired", UserID: c.User.ID,
					Username: c.User.Username, OAuth: OAuthError{http.StatusBadRequest, "invalid_grant", "Credential setup required"},
					Detail: "user not configured for " + e.Authenticator}
			case flow.Alternative:
				setStatus(st, key, StatusSkipped)
				return nil, nil
			}
		}
	}
	var err error
	if w.action != "" && w.action == key {
		w.action = ""
		err = a.Action(c)
	} else {
		err = a.Authenticate(c)
	}
	if err != nil {
		return nil, err
	}
	return w.result(c, key)
}

// result applies what a step decided (Keycloak's processResult).
func (w *walker) result(c *Context, key string) (*stop, error) {
	st := w.base.State
	if c.User != nil {
		w.base.User = c.User
	}
	switch c.res.kind {
	case resSuccess:
		setStatus(st, key, StatusSuccess)
		return nil, nil
	case resAttempted:
		setStatus(st, key, StatusAttempted)
		return nil, nil
	case resChallenge:
		setStatus(st, key, StatusChallenged)
		st.Current = key
		return &stop{page: c.res.page}, nil
	case resFailure:
		setStatus(st, key, StatusFailed)
		if c.res.page != nil {
			st.Current = key
			return &stop{page: c.res.page, fail: c.res.err}, nil
		}
		return nil, c.res.err
	case resReset:
		return nil, errReset
	}
	return nil, fmt.Errorf("authenticator %q decided nothing", c.Execution.Authenticator)
}

// processForm runs a form flow (Keycloak's FormAuthenticationFlow): one
// page that all the form's actions fill; on its POST every action
// validates, and only when none refuses are they applied, in order.
func (w *walker) processForm(parent flow.Flow, e flow.Execution, sub flow.Flow, key string) (*stop, error) {
	st := w.base.State
	fa, ok := lookupFormAuthenticator(e.Authenticator)
	if !ok {
		return nil, fmt.Errorf("%w: unknown form authenticator %q", ErrFlowConfig, e.Authenticator)
	}
	execs, _ := sorted(sub)
	var actions []FormAction
	var ctxs []*Context
	for _, ae := range execs {
		if ae.Requirement == flow.Disabled {
			continue
		}
		a, ok := lookupFormAction(ae.Authenticator)
		if !ok {
			return nil, fmt.Errorf("%w: unknown form action %q", ErrFlowConfig, ae.Authenticator)
		}
		actions, ctxs = append(actions, a), append(ctxs, w.stepContext(sub, ae))
	}
	c := w.stepContext(parent, e)
	page := func(errs []FieldError) *stop {
		p := fa.Render(c, errs)
		fill := p.Fill
		p.Fill = func(up *ui.Page) {
			if fill != nil {
				fill(up)
			}
			for i, a := range actions {
				a.BuildPage(ctxs[i], up)
			}
		}
		setStatus(st, key, StatusChallenged)
		st.Current = key
		return &stop{page: &p}
	}
	for i, a := range actions {
		if g, ok := a.(FormGate); ok {
			if e := g.Gate(ctxs[i]); e != nil {
				return nil, e
			}
		}
	}
	if w.action == "" || w.action != key {
		return page(nil), nil
	}
	w.action = ""
	var errs []FieldError
	for i, a := range actions {
		if a.RequiresUser() && ctxs[i].User == nil {
			return nil, &Error{Event: "user_not_found", Key: "invalidUserMessage", Detail: "form action needs a user"}
		}
		fe, err := a.Validate(ctxs[i])
		if err != nil {
			return nil, err
		}
		errs = append(errs, fe...)
	}
	if len(errs) > 0 {
		return page(errs), nil
	}
	for i, a := range actions {
		if err := a.Success(ctxs[i]); err != nil {
			var fe FieldErrors
			if errors.As(err, &fe) {
				return page(fe), nil
			}
			return nil, err
		}
		if ctxs[i].User != nil {
			w.base.User = ctxs[i].User
			for j := i + 1; j < len(ctxs); j++ {
				ctxs[j].User = ctxs[i].User
			}
		}
	}
	setStatus(st, key, StatusSuccess)
	return nil, nil
}

// HasOtherAlternative says whether the execution key (the one whose page
// is shown) is an ALTERNATIVE with another enabled alternative beside it:
// the page then offers "try another way".
func HasOtherAlternative(model flow.Config, key string) bool {
	if key == "" {
		return false
	}
	for _, f := range model.Flows {
		execs, keys := sorted(f)
		i := slices.Index(keys, key)
		if i < 0 {
			continue
		}
		if execs[i].Requirement != flow.Alternative {
			return false
		}
		for j, e := range execs {
			if j != i && e.Requirement == flow.Alternative && !isCondition(e) && !unselectable[e.Authenticator] {
				return true
			}
		}
		return false
	}
	return false
}

// unselectable are the alternatives a user cannot pick on "try another
// way": they never show a page (the SSO cookie, the identity-provider
// redirect), so Keycloak lists no selection for them.
var unselectable = map[string]bool{"auth-cookie": true, "identity-provider-redirector": true}
