package projectkit

import (
	"context"
	"fmt"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

// cancelTask moves an unfinished task to cancelled and, in the same
// transaction, withdraws its open actions and stops its running runs, so
// nothing keeps working on abandoned work.
func cancelTask(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		TaskID string `json:"task_id"`
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := findTask(ctx, c.Tx, in.TaskID)
	if err != nil {
		return nil, err
	}
	switch t.Status {
	case capability.TaskCancelled:
		return nil, notCancellable(t, "is already cancelled; there is nothing left to cancel. Call projects.create_task if the work is needed again")
	case capability.TaskDone:
		return nil, notCancellable(t, "is done and cannot be cancelled; only todo, doing, waiting and review tasks can. Call projects.transition_task with to \"todo\" to reopen it first, or leave it done")
	}
	actions, err := c.Tx.CancelOpenTaskActions(ctx, t.ID, c.Now)
	if err != nil {
		return nil, err
	}
	runs, err := c.Tx.CancelRunningTaskRuns(ctx, t.ID, c.Now)
	if err != nil {
		return nil, err
	}
	t.Status = capability.TaskCancelled
	t.CancelReason = strings.TrimSpace(in.Reason)
	t.UpdatedAt = c.Now
	if err := c.Tx.UpdateTask(ctx, t); err != nil {
		return nil, err
	}
	return map[string]any{"task": taskJSON(t), "cancelled_actions": actions, "cancelled_runs": runs}, nil
}

func notCancellable(t *capability.Task, why string) error {
	return &capability.Error{
		Code:    capability.CodeInvalidTransition,
		Message: fmt.Sprintf("task %s %s", t.ID, why),
		Issues:  []capability.Issue{{Path: "/task_id", Message: "the task is " + t.Status + "; only an unfinished task can be cancelled"}},
		Details: map[string]any{"status": t.Status},
	}
}
