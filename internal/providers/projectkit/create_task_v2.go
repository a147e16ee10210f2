package projectkit

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// createTaskV2 serves projects.create_task@0.2.0: everything 0.1.0 accepts,
// with the same rules, plus the details of seed 004, which are stored
// beside the task (capability.TaskDetails) so that 0.1.0's contracts keep
// their exact shape.
func createTaskV2(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		ProjectID    string          `json:"project_id"`
		Title        string          `json:"title"`
		Description  string          `json:"description"`
		Priority     string          `json:"priority"`
		DueDate      string          `json:"due_date"`
		AssigneeID   string          `json:"assignee_id"`
		AgentVendor  string          `json:"agent_vendor"`
		BudgetUSD    *float64        `json:"budget_usd"`
		Category     *string         `json:"category"`
		TaskType     *string         `json:"task_type"`
		Requirements json.RawMessage `json:"requirements"`
		ExpiresAt    string          `json:"expires_at"`
		Labels       []string        `json:"labels"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	// Rules the input alone decides are reported together, so one retry
	// can fix them all.
	var issues []capability.Issue
	if strings.TrimSpace(in.Title) == "" {
		issues = append(issues, capability.Issue{Path: "/title", Message: "must contain a non-space character", Keyword: "minLength"})
	}
	switch {
	case in.Category != nil && in.TaskType == nil:
		issues = append(issues, capability.Issue{Path: "/task_type", Message: "required when category is given; call projects.list_task_types to pick one"})
	case in.Category == nil && in.TaskType != nil:
		issues = append(issues, capability.Issue{Path: "/category", Message: "required when task_type is given; call projects.list_task_types to pick one"})
	}
	var expires time.Time
	if in.ExpiresAt != "" {
		t, err := parseExpiry(in.ExpiresAt)
		switch {
		case err != nil:
			issues = append(issues, capability.Issue{Path: "/expires_at", Message: "not a date-time this server can read; use RFC 3339, e.g. 2026-12-31T17:00:00Z", Keyword: "format"})
		case !t.After(c.Now):
			issues = append(issues, capability.Issue{Path: "/expires_at", Message: "must be later than now (" + stamp(c.Now) + ")"})
		default:
			expires = t
		}
	}
	if len(issues) > 0 {
		return nil, capability.InvalidInput(describeV2Issues(issues), issues...)
	}
	if _, err := findProject(ctx, c.Tx, in.ProjectID); err != nil {
		return nil, err
	}
	if in.AssigneeID != "" {
		if err := checkAssignee(ctx, c.Tx, in.AssigneeID); err != nil {
			return nil, err
		}
	}
	d := &capability.TaskDetails{BudgetUSD: in.BudgetUSD, ExpiresAt: expires, Labels: in.Labels}
	if in.Category != nil {
		if err := checkTaskType(ctx, c.Tx, *in.Category, *in.TaskType); err != nil {
			return nil, err
		}
		d.Category, d.TaskType = *in.Category, *in.TaskType
	}
	if len(in.Requirements) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, in.Requirements); err != nil {
			return nil, err
		}
		d.Requirements = b.Bytes()
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
	d.TaskID = t.ID
	if err := c.Tx.SaveTaskDetails(ctx, d); err != nil {
		return nil, err
	}
	return map[string]any{"task_id": t.ID, "status": t.Status, "task": taskDetailJSON(t, d)}, nil
}

// parseExpiry reads an RFC 3339 date-time as JSON Schema's format
// accepts it (lowercase t and z included).
func parseExpiry(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.ToUpper(s))
}

func describeV2Issues(issues []capability.Issue) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		parts[i] = is.Path + " " + is.Message
	}
	return "the input breaks a rule of projects.create_task: " + strings.Join(parts, "; ") + ". Fix these fields and call again"
}

// taskDetailJSON renders a task with its details (schemas/task_detail.json):
// task.json's fields plus the 0.2.0 ones, null when not given.
func taskDetailJSON(t *capability.Task, d *capability.TaskDetails) map[string]any {
	out := taskJSON(t)
	out["budget_usd"] = nil
	if d.BudgetUSD != nil {
		out["budget_usd"] = *d.BudgetUSD
	}
	out["category"] = nullable(d.Category)
	out["task_type"] = nullable(d.TaskType)
	out["requirements"] = nil
	if len(d.Requirements) > 0 {
		out["requirements"] = json.RawMessage(d.Requirements)
	}
	out["expires_at"] = nil
	if !d.ExpiresAt.IsZero() {
		out["expires_at"] = stamp(d.ExpiresAt)
	}
	labels := d.Labels
	if labels == nil {
		labels = []string{}
	}
	out["labels"] = labels
	return out
}
