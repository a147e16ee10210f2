package registry_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/registry"
)

// thingFile is where minimalManifest's test.thing@0.1.0 must live.
const thingFile = "test.thing/0.1.0.yaml"

// inputProps returns the input schema's properties of a decoded manifest.
func inputProps(m map[string]any) map[string]any {
	return m["input_schema"].(map[string]any)["properties"].(map[string]any)
}

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r, err := load(fstest.MapFS{thingFile: file(manifest(t, "test.thing", "0.1.0"))})
		require.NoError(t, err)
		require.Len(t, r.Versions(), 1)
		v := r.Versions()[0]
		assert.Equal(t, "test.thing@0.1.0", v.Manifest.Ref())
		assert.Equal(t, "capabilities/"+thingFile, v.File)
		assert.Equal(t, []string{"invalid_input"}, v.ErrorCodes())
	})

	// Each case breaks the valid manifest in one way; Load must say which
	// file and which field.
	cases := []struct {
		name  string
		path  string // file name in the FS; thingFile when empty
		ver   string // version; 0.1.0 when empty
		edit  func(m map[string]any)
		field string
	}{
		{name: "ErrMissingSemantics", edit: func(m map[string]any) { delete(m, "semantics") }, field: "/semantics"},
		{name: "ErrMissingAnnotation", edit: func(m map[string]any) { delete(m["annotations"].(map[string]any), "open_world") }, field: "/annotations/open_world"},
		{name: "ErrEmptyInvariants", edit: func(m map[string]any) { m["invariants"] = []any{} }, field: "/invariants"},
		{name: "ErrBadSemver", path: "test.thing/1.0.yaml", ver: "1.0", field: "/version"},
		{name: "ErrSemverWithBuildMetadata", path: "test.thing/0.1.0+build.7.yaml", ver: "0.1.0+build.7", field: "/version"},
		{name: "ErrBadScope", edit: func(m map[string]any) { m["scope"] = "projects.admin" }, field: "/scope"},
		{name: "ErrDeprecatedWithoutReplacement", edit: func(m map[string]any) { m["status"] = "deprecated" }, field: "/replacement"},
		{name: "ErrRetiredWithoutReplacement", edit: func(m map[string]any) { m["status"] = "retired" }, field: "/replacement"},
		{name: "ErrUncompilableInputSchema", edit: func(m map[string]any) {
			inputProps(m)["id"] = map[string]any{"$ref": "capd:schemas/nope.json"}
		}, field: "/input_schema"},
		{name: "ErrUncompilableOutputSchema", edit: func(m map[string]any) {
			m["output_schema"].(map[string]any)["properties"].(map[string]any)["thing"] = map[string]any{"type": "nonsense"}
		}, field: "/output_schema"},
		{name: "ErrTopLevelCombinatorInInputSchema", edit: func(m map[string]any) {
			m["input_schema"].(map[string]any)["anyOf"] = []any{map[string]any{"required": []any{"id"}}}
		}, field: "/input_schema"},
		{name: "ErrErrorsWithCodeNotInEnum", edit: func(m map[string]any) {
			m["errors"].(map[string]any)["unknown_thing"] = map[string]any{"meaning": "No such thing.", "next": "Call test.list_things."}
		}, field: "/errors"},
		{name: "ErrEnumWithCodeNotInErrors", edit: func(m map[string]any) {
			m["output_schema"].(map[string]any)["properties"].(map[string]any)["error"].(map[string]any)["enum"] = []any{"invalid_input", "unknown_thing"}
		}, field: "/errors"},
		{name: "ErrExampleInputBreaksInputSchema", edit: func(m map[string]any) {
			m["examples"].([]any)[0].(map[string]any)["input"] = map[string]any{"id": 5}
		}, field: "/examples/0/input/id"},
		{name: "ErrExampleInputUnknownField", edit: func(m map[string]any) {
			m["examples"].([]any)[1].(map[string]any)["input"].(map[string]any)["colour"] = "red"
		}, field: "/examples/1/input/colour"},
		{name: "ErrExampleOutputBreaksOutputSchema", edit: func(m map[string]any) {
			m["examples"].([]any)[1].(map[string]any)["output"].(map[string]any)["error"] = "unknown_thing"
		}, field: "/examples/1/output/error"},
		{name: "ErrFileNotNamedAfterNameAndVersion", path: "test.other/0.1.0.yaml", field: ""},
		{name: "ErrFileNotNamedAfterVersion", path: "test.thing/0.2.0.yaml", field: ""},
		{name: "ErrUnderscoreInDomain", path: "my_test.thing/0.1.0.yaml", edit: func(m map[string]any) { m["name"] = "my_test.thing" }, field: "/name"},
		{name: "ErrUnknownTopLevelField", edit: func(m map[string]any) { m["provider"] = "projectkit" }, field: "/provider"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, ver := tc.path, tc.ver
			if path == "" {
				path = thingFile
			}
			if ver == "" {
				ver = "0.1.0"
			}
			var edits []func(map[string]any)
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			r, err := load(fstest.MapFS{path: file(manifest(t, "test.thing", ver, edits...))})
			assert.Nil(t, r)
			ps := requireProblems(t, err)
			require.Len(t, ps, 1, "%v", ps)
			assert.Equal(t, "capabilities/"+path, ps[0].File)
			assert.Equal(t, tc.field, ps[0].Field)
			assert.NotEmpty(t, ps[0].Message)
		})
	}

	t.Run("ErrNotYAML", func(t *testing.T) {
		_, err := load(fstest.MapFS{thingFile: file([]byte("name: [unclosed"))})
		ps := requireProblems(t, err)
		require.Len(t, ps, 1)
		assert.Equal(t, registry.Problem{File: "capabilities/" + thingFile, Field: "", Message: ps[0].Message}, ps[0])
	})

	t.Run("ErrNoManifests", func(t *testing.T) {
		_, err := load(fstest.MapFS{})
		ps := requireProblems(t, err)
		require.Len(t, ps, 1)
		assert.Equal(t, "capabilities", ps[0].File)
	})

	t.Run("ErrDuplicateIsCaughtByPathRule", func(t *testing.T) {
		// A manifest must live at <name>/<version>.yaml and an FS holds one
		// file per path, so two files can never both declare
		// test.thing@0.1.0: the second copy is reported as misnamed.
		data := manifest(t, "test.thing", "0.1.0")
		_, err := load(fstest.MapFS{thingFile: file(data), "copy/0.1.0.yaml": file(data)})
		ps := requireProblems(t, err)
		require.Len(t, ps, 1, "%v", ps)
		assert.Equal(t, "capabilities/copy/0.1.0.yaml", ps[0].File)
		assert.Equal(t, "", ps[0].Field)
	})

	t.Run("ErrEveryProblemReportedAtOnce", func(t *testing.T) {
		_, err := load(fstest.MapFS{
			"test.alpha/0.1.0.yaml": file(manifest(t, "test.alpha", "0.1.0", func(m map[string]any) { delete(m, "semantics") })),
			"test.beta/0.1.0.yaml":  file(manifest(t, "test.beta", "0.1.0", func(m map[string]any) { m["scope"] = "projects.admin" })),
			"test.gamma/0.1.0.yaml": file(manifest(t, "test.gamma", "0.1.0")),
		})
		ps := requireProblems(t, err)
		require.Len(t, ps, 2, "%v", ps)
		assert.Equal(t, registry.Problem{File: "capabilities/test.alpha/0.1.0.yaml", Field: "/semantics", Message: ps[0].Message}, ps[0])
		assert.Equal(t, registry.Problem{File: "capabilities/test.beta/0.1.0.yaml", Field: "/scope", Message: ps[1].Message}, ps[1])
	})

	t.Run("ErrEveryProblemInOneFileReported", func(t *testing.T) {
		_, err := load(fstest.MapFS{thingFile: file(manifest(t, "test.thing", "0.1.0", func(m map[string]any) {
			m["examples"].([]any)[0].(map[string]any)["input"] = map[string]any{"id": 5}
			m["examples"].([]any)[1].(map[string]any)["output"].(map[string]any)["error"] = "unknown_thing"
		}))})
		ps := requireProblems(t, err)
		fields := make([]string, len(ps))
		for i, p := range ps {
			fields[i] = p.Field
		}
		assert.ElementsMatch(t, []string{"/examples/0/input/id", "/examples/1/output/error"}, fields)
	})

	t.Run("OKRealManifests", func(t *testing.T) {
		loadReal(t)
	})
}
