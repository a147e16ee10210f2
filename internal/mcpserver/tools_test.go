package mcpserver_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
)

// toolsOf lists c's tools, checking that the answer comes in one page.
func toolsOf(t *testing.T, c *client.Client) []mcp.Tool {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	require.Empty(t, res.NextCursor, "every tool in one page")
	return res.Tools
}

func toolNames(tools []mcp.Tool) []string {
	names := make([]string, len(tools))
	for i, tool := range tools {
		names[i] = tool.Name
	}
	return names
}

// checkToolDefinitions checks what a client relies on in every tool: a
// title, in the tool and in its annotations, and all four behaviour hints
// stated, each as the manifest of the version in _meta says.
func checkToolDefinitions(t *testing.T, reg *registry.Registry, names mcpserver.ToolNames, tools []mcp.Tool) {
	t.Helper()
	for _, tool := range tools {
		require.NotNil(t, tool.Meta, tool.Name)
		version, _ := tool.Meta.AdditionalFields[mcpserver.MetaVersion].(string)
		v, err := reg.Resolve(capability.Ref{Name: names.Capability(tool.Name), Version: version})
		require.NoError(t, err, "%s@%s", tool.Name, version)
		m := v.Manifest
		assert.NotEmpty(t, tool.Title, tool.Name)
		assert.Equal(t, m.Title, tool.Title, tool.Name)
		assert.Equal(t, m.Title, tool.Annotations.Title, tool.Name)
		for hint, got := range map[string]*bool{
			"readOnlyHint":    tool.Annotations.ReadOnlyHint,
			"destructiveHint": tool.Annotations.DestructiveHint,
			"idempotentHint":  tool.Annotations.IdempotentHint,
			"openWorldHint":   tool.Annotations.OpenWorldHint,
		} {
			require.NotNil(t, got, "%s: %s unset", tool.Name, hint)
		}
		assert.Equal(t, m.Annotations.ReadOnly, *tool.Annotations.ReadOnlyHint, tool.Name)
		assert.Equal(t, m.Annotations.Destructive, *tool.Annotations.DestructiveHint, tool.Name)
		assert.Equal(t, m.Annotations.Idempotent, *tool.Annotations.IdempotentHint, tool.Name)
		assert.Equal(t, m.Annotations.OpenWorld, *tool.Annotations.OpenWorldHint, tool.Name)
	}
}

// TestToolsList pins what tools/list answers on every kind of capd MCP
// server, with either spelling of tool names: the same tools in the same
// order (by tool name, whatever order the server was given them in) to
// every session, and each tool fully described.
func TestToolsList(t *testing.T) {
	for _, names := range []mcpserver.ToolNames{mcpserver.DottedNames, mcpserver.UnderscoreNames} {
		t.Run(names.String(), func(t *testing.T) { testToolsList(t, names) })
	}
}

func testToolsList(t *testing.T, names mcpserver.ToolNames) {
	inv := loadInvoker(t)
	reg := inv.Registry
	keys := map[string]capability.Principal{
		"all-a":    {Tenant: "tenant-a", KeyPrefix: "capd_a", Scopes: capability.AllScopes},
		"all-b":    {Tenant: "tenant-b", KeyPrefix: "capd_b", Scopes: capability.AllScopes},
		"read-a":   {Tenant: "tenant-a", KeyPrefix: "capd_r", Scopes: []capability.Scope{capability.ScopeProjectsRead}},
		"pinned-a": {Tenant: "tenant-a", KeyPrefix: "capd_p", Scopes: capability.AllScopes, Pins: map[string]string{"projects.create_task": "0.1.0"}},
	}

	// sameForEverySession lists the tools over two sessions of two tenants
	// and checks both answers are identical and in name order.
	sameForEverySession := func(t *testing.T, url, keyA, keyB string) []mcp.Tool {
		t.Helper()
		first := toolsOf(t, connectSession(t, url, keyA))
		second := toolsOf(t, connectSession(t, url, keyB))
		require.NotEmpty(t, first)
		assert.True(t, slices.IsSorted(toolNames(first)), "tools in name order: %v", toolNames(first))
		assert.Equal(t, first, second, "two sessions, two tenants: the same answer")
		return first
	}

	t.Run("Catalog", func(t *testing.T) {
		url := serveWithKeys(t, mcpserver.New(inv, "test", names).HTTPHandler(), keys)
		var want, wantRead []string
		for _, name := range reg.Names() {
			if v := reg.Latest(name); v != nil {
				want = append(want, names.Tool(name))
				if v.Manifest.Scope == capability.ScopeProjectsRead {
					wantRead = append(wantRead, names.Tool(name))
				}
			}
		}
		slices.Sort(want)
		slices.Sort(wantRead)
		tools := sameForEverySession(t, url, "all-a", "all-b")
		assert.Equal(t, want, toolNames(tools))
		checkToolDefinitions(t, reg, names, tools)

		read := toolsOf(t, connectSession(t, url, "read-a"))
		assert.Equal(t, wantRead, toolNames(read), "a read-only key sees the read tools, in the same order")
		checkToolDefinitions(t, reg, names, read)

		pinned := toolsOf(t, connectSession(t, url, "pinned-a"))
		assert.Equal(t, want, toolNames(pinned), "a pinned version keeps its tool's place")
		checkToolDefinitions(t, reg, names, pinned)
		i := slices.Index(toolNames(pinned), names.Tool("projects.create_task"))
		require.GreaterOrEqual(t, i, 0)
		assert.Equal(t, "0.1.0", pinned[i].Meta.AdditionalFields[mcpserver.MetaVersion])
	})

	builtIn, err := sets.LoadBuiltIn(capabilities.FS, reg)
	require.NoError(t, err)
	require.NotEmpty(t, builtIn)
	for _, set := range builtIn {
		t.Run("Set="+set.Name, func(t *testing.T) {
			members := sets.Tools(sets.Resolve(reg, set, nil))
			var want []string
			for _, v := range members {
				want = append(want, names.Tool(v.Manifest.Name))
			}
			slices.Sort(want)
			// Given in reverse order: the answer must not depend on it.
			reversed := slices.Clone(members)
			slices.Reverse(reversed)
			srv := mcpserver.NewForSet(inv, "test", set.Name, names, reversed)
			url := serveWithKeys(t, srv.HTTPHandler(), keys)

			tools := sameForEverySession(t, url, "all-a", "all-b")
			assert.Equal(t, want, toolNames(tools))
			checkToolDefinitions(t, reg, names, tools)

			// A set that changes keeps the order too.
			if len(members) > 1 {
				fewer := slices.Clone(reversed[1:])
				srv.SetTools(fewer)
				after := sameForEverySession(t, url, "all-b", "all-a")
				assert.Len(t, after, len(fewer))
				checkToolDefinitions(t, reg, names, after)
			}
		})
	}
}
