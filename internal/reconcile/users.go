package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const updatePassword = "UPDATE_PASSWORD"

func (r *run) users(ctx context.Context) error {
	if r.x.Users == nil {
		return nil
	}
	cur, err := r.tx.ListUsers(ctx, r.realm.ID, 0, -1)
	if err != nil {
		return err
	}
	byName := map[string]user.User{}
	for _, u := range cur {
		byName[u.Username] = u
	}
	idx, err := r.loadRoles(ctx)
	if err != nil {
		return err
	}
	groups, err := r.tx.ListGroups(ctx, r.realm.ID)
	if err != nil {
		return err
	}
	groupID := map[string]string{} // path → id
	var index func(gs []rep.Group)
	index = func(gs []rep.Group) {
		for _, g := range gs {
			groupID[g.Path] = g.ID
			index(g.SubGroups)
		}
	}
	index(rep.GroupTree(groups))

	listed := map[string]bool{}
	for i, xu := range r.x.Users {
		path := fmt.Sprintf("$.users[%d]", i)
		name := strings.ToLower(strings.TrimSpace(xu.Username))
		if name == "" {
			return fileErr(path+".username", "the username is missing")
		}
		if listed[name] {
			return fileErr(path+".username", "user %q appears twice (usernames ignore case)", name)
		}
		listed[name] = true
		old, ok := byName[name]
		if !ok {
			if err := r.createUser(ctx, xu, path); err != nil {
				return err
			}
			r.note(Create, KindUser, name)
			continue
		}
		fields, err := r.updateUser(ctx, idx, groupID, old, xu, path)
		if err != nil {
			return err
		}
		r.note(Update, KindUser, name, fields...)
	}
	if !r.opts.Prune {
		return nil
	}
	for _, u := range cur {
		// A service account belongs to its client and goes with it.
		if listed[u.Username] || u.ServiceAccountClientID != "" {
			continue
		}
		if err := r.tx.DeleteUser(ctx, r.realm.ID, u.ID); err != nil {
			return err
		}
		r.note(Delete, KindUser, u.Username)
	}
	return nil
}

// createUser creates a user as the importer does (rep.CreateUser): absent
// booleans are false, credentials are stored as given (plain values hashed
// with the realm's policy), and the role mappings and groups are exactly the
// file's.
func (r *run) createUser(ctx context.Context, xu rep.User, path string) error {
	_, err := rep.CreateUser(ctx, r.tx, r.realm.ID, xu, rep.UserOptions{Source: rep.FromImport, Now: r.opts.Now})
	return rep.UserErrorAt(path, err)
}

// updateUser brings an existing user's profile, role mappings, groups and,
// when the file carries them, credentials to what the file sets, and
// returns the fields that changed.
func (r *run) updateUser(ctx context.Context, idx roleIndex, groupID map[string]string, old user.User, xu rep.User, path string) ([]string, error) {
	want := old
	xu.ApplyTo(&want)
	want.Normalize()
	want.ID, want.RealmID, want.Username = old.ID, old.RealmID, old.Username
	// A temporary password in the file adds UPDATE_PASSWORD when it is set;
	// the file's list of required actions must not take it away again on
	// the next run, before the user has changed that password.
	if hasTemporary(xu.Credentials) && slices.Contains(old.RequiredActions, updatePassword) && !slices.Contains(want.RequiredActions, updatePassword) {
		want.RequiredActions = append(slices.Clone(want.RequiredActions), updatePassword)
	}

	credFields, creds, temporary, err := r.credentialChanges(ctx, old, xu.Credentials, path)
	if err != nil {
		return nil, err
	}
	if temporary && !slices.Contains(want.RequiredActions, updatePassword) {
		want.RequiredActions = append(slices.Clone(want.RequiredActions), updatePassword)
	}
	fields := diff(rep.UserFromDomain(old), rep.UserFromDomain(want),
		"id", "createdTimestamp", "access", "totp", "serviceAccountClientId", "disableableCredentialTypes", "federationLink")
	if len(fields) > 0 {
		if err := want.Validate(); err != nil {
			return nil, fileErr(path, "%v", err)
		}
		if err := r.tx.UpdateUser(ctx, r.realm.ID, old.ID, func(u *user.User) error { *u = want; return nil }); err != nil {
			return nil, err
		}
	}
	if creds != nil {
		if err := r.replaceCredentials(ctx, old.ID, creds); err != nil {
			return nil, err
		}
		fields = append(fields, credFields...)
	}

	current, err := r.tx.ListUserRoles(ctx, old.ID)
	if err != nil {
		return nil, err
	}
	add, remove, changed, err := idx.mappings(current, xu.RealmRoles, xu.ClientRoles, path)
	if err != nil {
		return nil, err
	}
	if len(remove) > 0 {
		if err := r.tx.RemoveUserRoles(ctx, old.ID, remove...); err != nil {
			return nil, err
		}
	}
	if len(add) > 0 {
		if err := r.tx.AddUserRoles(ctx, old.ID, add...); err != nil {
			return nil, err
		}
	}
	fields = append(fields, changed...)

	if xu.Groups != nil {
		changed, err := r.syncGroups(ctx, old.ID, groupID, xu.Groups, path)
		if err != nil {
			return nil, err
		}
		if changed {
			fields = append(fields, "groups")
		}
	}
	return fields, nil
}

func (r *run) syncGroups(ctx context.Context, userID string, groupID map[string]string, paths []string, path string) (bool, error) {
	var want []string
	for j, gp := range paths {
		gid, ok := groupID[gp]
		if !ok {
			return false, fileErr(fmt.Sprintf("%s.groups[%d]", path, j), "group %q does not exist", gp)
		}
		want = append(want, gid)
	}
	gs, err := r.tx.ListUserGroups(ctx, userID)
	if err != nil {
		return false, err
	}
	have := make([]string, len(gs))
	for i, g := range gs {
		have[i] = g.ID
	}
	if sameSet(have, want) {
		return false, nil
	}
	for _, gid := range minus(have, want) {
		if err := r.tx.RemoveGroupMember(ctx, gid, userID); err != nil {
			return false, err
		}
	}
	for _, gid := range minus(want, have) {
		if err := r.tx.AddGroupMember(ctx, gid, userID); err != nil {
			return false, err
		}
	}
	return true, nil
}

func hasTemporary(xs []rep.Credential) bool {
	return slices.ContainsFunc(xs, func(c rep.Credential) bool {
		return c.Value != "" && c.Temporary != nil && *c.Temporary
	})
}

// credentials turns the file's credentials of a user into stored ones
// (rep.UserCredentials). temporary reports a plain password marked
// temporary.
func (r *run) credentials(u user.User, xs []rep.Credential, path string) (out []user.Credential, temporary bool, err error) {
	probe := u
	probe.RequiredActions = nil
	out, err = rep.UserCredentials(r.realm, &probe, xs, r.opts.Now, rep.FromImport)
	if err != nil {
		return nil, false, rep.UserErrorAt(path, err)
	}
	// Fresh ids: a credential id from another server's export may be taken
	// here, and nothing refers to credentials by id.
	for i := range out {
		out[i].ID = store.NewID()
	}
	return out, len(probe.RequiredActions) > 0, nil
}

// credentialChanges compares the file's credentials of a user with the
// stored ones, type by type. A type whose stored credentials all match the
// file's (a plain value verifies against the stored hash; a hash is the
// same hash) is left alone. Otherwise the new credentials of the changed
// types are returned (creds non-nil) with the field "credentials". A user
// without credentials in the file keeps theirs, whatever they are.
func (r *run) credentialChanges(ctx context.Context, u user.User, xs []rep.Credential, path string) (fields []string, creds map[string][]user.Credential, temporary bool, err error) {
	if len(xs) == 0 {
		return nil, nil, false, nil
	}
	stored, err := r.tx.ListCredentials(ctx, u.ID)
	if err != nil {
		return nil, nil, false, err
	}
	byType := map[string][]rep.Credential{}
	for _, xc := range xs {
		t := cmp.Or(xc.Type, user.CredentialPassword)
		byType[t] = append(byType[t], xc)
	}
	for _, t := range sortedKeys(byType) {
		var have []user.Credential
		for _, c := range stored {
			if c.Type == t {
				have = append(have, c)
			}
		}
		if matches(have, byType[t]) {
			continue
		}
		built, temp, err := r.credentials(u, byType[t], path)
		if err != nil {
			return nil, nil, false, err
		}
		if creds == nil {
			creds = map[string][]user.Credential{}
		}
		creds[t] = built
		temporary = temporary || temp
	}
	if creds == nil {
		return nil, nil, false, nil
	}
	return []string{"credentials"}, creds, temporary, nil
}

// matches reports whether the stored credentials of one type are the file's:
// as many, and each file credential matched by a distinct stored one.
func matches(have []user.Credential, want []rep.Credential) bool {
	if len(have) != len(want) {
		return false
	}
	used := make([]bool, len(have))
	for _, xc := range want {
		found := false
		for i, c := range have {
			if used[i] {
				continue
			}
			var same bool
			if xc.Value != "" {
				ok, err := user.VerifyPassword(xc.Value, c)
				same = err == nil && ok
			} else {
				same = xc.SecretData == c.SecretData && xc.CredentialData == c.CredentialData
			}
			if same {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// replaceCredentials swaps the user's credentials of each given type for
// the new ones; other types are untouched.
func (r *run) replaceCredentials(ctx context.Context, userID string, creds map[string][]user.Credential) error {
	stored, err := r.tx.ListCredentials(ctx, userID)
	if err != nil {
		return err
	}
	for _, c := range stored {
		if _, ok := creds[c.Type]; ok {
			if err := r.tx.DeleteCredential(ctx, userID, c.ID); err != nil {
				return err
			}
		}
	}
	for _, t := range sortedKeys(creds) {
		for _, c := range creds[t] {
			if err := r.tx.CreateCredential(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}
