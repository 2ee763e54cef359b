package authn

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/federation"
	"github.com/gatehouse-iam/gatehouse/internal/profile"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// ProfileUpdate is what a user may send to change their profile. A field
// left out (nil) stays as it is; Attributes, when sent, is the whole set of
// free attributes, of which only those the profile lets the user edit are
// taken. emailVerified and id are not read at all: a user never verifies
// their own email (CVE-2026-27946) and no request names the user it acts on.
type ProfileUpdate struct {
	Username   *string             `json:"username"`
	FirstName  *string             `json:"firstName"`
	LastName   *string             `json:"lastName"`
	Email      *string             `json:"email"`
	Attributes map[string][]string `json:"attributes"`
	// Complete asks for the whole profile to be valid, not only what
	// changed: the login's update-profile form (Keycloak validates every
	// attribute there), where a required attribute the user never had
	// must be filled in.
	Complete bool `json:"-"`
}

// UpdateProfile validates a user's own change to their profile (the
// account API and console, the update-profile page of a login) against the
// realm's user profile and stores it on the user userID, in one
// transaction: nothing is stored unless all of it is valid. A username or
// email that belongs to someone else is a 409 *profile.Errors. A new email
// is unverified. It returns the stored user.
func UpdateProfile(ctx context.Context, db *store.DB, rl realm.Realm, userID string, in ProfileUpdate) (user.User, error) {
	trim := func(p *string) *string {
		if p == nil {
			return nil
		}
		s := strings.TrimSpace(*p)
		return &s
	}
	in.Username, in.Email, in.FirstName, in.LastName = trim(in.Username), trim(in.Email), trim(in.FirstName), trim(in.LastName)
	cfg, pctx := profile.Load(rl.UserProfile), profile.Account(rl.EditUsernameAllowed)
	var out user.User
	err := db.UpdateUser(ctx, rl.ID, userID, func(u *user.User) error {
		pctx := pctx
		var err error
		if pctx.Storage, err = federation.ProfileStorage(ctx, db, *u); err != nil {
			return err
		}
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
		if errs := cfg.Validate(pctx, profileValues(*u), profileValues(next)); errs != nil {
			return errs
		}
		if in.Complete {
			if errs := cfg.Validate(pctx, nil, profileValues(next)); errs != nil {
				return errs
			}
		}
		// Uniqueness needs the store, so it is checked here, after the
		// profile's rules.
		errs := &profile.Errors{Status: http.StatusConflict}
		if !strings.EqualFold(next.Username, u.Username) {
			other, err := db.GetUserByUsername(ctx, rl.ID, next.Username)
			if err == nil && other.ID != u.ID {
				errs.Add(cfg, "username", "usernameExistsMessage")
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if !strings.EqualFold(next.Email, u.Email) && !rl.DuplicateEmailsAllowed {
			other, err := db.GetUserByEmail(ctx, rl.ID, next.Email)
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
		// A WRITABLE directory gets the change first: what it refuses is
		// not stored here either.
		if err := federation.WriteProfile(ctx, db, *u, next); err != nil {
			return err
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

// profileValues are every attribute of u as the user profile sees them.
func profileValues(u user.User) map[string][]string {
	return profile.Values(u.Attributes, u.Username, u.Email, u.FirstName, u.LastName)
}
