package account

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// clientRep is Keycloak's account ClientRepresentation: an application the
// user uses (a session), has offline access for, or has consented to.
type clientRep struct {
	ClientID            string      `json:"clientId"`
	ClientName          string      `json:"clientName,omitempty"`
	Description         string      `json:"description,omitempty"`
	UserConsentRequired bool        `json:"userConsentRequired"`
	InUse               bool        `json:"inUse"`
	OfflineAccess       bool        `json:"offlineAccess"`
	RootURL             string      `json:"rootUrl,omitempty"`
	BaseURL             string      `json:"baseUrl,omitempty"`
	EffectiveURL        string      `json:"effectiveUrl,omitempty"`
	Consent             *consentRep `json:"consent,omitempty"`
	LogoURI             string      `json:"logoUri,omitempty"`
	PolicyURI           string      `json:"policyUri,omitempty"`
	TosURI              string      `json:"tosUri,omitempty"`
}

// consentRep is Keycloak's ConsentRepresentation (dates in epoch ms).
type consentRep struct {
	GrantedScopes   []consentScopeRep `json:"grantedScopes"`
	CreatedDate     int64             `json:"createdDate"`
	LastUpdatedDate int64             `json:"lastUpdatedDate"`
}

// consentScopeRep is Keycloak's brief ConsentScopeRepresentation. As in
// Keycloak, name is the scope's consent text when it has one, and
// displayText that text resolved in the caller's language.
type consentScopeRep struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayText string `json:"displayText,omitempty"`
}

// offlineClients returns the internal ids of the clients holding an
// offline session of the user.
func (h *Handler) offlineClients(ctx context.Context, rl realm.Realm, userID string) (map[string]bool, error) {
	out := map[string]bool{}
	now := h.nowS()
	sessions, err := h.Store.ListUserSessions(ctx, rl.ID, userID, true)
	if err != nil {
		return nil, err
	}
	for _, us := range sessions {
		if !session.Valid(rl, us, now) {
			continue
		}
		css, err := h.Store.ListClientSessions(ctx, us.ID)
		if err != nil {
			return nil, err
		}
		for _, cs := range css {
			out[cs.ClientID] = true
		}
	}
	return out, nil
}

// applications returns the clients the user is signed in to, holds offline
// access for or consented to, and those the realm always displays, as
// Keycloak's AccountRestService.applications does: bearer-only clients
// left out, ordered by clientId. locale resolves consent texts.
func (h *Handler) applications(ctx context.Context, r *http.Request, rl realm.Realm, userID, locale string) ([]clientRep, error) {
	now := h.nowS()
	inUse := map[string]bool{}
	online, err := h.Store.ListUserSessions(ctx, rl.ID, userID, false)
	if err != nil {
		return nil, err
	}
	for _, us := range online {
		if !session.Valid(rl, us, now) {
			continue
		}
		css, err := h.Store.ListClientSessions(ctx, us.ID)
		if err != nil {
			return nil, err
		}
		for _, cs := range css {
			inUse[cs.ClientID] = true
		}
	}
	offline, err := h.offlineClients(ctx, rl, userID)
	if err != nil {
		return nil, err
	}
	consents, err := h.Store.ListConsents(ctx, userID)
	if err != nil {
		return nil, err
	}
	consentOf := map[string]store.Consent{}
	ids := map[string]bool{}
	for id := range inUse {
		ids[id] = true
	}
	for id := range offline {
		ids[id] = true
	}
	for _, c := range consents {
		consentOf[c.ClientID], ids[c.ClientID] = c, true
	}
	all, err := h.Store.ListClients(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	out := []clientRep{}
	for _, c := range all {
		if !ids[c.ID] && !c.AlwaysDisplayInConsole {
			continue
		}
		if c.BearerOnly || c.ClientID == "" {
			continue
		}
		rep := clientRep{ClientID: c.ClientID, ClientName: c.Name, Description: c.Description, UserConsentRequired: c.ConsentRequired,
			InUse: inUse[c.ID], OfflineAccess: offline[c.ID], RootURL: c.RootURL, BaseURL: c.BaseURL,
			EffectiveURL: h.effectiveURL(r, c)}
		if cons, ok := consentOf[c.ID]; ok {
			cr := &consentRep{GrantedScopes: []consentScopeRep{}, CreatedDate: cons.CreatedAt, LastUpdatedDate: cons.UpdatedAt}
			for _, sid := range cons.ScopeIDs {
				sc, err := h.Store.GetClientScope(ctx, rl.ID, sid)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, err
				}
				cr.GrantedScopes = append(cr.GrantedScopes, consentScope(sc, locale))
			}
			rep.Consent = cr
			rep.LogoURI, rep.PolicyURI, rep.TosURI = c.Attributes["logoUri"], c.Attributes["policyUri"], c.Attributes["tosUri"]
		}
		out = append(out, rep)
	}
	slices.SortFunc(out, func(a, b clientRep) int { return cmp.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

func consentScope(sc client.Scope, locale string) consentScopeRep {
	text := sc.Attributes["consent.screen.text"]
	if text == "" {
		return consentScopeRep{ID: sc.ID, Name: sc.Name}
	}
	return consentScopeRep{ID: sc.ID, Name: text, DisplayText: ui.Resolve(locale, text)}
}

// effectiveURL is the client's base URL resolved against its root URL, as
// Keycloak's ResolveRelative does; "" when it has none.
func (h *Handler) effectiveURL(r *http.Request, c client.Client) string {
	if c.BaseURL == "" {
		return ""
	}
	return c.ResolveURL(c.BaseURL, h.URLs.Base(r))
}

// listApplications serves GET /account/applications (?name= keeps the
// clients whose name contains it, ignoring case).
func (h *Handler) listApplications(w http.ResponseWriter, r *http.Request, c *caller) error {
	apps, err := h.applications(r.Context(), r, c.realm, c.user.ID, pickLocale(c.realm, r))
	if err != nil {
		return err
	}
	if name := r.URL.Query().Get("name"); name != "" {
		apps = slices.DeleteFunc(apps, func(a clientRep) bool {
			return !strings.Contains(strings.ToLower(a.ClientName), strings.ToLower(name))
		})
	}
	return web.WriteJSON(w, http.StatusOK, apps)
}

// revokeConsent serves DELETE /account/applications/{clientId}/consent.
// As in Keycloak, an unknown client is 404 and a known one is 204 whether
// or not there was anything to revoke.
func (h *Handler) revokeConsent(w http.ResponseWriter, r *http.Request, c *caller) error {
	clientID := r.PathValue("clientId")
	found, err := h.revokeAccess(r.Context(), c.realm, c.user.ID, clientID)
	if err != nil {
		return err
	}
	if !found {
		return &web.Error{Status: http.StatusNotFound, Body: map[string]string{"errorMessage": "No client with clientId: " + clientID + " found."}}
	}
	return noContent(w)
}

// revokeAccess removes the user's consent to the client and its offline
// sessions (story 1's "remove access": the offline token is refused from
// then on), and signs the client out of the user's online sessions, as
// Keycloak's UserConsentManager.revokeConsentToClient does. It reports
// false when the realm has no such client.
func (h *Handler) revokeAccess(ctx context.Context, rl realm.Realm, userID, clientID string) (bool, error) {
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	revoked, err := h.Store.RevokeGrant(ctx, rl.ID, userID, c.ID)
	if err != nil {
		return false, err
	}
	if !revoked {
		return true, nil
	}
	online, err := h.Store.ListUserSessions(ctx, rl.ID, userID, false)
	if err != nil {
		return false, err
	}
	for _, us := range online {
		if err := h.Store.DeleteClientSession(ctx, us.ID, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	h.Log.InfoContext(ctx, "account: access revoked", "realm", rl.Name, "user", userID, "client", c.ClientID)
	return true, nil
}

// pickLocale applies Keycloak's rule: with internationalization off a realm
// speaks its default locale; with it on, the browser's Accept-Language
// chooses among the supported locales.
func pickLocale(rl realm.Realm, r *http.Request) string {
	if !rl.InternationalizationEnabled {
		return ui.PickLocale(ui.Locales(), "", "", rl.DefaultLocale)
	}
	supported := rl.SupportedLocales
	if len(supported) == 0 {
		supported = ui.Locales()
	}
	return ui.PickLocale(supported, r.URL.Query().Get("kc_locale"), r.Header.Get("Accept-Language"), rl.DefaultLocale)
}
