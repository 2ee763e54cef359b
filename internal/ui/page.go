package ui

import "html/template"

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
	Username      string
	UsernameLabel string // message key: "usernameOrEmail" or "username"
	// IdentityProviders are the login page's "sign in with" buttons;
	// IdentityProvider is the alias a first broker login page is about.
	IdentityProviders []IdentityProviderLink
	IdentityProvider  string
	ShowRememberMe    bool
	RememberMe        bool
	// FieldError marks the credential fields invalid (aria-invalid).
	FieldError bool
	// RestartURL, when set, offers to start the login again (another
	// user, another way); TryAnotherWay offers the flow's next
	// alternative.
	RestartURL    string
	TryAnotherWay bool

	// ResetURL and RegisterURL are the login page's "forgot password" and
	// "register" links, shown when the realm allows them.
	ResetURL    string
	RegisterURL string
	// ShowTerms adds the terms and conditions checkbox to the registration
	// form (whose inputs are Fields).
	ShowTerms bool

	// UserCode is what the user typed on the device verification page.
	UserCode string

	// Consent page.
	Client string
	Scopes []string

	// TOTP is the authenticator app setup page (login-config-totp).
	TOTP *TOTPSetup

	// WebAuthn is a security key or passkey ceremony the page runs.
	WebAuthn *WebAuthnCeremony

	// PasswordHint is the password policy text on the update-password form.
	PasswordHint string

	// Required action pages: CancelAIA adds the button that declines an
	// action an application asked for (kc_action); Fields are the inputs
	// of the update-profile form; Subject names what a confirmation
	// (delete a credential) is about.
	CancelAIA bool
	Fields    []Field
	Subject   string

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

// TOTPSetup is what the authenticator app setup page shows: the secret as
// a QR code and as a key to type, the realm's OTP policy, and the form's
// state after a refused attempt.
type TOTPSetup struct {
	// Secret goes back with the form, so that a code from the app scanned
	// is checked against the same secret after a refused attempt.
	Secret    string
	ManualKey string
	// QRCode is the PNG of the key URI as a data: URL.
	QRCode template.URL
	// Manual shows the key instead of the QR code (mode=manual); ManualURL
	// and BarcodeURL switch between the two.
	Manual                bool
	ManualURL, BarcodeURL string
	// Policy: Type is "totp" or "hotp"; Algorithm as the key URI names it
	// (SHA1…); Period for TOTP, Counter for HOTP.
	Type, Algorithm         string
	Digits, Period, Counter int
	// Apps are message keys of the authenticator apps to suggest.
	Apps []string
	// Label is the device name typed; LabelRequired when the user has an
	// authenticator already, so that the two can be told apart.
	Label         string
	LabelRequired bool
	// Field names the field a refusal is about ("totp", "userLabel").
	Field string
}

// IdentityProviderLink is a button of the login page that signs in
// through an identity provider.
type IdentityProviderLink struct {
	Alias, DisplayName, ProviderID, LoginURL string
}

// Field is one input of a form built from the user profile: its form
// name, its label (translated), its value, whether it is required or read
// only, its input type, and the error of the last submission.
type Field struct {
	Name, Label, Value, Type, Error string
	Required, ReadOnly              bool
	Autocomplete                    string // the browser's autofill hint
}

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

// WebAuthnCeremony is what a page's script hands to the browser: Mode
// "create" (register) or "get" (log in), and Options, the JSON of the
// navigator.credentials call.
type WebAuthnCeremony struct {
	Mode    string
	Options string
	// Passwordless: a passkey (the page names it so).
	Passwordless bool
}
