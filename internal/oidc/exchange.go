package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Standard token exchange (RFC 8693) between clients of one realm, with
// Keycloak 26.2's semantics: a confidential client that enables it trades an
// access token it is an audience of for a token of its own, for the same
// user and session, narrowed to the audience and scope it asks for.

// grantTokenExchange is RFC 8693's grant type (§2.1).
const grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// RFC 8693 §3 token type identifiers.
const (
	tokenTypeAccess  = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeRefresh = "urn:ietf:params:oauth:token-type:refresh_token"
	tokenTypeID      = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeSAML2   = "urn:ietf:params:oauth:token-type:saml2"
)

// Client attributes of standard token exchange.
const (
	// attrStandardExchange is the client's switch.
	attrStandardExchange = "standard.token.exchange.enabled"
	// attrExchangeRefresh allows requested_token_type refresh_token:
	// "SAME_SESSION" allows it, "NO" (the default) does not.
	attrExchangeRefresh = "standard.token.exchange.enableRefreshRequestedTokenType"
)

// multiValued lists the parameters a token exchange may repeat (RFC 8693
// §2.1 allows several audience and resource values); readForm refuses any
// other repeated parameter.
var multiValued = map[string]bool{"audience": true, "resource": true}

// tokenExchange serves the token exchange grant.
func (h *Handler) tokenExchange(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (tokenResponse, error) {
	ctx := r.Context()
	// What the standard exchange does not serve is refused before anything
	// is read, in Keycloak's order.
	for _, p := range []string{"requested_subject", "requested_issuer", "subject_issuer"} {
		if form.Has(p) {
			return tokenResponse{}, badRequest("invalid_request", "Parameter '"+p+"' is not supported for standard token exchange")
		}
	}
	switch {
	case c.Attributes[attrStandardExchange] != "true":
		return tokenResponse{}, badRequest("invalid_request", "Standard token exchange is not enabled for the requested client")
	case form.Get("subject_token") == "":
		return tokenResponse{}, badRequest("invalid_request", "Parameter 'subject_token' required for standard token exchange")
	case form.Get("subject_token_type") == "":
		return tokenResponse{}, badRequest("invalid_request", "Parameter 'subject_token_type' required for standard token exchange")
	case form.Get("subject_token_type") != tokenTypeAccess:
		return tokenResponse{}, badRequest("invalid_request", "Parameter 'subject_token' supports access tokens only")
	}
	// The subject token is not presented to a resource here: it is checked
	// as a bearer token, so a DPoP-bound one, whose proof is not here, is
	// refused.
	subject, err := bearer.Validate(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), form.Get("subject_token"), h.Now())
	if errors.Is(err, errTokenInvalid) {
		return tokenResponse{}, badRequest("invalid_request", "Invalid token")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	requested, err := requestedTokenType(form.Get("requested_token_type"), c)
	if err != nil {
		return tokenResponse{}, err
	}
	audience, err := h.exchangeAudience(r, rl, form["audience"])
	if err != nil {
		return tokenResponse{}, err
	}
	if c.PublicClient {
		return tokenResponse{}, badRequest("invalid_client", "Public client is not allowed to exchange token")
	}
	// The requester must be the token's holder or one of its audiences: a
	// client cannot trade a token that was never meant for it.
	if subject.Claims.Azp != c.ClientID && !subject.Claims.HasAudience(c.ClientID) {
		return tokenResponse{}, oauthErr(http.StatusForbidden, "access_denied", "Client is not within the token audience")
	}
	// The scope is the requester's own: its default scopes and the optional
	// ones asked for, never one it does not have (downscoping only).
	scopes, err := h.resolveScopes(ctx, rl, c, form.Get("scope"))
	if err != nil {
		return tokenResponse{}, err
	}
	us := subject.UserSession
	if requested == tokenTypeRefresh {
		// A service account's token rests on a transient session, which no
		// refresh token can outlive.
		if us.Offline || !subject.HasSession {
			return tokenResponse{}, badRequest("invalid_request", "Refresh token not valid as requested_token_type because creating a new session is needed")
		}
		if scopes.Offline {
			return tokenResponse{}, badRequest("invalid_request", "Scope offline_access not allowed for token exchange")
		}
	}
	scopes.Offline = us.Offline
	if requested == tokenTypeID {
		scopes.OpenID = true // the ID token is what was asked for
	}
	now := sessionClock(h.Now())
	if !subject.HasSession {
		// A service account's token: the exchange, like the client
		// credentials grant, issues from a transient session that nothing
		// stores; the token carries no sid, and bearer.Check accepts it as
		// it does the service account's own.
		us = session.UserSession{RealmID: rl.ID, UserID: subject.User.ID, Started: now, LastRefresh: now, AuthTime: now,
			AuthMethod: "openid-connect", Notes: map[string]string{"client_id": c.ClientID, "clientHost": clientIP(r), "clientAddress": clientIP(r)}}
		cs := session.ClientSession{ClientID: c.ID, Started: now, Timestamp: now, Notes: us.Notes}
		return h.finishExchange(ctx, r, issued{realm: rl, client: c, user: subject.User, us: us, cs: cs, scopes: scopes,
			acr: "1", audience: audience, subjectClient: subject.Claims.Azp, requestedType: requested})
	}
	// The requester joins the subject's session, so what it receives is
	// checked, refreshed and ended with that session.
	var cs session.ClientSession
	err = h.Store.InTx(ctx, func(tx *store.DB) error {
		var err error
		cs, err = tx.GetClientSession(ctx, us.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			cs = session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID, Offline: us.Offline,
				Started: now, Timestamp: now, Scope: form.Get("scope")}
			return tx.CreateClientSession(ctx, cs)
		}
		return err
	})
	if err != nil {
		return tokenResponse{}, err
	}
	return h.finishExchange(ctx, r, issued{realm: rl, client: c, user: subject.User, us: us, cs: cs, scopes: scopes,
		refresh: requested == tokenTypeRefresh, acr: "1", audience: audience, subjectClient: subject.Claims.Azp,
		requestedType: requested})
}

// finishExchange issues x's tokens and shapes the exchange's response.
func (h *Handler) finishExchange(ctx context.Context, r *http.Request, x issued) (tokenResponse, error) {
	requested := x.requestedType
	resp, err := h.issueTokens(ctx, r, x)
	if err != nil {
		return tokenResponse{}, err
	}
	if requested == tokenTypeID {
		// RFC 8693 §2.2.1: the issued token travels in access_token; an ID
		// token is no bearer credential, hence token_type N_A.
		resp.AccessToken, resp.IDToken, resp.TokenType = resp.IDToken, "", "N_A"
	}
	resp.IssuedTokenType = requested
	return resp, nil
}

// requestedTokenType is the token type the exchange issues: an access token
// unless another is asked for; a refresh token only for a client that uses
// refresh tokens and allows them from an exchange.
func requestedTokenType(v string, c client.Client) (string, error) {
	switch v {
	case "":
		return tokenTypeAccess, nil
	case tokenTypeAccess, tokenTypeID:
		return v, nil
	case tokenTypeRefresh:
		if mode := c.Attributes[attrExchangeRefresh]; useRefreshTokens(c) && mode != "" && mode != "NO" {
			return v, nil
		}
	}
	// saml2 is Keycloak's too, for SAML clients, which Gatehouse does not serve.
	return "", badRequest("invalid_request", "requested_token_type unsupported")
}

// exchangeAudience resolves the audience parameters to enabled clients of
// the realm, by clientId. A name no client of the realm has (another realm's
// client, say) is refused.
func (h *Handler) exchangeAudience(r *http.Request, rl realm.Realm, names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		if name == "" {
			continue
		}
		target, err := h.Store.GetClientByClientID(r.Context(), rl.ID, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, badRequest("invalid_client", "Audience not found")
		}
		if err != nil {
			return nil, err
		}
		if !target.Enabled {
			return nil, badRequest("invalid_client", "Client disabled")
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// errAudienceMissing is the refusal of a requested audience the token would
// not carry.
func errAudienceMissing(missing []string) error {
	return badRequest("invalid_request", "Requested audience not available: "+strings.Join(missing, ", "))
}

// exchangeEvent adds a token exchange's details to its event.
func exchangeEvent(d map[string]string, x issued) {
	d[events.DetailAudience] = strings.Join(x.audience, " ")
	d[events.DetailRequestedTokenType] = x.requestedType
	d[events.DetailSubjectTokenClientID] = x.subjectClient
}

// exchangeEventError is Keycloak's event error for an exchange refused with
// desc, where it differs from the error code (ok false: use the general rule).
func exchangeEventError(desc string) (string, bool) {
	switch desc {
	case "Audience not found":
		return "client_not_found", true
	case "Client disabled":
		return "client_disabled", true
	case "Client is not within the token audience":
		return "not_allowed", true
	case "Invalid token":
		return "invalid_token", true
	case "Public client is not allowed to exchange token":
		return "invalid_client", true
	}
	return "", false
}
