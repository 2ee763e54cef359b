package saml

import (
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// samlClient is a SAML client as the admin API creates it (Defaults), with
// attrs on top.
func samlClient(attrs map[string]string) client.Client {
	c := client.New("id1", "realm1", spEntity)
	c.Protocol = "saml"
	c.Attributes = Defaults()
	for k, v := range attrs {
		c.Attributes[k] = v
	}
	return c
}

func TestSettingsDefaultsAndAttributes(t *testing.T) {
	// An imported client without the switches: all off, as in Keycloak.
	imported := client.New("id1", "realm1", spEntity)
	imported.Protocol, imported.Attributes = "saml", map[string]string{}
	s, err := Settings(imported)
	if err != nil {
		t.Fatal(err)
	}
	if s.AuthnStatement || s.ServerSignature || s.ClientSignature || s.ForcePostBinding || s.AssertionSignature || s.Encrypt ||
		s.SignatureAlgorithm != RSASHA256 || s.Canonicalization != CanonExclusive || s.NameIDFormat != NameIDUnspecified {
		t.Errorf("no attributes = %+v", s)
	}
	// A client created through the admin API.
	c := samlClient(map[string]string{})
	ApplyDefaults(&c)
	s, err = Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	if !s.AuthnStatement || !s.ServerSignature || !s.ClientSignature || !s.ForcePostBinding || s.AssertionSignature || s.Encrypt ||
		s.SignatureAlgorithm != RSASHA256 || s.Canonicalization != CanonExclusive || s.KeyNameTransformer != KeyNameKeyID ||
		s.NameIDFormat != NameIDUnspecified || s.EntityID != spEntity {
		t.Errorf("defaults = %+v", s)
	}

	_, _, sk := realmKeys(t)
	pemCert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sk.Certificate}))
	s, err = Settings(samlClient(map[string]string{
		AttrAuthnStatement: "false", AttrServerSignature: "false", AttrAssertionSignature: "true", AttrClientSignature: "false",
		AttrSignatureAlgorithm: ECDSASHA384, AttrKeyNameTransformer: KeyNameCertSubject, AttrCanonicalization: CanonInclusive,
		AttrEncrypt: "true", AttrEncryptionCertificate: pemCert, AttrSigningCertificate: base64.StdEncoding.EncodeToString(sk.Certificate),
		AttrEncryptionAlgorithm: EncAES128GCM, AttrNameIDFormat: "email", AttrForceNameIDFormat: "true",
		AttrForcePostBinding: "false", AttrAssertionLifespan: "120", AttrACSPost: " https://sp.example/acs/post ",
		AttrSLORedirect: "https://sp.example/slo", AttrIdPInitiatedURLName: "app1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.AuthnStatement || s.ServerSignature || !s.AssertionSignature || s.ClientSignature || s.SignatureAlgorithm != ECDSASHA384 ||
		s.KeyNameTransformer != KeyNameCertSubject || s.Canonicalization != CanonInclusive || !s.Encrypt ||
		s.EncryptionCert == nil || len(s.SigningCerts) != 1 || !s.SigningCerts[0].Equal(s.EncryptionCert) ||
		s.EncryptionAlgorithm != EncAES128GCM || s.NameIDFormat != NameIDEmail || !s.ForceNameIDFormat || s.ForcePostBinding ||
		s.AssertionLifespan.Seconds() != 120 || s.ACSPost != "https://sp.example/acs/post" || s.SLORedirect != "https://sp.example/slo" ||
		s.IdPInitiatedSSOURLName != "app1" {
		t.Errorf("settings = %+v", s)
	}

	for name, attrs := range map[string]map[string]string{
		"bad certificate": {AttrSigningCertificate: "bm90IGEgY2VydA=="},
		"DSA":             {AttrSignatureAlgorithm: DSASHA1},
		"bad c14n":        {AttrCanonicalization: "urn:x"},
		"bad encryption":  {AttrEncrypt: "true", AttrEncryptionAlgorithm: "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"},
		"bad key transport": {AttrEncrypt: "true", AttrEncryptionCertificate: base64.StdEncoding.EncodeToString(sk.Certificate),
			AttrEncryptionKeyAlg: "http://www.w3.org/2001/04/xmlenc#rsa-1_5"},
		"encrypt without certificate": {AttrEncrypt: "true"},
		"encrypt to an EC key":        {AttrEncrypt: "true", AttrEncryptionCertificate: base64.StdEncoding.EncodeToString(ecKey(t, "P-256").Certificate)},
	} {
		if _, err := Settings(samlClient(attrs)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// DSA_SHA1 on a client that signs nothing does not block it.
	if _, err := Settings(samlClient(map[string]string{AttrSignatureAlgorithm: DSASHA1, AttrServerSignature: "false"})); err != nil {
		t.Errorf("unsigned DSA client: %v", err)
	}
}

func TestValidateClient(t *testing.T) {
	if err := ValidateClient(samlClient(Defaults())); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	oidc := client.New("x", "r", "oidc")
	oidc.Attributes = map[string]string{AttrSignatureAlgorithm: "nonsense"}
	if err := ValidateClient(oidc); err != nil {
		t.Errorf("OIDC client: %v", err)
	}
	for attr, v := range map[string]string{
		AttrSignatureAlgorithm:    DSASHA1,
		AttrCanonicalization:      "x",
		AttrKeyNameTransformer:    "KEY",
		AttrNameIDFormat:          "kerberos",
		AttrAssertionLifespan:     "-5",
		AttrSigningCertificate:    "@@@",
		AttrEncryptionCertificate: "AAAA",
		AttrACSPost:               "javascript:alert(1)",
		AttrSLOSOAP:               "/relative",
		AttrIdPInitiatedURLName:   "a/b",
		AttrEncryptionDigest:      "http://www.w3.org/2001/04/xmldsig-more#md5",
	} {
		err := ValidateClient(samlClient(map[string]string{attr: v}))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s=%q: %v", attr, v, err)
		}
	}
}

func TestACS(t *testing.T) {
	c := samlClient(map[string]string{AttrACSPost: "https://sp.example/acs/post", AttrACSRedirect: "https://sp.example/acs/redirect"})
	c.RedirectURIs = []string{"https://sp.example/other/*"}
	c.AdminURL = "https://sp.example/admin"
	s, err := Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	type res struct{ url, bind string }
	check := func(s ClientSettings, requested, binding string, want res) {
		t.Helper()
		u, b, err := s.ACS(requested, binding)
		if want.url == "" {
			if err == nil {
				t.Errorf("ACS(%q, %q) = %q, want an error", requested, binding, u)
			}
			return
		}
		if err != nil || u != want.url || b != want.bind {
			t.Errorf("ACS(%q, %q) = %q %q %v, want %v", requested, binding, u, b, err, want)
		}
	}
	// Forced POST binding.
	check(s, "", BindingRedirect, res{"https://sp.example/acs/post", BindingPOST})
	check(s, "https://sp.example/acs/redirect", BindingRedirect, res{"https://sp.example/acs/redirect", BindingPOST})
	check(s, "https://sp.example/other/x?y=1", BindingPOST, res{"https://sp.example/other/x?y=1", BindingPOST})
	check(s, "https://evil.example/acs", BindingPOST, res{})
	check(s, "https://sp.example/acs/post/../x", BindingPOST, res{})
	// Without forcing, the request's binding decides.
	s.ForcePostBinding = false
	check(s, "", BindingRedirect, res{"https://sp.example/acs/redirect", BindingRedirect})
	check(s, "", BindingPOST, res{"https://sp.example/acs/post", BindingPOST})
	s.ACSRedirect = ""
	check(s, "", BindingRedirect, res{"https://sp.example/acs/post", BindingPOST})
	s.ACSPost = ""
	check(s, "", BindingPOST, res{"https://sp.example/admin", BindingPOST})
	s.Client.AdminURL = ""
	check(s, "", BindingPOST, res{})
}

func TestNameID(t *testing.T) {
	u := user.User{ID: "u1", RealmID: "r1", Username: "alice", Email: "alice@example.com"}
	s, _ := Settings(samlClient(map[string]string{AttrNameIDFormat: "persistent"}))
	v, f, err := NameID(s, "", u)
	if err != nil || f != NameIDPersistent || !strings.HasPrefix(v, "G-") {
		t.Fatalf("persistent = %q %q %v", v, f, err)
	}
	v2, _, _ := NameID(s, "", u)
	other := s
	other.EntityID = "https://other.example"
	v3, _, _ := NameID(other, "", u)
	if v != v2 || v == v3 {
		t.Errorf("persistent not stable per client: %q %q %q", v, v2, v3)
	}
	u.Attributes = map[string][]string{PersistentNameIDAttribute(spEntity): {"G-stored"}}
	if v, _, _ := NameID(s, "", u); v != "G-stored" {
		t.Errorf("stored persistent = %q", v)
	}
	// The request's format wins unless the client forces its own.
	if v, f, _ := NameID(s, NameIDEmail, u); v != "alice@example.com" || f != NameIDEmail {
		t.Errorf("requested email = %q %q", v, f)
	}
	s.ForceNameIDFormat = true
	if _, f, _ := NameID(s, NameIDEmail, u); f != NameIDPersistent {
		t.Errorf("forced = %q", f)
	}
	s.ForceNameIDFormat = false
	t1, f, _ := NameID(s, NameIDTransient, u)
	t2, _, _ := NameID(s, NameIDTransient, u)
	if f != NameIDTransient || t1 == t2 || !strings.HasPrefix(t1, "G-") {
		t.Errorf("transient = %q %q", t1, t2)
	}
	if v, f, _ := NameID(s, NameIDUnspecified, u); v != "alice" || f != NameIDUnspecified {
		t.Errorf("unspecified = %q %q", v, f)
	}
	u.Email = ""
	if _, _, err := NameID(s, NameIDEmail, u); !errors.Is(err, ErrNoEmail) {
		t.Errorf("no email: %v", err)
	}

	// A NameID mapper for the format in effect gives the value.
	x509 := "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
	mappers := []client.ProtocolMapper{
		{Name: "roles", Protocol: "saml", ProtocolMapper: MapperRoleList},
		{Name: "dn", Protocol: "saml", ProtocolMapper: MapperNameID, Config: map[string]string{"mapper.nameid.format": x509, "user.attribute": "dn"}},
		{Name: "mail", Protocol: "saml", ProtocolMapper: MapperNameID, Config: map[string]string{"mapper.nameid.format": NameIDEmail, "user.attribute": "mail"}},
	}
	u.Attributes = map[string][]string{"dn": {"CN=Alice,O=Example"}, "mail": {"a@corp.example"}}
	if v, f, err := NameID(s, x509, u, mappers...); v != "CN=Alice,O=Example" || f != x509 || err != nil {
		t.Errorf("X509SubjectName = %q %q %v", v, f, err)
	}
	if v, _, _ := NameID(s, NameIDEmail, u, mappers...); v != "a@corp.example" {
		t.Errorf("email by mapper = %q", v)
	}
	if v, f, _ := NameID(s, x509, u); v != "alice" || f != NameIDUnspecified {
		t.Errorf("X509SubjectName without mapper = %q %q", v, f)
	}
	delete(u.Attributes, "dn")
	if _, _, err := NameID(s, x509, u, mappers...); !errors.Is(err, ErrNoNameIDValue) {
		t.Errorf("missing attribute: %v", err)
	}
}

func TestMapAttributes(t *testing.T) {
	u := user.User{Username: "alice", Email: "alice@example.com", FirstName: "Alice",
		Attributes: map[string][]string{"dept": {"eng", "ops"}}}
	s := Subject{User: u, RealmRoles: []string{"admin", "user"}, ClientRoles: map[string][]string{"app": {"viewer"}},
		Groups: []string{"/staff/eng", "/all"}}
	m := func(typ string, cfg map[string]string) client.ProtocolMapper {
		return client.ProtocolMapper{Name: typ, Protocol: "saml", ProtocolMapper: typ, Config: cfg}
	}
	mappers := []client.ProtocolMapper{
		m(MapperUserProperty, map[string]string{"user.attribute": "email", "attribute.name": "urn:oid:1.2.840.113549.1.9.1", "friendly.name": "email", "attribute.nameformat": "URI Reference"}),
		m(MapperUserProperty, map[string]string{"user.attribute": "lastName", "attribute.name": "sn"}), // unset: skipped
		m(MapperUserAttribute, map[string]string{"user.attribute": "dept", "attribute.name": "department", "attribute.nameformat": "Unspecified"}),
		m(MapperHardcodedAttr, map[string]string{"attribute.name": "tenant", "attribute.value": "acme"}),
		m(MapperGroupMembership, map[string]string{"attribute.name": "member", "full.path": "false", "single": "true"}),
		m(MapperRoleList, map[string]string{"attribute.name": "Role", "single": "true"}),
		m(MapperRoleList, map[string]string{"attribute.name": "Ignored", "single": "true"}),
		m(MapperHardcodedRole, map[string]string{"role": "fixed"}),
		m(MapperRoleName, map[string]string{"role": "app.viewer", "new.role.name": "reader"}),
		m(MapperRoleName, map[string]string{"role": "admin", "new.role.name": "superuser"}),
		m(MapperOrganization, map[string]string{}),
		{Name: "oidc", Protocol: "openid-connect", ProtocolMapper: "oidc-hardcoded-claim-mapper", Config: map[string]string{"claim.value": "x"}},
	}
	got := MapAttributes(mappers, s)
	want := []Attribute{
		{Name: "urn:oid:1.2.840.113549.1.9.1", FriendlyName: "email", NameFormat: AttrNameFormatURI, Values: []string{"alice@example.com"}},
		{Name: "department", NameFormat: AttrNameFormatUnspecified, Values: []string{"eng", "ops"}},
		{Name: "tenant", NameFormat: AttrNameFormatBasic, Values: []string{"acme"}},
		{Name: "member", NameFormat: AttrNameFormatBasic, Values: []string{"eng", "all"}},
		{Name: "Role", NameFormat: AttrNameFormatBasic, Values: []string{"fixed", "superuser", "user", "reader"}},
	}
	if !slices.EqualFunc(got, want, func(a, b Attribute) bool {
		return a.Name == b.Name && a.FriendlyName == b.FriendlyName && a.NameFormat == b.NameFormat && slices.Equal(a.Values, b.Values)
	}) {
		t.Errorf("MapAttributes =\n%+v\nwant\n%+v", got, want)
	}
	// Not single: one attribute per role and group, full paths.
	got = MapAttributes([]client.ProtocolMapper{
		m(MapperRoleList, map[string]string{}),
		m(MapperGroupMembership, map[string]string{"full.path": "true"}),
		m(MapperGroupMembership, map[string]string{"attribute.name": "groups", "single": "true"}), // bare names
	}, s)
	var names, values []string
	for _, a := range got {
		names = append(names, a.Name)
		values = append(values, a.Values...)
	}
	if strings.Join(names, ",") != "member,member,groups,Role,Role,Role" || strings.Join(values, ",") != "/staff/eng,/all,eng,all,admin,user,viewer" {
		t.Errorf("per value: %v %v", names, values)
	}
	if a := MapAudiences([]client.ProtocolMapper{m(MapperAudience, map[string]string{"included.client.audience": "app"}),
		m(MapperAudience, map[string]string{"included.custom.audience": "urn:x"})}); strings.Join(a, ",") != "app,urn:x" {
		t.Errorf("MapAudiences = %v", a)
	}
	for _, typ := range []string{MapperUserProperty, MapperUserAttribute, MapperRoleList, MapperHardcodedAttr, MapperGroupMembership, MapperHardcodedRole, MapperRoleName, MapperAudience, MapperOrganization, MapperNameID} {
		if !SupportedMapper(typ) {
			t.Errorf("%s missing from MapperTypes", typ)
		}
	}
}

func TestMetadata(t *testing.T) {
	ik, ik2, sk := realmKeys(t)
	disabled := sk
	disabled.Enabled = false
	ec := ecKey(t, "P-256")
	ec.Enabled, ec.Active = true, true
	// Passive first in the list: active keys still come first.
	b, err := DescriptorFromKeys(realmURL+"/", []keys.Key{ik2, ik, disabled, ec})
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseIdPMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := realmURL + "/protocol/saml"
	if md.EntityID != realmURL+"/" || !md.WantAuthnRequestsSigned || len(md.NameIDFormats) != 4 {
		t.Errorf("metadata = %+v", md)
	}
	for _, bnd := range []string{BindingPOST, BindingRedirect, BindingArtifact, BindingSOAP} {
		if md.SSO[bnd] != endpoint || md.SLO[bnd] != endpoint {
			t.Errorf("%s: SSO %q SLO %q", bnd, md.SSO[bnd], md.SLO[bnd])
		}
	}
	if len(md.SigningCerts) != 2 || !md.SigningCerts[0].Equal(cert(t, ik)) || !md.SigningCerts[1].Equal(cert(t, ik2)) {
		t.Errorf("signing certificates: %d", len(md.SigningCerts))
	}
	if !strings.Contains(string(b), "<ds:KeyName>"+ik.Kid+"</ds:KeyName>") {
		t.Error("key not named by its kid")
	}

	// crewjam/saml's SP metadata, alone and in an EntitiesDescriptor.
	sp := serviceProvider(t, b)
	sp.EncryptionCertificate = cert(t, sk)
	sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	spXML, err := xml.Marshal(sp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	wrapped := []byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` +
		string(b[strings.Index(string(b), "<md:EntityDescriptor"):]) + string(spXML) + `</md:EntitiesDescriptor>`)
	for _, doc := range [][]byte{spXML, wrapped} {
		spMD, err := ParseSPMetadata(doc)
		if err != nil {
			t.Fatal(err)
		}
		if spMD.EntityID != spEntity || spMD.ACS[BindingPOST] != spACS || len(spMD.SigningCerts) == 0 ||
			!spMD.SigningCerts[0].Equal(cert(t, sk)) || len(spMD.EncryptionCerts) == 0 {
			t.Errorf("SP metadata = %+v", spMD)
		}
	}
	if _, err := ParseSPMetadata(b); err == nil {
		t.Error("an IdP descriptor read as SP metadata")
	}
	if _, err := ParseIdPMetadata(append([]byte(`<!DOCTYPE x>`), b[strings.Index(string(b), "<md:EntityDescriptor"):]...)); !errors.Is(err, ErrMalformed) {
		t.Errorf("DOCTYPE in metadata: %v", err)
	}
}
