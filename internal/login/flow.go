package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The browser login walks the realm's browser flow (or the client's
// override) with package authflow. The walk's progress is part of the
// login in progress (loginState.Flow), stored in the database, so each
// page's POST may land on any node.

// flowContext prepares a walk of the login st's flow; form is what the
// page posted (nil when nothing was).
func (h *Handler) flowContext(r *http.Request, rl realm.Realm, c client.Client, st *loginState, form url.Values) (*authflow.Context, error) {
	fc, err := h.walkContext(r.Context(), r, rl, c, authflow.Browser, &st.Flow, form)
	if err != nil {
		return nil, err
	}
	ctx := fc.Context
	sso, ok, err := h.ssoSession(ctx, r, rl)
	if err != nil {
		return nil, err
	}
	req := authflow.Request{Kind: authflow.Browser, IP: clientIP(r), LoginHint: st.Req.LoginHint, IDPHint: st.Req.IDPHint,
		PromptNone: hasPrompt(st.Req, "none"), Origin: origin(h.URLs.Base(r))}
	req.RequestedLoA, req.ForceLoA = authflow.RequestedLoA(rl, c, st.Req.ACRValues, st.Req.Claims)
	// prompt=login asks for the form whatever the session; so does an
	// authentication older than max_age (OpenID Connect Core §3.1.2.1).
	req.Reauthenticate = hasPrompt(st.Req, "login") || hasPrompt(st.Req, "select_account")
	if ok {
		if st.Req.MaxAge >= 0 && (st.Req.MaxAge == 0 || h.now()-sso.us.AuthTime > st.Req.MaxAge) {
			req.Reauthenticate = true
		}
		// An application-initiated action asks for a login as recent as
		// the action's max_auth_age (a password change needs a fresh one).
		if !req.Reauthenticate {
			if req.Reauthenticate, err = h.needsReauth(r, rl, st.Req, sso.us.AuthTime); err != nil {
				return nil, err
			}
		}
		if req.Reauthenticate && req.LoginHint == "" {
			req.LoginHint = sso.user.Username // signing in again as the same user
		}
		req.SSO = &authflow.SSO{Session: sso.us, User: sso.user}
	}
	fc.Req = req
	return fc, nil
}

// walkContext prepares a walk of the flow bound to kind for client c
// (the browser, registration or reset-credentials flow); *fs is the
// login's progress through it, started when nil.
func (h *Handler) walkContext(ctx context.Context, r *http.Request, rl realm.Realm, c client.Client, kind authflow.Kind, fs **authflow.State, form url.Values) (*authflow.Context, error) {
	model, err := h.Store.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	model, top, err := authflow.Bound(model, c, kind)
	if err != nil {
		return nil, err
	}
	if *fs == nil {
		s := authflow.NewState(top)
		*fs = &s
	}
	if form == nil {
		form = url.Values{}
	}
	return &authflow.Context{Context: ctx, Store: h.Store, Log: h.Log, Hashes: h.Hashes, Now: h.Now(), Realm: rl, Client: c,
		Req: authflow.Request{Kind: kind, IP: clientIP(r), RequestedLoA: authflow.NoLoA}, Form: form, State: *fs, Model: model}, nil
}

// flowConfigError is the answer to a flow that cannot run: logged for the
// administrator, an error page for the user.
func (h *Handler) flowConfigError(r *http.Request, rl realm.Realm, c client.Client, err error) error {
	h.Log.WarnContext(r.Context(), "authentication flow cannot run", "realm", rl.Name, "client", c.ClientID, "err", err)
	return &pageError{Status: http.StatusInternalServerError, Key: "flowNotRunnableMessage", Realm: &rl, Err: err}
}

// flowOutcome answers where a walk stopped: a page of the flow, an error
// page, or (the flow done) the rest of the login: required actions,
// consent, the code. id is the login in progress, "" when none is stored
// yet.
func (h *Handler) flowOutcome(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	fc *authflow.Context, out authflow.Outcome, err error) error {
	if errors.Is(err, authflow.ErrFlowConfig) {
		return h.flowConfigError(r, rl, c, err)
	}
	if err != nil {
		return err
	}
	if out.Failure != nil {
		h.flowFailed(r, rl, c, st, out.Failure)
	}
	if out.Challenge != nil {
		if hasPrompt(st.Req, "none") {
			if id != "" {
				if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
					return err
				}
			}
			return h.redirectError(w, r, rl, st.Req, "login_required", "")
		}
		st.Step = stepLogin
		if alias := out.Challenge.IdentityProvider; alias != "" {
			// identity-provider-redirector: on to the provider.
			p, err := h.provider(r, rl, alias)
			if err != nil {
				return err
			}
			return h.toUpstream(w, r, rl, c, id, st, p, false)
		}
		id, st, err = h.enter(w, r, rl, id, st)
		if err != nil {
			return err
		}
		return h.showChallenge(w, r, rl, id, st, fc, out.Challenge)
	}
	if out.Failure != nil {
		if id != "" {
			if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
				return err
			}
		}
		status := out.Failure.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return &pageError{Status: status, Key: out.Failure.Key, Realm: &rl, Err: out.Failure}
	}
	u := out.User
	st.UserID = u.ID
	if out.SSO && fc.Req.SSO != nil {
		st.SSOSession, st.AuthTime, st.RememberMe = fc.State.SSOSession, fc.Req.SSO.Session.AuthTime, fc.Req.SSO.Session.RememberMe
	} else {
		st.SSOSession, st.AuthTime, st.RememberMe = "", h.now(), fc.Note(authflow.NoteRememberMe) == "true"
	}
	st.ACR = authflow.ACR(rl, c, fc.State.Level, out.SSO)
	return h.proceed(w, r, rl, c, id, st, u)
}

// showChallenge renders a page of the flow.
func (h *Handler) showChallenge(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState, fc *authflow.Context, pg *authflow.Page) error {
	buttons, err := h.providerButtons(r, rl, id, st)
	if err != nil {
		return err
	}
	return h.renderChallenge(w, r, rl, id, st, pg, func(p *ui.Page) {
		if pg.Template == authflow.TemplateLogin || pg.Template == authflow.TemplateLoginUsername {
			p.IdentityProviders = buttons
		}
		p.UsernameLabel = "username"
		if rl.LoginWithEmailAllowed {
			p.UsernameLabel = "usernameOrEmail"
		}
		p.ShowRememberMe, p.RememberMe = rl.RememberMe, fc.Note(authflow.NoteRememberMe) == "true"
		// The "forgot password" and "register" links where the realm
		// allows them (the templates place them as Keycloak's pages do).
		if rl.ResetPasswordAllowed {
			p.ResetURL = h.resetURL(r, rl, id, st)
		}
		if rl.RegistrationAllowed {
			p.RegisterURL = h.registerURL(r, rl, id, st)
		}
		if st.Flow.UserID != "" {
			p.RestartURL = h.loginActionURL(r, rl, "restart", id, st)
		}
		p.TryAnotherWay = authflow.HasOtherAlternative(fc.Model, st.Flow.Current)
	})
}

// renderChallenge renders a page of a flow (the browser, registration or
// reset-credentials flow): its message, what base adds, then what only
// the page shows.
func (h *Handler) renderChallenge(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState, pg *authflow.Page, base func(*ui.Page)) error {
	p := h.page(r, &rl, pg.Title, st.Req.UILocales)
	p.Action, p.CSRF, p.Username = h.actionURL(r, rl, id, st), st.CSRF, pg.Username
	switch {
	case pg.Error != "":
		p.Message, p.FieldError = &ui.Message{Type: "error", Text: p.T(pg.Error, pg.ErrorArgs...)}, pg.FieldError
	case pg.Info != "":
		p.Message = &ui.Message{Type: "info", Text: p.T(pg.Info)}
	case st.Flash != nil:
		p.Message = st.Flash
	}
	if base != nil {
		base(&p)
	}
	if pg.Fill != nil {
		pg.Fill(&p)
	}
	status := pg.Status
	if status == 0 {
		// A refused attempt is answered 200 with the form again, as
		// Keycloak does.
		status = http.StatusOK
	}
	h.render(w, r, &rl, status, pg.Template, p)
	return nil
}

// flowFailed logs and records a refused step: LOGIN_ERROR with Keycloak's
// error, and the refusal the rate limiter counts.
func (h *Handler) flowFailed(r *http.Request, rl realm.Realm, c client.Client, st loginState, f *authflow.Error) {
	h.Log.InfoContext(r.Context(), "login failed", "realm", rl.Name, "client", c.ClientID, "ip", clientIP(r), "error", f.Event)
	switch f.Event {
	case "invalid_user_credentials", "user_not_found", "user_disabled":
		h.loginFailed(r, rl, c, st, f.Username)
		// The page is the answer; the rate limiter counts it as the
		// password grant's refusal of the same guess.
		web.NoteRefusal(r.Context(), "invalid_grant")
		return
	}
	d := loginDetails(st)
	if f.Username != "" {
		d[events.DetailUsername] = f.Username
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.LoginError, ClientID: c.ClientID, UserID: f.UserID,
		IPAddress: clientIP(r), Error: f.Event, Details: d})
}

// startFlow begins the browser flow of a new login. Nothing is stored
// until the flow shows a page: a login the SSO session completes needs no
// login in progress.
func (h *Handler) startFlow(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, req authRequest) error {
	st := loginState{Step: stepLogin, Client: c.ID, Req: req, AIA: parseKcAction(req.KcAction)}
	if l, ok := chosenLocale(rl, params{"kc_locale": r.URL.Query().Get("kc_locale")}); ok {
		st.Locale, st.Req.UILocales = l, l
	}
	fc, err := h.flowContext(r, rl, c, &st, nil)
	if err != nil {
		return h.flowOutcome(w, r, rl, c, "", st, fc, authflow.Outcome{}, err)
	}
	out, err := authflow.Run(fc)
	return h.flowOutcome(w, r, rl, c, "", st, fc, out, err)
}

// authenticate serves the POST of a page of the flow (and its "try
// another way" button).
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) error {
	rl, p, id, st, c, err := h.loginRequest(w, r, true)
	if err != nil {
		return err
	}
	if st.Step == stepResetPassword || st.Step == stepRegister {
		st.Step = stepLogin // the browser went back to the login form
	}
	if st.Step != stepLogin {
		// A form posted again after it succeeded (the back button): show
		// where the login stands rather than logging in twice.
		return h.showStep(w, r)
	}
	fc, err := h.flowContext(r, rl, c, &st, r.PostForm)
	if err != nil {
		return h.flowOutcome(w, r, rl, c, id, st, fc, authflow.Outcome{}, err)
	}
	var out authflow.Outcome
	if p.has("tryAnotherWay") {
		out, err = authflow.TryAnotherWay(fc)
	} else {
		out, err = authflow.Action(fc, p.get("execution"))
	}
	return h.flowOutcome(w, r, rl, c, id, st, fc, out, err)
}

// restart serves GET /login-actions/restart: the login starts over from
// the flow's first step, forgetting the user identified so far.
func (h *Handler) restart(w http.ResponseWriter, r *http.Request) error {
	rl, _, id, st, c, err := h.loginRequest(w, r, false)
	if err != nil {
		return err
	}
	if st.Logout != nil {
		return h.showLogoutConfirm(w, r, rl, id, st)
	}
	st.Step, st.UserID = stepLogin, ""
	fc, err := h.flowContext(r, rl, c, &st, nil)
	if err != nil {
		return h.flowOutcome(w, r, rl, c, id, st, fc, authflow.Outcome{}, err)
	}
	out, err := authflow.Restart(fc)
	return h.flowOutcome(w, r, rl, c, id, st, fc, out, err)
}

// showFlowPage shows the flow's current page again (a reload).
func (h *Handler) showFlowPage(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState) error {
	fc, err := h.flowContext(r, rl, c, &st, nil)
	if err != nil {
		return h.flowOutcome(w, r, rl, c, id, st, fc, authflow.Outcome{}, err)
	}
	out, err := authflow.Run(fc)
	return h.flowOutcome(w, r, rl, c, id, st, fc, out, err)
}

// origin is the scheme and host of a URL (the server's base URL): what a
// browser names as the origin of the login pages.
func origin(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
