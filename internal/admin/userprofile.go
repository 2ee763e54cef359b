package admin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The declarative user profile of a realm (package profile owns its
// rules): read and replace it, describe it to forms, and list a user's
// attributes the profile does not name.
func (h *Handler) userProfileRoutes(mux Mux) {
	const base = "/admin/realms/{realm}/users"
	var a userAPI
	h.handle(mux, "GET "+base+"/profile", "", h.getUserProfile)
	h.handle(mux, "PUT "+base+"/profile", "manage-realm", h.putUserProfile)
	// Any admin role of the realm reads the metadata (user forms of
	// fine-grained administrators need it).
	h.handle(mux, "GET "+base+"/profile/metadata", "", h.userProfileMetadata)
	h.handle(mux, "GET "+base+"/{id}/unmanagedAttributes", "view-users@user.view", a.unmanagedAttributes)
}

// userProfile is the realm's profile in force.
func userProfile(rl realm.Realm) profile.Config { return profile.Load(rl.UserProfile) }

// profileValues are every attribute of u as the user profile sees them.
func profileValues(u user.User) map[string][]string {
	return profile.Values(u.Attributes, u.Username, u.Email, u.FirstName, u.LastName)
}

// checkProfile refuses next (over old, nil for a new user) where the
// realm's profile does, in Keycloak's error shape.
func checkProfile(cfg profile.Config, ctx profile.Context, old *user.User, next user.User) error {
	var ov map[string][]string
	if old != nil {
		ov = profileValues(*old)
	}
	if errs := cfg.Validate(ctx, ov, profileValues(next)); errs != nil {
		return &web.Error{Status: errs.Status, Body: errs.Body()}
	}
	return nil
}

func (h *Handler) getUserProfile(rq *Request) error {
	return rq.JSON(userProfile(rq.Realm))
}

// putUserProfile replaces the profile. A document naming a validator
// Gatehouse does not run, or a pattern it cannot compile, is refused rather
// than stored as if it were enforced.
func (h *Handler) putUserProfile(rq *Request) error {
	b, err := io.ReadAll(http.MaxBytesReader(rq.W, rq.R.Body, maxJSONBody))
	if err != nil {
		return errBadJSON
	}
	cfg, err := profile.Parse(b)
	var ce *profile.ConfigError
	if errors.As(err, &ce) {
		return badRequest(ce.Msg)
	}
	if err != nil {
		return err
	}
	doc, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	err = rq.h.Store.UpdateRealm(rq.R.Context(), rq.Realm.ID, func(r *realm.Realm) error {
		r.UserProfile = doc
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errRealmNotFound
	}
	if err != nil {
		return err
	}
	return rq.JSON(cfg)
}

func (h *Handler) userProfileMetadata(rq *Request) error {
	return rq.JSON(userProfile(rq.Realm).Metadata(profile.Admin))
}

// unmanagedAttributes answers the user's attributes the profile does not
// name, when the realm's policy lets administrators see them.
func (a userAPI) unmanagedAttributes(rq *Request) error {
	u, err := a.load(rq)
	if err != nil {
		return err
	}
	cfg := userProfile(rq.Realm)
	out := map[string][]string{}
	for k, v := range u.Attributes {
		if _, managed := cfg.Attribute(k); !managed && !profile.IsRoot(k) && cfg.CanView(profile.Admin, k) {
			out[k] = v
		}
	}
	return rq.JSON(out)
}
