package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const (
	umaRealm   = "uma"
	umaRSecret = "photoz-secret"
	umaPass    = "alice-pw"
)

// umaEnv is a realm with a resource server client "photoz" (its service
// account holds uma_protection), a public client "app" and users alice (a
// viewer) and bob, served by one or more nodes sharing one database.
type umaEnv struct {
	t                    testing.TB
	db                   *store.DB
	rl                   realm.Realm
	photoz               client.Client
	nodes                []*httptest.Server
	viewers, admins      authz.Policy
	alice, bob           string // user ids
	adminRole, viewerRol role.Role
}

func newUMAEnv(t testing.TB, dbs []*store.DB) *umaEnv {
	t.Helper()
	ctx := context.Background()
	db := dbs[0]
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), umaRealm)
	if err := provision.NewRealm(ctx, db, rl, now); err != nil {
		t.Fatal(err)
	}
	e := &umaEnv{t: t, db: db, rl: rl}
	photoz := client.New(store.NewID(), rl.ID, "photoz")
	photoz.Secret, photoz.ServiceAccountsEnabled, photoz.DirectAccessGrantsEnabled = umaRSecret, true, true
	if err := provision.CreateClient(ctx, db, photoz, now); err != nil {
		t.Fatal(err)
	}
	e.photoz = photoz
	app := client.New(store.NewID(), rl.ID, "app")
	app.PublicClient, app.DirectAccessGrantsEnabled = true, true
	if err := provision.CreateClient(ctx, db, app, now); err != nil {
		t.Fatal(err)
	}
	if err := db.PutResourceServer(ctx, authz.ResourceServer{ID: photoz.ID, RealmID: rl.ID, PolicyEnforcementMode: authz.Enforcing,
		DecisionStrategy: authz.Unanimous, AllowRemoteResourceManagement: true}); err != nil {
		t.Fatal(err)
	}
	protectionRole, err := provision.EnsureClientRole(ctx, db, rl.ID, photoz.ID, "uma_protection", "")
	if err != nil {
		t.Fatal(err)
	}
	sa, err := db.GetServiceAccount(ctx, rl.ID, photoz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUserRoles(ctx, sa.ID, protectionRole.ID); err != nil {
		t.Fatal(err)
	}
	if e.viewerRol, err = provision.EnsureRealmRole(ctx, db, rl.ID, "viewer", ""); err != nil {
		t.Fatal(err)
	}
	if e.adminRole, err = provision.EnsureRealmRole(ctx, db, rl.ID, "photo-admin", ""); err != nil {
		t.Fatal(err)
	}
	alice := addUser(t, db, rl.ID, "alice", umaPass, now)
	if err := db.AddUserRoles(ctx, alice.ID, e.viewerRol.ID); err != nil {
		t.Fatal(err)
	}
	e.alice = alice.ID
	e.bob = addUser(t, db, rl.ID, "bob", umaPass, now).ID
	rolePolicy := func(name string, r role.Role) authz.Policy {
		p, err := db.CreatePolicy(ctx, authz.Policy{ServerID: photoz.ID, Name: name, Type: "role", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Config: map[string]string{"roles": `[{"id":"` + r.ID + `","required":false}]`}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.viewers, e.admins = rolePolicy("viewers", e.viewerRol), rolePolicy("photo admins", e.adminRole)
	// Every node serves the first node's address, so a token one issues
	// the others accept.
	for i, d := range dbs {
		var urls web.URLs
		if i > 0 {
			public, err := web.ParseHostname(e.nodes[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			urls = web.URLs{Hostname: public}
		}
		srv := httptest.NewServer(server.New(server.Options{Store: d, Now: clock, URLs: urls, Log: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		e.nodes = append(e.nodes, srv)
	}
	return e
}

// gc is a gocloak client of node i.
func (e *umaEnv) gc(i int) *gocloak.GoCloak { return gocloak.NewClient(e.nodes[i].URL) }

// pat is the resource server's protection API token from node i.
func (e *umaEnv) pat(i int) string {
	e.t.Helper()
	tok, err := e.gc(i).LoginClient(context.Background(), "photoz", umaRSecret, umaRealm)
	if err != nil {
		e.t.Fatalf("PAT: %v", err)
	}
	return tok.AccessToken
}

// userToken is a user's access token issued to the public client "app".
func (e *umaEnv) userToken(i int, username string) string {
	e.t.Helper()
	tok, err := e.gc(i).Login(context.Background(), "app", "", umaRealm, username, umaPass)
	if err != nil {
		e.t.Fatalf("login %s: %v", username, err)
	}
	return tok.AccessToken
}

// registerPhoto registers the resource "photo" with scopes view and delete
// and a permission per scope: view for viewers, delete for photo admins.
func (e *umaEnv) registerPhoto(pat string) (photo gocloak.ResourceRepresentation, deletePerm authz.Policy) {
	e.t.Helper()
	ctx := context.Background()
	created, err := e.gc(0).CreateResourceClient(ctx, pat, umaRealm, gocloak.ResourceRepresentation{
		Name: gocloak.StringP("photo"), Type: gocloak.StringP("urn:photoz:photo"), URIs: &[]string{"/photos/*"},
		ResourceScopes: &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}, {Name: gocloak.StringP("delete")}},
	})
	if err != nil {
		e.t.Fatalf("register photo: %v", err)
	}
	scopeID := map[string]string{}
	for _, s := range *created.ResourceScopes {
		scopeID[*s.Name] = *s.ID
	}
	perm := func(name, scope string, p authz.Policy) authz.Policy {
		got, err := e.db.CreatePolicy(ctx, authz.Policy{ServerID: e.photoz.ID, Name: name, Type: "scope", Logic: authz.Positive,
			DecisionStrategy: authz.Unanimous, Config: map[string]string{}, ResourceIDs: []string{*created.ID},
			ScopeIDs: []string{scopeID[scope]}, PolicyIDs: []string{p.ID}})
		if err != nil {
			e.t.Fatal(err)
		}
		return got
	}
	perm("view photos", "view", e.viewers)
	return *created, perm("delete photos", "delete", e.admins)
}

// photoApp is a resource server protected by RPTs: it introspects the
// token a request carries and, when the token does not grant the scope the
// method needs on the photo, answers 401 with a permission ticket for it
// (UMA 2.0 Grant §3.2).
func (e *umaEnv) photoApp(node int, photoID string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := map[string]string{"GET": "view", "DELETE": "delete"}[r.Method]
		raw := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if e.rptGrants(node, raw, photoID, scope) {
			io.WriteString(w, "photo "+r.Method)
			return
		}
		ticket, err := e.gc(node).CreatePermissionTicket(r.Context(), e.pat(node), umaRealm, []gocloak.CreatePermissionTicketParams{
			{ResourceID: gocloak.StringP(photoID), ResourceScopes: &[]string{scope}}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("WWW-Authenticate", `UMA realm="`+umaRealm+`", as_uri="`+e.nodes[node].URL+`/realms/`+umaRealm+`", ticket="`+*ticket.Ticket+`"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	e.t.Cleanup(srv.Close)
	return srv
}

// rptGrants introspects raw as an RPT at node and reports whether it
// grants scope on resource.
func (e *umaEnv) rptGrants(node int, raw, resource, scope string) bool {
	form := url.Values{"token": {raw}, "token_type_hint": {"requesting_party_token"}}
	req, _ := http.NewRequest("POST", e.nodes[node].URL+"/realms/"+umaRealm+"/protocol/openid-connect/token/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("photoz", umaRSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var out struct {
		Active      bool `json:"active"`
		Permissions []struct {
			ResourceID string   `json:"resource_id"`
			Scopes     []string `json:"resource_scopes"`
		} `json:"permissions"`
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil || !out.Active {
		return false
	}
	return slices.ContainsFunc(out.Permissions, func(p struct {
		ResourceID string   `json:"resource_id"`
		Scopes     []string `json:"resource_scopes"`
	}) bool {
		return p.ResourceID == resource && slices.Contains(p.Scopes, scope)
	})
}

// call sends method to the photo app with a token: status and the ticket
// of a 401.
func call(t *testing.T, app *httptest.Server, method, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, app.URL+"/photos/1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header.Get("WWW-Authenticate")
	_, ticket, _ := strings.Cut(h, `ticket="`)
	return resp.StatusCode, strings.TrimSuffix(ticket, `"`)
}

// rpt redeems a ticket for alice's RPT at node, or returns the refusal.
func (e *umaEnv) rpt(node int, userTok, ticket string) (string, error) {
	tok, err := e.gc(node).GetRequestingPartyToken(context.Background(), userTok, umaRealm, gocloak.RequestingPartyTokenOptions{
		GrantType: gocloak.StringP("urn:ietf:params:oauth:grant-type:uma-ticket"), Ticket: gocloak.StringP(ticket)})
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// adminToken is the master administrator's access token from node 0.
func (e *umaEnv) adminToken() string {
	e.t.Helper()
	tok, err := e.gc(0).LoginAdmin(context.Background(), "admin", "admin-pw", "master")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// letViewersDelete points the delete permission at the viewers policy
// through the admin REST API, as an administrator would.
func (e *umaEnv) letViewersDelete(deletePerm authz.Policy) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"id": deletePerm.ID, "name": deletePerm.Name, "type": "scope", "logic": "POSITIVE",
		"decisionStrategy": "UNANIMOUS", "resources": deletePerm.ResourceIDs, "scopes": deletePerm.ScopeIDs, "policies": []string{e.viewers.ID}})
	u := e.nodes[0].URL + "/admin/realms/" + umaRealm + "/clients/" + e.photoz.ID + "/authz/resource-server/permission/scope/" + deletePerm.ID
	req, _ := http.NewRequest("PUT", u, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.adminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("update the delete permission: %d %s", resp.StatusCode, b)
	}
}

// notAuthorized reports whether err is the grant's 403 not_authorized.
func notAuthorized(err error) bool {
	var api *gocloak.APIError
	return errors.As(err, &api) && api.Code == http.StatusForbidden && strings.Contains(api.Message, "not_authorized")
}

// TestUMAPhotoApp: a resource server protected by RPTs. alice's client
// calls it, gets a ticket, redeems it for an RPT that grants photo#view
// and not photo#delete; after an administrator lets viewers delete, the
// same flow grants delete, on the node that did not take the change, with
// no restart.
func TestUMAPhotoApp(t *testing.T) {
	for _, d := range []struct {
		name    string
		dialect store.Dialect
		dsn     func(testing.TB) string
	}{
		{"sqlite", store.SQLite, func(t testing.TB) string { return filepath.Join(t.TempDir(), "gatehouse.db") }},
		{"postgres", store.Postgres, storetest.PostgresURL},
	} {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			var dbs []*store.DB
			for range 2 {
				db, err := store.Open(context.Background(), d.dialect, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs = append(dbs, db)
			}
			e := newUMAEnv(t, dbs)
			photo, deletePerm := e.registerPhoto(e.pat(0))
			app := e.photoApp(1, *photo.ID)
			alice := e.userToken(0, "alice")

			// Without an RPT the app answers with a ticket for what it needs.
			st, ticket := call(t, app, "GET", alice)
			if st != http.StatusUnauthorized || ticket == "" {
				t.Fatalf("GET without RPT: %d, ticket %q", st, ticket)
			}
			rpt, err := e.rpt(0, alice, ticket)
			if err != nil {
				t.Fatalf("RPT for view: %v", err)
			}
			if st, _ := call(t, app, "GET", rpt); st != http.StatusOK {
				t.Fatalf("GET with the RPT: %d", st)
			}
			st, ticket = call(t, app, "DELETE", rpt)
			if st != http.StatusUnauthorized {
				t.Fatalf("DELETE with a view RPT: %d", st)
			}
			if _, err := e.rpt(1, alice, ticket); !notAuthorized(err) {
				t.Fatalf("RPT for delete: %v, want 403 not_authorized", err)
			}

			// The administrator changes the policy on node 0; node 1, which
			// evaluates, sees it at once.
			e.letViewersDelete(deletePerm)
			st, ticket = call(t, app, "DELETE", rpt)
			if st != http.StatusUnauthorized {
				t.Fatalf("DELETE with the old RPT: %d", st)
			}
			rpt2, err := e.rpt(1, alice, ticket)
			if err != nil {
				t.Fatalf("RPT for delete after the change: %v", err)
			}
			if st, _ := call(t, app, "DELETE", rpt2); st != http.StatusOK {
				t.Fatalf("DELETE with the new RPT: %d", st)
			}
		})
	}
}
