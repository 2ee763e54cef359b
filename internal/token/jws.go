package token

import (
	"bytes"
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
	var key any
	switch {
	case keys.Asymmetric(k.Algorithm):
		priv, err := k.Signer()
		if err != nil {
			return "", fmt.Errorf("sign token: %w", err)
		}
		key = priv
	case slices.Contains(keys.HMACAlgorithms, k.Algorithm):
		key = slices.Clone(k.Private)
	default:
		return "", fmt.Errorf("sign token: key %q has unsupported algorithm %q", k.Kid, k.Algorithm)
	}
	payload, err := marshalClaims(claims)
	if err != nil {
		return "", fmt.Errorf("sign token: encode claims: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: key},
		// go-jose writes a JSONWebKey's kid for asymmetric keys only, so
		// the header is set here for both kinds.
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", k.Kid))
	if err != nil {
		return "", fmt.Errorf("sign token with %q: %w", k.Kid, err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign token with %q: %w", k.Kid, err)
	}
	return obj.CompactSerialize()
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
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	claims, _, err := verifyParsed(jws, ks, alg, asym)
	return claims, err
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
	// The fast path reads no escapes; a payload with one (marshalClaims
	// escapes "&", "<", ">", quotes, control characters and invalid UTF-8
	// as json.Marshal does) goes to encoding/json at once instead of after
	// the fast path has read all it could.
	if bytes.IndexByte(payload, '\\') < 0 {
		if claims, ok := decodeClaimsFast(payload); ok {
			return claims, nil
		}
	}
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
