package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testTenantIsolation: a row written in one tenant is never visible through
// another tenant's store, by id or in any list; an id of one tenant is
// not_found in another, for reads and updates alike; and nothing of one
// tenant can be referenced from another.
func testTenantIsolation(t *testing.T, e *env) {
	ctx := context.Background()
	a := newFixture(t, e, "tenant-a")
	b := newFixture(t, e, "tenant-b")

	// Everything a tenant can hold, in A; B holds its own of each kind.
	seed := func(f fixture) (action *capability.TaskAction, run *capability.TaskRun, artifact *capability.RunArtifact) {
		assigned := mustCreateTask(t, f.store, &capability.Task{ProjectID: f.project.ID, Title: "Classified",
			AssigneeID: f.staff.ID, Priority: "high", DueDate: "2025-04-01", Status: capability.TaskDoing})
		action = mustCreateAction(t, f.store, &capability.TaskAction{TaskID: f.task.ID, Title: "Secret step", AssigneeID: f.staff.ID})
		run = mustCreateRun(t, f.store, &capability.TaskRun{TaskID: f.task.ID})
		mustAppendLog(t, f.store, run.ID, logLines("secret", 3)...)
		artifact = mustCreateArtifact(t, f.store, newArtifact(run.ID, "secret.txt", []byte("classified")))
		update(t, f.store, func(tx capability.Tx) error {
			if err := tx.SaveTaskDetails(ctx, &capability.TaskDetails{TaskID: f.task.ID, Labels: []string{"secret"}}); err != nil {
				return err
			}
			return tx.SaveIdempotentResult(ctx, &capability.IdempotentResult{Key: "shared-key", Capability: "c@1.0.0",
				ArgsHash: "h-" + assigned.ID, Result: []byte(`{"tenant":"` + assigned.ID + `"}`)})
		})
		return action, run, artifact
	}
	aAction, aRun, aArtifact := seed(a)
	bAction, bRun, bArtifact := seed(b)
	aSnapshot := snapshotTenant(t, a.store)
	bSnapshot := snapshotTenant(t, b.store)

	t.Run("ErrNotFoundByID", func(t *testing.T) {
		view(t, b.store, func(tx capability.Tx) error {
			for name, find := range map[string]func() error{
				"project":         func() error { _, err := tx.FindProjectByID(ctx, a.project.ID); return err },
				"staff":           func() error { _, err := tx.FindStaffByID(ctx, a.staff.ID); return err },
				"task":            func() error { _, err := tx.FindTaskByID(ctx, a.task.ID); return err },
				"action":          func() error { _, err := tx.FindTaskActionByID(ctx, aAction.ID); return err },
				"run":             func() error { _, err := tx.FindTaskRunByID(ctx, aRun.ID); return err },
				"artifact":        func() error { _, err := tx.FindRunArtifactByID(ctx, aArtifact.ID); return err },
				"details":         func() error { _, err := tx.FindTaskDetails(ctx, a.task.ID); return err },
				"other's details": func() error { _, err := tx.FindTaskDetails(ctx, a.other.ID); return err },
			} {
				require.ErrorIs(t, find(), capability.ErrNotFound, name)
			}
			return nil
		})
	})

	t.Run("OKListsHoldOwnRowsOnly", func(t *testing.T) {
		aIDs, bIDs := aSnapshot.ids(), bSnapshot.ids()
		for _, id := range []string{b.project.ID, b.staff.ID, b.task.ID, b.other.ID, bAction.ID, bRun.ID, bArtifact.ID} {
			require.True(t, bIDs[id], "B lists its own %s", id)
		}
		for id := range aIDs {
			require.False(t, bIDs[id], "B lists A's %s", id)
		}
		require.Len(t, aIDs, len(bIDs), "both tenants hold the same kinds and numbers of rows")
		view(t, b.store, func(tx capability.Tx) error {
			tasks, err := tx.FindTasks(ctx, capability.TaskFilter{ProjectID: a.project.ID})
			require.NoError(t, err)
			require.Empty(t, tasks, "by A's project")
			tasks, err = tx.FindTasks(ctx, capability.TaskFilter{AssigneeID: a.staff.ID})
			require.NoError(t, err)
			require.Empty(t, tasks, "by A's staff")
			counts, err := tx.CountTasksByStatus(ctx, a.project.ID)
			require.NoError(t, err)
			require.Equal(t, map[string]int{"todo": 0, "doing": 0, "waiting": 0, "review": 0, "done": 0, "cancelled": 0}, counts)
			actions, err := tx.FindTaskActions(ctx, a.task.ID, capability.Page{})
			require.NoError(t, err)
			require.Empty(t, actions)
			runs, err := tx.FindTaskRuns(ctx, a.task.ID, capability.Page{})
			require.NoError(t, err)
			require.Empty(t, runs)
			entries, err := tx.FindRunLog(ctx, aRun.ID, 0, 0)
			require.NoError(t, err)
			require.Empty(t, entries)
			last, err := tx.LastRunLogSeq(ctx, aRun.ID)
			require.NoError(t, err)
			require.Zero(t, last)
			artifacts, err := tx.FindRunArtifacts(ctx, aRun.ID)
			require.NoError(t, err)
			require.Empty(t, artifacts)
			return nil
		})
	})

	t.Run("OKSameNamesAndKeysInBothTenants", func(t *testing.T) {
		require.Equal(t, a.project.Name, b.project.Name, "each tenant has a project named Website")
		require.Equal(t, []int64{1, 2, 3}, seqs(readLog(t, b.store, bRun.ID, 0, 0)), "each run numbers its log from 1")
		aKey := findIdempotent(t, a.store, "shared-key")
		bKey := findIdempotent(t, b.store, "shared-key")
		require.NotEqual(t, aKey.Result, bKey.Result, "an idempotency key is per tenant")
	})

	t.Run("ErrUpdatesDoNotReach", func(t *testing.T) {
		for name, write := range map[string]func(tx capability.Tx) error{
			"task": func(tx capability.Tx) error {
				task := *a.task
				task.Title = "hijacked"
				return tx.UpdateTask(ctx, &task)
			},
			"action": func(tx capability.Tx) error {
				act := *aAction
				act.Title = "hijacked"
				return tx.UpdateTaskAction(ctx, &act)
			},
			"run": func(tx capability.Tx) error {
				run := *aRun
				run.Stage = "hijacked"
				return tx.UpdateTaskRun(ctx, &run)
			},
		} {
			require.ErrorIs(t, b.store.Update(ctx, write), capability.ErrNotFound, name)
		}
		update(t, b.store, func(tx capability.Tx) error {
			n, err := tx.CancelOpenTaskActions(ctx, a.task.ID, time.Time{})
			require.NoError(t, err)
			require.Zero(t, n, "cancelling A's task's actions through B")
			n, err = tx.CancelRunningTaskRuns(ctx, a.task.ID, time.Time{})
			require.NoError(t, err)
			require.Zero(t, n, "cancelling A's task's runs through B")
			return nil
		})
	})

	t.Run("ErrCannotReferenceOtherTenant", func(t *testing.T) {
		for name, write := range map[string]func(tx capability.Tx) error{
			"task in A's project": func(tx capability.Tx) error {
				return tx.CreateTask(ctx, &capability.Task{ProjectID: a.project.ID, Title: "Smuggled"})
			},
			"task for A's staff": func(tx capability.Tx) error {
				return tx.CreateTask(ctx, &capability.Task{ProjectID: b.project.ID, Title: "Smuggled", AssigneeID: a.staff.ID})
			},
			"action of A's task": func(tx capability.Tx) error {
				return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: a.task.ID, Title: "x"})
			},
			"action for A's staff": func(tx capability.Tx) error {
				return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: b.task.ID, Title: "x", AssigneeID: a.staff.ID})
			},
			"run of A's task":     func(tx capability.Tx) error { return tx.CreateTaskRun(ctx, &capability.TaskRun{TaskID: a.task.ID}) },
			"log of A's run":      func(tx capability.Tx) error { return tx.AppendRunLog(ctx, aRun.ID, logLines("x", 1)) },
			"artifact of A's run": func(tx capability.Tx) error { return tx.CreateRunArtifact(ctx, newArtifact(aRun.ID, "x", []byte("x"))) },
			"details of A's task": func(tx capability.Tx) error {
				return tx.SaveTaskDetails(ctx, &capability.TaskDetails{TaskID: a.other.ID})
			},
		} {
			require.Error(t, b.store.Update(ctx, write), name)
		}
	})

	t.Run("OKNothingChanged", func(t *testing.T) {
		require.Equal(t, aSnapshot, snapshotTenant(t, a.store), "B's attempts left A as it was")
		require.Equal(t, bSnapshot, snapshotTenant(t, b.store), "and wrote nothing into B")
		require.Equal(t, bAction, findAction(t, b.store, bAction.ID))
		require.Equal(t, bArtifact.SHA256, findArtifact(t, b.store, bArtifact.ID).SHA256)
	})
}

// tenantSnapshot is everything a tenant's lists and lookups return, for
// comparing a tenant before and after.
type tenantSnapshot struct {
	Projects  []*capability.Project
	Staff     []*capability.Staff
	Tasks     []*capability.Task
	Counts    map[string]int
	Actions   map[string][]*capability.TaskAction
	Runs      map[string][]*capability.TaskRun
	Logs      map[string][]*capability.RunLogEntry
	Artifacts map[string][]*capability.RunArtifact
	Details   map[string]*capability.TaskDetails
	Keys      *capability.IdempotentResult
}

// ids returns the id of every row in the snapshot.
func (s tenantSnapshot) ids() map[string]bool {
	out := map[string]bool{}
	for _, p := range s.Projects {
		out[p.ID] = true
	}
	for _, st := range s.Staff {
		out[st.ID] = true
	}
	for _, task := range s.Tasks {
		out[task.ID] = true
	}
	for _, acts := range s.Actions {
		for _, a := range acts {
			out[a.ID] = true
		}
	}
	for _, runs := range s.Runs {
		for _, r := range runs {
			out[r.ID] = true
		}
	}
	for _, arts := range s.Artifacts {
		for _, a := range arts {
			out[a.ID] = true
		}
	}
	return out
}

// snapshotTenant reads everything of a tenant through its list methods.
func snapshotTenant(t testing.TB, s capability.TenantStore) tenantSnapshot {
	t.Helper()
	ctx := context.Background()
	snap := tenantSnapshot{
		Actions: map[string][]*capability.TaskAction{}, Runs: map[string][]*capability.TaskRun{},
		Logs: map[string][]*capability.RunLogEntry{}, Artifacts: map[string][]*capability.RunArtifact{},
		Details: map[string]*capability.TaskDetails{},
	}
	all := capability.Page{Limit: 1000}
	view(t, s, func(tx capability.Tx) error {
		var err error
		if snap.Projects, err = tx.FindProjects(ctx, capability.ProjectFilter{Page: all}); err != nil {
			return err
		}
		if snap.Staff, err = tx.FindStaff(ctx, capability.StaffFilter{Page: all}); err != nil {
			return err
		}
		if snap.Tasks, err = tx.FindTasks(ctx, capability.TaskFilter{Page: all}); err != nil {
			return err
		}
		if snap.Counts, err = tx.CountTasksByStatus(ctx, ""); err != nil {
			return err
		}
		for _, task := range snap.Tasks {
			if snap.Actions[task.ID], err = tx.FindTaskActions(ctx, task.ID, all); err != nil {
				return err
			}
			if snap.Runs[task.ID], err = tx.FindTaskRuns(ctx, task.ID, all); err != nil {
				return err
			}
			d, err := tx.FindTaskDetails(ctx, task.ID)
			if err == nil {
				snap.Details[task.ID] = d
			}
			for _, r := range snap.Runs[task.ID] {
				if snap.Logs[r.ID], err = tx.FindRunLog(ctx, r.ID, 0, 1000); err != nil {
					return err
				}
				if snap.Artifacts[r.ID], err = tx.FindRunArtifacts(ctx, r.ID); err != nil {
					return err
				}
			}
		}
		snap.Keys, err = tx.FindIdempotentResult(ctx, "shared-key")
		return err
	})
	return snap
}
