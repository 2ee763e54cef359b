package authz

import "strings"

// MatchURI reports whether a resource's URI pattern matches a request URI:
// equal, a trailing "/*" matching anything below, or "{name}" segments
// matching any one segment.
func MatchURI(pattern, uri string) bool {
	if pattern == uri {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		return uri == prefix || strings.HasPrefix(uri, prefix+"/")
	}
	if pattern == "*" {
		return true
	}
	ps, us := strings.Split(pattern, "/"), strings.Split(uri, "/")
	if len(ps) != len(us) {
		return false
	}
	for i := range ps {
		if ps[i] != us[i] && !(strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}")) && ps[i] != "*" {
			return false
		}
	}
	return true
}
