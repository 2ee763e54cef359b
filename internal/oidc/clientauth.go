package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// dummySecret is compared against when the client is unknown, so an unknown
// client_id costs the same as a wrong secret and cannot be told apart by timing.
const dummySecret = "gatehouse-no-such-client-secret-0000000000000000"

// authenticateClient identifies and authenticates the calling client the
// way Keycloak's client-secret authenticator does: HTTP Basic
// (client_secret_basic, credentials form-urlencoded before base64 per RFC
// 6749 §2.3.1) or client_id and client_secret in the body
// (client_secret_post); public clients name themselves with client_id only.
func (h *Handler) authenticateClient(ctx context.Context, r *http.Request, form url.Values, rl realm.Realm) (client.Client, error) {
	id, secret, basic, err := basicCredentials(r)
	if err != nil {
		return client.Client{}, errInvalidClient
	}
	if basic {
		if form.Get("client_secret") != "" || form.Get("client_assertion") != "" {
			return client.Client{}, badRequest("invalid_request", "Multiple client authentication methods")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return client.Client{}, badRequest("invalid_request", "client_id does not match the authorization header")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if form.Get("client_assertion") != "" || form.Get("client_assertion_type") != "" {
		if secret != "" {
			return client.Client{}, badRequest("invalid_request", "Multiple client authentication methods")
		}
		return h.authenticateAssertion(ctx, r, form, rl)
	}
	if id == "" {
		return client.Client{}, badRequest("invalid_client", "Missing client_id parameter")
	}
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		subtle.ConstantTimeCompare([]byte(secret), []byte(dummySecret))
		return client.Client{}, errInvalidClient
	}
	if err != nil {
		return client.Client{}, err
	}
	if c.BearerOnly {
		return client.Client{}, badRequest("invalid_client", "Bearer-only not allowed")
	}
	if c.PublicClient {
		// A public client has no secret, so one presenting a secret is not
		// the client it names (SECURITY.md T9). Keycloak ignores the secret;
		// we refuse it like any wrong credential. An empty Basic password
		// ("client:", as x/oauth2 sends for public clients) is no secret.
		if secret != "" {
			return client.Client{}, errInvalidClient
		}
		return c, nil
	}
	if c.ClientAuthenticatorType != "" && c.ClientAuthenticatorType != "client-secret" {
		return client.Client{}, errInvalidClient
	}
	if secret == "" {
		return client.Client{}, oauthErr(http.StatusUnauthorized, "unauthorized_client", "Client secret not provided in request")
	}
	if !c.SecretMatches(secret, h.Now()) {
		return client.Client{}, errInvalidClient
	}
	return c, nil
}

// checkClientPolicies runs the realm's client policies on a client that has
// authenticated (clientpolicy.Set.OnAuthenticate).
func checkClientPolicies(rl realm.Realm, c client.Client) error {
	set, err := clientpolicy.FromRealm(rl.ClientProfiles, rl.ClientPolicies)
	if err != nil {
		return err
	}
	var pe *clientpolicy.Error
	if err := set.OnAuthenticate(c); errors.As(err, &pe) {
		return oauthErr(http.StatusUnauthorized, pe.Code, pe.Description)
	}
	return nil
}

// authClient is authenticateClient for the endpoints: a 401 answered to a
// client that tried HTTP Basic carries the challenge RFC 6749 §5.2 requires
// ("WWW-Authenticate" matching the scheme the client used; SECURITY.md T5).
func (h *Handler) authClient(w http.ResponseWriter, r *http.Request, form url.Values, rl realm.Realm) (client.Client, error) {
	c, err := h.authenticateClient(r.Context(), r, form, rl)
	if err == nil {
		err = checkClientPolicies(rl, c)
	}
	var we *web.Error
	if err != nil && errors.As(err, &we) && we.Status == http.StatusUnauthorized {
		if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Basic") {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+rl.Name+`"`)
		}
	}
	return c, err
}

// basicCredentials reads an HTTP Basic authorization header. ok is false
// when there is none; a malformed one is an error.
func basicCredentials(r *http.Request) (id, secret string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	if len(rest) > 4096 {
		return "", "", true, errors.New("authorization header too long")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", true, err
	}
	user, pass, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", true, errors.New("no colon in basic credentials")
	}
	if id, err = url.QueryUnescape(user); err != nil {
		return "", "", true, err
	}
	if secret, err = url.QueryUnescape(pass); err != nil {
		return "", "", true, err
	}
	return id, secret, true, nil
}
