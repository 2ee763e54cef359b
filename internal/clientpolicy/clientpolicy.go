// Package clientpolicy owns a realm's client policies: profiles (sets of
// executors, each one rule a client must follow) and policies (conditions
// saying which clients a set of profiles applies to), in Keycloak's JSON
// shapes. Only executors and conditions Gatehouse really runs are accepted:
// a policy naming another would be stored as if it protected something.
package clientpolicy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// Executor ids Gatehouse runs.
const (
	ExecPKCE                = "pkce-enforcer"
	ExecClientAuthenticator = "secure-client-authenticator"
	ExecConfidentialClient  = "confidential-client"
	ExecFullScopeDisabled   = "full-scope-disabled"
	ExecSecureRedirectURIs  = "secure-redirect-uris-enforcer"
	ExecConsentRequired     = "consent-required"
	ExecSecretRotation      = "secret-rotation"
)

// Condition ids Gatehouse evaluates.
const (
	CondAnyClient  = "any-client"
	CondAccessType = "client-access-type"
)

var (
	executors  = []string{ExecClientAuthenticator, ExecConfidentialClient, ExecConsentRequired, ExecFullScopeDisabled, ExecPKCE, ExecSecretRotation, ExecSecureRedirectURIs}
	conditions = []string{CondAnyClient, CondAccessType}
)

// Executors and Conditions list what may be named, for serverinfo.
func Executors() []string  { return slices.Clone(executors) }
func Conditions() []string { return slices.Clone(conditions) }

// Executor is one rule of a profile with its configuration (values are
// strings, booleans or lists, as Keycloak's console writes them).
type Executor struct {
	Executor      string         `json:"executor"`
	Configuration map[string]any `json:"configuration"`
}

// Profile is Keycloak's ClientProfileRepresentation.
type Profile struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Executors   []Executor `json:"executors"`
}

// Condition is one test of a policy.
type Condition struct {
	Condition     string         `json:"condition"`
	Configuration map[string]any `json:"configuration"`
}

// Policy is Keycloak's ClientPolicyRepresentation.
type Policy struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Enabled     bool        `json:"enabled"`
	Conditions  []Condition `json:"conditions"`
	Profiles    []string    `json:"profiles"`
}

// Profiles and Policies are the two documents the admin API reads and writes.
type Profiles struct {
	Profiles []Profile `json:"profiles"`
}

type Policies struct {
	Policies []Policy `json:"policies"`
}

// Parse reads stored documents; empty text is none.
func Parse(profilesJSON, policiesJSON string) (Profiles, Policies, error) {
	pr, po := Profiles{Profiles: []Profile{}}, Policies{Policies: []Policy{}}
	if profilesJSON != "" {
		if err := json.Unmarshal([]byte(profilesJSON), &pr); err != nil {
			return pr, po, fmt.Errorf("client profiles: %w", err)
		}
	}
	if policiesJSON != "" {
		if err := json.Unmarshal([]byte(policiesJSON), &po); err != nil {
			return pr, po, fmt.Errorf("client policies: %w", err)
		}
	}
	return pr, po, nil
}

// ValidateProfiles checks profiles before they are stored: each named once,
// each executor one Gatehouse runs.
func ValidateProfiles(pr Profiles) error {
	names := make([]string, len(pr.Profiles))
	for i, p := range pr.Profiles {
		names[i] = p.Name
	}
	if err := uniqueNames("profile", names); err != nil {
		return err
	}
	for _, p := range pr.Profiles {
		for _, e := range p.Executors {
			if !slices.Contains(executors, e.Executor) {
				return fmt.Errorf("executor not supported: %s", e.Executor)
			}
		}
	}
	return nil
}

// ValidatePolicies checks policies against the realm's profiles: each named
// once, each condition one Gatehouse evaluates, each profile existing.
func ValidatePolicies(po Policies, pr Profiles) error {
	names := make([]string, len(po.Policies))
	for i, p := range po.Policies {
		names[i] = p.Name
	}
	if err := uniqueNames("policy", names); err != nil {
		return err
	}
	for _, p := range po.Policies {
		for _, c := range p.Conditions {
			if !slices.Contains(conditions, c.Condition) {
				return fmt.Errorf("condition not supported: %s", c.Condition)
			}
		}
		for _, name := range p.Profiles {
			if !slices.ContainsFunc(pr.Profiles, func(x Profile) bool { return x.Name == name }) {
				return fmt.Errorf("profile not found: %s", name)
			}
		}
	}
	return nil
}

// uniqueNames checks that every name is given and none twice.
func uniqueNames(what string, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("%s name is missing", what)
		}
		if seen[n] {
			return fmt.Errorf("duplicated %s name: %s", what, n)
		}
		seen[n] = true
	}
	return nil
}

// Set is a realm's profiles and policies, ready to apply.
type Set struct {
	Profiles Profiles
	Policies Policies
}

// executorsFor returns the executors of every enabled policy whose
// conditions all hold for c. A policy without conditions applies to none,
// as in Keycloak.
func (s Set) executorsFor(c client.Client) []Executor {
	var out []Executor
	for _, p := range s.Policies.Policies {
		if !p.Enabled || len(p.Conditions) == 0 {
			continue
		}
		if !slices.ContainsFunc(p.Conditions, func(cd Condition) bool { return !holds(cd, c) }) {
			for _, name := range p.Profiles {
				for _, pr := range s.Profiles.Profiles {
					if pr.Name == name {
						out = append(out, pr.Executors...)
					}
				}
			}
		}
	}
	return out
}

func holds(cd Condition, c client.Client) bool {
	switch cd.Condition {
	case CondAnyClient:
		return true
	case CondAccessType:
		want := strings.Join(list(cd.Configuration["type"]), " ")
		if want == "" {
			want = "confidential"
		}
		typ := "confidential"
		switch {
		case c.BearerOnly:
			typ = "bearer-only"
		case c.PublicClient:
			typ = "public"
		}
		return slices.Contains(strings.Fields(want), typ)
	}
	return false
}

// list reads a configuration value that is a list or a single string.
func list(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func flag(cfg map[string]any, key string) bool {
	switch v := cfg[key].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// Error is a client refused by a policy, with OAuth's error code.
type Error struct {
	Code, Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalidMetadata(desc string) error {
	return &Error{Code: "invalid_client_metadata", Description: desc}
}

// OnSave applies the executors to a client an administrator creates or
// updates: those configured to auto-configure set what they require, then
// every rule is checked. The error says what the client lacks.
func (s Set) OnSave(c *client.Client) error {
	for _, e := range s.executorsFor(*c) {
		auto := flag(e.Configuration, "auto-configure")
		switch e.Executor {
		case ExecFullScopeDisabled:
			if auto {
				c.FullScopeAllowed = false
			}
			if c.FullScopeAllowed {
				return invalidMetadata("Full scope is not allowed for this client")
			}
		case ExecConsentRequired:
			if auto {
				c.ConsentRequired = true
			}
			if !c.ConsentRequired {
				return invalidMetadata("Consent is required for this client")
			}
		case ExecPKCE:
			if auto {
				c.Attributes = withAttr(c.Attributes, "pkce.code.challenge.method", "S256")
			}
			if c.Attributes["pkce.code.challenge.method"] != "S256" {
				return invalidMetadata("Invalid client metadata: code_challenge_method")
			}
		case ExecSecureRedirectURIs:
			for _, u := range c.RedirectURIs {
				if !secureRedirect(u, flag(e.Configuration, "allow-http-scheme")) {
					return invalidMetadata("Invalid client metadata: redirect_uris " + u)
				}
			}
		case ExecClientAuthenticator:
			if def, _ := e.Configuration["default-client-authenticator"].(string); auto && def != "" {
				c.ClientAuthenticatorType = def
			}
			if !c.PublicClient && !authenticatorAllowed(e, c.ClientAuthenticatorType) {
				return invalidMetadata("Invalid client metadata: token_endpoint_auth_method")
			}
		}
	}
	return nil
}

// OnAuthenticate checks a client at the token endpoint, after it proved
// who it is: a confidential-client policy refuses public clients, and a
// secure-client-authenticator policy refuses a method it does not allow.
func (s Set) OnAuthenticate(c client.Client) error {
	for _, e := range s.executorsFor(c) {
		switch e.Executor {
		case ExecConfidentialClient:
			if c.PublicClient || c.BearerOnly {
				return &Error{Code: "invalid_client", Description: "invalid client access type"}
			}
		case ExecClientAuthenticator:
			if !c.PublicClient && !authenticatorAllowed(e, c.ClientAuthenticatorType) {
				return &Error{Code: "invalid_client", Description: "Configured client authentication method not allowed for client"}
			}
		}
	}
	return nil
}

// RequiresPKCE reports whether a pkce-enforcer policy applies to c: its
// authorization requests must then carry an S256 code challenge.
func (s Set) RequiresPKCE(c client.Client) bool {
	return slices.ContainsFunc(s.executorsFor(c), func(e Executor) bool { return e.Executor == ExecPKCE })
}

// defaultRotatedLife is how long a replaced secret keeps working under a
// secret-rotation policy without rotated-expiration-period: Keycloak's
// default, two days.
const defaultRotatedLife = 48 * time.Hour

// RotatedSecretLife is how long the secret a regeneration replaces keeps
// authenticating c: the rotated-expiration-period (seconds) of a
// secret-rotation policy that applies to c, else zero (it stops at once).
func (s Set) RotatedSecretLife(c client.Client) time.Duration {
	for _, e := range s.executorsFor(c) {
		if e.Executor != ExecSecretRotation {
			continue
		}
		var secs float64
		switch v := e.Configuration["rotated-expiration-period"].(type) {
		case float64:
			secs = v
		case string:
			secs, _ = strconv.ParseFloat(v, 64)
		}
		if secs <= 0 {
			return defaultRotatedLife
		}
		return time.Duration(secs) * time.Second
	}
	return 0
}

func authenticatorAllowed(e Executor, typ string) bool {
	allowed := list(e.Configuration["allowed-client-authenticators"])
	if typ == "" {
		typ = "client-secret"
	}
	return len(allowed) == 0 || slices.Contains(allowed, typ)
}

// secureRedirect reports whether a redirect URI uses https (or http when
// allowed); custom schemes of native apps are allowed, as Keycloak's
// enforcer does by default.
func secureRedirect(raw string, allowHTTP bool) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.Contains(raw, "*") {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return allowHTTP
	}
	return true
}

func withAttr(attrs map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(attrs)+1)
	for a, b := range attrs {
		out[a] = b
	}
	out[k] = v
	return out
}

// FromRealm returns the set stored with a realm (its ClientProfiles and
// ClientPolicies texts). Stored documents were validated when written; one
// that no longer parses applies nothing and is reported.
func FromRealm(profilesJSON, policiesJSON string) (Set, error) {
	pr, po, err := Parse(profilesJSON, policiesJSON)
	return Set{Profiles: pr, Policies: po}, err
}
