package browser_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/broker"
	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// samlBrokerStack is the usual stack whose realm demo signs in through
// corp-saml: realm corp of a second Gatehouse process acting as SAML
// identity provider, with a SAML client for demo's service provider entity
// id (the demo realm's URL) that checks demo's request signatures and
// encrypts its assertions to demo's encryption key. demo's provider is
// configured from corp's IdP metadata, as import-config does.
func samlBrokerStack(t *testing.T) (*stack, *upstream) {
	t.Helper()
	s := newStackWith(t, func(o *server.Options) {
		o.Outbound = outbound.New(outbound.Options{AllowPrivate: true})
	})
	ctx := context.Background()
	ks, err := s.db.ListKeys(ctx, s.realm.ID)
	if err != nil {
		t.Fatal(err)
	}
	sig, ok := keys.Active(ks, keys.RS256)
	if !ok {
		t.Fatal("demo has no RS256 key")
	}
	endpoint := s.issuer() + "/broker/corp-saml/endpoint"
	attrs := map[string]string{
		"saml_assertion_consumer_url_post": endpoint,
		"saml.client.signature":            "true",
		"saml.signing.certificate":         base64.StdEncoding.EncodeToString(sig.Certificate),
		"saml.server.signature":            "true",
		"saml.assertion.signature":         "true",
		"saml.authnstatement":              "true",
		"saml_name_id_format":              "username",
		"saml_force_name_id_format":        "true",
	}
	enc, ok := keys.Active(ks, "RSA-OAEP")
	if !ok || len(enc.Certificate) == 0 {
		t.Fatal("demo has no RSA-OAEP key with a certificate to encrypt assertions to")
	}
	attrs["saml.encrypt"] = "true"
	attrs["saml.encryption.certificate"] = base64.StdEncoding.EncodeToString(enc.Certificate)
	property := func(name string) map[string]any {
		return map[string]any{"name": name, "protocol": "saml", "protocolMapper": "saml-user-property-mapper",
			"config": map[string]string{"user.attribute": name, "attribute.name": name, "attribute.nameformat": "Basic"}}
	}
	ann := upstreamAnn()
	ann["realmRoles"] = []string{"engineer"}
	up := startUpstreamRealm(t, map[string]any{
		"realm": "corp", "enabled": true,
		"roles": map[string]any{"realm": []any{map[string]any{"name": "engineer"}}},
		"clients": []any{map[string]any{"clientId": s.issuer(), "protocol": "saml", "enabled": true, "name": "Gatehouse demo",
			"redirectUris": []string{endpoint}, "attributes": attrs, "frontchannelLogout": true,
			"protocolMappers": []any{property("email"), property("firstName"), property("lastName"),
				map[string]any{"name": "roles", "protocol": "saml", "protocolMapper": "saml-role-list-mapper",
					"config": map[string]string{"attribute.name": "Role", "attribute.nameformat": "Basic", "single": "false"}}}}},
		"users": []any{ann},
	})

	res, err := http.Get(up.issuer() + "/protocol/saml/descriptor")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	md, err := saml.ParseIdPMetadata(body)
	if err != nil {
		t.Fatalf("corp's IdP metadata: %v\n%s", err, body)
	}
	p := idp.New("corp-saml", "saml")
	p.DisplayName = "Corp SAML"
	p.Config = broker.SAMLConfigFromMetadata(md)
	p.Config[idp.SAMLWantAuthnSigned] = "true"
	p.Config[idp.SAMLWantAssertionsSigned] = "true"
	p.Config[idp.SAMLPrincipalType] = idp.PrincipalSubject
	p.Config[idp.SAMLNameIDPolicyFormat] = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	if _, err := s.db.CreateIdentityProvider(ctx, s.realm.ID, p); err != nil {
		t.Fatal(err)
	}
	if err := s.db.CreateRole(ctx, role.Role{ID: store.NewID(), RealmID: s.realm.ID, Name: "partner"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []idp.Mapper{
		{Name: "email", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.name": "email", "user.attribute": "email"}},
		{Name: "first", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.name": "firstName", "user.attribute": "firstName"}},
		{Name: "last", IdentityProviderMapper: idp.MapperSAMLAttributeImporter, Config: map[string]string{"attribute.name": "lastName", "user.attribute": "lastName"}},
		{Name: "engineers", IdentityProviderMapper: idp.MapperSAMLAdvancedRole, Config: map[string]string{
			"attributes": `[{"key":"Role","value":"engineer"}]`, "role": "partner"}},
	} {
		m.IdentityProviderAlias = "corp-saml"
		if _, err := s.db.CreateIdentityProviderMapper(ctx, s.realm.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	return s, up
}

// A person signs in to app-one with their corporate account at a SAML
// identity provider: the login page's "Corp SAML" button sends a signed
// AuthnRequest to the corp login page of the other Gatehouse process, whose
// signed and encrypted assertion comes back by POST; the first broker
// login creates the user from the assertion's attributes, and the
// application gets tokens carrying the role an attribute mapper grants.
func TestBrokerLoginThroughUpstreamSAML(t *testing.T) {
	ctx := newChromium(t)
	s, up := samlBrokerStack(t)
	s.requireCodeGrant(t)

	do(t, ctx, "the login page", chromedp.Navigate(s.rp.url("/app-one/login")), chromedp.WaitVisible(chromedp.ID("social-corp-saml")))
	do(t, ctx, "the provider button", chromedp.Click(chromedp.ID("social-corp-saml")), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(t, ctx); !strings.HasPrefix(loc, up.issuer()+"/") {
		t.Fatalf("not at the upstream process: %s", loc)
	}
	signIn(t, ctx, "ann", upstreamPassword)
	do(t, ctx, "back at the application", chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" {
		t.Fatalf("exchange: %s (error %s)", got, text(t, ctx, "error"))
	}
	if got := text(t, ctx, "user"); got != "ann" {
		t.Errorf("user = %q", got)
	}
	if roles := strings.Fields(text(t, ctx, "roles")); !contains(roles, "partner") {
		t.Errorf("access token roles %v lack the role the attribute mapper grants", roles)
	}
	bctx := context.Background()
	u, err := s.db.GetUserByUsername(bctx, s.realm.ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "Ann" || u.LastName != "Upstream" || !strings.EqualFold(u.Email, "ann@corp.example") {
		t.Errorf("user = %+v", u)
	}
	links, err := s.db.ListFederatedIdentities(bctx, s.realm.ID, u.ID)
	if err != nil || len(links) != 1 || links[0].Alias != "corp-saml" || links[0].FederatedUserID != "ann" {
		t.Fatalf("federated identities = %+v (%v)", links, err)
	}
	ss, err := s.db.ListUserSessions(bctx, s.realm.ID, u.ID, false)
	if err != nil || len(ss) != 1 || ss[0].Notes["identity_provider"] != "corp-saml" || !strings.HasPrefix(ss[0].Notes["BROKER_SESSION_ID"], "corp-saml.") {
		t.Errorf("sessions = %+v (%v)", ss, err)
	}
	screenshot(t, ctx, "broker-saml-login")

	// kc_idp_hint: straight to corp, whose SSO session answers at once; the
	// link exists, so the user signs in without a page.
	do(t, ctx, "log out", chromedp.Navigate(s.rp.url("/app-one/logout")), chromedp.WaitVisible(chromedp.ID("bye")))
	do(t, ctx, "kc_idp_hint", chromedp.Navigate(s.rp.url("/app-one/login?kc_idp_hint=corp-saml")), chromedp.WaitVisible(chromedp.ID("callback")))
	if got := text(t, ctx, "exchange"); got != "ok" || text(t, ctx, "user") != "ann" {
		t.Fatalf("kc_idp_hint login: %s as %s", got, text(t, ctx, "user"))
	}
}
