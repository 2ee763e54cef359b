package mail

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strconv"
	texttemplate "text/template"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// The messages Gatehouse sends, named like Keycloak's email templates.
const (
	KindVerifyEmail    = "email-verification"
	KindPasswordReset  = "password-reset"
	KindExecuteActions = "executeActions"
	// KindIdentityProviderLink asks the owner of an account to confirm
	// linking an upstream identity to it (the first broker login's
	// email verification).
	KindIdentityProviderLink = "identity-provider-link"
	KindTest                 = "email-test"
)

//go:embed templates
var templates embed.FS

var (
	textTmpl = texttemplate.Must(texttemplate.ParseFS(templates, "templates/message.txt"))
	htmlTmpl = htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/message.html"))
)

// Content is what one message says: its kind, the realm it speaks for, the
// action link and how long the link lives (seconds), and, for execute
// actions, the required actions asked for.
type Content struct {
	Kind    string
	Locale  string
	Realm   realm.Realm
	Link    string
	Expires int
	Actions []string
	// IdentityProvider and IdentityProviderUsername are the upstream
	// identity an identity-provider-link message asks to link.
	IdentityProvider, IdentityProviderUsername string
}

// view is what the templates receive.
type view struct {
	Lang, Subject, Realm string
	Before, After        []string
	Link, LinkText       string
}

// Render writes c in its locale: the message's subject and its text and HTML
// parts. The texts come from the login theme's catalogue (package ui), with
// the realm's own texts in front, so one translation serves pages and mail.
func Render(c Content, to string) Message {
	t := func(key string, args ...string) string {
		return ui.RealmText(c.Locale, c.Realm.Localization[c.Locale], key, args...)
	}
	name := c.Realm.DisplayName
	if name == "" {
		name = c.Realm.Name
	}
	v := view{Lang: c.Locale, Realm: name, Link: c.Link, LinkText: t("emailLinkText")}
	expiry := t("emailLinkExpiry", Period(c.Locale, c.Expires))
	switch c.Kind {
	case KindVerifyEmail:
		v.Subject = t("emailVerificationSubject")
		v.Before = []string{t("emailVerificationBody", name)}
		v.After = []string{expiry, t("emailVerificationIgnore")}
	case KindPasswordReset:
		v.Subject = t("passwordResetSubject")
		v.Before = []string{t("passwordResetBody", name)}
		v.After = []string{expiry, t("passwordResetIgnore")}
	case KindExecuteActions:
		names := ""
		for i, a := range c.Actions {
			if i > 0 {
				names += ", "
			}
			names += t("requiredAction." + a)
		}
		v.Subject = t("executeActionsSubject")
		v.Before = []string{t("executeActionsBody", name, names)}
		v.After = []string{expiry, t("executeActionsIgnore")}
	case KindIdentityProviderLink:
		v.Subject = t("identityProviderLinkSubject", c.IdentityProvider)
		v.Before = []string{t("identityProviderLinkBody", c.IdentityProvider, c.IdentityProviderUsername, name)}
		v.After = []string{expiry, t("identityProviderLinkIgnore")}
	default:
		v.Subject = t("emailTestSubject", name)
		v.Before = []string{t("emailTestBody", name)}
		v.Link = ""
	}
	var text, html bytes.Buffer
	// The templates are embedded and tested; they cannot fail on a view.
	_ = textTmpl.Execute(&text, v)
	_ = htmlTmpl.Execute(&html, v)
	return Message{To: to, Subject: v.Subject, Text: text.String(), HTML: html.String()}
}

// Period says a lifespan in seconds the way a person would: in days, hours
// or minutes, whichever unit divides it, rounding up to whole minutes.
func Period(locale string, seconds int) string {
	unit := func(n int, one, many string) string {
		if n == 1 {
			return ui.Text(locale, one)
		}
		return ui.Text(locale, many, strconv.Itoa(n))
	}
	m := (max(seconds, 1) + 59) / 60
	switch {
	case m%(60*24) == 0:
		return unit(m/(60*24), "periodDay", "periodDays")
	case m%60 == 0:
		return unit(m/60, "periodHour", "periodHours")
	default:
		return unit(m, "periodMinute", "periodMinutes")
	}
}

// Locale is the locale a user's mail is written in: the user's own
// (the "locale" attribute) when the realm offers it, else the realm's
// default, as Keycloak chooses.
func Locale(rl realm.Realm, u user.User) string {
	if !rl.InternationalizationEnabled {
		return ui.PickLocale(ui.Locales(), "", "", rl.DefaultLocale)
	}
	supported := rl.SupportedLocales
	if len(supported) == 0 {
		supported = ui.Locales()
	}
	own := ""
	if l := u.Attributes["locale"]; len(l) > 0 {
		own = l[0]
	}
	return ui.PickLocale(supported, own, "", rl.DefaultLocale)
}
