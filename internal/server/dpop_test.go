package server_test

// DPoP (RFC 9449) over HTTP: tokens bound at the token endpoint, used at
// userinfo, introspection and the account API, and every refusal of a proof,
// with two server processes sharing one database so a replayed proof is
// caught whichever node sees it.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

const (
	dpSecret   = "dp-secret"
	dpPassword = "dp-Right-pw-9"
	dpRealm    = "/realms/dp"
	dpOIDC     = dpRealm + "/protocol/openid-connect"
	dpHost     = "https://id.example"
)

// twoNodes opens the same database twice, as two nodes would: one SQLite
// file, or one PostgreSQL schema.
func twoNodes(t *testing.T, kind string) [2]*store.DB {
	var dsn string
	var driver store.Dialect
	if kind == "sqlite" {
		driver, dsn = store.SQLite, filepath.Join(t.TempDir(), "gatehouse.db")
	} else {
		driver, dsn = store.Postgres, storetest.PostgresURL(t)
	}
	var out [2]*store.DB
	for i := range out {
		db, err := store.Open(context.Background(), driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out[i] = db
	}
	return out
}

// dpKey is a client's DPoP key pair, making proofs.
type dpKey struct {
	priv *ecdsa.PrivateKey
	jwk  jose.JSONWebKey
}

func newDPKey(t *testing.T) dpKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dpKey{priv: priv, jwk: jose.JSONWebKey{Key: &priv.PublicKey}}
}

func (k dpKey) thumbprint(t *testing.T) string {
	tp, err := k.jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// proofClaims are what a proof says; iat is epoch seconds.
type proofClaims struct {
	Jti string `json:"jti"`
	Htm string `json:"htm"`
	Htu string `json:"htu"`
	Iat int64  `json:"iat"`
	Ath string `json:"ath,omitempty"`
}

// proof signs c with ES256 and the public key in the jwk header.
func (k dpKey) proof(t *testing.T, c proofClaims) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, s, c)
}

func sign(t *testing.T, s jose.Signer, c proofClaims) string {
	t.Helper()
	b, _ := json.Marshal(c)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ath(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// dpEnv is realm "dp" served by two nodes over one database.
type dpEnv struct {
	t    *testing.T
	srvs [2]*httptest.Server
	now  time.Time
	// hdr is the last answer's header.
	hdr http.Header
}

func newDPEnv(t *testing.T, kind string) *dpEnv {
	t.Helper()
	ctx := context.Background()
	dbs := twoNodes(t, kind)
	db := dbs[0]
	now := time.Now().Truncate(time.Second)
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", now); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), "dp")
	if err := provision.NewRealm(ctx, db, rl, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []client.Client{
		func() client.Client { // confidential, service account
			c := client.New(store.NewID(), rl.ID, "svc")
			c.Secret, c.ServiceAccountsEnabled = dpSecret, true
			return c
		}(),
		func() client.Client { // public, password grant
			c := client.New(store.NewID(), rl.ID, "pub")
			c.PublicClient, c.DirectAccessGrantsEnabled = true, true
			return c
		}(),
		func() client.Client { // requires DPoP
			c := client.New(store.NewID(), rl.ID, "strict")
			c.Secret, c.ServiceAccountsEnabled = dpSecret, true
			c.Attributes = map[string]string{"dpop.bound.access.tokens": "true"}
			return c
		}(),
	} {
		if err := provision.CreateClient(ctx, db, c, now); err != nil {
			t.Fatal(err)
		}
	}
	ann := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "ann", Email: "ann@example.com", Enabled: true,
		CreatedTimestamp: now.UnixMilli()}
	if err := db.CreateUser(ctx, ann); err != nil {
		t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), ann.ID, dpPassword, now.UnixMilli(), user.HashPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReplacePassword(ctx, cred); err != nil {
		t.Fatal(err)
	}
	// The default roles give ann the account client's roles, so her token
	// carries the audience the account API wants.
	stored, err := db.GetRealmByName(ctx, "dp")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUserRoles(ctx, ann.ID, stored.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	host, err := web.ParseHostname(dpHost)
	if err != nil {
		t.Fatal(err)
	}
	e := &dpEnv{t: t, now: now}
	for i, d := range dbs {
		e.srvs[i] = httptest.NewServer(server.New(server.Options{Store: d, Now: func() time.Time { return now },
			URLs: web.URLs{Hostname: host}, Log: slog.New(slog.DiscardHandler)}))
		t.Cleanup(e.srvs[i].Close)
	}
	return e
}

// do sends a request to node i and decodes a JSON answer.
func (e *dpEnv) do(i int, method, path string, form url.Values, header map[string]string) (int, map[string]any) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.srvs[i].URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	e.hdr = resp.Header
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// dpopAlgs is what a DPoP challenge names: the algorithms a proof may use,
// as discovery's dpop_signing_alg_values_supported lists them.
var dpopAlgs = strings.Join(keys.AsymmetricAlgorithms, " ")

// wantChallenge checks the last answer's WWW-Authenticate: the DPoP scheme
// with the proof algorithms, realm dp, error code and description (RFC
// 9449 §7.1), or, with scheme "Bearer", RFC 6750's challenge.
func (e *dpEnv) wantChallenge(what, scheme, code, desc string) {
	e.t.Helper()
	got := e.hdr.Get("WWW-Authenticate")
	want := `Bearer realm="dp", error="` + code + `", error_description="` + desc + `"`
	if scheme == "DPoP" {
		want = `DPoP algs="` + dpopAlgs + `", realm="dp", error="` + code + `", error_description="` + desc + `"`
	}
	if got != want {
		e.t.Errorf("%s: WWW-Authenticate %q, want %q", what, got, want)
	}
}

// url is the public URL of path, the same on both nodes: behind one
// hostname, as nodes sharing a database are.
func (e *dpEnv) url(_ int, path string) string { return dpHost + path }

// claims decodes a JWT's payload without checking it.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func TestDPoPBindsAndChecksTokens(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { testDPoP(t, kind) })
	}
}

func testDPoP(t *testing.T, kind string) {
	e := newDPEnv(t, kind)
	key := newDPKey(t)
	tokenURL := e.url(0, dpOIDC+"/token")
	cc := url.Values{"grant_type": {"client_credentials"}}
	svc := basic("svc", dpSecret)
	fresh := func(htm, htu string) proofClaims {
		return proofClaims{Jti: rand.Text(), Htm: htm, Htu: htu, Iat: e.now.Unix()}
	}

	// A proof binds the access token to its key.
	first := key.proof(t, fresh("POST", tokenURL))
	st, resp := e.do(0, "POST", dpOIDC+"/token", cc, map[string]string{"Authorization": svc, "DPoP": first})
	if st != 200 || resp["token_type"] != "DPoP" {
		t.Fatalf("token with proof: %d %v", st, resp)
	}
	access := resp["access_token"].(string)
	ac := claims(t, access)
	if cnf, _ := ac["cnf"].(map[string]any); ac["typ"] != "DPoP" || cnf["jkt"] != key.thumbprint(t) {
		t.Fatalf("access token not bound to the proof key: typ %v cnf %v", ac["typ"], ac["cnf"])
	}

	// Without a proof the token is a Bearer one, unbound.
	st, resp = e.do(0, "POST", dpOIDC+"/token", cc, map[string]string{"Authorization": svc})
	if st != 200 || resp["token_type"] != "Bearer" || claims(t, resp["access_token"].(string))["cnf"] != nil {
		t.Fatalf("token without proof: %d %v", st, resp)
	}
	unbound := resp["access_token"].(string)

	refusals := []struct {
		name   string
		node   int
		header map[string]string
		want   string
	}{
		{"a replayed proof is refused by the node that saw it", 0, map[string]string{"DPoP": first}, "DPoP proof has already been used"},
		{"a replayed proof is refused by another node on the same database", 1, map[string]string{"DPoP": first}, "DPoP proof has already been used"},
		{"a proof for another URL", 0, map[string]string{"DPoP": key.proof(t, fresh("POST", e.url(0, dpOIDC+"/userinfo")))}, "DPoP HTTP URL mismatch"},
		{"a proof for another method", 0, map[string]string{"DPoP": key.proof(t, fresh("GET", tokenURL))}, "DPoP HTTP method mismatch"},
		{"a stale proof", 0, map[string]string{"DPoP": key.proof(t, proofClaims{Jti: rand.Text(), Htm: "POST", Htu: tokenURL, Iat: e.now.Unix() - 26})}, "DPoP proof is not active"},
		{"a proof from the future", 0, map[string]string{"DPoP": key.proof(t, proofClaims{Jti: rand.Text(), Htm: "POST", Htu: tokenURL, Iat: e.now.Unix() + 16})}, "DPoP proof is not active"},
		{"a proof signed with a shared secret", 0, map[string]string{"DPoP": hmacProof(t, key, fresh("POST", tokenURL))}, "Unsupported DPoP algorithm: HS256"},
		{"a proof with a private key in its header", 0, map[string]string{"DPoP": privateJWKProof(t, key, fresh("POST", tokenURL))}, "Private key is present in DPoP header"},
		{"a proof that is not a dpop+jwt", 0, map[string]string{"DPoP": jwtTypedProof(t, key, fresh("POST", tokenURL))}, "Invalid or missing type in DPoP header: JWT"},
	}
	for _, tc := range refusals {
		h := map[string]string{"Authorization": svc}
		for k, v := range tc.header {
			h[k] = v
		}
		st, resp := e.do(tc.node, "POST", dpOIDC+"/token", cc, h)
		if st != 400 || resp["error"] != "invalid_dpop_proof" || resp["error_description"] != tc.want {
			t.Errorf("%s: got %d %v %v, want 400 invalid_dpop_proof %q", tc.name, st, resp["error"], resp["error_description"], tc.want)
		}
	}

	// A client that requires DPoP gets no token without a proof.
	st, resp = e.do(0, "POST", dpOIDC+"/token", cc, map[string]string{"Authorization": basic("strict", dpSecret)})
	if st != 400 || resp["error"] != "invalid_dpop_proof" || resp["error_description"] != "DPoP proof is missing" {
		t.Errorf("strict client without proof: %d %v", st, resp)
	}

	// htu is compared without query and fragment (RFC 9449 §4.3).
	st, resp = e.do(0, "POST", dpOIDC+"/token", cc, map[string]string{"Authorization": svc, "DPoP": key.proof(t, fresh("POST", tokenURL+"?x=1#f"))})
	if st != 200 || resp["token_type"] != "DPoP" {
		t.Errorf("proof whose htu has a query: %d %v", st, resp)
	}

	// Userinfo: the bound token with a proof by its key, for this request.
	userinfo := dpOIDC + "/userinfo"
	uiProof := func(node int, k dpKey, tok string) string {
		c := fresh("GET", e.url(node, userinfo))
		c.Ath = ath(tok)
		return k.proof(t, c)
	}
	p := uiProof(0, key, access)
	if st, resp := e.do(0, "GET", userinfo, nil, map[string]string{"Authorization": "DPoP " + access, "DPoP": p}); st != 200 || resp["sub"] == nil {
		t.Fatalf("userinfo with a DPoP token: %d %v", st, resp)
	}
	other := newDPKey(t)
	for _, tc := range []struct {
		name         string
		node         int
		header       map[string]string
		scheme, code string
		desc         string
	}{
		{"the same userinfo proof again, on another node", 1, map[string]string{"Authorization": "DPoP " + access, "DPoP": p},
			"DPoP", "invalid_dpop_proof", "DPoP proof has already been used"},
		{"a bound token as Bearer", 0, map[string]string{"Authorization": "Bearer " + access},
			"DPoP", "invalid_token", "DPoP-bound token presented as Bearer"},
		{"a bound token without a proof", 0, map[string]string{"Authorization": "DPoP " + access},
			"DPoP", "invalid_dpop_proof", "DPoP proof is missing"},
		{"a proof by a key the token is not bound to", 0, map[string]string{"Authorization": "DPoP " + access, "DPoP": uiProof(0, other, access)},
			"DPoP", "invalid_dpop_proof", "DPoP confirmation doesn't match DPoP proof"},
		{"a proof for another access token", 0, map[string]string{"Authorization": "DPoP " + access, "DPoP": uiProof(0, key, unbound)},
			"DPoP", "invalid_dpop_proof", "DPoP proof access token hash mismatch"},
		{"a proof without ath", 0, map[string]string{"Authorization": "DPoP " + access, "DPoP": key.proof(t, fresh("GET", e.url(0, userinfo)))},
			"DPoP", "invalid_dpop_proof", "No access token hash in DPoP proof"},
		{"an unbound token under the DPoP scheme", 0, map[string]string{"Authorization": "DPoP " + unbound, "DPoP": uiProof(0, key, unbound)},
			"DPoP", "invalid_token", "Token is not bound to a DPoP key"},
		{"a garbage token under the DPoP scheme", 0, map[string]string{"Authorization": "DPoP garbage", "DPoP": uiProof(0, key, "garbage")},
			"DPoP", "invalid_token", "Token verification failed"},
		{"a garbage Bearer token", 0, map[string]string{"Authorization": "Bearer garbage"},
			"Bearer", "invalid_token", "Token verification failed"},
	} {
		if st, resp := e.do(tc.node, "GET", userinfo, nil, tc.header); st != 401 || resp["error"] != tc.code || resp["error_description"] != tc.desc {
			t.Errorf("userinfo, %s: %d %v, want 401 %s %q", tc.name, st, resp, tc.code, tc.desc)
		}
		e.wantChallenge("userinfo, "+tc.name, tc.scheme, tc.code, tc.desc)
	}
	if st, _ := e.do(0, "GET", userinfo, nil, map[string]string{"Authorization": "Bearer " + unbound}); st != 200 {
		t.Errorf("userinfo with an unbound Bearer token: %d", st)
	}

	// Introspection reports the binding.
	st, resp = e.do(0, "POST", dpOIDC+"/token/introspect", url.Values{"token": {access}}, map[string]string{"Authorization": svc})
	if cnf, _ := resp["cnf"].(map[string]any); st != 200 || resp["active"] != true || resp["token_type"] != "DPoP" || cnf["jkt"] != key.thumbprint(t) {
		t.Errorf("introspection of a DPoP token: %d %v", st, resp)
	}

	// A bound token is revoked like a Bearer one.
	if st, _ := e.do(0, "POST", dpOIDC+"/revoke", url.Values{"token": {access}}, map[string]string{"Authorization": svc}); st != 200 {
		t.Errorf("revoking a DPoP token: %d", st)
	}
	if st, resp := e.do(1, "POST", dpOIDC+"/token/introspect", url.Values{"token": {access}}, map[string]string{"Authorization": svc}); st != 200 || resp["active"] != false {
		t.Errorf("introspection of a revoked DPoP token: %d %v", st, resp["active"])
	}

	// A public client's refresh token is bound too.
	pw := url.Values{"grant_type": {"password"}, "client_id": {"pub"}, "username": {"ann"}, "password": {dpPassword}}
	st, resp = e.do(0, "POST", dpOIDC+"/token", pw, map[string]string{"DPoP": key.proof(t, fresh("POST", tokenURL))})
	if st != 200 || resp["token_type"] != "DPoP" {
		t.Fatalf("password grant with proof: %d %v", st, resp)
	}
	refresh := resp["refresh_token"].(string)
	if cnf, _ := claims(t, refresh)["cnf"].(map[string]any); cnf["jkt"] != key.thumbprint(t) {
		t.Fatalf("public client's refresh token not bound: %v", claims(t, refresh)["cnf"])
	}
	pubAccess := resp["access_token"].(string)
	rf := url.Values{"grant_type": {"refresh_token"}, "client_id": {"pub"}, "refresh_token": {refresh}}
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"refresh without a proof", nil, "DPoP proof is missing"},
		{"refresh with another key's proof", map[string]string{"DPoP": other.proof(t, fresh("POST", tokenURL))}, "DPoP confirmation doesn't match DPoP proof"},
	} {
		if st, resp := e.do(0, "POST", dpOIDC+"/token", rf, tc.header); st != 400 || resp["error"] != "invalid_grant" || resp["error_description"] != tc.want {
			t.Errorf("%s: %d %v, want 400 invalid_grant %q", tc.name, st, resp, tc.want)
		}
	}
	st, resp = e.do(1, "POST", dpOIDC+"/token", rf, map[string]string{"DPoP": key.proof(t, fresh("POST", e.url(1, dpOIDC+"/token")))})
	if st != 200 || resp["token_type"] != "DPoP" {
		t.Errorf("refresh with the bound key's proof: %d %v", st, resp)
	}

	// The account API checks the binding through the same bearer check.
	account := dpRealm + "/account/"
	ap := fresh("GET", e.url(0, account))
	ap.Ath = ath(pubAccess)
	if st, resp := e.do(0, "GET", account, nil, map[string]string{"Authorization": "DPoP " + pubAccess, "DPoP": key.proof(t, ap), "Accept": "application/json"}); st != 200 {
		t.Errorf("account API with a DPoP token: %d %v", st, resp)
	}
	if st, _ := e.do(0, "GET", account, nil, map[string]string{"Authorization": "Bearer " + pubAccess, "Accept": "application/json"}); st != 401 {
		t.Errorf("account API with a bound token as Bearer: %d, want 401", st)
	}
	e.wantChallenge("account API, bound token as Bearer", "DPoP", "invalid_token", "DPoP-bound token presented as Bearer")
	if st, _ := e.do(0, "GET", account, nil, map[string]string{"Authorization": "DPoP " + pubAccess, "Accept": "application/json"}); st != 401 {
		t.Errorf("account API with a bound token and no proof: %d, want 401", st)
	}
	e.wantChallenge("account API, no proof", "DPoP", "invalid_dpop_proof", "DPoP proof is missing")

	// So does the admin API, for the master administrator's bound token.
	masterToken := "/realms/master/protocol/openid-connect/token"
	st, resp = e.do(0, "POST", masterToken, url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {"admin-pw"}},
		map[string]string{"DPoP": key.proof(t, fresh("POST", e.url(0, masterToken)))})
	if st != 200 || resp["token_type"] != "DPoP" {
		t.Fatalf("admin-cli token with proof: %d %v", st, resp["error_description"])
	}
	adminAccess := resp["access_token"].(string)
	adm := fresh("GET", e.url(0, "/admin/realms/dp"))
	adm.Ath = ath(adminAccess)
	if st, _ := e.do(1, "GET", "/admin/realms/dp", nil, map[string]string{"Authorization": "DPoP " + adminAccess, "DPoP": key.proof(t, adm)}); st != 200 {
		t.Errorf("admin API with a DPoP token: %d", st)
	}
	for name, tc := range map[string]struct {
		h          map[string]string
		code, desc string
	}{
		"as Bearer":             {map[string]string{"Authorization": "Bearer " + adminAccess}, "invalid_token", "DPoP-bound token presented as Bearer"},
		"with a replayed proof": {map[string]string{"Authorization": "DPoP " + adminAccess, "DPoP": key.proof(t, adm)}, "invalid_dpop_proof", "DPoP proof has already been used"},
		"with another key's proof": {map[string]string{"Authorization": "DPoP " + adminAccess, "DPoP": other.proof(t, func() proofClaims {
			c := fresh("GET", e.url(0, "/admin/realms/dp"))
			c.Ath = ath(adminAccess)
			return c
		}())}, "invalid_dpop_proof", "DPoP confirmation doesn't match DPoP proof"},
	} {
		if st, _ := e.do(0, "GET", "/admin/realms/dp", nil, tc.h); st != 401 {
			t.Errorf("admin API, bound token %s: %d, want 401", name, st)
		}
		got := e.hdr.Get("WWW-Authenticate")
		if want := `DPoP algs="` + dpopAlgs + `", realm="master", error="` + tc.code + `", error_description="` + tc.desc + `"`; got != want {
			t.Errorf("admin API, bound token %s: WWW-Authenticate %q, want %q", name, got, want)
		}
	}
}

// hmacProof signs c with HS256, the jwk header still naming k's public key.
func hmacProof(t *testing.T, k dpKey, c proofClaims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
		(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", k.jwk))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, s, c)
}

// privateJWKProof puts the private key itself in the jwk header.
func privateJWKProof(t *testing.T, k dpKey, c proofClaims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
		(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: k.priv}))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, s, c)
}

// jwtTypedProof is a proof typed as a plain JWT.
func jwtTypedProof(t *testing.T, k dpKey, c proofClaims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, s, c)
}
