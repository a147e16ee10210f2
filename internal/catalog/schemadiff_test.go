package catalog

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/schemas"
)

// decode parses JSON text as the catalog does, numbers as json.Number.
func decode(t *testing.T, text string) any {
	t.Helper()
	v, err := decodeJSON([]byte(text))
	require.NoError(t, err, text)
	return v
}

// texts is the Text of every change, in order.
func texts(changes []schemaChange) []string {
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		out = append(out, c.Text)
	}
	return out
}

// testShared are shared schemas for the $ref cases, by $ref.
var testShared = map[string]string{
	"capd:schemas/id.json":        `{"$id": "capd:schemas/id.json", "type": "string", "minLength": 1, "maxLength": 64}`,
	"capd:schemas/short_id.json":  `{"$id": "capd:schemas/short_id.json", "type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[a-z]+_[0-9a-f]+$"}`,
	"capd:schemas/priority.json":  `{"type": "string", "enum": ["low", "medium", "high"]}`,
	"capd:schemas/priority2.json": `{"type": "string", "enum": ["low", "medium", "high", "urgent"]}`,
	"capd:schemas/task.json": `{"type": "object", "required": ["title"], "properties": {
		"title": {"type": "string"},
		"priority": {"anyOf": [{"$ref": "capd:schemas/priority.json"}, {"type": "null"}]}}}`,
	"capd:schemas/task2.json": `{"type": "object", "required": ["title"], "properties": {
		"title": {"type": "string"},
		"priority": {"anyOf": [{"$ref": "capd:schemas/priority2.json"}, {"type": "null"}]}}}`,
	"capd:schemas/node.json": `{"type": "object", "properties": {
		"name": {"type": "string"},
		"children": {"type": "array", "items": {"$ref": "capd:schemas/node.json"}}}}`,
}

func TestDiffSchemas(t *testing.T) {
	shared := map[string]any{}
	for ref, text := range testShared {
		shared[ref] = decode(t, text)
	}

	for _, tc := range []struct {
		name          string
		before, after string
		want          []string
	}{
		{
			name:   "IdenticalGivesNoChange",
			before: `{"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "maxLength": 3}}}`,
			after:  `{"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "maxLength": 3}}}`,
		},
		{
			name:   "KeyOrderAndListOrderDoNotMatter",
			before: `{"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "string", "enum": ["x", "y"]}, "b": {"maximum": 3, "type": "integer"}}}`,
			after:  `{"properties": {"b": {"type": "integer", "maximum": 3.0}, "a": {"enum": ["y", "x"], "type": "string"}}, "required": ["b", "a"], "type": "object"}`,
		},
		{
			name:   "OptionalPropertyAddedWithBounds",
			before: `{"type": "object", "properties": {}}`,
			after:  `{"type": "object", "properties": {"budget_usd": {"type": "number", "minimum": 3, "maximum": 300}}}`,
			want:   []string{"+ budget_usd: number, 3 ≤ x ≤ 300 (optional)"},
		},
		{
			name:   "RequiredPropertyAddedSaysSoOnce",
			before: `{"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}`,
			after:  `{"type": "object", "required": ["title", "category"], "properties": {"title": {"type": "string"}, "category": {"type": "string", "enum": ["bug", "chore"]}}}`,
			want:   []string{"+ category: one of bug, chore (required)"},
		},
		{
			name:   "PropertyRemoved",
			before: `{"type": "object", "required": ["agent_vendor"], "properties": {"agent_vendor": {"type": ["string", "null"]}, "title": {"type": "string"}}}`,
			after:  `{"type": "object", "properties": {"title": {"type": "string"}}}`,
			want:   []string{"− agent_vendor"},
		},
		{
			name:   "ExistingPropertyBecomesRequired",
			before: `{"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}, "category": {"type": "string"}}}`,
			after:  `{"type": "object", "required": ["category"], "properties": {"title": {"type": "string"}, "category": {"type": "string"}}}`,
			want:   []string{"~ required: + category, − title"},
		},
		{
			name:   "TypeChanged",
			before: `{"properties": {"count": {"type": "string"}}}`,
			after:  `{"properties": {"count": {"type": "integer"}}}`,
			want:   []string{"~ count: type string → integer"},
		},
		{
			name:   "TypeBecomesNullable",
			before: `{"properties": {"due": {"type": "string"}}}`,
			after:  `{"properties": {"due": {"type": ["string", "null"]}}}`,
			want:   []string{"~ due: type string → string or null"},
		},
		{
			name:   "EnumValuesAddedAndRemoved",
			before: `{"properties": {"priority": {"type": "string", "enum": ["low", "medium", "high"]}}}`,
			after:  `{"properties": {"priority": {"type": "string", "enum": ["medium", "high", "urgent"]}}}`,
			want:   []string{"~ priority: enum + urgent, − low"},
		},
		{
			name:   "BoundsChangedAddedRemoved",
			before: `{"properties": {"title": {"type": "string", "maxLength": 200}, "n": {"type": "integer", "maximum": 10, "exclusiveMinimum": 0}}}`,
			after:  `{"properties": {"title": {"type": "string", "minLength": 1, "maxLength": 120}, "n": {"type": "integer", "exclusiveMinimum": 1}}}`,
			want: []string{
				"~ n: exclusiveMinimum 0 → 1",
				"~ n: − maximum 10",
				"~ title: + minLength 1",
				"~ title: maxLength 200 → 120",
			},
		},
		{
			name:   "FormatAndPatternChanged",
			before: `{"properties": {"due": {"type": "string", "format": "date"}, "id": {"type": "string"}}}`,
			after:  `{"properties": {"due": {"type": "string", "format": "date-time"}, "id": {"type": "string", "pattern": "^tsk_[0-9a-f]{32}$"}}}`,
			want:   []string{"~ due: format date → date-time", "~ id: + pattern ^tsk_[0-9a-f]{32}$"},
		},
		{
			name:   "AdditionalPropertiesClosed",
			before: `{"type": "object", "properties": {"a": {"type": "string"}}}`,
			after:  `{"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}}`,
			want:   []string{"~ additionalProperties: true → false"},
		},
		{
			name:   "AdditionalPropertiesEmptySchemaMeansTrue",
			before: `{"type": "object"}`,
			after:  `{"type": "object", "additionalProperties": {}}`,
		},
		{
			name: "NestedObjects",
			before: `{"type": "object", "properties": {"task": {"type": "object", "required": ["title"], "properties": {
				"title": {"type": "string", "maxLength": 200}}}}}`,
			after: `{"type": "object", "properties": {"task": {"type": "object", "additionalProperties": false, "required": ["title", "labels"], "properties": {
				"title": {"type": "string", "maxLength": 120},
				"labels": {"type": "array", "maxItems": 10, "uniqueItems": true, "items": {"type": "string"}}}}}}`,
			want: []string{
				"+ task.labels: array of string, items ≤ 10, unique (required)",
				"~ task.title: maxLength 200 → 120",
				"~ task.additionalProperties: true → false",
			},
		},
		{
			name:   "ArrayItemsChanged",
			before: `{"properties": {"tags": {"type": "array", "items": {"type": "string"}}, "ids": {"type": "array"}}}`,
			after:  `{"properties": {"tags": {"type": "array", "items": {"type": "integer", "minimum": 0}}, "ids": {"type": "array", "items": {"type": "string"}}}}`,
			want:   []string{"+ ids[]: string", "~ tags[]: type string → integer", "~ tags[]: + minimum 0"},
		},
		{
			name: "ArrayOfObjectsGainsAField",
			before: `{"properties": {"history": {"type": "array", "items": {"type": "object", "required": ["at"], "properties": {
				"at": {"type": "string", "format": "date-time"}}}}}}`,
			after: `{"properties": {"history": {"type": "array", "items": {"type": "object", "required": ["at"], "properties": {
				"at": {"type": "string", "format": "date-time"}, "note": {"type": "string", "maxLength": 500}}}}}}`,
			want: []string{"+ history[].note: string, length ≤ 500 (optional)"},
		},
		{
			name:   "AddedObjectListsItsFields",
			before: `{"type": "object", "properties": {}}`,
			after: `{"type": "object", "properties": {"history": {"type": "array", "items": {"type": "object", "required": ["at"], "properties": {
				"at": {"type": "string", "format": "date-time"}, "by": {"type": ["string", "null"]}}}}}}`,
			want: []string{
				"+ history: array of object (optional)",
				"+ history[].at: string, format date-time (required)",
				"+ history[].by: string or null (optional)",
			},
		},
		{
			name:   "RefToRefShowsTheRealDifference",
			before: `{"type": "object", "properties": {"task_id": {"$ref": "capd:schemas/id.json"}}}`,
			after:  `{"type": "object", "properties": {"task_id": {"$ref": "capd:schemas/short_id.json"}}}`,
			want:   []string{"~ task_id: + pattern ^[a-z]+_[0-9a-f]+$", "~ task_id: maxLength 64 → 40"},
		},
		{
			name:   "RefAndItsInlinedCopyAreTheSame",
			before: `{"type": "object", "properties": {"task_id": {"$ref": "capd:schemas/id.json"}}}`,
			after:  `{"type": "object", "properties": {"task_id": {"type": "string", "minLength": 1, "maxLength": 64}}}`,
		},
		{
			name:   "KeywordsBesideARefWin",
			before: `{"properties": {"task_id": {"$ref": "capd:schemas/id.json"}}}`,
			after:  `{"properties": {"task_id": {"$ref": "capd:schemas/id.json", "maxLength": 32}}}`,
			want:   []string{"~ task_id: maxLength 64 → 32"},
		},
		{
			name:   "ChangeInsideANestedSharedSchema",
			before: `{"properties": {"task": {"$ref": "capd:schemas/task.json"}}}`,
			after:  `{"properties": {"task": {"$ref": "capd:schemas/task2.json"}}}`,
			want:   []string{"~ task.priority: enum + urgent"},
		},
		{
			name:   "NullableRefAddedReadsAsOneType",
			before: `{"properties": {}}`,
			after:  `{"properties": {"priority": {"anyOf": [{"$ref": "capd:schemas/priority.json"}, {"type": "null"}]}}}`,
			want:   []string{"+ priority: one of low, medium, high, or null (optional)"},
		},
		{
			name:   "LocalRefIntoDefs",
			before: `{"$defs": {"n": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}`,
			after:  `{"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}`,
			want:   []string{"~ a: type string → integer"},
		},
		{
			name:   "RecursiveRefEnds",
			before: `{"properties": {"tree": {"$ref": "capd:schemas/node.json"}}}`,
			after:  `{"properties": {"tree": {"$ref": "capd:schemas/node.json", "maxProperties": 2}}}`,
			want:   []string{"~ tree: + maxProperties 2"},
		},
		{
			name:   "UnknownRefComparedAsText",
			before: `{"properties": {"a": {"$ref": "capd:schemas/nope.json"}}}`,
			after:  `{"properties": {"a": {"$ref": "capd:schemas/gone.json"}}}`,
			want:   []string{`~ a: $ref "capd:schemas/nope.json" → "capd:schemas/gone.json"`},
		},
		{
			name:   "DescriptionConstAndDefault",
			before: `{"properties": {"a": {"type": "string", "description": "Old words.", "default": "x"}, "ok": {"const": true}}}`,
			after:  `{"properties": {"a": {"type": "string", "description": "New words.", "default": "y"}, "ok": {"const": false}}}`,
			want: []string{
				`~ a: default "x" → "y"`,
				`~ a: description "Old words." → "New words."`,
				"~ ok: const true → false",
			},
		},
		{
			name:   "ConditionalRequired",
			before: `{"type": "object", "if": {"properties": {"ok": {"const": true}}}, "then": {"required": ["task"]}}`,
			after:  `{"type": "object", "if": {"properties": {"ok": {"const": true}}}, "then": {"required": ["task", "history"]}}`,
			want:   []string{"~ (then).required: + history"},
		},
		{
			name:   "AnyOfBranchesByPosition",
			before: `{"properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}`,
			after:  `{"properties": {"v": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}}`,
			want:   []string{"~ v(anyOf 2): type integer → number", "+ v(anyOf 3): boolean"},
		},
		{
			name:   "RootTypeChanged",
			before: `{"type": "object"}`,
			after:  `{"type": "array", "items": {"type": "string"}}`,
			want:   []string{"~ (root): type object → array", "+ []: string"},
		},
		{
			name:   "BooleanSchemaChanged",
			before: `{"properties": {"extra": true}}`,
			after:  `{"properties": {"extra": false}}`,
			want:   []string{"~ extra: anything → nothing"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diffSchemas(decode(t, tc.before), decode(t, tc.after), shared)
			assert.Equal(t, tc.want, nilIfEmpty(texts(got)))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestDiffSchemasFields checks the structured form behind each line.
func TestDiffSchemasFields(t *testing.T) {
	before := decode(t, `{"type": "object", "required": ["title", "agent_vendor"], "properties": {
		"title": {"type": "string", "maxLength": 200},
		"agent_vendor": {"type": ["string", "null"]},
		"priority": {"type": "string", "enum": ["low", "high"]}}}`)
	after := decode(t, `{"type": "object", "additionalProperties": false, "required": ["category", "title"], "properties": {
		"title": {"type": "string", "maxLength": 120},
		"category": {"type": "string"},
		"priority": {"type": "string", "enum": ["low", "high", "urgent"]},
		"budget_usd": {"type": "number", "minimum": 3, "maximum": 300}}}`)
	assert.Equal(t, []schemaChange{
		{Path: "agent_vendor", Kind: changeRemoved, Before: "string or null (required)", Text: "− agent_vendor"},
		{Path: "budget_usd", Kind: changeAdded, After: "number, 3 ≤ x ≤ 300 (optional)", Text: "+ budget_usd: number, 3 ≤ x ≤ 300 (optional)"},
		{Path: "category", Kind: changeAdded, After: "string (required)", Text: "+ category: string (required)"},
		{Path: "priority", Kind: changeChanged, Keyword: "enum", Before: "low, high", After: "low, high, urgent", Text: "~ priority: enum + urgent"},
		{Path: "title", Kind: changeChanged, Keyword: "maxLength", Before: "200", After: "120", Text: "~ title: maxLength 200 → 120"},
		{Path: "", Kind: changeChanged, Keyword: "additionalProperties", Before: "true", After: "false", Text: "~ additionalProperties: true → false"},
	}, diffSchemas(before, after, nil))
}

// TestDiffSchemasRealSharedSchemas diffs a capability-like schema against
// itself with every real shared schema: no false changes, no endless
// recursion.
func TestDiffSchemasRealSharedSchemas(t *testing.T) {
	shared, err := loadSharedSchemas(schemas.FS)
	require.NoError(t, err)
	files, err := fs.Glob(schemas.FS, "*.json")
	require.NoError(t, err)
	props := map[string]any{}
	for _, f := range files {
		props[f] = map[string]any{"$ref": "capd:schemas/" + f}
	}
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(map[string]any{"type": "object", "properties": props}))
	doc := decode(t, buf.String())
	assert.Empty(t, diffSchemas(doc, decode(t, buf.String()), shared))
	assert.NotEmpty(t, diffSchemas(map[string]any{"type": "object"}, doc, shared))
}

func TestUnifiedDiff(t *testing.T) {
	t.Run("EqualGivesNothing", func(t *testing.T) {
		assert.Nil(t, unifiedDiff("a\nb\n", "a\nb\n"))
	})

	t.Run("OneHunkWithContext", func(t *testing.T) {
		before := "1\n2\n3\n4\n5\n6\n7\n8\n9\n"
		after := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n"
		var got []string
		for _, l := range unifiedDiff(before, after) {
			got = append(got, l.Op+" "+l.Text)
		}
		assert.Equal(t, []string{
			"hunk @@ -2,7 +2,7 @@", "same  2", "same  3", "same  4", "del -5", "add +five", "same  6", "same  7", "same  8",
		}, got)
	})

	t.Run("DistantChangesMakeTwoHunks", func(t *testing.T) {
		before := "a\n1\n2\n3\n4\n5\n6\n7\n8\nz\n"
		after := "A\n1\n2\n3\n4\n5\n6\n7\n8\nZ\n"
		var hunks []string
		for _, l := range unifiedDiff(before, after) {
			if l.Op == "hunk" {
				hunks = append(hunks, l.Text)
			}
		}
		assert.Equal(t, []string{"@@ -1,4 +1,4 @@", "@@ -7,4 +7,4 @@"}, hunks)
	})

	t.Run("Insertion", func(t *testing.T) {
		got := unifiedDiff("a\nb\n", "a\nx\nb\n")
		require.Len(t, got, 4)
		assert.Equal(t, diffLine{Op: "hunk", Text: "@@ -1,2 +1,3 @@"}, got[0])
		assert.Equal(t, diffLine{Op: "add", Text: "+x"}, got[2])
	})
}
