package admin

import "net/http"

func (h *Handler) sessionRoutes(mux *http.ServeMux) {}
