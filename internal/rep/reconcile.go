package rep

import (
	"cmp"
	"maps"

	"github.com/gatehouse-iam/gatehouse/internal/client"
)

// DecodeRealm parses a realm file as ImportFile does: one JSON object in
// Keycloak's realm format, at most maxImportSize, with errors naming the
// JSON path of the bad value.
func DecodeRealm(data []byte) (Realm, error) {
	if len(data) > maxImportSize {
		return Realm{}, importErr("$", "file is larger than %d MiB", maxImportSize>>20)
	}
	var x Realm
	if err := decodeStrict(data, &x); err != nil {
		return Realm{}, err
	}
	return x, nil
}

// ApplyTo copies the fields present in x onto s, as Keycloak's client scope
// update does: the name and a non-empty description and protocol replace
// the old ones, attributes are merged key by key, and protocolMappers, when
// present, replace the old list, a mapper without an id keeping the id of
// the old mapper with the same protocol and name. The id never changes.
func (x ClientScope) ApplyTo(s *client.Scope) {
	if x.Name != "" {
		s.Name = x.Name
	}
	if x.Description != "" {
		s.Description = x.Description
	}
	if x.Protocol != "" {
		s.Protocol = x.Protocol
	}
	if len(x.Attributes) > 0 {
		s.Attributes = maps.Clone(s.Attributes)
		if s.Attributes == nil {
			s.Attributes = make(map[string]string, len(x.Attributes))
		}
		maps.Copy(s.Attributes, x.Attributes)
	}
	if x.ProtocolMappers != nil {
		s.ProtocolMappers = mappersToDomain(x.ProtocolMappers, s.ProtocolMappers, cmp.Or(s.Protocol, OpenIDConnect))
	}
}
