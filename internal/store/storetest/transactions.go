package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testTransactions covers View and Update: a rejected or panicking Update
// writes nothing, View cannot write, and a View reads one snapshot.
func testTransactions(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "transactions")
	s := f.store
	run := mustCreateRun(t, s, &capability.TaskRun{TaskID: f.task.ID})
	errReject := errors.New("rejected")
	projectNamed := func(t *testing.T, name string) error {
		t.Helper()
		return s.View(ctx, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, name)
			return err
		})
	}

	t.Run("ErrRolledBackOnError", func(t *testing.T) {
		tasks := countTasks(t, s)
		err := s.Update(ctx, func(tx capability.Tx) error {
			p := &capability.Project{Name: "Doomed"}
			require.NoError(t, tx.CreateProject(ctx, p))
			require.NoError(t, tx.CreateTask(ctx, &capability.Task{ProjectID: p.ID, Title: "Doomed too"}))
			task := *f.task
			task.Status = capability.TaskDone
			require.NoError(t, tx.UpdateTask(ctx, &task))
			require.NoError(t, tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: f.task.ID, Title: "Doomed step"}))
			return errReject
		})
		require.ErrorIs(t, err, errReject, "fn's error comes back unchanged")
		require.ErrorIs(t, projectNamed(t, "Doomed"), capability.ErrNotFound)
		require.Equal(t, tasks, countTasks(t, s))
		require.Equal(t, f.task, findTask(t, s, f.task.ID))
		require.Empty(t, read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.TaskAction, error) {
			return tx.FindTaskActions(ctx, f.task.ID, capability.Page{})
		}))
	})

	t.Run("ErrRolledBackOnApplicationError", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			require.NoError(t, tx.CreateProject(ctx, &capability.Project{Name: "Rejected"}))
			return capability.Errorf(capability.CodeInvalidTransition, "no")
		})
		requireCode(t, capability.CodeInvalidTransition, err)
		require.ErrorIs(t, projectNamed(t, "Rejected"), capability.ErrNotFound)
	})

	t.Run("ErrRolledBackAfterFailedStatement", func(t *testing.T) {
		err := s.Update(ctx, func(tx capability.Tx) error {
			require.NoError(t, tx.CreateProject(ctx, &capability.Project{Name: "Half done"}))
			return tx.CreateTask(ctx, &capability.Task{ProjectID: "prj_missing", Title: "Orphan"})
		})
		require.Error(t, err)
		require.ErrorIs(t, projectNamed(t, "Half done"), capability.ErrNotFound, "the earlier write went too")
	})

	t.Run("ErrRolledBackOnPanic", func(t *testing.T) {
		require.PanicsWithValue(t, "boom", func() {
			_ = s.Update(ctx, func(tx capability.Tx) error {
				require.NoError(t, tx.CreateProject(ctx, &capability.Project{Name: "Panicked"}))
				panic("boom")
			})
		})
		require.ErrorIs(t, projectNamed(t, "Panicked"), capability.ErrNotFound)
		// The writer was released: the next write works.
		mustCreateProject(t, s, "After panic")
	})

	t.Run("ErrPanicInView", func(t *testing.T) {
		require.PanicsWithValue(t, "boom", func() {
			_ = s.View(ctx, func(tx capability.Tx) error { panic("boom") })
		})
		require.NoError(t, projectNamed(t, "After panic"))
	})

	t.Run("ErrWriteInView", func(t *testing.T) {
		for name, write := range map[string]func(tx capability.Tx) error{
			"project": func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "Sneaky"}) },
			"task update": func(tx capability.Tx) error {
				task := *f.task
				task.Title = "Sneaky"
				return tx.UpdateTask(ctx, &task)
			},
			"log": func(tx capability.Tx) error {
				return tx.AppendRunLog(ctx, run.ID, logLines("sneaky", 1))
			},
		} {
			require.Error(t, s.View(ctx, write), name)
		}
		require.ErrorIs(t, projectNamed(t, "Sneaky"), capability.ErrNotFound)
		require.Equal(t, f.task, findTask(t, s, f.task.ID))
		require.Zero(t, lastSeq(t, s, run.ID))
	})

	t.Run("OKViewReturnsFnError", func(t *testing.T) {
		require.ErrorIs(t, s.View(ctx, func(capability.Tx) error { return errReject }), errReject)
	})

	t.Run("OKViewSeesCommittedWrites", func(t *testing.T) {
		p := mustCreateProject(t, s, "Visible")
		require.NoError(t, projectNamed(t, p.Name))
	})

	t.Run("OKUpdateSeesItsOwnWrites", func(t *testing.T) {
		update(t, s, func(tx capability.Tx) error {
			p := &capability.Project{Name: "Own write"}
			require.NoError(t, tx.CreateProject(ctx, p))
			got, err := tx.FindProjectByName(ctx, "OWN WRITE")
			require.NoError(t, err)
			require.Equal(t, p, got)
			task := *f.other
			task.Status = capability.TaskDoing
			require.NoError(t, tx.UpdateTask(ctx, &task))
			counts, err := tx.CountTasksByStatus(ctx, f.project.ID)
			require.NoError(t, err)
			require.Equal(t, 1, counts[capability.TaskDoing])
			return nil
		})
	})

	t.Run("OKViewReadsOneSnapshot", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			before, err := tx.FindProjects(ctx, capability.ProjectFilter{Page: capability.Page{Limit: 100}})
			require.NoError(t, err)
			beforeCount, err := tx.CountTasksByStatus(ctx, "")
			require.NoError(t, err)

			// A write commits while the View is open...
			update(t, s, func(tx capability.Tx) error {
				p := &capability.Project{Name: "Concurrent"}
				if err := tx.CreateProject(ctx, p); err != nil {
					return err
				}
				return tx.CreateTask(ctx, &capability.Task{ProjectID: p.ID, Title: "Concurrent"})
			})
			require.NoError(t, projectNamed(t, "Concurrent"), "committed, and visible to a new View")

			// ...and the View goes on reading what it read before.
			after, err := tx.FindProjects(ctx, capability.ProjectFilter{Page: capability.Page{Limit: 100}})
			require.NoError(t, err)
			require.Equal(t, before, after)
			_, err = tx.FindProjectByName(ctx, "Concurrent")
			require.ErrorIs(t, err, capability.ErrNotFound)
			afterCount, err := tx.CountTasksByStatus(ctx, "")
			require.NoError(t, err)
			require.Equal(t, beforeCount, afterCount)
			return nil
		})
	})
}
