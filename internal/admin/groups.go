package admin

import "net/http"

func (h *Handler) groupRoutes(mux *http.ServeMux) {}
