package client

import (
	"crypto/subtle"
	"strconv"
	"time"
)

// Client attributes of secret rotation, in Keycloak's names. The rotated
// secret is the one the current secret replaced; it keeps authenticating the
// client until its expiration (epoch seconds), so deployed instances can
// move to the new secret without an outage.
const (
	AttrSecretCreationTime          = "client.secret.creation.time"
	AttrRotatedSecret               = "client.secret.rotated"
	AttrRotatedSecretCreationTime   = "client.secret.rotated.creation.time"
	AttrRotatedSecretExpirationTime = "client.secret.rotated.expiration.time"
)

// SecretMatches reports whether secret authenticates the client at now: it
// is the current secret, or the rotated one before that one's expiry. Both
// comparisons always run, in constant time, so timing tells nothing about
// which secret matched or whether a rotated one exists.
func (c Client) SecretMatches(secret string, now time.Time) bool {
	cur := c.Secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) == 1
	rotated, live := c.RotatedSecret(now)
	old := subtle.ConstantTimeCompare([]byte(secret), []byte(rotated)) == 1 && live
	return cur || old
}

// RotatedSecret returns the rotated secret and whether it still
// authenticates at now.
func (c Client) RotatedSecret(now time.Time) (string, bool) {
	s := c.Attributes[AttrRotatedSecret]
	if s == "" {
		return "", false
	}
	exp, err := strconv.ParseInt(c.Attributes[AttrRotatedSecretExpirationTime], 10, 64)
	if err != nil {
		return s, false
	}
	return s, now.Unix() < exp
}

// RotateSecret makes newSecret the client's secret and keeps the one it
// replaces as the rotated secret for rotatedLife.
func (c *Client) RotateSecret(newSecret string, now time.Time, rotatedLife time.Duration) {
	attrs := make(map[string]string, len(c.Attributes)+4)
	for k, v := range c.Attributes {
		attrs[k] = v
	}
	if c.Secret != "" && rotatedLife > 0 {
		attrs[AttrRotatedSecret] = c.Secret
		attrs[AttrRotatedSecretCreationTime] = attrs[AttrSecretCreationTime]
		attrs[AttrRotatedSecretExpirationTime] = strconv.FormatInt(now.Add(rotatedLife).Unix(), 10)
	}
	attrs[AttrSecretCreationTime] = strconv.FormatInt(now.Unix(), 10)
	c.Secret = newSecret
	c.Attributes = attrs
}

// InvalidateRotatedSecret forgets the rotated secret, which then stops
// authenticating at once.
func (c *Client) InvalidateRotatedSecret() {
	if c.Attributes[AttrRotatedSecret] == "" && c.Attributes[AttrRotatedSecretExpirationTime] == "" {
		return
	}
	attrs := make(map[string]string, len(c.Attributes))
	for k, v := range c.Attributes {
		attrs[k] = v
	}
	delete(attrs, AttrRotatedSecret)
	delete(attrs, AttrRotatedSecretCreationTime)
	delete(attrs, AttrRotatedSecretExpirationTime)
	c.Attributes = attrs
}
