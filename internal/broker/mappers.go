package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
	"github.com/gatehouse-iam/gatehouse/internal/role"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// When mappers run: at a user's first login through the provider (the
// user created or linked), or at each later login.
type mapperPhase int

const (
	PhaseImport mapperPhase = iota
	PhaseUpdate
)

// ApplyUsernameTemplate rewrites the identity's username with the
// provider's username template importers, before the identity is looked
// up or a user is created with it.
func ApplyUsernameTemplate(alias string, ms []idp.Mapper, id *Identity) {
	for _, m := range ms {
		if m.IdentityProviderMapper != idp.MapperUsernameTemplate && m.IdentityProviderMapper != idp.MapperSAMLUsernameTemplate {
			continue
		}
		name := expandTemplate(m.Config[idp.MapperConfigTemplate], alias, id)
		if name == "" {
			continue
		}
		switch m.Config[idp.MapperConfigTarget] {
		case "BROKER_ID":
			id.ID = name
		case "BROKER_USERNAME":
			// Only the federated username changes; the local one too,
			// since Gatehouse keeps them equal at creation.
			id.Username = name
		default: // LOCAL
			id.Username = name
		}
	}
}

var placeholder = regexp.MustCompile(`\$\{([^}]+)\}`)

// expandTemplate substitutes ${ALIAS}, ${CLAIM.name} (dotted names reach
// into objects) and ${...| lowercase} or ${...| uppercase}.
func expandTemplate(tmpl, alias string, id *Identity) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		inner := strings.TrimSpace(m[2 : len(m)-1])
		expr, transform, _ := strings.Cut(inner, "|")
		expr, transform = strings.TrimSpace(expr), strings.TrimSpace(transform)
		var v string
		switch {
		case expr == "ALIAS":
			v = alias
		case strings.HasPrefix(expr, "CLAIM."):
			vals := claimValues(id.Claims, strings.TrimPrefix(expr, "CLAIM."))
			if len(vals) > 0 {
				v = vals[0]
			}
		case expr == "NAMEID" && id.SAML != nil:
			v = id.SAML.NameID
		case strings.HasPrefix(expr, "ATTRIBUTE.") && id.SAML != nil:
			v = first(id.SAML.valuesByKey(strings.TrimPrefix(expr, "ATTRIBUTE.")))
		}
		switch transform {
		case "lowercase":
			v = strings.ToLower(v)
		case "uppercase":
			v = strings.ToUpper(v)
		}
		return v
	})
}

// claimValues reads a claim by dotted path as strings (a list claim gives
// each element).
func claimValues(c Claims, path string) []string {
	var cur any = map[string]any(c)
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			if cl, ok2 := cur.(Claims); ok2 {
				obj = cl
			} else {
				return nil
			}
		}
		cur, ok = obj[part]
		if !ok {
			return nil
		}
	}
	var out []string
	add := func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, fmt.Sprint(x))
		case float64:
			out = append(out, fmt.Sprint(x))
		}
	}
	if list, ok := cur.([]any); ok {
		for _, v := range list {
			add(v)
		}
	} else {
		add(cur)
	}
	return out
}

// PreprocessSAML fills in the identity's email, first and last name from
// the SAML attribute importers that target them, so the first broker login
// (its review page, its search for an existing account) sees them.
func PreprocessSAML(ms []idp.Mapper, id *Identity) {
	if id.SAML == nil {
		return
	}
	for _, m := range ms {
		if m.IdentityProviderMapper != idp.MapperSAMLAttributeImporter {
			continue
		}
		v := first(id.SAML.Values(m.Config[idp.MapperConfigAttributeName], m.Config[idp.MapperConfigAttributeFriendly]))
		if v == "" {
			continue
		}
		switch strings.ToLower(m.Config[idp.MapperConfigUserAttribute]) {
		case "email":
			id.Email = v
		case "firstname":
			id.FirstName = v
		case "lastname":
			id.LastName = v
		}
	}
}

// Mapping applies a provider's mappers to a user.
type Mapping struct {
	Store    *store.DB
	RealmID  string
	Provider idp.Provider
	Mappers  []idp.Mapper
}

// syncMode is the mapper's effective sync mode.
func (m Mapping) syncMode(mp idp.Mapper) string {
	switch v := mp.Config[idp.MapperConfigSyncMode]; v {
	case idp.SyncImport, idp.SyncLegacy, idp.SyncForce:
		return v
	}
	return m.Provider.EffectiveSyncMode()
}

// Apply runs the mappers for phase: at import every mapper applies; at a
// later login an IMPORT mapper does nothing, a FORCE one applies again
// (and takes away a role or group whose claims no longer match), and a
// LEGACY one keeps the behaviour older versions had (attributes are
// refreshed, hardcoded grants are not repeated, claim-based grants are
// only taken away).
func (m Mapping) Apply(ctx context.Context, phase mapperPhase, u *user.User, id Identity) error {
	for _, mp := range m.Mappers {
		mode := m.syncMode(mp)
		if phase == PhaseUpdate && mode == idp.SyncImport {
			continue
		}
		force := phase == PhaseImport || mode == idp.SyncForce
		var err error
		switch mp.IdentityProviderMapper {
		case idp.MapperHardcodedRole:
			if force {
				err = m.grantRole(ctx, u.ID, mp.Config[idp.MapperConfigRole], true)
			}
		case idp.MapperHardcodedGroup:
			if force {
				err = m.joinGroup(ctx, u.ID, mp.Config[idp.MapperConfigGroup], true)
			}
		case idp.MapperHardcodedAttribute:
			if force {
				err = m.setAttribute(ctx, u, mp.Config[idp.MapperConfigAttribute], []string{mp.Config[idp.MapperConfigAttributeValue]})
			}
		case idp.MapperAttributeImporter:
			vals := claimValues(id.Claims, mp.Config[idp.MapperConfigClaim])
			if len(vals) > 0 || force {
				err = m.setAttribute(ctx, u, mp.Config[idp.MapperConfigUserAttribute], vals)
			}
		case idp.MapperSAMLAttributeImporter:
			vals := id.SAML.Values(mp.Config[idp.MapperConfigAttributeName], mp.Config[idp.MapperConfigAttributeFriendly])
			if len(vals) > 0 || force {
				err = m.setAttribute(ctx, u, mp.Config[idp.MapperConfigUserAttribute], vals)
			}
		case idp.MapperAdvancedClaimRole, idp.MapperAdvancedClaimGroup, idp.MapperSAMLAdvancedRole, idp.MapperSAMLAdvancedGroup, idp.MapperSAMLAttributeToRole:
			var match bool
			var merr error
			switch mp.IdentityProviderMapper {
			case idp.MapperAdvancedClaimRole, idp.MapperAdvancedClaimGroup:
				match, merr = claimsMatch(mp.Config[idp.MapperConfigClaims], mp.Config[idp.MapperConfigClaimsRegex] == "true",
					func(k string) []string { return claimValues(id.Claims, k) })
			case idp.MapperSAMLAttributeToRole:
				match = slices.Contains(id.SAML.Values(mp.Config[idp.MapperConfigAttributeName], mp.Config[idp.MapperConfigAttributeFriendly]),
					mp.Config[idp.MapperConfigAttributeValueIs])
			default:
				match, merr = claimsMatch(mp.Config[idp.MapperConfigAttributes], mp.Config[idp.MapperConfigAttributesRegex] == "true", id.SAML.valuesByKey)
			}
			if merr != nil {
				err = merr
				break
			}
			grant := match && force
			revoke := !match && phase == PhaseUpdate // FORCE and LEGACY take it away
			if !grant && !revoke {
				break
			}
			if mp.IdentityProviderMapper == idp.MapperAdvancedClaimGroup || mp.IdentityProviderMapper == idp.MapperSAMLAdvancedGroup {
				err = m.joinGroup(ctx, u.ID, mp.Config[idp.MapperConfigGroup], grant)
			} else {
				err = m.grantRole(ctx, u.ID, mp.Config[idp.MapperConfigRole], grant)
			}
		}
		if err != nil {
			return fmt.Errorf("identity provider mapper %q: %w", mp.Name, err)
		}
	}
	return nil
}

// claimsMatch says whether every condition of conditions (JSON key and
// value pairs) has a value among what values gives for its key (or, with
// regex, a value matching the pattern).
func claimsMatch(conditions string, regex bool, values func(key string) []string) (bool, error) {
	var want []struct{ Key, Value string }
	if err := json.Unmarshal([]byte(conditions), &want); err != nil {
		return false, fmt.Errorf("claims: %w", err)
	}
	for _, w := range want {
		vals := values(w.Key)
		ok := false
		for _, v := range vals {
			if regex {
				re, err := regexp.Compile(`^(?:` + w.Value + `)$`)
				if err != nil {
					return false, err
				}
				ok = re.MatchString(v)
			} else {
				ok = v == w.Value
			}
			if ok {
				break
			}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// ErrMapperTarget is a mapper naming a role or group the realm lacks.
var ErrMapperTarget = errors.New("broker: mapper target not found")

// roleByName resolves a realm role name, or "clientId.role" for a client
// role.
func (m Mapping) roleByName(ctx context.Context, name string) (role.Role, error) {
	r, err := m.Store.GetRealmRole(ctx, m.RealmID, name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	for i := strings.Index(name, "."); i > 0; i = nextDot(name, i) {
		c, err := m.Store.GetClientByClientID(ctx, m.RealmID, name[:i])
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return r, err
		}
		r, err = m.Store.GetClientRole(ctx, m.RealmID, c.ID, name[i+1:])
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return r, err
		}
	}
	return r, fmt.Errorf("%w: role %q", ErrMapperTarget, name)
}

func nextDot(s string, i int) int {
	j := strings.Index(s[i+1:], ".")
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func (m Mapping) grantRole(ctx context.Context, userID, name string, grant bool) error {
	r, err := m.roleByName(ctx, name)
	if err != nil {
		return err
	}
	if grant {
		return m.Store.AddUserRoles(ctx, userID, r.ID)
	}
	return m.Store.RemoveUserRoles(ctx, userID, r.ID)
}

func (m Mapping) joinGroup(ctx context.Context, userID, path string, join bool) error {
	all, err := m.Store.ListGroups(ctx, m.RealmID)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	for id, p := range role.GroupPaths(all) {
		if p != path {
			continue
		}
		if join {
			return m.Store.AddGroupMember(ctx, id, userID)
		}
		err := m.Store.RemoveGroupMember(ctx, id, userID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	return fmt.Errorf("%w: group %q", ErrMapperTarget, path)
}

// setAttribute sets a user attribute; email, firstName, lastName name the
// user's own fields.
func (m Mapping) setAttribute(ctx context.Context, u *user.User, name string, vals []string) error {
	if name == "" {
		return nil
	}
	first := ""
	if len(vals) > 0 {
		first = vals[0]
	}
	return m.Store.UpdateUser(ctx, m.RealmID, u.ID, func(x *user.User) error {
		switch name {
		case "email":
			x.Email = strings.ToLower(first)
		case "firstName":
			x.FirstName = first
		case "lastName":
			x.LastName = first
		case "username":
			return nil // never renamed by a mapper
		default:
			if x.Attributes == nil {
				x.Attributes = map[string][]string{}
			}
			if len(vals) == 0 {
				delete(x.Attributes, name)
			} else {
				x.Attributes[name] = slices.Clone(vals)
			}
		}
		*u = *x
		return nil
	})
}
