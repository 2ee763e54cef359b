package keys

import (
	"maps"
	"slices"
	"strconv"
)

// Setting is one configurable property of a key provider, as Keycloak's
// ProviderConfigProperty describes it to the admin console: the
// component config name, a label, its kind ("List", "boolean", "String",
// "Password" for secrets, "Text" for a PEM), its choices and default.
type Setting struct {
	Name         string   `json:"name"`
	Label        string   `json:"label"`
	HelpText     string   `json:"helpText"`
	Type         string   `json:"type"`
	DefaultValue string   `json:"defaultValue,omitempty"`
	Options      []string `json:"options,omitempty"`
	Secret       bool     `json:"secret,omitempty"`
}

// Description is a key provider's one-line summary for the console.
var Description = map[string]string{
	ProviderRSAGenerated:    "Generates an RSA key pair and a self-signed certificate to sign tokens",
	ProviderRSA:             "Signs tokens with an RSA key pair you provide, as PEM",
	ProviderRSAEncGenerated: "Generates an RSA key pair that clients encrypt to (RSA-OAEP)",
	ProviderRSAEnc:          "An RSA encryption key pair you provide, as PEM",
	ProviderECDSAGenerated:  "Generates an elliptic-curve key pair to sign tokens (ES256, ES384, ES512)",
	ProviderEdDSAGenerated:  "Generates an Ed25519 key pair to sign tokens (EdDSA)",
	ProviderHMACGenerated:   "Generates a secret to sign internal tokens (refresh, action tokens)",
	ProviderAESGenerated:    "Generates an AES secret for encryption",
}

func sizes(n []int) []string {
	out := make([]string, len(n))
	for i, v := range n {
		out[i] = strconv.Itoa(v)
	}
	return out
}

// Settings lists a provider's settings after the priority, enabled and
// active every provider has, in the order a form shows them.
func Settings(providerID string) []Setting {
	alg := func(choices []string) Setting {
		return Setting{Name: cfgAlgorithm, Label: "Algorithm", HelpText: "Intended algorithm for the key", Type: "List",
			DefaultValue: choices[0], Options: choices}
	}
	keySize := Setting{Name: cfgKeySize, Label: "Key size", HelpText: "Size in bits of the generated keys", Type: "List",
		DefaultValue: strconv.Itoa(rsaBits), Options: sizes(rsaSizes)}
	pemKey := []Setting{
		{Name: cfgPrivateKey, Label: "Private RSA key", HelpText: "Private RSA key encoded in PEM format", Type: "Text", Secret: true},
		{Name: cfgCertificate, Label: "X509 certificate", HelpText: "X509 certificate encoded in PEM format; one is generated when left empty", Type: "Text"},
	}
	switch providerID {
	case ProviderRSAGenerated:
		return []Setting{alg(rsaSigAlgs), keySize}
	case ProviderRSAEncGenerated:
		return []Setting{alg(rsaEncAlgs), keySize}
	case ProviderRSA:
		return append([]Setting{alg(rsaSigAlgs)}, pemKey...)
	case ProviderRSAEnc:
		return append([]Setting{alg(rsaEncAlgs)}, pemKey...)
	case ProviderECDSAGenerated:
		return []Setting{
			{Name: cfgECCurve, Label: "Elliptic curve", HelpText: "Elliptic curve used in ECDSA", Type: "List",
				DefaultValue: "P-256", Options: slices.Sorted(maps.Keys(ecCurves))},
			{Name: cfgECCert, Label: "Generate certificate", HelpText: "Generate a self-signed certificate for the key", Type: "boolean", DefaultValue: "false"},
		}
	case ProviderEdDSAGenerated:
		return []Setting{{Name: cfgEdCurve, Label: "Elliptic curve", HelpText: "Elliptic curve used in EdDSA", Type: "List",
			DefaultValue: "Ed25519", Options: []string{"Ed25519"}}}
	case ProviderHMACGenerated:
		return []Setting{alg(hmacAlgs), {Name: cfgSecretSize, Label: "Secret size", HelpText: "Size in bytes of the generated secret",
			Type: "List", DefaultValue: strconv.Itoa(hmacSecretSize), Options: sizes(hmacSizes)}}
	case ProviderAESGenerated:
		return []Setting{{Name: cfgSecretSize, Label: "Secret size", HelpText: "Size in bytes of the generated AES secret",
			Type: "List", DefaultValue: strconv.Itoa(aesSecretSize), Options: sizes(aesSizes)}}
	}
	return nil
}
