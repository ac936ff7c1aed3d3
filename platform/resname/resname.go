// Package resname parses and formats AIP-122 resource names such as
// "warehouses/W1/locations/A-01".
package resname

import (
	"strings"

	"trueup.dev/platform/apperr"
)

// Parse matches name against pattern, where pattern is a resource name with "*"
// for each id ("warehouses/*/locations/*"), and returns the ids in order. field
// names the request field for the InvalidArgument error a mismatch returns.
func Parse(field, name, pattern string) ([]string, error) {
	ps := strings.Split(pattern, "/")
	ns := strings.Split(name, "/")
	if len(ns) != len(ps) {
		return nil, mismatch(field, name, pattern)
	}
	var ids []string
	for i, p := range ps {
		switch {
		case p == "*":
			if ns[i] == "" {
				return nil, mismatch(field, name, pattern)
			}
			ids = append(ids, ns[i])
		case p != ns[i]:
			return nil, mismatch(field, name, pattern)
		}
	}
	return ids, nil
}

func mismatch(field, name, pattern string) error {
	if name == "" {
		return apperr.Invalid(apperr.Field(field, "is required, in the form "+strings.ReplaceAll(pattern, "*", "{id}")))
	}
	return apperr.Invalid(apperr.Field(field, "must have the form "+strings.ReplaceAll(pattern, "*", "{id}")))
}

// Format builds a name from a pattern and ids.
func Format(pattern string, ids ...string) string {
	var b strings.Builder
	for i, p := range strings.Split(pattern, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		if p == "*" && len(ids) > 0 {
			b.WriteString(ids[0])
			ids = ids[1:]
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}
