package oidc_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// saExchangeRealm has a service-account client "robot" whose tokens name
// "exchanger" in their audience, the exchanger, and an API that
// introspects.
const saExchangeRealm = `{"realm":"saxchg","enabled":true,
 "clients":[
  {"clientId":"robot","secret":"robot-secret","publicClient":false,"serviceAccountsEnabled":true,
   "protocolMappers":[
    {"name":"aud-exchanger","protocol":"openid-connect","protocolMapper":"oidc-audience-mapper","config":{"included.client.audience":"exchanger","access.token.claim":"true"}}]},
  {"clientId":"exchanger","secret":"ex-secret","publicClient":false,
   "attributes":{"standard.token.exchange.enabled":"true","standard.token.exchange.enableRefreshRequestedTokenType":"SAME_SESSION"}},
  {"clientId":"api","secret":"api-secret","publicClient":false}]}`

// TestTokenExchangeServiceAccountSubject exchanges a client credentials
// token, which rests on no stored session: the exchange issues from a
// transient session, and the token it issues is live at introspection and
// userinfo until the service account's client loses its switch.
func TestTokenExchangeServiceAccountSubject(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		if _, _, err := rep.ImportFile(t.Context(), db, []byte(saExchangeRealm), rep.ImportOptions{Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.NewTextHandler(t.Output(), nil))}))
		t.Cleanup(srv.Close)
		oidcURL := srv.URL + "/realms/saxchg/protocol/openid-connect"
		post := func(path string, form url.Values, user, pass string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest("POST", oidcURL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(user, pass)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: not JSON (%d): %s", path, resp.StatusCode, b)
			}
			return resp.StatusCode, m
		}
		st, cc := post("/token", url.Values{"grant_type": {"client_credentials"}}, "robot", "robot-secret")
		if st != 200 {
			t.Fatalf("client credentials: %d %v", st, cc)
		}
		subject := cc["access_token"].(string)
		sub := payload(t, subject)
		if sub["sid"] != nil {
			t.Fatalf("a client credentials token with a sid: %v", sub)
		}
		exchange := func(extra url.Values) (int, map[string]any) {
			form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subject},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}
			for k, v := range extra {
				form[k] = v
			}
			return post("/token", form, "exchanger", "ex-secret")
		}

		st, m := exchange(nil)
		if st != 200 || m["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" {
			t.Fatalf("exchange of a service account token: %d %v", st, m)
		}
		if _, ok := m["refresh_token"]; ok {
			t.Errorf("a refresh token from a transient session: %v", m)
		}
		exchanged := m["access_token"].(string)
		c := payload(t, exchanged)
		if c["azp"] != "exchanger" || c["sub"] != sub["sub"] || c["sid"] != nil || c["preferred_username"] != "service-account-robot" {
			t.Errorf("exchanged claims %v, subject %v", c, sub)
		}

		introspect := func(tok string) map[string]any {
			t.Helper()
			st, in := post("/token/introspect", url.Values{"token": {tok}}, "api", "api-secret")
			if st != 200 {
				t.Fatalf("introspection: %d %v", st, in)
			}
			return in
		}
		if in := introspect(exchanged); in["active"] != true || in["client_id"] != "exchanger" || in["sub"] != sub["sub"] || in["username"] != "service-account-robot" {
			t.Errorf("introspection of the exchanged token: %v", in)
		}
		req, _ := http.NewRequest("GET", oidcURL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+exchanged)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		json.NewDecoder(resp.Body).Decode(&ui)
		resp.Body.Close()
		if resp.StatusCode != 200 || ui["sub"] != sub["sub"] {
			t.Errorf("userinfo with the exchanged token: %d %v", resp.StatusCode, ui)
		}

		st, m = exchange(url.Values{"requested_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}})
		if st != 400 || m["error"] != "invalid_request" || m["error_description"] != "Refresh token not valid as requested_token_type because creating a new session is needed" {
			t.Errorf("refresh token from a service account token: %d %v", st, m)
		}

		// The exchanged token stands on the service account: once its
		// client may no longer have one, the token is dead.
		rl, err := db.GetRealmByName(t.Context(), "saxchg")
		if err != nil {
			t.Fatal(err)
		}
		robot, err := db.GetClientByClientID(t.Context(), rl.ID, "robot")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateClient(t.Context(), rl.ID, robot.ID, func(c *client.Client) error {
			c.ServiceAccountsEnabled = false
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if in := introspect(exchanged); in["active"] != false {
			t.Errorf("exchanged token after the service account was switched off: %v", in)
		}
	})
}
