package login

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// brokerToken serves GET /broker/{alias}/token: the upstream tokens kept
// on the caller's federated identity (the provider stores tokens), for an
// access token whose user holds the broker client's read-token role.
func (h *Handler) brokerToken(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	answer := func(status int, msg string) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return json.NewEncoder(w).Encode(map[string]string{"errorMessage": msg})
	}
	pt := bearer.FromRequest(r)
	if pt.Raw == "" || pt.DPoP {
		return answer(http.StatusUnauthorized, "Invalid token")
	}
	tok, err := bearer.Validate(r.Context(), h.Store, rl, h.URLs.RealmURL(r, rl.Name), pt.Raw, h.Now())
	if errors.Is(err, bearer.ErrInvalid) {
		return answer(http.StatusUnauthorized, "Invalid token")
	}
	if err != nil {
		return err
	}
	alias := r.PathValue("alias")
	p, err := h.Store.GetIdentityProvider(r.Context(), rl.ID, alias)
	if errors.Is(err, store.ErrNotFound) {
		return answer(http.StatusBadRequest, "Identity Provider ["+alias+"] not found.")
	}
	if err != nil {
		return err
	}
	allowed, err := h.holdsClientRole(r, rl.ID, tok.User.ID, "broker", "read-token")
	if err != nil {
		return err
	}
	if !allowed {
		return answer(http.StatusForbidden, "Client ["+tok.Client.ClientID+"] not authorized to retrieve tokens from identity provider ["+alias+"].")
	}
	if !p.StoreToken {
		return answer(http.StatusBadRequest, "Identity Provider ["+alias+"] does not support this operation.")
	}
	fi, err := h.Store.GetFederatedIdentity(r.Context(), rl.ID, tok.User.ID, alias)
	if errors.Is(err, store.ErrNotFound) || (err == nil && fi.Token == "") {
		return answer(http.StatusBadRequest, "User ["+tok.User.ID+"] is not associated with identity provider ["+alias+"].")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write([]byte(fi.Token))
	return err
}

// holdsClientRole says whether the user holds clientID's role, directly,
// through a group or a composite.
func (h *Handler) holdsClientRole(r *http.Request, realmID, userID, clientID, roleName string) (bool, error) {
	roles, err := h.Store.EffectiveRoles(r.Context(), realmID, userID)
	if err != nil {
		return false, err
	}
	for _, x := range roles {
		if x.ClientClientID == clientID && x.Name == roleName {
			return true, nil
		}
	}
	return false, nil
}
