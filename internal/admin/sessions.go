package admin

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Keycloak answers "Sesssion not found" (three s, a typo in
// RealmAdminResource); no client matches on the text, so Gatehouse spells it.
var errSessionNotFound = notFound("Session not found")

func (h *Handler) sessionRoutes(mux Mux) {
	// Ends one user session, online or, with isOffline=true, offline, with
	// its client sessions; tokens of the session stop working at once
	// because every token check needs its session.
	h.handle(mux, "DELETE /admin/realms/{realm}/sessions/{session}", "manage-users", func(rq *Request) error {
		err := h.Store.DeleteUserSessionOfKind(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("session"), rq.Bool("isOffline", false))
		if errors.Is(err, store.ErrNotFound) {
			return errSessionNotFound
		}
		if err != nil {
			return err
		}
		return rq.NoContent()
	})
}
