package oidc

import (
	"context"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// attrIntrospectionJWT is the client switch ("Support JWT claim in
// Introspection Response") that lets a caller asking with
// Accept: application/jwt receive the introspected access token as a signed
// JWT in the response's "jwt" field: a resource server handed an opaque or
// lightweight token gets one it can keep and pass on, whose claims are what
// introspection says of the token now.
const attrIntrospectionJWT = "client.introspection.response.allow.jwt.claim.enabled"

// wantsIntrospectionJWT reports whether caller c asked for, and may have,
// the "jwt" field: the Accept header must be exactly application/jwt, as
// Keycloak compares it.
func wantsIntrospectionJWT(r *http.Request, c client.Client) bool {
	return r.Header.Get("Accept") == "application/jwt" && c.Attributes[attrIntrospectionJWT] == "true"
}

// introspectionJWT signs claims, the access token as introspection states
// it, with the key of the caller's access token algorithm (its
// access.token.signed.response.alg, else the realm default): the caller
// verifies it against the realm's JWKS as it would an access token.
func (h *Handler) introspectionJWT(ctx context.Context, rl realm.Realm, c client.Client, claims map[string]any) (string, error) {
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return "", err
	}
	k, err := h.signingKey(ctx, rl, &ks, token.AccessAlg(rl, c))
	if err != nil {
		return "", err
	}
	return token.Sign(claims, k)
}
