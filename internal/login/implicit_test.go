package login_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// halfHashS256 is OpenID Connect Core 3.1.3.6's hash for an RS256 ID token.
func halfHashS256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// TestImplicitAndHybridFlows logs alice in with the form for each response
// type a client with implicitFlowEnabled may use, reads the response from
// the redirect's fragment, and verifies the ID token with go-oidc through
// discovery: signature, nonce, at_hash (go-oidc's VerifyAccessToken) and
// c_hash.
func TestImplicitAndHybridFlows(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		e := newEnvOn(t, open, web.URLs{})
		e.addClient("imp", func(c *client.Client) {
			c.Secret = "imp-secret"
			c.ImplicitFlowEnabled = true
			c.RedirectURIs = []string{"https://imp.example/cb"}
		})
		ctx := t.Context()
		provider, err := oidc.NewProvider(ctx, e.issuer())
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ResponseTypes []string `json:"response_types_supported"`
		}
		if err := provider.Claims(&doc); err != nil {
			t.Fatal(err)
		}
		want := []string{"code", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"}
		if !slices.Equal(doc.ResponseTypes, want) {
			t.Errorf("response_types_supported %v, want %v", doc.ResponseTypes, want)
		}
		verifier := provider.Verifier(&oidc.Config{ClientID: "imp"})

		for _, rt := range want[1:] {
			t.Run(rt, func(t *testing.T) {
				b := e.browser()
				nonce := "nonce-" + strings.ReplaceAll(rt, " ", "-")
				page := b.get(e.authURL(map[string]string{"client_id": "imp", "redirect_uri": "https://imp.example/cb",
					"response_type": rt, "scope": "openid profile", "state": "st-1", "nonce": nonce}))
				if page.status != http.StatusOK {
					t.Fatalf("authorization request: %d %s", page.status, page.body)
				}
				res := e.login(b, page, "alice", alicePassword)
				loc := res.location(t)
				if loc.RawQuery != "" || loc.Fragment == "" {
					t.Fatalf("response not in the fragment: %s", loc)
				}
				f, err := url.ParseQuery(loc.Fragment)
				if err != nil {
					t.Fatal(err)
				}
				types := strings.Fields(rt)
				if f.Get("state") != "st-1" || f.Get("iss") != e.issuer() || f.Get("session_state") == "" {
					t.Errorf("fragment %v", f)
				}
				if f.Has("refresh_token") {
					t.Error("a refresh token in the front channel")
				}
				if got := f.Has("code"); got != slices.Contains(types, "code") {
					t.Errorf("code present %v for %q", got, rt)
				}
				access := f.Get("access_token")
				if (access != "") != slices.Contains(types, "token") {
					t.Errorf("access_token present %v for %q", access != "", rt)
				}
				if access != "" {
					// The implicit flow's token lives the realm's implicit
					// lifespan; a hybrid flow's the usual one.
					life := e.realm.AccessTokenLifespan
					if !slices.Contains(types, "code") {
						life = e.realm.AccessTokenLifespanForImplicitFlow
					}
					if f.Get("token_type") != "Bearer" || f.Get("expires_in") != strconv.Itoa(life) {
						t.Errorf("token_type/expires_in: %v, want lifespan %d", f, life)
					}
					req, _ := http.NewRequest("GET", e.url("/protocol/openid-connect/userinfo"), nil)
					req.Header.Set("Authorization", "Bearer "+access)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("userinfo with the fragment's access token: %d", resp.StatusCode)
					}
				}
				raw := f.Get("id_token")
				if (raw != "") != slices.Contains(types, "id_token") {
					t.Fatalf("id_token present %v for %q", raw != "", rt)
				}
				if raw != "" {
					idt, err := verifier.Verify(ctx, raw)
					if err != nil {
						t.Fatalf("go-oidc refuses the ID token: %v", err)
					}
					if idt.Nonce != nonce {
						t.Errorf("nonce %q, want %q", idt.Nonce, nonce)
					}
					var claims struct {
						AtHash string `json:"at_hash"`
						CHash  string `json:"c_hash"`
					}
					if err := idt.Claims(&claims); err != nil {
						t.Fatal(err)
					}
					if access != "" {
						if err := idt.VerifyAccessToken(access); err != nil {
							t.Errorf("at_hash: %v", err)
						}
					} else if claims.AtHash != "" {
						t.Errorf("at_hash %q without an access token", claims.AtHash)
					}
					if code := f.Get("code"); code != "" {
						if claims.CHash != halfHashS256(code) {
							t.Errorf("c_hash %q, want %q", claims.CHash, halfHashS256(code))
						}
					} else if claims.CHash != "" {
						t.Errorf("c_hash %q without a code", claims.CHash)
					}
				}
				if code := f.Get("code"); code != "" {
					// The hybrid flow's code is redeemed as any other.
					if st := e.redeem(t, "imp", "imp-secret", "https://imp.example/cb", code); st != http.StatusOK {
						t.Errorf("redeeming the hybrid code: %d", st)
					}
				}
			})
		}

		t.Run("implicit flow switched off during the login", func(t *testing.T) {
			b := e.browser()
			page := b.get(e.authURL(map[string]string{"client_id": "imp", "redirect_uri": "https://imp.example/cb",
				"response_type": "id_token token", "scope": "openid", "state": "st-3", "nonce": "n-3"}))
			imp := e.client("imp")
			if err := e.db.UpdateClient(ctx, e.realm.ID, imp.ID, func(c *client.Client) error { c.ImplicitFlowEnabled = false; return nil }); err != nil {
				t.Fatal(err)
			}
			defer e.db.UpdateClient(ctx, e.realm.ID, imp.ID, func(c *client.Client) error { c.ImplicitFlowEnabled = true; return nil })
			loc := e.login(b, page, "alice", alicePassword).location(t)
			f, _ := url.ParseQuery(loc.Fragment)
			if f.Get("error") != "unauthorized_client" || f.Has("access_token") || f.Has("id_token") || f.Get("state") != "st-3" {
				t.Errorf("got %s", loc)
			}
		})

		t.Run("refusals", func(t *testing.T) {
			for _, c := range []struct {
				name, clientID, redirect, rt, nonce, mode, code, desc string
			}{
				{"client without the implicit flow", "app", "https://app.example/cb", "id_token token", "n", "", "unauthorized_client",
					"Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client."},
				{"no nonce", "imp", "https://imp.example/cb", "id_token", "", "", "invalid_request", "Missing parameter: nonce"},
				{"tokens in the query", "imp", "https://imp.example/cb", "token", "n", "query", "invalid_request",
					"Response_mode 'query' not allowed for implicit or hybrid flow"},
			} {
				t.Run(c.name, func(t *testing.T) {
					p := map[string]string{"client_id": c.clientID, "redirect_uri": c.redirect, "response_type": c.rt,
						"scope": "openid", "state": "st-2"}
					if c.nonce != "" {
						p["nonce"] = c.nonce
					}
					if c.mode != "" {
						p["response_mode"] = c.mode
					}
					res := e.browser().get(e.authURL(p))
					loc := res.location(t)
					params := loc.Query()
					if loc.Fragment != "" {
						params, _ = url.ParseQuery(loc.Fragment)
					}
					if params.Get("error") != c.code || params.Get("error_description") != c.desc || params.Get("state") != "st-2" {
						t.Errorf("got %s", loc)
					}
				})
			}
		})
	})
}
