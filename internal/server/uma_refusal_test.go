package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// protect calls the protection API of realm with a Bearer token.
func (e *umaEnv) protect(t *testing.T, realmName, method, path, tok string, body any) response {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	return do(t, method, e.nodes[0].URL+"/realms/"+realmName+"/authz/protection"+path, map[string]string{
		"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, r)
}

// otherRealm is a second realm with its own resource server "photoz" (same
// clientId and secret, PERMISSIVE, so any request is granted), a resource
// "photo" and a user bob.
func (e *umaEnv) otherRealm(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rl := realm.New(store.NewID(), "other")
	if err := provision.NewRealm(ctx, e.db, rl, now); err != nil {
		t.Fatal(err)
	}
	rs := client.New(store.NewID(), rl.ID, "photoz")
	rs.Secret, rs.ServiceAccountsEnabled, rs.DirectAccessGrantsEnabled = umaRSecret, true, true
	if err := provision.CreateClient(ctx, e.db, rs, now); err != nil {
		t.Fatal(err)
	}
	app := client.New(store.NewID(), rl.ID, "app")
	app.PublicClient, app.DirectAccessGrantsEnabled = true, true
	if err := provision.CreateClient(ctx, e.db, app, now); err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutResourceServer(ctx, authz.ResourceServer{ID: rs.ID, RealmID: rl.ID, PolicyEnforcementMode: authz.Permissive,
		DecisionStrategy: authz.Unanimous, AllowRemoteResourceManagement: true}); err != nil {
		t.Fatal(err)
	}
	pr, err := provision.EnsureClientRole(ctx, e.db, rl.ID, rs.ID, "uma_protection", "")
	if err != nil {
		t.Fatal(err)
	}
	sa, err := e.db.GetServiceAccount(ctx, rl.ID, rs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddUserRoles(ctx, sa.ID, pr.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateResource(ctx, authz.Resource{ServerID: rs.ID, Name: "photo", Owner: rs.ID}); err != nil {
		t.Fatal(err)
	}
	addUser(t, e.db, rl.ID, "bob", umaPass, now)
}

// signedByRealm signs claims with the uma realm's own RS256 key, as any
// JWT the realm issues is signed.
func (e *umaEnv) signedByRealm(t *testing.T, claims map[string]any) string {
	t.Helper()
	ctx := context.Background()
	ks, err := e.db.ListKeys(ctx, e.rl.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := provision.SigningKey(ctx, e.db, slog.New(slog.DiscardHandler), e.rl, &ks, keys.RS256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.Sign(claims, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUMARefusals: what must not pass at the uma-ticket grant and the
// protection API — expired tickets, JWTs of other kinds or of another realm
// taken for tickets or RPTs, tickets taken for tokens, tokens of another
// client or realm at the protection API, and users touching tickets and
// policies that are not theirs; on SQLite and PostgreSQL.
func TestUMARefusals(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		e := newUMAEnv(t, []*store.DB{open(t)})
		e.otherRealm(t)
		ctx := context.Background()
		gc, pat := e.gc(0), e.pat(0)
		photo, _ := e.registerPhoto(pat)
		alice := e.userToken(0, "alice") // a viewer: photo#view is hers
		ticketFor := func(pat string) string {
			t.Helper()
			tk, err := gc.CreatePermissionTicket(ctx, pat, umaRealm, []gocloak.CreatePermissionTicketParams{
				{ResourceID: photo.ID, ResourceScopes: &[]string{"view"}}})
			if err != nil {
				t.Fatal(err)
			}
			return *tk.Ticket
		}
		ticket := ticketFor(pat)
		if st, body := e.umaForm(alice, url.Values{"ticket": {ticket}}); st != 200 {
			t.Fatalf("alice redeems a fresh ticket: %d %v", st, body)
		}
		tc := claimsOf(t, ticket)
		if _, ok := tc["exp"].(float64); !ok || tc["typ"] == nil || tc["typ"] == "Bearer" {
			t.Errorf("ticket claims lack exp or a ticket type: %v", tc)
		}

		// JWTs that are not tickets.
		idTok, err := gc.GetToken(ctx, umaRealm, gocloak.TokenOptions{ClientID: gocloak.StringP("app"), GrantType: gocloak.StringP("password"),
			Username: gocloak.StringP("alice"), Password: gocloak.StringP(umaPass), Scope: gocloak.StringP("openid")})
		if err != nil || idTok.IDToken == "" {
			t.Fatalf("ID token: %v", err)
		}
		st, body := e.umaForm(alice, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}})
		rpt, _ := body["access_token"].(string)
		if st != 200 || rpt == "" {
			t.Fatalf("alice's RPT: %d %v", st, body)
		}
		iss := claimsOf(t, alice)["iss"]
		perms := []map[string]any{{"rsid": *photo.ID, "scopes": []string{"view"}}}
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Unix()
		for name, raw := range map[string]string{
			"an access token": alice,
			"an ID token":     idTok.IDToken,
			"a refresh token": idTok.RefreshToken,
			"an RPT":          rpt,
			"a realm-signed JWT with permissions and no type": e.signedByRealm(t, map[string]any{"iss": iss, "aud": "photoz",
				"iat": now, "exp": now + 300, "jti": "j1", "permissions": perms}),
			"a realm-signed JWT with permissions and a Bearer type": e.signedByRealm(t, map[string]any{"iss": iss, "aud": "photoz",
				"typ": "Bearer", "iat": now, "exp": now + 300, "jti": "j2", "permissions": perms}),
		} {
			if st, body := e.umaForm(alice, url.Values{"ticket": {raw}}); st != 403 || body["error"] != "invalid_ticket" {
				t.Errorf("%s as a ticket: %d %v", name, st, body)
			}
		}
		// A ticket without exp, or of another issuer, is no ticket either.
		typ := tc["typ"]
		for name, claims := range map[string]map[string]any{
			"no exp":        {"iss": iss, "aud": "photoz", "typ": typ, "iat": now, "jti": "j3", "permissions": perms},
			"another iss":   {"iss": "https://elsewhere/realms/uma", "aud": "photoz", "typ": typ, "iat": now, "exp": now + 300, "jti": "j4", "permissions": perms},
			"as it is made": {"iss": iss, "aud": "photoz", "typ": typ, "iat": now, "exp": now + 300, "jti": "j5", "permissions": perms},
		} {
			st, body := e.umaForm(alice, url.Values{"ticket": {e.signedByRealm(t, claims)}})
			if want := name == "as it is made"; (st == 200) != want {
				t.Errorf("ticket %s: %d %v, want granted %v", name, st, body, want)
			}
		}
		// An RPT of another issuer, though signed with the realm's key.
		foreignRPT := e.signedByRealm(t, map[string]any{"iss": "https://elsewhere/realms/uma", "typ": "Bearer", "aud": "photoz",
			"iat": now, "exp": now + 300, "jti": "j6", "authorization": map[string]any{"permissions": perms}})
		if st, body := e.umaForm(alice, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}, "rpt": {foreignRPT}}); st != 403 || body["error"] != "invalid_rpt" {
			t.Errorf("an RPT of another issuer: %d %v", st, body)
		}
		// A ticket is no token: not at the protection API, not as an RPT,
		// not as the party's token.
		if r := e.protect(t, umaRealm, "GET", "/resource_set", ticket, nil); r.status != 403 || !strings.Contains(string(r.body), "invalid_bearer_token") {
			t.Errorf("ticket as a PAT: %d %s", r.status, r.body)
		}
		if st, body := e.umaForm(alice, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}, "rpt": {ticket}}); st != 403 || body["error"] != "invalid_rpt" {
			t.Errorf("ticket as an RPT: %d %v", st, body)
		}
		if st, body := e.umaForm(ticket, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}}); st/100 != 4 || body["access_token"] != nil {
			t.Errorf("ticket as the party's token: %d %v", st, body)
		}

		// Another realm's ticket, RPT and PAT.
		otherPAT, err := gc.LoginClient(ctx, "photoz", umaRSecret, "other")
		if err != nil {
			t.Fatal(err)
		}
		r := e.protect(t, "other", "POST", "/permission", otherPAT.AccessToken, []map[string]any{{"resource_id": "photo"}})
		var otherTicket struct{ Ticket *string }
		if json.Unmarshal(r.body, &otherTicket); r.status != 201 || otherTicket.Ticket == nil {
			t.Fatalf("ticket in the other realm: %d %s", r.status, r.body)
		}
		if st, body := e.umaForm(alice, url.Values{"ticket": {*otherTicket.Ticket}}); st != 403 || body["error_description"] != "Ticket verification failed" {
			t.Errorf("another realm's ticket: %d %v", st, body)
		}
		otherBob, err := gc.Login(ctx, "app", "", "other", "bob", umaPass)
		if err != nil {
			t.Fatal(err)
		}
		otherRPT, err := gc.GetRequestingPartyToken(ctx, otherBob.AccessToken, "other", gocloak.RequestingPartyTokenOptions{
			Audience: gocloak.StringP("photoz"), Permissions: &[]string{"photo"}})
		if err != nil {
			t.Fatalf("RPT in the other realm: %v", err)
		}
		bob := e.userToken(0, "bob")
		if st, body := e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}, "rpt": {otherRPT.AccessToken}}); st != 403 || body["error"] != "invalid_rpt" {
			t.Errorf("another realm's RPT: %d %v", st, body)
		}
		if st, body := e.umaForm(otherRPT.AccessToken, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#view"}}); st/100 != 4 || body["access_token"] != nil {
			t.Errorf("another realm's RPT as the party's token: %d %v", st, body)
		}
		for _, path := range []string{"/resource_set", "/resource_set/" + *photo.ID, "/permission/ticket", "/uma-policy"} {
			if r := e.protect(t, umaRealm, "GET", path, otherPAT.AccessToken, nil); r.status != 403 || !strings.Contains(string(r.body), "invalid_bearer_token") {
				t.Errorf("another realm's PAT at %s: %d %s", path, r.status, r.body)
			}
		}
		if r := e.protect(t, umaRealm, "POST", "/permission", otherPAT.AccessToken, []map[string]any{{"resource_id": *photo.ID}}); r.status != 403 {
			t.Errorf("another realm's PAT asks for a ticket: %d %s", r.status, r.body)
		}

		// Tokens of another client: a user's token of a client that is no
		// resource server, and the PAT of another resource server, which
		// sees nothing of photoz's.
		for _, path := range []string{"/resource_set", "/permission/ticket", "/uma-policy"} {
			if r := e.protect(t, umaRealm, "GET", path, bob, nil); r.status != 403 || !strings.Contains(string(r.body), "invalid_clientId") {
				t.Errorf("a token of app at %s: %d %s", path, r.status, r.body)
			}
		}
		printer := client.New(store.NewID(), e.rl.ID, "printer")
		printer.Secret, printer.ServiceAccountsEnabled = "printer-secret", true
		if err := provision.CreateClient(ctx, e.db, printer, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := e.db.PutResourceServer(ctx, authz.ResourceServer{ID: printer.ID, RealmID: e.rl.ID, PolicyEnforcementMode: authz.Enforcing,
			DecisionStrategy: authz.Unanimous, AllowRemoteResourceManagement: true}); err != nil {
			t.Fatal(err)
		}
		pr, err := provision.EnsureClientRole(ctx, e.db, e.rl.ID, printer.ID, "uma_protection", "")
		if err != nil {
			t.Fatal(err)
		}
		psa, err := e.db.GetServiceAccount(ctx, e.rl.ID, printer.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.AddUserRoles(ctx, psa.ID, pr.ID); err != nil {
			t.Fatal(err)
		}
		printerPAT, err := gc.LoginClient(ctx, "printer", "printer-secret", umaRealm)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ method, path string }{{"GET", "/resource_set/" + *photo.ID}, {"PUT", "/resource_set/" + *photo.ID},
			{"DELETE", "/resource_set/" + *photo.ID}} {
			if r := e.protect(t, umaRealm, c.method, c.path, printerPAT.AccessToken, map[string]any{"name": "photo"}); r.status != 404 {
				t.Errorf("printer's PAT %s %s: %d %s", c.method, c.path, r.status, r.body)
			}
		}
		if r := e.protect(t, umaRealm, "GET", "/resource_set", printerPAT.AccessToken, nil); r.status != 200 || strings.Contains(string(r.body), *photo.ID) {
			t.Errorf("printer lists photoz's resources: %d %s", r.status, r.body)
		}
		if r := e.protect(t, umaRealm, "POST", "/permission", printerPAT.AccessToken, []map[string]any{{"resource_id": *photo.ID}}); r.status != 400 {
			t.Errorf("printer asks a ticket for photoz's resource: %d %s", r.status, r.body)
		}
		if _, err := e.db.GetResource(ctx, e.photoz.ID, *photo.ID); err != nil {
			t.Errorf("photo after printer's calls: %v", err)
		}

		// Users and what is not theirs: alice's album, requested by bob and
		// by carol, and alice's policy on it.
		carol := addUser(t, e.db, e.rl.ID, "carol", umaPass, time.Now()).ID
		album, err := gc.CreateResourceClient(ctx, pat, umaRealm, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("album"), Owner: &gocloak.ResourceOwnerRepresentation{ID: gocloak.StringP("alice")},
			OwnerManagedAccess: gocloak.BoolP(true), ResourceScopes: &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}}})
		if err != nil {
			t.Fatal(err)
		}
		rsLogin := func(user string) string {
			t.Helper()
			tok, err := gc.Login(ctx, "photoz", umaRSecret, umaRealm, user, umaPass)
			if err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken
		}
		aliceRS, bobRS, carolRS := rsLogin("alice"), rsLogin("bob"), rsLogin("carol")
		pending := func(requester string) store.PermissionTicket {
			t.Helper()
			tk := store.PermissionTicket{ID: store.NewID(), RealmID: e.rl.ID, ServerID: e.photoz.ID, ResourceID: *album.ID,
				ScopeID: *(*album.ResourceScopes)[0].ID, Owner: e.alice, Requester: requester, CreatedTimestamp: time.Now().UnixMilli()}
			if err := e.db.CreatePermissionTicket(ctx, tk); err != nil {
				t.Fatal(err)
			}
			return tk
		}
		bobsTicket, carolsTicket := pending(e.bob), pending(carol)
		for name, c := range map[string]struct {
			tok, method, path string
			body              any
		}{
			"bob grants his own request": {bobRS, "PUT", "/permission/ticket", map[string]any{"id": bobsTicket.ID, "resource": *album.ID,
				"requester": e.bob, "granted": true}},
			"bob grants carol's request": {bobRS, "PUT", "/permission/ticket", map[string]any{"id": carolsTicket.ID, "resource": *album.ID,
				"requester": carol, "granted": true}},
			"bob deletes carol's request": {bobRS, "DELETE", "/permission/ticket/" + carolsTicket.ID, nil},
			"carol deletes bob's request": {carolRS, "DELETE", "/permission/ticket/" + bobsTicket.ID, nil},
		} {
			if r := e.protect(t, umaRealm, c.method, c.path, c.tok, c.body); r.status != 403 || !strings.Contains(string(r.body), "not_authorised") {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		after, err := e.db.ListPermissionTickets(ctx, e.rl.ID, store.TicketFilter{ResourceID: *album.ID})
		if err != nil || len(after) != 2 || slices.ContainsFunc(after, func(tk store.PermissionTicket) bool { return tk.Granted() }) {
			t.Errorf("requests after the refusals: %v %v", after, err)
		}
		pol, err := gc.CreateResourcePolicy(ctx, aliceRS, umaRealm, *album.ID, gocloak.ResourcePolicyRepresentation{
			Name: gocloak.StringP("carol views"), Scopes: &[]string{"view"}, Users: &[]string{"carol"}})
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			method string
			body   any
		}{
			"reads":   {"GET", nil},
			"changes": {"PUT", map[string]any{"name": "bob views", "scopes": []string{"view"}, "users": []string{"bob"}}},
			"deletes": {"DELETE", nil},
		} {
			if r := e.protect(t, umaRealm, c.method, "/uma-policy/"+*pol.ID, bobRS, c.body); r.status != 400 ||
				!strings.Contains(string(r.body), "Only resource owner can access policies") {
				t.Errorf("bob %s alice's policy: %d %s", name, r.status, r.body)
			}
		}
		if got, err := gc.GetResourcePolicy(ctx, aliceRS, umaRealm, *pol.ID); err != nil || *got.Name != "carol views" || (*got.Users)[0] != "carol" {
			t.Errorf("alice's policy after bob's tries: %+v %v", got, err)
		}
		if st, _ := e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#view"}}); st != 403 {
			t.Errorf("bob views the album: %d", st)
		}

		// An expired ticket: the PAT that asked for it has expired too.
		e.advance(time.Duration(e.rl.AccessTokenLifespan+1) * time.Second)
		fresh := e.userToken(0, "alice")
		if st, body := e.umaForm(fresh, url.Values{"ticket": {ticket}}); st != 403 || body["error"] != "invalid_ticket" ||
			body["error_description"] != "Invalid permission ticket." {
			t.Errorf("expired ticket: %d %v", st, body)
		}
		if st, body := e.umaForm(fresh, url.Values{"ticket": {ticketFor(e.pat(0))}}); st != 200 {
			t.Errorf("a new ticket after the old expired: %d %v", st, body)
		}
	})
}
