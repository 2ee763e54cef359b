package admin

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The realm's own texts ("Localization" in the console): per locale, a
// message key and the text that replaces the built-in one on the realm's
// login and account pages.
func (h *Handler) localizationRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/localization"
	h.handle(mux, "GET "+base, "view-realm", h.localeList)
	h.handle(mux, "GET "+base+"/{locale}", "view-realm", h.localeTexts)
	h.handle(mux, "PUT "+base+"/{locale}/{key}", "manage-realm", h.setLocaleText)
	h.handle(mux, "DELETE "+base+"/{locale}/{key}", "manage-realm", h.deleteLocaleText)
}

// Bounds on the realm's texts: a text is shown on every login page, and
// the realm's settings are one stored document.
const (
	maxLocaleText = 4 << 10
	maxLocaleKey  = 255
	maxTexts      = 5000
)

// localeList answers the locales that have texts of the realm's own.
func (h *Handler) localeList(rq *Request) error {
	out := slices.Sorted(maps.Keys(rq.Realm.Localization))
	if out == nil {
		out = []string{}
	}
	return rq.JSON(out)
}

// localeTexts answers a locale's texts; a locale with none is an empty map.
func (h *Handler) localeTexts(rq *Request) error {
	out := rq.Realm.Localization[rq.R.PathValue("locale")]
	if out == nil {
		out = map[string]string{}
	}
	return rq.JSON(out)
}

// setLocaleText stores one text; the body is the text, plain.
func (h *Handler) setLocaleText(rq *Request) error {
	locale, key := rq.R.PathValue("locale"), rq.R.PathValue("key")
	b, err := io.ReadAll(http.MaxBytesReader(rq.W, rq.R.Body, maxLocaleText))
	if err != nil || !utf8.Valid(b) {
		return badRequest("Invalid localization text")
	}
	if locale == "" || len(locale) > 32 || key == "" || len(key) > maxLocaleKey {
		return badRequest("Invalid locale or key")
	}
	err = rq.h.Store.UpdateRealm(rq.R.Context(), rq.Realm.ID, func(r *realm.Realm) error {
		n := 0
		for _, m := range r.Localization {
			n += len(m)
		}
		if n >= maxTexts {
			return badRequest("Too many localization texts")
		}
		if r.Localization == nil {
			r.Localization = map[string]map[string]string{}
		}
		if r.Localization[locale] == nil {
			r.Localization[locale] = map[string]string{}
		}
		r.Localization[locale][key] = string(b)
		return nil
	})
	if err != nil {
		return err
	}
	return rq.NoContent()
}

var errTextNotFound = notFound("Localization text not found")

// deleteLocaleText removes one text; an unknown one is 404.
func (h *Handler) deleteLocaleText(rq *Request) error {
	locale, key := rq.R.PathValue("locale"), rq.R.PathValue("key")
	err := rq.h.Store.UpdateRealm(rq.R.Context(), rq.Realm.ID, func(r *realm.Realm) error {
		if _, ok := r.Localization[locale][key]; !ok {
			return store.ErrNotFound
		}
		delete(r.Localization[locale], key)
		if len(r.Localization[locale]) == 0 {
			delete(r.Localization, locale)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errTextNotFound
	}
	if err != nil {
		return err
	}
	return rq.NoContent()
}
