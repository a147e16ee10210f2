package invoke_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// TestCallConcurrent runs writers and readers on one tenant at once: every
// call must succeed (no busy errors leak out) and no write may be lost.
func TestCallConcurrent(t *testing.T) {
	const writers, perWriter, readers = 8, 25, 8
	e := newEnv(t, nil)
	p := principal(tenantA)
	projectID := e.createProject(t, tenantA, "Busy")
	seedID := e.createTask(t, tenantA, projectID, "Seed")

	ref := func(s string) capability.Ref {
		r, err := registry.ParseRef(s)
		require.NoError(t, err)
		return r
	}
	createTask, listTasks, getTask := ref("projects.create_task"), ref("projects.list_tasks"), ref("projects.get_task")

	var failures atomic.Int64
	var failed sync.Once
	var firstFailure string
	fail := func(what string, json []byte) {
		failures.Add(1)
		failed.Do(func() { firstFailure = fmt.Sprintf("%s: %s", what, json) })
	}

	ctx := context.Background()
	var writing, reading sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		writing.Add(1)
		go func() {
			defer writing.Done()
			for i := range perWriter {
				args := []byte(fmt.Sprintf(`{"project_id":%q,"title":"task %d-%d"}`, projectID, w, i))
				if res := e.inv.Call(ctx, p, createTask, args); !res.OK() {
					fail("create_task", res.JSON)
				}
			}
		}()
	}
	var reads atomic.Int64
	for r := range readers {
		reading.Add(1)
		go func() {
			defer reading.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					if i > 0 {
						return
					}
				default:
				}
				ref, args := getTask, fmt.Sprintf(`{"task_id":%q}`, seedID)
				if (i+r)%2 == 0 {
					ref, args = listTasks, fmt.Sprintf(`{"project_id":%q,"limit":10}`, projectID)
				}
				res := e.inv.Call(ctx, p, ref, []byte(args))
				if !res.OK() {
					fail("read", res.JSON)
				}
				reads.Add(1)
			}
		}()
	}
	writing.Wait()
	close(stop)
	reading.Wait()

	require.Zero(t, failures.Load(), "first failure: %s", firstFailure)
	assert.Positive(t, reads.Load())
	counts := mustOK(t, e.call(t, p, "projects.get_project", map[string]any{"project_id": projectID}))["task_counts"].(map[string]any)
	assert.EqualValues(t, writers*perWriter+1, counts["todo"])
	assert.Equal(t, writers*perWriter+1, e.taskCount(t, tenantA))
	// create_project, seed create_task, the calls above, get_project.
	assert.Equal(t, 2+writers*perWriter+int(reads.Load())+1, len(e.recorder.all()), "one record per call")
}
