package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// findAction reads the action with id and requires it to exist.
func findAction(t testing.TB, s capability.TenantStore, id string) *capability.TaskAction {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.TaskAction, error) {
		return tx.FindTaskActionByID(ctx, id)
	})
}

// testActions covers task actions: create, find, list, update and cancel.
func testActions(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "actions")
	s := f.store

	t.Run("OKAllFields", func(t *testing.T) {
		want := e.clock.Peek()
		a := mustCreateAction(t, s, &capability.TaskAction{
			TaskID: f.task.ID, Title: "Write tests", Notes: "table-driven",
			AssigneeID: f.staff.ID, State: capability.ActionDone,
		})
		e.ids.requireIssued(t, "act", a.ID)
		requireInstant(t, want, a.CreatedAt)
		require.Equal(t, a.CreatedAt, a.UpdatedAt)
		require.Equal(t, a, findAction(t, s, a.ID))
	})

	t.Run("OKDefaultsOpenWithoutAssignee", func(t *testing.T) {
		a := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "Minimal"})
		require.Equal(t, capability.ActionOpen, a.State)
		require.Equal(t, a, findAction(t, s, a.ID))
	})

	t.Run("OKGivenIDAndTimes", func(t *testing.T) {
		created := time.Date(2022, 2, 3, 4, 5, 6, 70809, cet)
		a := mustCreateAction(t, s, &capability.TaskAction{ID: "act_given", TaskID: f.task.ID, Title: "Old",
			State: capability.ActionCancelled, CreatedAt: created, UpdatedAt: created.Add(time.Second)})
		requireInstant(t, created, a.CreatedAt)
		requireInstant(t, created.Add(time.Second), a.UpdatedAt)
		require.Equal(t, a, findAction(t, s, "act_given"))
	})

	t.Run("ErrUnknownTask", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: "tsk_missing", Title: "Orphan"})
		})
		require.Error(t, err, "the task must exist")
	})

	t.Run("ErrUnknownAssignee", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: f.task.ID, Title: "Nobody", AssigneeID: "stf_missing"})
		})
		require.Error(t, err, "the assignee must exist")
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		for name, a := range map[string]capability.TaskAction{
			"state":       {TaskID: f.task.ID, Title: "x", State: "blocked"},
			"empty title": {TaskID: f.task.ID},
		} {
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.CreateTaskAction(ctx, &a) })
			require.Error(t, err, name)
		}
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		a := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "Once"})
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateTaskAction(ctx, &capability.TaskAction{ID: a.ID, TaskID: f.task.ID, Title: "Twice"})
			requireCode(t, capability.CodeAlreadyExists, err)
			got, err := tx.FindTaskActionByID(ctx, a.ID)
			require.NoError(t, err, "the transaction is still usable after the rejection")
			require.Equal(t, a, got, "the duplicate changed nothing")
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindTaskActionByID(ctx, "act_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("OKUpdate", func(t *testing.T) {
		a := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "Draft"})
		changed := *a
		changed.Title, changed.Notes, changed.AssigneeID, changed.State = "Final", "done now", f.staff.ID, capability.ActionDone
		changed.UpdatedAt = a.UpdatedAt.Add(time.Hour)
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskAction(ctx, &changed) })
		require.Equal(t, &changed, findAction(t, s, a.ID))
	})

	t.Run("OKUpdateClearsAssigneeAndStampsUpdatedAt", func(t *testing.T) {
		a := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "Busy", AssigneeID: f.staff.ID})
		a.AssigneeID, a.UpdatedAt = "", time.Time{}
		want := e.clock.Peek()
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskAction(ctx, a) })
		requireInstant(t, want, a.UpdatedAt)
		require.Equal(t, a, findAction(t, s, a.ID))
	})

	t.Run("OKUpdateKeepsTaskAndCreation", func(t *testing.T) {
		a := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "Anchored"})
		changed := *a
		changed.TaskID, changed.CreatedAt, changed.Title = f.other.ID, a.CreatedAt.Add(-time.Hour), "Still here"
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskAction(ctx, &changed) })
		got := findAction(t, s, a.ID)
		require.Equal(t, "Still here", got.Title)
		require.Equal(t, f.task.ID, got.TaskID)
		require.Equal(t, a.CreatedAt, got.CreatedAt)
	})

	t.Run("ErrUpdateInvalidValues", func(t *testing.T) {
		a := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "Stable"})
		for name, spoil := range map[string]func(*capability.TaskAction){
			"state":       func(a *capability.TaskAction) { a.State = "blocked" },
			"empty title": func(a *capability.TaskAction) { a.Title = "" },
			"assignee":    func(a *capability.TaskAction) { a.AssigneeID = "stf_missing" },
		} {
			changed := *a
			spoil(&changed)
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.UpdateTaskAction(ctx, &changed) })
			require.Error(t, err, name)
		}
		require.Equal(t, a, findAction(t, s, a.ID), "nothing changed")
	})

	t.Run("ErrUpdateNotFound", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTaskAction(ctx, &capability.TaskAction{ID: "act_missing", Title: "x", State: capability.ActionOpen})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})

	t.Run("Find", func(t *testing.T) { testFindActions(t, e) })
	t.Run("CancelOpen", func(t *testing.T) { testCancelOpenActions(t, e) })
}

// testFindActions covers FindTaskActions: one task's actions in creation
// order, page by page.
func testFindActions(t *testing.T, e *env) {
	f := newFixture(t, e, "find-actions")
	var mine []string
	for i := range 12 {
		mine = append(mine, mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: fmt.Sprint("step ", i)}).ID)
		mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.other.ID, Title: fmt.Sprint("elsewhere ", i)})
	}
	find := func(taskID string, p capability.Page) []string {
		return ids(read(t, f.store, func(ctx context.Context, tx capability.Tx) ([]*capability.TaskAction, error) {
			return tx.FindTaskActions(ctx, taskID, p)
		}), actionID)
	}

	t.Run("OKPagesOfOneTaskOnly", func(t *testing.T) {
		for _, limit := range []int{1, 5, 12, 13} {
			got, _ := allPages(t, limit, func(p capability.Page) []string { return find(f.task.ID, p) })
			require.Equal(t, mine, got, "limit %d", limit)
		}
		require.Equal(t, mine[:3], find(f.task.ID, capability.Page{Limit: 2}), "Limit+1 rows")
		require.Equal(t, mine[3:], find(f.task.ID, capability.Page{AfterID: mine[2]}))
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		for range 20 {
			mine = append(mine, mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "more"}).ID)
		}
		require.Equal(t, mine[:storecore.DefaultPageLimit+1], find(f.task.ID, capability.Page{}))
	})

	t.Run("OKEmptyTaskIDMatchesNothing", func(t *testing.T) {
		require.Empty(t, find("", capability.Page{}))
		require.Empty(t, find("tsk_missing", capability.Page{}))
	})
}

// testCancelOpenActions covers CancelOpenTaskActions: the task's open
// actions move to cancelled; the rest stay as they were.
func testCancelOpenActions(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "cancel-actions")
	s := f.store
	open1 := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "a"})
	done := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "b", State: capability.ActionDone})
	open2 := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "c"})
	cancelled := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.task.ID, Title: "d", State: capability.ActionCancelled})
	elsewhere := mustCreateAction(t, s, &capability.TaskAction{TaskID: f.other.ID, Title: "e"})
	at := time.Date(2025, 6, 1, 12, 0, 0, 123456789, cet)
	cancel := func(task string, at time.Time) int {
		var n int
		update(t, s, func(tx capability.Tx) error {
			var err error
			n, err = tx.CancelOpenTaskActions(ctx, task, at)
			return err
		})
		return n
	}

	t.Run("OKCountsOpenActions", func(t *testing.T) {
		require.Equal(t, 2, cancel(f.task.ID, at))
		for _, a := range []*capability.TaskAction{open1, open2} {
			got := findAction(t, s, a.ID)
			require.Equal(t, capability.ActionCancelled, got.State)
			requireInstant(t, at, got.UpdatedAt)
			want := *a
			want.State, want.UpdatedAt = capability.ActionCancelled, got.UpdatedAt
			require.Equal(t, &want, got, "nothing else changed")
		}
	})

	t.Run("OKLeavesOthersUntouched", func(t *testing.T) {
		require.Equal(t, done, findAction(t, s, done.ID))
		require.Equal(t, cancelled, findAction(t, s, cancelled.ID))
		require.Equal(t, elsewhere, findAction(t, s, elsewhere.ID), "another task's open action")
	})

	t.Run("OKNothingLeftToCancel", func(t *testing.T) {
		require.Equal(t, 0, cancel(f.task.ID, at))
		require.Equal(t, 0, cancel("tsk_missing", at))
	})

	t.Run("OKZeroTimeStampsFromClock", func(t *testing.T) {
		want := e.clock.Peek()
		require.Equal(t, 1, cancel(f.other.ID, time.Time{}))
		requireInstant(t, want, findAction(t, s, elsewhere.ID).UpdatedAt)
	})
}
