package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

const taskDetailsColumns = "task_id, budget_usd, category, task_type, requirements, expires_at, labels"

// SaveTaskDetails creates the task's details or replaces all of them. Nil
// Labels are stored, and set on d, as an empty list, which is what a read
// returns.
//
// The category and task type must be in the taxonomy. The table's foreign
// key holds the pair, but SQLite skips a foreign key with a NULL column, so
// a category without a task type would pass unchecked; the store checks
// both here and rejects an unknown one with unknown_task_type, which a
// caller can hand to the agent as it is. A task type without a category is
// a caller bug, and the table's CHECK rejects it. The task must exist; the
// foreign key rejects anything else.
func (t *tx) SaveTaskDetails(ctx context.Context, d *capability.TaskDetails) error {
	if err := t.checkTaxonomy(ctx, d.Category, d.TaskType); err != nil {
		return err
	}
	if d.Labels == nil {
		d.Labels = []string{}
	}
	d.ExpiresAt = d.ExpiresAt.UTC()
	labels, err := json.Marshal(d.Labels)
	if err != nil {
		return fmt.Errorf("save details of task %s: %w", d.TaskID, err)
	}
	var budget sql.NullFloat64
	if d.BudgetUSD != nil {
		budget = sql.NullFloat64{Float64: *d.BudgetUSD, Valid: true}
	}
	_, err = t.tx.ExecContext(ctx,
		"INSERT INTO task_details ("+taskDetailsColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (task_id) DO UPDATE SET budget_usd = excluded.budget_usd,
		 category = excluded.category, task_type = excluded.task_type,
		 requirements = excluded.requirements, expires_at = excluded.expires_at,
		 labels = excluded.labels`,
		d.TaskID, budget, nullString(d.Category), nullString(d.TaskType),
		nullJSON(d.Requirements), formatNullTime(d.ExpiresAt), string(labels))
	if err != nil {
		return fmt.Errorf("save details of task %s: %w", d.TaskID, err)
	}
	return nil
}

// checkTaxonomy returns unknown_task_type when category (with taskType, if
// set) is not in the taxonomy. Empty category: nothing to check.
func (t *tx) checkTaxonomy(ctx context.Context, category, taskType string) error {
	if category == "" {
		return nil
	}
	var known bool
	var err error
	if taskType != "" {
		err = t.tx.QueryRowContext(ctx,
			"SELECT EXISTS (SELECT 1 FROM task_types WHERE category = ? AND task_type = ?)",
			category, taskType).Scan(&known)
	} else {
		err = t.tx.QueryRowContext(ctx,
			"SELECT EXISTS (SELECT 1 FROM task_types WHERE category = ?)", category).Scan(&known)
	}
	switch {
	case err != nil:
		return fmt.Errorf("check task type %s/%s: %w", category, taskType, err)
	case known:
		return nil
	case taskType != "":
		return capability.Errorf(capability.CodeUnknownTaskType,
			"category %q has no task type %q; list the task types to see the allowed pairs", category, taskType)
	default:
		return capability.Errorf(capability.CodeUnknownTaskType,
			"there is no category %q; list the task types to see the allowed categories", category)
	}
}

// FindTaskDetails returns the task's details, or ErrNotFound when it has
// none (including when the task does not exist).
func (t *tx) FindTaskDetails(ctx context.Context, taskID string) (*capability.TaskDetails, error) {
	var d capability.TaskDetails
	var budget sql.NullFloat64
	var category, taskType, requirements, expires sql.NullString
	var labels string
	err := t.tx.QueryRowContext(ctx,
		"SELECT "+taskDetailsColumns+" FROM task_details WHERE task_id = ?", taskID).
		Scan(&d.TaskID, &budget, &category, &taskType, &requirements, &expires, &labels)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("details of task %s: %w", taskID, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find details of task %s: %w", taskID, err)
	}
	if budget.Valid {
		d.BudgetUSD = &budget.Float64
	}
	d.Category, d.TaskType = category.String, taskType.String
	d.Requirements = parseNullJSON(requirements)
	if d.ExpiresAt, err = parseNullTime(expires); err != nil {
		return nil, fmt.Errorf("find details of task %s: %w", taskID, err)
	}
	// The column is always an array, so this yields a non-nil slice.
	if err := json.Unmarshal([]byte(labels), &d.Labels); err != nil {
		return nil, fmt.Errorf("find details of task %s: stored labels: %w", taskID, err)
	}
	return &d, nil
}
