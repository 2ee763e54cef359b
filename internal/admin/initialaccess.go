package admin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// initialAccessRoutes serves the realm's initial access tokens: each lets
// its holder register up to count clients through the client registration
// service until it expires. The token is shown once, when it is made.
func (h *Handler) initialAccessRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/clients-initial-access"
	h.handle(mux, "GET "+base, "view-clients", h.listInitialAccess)
	h.handle(mux, "POST "+base, "manage-clients", h.createInitialAccess)
	h.handle(mux, "DELETE "+base+"/{id}", "manage-clients", h.deleteInitialAccess)
}

// initialAccessRep is Keycloak's ClientInitialAccessPresentation.
type initialAccessRep struct {
	ID             string `json:"id"`
	Token          string `json:"token,omitempty"`
	Timestamp      int64  `json:"timestamp"`
	Expiration     int    `json:"expiration"`
	Count          int    `json:"count"`
	RemainingCount int    `json:"remainingCount"`
}

func initialAccessFromStore(a store.InitialAccess) initialAccessRep {
	return initialAccessRep{ID: a.ID, Timestamp: a.Timestamp, Expiration: a.Expiration, Count: a.Count, RemainingCount: a.RemainingCount}
}

func (h *Handler) listInitialAccess(rq *Request) error {
	as, err := h.Store.ListInitialAccess(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	out := make([]initialAccessRep, 0, len(as))
	for _, a := range as {
		out = append(out, initialAccessFromStore(a))
	}
	return rq.JSON(out)
}

// createInitialAccess is POST with Keycloak's ClientInitialAccessCreatePresentation:
// expiration in seconds (absent: 0, never) and count (absent: 1).
func (h *Handler) createInitialAccess(rq *Request) error {
	var in struct {
		Expiration *int `json:"expiration"`
		Count      *int `json:"count"`
	}
	if err := rq.decode(&in); err != nil {
		return err
	}
	a := store.InitialAccess{ID: store.NewID(), RealmID: rq.Realm.ID, Timestamp: rq.Now().Unix(), Count: 1}
	if in.Expiration != nil {
		a.Expiration = *in.Expiration
	}
	if in.Count != nil {
		a.Count = *in.Count
	}
	if a.Expiration < 0 {
		return badRequest("Expiration must not be negative")
	}
	if a.Count < 0 {
		return badRequest("Count must not be negative")
	}
	a.RemainingCount = a.Count
	ctx := rq.R.Context()
	// A client registered with the token may have a service account, which
	// holds the realm's default roles: only who could confer them may hand
	// out that power.
	if err := rq.requireServiceAccount(ctx); err != nil {
		return err
	}
	raw, err := h.signRegistrationToken(ctx, rq.Realm,
		token.InitialAccess(a.ID, h.URLs.RealmURL(rq.R, rq.Realm.Name), a.Timestamp, a.Expiration))
	if err != nil {
		return err
	}
	if err := h.Store.CreateInitialAccess(ctx, a); err != nil {
		return err
	}
	out := initialAccessFromStore(a)
	out.Token = raw
	rq.W.Header().Set("Location", rq.URL("/clients-initial-access/"+a.ID))
	return web.WriteJSON(rq.W, http.StatusCreated, out)
}

func (h *Handler) deleteInitialAccess(rq *Request) error {
	if err := h.Store.DeleteInitialAccess(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id")); err != nil {
		return err
	}
	return rq.NoContent()
}

// signRegistrationToken signs the claims of an initial or registration
// access token with the realm's active HS512 key. It is the one place
// either kind of token is made, for the admin API and the registration
// service alike.
func (h *Handler) signRegistrationToken(ctx context.Context, rl realm.Realm, claims map[string]any) (string, error) {
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return "", err
	}
	k, ok := keys.Active(ks, token.RegistrationAlg)
	if !ok {
		return "", fmt.Errorf("realm %q has no active %s key for registration tokens", rl.Name, token.RegistrationAlg)
	}
	return token.Sign(claims, k)
}
