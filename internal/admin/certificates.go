package admin

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// certificateRoutes serves /clients/{id}/certificates/{attr}: the key a
// client signs with, kept in the client's attributes under the prefix attr
// ("jwt.credential" for private_key_jwt client authentication). Gatehouse
// keeps the certificate or public key only: a private key it generates is
// handed out once and never stored, since only the client signs with it.
func (h *Handler) certificateRoutes(mux Mux, base string) {
	var a clientsAPI
	// The keys are how the client authenticates: changing them is manage's,
	// never configure's (configurable, clients.go).
	h.handle(mux, "GET "+base, clientView, a.keyInfo)
	h.handle(mux, "POST "+base+"/generate", clientManage, a.generateKey)
	h.handle(mux, "POST "+base+"/upload", clientManage, a.uploadKey)
	h.handle(mux, "POST "+base+"/upload-certificate", clientManage, a.uploadKey)
	h.handle(mux, "POST "+base+"/download", clientView, a.downloadKey)
	h.handle(mux, "POST "+base+"/generate-and-download", clientManage, a.generateAndDownloadKey)
}

// certificateRep is Keycloak's CertificateRepresentation.
type certificateRep struct {
	PrivateKey  string `json:"privateKey,omitempty"`
	PublicKey   string `json:"publicKey,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	Kid         string `json:"kid,omitempty"`
}

// Attribute suffixes under the certificate prefix, in Keycloak's names.
const (
	certAttrCertificate = ".certificate"
	certAttrPublicKey   = ".public.key"
	certAttrKid         = ".kid"
	certAttrPrivateKey  = ".private.key"
)

func (a clientsAPI) keyInfo(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	p := rq.R.PathValue("attr")
	return rq.JSON(certificateRep{Certificate: c.Attributes[p+certAttrCertificate],
		PublicKey: c.Attributes[p+certAttrPublicKey], Kid: c.Attributes[p+certAttrKid]})
}

// storeCertificate replaces the key material under the prefix with info's
// (an empty field removes its attribute), as a new key does. A private key
// kept beside the old certificate (a SAML client's pair made at creation)
// no longer matches and goes too.
func (a clientsAPI) storeCertificate(rq *Request, info certificateRep) error {
	p := rq.R.PathValue("attr")
	_, err := a.editClient(rq, func(c *client.Client) error {
		attrs := maps.Clone(c.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		for suffix, v := range map[string]string{certAttrCertificate: info.Certificate,
			certAttrPublicKey: info.PublicKey, certAttrKid: info.Kid, certAttrPrivateKey: ""} {
			if v == "" {
				delete(attrs, p+suffix)
			} else {
				attrs[p+suffix] = v
			}
		}
		c.Attributes = attrs
		return nil
	})
	return err
}

// newKeyPair makes an RSA key and self-signed certificate named after the
// client, the way realm keys are made.
func (a clientsAPI) newKeyPair(rq *Request) (keys.Key, certificateRep, error) {
	c, err := a.load(rq)
	if err != nil {
		return keys.Key{}, certificateRep{}, err
	}
	k, err := keys.GenerateRSA(c.ClientID, rq.Now())
	if err != nil {
		return k, certificateRep{}, err
	}
	return k, certificateRep{
		PrivateKey:  base64.StdEncoding.EncodeToString(k.Private),
		Certificate: base64.StdEncoding.EncodeToString(k.Certificate),
	}, nil
}

func (a clientsAPI) generateKey(rq *Request) error {
	_, info, err := a.newKeyPair(rq)
	if err != nil {
		return err
	}
	if err := a.storeCertificate(rq, certificateRep{Certificate: info.Certificate}); err != nil {
		return err
	}
	return rq.JSON(info)
}

// Upload formats of the console's "Import key" dialog.
const (
	formatCertificatePEM = "Certificate PEM"
	formatPublicKeyPEM   = "Public Key PEM"
	formatJWKS           = "JSON Web Key Set"
	formatPKCS12         = "PKCS12"
)

// uploadKey takes a certificate, public key, JWKS or PKCS#12 keystore from
// a multipart form (keystoreFormat, file, and for a keystore its
// storePassword) and answers what it read.
func (a clientsAPI) uploadKey(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	if err := rq.requireClientTakeover(rq.R.Context(), c.ID); err != nil {
		return err
	}
	rq.R.Body = http.MaxBytesReader(rq.W, rq.R.Body, maxJSONBody)
	if err := rq.R.ParseMultipartForm(1 << 20); err != nil {
		return badRequest("keystoreFormat cannot be null")
	}
	format := rq.R.FormValue("keystoreFormat")
	if format == "" {
		return badRequest("keystoreFormat cannot be null")
	}
	f, _, err := rq.R.FormFile("file")
	if err != nil {
		return badRequest("file cannot be empty")
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil || len(data) == 0 {
		return badRequest("file cannot be empty")
	}
	var info certificateRep
	switch format {
	case formatCertificatePEM:
		der, err := pemBody(string(data))
		if err == nil {
			_, err = x509.ParseCertificate(der)
		}
		if err != nil {
			return badRequest("Invalid certificate")
		}
		info.Certificate = base64.StdEncoding.EncodeToString(der)
	case formatPublicKeyPEM:
		der, err := pemBody(string(data))
		if err == nil {
			_, err = x509.ParsePKIXPublicKey(der)
		}
		if err != nil {
			return badRequest("Invalid public key")
		}
		info.PublicKey = base64.StdEncoding.EncodeToString(der)
	case formatJWKS:
		return a.uploadJWKS(rq, data)
	case formatPKCS12:
		_, cert, _, err := pkcs12.DecodeChain(data, rq.R.FormValue("storePassword"))
		if err != nil {
			return badRequest("error loading keystore")
		}
		info.Certificate = base64.StdEncoding.EncodeToString(cert.Raw)
	default:
		return badRequest("error loading keystore")
	}
	if err := a.storeCertificate(rq, info); err != nil {
		return err
	}
	return rq.JSON(info)
}

// uploadJWKS keeps a JSON Web Key Set as the client's keys (use.jwks.string
// and jwks.string, which client authentication reads) and answers the
// first signing key's kid.
func (a clientsAPI) uploadJWKS(rq *Request, data []byte) error {
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Use string `json:"use"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) == 0 {
		return badRequest("Invalid JSON Web Key Set")
	}
	var info certificateRep
	for _, k := range set.Keys {
		if k.Use != "enc" {
			info.Kid = k.Kid
			break
		}
	}
	_, err := a.editClient(rq, func(c *client.Client) error {
		attrs := maps.Clone(c.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["use.jwks.string"] = "true"
		attrs["jwks.string"] = string(data)
		attrs[clientkeys.UseJWKSURLAttr] = "false"
		c.Attributes = attrs
		return nil
	})
	if err != nil {
		return err
	}
	return rq.JSON(info)
}

// pemBody decodes a PEM block, or base64 text without the BEGIN and END
// lines, as Keycloak accepts both.
func pemBody(s string) ([]byte, error) {
	if b, _ := pem.Decode([]byte(s)); b != nil {
		return b.Bytes, nil
	}
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}

// keyStoreConfig is Keycloak's KeyStoreConfig.
type keyStoreConfig struct {
	Format           string  `json:"format"`
	KeyAlias         string  `json:"keyAlias"`
	KeyPassword      *string `json:"keyPassword"`
	StorePassword    *string `json:"storePassword"`
	RealmCertificate *bool   `json:"realmCertificate"`
	RealmAlias       string  `json:"realmAlias"`
}

// errUnsupportedKeystore is Keycloak's answer to a keystore format the
// server cannot write; Gatehouse writes PKCS#12 only.
var errUnsupportedKeystore = &web.Error{Status: http.StatusNotAcceptable,
	Body: map[string]string{"error": "Not supported keystore format. Supported keystore formats: [PKCS12]"}}

func passwordMissing(msg string) error {
	return &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "password-missing", "error_description": msg}}
}

func (rq *Request) keyStoreConfig() (keyStoreConfig, error) {
	var cfg keyStoreConfig
	if err := rq.decode(&cfg); err != nil {
		return cfg, err
	}
	if cfg.Format != "" && !strings.EqualFold(cfg.Format, formatPKCS12) {
		return cfg, errUnsupportedKeystore
	}
	return cfg, nil
}

// downloadKey answers a PKCS#12 keystore with the client's certificate
// (Gatehouse keeps no client private key to put beside it).
func (a clientsAPI) downloadKey(rq *Request) error {
	c, err := a.load(rq)
	if err != nil {
		return err
	}
	cfg, err := rq.keyStoreConfig()
	if err != nil {
		return err
	}
	certB64 := c.Attributes[rq.R.PathValue("attr")+certAttrCertificate]
	if certB64 == "" {
		return notFound("keypair not generated for client")
	}
	if cfg.StorePassword == nil {
		return passwordMissing("Need to specify a store password for jks download")
	}
	der, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	certs, err := a.withRealmCertificate(rq, cfg, []*x509.Certificate{cert})
	if err != nil {
		return err
	}
	p12, err := pkcs12.Modern.EncodeTrustStore(certs, strings.TrimSpace(*cfg.StorePassword))
	if err != nil {
		return err
	}
	return writeKeystore(rq, p12)
}

func (a clientsAPI) generateAndDownloadKey(rq *Request) error {
	cfg, err := rq.keyStoreConfig()
	if err != nil {
		return err
	}
	if cfg.KeyPassword == nil {
		return passwordMissing("Need to specify a key password for jks generation and download")
	}
	if cfg.StorePassword == nil {
		return passwordMissing("Need to specify a store password for jks generation and download")
	}
	k, info, err := a.newKeyPair(rq)
	if err != nil {
		return err
	}
	priv, err := k.RSAPrivate()
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return err
	}
	ca, err := a.withRealmCertificate(rq, cfg, nil)
	if err != nil {
		return err
	}
	// PKCS#12 protects the key with the store password; a separate key
	// password is a JKS notion.
	p12, err := pkcs12.Modern.Encode(priv, cert, ca, strings.TrimSpace(*cfg.StorePassword))
	if err != nil {
		return err
	}
	if err := a.storeCertificate(rq, certificateRep{Certificate: info.Certificate}); err != nil {
		return err
	}
	return writeKeystore(rq, p12)
}

// withRealmCertificate adds the realm's active RSA certificate unless the
// caller declined it (realmCertificate false), so the application can
// verify the realm's tokens from the same file.
func (a clientsAPI) withRealmCertificate(rq *Request, cfg keyStoreConfig, certs []*x509.Certificate) ([]*x509.Certificate, error) {
	if cfg.RealmCertificate != nil && !*cfg.RealmCertificate {
		return certs, nil
	}
	ks, err := rq.h.Store.ListKeys(rq.R.Context(), rq.Realm.ID)
	if err != nil {
		return nil, err
	}
	k, ok := keys.Active(ks, keys.RS256)
	if !ok || len(k.Certificate) == 0 {
		return certs, nil
	}
	rc, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return nil, err
	}
	return append(certs, rc), nil
}

func writeKeystore(rq *Request, b []byte) error {
	rq.W.Header().Set("Content-Type", "application/octet-stream")
	_, err := rq.W.Write(b)
	return err
}
