package token

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

var testNow = time.Unix(1_700_000_000, 0)

const issuer = "https://id.example.com/realms/ldap-demo"

// flags builds the usual "put this claim in these tokens" config.
func flags(extra map[string]string, tokens ...string) map[string]string {
	c := map[string]string{}
	for _, t := range tokens {
		c[t+".token.claim"] = "true"
	}
	maps.Copy(c, extra)
	return c
}

var all = []string{"id", "access", "userinfo", "introspection"}

func pm(name, typ string, cfg map[string]string) client.ProtocolMapper {
	return client.ProtocolMapper{ID: "m-" + name, Name: name, Protocol: "openid-connect", ProtocolMapper: typ, Config: cfg}
}

func attrMapper(name, attr, claim, jsonType string) client.ProtocolMapper {
	return pm(name, MapperUserAttribute, flags(map[string]string{
		"user.attribute": attr, "claim.name": claim, "jsonType.label": jsonType}, all...))
}

func scope(name, inScope string, ms ...client.ProtocolMapper) client.Scope {
	return client.Scope{ID: "s-" + name, Name: name, Protocol: "openid-connect",
		Attributes: map[string]string{"include.in.token.scope": inScope}, ProtocolMappers: ms}
}

// builtinScopes mirrors the client scopes Keycloak 26 (and provision)
// creates: profile, email, roles, web-origins, acr and basic are a new
// client's defaults; offline_access is optional.
func builtinScopes() []client.Scope {
	return []client.Scope{
		scope("profile", "true",
			pm("full name", MapperFullName, flags(nil, all...)),
			attrMapper("family name", "lastName", "family_name", "String"),
			attrMapper("given name", "firstName", "given_name", "String"),
			attrMapper("username", "username", "preferred_username", "String"),
			attrMapper("locale", "locale", "locale", "String"),
			attrMapper("updated at", "updatedAt", "updated_at", "long"),
		),
		scope("email", "true",
			attrMapper("email", "email", "email", "String"),
			pm("email verified", MapperUserProperty, flags(map[string]string{
				"user.attribute": "emailVerified", "claim.name": "email_verified", "jsonType.label": "boolean"}, all...)),
		),
		scope("roles", "false",
			pm("realm roles", MapperRealmRole, flags(map[string]string{
				"user.attribute": "foo", "claim.name": "realm_access.roles", "jsonType.label": "String", "multivalued": "true"},
				"access", "introspection")),
			pm("client roles", MapperClientRole, flags(map[string]string{
				"user.attribute": "foo", "claim.name": "resource_access.${client_id}.roles", "jsonType.label": "String", "multivalued": "true"},
				"access", "introspection")),
			pm("audience resolve", MapperAudienceResolve, flags(nil, "access", "introspection")),
		),
		scope("web-origins", "false",
			pm("allowed web origins", MapperAllowedOrigins, flags(nil, "access", "introspection"))),
		scope("acr", "false",
			pm("acr loa level", MapperACR, flags(nil, "id", "access", "introspection"))),
		scope("basic", "false",
			pm("auth_time", MapperSessionNote, flags(map[string]string{
				"user.session.note": "AUTH_TIME", "claim.name": "auth_time", "jsonType.label": "long"},
				"id", "access", "introspection")),
			pm("sub", MapperSub, flags(nil, "access", "introspection")),
		),
	}
}

// infoScope is story 1's custom scope: a hardcoded claim (access and ID
// token, no introspection flag) and a user attribute.
func infoScope() client.Scope {
	s := scope("info", "",
		pm("info claim", MapperHardcodedClaim, flags(map[string]string{
			"claim.name": "info", "claim.value": "ldap", "jsonType.label": "String"}, "access", "id", "userinfo")),
		attrMapper("department", "department", "department", "String"),
	)
	s.Attributes = nil // include.in.token.scope absent means true
	return s
}

func offlineScope() client.Scope { return scope("offline_access", "true") }

// testInput is story 1's password grant: user1 of ldap-demo through ldap-app.
func testInput() Input {
	r := realm.New("r-1", "ldap-demo")
	c := client.New("c-1", "r-1", "ldap-app")
	c.WebOrigins = []string{"https://app.example.com"}
	now := testNow.Unix()
	return Input{
		Issuer: issuer,
		Realm:  r,
		Client: c,
		User: user.User{
			ID: "u-1", RealmID: "r-1", Username: "user1", Email: "user1@example.com",
			FirstName: "User", LastName: "One", Enabled: true, EmailVerified: false,
			CreatedTimestamp: 1_600_000_000_123,
			Attributes: map[string][]string{
				"department": {"sales"}, "locale": {""},
				"street": {"1 Main St"}, "country": {"NZ"},
			},
		},
		UserSession:   session.UserSession{ID: "sess-1", RealmID: "r-1", UserID: "u-1", Started: now - 100, LastRefresh: now, AuthTime: now - 100},
		ClientSession: session.ClientSession{ID: "cs-1", UserSessionID: "sess-1", ClientID: "c-1", Started: now - 100},
		Scopes:        append(builtinScopes(), infoScope()),
		RealmRoles:    []string{"uma_authorization", "offline_access", "default-roles-ldap-demo", "offline_access"},
		ClientRoles: map[string][]string{
			"account":  {"view-profile", "manage-account", "manage-account-links"},
			"ldap-app": {"app-user"},
		},
		Groups:         []string{"/staff/sales"},
		Now:            testNow,
		AccessExp:      now + 60,
		RefreshExp:     now + 60,
		Nonce:          "n-0S6_WzA2Mj",
		ACR:            "1",
		AllowedOrigins: []string{"https://app.example.com"},
	}
}

// js is v as JSON, so []string, []any and int64 compare by wire form.
func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// at walks nested claim objects; absent gives nil.
func at(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[p]
	}
	return v
}

type claimCase struct {
	name string
	got  any
	want string // JSON; "null" for absent
}

func checkClaims(t *testing.T, cases []claimCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := js(t, tt.got); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func claimNames(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestScopeString(t *testing.T) {
	tests := []struct {
		name   string
		scopes []client.Scope
		want   string
	}{
		{"no scopes is openid alone", nil, "openid"},
		{"story 1: roles, web-origins, acr and basic are left out, the rest sorted",
			append(builtinScopes(), infoScope(), offlineScope()), "openid email info offline_access profile"},
		{"an openid scope in the list is not repeated", []client.Scope{scope("openid", "true"), scope("email", "true")}, "openid email"},
		{"a scope listed twice appears once", []client.Scope{scope("email", "true"), scope("email", "true")}, "openid email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ScopeString(tt.scopes); got != tt.want {
				t.Errorf("ScopeString = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAccess(t *testing.T) {
	in := testInput()
	c := Access(in)
	checkClaims(t, []claimCase{
		{"typ is Bearer", c["typ"], `"Bearer"`},
		{"azp is the clientId", c["azp"], `"ldap-app"`},
		{"sid is the user session", c["sid"], `"sess-1"`},
		{"iss", c["iss"], `"` + issuer + `"`},
		{"iat is now", c["iat"], "1700000000"},
		{"exp is AccessExp", c["exp"], "1700000060"},
		{"scope lists token-scope scopes", c["scope"], `"openid email info profile"`},
		{"sub comes from the basic scope's sub mapper", c["sub"], `"u-1"`},
		{"realm roles are sorted and deduplicated", at(c, "realm_access", "roles"),
			`["default-roles-ldap-demo","offline_access","uma_authorization"]`},
		{"account client roles", at(c, "resource_access", "account", "roles"),
			`["manage-account","manage-account-links","view-profile"]`},
		{"the requesting client's own roles", at(c, "resource_access", "ldap-app", "roles"), `["app-user"]`},
		{"audience resolve names account but not the client itself", c["aud"], `"account"`},
		{"allowed-origins", c["allowed-origins"], `["https://app.example.com"]`},
		{"acr after a password login", c["acr"], `"1"`},
		{"auth_time is a number", c["auth_time"], "1699999900"},
		{"preferred_username", c["preferred_username"], `"user1"`},
		{"email", c["email"], `"user1@example.com"`},
		{"email_verified false is still a claim", c["email_verified"], "false"},
		{"name joins first and last", c["name"], `"User One"`},
		{"given_name", c["given_name"], `"User"`},
		{"family_name", c["family_name"], `"One"`},
		{"custom scope hardcoded claim", c["info"], `"ldap"`},
		{"custom scope user attribute", c["department"], `"sales"`},
		{"an empty attribute gives no claim", c["locale"], "null"},
		{"an absent attribute gives no claim", c["updated_at"], "null"},
		{"no nonce in access tokens since Keycloak 25", c["nonce"], "null"},
		{"no session_state since Keycloak 25", c["session_state"], "null"},
	})
	t.Run("jti has Keycloak's prefixed shape", func(t *testing.T) {
		if s, _ := c["jti"].(string); !accessJTIRe.MatchString(s) {
			t.Errorf("jti = %q", s)
		}
	})
}

func TestAccessAudience(t *testing.T) {
	in := testInput()
	in.Client.ProtocolMappers = []client.ProtocolMapper{
		pm("api audience", MapperAudience, flags(map[string]string{"included.client.audience": "api"}, "access")),
		pm("custom audience", MapperAudience, flags(map[string]string{"included.client.audience": "", "included.custom.audience": "https://api.example.com"}, "access")),
	}
	checkClaims(t, []claimCase{
		{"several audiences are an array, mappers before audience resolve",
			Access(in)["aud"], `["api","https://api.example.com","account"]`},
	})

	in = testInput()
	in.ClientRoles = map[string][]string{"ldap-app": {"app-user"}, "empty": {}}
	checkClaims(t, []claimCase{
		{"no audience leaves aud out", Access(in)["aud"], "null"},
	})
}

func TestLightweightAccess(t *testing.T) {
	in := testInput()
	in.Client.Attributes[AttrLightweight] = "true"
	c := Access(in)
	want := []string{"azp", "exp", "iat", "iss", "jti", "scope", "sid", "typ"}
	if got := claimNames(c); !slices.Equal(got, want) {
		t.Errorf("claims = %q, want %q", got, want)
	}

	t.Run("a mapper flagged lightweight.claim still applies", func(t *testing.T) {
		in := testInput()
		in.Client.Attributes[AttrLightweight] = "true"
		in.Client.ProtocolMappers = []client.ProtocolMapper{pm("tenant", MapperHardcodedClaim, flags(map[string]string{
			"claim.name": "tenant", "claim.value": "acme", "lightweight.claim": "true"}, "access"))}
		if got := Access(in)["tenant"]; got != "acme" {
			t.Errorf("tenant = %v, want acme", got)
		}
	})
}

func TestID(t *testing.T) {
	in := testInput()
	const accessToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2ln"
	c := ID(in, accessToken)
	sum := sha256.Sum256([]byte(accessToken))
	wantHash := base64.RawURLEncoding.EncodeToString(sum[:16])
	checkClaims(t, []claimCase{
		{"typ is ID", c["typ"], `"ID"`},
		{"aud is the clientId as a string", c["aud"], `"ldap-app"`},
		{"azp", c["azp"], `"ldap-app"`},
		{"sub is always the user", c["sub"], `"u-1"`},
		{"nonce from the request", c["nonce"], `"n-0S6_WzA2Mj"`},
		{"at_hash is the left half of SHA-256 of the access token", c["at_hash"], `"` + wantHash + `"`},
		{"sid", c["sid"], `"sess-1"`},
		{"exp matches the access token", c["exp"], "1700000060"},
		{"auth_time from the basic scope", c["auth_time"], "1699999900"},
		{"acr from the acr scope", c["acr"], `"1"`},
		{"profile claims", c["preferred_username"], `"user1"`},
		{"no realm_access: the roles mappers are access-token only", c["realm_access"], "null"},
		{"no allowed-origins in ID tokens", c["allowed-origins"], "null"},
	})
	t.Run("jti is a plain UUID", func(t *testing.T) {
		if s, _ := c["jti"].(string); !uuidRe.MatchString(s) {
			t.Errorf("jti = %q", s)
		}
	})
	t.Run("without access token or nonce neither claim is set", func(t *testing.T) {
		in := testInput()
		in.Nonce = ""
		c := ID(in, "")
		if _, ok := c["at_hash"]; ok {
			t.Error("at_hash set")
		}
		if _, ok := c["nonce"]; ok {
			t.Error("nonce set")
		}
	})
	t.Run("an audience mapper for the ID token turns aud into an array", func(t *testing.T) {
		in := testInput()
		in.Client.ProtocolMappers = []client.ProtocolMapper{
			pm("api audience", MapperAudience, flags(map[string]string{"included.custom.audience": "api"}, "id"))}
		if got := js(t, ID(in, "")["aud"]); got != `["ldap-app","api"]` {
			t.Errorf("aud = %s", got)
		}
	})
	t.Run("at_hash follows a PS384 realm algorithm", func(t *testing.T) {
		in := testInput()
		in.Realm.DefaultSignatureAlgorithm = "PS384"
		if got := ID(in, accessToken)["at_hash"]; got == wantHash || len(got.(string)) != 32 {
			t.Errorf("at_hash = %v, want the 24-byte SHA-384 half", got)
		}
	})
}

func TestRefresh(t *testing.T) {
	in := testInput()
	c := Refresh(in, false)
	checkClaims(t, []claimCase{
		{"typ is Refresh", c["typ"], `"Refresh"`},
		{"exp is RefreshExp", c["exp"], "1700000060"},
		{"aud is the issuer", c["aud"], `"` + issuer + `"`},
		{"iss", c["iss"], `"` + issuer + `"`},
		{"sub", c["sub"], `"u-1"`},
		{"azp", c["azp"], `"ldap-app"`},
		{"sid", c["sid"], `"sess-1"`},
		{"scope", c["scope"], `"openid email info profile"`},
		{"realm_access copied from the access token", at(c, "realm_access", "roles"),
			`["default-roles-ldap-demo","offline_access","uma_authorization"]`},
		{"no profile claims", c["preferred_username"], "null"},
		{"no nonce", c["nonce"], "null"},
	})
	if s, _ := c["jti"].(string); !uuidRe.MatchString(s) {
		t.Errorf("jti = %q, want a plain UUID", s)
	}
}

func TestOffline(t *testing.T) {
	// Story 1: scope=openid info offline_access, offline max lifespan off.
	in := testInput()
	in.Scopes = append(in.Scopes, offlineScope())
	in.UserSession.Offline = true
	in.RefreshExp = 0
	c := Refresh(in, true)
	checkClaims(t, []claimCase{
		{"typ is Offline", c["typ"], `"Offline"`},
		{"exp 0 is written", c["exp"], "0"},
		{"scope", c["scope"], `"openid email info offline_access profile"`},
	})
	if _, ok := c["exp"]; !ok {
		t.Error("exp missing")
	}
	roles, _ := at(c, "realm_access", "roles").([]string)
	if !slices.Contains(roles, "offline_access") {
		t.Errorf("realm_access.roles = %q, want offline_access", roles)
	}
}

func TestUserinfoAndIntrospection(t *testing.T) {
	in := testInput()
	in.Client.ProtocolMappers = []client.ProtocolMapper{
		pm("id only", MapperHardcodedClaim, flags(map[string]string{"claim.name": "id_only", "claim.value": "x"}, "id")),
		pm("userinfo off", MapperHardcodedClaim, flags(map[string]string{"claim.name": "no_userinfo", "claim.value": "x", "userinfo.token.claim": "false"}, "id", "access")),
		pm("introspection off", MapperHardcodedClaim, flags(map[string]string{"claim.name": "no_introspection", "claim.value": "x", "introspection.token.claim": "false"}, "access")),
	}
	u := Userinfo(in)
	i := Introspection(in)
	checkClaims(t, []claimCase{
		{"userinfo sub", u["sub"], `"u-1"`},
		{"userinfo profile claim", u["preferred_username"], `"user1"`},
		{"userinfo email_verified", u["email_verified"], "false"},
		{"userinfo custom claim flagged userinfo", u["info"], `"ldap"`},
		{"userinfo: absent userinfo flag follows id.token.claim", u["id_only"], `"x"`},
		{"userinfo: userinfo.token.claim false wins over id", u["no_userinfo"], "null"},
		{"userinfo has no roles", u["realm_access"], "null"},
		{"userinfo has no auth_time (session note mappers skip userinfo)", u["auth_time"], "null"},
		{"userinfo has no acr", u["acr"], "null"},
		{"userinfo has no typ", u["typ"], "null"},

		{"introspection roles", at(i, "realm_access", "roles"), `["default-roles-ldap-demo","offline_access","uma_authorization"]`},
		{"introspection aud from audience resolve", i["aud"], `"account"`},
		{"introspection sub", i["sub"], `"u-1"`},
		{"introspection allowed-origins", i["allowed-origins"], `["https://app.example.com"]`},
		{"introspection: absent flag follows access.token.claim", i["info"], `"ldap"`},
		{"introspection: an ID-only mapper does not apply", i["id_only"], "null"},
		{"introspection: introspection.token.claim false", i["no_introspection"], "null"},
		{"introspection has no basic claims of its own", i["jti"], "null"},
	})
}

func TestMapperClaims(t *testing.T) {
	in := testInput()
	in.Scopes = nil
	hard := func(name, claim, value, jsonType string, tokens ...string) client.ProtocolMapper {
		return pm(name, MapperHardcodedClaim, flags(map[string]string{
			"claim.name": claim, "claim.value": value, "jsonType.label": jsonType}, tokens...))
	}
	in.Client.ProtocolMappers = []client.ProtocolMapper{
		hard("nested", "a.b.c", "deep", "String", "access"),
		hard("nested sibling", "a.b.d", "deeper", "String", "access"),
		hard("escaped dot", `x\.y`, "literal", "String", "access"),
		hard("escaped and nested", `ns.k\.v`, "mixed", "String", "access"),
		hard("long", "n_long", "42", "long", "access"),
		hard("bad long", "n_bad", "forty-two", "long", "access"),
		hard("int", "n_int", "7", "int", "access"),
		hard("int overflow", "n_int_big", "3000000000", "int", "access"),
		hard("boolean", "flag", "TRUE", "boolean", "access"),
		hard("boolean other", "flag_no", "yes", "boolean", "access"),
		hard("json", "obj", `{"k":[1,2],"big":12345678901234567890}`, "JSON", "access"),
		hard("bad json", "obj_bad", `{"k":`, "JSON", "access"),
		hard("unknown type keeps the string", "dbl", "1.5", "double", "access"),
		hard("not in access", "hidden", "x", "String", "id"),
		pm("access false", MapperHardcodedClaim, map[string]string{
			"claim.name": "off", "claim.value": "x", "access.token.claim": "false", "id.token.claim": "true"}),
		hard("reserved typ", "typ", "Evil", "String", "access"),
		hard("reserved iss", "iss", "https://evil", "String", "access"),
		hard("reserved nested sub", "sub.x", "y", "String", "access"),
		hard("azp override", "azp", "other", "String", "access"),
		pm("created", MapperUserProperty, flags(map[string]string{
			"user.attribute": "createdTimestamp", "claim.name": "created", "jsonType.label": "long"}, "access")),
		pm("capitalised property", MapperUserProperty, flags(map[string]string{
			"user.attribute": "Username", "claim.name": "uname"}, "access")),
		pm("groups full", MapperGroups, flags(map[string]string{"claim.name": "groups", "full.path": "true"}, "access")),
		pm("groups short", MapperGroups, flags(map[string]string{"claim.name": "group_names", "full.path": "false"}, "access")),
		pm("address", MapperAddress, flags(map[string]string{"user.attribute.street": "street"}, "access")),
		pm("note", MapperSessionNote, flags(map[string]string{"user.session.note": "clientHost", "claim.name": "clientHost"}, "access")),
		pm("multi attr", MapperUserAttribute, flags(map[string]string{
			"user.attribute": "tags", "claim.name": "tags", "multivalued": "true"}, "access")),
		pm("single attr", MapperUserAttribute, flags(map[string]string{
			"user.attribute": "tags", "claim.name": "first_tag"}, "access")),
		pm("multi long attr", MapperUserAttribute, flags(map[string]string{
			"user.attribute": "scores", "claim.name": "scores", "multivalued": "true", "jsonType.label": "long"}, "access")),
	}
	in.User.Attributes["tags"] = []string{"b", "a", "b"}
	in.User.Attributes["scores"] = []string{"1", "x", "3"}
	in.ClientSession.Notes = map[string]string{"clientHost": "10.0.0.7"}
	c := Access(in)
	checkClaims(t, []claimCase{
		{"dots nest objects and siblings share them", c["a"], `{"b":{"c":"deep","d":"deeper"}}`},
		{"an escaped dot is literal", c["x.y"], `"literal"`},
		{"escaped dot inside a nested name", c["ns"], `{"k.v":"mixed"}`},
		{"long", c["n_long"], "42"},
		{"an unparsable long is dropped", c["n_bad"], "null"},
		{"int", c["n_int"], "7"},
		{"an int out of range is dropped", c["n_int_big"], "null"},
		{"boolean ignores case", c["flag"], "true"},
		{"boolean: anything but true is false", c["flag_no"], "false"},
		{"JSON keeps structure and big numbers", c["obj"], `{"big":12345678901234567890,"k":[1,2]}`},
		{"invalid JSON is dropped", c["obj_bad"], "null"},
		{"unknown jsonType keeps the string", c["dbl"], `"1.5"`},
		{"an ID-only mapper stays out of the access token", c["hidden"], "null"},
		{"access.token.claim false is not applied", c["off"], "null"},
		{"mappers cannot change typ", c["typ"], `"Bearer"`},
		{"mappers cannot change iss", c["iss"], `"` + issuer + `"`},
		{"a nested path under a reserved claim is ignored", c["sub"], "null"},
		{"azp may be overridden, as in Keycloak", c["azp"], `"other"`},
		{"createdTimestamp as long", c["created"], "1600000000123"},
		{"property names may start with a capital", c["uname"], `"user1"`},
		{"group full paths", c["groups"], `["/staff/sales"]`},
		{"group names", c["group_names"], `["sales"]`},
		{"address object from attributes", c["address"], `{"country":"NZ","street_address":"1 Main St"}`},
		{"client session note", c["clientHost"], `"10.0.0.7"`},
		{"multivalued attribute keeps every value", c["tags"], `["b","a","b"]`},
		{"single-valued attribute takes the first value", c["first_tag"], `"b"`},
		{"multivalued long drops unparsable members", c["scores"], "[1,3]"},
	})
	if _, ok := ID(in, "")["off"]; !ok {
		t.Error("mapper with id.token.claim true missing from the ID token")
	}
}

func TestRoleMappers(t *testing.T) {
	in := testInput()
	in.Scopes = builtinScopes()
	in.ClientRoles["my.api"] = []string{"write", "read"}
	in.Client.ProtocolMappers = []client.ProtocolMapper{
		pm("prefixed realm roles", MapperRealmRole, flags(map[string]string{
			"claim.name": "realm_access.roles", "multivalued": "true", "usermodel.realmRoleMapping.rolePrefix": "x-"}, "access")),
		pm("account only", MapperClientRole, flags(map[string]string{
			"claim.name": "account_roles", "multivalued": "true", "usermodel.clientRoleMapping.clientId": "account",
			"usermodel.clientRoleMapping.rolePrefix": "acc:"}, "access")),
		pm("realm roles single", MapperRealmRole, flags(map[string]string{
			"claim.name": "one_role"}, "access")),
		pm("realm roles in id token", MapperRealmRole, flags(map[string]string{
			"claim.name": "roles", "multivalued": "true"}, "id")),
	}
	c := Access(in)
	checkClaims(t, []claimCase{
		{"two mappers on realm_access.roles merge, sorted", at(c, "realm_access", "roles"),
			`["default-roles-ldap-demo","offline_access","uma_authorization","x-default-roles-ldap-demo","x-offline_access","x-uma_authorization"]`},
		{"a dotted clientId stays one key", at(c, "resource_access", "my.api", "roles"), `["read","write"]`},
		{"clientId restriction and prefix", c["account_roles"], `["acc:manage-account","acc:manage-account-links","acc:view-profile"]`},
		{"not multivalued gives the first role", c["one_role"], `"default-roles-ldap-demo"`},
		{"audience resolve lists every other client with roles, sorted", c["aud"], `["account","my.api"]`},
		{"role mappers can write ID tokens", ID(in, "")["roles"], `["default-roles-ldap-demo","offline_access","uma_authorization"]`},
	})
}

func TestServiceAccountAccess(t *testing.T) {
	in := testInput()
	in.ServiceAccount = true
	in.User.ID = "sa-1"
	in.UserSession.Notes = map[string]string{"client_id": "ldap-app", "clientHost": "10.0.0.7", "clientAddress": "10.0.0.7"}
	note := func(name string) client.ProtocolMapper {
		return pm(name, MapperSessionNote, flags(map[string]string{
			"user.session.note": name, "claim.name": name, "jsonType.label": "String"}, "id", "access", "introspection"))
	}
	in.Scopes = []client.Scope{scope("service_account", "false", note("client_id"), note("clientHost"), note("clientAddress"))}
	c := Access(in)
	checkClaims(t, []claimCase{
		{"sub is set directly for the transient session", c["sub"], `"sa-1"`},
		{"client_id note", c["client_id"], `"ldap-app"`},
		{"clientHost note", c["clientHost"], `"10.0.0.7"`},
		{"clientAddress note", c["clientAddress"], `"10.0.0.7"`},
		{"sid kept", c["sid"], `"sess-1"`},
		{"service_account is not in the scope claim", c["scope"], `"openid"`},
	})
}

var (
	uuidRe      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	accessJTIRe = regexp.MustCompile(`^[a-z]{6}:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func TestJTI(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		for _, j := range []string{NewJTI(), NewAccessJTI()} {
			if seen[j] {
				t.Fatalf("duplicate jti %q", j)
			}
			seen[j] = true
		}
	}
	if j := NewJTI(); !uuidRe.MatchString(j) {
		t.Errorf("NewJTI = %q, want a v4 UUID", j)
	}
	if j := NewAccessJTI(); !accessJTIRe.MatchString(j) {
		t.Errorf("NewAccessJTI = %q, want <6 letters>:<uuid>", j)
	}
}

// The jti's hex groups are the bytes in order, as fmt's %x writes them.
func TestFormatUUID(t *testing.T) {
	b := [16]byte{0x00, 0x01, 0xab, 0xcd, 0xef, 0x10, 0x4f, 0xff, 0x80, 0x09, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54}
	if got, want := formatUUID(b), "0001abcd-ef10-4fff-8009-fedcba987654"; got != want {
		t.Errorf("formatUUID = %q, want %q", got, want)
	}
}

func TestSplitClaimPath(t *testing.T) {
	tests := []struct {
		claim string
		want  []string
	}{
		{"sub", []string{"sub"}},
		{"realm_access.roles", []string{"realm_access", "roles"}},
		{`a\.b`, []string{"a.b"}},
		{`a\.b.c`, []string{"a.b", "c"}},
		{`a\\.b`, []string{`a\`, "b"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.claim, func(t *testing.T) {
			if got := splitClaimPath(tt.claim); !slices.Equal(got, tt.want) {
				t.Errorf("splitClaimPath(%q) = %q, want %q", tt.claim, got, tt.want)
			}
		})
	}
}

func TestHardcodedRoleMapper(t *testing.T) {
	in := testInput()
	in.Scopes = builtinScopes()
	before := slices.Clone(in.RealmRoles)
	in.Client.ProtocolMappers = []client.ProtocolMapper{
		pm("clerk", MapperHardcodedRole, map[string]string{"role": "clerk"}),
		pm("api reader", MapperHardcodedRole, map[string]string{"role": "my.api.reader"}),
		pm("held already", MapperHardcodedRole, map[string]string{"role": "offline_access"}),
	}
	c := Access(in)
	checkClaims(t, []claimCase{
		{"a realm role the user lacks is added", at(c, "realm_access", "roles"),
			`["clerk","default-roles-ldap-demo","offline_access","uma_authorization"]`},
		{"a client role splits at the last dot", at(c, "resource_access", "my.api", "roles"), `["reader"]`},
		{"the client gains an audience through it", c["aud"], `["account","my.api"]`},
	})
	if !slices.Equal(in.RealmRoles, before) {
		t.Errorf("the caller's roles were changed: %v", in.RealmRoles)
	}
	in.Client.ProtocolMappers = nil
	if c := Access(in); slices.Contains(at(c, "realm_access", "roles").([]string), "clerk") {
		t.Errorf("role without the mapper: %v", c["realm_access"])
	}
}

// RefreshFor carries the roles of the access token it is given, which are
// those Refresh maps for itself from the same input.
func TestRefreshForCarriesTheAccessTokensRoles(t *testing.T) {
	in := testInput()
	for _, offline := range []bool{false, true} {
		want := Refresh(in, offline)
		got := RefreshFor(in, offline, Access(in))
		if want["realm_access"] == nil || want["resource_access"] == nil {
			t.Fatalf("the test input maps no roles: %v", want)
		}
		for _, name := range []string{"realm_access", "resource_access", "typ", "scope", "sub", "aud", "exp"} {
			if js(t, got[name]) != js(t, want[name]) {
				t.Errorf("offline %v: %s = %s, want %s", offline, name, js(t, got[name]), js(t, want[name]))
			}
		}
	}
}
