package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// api sends one JSON request to the HTTP API with a key.
func api(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	}
	return res.StatusCode, out
}

func toolVersions(t *testing.T, c *client.Client) map[string]string {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	out := map[string]string{}
	for _, tool := range res.Tools {
		out[tool.Name] = tool.Meta.AdditionalFields["capd/version"].(string)
	}
	return out
}

// TestCapabilitySets is the new user's path: create a set with a bare, a
// pinned and a misspelled member over HTTP; read it back with the
// misspelled one surfaced; connect an MCP client to the set and see exactly
// the two resolvable tools at the right versions; change the set and the
// connected session hears tools/list_changed.
func TestCapabilitySets(t *testing.T) {
	f := newFixture(t)
	mcpURL := startServer(t, f)
	base := strings.TrimSuffix(mcpURL, "/mcp")
	sets := base + "/api/v1/org/" + f.tenantA + "/capability-sets"

	code, out := api(t, "POST", sets, f.fullA, `{"name":"triage","description":"read and file tasks","members":["projects.list_tasks","projects.create_task@0.1.0","projects.lsit_projects"],"tags":["ops"]}`)
	require.Equal(t, http.StatusCreated, code, "%v", out)
	assert.Equal(t, 1.0, out["unresolvable_count"])

	code, out = api(t, "GET", sets+"/triage", f.fullA, "")
	require.Equal(t, http.StatusOK, code)
	members := out["members"].([]any)
	require.Len(t, members, 3)
	assert.Equal(t, latestVersion(t, "projects.list_tasks"), members[0].(map[string]any)["resolved_version"])
	assert.Equal(t, "0.1.0", members[1].(map[string]any)["resolved_version"])
	assert.Equal(t, "not_found", members[2].(map[string]any)["unresolvable_reason"], "never hidden")

	t.Run("Err422PinnedRange", func(t *testing.T) {
		code, out := api(t, "POST", sets, f.fullA, `{"name":"bad","members":["projects.get_task@latest","projects.get_task@^0.1"]}`)
		require.Equal(t, http.StatusUnprocessableEntity, code)
		assert.Equal(t, "validation_error", out["type"])
		assert.Len(t, out["errors"], 2, "one entry per bad member")
	})
	t.Run("Err409Duplicate", func(t *testing.T) {
		code, out := api(t, "POST", sets, f.fullA, `{"name":"triage","members":[]}`)
		require.Equal(t, http.StatusConflict, code)
		assert.Equal(t, "already_exists", out["type"])
	})
	t.Run("Err404OtherOrg", func(t *testing.T) {
		code, _ := api(t, "GET", base+"/api/v1/org/"+f.tenantB+"/capability-sets/triage", f.fullA, "")
		assert.Equal(t, http.StatusNotFound, code)
		code, _ = api(t, "GET", base+"/api/v1/org/"+f.tenantB+"/capability-sets/triage", f.fullB, "")
		assert.Equal(t, http.StatusNotFound, code, "a private set of tenant A is invisible to tenant B")
	})
	t.Run("BuiltInReadOnly", func(t *testing.T) {
		code, out := api(t, "GET", sets+"/projects-readonly", f.fullA, "")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, true, out["built_in"])
		code, _ = api(t, "DELETE", sets+"/projects-readonly", f.fullA, "")
		assert.Equal(t, http.StatusForbidden, code)
	})

	// MCP: exactly the two resolvable tools, at their resolved versions.
	var changed, changedUnderscore atomic.Int32
	c := connectListening(t, base+"/mcp/sets/triage", f.fullA, &changed)
	// A client that asked for underscore names has a server of its own,
	// which must hear of the change as well.
	connectListening(t, base+"/mcp/sets/triage?tool_names=underscore", f.fullA, &changedUnderscore)
	assert.Equal(t, map[string]string{"projects.create_task": "0.1.0", "projects.list_tasks": latestVersion(t, "projects.list_tasks")}, toolVersions(t, c))
	_, res := call(t, c, "projects.create_task", map[string]any{"project_id": f.projectA, "title": "Via a set"})
	assert.NotContains(t, res, "task", "the set pins 0.1.0, so 0.1.0 answers")

	code, out = api(t, "PATCH", sets+"/triage", f.fullA, `{"members":["projects.list_tasks","projects.get_task"]}`)
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Eventually(t, func() bool { return changed.Load() > 0 }, 10*time.Second, 50*time.Millisecond, "notifications/tools/list_changed")
	require.Eventually(t, func() bool { return changedUnderscore.Load() > 0 }, 10*time.Second, 50*time.Millisecond, "notifications/tools/list_changed with underscore names")
	assert.Equal(t, map[string]string{"projects.get_task": latestVersion(t, "projects.get_task"), "projects.list_tasks": latestVersion(t, "projects.list_tasks")}, toolVersions(t, c))

	t.Run("ReadOnlyKeyNarrowed", func(t *testing.T) {
		code, out := api(t, "PATCH", sets+"/triage", f.fullA, `{"members":["projects.list_tasks","projects.create_task"]}`)
		require.Equal(t, http.StatusOK, code, "%v", out)
		ro, err := client.NewStreamableHttpClient(base+"/mcp/sets/triage", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + f.readA}))
		require.NoError(t, err)
		require.NoError(t, ro.Start(context.Background()))
		initialize(t, ro)
		assert.Equal(t, []string{"projects.list_tasks"}, keys(toolVersions(t, ro)), "key scopes still apply")
		code, out = api(t, "GET", sets+"/triage", f.readA, "")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "not_permitted", out["members"].([]any)[1].(map[string]any)["unresolvable_reason"])
	})
	t.Run("Delete", func(t *testing.T) {
		code, _ := api(t, "DELETE", sets+"/triage", f.fullA, "")
		require.Equal(t, http.StatusNoContent, code)
		code, _ = api(t, "GET", sets+"/triage", f.fullA, "")
		assert.Equal(t, http.StatusNotFound, code)
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestStdioSet serves one built-in set over stdio: exactly its members.
func TestStdioSet(t *testing.T) {
	f := newFixture(t)
	c, err := client.NewStdioMCPClient(capdBinary, environWithout("CAPD_API_KEY"), "stdio", "--data", f.data, "--tenant", f.tenantA, "--set", "projects-readonly")
	require.NoError(t, err)
	initialize(t, c)
	got := toolVersions(t, c)
	assert.Len(t, got, 10)
	assert.Contains(t, got, "projects.get_task_run")
	assert.NotContains(t, got, "projects.create_task")
	_, out := call(t, c, "projects.list_projects", map[string]any{})
	assert.NotEmpty(t, out["items"])
}
