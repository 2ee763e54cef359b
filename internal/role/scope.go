package role

// Role scope: which of a user's roles a token issued to a client carries.
//
// A client with full scope allowed lets every role the user holds into its
// tokens. Otherwise a token carries only the held roles that the client's
// scope reaches: the client's own roles, the roles scope-mapped to the
// client, and the roles scope-mapped to each client scope that applies to
// the request (the client's default scopes and the optional ones asked
// for), each expanded through composites.
//
// A client scope with role scope mappings applies only to a user who holds
// at least one of the roles they reach; without mappings it applies to
// everyone. That is how the offline_access scope, mapped to the realm role
// of that name, stays away from users without it, and it holds whether or
// not the client has full scope.

// ScopePermitted reports whether a client scope whose mappings reach the
// role ids reach applies to a user holding held.
func ScopePermitted(reach []string, held map[string]bool) bool {
	if len(reach) == 0 {
		return true
	}
	for _, id := range reach {
		if held[id] {
			return true
		}
	}
	return false
}

// InScope reports which held roles a token may carry. clientReach is what
// the client's own roles and scope mappings reach, scopeReach what each
// applied client scope's mappings reach; both are ignored with full scope.
func InScope(held map[string]bool, fullScope bool, clientReach []string, scopeReach ...[]string) map[string]bool {
	if fullScope {
		return held
	}
	out := map[string]bool{}
	for _, reach := range append([][]string{clientReach}, scopeReach...) {
		for _, id := range reach {
			if held[id] {
				out[id] = true
			}
		}
	}
	return out
}
