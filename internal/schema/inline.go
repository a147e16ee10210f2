package schema

import "strings"

// inlineShared returns doc with every {"$ref": "capd:schemas/..."} that
// carries nothing but annotations beside it replaced by the shared schema's
// own keywords. It validates exactly the same instances: such a node
// applies only the referenced schema. It is faster to validate: the engine
// allocates a scope and an evaluation record for every $ref it follows,
// once per validated value, and a task list follows several per task.
//
// A ref is kept when inlining could change what it means: a shared schema
// that uses a local ref, $defs, an anchor or a dynamic ref (they resolve
// against the shared schema's own base URI), and a ref back into a schema
// already being inlined (a cycle).
func inlineShared(doc any, shared map[string]any) any {
	return inline(doc, shared, map[string]bool{})
}

func inline(v any, shared map[string]any, active map[string]bool) any {
	switch t := v.(type) {
	case map[string]any:
		if ref, ok := t["$ref"].(string); ok && IsShared(ref) && onlyAnnotationsBeside(t) && !active[ref] {
			if target, ok := shared[ref].(map[string]any); ok && selfContained(target) {
				active[ref] = true
				out := inline(target, shared, active).(map[string]any)
				delete(active, ref)
				delete(out, "$id")
				delete(out, "$schema")
				return out
			}
		}
		out := make(map[string]any, len(t))
		for k, child := range t {
			out[k] = inline(child, shared, active)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			out[i] = inline(child, shared, active)
		}
		return out
	}
	return v
}

// inlineAnnotations are the keywords that may stand beside an inlined $ref:
// they describe, they never constrain.
var inlineAnnotations = map[string]bool{
	"$ref": true, "$comment": true, "title": true, "description": true, "examples": true,
	"default": true, "deprecated": true, "readOnly": true, "writeOnly": true,
}

func onlyAnnotationsBeside(m map[string]any) bool {
	for k := range m {
		if !inlineAnnotations[k] {
			return false
		}
	}
	return true
}

// selfContained reports whether a shared schema means the same wherever its
// keywords are placed: apart from its own $id and $schema, no keyword in it
// sets or resolves against a base URI.
func selfContained(target map[string]any) bool {
	for k, child := range target {
		if k == "$id" || k == "$schema" {
			continue
		}
		if !keywordSelfContained(k, child) {
			return false
		}
	}
	return true
}

func keywordSelfContained(k string, v any) bool {
	switch k {
	case "$id", "$schema", "$defs", "definitions", "$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveRef", "$recursiveAnchor":
		return false
	case "$ref":
		ref, _ := v.(string)
		return IsShared(ref) && !strings.Contains(ref, "#")
	case "properties", "patternProperties", "dependentSchemas":
		// Keys here are names, not keywords.
		m, _ := v.(map[string]any)
		for _, sub := range m {
			if !valueSelfContained(sub) {
				return false
			}
		}
		return true
	}
	return valueSelfContained(v)
}

// valueSelfContained checks a keyword's value: a subschema, a list of them,
// or plain data (enum, const, required), which is walked harmlessly.
func valueSelfContained(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if !keywordSelfContained(k, child) {
				return false
			}
		}
	case []any:
		for _, child := range t {
			if !valueSelfContained(child) {
				return false
			}
		}
	}
	return true
}
