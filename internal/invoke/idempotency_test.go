package invoke_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
)

// TestIdempotencyWindow: a key replays for 24 hours; after that the same
// key runs the call again. Replays are recorded as such in the call log.
func TestIdempotencyWindow(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)
	e.inv.Now = func() time.Time { return now }
	p := principal(tenantA, capability.AllScopes...)
	ref, err := registry.ParseRef("projects.create_task")
	require.NoError(t, err)
	project := e.createProject(t, tenantA, "Keyed")
	args := rawArgs(t, map[string]any{"project_id": project, "title": "Exactly once"})
	call := func() *invoke.Result {
		return e.inv.Call(invoke.WithIdempotencyKey(context.Background(), "key-1"), p, ref, args)
	}

	first := call()
	require.Nil(t, first.Err, "%s", first.JSON)
	assert.False(t, first.Replayed)

	now = now.Add(23 * time.Hour)
	replay := call()
	require.Nil(t, replay.Err)
	assert.True(t, replay.Replayed)
	assert.Equal(t, first.JSON, replay.JSON)
	assert.Equal(t, 1, e.taskCount(t, tenantA), "written once")

	now = now.Add(2 * time.Hour) // 25 h after the first use
	late := call()
	require.Nil(t, late.Err)
	assert.False(t, late.Replayed, "an expired key runs the call again")
	assert.NotEqual(t, first.Output["task_id"], late.Output["task_id"])

	var replays int
	for _, r := range e.recorder.all() {
		if r.Replayed {
			replays++
		}
	}
	assert.Equal(t, 1, replays, "the call log marks the replay")
}
