package login

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

const (
	// maxFormBytes bounds a form body; the largest legitimate one (an
	// authorization request sent by POST) is a few kilobytes.
	maxFormBytes = 64 << 10
	// maxParamBytes bounds any one parameter before it is looked at
	// (CVE-2026-4634: an unbounded scope exhausted Keycloak).
	maxParamBytes = 8 << 10
)

// params is a request's parameters, each at most once.
type params map[string]string

func (p params) get(name string) string { return p[name] }

func (p params) has(name string) bool {
	_, ok := p[name]
	return ok
}

// readParams collects the parameters of a front-channel request: the query
// string, and for a POST the form body too. A name that appears twice,
// whether in one place or across both, is refused: a proxy or a client that
// reads the other copy must never see a different request than we checked
// (CVE-2026-9689, RFC 6749 §3.1).
func readParams(w http.ResponseWriter, r *http.Request, rl *realm.Realm) (params, error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errPage(http.StatusBadRequest, rl, "invalidRequestMessage")
	}
	out := params{}
	add := func(vs url.Values) error {
		for k, v := range vs {
			if _, seen := out[k]; seen || len(v) != 1 {
				return errPage(http.StatusBadRequest, rl, "invalidParameterMessage", k)
			}
			if len(v[0]) > maxParamBytes {
				return errPage(http.StatusBadRequest, rl, "invalidParameterMessage", k)
			}
			out[k] = v[0]
		}
		return nil
	}
	if err := add(query); err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost {
		return out, nil
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errPage(http.StatusBadRequest, rl, "invalidRequestMessage")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errPage(http.StatusRequestEntityTooLarge, rl, "invalidRequestMessage")
		}
		return nil, errPage(http.StatusBadRequest, rl, "invalidRequestMessage")
	}
	if err := add(r.PostForm); err != nil {
		return nil, err
	}
	return out, nil
}

// posted is a field of the POST form body alone, never of the query string:
// Keycloak's login forms read their fields so (decodedFormParameters). The
// rate limiter in front counts attempts per username from the body, so a
// username the login form took from the query string would be guessed at
// uncounted (issue 12). Call after readParams, which parsed and vetted the
// body.
func posted(r *http.Request, name string) string { return r.PostForm.Get(name) }
