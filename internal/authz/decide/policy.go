package decide

import (
	"encoding/json"
	"regexp"
	"strconv"
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
	// invalid marks settings that cannot be evaluated (bad JSON, bad pattern, js): such a
	// policy always denies (before its logic is applied), like one that matches nobody.
	invalid bool

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
	// user, client
	set map[string]bool
	// time
	timeRules []timeRule
	nbf, noa  string
	// regex
	claimPath []string
	dotted    bool
	pattern   *regexp.Regexp
	inContext bool
}

type timeRule struct {
	field      int // 0 day of month, 1 month, 2 year, 3 hour, 4 minute
	start, end int
	hasEnd     bool
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
		c.invalid = unmarshal(cfg["roles"], &defs) != nil
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
		c.invalid = unmarshal(cfg["clientScopes"], &defs) != nil
		for _, d := range defs {
			c.ids = append(c.ids, d.ID)
			c.required = append(c.required, d.Required)
		}
	case "group":
		var defs []struct {
			ID             string `json:"id"`
			ExtendChildren bool   `json:"extendChildren"`
		}
		c.invalid = unmarshal(cfg["groups"], &defs) != nil
		for _, d := range defs {
			c.ids = append(c.ids, d.ID)
			c.extend = append(c.extend, d.ExtendChildren)
		}
	case "user", "client":
		key := "users"
		if p.Type == "client" {
			key = "clients"
		}
		var ids []string
		c.invalid = unmarshal(cfg[key], &ids) != nil
		c.set = make(map[string]bool, len(ids))
		for _, id := range ids {
			c.set[id] = true
		}
	case "time":
		c.nbf = cfg["nbf"]
		c.noa = cfg["noa"]
		if c.noa == "" {
			c.noa = cfg["notOnOrAfter"]
		}
		for f, name := range []string{"dayMonth", "month", "year", "hour", "minute"} {
			start, ok := cfg[name]
			if !ok || start == "" {
				continue
			}
			r := timeRule{field: f}
			var err error
			if r.start, err = strconv.Atoi(strings.TrimSpace(start)); err != nil {
				c.invalid = true
			}
			if end := cfg[name+"End"]; end != "" {
				r.hasEnd = true
				if r.end, err = strconv.Atoi(strings.TrimSpace(end)); err != nil {
					c.invalid = true
				}
			}
			c.timeRules = append(c.timeRules, r)
		}
		for _, v := range []string{c.nbf, c.noa} {
			if v != "" {
				if _, err := parseDateTime(v, time.UTC); err != nil {
					c.invalid = true
				}
			}
		}
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
	default:
		// "js" and unknown types are never evaluated: scripts are not supported.
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

// parseDateTime reads a time policy bound: "yyyy-MM-dd HH:mm:ss", or a date alone meaning its
// midnight, in the given location.
func parseDateTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 {
		s += " 00:00:00"
	}
	return time.ParseInLocation("2006-01-02 15:04:05", s, loc)
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
}

// effectOf returns the effect of policy i for the identity, evaluating it once per request.
// User-managed ("uma") policies depend on the resource's owner, so they are not memoized.
func (s *evalState) effectOf(i int32, r *resource) bool {
	if v := s.effect[i]; v != 0 {
		return v == 1
	}
	p := &s.e.pols[i]
	if p.kind == "uma" {
		return s.permissionGranted(i, r)
	}
	var o outcome
	switch {
	case p.invalid:
		o = noEffect
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
// its associated policies.
func (s *evalState) permissionGranted(i int32, r *resource) bool {
	p := &s.e.pols[i]
	if p.kind == "uma" && r != nil && s.id.UserID != "" && r.owner == s.id.UserID {
		// The owner of a resource is never refused by the permissions they granted to others.
		return true
	}
	return decideStrategy(p.strategy, len(p.assoc), func(yield func(bool) bool) {
		for _, a := range p.assoc {
			if !yield(s.effectOf(a, r)) {
				return
			}
		}
	})
}

// decideStrategy combines effects: UNANIMOUS needs no DENY, AFFIRMATIVE one PERMIT, CONSENSUS
// more PERMITs than DENYs (a tie denies). An empty UNANIMOUS set grants, as in Keycloak.
func decideStrategy(strategy string, n int, effects func(func(bool) bool)) bool {
	switch strategy {
	case authz.Affirmative:
		found := false
		effects(func(permit bool) bool {
			found = permit
			return !permit
		})
		return found
	case authz.Consensus:
		grants := 0
		effects(func(permit bool) bool {
			if permit {
				grants++
			}
			return true
		})
		return grants > n-grants
	default:
		ok := true
		effects(func(permit bool) bool {
			ok = permit
			return permit
		})
		return ok
	}
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
		for k, g := range p.ids {
			if id.GroupIDs[g] || (p.extend[k] && id.InheritedGroupIDs[g]) {
				return granted
			}
		}
	case "time":
		return p.evalTime(id)
	case "regex":
		return p.evalRegex(id)
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
		t, err := parseDateTime(v[0], loc)
		if err != nil {
			return denied
		}
		now = t
	}
	if p.nbf != "" {
		t, _ := parseDateTime(p.nbf, loc)
		if now.Before(t) {
			return denied
		}
	}
	if p.noa != "" {
		t, _ := parseDateTime(p.noa, loc)
		if now.After(t) {
			return denied
		}
	}
	now = now.In(loc)
	for _, r := range p.timeRules {
		var v int
		switch r.field {
		case 0:
			v = now.Day()
		case 1:
			v = int(now.Month())
		case 2:
			v = now.Year()
		case 3:
			v = now.Hour()
		case 4:
			v = now.Minute()
		}
		if r.hasEnd {
			if v < r.start || v > r.end {
				return denied
			}
		} else if v != r.start {
			return denied
		}
	}
	return granted
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
