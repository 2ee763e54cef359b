package login_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// redeem exchanges a code at the token endpoint and reports the status.
func (e *env) redeem(t *testing.T, clientID, secret, redirectURI, code string) int {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	req, _ := http.NewRequest("POST", e.url("/protocol/openid-connect/token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// JWT Secured Authorization Responses: each JWT mode, successes and errors,
// the client's signature algorithm, and discovery.
func TestJWTResponseModes(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.addClient("hyb", func(c *client.Client) {
			c.Secret = "hyb-secret"
			c.ImplicitFlowEnabled = true
			c.RedirectURIs = []string{"https://hyb.example/cb"}
		})
		e.addClient("ec", func(c *client.Client) {
			c.Secret = "ec-secret"
			c.RedirectURIs = []string{"https://ec.example/cb"}
			c.Attributes["authorization.signed.response.alg"] = "ES256"
		})
		e.addClient("enc", func(c *client.Client) {
			c.Secret = "enc-secret"
			c.RedirectURIs = []string{"https://enc.example/cb"}
			c.Attributes["authorization.encrypted.response.alg"] = "RSA-OAEP"
		})
		ecKey, err := keys.Fallback("ES256", "demo", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		ecKey.RealmID = e.realm.ID
		if err := e.db.CreateKey(t.Context(), ecKey); err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		keySet := oidc.NewRemoteKeySet(ctx, e.url("/protocol/openid-connect/certs"))

		// verify checks the response JWT's signature against the realm's
		// JWKS, its algorithm, and iss, aud and exp.
		verify := func(t *testing.T, raw, alg, clientID string) map[string]any {
			t.Helper()
			if raw == "" {
				t.Fatal("no response parameter")
			}
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			if got := jws.Signatures[0].Header.Algorithm; got != alg {
				t.Errorf("alg %s, want %s", got, alg)
			}
			payload, err := keySet.VerifySignature(ctx, raw)
			if err != nil {
				t.Fatalf("signature refused with the realm's JWKS: %v", err)
			}
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatal(err)
			}
			now := e.clock.Now().Unix()
			exp, _ := claims["exp"].(float64)
			if claims["iss"] != e.issuer() || claims["aud"] != clientID ||
				int64(exp) <= now || int64(exp) > now+int64(e.realm.AccessCodeLifespan) {
				t.Errorf("iss/aud/exp: %v (now %d, code lifespan %d)", claims, now, e.realm.AccessCodeLifespan)
			}
			return claims
		}

		t.Run("discovery", func(t *testing.T) {
			provider, err := oidc.NewProvider(ctx, e.issuer())
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Modes []string `json:"response_modes_supported"`
				Algs  []string `json:"authorization_signing_alg_values_supported"`
			}
			if err := provider.Claims(&doc); err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"query.jwt", "fragment.jwt", "form_post.jwt", "jwt"} {
				if !slices.Contains(doc.Modes, m) {
					t.Errorf("response_modes_supported %v lacks %s", doc.Modes, m)
				}
			}
			if !slices.Contains(doc.Algs, "RS256") || !slices.Contains(doc.Algs, "ES256") {
				t.Errorf("authorization_signing_alg_values_supported %v", doc.Algs)
			}
		})

		for _, mode := range []string{"query.jwt", "jwt", "fragment.jwt", "form_post.jwt"} {
			t.Run("code "+mode, func(t *testing.T) {
				b := e.browser()
				res := e.login(b, b.get(e.codeRequest(map[string]string{"response_mode": mode})), "alice", alicePassword)
				var raw string
				switch mode {
				case "form_post.jwt":
					if res.status != http.StatusOK {
						t.Fatalf("%d %s", res.status, res.body)
					}
					action, fields := e.form(res)
					if action != "https://app.example/cb" || len(fields) != 1 {
						t.Fatalf("form: %s %v", action, fields)
					}
					raw = fields.Get("response")
				case "fragment.jwt":
					loc := res.location(t)
					f, _ := url.ParseQuery(loc.Fragment)
					if loc.RawQuery != "" || len(f) != 1 {
						t.Fatalf("fragment response: %s", loc)
					}
					raw = f.Get("response")
				default: // query.jwt, and jwt for a code
					loc := res.location(t)
					q := loc.Query()
					if loc.Fragment != "" || len(q) != 1 {
						t.Fatalf("query response: %s", loc)
					}
					raw = q.Get("response")
				}
				claims := verify(t, raw, "RS256", "app")
				code, _ := claims["code"].(string)
				if code == "" || claims["state"] != "st-123" || claims["session_state"] == "" || claims["scope"] != "openid profile" {
					t.Fatalf("claims %v", claims)
				}
				if st := e.redeem(t, "app", appSecret, "https://app.example/cb", code); st != http.StatusOK {
					t.Errorf("redeeming the code: %d", st)
				}
			})
		}

		t.Run("hybrid jwt is fragment.jwt", func(t *testing.T) {
			b := e.browser()
			page := b.get(e.authURL(map[string]string{"client_id": "hyb", "redirect_uri": "https://hyb.example/cb",
				"response_type": "code id_token", "response_mode": "jwt", "scope": "openid", "state": "st-h", "nonce": "n-h"}))
			loc := e.login(b, page, "alice", alicePassword).location(t)
			f, _ := url.ParseQuery(loc.Fragment)
			if loc.RawQuery != "" {
				t.Fatalf("hybrid response in the query: %s", loc)
			}
			claims := verify(t, f.Get("response"), "RS256", "hyb")
			code, _ := claims["code"].(string)
			idt, _ := claims["id_token"].(string)
			if code == "" || idt == "" || claims["state"] != "st-h" {
				t.Fatalf("claims %v", claims)
			}
			provider, err := oidc.NewProvider(ctx, e.issuer())
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := provider.Verifier(&oidc.Config{ClientID: "hyb"}).Verify(ctx, idt); err != nil || tok.Nonce != "n-h" {
				t.Errorf("ID token in the response: %v", err)
			}
			if st := e.redeem(t, "hyb", "hyb-secret", "https://hyb.example/cb", code); st != http.StatusOK {
				t.Errorf("redeeming the hybrid code: %d", st)
			}
		})

		t.Run("hybrid query.jwt is an error JWT", func(t *testing.T) {
			res := e.browser().get(e.authURL(map[string]string{"client_id": "hyb", "redirect_uri": "https://hyb.example/cb",
				"response_type": "code id_token", "response_mode": "query.jwt", "scope": "openid", "state": "st-q", "nonce": "n-q"}))
			q := res.location(t).Query()
			if q.Has("error") {
				t.Fatalf("plain error beside the JWT: %v", q)
			}
			claims := verify(t, q.Get("response"), "RS256", "hyb")
			if claims["error"] != "invalid_request" || claims["state"] != "st-q" ||
				claims["error_description"] != "Response_mode 'query.jwt' is allowed only when the authorization response token is encrypted" {
				t.Errorf("claims %v", claims)
			}
		})

		t.Run("prompt none without a session", func(t *testing.T) {
			res := e.browser().get(e.codeRequest(map[string]string{"response_mode": "query.jwt", "prompt": "none"}))
			q := res.location(t).Query()
			if len(q) != 1 {
				t.Fatalf("query %v", q)
			}
			claims := verify(t, q.Get("response"), "RS256", "app")
			if claims["error"] != "login_required" || claims["state"] != "st-123" || claims["code"] != nil {
				t.Errorf("claims %v", claims)
			}
		})

		t.Run("client algorithm ES256", func(t *testing.T) {
			b := e.browser()
			page := b.get(e.authURL(map[string]string{"client_id": "ec", "redirect_uri": "https://ec.example/cb",
				"response_type": "code", "response_mode": "query.jwt", "scope": "openid", "state": "st-e"}))
			raw := e.login(b, page, "alice", alicePassword).location(t).Query().Get("response")
			claims := verify(t, raw, "ES256", "ec")
			jws, _ := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
			if kid := jws.Signatures[0].Header.KeyID; kid != ecKey.Kid {
				t.Errorf("kid %q, want the realm's ES256 key %q", kid, ecKey.Kid)
			}
			code, _ := claims["code"].(string)
			if st := e.redeem(t, "ec", "ec-secret", "https://ec.example/cb", code); st != http.StatusOK {
				t.Errorf("redeeming the code: %d", st)
			}
		})

		t.Run("exp follows the server clock", func(t *testing.T) {
			// verify checks exp against the access code lifespan from the
			// test's clock, an hour on.
			e.clock.Add(time.Hour)
			res := e.browser().get(e.codeRequest(map[string]string{"response_mode": "query.jwt", "prompt": "none"}))
			verify(t, res.location(t).Query().Get("response"), "RS256", "app")
		})

		t.Run("encrypted responses are refused", func(t *testing.T) {
			res := e.browser().get(e.authURL(map[string]string{"client_id": "enc", "redirect_uri": "https://enc.example/cb",
				"response_type": "code", "response_mode": "query.jwt", "scope": "openid", "state": "st-x"}))
			q := res.location(t).Query()
			if q.Has("response") || q.Get("error") != "invalid_request" || q.Get("error_description") != "Invalid parameter: response_mode" {
				t.Errorf("query %v", q)
			}
		})
	})
}
