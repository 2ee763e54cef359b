package login

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Steps of a login in progress.
const (
	stepLogin          = "login"
	stepRequiredAction = "required_action"
	// stepUpdatePassword is the step of logins stored before every
	// required action had its page: loadState reads it as UPDATE_PASSWORD.
	stepUpdatePassword = "update_password"
	stepConsent        = "consent"
	stepLogoutConfirm  = "logout_confirm"
	stepResetPassword  = "reset_credentials" // "forgot password": who?
	stepRegister       = "registration"
)

// stepAction is the login-actions path segment each step posts to (Keycloak's).
var stepAction = map[string]string{
	stepLogin:          "authenticate",
	stepRequiredAction: "required-action",
	stepConsent:        "consent",
	stepResetPassword:  "reset-credentials",
	stepRegister:       "registration",
	stepFirstBroker:    "first-broker-login",
}

// authRequest is a validated authorization request.
type authRequest struct {
	ClientID string `json:"client_id"` // the client's clientId
	// RedirectURI is the redirect_uri parameter as given ("" when absent);
	// Target is where the response goes (the single registered URI then).
	RedirectURI  string `json:"redirect_uri"`
	Target       string `json:"target"`
	ResponseMode string `json:"response_mode"`
	// ResponseType is the response_type, its values sorted ("" for logins
	// stored before it was kept: a code).
	ResponseType        string   `json:"response_type,omitempty"`
	Scope               string   `json:"scope"`
	State               string   `json:"state"`
	HasState            bool     `json:"has_state"`
	Nonce               string   `json:"nonce"`
	CodeChallenge       string   `json:"code_challenge"`
	CodeChallengeMethod string   `json:"code_challenge_method"`
	DPoPJkt             string   `json:"dpop_jkt,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              int64    `json:"max_age"` // -1 when absent
	LoginHint           string   `json:"login_hint,omitempty"`
	// IDPHint is kc_idp_hint; ACRValues and Claims are acr_values and
	// the claims parameter, which ask a level of authentication.
	IDPHint   string `json:"kc_idp_hint,omitempty"`
	ACRValues string `json:"acr_values,omitempty"`
	Claims    string `json:"claims,omitempty"`
	UILocales string `json:"ui_locales,omitempty"`
	// DeviceUserCode is set when the login approves a device (the
	// verification page, device.go): it ends with a decision on that
	// user code instead of an authorization response.
	DeviceUserCode string `json:"device_user_code,omitempty"`
	// KcAction is the kc_action parameter: a required action the
	// application asks the user to perform (application-initiated action).
	KcAction string `json:"kc_action,omitempty"`
	// Protocol is "saml" for a SAML login (saml.go), "" for OpenID
	// Connect; SAML is then what its Response must answer.
	Protocol string       `json:"protocol,omitempty"`
	SAML     *samlRequest `json:"saml,omitempty"`
}

// loginState is a login (or logout) in progress: the data of a
// store.AuthSession, whose id is the session_code of the page URLs.
type loginState struct {
	// Browser is the AUTH_SESSION_ID cookie value of the browser that
	// started the login; a form posted from any other browser is refused.
	Browser string `json:"browser"`
	TabID   string `json:"tab_id"`
	// CSRF is the token every form of this login carries back.
	CSRF string `json:"csrf"`
	Step string `json:"step"`

	Client string      `json:"client"` // internal id
	Req    authRequest `json:"request"`

	// Set once the user is known.
	UserID     string `json:"user_id,omitempty"`
	AuthTime   int64  `json:"auth_time,omitempty"`
	RememberMe bool   `json:"remember_me,omitempty"`
	// SSOSession is the user session found through the identity cookie
	// when no form was needed (acr "0").
	SSOSession string `json:"sso_session,omitempty"`
	// ACR is the acr the login reached, for the tokens.
	ACR string `json:"acr,omitempty"`

	// Flow is the progress through the authentication flow.
	Flow *authflow.State `json:"flow,omitempty"`

	Logout *logoutRequest `json:"logout,omitempty"`
	// SAMLLogout is a single logout going from one SAML client to the
	// next through the browser (saml_logout.go).
	SAMLLogout *samlLogout `json:"saml_logout,omitempty"`

	// Action is the required action whose page the login waits on
	// (stepRequiredAction); Skipped are actions that did not apply.
	Action  string   `json:"action,omitempty"`
	Skipped []string `json:"skipped,omitempty"`
	// AIA is the application-initiated action (kc_action) and its outcome.
	AIA *kcAction `json:"aia,omitempty"`
	// Locale is the locale the user picked on the pages (kc_locale).
	Locale string `json:"locale,omitempty"`
	// WebAuthn is the registration ceremony in progress on a
	// webauthn-register page (its challenge); it answers once.
	WebAuthn string `json:"webauthn,omitempty"`

	// Email is set when the login came from a link in an email (an action
	// token) rather than from the login form.
	Email *emailLink `json:"email,omitempty"`
	// Reset is the login's progress through the reset-credentials flow
	// ("forgot password"), nil outside it.
	Reset *authflow.State `json:"reset,omitempty"`
	// Register is the login's progress through the registration flow,
	// nil outside it.
	Register *authflow.State `json:"register,omitempty"`
	// Flash is a message the next page of the flow shows once (never
	// stored).
	Flash *ui.Message `json:"-"`
	// Broker is the request to an upstream identity provider the login
	// waits on (its state's secret, nonce and PKCE verifier), spent when
	// the upstream answers; Brokered is the identity the upstream
	// returned, while the first broker login flow (FirstBroker) decides
	// which local user it is; IDP is the provider the login went
	// through, for the user session's notes; Link is a client-initiated
	// account linking.
	Broker      *broker.Pending `json:"broker,omitempty"`
	Brokered    *brokeredLogin  `json:"brokered,omitempty"`
	FirstBroker *authflow.State `json:"first_broker,omitempty"`
	IDP         *idpSession     `json:"idp,omitempty"`
	Link        *linkRequest    `json:"link,omitempty"`
	// VerifySent: the verify-email page has mailed its link in this login.
	VerifySent bool `json:"verify_sent,omitempty"`
}

// emailLink is what an action token asked of a login: its type, the
// required actions still to perform, where the browser goes when they are
// done. Standalone is a link opened outside any login: it ends on a page of
// its own rather than at the client.
type emailLink struct {
	Type        string   `json:"type"`
	Actions     []string `json:"actions,omitempty"`
	RedirectURI string   `json:"redirect_uri,omitempty"`
	Standalone  bool     `json:"standalone,omitempty"`
}

// randomToken returns n random bytes, base64url: session codes, tab ids,
// CSRF tokens, browser ids, authorization codes.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// authSessionLifespan is how long a login in progress stays usable:
// Keycloak's "login timeout", never under a minute.
func authSessionLifespan(rl realm.Realm) int64 {
	return int64(max(rl.AccessCodeLifespanLogin, rl.AccessCodeLifespanUserAction, 60))
}

// saveState stores st under id (a new id when empty) and returns the id.
func (h *Handler) saveState(r *http.Request, rl realm.Realm, id string, st loginState) (string, error) {
	if id == "" {
		id = randomToken(24)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	err = h.Store.SaveAuthSession(r.Context(), store.AuthSession{ID: id, RealmID: rl.ID, Data: string(b),
		ExpiresAt: h.now() + authSessionLifespan(rl)})
	return id, err
}

var errNoState = errors.New("no login in progress")

// loadState loads the login in progress named by the request's session_code
// and checks it belongs to this browser and tab: the AUTH_SESSION_ID cookie
// must be the one it was started with, and client_id and tab_id must match.
// Failing any of these is login CSRF or a stale page, and nothing is done.
func (h *Handler) loadState(r *http.Request, rl realm.Realm, p params) (string, loginState, error) {
	var st loginState
	id := p.get("session_code")
	if id == "" {
		return "", st, errPage(http.StatusBadRequest, &rl, "invalidCodeMessage")
	}
	as, err := h.Store.GetAuthSession(r.Context(), rl.ID, id, h.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", st, &pageError{Status: http.StatusBadRequest, Key: "expiredCodeMessage", Realm: &rl, Err: errNoState}
	}
	if err != nil {
		return "", st, err
	}
	if err := json.Unmarshal([]byte(as.Data), &st); err != nil {
		return "", st, fmt.Errorf("decode login in progress: %w", err)
	}
	cookie, err := r.Cookie(cookieAuthSession)
	if err != nil || cookie.Value == "" {
		return "", st, &pageError{Status: http.StatusBadRequest, Key: "cookieNotFoundMessage", Realm: &rl, Err: errors.New("no AUTH_SESSION_ID cookie")}
	}
	if !equalSecret(cookie.Value, st.Browser) {
		return "", st, &pageError{Status: http.StatusBadRequest, Key: "invalidCodeMessage", Realm: &rl, Err: errors.New("AUTH_SESSION_ID of another browser")}
	}
	if st.Step == stepUpdatePassword {
		st.Step, st.Action = stepRequiredAction, actionUpdatePassword
	}
	if p.get("tab_id") != st.TabID || (st.Req.ClientID != "" && p.get("client_id") != st.Req.ClientID) {
		return "", st, &pageError{Status: http.StatusBadRequest, Key: "invalidCodeMessage", Realm: &rl, Err: errors.New("tab or client mismatch")}
	}
	return id, st, nil
}

// checkCSRF compares a form's csrf_token with the login's, in constant time.
func checkCSRF(rl realm.Realm, p params, st loginState) error {
	if st.CSRF == "" || !equalSecret(p.get("csrf_token"), st.CSRF) {
		return &pageError{Status: http.StatusBadRequest, Key: "invalidCodeMessage", Realm: &rl, Err: errors.New("CSRF token mismatch")}
	}
	return nil
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// browserID returns this browser's AUTH_SESSION_ID, setting a new one when
// it has none.
func (h *Handler) browserID(w http.ResponseWriter, r *http.Request, rl realm.Realm) string {
	if c, err := r.Cookie(cookieAuthSession); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	id := randomToken(32)
	h.setCookie(w, r, rl, cookieAuthSession, id, 0, true)
	return id
}

// actionURL is where a step's form posts (Keycloak's login-actions URL);
// a page of the flow names its execution.
func (h *Handler) actionURL(r *http.Request, rl realm.Realm, id string, st loginState) string {
	u := h.loginActionURL(r, rl, stepAction[st.Step], id, st)
	if st.Step == stepLogin && st.Flow != nil && st.Flow.Current != "" {
		u += "&execution=" + urlQueryEscape(st.Flow.Current)
	}
	if st.Step == stepResetPassword && st.Reset != nil && st.Reset.Current != "" {
		u += "&execution=" + urlQueryEscape(st.Reset.Current)
	}
	if st.Step == stepFirstBroker && st.FirstBroker != nil && st.FirstBroker.Current != "" {
		u += "&execution=" + urlQueryEscape(st.FirstBroker.Current)
	}
	if st.Step == stepRegister && st.Register != nil && st.Register.Current != "" {
		u += "&execution=" + urlQueryEscape(st.Register.Current)
	}
	return u
}

// loginActionURL is the login-actions URL of action for the login id.
func (h *Handler) loginActionURL(r *http.Request, rl realm.Realm, action, id string, st loginState) string {
	q := "session_code=" + urlQueryEscape(id) + "&client_id=" + urlQueryEscape(st.Req.ClientID) + "&tab_id=" + urlQueryEscape(st.TabID)
	return basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/login-actions/" + action + "?" + q
}
