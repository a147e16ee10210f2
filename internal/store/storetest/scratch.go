package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// projectNames lists a tenant store's project names, in creation order.
func projectNames(t testing.TB, s capability.TenantStore) []string {
	t.Helper()
	var names []string
	for _, p := range read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Project, error) {
		return tx.FindProjects(ctx, capability.ProjectFilter{Page: capability.Page{Limit: 100}})
	}) {
		names = append(names, p.Name)
	}
	return names
}

// testScratch covers ScratchStores: a scratch store starts as a copy of a
// tenant's data as it is when made, behaves as a tenant store, and nothing
// written through it ever reaches the tenant.
func testScratch(t *testing.T, e *env) {
	ctx := context.Background()
	require.NotNil(t, e.Scratch, "Stores.Scratch is required")
	live := e.tenant(t, "scratch-live")
	other := e.tenant(t, "scratch-other")
	mustCreateProject(t, live, "Live")
	mustCreateProject(t, other, "Other")
	// scratch returns a scratch copy of the live tenant, discarded when t
	// ends.
	scratch := func(t *testing.T) capability.TenantStore {
		t.Helper()
		s, discard, err := e.Scratch.Scratch(ctx, "scratch-live")
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, discard()) })
		return s
	}

	t.Run("OKCopyOfLiveData", func(t *testing.T) {
		s := scratch(t)
		require.Equal(t, []string{"Live"}, projectNames(t, s))
		require.Equal(t, read(t, live, func(ctx context.Context, tx capability.Tx) ([]*capability.Project, error) {
			return tx.FindProjects(ctx, capability.ProjectFilter{})
		}), read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Project, error) {
			return tx.FindProjects(ctx, capability.ProjectFilter{})
		}), "the same rows, ids and times included")
		require.Len(t, read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.TaskType, error) {
			return tx.FindTaskTypes(ctx, "")
		}), len(taxonomy))
	})

	t.Run("OKWritesStayInTheCopy", func(t *testing.T) {
		s := scratch(t)
		var p *capability.Project
		update(t, s, func(tx capability.Tx) error {
			p = &capability.Project{Name: "Scratch only"}
			return tx.CreateProject(ctx, p)
		})
		e.ids.requireIssued(t, "prj", p.ID)
		require.Equal(t, []string{"Live", "Scratch only"}, projectNames(t, s))
		require.Equal(t, []string{"Live"}, projectNames(t, live), "a scratch write leaked into the live tenant")
		require.Equal(t, []string{"Other"}, projectNames(t, other))
	})

	t.Run("OKLiveWritesGoOnAndStayOutOfTheCopy", func(t *testing.T) {
		s := scratch(t)
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "Scratch"}) })
		// A live write does not wait for the open scratch copy (it would
		// give up after the timeout), and the copy keeps the data as it
		// was when it was made.
		p := &capability.Project{Name: "Live later"}
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, live.Update(waitCtx, func(tx capability.Tx) error { return tx.CreateProject(waitCtx, p) }),
			"a live write waited on an open scratch store")
		require.Equal(t, []string{"Live", "Scratch"}, projectNames(t, s))
		view(t, s, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, p.ID)
			require.ErrorIs(t, err, capability.ErrNotFound)
			return nil
		})
		require.Equal(t, []string{"Live", "Live later"}, projectNames(t, live))
	})

	t.Run("OKRejectedUpdateRollsBackOnlyItself", func(t *testing.T) {
		s := scratch(t)
		base := projectNames(t, live)
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "Kept"}) })
		boom := errors.New("rejected")
		err := s.Update(ctx, func(tx capability.Tx) error {
			if err := tx.CreateProject(ctx, &capability.Project{Name: "Dropped"}); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		// A failed statement aborts a PostgreSQL transaction; the scratch
		// store stays usable after one all the same.
		err = s.Update(ctx, func(tx capability.Tx) error {
			if err := tx.CreateProject(ctx, &capability.Project{Name: "Dropped too"}); err != nil {
				return err
			}
			return tx.CreateTask(ctx, &capability.Task{ProjectID: "prj_missing", Title: "Orphan"})
		})
		require.Error(t, err)
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "Kept too"}) })
		require.Equal(t, append(base, "Kept", "Kept too"), projectNames(t, s))
	})

	t.Run("ErrWriteInView", func(t *testing.T) {
		base := projectNames(t, live)
		s := scratch(t)
		err := s.View(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Sneaky"})
		})
		require.Error(t, err, "a scratch View is read-only too")
		require.Equal(t, base, projectNames(t, s))
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "After a View"}) })
		require.Equal(t, append(base, "After a View"), projectNames(t, s), "and an Update after it writes again")
	})

	t.Run("OKEachCopyIsItsOwn", func(t *testing.T) {
		base := projectNames(t, live)
		a, b := scratch(t), scratch(t)
		update(t, a, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "In a"}) })
		require.Equal(t, base, projectNames(t, b))
		require.Equal(t, append(base, "In a"), projectNames(t, a))
	})

	t.Run("OKDiscard", func(t *testing.T) {
		s, discard, err := e.Scratch.Scratch(ctx, "scratch-live")
		require.NoError(t, err)
		update(t, s, func(tx capability.Tx) error { return tx.CreateProject(ctx, &capability.Project{Name: "Thrown away"}) })
		require.NoError(t, discard())
		require.NoError(t, discard(), "discarding twice is harmless")
		require.Error(t, s.View(ctx, func(capability.Tx) error { return nil }), "a discarded copy is gone")
		require.NotContains(t, projectNames(t, live), "Thrown away")
	})

	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, _, err := e.Scratch.Scratch(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
	})
}
