package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The SAML 2.0 identity provider (saml-bindings, saml-profiles §4.1 and
// §4.4). A SAML login is a login like any other: the same flows, required
// actions, SSO session and cookies; only its request and its answer are
// SAML messages (package saml reads, checks and builds them). The routes are
// Keycloak's: one endpoint for every message and both browser bindings, the
// realm's metadata, and IdP-initiated logins by a client's URL name.

// protocolSAML is the login protocol of SAML clients and logins.
const protocolSAML = "saml"

// Client session notes of a SAML login, with Keycloak's names: what a
// LogoutRequest sent to the client later repeats (the NameID, its format,
// the SessionIndex of the assertion), the binding the response used, and
// the URL name of an IdP-initiated login.
const (
	noteSAMLNameID       = "SAML_NAME_ID"
	noteSAMLNameIDFormat = "SAML_NAME_ID_FORMAT"
	noteSAMLSessionIndex = "SAML_SESSION_INDEX"
	noteSAMLBinding      = "saml_binding"
	noteSAMLIdPInitiated = "saml_idp_initiated_sso_url_name"
)

// attrIdPInitiatedURLName is the client attribute naming a client in
// IdP-initiated login URLs.
const attrIdPInitiatedURLName = "saml_idp_initiated_sso_url_name"

// samlRequest is what a SAML login answers: where the Response goes and
// what it must repeat.
type samlRequest struct {
	// RequestID is the AuthnRequest's ID, which the Response's
	// InResponseTo repeats; "" for an IdP-initiated login.
	RequestID string `json:"request_id,omitempty"`
	// ACS is the checked assertion consumer service URL, Binding the
	// binding the Response is sent with there.
	ACS        string `json:"acs"`
	Binding    string `json:"binding"`
	RelayState string `json:"relay_state,omitempty"`
	// NameIDFormat is the format the request's NameIDPolicy asked for.
	NameIDFormat string `json:"name_id_format,omitempty"`
	// IdPInitiated is the client's URL name when the login started at
	// /protocol/saml/clients/{name}.
	IdPInitiated string `json:"idp_initiated,omitempty"`
}

// samlEndpoint serves GET and POST /realms/{realm}/protocol/saml: an
// AuthnRequest or LogoutRequest (SAMLRequest), or a LogoutResponse
// (SAMLResponse), with the HTTP-Redirect or the HTTP-POST binding.
func (h *Handler) samlEndpoint(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	m, err := saml.ReadMessage(r)
	if err != nil {
		// Malformed, oversized, with a DOCTYPE or entities, or neither
		// parameter: nothing of it is trusted or kept.
		h.samlRefused(r, rl, events.LoginError, "", "invalid_request")
		return &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl, Err: err}
	}
	if m.Param == "SAMLResponse" {
		return h.samlLogoutResponse(w, r, rl, m)
	}
	if req, err := m.AuthnRequest(); err == nil {
		c, err := h.samlRequester(r, rl, m, req.Issuer, req.Destination, events.LoginError)
		if err != nil {
			return err
		}
		return h.samlLogin(w, r, rl, c, m, req)
	}
	if req, err := m.LogoutRequest(); err == nil {
		c, err := h.samlRequester(r, rl, m, req.Issuer, req.Destination, events.LogoutError)
		if err != nil {
			return err
		}
		return h.samlLogout(w, r, rl, c, m, req)
	}
	h.samlRefused(r, rl, events.LoginError, "", "invalid_token")
	return errPage(http.StatusBadRequest, &rl, "invalidRequestMessage")
}

// samlRequester finds and checks the client that sent a request, in
// Keycloak's order: it exists (by the Issuer, its clientId), is enabled,
// may log users in by the browser and speaks SAML; then the signature, if
// the client signs its requests (saml.client.signature); then the
// Destination, which a signed request must carry and any request must get
// right.
func (h *Handler) samlRequester(r *http.Request, rl realm.Realm, m *saml.Message, issuer, destination, event string) (client.Client, error) {
	var c client.Client
	if issuer == "" {
		h.samlRefused(r, rl, event, "", "client_not_found")
		return c, errPage(http.StatusBadRequest, &rl, "invalidRequestMessage")
	}
	c, err := h.Store.GetClientByClientID(r.Context(), rl.ID, issuer)
	if errors.Is(err, store.ErrNotFound) {
		h.samlRefused(r, rl, event, issuer, "client_not_found")
		return c, &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl,
			Err: errors.New("unknown SAML issuer")}
	}
	if err != nil {
		return c, err
	}
	if err := h.samlClientUsable(r, rl, c, event); err != nil {
		return c, err
	}
	cs, err := h.samlSettings(r, c)
	if err != nil {
		h.Log.WarnContext(r.Context(), "SAML client settings unusable", "realm", rl.Name, "client", c.ClientID, "err", err)
		h.samlRefused(r, rl, event, c.ClientID, "invalid_client")
		return c, &pageError{Status: http.StatusBadRequest, Key: "invalidRequesterMessage", Realm: &rl, Err: err}
	}
	if cs.ClientSignature {
		if err := m.Verify(cs.SigningCerts); err != nil {
			h.samlRefused(r, rl, event, c.ClientID, "invalid_signature")
			return c, &pageError{Status: http.StatusBadRequest, Key: "invalidRequesterMessage", Realm: &rl, Err: err}
		}
	}
	switch {
	case destination == "" && (m.Signed() || cs.ClientSignature):
		// A signature over a message that names no recipient could be
		// replayed to any other identity provider trusting the client.
		h.samlRefused(r, rl, event, c.ClientID, "invalid_request")
		return c, &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl,
			Err: errors.New("signed SAML request without Destination")}
	case destination != "" && !sameURL(destination, h.samlURL(r, rl)):
		h.samlRefused(r, rl, event, c.ClientID, "invalid_request")
		return c, &pageError{Status: http.StatusBadRequest, Key: "invalidRequestMessage", Realm: &rl,
			Err: errors.New("SAML request for another Destination")}
	}
	return c, nil
}

// samlClientUsable applies the checks every SAML login starts with.
func (h *Handler) samlClientUsable(r *http.Request, rl realm.Realm, c client.Client, event string) error {
	key, reason := "", ""
	switch {
	case !c.Enabled:
		key, reason = "loginRequesterNotEnabledMessage", "client_disabled"
	case c.BearerOnly:
		key, reason = "bearerOnlyMessage", "not_allowed"
	case !c.StandardFlowEnabled:
		key, reason = "standardFlowDisabledMessage", "not_allowed"
	case c.Protocol != protocolSAML:
		key, reason = "wrongClientProtocolMessage", "invalid_client"
	default:
		return nil
	}
	h.samlRefused(r, rl, event, c.ClientID, reason)
	return errPage(http.StatusBadRequest, &rl, key)
}

// samlLogin starts the login an AuthnRequest asks for: the response's
// binding and ACS (a requested ACS only if registered), the NameID format,
// then the browser flow as for any login. IsPassive is prompt=none and
// ForceAuthn prompt=login, so the flow treats them alike.
func (h *Handler) samlLogin(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, m *saml.Message, ar saml.AuthnRequest) error {
	cs, err := h.samlSettings(r, c)
	if err != nil {
		return err
	}
	binding := m.Binding
	switch ar.ProtocolBinding {
	case "":
	case saml.BindingPOST:
		binding = saml.BindingPOST
	case saml.BindingArtifact:
		// Artifact responses are not served: the message's own binding.
	default:
		binding = saml.BindingRedirect
	}
	if cs.ForcePostBinding {
		binding = saml.BindingPOST
	}
	acs, binding, err := cs.ACS(ar.ACSURL, binding)
	if err != nil {
		h.samlRefused(r, rl, events.LoginError, c.ClientID, "invalid_redirect_uri")
		return &pageError{Status: http.StatusBadRequest, Key: "invalidRedirectUriMessage", Realm: &rl, Err: err}
	}
	sr := &samlRequest{RequestID: ar.ID, ACS: acs, Binding: binding, RelayState: m.RelayState}
	if ar.NameIDFormat != "" && !cs.ForceNameIDFormat {
		switch ar.NameIDFormat {
		case saml.NameIDUnspecified, saml.NameIDEmail, saml.NameIDPersistent, saml.NameIDTransient:
			sr.NameIDFormat = ar.NameIDFormat
		default:
			h.samlRefused(r, rl, events.LoginError, c.ClientID, "invalid_authn_request")
			return errPage(http.StatusBadRequest, &rl, "unsupportedNameIdFormatMessage")
		}
	}
	req := authRequest{ClientID: c.ClientID, Target: acs, MaxAge: -1, Protocol: protocolSAML, SAML: sr}
	switch {
	case ar.IsPassive:
		req.Prompt = []string{"none"}
	case ar.ForceAuthn:
		req.Prompt = []string{"login"}
	}
	return h.start(w, r, rl, c, req)
}

// samlIdPInitiated serves GET /realms/{realm}/protocol/saml/clients/{name}:
// a login no request asked for, answered to the client whose
// saml_idp_initiated_sso_url_name is name, at its POST ACS (else its
// management URL, else its Redirect ACS), with the RelayState of the query
// or the client's saml_idp_initiated_sso_relay_state.
func (h *Handler) samlIdPInitiated(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	name := r.PathValue("client")
	cls, err := h.Store.ListClients(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	var c *client.Client
	for i := range cls {
		if name != "" && cls[i].Attributes[attrIdPInitiatedURLName] == name {
			c = &cls[i]
			break
		}
	}
	switch {
	case c == nil:
		h.samlRefused(r, rl, events.LoginError, "", "client_not_found")
		return errPage(http.StatusBadRequest, &rl, "clientNotFoundMessage")
	case !c.Enabled:
		h.samlRefused(r, rl, events.LoginError, c.ClientID, "client_disabled")
		return errPage(http.StatusBadRequest, &rl, "clientDisabledMessage")
	case c.Protocol != protocolSAML:
		h.samlRefused(r, rl, events.LoginError, c.ClientID, "invalid_client")
		return errPage(http.StatusBadRequest, &rl, "wrongClientProtocolMessage")
	}
	cs, err := h.samlSettings(r, *c)
	if err != nil {
		return err
	}
	acs, binding := idpInitiatedTarget(cs, *c)
	if acs == "" {
		h.samlRefused(r, rl, events.LoginError, c.ClientID, "invalid_redirect_uri")
		return errPage(http.StatusBadRequest, &rl, "invalidRedirectUriMessage")
	}
	relay := r.URL.Query().Get("RelayState")
	if !r.URL.Query().Has("RelayState") {
		relay = cs.IdPInitiatedSSORelayState
	}
	sr := &samlRequest{ACS: acs, Binding: binding, RelayState: strings.TrimSpace(relay), IdPInitiated: name}
	return h.start(w, r, rl, *c, authRequest{ClientID: c.ClientID, Target: acs, MaxAge: -1, Protocol: protocolSAML, SAML: sr})
}

// idpInitiatedTarget is where an IdP-initiated login's Response goes, as
// Keycloak chooses: the POST ACS, else the management URL by POST, else the
// Redirect ACS.
func idpInitiatedTarget(cs saml.ClientSettings, c client.Client) (acs, binding string) {
	if u, b, err := cs.ACS("", saml.BindingPOST); err == nil && b == saml.BindingPOST {
		return u, b
	}
	if u := strings.TrimSpace(c.AdminURL); u != "" {
		return u, saml.BindingPOST
	}
	if u, b, err := cs.ACS("", saml.BindingRedirect); err == nil {
		return u, b
	}
	return "", ""
}

// samlDescriptor serves GET /realms/{realm}/protocol/saml/descriptor: the
// realm's IdP metadata, with every signing certificate (the active first).
func (h *Handler) samlDescriptor(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	b, err := saml.DescriptorFromKeys(h.URLs.RealmURL(r, rl.Name), ks)
	if err != nil {
		return err
	}
	noStore(w)
	w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	return nil
}

// samlSettings reads a SAML client's settings, relative URLs resolved
// against the server's base URL.
func (h *Handler) samlSettings(r *http.Request, c client.Client) (saml.ClientSettings, error) {
	cs, err := saml.Settings(c)
	cs.AuthBase = h.URLs.Base(r)
	return cs, err
}

// samlURL is the realm's SAML endpoint, the Destination requests must name.
func (h *Handler) samlURL(r *http.Request, rl realm.Realm) string {
	return h.URLs.RealmURL(r, rl.Name) + "/protocol/saml"
}

// sameURL compares two absolute URLs as a Destination check needs: scheme
// and host without case, a default port the same as none, the path exactly.
func sameURL(a, b string) bool {
	return normalURL(a) == normalURL(b)
}

func normalURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	scheme = strings.ToLower(scheme)
	host, path, _ := strings.Cut(rest, "/")
	host = strings.ToLower(host)
	host = strings.TrimSuffix(host, map[string]string{"https": ":443", "http": ":80"}[scheme])
	return scheme + "://" + host + "/" + path
}

// samlRefused records a refused SAML request (LOGIN_ERROR or LOGOUT_ERROR)
// with Keycloak's error name.
func (h *Handler) samlRefused(r *http.Request, rl realm.Realm, typ, clientID, reason string) {
	h.Log.DebugContext(r.Context(), "SAML request refused", "realm", rl.Name, "client", clientID, "error", reason)
	h.recorder().Record(r.Context(), rl, events.Event{Type: typ, ClientID: clientID, IPAddress: clientIP(r), Error: reason,
		Details: map[string]string{events.DetailAuthMethod: protocolSAML}})
}
