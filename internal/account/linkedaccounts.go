package account

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// Linked accounts: the identity providers a user may sign in with, the
// user's links to them, linking another (through the broker's
// client-initiated link endpoint) and unlinking one, for the REST API
// (/account/linked-accounts) and the console page alike.

// linkedAccount is Keycloak's LinkedAccountRepresentation. The provider's
// display order decides the order of the list but is not part of the
// answer, as in Keycloak.
type linkedAccount struct {
	Connected      bool   `json:"connected"`
	Social         bool   `json:"social"`
	ProviderAlias  string `json:"providerAlias"`
	ProviderName   string `json:"providerName"`
	DisplayName    string `json:"displayName"`
	LinkedUsername string `json:"linkedUsername,omitempty"`

	guiOrder *int
}

// showInAccountConsole values (the provider's config key of that name):
// whether the provider is listed always, only once linked, or never.
const (
	configShowInAccount = "showInAccountConsole"
	showAlways          = "ALWAYS"
	showWhenLinked      = "WHEN_LINKED"
	showNever           = "NEVER"
)

func showInAccount(p idp.Provider) string {
	switch v := p.Config[configShowInAccount]; v {
	case showWhenLinked, showNever:
		return v
	}
	return showAlways
}

// providerDisplayName is the name a user sees: the provider's display
// name, else the social network's name, else its alias.
func providerDisplayName(p idp.Provider) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	if k, ok := idp.Kinds[p.ProviderID]; ok && k.Social {
		return k.Name
	}
	return p.Alias
}

func toLinkedAccount(p idp.Provider, link *idp.FederatedIdentity) linkedAccount {
	a := linkedAccount{Connected: link != nil, Social: idp.Kinds[p.ProviderID].Social, ProviderAlias: p.Alias,
		ProviderName: p.Alias, DisplayName: providerDisplayName(p)}
	if link != nil {
		a.LinkedUsername = link.FederatedUsername
	}
	if n, err := strconv.Atoi(p.Config["guiOrder"]); err == nil {
		a.guiOrder = &n
	}
	return a
}

// sortLinked orders accounts by display order; those without one keep
// their order after the others.
func sortLinked(as []linkedAccount) {
	slices.SortStableFunc(as, func(a, b linkedAccount) int {
		switch {
		case a.guiOrder == nil && b.guiOrder == nil:
			return 0
		case a.guiOrder == nil:
			return 1
		case b.guiOrder == nil:
			return -1
		}
		return cmp.Compare(*a.guiOrder, *b.guiOrder)
	})
}

// linkFilter selects accounts: linked is nil for every provider the user
// may see (linked or not), true for the user's links only, false for the
// providers the user may still link; search is Keycloak's name filter
// ("name" prefix, "*name*" contains, "\"name\"" exact).
type linkFilter struct {
	linked *bool
	search string
}

func (f linkFilter) matches(a linkedAccount) bool {
	s := f.search
	if s == "" {
		return true
	}
	names := []string{a.ProviderAlias, a.DisplayName}
	test := strings.HasPrefix
	switch {
	case len(s) >= 2 && strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`):
		s, test = s[1:len(s)-1], func(n, x string) bool { return n == x }
	case len(s) >= 2 && strings.HasPrefix(s, "*") && strings.HasSuffix(s, "*"):
		s, test = s[1:len(s)-1], strings.Contains
	default:
		s = strings.TrimSuffix(s, "*")
	}
	return slices.ContainsFunc(names, func(n string) bool { return test(n, s) })
}

// linkedAccounts lists u's accounts by f. Disabled providers are left out,
// and so are those the provider's showInAccountConsole hides.
func (h *Handler) linkedAccounts(ctx context.Context, rl realm.Realm, u user.User, f linkFilter) ([]linkedAccount, error) {
	providers, err := h.Store.ListIdentityProviders(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	links, err := h.Store.ListFederatedIdentities(ctx, rl.ID, u.ID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(providers, func(a, b idp.Provider) int { return strings.Compare(a.Alias, b.Alias) })
	out := []linkedAccount{}
	for _, p := range providers {
		if !p.Enabled {
			continue
		}
		var link *idp.FederatedIdentity
		if i := slices.IndexFunc(links, func(l idp.FederatedIdentity) bool { return l.Alias == p.Alias }); i >= 0 {
			link = &links[i]
		}
		switch show := showInAccount(p); {
		case show == showNever, show == showWhenLinked && link == nil:
			continue
		case f.linked != nil && *f.linked && link == nil:
			continue
		case f.linked != nil && !*f.linked && (link != nil || show != showAlways):
			continue
		}
		if a := toLinkedAccount(p, link); f.matches(a) {
			out = append(out, a)
		}
	}
	sortLinked(out)
	return out, nil
}

// linkError is a refused link or unlink: Keycloak's message key, as the
// API answers it and the console translates it.
type linkError struct{ key string }

func (e *linkError) Error() string { return e.key }

var (
	errMissingProvider  = &linkError{"missingIdentityProviderMessage"}
	errProviderNotFound = &linkError{"identityProviderNotFoundMessage"}
	errAccountDisabled  = &linkError{"accountDisabledMessage"}
	errLinkNotActive    = &linkError{"federatedIdentityLinkNotActiveMessage"}
	errLastProvider     = &linkError{"federatedIdentityRemovingLastProviderMessage"}
	errInvalidRedirect  = &linkError{"invalidRedirectUriMessage"}
	errSessionNotActive = &linkError{"sessionNotActiveMessage"}
)

// checkProvider is what linking and unlinking require first: a provider
// named, known to the realm, and the user enabled.
func (h *Handler) checkProvider(ctx context.Context, rl realm.Realm, u user.User, alias string) (idp.Provider, error) {
	if alias == "" {
		return idp.Provider{}, errMissingProvider
	}
	p, err := h.Store.GetIdentityProvider(ctx, rl.ID, alias)
	if errors.Is(err, store.ErrNotFound) {
		return p, errProviderNotFound
	}
	if err != nil {
		return p, err
	}
	if !u.Enabled {
		return p, errAccountDisabled
	}
	return p, nil
}

// accountLink is Keycloak's AccountLinkUriRepresentation.
type accountLink struct {
	AccountLinkURI string `json:"accountLinkUri"`
	Nonce          string `json:"nonce"`
	Hash           string `json:"hash"`
}

// accountLinkURI builds the address that links u's account at alias: the
// broker's client-initiated link endpoint, for the account console client,
// bound to the user session sid by idp.LinkHash so that only the browser
// of that session can complete it.
func (h *Handler) accountLinkURI(r *http.Request, rl realm.Realm, sid, alias, redirectURI string) accountLink {
	nonce := store.NewID()
	hash := idp.LinkHash(nonce, sid, accountConsoleClientID, alias)
	// Keycloak's parameter order, for logs and tests that compare URLs.
	q := "nonce=" + url.QueryEscape(nonce) + "&hash=" + url.QueryEscape(hash) +
		"&client_id=" + url.QueryEscape(accountConsoleClientID) + "&redirect_uri=" + url.QueryEscape(redirectURI)
	return accountLink{AccountLinkURI: h.URLs.RealmURL(r, rl.Name) + "/broker/" + url.PathEscape(alias) + "/link?" + q,
		Nonce: nonce, Hash: hash}
}

// unlink removes u's link to alias, unless it is u's last way to sign in:
// no password, no other link and no user federation provider behind the
// user. The removal is recorded as REMOVE_FEDERATED_IDENTITY.
func (h *Handler) unlink(r *http.Request, rl realm.Realm, u user.User, alias string) error {
	ctx := r.Context()
	if _, err := h.checkProvider(ctx, rl, u, alias); err != nil {
		return err
	}
	links, err := h.Store.ListFederatedIdentities(ctx, rl.ID, u.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(links, func(l idp.FederatedIdentity) bool { return l.Alias == alias })
	if i < 0 {
		return errLinkNotActive
	}
	if len(links) < 2 && u.FederationLink == "" {
		creds, err := h.Store.ListCredentials(ctx, u.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(creds, func(c user.Credential) bool { return c.Type == user.CredentialPassword }) {
			return errLastProvider
		}
	}
	err = h.Store.RemoveFederatedIdentity(ctx, rl.ID, u.ID, alias)
	if errors.Is(err, store.ErrNotFound) {
		return errLinkNotActive
	}
	if err != nil {
		return err
	}
	events.Recorder{Store: h.Store, Now: h.Now, Log: h.Log}.Record(ctx, rl, events.Event{Type: events.RemoveFederatedIdentity,
		ClientID: accountConsoleClientID, UserID: u.ID, IPAddress: clientIP(r),
		Details: map[string]string{events.DetailUsername: u.Username, events.DetailIdentityProvider: alias,
			events.DetailIdentityProviderIdentity: links[i].FederatedUsername}})
	return nil
}

// linkRefused is the API's answer to a linkError: 400 with the message.
// The preconditions answer with the message key itself and the removal
// refusals with its text, as Keycloak does.
func linkRefused(err error, lang string) error {
	var le *linkError
	if !errors.As(err, &le) {
		return err
	}
	msg := le.key
	switch le {
	case errLinkNotActive, errLastProvider:
		msg = ui.Text(lang, le.key)
	}
	return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"errorMessage": msg}}
}

// listLinkedAccounts serves GET /account/linked-accounts.
func (h *Handler) listLinkedAccounts(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	f := linkFilter{search: q.Get("search")}
	if v := q.Get("linked"); v != "" {
		b := v == "true"
		f.linked = &b
	}
	as, err := h.linkedAccounts(r.Context(), c.realm, c.user, f)
	if err != nil {
		return err
	}
	if f.linked != nil {
		as = page(as, q.Get("first"), q.Get("max"))
	}
	return web.WriteJSON(w, http.StatusOK, as)
}

// page applies Keycloak's first/max paging; a value that is no number
// is ignored.
func page[T any](xs []T, first, max string) []T {
	if n, err := strconv.Atoi(first); err == nil && n > 0 {
		xs = xs[min(n, len(xs)):]
	}
	if n, err := strconv.Atoi(max); err == nil && n >= 0 && n < len(xs) {
		xs = xs[:n]
	}
	return xs
}

// linkAccountURI serves GET /account/linked-accounts/{alias}?redirectUri=:
// where to send the browser to link the caller's account at alias.
func (h *Handler) linkAccountURI(w http.ResponseWriter, r *http.Request, c *caller) error {
	alias := r.PathValue("alias")
	redirectURI := r.URL.Query().Get("redirectUri")
	lang := pickLocale(c.realm, r)
	if _, err := h.checkProvider(r.Context(), c.realm, c.user, alias); err != nil {
		return linkRefused(err, lang)
	}
	if redirectURI == "" {
		return linkRefused(errInvalidRedirect, lang)
	}
	if c.sid == "" {
		return linkRefused(errSessionNotActive, lang)
	}
	return web.WriteJSON(w, http.StatusOK, h.accountLinkURI(r, c.realm, c.sid, alias, redirectURI))
}

// unlinkAccount serves DELETE /account/linked-accounts/{alias}.
func (h *Handler) unlinkAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := h.unlink(r, c.realm, c.user, r.PathValue("alias")); err != nil {
		return linkRefused(err, pickLocale(c.realm, r))
	}
	return noContent(w)
}

// linkedView is one provider on the console's linked accounts page.
type linkedView struct {
	linkedAccount
	LinkURL      string // for an unlinked provider: where "Link account" goes
	ActionLabel  string
	LinkedAsText string
}

// linkedAccountsPage fills the console page's lists.
func (h *Handler) linkedAccountsPage(r *http.Request, cs *consoleSession, p *consolePage) error {
	as, err := h.linkedAccounts(r.Context(), cs.realm, cs.user, linkFilter{})
	if err != nil {
		return err
	}
	back := h.URLs.Base(r) + "/realms/" + url.PathEscape(cs.realm.Name) + "/account/" + sectionLinkedAccounts.path
	p.ManageLinks = holdsAny(cs.roles, canManageAccount)
	for _, a := range as {
		v := linkedView{linkedAccount: a}
		if a.Connected {
			v.ActionLabel = p.T("accountUnlinkAccountLabel", a.DisplayName)
			v.LinkedAsText = p.T("accountLinkedAs", a.LinkedUsername)
			p.Linked = append(p.Linked, v)
			continue
		}
		v.ActionLabel = p.T("accountLinkAccountLabel", a.DisplayName)
		if p.ManageLinks {
			v.LinkURL = h.accountLinkURI(r, cs.realm, cs.us.ID, a.ProviderAlias, back).AccountLinkURI
		}
		p.Unlinked = append(p.Unlinked, v)
	}
	return nil
}

// unlinkForm serves "Unlink account" on the linked accounts page.
func (h *Handler) unlinkForm(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error {
	err := h.unlink(r, cs.realm, cs.user, form.Get("provider"))
	var le *linkError
	if errors.As(err, &le) {
		st := &pageState{message: &ui.Message{Type: "error", Text: ui.Text(pickLocale(cs.realm, r), le.key)}}
		return h.showSection(w, r, cs, sectionLinkedAccounts, http.StatusBadRequest, st)
	}
	if err != nil {
		return err
	}
	return h.done(w, r, cs, sectionLinkedAccounts, "unlinked")
}
