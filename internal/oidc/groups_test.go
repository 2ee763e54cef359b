package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// TestGroupMembershipMapper: the group membership mapper writes the user's
// groups into the access token, userinfo and introspection, by full path
// ("/staff/ops") or by name, nested groups included and parents only as
// the path of their member subgroup.
func TestGroupMembershipMapper(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newScopeEnv(t, open)
		ctx := context.Background()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		group := func(parent, name string) role.Group {
			g := role.Group{ID: store.NewID(), RealmID: e.realm.ID, ParentID: parent, Name: name, Attributes: map[string][]string{}}
			must(e.db.CreateGroup(ctx, g))
			return g
		}
		staff := group("", "staff")
		ops := group(staff.ID, "ops")
		group(staff.ID, "finance") // alice is not a member
		oncall := group(ops.ID, "on call")
		guests := group("", "guests")
		alice, err := e.db.GetUserByUsername(ctx, e.realm.ID, "alice")
		must(err)
		for _, g := range []role.Group{ops, oncall, guests} {
			must(e.db.AddGroupMember(ctx, g.ID, alice.ID))
		}
		mapper := func(name, claim, fullPath string) client.ProtocolMapper {
			return client.ProtocolMapper{ID: store.NewID(), Name: name, Protocol: "openid-connect",
				ProtocolMapper: "oidc-group-membership-mapper",
				Config: map[string]string{"claim.name": claim, "full.path": fullPath, "access.token.claim": "true",
					"id.token.claim": "true", "userinfo.token.claim": "true", "introspection.token.claim": "true"}}
		}
		must(e.db.UpdateClient(ctx, e.realm.ID, e.app.ID, func(c *client.Client) error {
			c.ProtocolMappers = append(c.ProtocolMappers, mapper("groups by path", "groups", "true"), mapper("groups by name", "group_names", "false"))
			return nil
		}))

		tok := e.passwordToken()
		wantPaths := []string{"/guests", "/staff/ops", "/staff/ops/on call"}
		wantNames := []string{"guests", "on call", "ops"}
		for where, claims := range map[string]map[string]any{
			"access token":  jwtPayload(t, tok.AccessToken),
			"userinfo":      e.userinfo(tok.AccessToken),
			"introspection": e.introspect(tok.AccessToken),
		} {
			if got := strList(claims["groups"]); !slices.Equal(got, wantPaths) {
				t.Errorf("%s: groups %v, want %v", where, got, wantPaths)
			}
			if got := strList(claims["group_names"]); !slices.Equal(got, wantNames) {
				t.Errorf("%s: group_names %v, want %v", where, got, wantNames)
			}
		}
	})
}

func strList(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			out = append(out, x.(string))
		}
	}
	slices.Sort(out)
	return out
}

func jwtPayload(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
