package admin_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/Nerzal/gocloak/v13"
)

// TestGocloak drives the admin API and the token endpoints with
// github.com/Nerzal/gocloak/v13 (the version go.mod pins), through the calls
// a Go service typically makes: log in as admin, set up a realm, a client and
// a user, map roles, log the user in and out, and look at its sessions.
func TestGocloak(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		ctx := t.Context()
		gc := gocloak.NewClient(s.URL)
		const realmName = "shop"

		admin, err := gc.LoginAdmin(ctx, "admin", "admin-pw", "master")
		if err != nil {
			t.Fatalf("LoginAdmin: %v", err)
		}
		if admin.AccessToken == "" || admin.RefreshToken == "" || admin.ExpiresIn <= 0 {
			t.Fatalf("LoginAdmin: incomplete token response %+v", admin)
		}
		tok := admin.AccessToken

		// Realm. Regression: gocloak posts to "/admin/realms/" with a
		// trailing slash, which no route took (404) until every admin
		// route also answered with one, as Keycloak's do.
		created, err := gc.CreateRealm(ctx, tok, gocloak.RealmRepresentation{
			Realm:               gocloak.StringP(realmName),
			Enabled:             gocloak.BoolP(true),
			AccessTokenLifespan: gocloak.IntP(120),
		})
		if err != nil {
			t.Fatalf("CreateRealm: %v", err)
		}
		if created != realmName {
			t.Errorf("CreateRealm returned %q (from Location), want %q", created, realmName)
		}
		rl, err := gc.GetRealm(ctx, tok, realmName)
		if err != nil {
			t.Fatalf("GetRealm: %v", err)
		}
		if gocloak.PString(rl.ID) == "" || gocloak.PString(rl.Realm) != realmName || !gocloak.PBool(rl.Enabled) ||
			gocloak.PInt(rl.AccessTokenLifespan) != 120 {
			t.Errorf("GetRealm: id %q realm %q enabled %v accessTokenLifespan %d",
				gocloak.PString(rl.ID), gocloak.PString(rl.Realm), gocloak.PBool(rl.Enabled), gocloak.PInt(rl.AccessTokenLifespan))
		}
		_, err = gc.CreateRealm(ctx, tok, gocloak.RealmRepresentation{Realm: gocloak.StringP(realmName), Enabled: gocloak.BoolP(true)})
		wantAPIError(t, "CreateRealm twice", err, http.StatusConflict)

		// Confidential client with a secret.
		clientUUID, err := gc.CreateClient(ctx, tok, realmName, gocloak.Client{
			ClientID:                  gocloak.StringP("shop-api"),
			PublicClient:              gocloak.BoolP(false),
			Secret:                    gocloak.StringP("shop-api-secret"),
			DirectAccessGrantsEnabled: gocloak.BoolP(true),
			ServiceAccountsEnabled:    gocloak.BoolP(true),
			StandardFlowEnabled:       gocloak.BoolP(false),
		})
		if err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		clients, err := gc.GetClients(ctx, tok, realmName, gocloak.GetClientsParams{ClientID: gocloak.StringP("shop-api")})
		if err != nil {
			t.Fatalf("GetClients: %v", err)
		}
		if len(clients) != 1 || gocloak.PString(clients[0].ID) != clientUUID || !gocloak.PBool(clients[0].DirectAccessGrantsEnabled) {
			t.Fatalf("GetClients(clientId=shop-api): %d clients, want the one with id %s", len(clients), clientUUID)
		}
		sec, err := gc.GetClientSecret(ctx, tok, realmName, clientUUID)
		if err != nil {
			t.Fatalf("GetClientSecret: %v", err)
		}
		if gocloak.PString(sec.Type) != "secret" || gocloak.PString(sec.Value) != "shop-api-secret" {
			t.Errorf("GetClientSecret: type %q value %q", gocloak.PString(sec.Type), gocloak.PString(sec.Value))
		}
		regen, err := gc.RegenerateClientSecret(ctx, tok, realmName, clientUUID)
		if err != nil {
			t.Fatalf("RegenerateClientSecret: %v", err)
		}
		secret := gocloak.PString(regen.Value)
		if secret == "" || secret == "shop-api-secret" {
			t.Fatalf("RegenerateClientSecret: value %q, want a new secret", secret)
		}
		if sec, err := gc.GetClientSecret(ctx, tok, realmName, clientUUID); err != nil || gocloak.PString(sec.Value) != secret {
			t.Errorf("GetClientSecret after regenerating: %v, want the new secret", err)
		}

		// User: create, find, set a password.
		userID, err := gc.CreateUser(ctx, tok, realmName, gocloak.User{
			Username:  gocloak.StringP("alice"),
			Enabled:   gocloak.BoolP(true),
			Email:     gocloak.StringP("alice@example.com"),
			FirstName: gocloak.StringP("Alice"),
			LastName:  gocloak.StringP("Liddell"),
		})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		_, err = gc.CreateUser(ctx, tok, realmName, gocloak.User{Username: gocloak.StringP("alice"), Enabled: gocloak.BoolP(true)})
		wantAPIError(t, "CreateUser twice", err, http.StatusConflict)
		for _, c := range []struct {
			name   string
			params gocloak.GetUsersParams
			want   []string
		}{
			{"by username", gocloak.GetUsersParams{Username: gocloak.StringP("alice")}, []string{userID}},
			{"by search", gocloak.GetUsersParams{Search: gocloak.StringP("lidd")}, []string{userID}},
			{"by email search", gocloak.GetUsersParams{Search: gocloak.StringP("alice@example.com")}, []string{userID}},
			{"exact username", gocloak.GetUsersParams{Username: gocloak.StringP("alice"), Exact: gocloak.BoolP(true)}, []string{userID}},
			{"exact prefix finds nothing", gocloak.GetUsersParams{Username: gocloak.StringP("ali"), Exact: gocloak.BoolP(true)}, nil},
		} {
			users, err := gc.GetUsers(ctx, tok, realmName, c.params)
			if err != nil {
				t.Fatalf("GetUsers %s: %v", c.name, err)
			}
			var got []string
			for _, u := range users {
				got = append(got, gocloak.PString(u.ID))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("GetUsers %s: %v, want %v", c.name, got, c.want)
			}
		}
		if u, err := gc.GetUserByID(ctx, tok, realmName, userID); err != nil || gocloak.PString(u.Username) != "alice" ||
			gocloak.PString(u.Email) != "alice@example.com" || u.CreatedTimestamp == nil {
			t.Errorf("GetUserByID: %+v, %v", u, err)
		}
		// Service accounts are not counted, as in Keycloak.
		if n, err := gc.GetUserCount(ctx, tok, realmName, gocloak.GetUsersParams{}); err != nil || n != 1 {
			t.Errorf("GetUserCount: %d, %v; want 1", n, err)
		}
		if err := gc.SetPassword(ctx, tok, userID, realmName, "alice-pw", false); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}

		// Realm and client roles.
		if _, err := gc.CreateRealmRole(ctx, tok, realmName, gocloak.Role{Name: gocloak.StringP("buyer")}); err != nil {
			t.Fatalf("CreateRealmRole: %v", err)
		}
		buyer, err := gc.GetRealmRole(ctx, tok, realmName, "buyer")
		if err != nil {
			t.Fatalf("GetRealmRole: %v", err)
		}
		if err := gc.AddRealmRoleToUser(ctx, tok, realmName, userID, []gocloak.Role{*buyer}); err != nil {
			t.Fatalf("AddRealmRoleToUser: %v", err)
		}
		realmRoles, err := gc.GetRealmRolesByUserID(ctx, tok, realmName, userID)
		if err != nil {
			t.Fatalf("GetRealmRolesByUserID: %v", err)
		}
		if names := roleNames(realmRoles); !slices.Contains(names, "buyer") || !slices.Contains(names, "default-roles-shop") {
			t.Errorf("GetRealmRolesByUserID: %v, want buyer and default-roles-shop", names)
		}
		roleName, err := gc.CreateClientRole(ctx, tok, realmName, clientUUID, gocloak.Role{Name: gocloak.StringP("orders-read")})
		if err != nil {
			t.Fatalf("CreateClientRole: %v", err)
		}
		if roleName != "orders-read" {
			t.Errorf("CreateClientRole returned %q (from Location), want orders-read", roleName)
		}
		ordersRead, err := gc.GetClientRole(ctx, tok, realmName, clientUUID, "orders-read")
		if err != nil {
			t.Fatalf("GetClientRole: %v", err)
		}
		if err := gc.AddClientRolesToUser(ctx, tok, realmName, clientUUID, userID, []gocloak.Role{*ordersRead}); err != nil {
			t.Fatalf("AddClientRolesToUser: %v", err)
		}
		clientRoles, err := gc.GetClientRolesByUserID(ctx, tok, realmName, clientUUID, userID)
		if err != nil {
			t.Fatalf("GetClientRolesByUserID: %v", err)
		}
		if names := roleNames(clientRoles); !slices.Equal(names, []string{"orders-read"}) {
			t.Errorf("GetClientRolesByUserID: %v, want [orders-read]", names)
		}

		// The user logs in through the client; the token carries the roles.
		jwt, err := gc.Login(ctx, "shop-api", secret, realmName, "alice", "alice-pw")
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if jwt.AccessToken == "" || jwt.IDToken == "" || jwt.RefreshToken == "" || jwt.ExpiresIn != 120 || jwt.TokenType != "Bearer" {
			t.Errorf("Login: token response %+v", jwt)
		}
		_, claims, err := gc.DecodeAccessToken(ctx, jwt.AccessToken, realmName)
		if err != nil {
			t.Fatalf("DecodeAccessToken (signature checked against the realm's JWKS): %v", err)
		}
		ra, _ := (*claims)["realm_access"].(map[string]any)
		if roles, _ := ra["roles"].([]any); !slices.Contains(roles, any("buyer")) {
			t.Errorf("access token realm_access %v, want buyer", ra)
		}
		rsa, _ := (*claims)["resource_access"].(map[string]any)
		shop, _ := rsa["shop-api"].(map[string]any)
		if roles, _ := shop["roles"].([]any); !slices.Contains(roles, any("orders-read")) {
			t.Errorf("access token resource_access %v, want shop-api orders-read", rsa)
		}
		_, err = gc.Login(ctx, "shop-api", secret, realmName, "alice", "wrong")
		wantAPIError(t, "Login with a wrong password", err, http.StatusUnauthorized)

		intro, err := gc.RetrospectToken(ctx, jwt.AccessToken, "shop-api", secret, realmName)
		if err != nil {
			t.Fatalf("RetrospectToken: %v", err)
		}
		if !gocloak.PBool(intro.Active) || gocloak.PString(intro.Type) != "Bearer" || intro.Exp == nil {
			t.Errorf("RetrospectToken: active %v typ %q exp %v", gocloak.PBool(intro.Active), gocloak.PString(intro.Type), intro.Exp)
		}

		// Sessions.
		sessions, err := gc.GetUserSessions(ctx, tok, realmName, userID)
		if err != nil {
			t.Fatalf("GetUserSessions: %v", err)
		}
		if len(sessions) != 1 {
			t.Fatalf("GetUserSessions: %d sessions, want 1", len(sessions))
		}
		if ss := sessions[0]; gocloak.PString(ss.ID) == "" || gocloak.PString(ss.UserID) != userID || gocloak.PString(ss.Username) != "alice" ||
			ss.Start == nil || ss.LastAccess == nil || ss.Clients == nil || (*ss.Clients)[clientUUID] != "shop-api" {
			t.Errorf("GetUserSessions: %+v", ss)
		}

		// Logout ends the session: the tokens stop working.
		if err := gc.Logout(ctx, "shop-api", secret, realmName, jwt.RefreshToken); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		if sessions, err := gc.GetUserSessions(ctx, tok, realmName, userID); err != nil || len(sessions) != 0 {
			t.Errorf("GetUserSessions after Logout: %d sessions, %v; want none", len(sessions), err)
		}
		if intro, err := gc.RetrospectToken(ctx, jwt.AccessToken, "shop-api", secret, realmName); err != nil || gocloak.PBool(intro.Active) {
			t.Errorf("RetrospectToken after Logout: active %v, %v; want inactive", intro != nil && gocloak.PBool(intro.Active), err)
		}
		_, err = gc.RefreshToken(ctx, jwt.RefreshToken, "shop-api", secret, realmName)
		wantAPIError(t, "RefreshToken after Logout", err, http.StatusBadRequest)

		// A realm user who may only view users is refused a write, and the
		// write does not happen.
		rl2, err := s.DB.GetRealmByName(ctx, realmName)
		if err != nil {
			t.Fatal(err)
		}
		viewer := s.realmAdmin(rl2, "viewer", "view-users")
		_, err = gc.CreateUser(ctx, viewer, realmName, gocloak.User{Username: gocloak.StringP("mallory"), Enabled: gocloak.BoolP(true)})
		wantAPIError(t, "CreateUser as a view-users admin", err, http.StatusForbidden)
		if users, err := gc.GetUsers(ctx, viewer, realmName, gocloak.GetUsersParams{Username: gocloak.StringP("mallory")}); err != nil || len(users) != 0 {
			t.Errorf("GetUsers(mallory) as viewer: %d users, %v; want none", len(users), err)
		}

		if err := gc.DeleteRealm(ctx, tok, realmName); err != nil {
			t.Fatalf("DeleteRealm: %v", err)
		}
		_, err = gc.GetRealm(ctx, tok, realmName)
		wantAPIError(t, "GetRealm after DeleteRealm", err, http.StatusNotFound)
	})
}

// wantAPIError checks that err is gocloak's APIError with the given status.
func wantAPIError(t *testing.T, what string, err error, status int) {
	t.Helper()
	var apiErr *gocloak.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: error %v, want an APIError with status %d", what, err, status)
		return
	}
	if apiErr.Code != status {
		t.Errorf("%s: status %d (%s), want %d", what, apiErr.Code, apiErr.Message, status)
	}
}

func roleNames(roles []*gocloak.Role) []string {
	var names []string
	for _, r := range roles {
		names = append(names, gocloak.PString(r.Name))
	}
	slices.Sort(names)
	return names
}
