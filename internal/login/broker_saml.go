package login

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// Brokering through a SAML 2.0 identity provider: the login sends an
// AuthnRequest upstream whose RelayState names the login in progress (as
// an OpenID Connect request's state does) and whose ID the login keeps;
// the upstream answers at the same broker endpoint with a SAMLResponse,
// which package broker validates against that ID. The endpoint also takes
// the upstream's LogoutRequest, which ends the sessions that signed in
// through it, and /endpoint/descriptor serves Gatehouse's service
// provider metadata for the upstream's administrator.

// samlUpstream is the SAML service provider side of provider p.
func (h *Handler) samlUpstream(r *http.Request, rl realm.Realm, p idp.Provider) (*broker.SAML, error) {
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return nil, err
	}
	return &broker.SAML{Alias: p.Alias, Config: p.Config, RealmURL: h.URLs.RealmURL(r, rl.Name), RealmKeys: ks, Now: h.Now(),
		Spend: func(key string, until time.Time) (bool, error) {
			return h.Store.ConsumeOnce(r.Context(), rl.ID, "saml-broker:"+p.InternalID+":"+key, until.Unix())
		}}, nil
}

// isSAML says whether provider p is a SAML identity provider.
func isSAML(p idp.Provider) bool { return idp.Kinds[p.ProviderID].SAML }

// toSAMLUpstream stores a fresh request to the SAML provider p with the
// login and sends the browser there with an AuthnRequest.
func (h *Handler) toSAMLUpstream(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, id string, st loginState, p idp.Provider, link bool) error {
	up, err := h.samlUpstream(r, rl, p)
	if err != nil {
		return err
	}
	pend := broker.NewPending(p.Alias, false)
	pend.Link = link
	st.Broker = &pend
	if id, st, err = h.enter(w, r, rl, id, st); err != nil {
		return err
	}
	req, err := up.AuthnRequest(pend.State(id))
	if err != nil {
		return h.brokerFailed(r, rl, c, st, p.Alias, "", err)
	}
	// The request's ID is what the Response must answer (InResponseTo).
	pend.RequestID = req.ID
	st.Broker = &pend
	if _, err := h.saveState(r, rl, id, st); err != nil {
		return err
	}
	if req.RedirectURL != "" {
		http.Redirect(w, r, req.RedirectURL, http.StatusFound)
		return nil
	}
	return h.postForm(w, r, rl, st.Req.UILocales, req.PostURL, []ui.Param{{Name: "SAMLRequest", Value: req.SAMLRequest}, {Name: "RelayState", Value: req.RelayState}})
}

// postForm answers a page whose script posts params to target (the SAML
// POST binding).
func (h *Handler) postForm(w http.ResponseWriter, r *http.Request, rl realm.Realm, locales, target string, params []ui.Param) error {
	pg := h.page(r, &rl, "doContinue", locales)
	pg.PostTo, pg.Params = target, params
	pageHeaders(w, &rl, h.ui().ScriptSource("form-post.js"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return h.ui().Render(w, "form-post.html", pg)
}

// samlMessage reports whether the request carries a SAML message, which
// the broker endpoint serves as a SAML provider's.
func samlMessage(r *http.Request) bool {
	return r.Form.Has("SAMLResponse") || r.Form.Has("SAMLRequest")
}

// brokerSAMLEndpoint serves a SAML message at the broker endpoint: the
// upstream's Response to a login, or its LogoutRequest.
func (h *Handler) brokerSAMLEndpoint(w http.ResponseWriter, r *http.Request, rl realm.Realm) error {
	alias := r.PathValue("alias")
	refused := func(why error) error {
		h.recorder().Record(r.Context(), rl, events.Event{Type: events.IdentityProviderLoginError, IPAddress: clientIP(r), Error: "invalid_saml_response",
			Details: map[string]string{events.DetailIdentityProvider: alias}})
		return &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl, Err: why}
	}
	m, err := saml.ReadMessage(r)
	if err != nil {
		return refused(err)
	}
	if m.Param == "SAMLRequest" {
		return h.samlUpstreamLogout(w, r, rl, alias, m)
	}
	// The RelayState names the login, as a state does.
	loginID, secret, err := broker.SplitState(m.RelayState)
	if err != nil {
		return refused(errors.New("malformed RelayState"))
	}
	st, err := h.loadLogin(r, rl, loginID)
	if err != nil {
		return refused(err)
	}
	if st.Broker == nil || st.Broker.Check(alias, secret) != nil || st.Broker.RequestID == "" {
		return refused(errors.New("RelayState does not match the login's request to the provider"))
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
	if !isSAML(p) {
		return refused(errors.New("a SAML message for a provider that is not SAML"))
	}
	up, err := h.samlUpstream(r, rl, p)
	if err != nil {
		return err
	}
	if resp, err := m.Response(); err == nil && resp.StatusCode != saml.StatusSuccess && resp.InResponseTo == pend.RequestID {
		// Cancelled or refused upstream (AuthnFailed, NoPassive...): a
		// login goes back to its page with the reason; a link fails. The
		// status counts only once it is shown to be the upstream's.
		resp, err := up.ErrorStatus(m, pend.RequestID)
		if err != nil {
			st.Broker = &pend // for the event's type
			return h.brokerFailed(r, rl, c, st, alias, "", err)
		}
		if !pend.Link {
			st.Flash = &ui.Message{Type: "error", Text: ui.Text(h.page(r, &rl, "", st.Req.UILocales).Lang, "identityProviderAuthenticationFailedMessage")}
			return h.showFlowPage(w, r, rl, c, loginID, st)
		}
		st.Broker = &pend
		return h.brokerFailed(r, rl, c, st, alias, st.UserID, fmt.Errorf("upstream answered status %s %s", resp.StatusCode, resp.SubStatusCode))
	}
	ident, err := up.Login(m.Raw, pend.RequestID)
	if err != nil {
		st.Broker = &pend // for the event's type
		return h.brokerFailed(r, rl, c, st, alias, "", err)
	}
	ms, err := h.Store.ListIdentityProviderMappers(r.Context(), rl.ID, p.Alias)
	if err != nil {
		return err
	}
	broker.PreprocessSAML(ms, &ident)
	return h.brokered(w, r, rl, c, loginID, st, p, pend, ident)
}

// samlUpstreamLogout ends, on the upstream's LogoutRequest, the sessions
// that signed in through provider alias (the NameID's user, the upstream
// session when the request names one) and answers with a LogoutResponse
// to the upstream's single logout service.
func (h *Handler) samlUpstreamLogout(w http.ResponseWriter, r *http.Request, rl realm.Realm, alias string, m *saml.Message) error {
	p, err := h.provider(r, rl, alias)
	if err != nil {
		return err
	}
	refused := func(why error) error {
		return &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl, Err: why}
	}
	if !isSAML(p) {
		return refused(errors.New("a SAML message for a provider that is not SAML"))
	}
	up, err := h.samlUpstream(r, rl, p)
	if err != nil {
		return err
	}
	certs, err := up.SigningCertificates()
	if err != nil || len(certs) == 0 || p.Config[idp.SAMLValidateSignature] != "true" {
		return refused(fmt.Errorf("no signing certificate to check the upstream's LogoutRequest with: %v", err))
	}
	if err := m.Verify(certs); err != nil {
		return refused(err)
	}
	lr, err := m.LogoutRequest()
	if err != nil {
		return refused(err)
	}
	if want := p.Config[idp.SAMLIdPEntityID]; want != "" && lr.Issuer != want {
		return refused(fmt.Errorf("LogoutRequest issued by %q", lr.Issuer))
	}
	// The request must be addressed to this endpoint: the upstream signs
	// one for each service provider it serves, and another one's must not
	// end sessions here. It is good within the realm's access code
	// lifespan (plus the allowed clock skew) of its IssueInstant, until
	// its NotOnOrAfter; its ID is kept as long as that window lasts.
	skew := time.Duration(idp.SAMLClockSkew(p.Config)) * time.Second
	window := skew + time.Duration(max(rl.AccessCodeLifespan, 60))*time.Second
	now := h.Now()
	switch {
	case lr.Destination == "":
		return refused(errors.New("LogoutRequest without Destination"))
	case !sameURL(lr.Destination, up.EndpointURL()):
		return refused(fmt.Errorf("LogoutRequest for another Destination %q", lr.Destination))
	case lr.IssueInstant.IsZero():
		return refused(errors.New("LogoutRequest without IssueInstant"))
	case lr.IssueInstant.Before(now.Add(-window)):
		return refused(fmt.Errorf("LogoutRequest too old: issued at %s", lr.IssueInstant))
	case lr.IssueInstant.After(now.Add(window)):
		return refused(fmt.Errorf("LogoutRequest issued ahead of the clock: at %s", lr.IssueInstant))
	case !lr.NotOnOrAfter.IsZero() && !now.Before(lr.NotOnOrAfter.Add(skew)):
		return refused(fmt.Errorf("LogoutRequest expired at %s", lr.NotOnOrAfter))
	}
	if fresh, err := up.Spend("logout:"+lr.ID, lr.IssueInstant.Add(window+time.Second)); err != nil {
		return err
	} else if !fresh {
		return refused(fmt.Errorf("LogoutRequest %q was used before", lr.ID))
	}
	sub := ""
	if idp.SAMLPrincipal(p.Config) == idp.PrincipalSubject {
		sub = lr.NameID
	}
	sessions := lr.SessionIndexes
	if len(sessions) == 0 {
		sessions = []string{""}
	}
	for _, sid := range sessions {
		if sub == "" && sid == "" {
			break
		}
		if _, err := broker.EndSessions(r.Context(), h.Store, rl.ID, p.Alias, sub, sid); err != nil {
			return err
		}
	}
	h.expireSSOCookies(w, r, rl)
	slo := p.Config[idp.SAMLSingleLogoutURL]
	if slo == "" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write([]byte("Logged out\n"))
		return err
	}
	signer, err := up.Signer()
	if err != nil {
		return err
	}
	post := p.Config[idp.SAMLPostBindingLogout] == "true" || (p.Config[idp.SAMLPostBindingLogout] == "" && p.Config[idp.SAMLPostBindingResponse] == "true")
	in := saml.LogoutResponseInput{Issuer: up.EntityID(), Destination: slo, InResponseTo: lr.ID, Now: h.Now()}
	if post {
		in.Signer = signer
	}
	doc, err := saml.BuildLogoutResponse(in)
	if err != nil {
		return err
	}
	if post {
		return h.postForm(w, r, rl, "", slo, []ui.Param{{Name: "SAMLResponse", Value: saml.PostValue(doc)}, {Name: "RelayState", Value: m.RelayState}})
	}
	target, err := saml.RedirectURL(slo, "SAMLResponse", doc, m.RelayState, signer)
	if err != nil {
		return err
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// brokerDescriptor serves GET /broker/{alias}/endpoint/descriptor: the
// service provider metadata the upstream SAML identity provider is
// configured with.
func (h *Handler) brokerDescriptor(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	p, err := h.Store.GetIdentityProvider(r.Context(), rl.ID, r.PathValue("alias"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !isSAML(p)) {
		return errPage(http.StatusNotFound, &rl, "identityProviderNotFoundMessage", r.PathValue("alias"))
	}
	if err != nil {
		return err
	}
	up, err := h.samlUpstream(r, rl, p)
	if err != nil {
		return err
	}
	doc, err := up.Metadata()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, err = w.Write(doc)
	return err
}
