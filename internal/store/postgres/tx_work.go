package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

const actionColumns = "id, task_id, title, notes, assignee_id, state, created_at, updated_at"

// CreateTaskAction inserts a, assigning its ID and timestamps when they are
// empty and state open when State is empty. The task and the assignee must
// exist; the foreign keys reject anything else.
func (t *tx) CreateTaskAction(ctx context.Context, a *capability.TaskAction) error {
	if a.ID == "" {
		a.ID = t.newID(storecore.PrefixAction)
	}
	if a.State == "" {
		a.State = capability.ActionOpen
	}
	t.stamp(&a.CreatedAt, &a.UpdatedAt)
	tag, err := t.tx.Exec(ctx,
		"INSERT INTO task_actions ("+actionColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
		a.ID, a.TaskID, a.Title, a.Notes, nullString(a.AssigneeID), a.State, a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create task action: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists, "an action with id %s already exists", a.ID)
	}
	return nil
}

// FindTaskActionByID returns the action with id, or ErrNotFound.
func (t *tx) FindTaskActionByID(ctx context.Context, id string) (*capability.TaskAction, error) {
	a, err := scanAction(t.tx.QueryRow(ctx, "SELECT "+actionColumns+" FROM task_actions WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "task action "+id, "find task action "+id)
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
	rows, err := t.tx.Query(ctx,
		"SELECT "+actionColumns+" FROM task_actions"+w.String()+" ORDER BY id LIMIT "+w.next(limit), w.args...)
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
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = t.now()
	}
	a.UpdatedAt = pgTime(a.UpdatedAt)
	tag, err := t.tx.Exec(ctx,
		"UPDATE task_actions SET title = $1, notes = $2, assignee_id = $3, state = $4, updated_at = $5 WHERE id = $6",
		a.Title, a.Notes, nullString(a.AssigneeID), a.State, a.UpdatedAt, a.ID)
	if err != nil {
		return fmt.Errorf("update task action %s: %w", a.ID, err)
	}
	return changedOne(tag, "task action", a.ID)
}

// CancelOpenTaskActions moves the task's open actions to cancelled, stamped
// at (the store's clock when zero), and returns how many it moved. Done and
// already cancelled actions keep their state and time.
func (t *tx) CancelOpenTaskActions(ctx context.Context, taskID string, at time.Time) (int, error) {
	if at.IsZero() {
		at = t.now()
	}
	tag, err := t.tx.Exec(ctx,
		"UPDATE task_actions SET state = $1, updated_at = $2 WHERE task_id = $3 AND state = $4",
		capability.ActionCancelled, pgTime(at), taskID, capability.ActionOpen)
	if err != nil {
		return 0, fmt.Errorf("cancel open actions of task %s: %w", taskID, err)
	}
	return int(tag.RowsAffected()), nil
}

// scanAction reads one row selected with actionColumns; a NULL assignee
// becomes "".
func scanAction(row pgx.Row) (*capability.TaskAction, error) {
	var a capability.TaskAction
	var assignee *string
	if err := row.Scan(&a.ID, &a.TaskID, &a.Title, &a.Notes, &assignee, &a.State, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, err
	}
	a.AssigneeID = fromNullString(assignee)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

const runColumns = "id, task_id, status, branch, stage, output, state, error_message, created_at, updated_at, finished_at"

// CreateTaskRun inserts r, assigning its ID and timestamps when they are
// empty and status running when Status is empty. The task must exist; the
// foreign key rejects anything else.
func (t *tx) CreateTaskRun(ctx context.Context, r *capability.TaskRun) error {
	if r.ID == "" {
		r.ID = t.newID(storecore.PrefixRun)
	}
	if r.Status == "" {
		r.Status = capability.RunRunning
	}
	t.stamp(&r.CreatedAt, &r.UpdatedAt)
	stampFinished(r)
	tag, err := t.tx.Exec(ctx,
		"INSERT INTO task_runs ("+runColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
		r.ID, r.TaskID, r.Status, nullString(r.Branch), nullString(r.Stage),
		nullJSON(r.Output), nullJSON(r.State), nullString(r.ErrorMessage),
		r.CreatedAt, r.UpdatedAt, nullTime(r.FinishedAt))
	if err != nil {
		return fmt.Errorf("create task run: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists, "a run with id %s already exists", r.ID)
	}
	return nil
}

// FindTaskRunByID returns the run with id, or ErrNotFound.
func (t *tx) FindTaskRunByID(ctx context.Context, id string) (*capability.TaskRun, error) {
	r, err := scanRun(t.tx.QueryRow(ctx, "SELECT "+runColumns+" FROM task_runs WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "task run "+id, "find task run "+id)
	}
	return r, nil
}

// FindTaskRuns returns one page of the task's runs in id (creation) order.
// An empty taskID matches no task.
func (t *tx) FindTaskRuns(ctx context.Context, taskID string, p capability.Page) ([]*capability.TaskRun, error) {
	var w where
	w.add("task_id = ?", taskID)
	limit := pageArgs(&w, p)
	rows, err := t.tx.Query(ctx,
		"SELECT "+runColumns+" FROM task_runs"+w.String()+" ORDER BY id LIMIT "+w.next(limit), w.args...)
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
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = t.now()
	}
	r.UpdatedAt = pgTime(r.UpdatedAt)
	stampFinished(r)
	tag, err := t.tx.Exec(ctx,
		`UPDATE task_runs SET status = $1, branch = $2, stage = $3, output = $4, state = $5,
		 error_message = $6, updated_at = $7, finished_at = $8 WHERE id = $9`,
		r.Status, nullString(r.Branch), nullString(r.Stage), nullJSON(r.Output), nullJSON(r.State),
		nullString(r.ErrorMessage), r.UpdatedAt, nullTime(r.FinishedAt), r.ID)
	if err != nil {
		return fmt.Errorf("update task run %s: %w", r.ID, err)
	}
	return changedOne(tag, "task run", r.ID)
}

// CancelRunningTaskRuns moves the task's running runs to cancelled, updated
// and finished at at (the store's clock when zero), and returns how many it
// moved. Finished runs keep their status and times.
func (t *tx) CancelRunningTaskRuns(ctx context.Context, taskID string, at time.Time) (int, error) {
	if at.IsZero() {
		at = t.now()
	}
	ts := pgTime(at)
	tag, err := t.tx.Exec(ctx,
		"UPDATE task_runs SET status = $1, updated_at = $2, finished_at = $2 WHERE task_id = $3 AND status = $4",
		capability.RunCancelled, ts, taskID, capability.RunRunning)
	if err != nil {
		return 0, fmt.Errorf("cancel running runs of task %s: %w", taskID, err)
	}
	return int(tag.RowsAffected()), nil
}

// stampFinished gives a run in a final status without a finish time the
// time of its last update, so "finished exactly when not running", which
// the table checks, holds without every caller setting both fields.
func stampFinished(r *capability.TaskRun) {
	if capability.RunFinished(r.Status) && r.FinishedAt.IsZero() {
		r.FinishedAt = r.UpdatedAt
	}
	if !r.FinishedAt.IsZero() {
		r.FinishedAt = pgTime(r.FinishedAt)
	}
}

// scanRun reads one row selected with runColumns; NULL text becomes "",
// NULL JSON nil and a NULL finish time zero.
func scanRun(row pgx.Row) (*capability.TaskRun, error) {
	var r capability.TaskRun
	var branch, stage, errMsg *string
	var output, state []byte
	var finished *time.Time
	if err := row.Scan(&r.ID, &r.TaskID, &r.Status, &branch, &stage, &output, &state, &errMsg,
		&r.CreatedAt, &r.UpdatedAt, &finished); err != nil {
		return nil, err
	}
	r.Branch, r.Stage, r.ErrorMessage = fromNullString(branch), fromNullString(stage), fromNullString(errMsg)
	if output != nil {
		r.Output = json.RawMessage(output)
	}
	if state != nil {
		r.State = json.RawMessage(state)
	}
	r.CreatedAt, r.UpdatedAt, r.FinishedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), fromNullTime(finished)
	return &r, nil
}
