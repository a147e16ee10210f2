package sqlite

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

// findRun reads the run with id and requires it to exist.
func findRun(t testing.TB, s capability.TenantStore, id string) *capability.TaskRun {
	t.Helper()
	var r *capability.TaskRun
	view(t, s, func(tx capability.Tx) error {
		var err error
		r, err = tx.FindTaskRunByID(context.Background(), id)
		return err
	})
	return r
}

func TestCreateTaskRun(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")

	t.Run("OKAllFields", func(t *testing.T) {
		want := clock.Peek().UTC()
		r := mustCreateRun(t, f.store, &capability.TaskRun{
			TaskID: f.task.ID, Branch: "agent/ship-it", Stage: "plan",
			Output: json.RawMessage(`{"pr": 42, "files": ["a.go"]}`),
			State:  json.RawMessage(`{"step":3}`),
		})
		require.Regexp(t, regexp.MustCompile(`^run_[0-9a-f]{32}$`), r.ID)
		require.Equal(t, capability.RunRunning, r.Status, "status defaults to running")
		require.Equal(t, want, r.CreatedAt)
		require.Equal(t, want, r.UpdatedAt)
		require.True(t, r.FinishedAt.IsZero())
		require.Equal(t, r, findRun(t, f.store, r.ID), "JSON comes back byte for byte")
	})

	t.Run("OKOptionalFieldsEmpty", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		got := findRun(t, f.store, r.ID)
		require.Nil(t, got.Output, "NULL JSON reads as nil")
		require.Nil(t, got.State)
		require.Equal(t, r, got)
	})

	t.Run("OKFinishedRunGetsFinishTime", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID, Status: capability.RunFailed, ErrorMessage: "boom"})
		require.Equal(t, r.UpdatedAt, r.FinishedAt)
		require.Equal(t, r, findRun(t, f.store, r.ID))
	})

	t.Run("ErrForeignKeyTask", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskRun(ctx, &capability.TaskRun{TaskID: "tsk_missing"})
		})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrCheckConstraints", func(t *testing.T) {
		for name, r := range map[string]capability.TaskRun{
			"status":               {Status: "paused"},
			"malformed output":     {Output: json.RawMessage(`{"pr":`)},
			"output not an object": {Output: json.RawMessage(`[1, 2]`)},
			"state not an object":  {State: json.RawMessage(`"text"`)},
			"running but finished": {FinishedAt: testEpoch},
		} {
			r.TaskID = f.task.ID
			err := f.store.Update(ctx, func(tx capability.Tx) error { return tx.CreateTaskRun(ctx, &r) })
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_CHECK, sqliteCode(err), name)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskRun(ctx, &capability.TaskRun{ID: r.ID, TaskID: f.task.ID})
		})
		require.Equal(t, capability.CodeAlreadyExists, capability.ErrorCode(err))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, f.store, func(tx capability.Tx) error {
			_, err := tx.FindTaskRunByID(ctx, "run_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})
}

func TestUpdateTaskRun(t *testing.T) {
	ctx := context.Background()
	db, clock := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")

	t.Run("OKProgress", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID, Output: json.RawMessage(`{"a":1}`)})
		changed := *r
		changed.Branch, changed.Stage = "agent/x", "test"
		changed.Output, changed.State = nil, json.RawMessage(`{"cursor": "abc"}`)
		changed.UpdatedAt = r.UpdatedAt.Add(time.Minute)
		update(t, f.store, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, &changed) })
		require.Equal(t, &changed, findRun(t, f.store, r.ID))
	})

	t.Run("OKFinishStampsFromClock", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID, Branch: "b", Stage: "s"})
		r.Status, r.ErrorMessage, r.Stage = capability.RunFailed, "tests failed", ""
		r.UpdatedAt = time.Time{}
		want := clock.Peek().UTC()
		update(t, f.store, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, r) })
		require.Equal(t, want, r.UpdatedAt)
		require.Equal(t, want, r.FinishedAt, "a finished run without a finish time finishes at its update")
		require.Equal(t, r, findRun(t, f.store, r.ID))
	})

	t.Run("OKFinishKeepsGivenTime", func(t *testing.T) {
		r := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		r.Status, r.FinishedAt = capability.RunSucceeded, r.CreatedAt.Add(time.Second)
		update(t, f.store, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, r) })
		require.Equal(t, r, findRun(t, f.store, r.ID))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := f.store.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTaskRun(ctx, &capability.TaskRun{ID: "run_missing", Status: capability.RunRunning})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

func TestFindTaskRuns(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	var mine []string
	for range 9 {
		mine = append(mine, mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID}).ID)
		mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.other.ID})
	}
	find := func(taskID string, p capability.Page) []string {
		var out []*capability.TaskRun
		view(t, f.store, func(tx capability.Tx) error {
			var err error
			out, err = tx.FindTaskRuns(ctx, taskID, p)
			return err
		})
		return ids(out, runID)
	}

	t.Run("OKPagesOfOneTaskOnly", func(t *testing.T) {
		for _, limit := range []int{1, 4, 9, 10} {
			got, _ := allPages(t, limit, func(p capability.Page) []string { return find(f.task.ID, p) })
			require.Equal(t, mine, got, "limit %d", limit)
		}
	})

	t.Run("OKEmptyTaskIDMatchesNothing", func(t *testing.T) {
		require.Empty(t, find("", capability.Page{}))
	})
}

func TestCancelRunningTaskRuns(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	running1 := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID, Stage: "build"})
	succeeded := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID, Status: capability.RunSucceeded})
	running2 := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
	failed := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID, Status: capability.RunFailed, ErrorMessage: "x"})
	elsewhere := mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.other.ID})
	at := testEpoch.Add(24 * time.Hour)

	cancel := func() int {
		var n int
		update(t, f.store, func(tx capability.Tx) error {
			var err error
			n, err = tx.CancelRunningTaskRuns(ctx, f.task.ID, at)
			return err
		})
		return n
	}

	t.Run("OKCountsRunningRuns", func(t *testing.T) {
		require.Equal(t, 2, cancel())
		for _, r := range []*capability.TaskRun{running1, running2} {
			want := *r
			want.Status, want.UpdatedAt, want.FinishedAt = capability.RunCancelled, at.UTC(), at.UTC()
			require.Equal(t, &want, findRun(t, f.store, r.ID))
		}
	})

	t.Run("OKLeavesFinishedRunsUntouched", func(t *testing.T) {
		require.Equal(t, succeeded, findRun(t, f.store, succeeded.ID))
		require.Equal(t, failed, findRun(t, f.store, failed.ID))
		require.Equal(t, elsewhere, findRun(t, f.store, elsewhere.ID), "another task's running run")
	})

	t.Run("OKNothingLeftToCancel", func(t *testing.T) {
		require.Equal(t, 0, cancel())
	})
}
