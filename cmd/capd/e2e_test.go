package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// connector opens an MCP client for an API key over one transport.
type connector func(t *testing.T, key string) *client.Client

// TestAgentOverHTTP runs the agent scenario through mcp-go's client over
// streamable HTTP against the real server.
func TestAgentOverHTTP(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f)
	agentScenario(t, f, func(t *testing.T, key string) *client.Client { return connectHTTP(t, url, key) })
}

// TestAgentOverStdio runs the same scenario through mcp-go's client talking
// to a `capd stdio` process.
func TestAgentOverStdio(t *testing.T) {
	f := newFixture(t)
	agentScenario(t, f, func(t *testing.T, key string) *client.Client { return connectStdio(t, f.data, key) })
}

// agentScenario is one body run over every transport: what an agent does
// and every way it can go wrong.
func agentScenario(t *testing.T, f *fixture, connect connector) {
	a := connect(t, f.fullA)

	t.Run("ListTools", func(t *testing.T) {
		res, err := a.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
			assert.NotEmpty(t, tool.Title, tool.Name)
			assert.NotEmpty(t, tool.Description, tool.Name)
			require.NotNil(t, tool.Annotations.ReadOnlyHint, tool.Name)
			require.NotNil(t, tool.Annotations.DestructiveHint, tool.Name)
			require.NotNil(t, tool.Annotations.IdempotentHint, tool.Name)
			require.NotNil(t, tool.Annotations.OpenWorldHint, tool.Name)
			require.NotNil(t, tool.Meta, tool.Name)
			assert.Equal(t, latestVersion(t, tool.Name), tool.Meta.AdditionalFields["capd/version"], tool.Name)
			assert.Contains(t, []any{"projects.read", "projects.write"}, tool.Meta.AdditionalFields["capd/scope"], tool.Name)
		}
		assert.Equal(t, toolNames(t, ""), names, "every tool, in name order")
	})

	var taskID string
	t.Run("CreateProjectAndTaskAndMoveIt", func(t *testing.T) {
		res, out := call(t, a, "projects.create_project", map[string]any{"name": "E2E launch " + t.Name(), "description": "made by a test"})
		require.False(t, res.IsError, "%v", out)
		project := out["project"].(map[string]any)
		projectID := project["project_id"].(string)
		assert.True(t, strings.HasPrefix(projectID, "prj_"))

		res, out = call(t, a, "projects.create_task", map[string]any{"project_id": projectID, "title": "Write the launch post", "priority": "high", "due_date": "2026-12-01"})
		require.False(t, res.IsError, "%v", out)
		assert.Equal(t, true, out["ok"])
		assert.Equal(t, "todo", out["status"])
		taskID = out["task_id"].(string)

		for _, to := range []string{"doing", "review", "done"} {
			res, out = call(t, a, "projects.transition_task", map[string]any{"task_id": taskID, "to": to})
			require.False(t, res.IsError, "to %s: %v", to, out)
			assert.Equal(t, to, out["task"].(map[string]any)["status"])
		}
		res, out = call(t, a, "projects.transition_task", map[string]any{"task_id": taskID, "to": "review"})
		require.True(t, res.IsError)
		assert.Equal(t, "invalid_transition", out["error"])
		assert.Equal(t, []any{"todo"}, out["allowed_transitions"])

		res, out = call(t, a, "projects.get_task", map[string]any{"task_id": taskID})
		require.False(t, res.IsError, "%v", out)
		assert.Equal(t, "done", out["task"].(map[string]any)["status"])
		assert.Equal(t, []any{"todo"}, out["allowed_transitions"])

		res, out = call(t, a, "projects.list_tasks", map[string]any{"project_id": projectID})
		require.False(t, res.IsError, "%v", out)
		assert.Len(t, out["items"], 1)
	})

	t.Run("ErrUnknownProject", func(t *testing.T) {
		before := countTasks(t, a)
		res, out := call(t, a, "projects.create_task", map[string]any{"project_id": "prj_00000000000000000000000000000000", "title": "Orphan"})
		require.True(t, res.IsError)
		assert.Equal(t, false, out["ok"])
		assert.Equal(t, "unknown_project", out["error"])
		assert.Contains(t, out["message"], "projects.list_projects", "tells the agent what to call next")
		assert.Equal(t, before, countTasks(t, a), "nothing written")
	})

	t.Run("ErrInvalidInput", func(t *testing.T) {
		before := countTasks(t, a)
		for _, tc := range []struct {
			name  string
			patch map[string]any
			path  string
		}{
			{"EmptyTitle", map[string]any{"title": ""}, "/title"},
			{"OverlongTitle", map[string]any{"title": strings.Repeat("x", 201)}, "/title"},
			{"BadDate", map[string]any{"due_date": "2026-02-30"}, "/due_date"},
			{"NotADate", map[string]any{"due_date": "next friday"}, "/due_date"},
			{"BadPriority", map[string]any{"priority": "urgent"}, "/priority"},
			{"UnknownField", map[string]any{"colour": "red"}, "/colour"},
			{"MissingProject", map[string]any{"project_id": nil}, "/project_id"},
			{"UnknownAssignee", map[string]any{"assignee_id": "stf_00000000000000000000000000000000"}, "/assignee_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				args := map[string]any{"project_id": f.projectA, "title": "Valid title"}
				for k, v := range tc.patch {
					if v == nil {
						delete(args, k)
					} else {
						args[k] = v
					}
				}
				res, out := call(t, a, "projects.create_task", args)
				require.True(t, res.IsError, "%v", out)
				assert.Equal(t, "invalid_input", out["error"])
				assert.Equal(t, []string{tc.path}, issuePaths(out))
			})
		}
		t.Run("EveryFieldNamed", func(t *testing.T) {
			res, out := call(t, a, "projects.create_task", map[string]any{"project_id": f.projectA, "title": "", "priority": "urgent", "due_date": "soon", "colour": "red"})
			require.True(t, res.IsError)
			assert.ElementsMatch(t, []string{"/title", "/priority", "/due_date", "/colour"}, issuePaths(out))
		})
		assert.Equal(t, before, countTasks(t, a), "nothing written")
	})

	t.Run("ReadOnlyKey", func(t *testing.T) {
		ro := connect(t, f.readA)
		res, err := ro.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		assert.Equal(t, toolNames(t, capability.ScopeProjectsRead), names)

		before := countTasks(t, a)
		cres, out := call(t, ro, "projects.create_task", map[string]any{"project_id": f.projectA, "title": "Sneaky"})
		require.True(t, cres.IsError)
		assert.Equal(t, "forbidden", out["error"])
		assert.Contains(t, out["message"], "projects.write", "names the missing scope")
		assert.Equal(t, before, countTasks(t, a), "nothing written")
	})

	t.Run("CrossTenant", func(t *testing.T) {
		require.NotEmpty(t, taskID)
		b := connect(t, f.fullB)
		missing := "tsk_00000000000000000000000000000000"
		for _, tc := range []struct {
			tool string
			args func(id string) map[string]any
		}{
			{"projects.get_task", func(id string) map[string]any { return map[string]any{"task_id": id} }},
			{"projects.update_task", func(id string) map[string]any { return map[string]any{"task_id": id, "title": "Hijacked"} }},
			{"projects.transition_task", func(id string) map[string]any { return map[string]any{"task_id": id, "to": "todo"} }},
		} {
			t.Run(tc.tool, func(t *testing.T) {
				res, other := call(t, b, tc.tool, tc.args(taskID))
				require.True(t, res.IsError)
				_, absent := call(t, b, tc.tool, tc.args(missing))
				assert.Equal(t, "unknown_task", other["error"])
				assert.Equal(t, absent["error"], other["error"], "same answer as an id that does not exist")
				assert.Equal(t, absent["issues"], other["issues"])
				assert.Equal(t, strings.ReplaceAll(absent["message"].(string), missing, taskID), other["message"])
			})
		}
		_, out := call(t, a, "projects.get_task", map[string]any{"task_id": taskID})
		task := out["task"].(map[string]any)
		assert.Equal(t, "Write the launch post", task["title"], "tenant A's task unchanged")
		assert.Equal(t, "done", task["status"])
		_, list := call(t, b, "projects.list_tasks", map[string]any{"query": "Write the launch post"})
		assert.Empty(t, list["items"], "B's listing does not include A's task")
	})
}

// countTasks counts every task of the client's tenant through list_tasks.
func countTasks(t *testing.T, c *client.Client) int {
	t.Helper()
	n := 0
	args := map[string]any{"limit": 100}
	for {
		res, out := call(t, c, "projects.list_tasks", args)
		require.False(t, res.IsError, "%v", out)
		n += len(out["items"].([]any))
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return n
		}
		args["cursor"] = next
	}
}

// TestVersionPinning covers how an agent gets a version of
// projects.create_task: a key pinned to 0.1.0 sees and runs the published
// 0.1.0 contract (value for value the reference), with a deprecation
// notice; an unpinned key gets 0.2.0; one call can ask for 0.1.0 in _meta.
func TestVersionPinning(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f)
	pinned := pinnedKey(t, f, map[string]string{"projects.create_task": "0.1.0"})

	createTask := func(t *testing.T, tools []mcp.Tool) map[string]any {
		t.Helper()
		for _, tool := range tools {
			if tool.Name == "projects.create_task" {
				raw, err := json.Marshal(tool)
				require.NoError(t, err)
				var m map[string]any
				require.NoError(t, json.Unmarshal(raw, &m))
				return m
			}
		}
		t.Fatal("no projects.create_task in tools/list")
		return nil
	}
	args := map[string]any{"project_id": f.projectA, "title": "Pinning check"}

	t.Run("PinnedKeyGets010", func(t *testing.T) {
		c := connectHTTP(t, url, pinned)
		res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		tool := createTask(t, res.Tools)
		want := readContract(t, "projects.create_task@0.1.0")
		assert.Equal(t, want["input_schema"], tool["inputSchema"], "the reference input schema, value for value")
		assert.Equal(t, want["output_schema"], tool["outputSchema"])
		assert.Equal(t, "0.1.0", tool["_meta"].(map[string]any)["capd/version"])

		out, err := c.CallTool(context.Background(), callRequest("projects.create_task", args, nil))
		require.NoError(t, err)
		require.False(t, out.IsError)
		body := payload(t, out)
		assert.NotContains(t, body, "task", "0.1.0 answers {ok, task_id, status}")
		require.NotNil(t, out.Meta, "a deprecated version's result carries a notice")
		assert.Contains(t, out.Meta.AdditionalFields["capd/deprecation"], "projects.create_task@0.2.0")
	})
	t.Run("BareKeyGets020", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		tool := createTask(t, res.Tools)
		assert.Equal(t, "0.2.0", tool["_meta"].(map[string]any)["capd/version"])
		assert.Contains(t, tool["inputSchema"].(map[string]any)["properties"], "budget_usd")

		_, body := call(t, c, "projects.create_task", args)
		assert.Contains(t, body, "task", "0.2.0 returns the full task")
	})
	t.Run("OneCallAsksFor010", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		out, err := c.CallTool(context.Background(), callRequest("projects.create_task", args, map[string]any{"capd/version": "0.1.0"}))
		require.NoError(t, err)
		require.False(t, out.IsError)
		assert.NotContains(t, payload(t, out), "task")
	})
	t.Run("ErrRangeRefused", func(t *testing.T) {
		c := connectHTTP(t, url, f.fullA)
		out, err := c.CallTool(context.Background(), callRequest("projects.create_task", args, map[string]any{"capd/version": "^0.1"}))
		require.NoError(t, err)
		require.True(t, out.IsError)
		assert.Equal(t, "invalid_input", payload(t, out)["error"])
	})
}

func callRequest(name string, args, meta map[string]any) mcp.CallToolRequest {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if meta != nil {
		req.Params.Meta = &mcp.Meta{AdditionalFields: meta}
	}
	return req
}

// pinnedKey creates a full-access key on tenant A with pins.
func pinnedKey(t *testing.T, f *fixture, pins map[string]string) string {
	t.Helper()
	out, err := runCLI(t, append([]string{"keys", "create", "--tenant", f.tenantA, "--data", f.data}, pinFlags(pins)...)...)
	require.NoError(t, err, out)
	return out
}

func pinFlags(pins map[string]string) []string {
	var flags []string
	for name, version := range pins {
		flags = append(flags, "--pin", name+"@"+version)
	}
	return flags
}

func readContract(t *testing.T, ref string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "registry", "testdata", "contracts", ref+".json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestStdioCredentials covers how `capd stdio` gets its caller: --tenant for
// local full access, and a clear refusal for a bad or missing key.
func TestStdioCredentials(t *testing.T) {
	f := newFixture(t)
	t.Run("LocalTenant", func(t *testing.T) {
		c, err := client.NewStdioMCPClient(capdBinary, environWithout("CAPD_API_KEY"), "stdio", "--data", f.data, "--tenant", f.tenantB)
		require.NoError(t, err)
		initialize(t, c)
		res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		assert.Len(t, res.Tools, len(toolNames(t, "")))
		_, out := call(t, c, "projects.list_projects", map[string]any{})
		assert.NotEmpty(t, out["items"])
	})
	for name, env := range map[string][]string{
		"ErrBadKey":     {"CAPD_API_KEY=capd_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		"ErrNoKey":      {"CAPD_API_KEY="},
		"ErrKeyAndFlag": {"CAPD_API_KEY=" + f.fullA},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"stdio", "--data", f.data}
			if name == "ErrKeyAndFlag" {
				args = append(args, "--tenant", f.tenantA)
			}
			cmd := exec.Command(capdBinary, args...)
			cmd.Env = append(environWithout("CAPD_API_KEY"), env...)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, string(out))
			assert.Contains(t, string(out), "capd:", "a message, not a hang")
		})
	}
}

// environWithout is this process's environment minus the named variables,
// so a developer's own settings cannot change what a test exercises.
func environWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			env = append(env, kv)
		}
	}
	return env
}
