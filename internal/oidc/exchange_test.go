package oidc_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// exchangeRealm holds a front-end client whose tokens name "exchanger",
// "noswitch" and "pubx" in their audience, the exchanger itself (switch on,
// refresh tokens allowed), clients refused for one reason each, and two
// APIs whose roles alice holds.
const exchangeRealm = `{"realm":"xchg","enabled":true,"eventsEnabled":true,
 "roles":{"client":{"api-a":[{"name":"read"}],"api-b":[{"name":"write"}]}},
 "clients":[
  {"clientId":"front","secret":"front-secret","publicClient":false,"directAccessGrantsEnabled":true,
   "defaultClientScopes":["basic","roles","profile","email","web-origins","acr"],"optionalClientScopes":["phone","offline_access"],
   "protocolMappers":[
    {"name":"aud-exchanger","protocol":"openid-connect","protocolMapper":"oidc-audience-mapper","config":{"included.client.audience":"exchanger","access.token.claim":"true"}},
    {"name":"aud-noswitch","protocol":"openid-connect","protocolMapper":"oidc-audience-mapper","config":{"included.client.audience":"noswitch","access.token.claim":"true"}},
    {"name":"aud-pubx","protocol":"openid-connect","protocolMapper":"oidc-audience-mapper","config":{"included.client.audience":"pubx","access.token.claim":"true"}}]},
  {"clientId":"exchanger","secret":"ex-secret","publicClient":false,
   "defaultClientScopes":["basic","roles","profile","email","web-origins","acr"],"optionalClientScopes":["address","offline_access"],
   "attributes":{"standard.token.exchange.enabled":"true","standard.token.exchange.enableRefreshRequestedTokenType":"SAME_SESSION"}},
  {"clientId":"noswitch","secret":"ns-secret","publicClient":false},
  {"clientId":"pubx","publicClient":true,"attributes":{"standard.token.exchange.enabled":"true"}},
  {"clientId":"outsider","secret":"out-secret","publicClient":false,"attributes":{"standard.token.exchange.enabled":"true"}},
  {"clientId":"api-a","secret":"a-secret","publicClient":false},
  {"clientId":"api-b","secret":"b-secret","publicClient":false},
  {"clientId":"rs-jwt","secret":"rs-secret","publicClient":false,"attributes":{"client.introspection.response.allow.jwt.claim.enabled":"true"}}],
 "users":[{"username":"alice","enabled":true,"email":"alice@example.com","emailVerified":true,
   "credentials":[{"type":"password","value":"pw-alice","temporary":false}],
   "clientRoles":{"api-a":["read"],"api-b":["write"]}}]}`

// otherRealm has a client whose clientId no client of xchg has.
const otherRealm = `{"realm":"elsewhere","enabled":true,
 "clients":[{"clientId":"foreign-api","secret":"f-secret","publicClient":false}]}`

type exchangeEnv struct {
	t   *testing.T
	db  *store.DB
	srv *httptest.Server
}

func newExchangeEnv(t *testing.T, open func(testing.TB) *store.DB) *exchangeEnv {
	t.Helper()
	db := open(t)
	for _, data := range []string{exchangeRealm, otherRealm} {
		if _, _, err := rep.ImportFile(t.Context(), db, []byte(data), rep.ImportOptions{Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.NewTextHandler(t.Output(), nil))}))
	t.Cleanup(srv.Close)
	return &exchangeEnv{t: t, db: db, srv: srv}
}

func (e *exchangeEnv) post(path string, form url.Values, user, pass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/realms/xchg/protocol/openid-connect"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s: not JSON (%d): %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// subject is alice's access token for front, with the given scope.
func (e *exchangeEnv) subject(scope string) string {
	e.t.Helper()
	st, m := e.post("/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-alice"},
		"scope": {scope}}, "front", "front-secret")
	if st != 200 {
		e.t.Fatalf("password grant: %d %v", st, m)
	}
	return m["access_token"].(string)
}

func (e *exchangeEnv) exchange(clientID, secret string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	form.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
	if form.Get("subject_token_type") == "" {
		form.Set("subject_token_type", "urn:ietf:params:oauth:token-type:access_token")
	}
	if secret == "" {
		form.Set("client_id", clientID)
		return e.post("/token", form, "", "")
	}
	return e.post("/token", form, clientID, secret)
}

func audOf(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			out = append(out, a.(string))
		}
		slices.Sort(out)
		return out
	}
	return nil
}

func resourceClients(claims map[string]any) []string {
	ra, _ := claims["resource_access"].(map[string]any)
	var out []string
	for k := range ra {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTokenExchange(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newExchangeEnv(t, open)
		subject := e.subject("")
		sub := payload(t, subject)

		t.Run("access token for the requester, same user and session", func(t *testing.T) {
			st, m := e.exchange("exchanger", "ex-secret", url.Values{"subject_token": {subject}})
			if st != 200 {
				t.Fatalf("%d %v", st, m)
			}
			if m["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || m["token_type"] != "Bearer" {
				t.Errorf("response %v", m)
			}
			if _, ok := m["refresh_token"]; ok {
				t.Errorf("a refresh token was issued unasked: %v", m)
			}
			c := payload(t, m["access_token"].(string))
			if c["azp"] != "exchanger" || c["sub"] != sub["sub"] || c["sid"] != sub["sid"] {
				t.Errorf("claims %v, subject %v", c, sub)
			}
			if got := audOf(c); !slices.Equal(got, []string{"api-a", "api-b"}) {
				t.Errorf("aud %v, want the APIs alice holds roles of", got)
			}
			// The exchanged token is live at introspection.
			st, in := e.post("/token/introspect", url.Values{"token": {m["access_token"].(string)}}, "api-a", "a-secret")
			if st != 200 || in["active"] != true || in["client_id"] != "exchanger" {
				t.Errorf("introspection %d %v", st, in)
			}
		})

		t.Run("audience narrows aud and client roles", func(t *testing.T) {
			st, m := e.exchange("exchanger", "ex-secret", url.Values{"subject_token": {subject}, "audience": {"api-a"}})
			if st != 200 {
				t.Fatalf("%d %v", st, m)
			}
			c := payload(t, m["access_token"].(string))
			if got := audOf(c); !slices.Equal(got, []string{"api-a"}) {
				t.Errorf("aud %v, want [api-a]", got)
			}
			if got := resourceClients(c); !slices.Equal(got, []string{"api-a"}) {
				t.Errorf("resource_access of %v, want api-a only", got)
			}
		})

		t.Run("audience may repeat", func(t *testing.T) {
			st, m := e.exchange("exchanger", "ex-secret", url.Values{"subject_token": {subject}, "audience": {"api-a", "api-b"}})
			if st != 200 {
				t.Fatalf("%d %v", st, m)
			}
			if got := audOf(payload(t, m["access_token"].(string))); !slices.Equal(got, []string{"api-a", "api-b"}) {
				t.Errorf("aud %v", got)
			}
		})

		t.Run("refresh token when the client allows it, and it refreshes", func(t *testing.T) {
			st, m := e.exchange("exchanger", "ex-secret", url.Values{"subject_token": {subject},
				"requested_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}})
			if st != 200 || m["issued_token_type"] != "urn:ietf:params:oauth:token-type:refresh_token" || m["refresh_token"] == nil {
				t.Fatalf("%d %v", st, m)
			}
			st, r := e.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, "exchanger", "ex-secret")
			if st != 200 || payload(t, r["access_token"].(string))["azp"] != "exchanger" {
				t.Errorf("refresh %d %v", st, r)
			}
		})

		t.Run("ID token as the requested type", func(t *testing.T) {
			st, m := e.exchange("exchanger", "ex-secret", url.Values{"subject_token": {subject},
				"requested_token_type": {"urn:ietf:params:oauth:token-type:id_token"}})
			if st != 200 || m["issued_token_type"] != "urn:ietf:params:oauth:token-type:id_token" || m["token_type"] != "N_A" {
				t.Fatalf("%d %v", st, m)
			}
			if c := payload(t, m["access_token"].(string)); c["typ"] != "ID" || c["aud"] != "exchanger" || c["sub"] != sub["sub"] {
				t.Errorf("issued token %v", c)
			}
			if _, ok := m["id_token"]; ok {
				t.Errorf("the ID token is repeated in id_token: %v", m)
			}
		})

		t.Run("an optional scope of the requester is granted", func(t *testing.T) {
			st, m := e.exchange("exchanger", "ex-secret", url.Values{"subject_token": {subject}, "scope": {"address"}})
			if st != 200 || !strings.Contains(m["scope"].(string), "address") {
				t.Errorf("%d %v", st, m)
			}
		})

		phoneSubject := e.subject("phone")
		refusals := []struct {
			name           string
			clientID, pass string
			form           url.Values
			status         int
			code, desc     string
		}{
			{"wider scope than the requester may get", "exchanger", "ex-secret",
				url.Values{"subject_token": {phoneSubject}, "scope": {"phone"}}, 400, "invalid_scope", "Invalid scopes: phone"},
			{"another realm's audience", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject}, "audience": {"foreign-api"}}, 400, "invalid_client", "Audience not found"},
			{"unknown audience", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject}, "audience": {"api-a", "no-such-client"}}, 400, "invalid_client", "Audience not found"},
			{"audience the token would not reach", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject}, "audience": {"noswitch"}}, 400, "invalid_request", "Requested audience not available: noswitch"},
			{"requester without the switch", "noswitch", "ns-secret",
				url.Values{"subject_token": {subject}}, 400, "invalid_request", "Standard token exchange is not enabled for the requested client"},
			{"subject token not for the requester", "outsider", "out-secret",
				url.Values{"subject_token": {subject}}, 403, "access_denied", "Client is not within the token audience"},
			{"public client", "pubx", "",
				url.Values{"subject_token": {subject}}, 400, "invalid_client", "Public client is not allowed to exchange token"},
			{"refresh token the client does not allow", "outsider", "out-secret",
				url.Values{"subject_token": {subject}, "requested_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}},
				400, "invalid_request", "requested_token_type unsupported"},
			{"offline_access with a refresh token", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject}, "scope": {"offline_access"}, "requested_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}},
				400, "invalid_request", "Scope offline_access not allowed for token exchange"},
			{"forged subject token", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject[:len(subject)-4] + "AAAA"}}, 400, "invalid_request", "Invalid token"},
			{"refresh token as subject", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}},
				400, "invalid_request", "Parameter 'subject_token' supports access tokens only"},
			{"missing subject token", "exchanger", "ex-secret",
				url.Values{}, 400, "invalid_request", "Parameter 'subject_token' required for standard token exchange"},
			{"subject_issuer (external to internal)", "exchanger", "ex-secret",
				url.Values{"subject_token": {subject}, "subject_issuer": {"google"}}, 400, "invalid_request",
				"Parameter 'subject_issuer' is not supported for standard token exchange"},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				st, m := e.exchange(c.clientID, c.pass, c.form)
				if st != c.status || m["error"] != c.code || m["error_description"] != c.desc {
					t.Errorf("got %d %v, want %d %s %q", st, m, c.status, c.code, c.desc)
				}
			})
		}

		t.Run("events", func(t *testing.T) {
			rl, err := e.db.GetRealmByName(t.Context(), "xchg")
			if err != nil {
				t.Fatal(err)
			}
			evs, err := e.db.ListEvents(t.Context(), rl.ID, store.EventQuery{Max: 200})
			if err != nil {
				t.Fatal(err)
			}
			var ok, failed int
			errs := map[string]bool{}
			for _, ev := range evs {
				switch ev.Type {
				case "TOKEN_EXCHANGE":
					if ev.ClientID == "exchanger" && ev.Details["subject_token_client_id"] == "front" {
						ok++
					}
				case "TOKEN_EXCHANGE_ERROR":
					failed++
					errs[ev.Error] = true
				}
			}
			for _, want := range []string{"client_not_found", "not_allowed", "invalid_token", "invalid_scope", "invalid_request", "invalid_client"} {
				if !errs[want] {
					t.Errorf("no TOKEN_EXCHANGE_ERROR with error %q among %v", want, errs)
				}
			}
			if ok < 5 || failed < len(refusals) {
				t.Errorf("%d TOKEN_EXCHANGE from front's token and %d errors, want 5 and %d", ok, failed, len(refusals))
			}
		})
	})
}
