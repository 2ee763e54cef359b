package account

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
)

// consolePage is what every console template receives. Texts come from T,
// so templates hold no English.
type consolePage struct {
	Lang      string
	Realm     string // the realm's display name
	Resources string // URL path of the static files
	Title     string // message key
	Section   string
	Base      string // the console's path, no trailing slash
	Message   *ui.Message
	// A message page's way on.
	LinkText, LinkHref string

	SignedIn bool
	// UserManagedAccess: the realm lets users manage their resources, so
	// the Resources page is offered.
	UserManagedAccess bool
	DisplayName       string
	LogoutURL         string
	CSRF              string

	// Personal info.
	Form          profileForm
	EditUsername  bool
	EmailVerified bool
	Errors        map[string]string // field name -> translated error
	// Attributes are the free attributes of the user profile the user sees.
	Attributes []attrView

	// Signing in.
	Password     *timeView // when the password was set; nil without one
	PasswordHint string
	// OTP is shown when the realm uses authenticator apps: the user's
	// apps, and SetUpOTP, where "Set up authenticator application" goes
	// (kc_action=CONFIGURE_TOTP, as Keycloak's console does).
	OTP      bool
	OTPApps  []otpView
	SetUpOTP string
	// Keys are the security keys and passkeys, one group per WebAuthn
	// credential type the realm's flows use or the user has.
	Keys []keyGroup

	// Device activity.
	Devices       []deviceView
	OtherSessions bool

	// Applications.
	Apps []appView

	// Linked accounts: the providers the user is linked to, and those
	// the user may link.
	Linked, Unlinked []linkedView
	ManageLinks      bool // the user may link and unlink (manage-account)

	// Resources: the user's own, with whom they are shared and the
	// requests waiting; those shared with the user; the user's requests.
	MyResources, SharedWithMe, MyRequests []resourceView
	ManageResources                       bool // the user may share (manage-account)

	// texts are the realm's own texts in Lang (its Localization).
	texts map[string]string
}

// T returns message key in the page's language with {0}, {1}… replaced.
func (p *consolePage) T(key string, args ...string) string {
	return ui.RealmText(p.Lang, p.texts, key, args...)
}

// FieldError is the error of a form field, "" when it has none.
func (p *consolePage) FieldError(field string) string { return p.Errors[field] }

type profileForm struct {
	Username, Email, FirstName, LastName string
	// Attrs are the free attributes as typed, by name.
	Attrs map[string]string
}

// attrView is one free attribute of the personal info form.
type attrView struct {
	Name, Label, Value, Error string
	ReadOnly, Required        bool
}

// attrFormPrefix starts the form field name of a free attribute.
const attrFormPrefix = "attributes."

// attributeViews lists the free attributes the realm's user profile lets
// the user see, with their values (typed ones first) and errors.
func attributeViews(p *consolePage, cs *consoleSession, typed map[string]string) []attrView {
	cfg, ctx := userProfile(cs.realm)
	var out []attrView
	for _, md := range cfg.Metadata(ctx).Attributes {
		if profile.IsRoot(md.Name) {
			continue
		}
		v := attrView{Name: md.Name, Label: ui.Resolve(p.Lang, md.DisplayName), ReadOnly: md.ReadOnly, Required: md.Required,
			Error: p.Errors[md.Name]}
		if vs := cs.user.Attributes[md.Name]; len(vs) > 0 {
			v.Value = vs[0]
		}
		if t, ok := typed[md.Name]; ok {
			v.Value = t
		}
		out = append(out, v)
	}
	return out
}

// timeView is a moment as the page shows it: readable UTC text, and the
// machine form account.js turns into the reader's local time.
type timeView struct {
	ISO, Text string
}

func epoch(sec int64) timeView {
	t := time.Unix(sec, 0).UTC()
	return timeView{ISO: t.Format(time.RFC3339), Text: t.Format("2 Jan 2006, 15:04 UTC")}
}

// otpView is one authenticator app of the user: its label, when it was
// set up, and where "Remove" goes (kc_action=delete_credential:<id>).
type otpView struct {
	ID, Label string
	Created   timeView
	RemoveURL string
}

// keyGroup is one WebAuthn credential type on Signing in: its texts, the
// user's credentials and where registering another goes.
type keyGroup struct {
	Type, Category, Name, Help string
	Items                      []otpView
	SetUp                      string
}

type deviceView struct {
	ID, Title string
	Current   bool
	Sessions  []sessionView
}

type sessionView struct {
	ID, IPAddress, Browser       string
	Started, LastAccess, Expires timeView
	Clients                      string // names, comma separated
	Current                      bool
	SignOutLabel                 string // the sign-out button's accessible name
}

type appView struct {
	ClientID, Name, Description, URL string
	InUse, OfflineAccess, Internal   bool
	Scopes                           []string
	ConsentGiven                     *timeView
	RemoveLabel                      string // the button's accessible name
}

// Removable reports whether the user has something to take back: offline
// access or a consent.
func (a appView) Removable() bool { return a.OfflineAccess || a.ConsentGiven != nil }

// newPage starts a page in the request's language.
func (h *Handler) newPage(r *http.Request, rl *realm.Realm, title string) *consolePage {
	p := &consolePage{Title: title, Realm: "Gatehouse", Lang: "en",
		Resources: h.basePath(r) + "/resources/" + ui.Default().Version()}
	if rl != nil {
		p.Lang = pickLocale(*rl, r)
		p.Realm = rl.Name
		if rl.DisplayName != "" {
			p.Realm = rl.DisplayName
		}
		p.Base = h.consoleBase(r, rl.Name)
		p.texts = rl.Localization[p.Lang]
	}
	return p
}

// signedInPage is a page of the signed-in user's console.
func (h *Handler) signedInPage(r *http.Request, cs *consoleSession, s section) *consolePage {
	p := h.newPage(r, &cs.realm, s.title)
	p.Section, p.SignedIn, p.CSRF = s.id, true, cs.csrf
	p.UserManagedAccess = cs.realm.UserManagedAccessAllowed
	p.DisplayName = strings.TrimSpace(cs.user.FirstName + " " + cs.user.LastName)
	if p.DisplayName == "" {
		p.DisplayName = cs.user.Username
	}
	q := url.Values{"client_id": {accountConsoleClientID}, "post_logout_redirect_uri": {h.URLs.Base(r) + "/realms/" + url.PathEscape(cs.realm.Name) + "/account/"}}
	p.LogoutURL = h.basePath(r) + "/realms/" + url.PathEscape(cs.realm.Name) + "/protocol/openid-connect/logout?" + q.Encode()
	return p
}

// pageState is what a refused form shows again: the message, the field
// errors and (for personal info) the values as typed.
type pageState struct {
	message *ui.Message
	errors  map[string]string
	form    *profileForm
}

// showSection renders section s for the signed-in user.
func (h *Handler) showSection(w http.ResponseWriter, r *http.Request, cs *consoleSession, s section, status int, st *pageState) error {
	need := canViewProfile
	if s == sectionApplications {
		need = canViewApplications
	}
	if !holdsAny(cs.roles, need) {
		return h.renderMessage(w, r, &cs.realm, http.StatusForbidden, "accountNoPermissionMessage", "", "")
	}
	if s == sectionResources && !cs.realm.UserManagedAccessAllowed {
		return h.renderMessage(w, r, &cs.realm, http.StatusNotFound, "accountResourcesOffMessage", "", "")
	}
	ctx := r.Context()
	p := h.signedInPage(r, cs, s)
	if key, ok := doneMessages[r.URL.Query().Get("done")]; ok && st == nil {
		p.Message = &ui.Message{Type: "success", Text: p.T(key)}
	}
	if st != nil {
		p.Message, p.Errors = st.message, st.errors
	}
	switch s {
	case sectionPersonalInfo:
		p.EditUsername, p.EmailVerified = cs.realm.EditUsernameAllowed, cs.user.EmailVerified
		p.Form = profileForm{Username: cs.user.Username, Email: cs.user.Email, FirstName: cs.user.FirstName, LastName: cs.user.LastName}
		if st != nil && st.form != nil {
			p.Form = *st.form
		}
		p.Attributes = attributeViews(p, cs, p.Form.Attrs)
		return h.render(w, r, &cs.realm, status, "personal-info.html", p)
	case sectionSigningIn:
		creds, err := h.Store.ListCredentials(ctx, cs.user.ID)
		if err != nil {
			return err
		}
		enabled, err := h.enabledTypes(ctx, cs.realm)
		if err != nil {
			return err
		}
		here := sectionSigningIn.path
		p.OTP = enabled[otp.Type]
		for _, c := range creds {
			switch c.Type {
			case user.CredentialPassword:
				t := epoch(c.CreatedDate / 1000)
				p.Password = &t
			case otp.Type:
				p.OTP = true
				p.OTPApps = append(p.OTPApps, otpView{ID: c.ID, Label: c.UserLabel, Created: epoch(c.CreatedDate / 1000),
					RemoveURL: h.authURL(r, cs.realm, here, "delete_credential:"+c.ID)})
			}
		}
		if p.OTP {
			p.SetUpOTP = h.authURL(r, cs.realm, here, otp.RequiredAction)
		}
		for _, ct := range credentialTypes {
			if ct.typ != webauthn.TypeTwoFactor && ct.typ != webauthn.TypePasswordless {
				continue
			}
			g := keyGroup{Type: ct.typ, Category: ct.category, Name: ct.displayName, Help: ct.helptext,
				SetUp: h.authURL(r, cs.realm, here, ct.setUpAction)}
			for _, c := range creds {
				if c.Type == ct.typ {
					g.Items = append(g.Items, otpView{ID: c.ID, Label: c.UserLabel, Created: epoch(c.CreatedDate / 1000),
						RemoveURL: h.authURL(r, cs.realm, here, "delete_credential:"+c.ID)})
				}
			}
			if enabled[ct.typ] || len(g.Items) > 0 {
				p.Keys = append(p.Keys, g)
			}
		}
		if n := user.PolicyMinLength(cs.realm.PasswordPolicy); n > 0 {
			p.PasswordHint = p.T("passwordMinLengthHint", strconv.Itoa(n))
		}
		return h.render(w, r, &cs.realm, status, "signing-in.html", p)
	case sectionDeviceActivity:
		ss, err := h.userSessions(ctx, cs.realm, cs.user.ID, cs.us.ID, r.UserAgent())
		if err != nil {
			return err
		}
		for _, d := range devices(ss) {
			dv := deviceView{ID: d.ID, Current: d.Current, Title: deviceTitle(p, d)}
			for _, s := range d.Sessions {
				sv := sessionView{ID: s.ID, IPAddress: s.IPAddress, Browser: s.Browser, Current: s.Current,
					Started: epoch(s.Started), LastAccess: epoch(s.LastAccess), Expires: epoch(s.Expires)}
				var names []string
				for _, c := range s.Clients {
					names = append(names, clientTitle(p.Lang, c.ClientName, c.ClientID))
				}
				sv.Clients = strings.Join(names, ", ")
				sv.SignOutLabel = p.T("accountSignOutSessionLabel", s.Browser, s.IPAddress, sv.Started.Text)
				if !s.Current {
					p.OtherSessions = true
				}
				dv.Sessions = append(dv.Sessions, sv)
			}
			p.Devices = append(p.Devices, dv)
		}
		return h.render(w, r, &cs.realm, status, "device-activity.html", p)
	case sectionResources:
		if err := h.resourcesPage(r, cs, p); err != nil {
			return err
		}
		return h.render(w, r, &cs.realm, status, "resources.html", p)
	case sectionLinkedAccounts:
		if err := h.linkedAccountsPage(r, cs, p); err != nil {
			return err
		}
		return h.render(w, r, &cs.realm, status, "linked-accounts.html", p)
	default:
		apps, err := h.applications(ctx, r, cs.realm, cs.user.ID, p.Lang)
		if err != nil {
			return err
		}
		for _, a := range apps {
			av := appView{ClientID: a.ClientID, Name: clientTitle(p.Lang, a.ClientName, a.ClientID), Description: ui.Resolve(p.Lang, a.Description),
				InUse: a.InUse, OfflineAccess: a.OfflineAccess, Internal: !a.UserConsentRequired}
			if u, err := url.Parse(a.EffectiveURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				av.URL = a.EffectiveURL
			}
			if a.Consent != nil {
				t := epoch(a.Consent.CreatedDate / 1000)
				av.ConsentGiven = &t
				for _, sc := range a.Consent.GrantedScopes {
					text := sc.DisplayText
					if text == "" {
						text = ui.Resolve(p.Lang, sc.Name)
					}
					av.Scopes = append(av.Scopes, text)
				}
			}
			av.RemoveLabel = p.T("accountRemoveAccessLabel", av.Name)
			p.Apps = append(p.Apps, av)
		}
		return h.render(w, r, &cs.realm, status, "applications.html", p)
	}
}

// clientTitle is how the console names a client: its name (which may be a
// message reference such as "${client_account-console}") or its clientId.
func clientTitle(locale, name, clientID string) string {
	if name != "" {
		return ui.Resolve(locale, name)
	}
	return clientID
}

// deviceTitle names a device: "Linux", "Mac OS X 14.1", or "Other device".
func deviceTitle(p *consolePage, d deviceRep) string {
	if d.OS == unknownDevice.OS {
		return p.T("accountOtherDevice")
	}
	if d.OSVersion == "" || d.OSVersion == unknownDevice.OSVersion {
		return d.OS
	}
	return d.OS + " " + d.OSVersion
}

// savePersonalInfo serves the personal info form.
func (h *Handler) savePersonalInfo(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error {
	in := profileUpdate{}
	typed := profileForm{Username: cs.user.Username}
	get := func(name string, dst **string, keep *string) {
		if form.Has(name) {
			v := form.Get(name)
			*dst, *keep = &v, v
		}
	}
	if cs.realm.EditUsernameAllowed {
		get("username", &in.Username, &typed.Username)
	} else if form.Has("username") && !strings.EqualFold(strings.TrimSpace(form.Get("username")), cs.user.Username) {
		// The form has no such field; someone built this request.
		v := form.Get("username")
		in.Username = &v
	}
	get("email", &in.Email, &typed.Email)
	get("firstName", &in.FirstName, &typed.FirstName)
	get("lastName", &in.LastName, &typed.LastName)
	// Free attributes: the form's fields replace the user's values; what
	// the form does not show is sent back unchanged.
	typed.Attrs = map[string]string{}
	in.Attributes = map[string][]string{}
	for k, v := range cs.user.Attributes {
		in.Attributes[k] = v
	}
	for k := range form {
		if name, ok := strings.CutPrefix(k, attrFormPrefix); ok && name != "" && !profile.IsRoot(name) {
			v := strings.TrimSpace(form.Get(k))
			typed.Attrs[name] = v
			if v == "" {
				delete(in.Attributes, name)
			} else {
				in.Attributes[name] = []string{v}
			}
		}
	}
	_, err := h.updateProfile(r.Context(), cs.realm, cs.user.ID, in)
	var pe *profile.Errors
	if errors.As(err, &pe) {
		p := h.newPage(r, &cs.realm, "")
		st := &pageState{errors: map[string]string{}, form: &typed}
		for _, fe := range pe.List {
			args := []string{ui.Resolve(p.Lang, fe.Params[0])}
			args = append(args, fe.Params[1:]...)
			st.errors[fe.Field] = p.T(fe.Message, args...)
		}
		st.message = &ui.Message{Type: "error", Text: p.T("accountProfileNotSavedMessage")}
		return h.showSection(w, r, cs, sectionPersonalInfo, pe.Status, st)
	}
	if err != nil {
		return err
	}
	return h.done(w, r, cs, sectionPersonalInfo, "profile")
}

// changePassword serves the signing-in page's password form: the current
// password, checked through authn like every password check (brute-force
// detection counts a wrong one here as at the login page, and a locked
// user's guess is never verified), the new one twice, the realm's password
// policy (history included), and optionally signing out every other
// session.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error {
	ctx := r.Context()
	current, pw, confirm := form.Get("password"), form.Get("password-new"), form.Get("password-confirm")
	locale := pickLocale(cs.realm, r)
	retry := func(field, text string) error {
		st := &pageState{message: &ui.Message{Type: "error", Text: text}, errors: map[string]string{field: text}}
		return h.showSection(w, r, cs, sectionSigningIn, http.StatusBadRequest, st)
	}
	if current == "" {
		return retry("password", ui.Text(locale, "missingPasswordMessage"))
	}
	outcome := authn.Invalid
	if len(current) <= user.MaxPasswordLength && utf8.ValidString(current) {
		var err error
		_, outcome, err = authn.Checker{Store: h.Store, Log: h.Log, Hashes: h.Hashes}.CheckUser(ctx, cs.realm, cs.user, current, clientIP(r), h.Now())
		if err != nil {
			return err
		}
	}
	if outcome != authn.OK {
		h.Log.InfoContext(ctx, "account: password change refused: wrong current password", "realm", cs.realm.Name, "user", cs.user.ID, "ip", clientIP(r))
		return retry("password", ui.Text(locale, "invalidPasswordExistingMessage"))
	}
	switch {
	case pw == "":
		return retry("password-new", ui.Text(locale, "missingPasswordMessage"))
	case pw != confirm:
		return retry("password-confirm", ui.Text(locale, "notMatchPasswordMessage"))
	}
	err := authn.SetPassword(ctx, h.Store, cs.realm, cs.user, pw, false, h.Now())
	var pe *user.PolicyError
	if errors.As(err, &pe) {
		return retry("password-new", ui.Text(locale, pe.Key, pe.Params...))
	}
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "account: password changed", "realm", cs.realm.Name, "user", cs.user.ID)
	if form.Get("logout-sessions") == "on" {
		if _, err := h.endOtherSessions(ctx, cs.realm, cs.user.ID, cs.us.ID); err != nil {
			return err
		}
	}
	return h.done(w, r, cs, sectionSigningIn, "password")
}

// signOutSession serves "Sign out" of one session on the device activity
// page; the id must name one of the user's own sessions.
func (h *Handler) signOutSession(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error {
	id := form.Get("session_id")
	if id == cs.us.ID {
		// This browser's own session is ended by signing out.
		return h.done(w, r, cs, sectionDeviceActivity, "")
	}
	err := h.endSession(r.Context(), cs.realm, cs.user.ID, id)
	if errors.Is(err, errNotMine) {
		st := &pageState{message: &ui.Message{Type: "error", Text: ui.Text(pickLocale(cs.realm, r), "accountSessionNotFoundMessage")}}
		return h.showSection(w, r, cs, sectionDeviceActivity, http.StatusNotFound, st)
	}
	if err != nil {
		return err
	}
	return h.done(w, r, cs, sectionDeviceActivity, "session")
}

// signOutOthers serves "Sign out all other devices".
func (h *Handler) signOutOthers(w http.ResponseWriter, r *http.Request, cs *consoleSession, _ url.Values) error {
	if _, err := h.endOtherSessions(r.Context(), cs.realm, cs.user.ID, cs.us.ID); err != nil {
		return err
	}
	return h.done(w, r, cs, sectionDeviceActivity, "sessions")
}

// removeAccess serves "Remove access" on the applications page.
func (h *Handler) removeAccess(w http.ResponseWriter, r *http.Request, cs *consoleSession, form url.Values) error {
	found, err := h.revokeAccess(r.Context(), cs.realm, cs.user.ID, form.Get("client_id"))
	if err != nil {
		return err
	}
	if !found {
		st := &pageState{message: &ui.Message{Type: "error", Text: ui.Text(pickLocale(cs.realm, r), "clientNotFoundMessage")}}
		return h.showSection(w, r, cs, sectionApplications, http.StatusNotFound, st)
	}
	return h.done(w, r, cs, sectionApplications, "access")
}

// clientIP is the caller's address as the connection shows it, for logs.
func clientIP(r *http.Request) string { return web.ClientIP(r) }
