// Package oidc is the back channel: the public realm document, discovery,
// keys, and the token, userinfo, introspection and revocation endpoints.
package oidc

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Handler serves the back-channel endpoints of every realm.
type Handler struct {
	Store *store.DB
	URLs  web.URLs
	Log   *slog.Logger
	Now   func() time.Time
	// Hashes bounds the password checks running at once; nil means the
	// node's default gate.
	Hashes *authn.HashGate
	// Keys finds the keys clients sign with (their jwks.url fetched
	// through the outbound client); nil fetches with the outbound defaults.
	Keys *clientkeys.Loader
}

// Register lists the routes this package serves.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /realms/{realm}", web.Handle(h.Log, h.realmDocument))
	mux.Handle("GET /realms/{realm}/protocol/openid-connect/certs", web.Handle(h.Log, h.certs))
	mux.HandleFunc("OPTIONS /realms/{realm}/protocol/openid-connect/certs", web.Preflight("GET, OPTIONS", "Authorization, Content-Type"))
	mux.Handle("GET /realms/{realm}/.well-known/openid-configuration", web.Handle(h.Log, h.discovery))
	mux.Handle("GET /realms/{realm}/.well-known/uma2-configuration", web.Handle(h.Log, h.umaConfiguration))
	const p = "/realms/{realm}/protocol/openid-connect/"
	mux.Handle("POST "+p+"token", web.Handle(h.Log, h.token))
	mux.Handle("GET "+p+"userinfo", web.Handle(h.Log, h.userinfo))
	mux.Handle("POST "+p+"userinfo", web.Handle(h.Log, h.userinfo))
	mux.Handle("POST "+p+"token/introspect", web.Handle(h.Log, h.introspect))
	mux.Handle("POST "+p+"revoke", web.Handle(h.Log, h.revoke))
	mux.Handle("POST "+p+"logout", web.Handle(h.Log, h.logout))
	mux.Handle("POST "+p+"ext/par/request", web.Handle(h.Log, h.par))
	mux.Handle("POST "+p+"auth/device", web.Handle(h.Log, h.deviceAuthorization))
	mux.Handle("POST "+p+"logout/backchannel-logout", web.Handle(h.Log, h.backchannelLogout))
	for _, ep := range []string{"token", "userinfo", "token/introspect", "revoke", "logout", "ext/par/request", "auth/device"} {
		mux.HandleFunc("OPTIONS "+p+ep, preflight)
	}
}

// errRealmNotFound is Keycloak's answer for an unknown realm on its public
// endpoints.
var errRealmNotFound = &web.Error{Status: http.StatusNotFound, Body: map[string]string{"error": "Realm does not exist"}}

func (h *Handler) loadRealm(r *http.Request) (realm.Realm, error) {
	rl, err := h.Store.GetRealmByName(r.Context(), r.PathValue("realm"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !rl.Enabled) {
		return realm.Realm{}, errRealmNotFound
	}
	return rl, err
}

// publishedRealm is the public realm document, in Keycloak's field order.
type publishedRealm struct {
	Realm           string `json:"realm"`
	PublicKey       string `json:"public_key"`
	TokenService    string `json:"token-service"`
	AccountService  string `json:"account-service"`
	TokensNotBefore int64  `json:"tokens-not-before"`
}

// realmDocument serves GET /realms/{realm}, which older adapters and
// gateways read to find the realm's public key.
func (h *Handler) realmDocument(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	doc := publishedRealm{Realm: rl.Name, TokensNotBefore: rl.NotBefore}
	if k, ok := keys.Active(ks, keys.RS256); ok { // old adapters expect an RSA key here
		if doc.PublicKey, err = k.PublicKeyBase64(); err != nil {
			return err
		}
	}
	issuer := h.URLs.RealmURL(r, rl.Name)
	doc.TokenService = issuer + "/protocol/openid-connect"
	doc.AccountService = issuer + "/account"
	w.Header().Set("Cache-Control", "no-cache")
	return web.WriteJSON(w, http.StatusOK, doc)
}

// certs serves the realm's JWKS: the public keys that verify its tokens,
// passive ones included so tokens signed before a rotation still verify.
// They are public, so any page may read them, as Keycloak allows.
func (h *Handler) certs(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	web.CORS(w, r, []string{"*"})
	ks, err := h.Store.ListKeys(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	set, err := keys.JWKS(ks)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	return web.WriteJSON(w, http.StatusOK, set)
}
