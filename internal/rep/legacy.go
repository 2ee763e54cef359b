package rep

import (
	"cmp"
	"encoding/json"
	"maps"

	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// upgradeLegacy rewrites the members of exports older than Keycloak 4 into
// today's, as Keycloak does before importing such a file: applications and
// OAuth clients become clients (their name is the clientId; an OAuth client
// asks for consent and has no full scope), roles.application becomes
// roles.client, and composites.application composites.client. A current
// member, when present, wins.
func (x *Realm) upgradeLegacy() {
	for _, l := range []struct {
		apps  []Client
		oauth bool
	}{{x.Applications, false}, {x.OAuthClients, true}} {
		for _, a := range l.apps {
			if a.ClientID == "" && a.Name != nil {
				a.ClientID, a.Name = *a.Name, nil
			}
			if l.oauth {
				yes, no := true, false
				a.ConsentRequired, a.FullScopeAllowed = &yes, &no
			}
			x.Clients = append(x.Clients, a)
		}
	}
	x.Applications, x.OAuthClients = nil, nil
	if x.Roles != nil {
		if x.Roles.Client == nil && x.Roles.Application != nil {
			x.Roles.Client = x.Roles.Application
		}
		x.Roles.Application = nil
		for i := range x.Roles.Realm {
			x.Roles.Realm[i].upgradeLegacy()
		}
		for _, rs := range x.Roles.Client {
			for i := range rs {
				rs[i].upgradeLegacy()
			}
		}
	}
	// A user's applicationRoles are read by CreateUser, which every import
	// of a user goes through.
}

func (r *Role) upgradeLegacy() {
	if c := r.Composites; c != nil {
		if c.Client == nil && c.Application != nil {
			c.Client = c.Application
		}
		c.Application = nil
	}
}

// hasLegacyHash reports whether the credential is in the layout of exports
// older than Keycloak 12: the hash (or OTP secret) in hashedSaltedValue and
// its parameters beside it, with no secretData.
func (x Credential) hasLegacyHash() bool {
	return x.SecretData == "" && x.CredentialData == "" && x.HashedSaltedValue != nil
}

// legacyAlgorithm is the hash of an old password credential that names
// none: PBKDF2 with SHA-1, the only one Keycloak had then.
const legacyAlgorithm = user.HashPBKDF2SHA1

// legacyCredential fills SecretData and CredentialData of c from the
// credential's old members, as Keycloak converts them on import: for a
// password, the hash, its salt (base64, as it stands in the file), the
// iteration count and the algorithm; for an OTP, the secret and the
// digits, period, counter and algorithm.
func (x Credential) legacyCredential(c *user.Credential) {
	var sd, cd any
	num := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	switch c.Type {
	case user.CredentialPassword:
		sd = map[string]any{"value": *x.HashedSaltedValue, "salt": value(x.Salt), "additionalParameters": map[string]any{}}
		cd = map[string]any{"hashIterations": num(x.HashIterations), "algorithm": cmp.Or(value(x.Algorithm), legacyAlgorithm),
			"additionalParameters": map[string]any{}}
	case "totp", "hotp":
		sd = map[string]any{"value": *x.HashedSaltedValue}
		sub := c.Type
		c.Type = "otp"
		cd = map[string]any{"subType": sub, "digits": num(x.Digits), "counter": num(x.Counter),
			"period": num(x.Period), "algorithm": value(x.Algorithm), "secretEncoding": "UTF8"}
	default:
		sd = map[string]any{"value": *x.HashedSaltedValue}
		extra := map[string]any{}
		if x.Config != nil {
			extra["config"] = maps.Clone(x.Config)
		}
		cd = extra
	}
	b1, _ := json.Marshal(sd)
	b2, _ := json.Marshal(cd)
	c.SecretData, c.CredentialData = string(b1), string(b2)
}
