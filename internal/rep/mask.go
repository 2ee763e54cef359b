package rep

import (
	"maps"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

// KeepMaskedAttributes is attrs with each value a partial export masked
// (secret.Mask, written in place of a secret or private key) replaced by
// old's value of that attribute, or left out when old has none: the mask
// is never stored as the secret.
func KeepMaskedAttributes(attrs, old map[string]string) map[string]string {
	var out map[string]string
	for k, v := range attrs {
		if v != secret.Mask {
			continue
		}
		if out == nil {
			out = maps.Clone(attrs)
		}
		if ov, ok := old[k]; ok {
			out[k] = ov
		} else {
			delete(out, k)
		}
	}
	if out == nil {
		return attrs
	}
	return out
}
