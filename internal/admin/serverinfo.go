package admin

import "net/http"

func (h *Handler) serverInfoRoutes(mux *http.ServeMux) {}
