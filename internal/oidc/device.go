package oidc

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/device"
	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/pkce"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// deviceResponse is the device authorization response (RFC 8628 §3.2), in
// Keycloak's field order.
type deviceResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// deviceCodeBytes is the entropy of a device code.
const deviceCodeBytes = 32

// deviceAuthorization serves POST /realms/{realm}/protocol/openid-connect/auth/device
// (RFC 8628 §3.1): the client authenticates as at the token endpoint and
// gets a device code to poll with and a user code for the user to enter
// on the verification page.
func (h *Handler) deviceAuthorization(w http.ResponseWriter, r *http.Request) (err error) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	form, err := readForm(w, r)
	if err != nil {
		return err
	}
	c, err := h.authClient(w, r, form, rl)
	defer func() { h.deviceAuthorized(r, rl, c, form.Get("scope"), err) }()
	if err != nil {
		return err
	}
	h.cors(w, r, c)
	if !device.Enabled(c) {
		return badRequest("unauthorized_client", "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.")
	}
	if c.Protocol != "" && c.Protocol != "openid-connect" {
		return badRequest("unauthorized_client", "Wrong client protocol.")
	}
	scope := form.Get("scope")
	if _, err := h.resolveScopes(r.Context(), rl, c, scope); err != nil {
		return err
	}
	// PKCE (RFC 7636) as at the authorization endpoint: required when the
	// client or a client policy forces it, optional otherwise.
	challenge := form.Get("code_challenge")
	method, desc := pkce.CheckChallenge(pkce.RequiredMethod(rl, c), challenge, form.Get("code_challenge_method"))
	if desc != "" {
		return badRequest("invalid_request", desc)
	}
	if method == "" {
		challenge = ""
	}
	expiresIn, interval := device.Lifespan(rl, c), device.Interval(rl, c)
	code := deviceCode()
	d := store.DeviceCode{RealmID: rl.ID, ClientID: c.ID, Scope: scope, Nonce: form.Get("nonce"),
		ExpiresAt: sessionClock(h.Now()) + expiresIn, Interval: interval,
		CodeChallenge: challenge, CodeChallengeMethod: method}
	// A user code is short enough to collide now and then: draw again.
	for attempt := 0; ; attempt++ {
		d.UserCode = device.NewUserCode()
		err = h.Store.CreateDeviceCode(r.Context(), code, d)
		if !errors.Is(err, store.ErrConflict) || attempt == 3 {
			break
		}
	}
	if err != nil {
		return err
	}
	verify := rl.Attributes["shortVerificationUri"]
	if verify == "" {
		verify = h.URLs.RealmURL(r, rl.Name) + "/device"
	}
	userCode := device.Display(d.UserCode)
	return web.WriteJSON(w, http.StatusOK, deviceResponse{
		DeviceCode:              code,
		UserCode:                userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(userCode),
		ExpiresIn:               expiresIn,
		Interval:                interval,
	})
}

// deviceAuthorized records OAUTH2_DEVICE_AUTH, or its _ERROR with the
// refusal's code. c is the zero Client when authentication failed.
func (h *Handler) deviceAuthorized(r *http.Request, rl realm.Realm, c client.Client, scope string, err error) {
	typ := "OAUTH2_DEVICE_AUTH"
	e := events.Event{ClientID: clientOf(r, c), IPAddress: clientIP(r), Details: map[string]string{events.DetailScope: scope}}
	if err != nil {
		code, _, ok := refusal(err)
		if !ok {
			return
		}
		typ, e.Error = typ+"_ERROR", code
	}
	if e.Type = typ; events.Wants(rl, typ) {
		h.recorder().Record(r.Context(), rl, e)
	}
}

func deviceCode() string {
	b := make([]byte, deviceCodeBytes)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// errAuthorizationPending is the poll's answer while the user has not
// decided yet (RFC 8628 §3.5); it is no failure worth an event.
var errAuthorizationPending = badRequest("authorization_pending", "The authorization request is still pending")

// deviceCodeGrant redeems a device code (RFC 8628 §3.4), answering a poll
// with the grant's state until the user has approved it on the
// verification page, then with tokens issued as for an authorization code.
func (h *Handler) deviceCodeGrant(r *http.Request, form url.Values, rl realm.Realm, c client.Client) (tokenResponse, error) {
	ctx := r.Context()
	if !device.Enabled(c) {
		return tokenResponse{}, invalidGrant("Client not allowed OAuth 2.0 Device Authorization Grant")
	}
	raw := form.Get("device_code")
	if raw == "" {
		return tokenResponse{}, badRequest("invalid_request", "Missing parameter: device_code")
	}
	now := h.Now()
	d, allowed, err := h.Store.PollDeviceCode(ctx, rl.ID, raw, now.UnixMilli())
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.ClientID != c.ID) {
		return tokenResponse{}, invalidGrant("Device code not valid")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	switch {
	case sessionClock(now) >= d.ExpiresAt:
		return tokenResponse{}, badRequest("expired_token", "Device code is expired")
	case !allowed:
		return tokenResponse{}, badRequest("slow_down", "Slow down")
	case d.Status == store.DeviceDenied:
		return tokenResponse{}, badRequest("access_denied", "The end user denied the authorization request")
	case d.Status != store.DeviceApproved:
		return tokenResponse{}, errAuthorizationPending
	}
	// Approved: the verifier must match the challenge of the request.
	if desc := pkce.Verify(d.CodeChallenge, d.CodeChallengeMethod, form.Get("code_verifier")); desc != "" {
		return tokenResponse{}, invalidGrant(desc)
	}
	// The first poll to consume the code gets the tokens, any
	// concurrent one on another node nothing.
	if ok, err := h.Store.ConsumeDeviceCode(ctx, rl.ID, raw); err != nil {
		return tokenResponse{}, err
	} else if !ok {
		return tokenResponse{}, invalidGrant("Device code not valid")
	}
	nowS := sessionClock(now)
	us, err := h.Store.GetUserSession(ctx, rl.ID, d.UserSessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !session.Valid(rl, us, nowS)) {
		return tokenResponse{}, invalidGrant("Session not active")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	u, err := h.sessionUser(ctx, rl, us)
	if err != nil {
		return tokenResponse{}, err
	}
	cs, err := h.Store.GetClientSession(ctx, us.ID, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return tokenResponse{}, invalidGrant("Auth error")
	}
	if err != nil {
		return tokenResponse{}, err
	}
	return h.issueForLogin(r, rl, c, u, us, cs, d.Scope, d.Nonce, "1")
}
