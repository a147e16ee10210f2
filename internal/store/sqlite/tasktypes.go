package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

const taskTypeColumns = "category, task_type, description"

// FindTaskTypes returns the tenant's taxonomy ordered by category then task
// type; a non-empty category keeps only its types. The taxonomy is seeded
// by the migration and small, so it is returned whole rather than paged.
func (t *tx) FindTaskTypes(ctx context.Context, category string) ([]*capability.TaskType, error) {
	var w where
	if category != "" {
		w.add("category = ?", category)
	}
	rows, err := t.tx.QueryContext(ctx,
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
	row := t.tx.QueryRowContext(ctx,
		"SELECT "+taskTypeColumns+" FROM task_types WHERE category = ? AND task_type = ?", category, taskType)
	tt, err := scanTaskType(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task type %s/%s: %w", category, taskType, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find task type %s/%s: %w", category, taskType, err)
	}
	return tt, nil
}

// scanTaskType reads one row selected with taskTypeColumns.
func scanTaskType(s scanner) (*capability.TaskType, error) {
	var tt capability.TaskType
	if err := s.Scan(&tt.Category, &tt.TaskType, &tt.Description); err != nil {
		return nil, err
	}
	return &tt, nil
}
