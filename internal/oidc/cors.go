package oidc

import (
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// cors allows a browser client's configured web origins to read the answer.
// Other origins get no CORS headers, so the browser withholds the response.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, c client.Client) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	allowed := c.AllowedOrigins(h.URLs.Base(r))
	if !slices.Contains(allowed, "*") && !slices.Contains(allowed, origin) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Add("Vary", "Origin")
}

// preflight answers CORS preflight requests on the protocol endpoints.
// Which origin may read the answer is decided per client on the request
// itself, so the preflight only states what may be sent.
func preflight(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
		w.Header().Set("Access-Control-Max-Age", "3600")
		w.Header().Add("Vary", "Origin")
	}
	w.WriteHeader(http.StatusOK)
}
