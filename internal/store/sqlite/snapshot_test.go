package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// TestCopyTenant checks that a copy holds the tenant's data, and that
// writing to the copy leaves the live database untouched.
func TestCopyTenant(t *testing.T) {
	ctx := context.Background()
	live, err := Open(ctx, Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer live.Close()
	require.NoError(t, live.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	store, err := live.Tenants().Tenant(ctx, "acme")
	require.NoError(t, err)
	p := &capability.Project{Name: "Live"}
	require.NoError(t, store.Update(ctx, func(tx capability.Tx) error { return tx.CreateProject(ctx, p) }))

	scratchDir := t.TempDir()
	scratch, err := Open(ctx, Options{Dir: scratchDir})
	require.NoError(t, err)
	defer scratch.Close()
	require.NoError(t, scratch.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	require.NoError(t, live.Tenants().CopyTenant(ctx, "acme", filepath.Join(scratchDir, "tenants", "acme.db")))

	t.Run("OK", func(t *testing.T) {
		copyStore, err := scratch.Tenants().Tenant(ctx, "acme")
		require.NoError(t, err)
		require.NoError(t, copyStore.View(ctx, func(tx capability.Tx) error {
			got, err := tx.FindProjectByID(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, "Live", got.Name)
			return nil
		}))
		require.NoError(t, copyStore.Update(ctx, func(tx capability.Tx) error {
			return tx.CreateProject(ctx, &capability.Project{Name: "Scratch only"})
		}))
		require.NoError(t, store.View(ctx, func(tx capability.Tx) error {
			_, err := tx.FindProjectByName(ctx, "Scratch only")
			require.ErrorIs(t, err, capability.ErrNotFound, "the live database is untouched")
			return nil
		}))
	})
	t.Run("ErrTargetExists", func(t *testing.T) {
		require.Error(t, live.Tenants().CopyTenant(ctx, "acme", filepath.Join(scratchDir, "tenants", "acme.db")))
	})
	t.Run("ErrUnknownTenant", func(t *testing.T) {
		require.ErrorIs(t, live.Tenants().CopyTenant(ctx, "nobody", filepath.Join(t.TempDir(), "x.db")), capability.ErrNotFound)
	})
}

// TestConformanceResults round-trips results and filters them.
func TestConformanceResults(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer db.Close()
	at := time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)
	results := []capability.ConformanceResult{
		{RunID: "r1", Provider: "projectkit:a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "happy_path", Kind: "happy", Outcome: "pass", Duration: 896 * time.Millisecond, StartedAt: at},
		{RunID: "r1", Provider: "projectkit:a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "rejects_unknown_project", Kind: "rejection", Outcome: "fail", Duration: 38 * time.Millisecond, StartedAt: at.Add(time.Second), Message: "got ok"},
		{RunID: "r2", Provider: "projectkit:b", Capability: "projects.get_task", Version: "0.1.0", CaseID: "gen.missing_required.task_id", Kind: "generated", Outcome: "pass", StartedAt: at.Add(2 * time.Second)},
	}
	require.NoError(t, db.Control().RecordConformance(ctx, results))

	all, err := db.Control().ListConformance(ctx, capability.ConformanceFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, "r2", all[0].RunID, "newest first")
	require.Equal(t, results[1], all[1])

	failed, err := db.Control().ListConformance(ctx, capability.ConformanceFilter{Outcome: "fail", Provider: "projectkit:a"})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	require.Equal(t, "rejects_unknown_project", failed[0].CaseID)

	page, err := db.Control().ListConformance(ctx, capability.ConformanceFilter{Limit: 1, Offset: 1})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "rejects_unknown_project", page[0].CaseID)

	err = db.Control().RecordConformance(ctx, []capability.ConformanceResult{{RunID: "r3", Kind: "bogus", Outcome: "pass", StartedAt: at}})
	require.Error(t, err, "kinds are checked")
}

// TestLatestConformance keeps only the newest result per provider,
// capability, version and case.
func TestLatestConformance(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer db.Close()
	at := time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)
	r := func(run, provider, caseID, outcome string, offset time.Duration) capability.ConformanceResult {
		return capability.ConformanceResult{RunID: run, Provider: provider, Capability: "projects.create_task", Version: "0.1.0",
			CaseID: caseID, Kind: "happy", Outcome: outcome, StartedAt: at.Add(offset)}
	}
	require.NoError(t, db.Control().RecordConformance(ctx, []capability.ConformanceResult{
		r("r1", "projectkit:a", "happy_path", "fail", 0),
		r("r1", "projectkit:a", "rejects_unknown_project", "pass", time.Second),
		r("r1", "projectkit:b", "happy_path", "pass", 2*time.Second),
	}))
	require.NoError(t, db.Control().RecordConformance(ctx, []capability.ConformanceResult{
		r("r2", "projectkit:a", "happy_path", "pass", time.Hour),
	}))
	latest, err := db.Control().LatestConformance(ctx, capability.ConformanceFilter{})
	require.NoError(t, err)
	require.Len(t, latest, 3)
	require.Equal(t, "r2", latest[0].RunID, "projectkit:a happy_path: the newer run wins")
	require.Equal(t, "pass", latest[0].Outcome)
	require.Equal(t, "rejects_unknown_project", latest[1].CaseID)
	require.Equal(t, "projectkit:b", latest[2].Provider)

	onlyB, err := db.Control().LatestConformance(ctx, capability.ConformanceFilter{Provider: "projectkit:b"})
	require.NoError(t, err)
	require.Len(t, onlyB, 1)
}
