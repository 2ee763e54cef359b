package rep

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// jsonRoundTrip marshals v and decodes the bytes into a new T, as a value
// crossing the wire would.
func jsonRoundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %T: %v\n%s", v, err, b)
	}
	return out
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("unmarshal %T: %v", v, err)
	}
	return v
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return string(b)
}

func TestRealmApplyAbsentSettingsKeepDefaults(t *testing.T) {
	x := decode[Realm](t, `{"realm":"x","accessTokenLifespan":60}`)
	got := realm.New("id1", "x")
	x.ApplyTo(&got)

	if got.AccessTokenLifespan != 60 {
		t.Errorf("accessTokenLifespan = %d, want 60", got.AccessTokenLifespan)
	}
	if got.SSOSessionIdleTimeout != 1800 {
		t.Errorf("ssoSessionIdleTimeout = %d, want 1800", got.SSOSessionIdleTimeout)
	}
	if got.OfflineSessionIdleTimeout != 2592000 {
		t.Errorf("offlineSessionIdleTimeout = %d, want 2592000", got.OfflineSessionIdleTimeout)
	}
	want := realm.New("id1", "x")
	want.AccessTokenLifespan = 60
	if !reflect.DeepEqual(got, want) {
		t.Errorf("applied realm differs from defaults beyond accessTokenLifespan:\n got %+v\nwant %+v", got, want)
	}
}

func TestRealmApplyExplicitZeroOverridesDefault(t *testing.T) {
	x := decode[Realm](t, `{"loginWithEmailAllowed":false,"failureFactor":0,"enabled":false,"realm":"renamed","id":"other"}`)
	got := realm.New("id1", "x")
	x.ApplyTo(&got)
	if got.LoginWithEmailAllowed || got.FailureFactor != 0 || got.Enabled {
		t.Errorf("explicit zero values not applied: loginWithEmailAllowed=%v failureFactor=%d enabled=%v",
			got.LoginWithEmailAllowed, got.FailureFactor, got.Enabled)
	}
	if got.Name != "renamed" {
		t.Errorf("name = %q, want renamed", got.Name)
	}
	if got.ID != "id1" {
		t.Errorf("id = %q, want the caller's id1 kept", got.ID)
	}
}

func TestRealmFromDomainUsesKeycloakNames(t *testing.T) {
	r := realm.New("id1", "demo")
	r.DefaultRoleID = "role-1"
	raw := marshal(t, RealmFromDomain(r))

	for _, want := range []string{
		`"id":"id1"`,
		`"realm":"demo"`,
		`"ssoSessionIdleTimeout":1800`,
		`"offlineSessionMaxLifespanEnabled":false`,
		`"revokeRefreshToken":false`,
		`"refreshTokenMaxReuse":0`,
		`"accessTokenLifespan":300`,
		`"sslRequired":"external"`,
		`"enabled":true`,
		`"bruteForceStrategy":"MULTIPLE"`,
		`"quickLoginCheckMilliSeconds":1000`,
		`"requiredCredentials":["password"]`,
		`"supportedLocales":[]`,
		`"smtpServer":{}`,
		`"xFrameOptions":"SAMEORIGIN"`,
		`"defaultRole":{"id":"role-1","name":"default-roles-demo","composite":true,"clientRole":false,"containerId":"id1","attributes":{}}`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("realm JSON lacks %s\n%s", want, raw)
		}
	}
	// Keycloak omits nulls: unset optional strings and the nested lists the
	// exporter fills must be absent, not null.
	for _, absent := range []string{`"displayName"`, `"passwordPolicy"`, `"loginTheme"`, `"users"`, `"clients"`, `"groups"`, `"keycloakVersion"`, `null`} {
		if strings.Contains(raw, absent) {
			t.Errorf("realm JSON has %s, want it omitted\n%s", absent, raw)
		}
	}
}

func TestRealmRoundTrip(t *testing.T) {
	r := realm.New("id1", "demo")
	r.DisplayName = "Demo"
	r.RevokeRefreshToken = true
	r.RefreshTokenMaxReuse = 2
	r.SSOSessionIdleTimeout = 600
	r.OfflineSessionMaxLifespanEnabled = true
	r.NotBefore = 1700000000
	r.PasswordPolicy = "length(8)"
	r.SupportedLocales = []string{"en", "de"}
	r.EventsExpiration = 3600
	r.SMTPServer = map[string]string{"host": "mail"}
	r.Attributes = map[string]string{"frontendUrl": "https://id.example"}

	x := jsonRoundTrip(t, RealmFromDomain(r))
	got := realm.New("id1", "placeholder")
	x.ApplyTo(&got)
	if !reflect.DeepEqual(got, r) {
		t.Errorf("realm round trip:\n got %+v\nwant %+v", got, r)
	}
}

func TestClientAbsentFieldsTakeKeycloakDefaults(t *testing.T) {
	c := decode[Client](t, `{"clientId":"app"}`).ToDomain("r1")

	want := client.Client{
		RealmID:                   "r1",
		ClientID:                  "app",
		Enabled:                   true,
		ClientAuthenticatorType:   "client-secret",
		StandardFlowEnabled:       true,
		FrontchannelLogout:        true,
		Protocol:                  "openid-connect",
		FullScopeAllowed:          true,
		NodeReRegistrationTimeout: -1,
		Attributes:                map[string]string{},
		RedirectURIs:              []string{},
		WebOrigins:                []string{},
		ProtocolMappers:           []client.ProtocolMapper{},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("client defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestClientExplicitValuesWin(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(client.Client) bool
	}{
		{"explicit false enabled is kept", `{"clientId":"a","enabled":false}`,
			func(c client.Client) bool { return !c.Enabled }},
		{"explicit false standard flow is kept", `{"clientId":"a","standardFlowEnabled":false}`,
			func(c client.Client) bool { return !c.StandardFlowEnabled }},
		{"consent required without fullScopeAllowed turns full scope off", `{"clientId":"a","consentRequired":true}`,
			func(c client.Client) bool { return c.ConsentRequired && !c.FullScopeAllowed }},
		{"explicit fullScopeAllowed wins over consent", `{"clientId":"a","consentRequired":true,"fullScopeAllowed":true}`,
			func(c client.Client) bool { return c.FullScopeAllowed }},
		{"public client keeps no secret", `{"clientId":"a","publicClient":true,"secret":"s"}`,
			func(c client.Client) bool { return c.PublicClient && c.Secret == "" }},
		{"mapper without protocol takes the client's", `{"clientId":"a","protocol":"saml","protocolMappers":[{"name":"m","protocolMapper":"t"}]}`,
			func(c client.Client) bool { return c.ProtocolMappers[0].Protocol == "saml" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := decode[Client](t, tt.json).ToDomain("r1")
			if !tt.check(c) {
				t.Errorf("unexpected client %+v", c)
			}
		})
	}
}

func sampleClient() client.Client {
	c := client.New("c1", "r1", "webapp")
	c.Name = "Web App"
	c.Description = "the web app"
	c.RootURL = "https://app.example"
	c.BaseURL = "/home"
	c.AdminURL = "https://app.example/admin"
	c.Secret = "s3cret"
	c.RedirectURIs = []string{"https://app.example/*"}
	c.WebOrigins = []string{"+"}
	c.NotBefore = 17
	c.DirectAccessGrantsEnabled = true
	c.ServiceAccountsEnabled = true
	c.FrontchannelLogout = false
	c.FullScopeAllowed = false
	c.NodeReRegistrationTimeout = 60
	c.Attributes = map[string]string{"pkce.code.challenge.method": "S256"}
	c.AuthFlowOverrides = map[string]string{"browser": "flow-1"}
	c.ProtocolMappers = []client.ProtocolMapper{
		{ID: "m1", Name: "audience", Protocol: "openid-connect", ProtocolMapper: "oidc-audience-mapper",
			Config: map[string]string{"included.client.audience": "api"}},
		{ID: "m2", Name: "zoneinfo", Protocol: "openid-connect", ProtocolMapper: "oidc-usermodel-attribute-mapper",
			Config: map[string]string{}},
	}
	return c
}

func TestClientRoundTrip(t *testing.T) {
	c := sampleClient()
	got := jsonRoundTrip(t, ClientFromDomain(c)).ToDomain("r1")
	if !reflect.DeepEqual(got, c) {
		t.Errorf("client round trip:\n got %+v\nwant %+v", got, c)
	}
}

func TestClientJSONShape(t *testing.T) {
	c := client.New("c1", "r1", "bare")
	c.RedirectURIs = []string{}
	raw := marshal(t, ClientFromDomain(c))
	for _, want := range []string{`"redirectUris":[]`, `"webOrigins":[]`, `"attributes":{}`, `"frontchannelLogout":true`, `"nodeReRegistrationTimeout":-1`} {
		if !strings.Contains(raw, want) {
			t.Errorf("client JSON lacks %s\n%s", want, raw)
		}
	}
	for _, absent := range []string{`"protocolMappers"`, `"secret"`, `"name"`, `null`} {
		if strings.Contains(raw, absent) {
			t.Errorf("client JSON has %s, want it omitted\n%s", absent, raw)
		}
	}

	// Mappers come out sorted by name whatever the stored order.
	c = sampleClient()
	ms := c.ProtocolMappers
	c.ProtocolMappers = []client.ProtocolMapper{ms[1], ms[0]}
	x := ClientFromDomain(c)
	if x.ProtocolMappers[0].Name != "audience" || x.ProtocolMappers[1].Name != "zoneinfo" {
		t.Errorf("mappers not sorted by name: %+v", x.ProtocolMappers)
	}
	if !strings.Contains(marshal(t, x.ProtocolMappers[0]), `"consentRequired":false`) {
		t.Error("mapper JSON lacks consentRequired:false")
	}
}

func TestClientApplyIsPartial(t *testing.T) {
	stored := sampleClient()
	x := decode[Client](t, `{
		"enabled": false,
		"attributes": {"post.logout.redirect.uris": "+"},
		"authenticationFlowBindingOverrides": {"browser": ""},
		"protocolMappers": [{"name": "audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper", "config": {}}]
	}`)
	got := stored
	x.ApplyTo(&got)

	if got.Enabled {
		t.Error("enabled:false was not applied")
	}
	if got.Secret != "s3cret" || got.RootURL != "https://app.example" || !got.DirectAccessGrantsEnabled {
		t.Errorf("absent fields changed: %+v", got)
	}
	wantAttrs := map[string]string{"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"}
	if !reflect.DeepEqual(got.Attributes, wantAttrs) {
		t.Errorf("attributes = %v, want merged %v", got.Attributes, wantAttrs)
	}
	if got.AuthFlowOverrides != nil {
		t.Errorf("empty override value should remove it, got %v", got.AuthFlowOverrides)
	}
	if len(got.ProtocolMappers) != 1 || got.ProtocolMappers[0].ID != "m1" {
		t.Errorf("mapper matched by name should keep id m1: %+v", got.ProtocolMappers)
	}
	if _, ok := stored.Attributes["post.logout.redirect.uris"]; ok {
		t.Error("ApplyTo wrote through to the stored client's attribute map")
	}
}

func TestScopeRoundTrip(t *testing.T) {
	s := client.Scope{
		ID: "s1", RealmID: "r1", Name: "profile", Description: "OpenID Connect built-in scope: profile",
		Protocol:   "openid-connect",
		Attributes: map[string]string{"include.in.token.scope": "true"},
		ProtocolMappers: []client.ProtocolMapper{
			{ID: "m1", Name: "family name", Protocol: "openid-connect", ProtocolMapper: "oidc-usermodel-attribute-mapper",
				Config: map[string]string{"claim.name": "family_name"}},
		},
	}
	got := jsonRoundTrip(t, ScopeFromDomain(s)).ToDomain("r1")
	if !reflect.DeepEqual(got, s) {
		t.Errorf("scope round trip:\n got %+v\nwant %+v", got, s)
	}

	bare := decode[ClientScope](t, `{"name":"offline_access"}`).ToDomain("r1")
	if bare.Protocol != "openid-connect" || bare.Attributes == nil || bare.ProtocolMappers == nil {
		t.Errorf("scope defaults: %+v", bare)
	}
}

func TestMapperRoundTrip(t *testing.T) {
	m := client.ProtocolMapper{ID: "m1", Name: "n", Protocol: "openid-connect", ProtocolMapper: "oidc-hardcoded-claim-mapper",
		Config: map[string]string{"claim.value": "x"}}
	if got := jsonRoundTrip(t, MapperFromDomain(m)).ToDomain(); !reflect.DeepEqual(got, m) {
		t.Errorf("mapper round trip:\n got %+v\nwant %+v", got, m)
	}
}

func TestUserRoundTrip(t *testing.T) {
	u := user.User{
		ID: "u1", RealmID: "r1", Username: "alice", Email: "alice@example.com",
		FirstName: "Alice", LastName: "Liddell", Enabled: true, EmailVerified: true,
		CreatedTimestamp: 1700000000123,
		Attributes:       map[string][]string{"phone": {"+1", "+2"}},
		RequiredActions:  []string{"UPDATE_PASSWORD"},
		FederationLink:   "ldap-1",
		NotBefore:        42,
	}
	x := UserFromDomain(u)
	raw := marshal(t, x)
	for _, want := range []string{`"createdTimestamp":1700000000123`, `"totp":false`, `"disableableCredentialTypes":[]`, `"notBefore":42`} {
		if !strings.Contains(raw, want) {
			t.Errorf("user JSON lacks %s\n%s", want, raw)
		}
	}
	got := jsonRoundTrip(t, x).ToDomain("r1")
	if !reflect.DeepEqual(got, u) {
		t.Errorf("user round trip:\n got %+v\nwant %+v", got, u)
	}
}

func TestUserDefaultsAndPartialUpdate(t *testing.T) {
	// Keycloak creates a user without "enabled" disabled; callers that
	// forget it get the same behaviour here.
	u := decode[User](t, `{"username":"bob"}`).ToDomain("r1")
	if u.Enabled || u.EmailVerified {
		t.Errorf("absent booleans should be false: %+v", u)
	}
	if u.Attributes == nil || u.RequiredActions == nil {
		t.Errorf("nil attributes/required actions should become empty: %+v", u)
	}
	raw := marshal(t, UserFromDomain(u))
	if strings.Contains(raw, `"attributes"`) || !strings.Contains(raw, `"requiredActions":[]`) {
		t.Errorf("user JSON should omit empty attributes and keep requiredActions: %s", raw)
	}

	stored := user.User{ID: "u1", Username: "bob", FirstName: "Bob", Email: "bob@example.com", Enabled: true,
		Attributes: map[string][]string{"a": {"1"}}}
	decode[User](t, `{"enabled":false,"lastName":"Builder","email":""}`).ApplyTo(&stored)
	if stored.Enabled || stored.FirstName != "Bob" || stored.LastName != "Builder" || stored.Email != "" ||
		!reflect.DeepEqual(stored.Attributes, map[string][]string{"a": {"1"}}) {
		t.Errorf("partial update: %+v", stored)
	}
}

func TestCredentialKeycloakExportDecodes(t *testing.T) {
	// Shape of a password credential in a Keycloak 25+ realm export:
	// secretData and credentialData are JSON strings containing JSON.
	const exported = `{
		"type": "password",
		"userLabel": "My password",
		"createdDate": 1700000000000,
		"secretData": "{\"value\":\"aGFzaA==\",\"salt\":\"c2FsdHNhbHRzYWx0c2FsdA==\",\"additionalParameters\":{}}",
		"credentialData": "{\"hashIterations\":5,\"algorithm\":\"argon2\",\"additionalParameters\":{\"hashLength\":[\"32\"],\"memory\":[\"7168\"],\"type\":[\"id\"],\"version\":[\"1.3\"],\"parallelism\":[\"1\"]}}"
	}`
	c := decode[Credential](t, exported).ToDomain("u1")
	if c.UserID != "u1" || c.Type != "password" || c.CreatedDate != 1700000000000 || c.UserLabel != "My password" {
		t.Errorf("credential fields: %+v", c)
	}
	var secret struct{ Value, Salt string }
	if err := json.Unmarshal([]byte(c.SecretData), &secret); err != nil || secret.Value != "aGFzaA==" {
		t.Errorf("secretData not kept as the JSON document: %q (%v)", c.SecretData, err)
	}
	var data struct {
		HashIterations int
		Algorithm      string
	}
	if err := json.Unmarshal([]byte(c.CredentialData), &data); err != nil || data.Algorithm != "argon2" || data.HashIterations != 5 {
		t.Errorf("credentialData not kept as the JSON document: %q (%v)", c.CredentialData, err)
	}

	if got := jsonRoundTrip(t, CredentialFromDomain(c)).ToDomain("u1"); !reflect.DeepEqual(got, c) {
		t.Errorf("credential round trip:\n got %+v\nwant %+v", got, c)
	}

	plain := decode[Credential](t, `{"value":"secret","temporary":true}`)
	if plain.Value != "secret" || plain.Temporary == nil || !*plain.Temporary || plain.ToDomain("u1").Type != "password" {
		t.Errorf("plain password credential: %+v", plain)
	}
}

func TestRoleRoundTrip(t *testing.T) {
	tests := []struct {
		name          string
		r             role.Role
		wantContainer string
	}{
		{"realm role is contained by the realm",
			role.Role{ID: "ro1", RealmID: "r1", Name: "admin", Description: "Admins", Attributes: map[string][]string{"k": {"v"}}},
			"r1"},
		{"client role is contained by the client",
			role.Role{ID: "ro2", RealmID: "r1", ClientID: "c1", Name: "view", Attributes: map[string][]string{}},
			"c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := RoleFromDomain(tt.r, false)
			if x.ContainerID != tt.wantContainer || x.ClientRole != (tt.r.ClientID != "") {
				t.Errorf("containerId=%q clientRole=%v", x.ContainerID, x.ClientRole)
			}
			got := jsonRoundTrip(t, x).ToDomain("r1", tt.r.ClientID)
			if !reflect.DeepEqual(got, tt.r) {
				t.Errorf("role round trip:\n got %+v\nwant %+v", got, tt.r)
			}
		})
	}

	x := RoleFromDomain(role.Role{ID: "d", RealmID: "r1", Name: "default-roles-r"}, true)
	x.Composites = &Composites{Realm: []string{"offline_access"}, Client: map[string][]string{"account": {"view-profile"}}}
	raw := marshal(t, x)
	if !strings.Contains(raw, `"composite":true,"composites":{"realm":["offline_access"],"client":{"account":["view-profile"]}}`) {
		t.Errorf("composite role JSON: %s", raw)
	}
	plain := RoleFromDomain(role.Role{ID: "x", RealmID: "r1", Name: "plain"}, false)
	if strings.Contains(marshal(t, plain), `"composites"`) {
		t.Error("non-composite role should omit composites")
	}
}

func TestGroupTree(t *testing.T) {
	groups := []role.Group{
		{ID: "g3", Name: "zeta"},
		{ID: "g2", ParentID: "g1", Name: "child", Attributes: map[string][]string{"a": {"b"}}},
		{ID: "g1", Name: "alpha"},
		{ID: "g4", ParentID: "gone", Name: "orphan"},
		{ID: "g5", ParentID: "g5", Name: "loop"},
	}
	tree := GroupTree(groups)
	var names []string
	for _, g := range tree {
		names = append(names, g.Path)
	}
	if want := []string{"/alpha", "/orphan", "/zeta"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("top-level paths = %v, want %v", names, want)
	}
	kids := tree[0].SubGroups
	if len(kids) != 1 || kids[0].Path != "/alpha/child" || kids[0].ParentID != "g1" || kids[0].Attributes["a"][0] != "b" {
		t.Errorf("subgroups of alpha: %+v", kids)
	}
	raw := marshal(t, tree[2])
	if !strings.Contains(raw, `"subGroups":[]`) || !strings.Contains(raw, `"realmRoles":[]`) || strings.Contains(raw, `"parentId"`) {
		t.Errorf("top-level group JSON: %s", raw)
	}
	if got := tree[0].ToDomain("r1", ""); got.ID != "g1" || got.Name != "alpha" || got.RealmID != "r1" {
		t.Errorf("group ToDomain: %+v", got)
	}
}

func TestUnknownFieldsAreTolerated(t *testing.T) {
	// A trimmed Keycloak 26 export: fields Gatehouse does not model must not
	// stop the import.
	const export = `{
		"id": "r-uuid", "realm": "shop", "enabled": true, "accessTokenLifespan": 120,
		"otpPolicyType": "totp", "webAuthnPolicySignatureAlgorithms": ["ES256"],
		"authenticationFlows": [{"alias": "browser", "builtIn": true}],
		"identityProviders": [], "organizationsEnabled": false,
		"roles": {"realm": [{"id": "ro1", "name": "user", "composite": false, "clientRole": false, "containerId": "r-uuid", "attributes": {}}],
		          "client": {"shop-app": [{"name": "buyer", "clientRole": true}]}},
		"clients": [{"clientId": "shop-app", "authorizationServicesEnabled": false, "access": {"view": true},
		             "protocolMappers": [{"name": "m", "protocol": "openid-connect", "protocolMapper": "x", "consentRequired": false, "config": {}}]}],
		"users": [{"username": "eve", "enabled": true, "federatedIdentities": [], "userProfileMetadata": {},
		           "credentials": [{"type": "password", "value": "pw", "temporary": false}]}],
		"components": {"org.keycloak.keys.KeyProvider": [{"id": "k1", "name": "rsa-generated", "providerId": "rsa-generated",
		               "subComponents": {}, "config": {"priority": ["100"]}}]},
		"keycloakVersion": "26.0.0"
	}`
	x := decode[Realm](t, export)
	if x.Realm != "shop" || *x.AccessTokenLifespan != 120 || x.KeycloakVersion != "26.0.0" {
		t.Errorf("realm fields: %+v", x)
	}
	if len(x.Clients) != 1 || x.Clients[0].ClientID != "shop-app" || len(x.Clients[0].ProtocolMappers) != 1 {
		t.Errorf("clients: %+v", x.Clients)
	}
	if len(x.Users) != 1 || x.Users[0].Credentials[0].Value != "pw" {
		t.Errorf("users: %+v", x.Users)
	}
	if x.Roles == nil || x.Roles.Realm[0].Name != "user" || x.Roles.Client["shop-app"][0].Name != "buyer" {
		t.Errorf("roles: %+v", x.Roles)
	}
	if got := x.Components["org.keycloak.keys.KeyProvider"]; len(got) != 1 || got[0].Config["priority"][0] != "100" {
		t.Errorf("components: %+v", x.Components)
	}
}
