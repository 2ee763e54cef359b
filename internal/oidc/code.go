package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/pkce"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// codeData is what the login front channel stored with an authorization
// code (package login's CodeData; the two meet only through the store).
type codeData struct {
	RedirectURI         string `json:"redirect_uri"`
	Scope               string `json:"scope"`
	Nonce               string `json:"nonce"`
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"`
	DPoPJkt             string `json:"dpop_jkt,omitempty"`
	ClientSessionID     string `json:"client_session_id"`
	AuthTime            int64  `json:"auth_time"`
	ACR                 string `json:"acr"`
	State               string `json:"state"`
}

// authorizationCodeGrant redeems a code from the login page (RFC 6749 §4.1.3
// with RFC 7636 PKCE). A code is consumed on first presentation, whatever
// happens next; presenting it again revokes what the first redemption
// issued, as Keycloak does.
func (h *Handler) authorizationCodeGrant(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (tokenResponse, error) {
	ctx := r.Context()
	raw := form.Get("code")
	if raw == "" {
		return tokenResponse{}, badRequest("invalid_request", "Missing parameter: code")
	}
	if !c.StandardFlowEnabled {
		return tokenResponse{}, badRequest("unauthorized_client", "Client not allowed to exchange code")
	}
	now := sessionClock(h.Now())
	// The code is consumed and the sessions it points at are read in one
	// transaction: a concurrent replay, which deletes the client session
	// once it sees the code used, can only do so after this has committed,
	// so the winner always answers 200 and the replay still revokes what
	// the winner issued.
	var (
		code  store.AuthCode
		fresh bool
		us    session.UserSession
		cs    session.ClientSession
		usErr error
		csErr error
	)
	err := h.Store.InTx(ctx, func(tx *store.DB) error {
		var err error
		if code, fresh, err = tx.RedeemAuthCode(ctx, rl.ID, raw, now); err != nil || !fresh {
			return err
		}
		us, usErr = tx.GetUserSession(ctx, rl.ID, code.UserSessionID)
		if usErr == nil {
			cs, csErr = tx.GetClientSession(ctx, us.ID, code.ClientID)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return tokenResponse{}, invalidGrant("Code not valid")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	var data codeData
	if err := json.Unmarshal([]byte(code.Data), &data); err != nil {
		return tokenResponse{}, err
	}
	if !fresh {
		// A replayed code may have been stolen: end the client's session the
		// first redemption created, so its tokens stop working too.
		if err := h.Store.DeleteClientSession(ctx, code.UserSessionID, code.ClientID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return tokenResponse{}, err
		}
		return tokenResponse{}, invalidGrant("Code not valid")
	}
	if code.ClientID != c.ID {
		return tokenResponse{}, invalidGrant("Auth error")
	}
	if now >= code.ExpiresAt {
		return tokenResponse{}, invalidGrant("Code is expired")
	}
	if form.Get("redirect_uri") != data.RedirectURI {
		return tokenResponse{}, invalidGrant("Incorrect redirect_uri")
	}
	if err := checkPKCE(data, form.Get("code_verifier")); err != nil {
		return tokenResponse{}, err
	}
	if err := checkCodeDPoP(r, data.DPoPJkt); err != nil {
		return tokenResponse{}, err
	}
	if errors.Is(usErr, store.ErrNotFound) || (usErr == nil && !session.Valid(rl, us, now)) {
		return tokenResponse{}, invalidGrant("Session not active")
	}
	if usErr != nil {
		return tokenResponse{}, usErr
	}
	u, err := h.Store.GetUser(ctx, rl.ID, us.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.Enabled) {
		return tokenResponse{}, invalidGrant("User disabled")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	if errors.Is(csErr, store.ErrNotFound) {
		return tokenResponse{}, invalidGrant("Session doesn't have required client")
	}
	if csErr != nil {
		return tokenResponse{}, csErr
	}
	acr := data.ACR
	if acr == "" {
		acr = "1"
	}
	return h.issueForLogin(r, rl, c, u, us, cs, data.Scope, data.Nonce, acr)
}

// issueForLogin issues the tokens of a grant redeeming a browser login (an
// authorization code, an approved device code): us and cs are the sessions
// the login made for user u and client c, scope and nonce what the client
// asked for. An offline_access request gets an offline session of its own,
// which outlives the browser's.
func (h *Handler) issueForLogin(r *http.Request, rl realm.Realm, c client.Client, u user.User,
	us session.UserSession, cs session.ClientSession, scope, nonce, acr string) (tokenResponse, error) {
	ctx := r.Context()
	now := sessionClock(h.Now())
	scopes, err := h.resolveScopes(ctx, rl, c, scope)
	if err != nil {
		return tokenResponse{}, err
	}
	if scopes.Offline {
		allowed, err := h.hasRealmRole(ctx, rl, u, "offline_access")
		if err != nil {
			return tokenResponse{}, err
		}
		if !allowed {
			return tokenResponse{}, badRequest("not_allowed", "Offline tokens not allowed for the user or client")
		}
		// The browser keeps its SSO session; the offline token gets its own
		// offline session, which outlives logout.
		off := session.UserSession{ID: store.NewID(), RealmID: rl.ID, UserID: u.ID, Offline: true, Started: now,
			LastRefresh: now, AuthTime: us.AuthTime, AuthMethod: us.AuthMethod, IPAddress: us.IPAddress, RememberMe: us.RememberMe}
		offCS := session.ClientSession{ID: store.NewID(), UserSessionID: off.ID, ClientID: c.ID, Offline: true,
			Started: now, Timestamp: now, Scope: scope, Nonce: nonce}
		if err := h.Store.InTx(ctx, func(tx *store.DB) error {
			if err := tx.CreateUserSession(ctx, off); err != nil {
				return err
			}
			return tx.CreateClientSession(ctx, offCS)
		}); err != nil {
			return tokenResponse{}, err
		}
		us, cs = off, offCS
	} else if cs.Scope != scope || cs.Nonce != nonce {
		if err := h.Store.UpdateClientSessionScope(ctx, cs.ID, scope); err != nil {
			return tokenResponse{}, err
		}
		cs.Scope = scope
	}
	return h.issueTokens(ctx, r, issued{realm: rl, client: c, user: u, us: us, cs: cs, scopes: scopes,
		refresh: useRefreshTokens(c), acr: acr, nonce: nonce})
}

// checkPKCE verifies the code_verifier against the challenge stored with
// the code (package pkce).
func checkPKCE(data codeData, verifier string) error {
	if desc := pkce.Verify(data.CodeChallenge, data.CodeChallengeMethod, verifier); desc != "" {
		return invalidGrant(desc)
	}
	return nil
}
