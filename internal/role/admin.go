package role

// RealmAdmin is the admin role that grants every admin permission over its
// realm (realm-management's in each realm, "<realm>-realm"'s in master).
const RealmAdmin = "realm-admin"

// impliedBy lists, for each admin permission, the admin roles that also
// grant it, as Keycloak's permission evaluators do: manage-x implies view-x,
// and view-users implies query-users and query-groups.
var impliedBy = map[string][]string{
	"view-realm":              {"manage-realm"},
	"view-users":              {"manage-users"},
	"query-users":             {"view-users", "manage-users"},
	"query-groups":            {"view-users", "manage-users"},
	"view-clients":            {"manage-clients"},
	"query-clients":           {"view-clients", "manage-clients"},
	"view-events":             {"manage-events"},
	"view-identity-providers": {"manage-identity-providers"},
	"view-authorization":      {"manage-authorization"},
	"query-realms":            {"view-realm", "manage-realm"},
}

// Permits reports whether an administrator holding the admin roles named in
// held (over one realm) has the admin permission perm there. The admin API
// decides with it and the admin console hides what it would refuse, so the
// two cannot drift apart.
func Permits(held map[string]bool, perm string) bool {
	if held[RealmAdmin] || held[perm] {
		return true
	}
	for _, p := range impliedBy[perm] {
		if held[p] {
			return true
		}
	}
	return false
}
