package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// ConfigError is a key provider configuration Gatehouse refuses; its text
// is meant for the person who wrote the configuration.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

func configErr(format string, a ...any) error { return &ConfigError{Msg: fmt.Sprintf(format, a...)} }

// Providers lists the key provider ids Gatehouse serves, in the order the
// admin console offers them.
var Providers = []string{
	ProviderAESGenerated, ProviderECDSAGenerated, ProviderEdDSAGenerated, ProviderHMACGenerated,
	ProviderRSA, ProviderRSAEnc, ProviderRSAEncGenerated, ProviderRSAGenerated,
}

// Each provider's algorithm choices; the first is its default.
var (
	rsaSigAlgs = []string{RS256, RS384, RS512, PS256, PS384, PS512}
	rsaEncAlgs = []string{RSAOAEP, RSAOAEP256}
	hmacAlgs   = []string{HS256, HS384, HS512}
	// ecCurves maps ecdsaEllipticCurveKey to the algorithm its keys sign with.
	ecCurves = map[string]string{"P-256": ES256, "P-384": ES384, "P-521": ES512}
	rsaSizes = []int{1024, 2048, 3072, 4096}
	// hmacSizes and aesSizes are the secretSize values offered, in bytes.
	hmacSizes = []int{16, 24, 32, 64, 128, 256, 512}
	aesSizes  = []int{16, 24, 32}
)

const aesSecretSize = 16

// SignatureAlgorithms are the JWS algorithms realm keys can sign with, in
// the order discovery lists them.
var SignatureAlgorithms = []string{PS384, ES384, RS384, HS256, HS512, ES256, RS256, HS384, ES512, PS256, PS512, RS512, EdDSA}

// AsymmetricAlgorithms are SignatureAlgorithms' public-key algorithms, the
// ones access, ID and userinfo tokens may be signed with; HMACAlgorithms
// the others.
var (
	AsymmetricAlgorithms = slices.DeleteFunc(slices.Clone(SignatureAlgorithms), func(a string) bool { return !Asymmetric(a) })
	HMACAlgorithms       = slices.DeleteFunc(slices.Clone(SignatureAlgorithms), Asymmetric)
)

// Asymmetric reports whether alg is a public-key signature algorithm, the
// kind access, ID and userinfo tokens may be signed with.
func Asymmetric(alg string) bool {
	return slices.Contains(rsaSigAlgs, alg) || alg == EdDSA || slices.Contains([]string{ES256, ES384, ES512}, alg)
}

// Config names of a key provider component.
const (
	cfgPriority    = "priority"
	cfgEnabled     = "enabled"
	cfgActive      = "active"
	cfgAlgorithm   = "algorithm"
	cfgKeySize     = "keySize"
	cfgSecretSize  = "secretSize"
	cfgSecret      = "secret"
	cfgKid         = "kid"
	cfgPrivateKey  = "privateKey"
	cfgCertificate = "certificate"
	cfgECCurve     = "ecdsaEllipticCurveKey"
	cfgECPrivate   = "ecdsaPrivateKey"
	cfgECPublic    = "ecdsaPublicKey"
	cfgECCert      = "ecGenerateCertificate"
	cfgEdCurve     = "eddsaEllipticCurveKey"
	cfgEdPrivate   = "eddsaPrivateKey"
	cfgEdPublic    = "eddsaPublicKey"
	cfgKeyUse      = "keyUse"
)

// Params are the settings of a key provider that decide which key it makes.
type Params struct {
	ProviderID string
	Name       string
	Config     map[string][]string // the component's config; may be nil
}

func (p Params) get(name string) string {
	if v := p.Config[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// FromComponent builds the key of a key provider component. Key material in
// the config (privateKey, ecdsaPrivateKey, eddsaPrivateKey, secret) is
// imported; a generated provider whose config has none gets a new key, as
// Keycloak makes one when such a component is created or imported. The
// component's priority, enabled and active flags are read too.
func FromComponent(id string, p Params, realmName string, now time.Time) (Key, error) {
	k, err := build(p, realmName, now)
	if err != nil {
		return Key{}, err
	}
	if id != "" {
		k.ID = id
	}
	k.Name = p.Name
	if k.Name == "" {
		k.Name = p.ProviderID
	}
	if err := ApplyState(p.Config, &k); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Generate makes a new key of a generated provider with the given
// settings, ignoring any key material in them.
func Generate(p Params, realmName string, now time.Time) (Key, error) {
	clean := Params{ProviderID: p.ProviderID, Name: p.Name, Config: map[string][]string{}}
	for name, v := range p.Config {
		switch name {
		case cfgPrivateKey, cfgCertificate, cfgECPrivate, cfgECPublic, cfgEdPrivate, cfgEdPublic, cfgSecret, cfgKid:
		default:
			clean.Config[name] = v
		}
	}
	return FromComponent("", clean, realmName, now)
}

// ApplyState reads priority, enabled and active from a component config;
// absent values keep those of k.
func ApplyState(cfg map[string][]string, k *Key) error {
	p := Params{Config: cfg}
	if v := p.get(cfgPriority); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return configErr("'Priority' should be a number")
		}
		k.Priority = n
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{cfgActive, &k.Active}, {cfgEnabled, &k.Enabled}} {
		if v := p.get(f.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return configErr("'%s' should be 'true' or 'false'", f.name)
			}
			*f.dst = b
		}
	}
	return nil
}

// MaterialChanged reports whether applying cfg to k needs a new key: a
// generated provider's size or curve changed, or an imported provider got
// new key material. Priority, flags and the algorithm of an RSA or HMAC key
// change in place.
func MaterialChanged(k Key, cfg map[string][]string) bool {
	p := Params{Config: cfg}
	now := settingsOf(k)
	changed := func(name string) bool {
		v := p.get(name)
		return v != "" && v != now[name]
	}
	switch k.ProviderID {
	case ProviderRSAGenerated, ProviderRSAEncGenerated:
		return changed(cfgKeySize)
	case ProviderHMACGenerated, ProviderAESGenerated:
		return changed(cfgSecretSize)
	case ProviderECDSAGenerated:
		return changed(cfgECCurve) || changed(cfgECCert)
	case ProviderEdDSAGenerated:
		return changed(cfgEdCurve)
	case ProviderRSA, ProviderRSAEnc:
		v := p.get(cfgPrivateKey)
		return v != "" && v != secret.Mask || p.get(cfgCertificate) != "" && p.get(cfgCertificate) != k.CertificateBase64()
	}
	return false
}

// settingsOf is the key's stored settings, with those its material decides
// (key size, secret size, curve, whether it has a certificate) read from
// the material itself, so a key stored before its settings were kept
// reports them too.
func settingsOf(k Key) map[string]string {
	out := maps.Clone(k.Config)
	if out == nil {
		out = map[string]string{}
	}
	switch k.ProviderID {
	case ProviderRSAGenerated, ProviderRSAEncGenerated:
		if bits := mustRSABits(k); bits > 0 {
			out[cfgKeySize] = strconv.Itoa(bits)
		}
	case ProviderHMACGenerated, ProviderAESGenerated:
		out[cfgSecretSize] = strconv.Itoa(len(k.Private))
	case ProviderECDSAGenerated:
		if s, err := k.Signer(); err == nil {
			if ec, ok := s.(*ecdsa.PrivateKey); ok {
				out[cfgECCurve] = ec.Curve.Params().Name
			}
		}
		out[cfgECCert] = strconv.FormatBool(len(k.Certificate) > 0)
	case ProviderEdDSAGenerated:
		out[cfgEdCurve] = "Ed25519"
	}
	return out
}

func build(p Params, realmName string, now time.Time) (Key, error) {
	switch p.ProviderID {
	case ProviderRSAGenerated, ProviderRSAEncGenerated, ProviderRSA, ProviderRSAEnc:
		return buildRSA(p, realmName, now)
	case ProviderECDSAGenerated:
		return buildEC(p, realmName, now)
	case ProviderEdDSAGenerated:
		return buildEd(p, now)
	case ProviderHMACGenerated, ProviderAESGenerated:
		return buildSecret(p, now)
	}
	return Key{}, configErr("Unsupported key provider %q", p.ProviderID)
}

func isEncProvider(id string) bool { return id == ProviderRSAEnc || id == ProviderRSAEncGenerated }

func newKey(providerID, alg, use string, now time.Time) Key {
	return Key{
		ID: newID(), ProviderID: providerID, Algorithm: alg, Use: use, Priority: DefaultPriority,
		Enabled: true, Active: true, Config: map[string]string{}, CreatedAt: now.UnixMilli(),
	}
}

func pick(p Params, name string, choices []string) (string, error) {
	v := p.get(name)
	if v == "" {
		return choices[0], nil
	}
	if !slices.Contains(choices, v) {
		return "", configErr("'%s' should be one of %s", name, strings.Join(choices, ", "))
	}
	return v, nil
}

func pickSize(p Params, name string, choices []int, dflt int) (int, error) {
	v := p.get(name)
	if v == "" {
		return dflt, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !slices.Contains(choices, n) {
		s := make([]string, len(choices))
		for i, c := range choices {
			s[i] = strconv.Itoa(c)
		}
		return 0, configErr("'%s' should be one of %s", name, strings.Join(s, ", "))
	}
	return n, nil
}

func buildRSA(p Params, realmName string, now time.Time) (Key, error) {
	algs, use := rsaSigAlgs, UseSig
	if isEncProvider(p.ProviderID) {
		algs, use = rsaEncAlgs, UseEnc
	}
	alg, err := pick(p, cfgAlgorithm, algs)
	if err != nil {
		return Key{}, err
	}
	imported := p.ProviderID == ProviderRSA || p.ProviderID == ProviderRSAEnc
	if priv := p.get(cfgPrivateKey); priv != "" && priv != secret.Mask {
		k, err := ImportRSA("", "", p.ProviderID, priv, p.get(cfgCertificate), DefaultPriority, true, true, realmName, now)
		if err != nil {
			return Key{}, &ConfigError{Msg: err.Error()}
		}
		k.Algorithm, k.Use = alg, use
		k.Config = map[string]string{}
		if !imported {
			k.Config[cfgKeySize] = strconv.Itoa(mustRSABits(k))
		}
		return k, nil
	}
	if imported {
		return Key{}, configErr("'Private RSA Key' is required")
	}
	bits, err := pickSize(p, cfgKeySize, rsaSizes, rsaBits)
	if err != nil {
		return Key{}, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return Key{}, fmt.Errorf("generate rsa key: %w", err)
	}
	cert, err := selfSignedCertificate(priv, realmName, now)
	if err != nil {
		return Key{}, err
	}
	k := newKey(p.ProviderID, alg, use, now)
	k.Certificate = cert
	k.Config[cfgKeySize] = strconv.Itoa(bits)
	return k, k.setPrivate(priv)
}

func mustRSABits(k Key) int {
	priv, err := k.RSAPrivate()
	if err != nil {
		return 0
	}
	return priv.N.BitLen()
}

func buildEC(p Params, realmName string, now time.Time) (Key, error) {
	curveNames := slices.Sorted(maps.Keys(ecCurves))
	curveName, err := pick(p, cfgECCurve, curveNames)
	if err != nil {
		return Key{}, err
	}
	withCert := p.get(cfgECCert) == "true"
	k := newKey(ProviderECDSAGenerated, ecCurves[curveName], UseSig, now)
	k.Config[cfgECCurve] = curveName
	k.Config[cfgECCert] = strconv.FormatBool(withCert)
	var priv *ecdsa.PrivateKey
	if b64 := p.get(cfgECPrivate); b64 != "" {
		signer, err := parsePrivateB64(b64)
		if err != nil {
			return Key{}, configErr("import ecdsa key: %v", err)
		}
		ec, ok := signer.(*ecdsa.PrivateKey)
		if !ok || ec.Curve.Params().Name != curveName {
			return Key{}, configErr("import ecdsa key: not a %s key", curveName)
		}
		priv = ec
		if c := p.get(cfgCertificate); c != "" {
			der, err := decodeBase64Body(c)
			if err != nil {
				return Key{}, configErr("import ecdsa key: decode certificate: %v", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil || !priv.PublicKey.Equal(cert.PublicKey) {
				return Key{}, configErr("import ecdsa key: certificate does not match private key")
			}
			k.Certificate = der
		}
	} else {
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[curveName]
		if priv, err = ecdsa.GenerateKey(curve, rand.Reader); err != nil {
			return Key{}, fmt.Errorf("generate ecdsa key: %w", err)
		}
	}
	if withCert && len(k.Certificate) == 0 {
		cert, err := selfSignedCertificate(priv, realmName, now)
		if err != nil {
			return Key{}, err
		}
		k.Certificate = cert
	}
	return k, k.setPrivate(priv)
}

func buildEd(p Params, now time.Time) (Key, error) {
	curve := p.get(cfgEdCurve)
	if curve == "" {
		curve = "Ed25519"
	}
	if curve != "Ed25519" {
		return Key{}, configErr("'%s' %q is not supported: use Ed25519", cfgEdCurve, curve)
	}
	k := newKey(ProviderEdDSAGenerated, EdDSA, UseSig, now)
	k.Config[cfgEdCurve] = curve
	var priv ed25519.PrivateKey
	if b64 := p.get(cfgEdPrivate); b64 != "" {
		signer, err := parsePrivateB64(b64)
		if err != nil {
			return Key{}, configErr("import eddsa key: %v", err)
		}
		ed, ok := signer.(ed25519.PrivateKey)
		if !ok {
			return Key{}, configErr("import eddsa key: not an Ed25519 key")
		}
		priv = ed
	} else {
		var err error
		if _, priv, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return Key{}, fmt.Errorf("generate ed25519 key: %w", err)
		}
	}
	return k, k.setPrivate(priv)
}

func buildSecret(p Params, now time.Time) (Key, error) {
	hmac := p.ProviderID == ProviderHMACGenerated
	var (
		alg, use = AES, UseEnc
		sizes    = aesSizes
		dflt     = aesSecretSize
		err      error
	)
	if hmac {
		use, sizes, dflt = UseSig, hmacSizes, hmacSecretSize
		if alg, err = pick(p, cfgAlgorithm, hmacAlgs); err != nil {
			return Key{}, err
		}
	}
	if s := p.get(cfgSecret); s != "" {
		var k Key
		if hmac {
			k, err = ImportHMAC("", "", p.get(cfgKid), s, alg, DefaultPriority, true, true, now)
		} else {
			k, err = importAES(p.get(cfgKid), s, now)
		}
		if err != nil {
			return Key{}, &ConfigError{Msg: err.Error()}
		}
		k.Config = map[string]string{cfgSecretSize: strconv.Itoa(len(k.Private))}
		return k, nil
	}
	size, err := pickSize(p, cfgSecretSize, sizes, dflt)
	if err != nil {
		return Key{}, err
	}
	k := newKey(p.ProviderID, alg, use, now)
	k.Kid = newID()
	k.Private = make([]byte, size)
	rand.Read(k.Private) // never fails: crypto/rand crashes the program instead
	k.Config[cfgSecretSize] = strconv.Itoa(size)
	return k, nil
}

func importAES(kid, secretB64URL string, now time.Time) (Key, error) {
	secret, err := decodeBase64URL(secretB64URL)
	if err != nil {
		return Key{}, fmt.Errorf("import aes key: decode secret: %w", err)
	}
	if !slices.Contains(aesSizes, len(secret)) {
		return Key{}, fmt.Errorf("import aes key: a %d-byte secret is not an AES key size", len(secret))
	}
	k := newKey(ProviderAESGenerated, AES, UseEnc, now)
	k.Kid = kid
	if k.Kid == "" {
		k.Kid = newID()
	}
	k.Private = secret
	return k, nil
}

func decodeBase64URL(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		// Tolerate padding, which Keycloak's decoder also accepts.
		return base64.URLEncoding.DecodeString(s)
	}
	return b, nil
}

func parsePrivateB64(s string) (crypto.Signer, error) {
	der, err := decodeBase64Body(s)
	if err != nil {
		return nil, fmt.Errorf("decode private key: %w", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key is not PKCS#8: %w", err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key is a %T", parsed)
	}
	return signer, nil
}

// setPrivate stores priv as PKCS#8 and derives the kid from its public key:
// Keycloak's KeyUtils.createKeyId, base64url without padding of the SHA-256
// of the DER SubjectPublicKeyInfo, for RSA, EC and Ed25519 keys alike.
func (k *Key) setPrivate(priv crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode private key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(spki)
	k.Private = der
	k.Kid = base64.RawURLEncoding.EncodeToString(sum[:])
	return nil
}

// Secret reports whether the key is a shared secret (HMAC, AES) rather than
// a key pair.
func (k Key) Secret() bool {
	return k.ProviderID == ProviderHMACGenerated || k.ProviderID == ProviderAESGenerated ||
		slices.Contains(hmacAlgs, k.Algorithm) || k.Algorithm == AES
}

// Signer parses the key's PKCS#8 private key (RSA, EC or Ed25519). Parsed
// keys are cached, since parsing costs a fair share of a signature.
func (k Key) Signer() (crypto.Signer, error) {
	if len(k.Private) == 0 {
		return nil, fmt.Errorf("key %q has no private key", k.Kid)
	}
	if k.Secret() {
		return nil, fmt.Errorf("key %q is a secret key", k.Kid)
	}
	if s, ok := parsedCache.get(k.Private); ok {
		return s, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("parse private key of %q: %w", k.Kid, err)
	}
	s, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %q is a %T", k.Kid, parsed)
	}
	parsedCache.put(k.Private, s)
	return s, nil
}

// Type is the key type as the admin API's key list names it: RSA, EC, OKP
// or OCT.
func (k Key) Type() string {
	switch {
	case k.Secret():
		return "OCT"
	case strings.HasPrefix(k.Algorithm, "ES"):
		return "EC"
	case k.Algorithm == EdDSA:
		return "OKP"
	}
	return "RSA"
}

// Weakness says why a key is weaker than Gatehouse would generate, or ""
// when it is not: a realm imported with a 1024-bit RSA key keeps working,
// and this text goes to the log and the admin console.
func (k Key) Weakness() string {
	if k.Type() != "RSA" {
		return ""
	}
	return rsaWeakness(mustRSABits(k))
}

// PublicWeakness is Weakness for a published key: the standard base64 of a
// DER SubjectPublicKeyInfo, as the admin API's key list gives it.
func PublicWeakness(spkiB64 string) string {
	der, err := base64.StdEncoding.DecodeString(spkiB64)
	if err != nil {
		return ""
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return ""
	}
	if r, ok := pub.(*rsa.PublicKey); ok {
		return rsaWeakness(r.N.BitLen())
	}
	return ""
}

func rsaWeakness(bits int) string {
	if bits > 0 && bits < strongRSABits {
		return fmt.Sprintf("%d-bit RSA key: use a key of at least %d bits", bits, strongRSABits)
	}
	return ""
}

// ComponentConfig is the key's component config as Keycloak's export
// writes it, key material included: what an import reads back.
func ComponentConfig(k Key) (map[string][]string, error) {
	c := stateConfig(k)
	for name, v := range settingsOf(k) {
		c[name] = []string{v}
	}
	one := func(name, v string) { c[name] = []string{v} }
	switch k.Type() {
	case "OCT":
		one(cfgSecret, base64.RawURLEncoding.EncodeToString(k.Private))
		one(cfgKid, k.Kid)
		one(cfgSecretSize, strconv.Itoa(len(k.Private)))
		if k.ProviderID == ProviderHMACGenerated {
			one(cfgAlgorithm, k.Algorithm)
		}
	case "RSA":
		priv, cert, err := ExportRSA(k)
		if err != nil {
			return nil, err
		}
		one(cfgPrivateKey, priv)
		one(cfgCertificate, cert)
		one(cfgAlgorithm, k.Algorithm)
		one(cfgKeyUse, strings.ToUpper(k.Use))
	default:
		signer, err := k.Signer()
		if err != nil {
			return nil, err
		}
		spki, err := x509.MarshalPKIXPublicKey(signer.Public())
		if err != nil {
			return nil, err
		}
		priv, pub := cfgECPrivate, cfgECPublic
		if k.Type() == "OKP" {
			priv, pub = cfgEdPrivate, cfgEdPublic
		}
		one(priv, base64.StdEncoding.EncodeToString(k.Private))
		one(pub, base64.StdEncoding.EncodeToString(spki))
		if len(k.Certificate) > 0 {
			one(cfgCertificate, k.CertificateBase64())
		}
	}
	return c, nil
}

// AdminConfig is the key's component config as the admin API shows it: the
// provider's settings, never a private key or secret (an imported
// provider's privateKey reads as secret.Mask).
func AdminConfig(k Key) map[string][]string {
	c := stateConfig(k)
	for name, v := range settingsOf(k) {
		c[name] = []string{v}
	}
	switch k.ProviderID {
	case ProviderRSAGenerated, ProviderRSAEncGenerated, ProviderHMACGenerated:
		c[cfgAlgorithm] = []string{k.Algorithm}
	case ProviderRSA, ProviderRSAEnc:
		c[cfgAlgorithm] = []string{k.Algorithm}
		c[cfgPrivateKey] = []string{secret.Mask}
		c[cfgCertificate] = []string{k.CertificateBase64()}
	}
	return c
}

func stateConfig(k Key) map[string][]string {
	return map[string][]string{
		cfgPriority: {strconv.FormatInt(k.Priority, 10)},
		cfgEnabled:  {strconv.FormatBool(k.Enabled)},
		cfgActive:   {strconv.FormatBool(k.Active)},
	}
}

// Retarget changes the algorithm of an RSA or HMAC key in place, as an
// update of those providers' algorithm setting does.
func Retarget(k *Key, cfg map[string][]string) error {
	p := Params{Config: cfg}
	if p.get(cfgAlgorithm) == "" {
		return nil
	}
	var choices []string
	switch k.ProviderID {
	case ProviderRSAGenerated, ProviderRSA:
		choices = rsaSigAlgs
	case ProviderRSAEncGenerated, ProviderRSAEnc:
		choices = rsaEncAlgs
	case ProviderHMACGenerated:
		choices = hmacAlgs
	default:
		return nil
	}
	alg, err := pick(p, cfgAlgorithm, choices)
	if err != nil {
		return err
	}
	k.Algorithm = alg
	return nil
}

// FallbackPriority is the priority of a key made because a token needed an
// algorithm the realm had no key for: below any key an administrator adds.
const FallbackPriority = -100

// Fallback makes a key that signs with alg, for a realm that has none: a
// realm whose defaultSignatureAlgorithm or a client's signature setting
// names an algorithm without a key gets one, named "fallback-<alg>", as
// Keycloak's key manager makes one, instead of failing every token request.
func Fallback(alg, realmName string, now time.Time) (Key, error) {
	p := Params{Name: "fallback-" + alg, Config: map[string][]string{cfgAlgorithm: {alg}}}
	switch {
	case slices.Contains(rsaSigAlgs, alg):
		p.ProviderID = ProviderRSAGenerated
	case slices.Contains(hmacAlgs, alg):
		p.ProviderID = ProviderHMACGenerated
	case alg == EdDSA:
		p.ProviderID = ProviderEdDSAGenerated
	default:
		for curve, a := range ecCurves {
			if a == alg {
				p.ProviderID = ProviderECDSAGenerated
				p.Config = map[string][]string{cfgECCurve: {curve}}
			}
		}
	}
	if p.ProviderID == "" {
		return Key{}, configErr("no key provider signs with %q", alg)
	}
	k, err := Generate(p, realmName, now)
	if err != nil {
		return Key{}, err
	}
	k.Priority = FallbackPriority
	return k, nil
}
