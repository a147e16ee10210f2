package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/capd-dev/capd/internal/capability"
)

// findDetails reads the details of task and requires them to exist.
func findDetails(t testing.TB, s capability.TenantStore, task string) *capability.TaskDetails {
	t.Helper()
	var d *capability.TaskDetails
	view(t, s, func(tx capability.Tx) error {
		var err error
		d, err = tx.FindTaskDetails(context.Background(), task)
		return err
	})
	return d
}

// saveDetails runs SaveTaskDetails in its own transaction.
func saveDetails(s capability.TenantStore, d *capability.TaskDetails) error {
	return s.Update(context.Background(), func(tx capability.Tx) error {
		return tx.SaveTaskDetails(context.Background(), d)
	})
}

func TestSaveTaskDetails(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	f := newWorkFixture(t, db, "acme")
	budget := 1250.5

	t.Run("OKAllFields", func(t *testing.T) {
		d := &capability.TaskDetails{
			TaskID: f.task.ID, BudgetUSD: &budget, Category: "engineering", TaskType: "bug_fix",
			Requirements: json.RawMessage(`{"languages": ["go"], "tests": true}`),
			ExpiresAt:    time.Date(2025, 6, 30, 23, 59, 59, 500, time.UTC),
			Labels:       []string{"urgent", "customer"},
		}
		require.NoError(t, saveDetails(f.store, d))
		require.Equal(t, d, findDetails(t, f.store, f.task.ID))
	})

	t.Run("OKReplacesEverything", func(t *testing.T) {
		d := &capability.TaskDetails{TaskID: f.task.ID, Category: "content"}
		require.NoError(t, saveDetails(f.store, d))
		got := findDetails(t, f.store, f.task.ID)
		require.Nil(t, got.BudgetUSD, "no budget")
		require.Nil(t, got.Requirements)
		require.True(t, got.ExpiresAt.IsZero())
		require.Equal(t, []string{}, got.Labels, "nil labels come back as an empty list")
		require.Equal(t, d, got, "the caller's nil labels became an empty list too")
	})

	t.Run("OKZeroBudgetIsNotNoBudget", func(t *testing.T) {
		zero := 0.0
		d := &capability.TaskDetails{TaskID: f.other.ID, BudgetUSD: &zero}
		require.NoError(t, saveDetails(f.store, d))
		got := findDetails(t, f.store, f.other.ID)
		require.NotNil(t, got.BudgetUSD)
		require.Equal(t, 0.0, *got.BudgetUSD)
		require.Empty(t, got.Category)
	})

	t.Run("ErrUnknownTaskType", func(t *testing.T) {
		for name, d := range map[string]capability.TaskDetails{
			"unknown category":          {Category: "astrology"},
			"unknown category and type": {Category: "astrology", TaskType: "horoscope"},
			"type of another category":  {Category: "design", TaskType: "bug_fix"},
		} {
			d.TaskID = f.task.ID
			require.Equal(t, capability.CodeUnknownTaskType, capability.ErrorCode(saveDetails(f.store, &d)), name)
		}
	})

	t.Run("ErrCheckConstraints", func(t *testing.T) {
		negative := -1.0
		for name, d := range map[string]capability.TaskDetails{
			"type without category":      {TaskType: "bug_fix"},
			"negative budget":            {BudgetUSD: &negative},
			"requirements not an object": {Requirements: json.RawMessage(`["go"]`)},
			"requirements malformed":     {Requirements: json.RawMessage(`{"go"`)},
		} {
			d.TaskID = f.task.ID
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_CHECK, sqliteCode(saveDetails(f.store, &d)), name)
		}
	})

	t.Run("ErrForeignKeyTask", func(t *testing.T) {
		err := saveDetails(f.store, &capability.TaskDetails{TaskID: "tsk_missing"})
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		project := mustCreateProject(t, f.store, "Bare")
		bare := mustCreateTask(t, f.store, &capability.Task{ProjectID: project.ID, Title: "No details"})
		view(t, f.store, func(tx capability.Tx) error {
			_, err := tx.FindTaskDetails(ctx, bare.ID)
			require.ErrorIs(t, err, capability.ErrNotFound, "a task without details")
			_, err = tx.FindTaskDetails(ctx, "tsk_missing")
			require.ErrorIs(t, err, capability.ErrNotFound, "no such task")
			return nil
		})
	})
}

func TestTaskDetailsSchema(t *testing.T) {
	dir := t.TempDir()
	db, _ := openTestDB(t, Options{Dir: dir})
	f := newWorkFixture(t, db, "acme")
	raw := openRaw(t, filepath.Join(dir, "tenants", "acme.db"))

	// The store checks the taxonomy before writing; the foreign key is the
	// backstop for anything that writes past it.
	t.Run("ErrForeignKeyTaskTypePair", func(t *testing.T) {
		_, err := raw.Exec("INSERT INTO task_details (task_id, category, task_type) VALUES (?, 'design', 'bug_fix')", f.task.ID)
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqliteCode(err))
	})

	t.Run("OKLabelsDefaultToEmptyList", func(t *testing.T) {
		_, err := raw.Exec("INSERT INTO task_details (task_id) VALUES (?)", f.other.ID)
		require.NoError(t, err)
		require.Equal(t, []string{}, findDetails(t, f.store, f.other.ID).Labels)
	})
}
