package schema_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/schema"
	"github.com/capd-dev/capd/schemas"
)

// TestInlinedRefsValidateTheSame compiles every capability schema as
// written and as Compile builds it (shared refs inlined), and requires the
// same issues from both for every conformance case input (the generated
// cases break each input rule in turn) and every example output, and for
// outputs with each field broken.
func TestInlinedRefsValidateTheSame(t *testing.T) {
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(projectkit.New()))
	suite, err := conformance.Load(capabilities.FS, schemas.FS, reg)
	require.NoError(t, err)
	c, err := schema.NewCompiler(schemas.FS)
	require.NoError(t, err)

	compare := func(t *testing.T, name string, doc any, instances []any) {
		t.Helper()
		inlined, err := c.Compile("capd:test/inlined/"+name, doc)
		require.NoError(t, err)
		written, err := c.CompileAsWritten("capd:test/written/"+name, doc)
		require.NoError(t, err)
		for _, in := range instances {
			raw, err := json.Marshal(in)
			require.NoError(t, err)
			v, err := schema.Decode(raw, 1<<10)
			require.NoError(t, err)
			require.Equal(t, written.Validate(v), inlined.Validate(v), "%s: %s", name, raw)
		}
	}
	for _, v := range reg.Versions() {
		ref := v.Manifest.Ref()
		var inputs, outputs []any
		for _, cs := range suite.Cases(v) {
			inputs = append(inputs, cs.Input)
		}
		for _, ex := range v.Manifest.Examples {
			var in, out any
			require.NoError(t, json.Unmarshal(ex.Input, &in))
			require.NoError(t, json.Unmarshal(ex.Output, &out))
			inputs = append(inputs, in)
			outputs = append(outputs, out)
			if m, ok := out.(map[string]any); ok {
				outputs = append(outputs, broken(m)...)
			}
		}
		compare(t, ref+"/input.json", v.Input.Doc(), inputs)
		compare(t, ref+"/output.json", v.Output.Doc(), outputs)
	}
}

// broken returns copies of out with one value at a time, at any depth,
// replaced by values of the wrong type or shape.
func broken(out map[string]any) []any {
	var all []any
	var walk func(v any, set func(any))
	walk = func(v any, set func(any)) {
		for _, bad := range []any{nil, 7, "x", true, []any{}, map[string]any{}} {
			set(bad)
			all = append(all, deepCopy(out))
		}
		set(v)
		switch t := v.(type) {
		case map[string]any:
			for _, k := range keysOf(t) {
				child := t[k]
				walk(child, func(x any) { t[k] = x })
				delete(t, k)
				all = append(all, deepCopy(out))
				t[k] = child
			}
		case []any:
			for i, child := range t {
				walk(child, func(x any) { t[i] = x })
			}
		}
	}
	for _, k := range keysOf(out) {
		walk(out[k], func(x any) { out[k] = x })
	}
	return all
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func deepCopy(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}
