package login

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// JWT Secured Authorization Response Mode (JARM): in the modes query.jwt,
// fragment.jwt and form_post.jwt the authorization response, success or
// error, travels as one signed JWT in the "response" parameter, carrying
// the parameters as claims beside iss, aud (the client_id) and exp. The
// mode "jwt" means query.jwt for response_type=code and fragment.jwt
// otherwise. Responses are signed, never encrypted.

// attrAuthzEncryptedAlg asks for encrypted authorization responses, which
// are not served: a client that sets it gets no JWT mode.
const attrAuthzEncryptedAlg = "authorization.encrypted.response.alg"

// isJWTMode reports whether mode is a resolved JARM mode.
func isJWTMode(mode string) bool { return baseMode(mode) != mode }

// baseMode is the plain mode a JARM mode delivers its "response" with.
func baseMode(mode string) string {
	switch mode {
	case "query.jwt":
		return "query"
	case "fragment.jwt":
		return "fragment"
	case "form_post.jwt":
		return "form_post"
	}
	return mode
}

// resolveJWTMode turns "jwt" into the mode the response type defaults to:
// fragment.jwt for the implicit and hybrid flows, query.jwt otherwise.
func resolveJWTMode(mode string, implicit bool) string {
	switch {
	case mode != "jwt":
		return mode
	case implicit:
		return "fragment.jwt"
	}
	return "query.jwt"
}

// jwtResponse signs the parameters of an authorization response as the
// JARM "response" JWT, with the key of the client's
// authorization.signed.response.alg (the realm's default otherwise). Its
// lifetime is the realm's access code lifespan.
func (h *Handler) jwtResponse(r *http.Request, rl realm.Realm, req authRequest, params []ui.Param) (string, error) {
	ctx := r.Context()
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, req.ClientID)
	if err != nil {
		return "", err
	}
	alg := token.AuthorizationResponseAlg(rl, c)
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return "", err
	}
	k, err := provision.SigningKey(ctx, h.Store, h.Log, rl, &ks, alg, h.Now())
	if err != nil {
		return "", err
	}
	claims := map[string]any{}
	for _, p := range params {
		claims[p.Name] = p.Value
	}
	claims["iss"] = h.URLs.RealmURL(r, rl.Name)
	claims["aud"] = c.ClientID
	claims["exp"] = h.now() + int64(max(rl.AccessCodeLifespan, 1))
	if req.Scope != "" {
		claims["scope"] = req.Scope
	}
	return token.Sign(claims, k)
}

// jwtParams is the single parameter a JARM response carries.
func jwtParams(jwt string) []ui.Param { return []ui.Param{{Name: "response", Value: jwt}} }
