package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/userstorage"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The user storage actions of the admin API: testing a directory
// connection or bind before saving a provider, reading a directory's
// capabilities, a provider's name for the user details page, and, on a
// saved provider, removing or unlinking its imported users and running a
// sync (usersync.go).
func (h *Handler) userStorageRoutes(mux Mux) {
	const realm = "/admin/realms/{realm}"
	h.handle(mux, "POST "+realm+"/testLDAPConnection", "manage-realm", h.testLDAPConnection)
	h.handle(mux, "POST "+realm+"/ldap-server-capabilities", "manage-realm", h.ldapCapabilities)
	const base = realm + "/user-storage/{id}"
	h.handle(mux, "GET "+base+"/name", "query-users", h.userStorageName)
	h.handle(mux, "POST "+base+"/remove-imported-users", "manage-users", h.removeImportedUsers)
	h.handle(mux, "POST "+base+"/unlink-users", "manage-users", h.unlinkUsers)
	h.userSyncRoutes(mux)
}

// ldapTestRep is Keycloak's TestLdapConnectionRepresentation.
type ldapTestRep struct {
	Action            string `json:"action"`
	ConnectionURL     string `json:"connectionUrl"`
	BindDN            string `json:"bindDn"`
	BindCredential    string `json:"bindCredential"`
	UseTruststoreSPI  string `json:"useTruststoreSpi"`
	ConnectionTimeout string `json:"connectionTimeout"`
	ComponentID       string `json:"componentId"`
	StartTLS          string `json:"startTls"`
	AuthType          string `json:"authType"`
}

// decodeLDAPTest reads the test settings, as JSON or, as older consoles
// send them, as a form.
func (rq *Request) decodeLDAPTest() (ldapTestRep, error) {
	var in ldapTestRep
	if strings.HasPrefix(rq.R.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := rq.R.ParseForm(); err != nil {
			return in, errBadJSON
		}
		f := rq.R.PostForm
		in = ldapTestRep{Action: f.Get("action"), ConnectionURL: f.Get("connectionUrl"), BindDN: f.Get("bindDn"),
			BindCredential: f.Get("bindCredential"), UseTruststoreSPI: f.Get("useTruststoreSpi"),
			ConnectionTimeout: f.Get("connectionTimeout"), ComponentID: f.Get("componentId"), StartTLS: f.Get("startTls"),
			AuthType: f.Get("authType")}
		return in, nil
	}
	return in, rq.decode(&in)
}

// ldapTestConfig turns the test settings into a provider config. With a
// componentId, the masked bind credential stands for the one stored on
// that provider of the realm.
func (h *Handler) ldapTestConfig(rq *Request, in ldapTestRep) (ldap.Config, error) {
	cfg := map[string][]string{
		ldap.KeyConnectionURL: {in.ConnectionURL}, ldap.KeyBindDN: {in.BindDN}, ldap.KeyBindCredential: {in.BindCredential},
		ldap.KeyEditMode: {string(ldap.ReadOnly)}, ldap.KeyConnectionPooling: {"false"},
	}
	if in.ComponentID != "" && in.BindCredential == secret.Mask {
		c, err := h.Store.GetComponent(rq.R.Context(), rq.Realm.ID, in.ComponentID)
		if errors.Is(err, store.ErrNotFound) || err == nil && c.ProviderType != ldap.ProviderType {
			return ldap.Config{}, errComponentNotFound
		}
		if err != nil {
			return ldap.Config{}, err
		}
		if err := userstorage.KeepMasked(c.ProviderType, c.Config, cfg); err != nil {
			return ldap.Config{}, componentErr(err)
		}
	}
	for k, v := range map[string]string{ldap.KeyUseTruststoreSPI: in.UseTruststoreSPI, ldap.KeyConnectionTimeout: in.ConnectionTimeout,
		ldap.KeyStartTLS: in.StartTLS, ldap.KeyAuthType: in.AuthType} {
		if v != "" {
			cfg[k] = []string{v}
		}
	}
	c, err := userstorage.CheckProvider(ldap.ProviderID, cfg)
	if err != nil {
		return c, componentErr(err)
	}
	if len(c.ConnectionURLs) == 0 {
		return c, badRequest("MalformedURL")
	}
	return c, nil
}

// ldapFailure is the 400 of a directory that failed a test, with the code
// of the failure; the reason is logged without any credential.
func (h *Handler) ldapFailure(rq *Request, what string, err error) error {
	h.Log.Info("LDAP "+what+" failed", "realm", rq.Realm.Name, "err", err)
	return badRequest(userstorage.ErrorCode(err))
}

func (h *Handler) testLDAPConnection(rq *Request) error {
	in, err := rq.decodeLDAPTest()
	if err != nil {
		return err
	}
	if in.Action != "testConnection" && in.Action != "testAuthentication" {
		return badRequest("UnknownError")
	}
	cfg, err := h.ldapTestConfig(rq, in)
	if err != nil {
		return err
	}
	if in.Action == "testConnection" {
		err = ldap.TestConnection(rq.R.Context(), cfg)
	} else {
		err = ldap.TestAuthentication(rq.R.Context(), cfg)
	}
	if err != nil {
		return h.ldapFailure(rq, in.Action, err)
	}
	return rq.NoContent()
}

func (h *Handler) ldapCapabilities(rq *Request) error {
	in, err := rq.decodeLDAPTest()
	if err != nil {
		return err
	}
	cfg, err := h.ldapTestConfig(rq, in)
	if err != nil {
		return err
	}
	c, err := ldap.Dial(rq.R.Context(), cfg)
	if err != nil {
		return h.ldapFailure(rq, "capabilities", err)
	}
	defer c.Close()
	caps, err := c.Capabilities(rq.R.Context())
	if err != nil {
		return h.ldapFailure(rq, "capabilities", err)
	}
	if caps == nil {
		caps = []ldap.Capability{}
	}
	return rq.JSON(caps)
}

// userStorage returns the path's user storage provider.
func (h *Handler) userStorage(rq *Request, id string) (store.Component, error) {
	c, err := h.Store.GetComponent(rq.R.Context(), rq.Realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, errComponentNotFound
	}
	if err == nil && c.ProviderType != ldap.ProviderType {
		return c, notFound("found, but not a UserStorageProvider")
	}
	return c, err
}

func (h *Handler) userStorageName(rq *Request) error {
	c, err := h.userStorage(rq, rq.R.PathValue("id"))
	if err != nil {
		return err
	}
	return rq.JSON(map[string]string{"id": c.ID, "name": c.Name})
}

func (h *Handler) removeImportedUsers(rq *Request) error {
	c, err := h.userStorage(rq, rq.R.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := h.Store.DeleteFederatedUsers(rq.R.Context(), rq.Realm.ID, c.ID); err != nil {
		return err
	}
	return rq.NoContent()
}

func (h *Handler) unlinkUsers(rq *Request) error {
	c, err := h.userStorage(rq, rq.R.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := h.Store.UnlinkFederatedUsers(rq.R.Context(), rq.Realm.ID, c.ID); err != nil {
		return err
	}
	return rq.NoContent()
}

// errBadParam is Keycloak's 400 for a missing or unknown query parameter.
func errBadParam(msg string) *web.Error {
	return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": msg}}
}
