package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// templateRE matches {{path}} in a string.
var templateRE = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.]+)\s*\}\}`)

// bindings holds the values templates can name: each given step's output
// under its "as", "run.unique", and "result" inside read-back checks.
type bindings map[string]any

// ExpandTemplates fills the {{path}} templates of a case's input (or of
// any JSON value) from bindings, exactly as a run does: bindings maps each
// given step's "as" to its output and "run" to {"unique": ...}. Tests that
// drive capabilities outside the runner use it to build valid inputs from
// the cases.
func ExpandTemplates(v any, b map[string]any) (any, error) { return expand(v, b) }

// expand returns v with templates replaced. A string that is exactly one
// template becomes the value itself, of any JSON type; a template inside a
// longer string becomes the value's text.
func expand(v any, b bindings) (any, error) {
	switch t := v.(type) {
	case string:
		if m := templateRE.FindStringSubmatch(t); m != nil && m[0] == strings.TrimSpace(t) {
			return lookup(b, m[1])
		}
		var firstErr error
		out := templateRE.ReplaceAllStringFunc(t, func(s string) string {
			val, err := lookup(b, templateRE.FindStringSubmatch(s)[1])
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return s
			}
			if str, ok := val.(string); ok {
				return str
			}
			raw, _ := json.Marshal(val)
			return string(raw)
		})
		return out, firstErr
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, child := range t {
			e, err := expand(child, b)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			e, err := expand(child, b)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return v, nil
}

// lookup resolves a dotted path: the first segment is a binding, the rest
// are object keys or array indexes.
func lookup(b bindings, path string) (any, error) {
	first, rest, _ := strings.Cut(path, ".")
	v, ok := b[first]
	if !ok {
		return nil, fmt.Errorf("template {{%s}}: nothing is bound to %q", path, first)
	}
	if rest == "" {
		return v, nil
	}
	got, ok := dig(v, rest)
	if !ok {
		return nil, fmt.Errorf("template {{%s}}: %q has no %s", path, first, rest)
	}
	return got, nil
}

// dig follows a dotted path into a decoded JSON value.
func dig(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// normalizeJSON round-trips v through JSON so values compare by JSON
// meaning (numbers as float64, no typed maps).
func normalizeJSON(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return v
	}
	return out
}
