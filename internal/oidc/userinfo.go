package oidc

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// userinfo serves the OpenID Connect userinfo endpoint (GET and POST).
// Failures are 401 with the reason in WWW-Authenticate (RFC 6750 §3).
func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	pt, err := bearerToken(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+rl.Name+`", error="invalid_request"`)
		return badRequest("invalid_request", "Token must be sent once, in the Authorization header or the form")
	}
	if pt.Raw == "" {
		// RFC 6750 §3.1: a request without any token gets a challenge with
		// no error code (SECURITY.md U1); the body keeps Keycloak's wording.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+rl.Name+`"`)
		return oauthErr(http.StatusUnauthorized, "invalid_request", "Token not provided")
	}
	lt, err := h.checkAccessToken(r.Context(), r, rl, pt)
	if errors.Is(err, errTokenInvalid) {
		header, code, desc := bearer.Challenge(rl.Name, err)
		w.Header().Set("WWW-Authenticate", header)
		return oauthErr(http.StatusUnauthorized, code, desc)
	}
	if err != nil {
		return err
	}
	h.cors(w, r, lt.Client)
	in, err := h.tokenInput(r.Context(), r, rl, lt)
	if err != nil {
		return err
	}
	claims := token.Userinfo(in)
	w.Header().Set("Cache-Control", "no-store")
	alg := token.UserinfoAlg(lt.Client)
	if alg == "" {
		return web.WriteJSON(w, http.StatusOK, claims)
	}
	// OIDC Core 5.3.2: a signed response carries iss and aud.
	claims["iss"] = h.URLs.RealmURL(r, rl.Name)
	claims["aud"] = lt.Client.ClientID
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	k, err := h.signingKey(r.Context(), rl, &ks, alg)
	if err != nil {
		return err
	}
	jwt, err := token.Sign(claims, k)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, err = w.Write([]byte(jwt))
	return err
}
