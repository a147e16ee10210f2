package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

const runColumns = "id, task_id, status, branch, stage, output, state, error_message, created_at, updated_at, finished_at"

// CreateTaskRun inserts r, assigning its ID and timestamps when they are
// empty and status running when Status is empty. The task must exist; the
// foreign key rejects anything else.
func (t *tx) CreateTaskRun(ctx context.Context, r *capability.TaskRun) error {
	if r.ID == "" {
		r.ID = t.newID(PrefixRun)
	}
	if r.Status == "" {
		r.Status = capability.RunRunning
	}
	t.stamp(&r.CreatedAt, &r.UpdatedAt)
	stampFinished(r)
	_, err := t.tx.ExecContext(ctx,
		"INSERT INTO task_runs ("+runColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.TaskID, r.Status, nullString(r.Branch), nullString(r.Stage),
		nullJSON(r.Output), nullJSON(r.State), nullString(r.ErrorMessage),
		formatTime(r.CreatedAt), formatTime(r.UpdatedAt), formatNullTime(r.FinishedAt))
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "a run with id %s already exists", r.ID)
	}
	if err != nil {
		return fmt.Errorf("create task run: %w", err)
	}
	return nil
}

// FindTaskRunByID returns the run with id, or ErrNotFound.
func (t *tx) FindTaskRunByID(ctx context.Context, id string) (*capability.TaskRun, error) {
	row := t.tx.QueryRowContext(ctx, "SELECT "+runColumns+" FROM task_runs WHERE id = ?", id)
	r, err := scanRun(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task run %s: %w", id, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find task run %s: %w", id, err)
	}
	return r, nil
}

// FindTaskRuns returns one page of the task's runs in id (creation) order.
// An empty taskID matches no task.
func (t *tx) FindTaskRuns(ctx context.Context, taskID string, p capability.Page) ([]*capability.TaskRun, error) {
	var w where
	w.add("task_id = ?", taskID)
	limit := pageArgs(&w, p)
	rows, err := t.tx.QueryContext(ctx,
		"SELECT "+runColumns+" FROM task_runs"+w.String()+" ORDER BY id LIMIT ?",
		append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find task runs of %s: %w", taskID, err)
	}
	out, err := scanAll(rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("find task runs of %s: %w", taskID, err)
	}
	return out, nil
}

// UpdateTaskRun writes the mutable fields of r. UpdatedAt is written as
// given; when it is zero the store's clock stamps it. A run moved to a final
// status without a FinishedAt finishes at UpdatedAt. The task and creation
// time never change.
func (t *tx) UpdateTaskRun(ctx context.Context, r *capability.TaskRun) error {
	t.stamp(&r.UpdatedAt, nil)
	stampFinished(r)
	res, err := t.tx.ExecContext(ctx,
		`UPDATE task_runs SET status = ?, branch = ?, stage = ?, output = ?, state = ?,
		 error_message = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
		r.Status, nullString(r.Branch), nullString(r.Stage), nullJSON(r.Output), nullJSON(r.State),
		nullString(r.ErrorMessage), formatTime(r.UpdatedAt), formatNullTime(r.FinishedAt), r.ID)
	if err != nil {
		return fmt.Errorf("update task run %s: %w", r.ID, err)
	}
	return changedOne(res, "task run", r.ID)
}

// CancelRunningTaskRuns moves the task's running runs to cancelled, updated
// and finished at at (the store's clock when zero), and returns how many it
// moved. Finished runs keep their status and times.
func (t *tx) CancelRunningTaskRuns(ctx context.Context, taskID string, at time.Time) (int, error) {
	if at.IsZero() {
		at = t.now()
	}
	ts := formatTime(at)
	res, err := t.tx.ExecContext(ctx,
		"UPDATE task_runs SET status = ?, updated_at = ?, finished_at = ? WHERE task_id = ? AND status = ?",
		capability.RunCancelled, ts, ts, taskID, capability.RunRunning)
	if err != nil {
		return 0, fmt.Errorf("cancel running runs of task %s: %w", taskID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cancel running runs of task %s: %w", taskID, err)
	}
	return int(n), nil
}

// stampFinished gives a run in a final status without a finish time the
// time of its last update, so "finished exactly when not running", which
// the table checks, holds without every caller setting both fields.
func stampFinished(r *capability.TaskRun) {
	if capability.RunFinished(r.Status) && r.FinishedAt.IsZero() {
		r.FinishedAt = r.UpdatedAt
	}
	r.FinishedAt = r.FinishedAt.UTC()
}

// scanRun reads one row selected with runColumns; NULL text becomes "",
// NULL JSON nil and a NULL finish time zero.
func scanRun(s scanner) (*capability.TaskRun, error) {
	var r capability.TaskRun
	var branch, stage, output, state, errMsg, finished sql.NullString
	var created, updated string
	if err := s.Scan(&r.ID, &r.TaskID, &r.Status, &branch, &stage, &output, &state, &errMsg,
		&created, &updated, &finished); err != nil {
		return nil, err
	}
	r.Branch, r.Stage, r.ErrorMessage = branch.String, stage.String, errMsg.String
	r.Output, r.State = parseNullJSON(output), parseNullJSON(state)
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	if r.FinishedAt, err = parseNullTime(finished); err != nil {
		return nil, err
	}
	return &r, nil
}
