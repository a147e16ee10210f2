package schema

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// bundle rewrites shared-schema refs to local "#/$defs/<name>" refs and adds
// each referenced shared schema (transitively) under $defs, without its $id
// and $schema so it does not change the base URI inside the document.
func bundle(doc any, shared map[string]any) (json.RawMessage, error) {
	defs := map[string]any{}
	var rewrite func(v any) (any, error)
	rewrite = func(v any) (any, error) {
		switch t := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, child := range t {
				if k == "$ref" {
					ref, _ := child.(string)
					if IsShared(ref) {
						name := strings.TrimSuffix(path.Base(ref), ".json")
						if _, done := defs[name]; !done {
							target, ok := shared[ref]
							if !ok {
								return nil, fmt.Errorf("unknown shared schema %s", ref)
							}
							defs[name] = nil // mark before recursing: refs may cycle
							inlined, err := rewrite(target)
							if err != nil {
								return nil, err
							}
							m := inlined.(map[string]any)
							delete(m, "$id")
							delete(m, "$schema")
							defs[name] = m
						}
						out[k] = "#/$defs/" + name
						continue
					}
				}
				r, err := rewrite(child)
				if err != nil {
					return nil, err
				}
				out[k] = r
			}
			return out, nil
		case []any:
			out := make([]any, len(t))
			for i, child := range t {
				r, err := rewrite(child)
				if err != nil {
					return nil, err
				}
				out[i] = r
			}
			return out, nil
		default:
			return v, nil
		}
	}
	root, err := rewrite(doc)
	if err != nil {
		return nil, err
	}
	if len(defs) > 0 {
		m, ok := root.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("schema root must be an object to carry $defs")
		}
		existing, _ := m["$defs"].(map[string]any)
		if existing == nil {
			existing = map[string]any{}
		}
		names := make([]string, 0, len(defs))
		for n := range defs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if _, clash := existing[n]; clash {
				return nil, fmt.Errorf("$defs/%s is defined locally and also names a shared schema", n)
			}
			existing[n] = defs[n]
		}
		m["$defs"] = existing
	}
	return json.Marshal(root)
}

// annotationKeywords say nothing about validity: tools/list can leave them
// out of output schemas, which the model reads far less than input
// schemas, to spare an agent's context.
var annotationKeywords = []string{"description", "title", "examples", "$comment"}

// StripAnnotations returns the schema without annotation keywords. It
// validates exactly the same instances. A property that happens to be
// named "description" or "title" is kept: only keywords of a schema object
// are removed, never keys of a properties map.
func StripAnnotations(raw json.RawMessage) (json.RawMessage, error) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return json.Marshal(strip(doc, false))
}

// strip walks a schema; inMap is true for maps whose keys are names
// (properties, $defs, patternProperties, dependentSchemas).
func strip(v any, inMap bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, child := range t {
			if !inMap && slices.Contains(annotationKeywords, k) {
				continue
			}
			switch k {
			case "properties", "$defs", "patternProperties", "dependentSchemas":
				if !inMap {
					out[k] = strip(child, true)
					continue
				}
			}
			out[k] = strip(child, false)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			out[i] = strip(child, false)
		}
		return out
	}
	return v
}
