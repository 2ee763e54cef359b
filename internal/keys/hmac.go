package keys

import (
	"encoding/base64"
	"fmt"
	"time"
)

const (
	// hmacSecretSize is 512 bits, the minimum RFC 7518 section 3.2 allows
	// for HS512. (Keycloak 26's hmac-generated default is 128 bytes; an
	// export carries secretSize, so either size round-trips.)
	hmacSecretSize = 64
	// minHMACSecretSize is the smallest secretSize Keycloak offers.
	minHMACSecretSize = 16
)

// GenerateHMAC makes a realm's HS512 key for the internal tokens (refresh,
// offline, action tokens, the identity cookie), like Keycloak's
// hmac-generated provider: a random secret and a random UUID as kid. These
// keys are never published.
func GenerateHMAC(now time.Time) (Key, error) {
	return generateNamed(ProviderHMACGenerated, nameHMACGenerated, map[string][]string{cfgAlgorithm: {HS512}}, "", now)
}

// ExportHMAC returns the secret value of an hmac-generated component config:
// base64url without padding (Keycloak's Base64Url). The config's secretSize
// is len(k.Private).
func ExportHMAC(k Key) string {
	return base64.RawURLEncoding.EncodeToString(k.Private)
}

// ImportHMAC builds a key from an hmac-generated component in a Keycloak realm
// export: config secret (base64url), kid and algorithm. An empty algorithm
// means HS256, Keycloak's default, which realms created before Keycloak 24
// still carry to verify old tokens. An empty kid gets a new random one.
func ImportHMAC(id, realmID, kid, secretB64URL, algorithm string,
	priority int64, enabled, active bool, now time.Time) (Key, error) {
	secret, err := decodeBase64URL(secretB64URL)
	if err != nil {
		return Key{}, fmt.Errorf("import hmac key: decode secret: %w", err)
	}
	if len(secret) < minHMACSecretSize {
		return Key{}, fmt.Errorf("import hmac key: %d-byte secret is too short, need at least %d", len(secret), minHMACSecretSize)
	}
	if algorithm == "" {
		algorithm = HS256
	}
	switch algorithm {
	case HS256, HS384, HS512:
	default:
		return Key{}, fmt.Errorf("import hmac key: unsupported algorithm %q", algorithm)
	}
	if id == "" {
		id = newID()
	}
	if kid == "" {
		kid = newID()
	}
	return Key{
		ID:         id,
		RealmID:    realmID,
		Kid:        kid,
		ProviderID: ProviderHMACGenerated,
		Algorithm:  algorithm,
		Use:        UseSig,
		Priority:   priority,
		Enabled:    enabled,
		Active:     active,
		Private:    secret,
		CreatedAt:  now.UnixMilli(),
	}, nil
}
