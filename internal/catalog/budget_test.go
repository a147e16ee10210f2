package catalog

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/internal/tooldef"
	"github.com/capd-dev/capd/schemas"
)

// TestContextBudget checks the budget against the tools/list answer built
// by hand: every version rendered for MCP, inside {"tools": [...]}.
func TestContextBudget(t *testing.T) {
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	require.NoError(t, err)
	require.NotEmpty(t, builtIn)

	var latest []*registry.Version
	for _, name := range reg.Names() {
		if v := reg.Latest(name); v != nil {
			latest = append(latest, v)
		}
	}
	lists := map[string][]*registry.Version{
		"Empty":        nil,
		"OneTool":      latest[:1],
		"WholeCatalog": latest,
	}
	for _, set := range builtIn {
		lists["Set/"+set.Name] = sets.Tools(sets.Resolve(reg, set, nil))
	}

	for name, vs := range lists {
		t.Run(name, func(t *testing.T) {
			tools := make([]any, 0, len(vs))
			for _, v := range vs {
				tool, err := tooldef.Render(v, tooldef.FormatMCP)
				require.NoError(t, err)
				tools = append(tools, tool)
			}
			answer, err := json.Marshal(map[string]any{"tools": tools})
			require.NoError(t, err)

			got := contextBudget(vs)
			assert.Equal(t, len(vs), got.Tools)
			assert.Equal(t, len(answer), got.Bytes)
			// ceil(bytes / 4), in integers.
			assert.Equal(t, (len(answer)+3)/4, got.Tokens)
			assert.GreaterOrEqual(t, got.Tokens*4, got.Bytes)
			assert.Less(t, (got.Tokens-1)*4, got.Bytes)
		})
	}

	t.Run("WholeCatalogIsEveryLatestVersion", func(t *testing.T) {
		assert.Equal(t, contextBudget(latest), catalogBudget(reg))
		assert.Equal(t, len(reg.Names()), catalogBudget(reg).Tools)
	})
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 30864: "30,864", 123456: "123,456", 1234567: "1,234,567", -1234: "-1,234",
	} {
		assert.Equal(t, want, formatCount(n), "%d", n)
	}
}
