package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

// taskStatuses is the closed set of task statuses, in workflow order.
var taskStatuses = []string{
	capability.TaskTodo, capability.TaskDoing, capability.TaskWaiting,
	capability.TaskReview, capability.TaskDone, capability.TaskCancelled,
}

const taskColumns = "id, project_id, title, description, status, priority, due_date, assignee_id, agent_vendor, cancel_reason, created_at, updated_at"

// CreateTask inserts t, assigning its ID and timestamps when they are empty
// and status todo when Status is empty. The project and the assignee must
// exist: the foreign keys reject anything else, but callers should check
// first to give the agent a specific error.
func (t *tx) CreateTask(ctx context.Context, task *capability.Task) error {
	if task.ID == "" {
		task.ID = t.newID(PrefixTask)
	}
	if task.Status == "" {
		task.Status = capability.TaskTodo
	}
	t.stamp(&task.CreatedAt, &task.UpdatedAt)
	_, err := t.tx.ExecContext(ctx,
		"INSERT INTO tasks ("+taskColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		task.ID, task.ProjectID, task.Title, task.Description, task.Status,
		nullString(task.Priority), nullString(task.DueDate), nullString(task.AssigneeID),
		nullString(task.AgentVendor), nullString(task.CancelReason),
		formatTime(task.CreatedAt), formatTime(task.UpdatedAt))
	if isUniqueViolation(err) {
		return capability.Errorf(capability.CodeAlreadyExists, "a task with id %s already exists", task.ID)
	}
	if err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	return nil
}

// FindTaskByID returns the task with id, or ErrNotFound.
func (t *tx) FindTaskByID(ctx context.Context, id string) (*capability.Task, error) {
	row := t.tx.QueryRowContext(ctx, "SELECT "+taskColumns+" FROM tasks WHERE id = ?", id)
	task, err := scanTask(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task %s: %w", id, capability.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find task %s: %w", id, err)
	}
	return task, nil
}

// FindTasks returns one page of tasks in id (creation) order matching every
// field f sets.
func (t *tx) FindTasks(ctx context.Context, f capability.TaskFilter) ([]*capability.Task, error) {
	var w where
	if f.ProjectID != "" {
		w.add("project_id = ?", f.ProjectID)
	}
	if len(f.Status) > 0 {
		args := make([]any, len(f.Status))
		for i, s := range f.Status {
			args[i] = s
		}
		w.add("status IN ("+placeholders(len(args))+")", args...)
	}
	if f.AssigneeID != "" {
		w.add("assignee_id = ?", f.AssigneeID)
	}
	if f.Priority != "" {
		w.add("priority = ?", f.Priority)
	}
	// A NULL due date fails both comparisons, so tasks without one drop out
	// of any due-date range, as TaskFilter promises.
	if f.DueBefore != "" {
		w.add("due_date <= ?", f.DueBefore)
	}
	if f.DueAfter != "" {
		w.add("due_date >= ?", f.DueAfter)
	}
	if f.Query != "" {
		q := containsPattern(f.Query)
		w.add(`(title LIKE ? ESCAPE '\' OR description LIKE ? ESCAPE '\')`, q, q)
	}
	limit := pageArgs(&w, f.Page)
	rows, err := t.tx.QueryContext(ctx,
		"SELECT "+taskColumns+" FROM tasks"+w.String()+" ORDER BY id LIMIT ?",
		append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find tasks: %w", err)
	}
	defer rows.Close()
	var out []*capability.Task
	for rows.Next() {
		task, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("find tasks: %w", err)
		}
		out = append(out, task)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tasks: %w", err)
	}
	return out, nil
}

// UpdateTask writes the mutable fields of task. UpdatedAt is written as
// given, normally the call's time; when it is zero the store's clock stamps
// it. The project, creation time and agent vendor never change.
func (t *tx) UpdateTask(ctx context.Context, task *capability.Task) error {
	t.stamp(&task.UpdatedAt, nil)
	res, err := t.tx.ExecContext(ctx,
		`UPDATE tasks SET title = ?, description = ?, status = ?, priority = ?, due_date = ?,
		 assignee_id = ?, cancel_reason = ?, updated_at = ? WHERE id = ?`,
		task.Title, task.Description, task.Status, nullString(task.Priority),
		nullString(task.DueDate), nullString(task.AssigneeID), nullString(task.CancelReason),
		formatTime(task.UpdatedAt), task.ID)
	if err != nil {
		return fmt.Errorf("update task %s: %w", task.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update task %s: %w", task.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("task %s: %w", task.ID, capability.ErrNotFound)
	}
	return nil
}

// CountTasksByStatus counts the tasks of a project by status, with every
// status present (zero included) so callers need no defaults. An empty
// projectID counts every task of the tenant.
func (t *tx) CountTasksByStatus(ctx context.Context, projectID string) (map[string]int, error) {
	var w where
	if projectID != "" {
		w.add("project_id = ?", projectID)
	}
	rows, err := t.tx.QueryContext(ctx, "SELECT status, count(*) FROM tasks"+w.String()+" GROUP BY status", w.args...)
	if err != nil {
		return nil, fmt.Errorf("count tasks: %w", err)
	}
	defer rows.Close()
	counts := make(map[string]int, len(taskStatuses))
	for _, s := range taskStatuses {
		counts[s] = 0
	}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count tasks: %w", err)
		}
		counts[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count tasks: %w", err)
	}
	return counts, nil
}

// scanTask reads one row selected with taskColumns; NULL optional fields
// become "".
func scanTask(s scanner) (*capability.Task, error) {
	var task capability.Task
	var priority, dueDate, assignee, vendor, cancelReason sql.NullString
	var created, updated string
	if err := s.Scan(&task.ID, &task.ProjectID, &task.Title, &task.Description, &task.Status,
		&priority, &dueDate, &assignee, &vendor, &cancelReason, &created, &updated); err != nil {
		return nil, err
	}
	task.Priority, task.DueDate, task.AssigneeID, task.AgentVendor = priority.String, dueDate.String, assignee.String, vendor.String
	task.CancelReason = cancelReason.String
	var err error
	if task.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if task.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &task, nil
}
