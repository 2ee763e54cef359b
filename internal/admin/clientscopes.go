package admin

import "net/http"

func (h *Handler) clientScopeRoutes(mux *http.ServeMux) {}
