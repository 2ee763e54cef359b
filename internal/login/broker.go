package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Identity brokering: a login continues at an upstream OpenID Connect
// provider. GET /broker/{alias}/login sends the browser there with a state
// naming the login in progress; the upstream sends it back to
// /broker/{alias}/endpoint with a code, which package broker redeems and
// validates. A returning user logs in; a new one goes through the
// provider's first broker login flow, whose steps (review profile, create
// the user, or link to the existing account after re-authenticating) are
// pages of the login like any other flow's.

// brokeredLogin is a login that came back from an upstream provider.
type brokeredLogin struct {
	Alias    string          `json:"alias"`
	Identity broker.Identity `json:"identity"`
	// Existing is the local user the first broker login found with the
	// same username or email (idp-create-user-if-unique), to link after
	// confirmation; Created is set when the flow created the user.
	Existing string `json:"existing,omitempty"`
	Created  bool   `json:"created,omitempty"`
	// ReviewAgain: the user chose to review the profile rather than link
	// to the existing account.
	ReviewAgain bool `json:"review_again,omitempty"`
	// ChangedOnReview: the user changed the username or email on the
	// review page, so the existing account is not confirmed by email.
	ChangedOnReview bool `json:"changed_on_review,omitempty"`
	// LinkMailTo is the address the link confirmation mail went to (a
	// reload does not send it again); LinkVerified is the upstream
	// username whose link the mail's link confirmed.
	LinkMailTo   string `json:"link_mail_to,omitempty"`
	LinkVerified string `json:"link_verified,omitempty"`
}

// stepFirstBroker is the step of a login in the first broker login flow.
const stepFirstBroker = "first_broker_login"

// firstBrokerFlow is the first broker login flow of the login's provider.
var firstBrokerFlow = sideFlow{step: stepFirstBroker, kind: authflow.FirstBrokerLogin, refused: "identityProviderUnexpectedErrorMessage",
	allowed: func(realm.Realm) bool { return true },
	state:   func(st *loginState) **authflow.State { return &st.FirstBroker }}

// registerBroker adds the broker routes to mux.
func (h *Handler) registerBroker(mux *http.ServeMux) {
	b := "/realms/{realm}/broker/{alias}/"
	mux.Handle("GET "+b+"login", h.handle(h.brokerLogin))
	mux.Handle("GET "+b+"link", h.handle(h.brokerLink))
	mux.Handle("GET "+b+"token", h.handle(h.brokerToken))
	mux.Handle("GET "+b+"endpoint", h.handle(h.brokerEndpoint))
	mux.Handle("POST "+b+"endpoint", h.handle(h.brokerEndpoint))
	mux.Handle("GET "+b+"endpoint/descriptor", h.handle(h.brokerDescriptor))
	mux.Handle("GET /realms/{realm}/login-actions/first-broker-login", h.handle(h.firstBrokerLogin))
	mux.Handle("POST /realms/{realm}/login-actions/first-broker-login", h.handle(h.firstBrokerLogin))
}

// provider loads the enabled identity provider alias of rl.
func (h *Handler) provider(r *http.Request, rl realm.Realm, alias string) (idp.Provider, error) {
	p, err := h.Store.GetIdentityProvider(r.Context(), rl.ID, alias)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.Enabled) {
		return p, errPage(http.StatusBadRequest, &rl, "identityProviderNotFoundMessage", alias)
	}
	return p, err
}

// upstream is the client of provider p's upstream.
func (h *Handler) upstream(r *http.Request, rl realm.Realm, p idp.Provider) (*broker.OIDC, error) {
	kind, ok := idp.Kinds[p.ProviderID]
	if !ok {
		return nil, fmt.Errorf("%w: unknown provider kind %q", broker.ErrConfig, p.ProviderID)
	}
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return nil, err
	}
	up := &broker.OIDC{Alias: p.Alias, Config: broker.EffectiveConfig(kind, p.Config), Out: h.Outbound, Keys: h.Keys, RealmKeys: ks, Now: h.Now()}
	if kind.Social {
		up.Social = kind.ID
	}
	return up, nil
}

// brokerRedirectURI is where the upstream sends the browser back.
func (h *Handler) brokerRedirectURI(r *http.Request, rl realm.Realm, alias string) string {
	return h.URLs.RealmURL(r, rl.Name) + "/broker/" + url.PathEscape(alias) + "/endpoint"
}

// brokerLoginURL is the login page's button for provider alias.
func (h *Handler) brokerLoginURL(r *http.Request, rl realm.Realm, alias, id string, st loginState) string {
	q := "session_code=" + urlQueryEscape(id) + "&client_id=" + urlQueryEscape(st.Req.ClientID) + "&tab_id=" + urlQueryEscape(st.TabID)
	return basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/broker/" + urlPathEscape(alias) + "/login?" + q
}

// brokerLogin serves GET /broker/{alias}/login: the login in progress
// (named as the login pages name it) continues at the upstream.
func (h *Handler) brokerLogin(w http.ResponseWriter, r *http.Request) error {
	rl, _, id, st, c, err := h.loginRequest(w, r, false)
	if err != nil {
		return err
	}
	if st.Logout != nil {
		return errPage(http.StatusBadRequest, &rl, "invalidCodeMessage")
	}
	p, err := h.provider(r, rl, r.PathValue("alias"))
	if err != nil {
		return err
	}
	if p.LinkOnly {
		return errPage(http.StatusBadRequest, &rl, "identityProviderLinkOnlyMessage", p.Alias)
	}
	return h.toUpstream(w, r, rl, c, id, st, p, false)
}

// toUpstream stores a fresh request to p with the login id and sends the
// browser to p's authorization endpoint.
func (h *Handler) toUpstream(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, p idp.Provider, link bool) error {
	if isSAML(p) {
		return h.toSAMLUpstream(w, r, rl, c, id, st, p, link)
	}
	up, err := h.upstream(r, rl, p)
	if err != nil {
		return h.brokerFailed(r, rl, c, st, p.Alias, "", err)
	}
	pend := broker.NewPending(p.Alias, broker.PKCEEnabled(p.Config))
	pend.Link = link
	st.Broker = &pend
	if id, st, err = h.enter(w, r, rl, id, st); err != nil {
		return err
	}
	prompt := ""
	if hasPrompt(st.Req, "login") {
		prompt = "login"
	}
	target, err := up.AuthURL(broker.AuthRequest{RedirectURI: h.brokerRedirectURI(r, rl, p.Alias), State: pend.State(id),
		Nonce: pend.Nonce, Verifier: pend.Verifier, LoginHint: st.Req.LoginHint, UILocales: st.Req.UILocales,
		ACRValues: st.Req.ACRValues, Prompt: prompt})
	if err != nil {
		return h.brokerFailed(r, rl, c, st, p.Alias, "", err)
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// brokerFailed records the failure and shows the error page; the cause
// goes to the log only.
func (h *Handler) brokerFailed(r *http.Request, rl realm.Realm, c client.Client, st loginState, alias, userID string, cause error) error {
	typ := events.IdentityProviderLoginError
	if st.Broker != nil && st.Broker.Link {
		typ = events.FederatedIdentityLinkError
	}
	d := loginDetails(st)
	d[events.DetailIdentityProvider] = alias
	h.recorder().Record(r.Context(), rl, events.Event{Type: typ, ClientID: c.ClientID, UserID: userID, IPAddress: clientIP(r),
		Error: "identity_provider_login_failure", Details: d})
	return &pageError{Status: http.StatusBadGateway, Key: "identityProviderUnexpectedErrorMessage", Realm: &rl, Err: cause}
}

// brokerEndpoint serves the upstream's answer: the state must name a login
// in progress of this browser that is waiting for this provider, with the
// one-time secret it was sent with. The secret is spent before the code is
// redeemed, so a replayed answer finds nothing to continue.
func (h *Handler) brokerEndpoint(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	// A SAML POST carries at most a few hundred kilobytes of base64.
	r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
	if err := r.ParseForm(); err != nil {
		return errPage(http.StatusBadRequest, &rl, "invalidRequestMessage")
	}
	if samlMessage(r) {
		return h.brokerSAMLEndpoint(w, r, rl)
	}
	alias := r.PathValue("alias")
	refused := func(why string) error {
		h.recorder().Record(r.Context(), rl, events.Event{Type: events.IdentityProviderLoginError, IPAddress: clientIP(r), Error: "invalid_code",
			Details: map[string]string{events.DetailIdentityProvider: alias}})
		return &pageError{Status: http.StatusBadRequest, Key: "invalidCodeMessage", Realm: &rl, Err: errors.New(why)}
	}
	loginID, secret, err := broker.SplitState(r.Form.Get("state"))
	if err != nil {
		return refused("malformed state")
	}
	st, err := h.loadLogin(r, rl, loginID)
	if err != nil {
		return refused(err.Error())
	}
	if st.Broker == nil || st.Broker.Check(alias, secret) != nil {
		return refused("state does not match the login's request to the provider")
	}
	pend := *st.Broker
	st.Broker = nil
	if _, err := h.saveState(r, rl, loginID, st); err != nil {
		return err
	}
	c, err := h.Store.GetClient(r.Context(), rl.ID, st.Client)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return errPage(http.StatusBadRequest, &rl, "clientDisabledMessage")
	}
	if err != nil {
		return err
	}
	p, err := h.provider(r, rl, alias)
	if err != nil {
		return err
	}
	if isSAML(p) {
		return refused("an OpenID Connect answer for a SAML provider")
	}
	if e := r.Form.Get("error"); e != "" {
		// Cancelled or refused upstream: a login goes back to its page
		// with the reason; a link fails.
		if !pend.Link {
			st.Flash = &ui.Message{Type: "error", Text: ui.Text(h.page(r, &rl, "", st.Req.UILocales).Lang, "identityProviderAuthenticationFailedMessage")}
			return h.showFlowPage(w, r, rl, c, loginID, st)
		}
		st.Broker = &pend
		return h.brokerFailed(r, rl, c, st, alias, st.UserID, fmt.Errorf("upstream answered error %q", e))
	}
	up, err := h.upstream(r, rl, p)
	if err != nil {
		return h.brokerFailed(r, rl, c, st, alias, "", err)
	}
	ident, err := up.Login(r.Context(), r.Form.Get("code"), h.brokerRedirectURI(r, rl, alias), pend.Verifier, pend.Nonce)
	if err != nil {
		st.Broker = &pend // for the event's type
		return h.brokerFailed(r, rl, c, st, alias, "", err)
	}
	return h.brokered(w, r, rl, c, loginID, st, p, pend, ident)
}

// brokered continues a login with the identity the upstream vouched
// for: a link for a linking login, else a login of the user already
// linked, else the provider's first broker login flow.
func (h *Handler) brokered(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, loginID string, st loginState,
	p idp.Provider, pend broker.Pending, ident broker.Identity) error {
	alias := p.Alias
	if !p.StoreToken {
		ident.Token = ""
	}
	if err := h.applyUsernameTemplate(r, rl, p, &ident); err != nil {
		return err
	}
	bl := &brokeredLogin{Alias: alias, Identity: ident}
	if pend.Link {
		return h.finishLink(w, r, rl, c, loginID, st, p, bl)
	}
	u, err := h.Store.FindUserByFederatedIdentity(r.Context(), rl.ID, alias, ident.ID)
	switch {
	case err == nil:
		return h.brokeredLogin(w, r, rl, c, loginID, st, p, bl, u)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	// First login through this provider: its first broker login flow.
	st.Brokered, st.Step, st.FirstBroker = bl, stepFirstBroker, nil
	return h.walkFirstBroker(w, r, rl, c, loginID, st, p, nil, "", false)
}

// loadLogin loads the login id for the broker's callback, which carries
// no tab or client: the browser must be the one that started it.
func (h *Handler) loadLogin(r *http.Request, rl realm.Realm, id string) (loginState, error) {
	var st loginState
	as, err := h.Store.GetAuthSession(r.Context(), rl.ID, id, h.now())
	if err != nil {
		return st, fmt.Errorf("no login in progress: %w", err)
	}
	if err := json.Unmarshal([]byte(as.Data), &st); err != nil {
		return st, fmt.Errorf("decode login in progress: %w", err)
	}
	cookie, err := r.Cookie(cookieAuthSession)
	if err != nil || cookie.Value == "" || !equalSecret(cookie.Value, st.Browser) {
		return st, errors.New("login of another browser")
	}
	return st, nil
}

// brokeredLogin logs in u, already linked to the upstream identity.
func (h *Handler) brokeredLogin(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	p idp.Provider, bl *brokeredLogin, u user.User) error {
	if !u.Enabled {
		return errPage(http.StatusBadRequest, &rl, "accountDisabledMessage")
	}
	if err := h.updateBrokeredUser(r, rl, p, bl, &u, false); err != nil {
		return err
	}
	d := loginDetails(st)
	d[events.DetailIdentityProvider], d[events.DetailIdentityProviderIdentity] = p.Alias, bl.Identity.Username
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.IdentityProviderLogin, ClientID: c.ClientID, UserID: u.ID, IPAddress: clientIP(r), Details: d})
	return h.brokerDone(w, r, rl, c, id, st, p, bl, u)
}

// brokerDone finishes a brokered login: the session remembers the
// provider, then the post broker login flow (when the provider names one)
// and the rest of the login.
func (h *Handler) brokerDone(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	p idp.Provider, bl *brokeredLogin, u user.User) error {
	st.Brokered, st.FirstBroker = nil, nil
	st.IDP = &idpSession{Alias: p.Alias, Username: bl.Identity.Username, SessionID: bl.Identity.SessionID}
	st.UserID, st.AuthTime, st.SSOSession, st.Step = u.ID, h.now(), "", stepLogin
	st.ACR = authflow.ACR(rl, c, authflow.NoLoA, false)
	if p.PostBrokerLoginFlowAlias != "" {
		st.Brokered, st.Step = bl, stepFirstBroker
		s := authflow.NewState(flow.Flow{Alias: p.PostBrokerLoginFlowAlias})
		s.UserID = u.ID
		s.Notes = map[string]string{notePostBroker: "true"}
		st.FirstBroker = &s
		return h.walkFirstBroker(w, r, rl, c, id, st, p, nil, "", false)
	}
	return h.proceed(w, r, rl, c, id, st, u)
}

// idpSession is what the user session keeps of a brokered login.
type idpSession struct {
	Alias     string `json:"alias"`
	Username  string `json:"username"`
	SessionID string `json:"sid,omitempty"`
}

// notes are the user session notes of a brokered login.
func (s *idpSession) notes() map[string]string {
	if s == nil {
		return nil
	}
	n := map[string]string{broker.NoteIdentityProvider: s.Alias, broker.NoteIdentityProviderIdentity: s.Username}
	if s.SessionID != "" {
		n[broker.NoteBrokerSessionID] = s.Alias + "." + s.SessionID
	}
	return n
}

// notePostBroker marks a walk of the post broker login flow.
const notePostBroker = "post_broker_login"

// firstBrokerLogin serves GET and POST /login-actions/first-broker-login.
func (h *Handler) firstBrokerLogin(w http.ResponseWriter, r *http.Request) error {
	post := r.Method == http.MethodPost
	rl, prm, id, st, c, err := h.loginRequest(w, r, post)
	if err != nil {
		return err
	}
	if st.Step != stepFirstBroker || st.Brokered == nil {
		return h.showStep(w, r)
	}
	p, err := h.provider(r, rl, st.Brokered.Alias)
	if err != nil {
		return err
	}
	var form url.Values
	if post {
		form = r.PostForm
	}
	return h.walkFirstBroker(w, r, rl, c, id, st, p, form, prm.get("execution"), post)
}

// walkFirstBroker walks the first (or post) broker login flow of st.
func (h *Handler) walkFirstBroker(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	p idp.Provider, form url.Values, execution string, post bool) error {
	if st.FirstBroker == nil {
		alias := p.FirstBrokerLoginFlowAlias
		if alias == "" {
			alias = flow.FirstBrokerLoginFlow
		}
		s := authflow.NewState(flow.Flow{Alias: alias})
		st.FirstBroker = &s
	}
	run := &pageRun{h: h, r: r, client: c, id: id, st: &st}
	fc, err := h.walkContext(context.WithValue(r.Context(), pageRunKey{}, run), r, rl, c, authflow.FirstBrokerLogin, &st.FirstBroker, form)
	if err != nil {
		return h.firstBrokerOutcome(w, r, rl, c, id, st, p, authflow.Outcome{}, nil, err)
	}
	var out authflow.Outcome
	if post {
		out, err = authflow.Action(fc, execution)
	} else {
		out, err = authflow.Run(fc)
	}
	return h.firstBrokerOutcome(w, r, rl, c, id, st, p, out, run.send, err)
}

// firstBrokerOutcome answers where the first broker login flow stopped:
// one of its pages, an error page, or, the user known, the link and the
// rest of the login. send is the existing account to mail the link
// confirmation to (idp-email-verification), once the login is stored.
func (h *Handler) firstBrokerOutcome(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	p idp.Provider, out authflow.Outcome, send *user.User, err error) error {
	post := st.FirstBroker != nil && st.FirstBroker.Notes[notePostBroker] == "true"
	if errors.Is(err, authflow.ErrFlowConfig) {
		return h.flowConfigError(r, rl, c, err)
	}
	if err != nil {
		return err
	}
	bl := st.Brokered
	switch {
	case out.Challenge != nil:
		st.Step = stepFirstBroker
		if id, st, err = h.enter(w, r, rl, id, st); err != nil {
			return err
		}
		if send != nil {
			h.sendLink(r, rl, c, id, st, *send, token.ActionIdpVerifyAccountLink)
		}
		return h.renderChallenge(w, r, rl, id, st, out.Challenge, func(pg *ui.Page) {
			pg.UsernameLabel = "username"
			if rl.LoginWithEmailAllowed {
				pg.UsernameLabel = "usernameOrEmail"
			}
		})
	case out.Failure != nil:
		if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
			return err
		}
		typ := events.IdentityProviderFirstLoginError
		if post {
			typ = events.IdentityProviderLoginError
		}
		d := loginDetails(st)
		d[events.DetailIdentityProvider] = bl.Alias
		h.recorder().Record(r.Context(), rl, events.Event{Type: typ, ClientID: c.ClientID, UserID: out.Failure.UserID,
			IPAddress: clientIP(r), Error: out.Failure.Event, Details: d})
		status := out.Failure.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return &pageError{Status: status, Key: out.Failure.Key, Realm: &rl, Err: out.Failure}
	}
	u := out.User
	if post {
		st.Brokered, st.FirstBroker, st.Step = nil, nil, stepLogin
		return h.proceed(w, r, rl, c, id, st, u)
	}
	// The flow identified the user (created or re-authenticated): link.
	fi := idp.FederatedIdentity{UserID: u.ID, Alias: bl.Alias, FederatedUserID: bl.Identity.ID,
		FederatedUsername: bl.Identity.Username, Token: bl.Identity.Token}
	if err := h.Store.AddFederatedIdentity(r.Context(), rl.ID, fi); err != nil {
		return err
	}
	if err := h.updateBrokeredUser(r, rl, p, bl, &u, bl.Created); err != nil {
		return err
	}
	d := loginDetails(st)
	d[events.DetailIdentityProvider], d[events.DetailIdentityProviderIdentity] = bl.Alias, bl.Identity.Username
	if !bl.Created {
		h.recorder().Record(r.Context(), rl, events.Event{Type: events.FederatedIdentityLink, ClientID: c.ClientID, UserID: u.ID, IPAddress: clientIP(r), Details: d})
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.IdentityProviderFirstLogin, ClientID: c.ClientID, UserID: u.ID, IPAddress: clientIP(r), Details: d})
	st.FirstBroker = nil
	return h.brokerDone(w, r, rl, c, id, st, p, bl, u)
}

// finishLink links the upstream identity to the user signed in in the
// login st (client-initiated account linking) and returns to the client.
func (h *Handler) finishLink(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState,
	p idp.Provider, bl *brokeredLogin) error {
	st.Broker = &broker.Pending{Link: true} // for the error events' type
	if st.Link == nil || st.UserID == "" {
		return h.brokerFailed(r, rl, c, st, p.Alias, "", errors.New("link without a signed-in user"))
	}
	other, err := h.Store.FindUserByFederatedIdentity(r.Context(), rl.ID, p.Alias, bl.Identity.ID)
	if err == nil && other.ID != st.UserID {
		d := loginDetails(st)
		d[events.DetailIdentityProvider] = p.Alias
		h.recorder().Record(r.Context(), rl, events.Event{Type: events.FederatedIdentityLinkError, ClientID: c.ClientID, UserID: st.UserID,
			IPAddress: clientIP(r), Error: "identity_provider_login_failure", Details: d})
		return errPage(http.StatusBadRequest, &rl, "identityProviderAlreadyLinkedMessage", p.Alias)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err != nil {
		fi := idp.FederatedIdentity{UserID: st.UserID, Alias: p.Alias, FederatedUserID: bl.Identity.ID,
			FederatedUsername: bl.Identity.Username, Token: bl.Identity.Token}
		if err := h.Store.AddFederatedIdentity(r.Context(), rl.ID, fi); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errPage(http.StatusBadRequest, &rl, "identityProviderAlreadyLinkedMessage", p.Alias)
			}
			return err
		}
	}
	d := loginDetails(st)
	d[events.DetailIdentityProvider], d[events.DetailIdentityProviderIdentity] = p.Alias, bl.Identity.Username
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.FederatedIdentityLink, ClientID: c.ClientID, UserID: st.UserID, IPAddress: clientIP(r), Details: d})
	if err := h.Store.DeleteAuthSession(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, st.Link.RedirectURI, http.StatusFound)
	return nil
}

// showFirstBrokerPage shows the current page of the login's first broker
// login flow again (a reload).
func (h *Handler) showFirstBrokerPage(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState) error {
	if st.Brokered == nil {
		return errPage(http.StatusBadRequest, &rl, "expiredCodeMessage")
	}
	p, err := h.provider(r, rl, st.Brokered.Alias)
	if err != nil {
		return err
	}
	return h.walkFirstBroker(w, r, rl, c, id, st, p, nil, "", false)
}

// providerButtons are the login page's "sign in with" buttons: the realm's
// enabled providers, less those hidden from the login page and those that
// only link accounts.
func (h *Handler) providerButtons(r *http.Request, rl realm.Realm, id string, st loginState) ([]ui.IdentityProviderLink, error) {
	ps, err := h.Store.ListIdentityProviders(r.Context(), rl.ID)
	if err != nil {
		return nil, err
	}
	var out []ui.IdentityProviderLink
	for _, p := range ps {
		if !p.Enabled || p.HideOnLogin || p.LinkOnly {
			continue
		}
		name := p.DisplayName
		if name == "" {
			name = p.Alias
		}
		out = append(out, ui.IdentityProviderLink{Alias: p.Alias, DisplayName: name, ProviderID: p.ProviderID,
			LoginURL: h.brokerLoginURL(r, rl, p.Alias, id, st)})
	}
	return out, nil
}

// applyUsernameTemplate applies the provider's username template
// importers to the identity the upstream returned.
func (h *Handler) applyUsernameTemplate(r *http.Request, rl realm.Realm, p idp.Provider, id *broker.Identity) error {
	ms, err := h.Store.ListIdentityProviderMappers(r.Context(), rl.ID, p.Alias)
	if err != nil {
		return err
	}
	broker.ApplyUsernameTemplate(p.Alias, ms, id)
	return nil
}

// updateBrokeredUser applies the provider's mappers to u (all of them at
// the first login, imported; at later ones as their sync mode says) and
// keeps the upstream's latest tokens when the provider stores them.
func (h *Handler) updateBrokeredUser(r *http.Request, rl realm.Realm, p idp.Provider, bl *brokeredLogin, u *user.User, first bool) error {
	ms, err := h.Store.ListIdentityProviderMappers(r.Context(), rl.ID, p.Alias)
	if err != nil {
		return err
	}
	phase := broker.PhaseUpdate
	if first {
		phase = broker.PhaseImport
	}
	if err := (broker.Mapping{Store: h.Store, RealmID: rl.ID, Provider: p, Mappers: ms}).Apply(r.Context(), phase, u, bl.Identity); err != nil {
		if errors.Is(err, broker.ErrMapperTarget) {
			h.Log.WarnContext(r.Context(), "identity provider mapper skipped", "realm", rl.Name, "alias", p.Alias, "err", err)
		} else {
			return err
		}
	}
	if !first && p.StoreToken && bl.Identity.Token != "" {
		return h.Store.UpdateFederatedIdentityToken(r.Context(), rl.ID, u.ID, p.Alias, bl.Identity.Token)
	}
	return nil
}
