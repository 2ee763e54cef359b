package login

import (
	"errors"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/device"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The verification page of the device authorization grant (RFC 8628 §3.3):
// the user enters the code their device shows, signs in through the normal
// login (SSO session, form, required actions), and approves or denies the
// device on a consent page naming the client and its scopes. The decision
// is written to the store, where the device's polls at the token endpoint
// (package oidc) find it, on whichever node they arrive.

// deviceVerify serves GET and POST /realms/{realm}/device: the user code
// form, or with a code (user_code in the query, as verification_uri_complete
// carries it, or device_user_code posted by the form) the login for it.
func (h *Handler) deviceVerify(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	p, err := readParams(w, r, &rl)
	if err != nil {
		return err
	}
	noStore(w)
	if r.Method == http.MethodPost && p.has("cancel") {
		return h.deviceStatus(w, r, rl, "access_denied")
	}
	typed := p.get("user_code")
	if r.Method == http.MethodPost {
		typed = p.get("device_user_code")
	}
	if typed == "" {
		return h.showDeviceForm(w, r, rl, "", "")
	}
	code := device.Normalize(typed)
	d, err := h.Store.GetDeviceCodeByUserCode(r.Context(), rl.ID, code)
	refuse := func(key string) error {
		h.userCodeVerified(r, rl, "", "", "invalid_oauth2_user_code")
		// A wrong code may be a guess: the rate limiter counts it as the
		// login form's wrong password.
		web.NoteRefusal(r.Context(), "invalid_grant")
		return h.showDeviceForm(w, r, rl, typed, key)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse("oauth2DeviceInvalidUserCodeMessage")
	case err != nil:
		return err
	case d.Status != store.DevicePending:
		return refuse("oauth2DeviceInvalidUserCodeMessage")
	case h.now() >= d.ExpiresAt:
		return refuse("oauth2DeviceExpiredUserCodeMessage")
	}
	c, err := h.Store.GetClient(r.Context(), rl.ID, d.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Enabled) {
		return errPage(http.StatusBadRequest, &rl, "clientDisabledMessage")
	}
	if err != nil {
		return err
	}
	// The approval page is always shown, listing every scope, even when
	// the user consented before: the user code may have been handed to
	// them by someone else's device (RFC 8628 §5.4), and the page is where
	// they see which client they are letting in.
	req := authRequest{ClientID: c.ClientID, Scope: d.Scope, Nonce: d.Nonce, MaxAge: -1,
		Prompt: []string{"consent"}, DeviceUserCode: code}
	h.userCodeVerified(r, rl, c.ClientID, d.Scope, "")
	return h.start(w, r, rl, c, req)
}

// userCodeVerified records OAUTH2_DEVICE_VERIFY_USER_CODE, or its _ERROR
// when errCode is set. The user code itself is not recorded.
func (h *Handler) userCodeVerified(r *http.Request, rl realm.Realm, clientID, scope, errCode string) {
	typ := "OAUTH2_DEVICE_VERIFY_USER_CODE"
	if errCode != "" {
		typ += "_ERROR"
	}
	if !events.Wants(rl, typ) {
		return
	}
	e := events.Event{Type: typ, ClientID: clientID, IPAddress: clientIP(r), Error: errCode, Details: map[string]string{}}
	if scope != "" {
		e.Details[events.DetailScope] = scope
	}
	h.recorder().Record(r.Context(), rl, e)
}

// showDeviceForm renders the user code form; errKey is the message of a
// code that was refused, shown with what the user typed.
func (h *Handler) showDeviceForm(w http.ResponseWriter, r *http.Request, rl realm.Realm, typed, errKey string) error {
	p := h.page(r, &rl, "oauth2DeviceVerificationTitle", "")
	p.Action = basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/device"
	p.UserCode = typed
	if errKey != "" {
		p.Message, p.FieldError = &ui.Message{Type: "error", Text: p.T(errKey)}, true
	}
	h.render(w, r, &rl, http.StatusOK, "device-verify.html", p)
	return nil
}

// deviceStatusPage serves GET /realms/{realm}/device/status, where a
// device login ends: success, or the error the redirect names.
func (h *Handler) deviceStatusPage(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	p, err := readParams(w, r, &rl)
	if err != nil {
		return err
	}
	noStore(w)
	if p.get("error") == "" {
		h.renderMessage(w, r, &rl, http.StatusOK, "oauth2DeviceVerificationCompleteHeader", "success", "oauth2DeviceVerificationCompleteMessage")
		return nil
	}
	key := "oauth2DeviceVerificationFailedMessage"
	switch p.get("error") {
	case "access_denied":
		key = "oauth2DeviceConsentDeniedMessage"
	case "expired_token":
		key = "oauth2DeviceExpiredUserCodeMessage"
	}
	h.renderMessage(w, r, &rl, http.StatusOK, "oauth2DeviceVerificationFailedHeader", "error", key)
	return nil
}

// deviceStatus ends a device login on the status page; errCode is "" on
// success.
func (h *Handler) deviceStatus(w http.ResponseWriter, r *http.Request, rl realm.Realm, errCode string) error {
	loc := basePath(h.URLs, r) + "/realms/" + urlPathEscape(rl.Name) + "/device/status"
	if errCode != "" {
		loc += "?error=" + urlQueryEscape(errCode)
	}
	noStore(w)
	redirect(w, loc)
	return nil
}

// deviceDenied records the user's refusal (or any other end of the login
// but approval) so the device's next poll hears access_denied, and sends
// the browser to the status page. A grant that expired or was decided in
// the meantime is reported as expired.
func (h *Handler) deviceDenied(w http.ResponseWriter, r *http.Request, rl realm.Realm, req authRequest, code string) error {
	if code == "access_denied" {
		err := h.Store.DecideDeviceCode(r.Context(), rl.ID, req.DeviceUserCode, false, "", h.now())
		if errors.Is(err, store.ErrNotFound) {
			code = "expired_token"
		} else if err != nil {
			return err
		}
	}
	return h.deviceStatus(w, r, rl, code)
}
