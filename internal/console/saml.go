package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
)

// SAML clients: their settings tab (general, access, SAML capabilities,
// signature and encryption, logout, endpoints) and their Keys tab (the
// client's signing and encryption certificates).

// isSAML reports whether the client speaks SAML.
func isSAML(x rep.Client) bool { return str(x.Protocol) == "saml" }

// samlField ties a setting of the SAML settings form to the client: a
// client attribute, or (attr "") a field of the representation of the
// same name as the setting.
type samlField struct {
	spec
	attr string
}

func samlOptions(pairs ...string) []option {
	out := make([]option, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, option{Value: pairs[i], Label: pairs[i+1]})
	}
	return out
}

// samlFields are the SAML settings tab, worded as Keycloak's console words
// them. The form names avoid dots so that they serve as element ids.
var samlFields = func() []samlField {
	algs := make([]option, 0, len(saml.SignatureAlgorithms))
	for _, a := range saml.SignatureAlgorithms {
		algs = append(algs, option{Value: a, Label: a})
	}
	section := func(label string) samlField { return samlField{spec: spec{Kind: kindSection, Label: label}} }
	field := func(kind, name, label, help string) samlField {
		return samlField{spec: spec{Kind: kind, Name: name, Label: label, Help: help}}
	}
	attr := func(kind, name, attr, label, help string, opts ...option) samlField {
		return samlField{spec: spec{Kind: kind, Name: name, Label: label, Help: help, Options: opts}, attr: attr}
	}
	return []samlField{
		section("General settings"),
		field(kindText, "clientId", "Client ID", "The SP's entity ID: the Issuer of its requests."),
		field(kindText, "name", "Name", ""),
		field(kindText, "description", "Description", ""),
		field(kindBool, "enabled", "Enabled", ""),
		section("Access settings"),
		field(kindText, "rootUrl", "Root URL", "Root URL appended to relative URLs."),
		field(kindText, "baseUrl", "Home URL", "Default URL to use when the auth server needs to redirect or link back to the client."),
		field(kindList, "redirectUris", "Valid redirect URIs", "Assertion consumer URLs the SP may ask for, one per line. A trailing * matches any path below."),
		attr(kindText, "idpInitiatedSsoUrlName", saml.AttrIdPInitiatedURLName, "IDP-Initiated SSO URL name",
			"URL fragment name to reference client when you want to do IDP Initiated SSO. Leaving this empty will disable IDP Initiated SSO."),
		attr(kindText, "idpInitiatedSsoRelayState", saml.AttrIdPInitiatedRelay, "IDP Initiated SSO Relay State",
			"Relay state you want to send with SAML request when you want to do IDP Initiated SSO."),
		field(kindText, "adminUrl", "Master SAML Processing URL",
			"If configured, this URL will be used for every binding to both the SP's Assertion Consumer and Single Logout Services."),
		section("SAML capabilities"),
		attr(kindSelect, "nameIdFormat", saml.AttrNameIDFormat, "Name ID format", "The name ID format to use for the subject.",
			samlOptions("username", "username", "email", "email", "transient", "transient", "persistent", "persistent")...),
		attr(kindBool, "forceNameIdFormat", saml.AttrForceNameIDFormat, "Force name ID format", "Ignore requested NameID subject format and use the configured one instead."),
		attr(kindBool, "forcePostBinding", saml.AttrForcePostBinding, "Force POST binding", "Always use POST binding for responses."),
		attr(kindBool, "forceArtifactBinding", saml.AttrArtifactBinding, "Force artifact binding", "Should response messages be returned to the client through the SAML ARTIFACT binding system?"),
		attr(kindBool, "includeAuthnStatement", saml.AttrAuthnStatement, "Include AuthnStatement", "Should a statement specifying the method and timestamp be included in login responses?"),
		section("Signature and Encryption"),
		attr(kindBool, "signDocuments", saml.AttrServerSignature, "Sign documents", "Should SAML documents be signed by the realm?"),
		attr(kindBool, "signAssertions", saml.AttrAssertionSignature, "Sign assertions", "Should assertions inside SAML documents be signed? This setting is not needed if document is already being signed."),
		attr(kindSelect, "signatureAlgorithm", saml.AttrSignatureAlgorithm, "Signature algorithm", "The signature algorithm to use to sign documents.", algs...),
		attr(kindSelect, "keyNameTransformer", saml.AttrKeyNameTransformer, "SAML signature key name",
			"Signed SAML documents contain identification of signing key in KeyName element: the key ID, the certificate's subject, or nothing.",
			samlOptions(saml.KeyNameKeyID, "KEY_ID", saml.KeyNameCertSubject, "CERT_SUBJECT", saml.KeyNameNone, "NONE")...),
		attr(kindSelect, "canonicalization", saml.AttrCanonicalization, "Canonicalization method", "Canonicalization method for XML signatures.",
			samlOptions(saml.CanonExclusive, "EXCLUSIVE", saml.CanonExclusiveWithComments, "EXCLUSIVE_WITH_COMMENTS",
				saml.CanonInclusive, "INCLUSIVE", saml.CanonInclusiveWithComments, "INCLUSIVE_WITH_COMMENTS")...),
		section("Login settings"),
		field(kindBool, "consentRequired", "Consent required", "Users must approve the client's access."),
		attr(kindNumber, "assertionLifespan", saml.AttrAssertionLifespan, "Assertion Lifespan",
			"Seconds an assertion stays valid (its NotOnOrAfter); 0 uses the realm's access code lifespan."),
		section("Logout settings"),
		field(kindBool, "frontchannelLogout", "Front channel logout", "When true, logout requires a browser redirect to client. When false, server performs a background invocation for logout."),
		section("Fine grain SAML endpoint configuration"),
		attr(kindText, "acsPost", saml.AttrACSPost, "Assertion Consumer Service POST Binding URL", "SAML POST Binding URL for the client's assertion consumer service (login responses)."),
		attr(kindText, "acsRedirect", saml.AttrACSRedirect, "Assertion Consumer Service Redirect Binding URL", "SAML Redirect Binding URL for the client's assertion consumer service (login responses)."),
		attr(kindText, "acsArtifact", saml.AttrACSArtifact, "Assertion Consumer Service ARTIFACT Binding URL", "SAML ARTIFACT Binding URL for the client's assertion consumer service (login responses)."),
		attr(kindText, "sloPost", saml.AttrSLOPost, "Logout Service POST Binding URL", "SAML POST Binding URL for the client's single logout service."),
		attr(kindText, "sloRedirect", saml.AttrSLORedirect, "Logout Service Redirect Binding URL", "SAML Redirect Binding URL for the client's single logout service."),
		attr(kindText, "sloArtifact", saml.AttrSLOArtifact, "Logout Service ARTIFACT Binding URL", "SAML ARTIFACT Binding URL for the client's single logout service."),
		attr(kindText, "sloSoap", saml.AttrSLOSOAP, "Logout Service SOAP Binding URL", "SAML SOAP Binding URL for the client's single logout service."),
	}
}()

// samlValues are the client's values of samlFields, as the JSON a
// settings form reads (fromJSON). A switch the client lacks is off, as
// saml.Settings and so the login endpoint read it; a text or choice it
// lacks shows the value saml.Settings uses in its place. (saml.Settings
// itself is not called: it refuses a client some settings of which do not
// work together, and this page is where an administrator mends them.)
func samlValues(x rep.Client) map[string]any {
	var top map[string]any
	b, _ := json.Marshal(x)
	json.Unmarshal(b, &top)
	values := map[string]any{}
	defaults := saml.Defaults()
	for _, f := range samlFields {
		if f.Kind == kindSection {
			continue
		}
		if f.attr == "" {
			values[f.Name] = top[f.Name]
			continue
		}
		v, ok := x.Attributes[f.attr]
		if !ok && f.Kind != kindBool {
			v = defaults[f.attr]
		}
		switch f.Kind {
		case kindBool:
			values[f.Name] = v == "true"
		case kindNumber:
			n, _ := strconv.Atoi(v)
			values[f.Name] = float64(n)
		case kindSelect:
			if v == "" && len(f.Options) > 0 {
				v = f.Options[0].Value
			}
			values[f.Name] = v
		default:
			values[f.Name] = v
		}
	}
	return values
}

func samlSpecs() []spec {
	out := make([]spec, len(samlFields))
	for i, f := range samlFields {
		out[i] = f.spec
	}
	return out
}

// samlUpdate is the partial representation a submitted SAML settings form
// stands for.
func samlUpdate(body map[string]any) (rep.Client, error) {
	top := map[string]any{}
	attrs := map[string]string{}
	for _, f := range samlFields {
		v, ok := body[f.Name]
		if !ok {
			continue
		}
		if f.attr == "" {
			top[f.Name] = v
			continue
		}
		switch v := v.(type) {
		case bool:
			attrs[f.attr] = strconv.FormatBool(v)
		case int:
			attrs[f.attr] = strconv.Itoa(v)
			if v == 0 {
				attrs[f.attr] = "" // unset: the realm's lifespan
			}
		case string:
			attrs[f.attr] = v
		}
	}
	b, err := json.Marshal(top)
	if err != nil {
		return rep.Client{}, err
	}
	var x rep.Client
	if err := json.Unmarshal(b, &x); err != nil {
		return rep.Client{}, err
	}
	x.Attributes = attrs
	return x, nil
}

// samlSettingsData is the SAML settings tab.
type samlSettingsData struct {
	settingsData
	ID       string
	Adapters []option // adapter configuration downloads: provider id, label
}

// samlClientSettings shows and saves a SAML client's settings tab.
func (h *Handler) samlClientSettings(q *rq, x rep.Client) error {
	v := q.clientView(x, "settings")
	d := &samlSettingsData{settingsData: settingsData{Action: q.realmURL("/clients/" + seg(x.ID)), Editable: q.perms.can("manage-clients")},
		ID: x.ID, Adapters: samlOptions("saml-idp-descriptor", "SAML Metadata IDPSSODescriptor", "keycloak-saml", "Keycloak SAML Adapter keycloak-saml.xml")}
	v.Data = d
	specs := samlSpecs()
	if !q.post() {
		d.Settings = fromJSON(specs, samlValues(x))
		return q.render(http.StatusOK, "client-saml.html", v)
	}
	settings, body, ok := fromForm(specs, q)
	d.Settings = settings
	if !ok {
		v.Error = "Please correct the fields marked below."
		return q.render(http.StatusBadRequest, "client-saml.html", v)
	}
	upd, err := samlUpdate(body)
	if err != nil {
		return err
	}
	if upd.ClientID == "" {
		markError(d.Settings, "clientId must not be empty")
		v.Error = "Enter a client ID."
		return q.render(http.StatusBadRequest, "client-saml.html", v)
	}
	if _, err := q.api(http.MethodPut, q.adminPath("/clients/"+seg(x.ID)), upd, nil); err != nil {
		return q.refused(v, "client-saml.html", err)
	}
	return q.redirect(q.realmURL("/clients/"+seg(x.ID)), "saved")
}

// samlKey is one of the client's keys as the Keys tab shows it.
type samlKey struct {
	Prefix      string // the certificate endpoints' attribute prefix
	Title, Help string
	Switch      string // the switch's form name and label
	SwitchLabel string
	On          bool
	Certificate string
	NewKey      string // a private key just generated, shown once
}

type samlKeysData struct {
	Keys     []samlKey
	Action   string
	Editable bool
}

// samlKeyPrefixes are the key pairs of a SAML client: the certificate its
// requests are signed with, and the one assertions are encrypted to.
var samlKeyPrefixes = []struct{ prefix, title, help, attr, label string }{
	{"saml.signing", "Signing keys config", "The client signs its SAML requests and responses with this key; Gatehouse checks them against the certificate.",
		saml.AttrClientSignature, "Client signature required"},
	{"saml.encryption", "Encryption keys config", "Gatehouse encrypts the assertions it sends to this client with the certificate.",
		saml.AttrEncrypt, "Encrypt assertions"},
}

// samlKeys is a SAML client's Keys tab: whether the client must sign its
// requests and whether its assertions are encrypted, and the certificate
// for each, generated here or imported as PEM.
func (h *Handler) samlKeys(q *rq) error {
	x, err := q.loadClient()
	if err != nil {
		return err
	}
	if !isSAML(x) {
		return errPage(http.StatusNotFound, "Only SAML clients have this tab.")
	}
	base := "/clients/" + seg(x.ID)
	v := q.clientView(x, "keys")
	d := &samlKeysData{Action: q.realmURL(base + "/keys"), Editable: q.perms.can("manage-clients")}
	v.Data = d
	fill := func(x rep.Client) {
		d.Keys = d.Keys[:0]
		for _, p := range samlKeyPrefixes {
			// Absent is off, as saml.Settings reads the switch.
			on := x.Attributes[p.attr]
			d.Keys = append(d.Keys, samlKey{Prefix: p.prefix, Title: p.title, Help: p.help, Switch: strings.ReplaceAll(p.prefix, ".", "-"),
				SwitchLabel: p.label, On: on == "true", Certificate: x.Attributes[p.prefix+".certificate"]})
		}
	}
	fill(x)
	if !q.post() {
		return q.render(http.StatusOK, "client-saml-keys.html", v)
	}
	i := -1
	for j, p := range samlKeyPrefixes {
		if p.prefix == q.form("key") {
			i = j
		}
	}
	if i < 0 {
		return errPage(http.StatusBadRequest, "Unknown key.")
	}
	p := samlKeyPrefixes[i]
	certs := q.adminPath(base + "/certificates/" + seg(p.prefix))
	switch q.form("action") {
	case "switch":
		on := q.checked(d.Keys[i].Switch)
		_, err = q.api(http.MethodPut, q.adminPath(base), rep.Client{Attributes: map[string]string{p.attr: strconv.FormatBool(on)}}, nil)
	case "generate":
		var info struct {
			PrivateKey string `json:"privateKey"`
		}
		if _, err = q.api(http.MethodPost, certs+"/generate", nil, &info); err == nil {
			// The private key is shown this once: Gatehouse keeps only
			// the certificate.
			if x, err = q.loadClient(); err != nil {
				return err
			}
			fill(x)
			d.Keys[i].NewKey = info.PrivateKey
			v.Notice = "New key pair generated. Copy the private key now: it is not shown again."
			return q.render(http.StatusOK, "client-saml-keys.html", v)
		}
	case "import":
		pem := strings.TrimSpace(q.r.PostForm.Get("certificate-" + d.Keys[i].Switch))
		if pem == "" {
			err = &fieldError{"certificate-" + d.Keys[i].Switch, "Paste a certificate in PEM format."}
			break
		}
		if !strings.Contains(pem, "-----BEGIN") {
			pem = "-----BEGIN CERTIFICATE-----\n" + pem + "\n-----END CERTIFICATE-----\n"
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("keystoreFormat", "Certificate PEM")
		fw, _ := mw.CreateFormFile("file", "certificate.pem")
		fw.Write([]byte(pem))
		mw.Close()
		err = q.apiRaw(http.MethodPost, certs+"/upload-certificate", mw.FormDataContentType(), buf.Bytes())
	default:
		return errPage(http.StatusBadRequest, "Unknown action.")
	}
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Field == "" {
			ae.Field = "certificate-" + d.Keys[i].Switch
		}
		return q.refused(v, "client-saml-keys.html", err)
	}
	return q.redirect(q.realmURL(base+"/keys"), "saved")
}

// samlCreate creates a SAML client from the creation form: its entity ID,
// name, description and redirect URIs; the API gives it SAML's defaults.
func (h *Handler) samlCreate(q *rq, v *view, f *clientForm) error {
	f.ClientID, f.Name, f.Description = q.form("clientId"), q.form("name"), q.form("description")
	f.RedirectURIs = lines(q.r.PostForm.Get("redirectUris"))
	f.Protocols = selectOptions(clientProtocols, "saml")
	if f.ClientID == "" {
		return q.refused(v, "client.html", &fieldError{"clientId", "Enter a client ID."})
	}
	x := rep.Client{ClientID: f.ClientID, Name: &f.Name, Description: &f.Description, Enabled: ptr(true),
		Protocol: ptr("saml"), RedirectURIs: f.RedirectURIs, RootURL: q.present("rootUrl")}
	loc, err := q.api(http.MethodPost, q.adminPath("/clients"), x, nil)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			ae.Field = "clientId"
		}
		return q.refused(v, "client.html", err)
	}
	return q.redirect(q.realmURL("/clients/"+seg(lastSegment(loc))), "created")
}

// clientProtocols are the client types the creation form offers.
var clientProtocols = samlOptions("openid-connect", "OpenID Connect", "saml", "SAML")
