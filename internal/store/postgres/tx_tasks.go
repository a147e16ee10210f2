package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// taskStatuses is the closed set of task statuses, in workflow order.
var taskStatuses = []string{
	capability.TaskTodo, capability.TaskDoing, capability.TaskWaiting,
	capability.TaskReview, capability.TaskDone, capability.TaskCancelled,
}

// taskColumns reads due_date back as the domain's YYYY-MM-DD text;
// to_char does not depend on the session's DateStyle.
const taskColumns = "id, project_id, title, description, status, priority, to_char(due_date, 'YYYY-MM-DD'), assignee_id, agent_vendor, cancel_reason, created_at, updated_at"

// taskInsertColumns are taskColumns as an INSERT names them.
const taskInsertColumns = "id, project_id, title, description, status, priority, due_date, assignee_id, agent_vendor, cancel_reason, created_at, updated_at"

// CreateTask inserts task, assigning its ID and timestamps when they are
// empty and status todo when Status is empty. The project and the assignee
// must exist: the foreign keys reject anything else, but callers should
// check first to give the agent a specific error.
func (t *tx) CreateTask(ctx context.Context, task *capability.Task) error {
	due, err := nullDate(task.DueDate)
	if err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	if task.ID == "" {
		task.ID = t.newID(storecore.PrefixTask)
	}
	if task.Status == "" {
		task.Status = capability.TaskTodo
	}
	t.stamp(&task.CreatedAt, &task.UpdatedAt)
	tag, err := t.tx.Exec(ctx,
		"INSERT INTO tasks ("+taskInsertColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
		task.ID, task.ProjectID, task.Title, task.Description, task.Status,
		nullString(task.Priority), due, nullString(task.AssigneeID),
		nullString(task.AgentVendor), nullString(task.CancelReason),
		task.CreatedAt, task.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return capability.Errorf(capability.CodeAlreadyExists, "a task with id %s already exists", task.ID)
	}
	return nil
}

// FindTaskByID returns the task with id, or ErrNotFound.
func (t *tx) FindTaskByID(ctx context.Context, id string) (*capability.Task, error) {
	task, err := scanTask(t.tx.QueryRow(ctx, "SELECT "+taskColumns+" FROM tasks WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "task "+id, "find task "+id)
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
		w.add("status = ANY(?)", f.Status)
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
		d, err := nullDate(f.DueBefore)
		if err != nil {
			return nil, fmt.Errorf("find tasks: due before: %w", err)
		}
		w.add("due_date <= ?", d)
	}
	if f.DueAfter != "" {
		d, err := nullDate(f.DueAfter)
		if err != nil {
			return nil, fmt.Errorf("find tasks: due after: %w", err)
		}
		w.add("due_date >= ?", d)
	}
	if f.Query != "" {
		q := containsPattern(f.Query)
		w.add(`(title ILIKE ? ESCAPE '\' OR description ILIKE ? ESCAPE '\')`, q, q)
	}
	limit := pageArgs(&w, f.Page)
	rows, err := t.tx.Query(ctx,
		"SELECT "+taskColumns+" FROM tasks"+w.String()+" ORDER BY id LIMIT "+w.next(limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("find tasks: %w", err)
	}
	out, err := scanAll(rows, scanTask)
	if err != nil {
		return nil, fmt.Errorf("find tasks: %w", err)
	}
	return out, nil
}

// UpdateTask writes the mutable fields of task. UpdatedAt is written as
// given, normally the call's time; when it is zero the store's clock stamps
// it. The project, creation time and agent vendor never change.
func (t *tx) UpdateTask(ctx context.Context, task *capability.Task) error {
	due, err := nullDate(task.DueDate)
	if err != nil {
		return fmt.Errorf("update task %s: %w", task.ID, err)
	}
	if task.UpdatedAt.IsZero() {
		task.UpdatedAt = t.now()
	}
	task.UpdatedAt = pgTime(task.UpdatedAt)
	tag, err := t.tx.Exec(ctx,
		`UPDATE tasks SET title = $1, description = $2, status = $3, priority = $4, due_date = $5,
		 assignee_id = $6, cancel_reason = $7, updated_at = $8 WHERE id = $9`,
		task.Title, task.Description, task.Status, nullString(task.Priority),
		due, nullString(task.AssigneeID), nullString(task.CancelReason),
		task.UpdatedAt, task.ID)
	if err != nil {
		return fmt.Errorf("update task %s: %w", task.ID, err)
	}
	return changedOne(tag, "task", task.ID)
}

// CountTasksByStatus counts the tasks of a project by status, with every
// status present (zero included) so callers need no defaults. An empty
// projectID counts every task of the tenant.
func (t *tx) CountTasksByStatus(ctx context.Context, projectID string) (map[string]int, error) {
	var w where
	if projectID != "" {
		w.add("project_id = ?", projectID)
	}
	rows, err := t.tx.Query(ctx, "SELECT status, count(*) FROM tasks"+w.String()+" GROUP BY status", w.args...)
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
func scanTask(row pgx.Row) (*capability.Task, error) {
	var task capability.Task
	var priority, dueDate, assignee, vendor, cancelReason *string
	var created, updated time.Time
	if err := row.Scan(&task.ID, &task.ProjectID, &task.Title, &task.Description, &task.Status,
		&priority, &dueDate, &assignee, &vendor, &cancelReason, &created, &updated); err != nil {
		return nil, err
	}
	task.Priority, task.DueDate = fromNullString(priority), fromNullString(dueDate)
	task.AssigneeID, task.AgentVendor = fromNullString(assignee), fromNullString(vendor)
	task.CancelReason = fromNullString(cancelReason)
	task.CreatedAt, task.UpdatedAt = created.UTC(), updated.UTC()
	return &task, nil
}
