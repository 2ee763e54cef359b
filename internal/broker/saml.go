package broker

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
)

// SAML 2.0 identity providers: Gatehouse is the service provider. A login
// sends an AuthnRequest (signed when the upstream wants it) by the
// HTTP-Redirect or HTTP-POST binding; the upstream posts a Response back
// to the broker endpoint, which the crewjam/saml service provider
// validates: the XML signature with the configured certificates, the
// issuer, the audience (Gatehouse's entity id), the Destination and
// Recipient (the endpoint), the validity window, and InResponseTo (the
// request this login sent). Encrypted assertions are decrypted with the
// realm's encryption keys. Each accepted Response and Assertion ID is
// spent in the store, so a replayed one is refused on any node.

// ErrSAML is a SAML message from the upstream that fails validation.
var ErrSAML = errors.New("broker: invalid SAML response")

// maxSAMLMessage bounds a SAML message from the upstream, decoded.
const maxSAMLMessage = 256 << 10

// Spend records a single-use value until a time; it reports false when
// the value was spent before (store.DB.ConsumeOnce, keyed for the
// provider).
type Spend func(key string, until time.Time) (bool, error)

// SAML is one upstream SAML identity provider, built from an identity
// provider's configuration.
type SAML struct {
	Alias  string
	Config map[string]string
	// RealmURL is the realm's public URL: Gatehouse's default entity id,
	// and the base of the broker endpoint.
	RealmURL string
	// RealmKeys are the realm's keys: requests are signed with the active
	// RS256 key, encrypted assertions are decrypted with the RSA-OAEP ones.
	RealmKeys []keys.Key
	Now       time.Time
	// Spend keeps Response and Assertion IDs (nil only where nothing is
	// validated, as for the metadata).
	Spend Spend
}

// SAMLAttribute is one attribute of an upstream assertion.
type SAMLAttribute struct {
	Name         string   `json:"name"`
	FriendlyName string   `json:"friendly_name,omitempty"`
	Values       []string `json:"values"`
}

// SAMLIdentity is what an upstream assertion said beyond the user's
// profile: the subject's NameID, the upstream session (for its logout)
// and the attributes the mappers read.
type SAMLIdentity struct {
	NameID       string          `json:"name_id"`
	NameIDFormat string          `json:"name_id_format,omitempty"`
	SessionIndex string          `json:"session_index,omitempty"`
	Attributes   []SAMLAttribute `json:"attributes,omitempty"`
}

// Values are the values of the attributes named name (by Name) or
// friendly (by FriendlyName); an empty criterion matches any. Several
// attributes of the same name count as one with all their values.
func (s *SAMLIdentity) Values(name, friendly string) []string {
	if s == nil || (name == "" && friendly == "") {
		return nil
	}
	var out []string
	for _, a := range s.Attributes {
		if (name == "" || a.Name == name) && (friendly == "" || a.FriendlyName == friendly) {
			out = append(out, a.Values...)
		}
	}
	return out
}

// valuesByKey are the values of the attributes whose Name or FriendlyName
// is key (what the advanced mappers match).
func (s *SAMLIdentity) valuesByKey(key string) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, a := range s.Attributes {
		if a.Name == key || a.FriendlyName == key {
			out = append(out, a.Values...)
		}
	}
	return out
}

// EndpointURL is the broker endpoint, where the upstream sends Responses
// and logout messages (the assertion consumer and single logout service).
func (p *SAML) EndpointURL() string {
	return p.RealmURL + "/broker/" + url.PathEscape(p.Alias) + "/endpoint"
}

// EntityID is Gatehouse's entity id at the upstream: the configured one,
// else the realm's URL.
func (p *SAML) EntityID() string {
	if v := strings.TrimSpace(p.Config[idp.SAMLEntityID]); v != "" {
		return v
	}
	return p.RealmURL
}

func (p *SAML) bool(key string) bool { return p.Config[key] == "true" }

func binding(post bool) string {
	if post {
		return crewjam.HTTPPostBinding
	}
	return crewjam.HTTPRedirectBinding
}

// signatureMethods maps the configured signature algorithm to XML DSig's.
var signatureMethods = map[string]string{
	saml.RSASHA1:     dsig.RSASHA1SignatureMethod,
	saml.RSASHA256:   dsig.RSASHA256SignatureMethod,
	saml.RSASHA512:   dsig.RSASHA512SignatureMethod,
	saml.ECDSASHA256: dsig.ECDSASHA256SignatureMethod,
	saml.ECDSASHA384: dsig.ECDSASHA384SignatureMethod,
	saml.ECDSASHA512: dsig.ECDSASHA512SignatureMethod,
}

// algorithm is the configured signature algorithm, RSA_SHA256 by default.
func (p *SAML) algorithm() string {
	if a := p.Config[idp.SAMLSignatureAlgorithm]; a != "" {
		return a
	}
	return saml.RSASHA256
}

// Signer is what signs the requests Gatehouse sends the upstream (the
// realm key for the configured algorithm, named as configured), nil when
// the upstream wants them unsigned.
func (p *SAML) Signer() (*saml.Signer, error) {
	if !p.bool(idp.SAMLWantAuthnSigned) {
		return nil, nil
	}
	s, err := saml.SignerFor(p.RealmKeys, p.algorithm())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if t := p.Config[idp.SAMLKeyNameTransformer]; t != "" {
		s.KeyName = t
	}
	return &s, nil
}

// encryptionKeys are the realm's enabled RSA-OAEP keys, the active one
// first, with the certificate of the first (what the metadata publishes).
func (p *SAML) encryptionKeys() ([]*rsa.PrivateKey, *x509.Certificate) {
	var out []*rsa.PrivateKey
	var cert *x509.Certificate
	ordered := slices.Clone(p.RealmKeys)
	if a, ok := keys.Active(p.RealmKeys, "RSA-OAEP"); ok {
		ordered = append([]keys.Key{a}, ordered...)
	}
	seen := map[string]bool{}
	for _, k := range ordered {
		if !k.Enabled || k.Use != "enc" || !strings.HasPrefix(k.Algorithm, "RSA") || seen[k.ID+k.Kid] {
			continue
		}
		seen[k.ID+k.Kid] = true
		priv, err := k.RSAPrivate()
		if err != nil {
			continue
		}
		if cert == nil && len(k.Certificate) > 0 {
			cert, _ = x509.ParseCertificate(k.Certificate)
		}
		out = append(out, priv)
	}
	return out, cert
}

// SigningCertificates are the upstream's configured signing certificates.
func (p *SAML) SigningCertificates() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, c := range idp.SAMLSigningCertificates(p.Config) {
		cert, err := saml.ParseCertificate(c)
		if err != nil {
			return nil, fmt.Errorf("%w: signing certificate: %w", ErrConfig, err)
		}
		out = append(out, cert)
	}
	return out, nil
}

// serviceProvider is the crewjam service provider for one exchange with
// the upstream whose entity id is issuer.
func (p *SAML) serviceProvider(issuer string) (*crewjam.ServiceProvider, error) {
	endpoint, err := url.Parse(p.EndpointURL())
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint: %w", ErrConfig, err)
	}
	descriptor, _ := url.Parse(p.EndpointURL() + "/descriptor")
	sso := p.Config[idp.SAMLSingleSignOnURL]
	certs, err := p.SigningCertificates()
	if err != nil {
		return nil, err
	}
	var kds []crewjam.KeyDescriptor
	for _, c := range certs {
		kds = append(kds, crewjam.KeyDescriptor{Use: "signing", KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{
			X509Certificates: []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(c.Raw)}}}}})
	}
	idpDesc := crewjam.IDPSSODescriptor{
		SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{
			ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol", KeyDescriptors: kds}},
		SingleSignOnServices: []crewjam.Endpoint{{Binding: binding(p.bool(idp.SAMLPostBindingAuthn)), Location: sso}},
	}
	if slo := p.Config[idp.SAMLSingleLogoutURL]; slo != "" {
		idpDesc.SingleLogoutServices = []crewjam.Endpoint{{Binding: binding(p.postLogout()), Location: slo}}
	}
	sp := &crewjam.ServiceProvider{
		EntityID:    p.EntityID(),
		MetadataURL: *descriptor,
		AcsURL:      *endpoint,
		SloURL:      *endpoint,
		IDPMetadata: &crewjam.EntityDescriptor{EntityID: issuer, IDPSSODescriptors: []crewjam.IDPSSODescriptor{idpDesc}},
		Clock:       dsig.NewFakeClockAt(p.Now),
		// A certificate in an identity provider's configuration is a
		// container for its public key (as in SAML metadata): its
		// validity dates are not what makes a signature good.
		IgnoreCertificateExpiry:          true,
		AuthnNameIDFormat:                crewjam.NameIDFormat(p.Config[idp.SAMLNameIDPolicyFormat]),
		SendUnspecifiedNameIDFormat:      true,
		AssertionConsumerServiceBindings: []string{crewjam.HTTPPostBinding},
		LogoutBindings:                   []string{crewjam.HTTPPostBinding, crewjam.HTTPRedirectBinding},
	}
	if sp.AuthnNameIDFormat == "" {
		sp.AuthnNameIDFormat = crewjam.UnspecifiedNameIDFormat
	}
	if p.bool(idp.SAMLForceAuthn) {
		t := true
		sp.ForceAuthn = &t
	}
	if p.Spend != nil {
		sp.ReplayCache = replayCache{spend: p.Spend}
	}
	// The metadata publishes the realm's RSA signing certificate; requests
	// are signed with the key of the configured algorithm when asked.
	if s, err := saml.SignerFor(p.RealmKeys, saml.RSASHA256); err == nil && s.Cert != nil {
		sp.Key, sp.Certificate = s.Key, s.Cert
	}
	signer, err := p.Signer()
	if err != nil {
		return nil, err
	}
	if signer != nil {
		if signer.Cert == nil {
			return nil, fmt.Errorf("%w: the realm key for %s has no certificate", ErrConfig, p.algorithm())
		}
		sp.Key, sp.Certificate, sp.SignatureMethod = signer.Key, signer.Cert, signatureMethods[signer.Algorithm]
	}
	if encKeys, encCert := p.encryptionKeys(); len(encKeys) > 0 {
		sp.EncryptionKey, sp.DecryptionKeys, sp.EncryptionCertificate = encKeys[0], encKeys[1:], encCert
	}
	return sp, nil
}

func (p *SAML) postLogout() bool {
	if v, ok := p.Config[idp.SAMLPostBindingLogout]; ok {
		return v == "true"
	}
	return p.bool(idp.SAMLPostBindingResponse)
}

// replayCache spends assertion IDs through the store.
type replayCache struct{ spend Spend }

func (c replayCache) Consume(id string, until time.Time) error {
	fresh, err := c.spend("assertion:"+id, until)
	if err != nil {
		return err
	}
	if !fresh {
		return crewjam.ErrAssertionReplayed
	}
	return nil
}

// SAMLRequest is an AuthnRequest on its way to the upstream: by redirect
// to RedirectURL, or by a form posting SAMLRequest and RelayState to
// PostURL.
type SAMLRequest struct {
	ID          string
	RedirectURL string
	PostURL     string
	SAMLRequest string // base64, for the form
	RelayState  string
}

// AuthnRequest builds the request a login sends to the upstream; relay is
// the RelayState the upstream sends back with its Response.
func (p *SAML) AuthnRequest(relay string) (SAMLRequest, error) {
	var out SAMLRequest
	sso := p.Config[idp.SAMLSingleSignOnURL]
	if u, err := url.Parse(sso); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return out, fmt.Errorf("%w: singleSignOnServiceUrl %q", ErrConfig, sso)
	}
	sp, err := p.serviceProvider(p.Config[idp.SAMLIdPEntityID])
	if err != nil {
		return out, err
	}
	post := p.bool(idp.SAMLPostBindingAuthn)
	// The request is signed once it is complete (below), not as built.
	method := sp.SignatureMethod
	sp.SignatureMethod = ""
	req, err := sp.MakeAuthenticationRequest(sso, binding(post), binding(p.bool(idp.SAMLPostBindingResponse)))
	sp.SignatureMethod = method
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if req.NameIDPolicy != nil {
		allow := p.Config[idp.SAMLAllowCreate] != "false"
		req.NameIDPolicy.AllowCreate = &allow
	}
	if n, err := strconv.Atoi(p.Config[idp.SAMLAttributeConsumingIdx]); err == nil && n >= 0 {
		req.AttributeConsumingServiceIndex = strconv.Itoa(n)
	}
	if method != "" && post {
		// The Redirect binding signs the query instead.
		if err := sp.SignAuthnRequest(req); err != nil {
			return out, fmt.Errorf("%w: sign: %w", ErrConfig, err)
		}
	}
	out.ID, out.RelayState = req.ID, relay
	if post {
		doc := etree.NewDocument()
		doc.SetRoot(req.Element())
		b, err := doc.WriteToBytes()
		if err != nil {
			return out, err
		}
		out.PostURL, out.SAMLRequest = sso, base64.StdEncoding.EncodeToString(b)
		return out, nil
	}
	u, err := req.Redirect(relay, sp)
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	out.RedirectURL = u.String()
	return out, nil
}

// Login validates a Response (decoded XML) the upstream sent to the
// endpoint for the request requestID, and describes the user.
func (p *SAML) Login(raw []byte, requestID string) (Identity, error) {
	var id Identity
	if p.Spend == nil {
		return id, fmt.Errorf("%w: no store to spend Response and Assertion IDs in", ErrConfig)
	}
	if len(raw) > maxSAMLMessage {
		return id, fmt.Errorf("%w: message too large", ErrSAML)
	}
	head, err := peek(raw)
	if err != nil {
		return id, err
	}
	if err := p.validating(); err != nil {
		return id, err
	}
	if p.bool(idp.SAMLWantAssertionsEncrypt) && !head.encrypted {
		return id, fmt.Errorf("%w: the assertion is not encrypted", ErrSAML)
	}
	issuer := p.Config[idp.SAMLIdPEntityID]
	if issuer == "" {
		// No entity id configured: the issuer is not checked, the
		// signature by the configured certificate is what counts.
		issuer = head.issuer
	}
	sp, err := p.serviceProvider(issuer)
	if err != nil {
		return id, err
	}
	endpoint, _ := url.Parse(p.EndpointURL())
	a, err := sp.ParseXMLResponse(raw, []string{requestID}, *endpoint)
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		return id, fmt.Errorf("%w: %w", ErrSAML, err)
	}
	if err := p.checkAssertion(a); err != nil {
		return id, err
	}
	if head.id == "" {
		return id, fmt.Errorf("%w: Response without an ID", ErrSAML)
	}
	if fresh, err := p.Spend("response:"+head.id, a.Conditions.NotOnOrAfter.Add(time.Duration(idp.SAMLClockSkew(p.Config))*time.Second+crewjam.MaxClockSkew)); err != nil {
		return id, err
	} else if !fresh {
		return id, fmt.Errorf("%w: Response %q was used before", ErrSAML, head.id)
	}
	return p.identity(a)
}

// validating refuses a provider whose Responses are not validated: an
// unsigned Response proves nothing about who sent it.
func (p *SAML) validating() error {
	if why := idp.SAMLLoginsRefused(p.Config); why != "" {
		return fmt.Errorf("%w: %s: logins through the provider are refused", ErrConfig, why)
	}
	return nil
}

// ErrorStatus checks a Response with an error status (the upstream
// cancelled or refused the login) before the login acts on it, as Login
// checks a success: the whole Response signed by a configured certificate,
// issued by the configured entity id, sent to the endpoint, answering
// requestID. It returns the Response as its signature covers it.
func (p *SAML) ErrorStatus(m *saml.Message, requestID string) (saml.Response, error) {
	var resp saml.Response
	if err := p.validating(); err != nil {
		return resp, err
	}
	certs, err := p.SigningCertificates()
	if err != nil {
		return resp, err
	}
	if !m.Signed() {
		return resp, fmt.Errorf("%w: the error status is not signed", ErrSAML)
	}
	if err := m.Verify(certs); err != nil {
		return resp, fmt.Errorf("%w: error status: %w", ErrSAML, err)
	}
	// Read again: the values are now those of the signed element.
	if resp, err = m.Response(); err != nil {
		return resp, fmt.Errorf("%w: %w", ErrSAML, err)
	}
	switch want := p.Config[idp.SAMLIdPEntityID]; {
	case want != "" && resp.Issuer != want:
		return resp, fmt.Errorf("%w: error status issued by %q", ErrSAML, resp.Issuer)
	case resp.Destination != p.EndpointURL():
		return resp, fmt.Errorf("%w: error status for another Destination %q", ErrSAML, resp.Destination)
	case resp.InResponseTo != requestID:
		return resp, fmt.Errorf("%w: error status answering another request", ErrSAML)
	case resp.StatusCode == saml.StatusSuccess:
		return resp, fmt.Errorf("%w: not an error status", ErrSAML)
	}
	return resp, nil
}

// checkAssertion applies what the configuration asks beyond the
// library's checks: a signature on the assertion itself, and the
// validity window with the configured clock skew.
func (p *SAML) checkAssertion(a *crewjam.Assertion) error {
	if p.bool(idp.SAMLWantAssertionsSigned) && a.Signature == nil {
		return fmt.Errorf("%w: the assertion is not signed", ErrSAML)
	}
	skew := time.Duration(idp.SAMLClockSkew(p.Config)) * time.Second
	c := a.Conditions
	if !c.NotOnOrAfter.IsZero() && !p.Now.Before(c.NotOnOrAfter.Add(skew)) {
		return fmt.Errorf("%w: the assertion expired at %s", ErrSAML, c.NotOnOrAfter)
	}
	if !c.NotBefore.IsZero() && p.Now.Add(skew).Before(c.NotBefore) {
		return fmt.Errorf("%w: the assertion is not valid before %s", ErrSAML, c.NotBefore)
	}
	return nil
}

// identity describes the user of a validated assertion: the principal
// (the NameID or an attribute, as configured) is the federated user id;
// the username is the principal too, unless a mapper sets another.
func (p *SAML) identity(a *crewjam.Assertion) (Identity, error) {
	var id Identity
	s := &SAMLIdentity{}
	if a.Subject != nil && a.Subject.NameID != nil {
		s.NameID, s.NameIDFormat = strings.TrimSpace(a.Subject.NameID.Value), a.Subject.NameID.Format
	}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			s.SessionIndex = st.SessionIndex
			break
		}
	}
	for _, as := range a.AttributeStatements {
		for _, at := range as.Attributes {
			x := SAMLAttribute{Name: at.Name, FriendlyName: at.FriendlyName, Values: []string{}}
			for _, v := range at.Values {
				x.Values = append(x.Values, v.Value)
			}
			s.Attributes = append(s.Attributes, x)
		}
	}
	principal := s.NameID
	switch idp.SAMLPrincipal(p.Config) {
	case idp.PrincipalAttribute:
		principal = first(s.Values(p.Config[idp.SAMLPrincipalAttribute], ""))
	case idp.PrincipalFriendlyAttribute:
		principal = first(s.Values("", p.Config[idp.SAMLPrincipalAttribute]))
	}
	if principal == "" {
		return id, fmt.Errorf("%w: no principal (%s %q) in the assertion", ErrSAML, idp.SAMLPrincipal(p.Config), p.Config[idp.SAMLPrincipalAttribute])
	}
	id = Identity{ID: principal, Username: principal, SessionID: s.SessionIndex, SAML: s}
	if s.NameIDFormat == string(crewjam.EmailAddressNameIDFormat) || strings.HasSuffix(s.NameIDFormat, ":emailAddress") {
		id.Email = s.NameID
	}
	return id, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// head is what is read of a Response before validating it: its ID, its
// issuer (when the provider names no entity id) and whether it carries an
// encrypted assertion. Nothing here is trusted.
type head struct {
	id, issuer string
	encrypted  bool
}

func peek(raw []byte) (head, error) {
	var h head
	var r struct {
		XMLName   xml.Name
		ID        string `xml:"ID,attr"`
		Issuer    string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
		Encrypted []struct {
			XMLName xml.Name
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion EncryptedAssertion"`
	}
	d := xml.NewDecoder(strings.NewReader(string(raw)))
	d.Strict = true
	if err := d.Decode(&r); err != nil {
		return h, fmt.Errorf("%w: not XML: %w", ErrSAML, err)
	}
	if r.XMLName.Space != "urn:oasis:names:tc:SAML:2.0:protocol" || r.XMLName.Local != "Response" {
		return h, fmt.Errorf("%w: not a Response", ErrSAML)
	}
	return head{id: r.ID, issuer: strings.TrimSpace(r.Issuer), encrypted: len(r.Encrypted) > 0}, nil
}

// Metadata is Gatehouse's service provider metadata for the upstream: its
// entity id, the endpoint as assertion consumer and single logout
// service, the signing and encryption certificates and the NameID format.
func (p *SAML) Metadata() ([]byte, error) {
	sp, err := p.serviceProvider(p.Config[idp.SAMLIdPEntityID])
	if err != nil {
		return nil, err
	}
	ed := sp.Metadata()
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		signed, wantSigned := p.bool(idp.SAMLWantAuthnSigned), p.bool(idp.SAMLWantAssertionsSigned)
		d.AuthnRequestsSigned, d.WantAssertionsSigned = &signed, &wantSigned
		acsBinding := binding(p.bool(idp.SAMLPostBindingResponse))
		d.AssertionConsumerServices = []crewjam.IndexedEndpoint{{Binding: acsBinding, Location: p.EndpointURL(), Index: 1}}
		if f := p.Config[idp.SAMLNameIDPolicyFormat]; f != "" {
			d.NameIDFormats = []crewjam.NameIDFormat{crewjam.NameIDFormat(f)}
		}
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

// SAMLConfigFromMetadata is the configuration of a SAML provider that an
// identity provider's metadata gives: its entity id, its single sign-on
// and logout services (the POST binding preferred, which then carries the
// requests too), the NameID format it lists first, whether it wants signed
// requests, and its signing certificates, whose presence turns signature
// validation on.
func SAMLConfigFromMetadata(md saml.IdPMetadata) map[string]string {
	cfg := map[string]string{idp.SAMLIdPEntityID: md.EntityID, idp.SAMLLoginHint: "false",
		idp.SAMLWantAuthnSigned: strconv.FormatBool(md.WantAuthnRequestsSigned), idp.SAMLValidateSignature: strconv.FormatBool(md.WantAuthnRequestsSigned),
		idp.SAMLPostBindingResponse: "false", idp.SAMLPostBindingAuthn: "false", idp.SAMLPostBindingLogout: "false"}
	if u := md.SSO[saml.BindingPOST]; u != "" {
		cfg[idp.SAMLSingleSignOnURL], cfg[idp.SAMLPostBindingResponse], cfg[idp.SAMLPostBindingAuthn] = u, "true", "true"
	} else if u := md.SSO[saml.BindingRedirect]; u != "" {
		cfg[idp.SAMLSingleSignOnURL] = u
	}
	if u := md.SLO[saml.BindingPOST]; u != "" {
		cfg[idp.SAMLSingleLogoutURL], cfg[idp.SAMLPostBindingLogout] = u, "true"
	} else if u := md.SLO[saml.BindingRedirect]; u != "" {
		cfg[idp.SAMLSingleLogoutURL] = u
	}
	if len(md.NameIDFormats) > 0 {
		cfg[idp.SAMLNameIDPolicyFormat] = md.NameIDFormats[0]
	}
	var certs []string
	for _, c := range md.SigningCerts {
		certs = append(certs, base64.StdEncoding.EncodeToString(c.Raw))
	}
	if len(certs) > 0 {
		cfg[idp.SAMLSigningCertificate], cfg[idp.SAMLValidateSignature] = strings.Join(certs, ","), "true"
	}
	if len(md.EncryptionCerts) > 0 {
		cfg["encryptionPublicKey"] = base64.StdEncoding.EncodeToString(md.EncryptionCerts[0].Raw)
	}
	cfg[idp.SAMLEnabledFromMetadata] = "true"
	return cfg
}
