package oidc

import (
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/jar"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clientAuthParams are the parameters that authenticate the client at the
// PAR endpoint. They are never stored with the request: a secret or a
// single-use assertion has no business outliving this call.
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

// par serves POST /realms/{realm}/protocol/openid-connect/ext/par/request,
// the pushed authorization request endpoint (RFC 9126). The client
// authenticates as at the token endpoint; its request is checked as far as
// the client and redirect URI go, and its request object verified, here;
// everything else the authorization endpoint checks again when the
// request_uri comes back, on the parameters stored now.
func (h *Handler) par(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return h.pushFailed(r, rl, c, err)
	}
	h.cors(w, r, c)
	if err := h.push(w, r, rl, c, form); err != nil {
		return h.pushFailed(r, rl, c, err)
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.PushedAuthorizationRequest, ClientID: c.ClientID, IPAddress: clientIP(r)})
	return nil
}

// pushFailed records a refused pushed authorization request and returns err.
func (h *Handler) pushFailed(r *http.Request, rl realm.Realm, c client.Client, err error) error {
	if code, _, ok := refusal(err); ok {
		h.recorder().Record(r.Context(), rl, events.Event{Type: events.PushedAuthorizationRequestError,
			ClientID: clientOf(r, c), IPAddress: clientIP(r), Error: code})
	}
	return err
}

// push checks and stores the request of the authenticated client c.
func (h *Handler) push(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, form url.Values) error {
	if form.Has("request_uri") {
		return badRequest("invalid_request", "It is not allowed to include request_uri to PAR.")
	}
	params := map[string]string{}
	for k, vs := range form {
		params[k] = vs[0]
	}
	for _, k := range clientAuthParams {
		delete(params, k)
	}
	if raw, ok := params["request"]; ok {
		object, err := jar.Verify(r.Context(), h.Keys, c, raw, h.URLs.RealmURL(r, rl.Name), sessionClock(h.Now()))
		if err != nil {
			h.Log.Info("pushed request object refused", "realm", rl.Name, "client", c.ClientID, "err", err)
			return badRequest("invalid_request_object", err.Error())
		}
		params = jar.Merge(params, object)
	}
	params["client_id"] = c.ClientID
	rules := c.RedirectRules(h.URLs.Base(r))
	if uri, ok := params["redirect_uri"]; ok {
		if _, ok := rules.Match(uri); !ok {
			return badRequest("invalid_request", "Invalid parameter: redirect_uri")
		}
	} else if _, ok := rules.Single(); !ok {
		return badRequest("invalid_request", "Invalid parameter: redirect_uri")
	}
	if params["response_type"] == "" {
		return badRequest("invalid_request", "Missing parameter: response_type")
	}
	id := store.NewID()
	lifespan := rl.PARLifespan()
	if err := h.Store.CreatePushedRequest(r.Context(), store.PushedRequest{ID: id, RealmID: rl.ID, ClientID: c.ClientID,
		Params: params, ExpiresAt: sessionClock(h.Now()) + lifespan}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, parResponse{RequestURI: jar.PushedURIPrefix + id, ExpiresIn: lifespan})
}
