package oidc

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// oauthError is RFC 6749's error body, which Keycloak writes on every
// protocol endpoint (no error_uri).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func oauthErr(status int, code, desc string) *web.Error {
	return &web.Error{Status: status, Code: web.Code(code), Body: oauthError{Error: code, Description: desc}}
}

func badRequest(code, desc string) *web.Error { return oauthErr(http.StatusBadRequest, code, desc) }

func invalidGrant(desc string) *web.Error { return badRequest("invalid_grant", desc) }

var (
	errInvalidClient = oauthErr(http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
	errContentType   = badRequest("invalid_request", "Content-Type must be application/x-www-form-urlencoded")
	errDuplicated    = badRequest("invalid_request", "duplicated parameter")
)
