package console

import (
	"slices"
	"strings"
)

// attributesText writes attributes one "key=value" line each, sorted by
// key; a key with several values has a line per value.
func attributesText(attrs map[string][]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range attrs {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range attrs[k] {
			b.WriteString(k + "=" + v + "\n")
		}
	}
	return b.String()
}

// parseAttributes reads the attribute editor: one "key=value" per line,
// blank lines ignored, a repeated key adding a value. A line without "=" or
// with an empty key is refused, naming the form field.
func parseAttributes(field, text string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &fieldError{field, "Write each attribute as key=value: " + line}
		}
		out[k] = append(out[k], strings.TrimSpace(v))
	}
	return out, nil
}
