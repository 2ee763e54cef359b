// Package server builds every HTTP handler onto one http.ServeMux, adds what
// all responses share (security headers, a request body limit, the
// optional access log, Keycloak's 404 and 405 bodies, health checks), and runs the HTTP
// and HTTPS listeners until the process is told to stop.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/account"
	"github.com/gatehouse-iam/gatehouse/internal/admin"
	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/backchannel"
	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/console"
	"github.com/gatehouse-iam/gatehouse/internal/login"
	"github.com/gatehouse-iam/gatehouse/internal/mail"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/oidc"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/protection"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// MaxRequestBody caps every request body. The largest legitimate bodies are
// admin API documents; a token request is a few kilobytes. The cap is checked
// before any handler parses, hashes or stores anything (CVE-2026-4634: an
// unbounded scope parameter exhausted Keycloak's CPU and memory).
const MaxRequestBody = 1 << 20

// Options are the dependencies shared by every handler.
type Options struct {
	Store *store.DB
	Log   *slog.Logger
	// Now is the clock of every handler; nil means time.Now. This is the one
	// place under internal/ that reads the wall clock, so tests can fix time.
	Now  func() time.Time
	URLs web.URLs
	// Metrics records every request; nil records nothing.
	Metrics *metrics.Metrics
	// AccessLog logs every request (--http-access-log-enabled); nil logs
	// none, the default: a line per request is an option, as in Keycloak.
	AccessLog *web.AccessLog
	// Limits are the rate limits of the realm endpoints; the zero value
	// turns them off (input limits always apply). See limits.go.
	Limits Limits
	// Hashes bounds the password checks that run at once on this node;
	// nil means the node's default gate (authn.HashSlots slots).
	Hashes *authn.HashGate
	// Outbound makes every request to other servers (back-channel
	// logout); nil means outbound.New with its defaults, which reaches
	// public addresses only.
	Outbound *outbound.Client
	// Mail sends the realms' mail (action links, test messages); nil means
	// a sender with the default timeouts and the system's certificates.
	Mail *mail.Sender
}

// Keycloak's bodies for a path no resource serves and for a method the
// resource does not take (RESTEasy Reactive's NotFoundException and
// NotAllowedException, rendered by KeycloakErrorHandler in Keycloak 24+).
var (
	notFoundBody = map[string]string{
		"error":             "Unable to find matching target resource method",
		"error_description": "For more on this error consult the server log at the debug level.",
	}
	notAllowedBody = map[string]string{
		"error":             "HTTP 405 Method Not Allowed",
		"error_description": "For more on this error consult the server log at the debug level.",
	}
)

// New returns the whole server as one handler.
//
// Realm endpoints live under o.URLs.RelativePath ("/auth/realms/..." when it
// is "/auth", as Keycloak before version 17 served them) and nowhere else;
// health checks stay at /health at the root, where probes expect them.
func New(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}

	if o.Outbound == nil {
		o.Outbound = outbound.New(outbound.Options{})
	}
	// Every explicit session end, wherever it happens, reaches the store's
	// hook; the sender notifies the session's clients in the background.
	if o.Store != nil {
		o.Store.OnSessionsEnded(backchannel.New(o.Store, o.Outbound, o.Log, o.Now, 0).SessionsEnded)
	}

	if o.Mail == nil {
		o.Mail = &mail.Sender{Now: o.Now}
	}
	mailer := &mail.Mailer{Store: o.Store, Sender: o.Mail, Log: o.Log, Now: o.Now}

	// app holds every endpoint that moves with the relative path.
	app := http.NewServeMux()
	// One key cache per node, fetching client key sets through Outbound.
	ckeys := &clientkeys.Loader{Outbound: o.Outbound, Now: o.Now}
	(&oidc.Handler{Store: o.Store, URLs: o.URLs, Log: o.Log, Now: o.Now, Hashes: o.Hashes, Keys: ckeys}).Register(app)
	// The admin API's routes wait for the first request that may need them:
	// see lazyRoutes.
	adminAPI := &lazyRoutes{mux: app, needs: adminRoute, log: o.Log,
		register: (&admin.Handler{Store: o.Store, URLs: o.URLs, Log: o.Log, Now: o.Now, Mail: mailer, Outbound: o.Outbound, Started: o.Now()}).Register}
	(&login.Handler{Store: o.Store, URLs: o.URLs, Log: o.Log, Now: o.Now, Hashes: o.Hashes, Keys: ckeys, Outbound: o.Outbound, Mail: mailer}).Register(app)
	(&account.Handler{Store: o.Store, URLs: o.URLs, Log: o.Log, Now: o.Now, Hashes: o.Hashes, Next: unmatched(app)}).Register(app)
	(&protection.Handler{Store: o.Store, URLs: o.URLs, Log: o.Log, Now: o.Now}).Register(app)
	app.Handle("GET /resources/", ui.Assets())
	// The console calls the admin API in-process, whatever page it serves.
	app.Handle("/", &console.Handler{Store: o.Store, URLs: o.URLs, Log: o.Log, Now: o.Now, API: adminAPI.all(), Next: unmatched(app)})
	front := withBase(o.URLs, newGuard(o, adminAPI)) // rate and input limits, limits.go

	root := http.NewServeMux()
	health := &health{store: o.Store, log: o.Log}
	root.HandleFunc("GET /health/live", health.live)
	root.HandleFunc("GET /health/ready", health.ready)
	root.HandleFunc("GET /health", health.ready)
	rel := strings.TrimSuffix(o.URLs.RelativePath, "/")
	if rel == "" {
		root.Handle("/", front)
		return o.Metrics.Instrument(o.Now, accessLog(o.AccessLog, secure(root)))
	}
	// Keycloak 26 sends a browser that opens the bare host to the relative
	// path instead of answering 404.
	root.Handle("GET /{$}", http.RedirectHandler(rel+"/", http.StatusFound))
	root.Handle("/", unmatched(root))
	// The prefix is matched by hand rather than registered as a pattern:
	// a relative path is operator text and may hold pattern syntax ("{").
	under := stripPrefix(rel, o.URLs, adminAPI, front)
	return o.Metrics.Instrument(o.Now, accessLog(o.AccessLog, secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, rel+"/"):
			under.ServeHTTP(w, r)
		case r.URL.Path == rel:
			http.Redirect(w, r, rel+"/", http.StatusFound)
		default:
			root.ServeHTTP(w, r)
		}
	}))))
}

// lazyRoutes registers a group of routes on mux the first time a request
// that may need them arrives, then serves every request through mux.
//
// The admin API is some three hundred routes, each twice (with and without
// a trailing slash). Building them parses every pattern into the mux's
// tree and runs the code of every resource file once: about 2 MB of a
// node's resident memory, for an API that most nodes of a fleet, serving
// tokens and logins, never receive. A node builds them on its first admin
// request instead, in about a millisecond. ServeMux takes registrations
// while it serves, so requests of other kinds go on meanwhile; a request
// that needs the group waits until all of it is in place.
type lazyRoutes struct {
	mux      *http.ServeMux
	needs    func(path string) bool // whether a request for path may need the group
	register func(admin.Mux)
	log      *slog.Logger
	once     sync.Once
	failed   bool // register panicked: the group is not (all) there
}

// ensure registers the group once and reports whether it is in place. A
// registration that panics (two patterns in conflict: a bug that used to
// stop the server at start) is logged, and every request that needs the
// group is then answered 500 rather than 404 from a half-built API.
func (l *lazyRoutes) ensure() bool {
	l.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				l.failed = true
				l.log.Error("cannot register the admin API's routes", "panic", fmt.Sprint(p))
			}
		}()
		l.register(l.mux)
	})
	return !l.failed
}

// unregistered answers a request whose routes could not be registered.
var unregistered = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	web.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "unknown_error"})
})

// ready registers the group if a request for path may need it, and
// reports whether the request can be routed.
func (l *lazyRoutes) ready(path string) bool { return !l.needs(path) || l.ensure() }

func (l *lazyRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !l.ready(r.URL.Path) {
		unregistered.ServeHTTP(w, r)
		return
	}
	l.mux.ServeHTTP(w, r)
}

// Handler is mux.Handler, with the group in place when the request may
// need it.
func (l *lazyRoutes) Handler(r *http.Request) (http.Handler, string) {
	if !l.ready(r.URL.Path) {
		return unregistered, ""
	}
	return l.mux.Handler(r)
}

// all serves through mux with the group in place, whatever the path.
func (l *lazyRoutes) all() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.ensure() {
			unregistered.ServeHTTP(w, r)
			return
		}
		l.mux.ServeHTTP(w, r)
	})
}

// adminRoute reports whether a request for path (below the relative path)
// may match a pattern of admin.Handler.Register: one under "/admin/", the
// client registration API under "/realms/{realm}/clients-registrations",
// or the message bundle "/resources/{realm}/{themeType}/{locale}" (the
// static files, "/resources/{version}/{file}", have one segment fewer). It
// may say yes to a path no route serves, never no to one a route serves:
// the mux matches unescaped segments and path is r.URL.Path, unescaped,
// where an escaped slash only adds segments. TestAdminRoutesAreFoundLazily
// checks every pattern Register makes.
func adminRoute(path string) bool {
	switch {
	case strings.HasPrefix(path, "/admin/"):
		return true
	case strings.HasPrefix(path, "/realms/"):
		return strings.Contains(path, "/clients-registrations")
	}
	rest, ok := strings.CutPrefix(path, "/resources/")
	return ok && strings.Count(rest, "/") >= 2
}

// accessLog wraps next in the access log when there is one.
func accessLog(a *web.AccessLog, next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return a.Handler(next)
}

// withBase records the request's base URL in its context, for work that
// outlives the request and needs the realm's issuer (back-channel logout).
// Protocol requests also get a configuration view: their reads of realms,
// clients, scopes, keys and flows come from the node's cache, checked
// against the database's configuration version once per request.
func withBase(u web.URLs, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := backchannel.WithBase(r.Context(), u.Base(r))
		if cachedConfigPath(r.URL.Path) {
			ctx = store.WithConfigView(ctx)
		}
		r2 := r.WithContext(ctx)
		next.ServeHTTP(w, r2)
		// The request log reads the matched route and realm from r.
		r.Pattern = r2.Pattern
		if v := r2.PathValue("realm"); v != "" {
			r.SetPathValue("realm", v)
		}
	})
}

// cachedConfigPath reports whether a request (its path below the relative
// path) reads configuration through the node's cache: the realm document,
// discovery, the OIDC protocol endpoints, the login pages and the device
// page, whose handlers only read configuration. The admin, account and
// client registration APIs read the database directly: they edit what
// they read.
func cachedConfigPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/realms/")
	if !ok {
		return false
	}
	_, rest, _ = strings.Cut(rest, "/")
	for _, prefix := range []string{"protocol/", "login-actions/", ".well-known/", "device"} {
		if strings.HasPrefix(rest, prefix) {
			return true
		}
	}
	return rest == ""
}

// secure adds what every response carries and every request is held to.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// A JSON error body echoing input must never be sniffed into HTML,
		// and URLs that carry codes or state must not leak to other sites
		// through the Referer header.
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.ContentLength > MaxRequestBody {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
		next.ServeHTTP(w, r)
	})
}

// unmatched answers a request that no route of mux took: 405 with Allow when
// the path exists under other methods, 404 otherwise, in Keycloak's words.
// It must be registered as mux's catch-all "/" pattern.
func unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "" // logged as "unmatched", not as the catch-all
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			web.WriteJSON(w, http.StatusMethodNotAllowed, notAllowedBody)
			return
		}
		web.WriteJSON(w, http.StatusNotFound, notFoundBody)
	})
}

// stripPrefix is http.StripPrefix that also copies the route the inner mux
// matched back onto the outer request, so the request log names
// "GET /realms/{realm}" and its realm rather than the prefix's catch-all,
// and that sends the redirects the mux makes itself to the public path
// (publicRedirects). routes is the mux below the prefix.
func stripPrefix(prefix string, urls web.URLs, routes router, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, prefix)
		rp := strings.TrimPrefix(r.URL.RawPath, prefix)
		if len(p) == len(r.URL.Path) || (r.URL.RawPath != "" && len(rp) == len(r.URL.RawPath)) {
			web.WriteJSON(w, http.StatusNotFound, notFoundBody)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = new(url.URL)
		*r2.URL = *r.URL
		r2.URL.Path = p
		r2.URL.RawPath = rp
		h.ServeHTTP(&publicRedirects{ResponseWriter: w, r: r, below: r2, urls: urls, routes: routes}, r2)
		r.Pattern = r2.Pattern
		if v := r2.PathValue("realm"); v != "" {
			r.SetPathValue("realm", v)
		}
	})
}

// publicRedirects is the response writer of a request below the relative
// path. ServeMux answers two kinds of request itself, with a redirect: a
// path that is not clean goes to its clean form, and a subtree's path
// without its final slash goes to the path with it. The mux sees only the
// path below the prefix, so its Location lacks the public path the
// handlers' own redirects are built with (the relative path, or the path
// of the hostname a proxy maps to it); it also escapes an escaped path a
// second time. When the mux confirms that the request is one it redirects
// itself, this writer sends the redirect to the public path instead.
type publicRedirects struct {
	http.ResponseWriter
	r       *http.Request // as received, prefix and all
	below   *http.Request // as the mux saw it
	urls    web.URLs
	routes  router
	replied bool // the redirect was sent again; the mux's body is dropped
}

// redirectType is the type of the handler ServeMux answers its own
// redirects with.
var redirectType = reflect.TypeOf(http.RedirectHandler("/", http.StatusTemporaryRedirect))

func (w *publicRedirects) WriteHeader(code int) {
	if code >= 300 && code < 400 && !w.replied {
		if to, ok := w.routerRedirect(w.Header().Get("Location")); ok {
			w.replied = true
			w.Header().Del("Content-Type") // http.Redirect writes its body only without one
			http.Redirect(w.ResponseWriter, w.r, to, code)
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *publicRedirects) Write(b []byte) (int, error) {
	if w.replied {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *publicRedirects) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routerRedirect reports whether loc, a Location being sent, is the mux's
// own redirect, and if so where the request goes instead: the public path,
// then the clean form of the path below the prefix, with the final slash
// when the mux added one, and the request's query.
func (w *publicRedirects) routerRedirect(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	if h, _ := w.routes.Handler(w.below); reflect.TypeOf(h) != redirectType {
		return "", false
	}
	base, err := url.Parse(w.urls.Base(w.r))
	if err != nil {
		return "", false
	}
	to := strings.TrimSuffix(base.Path, "/") + cleanPath(w.below.URL.Path)
	if strings.HasSuffix(u.Path, "/") && !strings.HasSuffix(to, "/") {
		to += "/"
	}
	return (&url.URL{Path: to, RawQuery: w.below.URL.RawQuery}).String(), true
}

// cleanPath is a request path as ServeMux routes it: rooted, without empty,
// "." or ".." segments, and with its final slash kept.
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
