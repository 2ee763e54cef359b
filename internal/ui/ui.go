// Package ui holds the server-rendered pages: html/template templates, the
// stylesheet, the few inline scripts some pages need, and the message
// catalogues in Keycloak's message keys. Everything is embedded, so
// `go build` is the whole build; New takes any fs.FS laid out like the
// embedded one (templates/, static/), so a theme directory can replace it.
//
// Pages need no JavaScript. The three that do run a script (the form_post
// response and the two iframes keycloak-js loads) run a static file from
// static/ inline, so their Content-Security-Policy can allow exactly that
// script by its SHA-256 hash instead of 'unsafe-inline'.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

//go:embed templates static
var embedded embed.FS

// FS returns the embedded theme.
func FS() fs.FS { return embedded }

// standalone pages are rendered without the common layout.
var standalone = []string{"form-post.html", "login-status-iframe.html", "3p-cookies-step2.html"}

// UI is a parsed theme: its static files and its pages.
type UI struct {
	*Static
	pages map[string]*template.Template
}

// Static is a theme's static files, read without parsing a page: what the
// /resources/ handler needs.
type Static struct {
	static  fs.FS
	scripts map[string]string // static file name -> its text
	version string            // changes whenever a static file changes
}

// ReadStatic reads the static files of the theme in fsys.
func ReadStatic(fsys fs.FS) (*Static, error) {
	static, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	st := &Static{static: static, scripts: map[string]string{}}
	sum := sha256.New()
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		sum.Write([]byte(name))
		sum.Write(b)
		if path.Ext(name) == ".js" {
			st.scripts[name] = string(b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: read static files: %w", err)
	}
	st.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return st, nil
}

// New parses the theme in fsys.
func New(fsys fs.FS) (*UI, error) {
	st, err := ReadStatic(fsys)
	if err != nil {
		return nil, err
	}
	return parsePages(st, fsys)
}

// parses counts the themes whose pages were parsed, for a test that
// serving a static file parses none.
var parses atomic.Int64

func parsePages(st *Static, fsys fs.FS) (*UI, error) {
	parses.Add(1)
	u := &UI{Static: st, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		// script inlines a static script; the page's CSP names its hash.
		"script": func(name string) (template.JS, error) {
			s, ok := u.scripts[name]
			if !ok {
				return "", fmt.Errorf("no script %q", name)
			}
			return template.JS(s), nil
		},
	}
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	for _, file := range names {
		name := path.Base(file)
		if name == "layout.html" {
			continue
		}
		files := []string{file}
		if !slices.Contains(standalone, name) {
			files = []string{"templates/layout.html", file}
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, files...)
		if err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

// defaultStatic is the embedded theme's static files, read once. Serving
// them needs no page, so a node that only issues tokens never parses one.
var defaultStatic = sync.OnceValue(readDefaultStatic)

func readDefaultStatic() *Static {
	st, err := ReadStatic(embedded)
	if err != nil {
		panic(err) // the embedded theme is tested; this is a build defect
	}
	return st
}

// Default returns the embedded theme, parsed once, on the first page
// rendered.
var Default = sync.OnceValue(parseDefault)

func parseDefault() *UI {
	u, err := parsePages(defaultStatic(), embedded)
	if err != nil {
		panic(err) // the embedded theme is tested; this is a build defect
	}
	return u
}

// Render writes page name ("login.html") with data p. The output is buffered
// so that a template error never leaves half a page behind.
func (u *UI) Render(w io.Writer, name string, p Page) error {
	t, ok := u.pages[name]
	if !ok {
		return fmt.Errorf("ui: no page %q", name)
	}
	entry := "layout"
	if slices.Contains(standalone, name) {
		entry = name
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, entry, p); err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ScriptSource is the CSP source expression that allows the inline copy of
// static script name, e.g. 'sha256-…'.
func (u *Static) ScriptSource(name string) string {
	sum := sha256.Sum256([]byte(u.scripts[name]))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Version is the current static files' version, a path segment of their URLs
// so that browsers may cache them for good.
func (u *Static) Version() string { return u.version }

// Assets serves the static files under /resources/{version}/. A request for
// another version (a page rendered before an upgrade) still gets the file,
// but without the long cache lifetime.
func (u *Static) Assets() http.Handler {
	files := http.FileServerFS(u.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/resources/")
		version, file, found := strings.Cut(rest, "/")
		if !ok || !found || file == "" || strings.HasSuffix(file, "/") {
			http.NotFound(w, r)
			return
		}
		if version == u.version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + file
		r2.URL.RawPath = ""
		files.ServeHTTP(w, r2)
	})
}

// Assets serves the embedded theme's static files; see Static.Assets. It
// parses no page.
func Assets() http.Handler { return defaultStatic().Assets() }
