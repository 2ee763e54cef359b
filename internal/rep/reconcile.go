package rep

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// DecodeRealm parses a realm file holding one realm, as DecodeRealms does.
func DecodeRealm(data []byte) (Realm, error) {
	realms, err := DecodeRealms(data)
	if err != nil {
		return Realm{}, err
	}
	if len(realms) != 1 {
		return Realm{}, importErr("$", "the file holds %d realms, not one", len(realms))
	}
	return realms[0].Realm, nil
}

// holdsArray reports whether a realm file is a JSON array of realms.
func holdsArray(data []byte) bool {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	return len(t) > 0 && t[0] == '['
}

// DecodedRealm is one realm of a realm file, with the JSON paths of the
// members Gatehouse does not store ("$.authenticationFlows",
// "$.clients[3].authorizationSettings"), in a file holding several realms
// prefixed with the realm's index ("$[1].authenticationFlows").
type DecodedRealm struct {
	Realm   Realm
	Ignored []string
}

// DecodeRealms parses a realm file: one JSON object in Keycloak's realm
// format, or a JSON array of them, at most maxImportSize, read as leniently
// as Keycloak reads it (see lenientDecode), with errors naming the JSON path
// of the bad value.
func DecodeRealms(data []byte) ([]DecodedRealm, error) {
	if len(data) > maxImportSize {
		return nil, importErr("$", "file is larger than %d MiB", maxImportSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM some editors add
	if !holdsArray(data) {
		var x Realm
		ignored, err := lenientDecode(data, &x)
		if err != nil {
			return nil, err
		}
		ignored = append(ignored, x.unrunPolicies()...)
		ignored = append(ignored, x.scriptPolicies()...)
		slices.Sort(ignored)
		return []DecodedRealm{{Realm: x, Ignored: ignored}}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, importErr("$", "invalid JSON: %v", err)
	}
	if len(elems) == 0 {
		return nil, importErr("$", "the file holds no realm")
	}
	out := make([]DecodedRealm, len(elems))
	for i, e := range elems {
		prefix := fmt.Sprintf("$[%d]", i)
		var x Realm
		ignored, err := lenientDecode(e, &x)
		if err != nil {
			var ie *ImportError
			if errors.As(err, &ie) {
				ie.Path = prefix + strings.TrimPrefix(ie.Path, "$")
			}
			return nil, err
		}
		ignored = append(ignored, x.unrunPolicies()...)
		ignored = append(ignored, x.scriptPolicies()...)
		slices.Sort(ignored)
		for j, p := range ignored {
			ignored[j] = prefix + strings.TrimPrefix(p, "$")
		}
		out[i] = DecodedRealm{Realm: x, Ignored: ignored}
	}
	return out, nil
}

// unrunPolicies lists the client policy members of x that an import leaves
// out because they name an executor or condition Gatehouse does not run
// (ClientPoliciesError): both documents, since a policy refers to profiles.
func (x Realm) unrunPolicies() []string {
	if x.ClientProfiles == nil && x.ClientPolicies == nil {
		return nil
	}
	if x.RealmPolicies.ClientPoliciesError(realm.Realm{}) == nil {
		return nil
	}
	var out []string
	if x.ClientPolicies != nil {
		out = append(out, "$.clientPolicies")
	}
	if x.ClientProfiles != nil {
		out = append(out, "$.clientProfiles")
	}
	return out
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
