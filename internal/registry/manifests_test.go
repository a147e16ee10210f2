package registry_test

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
)

// mcpToolName is the MCP rule for tool names; a capability name is its
// tool name.
var mcpToolName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// TestManifests checks every published capability version for what an agent
// needs to use it well (STYLE 10).
func TestManifests(t *testing.T) {
	r := loadReal(t)
	for _, v := range r.Versions() {
		m := v.Manifest
		t.Run(m.Ref(), func(t *testing.T) {
			t.Run("OKDocumented", func(t *testing.T) {
				assert.NotEmpty(t, strings.TrimSpace(m.Title), "title")
				assert.NotEmpty(t, strings.TrimSpace(m.Summary), "summary")
				assert.NotEmpty(t, strings.TrimSpace(m.Semantics), "semantics")
				assert.NotEmpty(t, strings.TrimSpace(m.WhenToUse), "when_to_use")
				require.NotEmpty(t, m.Invariants, "invariants")
				for i, inv := range m.Invariants {
					assert.NotEmpty(t, strings.TrimSpace(inv), "invariants[%d]", i)
				}
				for code, doc := range m.Errors {
					assert.NotEmpty(t, strings.TrimSpace(doc.Meaning), "errors.%s.meaning", code)
					assert.NotEmpty(t, strings.TrimSpace(doc.Next), "errors.%s.next", code)
				}
			})

			t.Run("OKAllAnnotationsStated", func(t *testing.T) {
				// A Go bool cannot tell absent from false, so read the file.
				raw, err := fs.ReadFile(capabilities.FS, strings.TrimPrefix(v.File, "capabilities/"))
				require.NoError(t, err)
				var doc struct {
					Annotations map[string]any `yaml:"annotations"`
				}
				require.NoError(t, yaml.Unmarshal(raw, &doc))
				for _, key := range []string{"read_only", "destructive", "idempotent", "open_world"} {
					require.Contains(t, doc.Annotations, key)
					assert.IsType(t, true, doc.Annotations[key], "annotations.%s must be a boolean", key)
				}
			})

			t.Run("OKHappyAndRejectionExamples", func(t *testing.T) {
				var happy, rejection int
				for i, ex := range m.Examples {
					var out struct {
						OK *bool `json:"ok"`
					}
					require.NoError(t, json.Unmarshal(ex.Output, &out), "examples[%d].output", i)
					require.NotNil(t, out.OK, "examples[%d].output.ok", i)
					if *out.OK {
						happy++
					} else {
						rejection++
					}
				}
				assert.Positive(t, happy, "at least one example with ok: true")
				assert.Positive(t, rejection, "at least one example with ok: false")
			})

			t.Run("OKToolName", func(t *testing.T) {
				assert.Regexp(t, mcpToolName, m.Name)
			})

			t.Run("OKInputSchemaIsPlainObject", func(t *testing.T) {
				var in map[string]any
				require.NoError(t, json.Unmarshal(m.Input, &in))
				assert.Equal(t, "object", in["type"])
				for _, kw := range []string{"anyOf", "oneOf", "allOf", "not"} {
					assert.NotContains(t, in, kw, "many MCP clients cannot use a tool schema with a top-level %s", kw)
				}
			})

			t.Run("OKReadOnlyIffReadScope", func(t *testing.T) {
				assert.Equal(t, m.Annotations.ReadOnly, m.Scope == capability.ScopeProjectsRead,
					"read_only is %v but scope is %s", m.Annotations.ReadOnly, m.Scope)
			})
		})
	}
}
