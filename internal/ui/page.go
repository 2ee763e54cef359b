package ui

// Page is what every template receives. Fields a page does not use stay
// empty; texts come from T, so templates hold no English.
type Page struct {
	// Lang is the locale the page is rendered in ("en").
	Lang string
	// Realm is the realm's display name, shown as the page header.
	Realm string
	// Resources is the URL path prefix of the static files
	// ("/realms/…" pages use "{relative path}/resources/{version}").
	Resources string
	// Title is the message key of the page title, and TitleArgs fill its
	// {0}, {1}… wherever the title is shown (the <title> and the heading).
	Title     string
	TitleArgs []string
	// Message is an error, warning, success or info text shown at the top.
	Message *Message

	// Forms: where they post and the per-login CSRF token.
	Action string
	CSRF   string
	Hidden []Param

	// Login form.
	Username       string
	UsernameLabel  string // message key: "usernameOrEmail" or "username"
	ShowRememberMe bool
	RememberMe     bool
	// FieldError marks the credential fields invalid (aria-invalid).
	FieldError bool
	// RestartURL, when set, offers to start the login again (another
	// user, another way); TryAnotherWay offers the flow's next
	// alternative.
	RestartURL    string
	TryAnotherWay bool

	// UserCode is what the user typed on the device verification page.
	UserCode string

	// Consent page.
	Client string
	Scopes []string

	// PasswordHint is the password policy text on the update-password form.
	PasswordHint string

	// form_post response: the redirect URI and the parameters to post.
	PostTo string
	Params []Param

	// Result is what the third-party-cookie check page posts to its parent.
	Result string

	// Front-channel logout page: the applications whose logout URL is
	// loaded in a hidden iframe, and where the browser goes afterwards.
	FrontChannel []FrontChannelApp
	ContinueTo   string

	catalog catalog
	// texts are the realm's own texts for the page's locale, which replace
	// the catalogue's (WithTexts).
	texts map[string]string
}

// Message is a text shown in a page's alert area.
type Message struct {
	Type string // "error", "warning", "success", "info"
	Text string // already translated
}

// FrontChannelApp is one application the front-channel logout page logs
// out: its display name and its logout URL with the query parameters.
type FrontChannelApp struct{ Name, URL string }

// Param is one name and value of a form.
type Param struct{ Name, Value string }

// T returns the message key in the page's locale with {0}, {1}… replaced by
// args. Templates escape the result; messages hold no HTML.
func (p Page) T(key string, args ...string) string {
	if _, ok := p.texts[key]; ok {
		return RealmText(p.Lang, p.texts, key, args...)
	}
	return p.catalog.text(key, args...)
}

// RealmText is Text with a realm's own texts of the locale (own) in front
// of the catalogue: the realm's text of key when it has one.
func RealmText(locale string, own map[string]string, key string, args ...string) string {
	if s, ok := own[key]; ok {
		return catalog{messages: map[string]string{key: s}}.text(key, args...)
	}
	return Text(locale, key, args...)
}

// WithTexts returns p with the realm's own texts for its locale: the
// realm's Localization, keyed by locale, as administrators set it.
func (p Page) WithTexts(byLocale map[string]map[string]string) Page {
	p.texts = byLocale[p.Lang]
	return p
}

// TitleText is the page title in the page's locale, its arguments filled.
func (p Page) TitleText() string { return p.T(p.Title, p.TitleArgs...) }

// WithLocale returns p rendered in locale (one of Locales, else English).
func (p Page) WithLocale(locale string) Page {
	p.Lang = locale
	if _, ok := catalogs[locale]; !ok {
		p.Lang = "en"
	}
	p.catalog = catalogs[p.Lang]
	return p
}
