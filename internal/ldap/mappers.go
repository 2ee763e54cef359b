package ldap

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Projection is what the mappers make of one directory entry: the parts
// of a Gatehouse user the directory decides.
type Projection struct {
	Username  string
	Email     string
	FirstName string
	LastName  string
	Enabled   bool
	// EmailVerified follows the provider's trustEmail.
	EmailVerified bool
	// Attributes are custom user attributes (not username/email/names).
	Attributes      map[string][]string
	RequiredActions []string
	// Roles are realm roles ("name") or client roles ("clientId" + "name").
	Roles []RoleRef
	// Groups are group paths ("/ldap-users", "/parent/child").
	Groups []string
	// ManagedRoles and ManagedGroups are all those the group and role
	// mappers found in the directory: a user's mapping to one of them that
	// is not in Roles or Groups was taken away in the directory.
	ManagedRoles  []RoleRef
	ManagedGroups []string
}

// RoleRef names a realm role (ClientID empty) or a client's role. When
// Qualified is set the name came as "clientId.role" or "role" from a
// hardcoded mapper and the caller resolves which it is.
type RoleRef struct {
	ClientID  string
	Name      string
	Qualified string
}

func cfgFirst(m MapperSpec, key, def string) string {
	if v := m.Config[key]; len(v) > 0 && strings.TrimSpace(v[0]) != "" {
		return strings.TrimSpace(v[0])
	}
	return def
}

func cfgBool(m MapperSpec, key string, def bool) bool {
	if v := m.Config[key]; len(v) > 0 && strings.TrimSpace(v[0]) != "" {
		return strings.EqualFold(strings.TrimSpace(v[0]), "true")
	}
	return def
}

// ValidateMapper refuses a mapper config that cannot work, with the
// messages of the admin API.
func ValidateMapper(provider Config, m MapperSpec) error {
	need := func(key, label string) error {
		if cfgFirst(m, key, "") == "" {
			return &ConfigError{Msg: "Missing configuration for '" + label + "'"}
		}
		return nil
	}
	filter := func(key string) error {
		if f := cfgFirst(m, key, ""); f != "" && (!strings.HasPrefix(f, "(") || !strings.HasSuffix(f, ")")) {
			return &ConfigError{Msg: msgInvalidCustomFilter}
		}
		return nil
	}
	switch m.ProviderID {
	case MapperUserAttribute, MapperCertificate:
		if err := need("user.model.attribute", "User Model Attribute"); err != nil {
			return err
		}
		return need("ldap.attribute", "LDAP Attribute")
	case MapperFullName:
		if err := need("ldap.full.name.attribute", "LDAP Full Name Attribute"); err != nil {
			return err
		}
		ro, wo := cfgBool(m, "read.only", false), cfgBool(m, "write.only", false)
		if ro && wo {
			return &ConfigError{Msg: "Can not set write-only and read-only together"}
		}
		if wo && provider.EditMode != Writable {
			return &ConfigError{Msg: "Can not set write only when LDAP provider mode is not WRITABLE"}
		}
	case MapperHardcodedAttribute:
		if err := need("ldap.attribute.name", "LDAP Attribute Name"); err != nil {
			return err
		}
		return need("ldap.attribute.value", "LDAP Attribute Value")
	case MapperHardcodedRole:
		return need("role", "Role")
	case MapperHardcodedGroup:
		return need("group", "Group")
	case MapperGroup:
		if err := need("groups.dn", "LDAP Groups DN"); err != nil {
			return err
		}
		if cfgBool(m, "preserve.group.inheritance", true) && cfgFirst(m, "membership.attribute.type", "DN") != "DN" {
			return &ConfigError{Msg: "Not possible to preserve group inheritance and use UID membership type together."}
		}
		return filter("groups.ldap.filter")
	case MapperRole:
		if err := need("roles.dn", "LDAP Roles DN"); err != nil {
			return err
		}
		if !cfgBool(m, "use.realm.roles.mapping", true) && cfgFirst(m, "client.id", "") == "" {
			return &ConfigError{Msg: "Client ID needs to be provided in config when Realm Roles Mapping is not used."}
		}
		return filter("roles.ldap.filter")
	case MapperMSADAccountControl:
	default:
		return &ConfigError{Msg: "Unknown mapper type " + m.ProviderID}
	}
	return nil
}

// Project applies the mappers to an entry. c is needed by the group and
// role mappers, which read memberships from the directory.
func Project(ctx context.Context, c *Client, cfg Config, mappers []MapperSpec, e Entry) (Projection, error) {
	p := Projection{Enabled: true, Attributes: map[string][]string{}, EmailVerified: cfg.TrustEmail}
	hasUsernameMapper := false
	for _, m := range mappers {
		switch m.ProviderID {
		case MapperUserAttribute, MapperCertificate:
			attr := cfgFirst(m, "ldap.attribute", "")
			vals := e.Attrs[strings.ToLower(attr)]
			if m.ProviderID == MapperCertificate && cfgBool(m, "is.der.formatted", false) {
				pems := make([]string, 0, len(vals))
				for _, v := range vals {
					pems = append(pems, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(v)})))
				}
				vals = pems
			} else if cfgBool(m, "is.binary.attribute", false) {
				enc := make([]string, 0, len(vals))
				for _, v := range vals {
					enc = append(enc, base64.StdEncoding.EncodeToString([]byte(v)))
				}
				vals = enc
			}
			if len(vals) == 0 {
				if d := cfgFirst(m, "attribute.default.value", ""); d != "" {
					vals = []string{d}
				}
			}
			first := ""
			if len(vals) > 0 {
				first = strings.TrimSpace(vals[0])
			}
			switch ua := cfgFirst(m, "user.model.attribute", ""); ua {
			case "username":
				if !hasUsernameMapper {
					p.Username = strings.ToLower(first)
					hasUsernameMapper = true
				}
			case "email":
				p.Email = strings.ToLower(first)
			case "firstName":
				p.FirstName = first
			case "lastName":
				p.LastName = first
			case "":
			default:
				if len(vals) > 0 {
					p.Attributes[ua] = append([]string(nil), vals...)
				}
			}
		case MapperFullName:
			if cfgBool(m, "write.only", false) {
				continue
			}
			full := strings.TrimSpace(e.First(cfgFirst(m, "ldap.full.name.attribute", "cn")))
			if i := strings.LastIndex(full, " "); i >= 0 {
				p.FirstName, p.LastName = strings.TrimSpace(full[:i]), strings.TrimSpace(full[i+1:])
			} else {
				p.LastName = full
			}
		case MapperHardcodedRole:
			p.Roles = append(p.Roles, RoleRef{Qualified: cfgFirst(m, "role", "")})
		case MapperHardcodedGroup:
			p.Groups = append(p.Groups, cfgFirst(m, "group", ""))
		case MapperMSADAccountControl:
			if uac, err := strconv.ParseInt(e.First("userAccountControl"), 10, 64); err == nil && uac&2 != 0 {
				p.Enabled = false
			}
			if e.First("pwdLastSet") == "0" {
				p.RequiredActions = append(p.RequiredActions, "UPDATE_PASSWORD")
			}
		case MapperGroup, MapperRole:
			names, all, err := memberships(ctx, c, m, e)
			if err != nil {
				return p, fmt.Errorf("mapper %q: %w", m.Name, err)
			}
			if m.ProviderID == MapperGroup {
				p.Groups = append(p.Groups, names...)
				p.ManagedGroups = append(p.ManagedGroups, all...)
				continue
			}
			client := roleClient(m)
			for _, n := range names {
				p.Roles = append(p.Roles, RoleRef{ClientID: client, Name: n})
			}
			for _, n := range all {
				p.ManagedRoles = append(p.ManagedRoles, RoleRef{ClientID: client, Name: n})
			}
		}
	}
	if !hasUsernameMapper {
		p.Username = strings.ToLower(strings.TrimSpace(e.First(cfg.UsernameAttribute)))
	}
	if p.Email == "" {
		p.EmailVerified = false
	}
	return p, nil
}

// roleClient is the clientId whose roles a role mapper maps ("" for realm
// roles).
func roleClient(m MapperSpec) string {
	if cfgBool(m, "use.realm.roles.mapping", true) {
		return ""
	}
	return cfgFirst(m, "client.id", "")
}

// Known returns every group path (group mapper) or role (role mapper) the
// mapper finds in the directory, named as Project names a user's: the
// groups and roles a mapper sync creates, so that a later import finds
// them in place.
func Known(ctx context.Context, c *Client, m MapperSpec) (groups []string, roles []RoleRef, err error) {
	// Read every group with its members, whatever strategy the mapper
	// uses for a user's memberships.
	all := MapperSpec{ID: m.ID, Name: m.Name, ProviderID: m.ProviderID, Config: maps.Clone(m.Config)}
	delete(all.Config, "user.roles.retrieve.strategy")
	_, names, err := memberships(ctx, c, all, Entry{})
	if err != nil || m.ProviderID == MapperGroup {
		return names, nil, err
	}
	for _, n := range names {
		roles = append(roles, RoleRef{ClientID: roleClient(m), Name: n})
	}
	return nil, roles, nil
}

// memberships returns the group paths (group mapper) or role names (role
// mapper) an entry belongs to, and all those the mapper knows of (nil when
// the mapper reads memberOf and so cannot tell).
func memberships(ctx context.Context, c *Client, m MapperSpec, e Entry) (mine, all []string, err error) {
	isGroup := m.ProviderID == MapperGroup
	base, nameAttr, classes, filterKey := "roles.dn", "role.name.ldap.attribute", "role.object.classes", "roles.ldap.filter"
	if isGroup {
		base, nameAttr, classes, filterKey = "groups.dn", "group.name.ldap.attribute", "group.object.classes", "groups.ldap.filter"
	}
	baseDN := cfgFirst(m, base, "")
	nameAttr = strings.ToLower(cfgFirst(m, nameAttr, "cn"))
	memberAttr := strings.ToLower(cfgFirst(m, "membership.ldap.attribute", "member"))
	memberValue := e.DN
	if cfgFirst(m, "membership.attribute.type", "DN") == "UID" {
		memberValue = e.First(cfgFirst(m, "membership.user.ldap.attribute", "uid"))
	}
	if cfgFirst(m, "user.roles.retrieve.strategy", "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE") == "GET_GROUPS_FROM_USER_MEMBEROF_ATTRIBUTE" {
		// Names come from the user's memberOf DNs under the base DN.
		var names []string
		for _, dn := range e.Attrs[strings.ToLower(cfgFirst(m, "memberof.ldap.attribute", "memberOf"))] {
			if !strings.HasSuffix(strings.ToLower(dn), ","+strings.ToLower(baseDN)) {
				continue
			}
			rdn := strings.SplitN(dn, ",", 2)[0]
			if k, v, ok := strings.Cut(rdn, "="); ok && strings.EqualFold(k, nameAttr) {
				names = append(names, v)
			}
		}
		sort.Strings(names)
		return groupPaths(m, isGroup, names), nil, nil
	}
	if c == nil {
		return nil, nil, errors.New("no directory connection to read memberships")
	}
	var f strings.Builder
	f.WriteString("(&")
	for _, oc := range splitList(cfgFirst(m, classes, "groupOfNames")) {
		f.WriteString("(objectclass=" + EscapeFilter(oc) + ")")
	}
	f.WriteString(cfgFirst(m, filterKey, "") + ")")
	// Every group is read once with its members: the user's own groups,
	// the parents that make a group's path, and the groups the user left.
	groups, err := c.Search(ctx, baseDN, f.String(), true, []string{nameAttr, memberAttr})
	if err != nil {
		return nil, nil, err
	}
	parent := map[string]string{} // child DN (lower) → parent DN (lower)
	names := map[string]string{}
	member := strings.ToLower(memberValue)
	var direct []string
	for _, g := range groups {
		dn := strings.ToLower(g.DN)
		if names[dn] = g.First(nameAttr); names[dn] == "" {
			continue
		}
		for _, mem := range g.Attrs[memberAttr] {
			lm := strings.ToLower(mem)
			if lm == member {
				direct = append(direct, dn)
			}
			parent[lm] = dn
		}
	}
	inheritance := isGroup && cfgBool(m, "preserve.group.inheritance", true)
	name := func(dn string) string {
		if !inheritance {
			return names[dn]
		}
		path := names[dn]
		seen := map[string]bool{dn: true}
		for p, ok := parent[dn]; ok && !seen[p]; p, ok = parent[p] {
			if names[p] == "" {
				break
			}
			seen[p] = true
			path = names[p] + "/" + path
		}
		return path
	}
	for _, dn := range direct {
		mine = append(mine, name(dn))
	}
	for dn, n := range names {
		if n != "" {
			all = append(all, name(dn))
		}
	}
	sort.Strings(mine)
	sort.Strings(all)
	return groupPaths(m, isGroup, mine), groupPaths(m, isGroup, all), nil
}

// groupPaths puts group names (or name/name paths) under the mapper's
// groups.path; role names pass through.
func groupPaths(m MapperSpec, isGroup bool, names []string) []string {
	if !isGroup || names == nil {
		return names
	}
	prefix := strings.TrimSuffix(cfgFirst(m, "groups.path", "/"), "/")
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, prefix+"/"+n)
	}
	return out
}

// NewEntry builds the DN and attributes of a directory entry for a user
// registered in Gatehouse (WRITABLE providers with syncRegistrations).
func NewEntry(cfg Config, mappers []MapperSpec, p Projection) (string, map[string][]string) {
	attrs := map[string][]string{"objectClass": append([]string(nil), cfg.UserObjectClasses...)}
	set := func(attr string, v []string) {
		if len(v) == 0 {
			return
		}
		attrs[attr] = v
	}
	value := p.value
	for _, m := range mappers {
		switch m.ProviderID {
		case MapperUserAttribute:
			ua, la := cfgFirst(m, "user.model.attribute", ""), cfgFirst(m, "ldap.attribute", "")
			if ua == "createTimestamp" || ua == "modifyTimestamp" || la == "" {
				continue
			}
			v := value(ua)
			if len(v) == 0 && cfgBool(m, "is.mandatory.in.ldap", false) {
				// Schema-required attributes get a blank placeholder.
				v = []string{" "}
			}
			set(la, v)
		case MapperFullName:
			if cfgBool(m, "read.only", false) && cfg.EditMode != Writable {
				continue
			}
			full := strings.TrimSpace(p.FirstName + " " + p.LastName)
			if full == "" {
				full = p.Username
			}
			set(cfgFirst(m, "ldap.full.name.attribute", "cn"), []string{full})
		case MapperHardcodedAttribute:
			v := cfgFirst(m, "ldap.attribute.value", "")
			if v == RandomAttributeValue {
				v = RandomPassword()
			}
			set(cfgFirst(m, "ldap.attribute.name", ""), []string{v})
		}
	}
	if _, ok := attrs[cfg.UsernameAttribute]; !ok {
		attrs[cfg.UsernameAttribute] = []string{p.Username}
	}
	rdn := p.Username
	for k, v := range attrs {
		if strings.EqualFold(k, cfg.RDNAttribute) && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			rdn = v[0]
		}
	}
	if _, ok := attrs[cfg.RDNAttribute]; !ok {
		attrs[cfg.RDNAttribute] = []string{rdn}
	}
	return cfg.RDNAttribute + "=" + goldap.EscapeDN(rdn) + "," + cfg.UsersDN, attrs
}

// value is the values of a user profile attribute in p.
func (p Projection) value(name string) []string {
	switch name {
	case "username":
		return nonEmpty(p.Username)
	case "email":
		return nonEmpty(p.Email)
	case "firstName":
		return nonEmpty(p.FirstName)
	case "lastName":
		return nonEmpty(p.LastName)
	}
	return p.Attributes[name]
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// profileAttributes are the user profile attributes a mapper fills from
// the directory (a user attribute mapper's model attribute, the full name
// mapper's first and last names), each with the directory attribute it is
// written to.
func profileAttributes(m MapperSpec) (names []string, ldapAttr string) {
	switch m.ProviderID {
	case MapperUserAttribute:
		if ua := cfgFirst(m, "user.model.attribute", ""); ua != "" {
			return []string{ua}, cfgFirst(m, "ldap.attribute", "")
		}
	case MapperFullName:
		return []string{"firstName", "lastName"}, cfgFirst(m, "ldap.full.name.attribute", "cn")
	}
	return nil, ""
}

// ReadOnlyAttributes are the user profile attributes of a federated user
// that cannot be changed in Gatehouse: with a READ_ONLY provider every
// attribute (all is true); with a WRITABLE one those of mappers marked
// read-only and those mapped onto the entry's RDN (an edit cannot rename
// the entry). An UNSYNCED provider keeps edits here and fixes none.
func ReadOnlyAttributes(cfg Config, mappers []MapperSpec) (all bool, names []string) {
	switch cfg.EditMode {
	case ReadOnly:
		return true, nil
	case Writable:
	default:
		return false, nil
	}
	for _, m := range mappers {
		ns, la := profileAttributes(m)
		if cfgBool(m, "read.only", false) || strings.EqualFold(la, cfg.RDNAttribute) {
			names = append(names, ns...)
		}
	}
	return false, names
}

// ProfileChanges are the directory attributes to replace when a user of a
// WRITABLE provider changes from before to after: the reverse of Project
// for the attribute and full name mappers that are not read-only. An
// emptied attribute is deleted, or blanked when the mapper says the
// directory's schema requires it. The RDN attribute is never written.
func ProfileChanges(cfg Config, mappers []MapperSpec, before, after Projection) map[string][]string {
	out := map[string][]string{}
	for _, m := range mappers {
		names, la := profileAttributes(m)
		if la == "" || cfgBool(m, "read.only", false) || strings.EqualFold(la, cfg.RDNAttribute) {
			continue
		}
		switch m.ProviderID {
		case MapperUserAttribute:
			if cfgBool(m, "is.binary.attribute", false) || names[0] == "createTimestamp" || names[0] == "modifyTimestamp" {
				continue
			}
			b, a := before.value(names[0]), after.value(names[0])
			if slices.Equal(b, a) {
				continue
			}
			if len(a) == 0 && cfgBool(m, "is.mandatory.in.ldap", false) {
				a = []string{" "}
			}
			out[la] = a
		case MapperFullName:
			if before.FirstName == after.FirstName && before.LastName == after.LastName {
				continue
			}
			out[la] = nonEmpty(strings.TrimSpace(after.FirstName + " " + after.LastName))
		}
	}
	return out
}

// UserSearch is a search of users by their profile attributes: Words of
// a search box (every word must match the username, email, first or last
// name; a word in double quotes whole, any other anywhere, "*" being a
// wildcard) and Fields (profile attribute name to value, all must match,
// whole values when Exact).
type UserSearch struct {
	Words  []string
	Fields map[string]string
	Exact  bool
}

// AttributeOf is the directory attribute holding the user's name field
// (username, email, firstName, ... or an attribute): the one its
// user-attribute mapper reads, the username attribute for a username
// without one, "" when no mapper reads it.
func AttributeOf(cfg Config, mappers []MapperSpec, name string) string {
	for _, m := range mappers {
		if m.ProviderID == MapperUserAttribute && cfgFirst(m, "user.model.attribute", "") == name {
			return cfgFirst(m, "ldap.attribute", "")
		}
	}
	if name == "username" {
		return cfg.UsernameAttribute
	}
	return ""
}

// SearchCondition is the filter condition finding the users s matches,
// each attribute through the directory attribute its mapper reads (the
// username attribute for a username without one); attributes no mapper
// reads are left out. "" when nothing can be asked.
func SearchCondition(cfg Config, mappers []MapperSpec, s UserSearch) string {
	attrOf := func(name string) string { return AttributeOf(cfg, mappers, name) }
	match := func(attr, v string, exact bool) string {
		if exact {
			return "(" + attr + "=" + EscapeFilter(v) + ")"
		}
		var parts []string
		for p := range strings.SplitSeq(v, "*") {
			if p != "" {
				parts = append(parts, EscapeFilter(p))
			}
		}
		if len(parts) == 0 {
			return "(" + attr + "=*)"
		}
		return "(" + attr + "=*" + strings.Join(parts, "*") + "*)"
	}
	var conds []string
	for _, w := range s.Words {
		exact := len(w) >= 2 && w[0] == '"' && w[len(w)-1] == '"'
		if exact {
			w = w[1 : len(w)-1]
		}
		var any []string
		for _, name := range []string{"username", "email", "firstName", "lastName"} {
			if attr := attrOf(name); attr != "" && w != "" {
				any = append(any, match(attr, w, exact))
			}
		}
		if len(any) > 0 {
			conds = append(conds, "(|"+strings.Join(any, "")+")")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Fields)) {
		if attr, v := attrOf(name), s.Fields[name]; attr != "" && v != "" {
			conds = append(conds, match(attr, v, s.Exact))
		}
	}
	switch len(conds) {
	case 0:
		return ""
	case 1:
		return conds[0]
	}
	return "(&" + strings.Join(conds, "") + ")"
}
