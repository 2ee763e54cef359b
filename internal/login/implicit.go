package login

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The implicit and hybrid flows (OpenID Connect Core 3.2 and 3.3), for a
// client that enables implicitFlowEnabled: the authorization response itself
// carries an access token, an ID token, or both, beside or instead of the
// code. Tokens travel in the fragment (or a form post), never in the query,
// and carry no refresh token.

// responseTypes is the request's response types; a login stored before the
// type was recorded asked for a code.
func (req authRequest) responseTypes() []string {
	if req.ResponseType == "" {
		return []string{"code"}
	}
	return strings.Fields(req.ResponseType)
}

func (req authRequest) wants(t string) bool { return slices.Contains(req.responseTypes(), t) }

// checkImplicit applies the rules of a response type with tokens: the
// client must enable the implicit flow, and a nonce is required, as in
// Keycloak, whether the ID token or only an access token is asked for (the
// nonce is what binds a token in a fragment to the request that asked).
func checkImplicit(c client.Client, nonce string) (code, desc string) {
	if !c.ImplicitFlowEnabled {
		return "unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client."
	}
	if nonce == "" {
		return "invalid_request", "Missing parameter: nonce"
	}
	return "", ""
}

// frontTokens mints the tokens an implicit or hybrid response carries and
// returns them as response parameters: access_token, token_type and
// expires_in when "token" was asked for, id_token (with at_hash and c_hash
// of what travels beside it) when "id_token" was.
func (h *Handler) frontTokens(ctx context.Context, r *http.Request, rl realm.Realm, c client.Client, st loginState,
	u user.User, us session.UserSession, cs session.ClientSession, acr, code string) ([]ui.Param, error) {
	scopes, err := grant.ResolveScopes(ctx, h.Store, rl, c, st.Req.Scope)
	if err != nil {
		return nil, err
	}
	wantsID := st.Req.wants("id_token")
	scopes.OpenID = scopes.OpenID || wantsID // an ID token is what "id_token" asks for
	scopes.Offline = false                   // never an offline session from the front channel
	x := grant.Issue{Realm: rl, Client: c, User: u, UserSession: us, ClientSession: cs, Scopes: scopes, ACR: acr,
		Nonce: st.Req.Nonce, NoAccess: !st.Req.wants("token"), Issuer: h.URLs.RealmURL(r, rl.Name),
		Origins: c.AllowedOrigins(h.URLs.Base(r)), Now: h.Now()}
	if wantsID {
		x.Code = code
	}
	x.Implicit = code == ""
	m, err := grant.Mint(ctx, h.Store, h.Log, x)
	if err != nil {
		return nil, err
	}
	var out []ui.Param
	if m.Access != "" {
		out = append(out,
			ui.Param{Name: "access_token", Value: m.Access},
			ui.Param{Name: "token_type", Value: "Bearer"},
			ui.Param{Name: "expires_in", Value: strconv.FormatInt(m.AccessExp-h.now(), 10)})
	}
	if wantsID {
		out = append(out, ui.Param{Name: "id_token", Value: m.ID})
	}
	return out, nil
}
