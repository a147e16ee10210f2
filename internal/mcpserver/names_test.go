package mcpserver_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/schemas"
)

func TestToolNames(t *testing.T) {
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	known := func(s string) bool { return len(reg.VersionsOf(s)) > 0 }

	t.Run("UnderscoreMapsBackToEveryCapability", func(t *testing.T) {
		seen := map[string]string{}
		for _, name := range reg.Names() {
			tool := mcpserver.UnderscoreNames.Tool(name)
			assert.NotContains(t, tool, ".")
			assert.Equal(t, name, mcpserver.UnderscoreNames.Capability(tool))
			if other, dup := seen[tool]; dup {
				t.Errorf("%s and %s are both served as %s", other, name, tool)
			}
			seen[tool] = name
		}
	})
	t.Run("DottedIsTheIdentity", func(t *testing.T) {
		for _, name := range reg.Names() {
			assert.Equal(t, name, mcpserver.DottedNames.Tool(name))
			assert.Equal(t, name, mcpserver.DottedNames.Capability(name))
		}
	})
	t.Run("TextRewritesOnlyCapabilities", func(t *testing.T) {
		in := "Call projects.list_projects first (e.g. before projects.create_task@0.2.0); needs projects.read; see task.task_id and notes.txt."
		want := "Call projects_list_projects first (e.g. before projects_create_task@0.2.0); needs projects.read; see task.task_id and notes.txt."
		assert.Equal(t, want, mcpserver.UnderscoreNames.Text(in, known))
		assert.Equal(t, in, mcpserver.DottedNames.Text(in, known))
	})
	t.Run("Parse", func(t *testing.T) {
		for in, want := range map[string]mcpserver.ToolNames{"": mcpserver.DottedNames, "dotted": mcpserver.DottedNames, "underscore": mcpserver.UnderscoreNames} {
			got, err := mcpserver.ParseToolNames(in)
			require.NoError(t, err, in)
			assert.Equal(t, want, got, in)
		}
		_, err := mcpserver.ParseToolNames("Underscore")
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "dotted") && strings.Contains(err.Error(), "underscore"), err.Error())
	})
}
