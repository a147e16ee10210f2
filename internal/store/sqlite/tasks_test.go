package sqlite

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCreateTask(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	project := mustCreateProject(t, store, "Website")
	ada := mustCreateStaff(t, store, "ada")

	t.Run("OKAllFields", func(t *testing.T) {
		want := clock.Peek().UTC()
		task := mustCreateTask(t, store, &capability.Task{
			ProjectID: project.ID, Title: "Ship it", Description: "all of it",
			Status: capability.TaskDoing, Priority: "high", DueDate: "2025-04-30",
			AssigneeID: ada.ID, AgentVendor: "anthropic",
		})
		require.Regexp(t, regexp.MustCompile(`^tsk_[0-9a-f]{32}$`), task.ID)
		require.Equal(t, want, task.CreatedAt)
		require.Equal(t, want, task.UpdatedAt)
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, task, got)
			return nil
		})
	})

	t.Run("OKCreatedCancelledWithReason", func(t *testing.T) {
		task := mustCreateTask(t, store, &capability.Task{
			ProjectID: project.ID, Title: "Imported", Status: capability.TaskCancelled, CancelReason: "duplicate",
		})
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, task, got)
			return nil
		})
	})

	t.Run("OKOptionalFieldsEmpty", func(t *testing.T) {
		task := mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Minimal"})
		require.Equal(t, capability.TaskTodo, task.Status, "status defaults to todo")
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, task, got)
			return nil
		})
	})

	t.Run("ErrForeignKeyProject", func(t *testing.T) {
		before := countTasks(t, store)
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: "prj_missing", Title: "Orphan"})
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
		require.Equal(t, before, countTasks(t, store))
	})

	t.Run("ErrForeignKeyAssignee", func(t *testing.T) {
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: "Nobody", AssigneeID: "stf_missing"})
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrCheckConstraints", func(t *testing.T) {
		for name, spoil := range map[string]func(*capability.Task){
			"status":       func(t *capability.Task) { t.Status = "blocked" },
			"priority":     func(t *capability.Task) { t.Priority = "urgent" },
			"no such date": func(t *capability.Task) { t.DueDate = "2025-02-30" },
			"date format":  func(t *capability.Task) { t.DueDate = "30/04/2025" },
			"date as time": func(t *capability.Task) { t.DueDate = "2025-04-30T00:00:00Z" },
			"empty title":  func(t *capability.Task) { t.Title = "" },
		} {
			task := capability.Task{ProjectID: project.ID, Title: "Checked"}
			spoil(&task)
			err := store.Update(ctx, func(tx capability.Tx) error { return tx.CreateTask(ctx, &task) })
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_CHECK, sqliteCode(err), name)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		task := mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Once"})
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ID: task.ID, ProjectID: project.ID, Title: "Twice"})
		})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
	})
}

func TestFindTaskByID(t *testing.T) {
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindTaskByID(context.Background(), "tsk_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestUpdateTask(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	project := mustCreateProject(t, store, "Website")
	ada := mustCreateStaff(t, store, "ada")
	vendor := "openai"

	t.Run("OK", func(t *testing.T) {
		task := mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Draft", AgentVendor: vendor})
		changed := *task
		changed.Title, changed.Description, changed.Status = "Final", "done now", capability.TaskReview
		changed.Priority, changed.DueDate, changed.AssigneeID = "low", "2025-05-01", ada.ID
		changed.UpdatedAt = task.UpdatedAt.Add(time.Hour)
		update(t, store, func(tx capability.Tx) error { return tx.UpdateTask(ctx, &changed) })
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, &changed, got)
			return nil
		})
	})

	t.Run("OKClearsOptionalFields", func(t *testing.T) {
		task := mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Busy", Priority: "high", DueDate: "2025-05-01", AssigneeID: ada.ID})
		task.Priority, task.DueDate, task.AssigneeID = "", "", ""
		task.UpdatedAt = time.Time{}
		want := clock.Peek().UTC()
		update(t, store, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		require.Equal(t, want, task.UpdatedAt, "a zero UpdatedAt is stamped from the clock")
		view(t, store, func(tx capability.Tx) error {
			got, err := tx.FindTaskByID(ctx, task.ID)
			require.NoError(t, err)
			require.Equal(t, task, got)
			return nil
		})
	})

	t.Run("OKCancelReasonRoundTrips", func(t *testing.T) {
		task := mustCreateTask(t, store, &capability.Task{ProjectID: project.ID, Title: "Doomed"})
		task.Status, task.CancelReason = capability.TaskCancelled, "customer withdrew the request"
		update(t, store, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		find := func() *capability.Task {
			var got *capability.Task
			view(t, store, func(tx capability.Tx) error {
				var err error
				got, err = tx.FindTaskByID(ctx, task.ID)
				return err
			})
			return got
		}
		require.Equal(t, task, find())
		var listed []*capability.Task
		view(t, store, func(tx capability.Tx) error {
			var err error
			listed, err = tx.FindTasks(ctx, capability.TaskFilter{Status: []string{capability.TaskCancelled}})
			return err
		})
		require.Equal(t, []*capability.Task{task}, listed, "lists carry the reason too")

		task.Status, task.CancelReason = capability.TaskTodo, ""
		update(t, store, func(tx capability.Tx) error { return tx.UpdateTask(ctx, task) })
		require.Equal(t, task, find(), "reopening clears the reason")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := store.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTask(ctx, &capability.Task{ID: "tsk_missing", Title: "x", Status: capability.TaskTodo})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

func TestFindTasks(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	web := mustCreateProject(t, store, "Website")
	app := mustCreateProject(t, store, "App")
	ada := mustCreateStaff(t, store, "ada")
	bob := mustCreateStaff(t, store, "bob")

	mk := func(task capability.Task) string {
		if task.ProjectID == "" {
			task.ProjectID = web.ID
		}
		return mustCreateTask(t, store, &task).ID
	}
	t0 := mk(capability.Task{Title: "Plan launch", Status: capability.TaskTodo, Priority: "high", DueDate: "2025-04-01", AssigneeID: ada.ID})
	t1 := mk(capability.Task{Title: "Write copy", Description: "100% original", Status: capability.TaskDoing, Priority: "medium", DueDate: "2025-04-10", AssigneeID: bob.ID})
	t2 := mk(capability.Task{Title: "Fix bug_42", Status: capability.TaskWaiting, Priority: "low", DueDate: "2025-04-20"})
	t3 := mk(capability.Task{Title: "Review PR", Status: capability.TaskReview, AssigneeID: ada.ID})
	t4 := mk(capability.Task{Title: "App store listing", ProjectID: app.ID, Status: capability.TaskDone, DueDate: "2025-04-10"})
	t5 := mk(capability.Task{Title: "Dropped idea", Description: "bugX42", ProjectID: app.ID, Status: capability.TaskCancelled, Priority: "high"})
	all := []string{t0, t1, t2, t3, t4, t5}

	find := func(f capability.TaskFilter) []string {
		var out []*capability.Task
		view(t, store, func(tx capability.Tx) error {
			var err error
			out, err = tx.FindTasks(ctx, f)
			return err
		})
		return ids(out, taskID)
	}

	for _, tc := range []struct {
		name   string
		filter capability.TaskFilter
		want   []string
	}{
		{"OKNoFilter", capability.TaskFilter{}, all},
		{"OKProject", capability.TaskFilter{ProjectID: app.ID}, []string{t4, t5}},
		{"OKOneStatus", capability.TaskFilter{Status: []string{capability.TaskReview}}, []string{t3}},
		{"OKAnyOfStatuses", capability.TaskFilter{Status: []string{capability.TaskTodo, capability.TaskDone, capability.TaskCancelled}}, []string{t0, t4, t5}},
		{"OKAssignee", capability.TaskFilter{AssigneeID: ada.ID}, []string{t0, t3}},
		{"OKPriority", capability.TaskFilter{Priority: "high"}, []string{t0, t5}},
		{"OKDueBeforeInclusive", capability.TaskFilter{DueBefore: "2025-04-10"}, []string{t0, t1, t4}},
		{"OKDueAfterInclusive", capability.TaskFilter{DueAfter: "2025-04-10"}, []string{t1, t2, t4}},
		{"OKDueRange", capability.TaskFilter{DueAfter: "2025-04-02", DueBefore: "2025-04-19"}, []string{t1, t4}},
		{"OKQueryTitleIgnoringCase", capability.TaskFilter{Query: "REVIEW"}, []string{t3}},
		{"OKQueryDescription", capability.TaskFilter{Query: "original"}, []string{t1}},
		{"OKQueryPercentLiteral", capability.TaskFilter{Query: "0%"}, []string{t1}},
		{"OKQueryUnderscoreLiteral", capability.TaskFilter{Query: "bug_4"}, []string{t2}},
		{"OKCombined", capability.TaskFilter{ProjectID: web.ID, Status: []string{capability.TaskTodo, capability.TaskDoing}, AssigneeID: bob.ID}, []string{t1}},
		{"OKNoMatch", capability.TaskFilter{ProjectID: app.ID, AssigneeID: ada.ID}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, nilIfEmpty(find(tc.filter)))
		})
	}

	t.Run("OKPagesWithoutGapsOrDuplicates", func(t *testing.T) {
		var many []string
		for i := range 31 {
			many = append(many, mk(capability.Task{ProjectID: app.ID, Title: fmt.Sprintf("bulk %d", i), Status: capability.TaskTodo}))
		}
		for _, limit := range []int{1, 7, 31, 32} {
			got, _ := allPages(t, limit, func(p capability.Page) []string {
				return find(capability.TaskFilter{ProjectID: app.ID, Status: []string{capability.TaskTodo}, Page: p})
			})
			require.Equal(t, many, got, "limit %d", limit)
		}
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestCountTasksByStatus(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	web := mustCreateProject(t, store, "Website")
	app := mustCreateProject(t, store, "App")
	for _, s := range []string{capability.TaskTodo, capability.TaskTodo, capability.TaskDone} {
		mustCreateTask(t, store, &capability.Task{ProjectID: web.ID, Title: "t", Status: s})
	}
	mustCreateTask(t, store, &capability.Task{ProjectID: app.ID, Title: "t", Status: capability.TaskReview})

	count := func(projectID string) map[string]int {
		var out map[string]int
		view(t, store, func(tx capability.Tx) error {
			var err error
			out, err = tx.CountTasksByStatus(ctx, projectID)
			return err
		})
		return out
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

func TestTransactions(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	errReject := errors.New("rejected")

	t.Run("RolledBackOnError", func(t *testing.T) {
		err := store.Update(ctx, func(tx capability.Tx) error {
			p := &capability.Project{Name: "Doomed"}
			require.NoError(t, tx.CreateProject(ctx, p))
			require.NoError(t, tx.CreateTask(ctx, &capability.Task{ProjectID: p.ID, Title: "Doomed too"}))
			return errReject
		})
		require.ErrorIs(t, err, errReject, "fn's error comes back unchanged")
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Doomed")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
		require.Equal(t, 0, countTasks(t, store))
	})

	t.Run("RolledBackOnPanic", func(t *testing.T) {
		require.PanicsWithValue(t, "boom", func() {
			_ = store.Update(ctx, func(tx capability.Tx) error {
				require.NoError(t, tx.CreateProject(ctx, &capability.Project{Name: "Panicked"}))
				panic("boom")
			})
		})
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Panicked")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
		// The writer and the handle were released: the next write works.
		mustCreateProject(t, store, "After panic")
	})

	t.Run("ErrWriteInView", func(t *testing.T) {
		err := store.View(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Sneaky"})
		})
		require.Error(t, err)
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Sneaky")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("ViewSeesCommittedWrites", func(t *testing.T) {
		p := mustCreateProject(t, store, "Visible")
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, p.ID)
			return err
		})
	})
}

// countTasks counts every task of a tenant.
func countTasks(t testing.TB, store capability.TenantStore) int {
	t.Helper()
	n := 0
	view(t, store, func(tx capability.Tx) error {
		counts, err := tx.CountTasksByStatus(context.Background(), "")
		for _, c := range counts {
			n += c
		}
		return err
	})
	return n
}
