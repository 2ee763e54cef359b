package token

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Protocol mapper types this package applies. Other types (hardcoded role,
// role name, script, pairwise sub…) are skipped.
const (
	MapperUserProperty    = "oidc-usermodel-property-mapper"
	MapperUserAttribute   = "oidc-usermodel-attribute-mapper"
	MapperFullName        = "oidc-full-name-mapper"
	MapperHardcodedClaim  = "oidc-hardcoded-claim-mapper"
	MapperAudience        = "oidc-audience-mapper"
	MapperAudienceResolve = "oidc-audience-resolve-mapper"
	MapperRealmRole       = "oidc-usermodel-realm-role-mapper"
	MapperClientRole      = "oidc-usermodel-client-role-mapper"
	MapperAllowedOrigins  = "oidc-allowed-origins-mapper"
	MapperACR             = "oidc-acr-mapper"
	MapperSub             = "oidc-sub-mapper"
	MapperSessionNote     = "oidc-usersessionmodel-note-mapper"
	MapperAddress         = "oidc-address-mapper"
	MapperGroups          = "oidc-group-membership-mapper"
	MapperHardcodedRole   = "oidc-hardcoded-role-mapper"
)

// Mapper config keys (Keycloak's OIDCAttributeMapperHelper and
// ProtocolMapperUtils).
const (
	cfgClaimName     = "claim.name"
	cfgJSONType      = "jsonType.label"
	cfgMultivalued   = "multivalued"
	cfgUserAttribute = "user.attribute"
	cfgClaimValue    = "claim.value"
	cfgSessionNote   = "user.session.note"
	cfgAccess        = "access.token.claim"
	cfgID            = "id.token.claim"
	cfgUserinfo      = "userinfo.token.claim"
	cfgIntrospection = "introspection.token.claim"
	cfgLightweight   = "lightweight.claim"
	cfgRealmPrefix   = "usermodel.realmRoleMapping.rolePrefix"
	cfgClientID      = "usermodel.clientRoleMapping.clientId"
	cfgClientPrefix  = "usermodel.clientRoleMapping.rolePrefix"
	cfgClientAud     = "included.client.audience"
	cfgCustomAud     = "included.custom.audience"
	cfgFullPath      = "full.path"
	cfgRole          = "role"
)

// kind is the token (or response) a mapper writes into.
type kind uint8

const (
	kindAccess kind = 1 << iota
	kindID
	kindUserinfo
	kindIntrospection
)

const allKinds = kindAccess | kindID | kindUserinfo | kindIntrospection

// mapperKinds lists the tokens each mapper type can write into: in Keycloak
// a mapper class implements OIDCAccessTokenMapper, OIDCIDTokenMapper,
// UserInfoTokenMapper and TokenIntrospectionTokenMapper or only some of
// them, and its config flags cannot add the others. The session note mapper
// has no userinfo (so auth_time never shows up there).
var mapperKinds = map[string]kind{
	MapperUserProperty:    allKinds,
	MapperUserAttribute:   allKinds,
	MapperFullName:        allKinds,
	MapperHardcodedClaim:  allKinds,
	MapperAddress:         allKinds,
	MapperGroups:          allKinds,
	MapperRealmRole:       allKinds,
	MapperClientRole:      allKinds,
	MapperSessionNote:     kindAccess | kindID | kindIntrospection,
	MapperAudience:        kindAccess | kindID | kindIntrospection,
	MapperACR:             kindAccess | kindID | kindIntrospection,
	MapperAudienceResolve: kindAccess | kindIntrospection,
	MapperAllowedOrigins:  kindAccess | kindIntrospection,
	MapperSub:             kindAccess | kindIntrospection,
}

// priority orders mappers as Keycloak's ProtocolMapperUtils does: sub first
// so others may override it, audience resolve after roles are known, role
// mappers last; everything else at 0.
func priority(typ string) int {
	switch typ {
	case MapperSub:
		return -10
	case MapperAudienceResolve:
		return 30
	case MapperRealmRole, MapperClientRole:
		return 40
	}
	return 0
}

// applies reports whether mapper m writes into a token of kind k.
func applies(m client.ProtocolMapper, k kind, lightweight bool) bool {
	if mapperKinds[m.ProtocolMapper]&k == 0 {
		return false
	}
	cfg := m.Config
	// Audience resolve and allowed origins predate the flags: Keycloak reads
	// an absent flag as "true" for them.
	legacy := m.ProtocolMapper == MapperAudienceResolve || m.ProtocolMapper == MapperAllowedOrigins
	flag := func(key string) (string, bool) { v, ok := cfg[key]; return v, ok }
	switch k {
	case kindAccess:
		if lightweight {
			return cfg[cfgLightweight] == "true"
		}
		v, ok := flag(cfgAccess)
		return v == "true" || (!ok && legacy)
	case kindID:
		return cfg[cfgID] == "true"
	case kindUserinfo:
		if v, ok := flag(cfgUserinfo); ok {
			return v == "true"
		}
		return cfg[cfgID] == "true"
	case kindIntrospection:
		if v, ok := flag(cfgIntrospection); ok {
			return v == "true"
		}
		if legacy {
			if v, ok := flag(cfgAccess); ok {
				return v == "true"
			}
			return true
		}
		return cfg[cfgAccess] == "true"
	}
	return false
}

// NeedsGroups reports whether a token for client c with scopes in effect
// runs a group membership mapper, so that the caller reads the user's
// groups (Input.Groups) only then.
func NeedsGroups(c client.Client, scopes []client.Scope) bool {
	// Whether one is among mappers(...): order and deduplication do not
	// change that, so the lists are only scanned.
	groups := func(ms []client.ProtocolMapper) bool {
		return slices.ContainsFunc(ms, func(m client.ProtocolMapper) bool {
			return m.ProtocolMapper == MapperGroups && (m.Protocol == "" || m.Protocol == "openid-connect")
		})
	}
	if groups(c.ProtocolMappers) {
		return true
	}
	return slices.ContainsFunc(scopes, func(s client.Scope) bool { return groups(s.ProtocolMappers) })
}

// mappers returns the mappers in effect in the order they run: the client's
// own mappers, then each scope's (in scope order, by name within a scope),
// stably sorted by priority. Keycloak lists the client itself first among
// the requested scopes. A mapper id seen twice runs once.
func mappers(in Input) []client.ProtocolMapper {
	n := len(in.Client.ProtocolMappers)
	for _, s := range in.Scopes {
		n += len(s.ProtocolMappers)
	}
	out := make([]client.ProtocolMapper, 0, n)
	seen := make(map[string]bool, n)
	byName := func(a, b client.ProtocolMapper) int { return strings.Compare(a.Name, b.Name) }
	add := func(ms []client.ProtocolMapper) {
		sorted := ms
		// Stored mappers usually come in name order already; only
		// otherwise is a sorted copy needed.
		if !slices.IsSortedFunc(ms, byName) {
			sorted = slices.Clone(ms)
			slices.SortStableFunc(sorted, byName)
		}
		for _, m := range sorted {
			if m.Protocol != "" && m.Protocol != "openid-connect" {
				continue
			}
			if m.ID != "" {
				if seen[m.ID] {
					continue
				}
				seen[m.ID] = true
			}
			out = append(out, m)
		}
	}
	add(in.Client.ProtocolMappers)
	for _, s := range in.Scopes {
		add(s.ProtocolMappers)
	}
	slices.SortStableFunc(out, func(a, b client.ProtocolMapper) int {
		return priority(a.ProtocolMapper) - priority(b.ProtocolMapper)
	})
	return out
}

// builder accumulates the claims of one token.
type builder struct {
	claims map[string]any
	aud    []string
}

func newBuilder(claims map[string]any) *builder { return &builder{claims: claims} }

func (b *builder) run(in Input, k kind, lightweight bool) {
	ms := mappers(in)
	in = withHardcodedRoles(in, ms)
	for _, m := range ms {
		if applies(m, k, lightweight) {
			b.apply(in, m)
		}
	}
}

// finish writes aud (a string when single, an array when several, as
// Keycloak's StringOrArraySerializer does) and returns the claims.
func (b *builder) finish() map[string]any {
	switch len(b.aud) {
	case 0:
	case 1:
		b.claims["aud"] = b.aud[0]
	default:
		b.claims["aud"] = slices.Clone(b.aud)
	}
	return b.claims
}

func (b *builder) addAudience(a string) {
	if a != "" && !slices.Contains(b.aud, a) {
		b.aud = append(b.aud, a)
	}
}

func (b *builder) apply(in Input, m client.ProtocolMapper) {
	cfg := m.Config
	switch m.ProtocolMapper {
	case MapperUserProperty:
		if v, ok := userProperty(in.User, cfg[cfgUserAttribute]); ok {
			b.mapClaim(m, v)
		}
	case MapperUserAttribute:
		if vs := userAttribute(in.User, cfg[cfgUserAttribute]); len(vs) > 0 {
			b.mapClaim(m, vs)
		}
	case MapperFullName:
		if name := strings.TrimSpace(in.User.FirstName + " " + in.User.LastName); name != "" {
			b.claims["name"] = name
		}
	case MapperHardcodedClaim:
		if v := cfg[cfgClaimValue]; v != "" {
			b.mapClaim(m, v)
		}
	case MapperSessionNote:
		if v := sessionNote(in, cfg[cfgSessionNote]); v != "" {
			b.mapClaim(m, v)
		}
	case MapperAudience:
		a := cfg[cfgClientAud]
		if a == "" {
			a = cfg[cfgCustomAud]
		}
		b.addAudience(a)
	case MapperAudienceResolve:
		// Every client the user holds roles of, except the requesting client:
		// hence aud "account" for users with the default account roles.
		for _, id := range sortedKeys(in.ClientRoles) {
			if id != in.Client.ClientID && len(in.ClientRoles[id]) > 0 {
				b.addAudience(id)
			}
		}
	case MapperRealmRole:
		b.mapRoles(m, in.RealmRoles, cfg[cfgRealmPrefix], "", "realm_access.roles")
	case MapperClientRole:
		def := "resource_access.${client_id}.roles"
		if id := cfg[cfgClientID]; id != "" {
			b.mapRoles(m, in.ClientRoles[id], cfg[cfgClientPrefix], id, def)
			return
		}
		for _, id := range sortedKeys(in.ClientRoles) {
			b.mapRoles(m, in.ClientRoles[id], cfg[cfgClientPrefix], id, def)
		}
	case MapperAllowedOrigins:
		if len(in.AllowedOrigins) > 0 {
			b.claims["allowed-origins"] = slices.Clone(in.AllowedOrigins)
		}
	case MapperACR:
		if in.ACR != "" {
			b.claims["acr"] = in.ACR
		}
	case MapperSub:
		if in.User.ID != "" {
			b.claims["sub"] = in.User.ID
		}
	case MapperAddress:
		if addr := address(in.User, cfg); len(addr) > 0 {
			b.claims["address"] = addr
		}
	case MapperGroups:
		names := make([]string, 0, len(in.Groups))
		for _, g := range in.Groups {
			if cfg[cfgFullPath] != "true" {
				g = g[strings.LastIndex(g, "/")+1:]
			}
			if g != "" {
				names = append(names, g)
			}
		}
		// Keycloak forces multivalued for this mapper.
		b.put(m, convert(cfg[cfgJSONType], true, names), true, false)
	}
}

// withHardcodedRoles adds the roles of the hardcoded role mappers in effect
// (ms, which is mappers(in))
// to the roles the token carries, as if the user held them: the role mappers
// then write them like any other. The config names a realm role ("admin")
// or a client role as clientId.role, split at the last dot.
func withHardcodedRoles(in Input, ms []client.ProtocolMapper) Input {
	var added bool
	for _, m := range ms {
		if m.ProtocolMapper != MapperHardcodedRole || m.Config[cfgRole] == "" {
			continue
		}
		if !added {
			in.RealmRoles = slices.Clone(in.RealmRoles)
			cr := make(map[string][]string, len(in.ClientRoles)+1)
			for k, v := range in.ClientRoles {
				cr[k] = slices.Clone(v)
			}
			in.ClientRoles, added = cr, true
		}
		role := m.Config[cfgRole]
		if i := strings.LastIndexByte(role, '.'); i >= 0 {
			id, name := role[:i], role[i+1:]
			if !slices.Contains(in.ClientRoles[id], name) {
				in.ClientRoles[id] = append(in.ClientRoles[id], name)
				slices.Sort(in.ClientRoles[id])
			}
			continue
		}
		if !slices.Contains(in.RealmRoles, role) {
			in.RealmRoles = append(in.RealmRoles, role)
			slices.Sort(in.RealmRoles)
		}
	}
	return in
}

// userProperty reads a UserModel property the way Keycloak's
// getUserModelValue does: by getter name, accepting a capitalised first
// letter. Booleans and numbers come back as text for jsonType to convert.
func userProperty(u user.User, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	name = strings.ToLower(name[:1]) + name[1:]
	var v string
	switch name {
	case "id":
		v = u.ID
	case "username":
		v = u.Username
	case "email":
		v = u.Email
	case "firstName":
		v = u.FirstName
	case "lastName":
		v = u.LastName
	case "enabled":
		v = strconv.FormatBool(u.Enabled)
	case "emailVerified":
		v = strconv.FormatBool(u.EmailVerified)
	case "createdTimestamp":
		if u.CreatedTimestamp != 0 {
			v = strconv.FormatInt(u.CreatedTimestamp, 10)
		}
	case "federationLink":
		v = u.FederationLink
	case "serviceAccountClientLink":
		v = u.ServiceAccountClientID
	}
	return v, v != ""
}

// userAttribute returns the values of a user attribute. Since Keycloak 24 the
// user profile exposes username, email, firstName and lastName as attributes
// too (the profile scope maps preferred_username that way). Empty values are
// dropped.
func userAttribute(u user.User, name string) []string {
	var vs []string
	switch name {
	case "":
		return nil
	case "username":
		vs = []string{u.Username}
	case "email":
		vs = []string{u.Email}
	case "firstName":
		vs = []string{u.FirstName}
	case "lastName":
		vs = []string{u.LastName}
	default:
		vs = u.Attributes[name]
	}
	return slices.DeleteFunc(slices.Clone(vs), func(s string) bool { return s == "" })
}

// sessionNote reads a note from the user session, then the client session.
// AUTH_TIME is the user session's AuthTime when no note says otherwise.
func sessionNote(in Input, name string) string {
	if name == "" {
		return ""
	}
	if v := in.UserSession.Notes[name]; v != "" {
		return v
	}
	if v := in.ClientSession.Notes[name]; v != "" {
		return v
	}
	if name == "AUTH_TIME" && in.UserSession.AuthTime > 0 {
		return strconv.FormatInt(in.UserSession.AuthTime, 10)
	}
	return ""
}

// addressFields pairs each OIDC address member with the config key naming
// the user attribute it comes from (Keycloak's AddressMapper). The attribute
// defaults to the config key's suffix.
var addressFields = []struct{ claim, attr string }{
	{"street_address", "street"},
	{"locality", "locality"},
	{"region", "region"},
	{"postal_code", "postal_code"},
	{"country", "country"},
	{"formatted", "formatted"},
}

func address(u user.User, cfg map[string]string) map[string]any {
	out := map[string]any{}
	for _, f := range addressFields {
		attr, ok := cfg["user.attribute."+f.attr]
		if !ok {
			attr = f.attr
		}
		if vs := userAttribute(u, attr); len(vs) > 0 {
			out[f.claim] = vs[0]
		}
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
