package admin

import "net/http"

// userSyncRoutes serves the sync actions; see usersync once it lands.
func (h *Handler) userSyncRoutes(mux *http.ServeMux) {}
