package account

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
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
	typ, category, displayName, helptext, icon, action string
	removeable                                         bool
	alwaysShown                                        bool
}

// credentialTypes lists the types in Keycloak's order (basic
// authentication first). Password is always shown, since a user without
// one can set it; other types appear once the user has one.
var credentialTypes = []credentialType{
	{typ: user.CredentialPassword, category: "basic-authentication", displayName: "password-display-name",
		helptext: "password-help-text", icon: "kcAuthenticatorDefaultClass", action: requiredActionUpdatePassword, alwaysShown: true},
	{typ: "otp", category: "two-factor", displayName: "otp-display-name", helptext: "otp-help-text",
		icon: "kcAuthenticatorOTPClass", action: "CONFIGURE_TOTP", removeable: true},
}

// credentials serves GET /account/credentials (?type= narrows to one type,
// ?user-credentials=false leaves the user's credentials out).
func (h *Handler) credentials(w http.ResponseWriter, r *http.Request, c *caller) error {
	creds, err := h.Store.ListCredentials(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	withCreds := q.Get("user-credentials") != "false"
	out := []credentialContainer{}
	for _, ct := range credentialTypes {
		if t := q.Get("type"); t != "" && t != ct.typ {
			continue
		}
		var mine []credentialMetadata
		for _, cr := range creds {
			if cr.Type == ct.typ {
				mine = append(mine, credentialMetadata{Credential: credentialRep{ID: cr.ID, Type: cr.Type, UserLabel: cr.UserLabel, CreatedDate: cr.CreatedDate}})
			}
		}
		if len(mine) == 0 && !ct.alwaysShown {
			continue
		}
		cc := credentialContainer{Type: ct.typ, Category: ct.category, DisplayName: ct.displayName, Helptext: ct.helptext,
			IconCSSClass: ct.icon, Removeable: ct.removeable}
		// Keycloak offers to update a credential the user has and to create
		// one they lack.
		if len(mine) > 0 {
			cc.UpdateAction = ct.action
		} else {
			cc.CreateAction = ct.action
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
