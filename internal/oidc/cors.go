package oidc

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// cors lets client c's web origins read the answer (web.CORS).
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, c client.Client) {
	web.CORS(w, r, c.AllowedOrigins(h.URLs.Base(r)))
}

// preflight answers CORS preflight requests on the protocol endpoints.
var preflight = web.Preflight("POST, GET, OPTIONS", "Authorization, Content-Type, DPoP")
