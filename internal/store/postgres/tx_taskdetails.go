package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
)

const taskDetailsColumns = "task_id, budget_usd, category, task_type, requirements, expires_at, labels"

// SaveTaskDetails creates the task's details or replaces all of them. Nil
// Labels are stored, and set on d, as an empty list, which is what a read
// returns.
//
// The category and task type must be in the taxonomy. The table's foreign
// key holds the pair, but a foreign key with a NULL column is not checked,
// so a category without a task type would pass unchecked; the store checks
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
	labels, err := json.Marshal(d.Labels)
	if err != nil {
		return fmt.Errorf("save details of task %s: %w", d.TaskID, err)
	}
	if !d.ExpiresAt.IsZero() {
		d.ExpiresAt = pgTime(d.ExpiresAt)
	}
	_, err = t.tx.Exec(ctx,
		"INSERT INTO task_details ("+taskDetailsColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		 ON CONFLICT (task_id) DO UPDATE SET budget_usd = excluded.budget_usd,
		 category = excluded.category, task_type = excluded.task_type,
		 requirements = excluded.requirements, expires_at = excluded.expires_at,
		 labels = excluded.labels`,
		d.TaskID, d.BudgetUSD, nullString(d.Category), nullString(d.TaskType),
		nullJSON(d.Requirements), nullTime(d.ExpiresAt), string(labels))
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
		err = t.tx.QueryRow(ctx,
			"SELECT EXISTS (SELECT 1 FROM task_types WHERE category = $1 AND task_type = $2)",
			category, taskType).Scan(&known)
	} else {
		err = t.tx.QueryRow(ctx,
			"SELECT EXISTS (SELECT 1 FROM task_types WHERE category = $1)", category).Scan(&known)
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
	var category, taskType *string
	var requirements, labels []byte
	var expires *time.Time
	err := t.tx.QueryRow(ctx,
		"SELECT "+taskDetailsColumns+" FROM task_details WHERE task_id = $1", taskID).
		Scan(&d.TaskID, &d.BudgetUSD, &category, &taskType, &requirements, &expires, &labels)
	if err != nil {
		return nil, notFound(err, "details of task "+taskID, "find details of task "+taskID)
	}
	d.Category, d.TaskType = fromNullString(category), fromNullString(taskType)
	if requirements != nil {
		d.Requirements = json.RawMessage(requirements)
	}
	d.ExpiresAt = fromNullTime(expires)
	// The column is always an array, so this yields a non-nil slice.
	if err := json.Unmarshal(labels, &d.Labels); err != nil {
		return nil, fmt.Errorf("find details of task %s: stored labels: %w", taskID, err)
	}
	return &d, nil
}

const taskTypeColumns = "category, task_type, description"

// FindTaskTypes returns the tenant's taxonomy ordered by category then task
// type; a non-empty category keeps only its types. The taxonomy is seeded
// by the migration and small, so it is returned whole rather than paged.
func (t *tx) FindTaskTypes(ctx context.Context, category string) ([]*capability.TaskType, error) {
	var w where
	if category != "" {
		w.add("category = ?", category)
	}
	rows, err := t.tx.Query(ctx,
		"SELECT "+taskTypeColumns+" FROM task_types"+w.String()+" ORDER BY category, task_type", w.args...)
	if err != nil {
		return nil, fmt.Errorf("find task types: %w", err)
	}
	out, err := scanAll(rows, scanTaskType)
	if err != nil {
		return nil, fmt.Errorf("find task types: %w", err)
	}
	return out, nil
}

// FindTaskType returns one entry of the taxonomy, or ErrNotFound.
func (t *tx) FindTaskType(ctx context.Context, category, taskType string) (*capability.TaskType, error) {
	tt, err := scanTaskType(t.tx.QueryRow(ctx,
		"SELECT "+taskTypeColumns+" FROM task_types WHERE category = $1 AND task_type = $2", category, taskType))
	if err != nil {
		name := category + "/" + taskType
		return nil, notFound(err, "task type "+name, "find task type "+name)
	}
	return tt, nil
}

// scanTaskType reads one row selected with taskTypeColumns.
func scanTaskType(row pgx.Row) (*capability.TaskType, error) {
	var tt capability.TaskType
	if err := row.Scan(&tt.Category, &tt.TaskType, &tt.Description); err != nil {
		return nil, err
	}
	return &tt, nil
}
