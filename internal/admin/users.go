package admin

import "net/http"

func (h *Handler) userRoutes(mux *http.ServeMux) {}
