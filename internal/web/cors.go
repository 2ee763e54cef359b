package web

import (
	"net/http"
	"slices"
)

// CORS lets the page at the request's Origin read the response when allowed
// holds that origin or "*" (an endpoint passes the client's or the token's
// allowed origins). The origin is echoed with credentials allowed, as
// Keycloak answers. Any other origin gets no CORS headers, so the browser
// withholds the response from the page. The first decision on a response
// stands: a later call does not widen it.
func CORS(w http.ResponseWriter, r *http.Request, allowed []string) {
	origin := r.Header.Get("Origin")
	if origin == "" || w.Header().Get("Access-Control-Allow-Origin") != "" {
		return
	}
	if !slices.Contains(allowed, origin) && !slices.Contains(allowed, "*") {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Add("Vary", "Origin")
}

// Preflight answers CORS preflight requests with the methods and headers
// that may be sent. Which origin may read an answer is decided by CORS on
// the request itself, where the client or token is known, so the preflight
// lets any origin send.
func Preflight(methods, headers string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Methods", methods)
			w.Header().Set("Access-Control-Allow-Headers", headers)
			w.Header().Set("Access-Control-Max-Age", "3600")
			w.Header().Add("Vary", "Origin")
		}
		w.WriteHeader(http.StatusOK)
	}
}
