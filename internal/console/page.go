package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// notices are the texts a page shows after an action redirected to it; the
// URL carries only the key, so no text of the URL is ever shown.
var notices = map[string]string{
	"saved":       "Your changes have been saved.",
	"imported":    "The settings were imported.",
	"created":     "Created.",
	"deleted":     "Deleted.",
	"signed-out":  "Signed out.",
	"revoked":     "Access revoked.",
	"regenerated": "A new secret was generated. The old one no longer works.",
	"assigned":    "Assigned.",
	"removed":     "Removed.",
	"password":    "The password has been set.",
	"joined":      "Added to the group.",
	"left":        "Removed from the group.",
	"linked":      "The identity provider has been linked.",
	"unlinked":    "The link has been removed.",

	"users-unlinked": "The imported users were unlinked from the provider; they are local users now.",
	"users-removed":  "The users imported from the provider were removed.",

	"user-events-cleared":  "The user events have been cleared.",
	"admin-events-cleared": "The admin events have been cleared.",
}

// view starts the data of a page in nav section nav and tab tab.
func (q *rq) view(title, nav, tab string) *view {
	v := &view{
		Title:      title,
		Console:    q.h.consolePath(q.r, q.login.Name),
		Resources:  q.h.resources(q.r),
		CSRF:       q.sess.CSRF,
		User:       q.admin.Username,
		LoginRealm: q.login.Name,
		Realm:      q.target,
		Nav:        nav,
		Tab:        tab,
		Notice:     notices[q.r.URL.Query().Get("notice")],
		perms:      q.perms,
	}
	// The realm switcher lists what GET /admin/realms lists.
	var realms []rep.Realm
	if err := q.get("/admin/realms?briefRepresentation=true", &realms); err == nil {
		for _, x := range realms {
			v.Realms = append(v.Realms, x.Realm)
		}
		slices.Sort(v.Realms)
	}
	return v
}

// render writes a console page.
func (q *rq) render(status int, name string, v *view) error {
	q.h.render(q.w, q.r, status, name, v)
	return nil
}

// redirect answers 303 See Other to path (a URL path the console built),
// with a notice for the next page.
func (q *rq) redirect(path, notice string) error {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "notice=" + url.QueryEscape(notice)
	}
	pageHeaders(q.w)
	q.w.Header().Set("Location", path)
	q.w.WriteHeader(http.StatusSeeOther)
	return nil
}

// realmURL is the URL path of a page of the page's realm.
func (q *rq) realmURL(p string) string {
	return q.h.consolePath(q.r, q.login.Name) + "/" + url.PathEscape(q.target) + p
}

// post reports whether the request is a form submission (its CSRF token
// already checked by session).
func (q *rq) post() bool { return q.r.Method == http.MethodPost }

// form returns a submitted form field, trimmed.
func (q *rq) form(name string) string { return strings.TrimSpace(q.r.PostForm.Get(name)) }

// present returns a submitted form field, or nil when the form had no
// such field.
func (q *rq) present(name string) *string {
	if !q.r.PostForm.Has(name) {
		return nil
	}
	v := q.form(name)
	return &v
}

// checked reports whether a checkbox was ticked.
func (q *rq) checked(name string) bool { return q.r.PostForm.Get(name) != "" }

// refused shows a form again with the API's (or the form's own) error: the
// status is the API's, the message goes above the form, and next to the
// field it names when it names one.
func (q *rq) refused(v *view, name string, err error) error {
	status, err := failed(v, err)
	if err != nil {
		return err
	}
	return q.render(status, name, v)
}

// failed records an action the API (or the form) refused on v, for the
// page to show above its content; it returns the status to show the page
// with, or err itself when err is no refusal.
func failed(v *view, err error) (int, error) {
	var ae *apiError
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		if v.FieldErrors == nil {
			v.FieldErrors = map[string]string{}
		}
		v.FieldErrors[fe.Field] = fe.Msg
		v.Error = "Please correct the fields marked below."
		return http.StatusBadRequest, nil
	case errors.As(err, &ae):
		v.Error = ae.Message
		if ae.Field != "" || len(ae.Fields) > 0 {
			if v.FieldErrors == nil {
				v.FieldErrors = map[string]string{}
			}
		}
		if ae.Field != "" {
			v.FieldErrors[ae.Field] = ae.Message
		}
		for f, msg := range ae.Fields {
			v.FieldErrors[f] = msg
		}
		return ae.Status, nil
	}
	return 0, err
}

// fieldError is a form field the console itself could not read.
type fieldError struct{ Field, Msg string }

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// str dereferences an optional string of a representation.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// boolean dereferences an optional boolean of a representation.
func boolean(p *bool) bool { return p != nil && *p }

func ptr[T any](v T) *T { return &v }
