// Package regpolicy holds the client registration policies of a realm:
// components applied to each call of the client registration service,
// either to anonymous calls (no token) or to authenticated ones (an
// initial access token or a user's access token; a registration access
// token carries which of the two registered the client). A policy refuses a
// call with a detail text, or changes the client a registration creates.
package regpolicy

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/google/uuid"
)

// ProviderType is the providerType of these components.
const ProviderType = "org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy"

// The two sub types: which calls a policy applies to.
const (
	Anonymous     = "anonymous"
	Authenticated = "authenticated"
)

// Provider ids.
const (
	TrustedHosts    = "trusted-hosts"
	ConsentRequired = "consent-required"
	Scope           = "scope"
	MaxClients      = "max-clients"
	ProtocolMappers = "allowed-protocol-mappers"
	ClientScopes    = "allowed-client-templates"
	ClientDisabled  = "client-disabled"
	// WebOrigins lists the web origins a browser may register from; the
	// registration service answers no cross-origin request, so it allows
	// nothing beyond that.
	WebOrigins = "registration-web-origins"
)

// Config keys.
const (
	cfgTrustedHosts  = "trusted-hosts"
	cfgHostMustMatch = "host-sending-registration-request-must-match"
	cfgURIsMustMatch = "client-uris-must-match"
	cfgMaxClients    = "max-clients"
	cfgMapperTypes   = "allowed-protocol-mapper-types"
	cfgScopes        = "allowed-client-scopes"
	cfgDefaultScopes = "allow-default-scopes"
)

// DefaultMaxClients is the max-clients limit when none is set.
const DefaultMaxClients = 200

// defaultMapperTypes are the protocol mapper types the default policies
// allow in a registered client.
var defaultMapperTypes = []string{
	"oidc-full-name-mapper", "oidc-sha256-pairwise-sub-mapper", "saml-user-property-mapper",
	"oidc-usermodel-property-mapper", "saml-role-list-mapper", "saml-user-attribute-mapper",
	"oidc-usermodel-attribute-mapper", "oidc-address-mapper",
}

// Defaults is the set a new realm gets, with fresh ids.
func Defaults() []realm.RegistrationPolicy {
	return defaults(func(int) string { return uuid.NewString() })
}

func defaults(id func(int) string) []realm.RegistrationPolicy {
	ps := []realm.RegistrationPolicy{
		{Name: "Trusted Hosts", ProviderID: TrustedHosts, SubType: Anonymous,
			Config: map[string][]string{cfgHostMustMatch: {"true"}, cfgURIsMustMatch: {"true"}}},
		{Name: "Consent Required", ProviderID: ConsentRequired, SubType: Anonymous},
		{Name: "Full Scope Disabled", ProviderID: Scope, SubType: Anonymous},
		{Name: "Max Clients Limit", ProviderID: MaxClients, SubType: Anonymous,
			Config: map[string][]string{cfgMaxClients: {strconv.Itoa(DefaultMaxClients)}}},
	}
	for _, sub := range []string{Anonymous, Authenticated} {
		ps = append(ps,
			realm.RegistrationPolicy{Name: "Allowed Protocol Mapper Types", ProviderID: ProtocolMappers, SubType: sub,
				Config: map[string][]string{cfgMapperTypes: slices.Clone(defaultMapperTypes)}},
			realm.RegistrationPolicy{Name: "Allowed Client Scopes", ProviderID: ClientScopes, SubType: sub,
				Config: map[string][]string{cfgDefaultScopes: {"true"}}},
			realm.RegistrationPolicy{Name: "Allowed Registration Web Origins", ProviderID: WebOrigins, SubType: sub})
	}
	for i := range ps {
		ps[i].ID = id(i)
	}
	return ps
}

// Of returns the realm's policies: the stored ones, or for a realm stored
// before policies existed the default set under ids derived from the
// realm's, so they read the same each time until first changed.
func Of(r realm.Realm) []realm.RegistrationPolicy {
	if r.RegistrationPolicies != nil {
		return r.RegistrationPolicies
	}
	return defaults(func(i int) string {
		return uuid.NewSHA1(uuid.NameSpaceOID, []byte(r.ID+"/registration-policy/"+strconv.Itoa(i))).String()
	})
}

// Provider is one policy provider.
type Provider struct {
	ID         string         `json:"id"`
	HelpText   string         `json:"helpText"`
	Properties []keys.Setting `json:"properties"`
	Metadata   map[string]any `json:"metadata"`
}

// prop is a setting whose label and help text the console looks up by name.
func prop(name, typ, dflt string) keys.Setting {
	return keys.Setting{Name: name, Label: name + ".label", HelpText: name + ".tooltip", Type: typ, DefaultValue: dflt}
}

// Providers lists the providers with their settings.
func Providers() []Provider {
	mappers := prop(cfgMapperTypes, "MultivaluedList", "")
	mappers.Options = slices.Sorted(slices.Values(defaultMapperTypes))
	ps := []Provider{
		{ID: ClientScopes, HelpText: "When present, it allows to specify whitelist of client scopes, which will be allowed in representation of registered (or updated) client",
			Properties: []keys.Setting{prop(cfgScopes, "MultivaluedList", ""), prop(cfgDefaultScopes, "boolean", "true")}},
		{ID: ProtocolMappers, HelpText: "Whitelist of protocol mapper types, which will be allowed in registered (or updated) client",
			Properties: []keys.Setting{mappers}},
		{ID: ClientDisabled, HelpText: "When present, then newly registered client will be disabled and admin needs to manually enable them", Properties: []keys.Setting{}},
		{ID: ConsentRequired, HelpText: "When present, then newly registered client will always have 'consentRequired' switch enabled", Properties: []keys.Setting{}},
		{ID: MaxClients, HelpText: "It won't be allowed to register new client if count of existing clients in realm is same or bigger than configured limit",
			Properties: []keys.Setting{prop(cfgMaxClients, "String", strconv.Itoa(DefaultMaxClients))}},
		{ID: Scope, HelpText: "When present, then newly registered client won't have full scope allowed", Properties: []keys.Setting{}},
		{ID: TrustedHosts, HelpText: "Allows to specify from which hosts is user able to register and which redirect URIs can client use in it's configuration",
			Properties: []keys.Setting{prop(cfgTrustedHosts, "MultivaluedString", ""), prop(cfgHostMustMatch, "boolean", "true"), prop(cfgURIsMustMatch, "boolean", "true")}},
		{ID: WebOrigins, HelpText: "Allowed web origins for client registration requests",
			Properties: []keys.Setting{prop("web-origins", "MultivaluedString", "")}},
	}
	for i := range ps {
		ps[i].Metadata = map[string]any{}
	}
	return ps
}

// Known reports whether id names a provider.
func Known(id string) bool {
	return slices.ContainsFunc(Providers(), func(p Provider) bool { return p.ID == id })
}

// Validate checks a policy's provider, sub type and settings; the error
// text is what the admin API answers.
func Validate(p realm.RegistrationPolicy) error {
	if !Known(p.ProviderID) {
		return fmt.Errorf("Unknown client registration policy provider %q", p.ProviderID)
	}
	if p.SubType != Anonymous && p.SubType != Authenticated {
		return fmt.Errorf("subType must be %q or %q", Anonymous, Authenticated)
	}
	for _, k := range []string{cfgHostMustMatch, cfgURIsMustMatch, cfgDefaultScopes} {
		if v := first(p.Config, k); v != "" && v != "true" && v != "false" {
			return fmt.Errorf("%s should be 'true' or 'false'", k)
		}
	}
	switch p.ProviderID {
	case TrustedHosts:
		if !flag(p.Config, cfgHostMustMatch) && !flag(p.Config, cfgURIsMustMatch) {
			return fmt.Errorf("At least one of hosts verification or client URIs validation must be enabled")
		}
	case MaxClients:
		if v := first(p.Config, cfgMaxClients); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return fmt.Errorf("%s should be a number", cfgMaxClients)
			}
		}
	}
	return nil
}

func first(c map[string][]string, k string) string {
	if v := c[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// flag reads a boolean setting that is true unless set to false.
func flag(c map[string][]string, k string) bool {
	return first(c, k) != "false"
}

// Refusal is a policy's refusal of a call.
type Refusal struct {
	Policy, Detail string
}

func (r *Refusal) Error() string {
	return "Policy '" + r.Policy + "' rejected request to client-registration service. Details: " + r.Detail
}

// Client is what the policies read of a registered client.
type Client struct {
	RootURL, BaseURL, AdminURL string
	RedirectURIs               []string
	MapperTypes                []string
	Scopes                     []string // default and optional client scope names
	ConsentRequired            *bool
	FullScopeAllowed           *bool
	Enabled                    *bool
}

// Call is one call to the registration service.
type Call struct {
	SubType     string
	RemoteIP    string
	Update      bool // an update rather than a registration
	Client      *Client
	ClientCount int                                       // clients in the realm, for a registration
	RealmScopes []string                                  // the realm's default and optional client scope names
	Was         func() (consent, fullScope, enabled bool) // the client before an update
}

// Check runs the policies of the call's sub type before the call; nil lets
// it through.
func Check(ps []realm.RegistrationPolicy, c Call) error {
	for _, p := range ps {
		if p.SubType != c.SubType {
			continue
		}
		if d := check(p, c); d != "" {
			return &Refusal{Policy: p.Name, Detail: d}
		}
	}
	return nil
}

func check(p realm.RegistrationPolicy, c Call) string {
	switch p.ProviderID {
	case TrustedHosts:
		hosts := p.Config[cfgTrustedHosts]
		if flag(p.Config, cfgHostMustMatch) && !hostTrusted(c.RemoteIP, hosts) {
			return "Host not trusted."
		}
		if c.Client != nil && flag(p.Config, cfgURIsMustMatch) {
			return urlsTrusted(*c.Client, hosts)
		}
	case MaxClients:
		limit := DefaultMaxClients
		if n, err := strconv.Atoi(first(p.Config, cfgMaxClients)); err == nil {
			limit = n
		}
		if !c.Update && c.Client != nil && c.ClientCount >= limit {
			return "It's allowed to have max " + strconv.Itoa(limit) + " clients per realm"
		}
	case ProtocolMappers:
		if c.Client != nil {
			for _, t := range c.Client.MapperTypes {
				if !slices.Contains(p.Config[cfgMapperTypes], t) {
					return "ProtocolMapper type not allowed"
				}
			}
		}
	case ClientScopes:
		if c.Client != nil {
			allowed := slices.Clone(p.Config[cfgScopes])
			if flag(p.Config, cfgDefaultScopes) {
				allowed = append(allowed, c.RealmScopes...)
			}
			for _, s := range c.Client.Scopes {
				if !slices.Contains(allowed, s) {
					return "Not permitted to use specified clientScope"
				}
			}
		}
	case ConsentRequired, Scope, ClientDisabled:
		if c.Client == nil || !c.Update || c.Was == nil {
			return ""
		}
		consent, full, enabled := c.Was()
		cl := c.Client
		switch {
		case p.ProviderID == ConsentRequired && consent && cl.ConsentRequired != nil && !*cl.ConsentRequired:
			return "Not permitted to update consentRequired to false"
		case p.ProviderID == Scope && !full && cl.FullScopeAllowed != nil && *cl.FullScopeAllowed:
			return "Not permitted to enable fullScopeAllowed"
		case p.ProviderID == ClientDisabled && !enabled && cl.Enabled != nil && *cl.Enabled:
			return "Not permitted to enable client"
		}
	}
	return ""
}

// Shape is what the policies of a sub type change in a newly registered
// client: consent required, full scope off, disabled.
func Shape(ps []realm.RegistrationPolicy, subType string) (consent, noFullScope, disabled bool) {
	for _, p := range ps {
		if p.SubType != subType {
			continue
		}
		switch p.ProviderID {
		case ConsentRequired:
			consent = true
		case Scope:
			noFullScope = true
		case ClientDisabled:
			disabled = true
		}
	}
	return
}

// hostTrusted reports whether the sender's address is one of the trusted
// hosts: an IP address, or a name resolving to ip. A "*.domain" entry
// matches no address (a sender is never looked up by reverse DNS).
func hostTrusted(ip string, hosts []string) bool {
	addr := net.ParseIP(ip)
	if addr == nil {
		return false
	}
	for _, h := range hosts {
		if strings.HasPrefix(h, "*.") {
			continue
		}
		if a := net.ParseIP(h); a != nil {
			if a.Equal(addr) {
				return true
			}
			continue
		}
		if h == "localhost" && addr.IsLoopback() {
			return true
		}
		as, err := net.LookupIP(h)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(as, addr.Equal) {
			return true
		}
	}
	return false
}

// urlsTrusted checks that the client's URLs point at trusted hosts.
func urlsTrusted(c Client, hosts []string) string {
	abs := func(u string) string {
		if strings.HasPrefix(u, "/") {
			if c.RootURL == "" {
				return ""
			}
			return c.RootURL + u
		}
		return u
	}
	for _, u := range []string{c.RootURL, abs(c.BaseURL), abs(c.AdminURL)} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil {
			return "URL is malformed"
		}
		if !nameTrusted(p.Hostname(), hosts) {
			return "URL doesn't match any trusted host or trusted domain"
		}
	}
	for _, u := range c.RedirectURIs {
		u = abs(u)
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil {
			return "URI is malformed"
		}
		if !nameTrusted(p.Hostname(), hosts) {
			return "URI doesn't match any trusted host or trusted domain"
		}
	}
	return ""
}

func nameTrusted(host string, hosts []string) bool {
	for _, h := range hosts {
		if d, ok := strings.CutPrefix(h, "*."); ok {
			if host == d || strings.HasSuffix(host, "."+d) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}
