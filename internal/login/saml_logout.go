package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/backchannel"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// Single logout (saml-profiles §4.4) across both protocols. Whoever starts
// it (a SAML client's LogoutRequest, or OpenID Connect RP-initiated logout),
// the SSO session ends at once: its OpenID Connect clients with
// back-channel logout are told by the store's session-end hook, as for any
// logout. Then the browser carries a LogoutRequest to each other SAML
// client of the session with front-channel logout, one after the other:
// each answers with a LogoutResponse to /protocol/saml, whose RelayState
// names the logout in progress. Then the OpenID Connect front-channel
// clients are loaded in iframes, and the logout ends where it started: a
// LogoutResponse to the SAML client that asked, or the post-logout redirect.
//
// A client that never answers stops the chain in the browser, but not the
// logout: the session is already gone.

// samlLogout is a single logout in progress in the browser.
type samlLogout struct {
	// Pending are the SAML clients still to be sent a LogoutRequest;
	// Current is the one whose LogoutResponse is awaited.
	Pending []samlParticipant `json:"pending,omitempty"`
	Current *samlParticipant  `json:"current,omitempty"`
	// FrontChannel are the OpenID Connect clients logged out in iframes
	// once the SAML clients are done.
	FrontChannel []ui.FrontChannelApp `json:"front_channel,omitempty"`
	// Answer is the LogoutResponse owed to the SAML client that started
	// the logout; nil when it started elsewhere.
	Answer *samlAnswer `json:"answer,omitempty"`
	// Then is where a logout that did not start at a SAML client ends:
	// the checked post-logout redirect URI, "" for the logged-out page.
	Then      string `json:"then,omitempty"`
	UILocales string `json:"ui_locales,omitempty"`
}

// samlParticipant is a SAML client of the ended session to be logged out,
// with what its LogoutRequest names (the notes of its login).
type samlParticipant struct {
	Client       string `json:"client"` // internal id
	EntityID     string `json:"entity_id"`
	URL          string `json:"url"`
	Binding      string `json:"binding"`
	NameID       string `json:"name_id"`
	NameIDFormat string `json:"name_id_format,omitempty"`
	SessionIndex string `json:"session_index,omitempty"`
	// RequestID is the ID of the LogoutRequest sent, which the
	// LogoutResponse must answer.
	RequestID string `json:"request_id,omitempty"`
}

// samlAnswer is a LogoutResponse to send.
type samlAnswer struct {
	Client       string `json:"client"`
	URL          string `json:"url"`
	Binding      string `json:"binding"`
	InResponseTo string `json:"in_response_to"`
	RelayState   string `json:"relay_state,omitempty"`
}

// samlLogout serves a LogoutRequest from client c. With this browser's SSO
// session, that session ends and the logout goes on through the browser.
// Without one (the SP's session outlived it, or another browser sends the
// request), the sessions its SessionIndexes name in which c took part end
// by the back channel, and c is answered at once.
func (h *Handler) samlLogout(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, m *saml.Message, req saml.LogoutRequest) error {
	ctx := r.Context()
	cs, err := h.samlSettings(r, c)
	if err != nil {
		return err
	}
	binding := m.Binding
	if cs.ForcePostBinding && sloURL(cs, saml.BindingPOST) != "" {
		binding = saml.BindingPOST
	}
	answer := &samlAnswer{Client: c.ID, Binding: binding, InResponseTo: req.ID, RelayState: m.RelayState}
	answer.URL, answer.Binding = sloTarget(cs, binding)
	if answer.URL == "" {
		answer = nil
	}
	sso, hasSSO, err := h.ssoSession(ctx, r, rl)
	if err != nil {
		return err
	}
	if !hasSSO {
		for _, idx := range req.SessionIndexes {
			if err := h.endIndexedSession(r, rl, c, idx); err != nil {
				return err
			}
		}
		st := loginState{SAMLLogout: &samlLogout{Answer: answer}}
		return h.samlLogoutFinish(w, r, rl, st)
	}
	sl, err := h.endForLogout(w, r, rl, sso.us, c.ClientID, c.ID)
	if err != nil {
		return err
	}
	sl.Answer = answer
	return h.samlLogoutStart(w, r, rl, sl)
}

// endIndexedSession ends the user session a SessionIndex names, if client c
// took part in it with that very client session.
func (h *Handler) endIndexedSession(r *http.Request, rl realm.Realm, c client.Client, idx string) error {
	ctx := r.Context()
	usID, csID, ok := strings.Cut(idx, "::")
	if !ok || usID == "" {
		return nil
	}
	cs, err := h.Store.GetClientSession(ctx, usID, c.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cs.ID != csID) {
		return nil
	}
	if err != nil {
		return err
	}
	us, err := h.Store.GetUserSession(ctx, rl.ID, usID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.Store.DeleteUserSession(ctx, rl.ID, usID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h.Log.InfoContext(ctx, "logout", "realm", rl.Name, "client", c.ClientID, "session", usID, "by", "session index")
	h.loggedOut(r, rl, logoutRequest{ClientID: c.ClientID}, us)
	return nil
}

// endForLogout ends user session us for a logout started by clientID
// (initiator, the internal id, is left out of the SAML clients to tell) and
// returns what the browser still has to do: the other SAML clients, and the
// OpenID Connect front-channel clients.
func (h *Handler) endForLogout(w http.ResponseWriter, r *http.Request, rl realm.Realm, us session.UserSession, clientID, initiator string) (samlLogout, error) {
	ctx := r.Context()
	var sl samlLogout
	var err error
	if sl.Pending, err = h.samlParticipants(ctx, r, rl, us.ID, initiator); err != nil {
		return sl, err
	}
	if sl.FrontChannel, err = h.frontChannelApps(ctx, r, rl, us.ID); err != nil {
		return sl, err
	}
	// The browser carries the LogoutRequests of the front-channel SAML
	// clients; the back channel tells the others.
	if err := h.Store.DeleteUserSession(backchannel.WithBrowserLogout(ctx), rl.ID, us.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return sl, err
	}
	h.Log.InfoContext(ctx, "logout", "realm", rl.Name, "client", clientID, "session", us.ID)
	h.loggedOut(r, rl, logoutRequest{ClientID: clientID}, us)
	h.expireSSOCookies(w, r, rl)
	return sl, nil
}

// samlParticipants lists the SAML clients of user session sid to log out
// through the browser: enabled, with front-channel logout, and a single
// logout service URL; all but except (an internal id). It must run before
// the session is deleted, with its client sessions.
func (h *Handler) samlParticipants(ctx context.Context, r *http.Request, rl realm.Realm, sid, except string) ([]samlParticipant, error) {
	css, err := h.Store.ListClientSessions(ctx, sid)
	if err != nil {
		return nil, err
	}
	var out []samlParticipant
	for _, cls := range css {
		if cls.ClientID == except {
			continue
		}
		c, err := h.Store.GetClient(ctx, rl.ID, cls.ClientID)
		if err != nil || c.Protocol != protocolSAML || !c.Enabled || !c.FrontchannelLogout {
			continue
		}
		cs, err := h.samlSettings(r, c)
		if err != nil {
			h.Log.WarnContext(ctx, "SAML logout skipped: client settings unusable", "realm", rl.Name, "client", c.ClientID, "err", err)
			continue
		}
		// The binding of the login, POST when the client forces it.
		binding := saml.BindingRedirect
		if cs.ForcePostBinding || cls.Notes[noteSAMLBinding] == saml.BindingPOST {
			binding = saml.BindingPOST
		}
		u, b := sloTarget(cs, binding)
		if u == "" || cls.Notes[noteSAMLNameID] == "" {
			continue
		}
		out = append(out, samlParticipant{Client: c.ID, EntityID: c.ClientID, URL: u, Binding: b,
			NameID: cls.Notes[noteSAMLNameID], NameIDFormat: cls.Notes[noteSAMLNameIDFormat],
			SessionIndex: cls.Notes[noteSAMLSessionIndex]})
	}
	return out, nil
}

// sloURL is a client's single logout service URL for a browser binding.
func sloURL(cs saml.ClientSettings, binding string) string {
	if binding == saml.BindingPOST {
		return strings.TrimSpace(cs.SLOPost)
	}
	return strings.TrimSpace(cs.SLORedirect)
}

// sloTarget is where a logout message for a client goes: its URL for the
// wanted binding, else its URL for the other browser binding, else its
// management URL by POST, as Keycloak falls back.
func sloTarget(cs saml.ClientSettings, binding string) (string, string) {
	if u := sloURL(cs, binding); u != "" {
		return u, binding
	}
	other := saml.BindingPOST
	if binding == saml.BindingPOST {
		other = saml.BindingRedirect
	}
	if u := sloURL(cs, other); u != "" {
		return u, other
	}
	if u := strings.TrimSpace(cs.Client.AdminURL); u != "" {
		return cs.Client.ResolveURL(u, cs.AuthBase), saml.BindingPOST
	}
	return "", ""
}

// samlLogoutStart stores a logout in progress, bound to this browser, and
// takes its first step.
func (h *Handler) samlLogoutStart(w http.ResponseWriter, r *http.Request, rl realm.Realm, sl samlLogout) error {
	st := loginState{SAMLLogout: &sl}
	if len(sl.Pending) == 0 {
		return h.samlLogoutFinish(w, r, rl, st)
	}
	id, st, err := h.enter(w, r, rl, "", st)
	if err != nil {
		return err
	}
	return h.samlLogoutNext(w, r, rl, id, st)
}

// samlLogoutNext sends the next SAML client its LogoutRequest, its
// RelayState the id of the logout in progress; with none left, the logout
// ends.
func (h *Handler) samlLogoutNext(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState) error {
	ctx := r.Context()
	sl := st.SAMLLogout
	for len(sl.Pending) > 0 {
		p := sl.Pending[0]
		sl.Pending = sl.Pending[1:]
		c, err := h.Store.GetClient(ctx, rl.ID, p.Client)
		if err != nil {
			continue // deleted meanwhile
		}
		cs, err := h.samlSettings(r, c)
		if err != nil {
			continue
		}
		signer, err := h.samlSigner(ctx, rl, cs)
		if err != nil {
			return err
		}
		if !cs.ServerSignature {
			signer = nil
		}
		p.RequestID = saml.NewID()
		in := saml.LogoutRequestInput{ID: p.RequestID, Issuer: h.URLs.RealmURL(r, rl.Name), Destination: p.URL,
			NameID: p.NameID, NameIDFormat: p.NameIDFormat, Now: h.Now()}
		if p.SessionIndex != "" {
			in.SessionIndexes = []string{p.SessionIndex}
		}
		if p.Binding == saml.BindingPOST {
			in.Signer = signer
		}
		doc, err := saml.BuildLogoutRequest(in)
		if err != nil {
			return fmt.Errorf("build SAML logout request for %q: %w", c.ClientID, err)
		}
		sl.Current = &p
		if _, err := h.saveState(r, rl, id, st); err != nil {
			return err
		}
		return h.samlSend(w, r, rl, sl.UILocales, p.URL, p.Binding, "SAMLRequest", doc, id, signer, signer != nil)
	}
	if err := h.Store.DeleteAuthSession(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return h.samlLogoutFinish(w, r, rl, st)
}

// samlLogoutFinish ends a logout whose SAML clients are done: the OpenID
// Connect front-channel iframes, then the LogoutResponse to the SAML
// client that asked, or the post-logout redirect, or the logged-out page.
func (h *Handler) samlLogoutFinish(w http.ResponseWriter, r *http.Request, rl realm.Realm, st loginState) error {
	ctx := r.Context()
	sl := st.SAMLLogout
	if a := sl.Answer; a != nil {
		c, err := h.Store.GetClient(ctx, rl.ID, a.Client)
		if err != nil {
			return errPage(http.StatusBadRequest, &rl, "clientNotFoundMessage")
		}
		cs, err := h.samlSettings(r, c)
		if err != nil {
			return err
		}
		signer, err := h.samlSigner(ctx, rl, cs)
		if err != nil {
			return err
		}
		if !cs.ServerSignature {
			signer = nil
		}
		in := saml.LogoutResponseInput{Issuer: h.URLs.RealmURL(r, rl.Name), Destination: a.URL,
			InResponseTo: a.InResponseTo, Now: h.Now()}
		if a.Binding == saml.BindingPOST {
			in.Signer = signer
		}
		doc, err := saml.BuildLogoutResponse(in)
		if err != nil {
			return fmt.Errorf("build SAML logout response for %q: %w", c.ClientID, err)
		}
		if len(sl.FrontChannel) == 0 {
			return h.samlSend(w, r, rl, sl.UILocales, a.URL, a.Binding, "SAMLResponse", doc, a.RelayState, signer, signer != nil)
		}
		if a.Binding == saml.BindingRedirect {
			loc, err := saml.RedirectURL(a.URL, "SAMLResponse", doc, a.RelayState, signer)
			if err != nil {
				return err
			}
			h.renderFrontChannelLogout(w, r, rl, sl.FrontChannel, loc, sl.UILocales)
			return nil
		}
		h.renderFrontChannelLogoutPost(w, r, rl, sl.FrontChannel, a.URL, samlParams("SAMLResponse", doc, a.RelayState), sl.UILocales)
		return nil
	}
	if len(sl.FrontChannel) > 0 {
		h.renderFrontChannelLogout(w, r, rl, sl.FrontChannel, sl.Then, sl.UILocales)
		return nil
	}
	if sl.Then != "" {
		noStore(w)
		redirect(w, sl.Then)
		return nil
	}
	p := h.page(r, &rl, "successLogout", sl.UILocales)
	p.Message = &ui.Message{Type: "success", Text: p.T("successLogout")}
	h.render(w, r, &rl, http.StatusOK, "message.html", p)
	return nil
}

// samlLogoutResponse serves a LogoutResponse: the answer of the client
// the logout in progress (named by the RelayState, and bound to this
// browser) waits on, to the request it was sent. Anything else is refused
// and the logout stays where it was.
func (h *Handler) samlLogoutResponse(w http.ResponseWriter, r *http.Request, rl realm.Realm, m *saml.Message) error {
	ctx := r.Context()
	refuse := func(err error) error {
		h.samlRefused(r, rl, events.LogoutError, "", "invalid_logout_response")
		return &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl, Err: err}
	}
	resp, err := m.LogoutResponse()
	if err != nil {
		return refuse(err)
	}
	if m.RelayState == "" {
		return refuse(errors.New("LogoutResponse without RelayState"))
	}
	as, err := h.Store.GetAuthSession(ctx, rl.ID, m.RelayState, h.now())
	if errors.Is(err, store.ErrNotFound) {
		return refuse(errors.New("no logout in progress"))
	}
	if err != nil {
		return err
	}
	var st loginState
	if err := json.Unmarshal([]byte(as.Data), &st); err != nil {
		return fmt.Errorf("decode logout in progress: %w", err)
	}
	sl := st.SAMLLogout
	if sl == nil || sl.Current == nil {
		return refuse(errors.New("no LogoutResponse awaited"))
	}
	if ck, err := r.Cookie(cookieAuthSession); err != nil || !equalSecret(ck.Value, st.Browser) {
		return refuse(errors.New("LogoutResponse in another browser"))
	}
	if resp.InResponseTo != sl.Current.RequestID || resp.Issuer != sl.Current.EntityID {
		return refuse(errors.New("LogoutResponse to another request"))
	}
	if resp.Destination != "" && !sameURL(resp.Destination, h.samlURL(r, rl)) {
		return refuse(errors.New("LogoutResponse for another Destination"))
	}
	c, err := h.Store.GetClient(ctx, rl.ID, sl.Current.Client)
	if err == nil {
		cs, err := h.samlSettings(r, c)
		if err == nil && cs.ClientSignature {
			if err := m.Verify(cs.SigningCerts); err != nil {
				return refuse(err)
			}
		}
	}
	if resp.StatusCode != "" && resp.StatusCode != saml.StatusSuccess {
		h.Log.InfoContext(ctx, "SAML client did not log out", "realm", rl.Name, "client", sl.Current.EntityID, "status", resp.StatusCode)
	}
	sl.Current = nil
	return h.samlLogoutNext(w, r, rl, as.ID, st)
}
