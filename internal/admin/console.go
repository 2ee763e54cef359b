package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// consoleRoutes serves what an admin console asks of the server beside the
// admin API proper: who the signed-in administrator is, the message texts
// of a theme, and the cache-clearing actions of the realm settings.
func (h *Handler) consoleRoutes(mux Mux) {
	// {login} is the realm the administrator signed in to; the realm the
	// console shows is the currentRealm parameter.
	h.handle(mux, "GET /admin/{login}/console/whoami", "", h.whoAmI)
	mux.Handle("GET /resources/{realm}/{themeType}/{locale}", web.Handle(h.Log, h.messageBundle))

	// Gatehouse nodes keep no realm, user or key cache that could go
	// stale: every request reads the store. Clearing answers as Keycloak's
	// does and has nothing to do.
	const one = "/admin/realms/{realm}"
	for _, c := range []string{"/clear-realm-cache", "/clear-user-cache", "/clear-keys-cache", "/clear-crl-cache"} {
		h.handle(mux, "POST "+one+c, "manage-realm", func(rq *Request) error { return rq.NoContent() })
	}
}

// whoAmI is Keycloak's AdminConsole WhoAmI: the administrator's id and
// name, whether they may create realms, and the admin roles they hold over
// the realm the console shows. Only a token issued to an admin console
// (security-admin-console, or a client marked security.admin.console) is
// answered, as in Keycloak.
func (h *Handler) whoAmI(rq *Request) error {
	c := rq.Caller
	if c.Realm.Name != rq.R.PathValue("login") {
		return errUnauthorized
	}
	if azp := c.Token.Claims.Azp; azp != provision.SecurityAdminConsole &&
		!(azp != "" && azp == c.Token.Client.ClientID && c.Token.Client.Attributes["security.admin.console"] == "true") {
		return errForbidden
	}
	ctx := rq.R.Context()
	target := c.Realm
	if cur := rq.R.URL.Query().Get("currentRealm"); c.Master && cur != "" {
		rl, err := h.Store.GetRealmByName(ctx, cur)
		if errors.Is(err, store.ErrNotFound) {
			return errRealmNotFound
		}
		if err != nil {
			return err
		}
		target = rl
	}
	perms, err := h.adminPerms(ctx, c, target)
	if err != nil {
		return err
	}
	if len(perms) == 0 {
		return errForbidden
	}
	createRealm, err := h.mayCreateRealm(ctx, c)
	if err != nil {
		return err
	}
	u := c.Token.User
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if strings.TrimSpace(u.FirstName) == "" && strings.TrimSpace(u.LastName) == "" {
		name = u.Username
	}
	roles := make([]string, 0, len(perms))
	for p := range perms {
		roles = append(roles, p)
	}
	slices.Sort(roles)
	return rq.JSON(whoAmI{UserID: u.ID, Realm: c.Realm.Name, DisplayName: name, Locale: userLocale(c.Realm, u.Attributes["locale"]),
		CreateRealm: createRealm, RealmAccess: map[string][]string{target.Name: roles},
		Temporary: len(u.Attributes["is_temporary_admin"]) > 0 && u.Attributes["is_temporary_admin"][0] == "true"})
}

// whoAmI is Keycloak's AdminConsole.WhoAmI.
type whoAmI struct {
	UserID      string              `json:"userId"`
	Realm       string              `json:"realm"`
	DisplayName string              `json:"displayName"`
	Locale      string              `json:"locale"`
	CreateRealm bool                `json:"createRealm"`
	RealmAccess map[string][]string `json:"realm_access"`
	Temporary   bool                `json:"temporary"`
}

// userLocale is the locale a user's pages are shown in: their own choice
// where the realm offers it, else the realm's default, else English.
func userLocale(rl realm.Realm, chosen []string) string {
	supported := rl.SupportedLocales
	if !rl.InternationalizationEnabled {
		supported = nil
	}
	pick := ""
	if len(chosen) > 0 {
		pick = chosen[0]
	}
	return ui.PickLocale(append(slices.Clone(supported), "en"), pick, "", rl.DefaultLocale)
}

// messageEntry is one text of a theme's message bundle.
type messageEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// messageBundle is GET /resources/{realm}/{themeType}/{locale}: the texts a
// theme shows in a locale, sorted by key. Gatehouse has one catalogue per
// locale for all its pages.
func (h *Handler) messageBundle(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.Store.GetRealmByName(r.Context(), r.PathValue("realm")); errors.Is(err, store.ErrNotFound) {
		return errRealmNotFound
	} else if err != nil {
		return err
	}
	switch r.PathValue("themeType") {
	case "login", "account", "admin", "email", "common", "welcome":
	default:
		return notFound("Theme type not found")
	}
	msgs, ok := ui.Messages(r.PathValue("locale"))
	if !ok {
		msgs = map[string]string{}
	}
	out := make([]messageEntry, 0, len(msgs))
	for k, v := range msgs {
		out = append(out, messageEntry{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b messageEntry) int { return strings.Compare(a.Key, b.Key) })
	return web.WriteJSON(w, http.StatusOK, out)
}
