package projectkit

import (
	"encoding/json"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

func runJSON(r *capability.TaskRun) map[string]any {
	return map[string]any{
		"run_id":        r.ID,
		"task_id":       r.TaskID,
		"status":        r.Status,
		"branch":        nullable(r.Branch),
		"stage":         nullable(r.Stage),
		"output":        nullableObject(r.Output),
		"state":         nullableObject(r.State),
		"error_message": nullable(r.ErrorMessage),
		"created_at":    stamp(r.CreatedAt),
		"updated_at":    stamp(r.UpdatedAt),
		"finished_at":   nullableTime(r.FinishedAt),
	}
}

func logEntryJSON(e *capability.RunLogEntry) map[string]any {
	return map[string]any{
		"seq":     e.Seq,
		"level":   e.Level,
		"message": e.Message,
		"at":      stamp(e.At),
	}
}

// artifactJSON renders an artifact's manifest entry, never its content.
func artifactJSON(a *capability.RunArtifact) map[string]any {
	return map[string]any{
		"artifact_id":  a.ID,
		"run_id":       a.RunID,
		"name":         a.Name,
		"content_type": a.ContentType,
		"size":         a.Size,
		"sha256":       a.SHA256,
		"created_at":   stamp(a.CreatedAt),
	}
}

// nullableObject renders a stored JSON object as itself, and an unset one
// as JSON null (a nil RawMessage in an interface would not be).
func nullableObject(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return raw
}

func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return stamp(t)
}
