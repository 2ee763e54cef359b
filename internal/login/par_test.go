package login_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// push sends a pushed authorization request and returns the status and
// the decoded JSON answer.
func (e *env) push(form url.Values) (int, map[string]any) {
	e.t.Helper()
	res, err := http.PostForm(e.url("/protocol/openid-connect/ext/par/request"), form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// pushApp pushes client app's usual code request with overrides, and
// returns its request_uri.
func (e *env) pushApp(over map[string]string) string {
	e.t.Helper()
	form := url.Values{"client_id": {"app"}, "client_secret": {appSecret}, "redirect_uri": {"https://app.example/cb"},
		"response_type": {"code"}, "scope": {"openid profile"}, "state": {"st-par"}, "nonce": {"n-par"}}
	for k, v := range over {
		if v == "" {
			form.Del(k)
		} else {
			form.Set(k, v)
		}
	}
	status, body := e.push(form)
	if status != http.StatusCreated {
		e.t.Fatalf("push: %d %v", status, body)
	}
	uri, _ := body["request_uri"].(string)
	return uri
}

func bothEnvs(t *testing.T, run func(t *testing.T, e *env), edit ...func(*realm.Realm)) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		run(t, newEnvOn(t, open, web.URLs{}, edit...))
	})
}

func TestPushedAuthorizationRequests(t *testing.T) {
	bothEnvs(t, func(t *testing.T, e *env) {
		e.addClient("paronly", func(c *client.Client) {
			c.Secret = "paronly-secret"
			c.RedirectURIs = []string{"https://paronly.example/cb"}
			c.Attributes["require.pushed.authorization.requests"] = "true"
		})

		t.Run("a pushed request completes a login", func(t *testing.T) {
			status, body := e.push(url.Values{"client_id": {"app"}, "client_secret": {appSecret},
				"redirect_uri": {"https://app.example/cb"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"st-par"}, "nonce": {"n-par"}})
			uri, _ := body["request_uri"].(string)
			if status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || body["expires_in"] != float64(90) {
				t.Fatalf("push: %d %v", status, body)
			}
			b := e.browser()
			// Parameters the browser's URL adds are not the pushed request's.
			page := b.get(e.authURL(map[string]string{"client_id": "app", "request_uri": uri, "state": "forged", "prompt": "none",
				"redirect_uri": "https://app.example/wild/x"}))
			if page.status != http.StatusOK {
				t.Fatalf("authorization with request_uri: %d %s", page.status, page.body)
			}
			loc := e.login(b, page, "alice", alicePassword).location(t)
			if loc.Host != "app.example" || loc.Query().Get("state") != "st-par" || loc.Query().Get("code") == "" {
				t.Fatalf("redirect: %s", loc)
			}
			if _, d := e.codeData(loc.Query().Get("code")); d.Nonce != "n-par" {
				t.Errorf("the pushed nonce is the login's: %+v", d)
			}
			if again := e.browser().get(e.authURL(map[string]string{"client_id": "app", "request_uri": uri})); again.status != http.StatusBadRequest {
				t.Errorf("a used request_uri is refused: %d", again.status)
			}
		})
		t.Run("an expired request_uri is refused", func(t *testing.T) {
			uri := e.pushApp(nil)
			e.clock.Add(91 * time.Second)
			if res := e.browser().get(e.authURL(map[string]string{"client_id": "app", "request_uri": uri})); res.status != http.StatusBadRequest ||
				!strings.Contains(res.body, "Invalid Request") {
				t.Errorf("expired: %d %s", res.status, res.body)
			}
		})
		t.Run("another client's request_uri is refused", func(t *testing.T) {
			uri := e.pushApp(nil)
			res := e.browser().get(e.authURL(map[string]string{"client_id": "app2", "request_uri": uri}))
			if res.status != http.StatusBadRequest || res.header.Get("Location") != "" {
				t.Errorf("other client: %d %s", res.status, res.header.Get("Location"))
			}
		})
		t.Run("unknown and fetched request_uri values are refused", func(t *testing.T) {
			for _, uri := range []string{"urn:ietf:params:oauth:request_uri:nope", "http://169.254.169.254/"} {
				if res := e.browser().get(e.codeRequest(map[string]string{"request_uri": uri})); res.status != http.StatusBadRequest {
					t.Errorf("%s: %d", uri, res.status)
				}
			}
		})
		t.Run("a client requiring PAR refuses a plain request", func(t *testing.T) {
			res := e.browser().get(e.authURL(map[string]string{"client_id": "paronly", "redirect_uri": "https://paronly.example/cb",
				"response_type": "code", "scope": "openid", "state": "s1"}))
			loc := res.location(t)
			if loc.Query().Get("error") != "invalid_request" || loc.Query().Get("error_description") != "Pushed Authorization Request is only allowed." {
				t.Fatalf("plain request: %s", loc)
			}
			status, body := e.push(url.Values{"client_id": {"paronly"}, "client_secret": {"paronly-secret"},
				"redirect_uri": {"https://paronly.example/cb"}, "response_type": {"code"}, "scope": {"openid"}})
			if status != http.StatusCreated {
				t.Fatalf("push: %d %v", status, body)
			}
			page := e.browser().get(e.authURL(map[string]string{"client_id": "paronly", "request_uri": body["request_uri"].(string)}))
			if page.status != http.StatusOK {
				t.Errorf("pushed request of a PAR-only client: %d", page.status)
			}
		})
		t.Run("pushes and their refusals are events", func(t *testing.T) {
			e.pushApp(nil)
			e.push(url.Values{"client_id": {"app"}, "client_secret": {"nope"}, "response_type": {"code"}})
			got, err := e.db.ListEvents(t.Context(), e.realm.ID, store.EventQuery{ClientID: "app", Max: -1})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ev := range got {
				seen[ev.Type+"/"+ev.Error] = true
			}
			if !seen["PUSHED_AUTHORIZATION_REQUEST/"] || !seen["PUSHED_AUTHORIZATION_REQUEST_ERROR/invalid_client"] {
				t.Errorf("events: %v", seen)
			}
		})
		t.Run("the client's secret is not stored with the request", func(t *testing.T) {
			uri := e.pushApp(nil)
			p, err := e.db.TakePushedRequest(t.Context(), e.realm.ID, strings.TrimPrefix(uri, "urn:ietf:params:oauth:request_uri:"))
			if err != nil || p.Params["client_secret"] != "" || p.Params["redirect_uri"] != "https://app.example/cb" {
				t.Errorf("stored: %v %v", p.Params, err)
			}
		})
		t.Run("the PAR endpoint refuses bad requests", func(t *testing.T) {
			base := url.Values{"client_id": {"app"}, "client_secret": {appSecret}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"}}
			for _, tt := range []struct {
				name   string
				edit   func(url.Values)
				status int
				error  string
			}{
				{"wrong secret", func(v url.Values) { v.Set("client_secret", "nope") }, http.StatusUnauthorized, "invalid_client"},
				{"request_uri inside", func(v url.Values) { v.Set("request_uri", "urn:ietf:params:oauth:request_uri:x") }, http.StatusBadRequest, "invalid_request"},
				{"unregistered redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, http.StatusBadRequest, "invalid_request"},
				{"no response_type", func(v url.Values) { v.Del("response_type") }, http.StatusBadRequest, "invalid_request"},
			} {
				form := url.Values{}
				for k, v := range base {
					form[k] = v
				}
				tt.edit(form)
				if status, body := e.push(form); status != tt.status || body["error"] != tt.error {
					t.Errorf("%s: %d %v", tt.name, status, body)
				}
			}
		})
	}, func(rl *realm.Realm) {
		if rl.Attributes == nil {
			rl.Attributes = map[string]string{}
		}
		rl.Attributes[realm.PARLifespanAttr] = "90"
		rl.EventsEnabled = true
		rl.EnabledEventTypes = []string{"PUSHED_AUTHORIZATION_REQUEST", "PUSHED_AUTHORIZATION_REQUEST_ERROR"}
	})
}
