package oidc

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/uma"
)

// MaxFormBytes bounds a protocol request body: a token parameter as long as
// the longest token Gatehouse issues (introspection, revocation, userinfo),
// and 64 KiB for the rest, which is a few kilobytes in any honest request.
const MaxFormBytes = token.MaxTokenSize + 64<<10

// maxParamBytes bounds any single parameter but a token, checked before any
// expensive work: an oversized scope or username costs nothing to refuse.
const maxParamBytes = 8 << 10

// tokenParams are the parameters that carry a token Gatehouse issued, each
// bounded by token.MaxTokenSize rather than maxParamBytes.
var tokenParams = map[string]bool{"token": true, "access_token": true, "refresh_token": true, "subject_token": true,
	"ticket": true, "rpt": true, "claim_token": true}

// repeatable reports whether a grant may repeat parameter k: a token
// exchange its audience and resource, the uma-ticket grant its permissions.
func repeatable(k, grant string) bool {
	return (multiValued[k] && grant == grantTokenExchange) || (k == "permission" && grant == uma.GrantType)
}

// readForm parses a form-encoded POST body. It refuses other content types,
// oversized bodies and fields, and a parameter sent twice (RFC 6749 §3.1:
// "Request and response parameters MUST NOT be included more than once"),
// so no "first one wins" ambiguity can arise between us and a proxy.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errContentType
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, oauthErr(http.StatusRequestEntityTooLarge, "invalid_request", "Request body too large")
		}
		return nil, badRequest("invalid_request", "Malformed form body")
	}
	if len(r.URL.RawQuery) > 0 {
		// Protocol parameters travel in the body only; a query string could
		// otherwise smuggle a second value past the duplicate check.
		for k := range r.URL.Query() {
			if _, inBody := r.PostForm[k]; inBody {
				return nil, errDuplicated
			}
		}
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && !repeatable(k, r.PostForm.Get("grant_type")) {
			return nil, errDuplicated
		}
		if slices.ContainsFunc(vs, func(v string) bool { return len(v) > maxParamBytes }) && (!tokenParams[k] || len(vs[0]) > token.MaxTokenSize) {
			return nil, badRequest("invalid_request", "Parameter too long")
		}
	}
	return r.PostForm, nil
}
