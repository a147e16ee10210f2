package projectkit

import (
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullable renders an unset optional field as JSON null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func projectJSON(p *capability.Project) map[string]any {
	return map[string]any{
		"project_id":  p.ID,
		"name":        p.Name,
		"description": p.Description,
		"created_at":  stamp(p.CreatedAt),
		"updated_at":  stamp(p.UpdatedAt),
	}
}

func staffJSON(s *capability.Staff) map[string]any {
	return map[string]any{
		"staff_id": s.ID,
		"name":     s.Name,
		"email":    s.Email,
		"role":     s.Role,
	}
}

func taskJSON(t *capability.Task) map[string]any {
	return map[string]any{
		"task_id":      t.ID,
		"project_id":   t.ProjectID,
		"title":        t.Title,
		"description":  t.Description,
		"status":       t.Status,
		"priority":     nullable(t.Priority),
		"due_date":     nullable(t.DueDate),
		"assignee_id":  nullable(t.AssigneeID),
		"agent_vendor": nullable(t.AgentVendor),
		"created_at":   stamp(t.CreatedAt),
		"updated_at":   stamp(t.UpdatedAt),
	}
}

func mapEach[T any](items []T, f func(T) map[string]any) []map[string]any {
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}
