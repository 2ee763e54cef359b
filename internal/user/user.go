// Package user owns the User aggregate: identity, profile, attributes, required
// actions and credentials, and the password hashing rules that protect them.
package user

import (
	"errors"
	"strings"
)

// User is a person (or a client's service account) who can authenticate in a realm.
type User struct {
	ID            string
	RealmID       string
	Username      string // always stored lower-case, as Keycloak does
	Email         string // stored lower-case
	FirstName     string
	LastName      string
	Enabled       bool
	EmailVerified bool
	// CreatedTimestamp is epoch milliseconds, Keycloak's convention.
	CreatedTimestamp int64
	Attributes       map[string][]string
	RequiredActions  []string
	// ServiceAccountClientID is the internal id of the client whose service
	// account this user is; empty for people.
	ServiceAccountClientID string
	FederationLink         string
	// NotBefore (epoch seconds) invalidates the user's tokens issued before it.
	NotBefore int64
}

// Normalize applies the storage rules: usernames and emails are case-insensitive
// and kept lower-case, surrounding blanks are dropped.
func (u *User) Normalize() {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
}

// Validate checks the invariants of a stored user.
func (u User) Validate() error {
	if u.Username == "" {
		return errors.New("User name is missing")
	}
	if len(u.Username) > 255 {
		return errors.New("username is longer than 255 characters")
	}
	if len(u.Email) > 255 {
		return errors.New("email is longer than 255 characters")
	}
	if len(u.FirstName) > 255 || len(u.LastName) > 255 {
		return errors.New("first or last name is longer than 255 characters")
	}
	return nil
}

// ServiceAccountPrefix starts the username of every client's service account user.
const ServiceAccountPrefix = "service-account-"

// Credential is one secret a user can authenticate with. SecretData and
// CredentialData are JSON documents in Keycloak's layout so that exported
// credentials move between Keycloak and Gatehouse unchanged.
type Credential struct {
	ID             string
	UserID         string
	Type           string // "password", "otp", ...
	UserLabel      string
	CreatedDate    int64 // epoch milliseconds
	SecretData     string
	CredentialData string
	Priority       int
}

// CredentialPassword is the type of password credentials.
const CredentialPassword = "password"
