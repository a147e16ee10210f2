package projectkit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/capd-dev/capd/internal/capability"
)

func TestUpdateTask(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.staff(t, "ada"), e.staff(t, "bob")
	project := e.createProject(t, "Billing")
	full := map[string]any{"description": "Legacy invoices", "priority": "high", "due_date": "2026-06-13", "assignee_id": ada, "agent_vendor": "anthropic"}

	t.Run("OKNullClears", func(t *testing.T) {
		id := e.createTask(t, project, "Backfill tax codes", full)
		out := e.ok(t, "projects.update_task", map[string]any{"task_id": id, "priority": nil, "due_date": nil, "assignee_id": nil})
		task := out["task"].(map[string]any)
		for _, field := range []string{"priority", "due_date", "assignee_id"} {
			assert.Nil(t, task[field], field)
		}
		assert.Equal(t, task, e.getTask(t, id), "the answer is the task as stored")
		assert.Equal(t, "Legacy invoices", task["description"])
		assert.Equal(t, "anthropic", task["agent_vendor"])
	})
	t.Run("OKAbsentLeavesUnchanged", func(t *testing.T) {
		id := e.createTask(t, project, "Backfill tax codes", full)
		before := e.getTask(t, id)
		e.clock.Advance(time.Minute)
		task := e.ok(t, "projects.update_task", map[string]any{"task_id": id, "title": "Backfill VAT codes"})["task"].(map[string]any)
		for _, field := range []string{"task_id", "project_id", "description", "status", "priority", "due_date", "assignee_id", "agent_vendor", "created_at"} {
			assert.Equal(t, before[field], task[field], field)
		}
		assert.Equal(t, "Backfill VAT codes", task["title"])
	})
	t.Run("OKSetsEachField", func(t *testing.T) {
		id := e.createTask(t, project, "Bare", nil)
		task := e.ok(t, "projects.update_task", map[string]any{
			"task_id": id, "title": "Dressed", "description": "now described", "priority": "low", "due_date": "2026-07-01", "assignee_id": bob,
		})["task"].(map[string]any)
		assert.Equal(t, "Dressed", task["title"])
		assert.Equal(t, "now described", task["description"])
		assert.Equal(t, "low", task["priority"])
		assert.Equal(t, "2026-07-01", task["due_date"])
		assert.Equal(t, bob, task["assignee_id"])
		assert.Equal(t, task, e.getTask(t, id))
	})
	t.Run("OKEmptyDescriptionEmpties", func(t *testing.T) {
		id := e.createTask(t, project, "Described", full)
		task := e.ok(t, "projects.update_task", map[string]any{"task_id": id, "description": ""})["task"].(map[string]any)
		assert.Equal(t, "", task["description"])
	})
	t.Run("OKRepeatDoesNotMoveUpdatedAt", func(t *testing.T) {
		id := e.createTask(t, project, "Repeat me", full)
		created := e.getTask(t, id)["updated_at"]
		update := map[string]any{"task_id": id, "priority": "low", "due_date": nil}

		e.clock.Advance(time.Hour)
		first := e.ok(t, "projects.update_task", update)["task"].(map[string]any)
		assert.NotEqual(t, created, first["updated_at"], "a real change moves updated_at")

		e.clock.Advance(time.Hour)
		second := e.ok(t, "projects.update_task", update)["task"].(map[string]any)
		assert.Equal(t, first, second, "the same update twice leaves the same state, updated_at included")
		assert.Equal(t, first, e.getTask(t, id))
	})
	t.Run("OKSameValueDoesNotMoveUpdatedAt", func(t *testing.T) {
		id := e.createTask(t, project, "Already so", full)
		before := e.getTask(t, id)
		e.clock.Advance(time.Hour)
		after := e.ok(t, "projects.update_task", map[string]any{"task_id": id, "priority": "high", "assignee_id": ada})["task"].(map[string]any)
		assert.Equal(t, before, after)
	})

	invalid := []struct {
		name string
		args func(id string) any
		path []string
	}{
		{"ErrBlankTitle", func(id string) any { return map[string]any{"task_id": id, "title": "   "} }, []string{"/title"}},
		{"ErrEmptyTitle", func(id string) any { return map[string]any{"task_id": id, "title": ""} }, []string{"/title"}},
		{"ErrNullTitle", func(id string) any { return map[string]any{"task_id": id, "title": nil} }, []string{"/title"}},
		{"ErrNothingToChange", func(id string) any { return map[string]any{"task_id": id} }, []string{""}},
		{"ErrStatusNotAccepted", func(id string) any { return map[string]any{"task_id": id, "status": "done"} }, []string{"/status"}},
		{"ErrUnknownAssignee", func(id string) any {
			return map[string]any{"task_id": id, "assignee_id": "stf_00000000000000000000000000000000"}
		}, []string{"/assignee_id"}},
		{"ErrBadPriority", func(id string) any { return map[string]any{"task_id": id, "priority": "urgent"} }, []string{"/priority"}},
		{"ErrBadDueDate", func(id string) any { return map[string]any{"task_id": id, "due_date": "2026-02-30"} }, []string{"/due_date"}},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			id := e.createTask(t, project, "Untouchable", full)
			before := e.getTask(t, id)
			e.clock.Advance(time.Minute)
			out := e.rejected(t, "projects.update_task", tc.args(id), capability.CodeInvalidInput)
			assert.Equal(t, tc.path, issuePaths(out))
			assert.Equal(t, before, e.getTask(t, id), "a rejected call changes nothing")
		})
	}
	t.Run("ErrRejectedFieldLeavesOthersUnchanged", func(t *testing.T) {
		// A valid change next to an invalid one must not be half-applied.
		id := e.createTask(t, project, "Atomic", full)
		before := e.getTask(t, id)
		e.rejected(t, "projects.update_task", map[string]any{"task_id": id, "priority": "low", "assignee_id": "stf_00000000000000000000000000000000"}, capability.CodeInvalidInput)
		assert.Equal(t, before, e.getTask(t, id))
	})
	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.update_task", map[string]any{"task_id": "tsk_00000000000000000000000000000000", "title": "x"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})
}
