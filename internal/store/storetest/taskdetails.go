package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// findDetails reads the details of task and requires them to exist.
func findDetails(t testing.TB, s capability.TenantStore, task string) *capability.TaskDetails {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx capability.Tx) (*capability.TaskDetails, error) {
		return tx.FindTaskDetails(ctx, task)
	})
}

// saveDetails runs SaveTaskDetails in its own transaction.
func saveDetails(s capability.TenantStore, d *capability.TaskDetails) error {
	return s.Update(context.Background(), func(tx capability.Tx) error {
		return tx.SaveTaskDetails(context.Background(), d)
	})
}

// testTaskDetails covers saving and finding a task's details, and the
// taxonomy check on category and task type.
func testTaskDetails(t *testing.T, e *env) {
	ctx := context.Background()
	f := newFixture(t, e, "task-details")
	s := f.store
	budget := 1250.5

	t.Run("OKAllFields", func(t *testing.T) {
		expires := time.Date(2025, 6, 30, 23, 59, 59, 500, cet)
		d := &capability.TaskDetails{
			TaskID: f.task.ID, BudgetUSD: &budget, Category: "engineering", TaskType: "bug_fix",
			Requirements: json.RawMessage(`{"languages": ["go"],  "tests": true, "b": 1, "a": 2}`),
			ExpiresAt:    expires,
			Labels:       []string{"urgent", "customer", "urgent"},
		}
		require.NoError(t, saveDetails(s, d))
		requireInstant(t, expires, d.ExpiresAt)
		got := findDetails(t, s, f.task.ID)
		require.Equal(t, d, got, "what the caller holds is what a read returns")
		require.Equal(t, `{"languages": ["go"],  "tests": true, "b": 1, "a": 2}`, string(got.Requirements), "JSON comes back byte for byte")
		require.Equal(t, []string{"urgent", "customer", "urgent"}, got.Labels, "labels keep their order and repeats")
	})

	t.Run("OKCategoryWithoutTaskType", func(t *testing.T) {
		d := &capability.TaskDetails{TaskID: f.task.ID, Category: "design"}
		require.NoError(t, saveDetails(s, d))
		require.Equal(t, d, findDetails(t, s, f.task.ID))
	})

	t.Run("OKReplacesEverything", func(t *testing.T) {
		d := &capability.TaskDetails{TaskID: f.task.ID, Category: "content"}
		require.NoError(t, saveDetails(s, d))
		got := findDetails(t, s, f.task.ID)
		require.Nil(t, got.BudgetUSD, "no budget")
		require.Nil(t, got.Requirements)
		require.True(t, got.ExpiresAt.IsZero())
		require.Empty(t, got.TaskType)
		require.Equal(t, []string{}, got.Labels, "nil labels come back as an empty list")
		require.Equal(t, d, got, "the caller's nil labels became an empty list too")
	})

	t.Run("OKZeroBudgetIsNotNoBudget", func(t *testing.T) {
		zero := 0.0
		d := &capability.TaskDetails{TaskID: f.other.ID, BudgetUSD: &zero}
		require.NoError(t, saveDetails(s, d))
		got := findDetails(t, s, f.other.ID)
		require.NotNil(t, got.BudgetUSD)
		require.Equal(t, 0.0, *got.BudgetUSD)
		require.Empty(t, got.Category)
		require.Equal(t, d, got)
	})

	t.Run("ErrUnknownTaskType", func(t *testing.T) {
		before := findDetails(t, s, f.task.ID)
		for name, d := range map[string]capability.TaskDetails{
			"unknown category":          {Category: "astrology"},
			"unknown category and type": {Category: "astrology", TaskType: "horoscope"},
			"type of another category":  {Category: "design", TaskType: "bug_fix"},
			"case differs":              {Category: "Engineering", TaskType: "bug_fix"},
		} {
			d.TaskID = f.task.ID
			requireCode(t, capability.CodeUnknownTaskType, saveDetails(s, &d), name)
		}
		require.Equal(t, before, findDetails(t, s, f.task.ID), "nothing changed")
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		before := findDetails(t, s, f.task.ID)
		negative := -1.0
		for name, d := range map[string]capability.TaskDetails{
			"type without category":      {TaskType: "bug_fix"},
			"negative budget":            {BudgetUSD: &negative},
			"requirements not an object": {Requirements: json.RawMessage(`["go"]`)},
			"requirements malformed":     {Requirements: json.RawMessage(`{"go"`)},
		} {
			d.TaskID = f.task.ID
			require.Error(t, saveDetails(s, &d), name)
		}
		require.Equal(t, before, findDetails(t, s, f.task.ID), "nothing changed")
	})

	t.Run("ErrUnknownTask", func(t *testing.T) {
		require.Error(t, saveDetails(s, &capability.TaskDetails{TaskID: "tsk_missing"}), "the task must exist")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		bare := mustCreateTask(t, s, &capability.Task{ProjectID: f.project.ID, Title: "No details"})
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindTaskDetails(ctx, bare.ID)
			require.ErrorIs(t, err, capability.ErrNotFound, "a task without details")
			_, err = tx.FindTaskDetails(ctx, "tsk_missing")
			require.ErrorIs(t, err, capability.ErrNotFound, "no such task")
			return nil
		})
	})
}
