package broker

import (
	"context"
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// User session notes of a brokered login: the provider, the user's name
// there, and "<alias>.<upstream sid>", which a back-channel logout from
// the upstream names.
const (
	NoteIdentityProvider         = "identity_provider"
	NoteIdentityProviderIdentity = "identity_provider_identity"
	NoteBrokerSessionID          = "BROKER_SESSION_ID"
)

// EndSessions ends the realm's user sessions that signed in through the
// provider alias and that an upstream logout token names: the sessions of
// the user linked to sub, only the one of upstream session sid when the
// token names it. It returns how many ended. Each ended session notifies
// its own clients through the store's session-end hook.
func EndSessions(ctx context.Context, db *store.DB, realmID, alias, sub, sid string) (int, error) {
	var users []string
	if sub != "" {
		u, err := db.FindUserByFederatedIdentity(ctx, realmID, alias, sub)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		users = []string{u.ID}
	} else {
		// A sid alone: every user linked to the provider is looked at, as
		// no index of upstream sessions is kept.
		fis, err := db.ListRealmFederatedIdentities(ctx, realmID)
		if err != nil {
			return 0, err
		}
		for _, fi := range fis {
			if fi.Alias == alias {
				users = append(users, fi.UserID)
			}
		}
	}
	ended := 0
	for _, uid := range users {
		ss, err := db.ListUserSessions(ctx, realmID, uid, false)
		if err != nil {
			return ended, err
		}
		for _, us := range ss {
			if us.Notes[NoteIdentityProvider] != alias || (sid != "" && us.Notes[NoteBrokerSessionID] != alias+"."+sid) {
				continue
			}
			if err := db.DeleteUserSession(ctx, realmID, us.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return ended, err
			}
			ended++
		}
	}
	return ended, nil
}
