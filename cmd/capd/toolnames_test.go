package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/mcpserver"
)

// TestToolNamesUnderscore serves capd with --tool-names underscore to real
// MCP clients over HTTP, a set endpoint and stdio: every tool is named
// domain_operation, calls under those names reach the right capability,
// and capd's own prose names tools the client can call.
func TestToolNamesUnderscore(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f, func(o *serveOptions) { o.toolNames = mcpserver.UnderscoreNames })
	underscored := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = strings.Replace(n, ".", "_", 1) // spelled here, not by the code under test
		}
		return out
	}
	listed := func(t *testing.T, c *client.Client) []mcp.Tool {
		t.Helper()
		res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		return res.Tools
	}
	names := func(tools []mcp.Tool) []string {
		var out []string
		for _, tool := range tools {
			out = append(out, tool.Name)
		}
		return out
	}

	t.Run("ListNamesEveryToolWithoutADot", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		tools := listed(t, c)
		assert.Equal(t, underscored(toolNames(t, "")), names(tools), "every tool, underscored, in the same order")
		dotted := dottedMention(t)
		var rewritten int
		for _, tool := range tools {
			assert.NotContains(t, tool.Name, ".")
			assert.Empty(t, dotted.FindAllString(tool.Description, -1), "%s's description still names capabilities with a dot", tool.Name)
			if strings.Contains(tool.Description, "projects_list_projects") {
				rewritten++
			}
		}
		assert.NotZero(t, rewritten, "descriptions that point at another tool name it as a tool")
		assert.Contains(t, toolByName(t, tools, "projects_create_task").Description, "`task.task_id`", "a field path is not a capability and keeps its dot")
	})
	t.Run("ScopesStillFilterTheList", func(t *testing.T) {
		c := connectHTTP(t, url, f.readA)
		assert.Equal(t, underscored(toolNames(t, capability.ScopeProjectsRead)), names(listed(t, c)))
	})

	var taskID string
	t.Run("CallsReachTheCapability", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		res, out := call(t, c, "projects_create_task", map[string]any{"project_id": f.projectA, "title": "Underscored"})
		require.False(t, res.IsError, "%v", out)
		taskID = out["task_id"].(string)
		res, out = call(t, c, "projects_get_task", map[string]any{"task_id": taskID})
		require.False(t, res.IsError, "%v", out)
		assert.Equal(t, "Underscored", out["task"].(map[string]any)["title"])
	})
	t.Run("ErrDottedNameIsNotATool", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		_, err := c.CallTool(context.Background(), callRequest("projects.get_task", map[string]any{"task_id": taskID}, nil))
		require.Error(t, err, "one spelling per server, so a client never sees two names for one tool")
	})
	t.Run("ErrRejectionNamesTools", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		res, out := call(t, c, "projects_create_task", map[string]any{"project_id": "prj_00000000000000000000000000", "title": "Nowhere"})
		require.True(t, res.IsError)
		assert.Equal(t, "unknown_project", out["error"])
		msg := out["message"].(string)
		assert.Contains(t, msg, "projects_list_projects", "the next step is a tool this client can call")
		assert.Empty(t, dottedMention(t).FindAllString(msg, -1))
		text := res.Content[0].(mcp.TextContent).Text
		assert.Contains(t, text, "projects_list_projects")
	})
	t.Run("PinnedVersionKeepsItsName", func(t *testing.T) {
		c := connectHTTP(t, url, pinnedKey(t, f, map[string]string{"projects.create_task": "0.1.0"}))
		tool := toolByName(t, listed(t, c), "projects_create_task")
		assert.Equal(t, "0.1.0", tool.Meta.AdditionalFields["capd/version"])
		res, out := call(t, c, "projects_create_task", map[string]any{"project_id": f.projectA, "title": "Pinned"})
		require.False(t, res.IsError, "%v", out)
		assert.NotContains(t, out, "task", "0.1.0 answers {ok, task_id, status}")
		require.NotNil(t, res.Meta)
		notice := res.Meta.AdditionalFields["capd/deprecation"].(string)
		assert.Contains(t, notice, "projects_create_task@0.2.0", "the notice names the tool and the version to move to")
	})
	t.Run("SetEndpoint", func(t *testing.T) {
		c := connectHTTP(t, url+"/sets/projects-readonly", f.fullA)
		tools := names(listed(t, c))
		assert.Contains(t, tools, "projects_get_task_run")
		assert.NotContains(t, tools, "projects_create_task")
		res, out := call(t, c, "projects_get_task", map[string]any{"task_id": taskID})
		require.False(t, res.IsError, "%v", out)
	})
	t.Run("Stdio", func(t *testing.T) {
		c, err := client.NewStdioMCPClient(capdBinary, environWithout("CAPD_API_KEY"), "stdio", "--data", f.data, "--tenant", f.tenantA, "--tool-names", "underscore")
		require.NoError(t, err)
		initialize(t, c)
		assert.Equal(t, underscored(toolNames(t, "")), names(listed(t, c)))
		res, out := call(t, c, "projects_get_task", map[string]any{"task_id": taskID})
		require.False(t, res.IsError, "%v", out)
	})
	t.Run("ErrOtherTenantsTask", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullB)
		res, out := call(t, c, "projects_get_task", map[string]any{"task_id": taskID})
		require.True(t, res.IsError, "tenant B must not see tenant A's task: %v", out)
		assert.Equal(t, "unknown_task", out["error"])
	})
	t.Run("DottedIsTheDefault", func(t *testing.T) {
		c := connectHTTP(t, startServer(t, f), f.fullA)
		assert.Equal(t, toolNames(t, ""), names(listed(t, c)))
	})
	t.Run("URLChoosesPerClient", func(t *testing.T) {
		dottedServer := startServer(t, f)
		c := connectHTTP(t, dottedServer+"?tool_names=underscore", f.fullA)
		assert.Equal(t, underscored(toolNames(t, "")), names(listed(t, c)))
		res, out := call(t, c, "projects_get_task", map[string]any{"task_id": taskID})
		require.False(t, res.IsError, "%v", out)
		set := connectHTTP(t, dottedServer+"/sets/projects-readonly?tool_names=underscore", f.fullA)
		assert.Contains(t, names(listed(t, set)), "projects_get_task")
		back := connectHTTP(t, url+"?tool_names=dotted", f.fullA)
		assert.Equal(t, toolNames(t, ""), names(listed(t, back)), "the URL overrides --tool-names either way")
		other := connectHTTP(t, dottedServer+"?tool_names=underscore", f.fullB)
		res, out = call(t, other, "projects_get_task", map[string]any{"task_id": taskID})
		require.True(t, res.IsError, "tenant B must not see tenant A's task: %v", out)
	})
	t.Run("ErrBadURLParameter", func(t *testing.T) {
		for _, q := range []string{"?tool_names=dots", "?tool_names=", "?tool_names=dotted&tool_names=underscore"} {
			code, out := api(t, "POST", url+q, f.fullA, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
			assert.Equal(t, http.StatusBadRequest, code, q)
			assert.Contains(t, out["detail"], "tool_names", q)
		}
	})
	t.Run("ErrBadValue", func(t *testing.T) {
		for _, cmd := range []string{"serve", "stdio"} {
			out, err := runCLI(t, cmd, "--data", f.data, "--tool-names", "dots")
			require.Error(t, err, cmd)
			assert.Equal(t, 2, exitCode(err), "a usage error: %s", out)
			assert.Contains(t, err.Error(), "--tool-names")
			assert.Contains(t, err.Error(), "use dotted (projects.create_task) or underscore (projects_create_task)")
		}
	})
}

func toolByName(t *testing.T, tools []mcp.Tool, name string) mcp.Tool {
	t.Helper()
	for _, tool := range tools {
		if tool.Name == name {
			return tool
		}
	}
	t.Fatalf("no %s in tools/list", name)
	return mcp.Tool{}
}

// dottedMention matches any capability name written with its dot.
func dottedMention(t *testing.T) *regexp.Regexp {
	t.Helper()
	names := toolNames(t, "")
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
}
