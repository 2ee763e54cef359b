// Package userstorage holds the rules of user storage components (LDAP
// providers and their mappers) shared by the admin API and realm import and
// export: which component types are kept in the store's components table,
// which settings are refused, which are secret and how they are masked, and
// the mappers a new provider starts with.
package userstorage

import (
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/ldap"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Stored reports whether components of providerType are kept in the
// store's components table.
func Stored(providerType string) bool {
	return providerType == ldap.ProviderType || providerType == ldap.MapperProviderType
}

// ConfigError is a refused component; Msg is what the admin API answers.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// secretKeys are the config keys of a component type never shown.
func secretKeys(providerType string) []string {
	if providerType == ldap.ProviderType {
		return []string{ldap.KeyBindCredential}
	}
	return nil
}

// Mask returns a copy of cfg with every secret of the component type
// replaced by secret.Mask (an empty secret stays empty): what admin
// reads and partial exports show.
func Mask(providerType string, cfg map[string][]string) map[string][]string {
	out := make(map[string][]string, len(cfg))
	for k, v := range cfg {
		out[k] = slices.Clone(v)
	}
	for _, k := range secretKeys(providerType) {
		for i, v := range out[k] {
			if v != "" {
				out[k][i] = secret.Mask
			}
		}
	}
	return out
}

// KeepMasked puts the stored value back into in wherever an update (or a
// connection test of a stored provider) sent the mask for a secret. The
// stored secret only ever goes to the server it was given for: with the
// mask, a connection URL or bind DN different from the stored ones is
// refused, so an administrator cannot have the password sent to a server
// of their choosing.
func KeepMasked(providerType string, stored, in map[string][]string) error {
	for _, k := range secretKeys(providerType) {
		if v := in[k]; len(v) == 1 && v[0] == secret.Mask {
			for _, same := range []string{ldap.KeyConnectionURL, ldap.KeyBindDN} {
				if strings.TrimSpace(first(in[same])) != strings.TrimSpace(first(stored[same])) {
					return &ConfigError{Msg: "The stored bind credential can only be used with the stored connection URL and bind DN; enter the password again"}
				}
			}
			in[k] = slices.Clone(stored[k])
		}
	}
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// CheckProvider parses a provider's config, refusing what cannot run.
func CheckProvider(providerID string, cfg map[string][]string) (ldap.Config, error) {
	if providerID != ldap.ProviderID {
		return ldap.Config{}, &ConfigError{Msg: "Unsupported user storage provider '" + providerID + "': only ldap is available"}
	}
	c, err := ldap.Parse(cfg)
	if ce, ok := errors.AsType[*ldap.ConfigError](err); ok {
		return c, &ConfigError{Msg: ce.Msg}
	}
	return c, err
}

// CheckMapper refuses a mapper of an unknown type or with settings that
// cannot work under its provider.
func CheckMapper(provider, m store.Component) error {
	cfg, err := CheckProvider(provider.ProviderID, provider.Config)
	if err != nil {
		return err
	}
	err = ldap.ValidateMapper(cfg, ldap.MapperSpec{ID: m.ID, Name: m.Name, ProviderID: m.ProviderID, Config: m.Config})
	if ce, ok := errors.AsType[*ldap.ConfigError](err); ok {
		return &ConfigError{Msg: ce.Msg}
	}
	return err
}

// DefaultMappers are the mapper components a new provider p (parsed as
// cfg) starts with.
func DefaultMappers(p store.Component, cfg ldap.Config) []store.Component {
	var out []store.Component
	for _, m := range ldap.DefaultMappers(cfg) {
		mc := store.Component{ID: m.ID, RealmID: p.RealmID, ParentID: p.ID, Name: m.Name, ProviderID: m.ProviderID,
			ProviderType: ldap.MapperProviderType, Config: m.Config}
		if mc.ID == "" {
			mc.ID = store.NewID()
		}
		out = append(out, mc)
	}
	return out
}

// ErrorCode is the code the admin API answers for a directory failure
// (connection test, capabilities, sync), as administrators know them.
func ErrorCode(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, ldap.ErrInvalidCredentials):
		return "AuthenticationFailure"
	case errors.Is(err, ldap.ErrNotFound):
		return "NameNotFound"
	case errors.Is(err, ldap.ErrUnreachable):
		switch {
		case strings.Contains(msg, "connection refused"):
			return "ConnectionFailed"
		case strings.Contains(msg, "no such host"):
			return "UnknownHost"
		case strings.Contains(msg, "no route to host"):
			return "NoRouteToHost"
		case strings.Contains(msg, "x509") || strings.Contains(msg, "tls:"):
			return "SSLHandshakeFailed"
		}
		return "CommunicationError"
	}
	return "UnknownError"
}
