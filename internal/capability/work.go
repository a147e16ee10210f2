package capability

import (
	"context"
	"encoding/json"
	"time"
)

// Task action states. An action is a sub-step of a task.
const (
	ActionOpen      = "open"
	ActionDone      = "done"
	ActionCancelled = "cancelled"
)

// TaskAction is one sub-step of a task.
type TaskAction struct {
	ID         string
	TaskID     string
	Title      string
	Notes      string
	AssigneeID string // "" or a staff id
	State      string // open, done or cancelled
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Task run statuses. A run is one execution of a task by an agent;
// succeeded, failed and cancelled are final.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// RunFinished reports whether a run in status can no longer change.
func RunFinished(status string) bool { return status != RunRunning }

// TaskRun is one execution of a task.
type TaskRun struct {
	ID           string
	TaskID       string
	Status       string
	Branch       string
	Stage        string
	Output       json.RawMessage // a JSON object, or nil
	State        json.RawMessage // a JSON object, or nil
	ErrorMessage string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   time.Time // zero while running
}

// RunLogEntry is one line of a run's append-only log. Seq numbers a run's
// entries from 1 in append order.
type RunLogEntry struct {
	RunID   string
	Seq     int64
	Level   string
	Message string
	At      time.Time
}

// RunArtifact is a file attached to a run. Content is set only when the
// artifact is read by id; listings carry the manifest fields.
type RunArtifact struct {
	ID          string
	RunID       string
	Name        string
	ContentType string
	Size        int64
	SHA256      string // lowercase hex
	Content     []byte
	CreatedAt   time.Time
}

// TaskType is one entry of a tenant's category/task_type taxonomy.
type TaskType struct {
	Category    string
	TaskType    string
	Description string
}

// TaskDetails are the fields a task gained with projects.create_task@0.2.0.
// They live beside the task so that contracts published before them keep
// their exact shape.
type TaskDetails struct {
	TaskID       string
	BudgetUSD    *float64
	Category     string
	TaskType     string
	Requirements json.RawMessage // a JSON object, or nil
	ExpiresAt    time.Time       // zero: none
	Labels       []string
}

// WorkTx is the part of a tenant transaction that serves task actions,
// runs, logs, artifacts, the task-type taxonomy and task details. Find*
// return ErrNotFound for a missing row; list methods return up to
// Page.Limit+1 rows ordered by id (time order).
type WorkTx interface {
	CreateTaskAction(ctx context.Context, a *TaskAction) error
	FindTaskActionByID(ctx context.Context, id string) (*TaskAction, error)
	FindTaskActions(ctx context.Context, taskID string, p Page) ([]*TaskAction, error)
	// UpdateTaskAction writes title, notes, assignee, state and updated_at.
	UpdateTaskAction(ctx context.Context, a *TaskAction) error
	// CancelOpenTaskActions moves every open action of the task to
	// cancelled and returns how many it moved.
	CancelOpenTaskActions(ctx context.Context, taskID string, at time.Time) (int, error)

	CreateTaskRun(ctx context.Context, r *TaskRun) error
	FindTaskRunByID(ctx context.Context, id string) (*TaskRun, error)
	FindTaskRuns(ctx context.Context, taskID string, p Page) ([]*TaskRun, error)
	// UpdateTaskRun writes status, branch, stage, output, state,
	// error_message, updated_at and finished_at.
	UpdateTaskRun(ctx context.Context, r *TaskRun) error
	// CancelRunningTaskRuns moves every running run of the task to
	// cancelled (finished at at) and returns how many it moved.
	CancelRunningTaskRuns(ctx context.Context, taskID string, at time.Time) (int, error)

	// AppendRunLog stores entries after the run's last one, setting each
	// entry's Seq (and RunID).
	AppendRunLog(ctx context.Context, runID string, entries []*RunLogEntry) error
	// FindRunLog returns up to limit entries with Seq > afterSeq, in order.
	FindRunLog(ctx context.Context, runID string, afterSeq int64, limit int) ([]*RunLogEntry, error)
	// LastRunLogSeq returns the Seq of the run's newest entry, 0 if none.
	LastRunLogSeq(ctx context.Context, runID string) (int64, error)

	// CreateRunArtifact stores the artifact with its content; the caller
	// sets Size and SHA256.
	CreateRunArtifact(ctx context.Context, a *RunArtifact) error
	// FindRunArtifacts lists a run's artifacts without content, oldest first.
	FindRunArtifacts(ctx context.Context, runID string) ([]*RunArtifact, error)
	// FindRunArtifactByID returns one artifact with its content.
	FindRunArtifactByID(ctx context.Context, id string) (*RunArtifact, error)

	// FindTaskTypes lists the taxonomy, optionally of one category, ordered
	// by category then task type.
	FindTaskTypes(ctx context.Context, category string) ([]*TaskType, error)
	FindTaskType(ctx context.Context, category, taskType string) (*TaskType, error)

	// SaveTaskDetails creates or replaces a task's details.
	SaveTaskDetails(ctx context.Context, d *TaskDetails) error
	// FindTaskDetails returns a task's details, ErrNotFound if it has none.
	FindTaskDetails(ctx context.Context, taskID string) (*TaskDetails, error)
}
