package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inspectorCLI is the MCP Inspector's launcher; `--cli` selects its CLI.
const inspectorCLI = "@modelcontextprotocol/inspector/clients/launcher/build/index.js"

// TestMCPInspector runs the MCP Inspector's CLI, as the README shows it,
// against a `capd stdio` process it starts itself and against a real
// `capd serve` with the bearer key in its --header option: tools/list, and
// a tools/call that writes, checked from outside through tenant A and,
// for the cross-tenant check, tenant B.
func TestMCPInspector(t *testing.T) {
	node, inspector := mcpTool(t, inspectorCLI)
	env := mcpToolsEnv(t, node)
	f := newFixture(t)
	url := startServer(t, f)
	a, b := connectHTTP(t, url, f.fullA), connectHTTP(t, url, f.fullB)

	// inspect runs the Inspector CLI on target and decodes what it prints.
	inspect := func(t *testing.T, target []string, args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, append(append([]string{inspector, "--cli"}, target...), args...)...)
		cmd.Env = env
		cmd.WaitDelay = 5 * time.Second
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("the Inspector timed out: %s\n%s", stdout.Bytes(), stderr.Bytes())
		}
		require.NoError(t, err, "inspector --cli %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), stdout.Bytes(), stderr.Bytes())
		var out map[string]any
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "the Inspector printed no JSON object:\n%s\n%s", stdout.Bytes(), stderr.Bytes())
		return out
	}

	for _, tr := range []struct {
		name   string
		target []string
	}{
		{"Stdio", []string{"-e", "CAPD_API_KEY=" + f.fullA, capdBinary, "stdio", "--data", f.data}},
		{"HTTP", []string{url, "--transport", "http", "--header", "Authorization: Bearer " + f.fullA}},
	} {
		t.Run(tr.name, func(t *testing.T) {
			t.Run("ToolsList", func(t *testing.T) {
				out := inspect(t, tr.target, "--method", "tools/list")
				tools, _ := out["tools"].([]any)
				var names []string
				for _, raw := range tools {
					tool := raw.(map[string]any)
					name, _ := tool["name"].(string)
					names = append(names, name)
					assert.NotEmpty(t, tool["title"], name)
					ann, _ := tool["annotations"].(map[string]any)
					for _, hint := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
						assert.IsType(t, true, ann[hint], "%s: %s", name, hint)
					}
				}
				assert.Equal(t, toolNames(t, ""), names, "every tool, in name order")
			})

			t.Run("ToolsCall", func(t *testing.T) {
				title := "Inspector check over " + tr.name
				out := inspect(t, tr.target, "--method", "tools/call", "--tool-name", "projects.create_task",
					"--tool-arg", "project_id="+f.projectA, "title="+title, "priority=high")
				assert.NotEqual(t, true, out["isError"], "%v", out)
				sc, _ := out["structuredContent"].(map[string]any)
				require.Equal(t, true, sc["ok"], "%v", out)
				taskID, _ := sc["task_id"].(string)
				require.True(t, strings.HasPrefix(taskID, "tsk_"), "%v", out)

				res, got := call(t, a, "projects.get_task", map[string]any{"task_id": taskID})
				require.False(t, res.IsError, "%v", got)
				task := got["task"].(map[string]any)
				assert.Equal(t, title, task["title"])
				assert.Equal(t, "high", task["priority"])

				res, other := call(t, b, "projects.get_task", map[string]any{"task_id": taskID})
				require.True(t, res.IsError, "tenant B must not see tenant A's task: %v", other)
				assert.Equal(t, "unknown_task", other["error"])
			})
		})
	}
}
