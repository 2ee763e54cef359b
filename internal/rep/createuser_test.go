package rep_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// createUserRealms are the realms CreateUser's cases run in: "strict"
// refuses duplicate emails, "loose" allows them and has a password policy.
const createUserRealms = `{"realm":"strict","enabled":true,
	"roles":{"realm":[{"name":"editor"}],"client":{"app":[{"name":"reader"}]}},
	"clients":[{"clientId":"app"},{"clientId":"svc"}],
	"groups":[{"name":"team","realmRoles":["editor"],"subGroups":[{"name":"sub","clientRoles":{"app":["reader"]}}]}],
	"users":[{"username":"taken","email":"taken@example.com","enabled":true}]}`

const createUserLoose = `{"realm":"loose","enabled":true,"duplicateEmailsAllowed":true,"passwordPolicy":"length(8)",
	"users":[{"username":"taken","email":"taken@example.com","enabled":true}]}`

func ptr[T any](v T) *T { return &v }

func TestCreateUser(t *testing.T) {
	type result struct {
		u      user.User
		roles  []string // role names, client roles as "clientId/name"
		groups []string // group names
		creds  []user.Credential
		asked  []string // roles Grant was asked about
	}
	cases := []struct {
		name  string
		realm string // "strict" unless set
		x     rep.User
		opts  rep.UserOptions
		field string // the UserError's Field, when refused
		clash bool   // the refusal is a conflict
		check func(t *testing.T, r result)
	}{
		{name: "the username is stored lower-case", x: rep.User{Username: " MiXeD ", Email: ptr("M@Example.com")},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if r.u.Username != "mixed" || r.u.Email != "m@example.com" {
					t.Errorf("stored %q %q", r.u.Username, r.u.Email)
				}
			}},
		{name: "admin create grants the default role", x: rep.User{Username: "a"}, opts: rep.UserOptions{Source: rep.FromAdmin},
			check: func(t *testing.T, r result) {
				if !slices.Equal(r.roles, []string{"default-roles-strict"}) {
					t.Errorf("roles = %v", r.roles)
				}
			}},
		{name: "an imported user holds only the roles it names", x: rep.User{Username: "a", RealmRoles: []string{"editor"}},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if !slices.Equal(r.roles, []string{"editor"}) {
					t.Errorf("roles = %v", r.roles)
				}
			}},
		{name: "a username in use is a conflict", x: rep.User{Username: "TAKEN"}, opts: rep.UserOptions{Source: rep.FromImport},
			field: "username", clash: true},
		{name: "an email in use is a conflict on import", x: rep.User{Username: "b", Email: ptr("Taken@example.com")},
			opts: rep.UserOptions{Source: rep.FromImport}, field: "email", clash: true},
		{name: "an email in use is a conflict from the admin API", x: rep.User{Username: "b", Email: ptr("taken@example.com")},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "email", clash: true},
		{name: "an email in use is fine where the realm allows duplicates", realm: "loose",
			x: rep.User{Username: "b", Email: ptr("taken@example.com")}, opts: rep.UserOptions{Source: rep.FromImport}},
		{name: "an id in use is a conflict", x: rep.User{ID: "taken-id", Username: "b"}, opts: rep.UserOptions{Source: rep.FromImport},
			field: "id", clash: true},
		{name: "an id is kept", x: rep.User{ID: "my-id", Username: "b"}, opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if r.u.ID != "my-id" {
					t.Errorf("id = %q", r.u.ID)
				}
			}},
		{name: "the admin API refuses an unknown realm role", x: rep.User{Username: "b", RealmRoles: []string{"editor", "ghost"}},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "realmRoles[1]"},
		{name: "an import creates the realm role it names", x: rep.User{Username: "b", RealmRoles: []string{"editor", "ghost"}},
			opts: rep.UserOptions{Source: rep.FromImport, Grant: func([]string) error { return nil }},
			check: func(t *testing.T, r result) {
				if !slices.Contains(r.roles, "ghost") {
					t.Errorf("roles = %v, want ghost created and granted", r.roles)
				}
			}},
		{name: "an unknown client role is refused", x: rep.User{Username: "b", ClientRoles: map[string][]string{"app": {"ghost"}}},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "clientRoles.app[0]"},
		{name: "roles of an unknown client are refused", x: rep.User{Username: "b", ClientRoles: map[string][]string{"nope": {"x"}}},
			opts: rep.UserOptions{Source: rep.FromImport}, field: "clientRoles.nope"},
		{name: "an unknown group is refused", x: rep.User{Username: "b", Groups: []string{"/team", "/nope"}},
			opts: rep.UserOptions{Source: rep.FromImport}, field: "groups[1]"},
		{name: "roles, client roles and groups are stored", x: rep.User{Username: "b", RealmRoles: []string{"editor"},
			ClientRoles: map[string][]string{"app": {"reader"}}, Groups: []string{"/team/sub", "team"}},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if !slices.Equal(r.roles, []string{"app/reader", "editor"}) || !slices.Equal(r.groups, []string{"sub", "team"}) {
					t.Errorf("roles %v groups %v", r.roles, r.groups)
				}
			}},
		{name: "Grant is asked about direct and inherited roles and the default role", x: rep.User{Username: "b", RealmRoles: []string{"editor"}, Groups: []string{"/team/sub"}},
			opts: rep.UserOptions{Source: rep.FromAdmin},
			check: func(t *testing.T, r result) {
				// sub's reader and its parent team's editor, after the direct editor.
				if !slices.Equal(r.asked, []string{"editor", "app/reader", "editor", "default-roles-strict"}) {
					t.Errorf("asked = %v", r.asked)
				}
			}},
		{name: "a refusal by Grant writes nothing", x: rep.User{Username: "b", Groups: []string{"/team"}},
			opts: rep.UserOptions{Source: rep.FromAdmin, Grant: func([]string) error { return errDenied }}},
		{name: "a temporary password is hashed and adds UPDATE_PASSWORD",
			x:    rep.User{Username: "b", Credentials: []rep.Credential{{Type: "password", Value: "Secret-pw-1", Temporary: ptr(true), UserLabel: "l"}}},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if !slices.Contains(r.u.RequiredActions, "UPDATE_PASSWORD") || len(r.creds) != 1 || r.creds[0].UserLabel != "l" {
					t.Fatalf("actions %v creds %v", r.u.RequiredActions, r.creds)
				}
				if ok, err := user.VerifyPassword("Secret-pw-1", r.creds[0]); !ok || err != nil {
					t.Errorf("password does not verify: %v", err)
				}
			}},
		{name: "the admin API takes password credentials only",
			x:    rep.User{Username: "b", Credentials: []rep.Credential{{Type: "otp", SecretData: `{"value":"x"}`, CredentialData: `{}`}}},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "credentials[0].type"},
		{name: "the admin API takes one password at most",
			x:    rep.User{Username: "b", Credentials: []rep.Credential{{Value: "Secret-pw-1"}, {Value: "Secret-pw-2"}}},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "credentials"},
		{name: "an import keeps other credentials and their ids",
			x:    rep.User{Username: "b", Credentials: []rep.Credential{{ID: "otp-1", Type: "otp", SecretData: `{"value":"x"}`, CredentialData: `{}`}}},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if len(r.creds) != 1 || r.creds[0].ID != "otp-1" || r.creds[0].Type != "otp" {
					t.Errorf("creds = %v", r.creds)
				}
			}},
		{name: "a plain value is for passwords only",
			x:    rep.User{Username: "b", Credentials: []rep.Credential{{Type: "otp", Value: "123456"}}},
			opts: rep.UserOptions{Source: rep.FromImport}, field: "credentials[0].value"},
		{name: "the admin API refuses an unreadable password hash",
			x: rep.User{Username: "b", Credentials: []rep.Credential{{Type: "password", SecretData: "{}",
				CredentialData: `{"algorithm":"md5"}`}}},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "credentials[0]"},
		{name: "an import keeps an unreadable password hash as it is",
			x: rep.User{Username: "b", Credentials: []rep.Credential{{Type: "password", SecretData: "{}",
				CredentialData: `{"algorithm":"md5"}`}}},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if len(r.creds) != 1 || r.creds[0].SecretData != "{}" {
					t.Errorf("credentials = %+v", r.creds)
				}
			}},
		{name: "the admin API checks the password policy", realm: "loose",
			x:    rep.User{Username: "b", Credentials: []rep.Credential{{Value: "short"}}},
			opts: rep.UserOptions{Source: rep.FromAdmin}, field: "credentials[0].value"},
		{name: "an import links a service account to its client",
			x:    rep.User{Username: "service-account-svc", ServiceAccountClientID: "svc"},
			opts: rep.UserOptions{Source: rep.FromImport},
			check: func(t *testing.T, r result) {
				if r.u.ServiceAccountClientID == "" || r.u.ServiceAccountClientID == "svc" {
					t.Errorf("service account of %q, want svc's internal id", r.u.ServiceAccountClientID)
				}
			}},
		{name: "a service account of an unknown client is refused",
			x:    rep.User{Username: "b", ServiceAccountClientID: "nope"},
			opts: rep.UserOptions{Source: rep.FromImport}, field: "serviceAccountClientId"},
		{name: "the admin API ignores serviceAccountClientId",
			x:    rep.User{Username: "b", ServiceAccountClientID: "svc"},
			opts: rep.UserOptions{Source: rep.FromAdmin},
			check: func(t *testing.T, r result) {
				if r.u.ServiceAccountClientID != "" {
					t.Errorf("linked to %q", r.u.ServiceAccountClientID)
				}
			}},
	}
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		ctx := context.Background()
		db := server(t, open)
		for _, doc := range []string{createUserRealms, createUserLoose} {
			if _, _, err := rep.ImportFile(ctx, db, []byte(doc), rep.ImportOptions{Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		realms := map[string]realm.Realm{}
		for _, name := range []string{"strict", "loose"} {
			r, err := db.GetRealmByName(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			realms[name] = r
		}
		if _, err := rep.CreateUser(ctx, db, realms["strict"].ID, rep.User{ID: "taken-id", Username: "taken-by-id"},
			rep.UserOptions{Source: rep.FromImport, Now: now}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := realms["strict"]
				if tc.realm != "" {
					r = realms[tc.realm]
				}
				var res result
				opts := tc.opts
				opts.Now = now
				if opts.Grant == nil {
					opts.Grant = func(ids []string) error {
						var rs []role.Role
						for _, id := range ids {
							ro, err := db.GetRole(context.Background(), r.ID, id)
							if err != nil {
								return err
							}
							rs = append(rs, ro)
						}
						res.asked = roleNames(t, db, r.ID, rs)
						return nil
					}
				}
				// Each case runs in a transaction rolled back at the end, so
				// the cases do not see each other's users.
				err := db.InTx(ctx, func(tx *store.DB) error {
					u, err := rep.CreateUser(ctx, tx, r.ID, tc.x, opts)
					if err != nil {
						if _, lookup := tx.GetUserByUsername(ctx, r.ID, tc.x.Username); !tc.clash && !errors.Is(lookup, store.ErrNotFound) {
							t.Errorf("a refused user was stored (%v)", err)
						}
						return err
					}
					res.u = u
					rs, err := tx.ListUserRoles(ctx, u.ID)
					if err != nil {
						return err
					}
					res.roles = roleNames(t, tx, r.ID, rs)
					slices.Sort(res.roles)
					gs, err := tx.ListUserGroups(ctx, u.ID)
					if err != nil {
						return err
					}
					for _, g := range gs {
						res.groups = append(res.groups, g.Name)
					}
					slices.Sort(res.groups)
					if res.creds, err = tx.ListCredentials(ctx, u.ID); err != nil {
						return err
					}
					return errRollback
				})
				var ue *rep.UserError
				switch {
				case tc.name == "a refusal by Grant writes nothing":
					if !errors.Is(err, errDenied) {
						t.Fatalf("err = %v, want Grant's", err)
					}
				case tc.field != "":
					if !errors.As(err, &ue) || ue.Field != tc.field || ue.Conflict != tc.clash {
						t.Fatalf("err = %#v, want field %q conflict %v", err, tc.field, tc.clash)
					}
				case !errors.Is(err, errRollback):
					t.Fatalf("err = %v", err)
				}
				if tc.check != nil {
					tc.check(t, res)
				}
			})
		}
	})
}

var (
	errRollback = errors.New("rollback")
	errDenied   = errors.New("denied")
)

// roleNames names roles as the cases do: realm roles by name, client roles
// as "clientId/name".
func roleNames(t *testing.T, db *store.DB, realmID string, rs []role.Role) []string {
	t.Helper()
	var out []string
	for _, r := range rs {
		if r.ClientID == "" {
			out = append(out, r.Name)
			continue
		}
		c, err := db.GetClient(context.Background(), realmID, r.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.ClientID+"/"+r.Name)
	}
	return out
}
