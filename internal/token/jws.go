package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// ErrInvalid wraps every verification failure. Callers turn it into their
// protocol's error ("invalid_grant", "Token verification failed", …) without
// telling the client which check failed.
var ErrInvalid = errors.New("invalid token")

// MaxTokenSize bounds what Verify will parse, and every place a token is
// presented accepts a token this long: the header block of the listeners,
// the admin and account APIs' bearer, the protocol endpoints' token
// parameter. It is sized from what Gatehouse issues: most tokens are a few
// kilobytes, but a master-realm administrator's access token carries the
// roles of every realm's "<realm>-realm" client, about 490 bytes a realm
// (97 KB with 200 realms, measured), so 512 KiB holds a thousand realms.
// A larger token is not ours, and parsing it would only cost memory.
const MaxTokenSize = 512 << 10

// Sign serialises claims as a JWS compact token signed with k. The protected
// header is {"alg": k.Algorithm, "kid": k.Kid, "typ": "JWT"}, as Keycloak's.
// RS*, PS*, ES* and EdDSA keys sign access and ID tokens; HS* keys the
// internal tokens (refresh, offline, action tokens).
func Sign(claims map[string]any, k keys.Key) (string, error) { return SignTyped(claims, k, "JWT") }

// SignTyped is Sign with another typ header, such as "logout+jwt" for
// back-channel logout tokens, which a relying party tells from ID tokens
// by it.
func SignTyped(claims map[string]any, k keys.Key, typ string) (string, error) {
	if !k.Enabled {
		return "", fmt.Errorf("sign token: key %q is disabled", k.Kid)
	}
	if k.Kid == "" {
		return "", errors.New("sign token: key has no kid")
	}
	if !keys.Signs(k.Algorithm) {
		return "", fmt.Errorf("sign token: key %q has unsupported algorithm %q", k.Kid, k.Algorithm)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign token: encode claims: %w", err)
	}
	// The header's members in the order go-jose and Keycloak write them.
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{k.Algorithm, k.Kid, typ})
	if err != nil {
		return "", fmt.Errorf("sign token: encode header: %w", err)
	}
	enc := base64.RawURLEncoding
	// RFC 7515 §7.1: BASE64URL(header) "." BASE64URL(payload) "."
	// BASE64URL(signature), the first two being what is signed.
	out := make([]byte, 0, enc.EncodedLen(len(header))+enc.EncodedLen(len(payload))+enc.EncodedLen(maxSignatureSize)+2)
	out = enc.AppendEncode(out, header)
	out = append(out, '.')
	out = enc.AppendEncode(out, payload)
	sig, err := signingSignature(k, out)
	if err != nil {
		return "", fmt.Errorf("sign token with %q: %w", k.Kid, err)
	}
	out = append(out, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

// maxSignatureSize is the longest signature signingSignature makes: RSA
// with a 4096-bit key (longer keys only reallocate once).
const maxSignatureSize = 512

// signingSignature is the JWS signature (RFC 7518 §3) of input with k,
// whose algorithm is one keys.Signs accepts.
func signingSignature(k keys.Key, input []byte) ([]byte, error) {
	alg := k.Algorithm
	var h crypto.Hash
	switch {
	case strings.HasSuffix(alg, "256"):
		h = crypto.SHA256
	case strings.HasSuffix(alg, "384"):
		h = crypto.SHA384
	case strings.HasSuffix(alg, "512"):
		h = crypto.SHA512
	}
	if slices.Contains(keys.HMACAlgorithms, alg) {
		// RFC 7518 §3.2: a secret at least as long as the hash's output.
		if len(k.Private) < h.Size() {
			return nil, fmt.Errorf("an %s secret of %d bytes, shorter than %d", alg, len(k.Private), h.Size())
		}
		mac := hmac.New(h.New, k.Private)
		mac.Write(input)
		return mac.Sum(nil), nil
	}
	priv, err := k.Signer()
	if err != nil {
		return nil, err
	}
	if alg == keys.EdDSA {
		ed, ok := priv.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("an %s key is a %T", alg, priv)
		}
		return ed25519.Sign(ed, input), nil
	}
	if h == 0 {
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	d := h.New()
	d.Write(input)
	digest := d.Sum(nil)
	switch alg[:2] {
	case "RS", "PS":
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("an %s key is a %T", alg, priv)
		}
		if alg[0] == 'P' {
			return rsa.SignPSS(rand.Reader, rk, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, rk, h, digest)
	case "ES":
		ek, ok := priv.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("an %s key is a %T", alg, priv)
		}
		bits := ek.Curve.Params().BitSize
		if want := map[string]int{keys.ES256: 256, keys.ES384: 384, keys.ES512: 521}[alg]; bits != want {
			return nil, fmt.Errorf("an %s key on a %d-bit curve", alg, bits)
		}
		r, s, err := ecdsa.Sign(rand.Reader, ek, digest)
		if err != nil {
			return nil, err
		}
		// R and S as fixed-size big-endian integers, side by side.
		size := (bits + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig, nil
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// Verify checks a compact JWS against the realm keys ks and returns its
// claims. Only alg is accepted, which the caller fixes by token kind (RS256
// for access and ID tokens, HS512 for refresh tokens), never from the token:
// that blocks "alg":"none" and algorithm confusion, where an HS256 token is
// MACed with an RSA public key's bytes. The header's kid must name an enabled
// key, active or passive, of that same algorithm.
//
// Numbers in the returned claims are json.Number, so an exp or a large id
// keeps every digit; Parse reads them into int64.
//
// Verify checks the signature only: exp, typ, iss and the session are the
// caller's to check (see Parse and Parsed.Expired). Every failure wraps
// ErrInvalid.
func Verify(raw string, ks []keys.Key, alg string) (map[string]any, error) {
	if err := precheck(raw); err != nil {
		return nil, err
	}
	asym := keys.Asymmetric(alg)
	if !asym && !slices.Contains(keys.HMACAlgorithms, alg) {
		return nil, fmt.Errorf("%w: algorithm %q is not accepted", ErrInvalid, alg)
	}
	if !asym {
		return verifyHMAC(raw, ks, alg)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	claims, _, err := verifyParsed(jws, ks, alg, asym)
	return claims, err
}

// verifyHMAC is Verify for the HMAC algorithms, which only Gatehouse's own
// tokens use (refresh, offline and action tokens, cookies), checked without
// go-jose's general JWS parsing: the header must name alg and a kid of an
// enabled key of that same alg (keys.VerificationFor), carry no "crit" or
// "b64" member (extensions Gatehouse never writes), and the MAC over the
// first two parts must match in constant time. Every part is decoded as
// canonical base64url only, so no token verifies under another spelling.
func verifyHMAC(raw string, ks []keys.Key, alg string) (map[string]any, error) {
	head, rest, _ := strings.Cut(raw, ".")
	body, sigPart, _ := strings.Cut(rest, ".")
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(head)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	var header struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
		B64  json.RawMessage `json:"b64"`
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	if header.Crit != nil || header.B64 != nil {
		return nil, fmt.Errorf("%w: header extensions", ErrInvalid)
	}
	if header.Alg != alg {
		return nil, fmt.Errorf("%w: alg %q, want %q", ErrInvalid, header.Alg, alg)
	}
	k, ok := keys.VerificationFor(ks, alg, header.Kid)
	if !ok {
		return nil, fmt.Errorf("%w: no enabled %s key with kid %q", ErrInvalid, alg, header.Kid)
	}
	sig, err := enc.DecodeString(sigPart)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrInvalid, err)
	}
	want, err := signingSignature(k, []byte(raw[:len(head)+1+len(body)]))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !hmac.Equal(sig, want) {
		return nil, fmt.Errorf("%w: signature mismatch", ErrInvalid)
	}
	payload, err := enc.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrInvalid, err)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return claims, nil
}

// precheck refuses what is no compact JWS of ours before parsing it.
func precheck(raw string) error {
	if len(raw) > MaxTokenSize {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxTokenSize)
	}
	if strings.Count(raw, ".") != 2 {
		return fmt.Errorf("%w: not a three-part compact JWS", ErrInvalid)
	}
	// Only base64url and the two dots: Go's base64 decoding skips CR and
	// LF, so a token with one inserted would otherwise verify as the
	// token it came from under another spelling.
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: a character outside base64url", ErrInvalid)
		}
	}
	return nil
}

// verifyParsed is Verify after parsing, which admitted alg only. It returns
// the key the signature verified with too.
func verifyParsed(jws *jose.JSONWebSignature, ks []keys.Key, alg string, asym bool) (map[string]any, keys.Key, error) {
	if len(jws.Signatures) != 1 {
		return nil, keys.Key{}, fmt.Errorf("%w: want one signature", ErrInvalid)
	}
	header := jws.Signatures[0].Protected
	if header.Algorithm != alg {
		return nil, keys.Key{}, fmt.Errorf("%w: alg %q, want %q", ErrInvalid, header.Algorithm, alg)
	}
	if header.KeyID == "" {
		return nil, keys.Key{}, fmt.Errorf("%w: no kid", ErrInvalid)
	}
	k, ok := keys.VerificationFor(ks, alg, header.KeyID)
	if !ok {
		return nil, keys.Key{}, fmt.Errorf("%w: no enabled %s key with kid %q", ErrInvalid, alg, header.KeyID)
	}
	var key any
	if asym {
		priv, err := k.Signer()
		if err != nil {
			return nil, keys.Key{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		key = priv.Public()
	} else {
		key = slices.Clone(k.Private)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, keys.Key{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, keys.Key{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return claims, k, nil
}

// VerifySigned checks a token of the realm signed with whatever key the
// realm signs such tokens with: the realm's defaultSignatureAlgorithm or a
// client's own (access.token.signed.response.alg), asymmetric or HMAC
// (keys.Signs), since Gatehouse checks its own HMAC tokens with the
// realm's secret. The token's alg is taken only from the algorithms of the
// realm's enabled keys, so "none" never gets through, and verifyParsed
// requires the kid's key to be of that same alg, so no HMAC over a public
// key's bytes does either. The caller decides by the token's typ what it
// accepts (an access token, an ID token, a refresh token).
func VerifySigned(raw string, ks []keys.Key) (map[string]any, error) {
	claims, _, err := verifySigned(raw, ks)
	return claims, err
}

// verifySigned is VerifySigned, returning the key the signature verified
// with too.
func verifySigned(raw string, ks []keys.Key) (map[string]any, keys.Key, error) {
	var algs []jose.SignatureAlgorithm
	for _, k := range ks {
		if k.Enabled && keys.Signs(k.Algorithm) && !slices.Contains(algs, jose.SignatureAlgorithm(k.Algorithm)) {
			algs = append(algs, jose.SignatureAlgorithm(k.Algorithm))
		}
	}
	if len(algs) == 0 {
		return nil, keys.Key{}, fmt.Errorf("%w: no key to verify with", ErrInvalid)
	}
	if err := precheck(raw); err != nil {
		return nil, keys.Key{}, err
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, keys.Key{}, fmt.Errorf("%w: not a signed token", ErrInvalid)
	}
	alg := jws.Signatures[0].Protected.Algorithm
	if !keys.Signs(alg) {
		return nil, keys.Key{}, fmt.Errorf("%w: algorithm %q is not accepted", ErrInvalid, alg)
	}
	return verifyParsed(jws, ks, alg, keys.Asymmetric(alg))
}

// decodeClaims reads a JSON object, numbers as json.Number, and nothing after it.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("decode claims: %w", err)
	}
	if claims == nil {
		return nil, errors.New("claims are not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the claims object")
	}
	return claims, nil
}
