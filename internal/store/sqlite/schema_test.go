package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

// TestSchemaBackstops: the tables hold the rules the store checks before
// writing, for rows written around the store (the CLI, a restore, a
// hand-edited file). The store's own behaviour is the shared suite's
// (storetest); these are SQLite's constraints.
func TestSchemaBackstops(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openTestDB(t, Options{Dir: dir})
	store := createTenant(t, db, "acme")
	project := mustCreateProject(t, store, "Website")
	var task, bare *capability.Task
	update(t, store, func(tx capability.Tx) error {
		task = &capability.Task{ProjectID: project.ID, Title: "Ship it"}
		bare = &capability.Task{ProjectID: project.ID, Title: "Bare"}
		if err := tx.CreateTask(ctx, task); err != nil {
			return err
		}
		return tx.CreateTask(ctx, bare)
	})
	tenant := openRaw(t, filepath.Join(dir, "tenants", "acme.db"))

	t.Run("ErrSetNameCheck", func(t *testing.T) {
		_, err := db.control.db.writer.ExecContext(ctx, `INSERT INTO capability_sets
			(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
			VALUES ('acme', 'Bad_Name', '', 0, '[]', '', '[]', '', '', '')`)
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_CHECK, sqliteCode(err))
	})

	// The store checks the taxonomy before writing; the foreign key on the
	// (category, task_type) pair is the backstop.
	t.Run("ErrTaskTypePairForeignKey", func(t *testing.T) {
		_, err := tenant.Exec("INSERT INTO task_details (task_id, category, task_type) VALUES (?, 'design', 'bug_fix')", task.ID)
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("OKLabelsDefaultToEmptyList", func(t *testing.T) {
		_, err := tenant.Exec("INSERT INTO task_details (task_id) VALUES (?)", bare.ID)
		require.NoError(t, err)
		d, err := readDetails(store, bare.ID)
		require.NoError(t, err)
		require.Equal(t, []string{}, d.Labels)
	})
}

// readDetails reads the details of task in a View.
func readDetails(s capability.TenantStore, task string) (*capability.TaskDetails, error) {
	var d *capability.TaskDetails
	err := s.View(context.Background(), func(tx capability.Tx) error {
		var err error
		d, err = tx.FindTaskDetails(context.Background(), task)
		return err
	})
	return d, err
}
