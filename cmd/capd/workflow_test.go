package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustOK calls a tool that must succeed and returns its payload.
func mustOK(t *testing.T, c *client.Client, name string, args map[string]any) map[string]any {
	t.Helper()
	res, out := call(t, c, name, args)
	require.False(t, res.IsError, "%s: %v", name, out)
	return out
}

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	return v
}

// TestTaskWorkflowOverMCP is what an agent does with a piece of work, using
// only MCP tools over streamable HTTP: create a task, break it into
// actions, run it with logs and an artifact, finish it; and cancel another
// task with work in flight.
func TestTaskWorkflowOverMCP(t *testing.T) {
	f := newFixture(t)
	c := connectHTTP(t, startServer(t, f), f.fullA)

	types := mustOK(t, c, "projects.list_task_types", map[string]any{"category": "engineering"})
	tt := types["items"].([]any)[0].(map[string]any)
	created := mustOK(t, c, "projects.create_task", map[string]any{
		"project_id": f.projectA, "title": "Ship the billing export", "budget_usd": 120,
		"category": tt["category"], "task_type": tt["task_type"], "labels": []any{"billing", "export"},
		"requirements": map[string]any{"format": "csv"},
	})
	task := field(created, "task", "task_id").(string)
	assert.Equal(t, 120.0, field(created, "task", "budget_usd"))

	action := field(mustOK(t, c, "projects.add_task_action", map[string]any{"task_id": task, "title": "Write the exporter"}), "action", "action_id").(string)
	mustOK(t, c, "projects.add_task_action", map[string]any{"task_id": task, "title": "Review the output"})
	done := mustOK(t, c, "projects.update_task_action", map[string]any{"action_id": action, "state": "done"})
	assert.Equal(t, "done", field(done, "action", "state"))
	mustOK(t, c, "projects.transition_task", map[string]any{"task_id": task, "to": "doing"})

	run := field(mustOK(t, c, "projects.start_task_run", map[string]any{"task_id": task, "branch": "feat/export"}), "run", "run_id").(string)
	logged := mustOK(t, c, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": []any{
		map[string]any{"level": "info", "message": "exporting 1,204 invoices"},
		map[string]any{"level": "warn", "message": "3 invoices without tax code"},
	}})
	assert.Equal(t, 1.0, logged["first_seq"])
	assert.Equal(t, 2.0, logged["last_seq"])

	content := []byte("invoice,amount\nINV-1,100\n")
	art := mustOK(t, c, "projects.attach_task_run_artifact", map[string]any{
		"run_id": run, "name": "export.csv", "content_type": "text/csv",
		"content": base64.StdEncoding.EncodeToString(content), "encoding": "base64",
	})
	sum := sha256.Sum256(content)
	assert.Equal(t, hex.EncodeToString(sum[:]), field(art, "artifact", "sha256"))
	artifact := field(art, "artifact", "artifact_id").(string)

	got := mustOK(t, c, "projects.get_task_run", map[string]any{"run_id": run, "after_seq": 1})
	require.Len(t, got["log"], 1, "the tail after seq 1")
	assert.Len(t, got["artifacts"], 1)
	back := mustOK(t, c, "projects.get_task_run_artifact", map[string]any{"artifact_id": artifact})
	assert.Equal(t, string(content), field(back, "artifact", "content"), "text content comes back as text")

	mustOK(t, c, "projects.update_task_run", map[string]any{"run_id": run, "status": "succeeded", "output": map[string]any{"rows": 1204}})
	res, out := call(t, c, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": []any{map[string]any{"level": "info", "message": "late"}}})
	require.True(t, res.IsError)
	assert.Equal(t, "invalid_transition", out["error"], "a finished run is immutable")

	for _, to := range []string{"review", "done"} {
		mustOK(t, c, "projects.transition_task", map[string]any{"task_id": task, "to": to})
	}
	assert.Equal(t, "done", field(mustOK(t, c, "projects.get_task", map[string]any{"task_id": task}), "task", "status"))

	t.Run("CancelWithWorkInFlight", func(t *testing.T) {
		other := mustOK(t, c, "projects.create_task", map[string]any{"project_id": f.projectA, "title": "Abandoned spike"})["task_id"].(string)
		mustOK(t, c, "projects.add_task_action", map[string]any{"task_id": other, "title": "Prototype"})
		mustOK(t, c, "projects.start_task_run", map[string]any{"task_id": other})
		cancelled := mustOK(t, c, "projects.cancel_task", map[string]any{"task_id": other, "reason": "superseded"})
		assert.Equal(t, "cancelled", field(cancelled, "task", "status"))
		assert.Equal(t, 1.0, cancelled["cancelled_actions"])
		assert.Equal(t, 1.0, cancelled["cancelled_runs"])
		res, out := call(t, c, "projects.cancel_task", map[string]any{"task_id": other})
		require.True(t, res.IsError)
		assert.Equal(t, "invalid_transition", out["error"])
	})
	t.Run("LargeArtifactOnlyWhereAllowed", func(t *testing.T) {
		big := mustOK(t, c, "projects.start_task_run", map[string]any{"task_id": mustOK(t, c, "projects.create_task",
			map[string]any{"project_id": f.projectA, "title": "Big output"})["task_id"]})
		bigRun := field(big, "run", "run_id").(string)
		payload := strings.Repeat("x", 4<<20) // 4 MiB: over the 1 MiB default body limit
		out := mustOK(t, c, "projects.attach_task_run_artifact", map[string]any{"run_id": bigRun, "name": "big.txt", "content_type": "text/plain", "content": payload})
		assert.Equal(t, float64(4<<20), field(out, "artifact", "size"))
		// The larger limit belongs to that capability only.
		_, err := c.CallTool(t.Context(), callRequest("projects.update_task", map[string]any{"task_id": task, "description": strings.Repeat("y", 2<<20)}, nil))
		require.Error(t, err, "a 2 MiB body to another capability is refused with 413 before parsing")
	})
	t.Run("CrossTenant", func(t *testing.T) {
		b := connectHTTP(t, startServer(t, f), f.fullB)
		for tool, args := range map[string]map[string]any{
			"projects.get_task_run":          {"run_id": run},
			"projects.get_task_run_artifact": {"artifact_id": artifact},
			"projects.list_task_actions":     {"task_id": task},
			"projects.update_task_action":    {"action_id": action, "title": "mine"},
		} {
			res, out := call(t, b, tool, args)
			require.True(t, res.IsError, tool)
			assert.Contains(t, []any{"unknown_run", "unknown_artifact", "unknown_task", "unknown_action"}, out["error"], tool)
		}
	})
}
