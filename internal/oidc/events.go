package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/device"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The back channel's login events, Keycloak's: a grant's success is
// recorded where its tokens are issued (issueTokens), a refusal where the
// token endpoint returns it; logout, introspection and revocation record
// their own. Nothing here is given a token, a code or a secret to keep:
// tokens are named by their jti, and package events drops any detail it
// does not know to be harmless.

func (h *Handler) recorder() events.Recorder {
	return events.Recorder{Store: h.Store, Now: h.Now, Log: h.Log}
}

// grantEvents is the event type of each grant's success; its refusal is
// the same type with "_ERROR".
var grantEvents = map[string]string{
	"password":           events.Login,
	"authorization_code": events.CodeToToken,
	"refresh_token":      events.RefreshToken,
	"client_credentials": events.ClientLogin,
	grantTokenExchange:   events.TokenExchange,
	device.GrantType:     "OAUTH2_DEVICE_CODE_TO_TOKEN",
	uma.GrantType:        "PERMISSION_TOKEN",
}

// tokensIssued records the success of the token request r, whose form
// names the grant, once x's tokens are in resp.
func (h *Handler) tokensIssued(r *http.Request, x issued, resp tokenResponse) {
	grant := r.PostForm.Get("grant_type")
	typ := grantEvents[grant]
	if typ == "" || !events.Wants(x.realm, typ) {
		return
	}
	d := map[string]string{events.DetailGrantType: grant, events.DetailScope: resp.Scope, events.DetailTokenID: jti(resp.AccessToken)}
	if resp.RefreshToken != "" {
		d[events.DetailRefreshTokenID] = jti(resp.RefreshToken)
		d[events.DetailRefreshTokenType] = token.TypeRefresh
		if x.us.Offline {
			d[events.DetailRefreshTokenType] = token.TypeOffline
		}
	}
	switch typ {
	case events.Login:
		d[events.DetailAuthMethod] = "openid-connect"
		d[events.DetailUsername] = x.user.Username
	case events.CodeToToken:
		d[events.DetailCodeID] = x.us.ID
	case events.ClientLogin:
		d[events.DetailUsername] = x.user.Username
	case events.TokenExchange:
		d[events.DetailAuthMethod] = "token_exchange"
		d[events.DetailUsername] = x.user.Username
		exchangeEvent(d, x)
	}
	h.recorder().Record(r.Context(), x.realm, events.Event{Type: typ, ClientID: x.client.ClientID, UserID: x.user.ID,
		SessionID: x.us.ID, IPAddress: clientIP(r), Details: d})
}

// grantFailed records the refusal err of the token request r and returns
// err. c is the authenticated client, or the zero Client when client
// authentication was what failed.
func (h *Handler) grantFailed(r *http.Request, rl realm.Realm, c client.Client, err error) error {
	grant := r.PostForm.Get("grant_type")
	typ := grantEvents[grant]
	if typ == "" || !events.Wants(rl, typ+"_ERROR") {
		return err
	}
	code, desc, ok := refusal(err)
	if !ok {
		return err
	}
	e := events.Event{Type: typ + "_ERROR", ClientID: clientOf(r, c), IPAddress: clientIP(r), Error: grantError(grant, code, desc),
		Details: map[string]string{events.DetailGrantType: grant}}
	if grant == "password" {
		name := r.PostForm.Get("username")
		e.Details[events.DetailAuthMethod] = "openid-connect"
		e.Details[events.DetailUsername] = name
		if e.Error == "invalid_user_credentials" || e.Error == "user_disabled" {
			e.UserID, e.Error = h.failedUser(r.Context(), rl, name, e.Error)
		}
	}
	h.recorder().Record(r.Context(), rl, e)
	return err
}

// failedUser tells the events apart that the password grant answers
// alike: an unknown name is user_not_found, a disabled user user_disabled,
// anyone else keeps code. The answer to the client does not change.
func (h *Handler) failedUser(ctx context.Context, rl realm.Realm, name, code string) (userID, errCode string) {
	u, err := authn.Checker{Store: h.Store, Log: h.Log}.FindUser(ctx, rl, name)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != ""):
		return "", "user_not_found"
	case err != nil:
		return "", code
	case !u.Enabled:
		return u.ID, "user_disabled"
	}
	return u.ID, code
}

// grantError is Keycloak's event error for a refused grant.
func grantError(grant, code, desc string) string {
	if e, ok := exchangeEventError(desc); ok && grant == grantTokenExchange {
		return e
	}
	switch desc {
	case "Invalid user credentials":
		return "invalid_user_credentials"
	case "Account disabled", "User disabled", "User is disabled":
		return "user_disabled"
	case "User not found":
		return "user_not_found"
	case "Account is not fully set up":
		return "resolve_required_actions"
	case "Code is expired":
		return "expired_code"
	}
	if strings.HasPrefix(desc, "PKCE") {
		return "invalid_code_verifier"
	}
	switch code {
	case "invalid_client":
		return "invalid_client_credentials"
	case "invalid_grant":
		switch grant {
		case "authorization_code":
			return "invalid_code"
		case "refresh_token":
			return "invalid_token"
		}
	}
	return code
}

// logoutEvent records the refresh-token logout of rt's session by client c;
// errCode is "" for a success.
func (h *Handler) logoutEvent(r *http.Request, rl realm.Realm, c client.Client, rt token.Parsed, errCode string) {
	e := events.Event{Type: events.Logout, ClientID: clientOf(r, c), UserID: rt.Sub, SessionID: rt.Sid, IPAddress: clientIP(r)}
	if errCode != "" {
		e.Type, e.Error = events.LogoutError, errCode
	}
	h.recorder().Record(r.Context(), rl, e)
}

// logoutFailed records a logout refused before a token was read, and
// returns err.
func (h *Handler) logoutFailed(r *http.Request, rl realm.Realm, err error) error {
	return h.endpointFailed(r, rl, events.LogoutError, client.Client{}, err)
}

// introspected records a successful introspection of the live token lt.
func (h *Handler) introspected(r *http.Request, rl realm.Realm, c client.Client, lt bearer.Token) {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.IntrospectToken, ClientID: c.ClientID,
		UserID: lt.User.ID, SessionID: lt.Claims.Sid, IPAddress: clientIP(r)})
}

// inactive answers an introspection of a token that is not active, and
// records it as Keycloak does: INTROSPECT_TOKEN_ERROR, invalid_token.
func (h *Handler) inactive(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client) error {
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.IntrospectTokenError, ClientID: c.ClientID,
		IPAddress: clientIP(r), Error: "invalid_token"})
	return web.WriteJSON(w, http.StatusOK, inactive)
}

// introspectFailed records an introspection refused with err, and returns err.
func (h *Handler) introspectFailed(r *http.Request, rl realm.Realm, c client.Client, err error) error {
	return h.endpointFailed(r, rl, events.IntrospectTokenError, c, err)
}

// revoked records an RFC 7009 revocation by client c of the token p: a
// refresh token ends the client's session (detail revoked_client), an
// access token is blocked by its jti (detail token_id), as Keycloak's
// TokenRevocationEndpoint records REVOKE_GRANT.
func (h *Handler) revoked(r *http.Request, rl realm.Realm, c client.Client, p token.Parsed, userID string) {
	d := map[string]string{events.DetailRevokedClient: c.ClientID}
	if token.IsAccessType(p.Typ) {
		d = map[string]string{events.DetailTokenID: p.Jti}
	}
	if userID == "" {
		userID = p.Sub
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: events.RevokeGrant, ClientID: c.ClientID, UserID: userID,
		SessionID: p.Sid, IPAddress: clientIP(r), Details: d})
}

// revokeFailed records a revocation refused with err, and returns err.
func (h *Handler) revokeFailed(r *http.Request, rl realm.Realm, c client.Client, err error) error {
	return h.endpointFailed(r, rl, events.RevokeGrantError, c, err)
}

// endpointFailed records the error event typ for a protocol request refused
// with err (an OAuth error body), and returns err. A server failure is the
// log's business, not an event.
func (h *Handler) endpointFailed(r *http.Request, rl realm.Realm, typ string, c client.Client, err error) error {
	if !events.Wants(rl, typ) {
		return err
	}
	code, _, ok := refusal(err)
	if !ok {
		return err
	}
	if code == "invalid_client" {
		code = "invalid_client_credentials"
	}
	h.recorder().Record(r.Context(), rl, events.Event{Type: typ, ClientID: clientOf(r, c), IPAddress: clientIP(r), Error: code})
	return err
}

// refusal is what an event records of a protocol refusal: its OAuth error
// code and description; ok is false for a failure that is not a refusal.
// Keycloak's event errors for grants tell some refusals apart by their
// description (grantError).
func refusal(err error) (code, desc string, ok bool) {
	var we *web.Error
	if !errors.As(err, &we) || we.Code == "" {
		return "", "", false
	}
	if b, isOAuth := we.Body.(oauthError); isOAuth {
		desc = b.Description
	}
	return string(we.Code), desc, true
}

// clientOf is the client_id of a request: the authenticated client's, or
// when authentication failed, the one the request claimed (form or Basic
// user name; never its secret).
func clientOf(r *http.Request, c client.Client) string {
	if c.ClientID != "" {
		return c.ClientID
	}
	if id := r.PostForm.Get("client_id"); id != "" {
		return id
	}
	id, _, _, _ := basicCredentials(r)
	return id
}

// jti reads the jti claim of a token this server has just signed; it is
// the token's name in an event, never the token.
func jti(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Jti string `json:"jti"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Jti
}
