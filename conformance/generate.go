package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// Generate derives rejection cases from v's input schema, the way a
// schema-coverage phase does: starting from the input of the first written
// happy case (with the same setup), it breaks one rule at a time — each
// required property missing, a wrong type per property, an enum value
// outside the enum, strings one shorter or longer than their bounds,
// numbers one past their bounds, an unknown property where none is allowed,
// format and pattern violations. Each must be rejected as invalid_input and
// change nothing. Ids are stable and readable: gen.<rule>.<property>.
func Generate(v *registry.Version, written []*Case) []*Case {
	var base *Case
	for _, c := range written {
		if c.Kind == KindHappy {
			base = c
			break
		}
	}
	if base == nil {
		return nil
	}
	baseInput, _ := normalizeJSON(base.Input).(map[string]any)
	if baseInput == nil {
		baseInput = map[string]any{}
	}
	var root map[string]any
	if err := json.Unmarshal(v.InputJSON, &root); err != nil {
		return nil
	}
	props, _ := root["properties"].(map[string]any)
	var out []*Case
	add := func(id, field string, mutate func(map[string]any)) {
		in := cloneMap(baseInput)
		mutate(in)
		out = append(out, &Case{
			ID:          id,
			Kind:        KindGenerated,
			Description: "generated from the input schema",
			Given:       base.Given,
			Input:       in,
			Expect:      Expect{Error: capability.CodeInvalidInput, Issues: []string{"/" + field}, issuesOptional: true},
			Version:     v,
		})
	}
	required, _ := root["required"].([]any)
	for _, r := range required {
		name, _ := r.(string)
		add("gen.missing_required."+name, name, func(in map[string]any) { delete(in, name) })
	}
	for _, name := range sortedKeys(props) {
		p := resolve(root, props[name])
		for _, m := range mutations(root, p) {
			value := m.value
			add("gen."+m.rule+"."+name, name, func(in map[string]any) { in[name] = value })
		}
	}
	if ap, ok := root["additionalProperties"].(bool); ok && !ap {
		const unknown = "x_unknown_property"
		add("gen.unknown_property", unknown, func(in map[string]any) { in[unknown] = "x" })
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type mutation struct {
	rule  string
	value any
}

// mutations returns one invalid value per rule the property schema states.
func mutations(root, p map[string]any) []mutation {
	var out []mutation
	if wrong, ok := wrongType(allowedTypes(root, p)); ok {
		out = append(out, mutation{"wrong_type", wrong})
	}
	// Keywords may sit on the property or on a branch of its anyOf (as for
	// nullable fields); a value that breaks one branch's rule and is not
	// null breaks every branch.
	for _, s := range branches(root, p) {
		if enum, ok := s["enum"].([]any); ok {
			out = append(out, mutation{"enum", outsideEnum(enum)})
		}
		if n, ok := number(s["minLength"]); ok && n > 0 {
			out = append(out, mutation{"min_length", strings.Repeat("x", int(n)-1)})
		}
		if n, ok := number(s["maxLength"]); ok {
			out = append(out, mutation{"max_length", strings.Repeat("x", int(n)+1)})
		}
		if n, ok := number(s["minimum"]); ok {
			out = append(out, mutation{"minimum", int64(n) - 1})
		}
		if n, ok := number(s["maximum"]); ok {
			out = append(out, mutation{"maximum", int64(n) + 1})
		}
		if f, ok := s["format"].(string); ok {
			if bad, ok := badFormat[f]; ok {
				out = append(out, mutation{"format", bad})
			}
		}
		if pat, ok := s["pattern"].(string); ok {
			minLen, _ := number(s["minLength"])
			maxLen, hasMax := number(s["maxLength"])
			if !hasMax {
				maxLen = 1 << 20
			}
			if bad, ok := notMatching(pat, int(minLen), int(maxLen)); ok {
				out = append(out, mutation{"pattern", bad})
			}
		}
	}
	// One case per rule and property: the first branch stating it wins.
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(m mutation) bool {
		dup := seen[m.rule]
		seen[m.rule] = true
		return dup
	})
}

// badFormat holds a value that looks plausible but breaks each format.
var badFormat = map[string]string{
	"date":      "2026-02-30",
	"date-time": "2026-02-30T25:61:00Z",
	"uuid":      "not-a-uuid",
	"email":     "not-an-email",
}

// notMatching finds a short string the pattern rejects and whose length
// keeps within [minLen, maxLen], so the case breaks the pattern alone.
func notMatching(pattern string, minLen, maxLen int) (string, bool) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", false
	}
	for _, cand := range []string{"", " ", "!", "a", "0", "A", "-", "x y", "   ", "!!!!"} {
		if n := utf8.RuneCountInString(cand); n < minLen || n > maxLen {
			continue
		}
		if !re.MatchString(cand) {
			return cand, true
		}
	}
	return "", false
}

func outsideEnum(enum []any) any {
	for i := 0; ; i++ {
		cand := fmt.Sprintf("not_a_valid_value_%d", i)
		if !slices.Contains(enum, any(cand)) {
			return cand
		}
	}
}

// branches returns the schema itself plus the branches of its anyOf/oneOf,
// with local refs resolved.
func branches(root, p map[string]any) []map[string]any {
	out := []map[string]any{p}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts, _ := p[key].([]any)
		for _, a := range alts {
			if m, ok := a.(map[string]any); ok {
				out = append(out, resolve(root, m))
			}
		}
	}
	return out
}

// allowedTypes collects the JSON types a property accepts; nil means any.
func allowedTypes(root, p map[string]any) map[string]bool {
	types := map[string]bool{}
	constrained := false
	for _, s := range branches(root, p) {
		switch t := s["type"].(type) {
		case string:
			types[t] = true
			constrained = true
		case []any:
			for _, x := range t {
				if name, ok := x.(string); ok {
					types[name] = true
				}
			}
			constrained = true
		}
		if enum, ok := s["enum"].([]any); ok {
			for _, e := range enum {
				types[jsonType(e)] = true
			}
			constrained = true
		}
	}
	if !constrained {
		return nil
	}
	return types
}

// wrongType picks a value of a type the property does not accept.
func wrongType(allowed map[string]bool) (any, bool) {
	if allowed == nil {
		return nil, false
	}
	for _, cand := range []any{int64(12345), "x", true, map[string]any{}, []any{}} {
		t := jsonType(cand)
		if allowed[t] || (t == "integer" && allowed["number"]) {
			continue
		}
		return cand, true
	}
	return nil, false
}

func jsonType(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case int, int64:
		return "integer"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

// resolve follows a local "#/$defs/name" ref (bundled schemas have only
// those) and returns the object schema.
func resolve(root map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	for i := 0; m != nil && i < 8; i++ {
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/$defs/") {
			return m
		}
		defs, _ := root["$defs"].(map[string]any)
		target, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if target == nil {
			return m
		}
		// Sibling keywords of $ref still apply; the target's fill in.
		merged := map[string]any{}
		for k, val := range target {
			merged[k] = val
		}
		for k, val := range m {
			if k != "$ref" {
				merged[k] = val
			}
		}
		m = merged
	}
	return m
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
