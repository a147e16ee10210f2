package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/schema"
)

// validTask satisfies schemas/task.json.
const validTask = `{"task_id":"tsk_1","project_id":"prj_1","title":"t","description":"","status":"todo",
  "priority":null,"due_date":null,"assignee_id":null,"agent_vendor":null,
  "created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`

// withField returns validTask with one field replaced by raw JSON.
func withField(t *testing.T, field, raw string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(validTask), &m))
	m[field] = json.RawMessage(raw)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func TestBundle(t *testing.T) {
	c, s := compile(t, `{"type":"object","required":["task"],"properties":{"task":{"$ref":"capd:schemas/task.json"}}}`)
	raw, err := c.Bundle(s.Doc())
	require.NoError(t, err)

	t.Run("OKNoSharedRefLeft", func(t *testing.T) {
		assert.NotContains(t, string(raw), "capd:")
	})

	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	defs, _ := doc["$defs"].(map[string]any)

	t.Run("OKDefsHoldTaskAndWhatItRefers", func(t *testing.T) {
		// task.json refers to task_status.json and task_priority.json.
		require.NotNil(t, defs)
		for _, name := range []string{"task", "task_status", "task_priority"} {
			assert.Contains(t, defs, name)
		}
		assert.Len(t, defs, 3, "only the schemas reached from the document")
		props := doc["properties"].(map[string]any)
		assert.Equal(t, "#/$defs/task", props["task"].(map[string]any)["$ref"])
	})
	t.Run("OKDefsCarryNoIDOrSchema", func(t *testing.T) {
		for name, def := range defs {
			m := def.(map[string]any)
			assert.NotContains(t, m, "$id", name)
			assert.NotContains(t, m, "$schema", name)
		}
	})
	t.Run("OKSameVerdictsAsOriginal", func(t *testing.T) {
		fresh := jsonschema.NewCompiler()
		fresh.DefaultDraft(jsonschema.Draft2020)
		fresh.AssertFormat()
		bundledDoc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		require.NoError(t, err)
		require.NoError(t, fresh.AddResource("https://example.test/bundled.json", bundledDoc))
		bundled, err := fresh.Compile("https://example.test/bundled.json")
		require.NoError(t, err)

		instances := map[string]bool{
			`{"task":` + validTask + `}`:                                true,
			`{"task":` + withField(t, "priority", `"high"`) + `}`:       true,
			`{"task":` + withField(t, "due_date", `"2026-02-28"`) + `}`: true,
			`{}`: false,
			`{"task":` + withField(t, "status", `"archived"`) + `}`:              false,
			`{"task":` + withField(t, "priority", `"urgent"`) + `}`:              false,
			`{"task":` + withField(t, "due_date", `"2026-02-30"`) + `}`:          false,
			`{"task":` + withField(t, "created_at", `"yesterday"`) + `}`:         false,
			`{"task":` + strings.Replace(validTask, `"title":"t",`, "", 1) + `}`: false,
		}
		for instance, valid := range instances {
			v, err := schema.Decode([]byte(instance), schema.MaxDepth)
			require.NoError(t, err)
			assert.Equal(t, valid, len(s.Validate(v)) == 0, "original on %s", instance)
			assert.Equal(t, valid, bundled.Validate(v) == nil, "bundled on %s", instance)
		}
	})
}

func TestBundleWithoutSharedRefsIsUnchanged(t *testing.T) {
	src := `{"type":"object","properties":{"a":{"type":"string"}}}`
	c, s := compile(t, src)
	raw, err := c.Bundle(s.Doc())
	require.NoError(t, err)
	assert.JSONEq(t, src, string(raw))
}
