package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
