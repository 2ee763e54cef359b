package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// linkRequest is a client-initiated account linking in progress: where
// the browser returns once the upstream identity is linked.
type linkRequest struct {
	RedirectURI string `json:"redirect_uri"`
	Nonce       string `json:"nonce"`
}

// brokerLink serves GET /broker/{alias}/link?client_id&redirect_uri&nonce&hash:
// the signed-in user links an account at the provider alias. The browser's
// SSO session must be the one the hash names, the client must have a
// session in it, and the user must be allowed to manage account links.
// Refusals go back to redirect_uri with an error parameter, once that URI
// is known to be the client's.
func (h *Handler) brokerLink(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	alias, clientID, nonce, hash := r.PathValue("alias"), q.Get("client_id"), q.Get("nonce"), q.Get("hash")
	c, err := h.Store.GetClientByClientID(r.Context(), rl.ID, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return errPage(http.StatusBadRequest, &rl, "clientNotFoundMessage")
	}
	if err != nil {
		return err
	}
	target, ok := c.RedirectRules(h.URLs.Base(r)).Match(q.Get("redirect_uri"))
	if !ok || q.Get("redirect_uri") == "" {
		return errPage(http.StatusBadRequest, &rl, "invalidRedirectUriMessage")
	}
	back := func(code string) error {
		u, _ := url.Parse(target)
		v := u.Query()
		v.Set("error", code)
		v.Set("nonce", nonce)
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return nil
	}
	sso, ok, err := h.ssoSession(r.Context(), r, rl)
	if err != nil {
		return err
	}
	if !ok {
		return back("not_logged_in")
	}
	if nonce == "" || hash == "" || !idp.LinkHashValid(hash, nonce, sso.us.ID, clientID, alias) {
		return back("invalid_request")
	}
	if _, err := h.Store.GetClientSession(r.Context(), sso.us.ID, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return back("not_logged_in")
		}
		return err
	}
	if allowed, err := h.mayManageLinks(r, rl, sso.user.ID); err != nil {
		return err
	} else if !allowed {
		return back("not_allowed")
	}
	p, err := h.Store.GetIdentityProvider(r.Context(), rl.ID, alias)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.Enabled) {
		return back("unknown_provider")
	}
	if err != nil {
		return err
	}
	st := loginState{Step: stepLogin, Client: c.ID, Req: authRequest{ClientID: c.ClientID, RedirectURI: target, Target: target, MaxAge: -1},
		UserID: sso.user.ID, Link: &linkRequest{RedirectURI: target, Nonce: nonce}}
	return h.toUpstream(w, r, rl, c, "", st, p, true)
}

// mayManageLinks says whether the user holds the account client's
// manage-account-links role (manage-account includes it).
func (h *Handler) mayManageLinks(r *http.Request, rl realm.Realm, userID string) (bool, error) {
	if ok, err := h.holdsClientRole(r, rl.ID, userID, "account", "manage-account-links"); ok || err != nil {
		return ok, err
	}
	return h.holdsClientRole(r, rl.ID, userID, "account", "manage-account")
}
