package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// apiError is an answer of the admin API (or token endpoint) other than
// 2xx: its status and the message Keycloak's error body carries.
type apiError struct {
	Status  int
	Message string
	Field   string // the form field the API named, if any
	// Fields holds each field's message when the API named several (the
	// user profile's {"errors": [...]}), keyed by attribute name.
	Fields map[string]string
}

func (e *apiError) Error() string { return fmt.Sprintf("admin API %d: %s", e.Status, e.Message) }

// response is what an in-process call answered.
type response struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *response) Header() http.Header { return r.header }

func (r *response) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *response) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// forwarded are the request headers that decide the server's public URL
// (web.URLs.Base) or identify the client; an in-process call carries the
// browser's, so issuers and client addresses come out as for the browser.
var forwarded = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto", "User-Agent"}

// call serves one request through h.API in-process. path is below the
// relative path and already escaped; body is sent as is with contentType.
func (h *Handler) call(r *http.Request, method, path, bearer, contentType string, body []byte) (*response, error) {
	req, err := http.NewRequestWithContext(r.Context(), method, path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	req.Host, req.TLS, req.RemoteAddr = r.Host, r.TLS, r.RemoteAddr
	for _, k := range forwarded {
		if v, ok := r.Header[k]; ok {
			req.Header[k] = v
		}
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	res := &response{header: http.Header{}}
	h.API.ServeHTTP(res, req)
	if res.status == 0 {
		res.status = http.StatusOK
	}
	return res, nil
}

// readError turns a refused call into an apiError with the message of
// Keycloak's error bodies ({"errorMessage"}, {"error_description"},
// {"error"}), in words an administrator understands.
func readError(res *response) *apiError {
	var b struct {
		ErrorMessage     string   `json:"errorMessage"`
		Error            string   `json:"error"`
		ErrorDescription string   `json:"error_description"`
		Field            string   `json:"field"`
		Params           []string `json:"params"`
		Errors           []struct {
			Field        string   `json:"field"`
			ErrorMessage string   `json:"errorMessage"`
			Params       []string `json:"params"`
		} `json:"errors"`
	}
	json.Unmarshal(res.body.Bytes(), &b)
	e := &apiError{Status: res.status, Field: b.Field}
	for _, fe := range b.Errors {
		if fe.Field == "" || fe.ErrorMessage == "" {
			continue
		}
		if e.Fields == nil {
			e.Fields = map[string]string{}
		}
		if _, seen := e.Fields[fe.Field]; !seen { // the first message of a field is the one shown
			e.Fields[fe.Field] = messageText(fe.ErrorMessage, fe.Params)
		}
	}
	switch {
	case res.status == http.StatusForbidden:
		e.Message = "You do not have permission to do this."
	case res.status == http.StatusUnauthorized:
		e.Message = "Your session has ended. Reload the page to sign in again."
	case b.ErrorMessage != "":
		e.Message = messageText(b.ErrorMessage, b.Params)
	case b.ErrorDescription != "":
		e.Message = b.ErrorDescription
	case len(e.Fields) > 0:
		e.Message = "Please correct the fields marked below."
	case b.Error != "":
		e.Message = b.Error
	default:
		e.Message = http.StatusText(res.status)
	}
	return e
}

// messageText resolves the user profile's message keys the API answers
// with, through the same English texts the login and account pages use;
// params[0] is the attribute's display name. Other messages are text.
func messageText(s string, params []string) string {
	if ui.Text("en", s) == s {
		return s
	}
	args := slices.Clone(params)
	if len(args) > 0 {
		args[0] = ui.Resolve("en", args[0])
	}
	return ui.Text("en", s, args...)
}

// api calls the admin REST API as the signed-in administrator. in, when not
// nil, is sent as JSON; out, when not nil, receives the JSON answer. It
// returns the Location header of a 201, and an *apiError for any answer
// outside 2xx.
func (q *rq) api(method, path string, in, out any) (string, error) {
	var body []byte
	ct := ""
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return "", err
		}
		ct = "application/json"
	}
	res, err := q.h.call(q.r, method, path, q.sess.Access, ct, body)
	if err != nil {
		return "", err
	}
	if res.status < 200 || res.status > 299 {
		return "", readError(res)
	}
	if out != nil && res.body.Len() > 0 {
		if err := json.Unmarshal(res.body.Bytes(), out); err != nil {
			return "", fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return res.header.Get("Location"), nil
}

// get reads an admin API resource into out.
func (q *rq) get(path string, out any) error {
	_, err := q.api(http.MethodGet, path, nil, out)
	return err
}

// adminPath is the admin API path of the page's realm: path segments are
// escaped by the caller with seg.
func (q *rq) adminPath(p string) string {
	return "/admin/realms/" + url.PathEscape(q.target) + p
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// lastSegment is the id at the end of a Location header.
func lastSegment(loc string) string {
	loc = strings.TrimSuffix(loc, "/")
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		loc = loc[i+1:]
	}
	if s, err := url.PathUnescape(loc); err == nil {
		return s
	}
	return loc
}

// tokenCall posts a form to realm's token (or logout) endpoint in-process
// and decodes the JSON answer into out.
func (h *Handler) tokenCall(r *http.Request, realmName, endpoint string, form url.Values, out any) error {
	res, err := h.call(r, http.MethodPost, "/realms/"+url.PathEscape(realmName)+"/protocol/openid-connect/"+endpoint,
		"", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return err
	}
	if res.status < 200 || res.status > 299 {
		return readError(res)
	}
	if out != nil {
		if err := json.NewDecoder(io.LimitReader(&res.body, 1<<20)).Decode(out); err != nil {
			return fmt.Errorf("decode %s answer: %w", endpoint, err)
		}
	}
	return nil
}
