package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/demo"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/postgres"
	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/schemas"
)

// loadSuite loads the real manifests, binds projectkit and loads the cases.
func loadSuite(t *testing.T) *conformance.Suite {
	t.Helper()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(projectkit.New()))
	suite, err := conformance.Load(capabilities.FS, schemas.FS, reg)
	require.NoError(t, err)
	return suite
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// engine is one store implementation the suite runs against.
type engine struct {
	name string
	open func(t *testing.T) (capability.ControlStore, capability.TenantStores, capability.ScratchStores)
}

// engines are every store capd ships: SQLite files and a real PostgreSQL
// server (started by pgtest).
var engines = []engine{
	{"sqlite", func(t *testing.T) (capability.ControlStore, capability.TenantStores, capability.ScratchStores) {
		db, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir()})
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db.Control(), db.Tenants(), db.Tenants()
	}},
	{"postgres", func(t *testing.T) (capability.ControlStore, capability.TenantStores, capability.ScratchStores) {
		db, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
		require.NoError(t, err)
		t.Cleanup(db.Close)
		return db.Control(), db.Tenants(), db.Tenants()
	}},
}

// TestProjectkitHonoursEveryContract runs every case of every capability
// version against projectkit on each store engine, on two temporary
// tenants: an empty one and one full of demo data, so no case leans on
// what a tenant holds. It also checks that the run changed neither
// tenant's live data, nor a third tenant's.
func TestProjectkitHonoursEveryContract(t *testing.T) {
	suite := loadSuite(t)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			control, stores, scratch := e.open(t)
			require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "empty-org"}))
			_, err := demo.Seed(ctx, control, stores, time.Now())
			require.NoError(t, err)
			tenants := []string{"empty-org", demo.Tenants[0]}
			all := append(append([]string(nil), tenants...), demo.Tenants[1])
			before := liveState(t, stores, all)

			cases := suite.Select(conformance.Filter{})
			runner := &conformance.Runner{Suite: suite}
			results, err := runner.RunLocal(ctx, conformance.NewRunID(time.Now()), scratch, tenants, cases)
			require.NoError(t, err)
			require.Len(t, results, 2*len(cases))
			for _, r := range results {
				assert.Equal(t, capability.OutcomePass, r.Outcome, "%s %s@%s %s: %s", r.Provider, r.Capability, r.Version, r.CaseID, r.Message)
				assert.Contains(t, []string{"projectkit:empty-org", "projectkit:" + demo.Tenants[0]}, r.Provider)
			}
			assert.Equal(t, before, liveState(t, stores, all), "a run never changes live data")
		})
	}
}

// liveState counts each tenant's projects and tasks straight from the store.
func liveState(t *testing.T, stores capability.TenantStores, slugs []string) map[string][2]int {
	t.Helper()
	ctx := context.Background()
	out := map[string][2]int{}
	for _, slug := range slugs {
		store, err := stores.Tenant(ctx, slug)
		require.NoError(t, err)
		require.NoError(t, store.View(ctx, func(tx capability.Tx) error {
			ps, err := tx.FindProjects(ctx, capability.ProjectFilter{Page: capability.Page{Limit: 10000}})
			if err != nil {
				return err
			}
			ts, err := tx.FindTasks(ctx, capability.TaskFilter{Page: capability.Page{Limit: 10000}})
			out[slug] = [2]int{len(ps), len(ts)}
			return err
		}))
	}
	return out
}

// TestEveryVersionHasCases is the rule that a missing happy or rejection
// case fails the build, plus the ids the catalog's model page shows.
func TestEveryVersionHasCases(t *testing.T) {
	suite := loadSuite(t)
	for _, v := range suite.Registry.Versions() {
		kinds := map[string]int{}
		for _, c := range suite.Cases(v) {
			kinds[c.Kind]++
		}
		assert.Positive(t, kinds[conformance.KindHappy], "%s has no happy case", v.Manifest.Ref())
		assert.Positive(t, kinds[conformance.KindRejection], "%s has no rejection case", v.Manifest.Ref())
		assert.Positive(t, kinds[conformance.KindGenerated], "%s has no generated case", v.Manifest.Ref())
	}
	ids := map[string]bool{}
	for _, c := range suite.Select(conformance.Filter{Capability: "projects.create_task@0.1.0"}) {
		ids[c.ID] = true
	}
	for _, id := range []string{"happy_path", "rejects_unknown_project", "gen.missing_required.title", "gen.max_length.title", "gen.min_length.title",
		"gen.enum.priority", "gen.format.due_date", "gen.unknown_property", "gen.wrong_type.project_id", "gen.missing_required.project_id"} {
		assert.True(t, ids[id], "projects.create_task@0.1.0 has case %s", id)
	}
}
