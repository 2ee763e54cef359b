// Package jar owns request objects (OpenID Connect Core §6, RFC 9101): an
// authorization request's parameters sent as a JWT signed by the client,
// how one is verified against the client's registered key, and how its
// claims stand in for the request's parameters.
package jar

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/clientkeys"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// Client attributes that govern request objects.
const (
	// SignatureAlgAttr pins the algorithm a client's request objects must
	// be signed with; "none" allows unsigned ones, unset allows any.
	SignatureAlgAttr = "request.object.signature.alg"
	// RequiredAttr says which of request and request_uri a client must use.
	RequiredAttr = "request.object.required"
)

// Values of RequiredAttr.
const (
	RequiredRequestOrURI = "request or request_uri"
	RequiredRequest      = "request only"
	RequiredURI          = "request_uri only"
)

// PushedURIPrefix starts every request_uri the PAR endpoint issues (RFC
// 9126 §2.2); a request_uri without it would be a URL to fetch.
const PushedURIPrefix = "urn:ietf:params:oauth:request_uri:"

// RequirePARAttr is the client switch that allows pushed authorization
// requests only.
const RequirePARAttr = "require.pushed.authorization.requests"

// MaxBytes bounds a request object before it is parsed (and a fetched one
// as it is read).
const MaxBytes = 16 << 10

// Algorithms are the algorithms a request object may use, as discovery
// advertises them: every signature algorithm and "none".
var Algorithms = append(slices.Clone(keys.SignatureAlgorithms), "none")

var joseAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(keys.SignatureAlgorithms))
	for i, a := range keys.SignatureAlgorithms {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}()

// registered are JWT claims that describe the request object itself rather
// than the authorization request it carries.
var registered = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub"}

// Verify checks a request object of client c and returns the authorization
// request parameters it carries. issuer is the realm's issuer, the only
// audience the object may name; now is in epoch seconds.
//
// The key is the client's own: its secret for HMAC, its registered
// certificate, public key, JWKS or JWKS URL otherwise (found by ks). The algorithm is the one the
// client registered when it registered one, so an attacker cannot pick a
// weaker one (or "none") for it.
func Verify(ctx context.Context, ks *clientkeys.Loader, c client.Client, raw, issuer string, now int64) (map[string]string, error) {
	if len(raw) > MaxBytes {
		return nil, errors.New("request object too large")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		// Five parts is an encrypted object, which is not supported.
		return nil, errors.New("request object is not a signed JWT")
	}
	var head struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &head) != nil || head.Alg == "" {
		return nil, errors.New("request object signed algorithm not specified")
	}
	want := c.Attributes[SignatureAlgAttr]
	if want != "" && want != "any" && head.Alg != want {
		return nil, errors.New("request object signed with different algorithm than client requested algorithm")
	}
	var payload []byte
	if head.Alg == "none" {
		if parts[2] != "" {
			return nil, errors.New("unsigned request object carries a signature")
		}
		if payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return nil, err
		}
	} else {
		if payload, err = verifySignature(ctx, ks, c, raw, head.Alg); err != nil {
			return nil, err
		}
	}
	claims := map[string]json.RawMessage{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("request object claims: %w", err)
	}
	if err := checkClaims(c, claims, issuer, now); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range claims {
		if slices.Contains(registered, k) {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else if string(v) != "null" {
			// Numbers, booleans and objects (claims) keep their JSON text.
			out[k] = string(v)
		}
	}
	return out, nil
}

func verifySignature(ctx context.Context, ks *clientkeys.Loader, c client.Client, raw, alg string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, joseAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("request object: unsupported algorithm or malformed JWS")
	}
	var key any
	if keys.Asymmetric(alg) {
		key, err = ks.Key(ctx, c, jws.Signatures[0].Header.KeyID, alg)
		if err != nil {
			return nil, fmt.Errorf("request object key: %w", err)
		}
	} else {
		// HMAC with the client secret: only a confidential client has one.
		if c.PublicClient || c.Secret == "" {
			return nil, errors.New("request object: HMAC needs a client secret")
		}
		key = []byte(c.Secret)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, errors.New("failed to verify signature on 'request' object")
	}
	return payload, nil
}

func checkClaims(c client.Client, claims map[string]json.RawMessage, issuer string, now int64) error {
	str := func(k string) string {
		var s string
		json.Unmarshal(claims[k], &s)
		return s
	}
	num := func(k string) (int64, bool) {
		var n float64
		if err := json.Unmarshal(claims[k], &n); err != nil {
			return 0, false
		}
		return int64(n), true
	}
	if str("iss") != c.ClientID {
		return errors.New("request object iss is not the client")
	}
	if _, ok := claims["client_id"]; ok && str("client_id") != c.ClientID {
		return errors.New("the client_id parameter doesn't match the one from the request object")
	}
	if aud, ok := claims["aud"]; ok {
		var one string
		var many []string
		if json.Unmarshal(aud, &one) == nil {
			many = []string{one}
		} else if json.Unmarshal(aud, &many) != nil {
			return errors.New("request object aud malformed")
		}
		if !slices.Contains(many, issuer) {
			return errors.New("request object aud is not this realm")
		}
	}
	if _, ok := claims["exp"]; ok {
		if exp, ok := num("exp"); !ok || now >= exp {
			return errors.New("request object expired")
		}
	}
	if _, ok := claims["nbf"]; ok {
		if nbf, ok := num("nbf"); !ok || now < nbf {
			return errors.New("request object not yet valid")
		}
	}
	if _, ok := claims["request_uri"]; ok {
		return errors.New("the request_uri claim should not be set in the request object")
	}
	if _, ok := claims["request"]; ok {
		return errors.New("the request claim should not be set in the request object")
	}
	return nil
}

// Merge lays a request object's parameters over the request's own, as the
// object's values win where both name one.
func Merge(query, object map[string]string) map[string]string {
	out := make(map[string]string, len(query)+len(object))
	for k, v := range query {
		out[k] = v
	}
	for k, v := range object {
		out[k] = v
	}
	delete(out, "request")
	return out
}
