package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// findRun reads the run with id and requires it to exist.
func findRun(t testing.TB, s capability.TenantStore, id string) *capability.TaskRun {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.TaskRun, error) {
		return tx.FindTaskRunByID(ctx, id)
	})
}

// testRuns covers task runs: create, find, list, update and cancel.
func testRuns(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "runs")
	s := f.store

	t.Run("OKAllFields", func(t *testing.T) {
		want := e.clock.Peek()
		r := mustCreateRun(t, s, &capability.TaskRun{
			TaskID: f.task.ID, Branch: "agent/ship-it", Stage: "plan",
			Output: json.RawMessage(`{"pr": 42,  "files": ["a.go"], "a": null}`),
			State:  json.RawMessage(`{"step":3}`),
		})
		e.ids.requireIssued(t, "run", r.ID)
		require.Equal(t, capability.RunRunning, r.Status, "status defaults to running")
		requireInstant(t, want, r.CreatedAt)
		require.Equal(t, r.CreatedAt, r.UpdatedAt)
		require.True(t, r.FinishedAt.IsZero())
		got := findRun(t, s, r.ID)
		require.Equal(t, r, got)
		require.Equal(t, `{"pr": 42,  "files": ["a.go"], "a": null}`, string(got.Output), "JSON comes back byte for byte")
	})

	t.Run("OKOptionalFieldsEmpty", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		got := findRun(t, s, r.ID)
		require.Nil(t, got.Output, "no JSON reads as nil")
		require.Nil(t, got.State)
		require.Equal(t, r, got)
	})

	t.Run("OKFinishedRunGetsFinishTime", func(t *testing.T) {
		for _, status := range []string{capability.RunSucceeded, capability.RunFailed, capability.RunCancelled} {
			r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Status: status, ErrorMessage: "boom"})
			require.Equal(t, r.UpdatedAt, r.FinishedAt, "a final status finishes at its update")
			require.Equal(t, r, findRun(t, s, r.ID))
		}
	})

	t.Run("OKGivenIDAndTimes", func(t *testing.T) {
		created := time.Date(2023, 3, 4, 5, 6, 7, 8091011, cet)
		r := mustCreateRun(t, s, &capability.TaskRun{ID: "run_given", TaskID: f.task.ID, Status: capability.RunSucceeded,
			CreatedAt: created, UpdatedAt: created.Add(time.Minute), FinishedAt: created.Add(2 * time.Minute)})
		requireInstant(t, created, r.CreatedAt)
		requireInstant(t, created.Add(time.Minute), r.UpdatedAt)
		requireInstant(t, created.Add(2*time.Minute), r.FinishedAt)
		require.Equal(t, r, findRun(t, s, "run_given"))
	})

	t.Run("ErrUnknownTask", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTaskRun(ctx, &capability.TaskRun{TaskID: "tsk_missing"})
		})
		require.Error(t, err, "the task must exist")
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		for name, r := range map[string]capability.TaskRun{
			"status":               {Status: "paused"},
			"malformed output":     {Output: json.RawMessage(`{"pr":`)},
			"output not an object": {Output: json.RawMessage(`[1, 2]`)},
			"state not an object":  {State: json.RawMessage(`"text"`)},
			"malformed state":      {State: json.RawMessage(`{"a":1}}`)},
			"running but finished": {FinishedAt: epoch},
		} {
			r.TaskID = f.task.ID
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.CreateTaskRun(ctx, &r) })
			require.Error(t, err, name)
		}
	})

	t.Run("ErrAlreadyExistsSameID", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		update(t, s, func(tx capability.Tx) error {
			err := tx.CreateTaskRun(ctx, &capability.TaskRun{ID: r.ID, TaskID: f.task.ID, Branch: "other"})
			requireCode(t, capability.CodeAlreadyExists, err)
			got, err := tx.FindTaskRunByID(ctx, r.ID)
			require.NoError(t, err, "the transaction is still usable after the rejection")
			require.Equal(t, r, got, "the duplicate changed nothing")
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindTaskRunByID(ctx, "run_missing")
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("Update", func(t *testing.T) { testUpdateRun(t, e, f) })
	t.Run("Find", func(t *testing.T) { testFindRuns(t, e) })
	t.Run("CancelRunning", func(t *testing.T) { testCancelRunningRuns(t, e) })
}

// testUpdateRun covers UpdateTaskRun: progress, finishing, and the fields
// that never change.
func testUpdateRun(t *testing.T, e *env, f fixture) {
	ctx := context.Background()
	s := f.store

	t.Run("OKProgress", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Output: json.RawMessage(`{"a":1}`)})
		changed := *r
		changed.Branch, changed.Stage = "agent/x", "test"
		changed.Output, changed.State = nil, json.RawMessage(`{"cursor": "abc"}`)
		changed.UpdatedAt = r.UpdatedAt.Add(time.Minute)
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, &changed) })
		require.Equal(t, &changed, findRun(t, s, r.ID))
	})

	t.Run("OKFinishStampsFromClock", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Branch: "b", Stage: "s"})
		r.Status, r.ErrorMessage, r.Stage = capability.RunFailed, "tests failed", ""
		r.UpdatedAt = time.Time{}
		want := e.clock.Peek()
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, r) })
		requireInstant(t, want, r.UpdatedAt)
		require.Equal(t, r.UpdatedAt, r.FinishedAt, "a finished run without a finish time finishes at its update")
		require.Equal(t, r, findRun(t, s, r.ID))
	})

	t.Run("OKFinishKeepsGivenTime", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		finished := r.CreatedAt.Add(time.Second + 1).In(cet)
		r.Status, r.FinishedAt = capability.RunSucceeded, finished
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, r) })
		requireInstant(t, finished, r.FinishedAt)
		require.Equal(t, r, findRun(t, s, r.ID))
	})

	t.Run("OKKeepsTaskAndCreation", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
		changed := *r
		changed.TaskID, changed.CreatedAt, changed.Stage = f.other.ID, r.CreatedAt.Add(-time.Hour), "build"
		update(t, s, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, &changed) })
		got := findRun(t, s, r.ID)
		require.Equal(t, "build", got.Stage)
		require.Equal(t, f.task.ID, got.TaskID)
		require.Equal(t, r.CreatedAt, got.CreatedAt)
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		r := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Stage: "stable"})
		for name, spoil := range map[string]func(*capability.TaskRun){
			"status":               func(r *capability.TaskRun) { r.Status = "paused" },
			"output not an object": func(r *capability.TaskRun) { r.Output = json.RawMessage(`[1]`) },
			"malformed state":      func(r *capability.TaskRun) { r.State = json.RawMessage(`{"a":`) },
			"running but finished": func(r *capability.TaskRun) { r.FinishedAt = r.CreatedAt },
		} {
			changed := *r
			spoil(&changed)
			err := s.Update(ctx, func(tx capability.Tx) error { return tx.UpdateTaskRun(ctx, &changed) })
			require.Error(t, err, name)
		}
		require.Equal(t, r, findRun(t, s, r.ID), "nothing changed")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			return tx.UpdateTaskRun(ctx, &capability.TaskRun{ID: "run_missing", Status: capability.RunRunning})
		})
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}

// testFindRuns covers FindTaskRuns: one task's runs in creation order, page
// by page.
func testFindRuns(t *testing.T, e *env) {
	f := newFixture(t, e, "find-runs")
	var mine []string
	for range 9 {
		mine = append(mine, mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID}).ID)
		mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.other.ID})
	}
	find := func(taskID string, p capability.Page) []string {
		return ids(read(t, f.store, func(ctx context.Context, tx capability.Tx) ([]*capability.TaskRun, error) {
			return tx.FindTaskRuns(ctx, taskID, p)
		}), runID)
	}

	t.Run("OKPagesOfOneTaskOnly", func(t *testing.T) {
		for _, limit := range []int{1, 4, 9, 10} {
			got, _ := allPages(t, limit, func(p capability.Page) []string { return find(f.task.ID, p) })
			require.Equal(t, mine, got, "limit %d", limit)
		}
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		for range storecore.DefaultPageLimit {
			mine = append(mine, mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID}).ID)
		}
		require.Equal(t, mine[:storecore.DefaultPageLimit+1], find(f.task.ID, capability.Page{}))
	})

	t.Run("OKEmptyTaskIDMatchesNothing", func(t *testing.T) {
		require.Empty(t, find("", capability.Page{}))
		require.Empty(t, find("tsk_missing", capability.Page{}))
	})
}

// testCancelRunningRuns covers CancelRunningTaskRuns: the task's running
// runs are cancelled and finished; the rest stay as they were.
func testCancelRunningRuns(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "cancel-runs")
	s := f.store
	running1 := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Stage: "build"})
	succeeded := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Status: capability.RunSucceeded})
	running2 := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
	failed := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID, Status: capability.RunFailed, ErrorMessage: "x"})
	elsewhere := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.other.ID})
	at := time.Date(2025, 6, 1, 12, 0, 0, 123456789, cet)
	cancel := func(task string, at time.Time) int {
		var n int
		update(t, s, func(tx capability.Tx) error {
			var err error
			n, err = tx.CancelRunningTaskRuns(ctx, task, at)
			return err
		})
		return n
	}

	t.Run("OKCountsRunningRuns", func(t *testing.T) {
		require.Equal(t, 2, cancel(f.task.ID, at))
		for _, r := range []*capability.TaskRun{running1, running2} {
			got := findRun(t, s, r.ID)
			requireInstant(t, at, got.UpdatedAt)
			want := *r
			want.Status, want.UpdatedAt, want.FinishedAt = capability.RunCancelled, got.UpdatedAt, got.UpdatedAt
			require.Equal(t, &want, got, "cancelled, finished at its update, nothing else changed")
		}
	})

	t.Run("OKLeavesFinishedRunsUntouched", func(t *testing.T) {
		require.Equal(t, succeeded, findRun(t, s, succeeded.ID))
		require.Equal(t, failed, findRun(t, s, failed.ID))
		require.Equal(t, elsewhere, findRun(t, s, elsewhere.ID), "another task's running run")
	})

	t.Run("OKNothingLeftToCancel", func(t *testing.T) {
		require.Equal(t, 0, cancel(f.task.ID, at))
		require.Equal(t, 0, cancel("tsk_missing", at))
	})

	t.Run("OKZeroTimeStampsFromClock", func(t *testing.T) {
		want := e.clock.Peek()
		require.Equal(t, 1, cancel(f.other.ID, time.Time{}))
		got := findRun(t, s, elsewhere.ID)
		requireInstant(t, want, got.UpdatedAt)
		require.Equal(t, got.UpdatedAt, got.FinishedAt)
	})
}
