package projectkit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// maxLogMessageBytes bounds one log entry's message. The schema's
// maxLength counts characters; the bound is in bytes, so a message of
// multi-byte characters can pass the schema and still be too long here.
const maxLogMessageBytes = 16 << 10

func appendTaskRunLog(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		RunID   string `json:"run_id"`
		Entries []struct {
			Level   string `json:"level"`
			Message string `json:"message"`
			At      string `json:"at"`
		} `json:"entries"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	// Every entry is checked before anything is written: an append is
	// all or nothing.
	var issues []capability.Issue
	entries := make([]*capability.RunLogEntry, len(in.Entries))
	for i, e := range in.Entries {
		entry := &capability.RunLogEntry{Level: e.Level, Message: e.Message, At: c.Now}
		if n := len(e.Message); n > maxLogMessageBytes {
			issues = append(issues, capability.Issue{
				Path:    fmt.Sprintf("/entries/%d/message", i),
				Message: fmt.Sprintf("is %d bytes of UTF-8; at most %d bytes are allowed (messages are never truncated): split it into several entries", n, maxLogMessageBytes),
				Keyword: "maxLength",
			})
		}
		if e.At != "" {
			at, err := parseDateTime(e.At)
			if err != nil {
				issues = append(issues, capability.Issue{
					Path:    fmt.Sprintf("/entries/%d/at", i),
					Message: "is not a time capd can store; give an RFC 3339 date-time such as 2026-03-01T09:30:00Z, or leave at out to use the time of the call",
					Keyword: "format",
				})
			}
			entry.At = at
		}
		entries[i] = entry
	}
	if len(issues) > 0 {
		return nil, capability.InvalidInput(fmt.Sprintf("%d of the %d entries cannot be logged and nothing was appended; fix the entries named in issues and call projects.append_task_run_log again", len(issues), len(entries)), issues...)
	}
	r, err := findRun(ctx, c.Tx, in.RunID)
	if err != nil {
		return nil, err
	}
	if capability.RunFinished(r.Status) {
		return nil, runFinished(r, "take log entries")
	}
	if err := c.Tx.AppendRunLog(ctx, r.ID, entries); err != nil {
		return nil, err
	}
	return map[string]any{
		"run_id":    r.ID,
		"first_seq": entries[0].Seq,
		"last_seq":  entries[len(entries)-1].Seq,
	}, nil
}

// parseDateTime reads an RFC 3339 date-time that has passed the schema's
// format check; RFC 3339 allows a lowercase t and z, which Go's parser
// does not, and a leap second, which Go cannot represent.
func parseDateTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.ToUpper(s))
}
