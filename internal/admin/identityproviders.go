package admin

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/adminperm"
	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Identity providers, their mappers and users' links to them, under
// /admin/realms/{realm}/identity-provider and /users/{id}/federated-identity.
//
// Reading takes view-identity-providers (which manage-identity-providers,
// view-realm and manage-realm imply), writing manage-identity-providers.
// Secrets (clientSecret) are masked on every read; an update that sends the
// mask back keeps the stored secret.
func (h *Handler) identityProviderRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/identity-provider"
	h.handle(mux, "GET "+base+"/providers/{providerId}", "", h.idpRead(h.identityProviderKind))
	h.handle(mux, "POST "+base+"/import-config", "manage-identity-providers", h.importIdentityProviderConfig)
	h.handle(mux, "GET "+base+"/instances", "", h.idpRead(h.listIdentityProviders))
	h.handle(mux, "POST "+base+"/instances", "manage-identity-providers", h.createIdentityProvider)
	h.handle(mux, "GET "+base+"/instances/{alias}", "", h.idpRead(h.getIdentityProvider))
	h.handle(mux, "PUT "+base+"/instances/{alias}", "manage-identity-providers", h.updateIdentityProvider)
	h.handle(mux, "DELETE "+base+"/instances/{alias}", "manage-identity-providers", h.deleteIdentityProvider)
	h.handle(mux, "GET "+base+"/instances/{alias}/mapper-types", "", h.idpRead(h.identityProviderMapperTypes))
	h.handle(mux, "GET "+base+"/instances/{alias}/mappers", "", h.idpRead(h.listIdentityProviderMappers))
	h.handle(mux, "POST "+base+"/instances/{alias}/mappers", "manage-identity-providers", h.createIdentityProviderMapper)
	h.handle(mux, "GET "+base+"/instances/{alias}/mappers/{id}", "", h.idpRead(h.getIdentityProviderMapper))
	h.handle(mux, "PUT "+base+"/instances/{alias}/mappers/{id}", "manage-identity-providers", h.updateIdentityProviderMapper)
	h.handle(mux, "DELETE "+base+"/instances/{alias}/mappers/{id}", "manage-identity-providers", h.deleteIdentityProviderMapper)
	h.handle(mux, "GET "+base+"/instances/{alias}/management/permissions", "", h.idpRead(h.identityProviderPermissions))
	h.handle(mux, "PUT "+base+"/instances/{alias}/management/permissions", "manage-identity-providers", h.identityProviderPermissions)

	const users = "/admin/realms/{realm}/users/{id}/federated-identity"
	h.handle(mux, "GET "+users, "view-users@user.view", h.listFederatedIdentities)
	h.handle(mux, "POST "+users+"/{provider}", "manage-users@user.manage", h.addFederatedIdentity)
	h.handle(mux, "DELETE "+users+"/{provider}", "manage-users@user.manage", h.removeFederatedIdentity)
}

// idpRead guards a read: the caller needs view-identity-providers or may
// view the realm.
func (h *Handler) idpRead(fn endpoint) endpoint {
	return func(rq *Request) error {
		if !rq.Can("view-identity-providers") && !rq.Can("view-realm") {
			return errForbidden
		}
		return fn(rq)
	}
}

// Keycloak's answers for identity providers.
var (
	errIDPNotFound       = notFound("HTTP 404 Not Found")
	errIDPMapperNotFound = notFound("Model not found")
	errLinkNotFound      = notFound("Link not found")
)

func idpExists(alias string) error { return conflict("Identity Provider %s already exists", alias) }

// loadIdentityProvider finds the provider the path names, by alias or by
// internal id.
func (h *Handler) loadIdentityProvider(rq *Request) (idp.Provider, error) {
	ctx, key := rq.R.Context(), rq.R.PathValue("alias")
	p, err := h.Store.GetIdentityProvider(ctx, rq.Realm.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		p, err = h.Store.GetIdentityProviderByID(ctx, rq.Realm.ID, key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return idp.Provider{}, errIDPNotFound
	}
	return p, err
}

// identityProviderPermissions answers GET and PUT
// .../management/permissions: the provider's fine-grained admin
// permissions (package adminperm), whose one scope, token-exchange, is
// Keycloak's permission to exchange tokens to and from the provider.
// Gatehouse's token exchange is the standard one between a realm's own
// clients, which asks no permission: the switch and the permission are
// kept, shown and exported, and decide nothing yet.
func (h *Handler) identityProviderPermissions(rq *Request) error {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	return managementPermissions(rq, adminperm.IdentityProvider, p.InternalID)
}

// identityProviderKind answers GET /identity-provider/providers/{id}: the
// provider kind's id and name.
func (h *Handler) identityProviderKind(rq *Request) error {
	k, ok := idp.Kinds[rq.R.PathValue("providerId")]
	if !ok {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "HTTP 400 Bad Request"}}
	}
	return rq.JSON(map[string]string{"id": k.ID, "name": k.Name})
}

func (h *Handler) listIdentityProviders(rq *Request) error {
	first, max, err := rq.Page()
	if err != nil {
		return err
	}
	ps, err := h.Store.ListIdentityProviders(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return err
	}
	match := searchMatcher(rq.R.URL.Query().Get("search"))
	brief := rq.Bool("briefRepresentation", false)
	out := []rep.IdentityProvider{}
	for _, p := range ps {
		if !match(p.Alias) {
			continue
		}
		if first > 0 {
			first--
			continue
		}
		if len(out) == max {
			break
		}
		x := rep.IdentityProviderFromDomain(p).Masked()
		if brief {
			x = x.Brief()
		}
		out = append(out, x)
	}
	return rq.JSON(out)
}

// searchMatcher is the list's search parameter: "name*" a prefix,
// "*name*" a substring, "\"name\"" the exact alias, a bare word a prefix;
// case-insensitive.
func searchMatcher(s string) func(string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return func(string) bool { return true }
	}
	if len(s) > 1 && strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`) {
		exact := s[1 : len(s)-1]
		return func(a string) bool { return a == exact }
	}
	contains := strings.HasPrefix(s, "*")
	s = strings.ToLower(strings.Trim(s, "*"))
	return func(a string) bool {
		a = strings.ToLower(a)
		if contains {
			return strings.Contains(a, s)
		}
		return strings.HasPrefix(a, s)
	}
}

func (h *Handler) getIdentityProvider(rq *Request) error {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	return rq.JSON(rep.IdentityProviderFromDomain(p).Masked())
}

// checkIdentityProvider answers a provider the realm cannot store with
// Keycloak's 400.
// A provider that stores tokens or grants read-token needs the broker
// client and its read-token role, which every realm gets; one whose broker
// client was deleted gets it back.
func (h *Handler) checkIdentityProvider(rq *Request, p idp.Provider) error {
	ctx := rq.R.Context()
	if err := rep.CheckProvider(ctx, h.Store, rq.Realm, p); idp.IsValidationError(err) {
		return badRequest(err.Error())
	} else if err != nil {
		return err
	}
	if p.StoreToken || p.AddReadTokenRoleOnCreate {
		if _, _, err := provision.EnsureBroker(ctx, h.Store, rq.Realm.ID, rq.Now()); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) createIdentityProvider(rq *Request) error {
	var x rep.IdentityProvider
	if err := rq.decode(&x); err != nil {
		return err
	}
	p := x.ToDomain()
	p.InternalID = "" // ids are the server's
	if err := h.checkIdentityProvider(rq, p); err != nil {
		return err
	}
	if _, err := h.Store.CreateIdentityProvider(rq.R.Context(), rq.Realm.ID, p); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return idpExists(p.Alias)
		}
		if idp.IsValidationError(err) {
			return badRequest(err.Error())
		}
		return err
	}
	h.warnSAMLRefused(rq, p)
	return rq.Created(rq.URL("/identity-provider/instances/" + p.Alias))
}

// warnSAMLRefused logs, for a SAML provider stored as given whose every
// login will be refused (no signature validation, or no certificate for
// it, as an imported realm may have), why, so the administrator learns it
// before a user does.
func (h *Handler) warnSAMLRefused(rq *Request, p idp.Provider) {
	if !idp.Kinds[p.ProviderID].SAML {
		return
	}
	if why := idp.SAMLLoginsRefused(p.Config); why != "" {
		h.Log.WarnContext(rq.R.Context(), "SAML identity provider refuses logins as configured", "realm", rq.Realm.Name, "alias", p.Alias, "reason", why)
	}
}

func (h *Handler) updateIdentityProvider(rq *Request) error {
	cur, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	var x rep.IdentityProvider
	if err := rq.decode(&x); err != nil {
		return err
	}
	if x.Alias != "" && x.Alias != cur.Alias {
		return badRequest("Identity Provider alias cannot be changed")
	}
	p := x.ToDomain()
	p.Alias, p.InternalID = cur.Alias, cur.InternalID
	if p.ProviderID == "" {
		p.ProviderID = cur.ProviderID
	}
	idp.KeepMaskedSecrets(p.Config, cur.Config)
	if err := h.checkIdentityProvider(rq, p); err != nil {
		return err
	}
	err = h.Store.UpdateIdentityProvider(rq.R.Context(), rq.Realm.ID, cur.Alias, func(s *idp.Provider) error {
		*s = p
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errIDPNotFound
	case idp.IsValidationError(err):
		return badRequest(err.Error())
	case err != nil:
		return err
	}
	h.warnSAMLRefused(rq, p)
	return rq.NoContent()
}

// deleteIdentityProvider removes the provider with its mappers and every
// user's link to it.
func (h *Handler) deleteIdentityProvider(rq *Request) error {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	ctx := rq.R.Context()
	err = adminperm.DeleteIdentityProvider(ctx, h.Store, rq.Realm.ID, p.Alias)
	if errors.Is(err, store.ErrNotFound) {
		return errIDPNotFound
	} else if err != nil {
		return err
	}
	return rq.NoContent()
}

// mapperTypeRep is Keycloak's IdentityProviderMapperTypeRepresentation.
type mapperTypeRep struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Category   string           `json:"category"`
	HelpText   string           `json:"helpText"`
	Properties []configProperty `json:"properties"`
}

func (h *Handler) identityProviderMapperTypes(rq *Request) error {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	out := map[string]mapperTypeRep{}
	for _, t := range idp.MapperTypesFor(p.ProviderID) {
		x := mapperTypeRep{ID: t.ID, Name: t.Name, Category: t.Category, HelpText: t.HelpText, Properties: []configProperty{}}
		for _, pr := range t.Properties {
			cp := configProperty{Name: pr.Name, Label: pr.Label, HelpText: pr.HelpText, Type: pr.Type, Options: pr.Options}
			if pr.Default != "" {
				cp.DefaultValue = pr.Default
			}
			x.Properties = append(x.Properties, cp)
		}
		out[t.ID] = x
	}
	return rq.JSON(out)
}

func (h *Handler) listIdentityProviderMappers(rq *Request) error {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	ms, err := h.Store.ListIdentityProviderMappers(rq.R.Context(), rq.Realm.ID, p.Alias)
	if err != nil {
		return err
	}
	out := []rep.IdentityProviderMapper{}
	for _, m := range ms {
		out = append(out, rep.IdentityProviderMapperFromDomain(m))
	}
	return rq.JSON(out)
}

// loadIdentityProviderMapper finds the provider, then its mapper the path
// names.
func (h *Handler) loadIdentityProviderMapper(rq *Request) (idp.Provider, idp.Mapper, error) {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return p, idp.Mapper{}, err
	}
	m, err := h.Store.GetIdentityProviderMapper(rq.R.Context(), rq.Realm.ID, rq.R.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.IdentityProviderAlias != p.Alias) {
		return p, idp.Mapper{}, errIDPMapperNotFound
	}
	return p, m, err
}

func (h *Handler) getIdentityProviderMapper(rq *Request) error {
	_, m, err := h.loadIdentityProviderMapper(rq)
	if err != nil {
		return err
	}
	return rq.JSON(rep.IdentityProviderMapperFromDomain(m))
}

// checkIdentityProviderMapper checks a mapper fits its provider and that
// what it names exists; the roles it grants (its role, or its group's) to
// whoever signs in must be roles the caller may grant.
func (h *Handler) checkIdentityProviderMapper(rq *Request, p idp.Provider, m idp.Mapper) error {
	ctx := rq.R.Context()
	grants, err := rep.CheckProviderMapper(ctx, h.Store, rq.Realm.ID, p.ProviderID, m)
	if idp.IsValidationError(err) {
		return badRequest(err.Error())
	}
	if err != nil {
		return err
	}
	if len(grants) > 0 {
		return rq.requireConfer(ctx, grants...)
	}
	return nil
}

func (h *Handler) createIdentityProviderMapper(rq *Request) error {
	p, err := h.loadIdentityProvider(rq)
	if err != nil {
		return err
	}
	var x rep.IdentityProviderMapper
	if err := rq.decode(&x); err != nil {
		return err
	}
	m := x.ToDomain()
	m.ID, m.IdentityProviderAlias = store.NewID(), p.Alias
	if err := h.checkIdentityProviderMapper(rq, p, m); err != nil {
		return err
	}
	m, err = h.Store.CreateIdentityProviderMapper(rq.R.Context(), rq.Realm.ID, m)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || idp.IsValidationError(err) {
		return badRequest(fmt.Sprintf("Failed to add mapper '%s' to identity provider [%s].", x.Name, p.ProviderID))
	}
	if err != nil {
		return err
	}
	return rq.Created(rq.URL("/identity-provider/instances/" + p.Alias + "/mappers/" + m.ID))
}

func (h *Handler) updateIdentityProviderMapper(rq *Request) error {
	p, cur, err := h.loadIdentityProviderMapper(rq)
	if err != nil {
		return err
	}
	var x rep.IdentityProviderMapper
	if err := rq.decode(&x); err != nil {
		return err
	}
	m := x.ToDomain()
	m.ID, m.IdentityProviderAlias = cur.ID, p.Alias
	if m.IdentityProviderMapper == "" {
		m.IdentityProviderMapper = cur.IdentityProviderMapper
	}
	if err := h.checkIdentityProviderMapper(rq, p, m); err != nil {
		return err
	}
	err = h.Store.UpdateIdentityProviderMapper(rq.R.Context(), rq.Realm.ID, cur.ID, func(s *idp.Mapper) error {
		*s = m
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errIDPMapperNotFound
	case errors.Is(err, store.ErrConflict):
		return conflict("Mapper %s already exists for identity provider %s", m.Name, p.Alias)
	case idp.IsValidationError(err):
		return badRequest(err.Error())
	case err != nil:
		return err
	}
	return rq.NoContent()
}

func (h *Handler) deleteIdentityProviderMapper(rq *Request) error {
	_, m, err := h.loadIdentityProviderMapper(rq)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteIdentityProviderMapper(rq.R.Context(), rq.Realm.ID, m.ID); errors.Is(err, store.ErrNotFound) {
		return errIDPMapperNotFound
	} else if err != nil {
		return err
	}
	return rq.NoContent()
}

// maxDiscoveryDocument bounds a discovery document, uploaded or fetched.
const maxDiscoveryDocument = 512 << 10

// importIdentityProviderConfig answers POST /identity-provider/import-config:
// the configuration a discovery document gives, from an uploaded file
// (multipart: providerId and file) or from a URL (JSON: providerId and
// fromUrl), fetched through the outbound client, which refuses loopback and
// private addresses unless the server allows them. Nothing is stored.
func (h *Handler) importIdentityProviderConfig(rq *Request) error {
	ct, _, _ := mime.ParseMediaType(rq.R.Header.Get("Content-Type"))
	var providerID, fromURL string
	var doc []byte
	switch ct {
	case "multipart/form-data":
		rq.R.Body = http.MaxBytesReader(rq.W, rq.R.Body, maxDiscoveryDocument+64<<10)
		if err := rq.R.ParseMultipartForm(maxDiscoveryDocument); err != nil {
			return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "HTTP 400 Bad Request"}}
		}
		defer rq.R.MultipartForm.RemoveAll()
		providerID = rq.R.FormValue("providerId")
		f, _, err := rq.R.FormFile("file")
		if providerID == "" || err != nil {
			return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "HTTP 400 Bad Request"}}
		}
		defer f.Close()
		if doc, err = io.ReadAll(io.LimitReader(f, maxDiscoveryDocument+1)); err != nil {
			return err
		}
		if len(doc) > maxDiscoveryDocument {
			return badRequest("The discovery document is too large")
		}
	default:
		var body map[string]any
		if err := rq.decode(&body); err != nil {
			return err
		}
		p, _ := body["providerId"].(string)
		u, _ := body["fromUrl"].(string)
		if p == "" || u == "" {
			return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "HTTP 400 Bad Request"}}
		}
		if a, ok := body["alias"].(string); ok {
			if err := idp.CheckAlias(a); err != nil && strings.TrimSpace(a) != "" {
				return badRequest(err.Error())
			}
		}
		providerID, fromURL = p, u
	}
	k, ok := idp.Kinds[providerID]
	if !ok {
		return badRequest("Invalid identity provider id [" + providerID + "]")
	}
	if fromURL != "" {
		accept := "application/json"
		if k.SAML {
			accept = "application/samlmetadata+xml, application/xml, text/xml"
		}
		res, err := h.outbound().Get(rq.R.Context(), fromURL, http.Header{"Accept": {accept}}, maxDiscoveryDocument)
		if errors.Is(err, outbound.ErrForbiddenAddress) {
			return badRequest("The address of the discovery URL is not allowed")
		}
		if err != nil || res.Status != http.StatusOK {
			h.Log.InfoContext(rq.R.Context(), "identity provider discovery document not fetched", "status", statusOf(res), "err", err)
			return badRequest("Could not fetch the discovery document")
		}
		doc = res.Body
	}
	cfg := map[string]string{}
	if k.OIDC {
		parsed, err := idp.ConfigFromDiscovery(doc)
		if err != nil {
			return badRequest("Could not read the discovery document: " + err.Error())
		}
		maps.Copy(cfg, parsed)
	}
	if k.SAML {
		md, err := saml.ParseIdPMetadata(doc)
		if err != nil {
			h.Log.InfoContext(rq.R.Context(), "identity provider SAML metadata not read", "err", err)
			return badRequest("Could not parse IdP SAML Metadata")
		}
		maps.Copy(cfg, broker.SAMLConfigFromMetadata(md))
	}
	if fromURL != "" {
		cfg[idp.ConfigMetadataDescriptorURL] = fromURL
	} else if cfg["syncMode"] == "" {
		cfg["syncMode"] = idp.SyncLegacy
	}
	return rq.JSON(cfg)
}

func statusOf(r *outbound.Response) int {
	if r == nil {
		return 0
	}
	return r.Status
}

// outbound is the handler's outbound client, or one with the defaults
// (private addresses refused).
func (h *Handler) outbound() *outbound.Client {
	if h.Outbound != nil {
		return h.Outbound
	}
	return outbound.New(outbound.Options{})
}

// listFederatedIdentities answers GET /users/{id}/federated-identity.
func (h *Handler) listFederatedIdentities(rq *Request) error {
	u, err := userAPI{}.load(rq)
	if err != nil {
		return err
	}
	links, err := h.Store.ListFederatedIdentities(rq.R.Context(), rq.Realm.ID, u.ID)
	if err != nil {
		return err
	}
	out := []rep.FederatedIdentity{}
	for _, f := range links {
		out = append(out, rep.FederatedIdentityFromDomain(f))
	}
	return rq.JSON(out)
}

// addFederatedIdentity answers POST /users/{id}/federated-identity/{provider}:
// the path's provider wins over the body's. Whoever controls the upstream
// account signs in as the user, so the caller must be able to confer the
// user's roles (requireTakeover), as for the user's credentials.
func (h *Handler) addFederatedIdentity(rq *Request) error {
	u, err := userAPI{}.load(rq)
	if err != nil {
		return err
	}
	if err := rq.requireTakeover(rq.R.Context(), u.ID); err != nil {
		return err
	}
	var x rep.FederatedIdentity
	if err := rq.decode(&x); err != nil {
		return err
	}
	alias := rq.R.PathValue("provider")
	ctx := rq.R.Context()
	if _, err := h.Store.GetFederatedIdentity(ctx, rq.Realm.ID, u.ID, alias); err == nil {
		return conflict("User is already linked with provider")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := h.Store.GetIdentityProvider(ctx, rq.Realm.ID, alias); errors.Is(err, store.ErrNotFound) {
		return notFound("Identity provider not found")
	} else if err != nil {
		return err
	}
	f := idp.FederatedIdentity{UserID: u.ID, Alias: alias, FederatedUserID: x.UserID, FederatedUsername: x.UserName}
	err = h.Store.AddFederatedIdentity(ctx, rq.Realm.ID, f)
	switch {
	case idp.IsValidationError(err):
		return badRequest(err.Error())
	case errors.Is(err, store.ErrConflict):
		return conflict("The identity provider account is already linked to another user")
	case errors.Is(err, store.ErrNotFound):
		return notFound("Identity provider not found")
	case err != nil:
		return err
	}
	return rq.NoContent()
}

func (h *Handler) removeFederatedIdentity(rq *Request) error {
	u, err := userAPI{}.load(rq)
	if err != nil {
		return err
	}
	if err := h.Store.RemoveFederatedIdentity(rq.R.Context(), rq.Realm.ID, u.ID, rq.R.PathValue("provider")); errors.Is(err, store.ErrNotFound) {
		return errLinkNotFound
	} else if err != nil {
		return err
	}
	return rq.NoContent()
}
