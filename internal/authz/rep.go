package authz

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// The JSON representations of the admin API and of realm files, with
// Keycloak's field names (ResourceServerRepresentation, ResourceRepresentation
// with "_id" and "icon_uri", ScopeRepresentation, PolicyRepresentation and
// the typed policy representations).

// ServerRep is a resource server: its settings, and in an export or import
// everything it holds.
type ServerRep struct {
	ID                            string          `json:"id,omitempty"`
	ClientID                      string          `json:"clientId,omitempty"`
	Name                          string          `json:"name,omitempty"`
	AllowRemoteResourceManagement bool            `json:"allowRemoteResourceManagement"`
	PolicyEnforcementMode         string          `json:"policyEnforcementMode"`
	Resources                     []ResourceRep   `json:"resources"`
	Policies                      []PolicyRep     `json:"policies"`
	Scopes                        []ScopeRep      `json:"scopes"`
	DecisionStrategy              string          `json:"decisionStrategy"`
	AuthorizationSchema           json.RawMessage `json:"authorizationSchema,omitempty"`
}

// UnmarshalJSON applies the representation's defaults to what the JSON
// leaves out: remote resource management on, enforcing, unanimous.
func (s *ServerRep) UnmarshalJSON(b []byte) error {
	type plain ServerRep
	p := plain{AllowRemoteResourceManagement: true, PolicyEnforcementMode: Enforcing}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = ServerRep(p)
	return nil
}

// OwnerRep names a resource's owner.
type OwnerRep struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// ResourceRep is a resource.
type ResourceRep struct {
	ID                 string              `json:"_id,omitempty"`
	Name               string              `json:"name"`
	Type               string              `json:"type,omitempty"`
	Owner              *OwnerRep           `json:"owner,omitempty"`
	OwnerManagedAccess bool                `json:"ownerManagedAccess"`
	DisplayName        string              `json:"displayName,omitempty"`
	Attributes         map[string][]string `json:"attributes,omitempty"`
	URIs               []string            `json:"uris,omitempty"`
	Scopes             []ScopeRep          `json:"scopes,omitempty"`
	IconURI            string              `json:"icon_uri,omitempty"`
}

// UnmarshalJSON reads a resource as Keycloak does: "uri" (older files) is a
// one-element "uris", "resource_scopes" (the protection API's name) means
// "scopes", an owner may be given by its id alone as a string, and blank
// URIs and types are dropped.
func (r *ResourceRep) UnmarshalJSON(b []byte) error {
	type plain ResourceRep
	var x struct {
		plain
		URI            *string         `json:"uri"`
		ResourceScopes []ScopeRep      `json:"resource_scopes"`
		Owner          json.RawMessage `json:"owner"`
		Attributes     json.RawMessage `json:"attributes"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*r = ResourceRep(x.plain)
	if x.URI != nil && *x.URI != "" && r.URIs == nil {
		r.URIs = []string{*x.URI}
	}
	if x.ResourceScopes != nil && r.Scopes == nil {
		r.Scopes = x.ResourceScopes
	}
	uris := r.URIs[:0]
	for _, u := range r.URIs {
		if u != "" && !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}
	r.URIs = uris
	if o := bytes.TrimSpace(x.Owner); len(o) > 0 && string(o) != "null" {
		if o[0] == '"' {
			var id string
			if err := json.Unmarshal(o, &id); err != nil {
				return err
			}
			r.Owner = &OwnerRep{ID: id}
		} else {
			r.Owner = new(OwnerRep)
			if err := json.Unmarshal(o, r.Owner); err != nil {
				return err
			}
		}
	}
	if len(x.Attributes) > 0 {
		attrs, err := stringListMap(x.Attributes)
		if err != nil {
			return err
		}
		r.Attributes = attrs
	}
	return nil
}

// stringListMap reads attributes whose values are lists of strings or
// single strings (as Keycloak's StringListMapDeserializer accepts).
func stringListMap(b json.RawMessage) (map[string][]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		var list []string
		if err := json.Unmarshal(v, &list); err == nil {
			out[k] = list
			continue
		}
		var one string
		if err := json.Unmarshal(v, &one); err != nil {
			return nil, err
		}
		out[k] = []string{one}
	}
	return out, nil
}

// ScopeRep is a scope.
type ScopeRep struct {
	ID          string        `json:"id,omitempty"`
	Name        string        `json:"name"`
	IconURI     string        `json:"iconUri,omitempty"`
	DisplayName string        `json:"displayName,omitempty"`
	Policies    []PolicyRep   `json:"policies,omitempty"`
	Resources   []ResourceRep `json:"resources,omitempty"`
}

// PolicyRep is the generic policy representation: the type's settings in
// config, associations by id (or, in an export, in config by name).
type PolicyRep struct {
	ID               string            `json:"id,omitempty"`
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	Type             string            `json:"type"`
	Policies         []string          `json:"policies,omitempty"`
	Resources        []string          `json:"resources,omitempty"`
	Scopes           []string          `json:"scopes,omitempty"`
	Logic            string            `json:"logic"`
	DecisionStrategy string            `json:"decisionStrategy"`
	Owner            string            `json:"owner,omitempty"`
	ResourceType     string            `json:"resourceType,omitempty"`
	Config           map[string]string `json:"config,omitempty"`
}

// RoleRef, GroupRef and ScopeRef are the entries of a typed role, group
// and client scope policy.
type RoleRef struct {
	ID       string `json:"id"`
	Required bool   `json:"required"`
}

type GroupRef struct {
	ID             string `json:"id,omitempty"`
	Path           string `json:"path,omitempty"`
	ExtendChildren bool   `json:"extendChildren"`
}

// PolicyInput is a policy as a request carries it: the generic fields and
// those of every typed representation, each set only when the JSON holds it.
type PolicyInput struct {
	PolicyRep
	Roles        *[]RoleRef  `json:"roles"`
	FetchRoles   *bool       `json:"fetchRoles"`
	Users        *[]string   `json:"users"`
	Groups       *[]GroupRef `json:"groups"`
	GroupsClaim  *string     `json:"groupsClaim"`
	Clients      *[]string   `json:"clients"`
	ClientScopes *[]RoleRef  `json:"clientScopes"`
	// regex
	TargetClaim             *string `json:"targetClaim"`
	Pattern                 *string `json:"pattern"`
	TargetContextAttributes *bool   `json:"targetContextAttributes"`
	Code                    *string `json:"code"`
	// Raw is the whole body, for the time fields read by name.
	Raw map[string]json.RawMessage `json:"-"`
}

// timeFields maps a time policy's representation fields to its config keys.
var timeFields = [][2]string{
	{"notBefore", "nbf"}, {"notOnOrAfter", "noa"}, {"dayMonth", "dayMonth"}, {"dayMonthEnd", "dayMonthEnd"},
	{"month", "month"}, {"monthEnd", "monthEnd"}, {"year", "year"}, {"yearEnd", "yearEnd"},
	{"hour", "hour"}, {"hourEnd", "hourEnd"}, {"minute", "minute"}, {"minuteEnd", "minuteEnd"},
}

// DecodePolicy reads a policy body, generic or typed, with the
// representation's defaults (POSITIVE, UNANIMOUS).
func DecodePolicy(b []byte) (PolicyInput, error) {
	in := PolicyInput{PolicyRep: PolicyRep{Logic: Positive, DecisionStrategy: Unanimous}}
	if err := json.Unmarshal(b, &in); err != nil {
		return in, err
	}
	if err := json.Unmarshal(b, &in.Raw); err != nil {
		return in, err
	}
	return in, nil
}

// typedConfig is the config a typed body sets, in the stored form, with
// references still as the body gave them (ids or names); nil when the body
// carries none of the type's fields.
func (in PolicyInput) typedConfig() (map[string]string, bool) {
	cfg := map[string]string{}
	set := false
	put := func(k string, v any) {
		b, _ := json.Marshal(v)
		cfg[k] = string(b)
		set = true
	}
	switch in.Type {
	case "role":
		if in.Roles != nil {
			put("roles", *in.Roles)
		}
		if in.FetchRoles != nil {
			cfg["fetchRoles"], set = strconv.FormatBool(*in.FetchRoles), true
		}
	case "user":
		if in.Users != nil {
			put("users", *in.Users)
		}
	case "group":
		if in.Groups != nil {
			put("groups", *in.Groups)
		}
		if in.GroupsClaim != nil {
			if *in.GroupsClaim != "" {
				cfg["groupsClaim"] = *in.GroupsClaim
			}
			set = true
		}
	case "client":
		if in.Clients != nil {
			put("clients", *in.Clients)
		}
	case "client-scope":
		if in.ClientScopes != nil {
			put("clientScopes", *in.ClientScopes)
		}
	case "time":
		for _, f := range timeFields {
			raw, ok := in.Raw[f[0]]
			if !ok {
				continue
			}
			set = true
			var v any
			if json.Unmarshal(raw, &v) != nil || v == nil {
				continue
			}
			switch v := v.(type) {
			case string:
				if v != "" {
					cfg[f[1]] = v
				}
			case float64:
				cfg[f[1]] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
	case "regex":
		if in.TargetClaim != nil {
			cfg["targetClaim"], set = *in.TargetClaim, true
		}
		if in.Pattern != nil {
			cfg["pattern"], set = *in.Pattern, true
		}
		if in.TargetContextAttributes != nil {
			cfg["targetContextAttributes"], set = strconv.FormatBool(*in.TargetContextAttributes), true
		}
	case "resource":
		if in.ResourceType != "" {
			cfg["defaultResourceType"], set = in.ResourceType, true
		}
	}
	return cfg, set
}

// Generic is the generic representation of a stored policy, as the
// policy list and GET .../policy/{id} show it: its stored config, no
// associations.
func Generic(p Policy) PolicyRep {
	cfg := map[string]string{}
	for k, v := range p.Config {
		cfg[k] = v
	}
	return PolicyRep{ID: p.ID, Name: p.Name, Description: p.Description, Type: p.Type, Logic: p.Logic,
		DecisionStrategy: p.DecisionStrategy, Owner: p.Owner, Config: cfg}
}

// Typed is the typed representation of a stored policy, as
// GET .../policy/{type}/{id} and .../permission/{type}/{id} show it.
func Typed(p Policy) map[string]any {
	out := map[string]any{"id": p.ID, "name": p.Name, "type": p.Type, "logic": p.Logic, "decisionStrategy": p.DecisionStrategy}
	if p.Description != "" {
		out["description"] = p.Description
	}
	if p.Owner != "" {
		out["owner"] = p.Owner
	}
	list := func(key string) any {
		var v any
		if json.Unmarshal([]byte(p.Config[key]), &v) != nil || v == nil {
			return []any{}
		}
		return v
	}
	switch p.Type {
	case "role":
		out["roles"] = list("roles")
		if v, err := strconv.ParseBool(p.Config["fetchRoles"]); err == nil {
			out["fetchRoles"] = v
		}
	case "user":
		out["users"] = list("users")
	case "group":
		out["groups"] = list("groups")
		if c := p.Config["groupsClaim"]; c != "" {
			out["groupsClaim"] = c
		}
	case "client":
		out["clients"] = list("clients")
	case "client-scope":
		out["clientScopes"] = list("clientScopes")
	case "time":
		for _, f := range timeFields {
			if v := p.Config[f[1]]; v != "" {
				out[f[0]] = v
			}
		}
	case "regex":
		out["targetClaim"], out["pattern"] = p.Config["targetClaim"], p.Config["pattern"]
		out["targetContextAttributes"] = p.Config["targetContextAttributes"] == "true"
	case "resource":
		out["resourceType"] = p.Config["defaultResourceType"]
		out["resources"] = nonNil(p.ResourceIDs)
		out["policies"] = nonNil(p.PolicyIDs)
		out["scopes"] = nonNil(p.ScopeIDs)
	case "scope":
		out["resources"] = nonNil(p.ResourceIDs)
		out["scopes"] = nonNil(p.ScopeIDs)
		out["policies"] = nonNil(p.PolicyIDs)
	case "aggregate":
		out["policies"] = nonNil(p.PolicyIDs)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
