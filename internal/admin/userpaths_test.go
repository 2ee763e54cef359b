package admin_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/reconcile"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// TestUserPathsAgree drives the four ways a Keycloak user representation
// becomes a stored user: POST /users, partial import, realm import (POST
// /admin/realms) and reconcile. They share rep.CreateUser, so they agree:
//
//   - only POST /users grants the realm's default role, as in Keycloak,
//     whose admin API creates with addUser(realm, username) and whose
//     imports with addUser(realm, id, username, false, false);
//   - every path refuses an email already in the realm when the realm does
//     not allow duplicates (regression: realm import and reconcile stored
//     it, leaving two users that log in with the same email).
func TestUserPathsAgree(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		admin := s.adminToken()
		expect := func(what string, st int, b []byte, want int, wantBody string) {
			t.Helper()
			if st != want || !strings.Contains(string(b), wantBody) {
				t.Fatalf("%s: %d %s, want %d with %s", what, st, b, want, wantBody)
			}
		}
		reconcileUser := func(username, email string) error {
			_, err := reconcile.Realm(ctx, s.DB, rep.Realm{Realm: "paths", Users: []rep.User{{Username: username, Email: &email}}},
				reconcile.Options{Now: time.Now()})
			return err
		}

		st, _, b := s.do("POST", "/admin/realms", admin, map[string]any{"realm": "paths", "enabled": true,
			"users": []any{map[string]any{"username": "imported", "email": "imported@example.com"}}})
		expect("realm import", st, b, 201, "")
		st, _, b = s.do("POST", "/admin/realms/paths/users", admin, map[string]any{"username": "created", "email": "created@example.com"})
		expect("POST /users", st, b, 201, "")
		st, _, b = s.do("POST", "/admin/realms/paths/partialImport", admin, map[string]any{
			"users": []any{map[string]any{"username": "partial", "email": "partial@example.com"}}})
		expect("partial import", st, b, 200, "")
		if err := reconcileUser("reconciled", "reconciled@example.com"); err != nil {
			t.Fatalf("reconcile: %v", err)
		}

		r, err := s.DB.GetRealmByName(ctx, "paths")
		if err != nil {
			t.Fatal(err)
		}
		for name, wantDefault := range map[string]bool{"created": true, "imported": false, "partial": false, "reconciled": false} {
			u, err := s.DB.GetUserByUsername(ctx, r.ID, name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rs, err := s.DB.ListUserRoles(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(rs, func(x role.Role) bool { return x.ID == r.DefaultRoleID })
			if got != wantDefault {
				t.Errorf("%s holds default-roles-paths: %v, want %v", name, got, wantDefault)
			}
		}

		const dup = "IMPORTED@example.com"
		st, _, b = s.do("POST", "/admin/realms/paths/users", admin, map[string]any{"username": "dup1", "email": dup})
		expect("POST /users, duplicate email", st, b, 409, `{"errorMessage":"User exists with same email"}`)
		st, _, b = s.do("POST", "/admin/realms/paths/partialImport", admin, map[string]any{
			"users": []any{map[string]any{"username": "dup2", "email": dup}}})
		expect("partial import, duplicate email", st, b, 409, `{"errorMessage":"User with user name dup2 already exists."}`)
		st, _, b = s.do("POST", "/admin/realms", admin, map[string]any{"realm": "paths2", "enabled": true,
			"users": []any{map[string]any{"username": "a", "email": "same@example.com"}, map[string]any{"username": "b", "email": "SAME@example.com"}}})
		expect("realm import, duplicate email", st, b, 409, `$.users[1].email: User exists with same email`)
		err = reconcileUser("dup3", dup)
		var ie *rep.ImportError
		if !errors.As(err, &ie) || ie.Path != "$.users[0].email" {
			t.Fatalf("reconcile, duplicate email: %v, want an ImportError at $.users[0].email", err)
		}

		for _, name := range []string{"dup1", "dup2", "dup3"} {
			if _, err := s.DB.GetUserByUsername(ctx, r.ID, name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s was stored (%v)", name, err)
			}
		}
		if _, err := s.DB.GetRealmByName(ctx, "paths2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused realm import left realm paths2 (%v)", err)
		}
	})
}

// TestPartialImportKeepsUserID: Keycloak's UsersPartialImport.create keeps
// the representation's id and generates one only when it is missing, as
// every other path does. Gatehouse used to drop it.
func TestPartialImportKeepsUserID(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		r := s.newRealm("pid")
		const id = "5b0c4cbd-6f0e-4b7f-9a55-0a4c1f2e3d4b"
		st, _, b := s.do("POST", "/admin/realms/pid/partialImport", s.adminToken(), map[string]any{
			"users": []any{map[string]any{"id": id, "username": "kept"}}})
		if st != 200 {
			t.Fatalf("partial import: %d %s", st, b)
		}
		u, err := s.DB.GetUserByUsername(ctx, r.ID, "kept")
		if err != nil || u.ID != id {
			t.Fatalf("imported user id %q (%v), want %q", u.ID, err, id)
		}
	})
}
