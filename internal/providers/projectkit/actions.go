package projectkit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

// actionHandlers serves cancelling tasks, task actions, the task-type
// taxonomy and create_task@0.2.0.
func actionHandlers() map[string]capability.Handler {
	return map[string]capability.Handler{
		"projects.cancel_task@0.1.0":        cancelTask,
		"projects.list_task_actions@0.1.0":  listTaskActions,
		"projects.add_task_action@0.1.0":    addTaskAction,
		"projects.update_task_action@0.1.0": updateTaskAction,
		"projects.cancel_task_action@0.1.0": cancelTaskAction,
		"projects.list_task_types@0.1.0":    listTaskTypes,
		"projects.create_task@0.2.0":        createTaskV2,
	}
}

func listTaskActions(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		TaskID string `json:"task_id"`
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if _, err := findTask(ctx, c.Tx, in.TaskID); err != nil {
		return nil, err
	}
	// The task is part of the cursor's filters: a cursor of one task's
	// actions is refused for another's.
	filters := []string{"projects.list_task_actions", in.TaskID}
	after, err := parseCursor(in.Cursor, filters)
	if err != nil {
		return nil, err
	}
	limit := limitOr(in.Limit)
	rows, err := c.Tx.FindTaskActions(ctx, in.TaskID, capability.Page{AfterID: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	rows, next := page(rows, limit, func(a *capability.TaskAction) string { return a.ID }, filters)
	return map[string]any{"items": mapEach(rows, actionJSON), "next_cursor": next}, nil
}

func addTaskAction(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		TaskID     string `json:"task_id"`
		Title      string `json:"title"`
		Notes      string `json:"notes"`
		AssigneeID string `json:"assignee_id"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Title) == "" {
		return nil, blankTitle()
	}
	t, err := findTask(ctx, c.Tx, in.TaskID)
	if err != nil {
		return nil, err
	}
	if t.Status == capability.TaskCancelled {
		return nil, &capability.Error{
			Code:    capability.CodeInvalidTransition,
			Message: fmt.Sprintf("task %s is cancelled and takes no new actions; create a new task with projects.create_task if the work is still needed", t.ID),
			Issues:  []capability.Issue{{Path: "/task_id", Message: "the task is cancelled"}},
		}
	}
	if in.AssigneeID != "" {
		if err := checkAssignee(ctx, c.Tx, in.AssigneeID); err != nil {
			return nil, err
		}
	}
	a := &capability.TaskAction{
		TaskID: t.ID, Title: in.Title, Notes: in.Notes, AssigneeID: in.AssigneeID,
		State: capability.ActionOpen, CreatedAt: c.Now, UpdatedAt: c.Now,
	}
	if err := c.Tx.CreateTaskAction(ctx, a); err != nil {
		return nil, err
	}
	return map[string]any{"action": actionJSON(a)}, nil
}

func updateTaskAction(ctx context.Context, c *capability.Call) (map[string]any, error) {
	in, err := decodePatch(c)
	if err != nil {
		return nil, err
	}
	id, err := in.id("action_id")
	if err != nil {
		return nil, err
	}
	a, err := findAction(ctx, c.Tx, id)
	if err != nil {
		return nil, err
	}
	if err := checkActionChangeable(ctx, c.Tx, a); err != nil {
		return nil, err
	}
	before := *a
	if err := in.title(&a.Title); err != nil {
		return nil, err
	}
	in.apply(map[string]*string{"notes": &a.Notes, "state": &a.State})
	if err := in.assignee(ctx, c.Tx, &a.AssigneeID); err != nil {
		return nil, err
	}
	// Only a real change moves updated_at and writes, so repeating an
	// update is a true no-op, as the contract's idempotency promises.
	if *a != before {
		a.UpdatedAt = c.Now
		if err := c.Tx.UpdateTaskAction(ctx, a); err != nil {
			return nil, err
		}
	}
	return map[string]any{"action": actionJSON(a)}, nil
}

func cancelTaskAction(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		ActionID string `json:"action_id"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	a, err := findAction(ctx, c.Tx, in.ActionID)
	if err != nil {
		return nil, err
	}
	if err := checkActionChangeable(ctx, c.Tx, a); err != nil {
		return nil, err
	}
	a.State = capability.ActionCancelled
	a.UpdatedAt = c.Now
	if err := c.Tx.UpdateTaskAction(ctx, a); err != nil {
		return nil, err
	}
	return map[string]any{"action": actionJSON(a)}, nil
}

// findAction loads an action or answers unknown_action at /action_id. An
// action of another tenant is not in this tenant's database, so it gets the
// same answer as an id that never existed.
func findAction(ctx context.Context, tx capability.Tx, id string) (*capability.TaskAction, error) {
	a, err := tx.FindTaskActionByID(ctx, id)
	if errors.Is(err, capability.ErrNotFound) {
		return nil, &capability.Error{
			Code:    capability.CodeUnknownAction,
			Message: fmt.Sprintf("action %q does not exist in this tenant; call projects.list_task_actions with the task_id to find valid action ids", id),
			Issues:  []capability.Issue{{Path: "/action_id", Message: "no such action"}},
		}
	}
	return a, err
}

// checkActionChangeable answers invalid_transition when a is cancelled or
// belongs to a cancelled task: both are final, so neither may change.
func checkActionChangeable(ctx context.Context, tx capability.Tx, a *capability.TaskAction) error {
	if a.State == capability.ActionCancelled {
		return &capability.Error{
			Code:    capability.CodeInvalidTransition,
			Message: fmt.Sprintf("action %s is already cancelled and can no longer change; call projects.add_task_action to add the step again if it is still needed", a.ID),
			Issues:  []capability.Issue{{Path: "/action_id", Message: "the action is cancelled"}},
		}
	}
	t, err := tx.FindTaskByID(ctx, a.TaskID)
	if err != nil {
		return err
	}
	if t.Status == capability.TaskCancelled {
		return &capability.Error{
			Code:    capability.CodeInvalidTransition,
			Message: fmt.Sprintf("action %s belongs to task %s, which is cancelled, so it can no longer change; add the step to a task that is not cancelled with projects.add_task_action if it is still needed", a.ID, t.ID),
			Issues:  []capability.Issue{{Path: "/action_id", Message: "the action's task is cancelled"}},
		}
	}
	return nil
}

func actionJSON(a *capability.TaskAction) map[string]any {
	return map[string]any{
		"action_id":   a.ID,
		"task_id":     a.TaskID,
		"title":       a.Title,
		"notes":       a.Notes,
		"assignee_id": nullable(a.AssigneeID),
		"state":       a.State,
		"created_at":  stamp(a.CreatedAt),
		"updated_at":  stamp(a.UpdatedAt),
	}
}
