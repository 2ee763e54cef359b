package login

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authflow"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// CodeData is the Data of a store.AuthCode: what the login decided, which
// the token endpoint checks when the code is redeemed. The JSON names are
// the contract with package oidc, which decodes an identical struct.
type CodeData struct {
	// RedirectURI is the redirect_uri parameter exactly as given at the
	// authorization endpoint, "" when none was given; the token request
	// must repeat it (RFC 6749 §4.1.3).
	RedirectURI string `json:"redirect_uri"`
	// Scope is the scope parameter as given.
	Scope string `json:"scope"`
	Nonce string `json:"nonce"`
	// CodeChallenge and CodeChallengeMethod are the PKCE challenge; the
	// method is "S256" or "plain" ("plain" also when a challenge came
	// without a method, RFC 7636 §4.3), and both are "" without PKCE.
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"`
	// DPoPJkt is the dpop_jkt parameter: the thumbprint of the DPoP key
	// the token request must prove, "" when none was given.
	DPoPJkt string `json:"dpop_jkt,omitempty"`
	// ClientSessionID is the session.ClientSession of the client inside
	// the user session the code names.
	ClientSessionID string `json:"client_session_id"`
	// AuthTime is when the user authenticated (epoch seconds).
	AuthTime int64 `json:"auth_time"`
	// ACR is "1" after a login with the form, "0" when an SSO session was
	// reused.
	ACR   string `json:"acr"`
	State string `json:"state"`
}

// NoteACR is the client session note holding the acr of the client's
// latest login, which refreshed tokens repeat. Package oidc reads it by
// this name.
const NoteACR = "acr"

// codeBytes is the entropy of an authorization code.
const codeBytes = 32

// issue ends a successful login: the user session (new after a form login,
// the SSO one otherwise), the client's session in it, a code, the SSO
// cookies, and the authorization response.
func (h *Handler) issue(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, stateID string, st loginState, u user.User) error {
	ctx := r.Context()
	if (st.Req.wants("token") || st.Req.wants("id_token")) && !c.ImplicitFlowEnabled {
		// Switched off while the user was logging in: no token leaves
		// through the front channel (SECURITY.md A5).
		code, desc := checkImplicit(c, st.Req.Nonce)
		return h.redirectError(w, r, rl, st.Req, code, desc)
	}
	now := h.now()
	var sp *samlPrepared
	if st.Req.SAML != nil {
		var err error
		var sf *samlFailure
		if sp, err = h.samlPrepare(r, rl, c, st, u); errors.As(err, &sf) {
			h.Log.InfoContext(ctx, "SAML login failed", "realm", rl.Name, "client", c.ClientID, "err", err)
			return h.samlError(w, r, rl, st.Req, sf.code)
		} else if err != nil {
			return err
		}
	}
	acr := st.ACR
	var us session.UserSession
	newSession := st.SSOSession == ""
	if acr == "" {
		acr = "1"
		if !newSession {
			acr = "0"
		}
	}
	if !newSession {
		var err error
		us, err = h.Store.GetUserSession(ctx, rl.ID, st.SSOSession)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (us.UserID != u.ID || !session.Valid(rl, us, now))) {
			return errPage(http.StatusBadRequest, &rl, "sessionNotActiveMessage")
		}
		if err != nil {
			return err
		}
		if err := h.Store.TouchUserSession(ctx, us.ID, now); err != nil {
			return err
		}
		us.LastRefresh = max(us.LastRefresh, now)
	} else {
		// A different user signing in on this browser ends the previous
		// user's SSO session, so nothing of it carries over (CVE-2022-3916).
		// The same user's old session stays for the applications using it.
		if old, ok, err := h.ssoSession(ctx, r, rl); err != nil {
			return err
		} else if ok && old.user.ID != u.ID {
			if err := h.Store.DeleteUserSession(ctx, rl.ID, old.us.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		us = session.UserSession{ID: store.NewID(), RealmID: rl.ID, UserID: u.ID, Started: now, LastRefresh: now,
			RememberMe: st.RememberMe, IPAddress: clientIP(r), AuthMethod: st.Req.protocol(), AuthTime: st.AuthTime}
		if st.Flow != nil {
			// The levels of authentication reached, for the step-up of
			// later logins in this session.
			if loa := authflow.EncodeLevels(st.Flow.Levels); loa != "" {
				us.Notes = map[string]string{authflow.NoteLoAMap: loa}
			}
		}
		for k, v := range st.IDP.notes() {
			if us.Notes == nil {
				us.Notes = map[string]string{}
			}
			us.Notes[k] = v
		}
	}
	code := ""
	if sp == nil && st.Req.wants("code") && st.Req.DeviceUserCode == "" {
		code = randomToken(codeBytes)
	}
	var cs session.ClientSession
	deleteState := func(tx *store.DB) error {
		if stateID != "" {
			return tx.DeleteAuthSession(ctx, stateID)
		}
		return nil
	}
	attach := func(tx *store.DB) error {
		if newSession {
			if err := tx.CreateUserSession(ctx, us); err != nil {
				return err
			}
		}
		var err error
		cs, err = tx.GetClientSession(ctx, us.ID, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			cs = session.ClientSession{ID: store.NewID(), UserSessionID: us.ID, ClientID: c.ID, Started: now,
				Timestamp: now, Scope: st.Req.Scope, Nonce: st.Req.Nonce, Notes: map[string]string{NoteACR: acr}}
			sp.addNotes(cs.Notes, us.ID, cs.ID)
			err = tx.CreateClientSession(ctx, cs)
		} else if err == nil && (cs.Notes[NoteACR] != acr || sp.notesDiffer(cs.Notes, us.ID, cs.ID)) {
			// The client's latest login decides the acr its refreshed
			// tokens carry (a step-up raises it), and the NameID a SAML
			// logout names.
			cs, err = tx.UpdateClientSession(ctx, cs.ID, func(old session.ClientSession) (session.ClientSession, error) {
				old.Notes = maps.Clone(old.Notes)
				if old.Notes == nil {
					old.Notes = map[string]string{}
				}
				old.Notes[NoteACR] = acr
				sp.addNotes(old.Notes, us.ID, old.ID)
				return old, nil
			})
		}
		if err != nil {
			return err
		}
		if st.Req.DeviceUserCode != "" {
			// A device login ends with the approval the device's poll
			// redeems; no code goes to the browser.
			if err := tx.DecideDeviceCode(ctx, rl.ID, st.Req.DeviceUserCode, true, us.ID, now); err != nil {
				return err
			}
			return deleteState(tx)
		}
		if code == "" { // implicit: the tokens are the response
			return deleteState(tx)
		}
		data, err := json.Marshal(CodeData{
			RedirectURI: st.Req.RedirectURI, Scope: st.Req.Scope, Nonce: st.Req.Nonce,
			CodeChallenge: st.Req.CodeChallenge, CodeChallengeMethod: st.Req.CodeChallengeMethod,
			DPoPJkt:         st.Req.DPoPJkt,
			ClientSessionID: cs.ID, AuthTime: st.AuthTime, ACR: acr, State: st.Req.State,
		})
		if err != nil {
			return err
		}
		if err := tx.CreateAuthCode(ctx, code, store.AuthCode{RealmID: rl.ID, ClientID: c.ID, UserSessionID: us.ID,
			Data: string(data), ExpiresAt: now + int64(max(rl.AccessCodeLifespan, 1))}); err != nil {
			return err
		}
		return deleteState(tx)
	}
	err := h.Store.InTx(ctx, attach)
	if errors.Is(err, store.ErrConflict) && !newSession {
		// Another tab attached this client to the SSO session at the same
		// moment; a second try finds its client session and uses it.
		err = h.Store.InTx(ctx, attach)
	}
	if errors.Is(err, store.ErrNotFound) && st.Req.DeviceUserCode != "" {
		// The device code expired, or was decided in another tab, while
		// the user signed in: nothing was stored.
		return h.deviceStatus(w, r, rl, "expired_token")
	}
	if err != nil {
		return err
	}
	if err := h.setSSOCookies(ctx, w, r, rl, us); err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "login", "realm", rl.Name, "client", c.ClientID, "user", u.ID, "session", us.ID, "acr", acr)
	h.loggedIn(r, rl, c, st, u, us)
	if sp != nil {
		return h.samlRespond(w, r, rl, c, st, u, us, cs, sp)
	}
	if st.Req.DeviceUserCode != "" {
		return h.deviceStatus(w, r, rl, "")
	}
	var params []ui.Param
	if st.Req.HasState {
		params = append(params, ui.Param{Name: "state", Value: st.Req.State})
	}
	params = append(params,
		ui.Param{Name: "session_state", Value: us.ID},
		ui.Param{Name: "iss", Value: h.URLs.RealmURL(r, rl.Name)})
	if aia := st.AIA; aia != nil && aia.Status != "" {
		// The outcome of the application-initiated action.
		params = append(params, ui.Param{Name: "kc_action", Value: aia.Action}, ui.Param{Name: "kc_action_status", Value: aia.Status})
	}
	if code != "" {
		params = append(params, ui.Param{Name: "code", Value: code})
	}
	if st.Req.wants("token") || st.Req.wants("id_token") {
		tokens, err := h.frontTokens(ctx, r, rl, c, st, u, us, cs, acr, code)
		if err != nil {
			return err
		}
		params = append(params, tokens...)
	}
	return h.respond(w, r, rl, st.Req, params)
}

// redirectError sends an error to the client's redirect URI (RFC 6749
// §4.1.2.1), with the state and the issuer (RFC 9207).
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, rl realm.Realm, req authRequest, code, desc string) error {
	if req.DeviceUserCode != "" {
		return h.deviceDenied(w, r, rl, req, code)
	}
	if req.SAML != nil {
		return h.samlError(w, r, rl, req, code)
	}
	params := []ui.Param{{Name: "error", Value: code}}
	if desc != "" {
		params = append(params, ui.Param{Name: "error_description", Value: desc})
	}
	if req.HasState {
		params = append(params, ui.Param{Name: "state", Value: req.State})
	}
	params = append(params, ui.Param{Name: "iss", Value: h.URLs.RealmURL(r, rl.Name)})
	h.Log.DebugContext(r.Context(), "authorization error", "realm", rl.Name, "client", req.ClientID, "error", code, "description", desc)
	return h.respond(w, r, rl, req, params)
}

// respond delivers an authorization response in the request's response
// mode: in the redirect URI's query, in its fragment, or as a form the
// browser posts to it; in a JWT mode, as one signed "response" parameter
// (jarm.go).
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, rl realm.Realm, req authRequest, params []ui.Param) error {
	noStore(w)
	mode := req.ResponseMode
	if isJWTMode(mode) {
		jwt, err := h.jwtResponse(r, rl, req, params)
		if err != nil {
			return err
		}
		params, mode = jwtParams(jwt), baseMode(mode)
	}
	var enc strings.Builder
	for i, p := range params {
		if i > 0 {
			enc.WriteByte('&')
		}
		enc.WriteString(url.QueryEscape(p.Name))
		enc.WriteByte('=')
		enc.WriteString(url.QueryEscape(p.Value))
	}
	switch mode {
	case "form_post":
		p := h.page(r, &rl, "doContinue", req.UILocales)
		p.PostTo, p.Params = req.Target, params
		pageHeaders(w, &rl, h.ui().ScriptSource("form-post.js"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return h.ui().Render(w, "form-post.html", p)
	case "fragment":
		redirect(w, req.Target+"#"+enc.String())
	default:
		sep := "?"
		if strings.Contains(req.Target, "?") {
			sep = "&"
			if strings.HasSuffix(req.Target, "?") || strings.HasSuffix(req.Target, "&") {
				sep = ""
			}
		}
		redirect(w, req.Target+sep+enc.String())
	}
	return nil
}

// redirect answers 302 Found to loc, written as is: http.Redirect would
// rewrite a URI without a scheme, and its body would repeat the code.
func redirect(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}
