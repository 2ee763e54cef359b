package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// view is what every console template receives. Data holds the page's own
// values.
type view struct {
	Title     string
	Console   string // URL path of the console, without the trailing slash
	Resources string // URL path of the static files
	CSRF      string
	User      string // the signed-in administrator's username
	// LoginRealm is the realm the administrator signed in to; Realm is the
	// realm the page is about ("" on the realm list).
	LoginRealm string
	Realm      string
	Realms     []string // the realms the administrator can switch to
	Nav        string   // the sidebar entry of the page
	Tab        string   // the tab of the page, where it has tabs
	Heading    string   // the page's heading when it is not the title
	Tabs       []tabLink
	Back       *link // the list the page belongs to

	Notice      string            // what the last action did
	Error       string            // why the form was refused
	FieldErrors map[string]string // by form field name

	perms          perms
	CanCreateRealm bool
	Data           any
}

// tabLink is one tab of a page with tabs.
type tabLink struct {
	ID, Label, URL string
	Current        bool
}

// link is a link with its text.
type link struct{ Label, URL string }

// tabs builds the tab links of a page from triples of id, path under base
// and label; the tab whose id is current is marked.
func tabs(base, current string, triples ...string) []tabLink {
	var out []tabLink
	for i := 0; i+2 < len(triples); i += 3 {
		out = append(out, tabLink{ID: triples[i], URL: base + triples[i+1], Label: triples[i+2], Current: triples[i] == current})
	}
	return out
}

// Can reports whether the administrator holds admin permission perm over the
// page's realm ("manage-clients"); the page leaves out what the API would
// refuse.
func (v *view) Can(perm string) bool { return v.perms.can(perm) }

// FieldError is the error shown next to form field name, if any.
func (v *view) FieldError(name string) string { return v.FieldErrors[name] }

// RealmURL is the URL path of a page of the page's realm.
func (v *view) RealmURL(p string) string { return v.Console + "/" + url.PathEscape(v.Realm) + p }

// templateFuncs are the helpers console templates may use.
var templateFuncs = template.FuncMap{
	"join": strings.Join,
	"lines": func(s []string) string {
		return strings.Join(s, "\n")
	},
	"date": formatDate,
	"day": func(ms int64) string {
		if ms <= 0 {
			return "—"
		}
		return time.UnixMilli(ms).UTC().Format("2006-01-02")
	},
	"text":        displayText,
	"pathEscape":  url.PathEscape,
	"queryEscape": url.QueryEscape,
	// field is the data of the "field" templates: a form field's name,
	// label and value, and its error.
	"field": func(v *view, name, label string, value any) formField {
		return formField{Name: name, Label: label, Value: value, Error: v.FieldError(name)}
	},
	"withHelp": func(f formField, help string) formField { f.Help = help; return f },
	"required": func(f formField, on bool) formField { f.Required = on; return f },
	"list":     func(xs ...any) []any { return xs },
	"pretty":   prettyJSON,
}

// formatDate formats epoch milliseconds as UTC; 0 is no date.
func formatDate(ms int64) string {
	if ms <= 0 {
		return "—"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05 UTC")
}

// builtinTexts are Keycloak's admin console texts of the message
// references its built-in roles and clients carry as names and
// descriptions ("${role_view-users}").
var builtinTexts = map[string]string{
	"role_uma_authorization": "Obtain permissions",
	"role_offline-access":    "Offline access",
	"role_default-roles":     "Default roles",
	"client_admin-cli":       "Admin CLI",
}

// displayText shows a name or description as Keycloak's console does: a
// message reference "${key}" becomes its text (the login theme's, or one of
// the built-in roles' and clients'), anything else stays as it is.
func displayText(s string) string {
	key, ok := strings.CutPrefix(s, "${")
	if !ok || !strings.HasSuffix(key, "}") {
		return s
	}
	key = strings.TrimSuffix(key, "}")
	if t := ui.Resolve("en", s); t != s {
		return t
	}
	if t, ok := builtinTexts[key]; ok {
		return t
	}
	for _, p := range []string{"role_", "client_"} {
		if rest, ok := strings.CutPrefix(key, p); ok && rest != "" {
			rest = strings.ReplaceAll(rest, "-", " ")
			return strings.ToUpper(rest[:1]) + rest[1:]
		}
	}
	return s
}

// formField is one input of a form as the "field" templates render it.
type formField struct {
	Name, Label, Help string
	Value             any
	Error             string
	Required          bool // marked with * (the form is novalidate: the server decides)
}

// parseTemplates reads templates/console/*.html from theme: layout.html
// joined with each page. The console's templates live in a folder of their
// own because package ui renders every top-level template with the login
// pages' layout and data.
func parseTemplates(theme fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(theme, "templates/console/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, file := range names {
		name := path.Base(file)
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(theme, "templates/console/layout.html", file)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("console: no templates in templates/console")
	}
	return pages, nil
}

// render writes page name with the console's security headers. The output
// is buffered so that a template error never leaves half a page behind.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	pageHeaders(w)
	var buf bytes.Buffer
	err := h.err
	if err == nil {
		t, ok := h.pages[name]
		if !ok {
			err = fmt.Errorf("console: no page %q", name)
		} else {
			err = t.ExecuteTemplate(&buf, "layout", v)
		}
	}
	if err != nil {
		h.Log.ErrorContext(r.Context(), "render console page", "page", name, "err", err)
		http.Error(w, "An internal server error has occurred.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", "en")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}
