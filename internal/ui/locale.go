package ui

import (
	"slices"
	"strconv"
	"strings"
)

// Locales returns the locales with a message catalogue, English first.
func Locales() []string {
	out := []string{"en"}
	for l := range catalogs {
		if l != "en" {
			out = append(out, l)
		}
	}
	slices.Sort(out[1:])
	return out
}

// Text returns message key in locale with {0}, {1}… replaced by args, for
// code that builds a message outside a template (an error page's text).
func Text(locale, key string, args ...string) string {
	c, ok := catalogs[locale]
	if !ok {
		c = catalogs["en"]
	}
	return c.text(key, args...)
}

// Resolve turns a display text that Keycloak stores as a message reference,
// "${profileScopeConsentText}", into its text; other text is returned as is.
func Resolve(locale, s string) string {
	if key, ok := strings.CutPrefix(s, "${"); ok {
		if key, ok = strings.CutSuffix(key, "}"); ok {
			if _, known := catalogs["en"].messages[key]; known {
				return Text(locale, key)
			}
		}
	}
	return s
}

// PickLocale chooses the page locale the way Keycloak's locale selector
// does: the request's ui_locales (space separated, in order of preference),
// then the browser's Accept-Language, then the realm's default; only locales
// in supported (and with a catalogue) are chosen. English is the last resort.
func PickLocale(supported []string, uiLocales, acceptLanguage, fallback string) string {
	ok := func(tag string) (string, bool) {
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" {
			return "", false
		}
		for _, cand := range []string{tag, strings.SplitN(strings.ReplaceAll(tag, "_", "-"), "-", 2)[0]} {
			for _, s := range supported {
				if strings.EqualFold(s, cand) {
					if _, has := catalogs[strings.ToLower(s)]; has {
						return strings.ToLower(s), true
					}
				}
			}
		}
		return "", false
	}
	if len(uiLocales) <= 256 {
		for _, tag := range strings.Fields(uiLocales) {
			if l, found := ok(tag); found {
				return l
			}
		}
	}
	for _, tag := range acceptLanguageTags(acceptLanguage) {
		if l, found := ok(tag); found {
			return l
		}
	}
	if l, found := ok(fallback); found {
		return l
	}
	return "en"
}

// acceptLanguageTags returns the tags of an Accept-Language header, most
// preferred first; tags with q=0 are left out.
func acceptLanguageTags(h string) []string {
	if len(h) > 1024 {
		return nil
	}
	type tagQ struct {
		tag string
		q   float64
	}
	var tags []tagQ
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if tag == "" || tag == "*" || q <= 0 {
			continue
		}
		tags = append(tags, tagQ{tag, q})
	}
	slices.SortStableFunc(tags, func(a, b tagQ) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.tag
	}
	return out
}

// Messages returns every text of locale's catalogue, English filling the
// keys it lacks; an unknown locale gives ok false.
func Messages(locale string) (msgs map[string]string, ok bool) {
	c, ok := catalogs[locale]
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(c.fallback)+len(c.messages))
	for k, v := range c.fallback {
		out[k] = v
	}
	for k, v := range c.messages {
		out[k] = v
	}
	return out, true
}
