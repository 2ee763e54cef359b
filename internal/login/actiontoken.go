package login

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// actionVerifyEmail is the required action an email link completes.
const actionVerifyEmail = authn.ActionVerifyEmail

// mailer is the handler's Mailer, or one sending with the defaults.
func (h *Handler) mailer() *mail.Mailer {
	if h.Mail != nil {
		return h.Mail
	}
	return &mail.Mailer{Store: h.Store, Log: h.Log, Now: h.Now}
}

// actionToken serves /login-actions/action-token?key=…: the links of the
// mail Gatehouse sends. The token (token.VerifyAction) names the user and
// what the link allows; it is used once (store.ConsumeOnce, recorded until
// it expires). A verify-email or execute-actions link first shows a page
// to confirm on, so that a mail scanner fetching the link uses nothing; a
// reset-credentials link, which the user has just asked for, goes straight
// to the new-password page.
func (h *Handler) actionToken(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errPage(http.StatusBadRequest, &rl, "invalidRequestMessage")
	}
	raw := r.Form.Get("key")
	if raw == "" || len(raw) > 8192 {
		return errPage(http.StatusBadRequest, &rl, "invalidRequestMessage")
	}
	ctx := r.Context()
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return err
	}
	a, err := token.VerifyAction(raw, ks, h.URLs.RealmURL(r, rl.Name), h.now())
	if errors.Is(err, token.ErrActionExpired) {
		h.actionTokenFailed(r, rl, a, "expired_code")
		return &pageError{Status: http.StatusBadRequest, Key: "expiredActionTokenNoSessionMessage", Realm: &rl, Err: err}
	}
	if err != nil {
		return &pageError{Status: http.StatusBadRequest, Key: "invalidCodeMessage", Realm: &rl, Err: err}
	}
	u, err := h.Store.GetUser(ctx, rl.ID, a.UserID)
	if errors.Is(err, store.ErrNotFound) {
		h.actionTokenFailed(r, rl, a, "user_not_found")
		return errPage(http.StatusBadRequest, &rl, "invalidCodeMessage")
	}
	if err != nil {
		return err
	}
	if !u.Enabled {
		h.actionTokenFailed(r, rl, a, "user_disabled")
		return errPage(http.StatusBadRequest, &rl, "accountDisabledMessage")
	}
	// A verification link confirms the address it was sent to, no other.
	if a.Type == token.ActionVerifyEmail && a.Email != u.Email {
		h.actionTokenFailed(r, rl, a, "invalid_email")
		return errPage(http.StatusBadRequest, &rl, "staleEmailVerificationLink")
	}
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, a.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return errPage(http.StatusBadRequest, &rl, "clientDisabledMessage")
	}
	if err != nil {
		return err
	}
	if a.Type == token.ActionIdpVerifyAccountLink {
		return h.idpLinkToken(w, r, rl, c, a, u)
	}
	id, st, inLogin, err := h.actionLogin(w, r, rl, c, a)
	if err != nil {
		return err
	}
	// Opened outside the login that asked for it (another browser, a mail
	// scanner's prefetch), a link is spent only by the user's confirmation.
	if r.Method == http.MethodGet && !inLogin {
		return h.confirmAction(w, r, rl, a, u)
	}
	used, err := h.Store.ConsumeOnce(ctx, rl.ID, "action-token:"+a.ID, a.Expires)
	if err != nil {
		return err
	}
	if !used {
		h.actionTokenFailed(r, rl, a, "invalid_code")
		return errPage(http.StatusBadRequest, &rl, "expiredActionMessage")
	}
	h.recorder().Record(ctx, rl, events.Event{Type: events.ExecuteActionToken, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailAction: a.Type, events.DetailUsername: u.Username}})
	switch a.Type {
	case token.ActionVerifyEmail:
		if u, err = h.verifyEmail(r, rl, c, u); err != nil {
			return err
		}
	case token.ActionExecuteActions:
		if slices.Contains(a.Actions, actionVerifyEmail) && a.Email == u.Email {
			if u, err = h.verifyEmail(r, rl, c, u); err != nil {
				return err
			}
		}
		h.recorder().Record(ctx, rl, events.Event{Type: events.ExecuteActions, ClientID: c.ClientID, UserID: u.ID,
			IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: u.Username}})
		st.Email.Actions = slices.DeleteFunc(slices.Clone(a.Actions), func(x string) bool { return x == actionVerifyEmail })
	case token.ActionResetCredentials:
		// The reset-credentials flow goes on past its mail step.
		return h.continueReset(w, r, rl, c, id, st)
	}
	return h.proceed(w, r, rl, c, id, st, u)
}

// actionLogin is the login an action token continues: the login in progress
// that asked for the link when this very browser still holds it (the token's
// asid), else a new standalone one, bound to this browser.
func (h *Handler) actionLogin(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, a token.Action) (string, loginState, bool, error) {
	link := &emailLink{Type: a.Type, RedirectURI: a.RedirectURI}
	if a.AuthSession != "" {
		st, found, here, err := h.storedLogin(r, rl, a.AuthSession)
		if err != nil {
			return "", loginState{}, false, err
		}
		if found && here && st.Logout == nil && (st.UserID == "" || st.UserID == a.UserID) {
			st.UserID, st.Email = a.UserID, link
			if st.AuthTime == 0 {
				st.AuthTime = h.now()
			}
			return a.AuthSession, st, true, nil
		}
	}
	link.Standalone = true
	st := loginState{Client: c.ID, UserID: a.UserID, Email: link}
	return "", st, false, nil
}

// storedLogin loads the login in progress id, found false when it is gone,
// and says whether this browser holds it (its AUTH_SESSION_ID cookie is
// the one the login was started with).
func (h *Handler) storedLogin(r *http.Request, rl realm.Realm, id string) (st loginState, found, here bool, err error) {
	as, err := h.Store.GetAuthSession(r.Context(), rl.ID, id, h.now())
	if errors.Is(err, store.ErrNotFound) {
		return st, false, false, nil
	}
	if err != nil {
		return st, false, false, err
	}
	if json.Unmarshal([]byte(as.Data), &st) != nil {
		return loginState{}, false, false, nil
	}
	ck, cerr := r.Cookie(cookieAuthSession)
	return st, true, cerr == nil && equalSecret(ck.Value, st.Browser), nil
}

// confirmAction shows what a link is about to do, with a button that posts
// the same token back.
func (h *Handler) confirmAction(w http.ResponseWriter, r *http.Request, rl realm.Realm, a token.Action, u user.User) error {
	p := h.page(r, &rl, "confirmExecutionOfActions", "")
	text := ""
	switch a.Type {
	case token.ActionVerifyEmail:
		p.Title, text = "emailVerifyTitle", p.T("confirmEmailAddressVerification", u.Email)
	case token.ActionResetCredentials:
		text = p.T("requiredAction." + actionUpdatePassword)
	default:
		for i, x := range a.Actions {
			if i > 0 {
				text += ", "
			}
			text += p.T("requiredAction." + x)
		}
	}
	p.Message = &ui.Message{Type: "info", Text: text}
	h.renderConfirm(w, r, rl, &p)
	return nil
}

// renderConfirm renders the confirmation page p of a link: a button that
// posts the link's parameters back.
func (h *Handler) renderConfirm(w http.ResponseWriter, r *http.Request, rl realm.Realm, p *ui.Page) {
	p.Action = basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/login-actions/action-token"
	for _, k := range []string{"key", "client_id", "tab_id"} {
		if v := r.Form.Get(k); v != "" {
			p.Hidden = append(p.Hidden, ui.Param{Name: k, Value: v})
		}
	}
	h.render(w, r, &rl, http.StatusOK, "action-confirm.html", *p)
}

// verifyEmail marks the user's address verified and drops the VERIFY_EMAIL
// required action, recording VERIFY_EMAIL.
func (h *Handler) verifyEmail(r *http.Request, rl realm.Realm, c client.Client, u user.User) (user.User, error) {
	err := h.Store.UpdateUser(r.Context(), rl.ID, u.ID, func(x *user.User) error {
		x.EmailVerified = true
		x.RequiredActions = slices.DeleteFunc(x.RequiredActions, func(a string) bool { return a == actionVerifyEmail })
		return nil
	})
	if err != nil {
		return u, err
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.VerifyEmail, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: u.Username, events.DetailEmail: u.Email}})
	return h.Store.GetUser(r.Context(), rl.ID, u.ID)
}

func (h *Handler) actionTokenFailed(r *http.Request, rl realm.Realm, a token.Action, code string) {
	typ, details := events.ExecuteActionTokenError, map[string]string{events.DetailAction: a.Type}
	if a.Type == token.ActionIdpVerifyAccountLink {
		typ = events.IdentityProviderLinkAccountError
		details[events.DetailIdentityProvider], details[events.DetailIdentityProviderIdentity] = a.IdentityProviderAlias, a.IdentityProviderUsername
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: typ, ClientID: a.ClientID,
		UserID: a.UserID, IPAddress: clientIP(r), Error: code, Details: details})
}

// idpLinkToken follows an idp-verify-account-via-email link: it confirms
// the upstream identity of the first broker login that mailed it, for the
// account and address it was mailed to, once. In the browser holding that
// login, the login goes on at once; in another (the mail read on another
// device), a page asks to confirm first, so that a mail scanner's fetch
// confirms nothing, and the waiting login goes on when its page is
// reloaded. A link of a login that is gone or past this step, or one
// already used, is refused.
func (h *Handler) idpLinkToken(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, a token.Action, u user.User) error {
	ctx := r.Context()
	stale := func(code string) error {
		h.actionTokenFailed(r, rl, a, code)
		return errPage(http.StatusBadRequest, &rl, "identityProviderLinkStaleMessage")
	}
	if a.Email == "" || a.Email != u.Email {
		return stale("invalid_email")
	}
	if a.AuthSession == "" {
		return stale("invalid_token")
	}
	st, found, here, err := h.storedLogin(r, rl, a.AuthSession)
	if err != nil {
		return err
	}
	bl := st.Brokered
	if !found || st.Step != stepFirstBroker || bl == nil || st.Client != c.ID || bl.Alias != a.IdentityProviderAlias ||
		bl.Identity.Username != a.IdentityProviderUsername || bl.Existing != u.ID {
		return stale("invalid_token")
	}
	if bl.LinkVerified != "" {
		h.actionTokenFailed(r, rl, a, "identity_provider_link_confirmed_already")
		return errPage(http.StatusBadRequest, &rl, "identityProviderLinkConfirmedAlreadyText", bl.Alias, bl.Identity.Username)
	}
	if !here && r.Method == http.MethodGet {
		p := h.page(r, &rl, "confirmAccountLinking", "")
		p.TitleArgs = []string{bl.Identity.Username, bl.Alias}
		p.Message = &ui.Message{Type: "info", Text: p.T("confirmAccountLinkingBody", bl.Identity.Username, bl.Alias)}
		h.renderConfirm(w, r, rl, &p)
		return nil
	}
	used, err := h.Store.ConsumeOnce(ctx, rl.ID, "action-token:"+a.ID, a.Expires)
	if err != nil {
		return err
	}
	if !used {
		h.actionTokenFailed(r, rl, a, "invalid_code")
		return errPage(http.StatusBadRequest, &rl, "expiredActionMessage")
	}
	bl.LinkVerified = a.IdentityProviderUsername
	h.recorder().Record(ctx, rl, events.Event{Type: events.IdentityProviderLinkAccount, ClientID: c.ClientID, UserID: u.ID,
		IPAddress: clientIP(r), Details: map[string]string{events.DetailUsername: u.Username, events.DetailEmail: u.Email,
			events.DetailIdentityProvider: bl.Alias, events.DetailIdentityProviderIdentity: bl.Identity.Username}})
	if !here {
		if _, err := h.saveState(r, rl, a.AuthSession, st); err != nil {
			return err
		}
		p := h.page(r, &rl, "identityProviderLinkConfirmedTitle", "")
		p.Message = &ui.Message{Type: "success", Text: p.T("identityProviderLinkConfirmedElsewhere", bl.Alias, bl.Identity.Username)}
		h.render(w, r, &rl, http.StatusOK, "message.html", p)
		return nil
	}
	p, err := h.provider(r, rl, bl.Alias)
	if err != nil {
		return err
	}
	return h.walkFirstBroker(w, r, rl, c, a.AuthSession, st, p, nil, "", false)
}

// emailStep runs what an email link still asks of a login: the page of
// each required action the token named (the required-action registry's,
// as any login's), needsAction for one without a page, and, for a
// standalone link, the closing page (with a link back to the application
// when the token named one). done is false when the login goes on as any
// other (the user's own required actions, then the client).
func (h *Handler) emailStep(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st *loginState, u user.User) (done bool, err error) {
	st.Email.Actions = slices.DeleteFunc(st.Email.Actions, func(a string) bool { return slices.Contains(st.Skipped, a) })
	for len(st.Email.Actions) > 0 {
		name := st.Email.Actions[0]
		page, ok := actionPages[name]
		if !ok {
			return true, h.needsAction(w, r, rl, *st, st.Email.Actions)
		}
		cfg, err := h.Store.GetAuthConfig(r.Context(), rl.ID)
		if err != nil {
			return true, err
		}
		s, _ := authn.ActionSetting(cfg, name)
		st.Step, st.Action = stepRequiredAction, name
		if id, *st, err = h.enter(w, r, rl, id, *st); err != nil {
			return true, err
		}
		run := &actionRun{h: h, w: w, r: r, Realm: rl, Client: c, ID: id, State: st, User: u, Setting: s}
		shown, err := page.Challenge(run, nil)
		if err != nil || shown {
			return true, err
		}
		st.Email.Actions = st.Email.Actions[1:]
	}
	if !st.Email.Standalone {
		return false, nil
	}
	if id != "" {
		if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
			return true, err
		}
	}
	key := "accountUpdatedMessage"
	if st.Email.Type == token.ActionVerifyEmail {
		key = "emailVerifiedMessage"
	}
	p := h.page(r, &rl, "accountUpdatedTitle", "")
	p.Message = &ui.Message{Type: "success", Text: p.T(key)}
	// The link's redirect_uri must still be one the client allows.
	if st.Email.RedirectURI != "" {
		if uri, ok := c.RedirectRules(h.URLs.Base(r)).Match(st.Email.RedirectURI); ok {
			p.ContinueTo = uri
		}
	}
	h.render(w, r, &rl, http.StatusOK, "message.html", p)
	return true, nil
}

// emailActionDone notes that the required action of st finished in a login
// an email link started: it leaves the link's list, and a new password
// chosen through a reset-credentials link is RESET_PASSWORD as well.
func (h *Handler) emailActionDone(r *http.Request, rl realm.Realm, c client.Client, st *loginState, u user.User) {
	if st.Email == nil {
		return
	}
	st.Email.Actions = slices.DeleteFunc(st.Email.Actions, func(a string) bool { return a == st.Action })
	if st.Email.Type == token.ActionResetCredentials && st.Action == actionUpdatePassword {
		h.passwordReset(r, rl, c, u)
	}
}

// maxLinkSends bounds the action mails this process sends at once: past it
// a request's mail is dropped (logged and recorded as a failed send), so a
// burst of requests cannot pile up goroutines on a slow mail server.
const maxLinkSends = 16

var (
	linkSends   = make(chan struct{}, maxLinkSends)
	linkSending sync.WaitGroup
)

// WaitLinkSends waits for the action mails being sent to finish, or for
// ctx to end; a stopping server calls it after its last request.
func WaitLinkSends(ctx context.Context) error {
	done := make(chan struct{})
	go func() { linkSending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendLink mails u an action link of typ for the login id in the
// background, after the caller's writes: the page answers at once whatever
// the mail server does, and the send is bounded by the sender's timeouts.
// The result goes to the log (never the address) and to the events.
func (h *Handler) sendLink(r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, u user.User, typ string) {
	now := h.now()
	a := token.Action{Type: typ, UserID: u.ID, Issuer: h.URLs.RealmURL(r, rl.Name), ClientID: c.ClientID, ID: token.NewJTI(),
		IssuedAt: now, Expires: now + int64(token.ActionLifespan(rl, typ, false)), AuthSession: id}
	kind, okEvent, errEvent := mail.KindPasswordReset, events.SendResetPassword, events.SendResetPasswordError
	ip := clientIP(r)
	details := map[string]string{events.DetailUsername: u.Username, events.DetailEmail: u.Email}
	switch typ {
	case token.ActionVerifyEmail:
		a.Email = u.Email
		kind, okEvent, errEvent = mail.KindVerifyEmail, events.SendVerifyEmail, events.SendVerifyEmailError
	case token.ActionIdpVerifyAccountLink:
		// The existing account confirms the upstream identity of the login.
		a.Email = u.Email
		if bl := st.Brokered; bl != nil {
			a.IdentityProviderAlias, a.IdentityProviderUsername = bl.Alias, bl.Identity.Username
			details[events.DetailIdentityProvider], details[events.DetailIdentityProviderIdentity] = bl.Alias, bl.Identity.Username
		}
		kind, okEvent, errEvent = mail.KindIdentityProviderLink, events.SendIdentityProviderLink, events.SendIdentityProviderLinkError
	}
	select {
	case linkSends <- struct{}{}:
	default:
		h.Log.Warn("action email dropped: too many sends at once", "realm", rl.Name, "user", u.ID, "type", typ)
		h.recorder().Record(r.Context(), rl, events.Event{Type: errEvent, ClientID: c.ClientID, UserID: u.ID, IPAddress: ip,
			Details: details, Error: "email_send_failed"})
		return
	}
	linkSending.Add(1)
	go func() {
		defer func() { <-linkSends; linkSending.Done() }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e := events.Event{Type: okEvent, ClientID: c.ClientID, UserID: u.ID, IPAddress: ip, Details: details}
		if err := h.mailer().SendAction(ctx, rl, u, a, kind, st.TabID); err != nil {
			h.Log.Warn("action email not sent", "realm", rl.Name, "user", u.ID, "type", typ, "err", err)
			e.Type, e.Error = errEvent, "email_send_failed"
		}
		h.recorder().Record(ctx, rl, e)
	}()
}
