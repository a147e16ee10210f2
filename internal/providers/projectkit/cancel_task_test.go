package projectkit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// inTenantStore runs fn in a write transaction of the test tenant, for
// state no capability in this area creates or shows (runs, cancel reasons,
// task details).
func inTenantStore(t *testing.T, e *env, fn func(ctx context.Context, tx capability.Tx) error) {
	t.Helper()
	ctx := context.Background()
	store, err := e.db.Tenants().Tenant(ctx, tenant)
	require.NoError(t, err)
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error { return fn(ctx, tx) }))
}

// seedRunForCancel stores a run of task in status straight through the
// store and returns its id.
func seedRunForCancel(t *testing.T, e *env, task, status string) string {
	t.Helper()
	r := &capability.TaskRun{TaskID: task, Status: status, Branch: "main", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if capability.RunFinished(status) {
		r.FinishedAt = e.clock.Now()
	}
	inTenantStore(t, e, func(ctx context.Context, tx capability.Tx) error { return tx.CreateTaskRun(ctx, r) })
	return r.ID
}

func storedRun(t *testing.T, e *env, id string) *capability.TaskRun {
	t.Helper()
	var r *capability.TaskRun
	inTenantStore(t, e, func(ctx context.Context, tx capability.Tx) (err error) {
		r, err = tx.FindTaskRunByID(ctx, id)
		return err
	})
	return r
}

func storedTask(t *testing.T, e *env, id string) *capability.Task {
	t.Helper()
	var task *capability.Task
	inTenantStore(t, e, func(ctx context.Context, tx capability.Tx) (err error) {
		task, err = tx.FindTaskByID(ctx, id)
		return err
	})
	return task
}

// addActionVia adds an action to task through the capability and returns
// its id.
func addActionVia(t *testing.T, e *env, task, title string) string {
	t.Helper()
	out := e.ok(t, "projects.add_task_action", map[string]any{"task_id": task, "title": title})
	return out["action"].(map[string]any)["action_id"].(string)
}

// actionStates returns each action of task, by id, with its state.
func actionStates(t *testing.T, e *env, task string) map[string]string {
	t.Helper()
	out := e.ok(t, "projects.list_task_actions", map[string]any{"task_id": task, "limit": 100})
	states := map[string]string{}
	for _, it := range out["items"].([]any) {
		a := it.(map[string]any)
		states[a["action_id"].(string)] = a["state"].(string)
	}
	return states
}

func TestCancelTask(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Cancellations")

	for _, from := range []string{"todo", "doing", "waiting", "review"} {
		t.Run("OKFrom/"+from, func(t *testing.T) {
			id := e.createTask(t, project, "cancel from "+from, map[string]any{"priority": "high"})
			for _, step := range reach[from] {
				e.transition(t, id, step)
			}
			createdAt := e.getTask(t, id)["created_at"]
			e.clock.Advance(time.Minute)
			out := e.ok(t, "projects.cancel_task", map[string]any{"task_id": id})
			task := out["task"].(map[string]any)
			assert.Equal(t, "cancelled", task["status"])
			assert.Equal(t, "high", task["priority"], "other fields do not change")
			assert.Equal(t, createdAt, task["created_at"])
			assert.Equal(t, stampOf(e.clock.Now()), task["updated_at"])
			assert.EqualValues(t, 0, out["cancelled_actions"])
			assert.EqualValues(t, 0, out["cancelled_runs"])
			got := e.getTask(t, id)
			assert.Equal(t, "cancelled", got["status"])
			assert.Empty(t, e.ok(t, "projects.get_task", map[string]any{"task_id": id})["allowed_transitions"])
		})
	}

	t.Run("OKCancelsOpenActionsAndRunningRunsOnly", func(t *testing.T) {
		id := e.createTask(t, project, "cascade", nil)
		e.transition(t, id, "doing")
		open1 := addActionVia(t, e, id, "open one")
		open2 := addActionVia(t, e, id, "open two")
		done := addActionVia(t, e, id, "done one")
		e.ok(t, "projects.update_task_action", map[string]any{"action_id": done, "state": "done"})
		withdrawn := addActionVia(t, e, id, "withdrawn one")
		e.ok(t, "projects.cancel_task_action", map[string]any{"action_id": withdrawn})
		running1 := seedRunForCancel(t, e, id, capability.RunRunning)
		running2 := seedRunForCancel(t, e, id, capability.RunRunning)
		succeeded := seedRunForCancel(t, e, id, capability.RunSucceeded)
		failed := seedRunForCancel(t, e, id, capability.RunFailed)
		// Another task's open action and running run are not touched.
		other := e.createTask(t, project, "bystander", nil)
		otherAction := addActionVia(t, e, other, "keeps going")
		otherRun := seedRunForCancel(t, e, other, capability.RunRunning)

		e.clock.Advance(time.Hour)
		out := e.ok(t, "projects.cancel_task", map[string]any{"task_id": id, "reason": "Scope moved to Q3."})
		assert.EqualValues(t, 2, out["cancelled_actions"])
		assert.EqualValues(t, 2, out["cancelled_runs"])

		assert.Equal(t, map[string]string{open1: "cancelled", open2: "cancelled", done: "done", withdrawn: "cancelled"}, actionStates(t, e, id))
		for _, r := range []string{running1, running2} {
			run := storedRun(t, e, r)
			assert.Equal(t, capability.RunCancelled, run.Status)
			assert.True(t, run.FinishedAt.Equal(e.clock.Now()), "finished at the time of the call")
		}
		assert.Equal(t, capability.RunSucceeded, storedRun(t, e, succeeded).Status)
		assert.Equal(t, capability.RunFailed, storedRun(t, e, failed).Status)
		assert.Equal(t, map[string]string{otherAction: "open"}, actionStates(t, e, other))
		assert.Equal(t, capability.RunRunning, storedRun(t, e, otherRun).Status)
		assert.Equal(t, "todo", e.getTask(t, other)["status"])
	})

	t.Run("OKReasonIsStored", func(t *testing.T) {
		id := e.createTask(t, project, "with reason", nil)
		e.ok(t, "projects.cancel_task", map[string]any{"task_id": id, "reason": "  Duplicate of the billing export.  "})
		assert.Equal(t, "Duplicate of the billing export.", storedTask(t, e, id).CancelReason)

		quiet := e.createTask(t, project, "without reason", nil)
		e.ok(t, "projects.cancel_task", map[string]any{"task_id": quiet})
		assert.Equal(t, "", storedTask(t, e, quiet).CancelReason)
	})

	t.Run("ErrInvalidTransition/done", func(t *testing.T) {
		id := e.createTask(t, project, "finished", nil)
		for _, step := range reach["done"] {
			e.transition(t, id, step)
		}
		action := addActionVia(t, e, id, "follow-up")
		run := seedRunForCancel(t, e, id, capability.RunRunning)
		before := e.getTask(t, id)
		e.clock.Advance(time.Minute)

		out := e.rejected(t, "projects.cancel_task", map[string]any{"task_id": id, "reason": "no"}, capability.CodeInvalidTransition)
		assert.Equal(t, "done", out["status"])
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
		assert.Contains(t, out["message"], "projects.transition_task")

		assert.Equal(t, before, e.getTask(t, id), "a rejected cancel changes nothing")
		assert.Equal(t, "", storedTask(t, e, id).CancelReason)
		assert.Equal(t, map[string]string{action: "open"}, actionStates(t, e, id))
		assert.Equal(t, capability.RunRunning, storedRun(t, e, run).Status)
	})

	t.Run("ErrInvalidTransition/cancelled", func(t *testing.T) {
		id := e.createTask(t, project, "twice", nil)
		e.ok(t, "projects.cancel_task", map[string]any{"task_id": id, "reason": "first"})
		before := e.getTask(t, id)
		e.clock.Advance(time.Minute)
		out := e.rejected(t, "projects.cancel_task", map[string]any{"task_id": id, "reason": "second"}, capability.CodeInvalidTransition)
		assert.Equal(t, "cancelled", out["status"])
		assert.Equal(t, before, e.getTask(t, id))
		assert.Equal(t, "first", storedTask(t, e, id).CancelReason, "the first reason stays")
	})

	t.Run("ErrTransitionLeavesCancelledNever", func(t *testing.T) {
		id := e.createTask(t, project, "final", nil)
		e.ok(t, "projects.cancel_task", map[string]any{"task_id": id})
		for _, to := range statuses {
			e.rejected(t, "projects.transition_task", map[string]any{"task_id": id, "to": to}, capability.CodeInvalidTransition)
		}
	})

	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.cancel_task", map[string]any{"task_id": "tsk_00000000000000000000000000000000"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})

	t.Run("ErrReasonTooLong", func(t *testing.T) {
		id := e.createTask(t, project, "long reason", nil)
		out := e.rejected(t, "projects.cancel_task", map[string]any{"task_id": id, "reason": strings.Repeat("x", 1001)}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/reason"}, issuePaths(out))
		assert.Equal(t, "todo", e.getTask(t, id)["status"])
	})
}

// stampOf renders t as capd renders timestamps.
func stampOf(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
