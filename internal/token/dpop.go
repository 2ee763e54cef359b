package token

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
)

// DPoP (RFC 9449) proof rules. A proof is a JWT the client signs with a key
// of its own for each request; a token bound to that key (cnf.jkt) is useless
// to whoever steals it without the private key.
const (
	// TypeDPoP is the typ claim of an access token bound to a DPoP key, and
	// the token_type the token endpoint answers for it.
	TypeDPoP = "DPoP"
	// ProofLifetime and ProofClockSkew bound a proof's iat: it is accepted
	// from ProofLifetime+ProofClockSkew before now to ProofClockSkew after,
	// Keycloak's 10 and 15 seconds.
	ProofLifetime  = 10 * time.Second
	ProofClockSkew = 15 * time.Second
	// AttrDPoPBound is the client attribute requiring a proof at the token
	// endpoint and DPoP-bound tokens at resource endpoints.
	AttrDPoPBound = "dpop.bound.access.tokens"
)

// IsAccessType reports whether typ is an access token's typ claim.
func IsAccessType(typ string) bool { return typ == TypeBearer || typ == TypeDPoP }

// ProofError is a refused proof; Msg is the error_description told to the
// client, in Keycloak's words.
type ProofError struct{ Msg string }

func (e *ProofError) Error() string { return e.Msg }

func proofErr(msg string) error { return &ProofError{Msg: msg} }

// Proof is a DPoP proof whose signature, claims and freshness were checked.
type Proof struct {
	// Jkt is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url:
	// the cnf.jkt of the tokens it binds.
	Jkt string
	Jti string
	Htu string
	Iat int64
	Ath string
}

// ReplayKey names the proof among every proof ever seen: a jti is unique
// per URL (RFC 9449 §11.1), so both make the key.
func (p Proof) ReplayKey() string {
	sum := sha256.Sum256([]byte(p.Jti + "\n" + p.Htu))
	return "dpop:" + hex.EncodeToString(sum[:])
}

// ReplayUntil is when a replay of the proof stops mattering: its iat is
// refused from then on anyway (epoch seconds).
func (p Proof) ReplayUntil() int64 {
	return p.Iat + int64((ProofLifetime + ProofClockSkew).Seconds())
}

// CheckAccessToken checks the proof's ath claim against the access token it
// accompanies at a resource endpoint (RFC 9449 §4.3 step 10).
func (p Proof) CheckAccessToken(accessToken string) error {
	if p.Ath == "" {
		return proofErr("No access token hash in DPoP proof")
	}
	sum := sha256.Sum256([]byte(accessToken))
	if p.Ath != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return proofErr("DPoP proof access token hash mismatch")
	}
	return nil
}

// proofHeader is read before go-jose parses the proof, so each refusal can
// say what was wrong, as Keycloak does.
type proofHeader struct {
	Typ *string         `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

// VerifyProof checks a DPoP proof sent with a request of method to htu (the
// request's absolute URL) at now (RFC 9449 §4.3): type dpop+jwt, an
// asymmetric algorithm, a public key in the jwk header that verifies the
// signature, the claims jti, htm, htu and iat present, htm and htu naming
// this request, iat fresh. Replay (jti) and ath are checked by the caller,
// which knows the store and the access token. Errors are *ProofError.
func VerifyProof(raw, method, htu string, now time.Time) (Proof, error) {
	if strings.TrimSpace(raw) == "" {
		return Proof{}, proofErr("DPoP proof is missing")
	}
	if len(raw) > MaxTokenSize {
		return Proof{}, proofErr("DPoP header verification failure")
	}
	var h proofHeader
	head, _, ok := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if !ok || err != nil || json.Unmarshal(b, &h) != nil {
		return Proof{}, proofErr("DPoP header verification failure")
	}
	if h.Typ == nil || *h.Typ != "dpop+jwt" {
		typ := "null"
		if h.Typ != nil {
			typ = *h.Typ
		}
		return Proof{}, proofErr("Invalid or missing type in DPoP header: " + typ)
	}
	// Only public-key algorithms: with a shared secret the proof would prove
	// nothing about who holds the key (RFC 9449 §4.2).
	if !slices.Contains(keys.AsymmetricAlgorithms, h.Alg) {
		return Proof{}, proofErr("Unsupported DPoP algorithm: " + h.Alg)
	}
	if len(h.JWK) == 0 || string(h.JWK) == "null" {
		return Proof{}, proofErr("No JWK in DPoP header")
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(h.JWK); err != nil || !jwk.Valid() {
		return Proof{}, proofErr("Unsupported key type in DPoP header")
	}
	if !jwk.IsPublic() {
		return Proof{}, proofErr("Private key is present in DPoP header")
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil {
		return Proof{}, proofErr("DPoP header verification failure")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return Proof{}, proofErr("DPoP verification failure: Invalid token signature")
	}
	var c struct {
		Jti string   `json:"jti"`
		Htm string   `json:"htm"`
		Htu string   `json:"htu"`
		Iat *float64 `json:"iat"`
		Ath string   `json:"ath"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return Proof{}, proofErr("DPoP verification failure: Failed to parse JWT")
	}
	if c.Iat == nil || strings.TrimSpace(c.Jti) == "" || strings.TrimSpace(c.Htm) == "" || strings.TrimSpace(c.Htu) == "" {
		return Proof{}, proofErr("DPoP mandatory claims are missing")
	}
	want, err := url.Parse(htu)
	if err != nil {
		return Proof{}, proofErr("DPoP HTTP URL mismatch")
	}
	got, err := url.Parse(c.Htu)
	if err != nil {
		return Proof{}, proofErr("Malformed HTTP URL in DPoP proof")
	}
	if proofURL(got) != proofURL(want) {
		return Proof{}, proofErr("DPoP HTTP URL mismatch")
	}
	if c.Htm != method {
		return Proof{}, proofErr("DPoP HTTP method mismatch")
	}
	iat := int64(*c.Iat)
	nowS := now.Unix()
	if iat > nowS+int64(ProofClockSkew.Seconds()) || iat < nowS-int64((ProofLifetime+ProofClockSkew).Seconds()) {
		return Proof{}, proofErr("DPoP proof is not active")
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return Proof{}, proofErr("Unsupported key type in DPoP header")
	}
	return Proof{Jkt: base64.RawURLEncoding.EncodeToString(tp), Jti: c.Jti, Htu: c.Htu, Iat: iat, Ath: c.Ath}, nil
}

// proofURL is u as htu is compared (RFC 9449 §4.3 step 9): without query and
// fragment, scheme and host in lower case.
func proofURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = "", false, "", ""
	v.Scheme, v.Host = strings.ToLower(v.Scheme), strings.ToLower(v.Host)
	return v.String()
}

// BoundKey is the cnf.jkt of a token's claims ("" for an unbound token).
func BoundKey(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}
