package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// findTask reads the task with id and requires it to exist.
func findTask(t testing.TB, s capability.TenantStore, id string) *capability.Task {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.Task, error) { return tx.FindTaskByID(ctx, id) })
}

// testTasks covers creating, finding, updating and counting tasks.
func testTasks(t *testing.T, e *env) {
	ctx := context.Background()
	s := e.tenant(t, "tasks")
	project := mustCreateProject(t, s, "Website")
	ada := mustCreateStaff(t, s, "ada")

	t.Run("OKAllFields", func(t *testing.T) {
		want := e.clock.Peek()
		task := mustCreateTask(t, s, &capability.Task{
			ProjectID: project.ID, Title: "Ship it", Description: "all of it",
			Status: capability.TaskDoing, Priority: "high", DueDate: "2025-04-30",
			AssigneeID: ada.ID, AgentVendor: "anthropic",
		})
		e.ids.requireIssued(t, "tsk", task.ID)
		requireInstant(t, want, task.CreatedAt)
		require.Equal(t, task.CreatedAt, task.UpdatedAt)
		require.Equal(t, task, findTask(t, s, task.ID))
	})

	t.Run("OKOptionalFieldsEmpty", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Minimal"})
		require.Equal(t, capability.TaskTodo, task.Status, "status defaults to todo")
		require.Equal(t, task, findTask(t, s, task.ID))
	})

	t.Run("OKEveryStatusAndPriority", func(t *testing.T) {
		for _, status := range []string{capability.TaskTodo, capability.TaskDoing, capability.TaskWaiting,
			capability.TaskReview, capability.TaskDone, capability.TaskCancelled} {
			for _, priority := range []string{"", "low", "medium", "high"} {
				task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: status + " " + priority, Status: status, Priority: priority})
				require.Equal(t, task, findTask(t, s, task.ID))
			}
		}
	})

	t.Run("OKCreatedCancelledWithReason", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{
			ProjectID: project.ID, Title: "Imported", Status: capability.TaskCancelled, CancelReason: "duplicate",
		})
		require.Equal(t, task, findTask(t, s, task.ID))
	})

	t.Run("OKGivenIDAndTimes", func(t *testing.T) {
		created := time.Date(2020, 1, 2, 3, 4, 5, 999999999, cet)
		task := mustCreateTask(t, s, &capability.Task{ID: "tsk_given", ProjectID: project.ID, Title: "Old",
			CreatedAt: created, UpdatedAt: created.Add(time.Minute)})
		requireInstant(t, created, task.CreatedAt)
		requireInstant(t, created.Add(time.Minute), task.UpdatedAt)
		require.Equal(t, task, findTask(t, s, "tsk_given"))
	})

	t.Run("ErrUnknownProject", func(t *testing.T) {
		before := countTasks(t, s)
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: "prj_missing", Title: "Orphan"})
		})
		require.Error(t, err, "the project must exist")
		require.Equal(t, before, countTasks(t, s))
	})

	t.Run("ErrUnknownAssignee", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: "Nobody", AssigneeID: "stf_missing"})
		})
		require.Error(t, err, "the assignee must exist")
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		before := countTasks(t, s)
		for name, spoil := range map[string]func(*capability.Task){
			"status":          func(t *capability.Task) { t.Status = "blocked" },
			"priority":        func(t *capability.Task) { t.Priority = "urgent" },
			"no such date":    func(t *capability.Task) { t.DueDate = "2025-02-30" },
			"date format":     func(t *capability.Task) { t.DueDate = "30/04/2025" },
			"date as time":    func(t *capability.Task) { t.DueDate = "2025-04-30T00:00:00Z" },
			"short date":      func(t *capability.Task) { t.DueDate = "2025-2-3" },
			"date in words":   func(t *capability.Task) { t.DueDate = "tomorrow" },
			"empty title":     func(t *capability.Task) { t.Title = "" },
			"upper status":    func(t *capability.Task) { t.Status = "TODO" },
			"padded priority": func(t *capability.Task) { t.Priority = " low" },
		} {
			task := capability.Task{ProjectID: project.ID, Title: "Checked"}
			spoil(&task)
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.CreateTask(ctx, &task) })
			require.Error(t, err, name)
		}
		require.Equal(t, before, countTasks(t, s), "nothing was written")
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Once"})
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateTask(ctx, &capability.Task{ID: task.ID, ProjectID: project.ID, Title: "Twice"})
			requireCode(t, capability.CodeAlreadyExists, err)
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err, "the transaction is still usable after the rejection")
			require.Equal(t, task, got, "the duplicate changed nothing")
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindTaskByID(ctx, "tsk_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("Update", func(t *testing.T) { testUpdateTask(t, e, s, project, ada) })
	t.Run("Count", func(t *testing.T) { testCountTasks(t, e) })
}

// testUpdateTask covers UpdateTask: every mutable field, clearing optional
// ones, the clock for a zero UpdatedAt, and the fields that never change.
func testUpdateTask(t *testing.T, e *env, s capability.TenantStore, project *capability.Project, ada *capability.Staff) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Draft", AgentVendor: "openai"})
		changed := *task
		changed.Title, changed.Description, changed.Status = "Final", "done now", capability.TaskReview
		changed.Priority, changed.DueDate, changed.AssigneeID = "low", "2025-05-01", ada.ID
		changed.UpdatedAt = task.UpdatedAt.Add(time.Hour)
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, &changed) })
		require.Equal(t, &changed, findTask(t, s, task.ID))
	})

	t.Run("OKClearsOptionalFieldsAndStampsUpdatedAt", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Busy", Priority: "high", DueDate: "2025-05-01", AssigneeID: ada.ID})
		task.Priority, task.DueDate, task.AssigneeID = "", "", ""
		task.UpdatedAt = time.Time{}
		want := e.clock.Peek()
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		requireInstant(t, want, task.UpdatedAt, "a zero UpdatedAt is stamped from the clock")
		require.True(t, task.UpdatedAt.After(task.CreatedAt))
		require.Equal(t, task, findTask(t, s, task.ID))
	})

	t.Run("OKGivenUpdatedAt", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Dated"})
		at := time.Date(2027, 7, 8, 9, 10, 11, 121314151, cet)
		task.UpdatedAt = at
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		requireInstant(t, at, task.UpdatedAt)
		require.Equal(t, task, findTask(t, s, task.ID))
	})

	t.Run("OKCancelReasonRoundTrips", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Doomed"})
		task.Status, task.CancelReason, task.UpdatedAt = capability.TaskCancelled, "customer withdrew the request", time.Time{}
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		require.Equal(t, task, findTask(t, s, task.ID))
		listed := read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Task, error) {
			return tx.FindTasks(ctx, capability.TaskFilter{Query: "Doomed", Status: []string{capability.TaskCancelled}})
		})
		require.Equal(t, []*capability.Task{task}, listed, "lists carry the reason too")

		task.Status, task.CancelReason, task.UpdatedAt = capability.TaskTodo, "", time.Time{}
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		require.Equal(t, task, findTask(t, s, task.ID), "reopening clears the reason")
	})

	t.Run("OKProjectCreationAndVendorNeverChange", func(t *testing.T) {
		other := mustCreateProject(t, s, "Other")
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Fixed", AgentVendor: "anthropic"})
		changed := *task
		changed.ProjectID, changed.CreatedAt, changed.AgentVendor = other.ID, task.CreatedAt.Add(-time.Hour), "openai"
		changed.Title = "Moved?"
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTask(ctx, &changed) })
		got := findTask(t, s, task.ID)
		require.Equal(t, "Moved?", got.Title)
		require.Equal(t, project.ID, got.ProjectID)
		require.Equal(t, task.CreatedAt, got.CreatedAt)
		require.Equal(t, "anthropic", got.AgentVendor)
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		task := mustCreateTask(t, s, &capability.Task{ProjectID: project.ID, Title: "Stable"})
		for name, spoil := range map[string]func(*capability.Task){
			"status":       func(t *capability.Task) { t.Status = "blocked" },
			"priority":     func(t *capability.Task) { t.Priority = "urgent" },
			"no such date": func(t *capability.Task) { t.DueDate = "2025-02-30" },
			"empty title":  func(t *capability.Task) { t.Title = "" },
			"assignee":     func(t *capability.Task) { t.AssigneeID = "stf_missing" },
		} {
			changed := *task
			spoil(&changed)
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.UpdateTask(ctx, &changed) })
			require.Error(t, err, name)
		}
		require.Equal(t, task, findTask(t, s, task.ID), "nothing changed")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTask(ctx, &capability.Task{ID: "tsk_missing", Title: "x", Status: capability.TaskTodo})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

// testCountTasks covers CountTasksByStatus: every status present, by
// project or for the whole tenant.
func testCountTasks(t *testing.T, e *env) {
	s := e.tenant(t, "count-tasks")
	web := mustCreateProject(t, s, "Website")
	app := mustCreateProject(t, s, "App")
	for _, status := range []string{capability.TaskTodo, capability.TaskTodo, capability.TaskDone} {
		mustCreateTask(t, s, &capability.Task{ProjectID: web.ID, Title: "t", Status: status})
	}
	mustCreateTask(t, s, &capability.Task{ProjectID: app.ID, Title: "t", Status: capability.TaskReview})
	count := func(projectID string) map[string]int {
		return read(t, s, func(ctx context.Context, tx capability.Tx) (map[string]int, error) {
			return tx.CountTasksByStatus(ctx, projectID)
		})
	}

	t.Run("OKEveryStatusPresent", func(t *testing.T) {
		require.Equal(t, map[string]int{"todo": 2, "doing": 0, "waiting": 0, "review": 0, "done": 1, "cancelled": 0}, count(web.ID))
	})

	t.Run("OKWholeTenant", func(t *testing.T) {
		require.Equal(t, map[string]int{"todo": 2, "doing": 0, "waiting": 0, "review": 1, "done": 1, "cancelled": 0}, count(""))
	})

	t.Run("OKUnknownProjectAllZero", func(t *testing.T) {
		require.Equal(t, map[string]int{"todo": 0, "doing": 0, "waiting": 0, "review": 0, "done": 0, "cancelled": 0}, count("prj_missing"))
	})
}
