package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The client registration service under /realms/{realm}/clients-registrations:
// "default" takes and answers Keycloak's ClientRepresentation,
// "openid-connect" the metadata of OpenID Connect Dynamic Client
// Registration 1.0. It lives beside the admin API because a registered
// client is created and updated by the same rules (defaults, URL checks,
// client policies, service account) as one made by an administrator.
//
// Who may call:
//   - register: the holder of an initial access token with registrations
//     left and not expired, or a user whose access token carries
//     manage-clients or create-client over the realm (authenticated), or
//     anyone (anonymous) the realm's anonymous registration policies let
//     through: by default the Trusted Hosts policy trusts no host.
//   - read, update, delete one client: the holder of that client's current
//     registration access token, or a user with view-clients (read) or
//     manage-clients. Each update by token answers a new token and retires
//     the one used.
//
// Errors are OAuth-shaped ({"error","error_description"}), with the
// status and texts Keycloak's service answers.

const (
	regDefault = "default"
	regOIDC    = "openid-connect"
)

func (h *Handler) registrationRoutes(mux Mux) {
	const base = "/realms/{realm}/clients-registrations/"
	for _, kind := range []string{regDefault, regOIDC} {
		mux.Handle("POST "+base+kind, h.registrationCall(kind, h.register))
		mux.Handle("GET "+base+kind+"/{clientId}", h.registrationCall(kind, h.readRegistered))
		mux.Handle("PUT "+base+kind+"/{clientId}", h.registrationCall(kind, h.updateRegistered))
		mux.Handle("DELETE "+base+kind+"/{clientId}", h.registrationCall(kind, h.deleteRegistered))
	}
}

// regCall is one call to the registration service: the request as the
// shared client code sees it, and who the token says the caller is.
type regCall struct {
	rq     *Request
	kind   string
	issuer string
	raw    string       // the bearer token as sent
	tok    token.Parsed // set for an initial or registration access token
	caller bool         // a user's access token (rq.Caller, rq.perms)
}

func regError(status int, code, desc string) *web.Error {
	return &web.Error{Status: status, Body: map[string]string{"error": code, "error_description": desc}}
}

func regUnauthorized(desc string) error {
	return regError(http.StatusUnauthorized, "invalid_token", desc)
}

func regForbidden(desc string) error {
	return regError(http.StatusForbidden, "insufficient_scope", desc)
}

// registrationCall loads the realm and reads the bearer token, then runs fn.
func (h *Handler) registrationCall(kind string, fn func(*regCall) error) http.Handler {
	return web.Handle(h.Log, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		rl, err := h.Store.GetRealmByName(r.Context(), r.PathValue("realm"))
		if errors.Is(err, store.ErrNotFound) || err == nil && !rl.Enabled {
			return notFound("Realm does not exist")
		}
		if err != nil {
			return err
		}
		c := &regCall{
			rq:     &Request{W: w, R: r, Realm: rl, h: h},
			kind:   kind,
			issuer: h.URLs.RealmURL(r, rl.Name),
			raw:    bearer.FromRequest(r).Raw,
		}
		if c.raw == "" {
			return fn(c)
		}
		if len(c.raw) > token.MaxTokenSize {
			return regUnauthorized("Invalid token")
		}
		ks, err := h.Store.ListKeys(r.Context(), rl.ID)
		if err != nil {
			return err
		}
		if p, err := token.VerifyRegistration(c.raw, ks, c.issuer); err == nil {
			c.tok = p
			return fn(c)
		}
		caller, err := h.authenticate(r)
		if errors.Is(err, errUnauthorized) {
			return regUnauthorized("Invalid token")
		}
		if err != nil {
			return err
		}
		perms, err := h.adminPerms(r.Context(), caller, rl)
		if err != nil {
			return err
		}
		c.rq.Caller, c.rq.perms, c.caller = caller, perms, true
		return fn(c)
	})
}

// asService gives the shared client code the rights the registration
// service has over the clients it manages.
func (c *regCall) asService() {
	if !c.caller {
		c.rq.perms = map[string]bool{"manage-clients": true}
	}
}

// register is POST: a new client from the body.
func (h *Handler) register(c *regCall) error {
	ctx, now := c.rq.R.Context(), h.Now()
	var access store.InitialAccess
	switch {
	case c.caller:
		if !c.rq.Can("manage-clients") && !c.rq.Can("create-client") {
			return regForbidden("Forbidden")
		}
	case c.tok.Typ == token.TypeInitialAccess:
		a, err := h.Store.GetInitialAccess(ctx, c.rq.Realm.ID, c.tok.Jti)
		if errors.Is(err, store.ErrNotFound) {
			return regUnauthorized("Initial Access Token not found")
		}
		if err != nil {
			return err
		}
		if a.RemainingCount <= 0 {
			return regUnauthorized("No remaining count on initial access token")
		}
		if a.Expired(now.Unix()) {
			return regUnauthorized("Expired initial access token")
		}
		access = a
	}
	x, err := c.readBody()
	if err != nil {
		return err
	}
	sub := c.policySubType()
	if err := h.checkPolicies(c, sub, &x, nil); err != nil {
		return err
	}
	jti := store.NewID()
	rat, err := h.signRegistrationToken(ctx, c.rq.Realm, token.RegistrationAccess(jti, c.issuer, sub, now.Unix()))
	if err != nil {
		return err
	}
	x.ID, x.RegistrationAccessToken = "", &jti
	c.asService()
	var made client.Client
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		// The registration and the use of the initial access token commit
		// together: a refused client spends nothing, and two registrations
		// racing for the last use cannot both succeed.
		th := *h
		th.Store = tx
		rq := *c.rq
		rq.h = &th
		if access.ID != "" {
			if err := tx.UseInitialAccess(ctx, access.RealmID, access.ID); errors.Is(err, store.ErrConflict) {
				return regUnauthorized("No remaining count on initial access token")
			} else if err != nil {
				return err
			}
		}
		var err error
		made, err = clientsAPI{}.insert(&rq, x)
		return err
	})
	if err != nil {
		return registrationError(err)
	}
	c.rq.W.Header().Set("Location", c.clientURI(made.ClientID))
	return c.answer(http.StatusCreated, made, rat)
}

// readRegistered is GET: the client, with the token that was sent.
func (h *Handler) readRegistered(c *regCall) error {
	cl, err := c.load()
	if err != nil {
		return err
	}
	switch {
	case c.caller:
		if !c.rq.Can("view-clients") {
			return regForbidden("Forbidden")
		}
		if cl.ID == "" {
			return regError(http.StatusNotFound, "invalid_request", "Client not found")
		}
	case c.tok.Typ == token.TypeInitialAccess:
		return regUnauthorized("Not initial access token allowed")
	case !c.holdsToken(cl):
		return regUnauthorized("Not authorized to view client. Not valid token or client credentials provided.")
	}
	if !c.protocolFits(cl) {
		return errWrongProtocol
	}
	if err := h.checkPolicies(c, c.policySubType(), nil, &cl); err != nil {
		return err
	}
	raw := ""
	if c.tok.Typ == token.TypeRegistrationAccess {
		raw = c.raw
	}
	c.asService()
	return c.answer(http.StatusOK, cl, raw)
}

// updateRegistered is PUT: the body replaces the client's settings; a
// registration access token is rotated.
func (h *Handler) updateRegistered(c *regCall) error {
	cl, err := c.requireUpdate()
	if err != nil {
		return err
	}
	x, err := c.readBody()
	if err != nil {
		return err
	}
	if x.ClientID != cl.ClientID {
		return regError(http.StatusBadRequest, "invalid_client_metadata", "Client Identifier modified")
	}
	if err := h.checkPolicies(c, c.policySubType(), &x, &cl); err != nil {
		return err
	}
	x.ID, x.RegistrationAccessToken = "", nil
	raw := ""
	if !c.caller {
		jti := store.NewID()
		auth, _ := c.tok.Raw["registration_auth"].(string)
		if auth == "" {
			auth = token.RegistrationAuthenticated
		}
		if raw, err = h.signRegistrationToken(c.rq.R.Context(), c.rq.Realm, token.RegistrationAccess(jti, c.issuer, auth, h.Now().Unix())); err != nil {
			return err
		}
		x.RegistrationAccessToken = &jti
	}
	c.asService()
	var still func(client.Client) error
	if !c.caller {
		still = func(cur client.Client) error {
			if !c.holdsToken(cur) {
				return regUnauthorized("Not authorized to update client. Maybe missing token or bad token type.")
			}
			return nil
		}
	}
	updated, err := clientsAPI{}.modify(c.rq, cl, x, still)
	if err != nil {
		return registrationError(err)
	}
	return c.answer(http.StatusOK, updated, raw)
}

// deleteRegistered is DELETE: the client goes, as an admin delete removes it.
func (h *Handler) deleteRegistered(c *regCall) error {
	cl, err := c.requireUpdate()
	if err != nil {
		return err
	}
	if reservedClientID(c.rq.Realm, cl.ClientID) && !(c.caller && wholeRealmAdmin(c.rq)) {
		return regForbidden("Forbidden")
	}
	if err := h.checkPolicies(c, c.policySubType(), nil, &cl); err != nil {
		return err
	}
	err = adminperm.DeleteClient(c.rq.R.Context(), h.Store, c.rq.Realm.ID, cl.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return c.rq.NoContent()
}

// load finds the client named in the path; a missing one is the zero
// Client, which no registration access token matches.
func (c *regCall) load() (client.Client, error) {
	cl, err := c.rq.h.Store.GetClientByClientID(c.rq.R.Context(), c.rq.Realm.ID, c.rq.R.PathValue("clientId"))
	if errors.Is(err, store.ErrNotFound) {
		return client.Client{}, nil
	}
	return cl, err
}

// errWrongProtocol refuses a SAML client at the OpenID Connect endpoint.
var errWrongProtocol = regError(http.StatusBadRequest, "invalid_client", "Wrong client protocol.")

// protocolFits reports whether the endpoint may show or change cl.
func (c *regCall) protocolFits(cl client.Client) bool {
	return c.kind != regOIDC || cl.Protocol == "" || cl.Protocol == rep.OpenIDConnect
}

// holdsToken reports whether the call carries cl's current registration
// access token.
func (c *regCall) holdsToken(cl client.Client) bool {
	return c.tok.Typ == token.TypeRegistrationAccess && cl.ID != "" && cl.RegistrationAccessToken != "" &&
		cl.RegistrationAccessToken == c.tok.Jti
}

// requireUpdate authorises changing or deleting the client in the path.
func (c *regCall) requireUpdate() (client.Client, error) {
	cl, err := c.load()
	if err != nil {
		return cl, err
	}
	if c.caller {
		if !c.rq.Can("manage-clients") {
			return cl, regForbidden("Forbidden")
		}
		if cl.ID == "" {
			return cl, regError(http.StatusNotFound, "invalid_request", "Client not found")
		}
		if !c.protocolFits(cl) {
			return cl, errWrongProtocol
		}
		return cl, nil
	}
	if !c.holdsToken(cl) {
		return cl, regUnauthorized("Not authorized to update client. Maybe missing token or bad token type.")
	}
	if !c.protocolFits(cl) {
		return cl, errWrongProtocol
	}
	return cl, nil
}

// readBody reads the body in the endpoint's format as a ClientRepresentation.
func (c *regCall) readBody() (rep.Client, error) {
	b, err := c.rq.body()
	if err != nil {
		return rep.Client{}, err
	}
	if c.kind == regDefault {
		var x rep.Client
		if err := json.Unmarshal(b, &x); err != nil {
			return x, regError(http.StatusBadRequest, "invalid_client_metadata", "Cannot parse the JSON")
		}
		return x, nil
	}
	var o rep.OIDCClient
	if err := json.Unmarshal(b, &o); err != nil {
		return rep.Client{}, regError(http.StatusBadRequest, "invalid_client_metadata", "Cannot parse the JSON")
	}
	switch path := c.rq.R.PathValue("clientId"); {
	case path == "" && o.ClientID != "":
		// The service chooses the client_id of a new client (§3.2).
		return rep.Client{}, regError(http.StatusBadRequest, "invalid_client_metadata", "Client Identifier included")
	case o.ClientID == "":
		o.ClientID = path
	}
	if o.JWKSURI != "" && len(o.JWKS) > 0 {
		return rep.Client{}, regError(http.StatusBadRequest, "invalid_client_metadata", "Illegal to use both jwks_uri and jwks")
	}
	x, bad := o.ToClient()
	if bad != "" {
		return x, regError(http.StatusBadRequest, "invalid_client_metadata", "Unsupported "+bad)
	}
	return x, nil
}

// registrationError turns the shared client code's admin-shaped refusals
// into the registration service's: a bad setting is invalid_client_metadata
// (invalid_redirect_uri for a redirect URI), a taken clientId is "Client
// Identifier in use".
func registrationError(err error) error {
	var we *web.Error
	if !errors.As(err, &we) {
		return err
	}
	body, _ := we.Body.(map[string]string)
	msg := body["errorMessage"]
	if msg == "" {
		msg = body["error_description"]
	}
	switch we.Status {
	case http.StatusConflict:
		return regError(http.StatusBadRequest, "invalid_client_metadata", "Client Identifier in use")
	case http.StatusForbidden:
		return regForbidden("Forbidden")
	case http.StatusBadRequest:
		code := "invalid_client_metadata"
		if strings.Contains(strings.ToLower(msg), "redirect uri") {
			code = "invalid_redirect_uri"
		}
		return regError(http.StatusBadRequest, code, msg)
	}
	return err
}

func (c *regCall) clientURI(clientID string) string {
	return c.issuer + "/clients-registrations/" + c.kind + "/" + clientID
}

// answer writes the client in the endpoint's format with its secret and
// the registration access token raw (if any).
func (c *regCall) answer(status int, cl client.Client, raw string) error {
	ctx := c.rq.R.Context()
	links, err := c.rq.h.Store.ClientScopeLinks(ctx, c.rq.Realm.ID, cl.ID)
	if err != nil {
		return err
	}
	names, err := clientsAPI{}.scopeNames(c.rq)
	if err != nil {
		return err
	}
	x, err := clientsAPI{}.rep(c.rq, cl, links, names)
	if err != nil {
		return err
	}
	x.Access = nil
	x.RegistrationAccessToken = nil
	if raw != "" {
		x.RegistrationAccessToken = &raw
	}
	// The registrant is answered the secret whatever admin role its token
	// carries: it is the client's own credential.
	x.Secret = nil
	if !cl.PublicClient && !cl.BearerOnly && cl.Secret != "" {
		x.Secret = &cl.Secret
	}
	if c.kind == regDefault {
		return web.WriteJSON(c.rq.W, status, x)
	}
	o := rep.OIDCClientFromClient(x)
	o.RegistrationAccessToken = raw
	o.RegistrationClientURI = c.clientURI(cl.ClientID)
	o.ClientIDIssuedAt = c.rq.h.Now().Unix()
	if o.ClientSecret != "" {
		o.ClientSecretExpiresAt = new(int64(0))
	}
	return web.WriteJSON(c.rq.W, status, o)
}
