package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientpolicy"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clientsAPI holds the endpoints under /admin/realms/{realm}/clients
// (Keycloak's ClientsResource and ClientResource). The client's roles are in
// roles.go.
type clientsAPI struct{}

func (h *Handler) clientRoutes(mux Mux) {
	var a clientsAPI
	const c = "/admin/realms/{realm}/clients"
	const one = c + "/{id}"
	h.handle(mux, "GET "+c, "query-clients", a.list)
	h.handle(mux, "POST "+c, "manage-clients", a.create)
	h.handle(mux, "GET "+one, clientView, a.get)
	h.handle(mux, "PUT "+one, clientConfigure, a.update)
	h.handle(mux, "DELETE "+one, clientManage, a.delete)

	// The secret is shown only to those who may change it (SECURITY.md M8).
	h.handle(mux, "GET "+one+"/client-secret", clientManage, a.getSecret)
	h.handle(mux, "POST "+one+"/client-secret", clientManage, a.regenerateSecret)

	for _, kind := range []struct {
		path string
		dflt bool
	}{{"/default-client-scopes", true}, {"/optional-client-scopes", false}} {
		h.handle(mux, "GET "+one+kind.path, clientView, a.scopes(kind.dflt))
		h.handle(mux, "PUT "+one+kind.path+"/{scopeId}", clientManage, a.linkScope(kind.dflt))
		h.handle(mux, "DELETE "+one+kind.path+"/{scopeId}", clientManage, a.unlinkScope)
	}

	h.handle(mux, "GET "+one+"/service-account-user", clientView, a.serviceAccount)
	h.handle(mux, "GET "+one+"/user-sessions", clientView, a.sessions(false))
	h.handle(mux, "GET "+one+"/offline-sessions", clientView, a.sessions(true))
	h.handle(mux, "GET "+one+"/session-count", clientView, a.sessionCount(false))
	h.handle(mux, "GET "+one+"/offline-session-count", clientView, a.sessionCount(true))

	const pm = one + "/protocol-mappers"
	h.handle(mux, "GET "+pm+"/models", clientView, a.mappers)
	h.handle(mux, "POST "+pm+"/models", clientManage, a.createMapper)
	h.handle(mux, "POST "+pm+"/add-models", clientManage, a.addMappers)
	h.handle(mux, "GET "+pm+"/models/{mid}", clientView, a.mapper)
	h.handle(mux, "PUT "+pm+"/models/{mid}", clientManage, a.updateMapper)
	h.handle(mux, "DELETE "+pm+"/models/{mid}", clientManage, a.deleteMapper)
	h.handle(mux, "GET "+pm+"/protocol/{protocol}", clientView, a.mappersByProtocol)
}

func (clientsAPI) notFound() error { return notFound("Could not find client") }

// The permissions of a route on one client (the {id} in its path): the
// admin role, or, for a caller without it, what the realm's fine-grained
// permissions grant on that client (fgap.go). As in Keycloak, view is
// granted by the client's view, configure or manage; configure by its
// configure or manage, and lets the client's settings change but not how
// it authenticates or what its tokens may carry (configurable); manage by
// its manage.
const (
	clientView      = "view-clients@client.view"
	clientConfigure = "manage-clients@client.configure"
	clientManage    = "manage-clients@client.manage"
)

// clientRule runs fn on the client in the path. A missing client is 404
// for a caller who may list clients and 403 for others, who may not probe
// ids.
func clientRule(fn func(rq *Request, c client.Client) (bool, error)) objectRule {
	return func(rq *Request) (bool, error) {
		c, err := pathObject(rq, "id", "query-clients", clientsAPI{}.notFound(), rq.h.Store.GetClient)
		if err != nil {
			return false, err
		}
		return fn(rq, c)
	}
}

// clientGrant reads in the caller's permissions whether any of scopes is
// granted on client c, for orGrant.
func clientGrant(c client.Client, scopes ...string) func(*adminperm.Checker) bool {
	return func(ch *adminperm.Checker) bool {
		return slices.ContainsFunc(scopes, func(s string) bool { return ch.Client(c.ID, s) })
	}
}

// canViewClient: view-clients, or c's view, configure or manage.
func (rq *Request) canViewClient(c client.Client) (bool, error) {
	return rq.orGrant(rq.Can("view-clients"), nil, clientGrant(c, adminperm.View, adminperm.Configure, adminperm.Manage))
}

// canConfigureClient: manage-clients, or c's configure or manage.
func (rq *Request) canConfigureClient(c client.Client) (bool, error) {
	return rq.orGrant(rq.Can("manage-clients"), nil, clientGrant(c, adminperm.Configure, adminperm.Manage))
}

// canManageClient: manage-clients, or c's manage.
func (rq *Request) canManageClient(c client.Client) (bool, error) {
	return rq.orGrant(rq.Can("manage-clients"), nil, clientGrant(c, adminperm.Manage))
}

// clientAccess is the "access" of a client representation.
func (rq *Request) clientAccess(c client.Client) (map[string]bool, error) {
	view, err := rq.canViewClient(c)
	if err != nil {
		return nil, err
	}
	configure, err := rq.canConfigureClient(c)
	if err != nil {
		return nil, err
	}
	manage, err := rq.canManageClient(c)
	if err != nil {
		return nil, err
	}
	return map[string]bool{"view": view, "configure": configure, "manage": manage}, nil
}

// load returns the client named by {id}.
func (a clientsAPI) load(rq *Request) (client.Client, error) {
	c, err := rq.h.Store.GetClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return c, a.notFound()
	}
	return c, err
}

// reservedClientID reports whether clientID names a client whose roles
// administer a realm: realm-management, or in master a "<realm>-realm"
// client. Only a whole-realm administrator may create, rename to, change or
// delete such a client; otherwise a manage-clients administrator could
// swap the admin client for one whose roles it controls (CVE-2026-9796).
func reservedClientID(r realm.Realm, clientID string) bool {
	return clientID == provision.RealmManagement ||
		r.Name == realm.MasterName && strings.HasSuffix(clientID, "-realm")
}

// wholeRealmAdmin reports whether the caller administers the target realm
// without restriction: realm-admin there, or master's admin role.
func wholeRealmAdmin(rq *Request) bool {
	return rq.Can(provision.RealmAdmin) || rq.Caller != nil && rq.Caller.holdsAllAdmin()
}

// pageIfAsked reads first and max when the caller gave either; without them
// the whole list is wanted (max -1), as Keycloak answers client, role and
// top-level group listings.
func pageIfAsked(rq *Request) (first, max int, err error) {
	first, max, err = rq.Page()
	if err != nil {
		return 0, 0, err
	}
	q := rq.R.URL.Query()
	if !q.Has("first") && !q.Has("max") {
		return 0, -1, nil
	}
	return first, max, nil
}

// sliceWindow cuts a slice as first and max (-1: no limit) say.
func sliceWindow[T any](s []T, first, max int) []T {
	if first >= len(s) {
		return s[:0]
	}
	s = s[first:]
	if max >= 0 && max < len(s) {
		s = s[:max]
	}
	return s
}

// kcSearchFields parses Keycloak's q parameter, "key:value key2:value2".
func kcSearchFields(q string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(q) {
		if k, v, ok := strings.Cut(f, ":"); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// scopeNames maps the realm's client scope ids to their names.
func (clientsAPI) scopeNames(rq *Request) (map[string]string, error) {
	scopes, err := rq.h.Store.ListClientScopes(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(scopes))
	for _, s := range scopes {
		names[s.ID] = s.Name
	}
	return names, nil
}

// rep is the client as the caller may see it: its linked scope names, what
// the caller may do with it, and no secret unless the caller may manage
// clients (SECURITY.md M8).
func (clientsAPI) rep(rq *Request, c client.Client, links []client.ScopeLink, scopeNames map[string]string) (rep.Client, error) {
	access, err := rq.clientAccess(c)
	if err != nil {
		return rep.Client{}, err
	}
	x := rep.ClientFromDomain(c)
	x.DefaultClientScopes, x.OptionalClientScopes = []string{}, []string{}
	for _, l := range links {
		name, ok := scopeNames[l.ScopeID]
		if !ok {
			continue
		}
		if l.Default {
			x.DefaultClientScopes = append(x.DefaultClientScopes, name)
		} else {
			x.OptionalClientScopes = append(x.OptionalClientScopes, name)
		}
	}
	if !access["manage"] {
		x.Secret, x.RegistrationAccessToken = nil, nil
		x.Attributes = withoutSecretAttrs(x.Attributes, func(attrs map[string]string, k string) { delete(attrs, k) })
	}
	x.Access = access
	if rq.isResourceServer(c.ID) {
		enabled := true
		x.AuthorizationServicesEnabled = &enabled
	}
	return x, nil
}

// clientSecretAttrs are the client attributes that hold a secret or a
// private key.
var clientSecretAttrs = append([]string{client.AttrRotatedSecret}, samlPrivateAttrs...)

// withoutSecretAttrs applies hide to each clientSecretAttrs key of attrs,
// on a copy when there is one (attrs may be shared).
func withoutSecretAttrs(attrs map[string]string, hide func(attrs map[string]string, k string)) map[string]string {
	if !slices.ContainsFunc(clientSecretAttrs, func(k string) bool { _, ok := attrs[k]; return ok }) {
		return attrs
	}
	attrs = maps.Clone(attrs)
	for _, k := range clientSecretAttrs {
		if _, ok := attrs[k]; ok {
			hide(attrs, k)
		}
	}
	return attrs
}

// maskClientSecrets replaces the client's secrets (secret, registration
// access token, secret and private-key attributes) by secret.Mask, as a
// partial export shows them.
func maskClientSecrets(c *rep.Client) {
	for _, field := range []**string{&c.Secret, &c.RegistrationAccessToken} {
		if *field != nil && **field != "" {
			masked := secret.Mask
			*field = &masked
		}
	}
	c.Attributes = withoutSecretAttrs(c.Attributes, func(attrs map[string]string, k string) { attrs[k] = secret.Mask })
}

// list is GET /clients: every client, one by exact clientId, or
// (search=true) those whose clientId contains it; q filters by attributes.
// A caller without view-clients sees only the clients its fine-grained
// permissions let it view, paged after that filter, as in Keycloak.
func (a clientsAPI) list(rq *Request) error {
	ctx, db := rq.R.Context(), rq.h.Store
	first, max, err := pageIfAsked(rq)
	if err != nil {
		return err
	}
	viewAll := rq.Can("view-clients")
	// Without view-clients the page is cut after filtering.
	pageFirst, pageMax := first, max
	if !viewAll {
		pageFirst, pageMax = 0, -1
	}
	q := rq.R.URL.Query()
	clientID := strings.TrimSpace(q.Get("clientId"))
	var cs []client.Client
	switch {
	case q.Has("q"):
		all, err := db.ListClients(ctx, rq.Realm.ID)
		if err != nil {
			return err
		}
		want := kcSearchFields(q.Get("q"))
		for _, c := range all {
			if attributesMatchAll(c.Attributes, want) {
				cs = append(cs, c)
			}
		}
		cs = sliceWindow(cs, pageFirst, pageMax)
	case clientID == "":
		cs, err = db.ListClientsPage(ctx, rq.Realm.ID, pageFirst, pageMax)
	case rq.Bool("search", false):
		cs, err = db.SearchClients(ctx, rq.Realm.ID, clientID, pageFirst, pageMax)
	default:
		c, err := db.GetClientByClientID(ctx, rq.Realm.ID, clientID)
		if err == nil {
			cs = []client.Client{c}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err != nil {
		return err
	}
	if !viewAll {
		viewable := cs[:0:0]
		for _, c := range cs {
			ok, err := rq.canViewClient(c)
			if err != nil {
				return err
			}
			if ok {
				viewable = append(viewable, c)
			}
		}
		cs = sliceWindow(viewable, first, max)
	}
	out := make([]rep.Client, 0, len(cs))
	if len(cs) == 0 {
		return rq.JSON(out)
	}
	links, err := db.RealmScopeLinks(ctx, rq.Realm.ID)
	if err != nil {
		return err
	}
	names, err := a.scopeNames(rq)
	if err != nil {
		return err
	}
	for _, c := range cs {
		x, err := a.rep(rq, c, links[c.ID], names)
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}

func attributesMatchAll(attrs, want map[string]string) bool {
	for k, v := range want {
		if attrs[k] != v {
			return false
		}
	}
	return true
}

// create is POST /clients, with the defaults Keycloak's admin create adds
// to those of import (OIDCLoginProtocolFactory.setupClientDefaults,
// KEYCLOAK.md §8.1).
func (a clientsAPI) create(rq *Request) error {
	var x rep.Client
	if err := rq.decode(&x); err != nil {
		return err
	}
	c, err := a.insert(rq, x)
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/clients/" + c.ID))
}

// insert stores a new client from x with create's defaults, checks and
// scope links; the client registration service shares it. A request
// without a Caller comes from that service, authenticated by an initial
// access token: its client may have a service account (holding the
// realm's default roles, as Keycloak gives it).
func (a clientsAPI) insert(rq *Request, x rep.Client) (client.Client, error) {
	ctx, db := rq.R.Context(), rq.h.Store
	if x.ClientID == "" {
		// Keycloak stores a client created without a clientId under its
		// id as clientId (Terraform's Keycloak provider sends id and name).
		if x.ID == "" {
			x.ID = store.NewID()
		}
		x.ClientID = x.ID
	}
	x.ClientID = strings.TrimSpace(x.ClientID)
	if x.ClientID == "" {
		return client.Client{}, badRequest("Client id is missing")
	}
	if reservedClientID(rq.Realm, x.ClientID) && !wholeRealmAdmin(rq) {
		return client.Client{}, errForbidden
	}
	if _, err := db.GetClientByClientID(ctx, rq.Realm.ID, x.ClientID); err == nil {
		return client.Client{}, conflict("Client %s already exists", x.ClientID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return client.Client{}, err
	}

	c := x.ToDomain(rq.Realm.ID)
	if c.ID == "" {
		c.ID = store.NewID()
	}
	applyClientCreateDefaults(x, &c)
	if c.Protocol == protocolSAML {
		if err := samlCreateDefaults(rq, x, &c); err != nil {
			return c, err
		}
	}
	for i := range c.ProtocolMappers {
		if c.ProtocolMappers[i].ID == "" {
			c.ProtocolMappers[i].ID = store.NewID()
		}
	}
	if c.Confidential() && c.Secret == "" {
		setNewClientSecret(rq, &c)
	}
	if err := c.Validate(); err != nil {
		return c, badRequest(err.Error())
	}
	if err := a.validateURLs(rq, c); err != nil {
		return c, err
	}
	if err := validateSAML(c); err != nil {
		return c, err
	}
	if err := rq.applyClientPolicies(&c); err != nil {
		return c, err
	}

	if c.ServiceAccountsEnabled && rq.Caller != nil {
		if err := rq.requireServiceAccount(ctx); err != nil {
			return c, err
		}
	}
	explicitScopes := x.DefaultClientScopes != nil || x.OptionalClientScopes != nil
	err := db.InTx(ctx, func(tx *store.DB) error {
		if err := checkFlowOverrides(ctx, tx, rq.Realm.ID, nil, c.AuthFlowOverrides); err != nil {
			return err
		}
		if err := provision.CreateClient(ctx, tx, c, rq.Now()); err != nil {
			return err
		}
		if err := rq.setupAuthz(ctx, tx, &c, x, true); err != nil {
			return err
		}
		if !explicitScopes {
			return nil
		}
		// Named scopes replace the realm's defaults; names that match no
		// scope are skipped, as Keycloak and our import do.
		links, err := tx.ClientScopeLinks(ctx, c.RealmID, c.ID)
		if err != nil {
			return err
		}
		for _, l := range links {
			if err := tx.UnlinkClientScope(ctx, c.RealmID, c.ID, l.ScopeID); err != nil {
				return err
			}
		}
		for _, set := range []struct {
			names []string
			dflt  bool
		}{{x.DefaultClientScopes, true}, {x.OptionalClientScopes, false}} {
			for _, name := range set.names {
				s, err := tx.GetClientScopeByName(ctx, c.RealmID, name)
				if errors.Is(err, store.ErrNotFound) {
					rq.h.Log.WarnContext(ctx, "client create names a client scope that does not exist", "realm", rq.Realm.Name, "client", c.ClientID, "scope", name)
					continue
				}
				if err != nil {
					return err
				}
				if err := tx.LinkClientScope(ctx, c.RealmID, c.ID, s.ID, set.dflt); err != nil {
					return err
				}
			}
		}
		if c.ServiceAccountsEnabled {
			// Keycloak links service_account after the named scopes.
			if s, err := tx.GetClientScopeByName(ctx, c.RealmID, "service_account"); err == nil {
				return tx.LinkClientScope(ctx, c.RealmID, c.ID, s.ID, true)
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return c, conflict("Client %s already exists", x.ClientID)
	}
	return c, err
}

// applyClientCreateDefaults sets what Keycloak's admin create sets when the
// representation is silent: direct access grants on, implicit flow and
// front-channel logout off; a root URL seeds redirect URIs, web origins and
// the admin URL. A client naming neither publicClient nor bearerOnly is
// public when the representation names its protocol (the protocol's own
// defaults, which Keycloak applies only then, as its console always sends
// one) and otherwise stays confidential, and create gives it a secret.
func applyClientCreateDefaults(x rep.Client, c *client.Client) {
	// SAML clients keep Keycloak's model default (not public).
	if x.Protocol != nil && *x.Protocol != "" && *x.Protocol != protocolSAML && x.PublicClient == nil && x.BearerOnly == nil {
		c.PublicClient = true
		c.Secret = ""
	}
	if x.StandardFlowEnabled == nil {
		c.StandardFlowEnabled = true
	}
	if x.DirectAccessGrantsEnabled == nil {
		c.DirectAccessGrantsEnabled = true
	}
	if x.ImplicitFlowEnabled == nil {
		c.ImplicitFlowEnabled = false
	}
	if x.FrontchannelLogout == nil {
		c.FrontchannelLogout = false
	}
	if x.RootURL != nil && *x.RootURL != "" {
		root := *x.RootURL
		if len(x.RedirectURIs) == 0 {
			if strings.HasSuffix(root, "/") {
				c.RedirectURIs = []string{root + "*"}
			} else {
				c.RedirectURIs = []string{root + "/*"}
			}
			if u, err := url.Parse(root); err == nil && u.Scheme != "" && u.Host != "" {
				c.WebOrigins = []string{u.Scheme + "://" + u.Host}
			}
		}
		if x.AdminURL == nil {
			c.AdminURL = root
		}
	}
}

// clientSecretAlphabet is Keycloak's SecretGenerator alphabet for client secrets.
const clientSecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newClientSecret returns 32 characters from crypto/rand, the length and
// alphabet of Keycloak's generated client secrets.
func newClientSecret() string {
	const n = 32
	out := make([]byte, 0, n)
	buf := make([]byte, 64)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			// 248 is the largest multiple of 62 below 256: no modulo bias.
			if b < 248 && len(out) < n {
				out = append(out, clientSecretAlphabet[int(b)%len(clientSecretAlphabet)])
			}
		}
	}
	return string(out)
}

// setNewClientSecret gives c a fresh secret and records when, as Keycloak's
// client.secret.creation.time attribute (epoch seconds).
// With rotatedLife above zero the replaced secret keeps working that long
// (client.RotateSecret); otherwise it stops at once.
func setNewClientSecret(rq *Request, c *client.Client) {
	c.RotateSecret(newClientSecret(), rq.Now(), 0)
}

// validateURLs applies Keycloak's DefaultClientValidationProvider URL rules:
// no javascript: or data: scheme anywhere (ignoring case, as browsers
// do), no fragment in the root URL or redirect URIs, and root and
// base URLs that parse. The body is Keycloak's for a failed client
// validation. A "*" redirect URI or plain http off localhost is allowed, as
// Keycloak allows it, and logged (SECURITY.md M5).
func (clientsAPI) validateURLs(rq *Request, c client.Client) error {
	invalid := func(msg string) error {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "invalid_input", "error_description": msg}}
	}
	type field struct {
		value                     string
		invalid, fragment, scheme string
		checkValid, checkFragment bool
	}
	fields := []field{
		{c.RootURL, "Root URL is not a valid URL", "Root URL must not contain an URL fragment", "Root URL uses an illegal scheme", true, true},
		{c.BaseURL, "Base URL is not a valid URL", "", "Base URL uses an illegal scheme", true, false},
		{c.Attributes["backchannel.logout.url"], "Backchannel logout URL is not a valid URL", "", "Backchannel logout URL uses an illegal scheme", true, false},
	}
	for _, u := range c.RedirectURIs {
		fields = append(fields, field{u, "A redirect URI is not a valid URI", "Redirect URIs must not contain an URI fragment", "A redirect URI uses an illegal scheme", false, true})
	}
	for _, u := range strings.Split(c.Attributes["post.logout.redirect.uris"], "##") {
		if u != "+" {
			fields = append(fields, field{u, "A redirect URI is not a valid URI", "", "A redirect URI uses an illegal scheme", false, false})
		}
	}
	for _, attr := range []struct{ key, name string }{{"logoUri", "Logo URL"}, {"policyUri", "Policy URL"}, {"tosUri", "Terms of service URL"}} {
		fields = append(fields, field{c.Attributes[attr.key], attr.name + " is not a valid URL", "", attr.name + " uses an illegal scheme", false, false})
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		// Relative URLs resolve against the server, as Keycloak's
		// validation resolves them against a stand-in base URL.
		v := f.value
		for _, p := range []string{"${authBaseUrl}", "${authAdminUrl}"} {
			if strings.HasPrefix(v, p) {
				v = "https://localhost/auth" + strings.TrimPrefix(v, p)
			}
		}
		u, err := url.Parse(v)
		if err != nil {
			return invalid(f.invalid)
		}
		// url.Parse lowercases the scheme: "JavaScript:" is caught too,
		// where Keycloak's case-sensitive comparison lets it through.
		if u.Scheme == "javascript" || u.Scheme == "data" {
			return invalid(f.scheme)
		}
		if f.checkFragment && (u.Fragment != "" || strings.Contains(v, "#")) {
			return invalid(f.fragment)
		}
		if f.checkValid && u.Scheme == "" && !strings.HasPrefix(v, "/") {
			return invalid(f.invalid)
		}
	}
	for _, u := range c.RedirectURIs {
		if p, err := url.Parse(u); u == "*" || err == nil && p.Scheme == "http" && !loopbackRedirectHost(p.Hostname()) {
			rq.h.Log.WarnContext(rq.R.Context(), "client accepts a broad or plain-http redirect URI", "realm", rq.Realm.Name, "client", c.ClientID, "redirect_uri", u)
		}
	}
	return nil
}

func loopbackRedirectHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".localhost")
}

// get is GET /clients/{id}.
func (a clientsAPI) get(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	links, err := rq.h.Store.ClientScopeLinks(rq.R.Context(), rq.Realm.ID, c.ID)
	if err != nil {
		return err
	}
	names, err := a.scopeNames(rq)
	if err != nil {
		return err
	}
	x, err := a.rep(rq, c, links, names)
	if err != nil {
		return err
	}
	return rq.JSON(x)
}

// update is PUT /clients/{id}, a partial update (rep.Client.ApplyTo). The
// service account follows serviceAccountsEnabled and the clientId.
func (a clientsAPI) update(rq *Request) error {
	var x rep.Client
	if err := rq.decode(&x); err != nil {
		return err
	}
	cur, err := a.load(rq)
	if err != nil {
		return err
	}
	if _, err := a.modify(rq, cur, x, nil); err != nil {
		return err
	}
	return rq.NoContent()
}

// modify applies x to the stored client cur and keeps its service account
// in step; the client registration service shares it. A request without a
// Caller comes from that service, authenticated by the client's own
// registration access token: the client's holder may change it. still,
// when set, must accept the stored client inside the transaction (the
// token is still the current one), so two updates racing with one token
// cannot both succeed.
func (a clientsAPI) modify(rq *Request, cur client.Client, x rep.Client, still func(client.Client) error) (client.Client, error) {
	ctx, db := rq.R.Context(), rq.h.Store
	var c client.Client
	x.ClientID = strings.TrimSpace(x.ClientID)
	if (reservedClientID(rq.Realm, cur.ClientID) || x.ClientID != "" && reservedClientID(rq.Realm, x.ClientID)) && !wholeRealmAdmin(rq) {
		return cur, errForbidden
	}
	// Every setting of a client is part of how it authenticates or where its
	// tokens go, so one whose service account outranks the caller is left
	// alone entirely.
	configureOnly := false
	if rq.Caller != nil {
		if err := rq.requireClientTakeover(ctx, cur.ID); err != nil {
			return cur, err
		}
		manage, err := rq.canManageClient(cur)
		if err != nil {
			return cur, err
		}
		if configureOnly = !manage; configureOnly {
			if x.AuthorizationSettings != nil ||
				x.AuthorizationServicesEnabled != nil && *x.AuthorizationServicesEnabled != rq.isResourceServer(cur.ID) {
				return cur, errForbidden
			}
		}
		if x.ServiceAccountsEnabled != nil && *x.ServiceAccountsEnabled && !cur.ServiceAccountsEnabled {
			if err := rq.requireServiceAccount(ctx); err != nil {
				return cur, err
			}
		}
	}
	err := db.InTx(ctx, func(tx *store.DB) error {
		if err := tx.UpdateClient(ctx, rq.Realm.ID, cur.ID, func(old *client.Client) error {
			if still != nil {
				if err := still(*old); err != nil {
					return err
				}
			}
			stored := *old // ApplyTo copies what it changes
			before := maps.Clone(old.AuthFlowOverrides)
			x.ApplyTo(old)
			if configureOnly && !configurable(stored, *old) {
				return errForbidden
			}
			if err := checkFlowOverrides(ctx, tx, rq.Realm.ID, before, old.AuthFlowOverrides); err != nil {
				return err
			}
			for i := range old.ProtocolMappers {
				if old.ProtocolMappers[i].ID == "" {
					old.ProtocolMappers[i].ID = store.NewID()
				}
			}
			// A client made confidential needs a secret to authenticate with.
			if old.Confidential() && old.Secret == "" {
				setNewClientSecret(rq, old)
			}
			if err := old.Validate(); err != nil {
				return badRequest(err.Error())
			}
			if err := a.validateURLs(rq, *old); err != nil {
				return err
			}
			if err := validateSAML(*old); err != nil {
				return err
			}
			if err := rq.applyClientPolicies(old); err != nil {
				return err
			}
			c = *old
			return nil
		}); err != nil {
			return err
		}
		if err := rq.setupAuthz(ctx, tx, &c, x, true); err != nil {
			return err
		}
		sa, err := tx.GetServiceAccount(ctx, rq.Realm.ID, c.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if c.ServiceAccountsEnabled {
				return provision.EnsureServiceAccount(ctx, tx, c, rq.Now())
			}
			return nil
		case err != nil:
			return err
		case !c.ServiceAccountsEnabled:
			return tx.DeleteUser(ctx, rq.Realm.ID, sa.ID)
		case c.ClientID != cur.ClientID:
			return tx.UpdateUser(ctx, rq.Realm.ID, sa.ID, func(u *user.User) error {
				u.Username = user.ServiceAccountPrefix + c.ClientID
				return nil
			})
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return c, conflict("Client already exists")
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, a.notFound()
	}
	return c, err
}

// configurable reports whether a caller who may configure a client but not
// manage it may turn before into after: Keycloak reserves full scope to
// manage; Gatehouse reserves also how the client authenticates (secret,
// authenticator, public or bearer-only, service account, registration
// token, key and secret attributes, flow overrides) and what its tokens
// carry (protocol mappers), which the routes for them already reserve.
func configurable(before, after client.Client) bool {
	if before.FullScopeAllowed != after.FullScopeAllowed || before.Secret != after.Secret ||
		before.ClientAuthenticatorType != after.ClientAuthenticatorType || before.PublicClient != after.PublicClient ||
		before.BearerOnly != after.BearerOnly || before.ServiceAccountsEnabled != after.ServiceAccountsEnabled ||
		before.RegistrationAccessToken != after.RegistrationAccessToken ||
		!maps.Equal(before.AuthFlowOverrides, after.AuthFlowOverrides) {
		return false
	}
	for _, attrs := range []map[string]string{before.Attributes, after.Attributes} {
		for k := range attrs {
			if clientCredentialAttr(k) && before.Attributes[k] != after.Attributes[k] {
				return false
			}
		}
	}
	mappers := func(c client.Client) string {
		xs := make([]rep.ProtocolMapper, len(c.ProtocolMappers))
		for i, m := range c.ProtocolMappers {
			xs[i] = rep.MapperFromDomain(m)
		}
		b, _ := json.Marshal(xs)
		return string(b)
	}
	return mappers(before) == mappers(after)
}

// clientCredentialAttr reports whether a client attribute is part of how
// the client authenticates: its secrets and their times, its keys (the
// certificate routes' "jwt.credential." attributes, JWKS, SAML signing
// certificate) and the algorithm its assertions must use.
func clientCredentialAttr(k string) bool {
	switch k {
	case client.AttrSecretCreationTime, client.AttrRotatedSecretCreationTime, client.AttrRotatedSecretExpirationTime,
		"use.jwks.url", "jwks.url", "use.jwks.string", "jwks.string", "token.endpoint.auth.signing.alg",
		saml.AttrSigningCertificate:
		return true
	}
	return slices.Contains(clientSecretAttrs, k) || strings.HasPrefix(k, "jwt.credential.")
}

// delete is DELETE /clients/{id}: the client goes with its roles, scope
// links, service account, sessions and consents.
func (a clientsAPI) delete(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	if reservedClientID(rq.Realm, c.ClientID) && !wholeRealmAdmin(rq) {
		return errForbidden
	}
	err = adminperm.DeleteClient(rq.R.Context(), rq.h.Store, rq.Realm.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// clientSecretRep is the CredentialRepresentation of a client secret.
type clientSecretRep struct {
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
}

func (a clientsAPI) getSecret(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	if err := rq.requireClientTakeover(rq.R.Context(), c.ID); err != nil {
		return err
	}
	return rq.JSON(clientSecretRep{Type: "secret", Value: c.Secret})
}

// regenerateSecret is POST /clients/{id}/client-secret: the old secret stops
// working at once, unless a secret-rotation client policy keeps it as the
// rotated secret for a while.
func (a clientsAPI) regenerateSecret(rq *Request) error {
	set, err := clientpolicy.FromRealm(rq.Realm.ClientProfiles, rq.Realm.ClientPolicies)
	if err != nil {
		return err
	}
	c, err := a.editClient(rq, func(c *client.Client) error {
		c.RotateSecret(newClientSecret(), rq.Now(), set.RotatedSecretLife(*c))
		return nil
	})
	if err != nil {
		return err
	}
	return rq.JSON(clientSecretRep{Type: "secret", Value: c.Secret})
}

// linkedScopeRep is how a client's scope lists show a scope: id and name only.
type linkedScopeRep struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (a clientsAPI) scopes(dflt bool) endpoint {
	return func(rq *Request) error {
		c, err := a.load(rq)
		if err != nil {
			return err
		}
		links, err := rq.h.Store.ClientScopeLinks(rq.R.Context(), rq.Realm.ID, c.ID)
		if err != nil {
			return err
		}
		names, err := a.scopeNames(rq)
		if err != nil {
			return err
		}
		out := []linkedScopeRep{}
		for _, l := range links {
			if l.Default == dflt {
				out = append(out, linkedScopeRep{ID: l.ScopeID, Name: names[l.ScopeID]})
			}
		}
		return rq.JSON(out)
	}
}

func (a clientsAPI) scope(rq *Request) (client.Scope, error) {
	s, err := rq.h.Store.GetClientScope(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("scopeId"))
	if errors.Is(err, store.ErrNotFound) {
		return s, notFound("Client scope not found")
	}
	return s, err
}

// linkScope is PUT .../default-client-scopes/{scopeId} (or optional): a
// scope linked the other way changes sides.
func (a clientsAPI) linkScope(dflt bool) endpoint {
	return func(rq *Request) error {
		c, err := a.load(rq)
		if err != nil {
			return err
		}
		s, err := a.scope(rq)
		if err != nil {
			return err
		}
		if err := rq.h.Store.LinkClientScope(rq.R.Context(), rq.Realm.ID, c.ID, s.ID, dflt); err != nil {
			return err
		}
		return rq.NoContent()
	}
}

// unlinkScope is DELETE .../default-client-scopes/{scopeId} (or optional).
// Like Keycloak it removes the link whichever side it is on, and removing a
// link that does not exist is not an error.
func (a clientsAPI) unlinkScope(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	s, err := a.scope(rq)
	if err != nil {
		return err
	}
	if err := rq.h.Store.UnlinkClientScope(rq.R.Context(), rq.Realm.ID, c.ID, s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return rq.NoContent()
}

// serviceAccount is GET /clients/{id}/service-account-user. A client with
// service accounts on but no user yet gets one, as in Keycloak.
func (a clientsAPI) serviceAccount(rq *Request) error {
	ctx, db := rq.R.Context(), rq.h.Store
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	u, err := db.GetServiceAccount(ctx, rq.Realm.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		if !c.ServiceAccountsEnabled {
			return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{
				"error": "Service account not enabled for the client '" + c.ClientID + "'"}}
		}
		if err := rq.requireServiceAccount(ctx); err != nil {
			return err
		}
		if err := provision.EnsureServiceAccount(ctx, db, c, rq.Now()); err != nil {
			return err
		}
		u, err = db.GetServiceAccount(ctx, rq.Realm.ID, c.ID)
	}
	if err != nil {
		return err
	}
	x, err := listedUser(rq, u, false)
	if err != nil {
		return err
	}
	return rq.JSON(x)
}

// clientSessionListing is Keycloak's UserSessionRepresentation.
type clientSessionListing struct {
	ID            string            `json:"id"`
	Username      string            `json:"username"`
	UserID        string            `json:"userId"`
	IPAddress     string            `json:"ipAddress"`
	Start         int64             `json:"start"`
	LastAccess    int64             `json:"lastAccess"`
	RememberMe    bool              `json:"rememberMe"`
	Clients       map[string]string `json:"clients"`
	TransientUser bool              `json:"transientUser"`
}

// sessions is GET /clients/{id}/user-sessions (or offline-sessions). For an
// offline session lastAccess is when this client last refreshed, as
// Keycloak reports it.
func (a clientsAPI) sessions(offline bool) endpoint {
	return func(rq *Request) error {
		first, max, err := rq.Page()
		if err != nil {
			return err
		}
		c, err := a.load(rq)
		if err != nil {
			return err
		}
		ss, err := rq.h.Store.ListClientUserSessions(rq.R.Context(), rq.Realm.ID, c.ID, offline, first, max)
		if err != nil {
			return err
		}
		out := make([]clientSessionListing, 0, len(ss))
		for _, s := range ss {
			last := s.Session.LastRefresh
			if offline {
				last = s.ClientTimestamp
			}
			out = append(out, clientSessionListing{
				ID: s.Session.ID, Username: s.Username, UserID: s.Session.UserID, IPAddress: s.Session.IPAddress,
				Start: s.Session.Started * 1000, LastAccess: last * 1000, RememberMe: s.Session.RememberMe, Clients: s.Clients,
			})
		}
		return rq.JSON(out)
	}
}

func (a clientsAPI) sessionCount(offline bool) endpoint {
	return func(rq *Request) error {
		c, err := a.load(rq)
		if err != nil {
			return err
		}
		n, err := rq.h.Store.CountClientSessions(rq.R.Context(), c.ID, offline)
		if err != nil {
			return err
		}
		return rq.JSON(map[string]int{"count": n})
	}
}

func (clientsAPI) mapperNotFound() error { return notFound("Model not found") }

func (a clientsAPI) mappers(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	out := make([]rep.ProtocolMapper, 0, len(c.ProtocolMappers))
	for _, m := range c.ProtocolMappers {
		out = append(out, rep.MapperFromDomain(m))
	}
	return rq.JSON(out)
}

func (a clientsAPI) mappersByProtocol(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	out := []rep.ProtocolMapper{}
	for _, m := range c.ProtocolMappers {
		if m.Protocol == rq.R.PathValue("protocol") {
			out = append(out, rep.MapperFromDomain(m))
		}
	}
	return rq.JSON(out)
}

func (a clientsAPI) mapper(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	for _, m := range c.ProtocolMappers {
		if m.ID == rq.R.PathValue("mid") {
			return rq.JSON(rep.MapperFromDomain(m))
		}
	}
	return a.mapperNotFound()
}

// newMapper checks a mapper from a request body as client scopes' mappers
// are checked (checkProtocolMapper) and gives it a new id.
func (clientsAPI) newMapper(x rep.ProtocolMapper, c client.Client) (client.ProtocolMapper, error) {
	m := x.ToDomain()
	m.ID = store.NewID()
	if err := checkProtocolMapper(&m, c.Protocol); err != nil {
		return m, err
	}
	return m, nil
}

// addMapper appends m unless another mapper of the client has its protocol
// and name, which Keycloak refuses.
func (clientsAPI) addMapper(c *client.Client, m client.ProtocolMapper) error {
	for _, o := range c.ProtocolMappers {
		if o.ID != m.ID && o.Protocol == m.Protocol && o.Name == m.Name {
			return conflict("Protocol mapper exists with same name")
		}
	}
	c.ProtocolMappers = append(slices.Clone(c.ProtocolMappers), m)
	return nil
}

// createMapper is POST .../protocol-mappers/models: 201 with the mapper's Location.
func (a clientsAPI) createMapper(rq *Request) error {
	var x rep.ProtocolMapper
	if err := rq.decode(&x); err != nil {
		return err
	}
	var id string
	err := rq.h.Store.UpdateClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"), func(c *client.Client) error {
		m, err := a.newMapper(x, *c)
		if err != nil {
			return err
		}
		id = m.ID
		return a.addMapper(c, m)
	})
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/clients/" + rq.R.PathValue("id") + "/protocol-mappers/models/" + id))
}

// addMappers is POST .../protocol-mappers/add-models: all or none.
func (a clientsAPI) addMappers(rq *Request) error {
	var xs []rep.ProtocolMapper
	if err := rq.decode(&xs); err != nil {
		return err
	}
	err := rq.h.Store.UpdateClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"), func(c *client.Client) error {
		for _, x := range xs {
			m, err := a.newMapper(x, *c)
			if err != nil {
				return err
			}
			if err := a.addMapper(c, m); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// updateMapper is PUT .../models/{mid}: the mapper is replaced, keeping its id.
func (a clientsAPI) updateMapper(rq *Request) error {
	var x rep.ProtocolMapper
	if err := rq.decode(&x); err != nil {
		return err
	}
	mid := rq.R.PathValue("mid")
	err := rq.h.Store.UpdateClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"), func(c *client.Client) error {
		i := slices.IndexFunc(c.ProtocolMappers, func(m client.ProtocolMapper) bool { return m.ID == mid })
		if i < 0 {
			return a.mapperNotFound()
		}
		m, err := a.newMapper(x, *c)
		if err != nil {
			return err
		}
		m.ID = mid
		rest := slices.Delete(slices.Clone(c.ProtocolMappers), i, i+1)
		c.ProtocolMappers = rest
		if err := a.addMapper(c, m); err != nil {
			return err
		}
		// Keep the mapper where it was.
		last := len(c.ProtocolMappers) - 1
		c.ProtocolMappers = slices.Insert(c.ProtocolMappers[:last], i, c.ProtocolMappers[last])
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

func (a clientsAPI) deleteMapper(rq *Request) error {
	mid := rq.R.PathValue("mid")
	err := rq.h.Store.UpdateClient(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"), func(c *client.Client) error {
		i := slices.IndexFunc(c.ProtocolMappers, func(m client.ProtocolMapper) bool { return m.ID == mid })
		if i < 0 {
			return a.mapperNotFound()
		}
		c.ProtocolMappers = slices.Delete(slices.Clone(c.ProtocolMappers), i, i+1)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return a.notFound()
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}

// checkFlowOverrides refuses authentication flow binding overrides that
// changed and name, by id, a flow the realm lacks or one naming an
// authenticator Gatehouse does not run (rep.CheckOverrides).
func checkFlowOverrides(ctx context.Context, tx *store.DB, realmID string, before, after map[string]string) error {
	changed := map[string]string{}
	for k, v := range after {
		if before[k] != v {
			changed[k] = v
		}
	}
	if len(changed) == 0 {
		return nil
	}
	c, err := tx.GetAuthConfig(ctx, realmID)
	if err != nil {
		return err
	}
	if err := rep.CheckOverrides(c, changed); err != nil {
		return badRequest(err.Error())
	}
	return nil
}
