package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

const actionColumns = "id, task_id, title, notes, assignee_id, state, created_at, updated_at"

// CreateTaskAction inserts a, assigning its ID and timestamps when they are
// empty and state open when State is empty. The task and the assignee must
// exist; the foreign keys reject anything else.
func (t *tx) CreateTaskAction(ctx context.Context, a *capability.TaskAction) error {
	if a.ID == "" {
		a.ID = t.newID(PrefixAction)
	}
	if a.State == "" {
		a.State = capability.ActionOpen
	}
	t.stamp(&a.CreatedAt, &a.UpdatedAt)
	_, err := t.tx.ExecContext(ctx,
		"INSERT INTO task_actions ("+actionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.TaskID, a.Title, a.Notes, nullString(a.AssigneeID), a.State,
		formatTime(a.CreatedAt), formatTime(a.UpdatedAt))
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "an action with id %s already exists", a.ID)
	}
	if err != nil {
		return fmt.Errorf("create task action: %w", err)
	}
	return nil
}

// FindTaskActionByID returns the action with id, or ErrNotFound.
func (t *tx) FindTaskActionByID(ctx context.Context, id string) (*capability.TaskAction, error) {
	row := t.tx.QueryRowContext(ctx, "SELECT "+actionColumns+" FROM task_actions WHERE id = ?", id)
	a, err := scanAction(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task action %s: %w", id, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find task action %s: %w", id, err)
	}
	return a, nil
}

// FindTaskActions returns one page of the task's actions in id (creation)
// order. An empty taskID matches no task, so a caller that forgot to set it
// gets nothing rather than every action of the tenant.
func (t *tx) FindTaskActions(ctx context.Context, taskID string, p capability.Page) ([]*capability.TaskAction, error) {
	var w where
	w.add("task_id = ?", taskID)
	limit := pageArgs(&w, p)
	rows, err := t.tx.QueryContext(ctx,
		"SELECT "+actionColumns+" FROM task_actions"+w.String()+" ORDER BY id LIMIT ?",
		append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find task actions of %s: %w", taskID, err)
	}
	out, err := scanAll(rows, scanAction)
	if err != nil {
		return nil, fmt.Errorf("find task actions of %s: %w", taskID, err)
	}
	return out, nil
}

// UpdateTaskAction writes the mutable fields of a. UpdatedAt is written as
// given; when it is zero the store's clock stamps it. The task and creation
// time never change.
func (t *tx) UpdateTaskAction(ctx context.Context, a *capability.TaskAction) error {
	t.stamp(&a.UpdatedAt, nil)
	res, err := t.tx.ExecContext(ctx,
		"UPDATE task_actions SET title = ?, notes = ?, assignee_id = ?, state = ?, updated_at = ? WHERE id = ?",
		a.Title, a.Notes, nullString(a.AssigneeID), a.State, formatTime(a.UpdatedAt), a.ID)
	if err != nil {
		return fmt.Errorf("update task action %s: %w", a.ID, err)
	}
	return changedOne(res, "task action", a.ID)
}

// CancelOpenTaskActions moves the task's open actions to cancelled, stamped
// at (the store's clock when zero), and returns how many it moved. Done and
// already cancelled actions keep their state and time.
func (t *tx) CancelOpenTaskActions(ctx context.Context, taskID string, at time.Time) (int, error) {
	if at.IsZero() {
		at = t.now()
	}
	res, err := t.tx.ExecContext(ctx,
		"UPDATE task_actions SET state = ?, updated_at = ? WHERE task_id = ? AND state = ?",
		capability.ActionCancelled, formatTime(at), taskID, capability.ActionOpen)
	if err != nil {
		return 0, fmt.Errorf("cancel open actions of task %s: %w", taskID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cancel open actions of task %s: %w", taskID, err)
	}
	return int(n), nil
}

// scanAction reads one row selected with actionColumns; a NULL assignee
// becomes "".
func scanAction(s scanner) (*capability.TaskAction, error) {
	var a capability.TaskAction
	var assignee sql.NullString
	var created, updated string
	if err := s.Scan(&a.ID, &a.TaskID, &a.Title, &a.Notes, &assignee, &a.State, &created, &updated); err != nil {
		return nil, err
	}
	a.AssigneeID = assignee.String
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if a.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &a, nil
}
