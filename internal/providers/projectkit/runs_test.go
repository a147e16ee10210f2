package projectkit_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// runStart starts a run of task with extra fields and returns the run.
func (e *env) runStart(t *testing.T, task string, fields map[string]any) map[string]any {
	t.Helper()
	args := map[string]any{"task_id": task}
	for k, v := range fields {
		args[k] = v
	}
	return e.ok(t, "projects.start_task_run", args)["run"].(map[string]any)
}

// runNew creates a project, a task and a running run of it; it returns the
// task and run ids.
func (e *env) runNew(t *testing.T) (task, run string) {
	t.Helper()
	task = e.createTask(t, e.createProject(t, fmt.Sprintf("Runs %d", e.clock.Now().UnixNano())), "Fix the offline maps crash", nil)
	e.clock.Advance(time.Millisecond)
	return task, e.runStart(t, task, nil)["run_id"].(string)
}

// runGet reads a run with get_task_run; args adds after_seq and limit.
func (e *env) runGet(t *testing.T, run string, args map[string]any) map[string]any {
	t.Helper()
	in := map[string]any{"run_id": run}
	for k, v := range args {
		in[k] = v
	}
	return e.ok(t, "projects.get_task_run", in)
}

// runLog appends one info entry per message and returns the output.
func (e *env) runLog(t *testing.T, run string, messages ...string) map[string]any {
	t.Helper()
	entries := make([]any, len(messages))
	for i, m := range messages {
		entries[i] = map[string]any{"level": "info", "message": m}
	}
	return e.ok(t, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": entries})
}

// runSeqs returns the seq of every entry of a get_task_run log.
func runSeqs(out map[string]any) []float64 {
	var s []float64
	for _, entry := range out["log"].([]any) {
		s = append(s, entry.(map[string]any)["seq"].(float64))
	}
	return s
}

func runSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestTaskRunLifecycle(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Maps")
	task := e.createTask(t, project, "Fix the offline maps crash", nil)
	taskBefore := e.getTask(t, task)

	e.clock.Advance(time.Minute)
	started := e.runStart(t, task, map[string]any{"branch": "fix/offline-maps", "stage": "planning"})
	run := started["run_id"].(string)
	assert.True(t, strings.HasPrefix(run, "run_"), run)
	assert.Equal(t, map[string]any{
		"run_id": run, "task_id": task, "status": "running", "branch": "fix/offline-maps", "stage": "planning",
		"output": nil, "state": nil, "error_message": nil,
		"created_at": "2026-03-01T09:01:00.000Z", "updated_at": "2026-03-01T09:01:00.000Z", "finished_at": nil,
	}, started)
	assert.Equal(t, taskBefore, e.getTask(t, task), "starting a run does not change the task")

	e.clock.Advance(time.Minute)
	progressed := e.ok(t, "projects.update_task_run", map[string]any{
		"run_id": run, "stage": "testing", "state": map[string]any{"step": 2, "failing": []any{"OfflineMapsTest"}},
	})["run"].(map[string]any)
	assert.Equal(t, "testing", progressed["stage"])
	assert.Equal(t, map[string]any{"step": float64(2), "failing": []any{"OfflineMapsTest"}}, progressed["state"])
	assert.Equal(t, "2026-03-01T09:02:00.000Z", progressed["updated_at"])
	assert.Equal(t, "fix/offline-maps", progressed["branch"], "fields left out keep their values")

	t.Run("OKLogNumberedAndPaged", func(t *testing.T) {
		first := e.runLog(t, run, "one", "two", "three")
		assert.Equal(t, map[string]any{"ok": true, "run_id": run, "first_seq": float64(1), "last_seq": float64(3)}, first)
		second := e.runLog(t, run, "four", "five")
		assert.Equal(t, []any{float64(4), float64(5)}, []any{second["first_seq"], second["last_seq"]})

		page := e.runGet(t, run, map[string]any{"limit": 2})
		assert.Equal(t, []float64{1, 2}, runSeqs(page))
		assert.Equal(t, float64(2), page["next_after_seq"])
		page = e.runGet(t, run, map[string]any{"after_seq": page["next_after_seq"], "limit": 2})
		assert.Equal(t, []float64{3, 4}, runSeqs(page))
		assert.Equal(t, float64(4), page["next_after_seq"])
		page = e.runGet(t, run, map[string]any{"after_seq": page["next_after_seq"], "limit": 2})
		assert.Equal(t, []float64{5}, runSeqs(page))
		assert.Nil(t, page["next_after_seq"], "the last page ends the log")
		assert.Equal(t, "five", page["log"].([]any)[0].(map[string]any)["message"])

		all := e.runGet(t, run, nil)
		assert.Equal(t, []float64{1, 2, 3, 4, 5}, runSeqs(all))
		assert.Nil(t, all["next_after_seq"])
		assert.Empty(t, e.runGet(t, run, map[string]any{"after_seq": 5})["log"])
		assert.Equal(t, progressed, all["run"], "logging does not move the run's updated_at")
	})

	text := "# Report\n\nAll 318 tests pass. Ça marche.\n"
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(255 - i)
	}
	var textArtifact, binArtifact map[string]any
	t.Run("OKArtifactsAttached", func(t *testing.T) {
		textArtifact = e.ok(t, "projects.attach_task_run_artifact", map[string]any{
			"run_id": run, "name": "report.md", "content_type": "text/markdown", "content": text,
		})["artifact"].(map[string]any)
		assert.Equal(t, float64(len(text)), textArtifact["size"])
		assert.Equal(t, runSHA([]byte(text)), textArtifact["sha256"])
		assert.Equal(t, run, textArtifact["run_id"])
		assert.True(t, strings.HasPrefix(textArtifact["artifact_id"].(string), "art_"))

		binArtifact = e.ok(t, "projects.attach_task_run_artifact", map[string]any{
			"run_id": run, "name": "tile.bin", "content_type": "application/octet-stream",
			"content": base64.StdEncoding.EncodeToString(binary), "encoding": "base64",
		})["artifact"].(map[string]any)
		assert.Equal(t, float64(256), binArtifact["size"])
		assert.Equal(t, runSHA(binary), binArtifact["sha256"])

		listed := e.runGet(t, run, nil)["artifacts"].([]any)
		require.Len(t, listed, 2)
		assert.Equal(t, textArtifact, listed[0], "the manifest entry, oldest first, without content")
		assert.Equal(t, binArtifact, listed[1])
	})
	t.Run("OKArtifactsReadBackExactly", func(t *testing.T) {
		got := e.ok(t, "projects.get_task_run_artifact", map[string]any{"artifact_id": textArtifact["artifact_id"]})["artifact"].(map[string]any)
		assert.Equal(t, "text", got["encoding"])
		assert.Equal(t, text, got["content"])
		for k, v := range textArtifact {
			assert.Equal(t, v, got[k], k)
		}

		got = e.ok(t, "projects.get_task_run_artifact", map[string]any{"artifact_id": binArtifact["artifact_id"]})["artifact"].(map[string]any)
		assert.Equal(t, "base64", got["encoding"])
		raw, err := base64.StdEncoding.DecodeString(got["content"].(string))
		require.NoError(t, err)
		assert.Equal(t, binary, raw)
		assert.Equal(t, runSHA(raw), got["sha256"])
	})

	e.clock.Advance(time.Minute)
	finish := map[string]any{"run_id": run, "status": "succeeded", "output": map[string]any{"pull_request": 412}}
	finished := e.ok(t, "projects.update_task_run", finish)["run"].(map[string]any)
	assert.Equal(t, "succeeded", finished["status"])
	assert.Equal(t, "2026-03-01T09:03:00.000Z", finished["finished_at"])
	assert.Equal(t, finished["updated_at"], finished["finished_at"])
	assert.Equal(t, map[string]any{"pull_request": float64(412)}, finished["output"])
	assert.Equal(t, "testing", finished["stage"])

	t.Run("ErrFinishedRunIsImmutable", func(t *testing.T) {
		before := e.runGet(t, run, nil)
		e.clock.Advance(time.Minute)
		for _, args := range []map[string]any{
			{"run_id": run, "stage": "deploying"},
			{"run_id": run, "status": "running"},
			{"run_id": run, "status": "failed", "error_message": "too late"},
			{"run_id": run, "output": map[string]any{"pull_request": 413}},
		} {
			out := e.rejected(t, "projects.update_task_run", args, capability.CodeInvalidTransition)
			assert.Equal(t, []string{"/run_id"}, issuePaths(out))
			assert.Contains(t, out["message"], "projects.start_task_run")
		}
		e.rejected(t, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": []any{map[string]any{"level": "info", "message": "late"}}}, capability.CodeInvalidTransition)
		e.rejected(t, "projects.attach_task_run_artifact", map[string]any{"run_id": run, "name": "late.txt", "content_type": "text/plain", "content": "late"}, capability.CodeInvalidTransition)
		assert.Equal(t, before, e.runGet(t, run, nil), "nothing changed: run, log and artifacts")
	})
	t.Run("OKRepeatedFinishIsNoOp", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		again := e.ok(t, "projects.update_task_run", finish)["run"].(map[string]any)
		assert.Equal(t, finished, again, "the same update again changes nothing, updated_at included")
	})
	t.Run("OKListed", func(t *testing.T) {
		out := e.ok(t, "projects.list_task_runs", map[string]any{"task_id": task})
		assert.Equal(t, []any{finished}, out["items"])
		assert.Nil(t, out["next_cursor"])
	})
}

func TestStartTaskRun(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Maps")

	t.Run("OKManyRunsOfOneTask", func(t *testing.T) {
		task := e.createTask(t, project, "Retry me", nil)
		first := e.runStart(t, task, nil)
		e.clock.Advance(time.Second)
		second := e.runStart(t, task, map[string]any{"stage": "retry"})
		assert.Nil(t, first["branch"])
		assert.Nil(t, first["stage"])
		items := e.ok(t, "projects.list_task_runs", map[string]any{"task_id": task})["items"].([]any)
		require.Len(t, items, 2)
		assert.Equal(t, first, items[0])
		assert.Equal(t, second, items[1])
	})
	t.Run("ErrDoneTask", func(t *testing.T) {
		task := e.createTask(t, project, "Shipped", nil)
		for _, to := range []string{"doing", "review", "done"} {
			e.transition(t, task, to)
		}
		out := e.rejected(t, "projects.start_task_run", map[string]any{"task_id": task}, capability.CodeInvalidTransition)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
		assert.Contains(t, out["message"], "projects.transition_task")
		assert.Empty(t, e.ok(t, "projects.list_task_runs", map[string]any{"task_id": task})["items"])

		e.transition(t, task, "todo")
		e.runStart(t, task, nil) // reopened, it runs again
	})
	t.Run("ErrCancelledTask", func(t *testing.T) {
		task := e.createTask(t, project, "Dropped", nil)
		e.runForceTaskStatus(t, task, capability.TaskCancelled)
		out := e.rejected(t, "projects.start_task_run", map[string]any{"task_id": task}, capability.CodeInvalidTransition)
		assert.Contains(t, out["message"], "projects.create_task")
		assert.Empty(t, e.ok(t, "projects.list_task_runs", map[string]any{"task_id": task})["items"])
	})
	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.start_task_run", map[string]any{"task_id": "tsk_00000000000000000000000000000000"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})
}

// runForceTaskStatus moves a task straight through the store, for statuses no
// capability under test reaches.
func (e *env) runForceTaskStatus(t *testing.T, id, status string) {
	t.Helper()
	ctx := context.Background()
	store, err := e.db.Tenants().Tenant(ctx, tenant)
	require.NoError(t, err)
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error {
		task, err := tx.FindTaskByID(ctx, id)
		if err != nil {
			return err
		}
		task.Status = status
		return tx.UpdateTask(ctx, task)
	}))
}

func TestUpdateTaskRun(t *testing.T) {
	e := newEnv(t)

	t.Run("ErrFailedNeedsErrorMessage", func(t *testing.T) {
		_, run := e.runNew(t)
		before := e.runGet(t, run, nil)
		out := e.rejected(t, "projects.update_task_run", map[string]any{"run_id": run, "status": "failed", "stage": "testing"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/error_message"}, issuePaths(out))
		assert.Equal(t, before, e.runGet(t, run, nil), "the run keeps running, unchanged")
	})
	t.Run("ErrBlankErrorMessage", func(t *testing.T) {
		_, run := e.runNew(t)
		out := e.rejected(t, "projects.update_task_run", map[string]any{"run_id": run, "status": "failed", "error_message": "   "}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/error_message"}, issuePaths(out))
	})
	t.Run("OKFailedWithErrorMessage", func(t *testing.T) {
		_, run := e.runNew(t)
		e.clock.Advance(time.Minute)
		got := e.ok(t, "projects.update_task_run", map[string]any{"run_id": run, "status": "failed", "error_message": "Emulator image missing."})["run"].(map[string]any)
		assert.Equal(t, "failed", got["status"])
		assert.Equal(t, "Emulator image missing.", got["error_message"])
		assert.Equal(t, got["updated_at"], got["finished_at"])
	})
	t.Run("OKFailedWithEarlierErrorMessage", func(t *testing.T) {
		_, run := e.runNew(t)
		e.ok(t, "projects.update_task_run", map[string]any{"run_id": run, "error_message": "Flaky network."})
		got := e.ok(t, "projects.update_task_run", map[string]any{"run_id": run, "status": "failed"})["run"].(map[string]any)
		assert.Equal(t, "failed", got["status"])
		assert.Equal(t, "Flaky network.", got["error_message"])
	})
	t.Run("OKCancelledFinishes", func(t *testing.T) {
		_, run := e.runNew(t)
		got := e.ok(t, "projects.update_task_run", map[string]any{"run_id": run, "status": "cancelled"})["run"].(map[string]any)
		assert.NotNil(t, got["finished_at"])
		e.rejected(t, "projects.update_task_run", map[string]any{"run_id": run, "status": "running"}, capability.CodeInvalidTransition)
	})
	t.Run("OKOutputReplacedWhole", func(t *testing.T) {
		_, run := e.runNew(t)
		e.ok(t, "projects.update_task_run", map[string]any{"run_id": run, "output": map[string]any{"draft": true, "lines": 12}})
		got := e.ok(t, "projects.update_task_run", map[string]any{"run_id": run, "output": map[string]any{"lines": 40}})["run"].(map[string]any)
		assert.Equal(t, map[string]any{"lines": float64(40)}, got["output"])
	})
	t.Run("OKRepeatDoesNotMoveUpdatedAt", func(t *testing.T) {
		_, run := e.runNew(t)
		update := map[string]any{"run_id": run, "stage": "testing", "state": map[string]any{"b": 1, "a": []any{1, 2}}}
		e.clock.Advance(time.Hour)
		first := e.ok(t, "projects.update_task_run", update)["run"].(map[string]any)
		e.clock.Advance(time.Hour)
		// The same object with other key order and spacing is the same value.
		second := e.ok(t, "projects.update_task_run", `{"run_id":"`+run+`","state":{ "a":[1,2], "b":1 },"stage":"testing"}`)["run"].(map[string]any)
		assert.Equal(t, first, second)
	})
	t.Run("ErrNothingToUpdate", func(t *testing.T) {
		_, run := e.runNew(t)
		out := e.rejected(t, "projects.update_task_run", map[string]any{"run_id": run}, capability.CodeInvalidInput)
		assert.Equal(t, []string{""}, issuePaths(out))
	})
	t.Run("ErrUnknownRun", func(t *testing.T) {
		out := e.rejected(t, "projects.update_task_run", map[string]any{"run_id": "run_00000000000000000000000000000000", "stage": "x"}, capability.CodeUnknownRun)
		assert.Equal(t, []string{"/run_id"}, issuePaths(out))
	})
}

func TestAppendTaskRunLog(t *testing.T) {
	e := newEnv(t)
	_, run := e.runNew(t)
	appendOne := func(message string) map[string]any {
		return map[string]any{"run_id": run, "entries": []any{
			map[string]any{"level": "debug", "message": "before the long one"},
			map[string]any{"level": "info", "message": message},
		}}
	}
	logLen := func() int { return len(e.runGet(t, run, map[string]any{"limit": 500})["log"].([]any)) }

	accepted := []struct{ name, message string }{
		{"OK16KiBASCII", strings.Repeat("a", 16384)},
		{"OK16KiBTwoByte", strings.Repeat("é", 8192)},
		{"OK16KiBFourByte", strings.Repeat("😀", 4096)},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			require.Len(t, tt.message, 16384)
			out := e.ok(t, "projects.append_task_run_log", appendOne(tt.message))
			got := e.runGet(t, run, map[string]any{"after_seq": out["last_seq"].(float64) - 1})["log"].([]any)
			require.Len(t, got, 1)
			assert.Equal(t, tt.message, got[0].(map[string]any)["message"], "stored exactly, not truncated")
		})
	}
	rejected := []struct{ name, message string }{
		{"ErrOver16KiBASCII", strings.Repeat("a", 16385)},
		{"ErrOver16KiBTwoByte", strings.Repeat("é", 8192) + "x"},
		{"ErrOver16KiBThreeByte", strings.Repeat("€", 5462)},
		{"ErrOver16KiBFourByte", strings.Repeat("😀", 4096) + "x"},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			require.Greater(t, len(tt.message), 16384)
			before := logLen()
			out := e.rejected(t, "projects.append_task_run_log", appendOne(tt.message), capability.CodeInvalidInput)
			assert.Equal(t, []string{"/entries/1/message"}, issuePaths(out))
			assert.Equal(t, before, logLen(), "all or nothing: the valid entry is not stored either")
		})
	}
	t.Run("OK500Entries", func(t *testing.T) {
		_, run := e.runNew(t)
		entries := make([]any, 500)
		for i := range entries {
			entries[i] = map[string]any{"level": "debug", "message": fmt.Sprintf("line %d", i+1)}
		}
		out := e.ok(t, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": entries})
		assert.Equal(t, float64(1), out["first_seq"])
		assert.Equal(t, float64(500), out["last_seq"])
		page := e.runGet(t, run, map[string]any{"limit": 500})
		assert.Len(t, page["log"], 500)
		assert.Nil(t, page["next_after_seq"])
		assert.Equal(t, "line 500", page["log"].([]any)[499].(map[string]any)["message"])

		out501 := e.rejected(t, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": append(entries, entries[0])}, capability.CodeInvalidInput)
		assert.Contains(t, issuePaths(out501), "/entries")
		assert.Len(t, e.runGet(t, run, map[string]any{"after_seq": 499})["log"], 1, "nothing appended")
	})
	t.Run("OKAtAsGiven", func(t *testing.T) {
		_, run := e.runNew(t)
		e.ok(t, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": []any{
			map[string]any{"level": "warn", "message": "lowercase t and z", "at": "2026-02-28t23:30:00.5+01:00"},
			map[string]any{"level": "error", "message": "now"},
		}})
		log := e.runGet(t, run, nil)["log"].([]any)
		assert.Equal(t, "2026-02-28T22:30:00.500Z", log[0].(map[string]any)["at"])
		assert.Equal(t, runStamp(e.clock.Now()), log[1].(map[string]any)["at"], "at defaults to the time of the call")
	})
	t.Run("ErrLeapSecond", func(t *testing.T) {
		out := e.rejected(t, "projects.append_task_run_log", map[string]any{"run_id": run, "entries": []any{
			map[string]any{"level": "info", "message": "leap", "at": "2016-12-31T23:59:60Z"},
		}}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/entries/0/at"}, issuePaths(out))
	})
	t.Run("ErrUnknownRun", func(t *testing.T) {
		out := e.rejected(t, "projects.append_task_run_log", map[string]any{"run_id": "run_00000000000000000000000000000000", "entries": []any{
			map[string]any{"level": "info", "message": "hello"},
		}}, capability.CodeUnknownRun)
		assert.Equal(t, []string{"/run_id"}, issuePaths(out))
	})
}

func runStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func TestAttachTaskRunArtifact(t *testing.T) {
	e := newEnv(t)
	_, run := e.runNew(t)
	attach := func(args map[string]any) map[string]any {
		in := map[string]any{"run_id": run, "name": "file", "content_type": "application/octet-stream"}
		for k, v := range args {
			in[k] = v
		}
		return in
	}
	artifactCount := func() int { return len(e.runGet(t, run, nil)["artifacts"].([]any)) }
	const fiveMiB = 5 << 20

	t.Run("OKExactly5MiB", func(t *testing.T) {
		content := make([]byte, fiveMiB)
		for i := range content {
			content[i] = byte(i * 7)
		}
		got := e.ok(t, "projects.attach_task_run_artifact", attach(map[string]any{
			"content": base64.StdEncoding.EncodeToString(content), "encoding": "base64",
		}))["artifact"].(map[string]any)
		assert.Equal(t, float64(fiveMiB), got["size"])
		assert.Equal(t, runSHA(content), got["sha256"])
		back := e.ok(t, "projects.get_task_run_artifact", map[string]any{"artifact_id": got["artifact_id"]})["artifact"].(map[string]any)
		raw, err := base64.StdEncoding.DecodeString(back["content"].(string))
		require.NoError(t, err)
		assert.True(t, string(content) == string(raw), "read back exactly")
	})
	t.Run("ErrOver5MiB", func(t *testing.T) {
		before := artifactCount()
		for _, args := range []map[string]any{
			{"content": base64.StdEncoding.EncodeToString(make([]byte, fiveMiB+1)), "encoding": "base64"},
			{"content": strings.Repeat("x", fiveMiB+1)},
			{"content": strings.Repeat("é", fiveMiB/2) + "x", "content_type": "text/plain"},
		} {
			out := e.rejected(t, "projects.attach_task_run_artifact", attach(args), capability.CodeInvalidInput)
			assert.Equal(t, []string{"/content"}, issuePaths(out))
		}
		assert.Equal(t, before, artifactCount(), "nothing stored")
	})
	t.Run("ErrNotBase64", func(t *testing.T) {
		before := artifactCount()
		for _, content := range []string{"not base64!", "aGVsbG8=x", "-_-_"} {
			out := e.rejected(t, "projects.attach_task_run_artifact", attach(map[string]any{"content": content, "encoding": "base64"}), capability.CodeInvalidInput)
			assert.Equal(t, []string{"/content"}, issuePaths(out), content)
		}
		assert.Equal(t, before, artifactCount(), "nothing stored")
	})
	t.Run("OKBase64Forms", func(t *testing.T) {
		for _, content := range []string{"aGVsbG8=", "aGVsbG8", "aGVs\nbG8=\n", "aGVs\r\nbG8="} {
			got := e.ok(t, "projects.attach_task_run_artifact", attach(map[string]any{"content": content, "encoding": "base64"}))["artifact"].(map[string]any)
			assert.Equal(t, runSHA([]byte("hello")), got["sha256"], "%q", content)
		}
	})
	t.Run("OKEmptyContent", func(t *testing.T) {
		got := e.ok(t, "projects.attach_task_run_artifact", attach(map[string]any{"content": ""}))["artifact"].(map[string]any)
		assert.Equal(t, float64(0), got["size"])
		assert.Equal(t, runSHA(nil), got["sha256"])
		back := e.ok(t, "projects.get_task_run_artifact", map[string]any{"artifact_id": got["artifact_id"]})["artifact"].(map[string]any)
		assert.Equal(t, "", back["content"])
	})
	t.Run("ErrBadNameOrType", func(t *testing.T) {
		before := artifactCount()
		cases := []struct {
			args map[string]any
			path string
		}{
			{map[string]any{"name": "   ", "content": "x"}, "/name"},
			{map[string]any{"content_type": "markdown", "content": "x"}, "/content_type"},
			{map[string]any{"content_type": "text/plain; charset", "content": "x"}, "/content_type"},
			{map[string]any{"encoding": "hex", "content": "00"}, "/encoding"},
		}
		for _, c := range cases {
			out := e.rejected(t, "projects.attach_task_run_artifact", attach(c.args), capability.CodeInvalidInput)
			assert.Equal(t, []string{c.path}, issuePaths(out), "%v", c.args)
		}
		assert.Equal(t, before, artifactCount(), "nothing stored")
	})
	t.Run("ErrUnknownRun", func(t *testing.T) {
		in := attach(map[string]any{"content": "x"})
		in["run_id"] = "run_00000000000000000000000000000000"
		out := e.rejected(t, "projects.attach_task_run_artifact", in, capability.CodeUnknownRun)
		assert.Equal(t, []string{"/run_id"}, issuePaths(out))
	})
}

func TestGetTaskRunArtifactEncoding(t *testing.T) {
	e := newEnv(t)
	_, run := e.runNew(t)
	cases := []struct {
		name, contentType string
		content           []byte
		want              string
	}{
		{"TextPlain", "text/plain", []byte("hello"), "text"},
		{"TextWithParameters", "TEXT/Markdown; charset=utf-8", []byte("# hi"), "text"},
		{"JSON", "application/json", []byte(`{"a":1}`), "text"},
		{"XML", "application/xml", []byte("<a/>"), "text"},
		{"PlusJSON", "application/vnd.api+json", []byte(`{}`), "text"},
		{"PlusXML", "image/svg+xml", []byte("<svg/>"), "text"},
		{"OctetStreamOfText", "application/octet-stream", []byte("hello"), "base64"},
		{"ImageOfText", "image/png", []byte("hello"), "base64"},
		{"TextNotUTF8", "text/plain", []byte{'h', 0xff, 0xfe}, "base64"},
		{"TextWithNUL", "text/plain", []byte("a\x00b"), "text"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			id := e.ok(t, "projects.attach_task_run_artifact", map[string]any{
				"run_id": run, "name": tt.name, "content_type": tt.contentType,
				"content": base64.StdEncoding.EncodeToString(tt.content), "encoding": "base64",
			})["artifact"].(map[string]any)["artifact_id"]
			got := e.ok(t, "projects.get_task_run_artifact", map[string]any{"artifact_id": id})["artifact"].(map[string]any)
			assert.Equal(t, tt.want, got["encoding"])
			content := got["content"].(string)
			if tt.want == "base64" {
				raw, err := base64.StdEncoding.DecodeString(content)
				require.NoError(t, err)
				content = string(raw)
			}
			assert.Equal(t, string(tt.content), content)
			assert.Equal(t, tt.contentType, got["content_type"])
		})
	}
	t.Run("ErrUnknownArtifact", func(t *testing.T) {
		out := e.rejected(t, "projects.get_task_run_artifact", map[string]any{"artifact_id": "art_00000000000000000000000000000000"}, capability.CodeUnknownArtifact)
		assert.Equal(t, []string{"/artifact_id"}, issuePaths(out))
	})
}

func TestListTaskRuns(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Maps")
	task := e.createTask(t, project, "Retry me", nil)
	other := e.createTask(t, project, "Other", nil)
	var runs []string
	for range 3 {
		runs = append(runs, e.runStart(t, task, nil)["run_id"].(string))
		e.clock.Advance(time.Millisecond)
	}
	e.runStart(t, other, nil)

	t.Run("OKPagesOldestFirst", func(t *testing.T) {
		var got []string
		args := map[string]any{"task_id": task, "limit": 2}
		for {
			out := e.ok(t, "projects.list_task_runs", args)
			for _, it := range out["items"].([]any) {
				got = append(got, it.(map[string]any)["run_id"].(string))
			}
			if out["next_cursor"] == nil {
				break
			}
			args["cursor"] = out["next_cursor"]
		}
		assert.Equal(t, runs, got)
	})
	t.Run("ErrCursorOfAnotherTask", func(t *testing.T) {
		cursor := e.ok(t, "projects.list_task_runs", map[string]any{"task_id": task, "limit": 1})["next_cursor"]
		out := e.rejected(t, "projects.list_task_runs", map[string]any{"task_id": other, "limit": 1, "cursor": cursor}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/cursor"}, issuePaths(out))
	})
	t.Run("ErrUnknownTask", func(t *testing.T) {
		out := e.rejected(t, "projects.list_task_runs", map[string]any{"task_id": "tsk_00000000000000000000000000000000"}, capability.CodeUnknownTask)
		assert.Equal(t, []string{"/task_id"}, issuePaths(out))
	})
}

// TestTaskRunsOfOtherTenants: a second tenant cannot see or touch acme's
// runs and artifacts; it gets the same answer as for ids that never
// existed, and acme's run is unchanged.
func TestTaskRunsOfOtherTenants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "globex"}))
	other := func(ref string, args map[string]any) map[string]any {
		t.Helper()
		r, err := registry.ParseRef(ref)
		require.NoError(t, err)
		raw, err := json.Marshal(args)
		require.NoError(t, err)
		res := e.inv.Call(ctx, capability.Principal{Tenant: "globex", KeyPrefix: "capd_other", Scopes: capability.AllScopes}, r, raw)
		requireInContract(t, res)
		return decode(t, res.JSON)
	}

	task, run := e.runNew(t)
	e.runLog(t, run, "acme secret")
	artifact := e.ok(t, "projects.attach_task_run_artifact", map[string]any{
		"run_id": run, "name": "secret.txt", "content_type": "text/plain", "content": "acme secret",
	})["artifact"].(map[string]any)["artifact_id"].(string)
	before := e.runGet(t, run, nil)

	const missingRun, missingArtifact, missingTask = "run_00000000000000000000000000000000", "art_00000000000000000000000000000000", "tsk_00000000000000000000000000000000"
	calls := []struct {
		ref  string
		args func(task, run, artifact string) map[string]any
		code string
	}{
		{"projects.get_task_run", func(_, r, _ string) map[string]any { return map[string]any{"run_id": r} }, capability.CodeUnknownRun},
		{"projects.update_task_run", func(_, r, _ string) map[string]any { return map[string]any{"run_id": r, "status": "cancelled"} }, capability.CodeUnknownRun},
		{"projects.append_task_run_log", func(_, r, _ string) map[string]any {
			return map[string]any{"run_id": r, "entries": []any{map[string]any{"level": "info", "message": "mine"}}}
		}, capability.CodeUnknownRun},
		{"projects.attach_task_run_artifact", func(_, r, _ string) map[string]any {
			return map[string]any{"run_id": r, "name": "x", "content_type": "text/plain", "content": "x"}
		}, capability.CodeUnknownRun},
		{"projects.get_task_run_artifact", func(_, _, a string) map[string]any { return map[string]any{"artifact_id": a} }, capability.CodeUnknownArtifact},
		{"projects.list_task_runs", func(tk, _, _ string) map[string]any { return map[string]any{"task_id": tk} }, capability.CodeUnknownTask},
		{"projects.start_task_run", func(tk, _, _ string) map[string]any { return map[string]any{"task_id": tk} }, capability.CodeUnknownTask},
	}
	for _, c := range calls {
		t.Run(c.ref, func(t *testing.T) {
			foreign := other(c.ref, c.args(task, run, artifact))
			missing := other(c.ref, c.args(missingTask, missingRun, missingArtifact))
			assert.Equal(t, c.code, foreign["error"])
			assert.Equal(t, c.code, missing["error"])
			assert.Equal(t, issuePaths(missing), issuePaths(foreign), "the same answer as for an id that never existed")
		})
	}
	assert.Equal(t, before, e.runGet(t, run, nil), "acme's run, log and artifacts are unchanged")
}
