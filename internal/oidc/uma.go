package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/authz/decide"
	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The uma-ticket grant (UMA 2.0 Grant for OAuth 2.0 Authorization §3.3.1)
// with Keycloak's extensions: a client redeems a permission ticket, or
// names the permissions it wants (permission=resource#scope and the
// resource server as audience), for a requesting party token: an access
// token whose "authorization" claim lists the granted permissions. It can
// instead ask only for the decision or the list of permissions.

// claimTokenFormatJWT is the claim_token format of pushed claims: a
// base64url JSON object of claims (Keycloak's default); the ID token
// format names the requesting party by an ID token.
const (
	claimTokenFormatJWT     = "urn:ietf:params:oauth:token-type:jwt"
	claimTokenFormatIDToken = "http://openid.net/specs/openid-connect-core-1_0.html#IDToken"
)

// rptResponse is the token response of the grant: Keycloak adds "upgraded",
// true when the RPT sent along kept all its permissions.
type rptResponse struct {
	tokenResponse
	Upgraded bool `json:"upgraded"`
}

// requestingParty is who the grant evaluates for, and the client asking.
type requestingParty struct {
	client client.Client
	user   user.User
	// token is the access token naming the party; HasSession is false for a
	// service account's (or for none: the client alone).
	token bearer.Token
}

// umaGrant serves the uma-ticket grant. Unlike the other grants a client
// may authenticate with an access token (Bearer) instead of its
// credentials, so a public client can obtain an RPT for its user.
func (h *Handler) umaGrant(w http.ResponseWriter, r *http.Request, form url.Values, rl realm.Realm) (err error) {
	defer func() { metrics.Grant(rl.Name, uma.GrantType, err) }()
	ctx := r.Context()
	party, err := h.umaParty(w, r, form, rl)
	if err != nil {
		return h.grantFailed(r, rl, party.client, err)
	}
	h.cors(w, r, party.client)
	resp, err := h.umaAuthorize(ctx, r, form, rl, party)
	if err != nil {
		return h.grantFailed(r, rl, party.client, err)
	}
	return web.WriteJSON(w, http.StatusOK, resp)
}

// umaParty finds the requesting party: the user of the Bearer token, or,
// for a client that authenticated itself, the user of its subject_token (or
// of an ID token pushed as claim_token), else its own service account.
func (h *Handler) umaParty(w http.ResponseWriter, r *http.Request, form url.Values, rl realm.Realm) (requestingParty, error) {
	ctx := r.Context()
	iss := h.URLs.RealmURL(r, rl.Name)
	if pt := bearer.FromRequest(r); pt.Raw != "" && !pt.DPoP {
		t, err := bearer.Validate(ctx, h.Store, rl, iss, pt.Raw, h.Now())
		if errors.Is(err, bearer.ErrInvalid) {
			return requestingParty{}, oauthErr(http.StatusUnauthorized, "invalid_grant", "Invalid bearer token")
		}
		if err != nil {
			return requestingParty{}, err
		}
		return requestingParty{client: t.Client, user: t.User, token: t}, nil
	}
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return requestingParty{client: c}, err
	}
	subject := form.Get("subject_token")
	if strings.EqualFold(form.Get("claim_token_format"), claimTokenFormatIDToken) && form.Get("claim_token") != "" {
		subject = form.Get("claim_token")
	}
	if subject != "" {
		t, err := h.umaSubject(ctx, r, rl, subject)
		if err != nil {
			return requestingParty{client: c}, err
		}
		t.Client = c
		return requestingParty{client: c, user: t.User, token: t}, nil
	}
	// The client asks for itself: its service account is the party, as the
	// client credentials grant would issue it.
	if c.PublicClient {
		return requestingParty{client: c}, oauthErr(http.StatusUnauthorized, "unauthorized_client", "Public client not allowed to retrieve service account")
	}
	if !c.ServiceAccountsEnabled {
		return requestingParty{client: c}, badRequest("unauthorized_client", "Client not enabled to retrieve service account")
	}
	u, err := h.Store.GetServiceAccount(ctx, rl.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return requestingParty{client: c}, badRequest("invalid_request", "Service account user does not exist")
	}
	if err != nil {
		return requestingParty{client: c}, err
	}
	if !u.Enabled {
		return requestingParty{client: c}, badRequest("invalid_grant", "User is disabled")
	}
	return requestingParty{client: c, user: u, token: bearer.Token{Client: c, User: u}}, nil
}

// umaSubject validates a subject token: an access token of the realm, or
// an ID token (which names a user and a session as an access token does).
func (h *Handler) umaSubject(ctx context.Context, r *http.Request, rl realm.Realm, raw string) (bearer.Token, error) {
	iss := h.URLs.RealmURL(r, rl.Name)
	t, err := bearer.Validate(ctx, h.Store, rl, iss, raw, h.Now())
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, bearer.ErrInvalid) {
		return bearer.Token{}, err
	}
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return bearer.Token{}, err
	}
	claims, err := token.VerifySigned(raw, ks)
	if err != nil {
		return bearer.Token{}, badRequest("unauthorized_client", "Invalid signature")
	}
	p, err := token.Parse(claims)
	if err != nil || p.Typ != token.TypeID {
		return bearer.Token{}, badRequest("unauthorized_client", "Invalid identity")
	}
	t, err = bearer.Check(ctx, h.Store, rl, iss, p, h.Now())
	if errors.Is(err, bearer.ErrInvalid) {
		return bearer.Token{}, badRequest("unauthorized_client", "Invalid identity")
	}
	return t, err
}

// umaAuthorize evaluates the grant's request for party and answers with an
// RPT, the decision or the permissions.
func (h *Handler) umaAuthorize(ctx context.Context, r *http.Request, form url.Values, rl realm.Realm, party requestingParty) (any, error) {
	c := party.client
	// Claims pushed by a public client could say anything: only a ticket
	// (whose claims the resource server signed in) may bring them.
	if form.Get("claim_token") != "" && c.PublicClient && form.Get("ticket") == "" {
		return nil, oauthErr(http.StatusForbidden, "invalid_grant", "Public clients are not allowed to send claims")
	}
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	var ticket uma.Ticket
	var asked []uma.Permission
	audience := form.Get("audience")
	if raw := form.Get("ticket"); raw != "" {
		if ticket, err = uma.VerifyTicket(raw, ks, h.URLs.RealmURL(r, rl.Name), h.Now()); err != nil {
			return nil, umaError(err)
		}
		asked, audience = ticket.Permissions, ticket.Audience
	} else {
		for _, p := range form["permission"] {
			asked = append(asked, uma.ParsePermission(p))
		}
	}
	claims, err := pushedClaims(form, ticket.Claims)
	if err != nil {
		return nil, err
	}
	var previous []uma.Permission
	hasRPT := false
	if raw := form.Get("rpt"); raw != "" {
		prev, ok := previousRPT(raw, ks, h.URLs.RealmURL(r, rl.Name), h.Now())
		if !ok {
			return nil, oauthErr(http.StatusForbidden, "invalid_rpt", "RPT signature is invalid")
		}
		previous, hasRPT = prev, true
	}
	if audience == "" {
		return nil, badRequest("invalid_request", "You must provide the audience")
	}
	rsClient, err := h.Store.GetClientByClientID(ctx, rl.ID, audience)
	if errors.Is(err, store.ErrNotFound) {
		return nil, badRequest("invalid_request", "Unknown resource server id: ["+audience+"]")
	}
	if err != nil {
		return nil, err
	}
	engine, err := decide.LoadEngine(ctx, h.Store, rl.ID, rsClient.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, badRequest("invalid_request", "Client does not support permissions")
	}
	if err != nil {
		return nil, err
	}
	m := engine.Model()
	who := uma.Asker{ID: party.user.ID}
	if party.user.ServiceAccountClientID == rsClient.ID {
		who = uma.Asker{ID: rsClient.ID, Server: true}
	}
	shared, err := h.Store.ListPermissionTickets(ctx, rl.ID, store.TicketFilter{ServerID: rsClient.ID, Requester: party.user.ID, Granted: ptr(true)})
	if err != nil {
		return nil, err
	}
	if form.Get("ticket") == "" && form.Get("permission_resource_format") == "uri" {
		if asked, err = uma.ResolveURIs(m, who, asked, form.Get("permission_resource_matching_uri") == "true"); err != nil {
			return nil, umaError(err)
		}
	}
	limit := 0
	if v := form.Get("response_permissions_limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return nil, badRequest("invalid_request", "Invalid response_permissions_limit")
		}
	}
	var reqs, askedReqs []decide.Requested
	if len(asked) == 0 && !hasRPT && form.Get("ticket") == "" {
		reqs = uma.All(m, who, shared)
	} else {
		if reqs, err = uma.Requests(m, who, shared, asked); err != nil {
			return nil, umaError(err)
		}
		askedReqs = slices.Clone(reqs)
		if hasRPT {
			reqs = uma.Previous(m, reqs, previous)
		}
		// At most limit resources are evaluated: those asked for first,
		// then those of the RPT being upgraded.
		if limit > 0 && len(reqs) > limit {
			reqs = reqs[:limit]
			askedReqs = askedReqs[:min(limit, len(askedReqs))]
		}
	}
	id, err := decide.LoadIdentity(ctx, h.Store, decide.Subject{Realm: rl, Client: party.client, User: party.user,
		Scope: party.token.Claims.Scope, Claims: party.token.Claims.Raw, Attributes: claims, Now: h.Now()})
	if err != nil {
		return nil, err
	}
	var granted []uma.Permission
	if len(reqs) > 0 {
		includeName := form.Get("response_include_resource_name") != "false"
		for _, p := range engine.Evaluate(id, reqs).Permissions {
			up := uma.Permission{ResourceID: p.ResourceID, Scopes: p.Scopes}
			if includeName {
				up.ResourceName = p.ResourceName
			}
			granted = append(granted, up)
		}
	}
	if form.Get("ticket") != "" && form.Get("submit_request") == "true" {
		if err := h.submitRequests(ctx, rl, m, who, asked); err != nil {
			return nil, err
		}
	}
	// With an RPT to upgrade, every permission asked must be granted; what
	// the old RPT held and is no longer granted is dropped ("upgraded" false).
	ok := len(granted) > 0 && !(hasRPT && len(asked) > 0 && !uma.Covers(granted, askedReqs))
	if !ok {
		if form.Get("submit_request") == "true" {
			return nil, oauthErr(http.StatusForbidden, "access_denied", "request_submitted")
		}
		return nil, oauthErr(http.StatusForbidden, "access_denied", "not_authorized")
	}
	switch form.Get("response_mode") {
	case "":
	case uma.ModeDecision:
		return map[string]bool{"result": true}, nil
	case uma.ModePermissions:
		return granted, nil
	default:
		return nil, badRequest("invalid_request", "Invalid response_mode")
	}
	resp, err := h.issueRPT(ctx, r, rl, party, rsClient, granted)
	if err != nil {
		return nil, err
	}
	return rptResponse{tokenResponse: resp, Upgraded: hasRPT && uma.Covers(granted, uma.Previous(m, nil, previous))}, nil
}

// issueRPT mints the requesting party token: an access token of the
// party's session (or of a transient one for a service account) whose
// "authorization" claim lists granted and whose aud includes the resource
// server.
func (h *Handler) issueRPT(ctx context.Context, r *http.Request, rl realm.Realm, party requestingParty, rs client.Client, granted []uma.Permission) (tokenResponse, error) {
	c, t := party.client, party.token
	authorization := map[string]any{"permissions": granted}
	x := issued{realm: rl, client: c, user: party.user, acr: "1", authorization: authorization, resourceServer: rs.ClientID}
	if t.HasSession {
		scopes, err := h.resolveScopes(ctx, rl, c, t.ClientSession.Scope)
		var scopeErr *web.Error
		if errors.As(err, &scopeErr) {
			scopes, err = h.resolveScopes(ctx, rl, c, "")
		}
		if err != nil {
			return tokenResponse{}, err
		}
		scopes.OpenID, scopes.Offline = false, t.UserSession.Offline
		x.us, x.cs, x.scopes, x.refresh = t.UserSession, t.ClientSession, scopes, useRefreshTokens(c)
		x.acr = sessionACR(t.ClientSession)
		if t.ClientSession.ClientID != c.ID {
			// The party's token is another client's (a subject token): the
			// asking client joins the session, as a token exchange does.
			cs, err := h.joinSession(ctx, t.UserSession, c)
			if err != nil {
				return tokenResponse{}, err
			}
			x.cs = cs
		}
		return h.issueTokens(ctx, r, x)
	}
	// A service account's token rests on a transient session: nothing is
	// stored and no refresh token is issued.
	scopes, err := h.resolveScopes(ctx, rl, c, "")
	if err != nil {
		return tokenResponse{}, err
	}
	scopes.OpenID = false
	now := sessionClock(h.Now())
	x.us = session.UserSession{RealmID: rl.ID, UserID: party.user.ID, Started: now, LastRefresh: now, AuthTime: now,
		AuthMethod: "openid-connect", Notes: map[string]string{"client_id": c.ClientID, "clientHost": clientIP(r), "clientAddress": clientIP(r)}}
	x.cs = session.ClientSession{ClientID: c.ID, Started: now, Timestamp: now, Notes: x.us.Notes}
	x.scopes = scopes
	return h.issueTokens(ctx, r, x)
}

// joinSession returns c's client session in us, creating it if needed.
func (h *Handler) joinSession(ctx context.Context, us session.UserSession, c client.Client) (session.ClientSession, error) {
	var cs session.ClientSession
	err := h.Store.InTx(ctx, func(tx *store.DB) error {
		var err error
		cs, err = tx.GetClientSession(ctx, us.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			now := sessionClock(h.Now())
			cs = session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID, Offline: us.Offline, Started: now, Timestamp: now}
			return tx.CreateClientSession(ctx, cs)
		}
		return err
	})
	return cs, err
}

// submitRequests records, for a party denied some of what its ticket asked,
// a pending permission ticket for each scope of a resource its owner
// manages, for the owner to approve or deny. A request already pending (or
// granted) is left as it is.
func (h *Handler) submitRequests(ctx context.Context, rl realm.Realm, m authz.Model, who uma.Asker, asked []uma.Permission) error {
	if who.Server {
		return nil
	}
	for _, t := range uma.Pending(m, who, asked) {
		t.ID, t.RealmID, t.CreatedTimestamp = store.NewID(), rl.ID, h.Now().UnixMilli()
		if err := h.Store.CreatePermissionTicket(ctx, t); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// previousRPT reads the permissions of an RPT sent for upgrade. Its
// signature and issuer must be the realm's; an expired RPT brings no
// permissions.
func previousRPT(raw string, ks []keys.Key, issuer string, now time.Time) ([]uma.Permission, bool) {
	claims, err := token.VerifySigned(raw, ks)
	if err != nil {
		return nil, false
	}
	p, err := token.Parse(claims)
	if err != nil || !token.IsAccessType(p.Typ) || p.Iss != issuer {
		return nil, false
	}
	if p.Exp != 0 && now.Unix() >= p.Exp {
		return nil, true
	}
	b, err := json.Marshal(claims["authorization"])
	if err != nil {
		return nil, true
	}
	var a struct {
		Permissions []uma.Permission `json:"permissions"`
	}
	if json.Unmarshal(b, &a) != nil {
		return nil, true
	}
	return a.Permissions, true
}

// pushedClaims are the claims the evaluation sees beside the party's token:
// those a ticket carries, then those of a claim_token in the JWT format.
func pushedClaims(form url.Values, fromTicket map[string][]string) (map[string][]string, error) {
	out := map[string][]string{}
	for k, v := range fromTicket {
		out[k] = append(out[k], v...)
	}
	raw := form.Get("claim_token")
	format := form.Get("claim_token_format")
	if raw == "" || strings.EqualFold(format, claimTokenFormatIDToken) {
		return out, nil
	}
	if format != "" && format != claimTokenFormatJWT {
		return nil, badRequest("invalid_request", "Claim token format ["+format+"] not supported")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		return nil, badRequest("invalid_request", "Invalid claims")
	}
	for k, v := range m {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				out[k] = append(out[k], claimString(e))
			}
		default:
			out[k] = append(out[k], claimString(v))
		}
	}
	return out, nil
}

func claimString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// umaError answers a refusal of package uma with its own code.
func umaError(err error) error {
	var e *uma.Error
	if errors.As(err, &e) {
		return oauthErr(e.Status, e.Code, e.Desc)
	}
	return err
}

func ptr[T any](v T) *T { return &v }
