package realm

import "strconv"

// PARLifespanAttr is the realm attribute holding how long, in seconds, a
// pushed authorization request's request_uri stays usable.
const PARLifespanAttr = "parRequestUriLifespan"

// DefaultPARLifespan is the request_uri lifespan of a realm that sets none.
const DefaultPARLifespan = 60

// PARLifespan is how long, in seconds, a pushed authorization request
// stays usable (RFC 9126 §2.2 expires_in).
func (r Realm) PARLifespan() int64 {
	n, err := strconv.ParseInt(r.Attributes[PARLifespanAttr], 10, 64)
	if err != nil || n <= 0 {
		return DefaultPARLifespan
	}
	return n
}
