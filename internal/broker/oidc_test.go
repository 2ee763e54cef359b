package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
)

// upstream is a minimal provider over real HTTP: a JWKS with one RSA key,
// and a token endpoint that hands out whatever ID token the test set.
type upstream struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	idToken string
	form    url.Values
	header  http.Header
}

const secret = "s3cret-s3cret-s3cret-s3cret-s3cret"

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{key: k}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "RS256"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		u.form, u.header = r.PostForm, r.Header
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": u.idToken})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at" {
			w.WriteHeader(401)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sub": "up-1", "email": "ann@example.org", "given_name": "Ann"})
	})
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) provider(now time.Time) *OIDC {
	out := outbound.New(outbound.Options{AllowPrivate: true})
	return &OIDC{Alias: "up", Now: now, Out: out, Keys: clientkeys.New(out), Config: map[string]string{
		CfgAuthorizationURL: u.srv.URL + "/auth", CfgTokenURL: u.srv.URL + "/token", CfgJWKSURL: u.srv.URL + "/jwks",
		CfgUserInfoURL: u.srv.URL + "/userinfo", CfgIssuer: "https://up.example", CfgClientID: "gh", CfgClientSecret: secret,
		CfgUseJWKSURL: "true", CfgValidateSignature: "true",
	}}
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// unsigned builds an "alg":"none" token, which no JOSE library signs.
func unsigned(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func TestLoginValidatesTheIDToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	up := newUpstream(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := func() map[string]any {
		return map[string]any{"iss": "https://up.example", "aud": "gh", "sub": "up-1", "nonce": "n1",
			"exp": now.Unix() + 300, "iat": now.Unix(), "preferred_username": "ann"}
	}
	with := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	cases := []struct {
		name   string
		token  func() string
		config map[string]string
		want   error
	}{
		{"a token signed with the upstream's key passes", func() string { return sign(t, "RS256", up.key, "k1", good()) }, nil, nil},
		{"a token signed by another key is refused", func() string { return sign(t, "RS256", other, "k1", good()) }, nil, ErrIDToken},
		{"a token whose kid names no upstream key is refused", func() string { return sign(t, "RS256", other, "k9", good()) }, nil, ErrIDToken},
		{"alg none is refused", func() string { return unsigned(good()) }, nil, ErrIDToken},
		{"HS256 MACed with the client secret is refused unless pinned", func() string { return sign(t, "HS256", []byte(secret), "", good()) }, nil, ErrIDToken},
		{"HS256 passes when pinned", func() string { return sign(t, "HS256", []byte(secret), "", good()) },
			map[string]string{CfgSignatureAlgorithm: "HS256"}, nil},
		{"HS256 over the public key's bytes is refused", func() string {
			return sign(t, "HS256", []byte(base64.StdEncoding.EncodeToString(up.key.PublicKey.N.Bytes())), "k1", good())
		}, nil, ErrIDToken},
		{"a pinned RS256 refuses ES256", func() string { return sign(t, "ES256", ec, "k1", good()) },
			map[string]string{CfgSignatureAlgorithm: "RS256"}, ErrIDToken},
		{"wrong issuer is refused", func() string { return sign(t, "RS256", up.key, "k1", with("iss", "https://evil.example")) }, nil, ErrIDToken},
		{"wrong audience is refused", func() string { return sign(t, "RS256", up.key, "k1", with("aud", "other")) }, nil, ErrIDToken},
		{"several audiences need azp", func() string { return sign(t, "RS256", up.key, "k1", with("aud", []string{"gh", "other"})) }, nil, ErrIDToken},
		{"wrong nonce is refused", func() string { return sign(t, "RS256", up.key, "k1", with("nonce", "n2")) }, nil, ErrIDToken},
		{"missing nonce is refused", func() string { c := good(); delete(c, "nonce"); return sign(t, "RS256", up.key, "k1", c) }, nil, ErrIDToken},
		{"an expired token is refused", func() string { return sign(t, "RS256", up.key, "k1", with("exp", now.Unix()-1)) }, nil, ErrIDToken},
		{"expiry within the allowed skew passes", func() string { return sign(t, "RS256", up.key, "k1", with("exp", now.Unix()-5)) },
			map[string]string{CfgClockSkew: "10"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := up.provider(now)
			for k, v := range tc.config {
				p.Config[k] = v
			}
			up.idToken = tc.token()
			id, err := p.Login(context.Background(), "code", "https://gh.example/cb", "", "n1")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				if id.ID != "up-1" || id.Username != "ann" || id.Email != "ann@example.org" || id.FirstName != "Ann" {
					t.Fatalf("identity = %+v", id)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	up := newUpstream(t)
	up.idToken = sign(t, "RS256", up.key, "k1", map[string]any{"iss": "https://up.example", "aud": "gh", "sub": "up-1", "exp": now.Unix() + 60})
	for _, method := range []string{AuthSecretPost, AuthSecretBasic, AuthSecretJWT} {
		t.Run(method, func(t *testing.T) {
			p := up.provider(now)
			p.Config[CfgClientAuthMethod] = method
			if _, err := p.Exchange(context.Background(), "c", "https://gh.example/cb", "ver"); err != nil {
				t.Fatal(err)
			}
			if up.form.Get("code_verifier") != "ver" {
				t.Errorf("code_verifier not sent")
			}
			switch method {
			case AuthSecretPost:
				if up.form.Get("client_secret") != secret || up.form.Get("client_id") != "gh" {
					t.Errorf("form = %v", up.form)
				}
			case AuthSecretBasic:
				if up.header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("gh:"+secret+"")) || up.form.Has("client_secret") {
					t.Errorf("basic auth not sent as such")
				}
			case AuthSecretJWT:
				a := up.form.Get("client_assertion")
				jws, err := jose.ParseSignedCompact(a, []jose.SignatureAlgorithm{"HS256"})
				if err != nil {
					t.Fatal(err)
				}
				b, err := jws.Verify([]byte(secret))
				if err != nil {
					t.Fatal(err)
				}
				var c map[string]any
				json.Unmarshal(b, &c)
				if c["aud"] != up.srv.URL+"/token" || c["iss"] != "gh" || c["sub"] != "gh" || up.form.Has("client_secret") {
					t.Errorf("assertion claims = %v", c)
				}
			}
		})
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	up := newUpstream(t)
	ks, err := keys.Defaults("demo", now)
	if err != nil {
		t.Fatal(err)
	}
	p := up.provider(now)
	p.Config[CfgClientAuthMethod], p.RealmKeys = AuthPrivateJWT, ks
	up.idToken = "x"
	if _, err := p.Exchange(context.Background(), "c", "https://gh.example/cb", ""); err != nil {
		t.Fatal(err)
	}
	k, _ := keys.Active(ks, keys.RS256)
	signer, _ := k.Signer()
	jws, err := jose.ParseSignedCompact(up.form.Get("client_assertion"), []jose.SignatureAlgorithm{"RS256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(signer.Public()); err != nil || jws.Signatures[0].Protected.KeyID != k.Kid {
		t.Fatalf("assertion not signed with the realm's RS256 key: %v", err)
	}
	if up.form.Has("client_secret") || up.form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Fatalf("form = %v", up.form)
	}
	p.RealmKeys = nil
	if _, err := p.Exchange(context.Background(), "c", "https://gh.example/cb", ""); !errors.Is(err, ErrConfig) {
		t.Fatalf("no realm key: %v", err)
	}
}

func TestAuthURL(t *testing.T) {
	up := newUpstream(t)
	p := up.provider(time.Unix(0, 0))
	p.Config[CfgPKCEEnabled] = "true"
	pend := NewPending("up", true)
	raw, err := p.AuthURL(AuthRequest{RedirectURI: "https://gh.example/cb", State: pend.State("login1"), Nonce: pend.Nonce,
		Verifier: pend.Verifier, ACRValues: "gold", Prompt: "login"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if q.Get("code_challenge") != Challenge(pend.Verifier, "S256") || q.Get("code_challenge_method") != "S256" ||
		q.Get("nonce") != pend.Nonce || q.Get("scope") != "openid" || q.Get("acr_values") != "gold" || q.Get("prompt") != "login" {
		t.Fatalf("query = %v", q)
	}
	login, sec, err := SplitState(q.Get("state"))
	if err != nil || login != "login1" || pend.Check("up", sec) != nil {
		t.Fatalf("state %q does not round-trip", q.Get("state"))
	}
	if pend.Check("other", sec) == nil || pend.Check("up", sec+"x") == nil || (Pending{}).Check("up", "") == nil {
		t.Fatal("a state for another provider, a forged secret or a spent request passes")
	}
	if strings.Contains(raw, secret) {
		t.Fatal("the client secret leaks into the authorization URL")
	}
}
