package projectkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// workflow is the transition table of the published contract
// (schemas/task_status.json), each list in status order.
var workflow = map[string][]string{
	"todo":    {"doing"},
	"doing":   {"todo", "waiting", "review"},
	"waiting": {"doing"},
	"review":  {"doing", "done"},
	"done":    {"todo"},
}

// reach lists the moves that bring a new task (todo) to each status.
var reach = map[string][]string{
	"todo":    {},
	"doing":   {"doing"},
	"waiting": {"doing", "waiting"},
	"review":  {"doing", "review"},
	"done":    {"doing", "review", "done"},
}

// statuses are the statuses transition_task accepts as "to", in order.
var statuses = []string{"todo", "doing", "waiting", "review", "done"}

func TestTransitionTask(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Workflow")

	for _, from := range statuses {
		for _, to := range statuses {
			allowed := false
			for _, s := range workflow[from] {
				allowed = allowed || s == to
			}
			name := "ErrInvalidTransition/" + from + "->" + to
			if allowed {
				name = "OK/" + from + "->" + to
			}
			t.Run(name, func(t *testing.T) {
				id := e.createTask(t, project, from+" to "+to, nil)
				for _, step := range reach[from] {
					e.transition(t, id, step)
				}
				require.Equal(t, from, e.getTask(t, id)["status"])
				args := map[string]any{"task_id": id, "to": to}
				if allowed {
					out := e.ok(t, "projects.transition_task", args)
					assert.Equal(t, to, out["task"].(map[string]any)["status"])
					assert.Equal(t, from, out["from"])
					assert.Equal(t, anyStrings(workflow[to]), out["allowed_transitions"])
					assert.Equal(t, to, e.getTask(t, id)["status"])
					return
				}
				out := e.rejected(t, "projects.transition_task", args, capability.CodeInvalidTransition)
				assert.Equal(t, from, out["status"])
				assert.Equal(t, anyStrings(workflow[from]), out["allowed_transitions"])
				assert.Equal(t, []string{"/to"}, issuePaths(out))
				assert.Equal(t, from, e.getTask(t, id)["status"], "a rejected transition changes nothing")
			})
		}
	}

	t.Run("OKGetTaskListsAllowedTransitions", func(t *testing.T) {
		id := e.createTask(t, project, "Inspect", nil)
		for _, step := range reach["review"] {
			e.transition(t, id, step)
		}
		out := e.ok(t, "projects.get_task", map[string]any{"task_id": id})
		assert.Equal(t, anyStrings(workflow["review"]), out["allowed_transitions"])
	})
	t.Run("ErrCancelledIsNotAccepted", func(t *testing.T) {
		id := e.createTask(t, project, "Cancel me", nil)
		out := e.rejected(t, "projects.transition_task", map[string]any{"task_id": id, "to": "cancelled"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/to"}, issuePaths(out))
	})
	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.transition_task", map[string]any{"task_id": "tsk_00000000000000000000000000000000", "to": "doing"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})
}

func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
