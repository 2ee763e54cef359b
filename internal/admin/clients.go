package admin

import "net/http"

func (h *Handler) clientRoutes(mux *http.ServeMux) {}
