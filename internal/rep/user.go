package rep

import (
	"cmp"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// User is Keycloak's UserRepresentation. Field order follows Keycloak's
// (AbstractUserRepresentation's fields first, as Jackson writes them).
type User struct {
	ID            string              `json:"id,omitempty"`
	Username      string              `json:"username,omitempty"`
	FirstName     *string             `json:"firstName,omitempty"`
	LastName      *string             `json:"lastName,omitempty"`
	Email         *string             `json:"email,omitempty"`
	EmailVerified *bool               `json:"emailVerified,omitempty"`
	Attributes    map[string][]string `json:"attributes,omitzero"`
	// CreatedTimestamp is epoch milliseconds.
	CreatedTimestamp int64 `json:"createdTimestamp,omitempty"`
	Enabled          *bool `json:"enabled,omitempty"`
	// Totp is output only: whether the user has an OTP credential.
	Totp           bool   `json:"totp"`
	FederationLink string `json:"federationLink,omitempty"`
	// ServiceAccountClientID is the clientId (not the internal id) of the
	// client this user is the service account of; callers translate.
	ServiceAccountClientID     string       `json:"serviceAccountClientId,omitempty"`
	Credentials                []Credential `json:"credentials,omitzero"`
	DisableableCredentialTypes []string     `json:"disableableCredentialTypes,omitzero"`
	RequiredActions            []string     `json:"requiredActions,omitzero"`
	// RealmRoles and ClientRoles (keyed by clientId) are role names, filled
	// by the exporter; Groups are group paths ("/parent/child").
	RealmRoles  []string            `json:"realmRoles,omitzero"`
	ClientRoles map[string][]string `json:"clientRoles,omitzero"`
	// NotBefore is epoch seconds.
	NotBefore *int64   `json:"notBefore,omitempty"`
	Groups    []string `json:"groups,omitzero"`
	// Access is output only: what the calling admin may do with the user.
	Access map[string]bool `json:"access,omitzero"`
	// FederatedIdentities are the user's links to identity providers, in
	// realm files only (import and export), never in the admin API.
	FederatedIdentities []FederatedIdentity `json:"federatedIdentities,omitzero"`
	// ApplicationRoles is ClientRoles' name before Keycloak 4 (input only).
	ApplicationRoles map[string][]string `json:"applicationRoles,omitzero"`
}

// UserFromDomain returns the user as the admin API shows it. Attributes are
// omitted when there are none; requiredActions and
// disableableCredentialTypes are always lists. Credentials, roles, groups,
// totp, access and serviceAccountClientId need the store and are left to the
// caller.
func UserFromDomain(u user.User) User {
	x := User{
		ID:                         u.ID,
		Username:                   u.Username,
		FirstName:                  optional(u.FirstName),
		LastName:                   optional(u.LastName),
		Email:                      optional(u.Email),
		EmailVerified:              &u.EmailVerified,
		CreatedTimestamp:           u.CreatedTimestamp,
		Enabled:                    &u.Enabled,
		FederationLink:             u.FederationLink,
		DisableableCredentialTypes: []string{},
		RequiredActions:            cloneList(u.RequiredActions),
		NotBefore:                  &u.NotBefore,
	}
	if len(u.Attributes) > 0 {
		x.Attributes = cloneMulti(u.Attributes)
	}
	return x
}

// ToDomain returns a new user in realmID built from x, as Keycloak's import
// and admin create do: absent booleans are false (a user created without
// "enabled": true is disabled, as in Keycloak), and nil attributes and
// required actions become empty.
//
// Credentials, roles, groups and serviceAccountClientId refer to other
// aggregates and are left to the caller, as is normalising the username.
func (x User) ToDomain(realmID string) user.User {
	u := user.User{
		ID:               x.ID,
		RealmID:          realmID,
		CreatedTimestamp: x.CreatedTimestamp,
		FederationLink:   x.FederationLink,
	}
	x.ApplyTo(&u)
	if u.Attributes == nil {
		u.Attributes = map[string][]string{}
	}
	if u.RequiredActions == nil {
		u.RequiredActions = []string{}
	}
	return u
}

// ApplyTo copies the profile fields present in x onto u, as Keycloak's user
// update does: an absent field keeps its value, attributes and required
// actions when present replace the old ones. The id, creation time and
// federation link never change after creation.
func (x User) ApplyTo(u *user.User) {
	if x.Username != "" {
		u.Username = x.Username
	}
	set(&u.FirstName, x.FirstName)
	set(&u.LastName, x.LastName)
	set(&u.Email, x.Email)
	set(&u.EmailVerified, x.EmailVerified)
	set(&u.Enabled, x.Enabled)
	if x.Attributes != nil {
		u.Attributes = cloneMulti(x.Attributes)
	}
	if x.RequiredActions != nil {
		u.RequiredActions = slices.Clone(x.RequiredActions)
	}
	set(&u.NotBefore, x.NotBefore)
}

// Credential is Keycloak's CredentialRepresentation. SecretData and
// CredentialData are JSON documents carried as strings, exactly as Keycloak
// exports them. Value and Temporary are input only: a plain password to hash
// (admin reset-password, or an import written by hand) and whether the user
// must change it at next login.
type Credential struct {
	ID             string `json:"id,omitempty"`
	Type           string `json:"type,omitempty"`
	UserLabel      string `json:"userLabel,omitempty"`
	CreatedDate    int64  `json:"createdDate,omitempty"`
	SecretData     string `json:"secretData,omitempty"`
	CredentialData string `json:"credentialData,omitempty"`
	Priority       int    `json:"priority,omitempty"`
	Value          string `json:"value,omitempty"`
	Temporary      *bool  `json:"temporary,omitempty"`

	// Input only: the layout of exports older than Keycloak 12, where the
	// hash and its parameters were members of the credential; see
	// legacyCredential.
	HashedSaltedValue *string             `json:"hashedSaltedValue,omitempty"`
	Salt              *string             `json:"salt,omitempty"`
	HashIterations    *int                `json:"hashIterations,omitempty"`
	Algorithm         *string             `json:"algorithm,omitempty"`
	Counter           *int                `json:"counter,omitempty"`
	Digits            *int                `json:"digits,omitempty"`
	Period            *int                `json:"period,omitempty"`
	Device            *string             `json:"device,omitempty"`
	Config            map[string][]string `json:"config,omitzero"`
}

// CredentialFromDomain returns the credential with its secret data, as an
// export holds it. The admin API's credential list must blank SecretData
// before answering, as Keycloak does.
func CredentialFromDomain(c user.Credential) Credential {
	return Credential{
		ID:             c.ID,
		Type:           c.Type,
		UserLabel:      c.UserLabel,
		CreatedDate:    c.CreatedDate,
		SecretData:     c.SecretData,
		CredentialData: c.CredentialData,
		Priority:       c.Priority,
	}
}

// ToDomain returns the stored credential of userID. A missing type is
// "password", the only type the reset-password body may leave out. A plain
// Value is not handled here: the caller hashes it (user package) and, when
// Temporary is set, adds the UPDATE_PASSWORD required action.
func (x Credential) ToDomain(userID string) user.Credential {
	c := user.Credential{
		ID:             x.ID,
		UserID:         userID,
		Type:           cmp.Or(x.Type, user.CredentialPassword),
		UserLabel:      x.UserLabel,
		CreatedDate:    x.CreatedDate,
		SecretData:     x.SecretData,
		CredentialData: x.CredentialData,
		Priority:       x.Priority,
	}
	if x.hasLegacyHash() {
		x.legacyCredential(&c)
	}
	return c
}
