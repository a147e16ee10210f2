package projectkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

func TestTaskActionLifecycle(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Steps")
	staff := e.staff(t, "ada")
	task := e.createTask(t, project, "Export legacy invoices", nil)
	created := e.clock.Now()

	// add → update (done, reassign, notes) → reopen → cancel, each step
	// visible through list_task_actions.
	e.clock.Advance(time.Minute)
	added := e.ok(t, "projects.add_task_action", map[string]any{
		"task_id": task, "title": "Map the columns", "notes": "tax_code first", "assignee_id": staff,
	})["action"].(map[string]any)
	id := added["action_id"].(string)
	assert.Equal(t, map[string]any{
		"action_id": id, "task_id": task, "title": "Map the columns", "notes": "tax_code first",
		"assignee_id": staff, "state": "open",
		"created_at": stampOf(e.clock.Now()), "updated_at": stampOf(e.clock.Now()),
	}, added)
	listed := e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task})
	assert.Equal(t, []any{added}, listed["items"])
	assert.Nil(t, listed["next_cursor"])
	assert.Equal(t, stampOf(created), e.getTask(t, task)["updated_at"], "adding an action does not change the task")

	e.clock.Advance(time.Minute)
	done := e.ok(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "done", "assignee_id": nil, "notes": ""})["action"].(map[string]any)
	assert.Equal(t, "done", done["state"])
	assert.Nil(t, done["assignee_id"])
	assert.Equal(t, "", done["notes"])
	assert.Equal(t, "Map the columns", done["title"], "fields left out keep their values")
	assert.Equal(t, added["created_at"], done["created_at"])
	assert.Equal(t, stampOf(e.clock.Now()), done["updated_at"])

	e.clock.Advance(time.Minute)
	reopened := e.ok(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "open", "title": "Map every column", "assignee_id": staff})["action"].(map[string]any)
	assert.Equal(t, "open", reopened["state"])
	assert.Equal(t, "Map every column", reopened["title"])
	assert.Equal(t, staff, reopened["assignee_id"])

	e.clock.Advance(time.Minute)
	cancelled := e.ok(t, "projects.cancel_task_action", map[string]any{"action_id": id})["action"].(map[string]any)
	assert.Equal(t, "cancelled", cancelled["state"])
	assert.Equal(t, "Map every column", cancelled["title"])
	assert.Equal(t, stampOf(e.clock.Now()), cancelled["updated_at"])
	assert.Equal(t, []any{cancelled}, e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task})["items"], "a cancelled action stays listed")

	t.Run("ErrCancelledActionIsFinal", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		for _, args := range []map[string]any{
			{"action_id": id, "state": "open"},
			{"action_id": id, "title": "Revive"},
			{"action_id": id, "notes": "still wanted"},
		} {
			out := e.rejected(t, "projects.update_task_action", args, capability.CodeInvalidTransition)
			assert.Equal(t, []string{"/action_id"}, issuePaths(out))
		}
		e.rejected(t, "projects.cancel_task_action", map[string]any{"action_id": id}, capability.CodeInvalidTransition)
		assert.Equal(t, []any{cancelled}, e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task})["items"])
	})
}

func TestUpdateTaskAction(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Steps")
	task := e.createTask(t, project, "Export legacy invoices", nil)

	t.Run("OKRepeatChangesNothing", func(t *testing.T) {
		id := addActionVia(t, e, task, "Schedule the job")
		e.clock.Advance(time.Minute)
		first := e.ok(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "done", "notes": "nightly"})
		e.clock.Advance(time.Minute)
		again := e.ok(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "done", "notes": "nightly"})
		assert.Equal(t, first["action"], again["action"], "updated_at included")
	})

	t.Run("ErrBlankTitle", func(t *testing.T) {
		id := addActionVia(t, e, task, "Keep my title")
		out := e.rejected(t, "projects.update_task_action", map[string]any{"action_id": id, "title": "  ", "state": "done"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/title"}, issuePaths(out))
		assert.Equal(t, "open", actionStates(t, e, task)[id], "a rejected update changes nothing")
	})

	t.Run("ErrUnknownAssignee", func(t *testing.T) {
		id := addActionVia(t, e, task, "Hand over")
		out := e.rejected(t, "projects.update_task_action", map[string]any{"action_id": id, "assignee_id": "stf_00000000000000000000000000000000", "state": "done"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/assignee_id"}, issuePaths(out))
		assert.Equal(t, "open", actionStates(t, e, task)[id])
	})

	t.Run("ErrCancelledStateNotAccepted", func(t *testing.T) {
		id := addActionVia(t, e, task, "Not like this")
		out := e.rejected(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "cancelled"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/state"}, issuePaths(out))
	})

	t.Run("ErrNothingToUpdate", func(t *testing.T) {
		id := addActionVia(t, e, task, "Nothing")
		out := e.rejected(t, "projects.update_task_action", map[string]any{"action_id": id}, capability.CodeInvalidInput)
		assert.Equal(t, []string{""}, issuePaths(out))
	})

	t.Run("ErrUnknownAction", func(t *testing.T) {
		out := e.rejected(t, "projects.update_task_action", map[string]any{"action_id": "act_00000000000000000000000000000000", "state": "done"}, capability.CodeUnknownAction)
		assert.Equal(t, []string{"/action_id"}, issuePaths(out))
		assert.Contains(t, out["message"], "projects.list_task_actions")
	})
}

func TestAddTaskAction(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Steps")
	task := e.createTask(t, project, "Export legacy invoices", nil)

	t.Run("OKToDoneTask", func(t *testing.T) {
		id := e.createTask(t, project, "Finished", nil)
		for _, step := range reach["done"] {
			e.transition(t, id, step)
		}
		out := e.ok(t, "projects.add_task_action", map[string]any{"task_id": id, "title": "Follow-up"})
		assert.Equal(t, "open", out["action"].(map[string]any)["state"])
		assert.Nil(t, out["action"].(map[string]any)["assignee_id"])
		assert.Equal(t, "", out["action"].(map[string]any)["notes"])
	})

	t.Run("ErrBlankTitle", func(t *testing.T) {
		out := e.rejected(t, "projects.add_task_action", map[string]any{"task_id": task, "title": " \t "}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/title"}, issuePaths(out))
	})

	t.Run("ErrTitleTooLong", func(t *testing.T) {
		out := e.rejected(t, "projects.add_task_action", map[string]any{"task_id": task, "title": strings.Repeat("x", 201)}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/title"}, issuePaths(out))
	})

	t.Run("ErrUnknownAssignee", func(t *testing.T) {
		out := e.rejected(t, "projects.add_task_action", map[string]any{"task_id": task, "title": "x", "assignee_id": "stf_00000000000000000000000000000000"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/assignee_id"}, issuePaths(out))
	})

	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.add_task_action", map[string]any{"task_id": "tsk_00000000000000000000000000000000", "title": "x"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})

	t.Run("ErrCancelledTask", func(t *testing.T) {
		id := e.createTask(t, project, "Abandoned", nil)
		e.ok(t, "projects.cancel_task", map[string]any{"task_id": id})
		out := e.rejected(t, "projects.add_task_action", map[string]any{"task_id": id, "title": "Too late"}, capability.CodeInvalidTransition)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
		assert.Empty(t, actionStates(t, e, id), "nothing was created")
	})

	assert.Empty(t, actionStates(t, e, task), "no rejected add created anything")
}

func TestActionsOfCancelledTask(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Steps")
	task := e.createTask(t, project, "Export legacy invoices", nil)
	open := addActionVia(t, e, task, "Open step")
	done := addActionVia(t, e, task, "Done step")
	e.ok(t, "projects.update_task_action", map[string]any{"action_id": done, "state": "done"})
	e.ok(t, "projects.cancel_task", map[string]any{"task_id": task})
	before := e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task})

	for _, id := range []string{open, done} {
		out := e.rejected(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "open"}, capability.CodeInvalidTransition)
		assert.Equal(t, []string{"/action_id"}, issuePaths(out))
		e.rejected(t, "projects.update_task_action", map[string]any{"action_id": id, "notes": "x"}, capability.CodeInvalidTransition)
		e.rejected(t, "projects.cancel_task_action", map[string]any{"action_id": id}, capability.CodeInvalidTransition)
	}
	assert.Equal(t, before, e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task}))
	assert.Equal(t, map[string]string{open: "cancelled", done: "done"}, actionStates(t, e, task))
}

func TestCancelTaskAction(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Steps")
	task := e.createTask(t, project, "Export legacy invoices", nil)
	e.transition(t, task, "doing")
	taskBefore := e.getTask(t, task)

	t.Run("OKOpen", func(t *testing.T) {
		id := addActionVia(t, e, task, "Open")
		e.clock.Advance(time.Minute)
		out := e.ok(t, "projects.cancel_task_action", map[string]any{"action_id": id})
		assert.Equal(t, "cancelled", out["action"].(map[string]any)["state"])
		assert.Equal(t, taskBefore, e.getTask(t, task), "the task does not change")
	})
	t.Run("OKDone", func(t *testing.T) {
		id := addActionVia(t, e, task, "Done")
		e.ok(t, "projects.update_task_action", map[string]any{"action_id": id, "state": "done"})
		out := e.ok(t, "projects.cancel_task_action", map[string]any{"action_id": id})
		assert.Equal(t, "cancelled", out["action"].(map[string]any)["state"])
	})
	t.Run("ErrTwice", func(t *testing.T) {
		id := addActionVia(t, e, task, "Twice")
		first := e.ok(t, "projects.cancel_task_action", map[string]any{"action_id": id})
		e.clock.Advance(time.Minute)
		out := e.rejected(t, "projects.cancel_task_action", map[string]any{"action_id": id}, capability.CodeInvalidTransition)
		assert.Equal(t, []string{"/action_id"}, issuePaths(out))
		items := e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task})["items"].([]any)
		assert.Contains(t, items, first["action"], "updated_at stays at the first cancel")
	})
	t.Run("ErrUnknownAction", func(t *testing.T) {
		out := e.rejected(t, "projects.cancel_task_action", map[string]any{"action_id": "act_00000000000000000000000000000000"}, capability.CodeUnknownAction)
		assert.Equal(t, []string{"/action_id"}, issuePaths(out))
	})
}

func TestListTaskActions(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Steps")
	task := e.createTask(t, project, "Many steps", nil)
	other := e.createTask(t, project, "Other steps", nil)
	var want []string
	for i := range 5 {
		want = append(want, addActionVia(t, e, task, fmt.Sprintf("step %d", i)))
		addActionVia(t, e, other, fmt.Sprintf("other %d", i))
	}

	t.Run("OKPages", func(t *testing.T) {
		var got []string
		args := map[string]any{"task_id": task, "limit": 2}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			out := e.ok(t, "projects.list_task_actions", args)
			for _, it := range out["items"].([]any) {
				a := it.(map[string]any)
				assert.Equal(t, task, a["task_id"])
				got = append(got, a["action_id"].(string))
			}
			next, _ := out["next_cursor"].(string)
			if next == "" {
				break
			}
			args["cursor"] = next
		}
		assert.Equal(t, want, got, "oldest first, no repeats, none skipped")
	})

	t.Run("ErrCursorOfOtherTask", func(t *testing.T) {
		out := e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task, "limit": 1})
		bad := e.rejected(t, "projects.list_task_actions", map[string]any{"task_id": other, "limit": 1, "cursor": out["next_cursor"]}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/cursor"}, issuePaths(bad))
	})

	t.Run("ErrCursorOfOtherList", func(t *testing.T) {
		out := e.ok(t, "projects.list_tasks", map[string]any{"limit": 1})
		bad := e.rejected(t, "projects.list_task_actions", map[string]any{"task_id": task, "cursor": out["next_cursor"]}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/cursor"}, issuePaths(bad))
	})

	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.list_task_actions", map[string]any{"task_id": "tsk_00000000000000000000000000000000"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})
}

// TestActionsAcrossTenants uses acme's task and action ids from tenant
// globex: they behave as if they did not exist, and acme's data is
// unchanged.
func TestActionsAcrossTenants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "globex"}))
	other := func(ref string, args map[string]any) map[string]any {
		t.Helper()
		r, err := registry.ParseRef(ref)
		require.NoError(t, err)
		raw, err := json.Marshal(args)
		require.NoError(t, err)
		res := e.inv.Call(ctx, capability.Principal{Tenant: "globex", KeyPrefix: "capd_other", Scopes: capability.AllScopes}, r, raw)
		requireInContract(t, res)
		return decode(t, res.JSON)
	}
	project := e.createProject(t, "Acme secret roadmap")
	task := e.createTask(t, project, "Acme secret task", nil)
	action := addActionVia(t, e, task, "Acme secret step")
	before := e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task})

	t.Run("ErrUnknownAction", func(t *testing.T) {
		assert.Equal(t, "unknown_action", other("projects.update_task_action", map[string]any{"action_id": action, "state": "done"})["error"])
		assert.Equal(t, "unknown_action", other("projects.cancel_task_action", map[string]any{"action_id": action})["error"])
	})
	t.Run("ErrUnknownTask", func(t *testing.T) {
		assert.Equal(t, "unknown_task", other("projects.list_task_actions", map[string]any{"task_id": task})["error"])
		assert.Equal(t, "unknown_task", other("projects.add_task_action", map[string]any{"task_id": task, "title": "mine"})["error"])
		assert.Equal(t, "unknown_task", other("projects.cancel_task", map[string]any{"task_id": task})["error"])
	})
	t.Run("AcmeUnchanged", func(t *testing.T) {
		assert.Equal(t, before, e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task}))
		assert.Equal(t, "todo", e.getTask(t, task)["status"])
	})
}
