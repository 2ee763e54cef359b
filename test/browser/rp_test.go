package browser_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// relyingParty is a tiny web app with a server-side backend, the shape of
// story 2: it sends the browser to the login page, takes the code on its
// callback, exchanges it (PKCE, client secret) and verifies the ID token
// (signature, nonce, at_hash) with go-oidc. Each client of the realm is
// served under /{clientId}/; /kc/ serves a page using keycloak-js.
type relyingParty struct {
	t   *testing.T
	s   *stack
	srv *httptest.Server

	mu       sync.Mutex
	pending  map[string]pendingLogin // by state
	sessions map[string]rpSession    // by the app's cookie
}

type pendingLogin struct {
	app, verifier, nonce string
}

type rpSession struct {
	idToken string
}

func newRelyingParty(t *testing.T, s *stack) *relyingParty {
	rp := &relyingParty{t: t, s: s, pending: map[string]pendingLogin{}, sessions: map[string]rpSession{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kc/{$}", rp.keycloakJSPage("login-required"))
	mux.HandleFunc("GET /kc/check-sso.html", rp.keycloakJSPage("check-sso"))
	mux.HandleFunc("GET /kc/silent-check-sso.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><body><script>parent.postMessage(location.href, location.origin);</script></body></html>`)
	})
	mux.HandleFunc("GET /kc/keycloak.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, keycloakJSPath)
	})
	mux.HandleFunc("GET /{app}/login", rp.login)
	mux.HandleFunc("GET /{app}/callback", rp.callback)
	mux.HandleFunc("GET /{app}/logout", rp.logout)
	mux.HandleFunc("GET /{app}/bye", func(w http.ResponseWriter, r *http.Request) {
		rp.page(w, map[string]string{"bye": r.PathValue("app"), "state": r.URL.Query().Get("state")})
	})
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	return rp
}

// keycloakJSPath is the adapter `npm ci` installs here.
var keycloakJSPath = filepath.Join("node_modules", "keycloak-js", "lib", "keycloak.js")

func (rp *relyingParty) url(path string) string { return rp.srv.URL + path }

func (rp *relyingParty) oauth2Config(app string) oauth2.Config {
	return oauth2.Config{
		ClientID: app, ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   rp.s.issuer() + "/protocol/openid-connect/auth",
			TokenURL:  rp.s.issuer() + "/protocol/openid-connect/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: rp.url("/" + app + "/callback"),
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

func (rp *relyingParty) login(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	p := pendingLogin{app: app, verifier: oauth2.GenerateVerifier(), nonce: rand.Text()}
	state := rand.Text()
	rp.mu.Lock()
	rp.pending[state] = p
	rp.mu.Unlock()
	cfg := rp.oauth2Config(app)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)}
	// /{app}/login?kc_action=X asks Gatehouse for an application-initiated action.
	if action := r.URL.Query().Get("kc_action"); action != "" {
		opts = append(opts, oauth2.SetAuthURLParam("kc_action", action))
	}
	// /{app}/login?kc_idp_hint=alias asks to sign in through that provider.
	if hint := r.URL.Query().Get("kc_idp_hint"); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("kc_idp_hint", hint))
	}
	http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
}

// callback shows what came back: an error, or the code and, once the
// exchange worked, who logged in.
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	q := r.URL.Query()
	out := map[string]string{"callback": app, "error": q.Get("error"), "code": "absent", "exchange": "", "user": "", "acr": "", "sid": ""}
	rp.mu.Lock()
	p, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok || p.app != app {
		out["error"] = "unknown state"
		rp.page(w, out)
		return
	}
	if q.Get("iss") != rp.s.issuer() {
		out["error"] = "wrong iss " + q.Get("iss")
	}
	code := q.Get("code")
	if code == "" {
		rp.page(w, out)
		return
	}
	out["code"] = "present"
	cfg := rp.oauth2Config(app)
	tok, err := cfg.Exchange(r.Context(), code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		out["exchange"] = "failed: " + err.Error()
		rp.page(w, out)
		return
	}
	provider, err := oidc.NewProvider(r.Context(), rp.s.issuer())
	if err != nil {
		out["exchange"] = "discovery: " + err.Error()
		rp.page(w, out)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: app}).Verify(r.Context(), raw)
	if err == nil && idt.Nonce != p.nonce {
		err = fmt.Errorf("nonce %q, want %q", idt.Nonce, p.nonce)
	}
	if err == nil {
		err = idt.VerifyAccessToken(tok.AccessToken)
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		ACR               string `json:"acr"`
		SID               string `json:"sid"`
	}
	if err == nil {
		err = idt.Claims(&claims)
	}
	if err != nil {
		out["exchange"] = "id token: " + err.Error()
		rp.page(w, out)
		return
	}
	if claims.SID != q.Get("session_state") {
		out["exchange"] = "sid differs from session_state"
		rp.page(w, out)
		return
	}
	out["exchange"], out["user"], out["acr"], out["sid"] = "ok", claims.PreferredUsername, claims.ACR, claims.SID
	out["roles"] = realmRoles(tok.AccessToken)
	cookie := rand.Text()
	rp.mu.Lock()
	rp.sessions[cookie] = rpSession{idToken: raw}
	rp.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "rp_" + app, Value: cookie, Path: "/" + app + "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	rp.page(w, out)
}

// logout ends the app's session and sends the browser to Gatehouse's
// end_session_endpoint with the ID token as hint.
func (rp *relyingParty) logout(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	c, err := r.Cookie("rp_" + app)
	rp.mu.Lock()
	sess, ok := rp.sessions[cookieValue(c, err)]
	rp.mu.Unlock()
	if !ok {
		http.Error(w, "not logged in", http.StatusBadRequest)
		return
	}
	q := url.Values{"id_token_hint": {sess.idToken}, "post_logout_redirect_uri": {rp.url("/" + app + "/bye")},
		"state": {"bye-" + app}}
	http.Redirect(w, r, rp.s.issuer()+"/protocol/openid-connect/logout?"+q.Encode(), http.StatusFound)
}

// realmRoles lists the realm roles of an access token the exchange just
// returned (its signature was the server's concern; the ID token's was
// checked), sorted and space-separated.
func realmRoles(accessToken string) string {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		RealmAccess struct {
			Roles []string `json:"roles"`
		} `json:"realm_access"`
	}
	json.Unmarshal(payload, &claims)
	slices.Sort(claims.RealmAccess.Roles)
	return strings.Join(claims.RealmAccess.Roles, " ")
}

func cookieValue(c *http.Cookie, err error) string {
	if err != nil {
		return ""
	}
	return c.Value
}

var rpPage = template.Must(template.New("rp").Parse(`<!doctype html><html><head><title>relying party</title></head><body>
{{range $k, $v := .}}<p id="{{$k}}">{{$v}}</p>
{{end}}</body></html>`))

func (rp *relyingParty) page(w http.ResponseWriter, data map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	rpPage.Execute(w, data)
}

// keycloakJSPage serves a page that runs keycloak-js with onLoad; the
// test reads #status and drives window.kc.
func (rp *relyingParty) keycloakJSPage(onLoad string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg, _ := json.Marshal(map[string]string{"url": rp.s.gh.URL, "realm": realmName, "clientId": "js-app"})
		init, _ := json.Marshal(map[string]any{"onLoad": onLoad, "pkceMethod": "S256", "checkLoginIframeInterval": 1,
			"messageReceiveTimeout": 10000, "silentCheckSsoRedirectUri": rp.url("/kc/silent-check-sso.html")})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `<!doctype html><html><head><title>keycloak-js</title></head><body>
<p id="status">loading</p>
<script type="module">
import Keycloak from '/kc/keycloak.js';
const status = document.getElementById('status');
const kc = new Keycloak(%s);
window.kc = kc;
kc.init(%s).then(
  (ok) => { status.textContent = ok ? 'authenticated ' + kc.tokenParsed.preferred_username : 'anonymous'; },
  (err) => { status.textContent = 'init failed: ' + (err && (err.message || err.error || JSON.stringify(err))); });
</script></body></html>`, cfg, init)
	}
}

// keycloakJSInstalled skips (or in CI fails) when npm ci has not run.
func keycloakJSInstalled(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(keycloakJSPath); err != nil {
		required(t, "keycloak-js is not installed (run `npm ci` in test/browser)")
	}
	b, err := os.ReadFile(filepath.Join("node_modules", "keycloak-js", "package.json"))
	if err != nil || !strings.Contains(string(b), `"version": "26.2.4"`) {
		t.Fatalf("test/browser/node_modules holds another keycloak-js than the pinned 26.2.4")
	}
}
