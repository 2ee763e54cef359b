package admin

import "net/http"

func (h *Handler) roleRoutes(mux *http.ServeMux) {}
