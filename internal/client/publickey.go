package client

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/go-jose/go-jose/v4"
)

// PublicKey finds the key a client signs its JWTs with (client assertions,
// request objects): a
// registered certificate (jwt.credential.certificate), public key
// (jwt.credential.public.key, base64 DER) or a JWKS stored with
// the client (jwks.string). Keys are never fetched from a URL the client
// supplied: the server makes no outbound request on a client's behalf.
func (c Client) PublicKey(kid, alg string) (any, error) {
	if c.Attributes["use.jwks.string"] == "true" || c.Attributes["jwks.string"] != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(c.Attributes["jwks.string"]), &set); err != nil {
			return nil, err
		}
		for _, k := range set.Keys {
			if (kid == "" || k.KeyID == kid) && k.Use != "enc" && (k.Algorithm == "" || k.Algorithm == alg) && k.IsPublic() {
				return k.Key, nil
			}
		}
		return nil, errors.New("no matching key in the client's JWKS")
	}
	if pem := c.Attributes["jwt.credential.certificate"]; pem != "" {
		der, err := base64.StdEncoding.DecodeString(pem)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	}
	if pub := c.Attributes["jwt.credential.public.key"]; pub != "" {
		der, err := base64.StdEncoding.DecodeString(pub)
		if err != nil {
			return nil, err
		}
		return x509.ParsePKIXPublicKey(der)
	}
	return nil, errors.New("client has no registered key")
}
