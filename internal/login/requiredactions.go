package login

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// actionPage performs one required action in the browser: Keycloak's
// RequiredActionProvider's requiredActionChallenge and processAction. What
// the action is (its defaults, its trigger, whether kc_action may ask for
// it) is authn's RequiredAction of the same id; each action's file here
// registers its page in init.
type actionPage struct {
	// Challenge shows the action's page, with msg (the error of a refused
	// submission) when not nil. It returns false, having shown nothing,
	// when the action does not apply (Keycloak's ignore): the login goes
	// on without it.
	Challenge func(a *actionRun, msg *ui.Message) (shown bool, err error)
	// Process handles the page's POST.
	Process func(a *actionRun) (actionResult, error)
}

// actionResult is what a submission of an action's page came to.
type actionResult int

const (
	// actionDone: the action is complete; it leaves the user's list and
	// the login goes on.
	actionDone actionResult = iota
	// actionShown: a page was written (the form again, with an error).
	actionShown
	// actionFailed: the user refused; the login ends with access_denied
	// and a.Error as its description.
	actionFailed
	// actionEnded: the action ended the login itself and wrote the answer
	// (an account deleted).
	actionEnded
)

// actionPages are the actions the login pages can perform, by provider id.
var actionPages = map[string]actionPage{}

// registerActionPage adds the page of a required action; for init.
func registerActionPage(id string, p actionPage) { actionPages[id] = p }

// actionRun is one required action of a login in progress, as its page and
// its form see it.
type actionRun struct {
	h       *Handler
	w       http.ResponseWriter
	r       *http.Request
	Realm   realm.Realm
	Client  client.Client
	ID      string // the login in progress
	State   *loginState
	User    user.User
	Setting flow.RequiredAction
	// Initiated: an application asked for this action with kc_action;
	// Enforced: the user owes it anyway, so it cannot be cancelled.
	Initiated, Enforced bool
	// Param is the kc_action parameter (delete_credential:<id>).
	Param string
	// Error is the description sent to the client when Process fails.
	Error string
}

// page starts a page of the action: its form posts to the required-action
// URL with the login's CSRF token, and an application-initiated action that
// the user may refuse gets a cancel button.
func (a *actionRun) page(title string) ui.Page {
	p := a.h.page(a.r, &a.Realm, title, a.State.Req.UILocales)
	p.Action, p.CSRF, p.Username = a.h.actionURL(a.r, a.Realm, a.ID, *a.State), a.State.CSRF, a.User.Username
	p.CancelAIA = a.Initiated && !a.Enforced
	return p
}

// render writes one of the action's pages.
func (a *actionRun) render(status int, name string, p ui.Page) {
	a.h.render(a.w, a.r, &a.Realm, status, name, p)
}

// kcAction is a kc_action value: the action's provider id and, after a
// colon, its parameter (delete_credential:<credential id>).
type kcAction struct {
	Action string `json:"action"`
	Param  string `json:"param,omitempty"`
	// Status is kc_action_status for the authorization response:
	// success, cancelled or error; "" while the action has not run.
	Status  string `json:"status,omitempty"`
	Handled bool   `json:"handled,omitempty"`
}

func parseKcAction(v string) *kcAction {
	if v == "" {
		return nil
	}
	name, param, _ := strings.Cut(v, ":")
	return &kcAction{Action: name, Param: param}
}

// needsReauth reports whether an application-initiated action asks for a
// fresher login than the SSO session's (Keycloak's max_auth_age of the
// action: five minutes unless configured, none for delete_account).
func (h *Handler) needsReauth(r *http.Request, rl realm.Realm, req authRequest, authTime int64) (bool, error) {
	aia := parseKcAction(req.KcAction)
	if aia == nil {
		return false, nil
	}
	a, ok := authn.LookupRequiredAction(aia.Action)
	if !ok {
		return false, nil
	}
	cfg, err := h.Store.GetAuthConfig(r.Context(), rl.ID)
	if err != nil {
		return false, err
	}
	s, _ := authn.ActionSetting(cfg, aia.Action)
	return authTime+int64(authn.MaxAuthAge(rl, a, s)) < h.now(), nil
}

// requiredActions runs what the user owes before the login may finish: the
// realm's enabled actions the user has, in priority order, then the action
// the application asked for with kc_action. shown is true when a page (or
// a redirect) was written; the login continues from that page's form.
func (h *Handler) requiredActions(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st *loginState, u *user.User) (shown bool, err error) {
	ctx := r.Context()
	cfg, err := h.Store.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return false, err
	}
	for {
		nu, pending, err := authn.PendingActions(ctx, h.Store, rl, cfg, *u, authn.Trigger{Now: h.Now(), Locale: st.Locale})
		if err != nil {
			return false, err
		}
		*u = nu
		pending = slices.DeleteFunc(pending, func(a string) bool { return slices.Contains(st.Skipped, a) })
		name, initiated, enforced := "", false, false
		switch {
		case len(pending) > 0:
			if hasPrompt(st.Req, "none") {
				return true, h.redirectError(w, r, rl, st.Req, "interaction_required", "")
			}
			name = pending[0]
			if aia := st.AIA; aia != nil && !aia.Handled && aia.Action == name {
				aia.Handled, initiated, enforced = true, true, true
			}
		case st.AIA != nil && !st.AIA.Handled:
			st.AIA.Handled = true
			name, initiated = st.AIA.Action, true
			a, known := authn.LookupRequiredAction(name)
			s, _ := authn.ActionSetting(cfg, name)
			if _, page := actionPages[name]; !known || !a.Initiated || !s.Enabled || !page {
				// Not an action the realm lets an application ask for:
				// the login finishes and tells the application so.
				h.Log.DebugContext(ctx, "kc_action not run", "realm", rl.Name, "action", name)
				st.AIA.Status = "error"
				continue
			}
		default:
			return false, nil
		}
		page, ok := actionPages[name]
		if !ok {
			return true, h.needsAction(w, r, rl, *st, pending)
		}
		s, _ := authn.ActionSetting(cfg, name)
		st.Step, st.Action = stepRequiredAction, name
		if id, *st, err = h.enter(w, r, rl, id, *st); err != nil {
			return false, err
		}
		run := &actionRun{h: h, w: w, r: r, Realm: rl, Client: c, ID: id, State: st, User: *u, Setting: s,
			Initiated: initiated, Enforced: enforced}
		if initiated && st.AIA != nil {
			run.Param = st.AIA.Param
		}
		shown, err := page.Challenge(run, nil)
		if err != nil || shown {
			return shown, err
		}
		// Ignored: the login goes on without it.
		st.Skipped = append(st.Skipped, name)
	}
}

// currentAction rebuilds the actionRun of a login waiting on an action's
// page.
func (h *Handler) currentAction(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st *loginState, u user.User) (*actionRun, actionPage, error) {
	page, ok := actionPages[st.Action]
	if !ok {
		return nil, page, errPage(http.StatusBadRequest, &rl, "invalidCodeMessage")
	}
	cfg, err := h.Store.GetAuthConfig(r.Context(), rl.ID)
	if err != nil {
		return nil, page, err
	}
	s, _ := authn.ActionSetting(cfg, st.Action)
	run := &actionRun{h: h, w: w, r: r, Realm: rl, Client: c, ID: id, State: st, User: u, Setting: s}
	if aia := st.AIA; aia != nil && aia.Action == st.Action && aia.Handled && aia.Status == "" {
		run.Initiated, run.Param = true, aia.Param
		run.Enforced = slices.Contains(u.RequiredActions, st.Action)
	}
	return run, page, nil
}

// requiredAction serves the POST of a required action's page.
func (h *Handler) requiredAction(w http.ResponseWriter, r *http.Request) error {
	rl, p, id, st, c, err := h.loginRequest(w, r, true)
	if err != nil {
		return err
	}
	if st.Step != stepRequiredAction {
		return h.showStep(w, r)
	}
	u, err := h.loginUser(r, rl, st)
	if err != nil {
		return err
	}
	run, page, err := h.currentAction(w, r, rl, c, id, &st, u)
	if err != nil {
		return err
	}
	if run.Initiated && !run.Enforced && p.has("cancel-aia") {
		// The user declined what the application asked for; the login
		// finishes and says so (kc_action_status=cancelled).
		st.AIA.Status = "cancelled"
		return h.proceed(w, r, rl, c, id, st, u)
	}
	res, err := page.Process(run)
	if err != nil {
		return err
	}
	switch res {
	case actionShown, actionEnded:
		return nil
	case actionFailed:
		if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		h.Log.InfoContext(r.Context(), "required action refused", "realm", rl.Name, "client", c.ClientID, "user", u.ID, "action", st.Action)
		return h.redirectError(w, r, rl, st.Req, "access_denied", run.Error)
	}
	err = h.Store.UpdateUser(r.Context(), rl.ID, u.ID, func(x *user.User) error {
		x.RequiredActions = slices.DeleteFunc(x.RequiredActions, func(a string) bool { return a == st.Action })
		return nil
	})
	if err != nil {
		return err
	}
	if run.Initiated {
		st.AIA.Status = "success"
	}
	h.emailActionDone(r, rl, c, &st, u)
	if u, err = h.loginUser(r, rl, st); err != nil {
		return err
	}
	return h.proceed(w, r, rl, c, id, st, u)
}
