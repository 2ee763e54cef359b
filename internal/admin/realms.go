package admin

import "net/http"

func (h *Handler) realmRoutes(mux *http.ServeMux) {}
