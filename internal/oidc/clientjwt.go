package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// jwtBearerAssertion is RFC 7523's client assertion type.
const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime bounds how far in the future an assertion's exp may
// be, so the single-use record of its jti need not be kept for long.
const maxAssertionLifetime = 3600

// assertionClaims are the RFC 7523 §3 claims of a client assertion.
type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp int64           `json:"exp"`
	Nbf int64           `json:"nbf"`
	Iat int64           `json:"iat"`
	Jti string          `json:"jti"`
}

func (c assertionClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(c.Aud, &many)
	return many
}

// assertionAlgs are the algorithms a client assertion may be signed with:
// public-key ones for private_key_jwt, HMAC for client_secret_jwt.
var assertionAlgs = append(slices.Clone(keys.AsymmetricAlgorithms), keys.HMACAlgorithms...)

var assertionJOSEAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(assertionAlgs))
	for i, a := range assertionAlgs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}()

// errKeyLoad answers an assertion for which no key of the client was found.
var errKeyLoad = badRequest("invalid_client", "Unable to load public key")

var errAssertion = oauthErr(http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")

// authenticateAssertion authenticates a client by a signed JWT (RFC 7523):
// client_secret_jwt (HMAC with the client secret, Keycloak's
// "client-secret-jwt") or private_key_jwt (the client's registered
// certificate or JWKS, Keycloak's "client-jwt"). The algorithm is pinned to
// what the client's key can produce, and each assertion's jti is accepted
// once only (a replayed assertion was CVE-2020-15222 in another server).
func (h *Handler) authenticateAssertion(ctx context.Context, r *http.Request, form url.Values, rl realm.Realm) (client.Client, error) {
	if form.Get("client_assertion_type") != jwtBearerAssertion {
		return client.Client{}, badRequest("invalid_client", "Parameter client_assertion_type is missing or has wrong value")
	}
	raw := form.Get("client_assertion")
	if len(raw) > 8192 {
		return client.Client{}, errAssertion
	}
	// The client is named by the assertion itself; read it before verifying
	// only to find the key, and trust nothing else from it until verified.
	unverified, err := jose.ParseSigned(raw, assertionJOSEAlgs)
	if err != nil || len(unverified.Signatures) != 1 {
		return client.Client{}, errAssertion
	}
	var peek assertionClaims
	if err := json.Unmarshal(unverified.UnsafePayloadWithoutVerification(), &peek); err != nil || peek.Sub == "" {
		return client.Client{}, errAssertion
	}
	if id := form.Get("client_id"); id != "" && id != peek.Sub {
		return client.Client{}, errAssertion
	}
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, peek.Sub)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!c.Enabled || c.PublicClient || c.BearerOnly)) {
		return client.Client{}, errAssertion
	}
	if err != nil {
		return client.Client{}, err
	}
	alg := unverified.Signatures[0].Header.Algorithm
	var key any
	switch c.ClientAuthenticatorType {
	case "client-secret-jwt":
		want := c.Attributes["token.endpoint.auth.signing.alg"]
		if want == "" {
			want = "HS256"
		}
		if alg != want || !strings.HasPrefix(alg, "HS") || c.Secret == "" {
			return client.Client{}, errAssertion
		}
		key = []byte(c.Secret)
	case "client-jwt":
		if strings.HasPrefix(alg, "HS") {
			return client.Client{}, errAssertion // never an HMAC over a public key
		}
		if want := c.Attributes["token.endpoint.auth.signing.alg"]; want != "" && alg != want {
			return client.Client{}, errAssertion
		}
		key, err = h.Keys.Key(ctx, c, unverified.Signatures[0].Header.KeyID, alg)
		if err != nil {
			// No key (none registered, none with the assertion's kid, or the
			// key set could not be fetched) is answered as Keycloak does.
			h.Log.Info("client key not found", "realm", rl.Name, "client", c.ClientID, "err", err)
			return client.Client{}, errKeyLoad
		}
	default:
		return client.Client{}, errAssertion
	}
	payload, err := unverified.Verify(key)
	if err != nil {
		return client.Client{}, errAssertion
	}
	var claims assertionClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return client.Client{}, errAssertion
	}
	now := sessionClock(h.Now())
	issuer := h.URLs.RealmURL(r, rl.Name)
	okAud := slices.ContainsFunc(claims.audiences(), func(a string) bool {
		return a == issuer || a == issuer+"/protocol/openid-connect/token" || strings.HasPrefix(a, issuer+"/protocol/openid-connect/")
	})
	switch {
	case claims.Iss != c.ClientID || claims.Sub != c.ClientID, !okAud, claims.Jti == "",
		claims.Exp == 0 || now >= claims.Exp || claims.Exp > now+maxAssertionLifetime,
		claims.Nbf != 0 && now < claims.Nbf:
		return client.Client{}, errAssertion
	}
	fresh, err := h.Store.ConsumeOnce(ctx, rl.ID, "assertion:"+c.ID+":"+claims.Jti, claims.Exp)
	if err != nil {
		return client.Client{}, err
	}
	if !fresh {
		return client.Client{}, oauthErr(http.StatusUnauthorized, "invalid_client", "Token reuse detected")
	}
	return c, nil
}
