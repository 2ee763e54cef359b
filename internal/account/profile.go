package account

import (
	"context"
	"errors"
	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// userRep is Keycloak's account UserRepresentation as the user profile
// renders it in Keycloak 24+: the root attributes, and the free attributes
// the realm's user profile lets the user see. An attribute an administrator
// keeps for themselves never reaches the user (CVE-2026-0871).
type userRep struct {
	ID                  string              `json:"id"`
	Username            string              `json:"username"`
	FirstName           string              `json:"firstName,omitempty"`
	LastName            string              `json:"lastName,omitempty"`
	Email               string              `json:"email,omitempty"`
	EmailVerified       bool                `json:"emailVerified"`
	Attributes          map[string][]string `json:"attributes,omitempty"`
	UserProfileMetadata *profile.Metadata   `json:"userProfileMetadata,omitempty"`
}

// userProfile is the realm's profile and the user's context in it.
func userProfile(rl realm.Realm) (profile.Config, profile.Context) {
	return profile.Load(rl.UserProfile), profile.Account(rl.EditUsernameAllowed)
}

// toUserRep is u as the account API shows it; st is what u's user storage
// provider keeps from being edited (federation.ProfileStorage), shown as
// read-only in the metadata.
func toUserRep(rl realm.Realm, u user.User, withMetadata bool, st profile.Storage) userRep {
	cfg, ctx := userProfile(rl)
	ctx.Storage = st
	out := userRep{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		EmailVerified: u.EmailVerified, Attributes: cfg.Visible(ctx, u.Attributes)}
	if withMetadata {
		md := cfg.Metadata(ctx)
		out.UserProfileMetadata = &md
	}
	return out
}

// getAccount serves GET /account/.
func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := federation.ProfileStorage(r.Context(), h.Store, c.user)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, toUserRep(c.realm, c.user, r.URL.Query().Get("userProfileMetadata") != "false", st))
}

// profileUpdate is what a user may send to change their profile
// (authn.ProfileUpdate).
type profileUpdate = authn.ProfileUpdate

// updateAccount serves POST /account/.
func (h *Handler) updateAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in profileUpdate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := h.updateProfile(r.Context(), c.realm, c.user.ID, in); err != nil {
		var pe *profile.Errors
		if errors.As(err, &pe) {
			return &web.Error{Status: pe.Status, Body: pe.Body()}
		}
		return err
	}
	return noContent(w)
}

// updateProfile stores a user's own change to their profile through the
// one home of that rule, authn.UpdateProfile.
func (h *Handler) updateProfile(ctx context.Context, rl realm.Realm, userID string, in profileUpdate) (user.User, error) {
	return authn.UpdateProfile(ctx, h.Store, rl, userID, in)
}

// values are every attribute of u as the user profile sees them.
func values(u user.User) map[string][]string {
	return profile.Values(u.Attributes, u.Username, u.Email, u.FirstName, u.LastName)
}

// requiredActionUpdatePassword is the action that sets a password, which
// the console offers for the password credential.
const requiredActionUpdatePassword = "UPDATE_PASSWORD"
