package admin_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
)

// jwtClaims decodes a compact JWT's payload without checking it.
func jwtClaims(t *testing.T, raw string) map[string]any {
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

func TestEvaluateScopes(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "ev")
		cid := e.create("/clients", map[string]any{"clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true,
			"protocolMappers": []map[string]any{{"name": "team", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
				"config": map[string]string{"claim.name": "team", "claim.value": "blue", "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true"}}}})
		e.create("/clients/"+cid+"/roles", map[string]any{"name": "reader"})
		e.create("/roles", map[string]any{"name": "clerk"})
		uid := e.create("/users", map[string]any{"username": "ann", "enabled": true, "email": "ann@example.com", "firstName": "Ann", "lastName": "Lee",
			"emailVerified": true, "credentials": []map[string]any{{"type": "password", "value": "ann-pw", "temporary": false}}})
		var clerk map[string]any
		s.get(e.path("/roles/clerk"), e.tok, &clerk)
		e.want("POST", "/users/"+uid+"/role-mappings/realm", e.tok, []any{clerk}, 204, "")

		// The mappers: the client's own first, then each default scope's.
		ms := e.list("/clients/"+cid+"/evaluate-scopes/protocol-mappers?scope=openid", e.tok)
		if len(ms) < 2 || ms[0]["mapperName"] != "team" || ms[0]["containerType"] != "client" || ms[0]["containerName"] != "" {
			t.Fatalf("protocol-mappers: %v", ms)
		}
		scopes := map[string]bool{}
		for _, m := range ms[1:] {
			if m["containerType"] != "client-scope" {
				t.Fatalf("mapper %v", m)
			}
			scopes[m["containerName"].(string)] = true
		}
		if !scopes["profile"] || !scopes["roles"] || scopes["address"] {
			t.Fatalf("scopes of the default mappers: %v", scopes)
		}
		// An optional scope the parameter names adds its mappers.
		ms = e.list("/clients/"+cid+"/evaluate-scopes/protocol-mappers?scope=openid%20address", e.tok)
		if !slices.ContainsFunc(ms, func(m map[string]any) bool { return m["containerName"] == "address" }) {
			t.Fatalf("address not evaluated: %v", ms)
		}

		// The example access token carries what a real one does.
		q := "?scope=openid&userId=" + uid
		example := e.obj("/clients/" + cid + "/evaluate-scopes/generate-example-access-token" + q)
		form := url.Values{"grant_type": {"password"}, "client_id": {"app"}, "username": {"ann"}, "password": {"ann-pw"}, "scope": {"openid"}}
		resp, err := http.PostForm(s.URL+"/realms/ev/protocol/openid-connect/token", form)
		if err != nil {
			t.Fatal(err)
		}
		var tr map[string]any
		json.NewDecoder(resp.Body).Decode(&tr)
		resp.Body.Close()
		real := jwtClaims(t, tr["access_token"].(string))
		for _, k := range []string{"iat", "exp", "jti", "sid", "auth_time"} {
			delete(real, k)
			delete(example, k)
		}
		rj, _ := json.Marshal(real)
		ej, _ := json.Marshal(example)
		if string(rj) != string(ej) {
			t.Fatalf("example access token differs from a real one:\nexample %s\nreal    %s", ej, rj)
		}
		if example["team"] != "blue" || !strings.Contains(string(ej), `"clerk"`) {
			t.Fatalf("example lacks the mapper or role: %s", ej)
		}
		idt := e.obj("/clients/" + cid + "/evaluate-scopes/generate-example-id-token" + q)
		if idt["typ"] != "ID" || idt["aud"] != "app" || idt["email"] != "ann@example.com" {
			t.Fatalf("example id token: %v", idt)
		}
		ui := e.obj("/clients/" + cid + "/evaluate-scopes/generate-example-userinfo" + q)
		if ui["sub"] != uid || ui["team"] != "blue" || ui["typ"] != nil {
			t.Fatalf("example userinfo: %v", ui)
		}
		e.want("GET", "/clients/"+cid+"/evaluate-scopes/generate-example-access-token", e.tok, nil, 404, `{"error":"No userId provided"}`)
		e.want("GET", "/clients/"+cid+"/evaluate-scopes/generate-example-access-token?userId=nobody", e.tok, nil, 404, `{"error":"No user found"}`)
		e.want("GET", "/clients/nope/evaluate-scopes/protocol-mappers", e.tok, nil, 404, `{"error":"Could not find client"}`)

		// Role scope: with full scope every realm role is granted; without,
		// none is and the client's own roles still are.
		names := func(p string) []string { return crgField(e.list(p, e.tok), "name") }
		ev := "/clients/" + cid + "/evaluate-scopes/scope-mappings/"
		if g := names(ev + "ev/granted"); !slices.Contains(g, "clerk") {
			t.Fatalf("granted with full scope: %v", g)
		}
		if ng := names(ev + "ev/not-granted"); len(ng) != 0 {
			t.Fatalf("not granted with full scope: %v", ng)
		}
		e.want("PUT", "/clients/"+cid, e.tok, map[string]any{"fullScopeAllowed": false}, 204, "")
		if g := names(ev + "ev/granted"); len(g) != 0 {
			t.Fatalf("granted without full scope: %v", g)
		}
		if ng := names(ev + "ev/not-granted"); !slices.Contains(ng, "clerk") {
			t.Fatalf("not granted without full scope: %v", ng)
		}
		if g := names(ev + cid + "/granted"); !slices.Equal(g, []string{"reader"}) {
			t.Fatalf("client's own roles: %v", g)
		}
		e.want("GET", ev+"nowhere/granted", e.tok, nil, 404, `{"error":"Role Container not found"}`)
		example = e.obj("/clients/" + cid + "/evaluate-scopes/generate-example-access-token" + q)
		if _, ok := example["realm_access"]; ok {
			t.Fatalf("realm roles out of scope in the example: %v", example)
		}

		// A scope mapping brings the role back, in the list and the token.
		e.want("POST", "/clients/"+cid+"/scope-mappings/realm", e.tok, []any{clerk}, 204, "")
		if g := names(ev + "ev/granted"); !slices.Equal(g, []string{"clerk"}) {
			t.Fatalf("granted through a scope mapping: %v", g)
		}
		example = e.obj("/clients/" + cid + "/evaluate-scopes/generate-example-access-token" + q)
		if ra, _ := example["realm_access"].(map[string]any); ra == nil || !slices.Contains(ra["roles"].([]any), any("clerk")) {
			t.Fatalf("scope-mapped role not in the example: %v", example["realm_access"])
		}

		// A caller who may not view clients is refused.
		viewer := s.realmAdmin(e.realm, "usr", "view-users")
		e.want("GET", "/clients/"+cid+"/evaluate-scopes/protocol-mappers", viewer, nil, 403, "")
	})
}

func TestClientInstallation(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "inst")
		cid := e.create("/clients", map[string]any{"clientId": "web", "secret": "s3cret", "publicClient": false})
		pid := e.create("/clients", map[string]any{"clientId": "spa", "publicClient": true})
		_, body := e.want("GET", "/clients/"+cid+"/installation/providers/keycloak-oidc-keycloak-json", e.tok, nil, 200, "")
		want := "{\n  \"realm\" : \"inst\",\n  \"auth-server-url\" : \"" + s.URL + "/\",\n  \"ssl-required\" : \"external\",\n" +
			"  \"resource\" : \"web\",\n  \"credentials\" : {\n    \"secret\" : \"s3cret\"\n  },\n  \"confidential-port\" : 0\n}"
		if body != want {
			t.Fatalf("keycloak.json:\n%s\nwant\n%s", body, want)
		}
		var parsed map[string]any
		if err := json.Unmarshal([]byte(body), &parsed); err != nil {
			t.Fatal(err)
		}
		e.create("/clients/"+pid+"/roles", map[string]any{"name": "r"})
		_, body = e.want("GET", "/clients/"+pid+"/installation/providers/keycloak-oidc-keycloak-json", e.tok, nil, 200, "")
		if !strings.Contains(body, `"public-client" : true`) || !strings.Contains(body, `"verify-token-audience" : true`) ||
			!strings.Contains(body, `"use-resource-role-mappings" : true`) || strings.Contains(body, "credentials") {
			t.Fatalf("public client's keycloak.json: %s", body)
		}
		_, body = e.want("GET", "/clients/"+cid+"/installation/providers/keycloak-oidc-jboss-subsystem", e.tok, nil, 200, "")
		wantXML := "<secure-deployment name=\"WAR MODULE NAME.war\">\n    <realm>inst</realm>\n    <auth-server-url>" + s.URL +
			"/</auth-server-url>\n    <ssl-required>EXTERNAL</ssl-required>\n    <resource>web</resource>\n" +
			"    <credential name=\"secret\">s3cret</credential>\n</secure-deployment>\n"
		if body != wantXML {
			t.Fatalf("subsystem xml:\n%s\nwant\n%s", body, wantXML)
		}
		e.want("GET", "/clients/"+cid+"/installation/providers/nope", e.tok, nil, 404, `{"error":"Unknown Provider"}`)
		// The secret is in the file, so a viewer who may not see secrets... sees
		// it as Keycloak shows it to view-clients: refuse those without it.
		e.want("GET", "/clients/"+cid+"/installation/providers/keycloak-oidc-keycloak-json", s.realmAdmin(e.realm, "u2", "view-users"), nil, 403, "")
	})
}

// tokenWithSecret runs client_credentials with a secret and returns the status.
func tokenWithSecret(t *testing.T, s *testServer, realmName, clientID, secret string) int {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	resp, err := http.PostForm(s.URL+"/realms/"+realmName+"/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		t.Logf("token for %s: %d %s", clientID, resp.StatusCode, b.String())
	}
	return resp.StatusCode
}

func TestClientRotatedSecret(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "rot")
		cid := e.create("/clients", map[string]any{"clientId": "svc", "publicClient": false, "secret": "new-secret", "serviceAccountsEnabled": true,
			"attributes": map[string]string{"client.secret.rotated": "old-secret", "client.secret.rotated.expiration.time": "9999999999"}})
		e.want("GET", "/clients/"+cid+"/client-secret/rotated", e.tok, nil, 200, `{"type":"secret","value":"old-secret"}`)
		if st := tokenWithSecret(t, s, "rot", "svc", "old-secret"); st != 200 {
			t.Fatalf("rotated secret before expiry: %d", st)
		}
		if st := tokenWithSecret(t, s, "rot", "svc", "new-secret"); st != 200 {
			t.Fatalf("current secret: %d", st)
		}
		// A viewer sees neither secret in the client's attributes.
		viewer := s.realmAdmin(e.realm, "v", "view-clients")
		var c map[string]any
		s.get(e.path("/clients/"+cid), viewer, &c)
		if strings.Contains(func() string { b, _ := json.Marshal(c); return string(b) }(), "old-secret") {
			t.Fatalf("rotated secret shown to a viewer: %v", c)
		}
		e.want("GET", "/clients/"+cid+"/client-secret/rotated", viewer, nil, 403, "")
		e.want("DELETE", "/clients/"+cid+"/client-secret/rotated", e.tok, nil, 204, "")
		e.want("DELETE", "/clients/"+cid+"/client-secret/rotated", e.tok, nil, 204, "")
		e.want("GET", "/clients/"+cid+"/client-secret/rotated", e.tok, nil, 404, `{"error":"Client does not have a rotated secret"}`)
		if st := tokenWithSecret(t, s, "rot", "svc", "old-secret"); st != 401 {
			t.Fatalf("invalidated rotated secret: %d", st)
		}
		// An expired rotated secret no longer authenticates.
		e.want("PUT", "/clients/"+cid, e.tok, map[string]any{"attributes": map[string]string{
			"client.secret.rotated": "old-secret", "client.secret.rotated.expiration.time": "1000"}}, 204, "")
		if st := tokenWithSecret(t, s, "rot", "svc", "old-secret"); st != 401 {
			t.Fatalf("expired rotated secret: %d", st)
		}
		e.want("GET", "/clients/"+cid+"/client-secret/rotated", e.tok, nil, 404, "")
	})
}

func TestClientActions(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "act")
		cid := e.create("/clients", map[string]any{"clientId": "app", "adminUrl": "https://app.example/admin"})

		// Registration access token: a new one each time, only for managers.
		_, b1 := e.want("POST", "/clients/"+cid+"/registration-access-token", e.tok, nil, 200, "")
		_, b2 := e.want("POST", "/clients/"+cid+"/registration-access-token", e.tok, nil, 200, "")
		var r1, r2 map[string]any
		json.Unmarshal([]byte(b1), &r1)
		json.Unmarshal([]byte(b2), &r2)
		if r1["registrationAccessToken"] == nil || r1["registrationAccessToken"] == r2["registrationAccessToken"] || r1["clientId"] != "app" {
			t.Fatalf("registration access tokens: %v / %v", r1["registrationAccessToken"], r2["registrationAccessToken"])
		}
		viewer := s.realmAdmin(e.realm, "v", "view-clients")
		e.want("POST", "/clients/"+cid+"/registration-access-token", viewer, nil, 403, "")
		e.want("POST", "/clients/nope/registration-access-token", e.tok, nil, 404, "")

		e.want("POST", "/clients/"+cid+"/push-revocation", e.tok, nil, 200, `{"failedRequests":["https://app.example/admin"]}`)

		// Cluster nodes.
		e.want("POST", "/clients/"+cid+"/nodes", e.tok, map[string]string{"node": "10.0.0.7"}, 204, "")
		e.want("POST", "/clients/"+cid+"/nodes", e.tok, map[string]string{}, 400, `{"errorMessage":"Node not found in params"}`)
		c := e.obj("/clients/" + cid)
		if nodes, _ := c["registeredNodes"].(map[string]any); nodes["10.0.0.7"] == nil {
			t.Fatalf("registered nodes: %v", c["registeredNodes"])
		}
		e.want("GET", "/clients/"+cid+"/test-nodes-available", e.tok, nil, 200, `{"failedRequests":["10.0.0.7"]}`)
		e.want("DELETE", "/clients/"+cid+"/nodes/10.0.0.7", e.tok, nil, 204, "")
		e.want("DELETE", "/clients/"+cid+"/nodes/10.0.0.7", e.tok, nil, 404, "")
		e.want("GET", "/clients/"+cid+"/test-nodes-available", e.tok, nil, 200, `{}`)

		// Fine-grained admin permissions start off; only a manager switches
		// them (TestFGAPClientReference goes further).
		e.want("GET", "/clients/"+cid+"/management/permissions", e.tok, nil, 200, `{"enabled":false}`)
		e.want("PUT", "/clients/"+cid+"/management/permissions", e.tok, map[string]bool{"enabled": false}, 200, `{"enabled":false}`)
		e.want("PUT", "/clients/"+cid+"/management/permissions", viewer, map[string]bool{"enabled": true}, 403, "")
	})
}

// upload posts a multipart key upload and returns the status and body.
func upload(t *testing.T, s *testServer, path, tok string, fields map[string]string, file []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "key")
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestClientCertificates(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newCRGEnv(t, s, "certs")
		cid := e.create("/clients", map[string]any{"clientId": "jwtapp", "clientAuthenticatorType": "client-jwt", "serviceAccountsEnabled": true})
		base := "/clients/" + cid + "/certificates/jwt.credential"
		e.want("GET", base, e.tok, nil, 200, `{}`)
		_, body := e.want("POST", base+"/generate", e.tok, nil, 200, "")
		var gen map[string]string
		json.Unmarshal([]byte(body), &gen)
		if gen["privateKey"] == "" || gen["certificate"] == "" {
			t.Fatalf("generate: %s", body)
		}
		// Only the certificate is kept.
		e.want("GET", base, e.tok, nil, 200, `{"certificate":"`+gen["certificate"]+`"}`)
		if a := e.obj("/clients/" + cid)["attributes"].(map[string]any); a["jwt.credential.certificate"] != gen["certificate"] {
			t.Fatalf("attributes: %v", a)
		}

		// Download as PKCS#12: needs a store password; JKS is not written.
		e.want("POST", base+"/download", e.tok, map[string]any{"format": "PKCS12"}, 400,
			`{"error":"password-missing","error_description":"Need to specify a store password for jks download"}`)
		e.want("POST", base+"/download", e.tok, map[string]any{"format": "JKS", "storePassword": "x"}, 406, "")
		st, _, p12 := s.do("POST", e.path(base+"/download"), e.tok, map[string]any{"format": "PKCS12", "storePassword": "store-pw"})
		if st != 200 {
			t.Fatalf("download: %d %s", st, p12)
		}
		certs, err := pkcs12.DecodeTrustStore(p12, "store-pw")
		if err != nil || len(certs) != 2 || base64.StdEncoding.EncodeToString(certs[0].Raw) != gen["certificate"] {
			t.Fatalf("downloaded truststore: %d certs, %v", len(certs), err)
		}

		// Generate and download: the key comes back in the file only.
		st, _, p12 = s.do("POST", e.path(base+"/generate-and-download"), e.tok, map[string]any{"format": "PKCS12", "keyPassword": "k", "storePassword": "store-pw", "realmCertificate": false})
		if st != 200 {
			t.Fatalf("generate-and-download: %d %s", st, p12)
		}
		key, cert, _, err := pkcs12.DecodeChain(p12, "store-pw")
		if err != nil || key == nil {
			t.Fatalf("generated keystore: %v", err)
		}
		if e.obj(base)["certificate"] != base64.StdEncoding.EncodeToString(cert.Raw) {
			t.Fatal("generate-and-download did not keep the new certificate")
		}
		e.want("POST", base+"/generate-and-download", e.tok, map[string]any{"storePassword": "x"}, 400, "")

		// Upload: certificate PEM, PKCS#12, JWKS; bad input refused.
		pemCert := "-----BEGIN CERTIFICATE-----\n" + gen["certificate"] + "\n-----END CERTIFICATE-----\n"
		st, body = upload(t, s, e.path(base+"/upload-certificate"), e.tok, map[string]string{"keystoreFormat": "Certificate PEM"}, []byte(pemCert))
		if st != 200 || !strings.Contains(body, gen["certificate"]) {
			t.Fatalf("upload certificate: %d %s", st, body)
		}
		st, body = upload(t, s, e.path(base+"/upload"), e.tok, map[string]string{"keystoreFormat": "PKCS12", "storePassword": "store-pw", "keyAlias": "x"}, p12)
		if st != 200 || !strings.Contains(body, base64.StdEncoding.EncodeToString(cert.Raw)) {
			t.Fatalf("upload pkcs12: %d %s", st, body)
		}
		st, body = upload(t, s, e.path(base+"/upload"), e.tok, map[string]string{"keystoreFormat": "PKCS12", "storePassword": "wrong"}, p12)
		if st != 400 {
			t.Fatalf("pkcs12 with a wrong password: %d %s", st, body)
		}
		st, body = upload(t, s, e.path(base+"/upload-certificate"), e.tok, map[string]string{"keystoreFormat": "Certificate PEM"}, []byte("not a cert"))
		if st != 400 {
			t.Fatalf("bad certificate: %d %s", st, body)
		}
		st, body = upload(t, s, e.path(base+"/upload-certificate"), e.tok, map[string]string{"keystoreFormat": "Certificate PEM"}, nil)
		if st != 400 || !strings.Contains(body, "file cannot be empty") {
			t.Fatalf("no file: %d %s", st, body)
		}
		st, body = upload(t, s, e.path(base+"/upload-certificate"), e.tok, map[string]string{}, []byte(pemCert))
		if st != 400 || !strings.Contains(body, "keystoreFormat cannot be null") {
			t.Fatalf("no format: %d %s", st, body)
		}
		jwks := `{"keys":[{"kty":"RSA","kid":"k1","use":"sig","n":"AQAB","e":"AQAB"}]}`
		st, body = upload(t, s, e.path(base+"/upload-certificate"), e.tok, map[string]string{"keystoreFormat": "JSON Web Key Set"}, []byte(jwks))
		if st != 200 || body != `{"kid":"k1"}` {
			t.Fatalf("jwks: %d %s", st, body)
		}
		if a := e.obj("/clients/" + cid)["attributes"].(map[string]any); a["use.jwks.string"] != "true" || a["jwks.string"] != jwks {
			t.Fatalf("jwks attributes: %v", a)
		}
		viewer := s.realmAdmin(e.realm, "v", "view-clients")
		e.want("POST", base+"/generate", viewer, nil, 403, "")
		_ = provision.RealmAdmin
	})
}
