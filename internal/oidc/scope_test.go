package oidc_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	gateoidc "github.com/gatehouse-iam/gatehouse/internal/oidc"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// scopeEnv is a realm "shop" whose client "app" has no full scope:
//
//	app's scope mappings: realm role boss (composed of worker), api's read
//	app's own role: app-own
//	client scope orders (optional): api's write
//	client scope gated (optional): realm role vip, which nobody holds
//
// alice (and app's service account) hold boss, clerk, api's read and write,
// and app-own.
type scopeEnv struct {
	t             *testing.T
	db            *store.DB
	srv           *httptest.Server
	realm         realm.Realm
	app           client.Client
	ordersMapping store.ScopeOwner
	write         role.Role
	boss          role.Role
}

func newScopeEnv(t *testing.T, open func(testing.TB) *store.DB) *scopeEnv {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	now := time.Now()
	rl := realm.New(store.NewID(), "shop")
	if err := provision.NewRealm(ctx, db, rl, now); err != nil {
		t.Fatal(err)
	}
	rl, _ = db.GetRealm(ctx, rl.ID)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mkRole := func(clientID, name string) role.Role {
		r := role.Role{ID: store.NewID(), RealmID: rl.ID, ClientID: clientID, Name: name, Attributes: map[string][]string{}}
		must(db.CreateRole(ctx, r))
		return r
	}
	api := client.New(store.NewID(), rl.ID, "api")
	api.BearerOnly = true
	must(provision.CreateClient(ctx, db, api, now))
	app := client.New(store.NewID(), rl.ID, "app")
	app.Secret, app.DirectAccessGrantsEnabled, app.ServiceAccountsEnabled, app.FullScopeAllowed = "app-secret", true, true, false
	// Realm roles in userinfo too, to compare userinfo with the token.
	app.ProtocolMappers = []client.ProtocolMapper{{ID: store.NewID(), Name: "roles in userinfo", Protocol: "openid-connect",
		ProtocolMapper: "oidc-usermodel-realm-role-mapper",
		Config:         map[string]string{"claim.name": "realm_roles", "multivalued": "true", "jsonType.label": "String", "userinfo.token.claim": "true"}}}
	must(provision.CreateClient(ctx, db, app, now))

	boss, worker, clerk, vip := mkRole("", "boss"), mkRole("", "worker"), mkRole("", "clerk"), mkRole("", "vip")
	must(db.AddComposites(ctx, boss.ID, worker.ID))
	read, write, own := mkRole(api.ID, "read"), mkRole(api.ID, "write"), mkRole(app.ID, "app-own")
	must(db.AddScopeMappings(ctx, store.ScopeOwner{ID: app.ID}, boss.ID, read.ID))

	scope := func(name string, roleID string) store.ScopeOwner {
		sc := client.Scope{ID: store.NewID(), RealmID: rl.ID, Name: name, Protocol: "openid-connect",
			Attributes: map[string]string{"include.in.token.scope": "true"},
			ProtocolMappers: []client.ProtocolMapper{{ID: store.NewID(), Name: name + " claim", Protocol: "openid-connect",
				ProtocolMapper: "oidc-hardcoded-claim-mapper",
				Config: map[string]string{"claim.name": name, "claim.value": "yes", "jsonType.label": "String",
					"access.token.claim": "true", "userinfo.token.claim": "true"}}}}
		must(db.CreateClientScope(ctx, sc))
		must(db.LinkClientScope(ctx, rl.ID, app.ID, sc.ID, false))
		o := store.ScopeOwner{ClientScope: true, ID: sc.ID}
		must(db.AddScopeMappings(ctx, o, roleID))
		return o
	}
	orders := scope("orders", write.ID)
	scope("gated", vip.ID)

	alice := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Enabled: true, CreatedTimestamp: now.UnixMilli()}
	must(db.CreateUser(ctx, alice))
	cred, err := user.NewPasswordCredential(store.NewID(), alice.ID, "alice-pw", now.UnixMilli(), user.HashPolicy{})
	must(err)
	must(db.CreateCredential(ctx, cred))
	sa, err := db.GetServiceAccount(ctx, rl.ID, app.ID)
	must(err)
	for _, u := range []string{alice.ID, sa.ID} {
		must(db.AddUserRoles(ctx, u, boss.ID, clerk.ID, read.ID, write.ID, own.ID))
	}

	mux := http.NewServeMux()
	(&gateoidc.Handler{Store: db, Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: time.Now}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &scopeEnv{t: t, db: db, srv: srv, realm: rl, app: app, ordersMapping: orders, write: write, boss: boss}
}

func (e *scopeEnv) tokenURL() string { return e.srv.URL + "/realms/shop/protocol/openid-connect/token" }

// passwordToken logs alice in through x/oauth2 with the given scopes.
func (e *scopeEnv) passwordToken(scopes ...string) *oauth2.Token {
	e.t.Helper()
	cfg := oauth2.Config{ClientID: "app", ClientSecret: "app-secret", Scopes: scopes,
		Endpoint: oauth2.Endpoint{TokenURL: e.tokenURL(), AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", "alice-pw")
	if err != nil {
		e.t.Fatalf("password grant with %v: %v", scopes, err)
	}
	return tok
}

// access is what a token (or an introspection or userinfo answer) says
// of roles: realm roles, and client roles as "client/role", sorted.
func access(m map[string]any) []string {
	var out []string
	if ra, ok := m["realm_access"].(map[string]any); ok {
		for _, r := range ra["roles"].([]any) {
			out = append(out, r.(string))
		}
	}
	if rs, ok := m["resource_access"].(map[string]any); ok {
		for c, v := range rs {
			for _, r := range v.(map[string]any)["roles"].([]any) {
				out = append(out, c+"/"+r.(string))
			}
		}
	}
	sort.Strings(out)
	return out
}

func audience(m map[string]any) []string {
	switch a := m["aud"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, x.(string))
		}
		sort.Strings(out)
		return out
	}
	return nil
}

func (e *scopeEnv) introspect(tok string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/realms/shop/protocol/openid-connect/token/introspect",
		strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "app-secret")
	return e.doJSON(req)
}

func (e *scopeEnv) userinfo(tok string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/realms/shop/protocol/openid-connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return e.doJSON(req)
}

func (e *scopeEnv) doJSON(req *http.Request) map[string]any {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("%s: %d %v %v", req.URL.Path, resp.StatusCode, m, err)
	}
	return m
}

// TestScopeMappingsDecideTokenRoles: a client without full scope gets only
// the roles its scope reaches, in the access token from x/oauth2's password
// and client credentials grants, after refresh, and in what introspection
// and userinfo report.
func TestScopeMappingsDecideTokenRoles(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newScopeEnv(t, open)
		// boss through app's mapping, worker through boss; api/read through
		// app's mapping; app-own as app's own role. Not clerk, not api/write.
		base := []string{"api/read", "app/app-own", "boss", "worker"}

		tok := e.passwordToken("openid")
		at := payload(t, tok.AccessToken)
		if got := access(at); !slices.Equal(got, base) {
			t.Fatalf("token roles: got %v want %v", got, base)
		}
		if got := audience(at); !slices.Equal(got, []string{"api"}) {
			t.Fatalf("aud: %v (api's roles are in the token, app is the azp)", got)
		}
		if got := access(e.introspect(tok.AccessToken)); !slices.Equal(got, base) {
			t.Fatalf("introspection roles: %v", got)
		}
		ui := e.userinfo(tok.AccessToken)
		var uiRoles []string
		for _, r := range ui["realm_roles"].([]any) {
			uiRoles = append(uiRoles, r.(string))
		}
		sort.Strings(uiRoles)
		if !slices.Equal(uiRoles, []string{"boss", "worker"}) {
			t.Fatalf("userinfo realm roles: %v", ui["realm_roles"])
		}

		// The optional scope orders brings api/write, mapped to it.
		tok = e.passwordToken("openid", "orders")
		at = payload(t, tok.AccessToken)
		withOrders := []string{"api/read", "api/write", "app/app-own", "boss", "worker"}
		if got := access(at); !slices.Equal(got, withOrders) {
			t.Fatalf("with orders: got %v want %v", got, withOrders)
		}
		if at["orders"] != "yes" || !strings.Contains(at["scope"].(string), "orders") {
			t.Fatalf("the orders scope applies: scope %q, claim %v", at["scope"], at["orders"])
		}
		if got := access(e.introspect(tok.AccessToken)); !slices.Equal(got, withOrders) {
			t.Fatalf("introspection with orders: %v", got)
		}

		// Refresh keeps the rule, and follows a change of mappings.
		src := (&oauth2.Config{ClientID: "app", ClientSecret: "app-secret",
			Endpoint: oauth2.Endpoint{TokenURL: e.tokenURL(), AuthStyle: oauth2.AuthStyleInHeader}}).TokenSource(context.Background(),
			&oauth2.Token{RefreshToken: tok.RefreshToken})
		refreshed, err := src.Token()
		if err != nil {
			t.Fatal(err)
		}
		if got := access(payload(t, refreshed.AccessToken)); !slices.Equal(got, withOrders) {
			t.Fatalf("refreshed: %v", got)
		}
		if err := e.db.RemoveScopeMappings(context.Background(), e.ordersMapping, e.write.ID); err != nil {
			t.Fatal(err)
		}
		src = (&oauth2.Config{ClientID: "app", ClientSecret: "app-secret",
			Endpoint: oauth2.Endpoint{TokenURL: e.tokenURL(), AuthStyle: oauth2.AuthStyleInHeader}}).TokenSource(context.Background(),
			&oauth2.Token{RefreshToken: refreshed.RefreshToken})
		if refreshed, err = src.Token(); err != nil {
			t.Fatal(err)
		}
		if got := access(payload(t, refreshed.AccessToken)); !slices.Equal(got, base) {
			t.Fatalf("refreshed after orders lost api/write: %v", got)
		}

		// gated is mapped to vip, which alice lacks: it does not apply.
		tok = e.passwordToken("openid", "gated")
		at = payload(t, tok.AccessToken)
		if strings.Contains(at["scope"].(string), "gated") || at["gated"] != nil || strings.Contains(tok.Extra("scope").(string), "gated") {
			t.Fatalf("a scope mapped to a role the user lacks applied: scope %q, claim %v", at["scope"], at["gated"])
		}
		if e.userinfo(tok.AccessToken)["gated"] != nil {
			t.Fatal("userinfo ran the mappers of a scope that does not apply")
		}

		// The service account through client_credentials, by the same rule.
		cc := clientcredentials.Config{ClientID: "app", ClientSecret: "app-secret", TokenURL: e.tokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
		ct, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := access(payload(t, ct.AccessToken)); !slices.Equal(got, base) {
			t.Fatalf("client credentials roles: got %v want %v", got, base)
		}

		// With full scope, every role the user holds.
		if err := e.db.UpdateClient(context.Background(), e.realm.ID, e.app.ID, func(c *client.Client) error {
			c.FullScopeAllowed = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got := access(payload(t, e.passwordToken("openid").AccessToken))
		for _, want := range []string{"clerk", "api/write", "boss", "worker"} {
			if !slices.Contains(got, want) {
				t.Fatalf("full scope token lacks %s: %v", want, got)
			}
		}
	})
}
