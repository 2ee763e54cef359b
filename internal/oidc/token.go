package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/device"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
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

// token serves POST /realms/{realm}/protocol/openid-connect/token.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return badRequest("invalid_request", "Missing form parameter: grant_type")
	}
	switch grant {
	case "authorization_code", "password", "client_credentials", "refresh_token", grantTokenExchange, device.GrantType:
	case uma.GrantType:
		// A client may present its user's access token instead of its own
		// credentials: the grant authenticates on its own.
		return h.umaGrant(w, r, form, rl)
	default:
		return badRequest("unsupported_grant_type", "Unsupported grant_type")
	}
	defer func() { metrics.Grant(rl.Name, grant, err) }() // every return below leaves the outcome in err
	c, err := h.authClient(w, r, form, rl)
	if err != nil {
		return h.grantFailed(r, rl, c, err)
	}
	h.cors(w, r, c)
	if r, err = h.tokenProof(r, rl, c); err != nil {
		return h.grantFailed(r, rl, c, err)
	}
	var resp tokenResponse
	switch grant {
	case "password":
		resp, err = h.passwordGrant(r, form, rl, c)
	case "client_credentials":
		resp, err = h.clientCredentialsGrant(r, form, rl, c)
	case "refresh_token":
		resp, err = h.refreshGrant(r, form, rl, c)
	case "authorization_code":
		resp, err = h.authorizationCodeGrant(r, form, rl, c)
	case grantTokenExchange:
		resp, err = h.tokenExchange(r, form, rl, c)
	case device.GrantType:
		resp, err = h.deviceCodeGrant(r, form, rl, c)
	}
	if err == errAuthorizationPending {
		return err // a poll like any other, not a failed grant
	}
	if err != nil {
		return h.grantFailed(r, rl, c, err)
	}
	return web.WriteJSON(w, http.StatusOK, resp)
}

var errInvalidUserCredentials = oauthErr(http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")

// directGrantFlow walks the realm's direct grant flow (or the client's
// override) over the token request: by default the username, the password
// and, for users who have one, the OTP. A refused step answers as
// Keycloak's direct grant authenticators do; unknown, wrong and locked out
// all get the same answer (T27).
func (h *Handler) directGrantFlow(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (user.User, error) {
	ctx := r.Context()
	model, err := h.Store.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return user.User{}, err
	}
	model, top, err := authflow.Bound(model, c, authflow.DirectGrant)
	var out authflow.Outcome
	if err == nil {
		st := authflow.NewState(top)
		out, err = authflow.Run(&authflow.Context{Context: ctx, Store: h.Store, Log: h.Log, Hashes: h.Hashes, Now: h.Now(),
			Realm: rl, Client: c, Req: authflow.Request{Kind: authflow.DirectGrant, IP: clientIP(r), RequestedLoA: authflow.NoLoA},
			Form: form, State: &st, Model: model})
	}
	if errors.Is(err, authflow.ErrFlowConfig) {
		h.Log.WarnContext(ctx, "authentication flow cannot run", "realm", rl.Name, "client", c.ClientID, "err", err)
		return user.User{}, oauthErr(http.StatusInternalServerError, "unknown_error", "Authentication is not possible")
	}
	if err != nil {
		return user.User{}, err
	}
	switch {
	case out.Challenge != nil:
		// A step that needs a page (a login form bound into the direct
		// grant flow) cannot be passed by a token request.
		return user.User{}, errInvalidUserCredentials
	case out.Failure != nil:
		f := out.Failure.OAuth
		if f.Code == "" {
			return user.User{}, errInvalidUserCredentials
		}
		return user.User{}, oauthErr(f.Status, f.Code, f.Description)
	}
	return out.User, nil
}

// passwordGrant is the resource owner password credentials grant (RFC 6749
// §4.3), Keycloak's "direct access grant".
func (h *Handler) passwordGrant(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (tokenResponse, error) {
	ctx := r.Context()
	if !c.DirectAccessGrantsEnabled {
		return tokenResponse{}, badRequest("unauthorized_client", "Client not allowed for direct access grants")
	}
	if c.ConsentRequired {
		return tokenResponse{}, badRequest("invalid_client", "Client requires user consent")
	}
	scopes, err := h.resolveScopes(ctx, rl, c, form.Get("scope"))
	if err != nil {
		return tokenResponse{}, err
	}
	u, err := h.directGrantFlow(r, form, rl, c)
	if err != nil {
		return tokenResponse{}, err
	}
	// Like Keycloak's token endpoint, the grant is refused when the user
	// still owes a required action once the flow succeeded.
	if ok, err := authn.FullySetUp(ctx, h.Store, rl, u, h.Now()); err != nil {
		return tokenResponse{}, err
	} else if !ok {
		return tokenResponse{}, badRequest("invalid_grant", "Account is not fully set up")
	}
	if scopes.Offline {
		allowed, err := h.hasRealmRole(ctx, rl, u, "offline_access")
		if err != nil {
			return tokenResponse{}, err
		}
		if !allowed {
			return tokenResponse{}, badRequest("not_allowed", "Offline tokens not allowed for the user or client")
		}
	}
	now := sessionClock(h.Now())
	us := session.UserSession{ID: store.NewID(), RealmID: rl.ID, UserID: u.ID, Offline: scopes.Offline,
		Started: now, LastRefresh: now, AuthTime: now, AuthMethod: "openid-connect", IPAddress: clientIP(r)}
	cs := session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID, Offline: scopes.Offline,
		Started: now, Timestamp: now, Scope: form.Get("scope")}
	// An offline token needs no online session: Keycloak drops it at once.
	if err := h.Store.InTx(ctx, func(tx *store.DB) error {
		if err := tx.CreateUserSession(ctx, us); err != nil {
			return err
		}
		return tx.CreateClientSession(ctx, cs)
	}); err != nil {
		return tokenResponse{}, err
	}
	return h.issueTokens(ctx, r, issued{realm: rl, client: c, user: u, us: us, cs: cs, scopes: scopes,
		refresh: useRefreshTokens(c), acr: "1"})
}

// sessionACR is the acr a client session's refreshed tokens carry: that of
// the client's latest browser login (its "acr" note, set by package
// login), "1" for sessions without one (the password grant).
func sessionACR(cs session.ClientSession) string {
	if a := cs.Notes["acr"]; a != "" {
		return a
	}
	return "1"
}

// useRefreshTokens is the client's "use refresh tokens" switch (default on).
func useRefreshTokens(c client.Client) bool { return c.Attributes["use.refresh.tokens"] != "false" }

// clientCredentialsGrant issues a token to the client's service account
// (RFC 6749 §4.4). Like Keycloak 26 the session is transient: nothing is
// stored, and no refresh token is issued unless the client asks for one.
func (h *Handler) clientCredentialsGrant(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (tokenResponse, error) {
	ctx := r.Context()
	if c.PublicClient {
		return tokenResponse{}, oauthErr(http.StatusUnauthorized, "unauthorized_client", "Public client not allowed to retrieve service account")
	}
	if !c.ServiceAccountsEnabled {
		return tokenResponse{}, badRequest("unauthorized_client", "Client not enabled to retrieve service account")
	}
	u, err := h.Store.GetServiceAccount(ctx, rl.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return tokenResponse{}, badRequest("invalid_request", "Service account user does not exist")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	if !u.Enabled {
		return tokenResponse{}, badRequest("invalid_grant", "User is disabled")
	}
	scopes, err := h.resolveScopes(ctx, rl, c, form.Get("scope"))
	if err != nil {
		return tokenResponse{}, err
	}
	if scopes.Offline {
		return tokenResponse{}, badRequest("invalid_scope", "Offline tokens are not allowed for service accounts")
	}
	now := sessionClock(h.Now())
	us := session.UserSession{RealmID: rl.ID, UserID: u.ID, Started: now, LastRefresh: now, AuthTime: now,
		AuthMethod: "openid-connect", Notes: map[string]string{"client_id": c.ClientID, "clientHost": clientIP(r), "clientAddress": clientIP(r)}}
	cs := session.ClientSession{ClientID: c.ID, Started: now, Timestamp: now, Notes: us.Notes}
	return h.issueTokens(ctx, r, issued{realm: rl, client: c, user: u, us: us, cs: cs, scopes: scopes, acr: "1"})
}

// refreshGrant exchanges a refresh (or offline) token for new tokens (RFC
// 6749 §6), applying Keycloak's session and rotation rules.
func (h *Handler) refreshGrant(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (tokenResponse, error) {
	ctx := r.Context()
	raw := form.Get("refresh_token")
	if raw == "" {
		return tokenResponse{}, badRequest("invalid_request", "No refresh token") // Keycloak's wording
	}
	rt, ks, err := h.verifyRefreshToken(ctx, r, rl, raw)
	if err != nil {
		return tokenResponse{}, err
	}
	if rt.Azp != c.ClientID {
		return tokenResponse{}, invalidGrant("Invalid refresh token. Token client and authorized client don't match")
	}
	if err := checkRefreshBinding(r, rt); err != nil {
		return tokenResponse{}, err
	}
	offline := rt.Typ == "Offline"
	now := sessionClock(h.Now())
	if !offline && rt.Exp != 0 && now >= rt.Exp {
		return tokenResponse{}, invalidGrant("Token is not active")
	}
	us, u, cs, err := h.refreshSession(ctx, rl, c, rt, offline, now)
	if err != nil {
		return tokenResponse{}, err
	}
	granted, err := h.resolveScopes(ctx, rl, c, cs.Scope)
	var scopeErr *web.Error
	if errors.As(err, &scopeErr) {
		return tokenResponse{}, invalidGrant("Client no longer has the requested scopes")
	}
	if err != nil {
		// A storage failure is not a verdict on the session: never tell the
		// client its refresh token is dead because the database hiccuped.
		return tokenResponse{}, err
	}
	param, err := narrowScopes(granted, cs.Scope, form.Get("scope"))
	if err != nil {
		return tokenResponse{}, err
	}
	scopes := granted
	if param != cs.Scope {
		if scopes, err = h.resolveScopes(ctx, rl, c, param); err != nil {
			return tokenResponse{}, err
		}
	}
	scopes.Offline = offline
	// Rotation is decided on the stored client session, in the transaction
	// that records the use (session.DecideRefresh).
	use := session.RefreshUse{Jti: rt.Jti, Iat: rt.Iat}
	use.RotatedFrom, use.HasLineage = rt.Raw[grant.ClaimRotatedFrom].(string)
	// The use and the session's new idle start are one write, so SQLite's
	// write lock is taken once per refresh.
	var refused session.RefreshDecision
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		_, err := tx.UpdateClientSession(ctx, cs.ID, func(old session.ClientSession) (session.ClientSession, error) {
			d := session.DecideRefresh(rl, old, use, now)
			if d.Verdict != session.RefreshAccept {
				refused = d
				return old, errRefreshRefused
			}
			return d.Session, nil
		})
		if err != nil {
			return err
		}
		return tx.TouchUserSession(ctx, us.ID, now)
	})
	switch {
	case errors.Is(err, errRefreshRefused):
		// A reused or superseded token may have been stolen: end the
		// client's session so the whole rotation family, newest token
		// included, stops working. If that fails the family lives on, so
		// the failure is the answer, not the refusal.
		if err := h.Store.DeleteClientSession(ctx, us.ID, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return tokenResponse{}, fmt.Errorf("end the refresh token family of client session %s: %w", cs.ID, err)
		}
		return tokenResponse{}, invalidGrant(refused.Reason)
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, invalidGrant("Session doesn't have required client")
	case err != nil:
		return tokenResponse{}, err
	}
	us.LastRefresh = max(us.LastRefresh, now)
	return h.issueTokens(ctx, r, issued{realm: rl, client: c, user: u, us: us, cs: cs, scopes: scopes,
		refresh: true, acr: sessionACR(cs), nonce: cs.Nonce, rotatedFrom: rt.Jti, keys: ks,
		authorization: rt.Raw["authorization"], resourceServer: rptResourceServer(rt)})
}

// rptResourceServer is the resource server a refresh token of an RPT was
// issued for ("" for other refresh tokens), so the refreshed RPT keeps it
// in its aud.
func rptResourceServer(rt token.Parsed) string {
	if rt.Raw["authorization"] == nil {
		return ""
	}
	rs, _ := rt.Raw[grant.ClaimResourceServer].(string)
	return rs
}

// refreshSession reads what a refresh token stands on, the user session,
// its user and the client session of c, in one query (store.SessionTokenState,
// the bearer check's), and refuses the token as Keycloak does when one is
// gone or no longer valid. Only when the query finds nothing are they read
// one by one, to tell which is missing.
func (h *Handler) refreshSession(ctx context.Context, rl realm.Realm, c client.Client, rt token.Parsed, offline bool, now int64) (
	session.UserSession, user.User, session.ClientSession, error) {
	st, err := h.Store.SessionTokenState(ctx, rl.ID, "", rt.Sid, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return h.refreshSessionApart(ctx, rl, c, rt, offline, now)
	}
	if err != nil {
		return session.UserSession{}, user.User{}, session.ClientSession{}, err
	}
	us, u, cs := st.UserSession, st.User, st.ClientSession
	if err := refreshSessionValid(rl, us, offline, now); err != nil {
		return us, u, cs, err
	}
	if err := sessionUserValid(u); err != nil {
		return us, u, cs, err
	}
	return us, u, cs, refreshNotStale(rl, c, rt, u)
}

// refreshSessionApart is refreshSession one read at a time, in the order
// the refusals are decided.
func (h *Handler) refreshSessionApart(ctx context.Context, rl realm.Realm, c client.Client, rt token.Parsed, offline bool, now int64) (
	session.UserSession, user.User, session.ClientSession, error) {
	us, err := h.Store.GetUserSession(ctx, rl.ID, rt.Sid)
	if errors.Is(err, store.ErrNotFound) {
		err = refreshSessionValid(rl, session.UserSession{}, offline, now)
	} else if err == nil {
		err = refreshSessionValid(rl, us, offline, now)
	}
	if err != nil {
		return us, user.User{}, session.ClientSession{}, err
	}
	u, err := h.sessionUser(ctx, rl, us)
	if err != nil {
		return us, u, session.ClientSession{}, err
	}
	if err := refreshNotStale(rl, c, rt, u); err != nil {
		return us, u, session.ClientSession{}, err
	}
	cs, err := h.Store.GetClientSession(ctx, us.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return us, u, cs, invalidGrant("Session doesn't have required client")
	}
	return us, u, cs, err
}

// refreshSessionValid refuses a refresh on a session that is missing (zero
// us), of the other kind (offline or not) or expired.
func refreshSessionValid(rl realm.Realm, us session.UserSession, offline bool, now int64) error {
	if us.ID != "" && us.Offline == offline && session.Valid(rl, us, now) {
		return nil
	}
	if offline {
		return invalidGrant("Offline user session not found")
	}
	return invalidGrant("Session not active")
}

// refreshNotStale refuses a token issued before a not-before of the realm,
// the client or the user.
func refreshNotStale(rl realm.Realm, c client.Client, rt token.Parsed, u user.User) error {
	if rt.Iat < rl.NotBefore || rt.Iat < c.NotBefore || rt.Iat < u.NotBefore {
		return invalidGrant("Stale token")
	}
	return nil
}

// sessionUser loads the user of a session a grant redeems, who must still
// exist and be enabled.
func (h *Handler) sessionUser(ctx context.Context, rl realm.Realm, us session.UserSession) (user.User, error) {
	u, err := h.Store.GetUser(ctx, rl.ID, us.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return u, invalidGrant("User not found")
	}
	if err != nil {
		return u, err
	}
	return u, sessionUserValid(u)
}

// sessionUserValid refuses a grant on a session whose user is disabled.
func sessionUserValid(u user.User) error {
	if !u.Enabled {
		return invalidGrant("User disabled")
	}
	return nil
}

// errRefreshRefused aborts the rotation transaction of a refused refresh.
var errRefreshRefused = errors.New("refresh token refused by rotation")

// verifyRefreshToken checks a refresh or offline token's signature (HS512,
// the realm's HMAC key, nothing else), type and issuer. It returns the
// realm's keys too, which the grant signs with.
func (h *Handler) verifyRefreshToken(ctx context.Context, r *http.Request, rl realm.Realm, raw string) (token.Parsed, []keys.Key, error) {
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return token.Parsed{}, nil, err
	}
	claims, err := token.Verify(raw, ks, keys.HS512)
	if err != nil {
		return token.Parsed{}, nil, invalidGrant("Invalid refresh token")
	}
	p, err := token.Parse(claims)
	if err != nil || (p.Typ != "Refresh" && p.Typ != "Offline") {
		return token.Parsed{}, nil, invalidGrant("Invalid refresh token")
	}
	if p.Iss != h.URLs.RealmURL(r, rl.Name) {
		return token.Parsed{}, nil, invalidGrant("Invalid token issuer. Expected '" + h.URLs.RealmURL(r, rl.Name) + "'")
	}
	return p, ks, nil
}

// clientIP is the caller's address as the connection shows it.
func clientIP(r *http.Request) string { return web.ClientIP(r) }
