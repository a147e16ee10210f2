package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// testDefaults opens stores without a clock or an ID generator: the store
// then stamps real time and makes storecore's ids (prefix, "_", 32 hex
// digits of a UUIDv7), which sort by creation.
func testDefaults(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t, Options{})
	before := time.Now().Truncate(time.Microsecond)
	require.NoError(t, s.Control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	store, err := s.Tenants.Tenant(ctx, "acme")
	require.NoError(t, err)

	var made []string
	var times []time.Time
	update(t, store, func(tx capability.Tx) error {
		p := &capability.Project{Name: "Website"}
		require.NoError(t, tx.CreateProject(ctx, p))
		st := &capability.Staff{Name: "ada"}
		require.NoError(t, tx.CreateStaff(ctx, st))
		task := &capability.Task{ProjectID: p.ID, Title: "Ship it"}
		require.NoError(t, tx.CreateTask(ctx, task))
		a := &capability.TaskAction{TaskID: task.ID, Title: "Step"}
		require.NoError(t, tx.CreateTaskAction(ctx, a))
		r := &capability.TaskRun{TaskID: task.ID}
		require.NoError(t, tx.CreateTaskRun(ctx, r))
		art := newArtifact(r.ID, "log.txt", []byte("ok"))
		require.NoError(t, tx.CreateRunArtifact(ctx, art))
		made = []string{p.ID, st.ID, task.ID, a.ID, r.ID, art.ID}
		times = []time.Time{p.CreatedAt, st.CreatedAt, task.CreatedAt, a.CreatedAt, r.CreatedAt, art.CreatedAt}
		return nil
	})
	after := time.Now()

	t.Run("OKStorecoreIDs", func(t *testing.T) {
		for i, prefix := range []string{"prj", "stf", "tsk", "act", "run", "art"} {
			require.Regexp(t, `^`+prefix+`_[0-9a-f]{32}$`, made[i])
		}
		// UUIDv7 ids made one after another sort in that order, whatever
		// their prefix: the part after it is time-ordered.
		for i := 1; i < len(made); i++ {
			require.Less(t, made[i-1][4:], made[i][4:])
		}
	})

	t.Run("OKRealClock", func(t *testing.T) {
		for _, at := range times {
			require.Equal(t, time.UTC, at.Location())
			require.False(t, at.Before(before), "%v is before %v", at, before)
			require.False(t, at.After(after), "%v is after %v", at, after)
		}
	})
}
