package account

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
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

func toUserRep(rl realm.Realm, u user.User, withMetadata bool) userRep {
	cfg, ctx := userProfile(rl)
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
	return web.WriteJSON(w, http.StatusOK, toUserRep(c.realm, c.user, r.URL.Query().Get("userProfileMetadata") != "false"))
}

// profileUpdate is what a user may send to change their profile. A field
// left out (nil) stays as it is; Attributes, when sent, is the whole set of
// free attributes, of which only those the profile lets the user edit are
// taken. emailVerified and id are not read at all: a user never verifies
// their own email (CVE-2026-27946) and no request names the user it acts on.
type profileUpdate struct {
	Username   *string             `json:"username"`
	FirstName  *string             `json:"firstName"`
	LastName   *string             `json:"lastName"`
	Email      *string             `json:"email"`
	Attributes map[string][]string `json:"attributes"`
}

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

// updateProfile validates in against the realm's user profile and stores it
// on the user userID, in one transaction: nothing is stored unless all of it
// is valid. A new email is unverified. It returns the stored user.
func (h *Handler) updateProfile(ctx context.Context, rl realm.Realm, userID string, in profileUpdate) (user.User, error) {
	trim := func(p *string) *string {
		if p == nil {
			return nil
		}
		s := strings.TrimSpace(*p)
		return &s
	}
	in.Username, in.Email, in.FirstName, in.LastName = trim(in.Username), trim(in.Email), trim(in.FirstName), trim(in.LastName)
	cfg, pctx := userProfile(rl)
	var out user.User
	err := h.Store.UpdateUser(ctx, rl.ID, userID, func(u *user.User) error {
		next := *u
		for _, f := range []struct {
			dst *string
			v   *string
		}{{&next.Username, in.Username}, {&next.Email, in.Email}, {&next.FirstName, in.FirstName}, {&next.LastName, in.LastName}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if in.Attributes != nil {
			next.Attributes = cfg.Merge(pctx, u.Attributes, in.Attributes)
		}
		if errs := cfg.Validate(pctx, values(*u), values(next)); errs != nil {
			return errs
		}
		// Uniqueness needs the store, so it is checked here, after the
		// profile's rules.
		errs := &profile.Errors{Status: http.StatusConflict}
		if !strings.EqualFold(next.Username, u.Username) {
			other, err := h.Store.GetUserByUsername(ctx, rl.ID, next.Username)
			if err == nil && other.ID != u.ID {
				errs.Add(cfg, "username", "usernameExistsMessage")
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if !strings.EqualFold(next.Email, u.Email) && !rl.DuplicateEmailsAllowed {
			other, err := h.Store.GetUserByEmail(ctx, rl.ID, next.Email)
			if errors.Is(err, store.ErrConflict) || (err == nil && other.ID != u.ID) {
				errs.Add(cfg, "email", "emailExistsMessage")
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if len(errs.List) > 0 {
			return errs
		}
		if !strings.EqualFold(next.Email, u.Email) {
			next.EmailVerified = false
		} else {
			next.Email = u.Email
		}
		if strings.EqualFold(next.Username, u.Username) {
			next.Username = u.Username
		}
		*u = next
		out = *u
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		// The unique index caught a username taken at the same moment.
		errs := &profile.Errors{Status: http.StatusConflict}
		errs.Add(cfg, "username", "usernameExistsMessage")
		return out, errs
	}
	out.Normalize()
	return out, err
}

// values are every attribute of u as the user profile sees them.
func values(u user.User) map[string][]string {
	return profile.Values(u.Attributes, u.Username, u.Email, u.FirstName, u.LastName)
}

// requiredActionUpdatePassword is the action that sets a password, which
// the console offers for the password credential.
const requiredActionUpdatePassword = "UPDATE_PASSWORD"
