package decide

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// policy is a policy or permission with its settings parsed once at Compile.
type policy struct {
	id, name   string
	kind       string // the policy type
	negative   bool
	strategy   string
	permission bool // resource, scope or uma: applies to resources rather than being associated
	typed      bool // a resource permission for every resource of a type
	// invalid marks settings that cannot be read (bad JSON, an unreadable time, a bad pattern,
	// an associated policy that does not exist, js or an unknown type): such a policy denies
	// whatever its logic, so a NEGATIVE one never turns an unreadable setting into a grant.
	invalid bool
	// perResource marks a policy whose effect depends on the resource (a user-managed
	// permission, or anything built on one), which is therefore not memoized per request.
	perResource bool

	assoc        []int32 // associated policies
	resources    []int32
	scopes       []int32
	resourceType string

	// role, client-scope: ids with their "required" flag.
	ids      []string
	required []bool
	fetch    bool
	// group
	extend []bool
	// groupsClaim: the token claim whose values (group paths or names) stand for the user's
	// groups, when the policy names one.
	groupsClaim []string
	// user, client
	set map[string]bool
	// time: the bounds are UTC wall clocks, which evaluation moves into the request's zone.
	time authz.TimePolicy
	// regex
	claimPath []string
	dotted    bool
	pattern   *regexp.Regexp
	inContext bool
}

// compilePolicy parses a stored policy. Settings it cannot parse make the policy invalid rather
// than failing the whole resource server: one bad policy must not stop every other decision.
func compilePolicy(e *Engine, p authz.Policy) policy {
	c := policy{id: p.ID, name: p.Name, kind: p.Type, negative: p.Logic == authz.Negative,
		strategy: p.DecisionStrategy}
	if c.strategy == "" {
		c.strategy = authz.Unanimous
	}
	for _, id := range p.PolicyIDs {
		if i, ok := e.polByID[id]; ok {
			c.assoc = append(c.assoc, i)
		} else {
			// Deciding without it would decide something other than what was configured.
			c.invalid = true
		}
	}
	for _, id := range p.ResourceIDs {
		if i, ok := e.resByID[id]; ok {
			c.resources = append(c.resources, i)
		}
	}
	for _, id := range p.ScopeIDs {
		if i, ok := e.scopeIDs[id]; ok {
			c.scopes = append(c.scopes, i)
		}
	}
	cfg := p.Config
	switch p.Type {
	case "resource", "scope", "uma":
		c.permission = true
		c.resourceType = cfg["defaultResourceType"]
		if c.resourceType == "" {
			c.resourceType = cfg["resourceType"]
		}
		_, hasDefault := cfg["defaultResourceType"]
		c.typed = hasDefault || c.resourceType != ""
		if !c.typed && len(c.resources) > 0 {
			// A permission on a resource the server owns and that has a type is one that
			// applies to that type: users' resources of the type inherit it.
			first := e.res[c.resources[0]]
			c.typed = first.typ != "" && first.serverOwned
		}
	case "role":
		var defs []struct {
			ID       string `json:"id"`
			Required bool   `json:"required"`
		}
		c.invalid = c.invalid || unmarshal(cfg["roles"], &defs) != nil
		for _, d := range defs {
			c.ids = append(c.ids, d.ID)
			c.required = append(c.required, d.Required)
		}
		c.fetch = cfg["fetchRoles"] == "true"
	case "client-scope":
		var defs []struct {
			ID       string `json:"id"`
			Required bool   `json:"required"`
		}
		c.invalid = c.invalid || unmarshal(cfg["clientScopes"], &defs) != nil
		for _, d := range defs {
			c.ids = append(c.ids, d.ID)
			c.required = append(c.required, d.Required)
		}
	case "group":
		var defs []struct {
			ID             string `json:"id"`
			ExtendChildren bool   `json:"extendChildren"`
		}
		c.invalid = c.invalid || unmarshal(cfg["groups"], &defs) != nil
		for _, d := range defs {
			c.ids = append(c.ids, d.ID)
			c.extend = append(c.extend, d.ExtendChildren)
		}
		c.groupsClaim, _ = splitClaimPath(cfg["groupsClaim"])
	case "user", "client":
		key := "users"
		if p.Type == "client" {
			key = "clients"
		}
		var ids []string
		c.invalid = c.invalid || unmarshal(cfg[key], &ids) != nil
		c.set = make(map[string]bool, len(ids))
		for _, id := range ids {
			c.set[id] = true
		}
	case "time":
		var err error
		c.time, err = authz.ParseTimePolicy(cfg)
		c.invalid = c.invalid || err != nil
	case "regex":
		c.inContext = cfg["targetContextAttributes"] == "true"
		c.claimPath, c.dotted = splitClaimPath(cfg["targetClaim"])
		// Keycloak matches the whole value (Java's Matcher.matches).
		re, err := regexp.Compile(`^(?:` + cfg["pattern"] + `)$`)
		if err != nil || len(c.claimPath) == 0 {
			c.invalid = true
		}
		c.pattern = re
	case "aggregate":
	case "js":
		// The one script understood is the built-in default grant; any other is never run.
		c.invalid = c.invalid || !authz.IsDefaultGrant(p)
	default:
		// Unknown types are never evaluated.
		c.invalid = true
	}
	return c
}

func unmarshal(s string, v any) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// splitClaimPath splits a claim name on dots not escaped with a backslash, as protocol mappers
// name nested claims ("address.country", "a\.b" for a claim named "a.b").
func splitClaimPath(s string) (parts []string, dotted bool) {
	if s == "" {
		return nil, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '.':
			b.WriteByte('.')
			i++
		case s[i] == '.':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	parts = append(parts, b.String())
	return parts, len(parts) > 1
}

// outcome is what a policy provider decided before logic is applied.
type outcome uint8

const (
	noEffect outcome = iota
	granted
	denied
)

// evalState holds one request's memo of policy effects.
type evalState struct {
	e  *Engine
	id *Identity
	// effect[i]: 0 not evaluated yet, 1 PERMIT, 2 DENY (after logic).
	effect []uint8
	// granted[i]: the same for the decision strategy of a permission or aggregate.
	granted []uint8
}

// effectOf returns the effect of policy i for the identity, evaluating it once per request.
// User-managed ("uma") policies depend on the resource's owner, so they are not memoized.
func (s *evalState) effectOf(i int32, r *resource) bool {
	if v := s.effect[i]; v != 0 {
		return v == 1
	}
	p := &s.e.pols[i]
	if p.invalid {
		// Unreadable settings deny before logic is applied: NEGATIVE must not invert them.
		s.effect[i] = 2
		return false
	}
	if p.perResource {
		return s.permissionGranted(i, r)
	}
	var o outcome
	switch {
	case p.permission:
		if s.permissionGranted(i, r) {
			o = granted
		} else {
			o = denied
		}
	default:
		o = s.evalProvider(i, p, r)
	}
	permit := o == granted
	if p.negative {
		permit = !permit
	}
	if permit {
		s.effect[i] = 1
	} else {
		s.effect[i] = 2
	}
	return permit
}

// permissionGranted applies a permission's (or aggregate's) decision strategy to the effects of
// its associated policies: UNANIMOUS needs no DENY, AFFIRMATIVE one PERMIT, CONSENSUS more
// PERMITs than DENYs (a tie denies). An empty UNANIMOUS set grants, as in Keycloak. The result
// is memoized per request unless it depends on the resource (user-managed permissions).
func (s *evalState) permissionGranted(i int32, r *resource) bool {
	p := &s.e.pols[i]
	if !p.perResource {
		if v := s.granted[i]; v != 0 {
			return v == 1
		}
	}
	var ok bool
	if p.kind == "uma" && r != nil && s.id.UserID != "" && r.owner == s.id.UserID {
		// The owner of a resource is never refused by the permissions they granted to others.
		ok = true
	} else if p.invalid {
		// A permission or aggregate that cannot be read grants nothing.
		ok = false
	} else {
		switch p.strategy {
		case authz.Affirmative:
			for _, a := range p.assoc {
				if s.effectOf(a, r) {
					ok = true
					break
				}
			}
		case authz.Consensus:
			grants := 0
			for _, a := range p.assoc {
				if s.effectOf(a, r) {
					grants++
				}
			}
			ok = grants > len(p.assoc)-grants
		default:
			ok = true
			for _, a := range p.assoc {
				if !s.effectOf(a, r) {
					ok = false
					break
				}
			}
		}
	}
	if !p.perResource {
		s.granted[i] = 2
		if ok {
			s.granted[i] = 1
		}
	}
	return ok
}

func (s *evalState) evalProvider(i int32, p *policy, r *resource) outcome {
	id := s.id
	switch p.kind {
	case "role":
		roles := id.RoleIDs
		if p.fetch && id.StoredRoleIDs != nil {
			roles = id.StoredRoleIDs
		}
		return requiredAny(p, roles)
	case "client-scope":
		return requiredAny(p, id.ClientScopeIDs)
	case "user":
		if id.UserID != "" && p.set[id.UserID] {
			return granted
		}
	case "client":
		if id.ClientID != "" && p.set[id.ClientID] {
			return granted
		}
	case "group":
		if p.groupsClaim != nil {
			return p.evalGroupsClaim(id)
		}
		for k, g := range p.ids {
			if id.GroupIDs[g] || (p.extend[k] && id.InheritedGroupIDs[g]) {
				return granted
			}
		}
	case "time":
		return p.evalTime(id)
	case "regex":
		return p.evalRegex(id)
	case "js":
		// Compiled only for the default grant (anything else is invalid).
		return granted
	case "aggregate":
		if len(p.assoc) == 0 {
			return noEffect
		}
		// An aggregate is evaluated like a permission over its associated policies.
		if s.permissionGranted(i, r) {
			return granted
		}
		return denied
	}
	return noEffect
}

// requiredAny is the rule of role and client-scope policies: a missing required entry denies;
// otherwise holding any entry grants.
func requiredAny(p *policy, held map[string]bool) outcome {
	o := noEffect
	for k, id := range p.ids {
		has := held[id]
		if !has && p.required[k] {
			return denied
		}
		if has {
			o = granted
		}
	}
	return o
}

func (p *policy) evalTime(id *Identity) outcome {
	now := id.Now
	loc := now.Location()
	if v := id.Attributes["kc.time.date_time"]; len(v) > 0 && v[0] != "" {
		t, err := authz.ParseTimePolicyDate(v[0], loc)
		if err != nil {
			return denied
		}
		now = t
	}
	if nbf := p.time.NotBefore; !nbf.IsZero() && now.Before(inZone(nbf, loc)) {
		return denied
	}
	if noa := p.time.NotOnOrAfter; !noa.IsZero() && now.After(inZone(noa, loc)) {
		return denied
	}
	now = now.In(loc)
	for _, r := range p.time.Ranges {
		var v int
		switch r.Field {
		case authz.DayOfMonth:
			v = now.Day()
		case authz.Month:
			v = int(now.Month())
		case authz.Year:
			v = now.Year()
		case authz.Hour:
			v = now.Hour()
		case authz.Minute:
			v = now.Minute()
		}
		if r.HasEnd {
			if v < r.Start || v > r.End {
				return denied
			}
		} else if v != r.Start {
			return denied
		}
	}
	return granted
}

// inZone reads a UTC wall clock as the same wall clock in loc.
func inZone(t time.Time, loc *time.Location) time.Time {
	if loc == time.UTC {
		return t
	}
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, 0, loc)
}

func (p *policy) evalRegex(id *Identity) outcome {
	var values []string
	if p.inContext {
		attr := id.Attributes[p.claimPath[0]]
		if p.dotted {
			if len(attr) == 0 {
				return noEffect
			}
			var doc any
			if json.Unmarshal([]byte(attr[0]), &doc) != nil {
				return noEffect
			}
			v, ok := walk(doc, p.claimPath[1:])
			if !ok {
				return noEffect
			}
			values = []string{v}
		} else {
			values = attr
		}
	} else {
		c, ok := id.Claims[p.claimPath[0]]
		if !ok {
			return noEffect
		}
		if p.dotted {
			v, ok := walk(c, p.claimPath[1:])
			if !ok {
				return noEffect
			}
			values = []string{v}
		} else {
			values = claimStrings(c)
		}
	}
	for _, v := range values {
		if p.pattern.MatchString(v) {
			return granted
		}
	}
	return noEffect
}

// evalGroupsClaim decides a group policy from the groups a token claims rather than the user's
// stored memberships: a value holding a slash is a group path, which must be the policy group's
// path or, with extendChildren, a path below it; any other value is compared with the group's
// name.
func (p *policy) evalGroupsClaim(id *Identity) outcome {
	c, ok := id.Claims[p.groupsClaim[0]]
	for _, k := range p.groupsClaim[1:] {
		m, isMap := c.(map[string]any)
		if !ok || !isMap {
			return noEffect
		}
		c, ok = m[k]
	}
	if !ok || id.Group == nil {
		return noEffect
	}
	values := claimStrings(c)
	for k, g := range p.ids {
		path, name, found := id.Group(g)
		if !found {
			continue
		}
		for _, v := range values {
			if strings.Contains(v, "/") {
				if v == path || (p.extend[k] && strings.HasPrefix(v, path+"/")) {
					return granted
				}
			} else if v == name {
				return granted
			}
		}
	}
	return noEffect
}

// walk follows a path into a JSON-like value and renders what it finds as text: a string as
// itself, anything else as JSON.
func walk(v any, path []string) (string, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[k]; !ok {
			return "", false
		}
	}
	if v == nil {
		return "", false
	}
	if s, ok := v.(string); ok {
		return s, true
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}

// claimStrings renders a claim as the list of its values.
func claimStrings(c any) []string {
	switch v := c.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			} else if b, err := json.Marshal(x); err == nil {
				out = append(out, string(b))
			}
		}
		return out
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		return []string{strings.Trim(string(b), `"`)}
	}
}
