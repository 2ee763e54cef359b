package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// apiError is gocloak's refusal: status and message.
func apiError(err error) (int, string) {
	var api *gocloak.APIError
	if errors.As(err, &api) {
		return api.Code, api.Message
	}
	return 0, ""
}

// umaForm posts a uma-ticket grant with a Bearer token: status and body.
func (e *umaEnv) umaForm(bearer string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	form.Set("grant_type", "urn:ietf:params:oauth:grant-type:uma-ticket")
	req, _ := http.NewRequest("POST", e.nodes[0].URL+"/realms/"+umaRealm+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// claimsOf decodes a JWT's payload without checking it (the server did).
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
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

// rptPermissions are the "authorization" permissions of an RPT, as
// "rsname#scope,scope" (scopes sorted).
func rptPermissions(t *testing.T, raw string) []string {
	t.Helper()
	a, _ := claimsOf(t, raw)["authorization"].(map[string]any)
	var out []string
	perms, _ := a["permissions"].([]any)
	for _, p := range perms {
		m := p.(map[string]any)
		var scopes []string
		for _, s := range asList(m["scopes"]) {
			scopes = append(scopes, s.(string))
		}
		slices.Sort(scopes)
		out = append(out, m["rsname"].(string)+"#"+strings.Join(scopes, ","))
	}
	slices.Sort(out)
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestUMAProtectionAPI drives the protection API and the uma-ticket grant
// with gocloak: a user-owned album with owner-managed access, a request bob
// submits and alice approves, grants and withdrawals, and a user-managed
// policy; on SQLite and PostgreSQL.
func TestUMAProtectionAPI(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		e := newUMAEnv(t, []*store.DB{open(t)})
		ctx := context.Background()
		gc, pat := e.gc(0), e.pat(0)

		// The UMA document names the protection API's endpoints.
		doc := get(t, e.nodes[0].URL+"/realms/"+umaRealm+"/.well-known/uma2-configuration", nil)
		if got := topLevelKeys(t, doc.body); !slices.Equal(got, []string{"issuer", "authorization_endpoint", "token_endpoint",
			"introspection_endpoint", "end_session_endpoint", "jwks_uri", "grant_types_supported", "response_types_supported",
			"response_modes_supported", "registration_endpoint", "token_endpoint_auth_methods_supported",
			"token_endpoint_auth_signing_alg_values_supported", "scopes_supported", "resource_registration_endpoint",
			"permission_endpoint", "policy_endpoint"}) {
			t.Errorf("uma2-configuration keys: %v", got)
		}
		var uma struct {
			Issuer       string   `json:"issuer"`
			Registration string   `json:"resource_registration_endpoint"`
			Grants       []string `json:"grant_types_supported"`
		}
		json.Unmarshal(doc.body, &uma)
		if uma.Registration != uma.Issuer+"/authz/protection/resource_set" || !slices.Contains(uma.Grants, "urn:ietf:params:oauth:grant-type:uma-ticket") {
			t.Errorf("uma2-configuration: %s", doc.body)
		}

		// Registration on behalf of alice, by username.
		album, err := gc.CreateResourceClient(ctx, pat, umaRealm, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("album"), Owner: &gocloak.ResourceOwnerRepresentation{ID: gocloak.StringP("alice")},
			OwnerManagedAccess: gocloak.BoolP(true), URIs: &[]string{"/albums/{id}"},
			ResourceScopes: &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}, {Name: gocloak.StringP("share")}},
		})
		if err != nil {
			t.Fatalf("register album: %v", err)
		}
		if *album.Owner.ID != e.alice || *album.Owner.Name != "alice" || len(*album.ResourceScopes) != 2 {
			t.Fatalf("album as registered: %+v", album)
		}
		if _, err := gc.CreateResourceClient(ctx, pat, umaRealm, gocloak.ResourceRepresentation{Name: gocloak.StringP("album"),
			Owner: &gocloak.ResourceOwnerRepresentation{ID: gocloak.StringP(e.alice)}}); func() bool { c, _ := apiError(err); return c != http.StatusConflict }() {
			t.Errorf("same name for the same owner: %v, want 409", err)
		}
		photo, _ := e.registerPhoto(pat)
		for _, tc := range []struct {
			name   string
			params gocloak.GetResourceParams
			want   []string
		}{
			{"by owner username", gocloak.GetResourceParams{Owner: gocloak.StringP("alice")}, []string{"album"}},
			{"by name", gocloak.GetResourceParams{Name: gocloak.StringP("pho")}, []string{"photo"}},
			{"matching uri", gocloak.GetResourceParams{URI: gocloak.StringP("/albums/7"), MatchingURI: gocloak.BoolP(true)}, []string{"album"}},
			{"by scope", gocloak.GetResourceParams{Scope: gocloak.StringP("delete")}, []string{"photo"}},
			{"all", gocloak.GetResourceParams{}, []string{"album", "photo"}},
		} {
			rs, err := gc.GetResourcesClient(ctx, pat, umaRealm, tc.params)
			var names []string
			for _, r := range rs {
				names = append(names, *r.Name)
			}
			slices.Sort(names)
			if err != nil || !slices.Equal(names, tc.want) {
				t.Errorf("%s: %v %v, want %v", tc.name, names, err, tc.want)
			}
		}
		photo.DisplayName = gocloak.StringP("A photo")
		if err := gc.UpdateResourceClient(ctx, pat, umaRealm, photo); err != nil {
			t.Fatal(err)
		}
		if got, err := gc.GetResourceClient(ctx, pat, umaRealm, *photo.ID); err != nil || got.DisplayName == nil || *got.DisplayName != "A photo" {
			t.Errorf("after update: %+v %v", got, err)
		}
		// No token, and a token without uma_protection, are refused.
		if st := get(t, e.nodes[0].URL+"/realms/"+umaRealm+"/authz/protection/resource_set", nil); st.status != http.StatusForbidden ||
			!strings.Contains(string(st.body), "invalid_bearer_token") {
			t.Errorf("no token: %d %s", st.status, st.body)
		}
		aliceRS, err := gc.Login(ctx, "photoz", umaRSecret, umaRealm, "alice", umaPass) // alice, at the resource server's client
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gc.GetResourcesClient(ctx, aliceRS.AccessToken, umaRealm, gocloak.GetResourceParams{}); func() bool { c, m := apiError(err); return c != 403 || !strings.Contains(m, "uma_protection") }() {
			t.Errorf("alice's token on resource_set: %v", err)
		}

		// bob asks for the album: denied; with submit_request a pending
		// request awaits alice.
		bob := e.userToken(0, "bob")
		ticket, err := gc.CreatePermissionTicket(ctx, pat, umaRealm, []gocloak.CreatePermissionTicketParams{
			{ResourceID: album.ID, ResourceScopes: &[]string{"view"}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = gc.GetRequestingPartyToken(ctx, bob, umaRealm, gocloak.RequestingPartyTokenOptions{Ticket: ticket.Ticket,
			GrantType: gocloak.StringP("urn:ietf:params:oauth:grant-type:uma-ticket"), SubmitRequest: gocloak.BoolP(true)})
		if c, m := apiError(err); c != 403 || !strings.Contains(m, "request_submitted") {
			t.Fatalf("bob's submitted request: %v", err)
		}
		// (gocloak cannot send its granted filter: it encodes params as strings.)
		pending, err := gc.GetUserPermissions(ctx, aliceRS.AccessToken, umaRealm, gocloak.GetUserPermissionParams{
			Owner: gocloak.StringP("alice"), ReturnNames: gocloak.StringP("true")})
		if err != nil || len(pending) != 1 || *pending[0].RequesterID != e.bob || *pending[0].ResourceID != *album.ID || (pending[0].Granted != nil && *pending[0].Granted) {
			t.Fatalf("alice's pending requests: %v %v", pending, err)
		}
		// bob, at the resource server's client, sees his own request but
		// not alice's other tickets.
		bobRS, err := gc.Login(ctx, "photoz", umaRSecret, umaRealm, "bob", umaPass)
		if err != nil {
			t.Fatal(err)
		}
		if mine, err := gc.GetUserPermissions(ctx, bobRS.AccessToken, umaRealm, gocloak.GetUserPermissionParams{Requester: gocloak.StringP("bob")}); err != nil || len(mine) != 1 {
			t.Errorf("bob's own requests: %v %v", mine, err)
		}
		if theirs, err := gc.GetUserPermissions(ctx, bobRS.AccessToken, umaRealm, gocloak.GetUserPermissionParams{Owner: gocloak.StringP("alice")}); err != nil || len(theirs) != 0 {
			t.Errorf("bob lists alice's tickets: %v %v", theirs, err)
		}
		viewOnAlbum := url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#view"}}
		if st, body := e.umaForm(bob, cloneValues(viewOnAlbum)); st != 403 || body["error_description"] != "not_authorized" {
			t.Fatalf("bob before approval: %d %v", st, body)
		}
		// alice approves: bob may view.
		if _, err := gc.UpdateUserPermission(ctx, aliceRS.AccessToken, umaRealm, gocloak.PermissionGrantParams{TicketID: pending[0].ID,
			ResourceID: album.ID, RequesterID: gocloak.StringP(e.bob), ScopeName: gocloak.StringP("view"), Granted: gocloak.BoolP(true)}); err != nil {
			t.Fatalf("approve: %v", err)
		}
		dec, err := gc.GetRequestingPartyPermissionDecision(ctx, bob, umaRealm, gocloak.RequestingPartyTokenOptions{
			Audience: gocloak.StringP("photoz"), Permissions: &[]string{"album#view"}})
		if err != nil || dec.Result == nil || !*dec.Result {
			t.Fatalf("bob's decision after approval: %v %v", dec, err)
		}
		perms, err := gc.GetRequestingPartyPermissions(ctx, bob, umaRealm, gocloak.RequestingPartyTokenOptions{
			Audience: gocloak.StringP("photoz"), Permissions: &[]string{"album#view"}, ResponseIncludeResourceName: gocloak.BoolP(false)})
		if err != nil || len(*perms) != 1 || *(*perms)[0].ResourceID != *album.ID || (*perms)[0].ResourceName != nil {
			t.Fatalf("bob's permissions without names: %v %v", perms, err)
		}
		// Granting directly, then withdrawing.
		granted, err := gc.GrantUserPermission(ctx, aliceRS.AccessToken, umaRealm, gocloak.PermissionGrantParams{
			ResourceID: album.ID, RequesterID: gocloak.StringP(e.bob), ScopeName: gocloak.StringP("share")})
		if err != nil || granted.Granted == nil || !*granted.Granted {
			t.Fatalf("grant share: %v %v", granted, err)
		}
		rpt, err := gc.GetRequestingPartyToken(ctx, bob, umaRealm, gocloak.RequestingPartyTokenOptions{
			Audience: gocloak.StringP("photoz"), Permissions: &[]string{"album"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := rptPermissions(t, rpt.AccessToken); !slices.Equal(got, []string{"album#share,view"}) {
			t.Errorf("bob's RPT: %v", got)
		}
		if aud := claimsOf(t, rpt.AccessToken)["aud"]; !strings.Contains(jsonString(aud), "photoz") {
			t.Errorf("RPT audience %v lacks the resource server", aud)
		}
		if err := gc.DeleteUserPermission(ctx, aliceRS.AccessToken, umaRealm, *granted.ID); err != nil {
			t.Fatal(err)
		}
		if st, body := e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#share"}}); st != 403 {
			t.Errorf("share after withdrawal: %d %v", st, body)
		}
		// An RPT is upgraded with what it held and is still granted; the
		// withdrawn scope is dropped, so it is not "upgraded".
		st, body := e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#view"}, "rpt": {rpt.AccessToken}})
		if tok, _ := body["access_token"].(string); st != 200 || body["upgraded"] != false || !slices.Equal(rptPermissions(t, tok), []string{"album#view"}) {
			t.Errorf("upgrade holding a withdrawn scope: %d %v", st, body)
		}
		st, body = e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*photo.ID + "#delete"}, "rpt": {rpt.AccessToken}})
		if st != 403 {
			t.Errorf("upgrade asking for what is not granted: %d %v", st, body)
		}

		// A user-managed policy: alice lets bob share through the policy
		// endpoint, then takes it back.
		pol, err := gc.CreateResourcePolicy(ctx, aliceRS.AccessToken, umaRealm, *album.ID, gocloak.ResourcePolicyRepresentation{
			Name: gocloak.StringP("bob shares"), Scopes: &[]string{"share"}, Users: &[]string{"bob"}})
		if err != nil || pol.Users == nil || (*pol.Users)[0] != "bob" {
			t.Fatalf("uma policy: %+v %v", pol, err)
		}
		if st, body := e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#share"}}); st != 200 {
			t.Errorf("share through the policy: %d %v", st, body)
		}
		list, err := gc.GetResourcePolicies(ctx, aliceRS.AccessToken, umaRealm, gocloak.GetResourcePoliciesParams{Name: gocloak.StringP("bob shares")})
		if err != nil || len(list) != 1 || *list[0].ID != *pol.ID {
			t.Errorf("alice's policies: %v %v", list, err)
		}
		pol.Users, pol.Roles = nil, &[]string{"photo-admin"}
		if err := gc.UpdateResourcePolicy(ctx, aliceRS.AccessToken, umaRealm, *pol.ID, *pol); err != nil {
			t.Fatal(err)
		}
		if got, err := gc.GetResourcePolicy(ctx, aliceRS.AccessToken, umaRealm, *pol.ID); err != nil || got.Users != nil || (*got.Roles)[0] != "photo-admin" {
			t.Errorf("policy after update: %+v %v", got, err)
		}
		if st, _ := e.umaForm(bob, url.Values{"audience": {"photoz"}, "permission": {*album.ID + "#share"}}); st != 403 {
			t.Errorf("share after the policy changed to admins: %d", st)
		}
		if err := gc.DeleteResourcePolicy(ctx, aliceRS.AccessToken, umaRealm, *pol.ID); err != nil {
			t.Fatal(err)
		}
		// bob cannot manage alice's album.
		if _, err := gc.CreateResourcePolicy(ctx, e.userToken(0, "bob"), umaRealm, *album.ID, gocloak.ResourcePolicyRepresentation{
			Name: gocloak.StringP("mine")}); err == nil {
			t.Error("bob created a policy on alice's album")
		}

		// Removing the album removes the grants on it: bob's approved
		// ticket, and the permission behind it.
		if err := gc.DeleteResourceClient(ctx, pat, umaRealm, *album.ID); err != nil {
			t.Fatal(err)
		}
		if ps, err := e.db.ListPolicies(ctx, e.photoz.ID, store.PolicyFilter{Type: "uma"}); err != nil || len(ps) != 0 {
			t.Errorf("uma permissions left after the album went: %v %v", ps, err)
		}
		if ts, err := e.db.ListPermissionTickets(ctx, e.rl.ID, store.TicketFilter{}); err != nil || len(ts) != 0 {
			t.Errorf("tickets left after the album went: %v %v", ts, err)
		}

		// Refusals, in Keycloak's words.
		for _, tc := range []struct {
			name string
			form url.Values
			code int
			desc string
		}{
			{"unknown audience", url.Values{"audience": {"nope"}, "permission": {"photo"}}, 400, "Unknown resource server id: [nope]"},
			{"not a resource server", url.Values{"audience": {"app"}}, 400, "Client does not support permissions"},
			{"unknown resource", url.Values{"audience": {"photoz"}, "permission": {"nothing#view"}}, 400, "Resource with id [nothing] does not exist."},
			{"unknown scope", url.Values{"audience": {"photoz"}, "permission": {"photo#fly"}}, 400, "One of the given scopes [fly] is invalid"},
			{"forged ticket", url.Values{"ticket": {"a.b.c"}}, 403, "Ticket verification failed"},
			{"no audience", url.Values{"permission": {"photo"}}, 400, "You must provide the audience"},
			{"claims from a public client", url.Values{"audience": {"photoz"}, "claim_token": {"e30"}}, 403, "Public clients are not allowed to send claims"},
		} {
			if st, body := e.umaForm(bob, tc.form); st != tc.code || body["error_description"] != tc.desc {
				t.Errorf("%s: %d %v, want %d %q", tc.name, st, body, tc.code, tc.desc)
			}
		}
		aliceTok := e.userToken(0, "alice")
		if st, body := e.umaForm(aliceTok, url.Values{"audience": {"photoz"}, "permission": {"photo#view"}, "response_mode": {"x"}}); st != 400 || body["error_description"] != "Invalid response_mode" {
			t.Errorf("bad response mode: %d %v", st, body)
		}
		st, body = e.umaForm(aliceTok, url.Values{"audience": {"photoz"}, "permission": {"photo#view"}})
		if st != 200 {
			t.Fatalf("alice's RPT: %d %v", st, body)
		}
		// A confidential client may ask on behalf of a user whose token it
		// holds (subject_token), authenticating itself.
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:uma-ticket"}, "audience": {"photoz"},
			"permission": {"photo#view"}, "subject_token": {aliceTok}}
		req, _ := http.NewRequest("POST", e.nodes[0].URL+"/realms/"+umaRealm+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("photoz", umaRSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var onBehalf map[string]any
		json.NewDecoder(resp.Body).Decode(&onBehalf)
		resp.Body.Close()
		if tok, _ := onBehalf["access_token"].(string); resp.StatusCode != 200 || claimsOf(t, tok)["azp"] != "photoz" ||
			claimsOf(t, tok)["sub"] != e.alice || !slices.Equal(rptPermissions(t, tok), []string{"photo#view"}) {
			t.Errorf("RPT on behalf of alice: %d %v", resp.StatusCode, onBehalf)
		}
		// A refreshed RPT keeps its permissions.
		refreshed, err := gc.RefreshToken(ctx, body["refresh_token"].(string), "app", "", umaRealm)
		if err != nil {
			t.Fatalf("refresh the RPT: %v", err)
		}
		if got := rptPermissions(t, refreshed.AccessToken); !slices.Equal(got, []string{"photo#view"}) {
			t.Errorf("refreshed RPT: %v", got)
		}
		// ... and its audience, the resource server, through refreshes.
		again, err := gc.RefreshToken(ctx, refreshed.RefreshToken, "app", "", umaRealm)
		if err != nil {
			t.Fatalf("refresh the refreshed RPT: %v", err)
		}
		for _, tok := range []string{refreshed.AccessToken, again.AccessToken} {
			if aud := claimsOf(t, tok)["aud"]; !strings.Contains(jsonString(aud), `"photoz"`) {
				t.Errorf("refreshed RPT's audience %v lacks the resource server", aud)
			}
		}
		if plain, err := gc.RefreshToken(ctx, e.userTokenResponse(0, "bob").RefreshToken, "app", "", umaRealm); err != nil ||
			strings.Contains(jsonString(claimsOf(t, plain.AccessToken)["aud"]), `"photoz"`) || claimsOf(t, plain.AccessToken)["authorization"] != nil {
			t.Errorf("a refreshed plain token became an RPT: %v", err)
		}
		// Introspection: plain, the RPT's authorization claim; with the RPT
		// hint, UMA's permissions.
		raw := body["access_token"].(string)
		for hint, want := range map[string]string{"": `"authorization"`, "requesting_party_token": `"resource_scopes":["view"]`} {
			form := url.Values{"token": {raw}}
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			req, _ := http.NewRequest("POST", e.nodes[0].URL+"/realms/"+umaRealm+"/protocol/openid-connect/token/introspect", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("photoz", umaRSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), want) || !strings.Contains(string(b), `"active":true`) {
				t.Errorf("introspection (hint %q): %s", hint, b)
			}
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestUMAAdminDeleteDropsGrants: a resource removed through the admin API
// takes its user-managed permissions and tickets with it, as a removal
// through the protection API does; on SQLite and PostgreSQL.
func TestUMAAdminDeleteDropsGrants(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		e := newUMAEnv(t, []*store.DB{open(t)})
		ctx := context.Background()
		gc, pat := e.gc(0), e.pat(0)
		album, err := gc.CreateResourceClient(ctx, pat, umaRealm, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("album"), Owner: &gocloak.ResourceOwnerRepresentation{ID: gocloak.StringP("alice")},
			OwnerManagedAccess: gocloak.BoolP(true),
			ResourceScopes:     &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		aliceRS, err := gc.Login(ctx, "photoz", umaRSecret, umaRealm, "alice", umaPass)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gc.GrantUserPermission(ctx, aliceRS.AccessToken, umaRealm, gocloak.PermissionGrantParams{
			ResourceID: album.ID, RequesterID: gocloak.StringP(e.bob), ScopeName: gocloak.StringP("view")}); err != nil {
			t.Fatal(err)
		}
		if ps, err := e.db.ListPolicies(ctx, e.photoz.ID, store.PolicyFilter{Type: "uma"}); err != nil || len(ps) == 0 {
			t.Fatalf("no uma permission after the grant: %v %v", ps, err)
		}
		if err := gc.DeleteResource(ctx, e.adminToken(), umaRealm, e.photoz.ID, *album.ID); err != nil {
			t.Fatal(err)
		}
		if ps, err := e.db.ListPolicies(ctx, e.photoz.ID, store.PolicyFilter{Type: "uma"}); err != nil || len(ps) != 0 {
			t.Errorf("uma permissions left after the admin removed the album: %v %v", ps, err)
		}
		if ts, err := e.db.ListPermissionTickets(ctx, e.rl.ID, store.TicketFilter{}); err != nil || len(ts) != 0 {
			t.Errorf("tickets left after the admin removed the album: %v %v", ts, err)
		}
	})
}

// TestUMAPolicyNames: a user-managed policy names clients, users and roles
// by clientId, username and role name, read back in those names; a name
// that resolves to nothing is refused in Keycloak's words and stores
// nothing; on SQLite and PostgreSQL.
func TestUMAPolicyNames(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(t testing.TB) *store.DB) {
		e := newUMAEnv(t, []*store.DB{open(t)})
		ctx := context.Background()
		gc, pat := e.gc(0), e.pat(0)
		album, err := gc.CreateResourceClient(ctx, pat, umaRealm, gocloak.ResourceRepresentation{
			Name: gocloak.StringP("album"), Owner: &gocloak.ResourceOwnerRepresentation{ID: gocloak.StringP("alice")},
			OwnerManagedAccess: gocloak.BoolP(true),
			ResourceScopes:     &[]gocloak.ScopeRepresentation{{Name: gocloak.StringP("view")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		alice, err := gc.Login(ctx, "photoz", umaRSecret, umaRealm, "alice", umaPass)
		if err != nil {
			t.Fatal(err)
		}
		pol, err := gc.CreateResourcePolicy(ctx, alice.AccessToken, umaRealm, *album.ID, gocloak.ResourcePolicyRepresentation{
			Name: gocloak.StringP("named"), Scopes: &[]string{"view"}, Clients: &[]string{"photoz"},
			Users: &[]string{"bob"}, Roles: &[]string{"photo-admin"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := gc.GetResourcePolicy(ctx, alice.AccessToken, umaRealm, *pol.ID)
		if err != nil || got.Clients == nil || (*got.Clients)[0] != "photoz" || got.Users == nil || (*got.Users)[0] != "bob" ||
			got.Roles == nil || (*got.Roles)[0] != "photo-admin" {
			t.Fatalf("policy read back: %+v %v", got, err)
		}
		before, err := e.db.ListPolicies(ctx, e.photoz.ID, store.PolicyFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			rep  gocloak.ResourcePolicyRepresentation
			want string
		}{
			{gocloak.ResourcePolicyRepresentation{Users: &[]string{"nobody"}}, "User [nobody] does not exist"},
			{gocloak.ResourcePolicyRepresentation{Clients: &[]string{"nothing"}}, "Client with id [nothing] not found"},
			{gocloak.ResourcePolicyRepresentation{Roles: &[]string{"no-role"}}, "Role [no-role] not found"},
			{gocloak.ResourcePolicyRepresentation{Groups: &[]string{"/no/group"}}, "Group with path [/no/group] not found"},
		} {
			tc.rep.Name, tc.rep.Scopes = gocloak.StringP("refused"), &[]string{"view"}
			_, err := gc.CreateResourcePolicy(ctx, alice.AccessToken, umaRealm, *album.ID, tc.rep)
			if code, msg := apiError(err); code != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("%s: %d %q", tc.want, code, msg)
			}
		}
		if after, err := e.db.ListPolicies(ctx, e.photoz.ID, store.PolicyFilter{}); err != nil || len(after) != len(before) {
			t.Errorf("refused policies stored something: %d → %d %v", len(before), len(after), err)
		}
	})
}
