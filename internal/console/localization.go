package console

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// apiRaw calls the admin API with a body that is not JSON (plain text),
// or JSON the administrator wrote, sent as it is.
func (q *rq) apiRaw(method, path, contentType string, body []byte) error {
	res, err := q.h.call(q.r, method, path, q.sess.Access, contentType, body)
	if err != nil {
		return err
	}
	if res.status < 200 || res.status > 299 {
		return readError(res)
	}
	return nil
}

type textRow struct{ Key, Value string }

type localizationData struct {
	Locale   string
	Locales  []string // with texts of the realm's own
	Texts    []textRow
	Key      string
	Value    string
	Editable bool
	Action   string
}

// realmLocalization is the realm's Localization tab: the realm's own texts
// of a locale, which replace the built-in ones on its login pages; add,
// change and delete them.
func (h *Handler) realmLocalization(q *rq) error {
	if !q.perms.can("view-realm") {
		return errPage(http.StatusForbidden, "You do not have permission to view the realm settings.")
	}
	v := q.view("Realm settings", "realm-settings", "localization")
	v.Tabs = q.realmTabs("localization")
	locale := strings.TrimSpace(q.r.URL.Query().Get("locale"))
	if q.post() {
		locale = strings.TrimSpace(q.form("locale"))
	}
	if locale == "" {
		locale = "en"
	}
	action := q.realmURL("/realm-settings/localization")
	d := &localizationData{Locale: locale, Editable: q.perms.can("manage-realm"), Action: action}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		one := func(key string) string { return q.adminPath("/localization/" + seg(locale) + "/" + seg(key)) }
		here := action + "?locale=" + seg(locale)
		switch q.form("action") {
		case "add":
			d.Key, d.Value = strings.TrimSpace(q.form("key")), q.form("value")
			if d.Key == "" {
				err = &fieldError{"key", "Enter a message key."}
			} else if err = q.apiRaw(http.MethodPut, one(d.Key), "text/plain", []byte(d.Value)); err == nil {
				return q.redirect(here, "saved")
			}
		case "delete":
			if err = q.apiRaw(http.MethodDelete, one(q.form("key")), "", nil); err == nil {
				return q.redirect(here, "deleted")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	if err := q.get(q.adminPath("/localization"), &d.Locales); err != nil {
		return err
	}
	var texts map[string]string
	if err := q.get(q.adminPath("/localization/"+seg(locale)), &texts); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(texts)) {
		d.Texts = append(d.Texts, textRow{k, texts[k]})
	}
	return q.render(status, "realm-localization.html", v)
}
