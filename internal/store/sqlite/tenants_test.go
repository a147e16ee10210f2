package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

func TestTenant(t *testing.T) {
	ctx := context.Background()

	t.Run("OKCreatesDatabaseOnFirstUse", func(t *testing.T) {
		dir := t.TempDir()
		db, _ := openTestDB(t, Options{Dir: dir})
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
		require.False(t, fileExists(filepath.Join(dir, "tenants", "acme.db")))
		_, err := db.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		require.True(t, fileExists(filepath.Join(dir, "tenants", "acme.db")))
		require.Equal(t, 1, db.Tenants().OpenCount())
	})

	t.Run("ErrNotFoundCreatesNoFile", func(t *testing.T) {
		dir := t.TempDir()
		db, _ := openTestDB(t, Options{Dir: dir})
		_, err := db.Tenants().Tenant(ctx, "ghost")
		require.ErrorIs(t, err, capability.ErrNotFound)
		require.False(t, fileExists(filepath.Join(dir, "tenants", "ghost.db")))
		require.Equal(t, 0, db.Tenants().OpenCount())
	})

	t.Run("ErrInvalidSlug", func(t *testing.T) {
		dir := t.TempDir()
		db, _ := openTestDB(t, Options{Dir: dir})
		for _, slug := range []string{"", "a", "../acme", "Acme", "acme.db", "-acme", "ac/me", "ac me", "acme\x00"} {
			_, err := db.Tenants().Tenant(ctx, slug)
			require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err), "slug %q", slug)
		}
		entries, err := os.ReadDir(filepath.Join(dir, "tenants"))
		require.NoError(t, err)
		require.Empty(t, entries)
	})

	t.Run("ErrAfterClose", func(t *testing.T) {
		db, err := Open(ctx, Options{Dir: t.TempDir()})
		require.NoError(t, err)
		store := createTenant(t, db, "acme")
		require.NoError(t, db.Close())
		require.Error(t, store.View(ctx, func(capability.Tx) error { return nil }))
		_, err = db.Tenants().Tenant(ctx, "acme")
		require.Error(t, err)
		require.NoError(t, db.Close(), "Close is idempotent")
	})
}

func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, _ := openTestDB(t, Options{Dir: dir})
	a := createTenant(t, db, "tenant-a")
	b := createTenant(t, db, "tenant-b")

	project := mustCreateProject(t, a, "Secret")
	staff := mustCreateStaff(t, a, "spy")
	task := mustCreateTask(t, a, &capability.Task{ProjectID: project.ID, Title: "Classified", AssigneeID: staff.ID})

	t.Run("OKInvisibleByID", func(t *testing.T) {
		view(t, b, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, project.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindProjectByName(ctx, project.Name)
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindStaffByID(ctx, staff.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindTaskByID(ctx, task.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("OKInvisibleInLists", func(t *testing.T) {
		view(t, b, func(tx capability.Tx) error {
			projects, err := tx.FindProjects(ctx, capability.ProjectFilter{})
			require.NoError(t, err)
			require.Empty(t, projects)
			staff, err := tx.FindStaff(ctx, capability.StaffFilter{})
			require.NoError(t, err)
			require.Empty(t, staff)
			tasks, err := tx.FindTasks(ctx, capability.TaskFilter{})
			require.NoError(t, err)
			require.Empty(t, tasks)
			return nil
		})
		require.Equal(t, 0, countTasks(t, b))
		require.Equal(t, 1, countTasks(t, a))
	})

	t.Run("OKSameNameInBothTenants", func(t *testing.T) {
		mustCreateProject(t, b, "Secret")
	})

	t.Run("OKSeparateFiles", func(t *testing.T) {
		require.True(t, fileExists(filepath.Join(dir, "tenants", "tenant-a.db")))
		require.True(t, fileExists(filepath.Join(dir, "tenants", "tenant-b.db")))
	})

	t.Run("ErrCrossTenantForeignKey", func(t *testing.T) {
		err := b.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateTask(ctx, &capability.Task{ProjectID: project.ID, Title: "Smuggled"})
		})
		require.Error(t, err)
	})
}

func TestWorkTenantIsolation(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	a := newWorkFixture(t, db, "tenant-a")
	b := newWorkFixture(t, db, "tenant-b")

	action := mustCreateAction(t, a.store, &capability.TaskAction{TaskID: a.task.ID, Title: "Secret step"})
	run := mustCreateRun(t, a.store, &capability.TaskRun{TaskID: a.task.ID})
	mustAppendLog(t, a.store, run.ID, logLines("secret", 3)...)
	artifact := newArtifact(run.ID, "secret.txt", []byte("classified"))
	update(t, a.store, func(tx capability.Tx) error { return tx.CreateRunArtifact(ctx, artifact) })
	update(t, a.store, func(tx capability.Tx) error {
		return tx.SaveTaskDetails(ctx, &capability.TaskDetails{TaskID: a.task.ID, Labels: []string{"secret"}})
	})

	t.Run("OKInvisibleByID", func(t *testing.T) {
		view(t, b.store, func(tx capability.Tx) error {
			_, err := tx.FindTaskActionByID(ctx, action.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindTaskRunByID(ctx, run.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindRunArtifactByID(ctx, artifact.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			_, err = tx.FindTaskDetails(ctx, a.task.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
	})

	t.Run("OKInvisibleInLists", func(t *testing.T) {
		view(t, b.store, func(tx capability.Tx) error {
			actions, err := tx.FindTaskActions(ctx, a.task.ID, capability.Page{})
			require.NoError(t, err)
			require.Empty(t, actions)
			runs, err := tx.FindTaskRuns(ctx, a.task.ID, capability.Page{})
			require.NoError(t, err)
			require.Empty(t, runs)
			entries, err := tx.FindRunLog(ctx, run.ID, 0, 0)
			require.NoError(t, err)
			require.Empty(t, entries)
			last, err := tx.LastRunLogSeq(ctx, run.ID)
			require.NoError(t, err)
			require.Zero(t, last)
			artifacts, err := tx.FindRunArtifacts(ctx, run.ID)
			require.NoError(t, err)
			require.Empty(t, artifacts)
			return nil
		})
	})

	t.Run("OKCancelDoesNotReach", func(t *testing.T) {
		update(t, b.store, func(tx capability.Tx) error {
			n, err := tx.CancelOpenTaskActions(ctx, a.task.ID, time.Time{})
			require.NoError(t, err)
			require.Zero(t, n)
			n, err = tx.CancelRunningTaskRuns(ctx, a.task.ID, time.Time{})
			require.NoError(t, err)
			require.Zero(t, n)
			return nil
		})
		require.Equal(t, capability.RunRunning, findRun(t, a.store, run.ID).Status)
	})

	t.Run("ErrCrossTenantForeignKeys", func(t *testing.T) {
		for name, write := range map[string]func(tx capability.Tx) error{
			"action of A's task": func(tx capability.Tx) error {
				return tx.CreateTaskAction(ctx, &capability.TaskAction{TaskID: a.task.ID, Title: "x"})
			},
			"run of A's task":     func(tx capability.Tx) error { return tx.CreateTaskRun(ctx, &capability.TaskRun{TaskID: a.task.ID}) },
			"log of A's run":      func(tx capability.Tx) error { return tx.AppendRunLog(ctx, run.ID, logLines("x", 1)) },
			"artifact of A's run": func(tx capability.Tx) error { return tx.CreateRunArtifact(ctx, newArtifact(run.ID, "x", []byte("x"))) },
			"details of A's task": func(tx capability.Tx) error {
				return tx.SaveTaskDetails(ctx, &capability.TaskDetails{TaskID: a.task.ID})
			},
		} {
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(b.store.Update(ctx, write)), name)
		}
	})

	t.Run("OKSameSequencesInBothTenants", func(t *testing.T) {
		other := mustCreateRun(t, b.store, &capability.TaskRun{TaskID: b.task.ID})
		require.Equal(t, []int64{1, 2}, seqs(mustAppendLog(t, b.store, other.ID, logLines("b", 2)...)))
		require.Equal(t, int64(3), lastSeq(t, a.store, run.ID))
	})
}
