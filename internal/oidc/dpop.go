package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// proofKey carries a token request's checked DPoP proof from the token
// endpoint to issueTokens, whichever grant runs in between.
type proofKey struct{}

// tokenProof checks the DPoP proof (RFC 9449 §5) of a token request, when
// one is sent or the client requires one (client attribute
// dpop.bound.access.tokens), and returns r carrying it: the tokens issued
// for r are then bound to its key. No nonce is asked for (§8 is optional).
func (h *Handler) tokenProof(r *http.Request, rl realm.Realm, c client.Client) (*http.Request, error) {
	if r.Header.Values("DPoP") == nil && c.Attributes[token.AttrDPoPBound] != "true" {
		return r, nil
	}
	p, err := bearer.Proof(r.Context(), h.Store, rl.ID, r, h.URLs.RequestURL(r), "", h.Now())
	var refused *token.ProofError
	if errors.As(err, &refused) {
		return r, badRequest("invalid_dpop_proof", refused.Msg)
	}
	if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), proofKey{}, p)), nil
}

// proofJkt is the thumbprint of the DPoP key r proved, "" without a proof.
func proofJkt(r *http.Request) string {
	p, _ := r.Context().Value(proofKey{}).(token.Proof)
	return p.Jkt
}

// checkRefreshBinding refuses a refresh token bound to a DPoP key (a public
// client's) unless the request proved that same key.
func checkRefreshBinding(r *http.Request, rt token.Parsed) error {
	bound := token.BoundKey(rt.Raw)
	if bound == "" {
		return nil
	}
	switch jkt := proofJkt(r); {
	case jkt == "":
		return invalidGrant("DPoP proof is missing")
	case jkt != bound:
		return invalidGrant("DPoP confirmation doesn't match DPoP proof")
	}
	return nil
}

// checkCodeDPoP enforces the dpop_jkt an authorization request bound its
// code to (RFC 9449 §10): the token request must prove that very key.
func checkCodeDPoP(r *http.Request, want string) error {
	if want == "" {
		return nil
	}
	switch jkt := proofJkt(r); {
	case jkt == "":
		return badRequest("invalid_request", "DPoP Proof missing")
	case jkt != want:
		return badRequest("invalid_request", "DPoP Proof public key thumbprint does not match dpop_jkt")
	}
	return nil
}
