package projectkit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

func createTask(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		ProjectID   string `json:"project_id"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Priority    string `json:"priority"`
		DueDate     string `json:"due_date"`
		AssigneeID  string `json:"assignee_id"`
		AgentVendor string `json:"agent_vendor"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Title) == "" {
		return nil, blankTitle()
	}
	if _, err := findProject(ctx, c.Tx, in.ProjectID); err != nil {
		return nil, err
	}
	if in.AssigneeID != "" {
		if err := checkAssignee(ctx, c.Tx, in.AssigneeID); err != nil {
			return nil, err
		}
	}
	t := &capability.Task{
		ProjectID: in.ProjectID, Title: in.Title, Description: in.Description,
		Status: capability.TaskTodo, Priority: in.Priority, DueDate: in.DueDate,
		AssigneeID: in.AssigneeID, AgentVendor: in.AgentVendor,
		CreatedAt: c.Now, UpdatedAt: c.Now,
	}
	if err := c.Tx.CreateTask(ctx, t); err != nil {
		return nil, err
	}
	return map[string]any{"task_id": t.ID, "status": t.Status}, nil
}

func listTasks(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		ProjectID  string `json:"project_id"`
		Status     string `json:"status"`
		AssigneeID string `json:"assignee_id"`
		Priority   string `json:"priority"`
		DueBefore  string `json:"due_before"`
		DueAfter   string `json:"due_after"`
		Query      string `json:"query"`
		Limit      int    `json:"limit"`
		Cursor     string `json:"cursor"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.DueBefore != "" && in.DueAfter != "" && in.DueAfter > in.DueBefore {
		return nil, capability.InvalidInput("due_after is later than due_before, so no task can match",
			capability.Issue{Path: "/due_after", Message: "must not be later than due_before (" + in.DueBefore + ")"})
	}
	if in.ProjectID != "" {
		if _, err := findProject(ctx, c.Tx, in.ProjectID); err != nil {
			return nil, err
		}
	}
	if in.AssigneeID != "" {
		if err := checkAssignee(ctx, c.Tx, in.AssigneeID); err != nil {
			return nil, err
		}
	}
	f := capability.TaskFilter{
		ProjectID: in.ProjectID, AssigneeID: in.AssigneeID, Priority: in.Priority,
		DueBefore: in.DueBefore, DueAfter: in.DueAfter, Query: in.Query,
	}
	if in.Status != "" {
		f.Status = []string{in.Status}
	}
	after, err := parseCursor(in.Cursor, f)
	if err != nil {
		return nil, err
	}
	limit := limitOr(in.Limit)
	f.Page = capability.Page{AfterID: after, Limit: limit}
	rows, err := c.Tx.FindTasks(ctx, f)
	if err != nil {
		return nil, err
	}
	f.Page = capability.Page{}
	rows, next := page(rows, limit, func(t *capability.Task) string { return t.ID }, f)
	return map[string]any{"items": mapEach(rows, taskJSON), "next_cursor": next}, nil
}

func getTask(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		TaskID string `json:"task_id"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := findTask(ctx, c.Tx, in.TaskID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"task": taskJSON(t), "allowed_transitions": allowedFrom(t.Status)}, nil
}

func updateTask(ctx context.Context, c *capability.Call) (map[string]any, error) {
	in, err := decodePatch(c)
	if err != nil {
		return nil, err
	}
	id, err := in.id("task_id")
	if err != nil {
		return nil, err
	}
	t, err := findTask(ctx, c.Tx, id)
	if err != nil {
		return nil, err
	}
	before := *t
	if err := in.title(&t.Title); err != nil {
		return nil, err
	}
	in.apply(map[string]*string{"description": &t.Description, "priority": &t.Priority, "due_date": &t.DueDate})
	if err := in.assignee(ctx, c.Tx, &t.AssigneeID); err != nil {
		return nil, err
	}
	// Only a real change moves updated_at and writes, so repeating an
	// update is a true no-op, as the contract's idempotency promises.
	if *t != before {
		t.UpdatedAt = c.Now
		if err := c.Tx.UpdateTask(ctx, t); err != nil {
			return nil, err
		}
	}
	return map[string]any{"task": taskJSON(t)}, nil
}

func transitionTask(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		TaskID string `json:"task_id"`
		To     string `json:"to"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := findTask(ctx, c.Tx, in.TaskID)
	if err != nil {
		return nil, err
	}
	from := t.Status
	if !canTransition(from, in.To) {
		allowed := allowedFrom(from)
		next := "it cannot move from " + from
		if len(allowed) > 0 {
			next = "from " + from + " it can move to " + strings.Join(allowed, ", ")
		}
		return nil, &capability.Error{
			Code:    capability.CodeInvalidTransition,
			Message: fmt.Sprintf("task %s is %s and cannot move to %s; %s. Call projects.transition_task with one of allowed_transitions", t.ID, from, in.To, next),
			Issues:  []capability.Issue{{Path: "/to", Message: fmt.Sprintf("%s → %s is not an allowed transition", from, in.To)}},
			Details: map[string]any{"status": from, "allowed_transitions": allowed},
		}
	}
	t.Status = in.To
	t.UpdatedAt = c.Now
	if err := c.Tx.UpdateTask(ctx, t); err != nil {
		return nil, err
	}
	return map[string]any{"task": taskJSON(t), "from": from, "allowed_transitions": allowedFrom(t.Status)}, nil
}

// findTask loads a task or answers unknown_task at /task_id. A task of
// another tenant is simply not in this tenant's database, so it gets the
// same answer as an id that never existed.
func findTask(ctx context.Context, tx capability.Tx, id string) (*capability.Task, error) {
	t, err := tx.FindTaskByID(ctx, id)
	if errors.Is(err, capability.ErrNotFound) {
		return nil, &capability.Error{
			Code:    capability.CodeUnknownTask,
			Message: fmt.Sprintf("task %q does not exist in this tenant; call projects.list_tasks to find valid task ids", id),
			Issues:  []capability.Issue{{Path: "/task_id", Message: "no such task"}},
		}
	}
	return t, err
}

func blankTitle() error {
	return capability.InvalidInput("title must not be blank",
		capability.Issue{Path: "/title", Message: "must contain a non-space character", Keyword: "minLength"})
}
