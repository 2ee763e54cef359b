package account

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"

	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
	"github.com/gatehouse-iam/gatehouse/internal/webauthn"
)

// credentialContainer is Keycloak's AccountCredentialResource.CredentialContainer:
// one credential type, what the user may do with it, and the user's
// credentials of that type. Texts are message keys the console localises.
type credentialContainer struct {
	Type                    string                `json:"type"`
	Category                string                `json:"category"`
	DisplayName             string                `json:"displayName"`
	Helptext                string                `json:"helptext"`
	IconCSSClass            string                `json:"iconCssClass"`
	CreateAction            string                `json:"createAction,omitempty"`
	UpdateAction            string                `json:"updateAction,omitempty"`
	Removeable              bool                  `json:"removeable"`
	UserCredentialMetadatas *[]credentialMetadata `json:"userCredentialMetadatas,omitempty"`
}

type credentialMetadata struct {
	Credential credentialRep `json:"credential"`
}

// credentialRep is a stored credential as the user may see it: which one
// and when, never secretData or credentialData (the hash, its salt and
// parameters stay on the server).
type credentialRep struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	UserLabel   string `json:"userLabel,omitempty"`
	CreatedDate int64  `json:"createdDate"`
}

// credentialType is what Keycloak's credential providers say about a type.
type credentialType struct {
	typ, category, displayName, helptext, icon string
	// createAction is offered to a user without a credential of the type
	// and updateAction to one with; setUpAction is offered always (a user
	// may have several authenticator apps).
	createAction, updateAction, setUpAction string
	removeable                              bool
}

// credentialTypes lists the types in Keycloak's order (basic
// authentication first).
var credentialTypes = []credentialType{
	{typ: user.CredentialPassword, category: "basic-authentication", displayName: "password-display-name",
		helptext: "password-help-text", icon: "kcAuthenticatorDefaultClass", createAction: requiredActionUpdatePassword, updateAction: requiredActionUpdatePassword},
	{typ: otp.Type, category: "two-factor", displayName: "otp-display-name", helptext: "otp-help-text",
		icon: "kcAuthenticatorOTPClass", setUpAction: otp.RequiredAction, removeable: true},
	{typ: webauthn.TypeTwoFactor, category: "two-factor", displayName: "webauthn-display-name", helptext: "webauthn-help-text",
		icon: "kcAuthenticatorWebAuthnClass", setUpAction: webauthn.ActionRegister, removeable: true},
	{typ: webauthn.TypePasswordless, category: "passwordless", displayName: "webauthn-passwordless-display-name",
		helptext: "webauthn-passwordless-help-text", icon: "kcAuthenticatorWebAuthnPasswordlessClass",
		setUpAction: webauthn.ActionRegisterPasswordless, removeable: true},
}

// enabledTypes are the credential types someone can log in with in rl: the
// password always, OTP when a flow asks for codes (otp.Enabled). A type
// the realm does not use is not offered, as in Keycloak.
func (h *Handler) enabledTypes(ctx context.Context, rl realm.Realm) (map[string]bool, error) {
	cfg, err := h.Store.GetAuthConfig(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	return map[string]bool{user.CredentialPassword: true, otp.Type: otp.Enabled(cfg),
		webauthn.TypeTwoFactor: webauthn.Enabled(cfg, webauthn.TypeTwoFactor), webauthn.TypePasswordless: webauthn.Enabled(cfg, webauthn.TypePasswordless)}, nil
}

// credentials serves GET /account/credentials (?type= narrows to one type,
// ?user-credentials=false leaves the user's credentials out).
func (h *Handler) credentials(w http.ResponseWriter, r *http.Request, c *caller) error {
	creds, err := h.Store.ListCredentials(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	enabled, err := h.enabledTypes(r.Context(), c.realm)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	withCreds := q.Get("user-credentials") != "false"
	out := []credentialContainer{}
	for _, ct := range credentialTypes {
		if t := q.Get("type"); t != "" && t != ct.typ || !enabled[ct.typ] {
			continue
		}
		var mine []credentialMetadata
		for _, cr := range creds {
			if cr.Type == ct.typ {
				mine = append(mine, credentialMetadata{Credential: credentialRep{ID: cr.ID, Type: cr.Type, UserLabel: cr.UserLabel, CreatedDate: cr.CreatedDate}})
			}
		}
		cc := credentialContainer{Type: ct.typ, Category: ct.category, DisplayName: ct.displayName, Helptext: ct.helptext,
			IconCSSClass: ct.icon, Removeable: ct.removeable, CreateAction: ct.setUpAction}
		// A password is created when the user has none and updated
		// otherwise.
		if len(mine) > 0 {
			cc.UpdateAction = ct.updateAction
		} else if ct.createAction != "" {
			cc.CreateAction = ct.createAction
		}
		// Without credentials and with nothing to do about it, a type
		// is left out (Keycloak's rule for a type the user cannot set up).
		if len(mine) == 0 && cc.CreateAction == "" && cc.UpdateAction == "" {
			continue
		}
		if withCreds {
			if mine == nil {
				mine = []credentialMetadata{}
			}
			cc.UserCredentialMetadatas = &mine
		}
		out = append(out, cc)
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// deleteCredential serves DELETE /account/credentials/{id}, Keycloak's
// deprecated removal (the console uses kc_action=delete_credential): one of
// the caller's own credentials of a removable type. Another user's
// credential and an unknown id are the same 404; a password is 400.
func (h *Handler) deleteCredential(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	creds, err := h.Store.ListCredentials(ctx, c.user.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(creds, func(x user.Credential) bool { return x.ID == r.PathValue("id") })
	if i < 0 {
		return notFound("Credential not found")
	}
	cr := creds[i]
	ct := slices.IndexFunc(credentialTypes, func(t credentialType) bool { return t.typ == cr.Type })
	if ct < 0 || !credentialTypes[ct].removeable {
		return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "Credential type " + cr.Type + " cannot be removed"}}
	}
	err = h.Store.DeleteCredential(ctx, c.user.ID, cr.ID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Credential not found")
	}
	if err != nil {
		return err
	}
	h.credentialRemoved(r, c.realm, c.user, cr)
	return noContent(w)
}

// credentialRemoved records Keycloak's REMOVE_TOTP for a removed
// authenticator app, with its type, never its secret.
func (h *Handler) credentialRemoved(r *http.Request, rl realm.Realm, u user.User, cr user.Credential) {
	if cr.Type != otp.Type {
		return
	}
	events.Recorder{Store: h.Store, Now: h.Now, Log: h.Log}.Record(r.Context(), rl, events.Event{Type: events.RemoveTOTP,
		ClientID: accountConsoleClientID, UserID: u.ID, IPAddress: clientIP(r),
		Details: map[string]string{events.DetailUsername: u.Username, events.DetailCredentialType: cr.Type}})
}
