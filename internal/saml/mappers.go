package saml

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// SAML protocol mapper types.
const (
	MapperUserProperty    = "saml-user-property-mapper"
	MapperUserAttribute   = "saml-user-attribute-mapper"
	MapperRoleList        = "saml-role-list-mapper"
	MapperHardcodedAttr   = "saml-hardcode-attribute-mapper"
	MapperGroupMembership = "saml-group-membership-mapper"
	MapperHardcodedRole   = "saml-hardcode-role-mapper"
	MapperRoleName        = "saml-role-name-mapper"
	MapperAudience        = "saml-audience-mapper"
	// MapperNameID takes the NameID of one format from a user attribute.
	MapperNameID = "saml-user-attribute-nameid-mapper"
	// MapperOrganization maps the user's organizations; Gatehouse has no
	// organizations, so it adds nothing, but realms carry it in their
	// saml_organization scope.
	MapperOrganization = "saml-organization-membership-mapper"
)

// Mapper config keys.
const (
	cfgAttributeName  = "attribute.name"
	cfgFriendlyName   = "friendly.name"
	cfgNameFormat     = "attribute.nameformat"
	cfgUserAttribute  = "user.attribute"
	cfgAggregate      = "aggregate.attrs"
	cfgSingle         = "single"
	cfgFullPath       = "full.path"
	cfgAttributeValue = "attribute.value"
	cfgRole           = "role"
	cfgNewRoleName    = "new.role.name"
	cfgClientAudience = "included.client.audience"
	cfgCustomAudience = "included.custom.audience"
	cfgNameIDFormat   = "mapper.nameid.format"
)

// Subject is who an assertion is about.
type Subject struct {
	User user.User
	// RealmRoles and ClientRoles are the user's effective roles in the
	// client's scope.
	RealmRoles  []string
	ClientRoles map[string][]string // clientId → roles
	Groups      []string            // full paths of the user's groups
}

// MapAttributes applies a client's SAML protocol mappers (its own and its
// client scopes') to s, in order: the attribute mappers each add their
// attribute, then the first role list mapper adds the roles, with the
// hardcoded roles and the role name mappers' renames. Mappers of other
// types are skipped.
func MapAttributes(mappers []client.ProtocolMapper, s Subject) []Attribute {
	var out []Attribute
	var roleList *client.ProtocolMapper
	for i, m := range mappers {
		if m.Protocol != "" && m.Protocol != "saml" {
			continue
		}
		c := m.Config
		switch m.ProtocolMapper {
		case MapperUserProperty:
			if v := userProperty(s.User, c[cfgUserAttribute]); v != "" {
				out = append(out, attribute(c, v))
			}
		case MapperUserAttribute:
			if vs := userAttribute(s.User, c[cfgUserAttribute], c[cfgAggregate] == "true"); len(vs) > 0 {
				out = append(out, attribute(c, vs...))
			}
		case MapperHardcodedAttr:
			if v, ok := c[cfgAttributeValue]; ok {
				out = append(out, attribute(c, v))
			}
		case MapperGroupMembership:
			out = append(out, groupAttributes(c, s.Groups)...)
		case MapperRoleList:
			if roleList == nil {
				roleList = &mappers[i]
			}
		}
	}
	if roleList != nil {
		out = append(out, roleAttributes(*roleList, mappers, s)...)
	}
	return out
}

// attribute is an Attribute named and formatted as the mapper config says.
func attribute(c map[string]string, values ...string) Attribute {
	return Attribute{Name: c[cfgAttributeName], FriendlyName: strings.TrimSpace(c[cfgFriendlyName]),
		NameFormat: nameFormat(c[cfgNameFormat]), Values: values}
}

// nameFormat maps attribute.nameformat (Basic, URI Reference, Unspecified,
// or a full URN) to the NameFormat URN; Basic when unset.
func nameFormat(v string) string {
	switch v {
	case "URI Reference", AttrNameFormatURI:
		return AttrNameFormatURI
	case "Unspecified", AttrNameFormatUnspecified:
		return AttrNameFormatUnspecified
	}
	return AttrNameFormatBasic
}

// userProperty is a built-in property of the user by its name, "" when
// unset or unknown.
func userProperty(u user.User, name string) string {
	switch strings.ToLower(name) {
	case "username":
		return u.Username
	case "email":
		return u.Email
	case "firstname":
		return u.FirstName
	case "lastname":
		return u.LastName
	case "id":
		return u.ID
	case "emailverified":
		return strconv.FormatBool(u.EmailVerified)
	case "enabled":
		return strconv.FormatBool(u.Enabled)
	case "createdtimestamp":
		if u.CreatedTimestamp != 0 {
			return strconv.FormatInt(u.CreatedTimestamp, 10)
		}
	}
	return ""
}

// userAttribute is the values of a user attribute: the stored attribute,
// else the built-in property of that name (username, email, firstName,
// lastName), all values; aggregate merges duplicate values.
func userAttribute(u user.User, name string, aggregate bool) []string {
	var vs []string
	if stored, ok := u.Attributes[name]; ok {
		vs = slices.Clone(stored)
	} else if v := userProperty(u, name); v != "" && name != "id" {
		vs = []string{v}
	}
	if aggregate {
		// Values from several sources merge without duplicates.
		slices.Sort(vs)
		vs = slices.Compact(vs)
	}
	return vs
}

// groupAttributes is the group membership attribute(s): one attribute with
// every group when single is on, else one per group; full paths when
// full.path is on, else bare names.
func groupAttributes(c map[string]string, groups []string) []Attribute {
	full := c[cfgFullPath] == "true"
	names := make([]string, 0, len(groups))
	for _, g := range groups {
		if !full {
			g = g[strings.LastIndex(g, "/")+1:]
		}
		names = append(names, g)
	}
	if len(names) == 0 {
		return nil
	}
	if c[cfgAttributeName] == "" {
		c = withDefault(c, cfgAttributeName, "member")
	}
	if c[cfgSingle] == "true" {
		return []Attribute{attribute(c, names...)}
	}
	out := make([]Attribute, 0, len(names))
	for _, n := range names {
		out = append(out, attribute(c, n))
	}
	return out
}

func withDefault(c map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(c)+1)
	for kk, vv := range c {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// roleAttributes applies the role list mapper rl: the hardcoded roles,
// then the subject's realm and client roles, each renamed by the first
// role name mapper that matches it.
func roleAttributes(rl client.ProtocolMapper, mappers []client.ProtocolMapper, s Subject) []Attribute {
	c := rl.Config
	if c[cfgAttributeName] == "" {
		c = withDefault(c, cfgAttributeName, "Role")
	}
	var names []string
	for _, m := range mappers {
		if m.ProtocolMapper == MapperHardcodedRole && m.Config[cfgRole] != "" {
			names = append(names, m.Config[cfgRole])
		}
	}
	rename := func(clientID, role string) string {
		for _, m := range mappers {
			if m.ProtocolMapper != MapperRoleName {
				continue
			}
			if cid, r := splitRole(m.Config[cfgRole]); cid == clientID && r == role && m.Config[cfgNewRoleName] != "" {
				return m.Config[cfgNewRoleName]
			}
		}
		return role
	}
	for _, r := range s.RealmRoles {
		names = append(names, rename("", r))
	}
	clientIDs := make([]string, 0, len(s.ClientRoles))
	for cid := range s.ClientRoles {
		clientIDs = append(clientIDs, cid)
	}
	slices.Sort(clientIDs)
	for _, cid := range clientIDs {
		for _, r := range s.ClientRoles[cid] {
			names = append(names, rename(cid, r))
		}
	}
	if len(names) == 0 {
		return nil
	}
	if c[cfgSingle] == "true" {
		return []Attribute{attribute(c, names...)}
	}
	out := make([]Attribute, 0, len(names))
	for _, n := range names {
		out = append(out, attribute(c, n))
	}
	return out
}

// splitRole reads a role reference: "clientId.roleName" for a client role,
// "roleName" for a realm role. A client ID may itself contain dots; the
// role name is after the last one.
func splitRole(ref string) (clientID, role string) {
	if i := strings.LastIndex(ref, "."); i > 0 {
		return ref[:i], ref[i+1:]
	}
	return "", ref
}

// MapAudiences is the extra audiences the client's SAML audience mappers
// add to the assertion's AudienceRestriction, besides the client itself.
func MapAudiences(mappers []client.ProtocolMapper) []string {
	var out []string
	for _, m := range mappers {
		if m.ProtocolMapper != MapperAudience {
			continue
		}
		a := strings.TrimSpace(m.Config[cfgClientAudience])
		if a == "" {
			a = strings.TrimSpace(m.Config[cfgCustomAudience])
		}
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// PersistentNameIDAttribute is the user attribute that holds a user's
// persistent NameID for a client, when one was stored (by an import, or
// by a caller that keeps them).
func PersistentNameIDAttribute(clientID string) string {
	return "saml.persistent.name.id.for." + clientID
}

// persistentNamespace scopes the UUIDs derived for persistent NameIDs.
var persistentNamespace = uuid.MustParse("6c1c2b1e-3c5d-4f0a-9a55-2b7f8e0c6d41")

// ErrNoEmail is NameID's error when the email format is asked of a user
// without an email.
var ErrNoEmail = errors.New("saml: the user has no email for the emailAddress NameID format")

// ErrNoNameIDValue is NameID's error when a NameID mapper names a user
// attribute the user lacks.
var ErrNoNameIDValue = errors.New("saml: the user has no value for the NameID mapper's attribute")

// NameID is the subject's NameID value and format for a client: the
// client's configured format when it forces it or the request asks for
// none, else the requested one. A saml-user-attribute-nameid-mapper among
// mappers (the client's and its scopes' SAML mappers) whose
// mapper.nameid.format is that format gives the value: the first value of
// its user attribute. Otherwise email is the user's email (an error when
// there is none); persistent is the stored value of
// PersistentNameIDAttribute, else "G-" and a UUID derived from the user
// and the client, so stable without storage and different per client;
// transient is "G-" and a random UUID; unspecified, and any format
// Gatehouse does not know, is the username.
func NameID(cs ClientSettings, requestedFormat string, u user.User, mappers ...client.ProtocolMapper) (value, format string, err error) {
	format = requestedFormat
	if format == "" || cs.ForceNameIDFormat {
		format = cs.NameIDFormat
	}
	if format == "" {
		format = NameIDUnspecified
	}
	for _, m := range mappers {
		if m.ProtocolMapper == MapperNameID && m.Config[cfgNameIDFormat] == format {
			vs := userAttribute(u, m.Config[cfgUserAttribute], false)
			if len(vs) == 0 || vs[0] == "" {
				return "", "", ErrNoNameIDValue
			}
			return vs[0], format, nil
		}
	}
	switch format {
	case NameIDEmail:
		if u.Email == "" {
			return "", "", ErrNoEmail
		}
		return u.Email, format, nil
	case NameIDTransient:
		id, err := uuid.NewRandom()
		if err != nil {
			return "", "", err
		}
		return "G-" + id.String(), format, nil
	case NameIDPersistent:
		if vs := u.Attributes[PersistentNameIDAttribute(cs.EntityID)]; len(vs) > 0 && vs[0] != "" {
			return vs[0], format, nil
		}
		id := uuid.NewHash(sha1.New(), persistentNamespace, []byte(fmt.Sprintf("%s\x00%s\x00%s", u.RealmID, u.ID, cs.EntityID)), 5)
		return "G-" + id.String(), format, nil
	case NameIDUnspecified:
		return u.Username, format, nil
	}
	return u.Username, NameIDUnspecified, nil
}
