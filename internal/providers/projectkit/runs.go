package projectkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

// runHandlers serves task runs, their logs and artifacts.
func runHandlers() map[string]capability.Handler {
	return map[string]capability.Handler{
		"projects.start_task_run@0.1.0":           startTaskRun,
		"projects.update_task_run@0.1.0":          updateTaskRun,
		"projects.list_task_runs@0.1.0":           listTaskRuns,
		"projects.get_task_run@0.1.0":             getTaskRun,
		"projects.append_task_run_log@0.1.0":      appendTaskRunLog,
		"projects.attach_task_run_artifact@0.1.0": attachTaskRunArtifact,
		"projects.get_task_run_artifact@0.1.0":    getTaskRunArtifact,
	}
}

func startTaskRun(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		TaskID string `json:"task_id"`
		Branch string `json:"branch"`
		Stage  string `json:"stage"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := findTask(ctx, c.Tx, in.TaskID)
	if err != nil {
		return nil, err
	}
	if err := checkTaskRunnable(t); err != nil {
		return nil, err
	}
	r := &capability.TaskRun{
		TaskID: t.ID, Status: capability.RunRunning, Branch: in.Branch, Stage: in.Stage,
		CreatedAt: c.Now, UpdatedAt: c.Now,
	}
	if err := c.Tx.CreateTaskRun(ctx, r); err != nil {
		return nil, err
	}
	return map[string]any{"run": runJSON(r)}, nil
}

// checkTaskRunnable refuses a run of a task whose work is over: a done task
// must be reopened first, a cancelled one never runs again.
func checkTaskRunnable(t *capability.Task) error {
	var next string
	switch t.Status {
	case capability.TaskDone:
		next = "if more work is needed, reopen it with projects.transition_task (to todo) and then call projects.start_task_run again"
	case capability.TaskCancelled:
		next = "a cancelled task never runs again; create a new task with projects.create_task and start a run of that one"
	default:
		return nil
	}
	return &capability.Error{
		Code:    capability.CodeInvalidTransition,
		Message: fmt.Sprintf("task %s is %s, so no run of it can start; %s", t.ID, t.Status, next),
		Issues:  []capability.Issue{{Path: "/task_id", Message: "the task is " + t.Status + "; runs start only on tasks that are not done or cancelled"}},
	}
}

func updateTaskRun(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		RunID        string          `json:"run_id"`
		Status       *string         `json:"status"`
		Branch       *string         `json:"branch"`
		Stage        *string         `json:"stage"`
		Output       json.RawMessage `json:"output"`
		State        json.RawMessage `json:"state"`
		ErrorMessage *string         `json:"error_message"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.ErrorMessage != nil && strings.TrimSpace(*in.ErrorMessage) == "" {
		return nil, capability.InvalidInput("error_message must not be blank",
			capability.Issue{Path: "/error_message", Message: "must contain a non-space character: say why the run failed", Keyword: "minLength"})
	}
	r, err := findRun(ctx, c.Tx, in.RunID)
	if err != nil {
		return nil, err
	}
	before := *r
	if in.Status != nil {
		r.Status = *in.Status
	}
	if in.Branch != nil {
		r.Branch = *in.Branch
	}
	if in.Stage != nil {
		r.Stage = *in.Stage
	}
	if in.Output != nil {
		r.Output = compactJSON(in.Output)
	}
	if in.State != nil {
		r.State = compactJSON(in.State)
	}
	if in.ErrorMessage != nil {
		r.ErrorMessage = *in.ErrorMessage
	}
	changed := !sameRun(&before, r)
	if changed && capability.RunFinished(before.Status) {
		return nil, runFinished(&before, "change")
	}
	if r.Status == capability.RunFailed && strings.TrimSpace(r.ErrorMessage) == "" {
		return nil, capability.InvalidInput("a failed run needs an error_message saying why it failed",
			capability.Issue{Path: "/error_message", Message: "required when status is failed and the run has none yet; give it in the same call"})
	}
	// Only a real change moves updated_at and writes, so repeating an
	// update, even the one that finished the run, is a true no-op, as the
	// contract's idempotency promises.
	if changed {
		r.UpdatedAt = c.Now
		if capability.RunFinished(r.Status) {
			r.FinishedAt = c.Now
		}
		if err := c.Tx.UpdateTaskRun(ctx, r); err != nil {
			return nil, err
		}
	}
	return map[string]any{"run": runJSON(r)}, nil
}

// sameRun reports whether two runs hold the same values in every field an
// update can set; JSON objects compare as values, not as bytes.
func sameRun(a, b *capability.TaskRun) bool {
	return a.Status == b.Status && a.Branch == b.Branch && a.Stage == b.Stage &&
		a.ErrorMessage == b.ErrorMessage && sameJSON(a.Output, b.Output) && sameJSON(a.State, b.State)
}

func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// compactJSON stores a validated JSON object without insignificant spaces.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

func listTaskRuns(ctx context.Context, c *capability.Call) (map[string]any, error) {
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
	filters := []string{"projects.list_task_runs", in.TaskID}
	after, err := parseCursor(in.Cursor, filters)
	if err != nil {
		return nil, err
	}
	limit := limitOr(in.Limit)
	rows, err := c.Tx.FindTaskRuns(ctx, in.TaskID, capability.Page{AfterID: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	rows, next := page(rows, limit, func(r *capability.TaskRun) string { return r.ID }, filters)
	return map[string]any{"items": mapEach(rows, runJSON), "next_cursor": next}, nil
}

// defaultLogLimit is how many log entries get_task_run returns when the
// call gives no limit.
const defaultLogLimit = 100

func getTaskRun(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		RunID    string `json:"run_id"`
		AfterSeq int64  `json:"after_seq"`
		Limit    int    `json:"limit"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.Limit <= 0 {
		in.Limit = defaultLogLimit
	}
	r, err := findRun(ctx, c.Tx, in.RunID)
	if err != nil {
		return nil, err
	}
	// One entry more than asked tells whether another page exists.
	entries, err := c.Tx.FindRunLog(ctx, r.ID, in.AfterSeq, in.Limit+1)
	if err != nil {
		return nil, err
	}
	var next any
	if len(entries) > in.Limit {
		entries = entries[:in.Limit]
		next = entries[len(entries)-1].Seq
	}
	artifacts, err := c.Tx.FindRunArtifacts(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"run":            runJSON(r),
		"log":            mapEach(entries, logEntryJSON),
		"next_after_seq": next,
		"artifacts":      mapEach(artifacts, artifactJSON),
	}, nil
}

// findRun loads a run or answers unknown_run at /run_id. A run of another
// tenant is simply not in this tenant's database, so it gets the same
// answer as an id that never existed.
func findRun(ctx context.Context, tx capability.Tx, id string) (*capability.TaskRun, error) {
	r, err := tx.FindTaskRunByID(ctx, id)
	if errors.Is(err, capability.ErrNotFound) {
		return nil, &capability.Error{
			Code:    capability.CodeUnknownRun,
			Message: fmt.Sprintf("run %q does not exist in this tenant; call projects.list_task_runs with the task's task_id to find valid run ids", id),
			Issues:  []capability.Issue{{Path: "/run_id", Message: "no such run"}},
		}
	}
	return r, err
}

// runFinished refuses to change a run that has reached a final status:
// what it did is history, and a new attempt is a new run.
func runFinished(r *capability.TaskRun, what string) error {
	return &capability.Error{
		Code: capability.CodeInvalidTransition,
		Message: fmt.Sprintf("run %s finished as %s at %s and can no longer %s; call projects.get_task_run to read it, or projects.start_task_run (task_id %s) to start a new run",
			r.ID, r.Status, stamp(r.FinishedAt), what, r.TaskID),
		Issues: []capability.Issue{{Path: "/run_id", Message: "the run is " + r.Status + "; only a running run accepts changes"}},
	}
}
