package sqlite

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCreateTaskAction(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")

	t.Run("OKAllFields", func(t *testing.T) {
		want := clock.Peek().UTC()
		a := mustCreateAction(t, f.store, &capability.TaskAction{
			TaskID: f.task.ID, Title: "Write tests", Notes: "table-driven",
			AssigneeID: f.staff.ID, State: capability.ActionDone,
		})
		require.Regexp(t, regexp.MustCompile(`^act_[0-9a-f]{32}$`), a.ID)
		require.Equal(t, want, a.CreatedAt)
		require.Equal(t, want, a.UpdatedAt)
		view(t, f.store, func(tx capability.Tx) error {
			got, err := tx.FindTaskActionByID(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, a, got)
			return nil
		})
	})

	t.Run("OKDefaultsOpenWithoutAssignee", func(t *testing.T) {
		a := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "Minimal"})
		require.Equal(t, capability.ActionOpen, a.State)
		view(t, f.store, func(tx capability.Tx) error {
			got, err := tx.FindTaskActionByID(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, a, got)
			return nil
		})
	})

	t.Run("ErrForeignKeyTask", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: "tsk_missing", Title: "Orphan"})
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrForeignKeyAssignee", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: f.task.ID, Title: "Nobody", AssigneeID: "stf_missing"})
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrCheckConstraints", func(t *testing.T) {
		for name, a := range map[string]capability.TaskAction{
			"state":       {TaskID: f.task.ID, Title: "x", State: "blocked"},
			"empty title": {TaskID: f.task.ID},
		} {
			err := f.store.Update(ctx, func(tx capability.Tx) error { return tx.CreateTaskAction(ctx, &a) })
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_CHECK, sqliteCode(err), name)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		a := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "Once"})
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskAction(ctx, &capability.TaskAction{ID: a.ID, TaskID: f.task.ID, Title: "Twice"})
		})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, f.store, func(tx capability.Tx) error {
			_, err := tx.FindTaskActionByID(ctx, "act_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestUpdateTaskAction(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")

	t.Run("OK", func(t *testing.T) {
		a := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "Draft"})
		changed := *a
		changed.Title, changed.Notes, changed.AssigneeID, changed.State = "Final", "done now", f.staff.ID, capability.ActionDone
		changed.UpdatedAt = a.UpdatedAt.Add(time.Hour)
		update(t, f.store, func(tx capability.Tx) error { return tx.UpdateTaskAction(ctx, &changed) })
		view(t, f.store, func(tx capability.Tx) error {
			got, err := tx.FindTaskActionByID(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, &changed, got)
			return nil
		})
	})

	t.Run("OKClearsAssigneeAndStampsUpdatedAt", func(t *testing.T) {
		a := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "Busy", AssigneeID: f.staff.ID})
		a.AssigneeID, a.UpdatedAt = "", time.Time{}
		want := clock.Peek().UTC()
		update(t, f.store, func(tx capability.Tx) error { return tx.UpdateTaskAction(ctx, a) })
		require.Equal(t, want, a.UpdatedAt)
		view(t, f.store, func(tx capability.Tx) error {
			got, err := tx.FindTaskActionByID(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, a, got)
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTaskAction(ctx, &capability.TaskAction{ID: "act_missing", Title: "x", State: capability.ActionOpen})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

func TestFindTaskActions(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	var mine []string
	for i := range 12 {
		mine = append(mine, mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: fmt.Sprint("step ", i)}).ID)
		mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.other.ID, Title: fmt.Sprint("elsewhere ", i)})
	}
	find := func(taskID string, p capability.Page) []string {
		var out []*capability.TaskAction
		view(t, f.store, func(tx capability.Tx) error {
			var err error
			out, err = tx.FindTaskActions(ctx, taskID, p)
			return err
		})
		return ids(out, actionID)
	}

	t.Run("OKPagesOfOneTaskOnly", func(t *testing.T) {
		for _, limit := range []int{1, 5, 12, 13} {
			got, _ := allPages(t, limit, func(p capability.Page) []string { return find(f.task.ID, p) })
			require.Equal(t, mine, got, "limit %d", limit)
		}
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		for range 20 {
			mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "more"})
		}
		require.Len(t, find(f.task.ID, capability.Page{}), DefaultPageLimit+1)
	})

	t.Run("OKEmptyTaskIDMatchesNothing", func(t *testing.T) {
		require.Empty(t, find("", capability.Page{}))
	})
}

func TestCancelOpenTaskActions(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	open1 := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "a"})
	done := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "b", State: capability.ActionDone})
	open2 := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "c"})
	cancelled := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "d", State: capability.ActionCancelled})
	elsewhere := mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.other.ID, Title: "e"})
	at := testEpoch.Add(24 * time.Hour)

	cancel := func() int {
		var n int
		update(t, f.store, func(tx capability.Tx) error {
			var err error
			n, err = tx.CancelOpenTaskActions(ctx, f.task.ID, at)
			return err
		})
		return n
	}
	find := func(id string) *capability.TaskAction {
		var a *capability.TaskAction
		view(t, f.store, func(tx capability.Tx) error {
			var err error
			a, err = tx.FindTaskActionByID(ctx, id)
			return err
		})
		return a
	}

	t.Run("OKCountsOpenActions", func(t *testing.T) {
		require.Equal(t, 2, cancel())
		for _, a := range []*capability.TaskAction{open1, open2} {
			got := find(a.ID)
			require.Equal(t, capability.ActionCancelled, got.State)
			require.Equal(t, at.UTC(), got.UpdatedAt)
		}
	})

	t.Run("OKLeavesOthersUntouched", func(t *testing.T) {
		require.Equal(t, done, find(done.ID))
		require.Equal(t, cancelled, find(cancelled.ID))
		require.Equal(t, elsewhere, find(elsewhere.ID), "another task's open action")
	})

	t.Run("OKNothingLeftToCancel", func(t *testing.T) {
		require.Equal(t, 0, cancel())
	})
}
