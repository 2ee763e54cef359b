package login

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/jar"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// requestOrigin says how an authorization request's parameters arrived.
type requestOrigin struct {
	Request    bool // a request object (the request parameter)
	RequestURI bool // a pushed authorization request's request_uri
}

// expandRequest replaces a request carried by reference or by value with
// its parameters: a pushed authorization request named by request_uri
// (RFC 9126 §4), taken from the store once, or a request object (the
// request parameter, or fetched from a registered request_uri), verified with the client's key. A request object's
// parameters win over the query string's, as Keycloak's do; a pushed
// request's stand alone.
//
// Every failure is a page: the redirect URI is not trusted yet. A
// request_uri the PAR endpoint did not issue is fetched only when the
// client registered it (request.uris); never on the caller's word alone.
func (h *Handler) expandRequest(r *http.Request, rl realm.Realm, p params) (params, requestOrigin, error) {
	origin := requestOrigin{Request: p.has("request"), RequestURI: p.has("request_uri")}
	if !origin.Request && !origin.RequestURI {
		return p, origin, nil
	}
	refuse := func(why string) (params, requestOrigin, error) {
		return nil, origin, &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl, Err: errors.New(why)}
	}
	if origin.Request && origin.RequestURI {
		return refuse("both request and request_uri")
	}
	c, err := h.Store.GetClientByClientID(r.Context(), rl.ID, p.get("client_id"))
	if errors.Is(err, store.ErrNotFound) || p.get("client_id") == "" {
		return p, origin, nil // checkClient tells the user
	}
	if err != nil {
		return nil, origin, err
	}
	uri := p.get("request_uri")
	raw := p.get("request")
	byValue := origin.Request
	if origin.RequestURI && !strings.HasPrefix(strings.ToLower(uri), jar.PushedURIPrefix) {
		if raw, err = h.fetchRequestObject(r, c, uri); err != nil {
			return refuse("request_uri of " + c.ClientID + ": " + err.Error())
		}
		byValue = true
	}
	if byValue {
		object, err := jar.Verify(r.Context(), h.Keys, c, raw, h.URLs.RealmURL(r, rl.Name), h.now())
		if err != nil {
			return refuse("request object of " + c.ClientID + ": " + err.Error())
		}
		return params(jar.Merge(p, object)), origin, nil
	}
	pushed, err := h.Store.TakePushedRequest(r.Context(), rl.ID, uri[len(jar.PushedURIPrefix):])
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse("PAR not found, not issued or used multiple times")
	case err != nil:
		return nil, origin, err
	case pushed.ClientID != c.ClientID:
		return refuse("PAR request did not originate from the same client")
	case h.now() >= pushed.ExpiresAt:
		return refuse("PAR expired")
	}
	// Only the pushed parameters count (RFC 9126 §4): what the browser's
	// URL adds was never authenticated, so a state, prompt or redirect_uri
	// slipped into it is ignored.
	out := params{}
	for k, v := range pushed.Params {
		out[k] = v
	}
	return out, origin, nil
}

// checkOrigin applies the client's switches on how its requests must
// arrive, once the client and its redirect URI are known. done is true when
// the request was refused: a client requiring request objects gets a page,
// as the parse of its request failed; one requiring PAR gets the error at
// its redirect URI.
func (h *Handler) checkOrigin(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, req authRequest, origin requestOrigin) (done bool, err error) {
	var missing string
	switch c.Attributes[jar.RequiredAttr] {
	case jar.RequiredRequestOrURI:
		if !origin.Request && !origin.RequestURI {
			missing = "'request' or 'request_uri'"
		}
	case jar.RequiredRequest:
		if !origin.Request {
			missing = "'request'"
		}
	case jar.RequiredURI:
		if !origin.RequestURI {
			missing = "'request_uri'"
		}
	}
	if missing != "" {
		return true, &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl,
			Err: errors.New("client " + c.ClientID + " is required to use " + missing + " parameter")}
	}
	if c.Attributes[jar.RequirePARAttr] == "true" && !origin.RequestURI {
		return true, h.redirectError(w, r, rl, req, "invalid_request", "Pushed Authorization Request is only allowed.")
	}
	return false, nil
}

// fetchRequestObject reads the request object a request_uri other than a
// pushed one points at. Only a URI the client registered in request.uris is
// fetched, through the outbound client (address checks, size and time
// bounds), and only a 200 answer counts.
func (h *Handler) fetchRequestObject(r *http.Request, c client.Client, uri string) (string, error) {
	if _, ok := c.RequestURIRules(h.URLs.Base(r)).Match(uri); !ok {
		return "", errors.New("Specified 'request_uri' not allowed for this client.")
	}
	out := h.Outbound
	if out == nil {
		out = defaultOutbound()
	}
	resp, err := out.Get(r.Context(), uri, nil, jar.MaxBytes)
	if err != nil {
		return "", err
	}
	if resp.Status != http.StatusOK {
		return "", fmt.Errorf("request_uri answered %d", resp.Status)
	}
	return strings.TrimSpace(string(resp.Body)), nil
}

// defaultOutbound serves a Handler without an outbound client: public
// addresses only.
var defaultOutbound = sync.OnceValue(func() *outbound.Client { return outbound.New(outbound.Options{}) })
